"""``landgov ror``, ``jamabandi`` and ``fard``: the record of rights and its extracts.

Every command but ``fard verify`` (which anyone holding a fard's code may run) acts as
the person signed in with ``landgov login``. Reads of owners (``ror khewat``, ``ror
person``) need a role that reads personal data and are written to the access log; CNICs
are printed masked unless ``--unmasked`` is asked by an officer posted over the mouzas
concerned (also logged). ``jamabandi generate`` and ``fard issue`` record the signed-in
account as the one who generated or issued.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from landgov.cli._shell import clean_errors, current_actor, engine, out

ror_app = typer.Typer(help="Record of rights: holdings as of any date.", no_args_is_help=True)
jamabandi_app = typer.Typer(
    help="Jamabandi: immutable record-of-rights snapshots.", no_args_is_help=True
)
fard_app = typer.Typer(
    help="Fard: certified ownership extracts (PDF, English and Urdu).", no_args_is_help=True
)

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Record as of this date (YYYY-MM-DD); default today.")
]
AsJson = Annotated[bool, typer.Option("--json", help="Print the snapshot as JSON.")]
Unmasked = Annotated[
    bool,
    typer.Option(
        "--unmasked",
        help="Show CNICs in full (an officer posted over the mouzas concerned; logged).",
    ),
]


def _as_of(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date YYYY-MM-DD", param_hint="--as-of"
        ) from None


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _p(text: str) -> None:
    out.print(text, highlight=False, markup=False, soft_wrap=True)


def _shown(value: Any, unmasked: bool) -> Any:
    """``value`` with its CNICs masked unless ``unmasked``."""
    from landgov.records.rights import mask_cnics

    return value if unmasked else mask_cnics(value)


def _snapshot_json(holding: Any, unmasked: bool) -> dict[str, Any]:
    """The snapshot as JSON; its sha256 only in full (a hash of a snapshot whose masked
    digits are the only unknown would give the CNIC away to a few million guesses)."""
    if unmasked:
        return {**holding.snapshot(), "sha256": holding.sha256}
    return {**_shown(holding.snapshot(), False), "sha256": None}


@ror_app.command("khewat")
@clean_errors
def ror_khewat(
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    khewat: Annotated[int, typer.Option(help="Khewat number.")],
    as_of: AsOf = None,
    as_json: AsJson = False,
    unmasked: Unmasked = False,
) -> None:
    """A khewat's khasras and every right in force on a date, with exact shares."""
    from landgov.domain import format_kms, format_share
    from landgov.records.rights import read_khewat
    from landgov.records.snapshot import decimal_text

    actor = current_actor("personal.read")
    when = _as_of(as_of)
    holding = read_khewat(
        engine(), actor=actor, mouza=mouza, khewat_no=khewat, as_of=when, unmasked=unmasked
    )
    if as_json:
        _echo_json(_snapshot_json(holding, unmasked))
        return
    _p(f"{holding.label}, as of {when.isoformat()}")
    _p(f"area {format_kms(holding.area_kms)} (K-M-S), {decimal_text(holding.area_m2)} m²")
    for k in holding.khasras:
        _p(f"  khasra {k.number:<12} {k.land_class:<13} {format_kms(k.area_kms):>9}")
    for r in holding.rights:
        where = _shown(r.holder.cnic, unmasked) or r.holder.custodian or ""
        via = f"mutation {r.mutation_no}" if r.mutation_no else "settlement"
        _p(
            f"  {format_share(r.share):>9}  {r.right_type.value:<28} {r.holder.label()}"
            f" [{where}] since {r.since.isoformat()} ({via})"
        )
    if not holding.rights and not holding.khasras:
        _p("  (the khewat held nothing on that date)")
    total = format_share(holding.ownership_total)
    _p(f"ownership total {total}: " + ("sums to 1" if holding.is_whole else "does NOT sum to 1"))


@ror_app.command("person")
@clean_errors
def ror_person(
    cnic: Annotated[str, typer.Option(help="The person's CNIC (#####-#######-#).")],
    as_of: AsOf = None,
    as_json: AsJson = False,
    unmasked: Unmasked = False,
) -> None:
    """Everything a person holds on a date, in every khewat of every mouza."""
    from landgov.domain import format_kms, format_share
    from landgov.records.rights import read_person
    from landgov.records.snapshot import decimal_text

    actor = current_actor("personal.read")
    when = _as_of(as_of)
    holding = read_person(engine(), actor=actor, cnic=cnic, as_of=when, unmasked=unmasked)
    if as_json:
        _echo_json(_snapshot_json(holding, unmasked))
        return
    _p(_shown(f"{holding.label}, as of {when.isoformat()}", unmasked))
    for s in holding.shares:
        m = s.khewat.mouza
        khasras = ", ".join(k.number for k in s.khewat.khasras)
        _p(
            f"  mouza {m.name} (hadbast {m.hadbast_number}) khewat {s.khewat.khewat_no}: "
            f"{format_share(s.right.share)} {s.right.right_type.value} since "
            f"{s.right.since.isoformat()} = {format_kms(s.area_kms)} "
            f"({decimal_text(s.area_m2)} m²) of {format_kms(s.khewat.area_kms)}; "
            f"khasras {khasras or '-'}"
        )
    if not holding.shares:
        _p("  (no land on record on that date)")
    _p(f"owned area {format_kms(holding.owned_kms)} (K-M-S), {decimal_text(holding.owned_m2)} m²")


