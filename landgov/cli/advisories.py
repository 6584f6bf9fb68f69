"""``landgov advisories``: farmer advisories from imagery, the SMS outbox, contacts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from landgov.cli._shell import (
    checkpoint_after_job,
    clean_errors,
    current_actor,
    engine,
    job_actor,
    option_date,
    out,
)

app = typer.Typer(help="Farmer advisories (Urdu and English) and the SMS outbox.",
                  no_args_is_help=True)  # fmt: skip
contacts_app = typer.Typer(help="Farmers' phones and SMS consent.", no_args_is_help=True)
app.add_typer(contacts_app, name="contacts")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("run")
@clean_errors
def run_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="Date, YYYY-MM-DD: its season is advised.")],
    mouza: Annotated[str | None, typer.Option(help="One mouza (name or hadbast).")] = None,
    district_yields: Annotated[
        Path | None,
        typer.Option(
            help="Published district yields CSV (crop, season, year, "
            "mean_yield_t_ha); default: this season's mean prediction."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Advise every cultivated parcel for the season of the date and queue the SMS (a
    re-run refreshes the advice and queues nothing twice). Runs as the advisories
    service."""
    from landgov.advisories.run import district_averages, run_advisories
    from landgov.domain.calendar import season_of
    from landgov.storage import resolve_mouza

    day = option_date(as_of, "--as-of")
    assert day is not None
    actor = job_actor("advisories", "advisories.run")
    eng = engine()
    mid = None
    if mouza is not None:
        with eng.connect() as conn:
            mid = resolve_mouza(conn, mouza)
    district = None
    if district_yields is not None:
        district = district_averages(district_yields, *season_of(day))
    report = run_advisories(eng, day, mouza_id=mid, district_t_ha=district, actor=actor)
    checkpoint_after_job(actor)
    if as_json:
        typer.echo(json.dumps(report.as_json()))
        return
    kinds = ", ".join(f"{k} {n}" for k, n in sorted(report.advisories.items())) or "none"
    out.print(
        f"advisory run {report.run_id} ({report.season} {report.year}, as of {report.as_of}): "
        f"{report.parcels} parcel(s), advisories: {kinds}; {report.queued} SMS queued, "
        f"{report.already_queued} already queued before",
        highlight=False,
    )


@app.command("show")
@clean_errors
def show_cmd(
    cnic: Annotated[str, typer.Option(help="The farmer's CNIC, 00000-0000000-0.")],
    on: Annotated[str | None, typer.Option("--on", help="Date; default today.")] = None,
    lang: Annotated[str, typer.Option(help="ur or en (readable output).")] = "en",
    as_json: JsonOpt = False,
) -> None:
    """One farmer's own parcels and their advisories (nobody else's), for a signed-in
    person who may read owners; the read is logged, and the CNIC is masked unless the
    reader is an officer posted over one of the parcels."""
    from landgov.advisories.farmer import farmer_view
    from landgov.cli._shell import current_actor
    from landgov.domain.cnic import mask_cnic
    from landgov.security import log_access, may_unmask

    actor = current_actor("personal.read")
    day = option_date(on, "--on") or date.today()
    with engine().begin() as conn:
        view = farmer_view(conn, cnic, day)
        unmasked = any(may_unmask(conn, actor, p["mouza_id"]) for p in view["parcels"])
        log_access(conn, actor, "advisories.show", "party", str(view["party_id"]),
                   {"on": day, "unmasked": unmasked})  # fmt: skip
    if not unmasked:
        view["cnic"] = mask_cnic(view["cnic"])
    if as_json:
        typer.echo(json.dumps(view, ensure_ascii=False, default=str))
        return
    out.print(f"{view['name']} ({view['cnic']}), {len(view['parcels'])} parcel(s) on {day}",
              highlight=False)  # fmt: skip
    for p in view["parcels"]:
        out.print(f"  {p['mouza']} khasra {p['khasra']} (khewat {p['khewat']}, share "
                  f"{p['share']})", highlight=False)  # fmt: skip
        for a in p["advisories"]:
            out.print(f"    [{a['level']}] {a['text_ur' if lang == 'ur' else 'text_en']}",
                      highlight=False)  # fmt: skip


@app.command("outbox")
@clean_errors
def outbox_cmd(
    status: Annotated[str, typer.Option(help="queued, sent or failed.")] = "queued",
    phone: Annotated[str | None, typer.Option(help="Only messages to this phone.")] = None,
    limit: Annotated[int, typer.Option(min=1)] = 50,
    as_json: JsonOpt = False,
) -> None:
    """Messages waiting for (or handed to) the SMS gateway, newest first. Phone numbers
    show their last 3 digits only (unless the role may see them in full), one-time
    codes never; every read is logged."""
    from landgov.advisories.contacts import normalise_phone
    from landgov.advisories.outbox import read_outbox

    actor = current_actor("advisories.outbox")
    number = None if phone is None else normalise_phone(phone) or phone
    with engine().begin() as conn:
        rows = read_outbox(conn, actor, status=status, phone=number, limit=limit)
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False, default=str))
        return
    for r in rows:
        out.print(f"{r['id']} {r['phone']} [{r['purpose']} {r['kind'] or ''} {r['language']},"
                  f" {r['segments']} seg] {r['body']}", highlight=False,
                  markup=False)  # fmt: skip
    out.print(f"{len(rows)} message(s) {status}", highlight=False)


@contacts_app.command("load")
@clean_errors
def contacts_load_cmd(
    path: Annotated[
        Path, typer.Argument(help="CSV: cnic, phone, language, opted_in_on, opted_out_on.")
    ],
) -> None:
    """Load farmers' phones and consent (all rows or none; a person again: updated).
    Runs as a signed-in administrator, else as the advisories service."""
    from landgov.advisories.contacts import load_contacts

    actor = job_actor("advisories", "advisories.contacts")
    n = load_contacts(engine(), path, actor=actor)
    out.print(f"{n} contact(s) loaded from {path}", highlight=False)
    checkpoint_after_job(actor)
