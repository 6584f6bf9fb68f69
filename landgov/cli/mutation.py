"""``landgov mutation``: enter, verify, sanction and reject mutations (intiqal).

A mutation is named by its number in the register of its mouza (``N --mouza M``). Every
command acts as the person signed in with ``landgov login`` (never a name typed on the
command line): the patwari enters, the girdawar or a revenue officer verifies, a revenue
officer signed in with the authenticator code sanctions or rejects, each only where
posted (``landgov.records.mutations``, Who may act). A refusal prints the rule that
refused it (``refused by rule transferor_holds_share: ...``, ``refused by rule
separation_of_duties: ...``) and exits 1; nothing was written. A conflict with another
officer's sanction prints the khewat that is busy and exits 1 as well: try again.

Reading commands (``show``, ``check-inheritance``, ``rebuild``) need a role that reads
personal data; CNICs are printed masked unless ``show --unmasked`` is asked by an officer
posted over the mouza, and every ``show`` is written to the access log. After a
sanction a signed checkpoint of the audit chain is written when this landgov has them
(best effort: a note says why when not).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated, Any

import typer

from landgov.cli._shell import (
    BadOption,
    clean_errors,
    current_actor,
    engine,
    err,
    option_date,
    out,
)
from landgov.domain.shares import parse_share

app = typer.Typer(
    help="Mutations (intiqal): enter, verify, sanction, reject; register a new party.",
    no_args_is_help=True,
)

MouzaOpt = Annotated[str, typer.Option("--mouza", help="Mouza name or hadbast number.")]
NumberArg = Annotated[int, typer.Argument(help="The mutation's number in the mouza's register.")]


def _date(text: str | None, what: str) -> date:
    return option_date(text, what) or date.today()


def _masked(value: Any) -> Any:
    from landgov.records.rights import mask_cnics

    return mask_cnics(value)


def _checkpoint(actor: Any) -> None:
    """A signed audit checkpoint after a sanction, when this landgov has them
    (``landgov.storage.audit.write_checkpoint``); best effort, a note on stderr if not."""
    from landgov.errors import LandgovError
    from landgov.storage import audit

    if not hasattr(audit, "write_checkpoint"):
        return
    try:
        audit.write_checkpoint(engine(), actor_label=actor.label)
    except (LandgovError, OSError, ValueError) as exc:
        first = (str(exc).strip() or type(exc).__name__).splitlines()[0]
        err.print(f"note: audit checkpoint not written: {first}", highlight=False, markup=False)


def _parse_line(text: str, khewat: int | None) -> Any:
    """``FROM:TO:SHARE[:RIGHT][@KHEWAT]``; FROM or TO may be empty."""
    from landgov.records.mutations import DraftLine

    body, at, where = text.partition("@")
    parts = body.split(":")
    if len(parts) not in (3, 4):
        raise BadOption(
            f"--line {text!r}: write FROM:TO:SHARE[:RIGHT][@KHEWAT], e.g. "
            "35401-1234567-1:35401-7654321-1:1/4 (FROM or TO may be empty)"
        )
    if at:
        try:
            khewat = int(where)
        except ValueError:
            raise BadOption(f"--line {text!r}: khewat after '@' must be a number") from None
    if khewat is None:
        raise BadOption(f"--line {text!r}: give --khewat or end the line with @KHEWAT")
    right = parts[3].strip() if len(parts) == 4 and parts[3].strip() else "ownership"
    return DraftLine(
        khewat, parts[0].strip() or None, parts[1].strip() or None, parse_share(parts[2]), right
    )


def _heirs(items: list[str] | None) -> dict[str, str]:
    heirs = {}
    for item in items or []:
        cnic, sep, kind = item.partition("=")
        if not sep or not cnic.strip() or not kind.strip():
            raise BadOption(f"--heir {item!r}: write CNIC=KIND, e.g. 35401-1234567-1=son")
        heirs[cnic.strip()] = kind.strip()
    return heirs


def _entered(mid: int) -> None:
    from landgov.records import mutations

    shown = mutations.show(engine(), mid)
    out.print(
        f"entered mutation {shown['number']} ({shown['type']}) in mouza {shown['mouza']}"
        f" with {len(shown['lines'])} line(s)",
        highlight=False,
    )
    for flag in shown["flags"]:
        out.print(f"[bold yellow]flagged[/] ({flag['rule']}):", highlight=False)
        for item in flag["details"].get("differences", []):
            out.print(f"  {item}", highlight=False)


@app.command("enter")
@clean_errors
def enter_cmd(
    mtype: Annotated[
        str,
        typer.Option(
            "--type",
            help="sale, gift, mortgage, redemption, exchange, court_decree, lease or inheritance"
            " (a partition: enter-partition).",
        ),
    ],
    mouza: MouzaOpt,
    line: Annotated[
        list[str],
        typer.Option(
            help="FROM:TO:SHARE or FROM:TO:SHARE:RIGHT, repeatable, optionally ending"
            " @KHEWAT: CNICs (or a custodian code) of transferor and transferee (either may"
            " be empty), the share of the whole khewat (n/d), the right (ownership,"
            " mortgage_with_possession, mortgage_without_possession, lease) and the khewat"
            " when it is not --khewat.",
        ),
    ],
    khewat: Annotated[int | None, typer.Option(help="Khewat number of the lines.")] = None,
    entered_on: Annotated[str | None, typer.Option(help="Entry date; default today.")] = None,
    deed_number: Annotated[str | None, typer.Option(help="Registered deed number.")] = None,
    deed_date: Annotated[str | None, typer.Option(help="Deed date YYYY-MM-DD.")] = None,
    sub_registrar: Annotated[str | None, typer.Option(help="Registering office.")] = None,
    consideration: Annotated[int | None, typer.Option(help="Declared price, Rs.")] = None,
    statutory_value: Annotated[int | None, typer.Option(help="Statutory value, Rs.")] = None,
    fees: Annotated[int | None, typer.Option(help="Fees paid, Rs.")] = None,
    remarks: Annotated[str | None, typer.Option(help="Remarks.")] = None,
    deceased: Annotated[str | None, typer.Option(help="Inheritance: CNIC of the deceased.")] = None,
    heir: Annotated[
        list[str] | None,
        typer.Option(help="Inheritance: CNIC=KIND of each heir (son, wife, ...), repeatable."),
    ] = None,
    school: Annotated[str, typer.Option(help="Inheritance: hanafi or jafari.")] = "hanafi",
) -> None:
    """Enter a mutation with its lines as written (the signed-in patwari of the mouza).

    An inheritance whose shares differ from faraid is entered but flagged, and will be
    refused at sanction.
    """
    from landgov.records import mutations

    actor = current_actor("mutation.enter")
    lines = [_parse_line(item, khewat) for item in line]
    facts = None
    if deceased is not None or heir:
        facts = mutations.InheritanceFacts(deceased or "", _heirs(heir), school)
    draft = mutations.MutationDraft(
        mouza=mouza,
        type=mtype,
        entered_on=_date(entered_on, "--entered-on"),
        lines=lines,
        deed_number=deed_number,
        deed_date=None if deed_date is None else _date(deed_date, "--deed-date"),
        sub_registrar=sub_registrar,
        consideration_rs=consideration,
        statutory_value_rs=statutory_value,
        fees_rs=fees,
        remarks=remarks,
        inheritance=facts,
    )
    _entered(mutations.enter(engine(), draft, actor=actor))


@app.command("enter-inheritance")
@clean_errors
def enter_inheritance_cmd(
    mouza: MouzaOpt,
    deceased: Annotated[str, typer.Option(help="CNIC of the deceased.")],
    heir: Annotated[
        list[str],
        typer.Option(
            help="CNIC=KIND of each heir, repeatable: son, daughter, wife, husband, father,"
            " mother, full_brother... or predeceased_son_1.daughter (MFLO 1961 s.4)."
        ),
    ],
    school: Annotated[str, typer.Option(help="hanafi (default) or jafari.")] = "hanafi",
    khewat: Annotated[
        list[int] | None,
        typer.Option(help="Only these khewats (repeatable); default all the deceased holds."),
    ] = None,
    entered_on: Annotated[str | None, typer.Option(help="Entry date; default today.")] = None,
) -> None:
    """Enter an inheritance (wirasat) computed with faraid (the signed-in patwari).

    Each heir gets the deceased's share times the heir's faraid share, exactly.
    """
    from landgov.records import mutations

    actor = current_actor("mutation.enter")
    mid = mutations.enter_inheritance(
        engine(),
        mouza=mouza,
        deceased_cnic=deceased,
        heirs=_heirs(heir),
        school=school,
        khewat_no=khewat or None,
        entered_on=_date(entered_on, "--entered-on"),
        actor=actor,
    )
    _entered(mid)


@app.command("enter-partition")
@clean_errors
def enter_partition_cmd(
    mouza: MouzaOpt,
    khewat: Annotated[int, typer.Option(help="The joint khewat.")],
    khasra: Annotated[str, typer.Option(help="The khasra to divide, e.g. 45//12.")],
    entered_on: Annotated[str | None, typer.Option(help="Entry date; default today.")] = None,
) -> None:
    """Enter a partition (taqseem) of a khasra among the co-owners of its khewat (the
    signed-in patwari).

    The sanction splits the khasra into tatima parcels, one per co-owner.
    """
    from landgov.records.partition import enter_partition

    actor = current_actor("mutation.enter")
    mid = enter_partition(
        engine(),
        mouza=mouza,
        khewat_no=khewat,
        khasra_no=khasra,
        entered_on=_date(entered_on, "--entered-on"),
        actor=actor,
    )
    _entered(mid)


@app.command("verify")
@clean_errors
def verify_cmd(
    number: NumberArg,
    mouza: MouzaOpt,
    on: Annotated[str | None, typer.Option(help="Verification date; default today.")] = None,
) -> None:
    """Verify an entered mutation (the signed-in girdawar or revenue officer, posted over
    the mouza, who did not enter it)."""
    from landgov.records import mutations

    actor = current_actor("mutation.verify")
    eng = engine()
    mid = mutations.find_mutation(eng, mouza, number)
    mutations.verify(eng, mid, actor=actor, on=_date(on, "--on"))
    out.print(f"mutation {number} verified by {actor.display}", highlight=False)


@app.command("sanction")
@clean_errors
def sanction_cmd(
    number: NumberArg,
    mouza: MouzaOpt,
    on: Annotated[str, typer.Option(help="Sanction date YYYY-MM-DD.")],
    acknowledge_price: Annotated[
        bool,
        typer.Option(
            "--acknowledge-price",
            help="A sale declared below its DC value, far below the model value or with no"
            " price: you have seen the figures ('landgov mutation price') and sanction it.",
        ),
    ] = False,
    price_note: Annotated[
        str | None, typer.Option(help="Why, kept with the acknowledgement.")
    ] = None,
) -> None:
    """Sanction a verified mutation; a refusal names its rule and writes nothing.

    The signed-in revenue officer (authenticator code at sign-in), posted over the mouza
    today and on the sanction date, who neither entered nor verified it. Every rule is
    checked on the sanction date and the shares change in one transaction; then a signed
    audit checkpoint is written when available. An under-declared sale is refused (rule
    under_declared_price) unless --acknowledge-price is given; the acknowledgement is
    stored with who and when.
    """
    from landgov.records import mutations

    actor = current_actor("mutation.sanction")
    eng = engine()
    mid = mutations.find_mutation(eng, mouza, number)
    result = mutations.sanction(
        eng, mid, actor=actor, on=_date(on, "--on"), acknowledge_price=acknowledge_price,
        price_note=price_note,
    )  # fmt: skip
    out.print(
        f"mutation {number} sanctioned by {actor.display}: {result.closed} share row(s)"
        f" closed, {result.opened} opened" + (" (back-dated)" if result.backdated else ""),
        highlight=False,
    )
    _checkpoint(actor)


@app.command("price")
@clean_errors
def price_cmd(
    number: NumberArg,
    mouza: MouzaOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """A sale's price check: declared price against the DC and model values, the taxes
    and the tax at stake; what the sanction must have acknowledged (exit 0 either way)."""
    from landgov.records import mutations

    current_actor("records.read")
    eng = engine()
    mid = mutations.find_mutation(eng, mouza, number)
    with eng.connect() as conn:
        check = mutations.price_check(conn, mid)
    if check is None:
        out.print(f"mutation {number} is not a sale: no price to check", highlight=False)
        return
    if as_json:
        typer.echo(json.dumps(check.as_dict(), default=str))
        return
    out.print(f"mutation {number} of {check.mouza}: {check.summary()}", highlight=False)
    for tax in check.taxes:
        out.print(
            f"  {tax.code} ({tax.payer}) {tax.rate:.2%} of Rs {int(tax.base):,}: Rs {tax.amount:,}",
            highlight=False,
        )
    if check.model_note:
        out.print(f"  model: {check.model_note}", highlight=False)
    if check.reasons:
        why = ", ".join(mutations.REASON_TEXT[r] for r in check.reasons)
        out.print(
            f"[bold yellow]to acknowledge at sanction[/] ({why}): --acknowledge-price",
            highlight=False,
        )


@app.command("register-party")
@clean_errors
def register_party_cmd(
    mouza: Annotated[
        str, typer.Option("--mouza", help="The mouza of the mutation that will name them.")
    ],
    name: Annotated[str, typer.Option(help="The person's name.")],
    relation: Annotated[
        str, typer.Option(help="son_of, daughter_of or wife_of (wald, bint, zauja).")
    ],
    guardian: Annotated[str, typer.Option(help="Father's or husband's name.")],
    cnic: Annotated[str, typer.Option(help="CNIC #####-#######-# (or 13 digits).")],
    name_ur: Annotated[str | None, typer.Option(help="The name in Urdu script.")] = None,
) -> None:
    """Register a person not yet in the records (a new buyer), so that a mutation can
    name them by CNIC (the signed-in patwari of the mouza). A CNIC already in the records
    is refused, naming whose it is."""
    from landgov.records import mutations

    actor = current_actor("mutation.enter")
    party = mutations.register_party(
        engine(), mutations.NewParty(name, relation, guardian, cnic, name_ur), mouza=mouza,
        actor=actor,
    )  # fmt: skip
    out.print(f"registered {party.label}, CNIC {party.cnic} ({party.gender})", highlight=False)


@app.command("reject")
@clean_errors
def reject_cmd(
    number: NumberArg,
    mouza: MouzaOpt,
    reason: Annotated[str, typer.Option(help="Why it is rejected (required).")],
    on: Annotated[str | None, typer.Option(help="Rejection date; default today.")] = None,
) -> None:
    """Reject an entered or verified mutation, with a reason (the signed-in revenue
    officer, as for sanction)."""
    from landgov.records import mutations

    actor = current_actor("mutation.reject")
    eng = engine()
    mid = mutations.find_mutation(eng, mouza, number)
    mutations.reject(eng, mid, actor=actor, on=_date(on, "--on"), reason=reason)
    out.print(f"mutation {number} rejected by {actor.display}", highlight=False)


@app.command("show")
@clean_errors
def show_cmd(
    number: NumberArg,
    mouza: MouzaOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    unmasked: Annotated[
        bool,
        typer.Option("--unmasked", help="Show CNICs in full (an officer posted over the mouza)."),
    ] = False,
) -> None:
    """Show a mutation: status, dates, officer, accounts, deed, lines, flags."""
    from landgov.records import mutations
    from landgov.records.rights import check_unmask
    from landgov.security import log_access
    from landgov.storage.lookup import resolve_mouza

    actor = current_actor("personal.read")
    eng = engine()
    mid = mutations.find_mutation(eng, mouza, number)
    with eng.begin() as conn:  # the parties of a mutation are personal data: logged
        mouza_id = resolve_mouza(conn, mouza)
        if unmasked:
            check_unmask(conn, actor, [mouza_id])
        log_access(conn, actor, "mutation.show", "mouza", str(mouza_id),
                   {"mutation": number, "unmasked": unmasked})  # fmt: skip
    shown = mutations.show(eng, mid)
    if not unmasked:
        shown = _masked(shown)
    if as_json:
        typer.echo(json.dumps(shown, default=str))
        return
    out.print(
        f"mutation {shown['number']} of {shown['mouza']}: {shown['type']}, {shown['status']}",
        highlight=False,
    )
    for key in ("entered_on", "entered_by_account", "verified_on", "verified_by_account",
                "decided_on", "officer", "decided_by_account", "rejection_reason",
                "deed_number", "deed_date", "consideration_rs", "remarks"):  # fmt: skip
        if shown.get(key) is not None:
            out.print(f"  {key.replace('_', ' ')}: {shown[key]}", highlight=False)
    for ln in shown["lines"]:
        out.print(
            f"  line {ln['line_no']}: khewat {ln['khewat_no']}  {ln['transferor'] or '-'} -> "
            f"{ln['transferee'] or '-'}  {ln['share']} {ln['right_type']}",
            highlight=False,
        )
    for flag in shown["flags"]:
        out.print(f"  flagged ({flag['rule']})", highlight=False)


@app.command("check-inheritance")
@clean_errors
def check_inheritance_cmd(number: NumberArg, mouza: MouzaOpt) -> None:
    """Compare an inheritance mutation with faraid; exit 1 when they differ (CNICs masked)."""
    from landgov.records import mutations

    current_actor("personal.read")
    eng = engine()
    diffs = mutations.check_inheritance(eng, mutations.find_mutation(eng, mouza, number))
    if not diffs:
        out.print(f"mutation {number} agrees with faraid", highlight=False)
        return
    out.print(f"mutation {number} differs from faraid (rule faraid_shares):", highlight=False)
    for d in diffs:
        out.print(f"  {_masked(str(d))}", highlight=False)
    raise typer.Exit(1)


@app.command("rebuild")
@clean_errors
def rebuild_cmd(
    mouza: MouzaOpt,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Replay a mouza's register and compare with its shares; exit 1 when they differ.

    The sanctioned mutations, imported or sanctioned here, are replayed from the
    settlement shares and compared with the stored shares date by date; khewats that only
    lack mutations recorded but not applied (an imported register) are listed, not counted
    as differences. CNICs in the issues are masked.
    """
    from landgov.records import mutations

    current_actor("personal.read")
    report = mutations.replay_mouza(engine(), mouza)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "mouza": report.mouza,
                    "mutations": report.mutations,
                    "stored_rows": report.stored_rows,
                    "replayed_rows": report.replayed_rows,
                    "equal": report.equal,
                    "differences": {str(k): v for k, v in report.differences.items()},
                    "not_applied": {str(k): v for k, v in report.not_applied.items()},
                    "issues": [
                        {"mutation": m, "khewat": k, "rule": r, "message": _masked(msg)}
                        for m, k, r, msg in report.issues
                    ],
                },
                default=str,
            )
        )
    else:
        out.print(
            f"{report.mouza}: replayed {report.mutations} sanctioned mutation(s) into "
            f"{report.replayed_rows} share period(s); stored {report.stored_rows} row(s)",
            highlight=False,
        )
        for m, k, rule, message in report.issues:
            out.print(f"  mutation {m}, khewat {k}: {rule}: {_masked(message)}", highlight=False)
        for k, numbers in sorted(report.not_applied.items()):
            listed = ", ".join(map(str, numbers))
            out.print(f"  khewat {k}: the share table does not reflect mutation(s) {listed}"
                      " (recorded in the register, e.g. imported, not applied)",
                      highlight=False)  # fmt: skip
        if report.equal:
            out.print("stored shares equal the replay of the register", highlight=False)
        for k, day in sorted(report.differences.items()):
            when = f"from {day}" if day is not None else "(on one side only)"
            out.print(f"  khewat {k} differs {when}", highlight=False)
    if not report.equal:
        raise typer.Exit(1)