@jamabandi_app.command("generate")
@clean_errors
def jamabandi_generate(
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    year: Annotated[int, typer.Option(help="Year of the jamabandi.")],
) -> None:
    """Generate and store a mouza's jamabandi for a year; on a generated year, check
    that the records still reproduce it exactly.

    The jamabandi records the rights as of its attestation date, or 1 October of the
    year when it was never attested. Once stored, the database refuses to change it.
    """
    from landgov.records.jamabandi import generate_jamabandi

    actor = current_actor("jamabandi.generate")
    result = generate_jamabandi(engine(), mouza, year, actor=actor)
    _p(result.summary())


@jamabandi_app.command("show")
@clean_errors
def jamabandi_show(
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    year: Annotated[int, typer.Option(help="Year of the jamabandi.")],
    as_json: AsJson = False,
) -> None:
    """Show a stored jamabandi (its hash is checked first; CNICs in --json masked)."""
    from landgov.records.jamabandi import show_jamabandi

    current_actor("personal.read")
    j = show_jamabandi(engine(), mouza, year)
    if as_json:
        _echo_json(
            {
                "mouza": j.mouza.name,
                "hadbast": j.mouza.hadbast_number,
                "year": j.year,
                "as_of": j.as_of.isoformat(),
                "sha256": j.sha256,
                "generated_at": j.generated_at.isoformat(),
                "generated_by": j.generated_by,
                "attested_by": j.attested_by,
                "attested_on": j.attested_on.isoformat() if j.attested_on else None,
                "snapshot": _shown(j.snapshot, False),
            }
        )
        return
    _p(j.summary())
    attested = (
        f"attested by {j.attested_by} on {j.attested_on.isoformat()}"
        if j.attested_on
        else "NOT attested"
    )
    _p(f"generated {j.generated_at:%Y-%m-%d %H:%M} by {j.generated_by}; {attested}")
    for k in j.khewats:
        owners = "; ".join(
            f"{r['name']} {r['share']}"
            + ("" if r["right_type"] == "ownership" else f" {r['right_type']}")
            for r in k["rights"]
        )
        khasras = ", ".join(x["khasra"] for x in k["khasras"])
        _p(
            f"  khewat {k['khewat']:>4}  {k['area_kms']:>9}  total {k['ownership_total']:>5}"
            f"  khasras {khasras or '-'}  |  {owners or '-'}"
        )


@fard_app.command("issue")
@clean_errors
def fard_issue(
    out_path: Annotated[Path, typer.Option("--out", help="The PDF to write.")],
    cnic: Annotated[
        str | None, typer.Option(help="Fard of this person (CNIC), all their holdings.")
    ] = None,
    mouza: Annotated[
        str | None, typer.Option(help="With --khewat: fard of a khewat of this mouza.")
    ] = None,
    khewat: Annotated[int | None, typer.Option(help="With --mouza: the khewat number.")] = None,
    as_of: AsOf = None,
    lang: Annotated[
        str, typer.Option("--lang", help="en, ur or both (English then Urdu pages).")
    ] = "en",
    purpose: Annotated[
        str | None, typer.Option(help="What the fard is for (printed and recorded).")
    ] = None,
) -> None:
    """Issue a fard (ownership extract) as a PDF with a verification code.

    Give either --cnic (a person's holdings; their full CNIC is printed) or --mouza and
    --khewat (one khewat; co-owners' CNICs are masked). The signed-in patwari or revenue
    officer, posted over the mouzas the fard covers, issues it; the issue is logged.
    """
    from landgov.records.fard import FardError, issue_fard

    if cnic is not None and (mouza is not None or khewat is not None):
        raise FardError("give either --cnic, or --mouza with --khewat, not both")
    if cnic is None and (mouza is None or khewat is None):
        raise FardError("give --cnic, or both --mouza and --khewat")
    language = lang.strip().lower()
    if language not in ("en", "ur", "both"):
        raise FardError(f"--lang {lang!r}: use en, ur or both")
    actor = current_actor("fard.issue")
    result = issue_fard(
        engine(),
        cnic=cnic,
        khewat=(mouza, khewat) if mouza is not None and khewat is not None else None,
        as_of=_as_of(as_of),
        language=language,  # type: ignore[arg-type]
        out=out_path,
        actor=actor,
        purpose=purpose,
    )
    _p(result.summary())


@fard_app.command("verify")
@clean_errors
def fard_verify(
    code: Annotated[str, typer.Argument(help="The code on the fard: ABCD-EFGH-IJKL or full.")],
) -> None:
    """Say whether an issued fard still matches the records (exit 0), or not (exit 2)."""
    from landgov.records.fard import verify_fard

    result = verify_fard(engine(), code)
    _p(result.message)
    if not result.matches:
        raise typer.Exit(2)
