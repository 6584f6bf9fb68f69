"""``landgov tax``: statutory values and transfer taxes from the rate tables (issue 7).

A mutation is named by its number in its mouza's register (``--mutation N --mouza M``)
as elsewhere in the CLI, or by its database id when ``--mouza`` is left out.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from landgov.cli._shell import (
    BadOption,
    checkpoint_after_job,
    clean_errors,
    engine,
    job_actor,
    option_date,
    out,
)

app = typer.Typer(help="Statutory values and transfer taxes.", no_args_is_help=True)
rates_app = typer.Typer(help="Rate tables (DC, FBR, tax rules, rental values).")
app.add_typer(rates_app, name="rates")

MouzaOpt = Annotated[str | None, typer.Option("--mouza", help="Mouza name or hadbast number.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON.")]


@app.command("transfer")
@clean_errors
def transfer_cmd(
    mutation: Annotated[int, typer.Option("--mutation", help="Mutation number (or id).")],
    mouza: MouzaOpt = None,
    on: Annotated[str | None, typer.Option(help="Valuation date; default deed date.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Statutory value, taxable value, taxes and revenue at stake of one sale."""
    from landgov.records.mutations import find_mutation
    from landgov.valuation.transfer import transfer_tax

    when = option_date(on, "--on")
    with engine().connect() as conn:
        mid = find_mutation(conn, mouza, mutation) if mouza is not None else mutation
        result = transfer_tax(conn, mid, on=when)
    shown = result.as_dict()
    if as_json:
        typer.echo(json.dumps(shown))
        return
    out.print(
        f"mutation {result.number} of {result.mouza} ({result.status}), valued on"
        f" {result.valuation_date}",
        highlight=False,
    )
    declared = "-" if result.declared_rs is None else f"Rs {result.declared_rs:,}"
    out.print(
        f"  declared {declared}; statutory Rs {result.statutory_rs:,}; taxable"
        f" Rs {result.taxable_rs:,}",
        highlight=False,
    )
    for p in result.parcels:
        out.print(
            f"  khasra {p.khasra_number} ({p.land_class}) {p.area_sarsai} sarsai × {p.share}"
            f" at Rs {p.rate.rs_per_unit:,}/{p.rate.unit} ({p.rate.place}, rate"
            f" #{p.rate.id}) = Rs {p.rupees:,}",
            highlight=False,
        )
    for t in result.taxes:
        out.print(
            f"  {t.code} ({t.payer}): {t.rate * 100:g} % of Rs {int(t.base):,} = Rs"
            f" {t.amount:,}  [{t.band}]",
            highlight=False,
        )
    if not result.taxes:
        out.print("  no tax rule in force on that date", highlight=False)
    out.print(f"  total tax Rs {result.total_rs:,}", highlight=False)
    if result.under_declared:
        out.print(
            f"  UNDER-DECLARED: revenue at stake Rs {result.revenue_at_stake_rs:,}",
            highlight=False,
        )


@app.command("under-declared")
@clean_errors
def under_declared_cmd(
    mouza: MouzaOpt = None,
    as_of: Annotated[str | None, typer.Option("--as-of", help="Sales up to this date.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Sales declared below their statutory value (with the revenue at stake), and sales
    declared far below the appraisal model's value (when a model is trained)."""
    from landgov.storage import resolve_mouza
    from landgov.valuation.transfer import under_declared

    when = option_date(as_of, "--as-of")
    with engine().connect() as conn:
        mouza_id = resolve_mouza(conn, mouza) if mouza is not None else None
        report = under_declared(conn, mouza_id, when)
    if as_json:
        typer.echo(json.dumps(report.as_dict()))
        return
    for s in report.sales:
        out.print(
            f"{s.mouza} mutation {s.number}: declared Rs {s.declared_rs or 0:,} vs statutory"
            f" Rs {s.statutory_rs:,}; at stake Rs {s.revenue_at_stake_rs:,}",
            highlight=False,
        )
    out.print(
        f"{len(report.sales)} under-declared sale(s); revenue at stake"
        f" Rs {report.revenue_at_stake_rs:,}; {len(report.unvalued)} sale(s) not valued",
        highlight=False,
    )
    if report.model_set is None:
        out.print("no appraisal model trained: `landgov valuation train` adds the check "
                  "against the model value", highlight=False)  # fmt: skip
        return
    for b in report.below_model:
        t = b.tax
        out.print(
            f"{t.mouza} mutation {t.number}: declared Rs {t.declared_rs or 0:,} vs model"
            f" Rs {b.model_value_rs:,} ({b.ratio:.0%}); tax at the model value"
            f" + Rs {b.revenue_if_model_rs:,}",
            highlight=False,
        )
    out.print(
        f"{len(report.below_model)} sale(s) declared below {report.model_threshold:.0%} of"
        " the model value",
        highlight=False,
    )


@app.command("property")
@clean_errors
def property_cmd(
    city: Annotated[str, typer.Option(help="City of the rental value table, e.g. Lahore.")],
    locality: Annotated[str, typer.Option(help="Locality (rating area) in that table.")],
    area_sq_ft: Annotated[float, typer.Option("--area-sq-ft", min=0.01, help="Covered area.")],
    category: Annotated[
        str, typer.Option(help="residential, commercial or industrial.")
    ] = "residential",
    province: Annotated[str, typer.Option(help="Whose property tax rules apply.")] = "Punjab",
    on: Annotated[str | None, typer.Option("--on", help="Date; default today.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Urban immovable property tax for a year: annual rental value (locality table in
    force) × the province's rate (Punjab 5 %)."""
    from datetime import date
    from fractions import Fraction

    from landgov.valuation.transfer import urban_property_tax

    if category not in ("residential", "commercial", "industrial"):
        raise BadOption(
            f"--category: {category!r} is not one of residential, commercial, industrial"
        )
    when = option_date(on, "--on") or date.today()
    with engine().connect() as conn:
        result = urban_property_tax(
            conn, province=province, city=city, locality=locality, category=category,
            area_sq_ft=Fraction(str(area_sq_ft)), on=when,
        )  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result.as_dict()))
        return
    out.print(
        f"{category} property of {area_sq_ft:,} ft² in {locality}, {city} on {when}: annual"
        f" rental value Rs {result.annual_rental_value_rs:,}; property tax"
        f" Rs {result.total_rs:,}"
        + ("" if result.taxes else f" (no property tax rule of {province} in force)"),
        highlight=False,
    )


@rates_app.command("load")
@clean_errors
def load_cmd(
    kind: Annotated[str, typer.Argument(help="dc, fbr, tax or rental.")],
    path: Annotated[Path, typer.Argument(help="The CSV file.")],
    scope: Annotated[
        str | None,
        typer.Option(
            help="DC rows naming no place: LEVEL:NAME or mouza:REF; default the district."
        ),
    ] = None,
) -> None:
    """Load a rate table from CSV: every row checked, all or nothing, audited.

    Acts as the signed-in administrator (signed in with the authenticator code), else as
    the demo service (make demo)."""
    from landgov.valuation.rates import KINDS, load_rates

    if kind not in KINDS:
        raise BadOption(f"rate table {kind!r}: one of {', '.join(KINDS)}")
    if scope is not None and kind != "dc":
        raise BadOption("--scope applies to DC rates only")
    actor = job_actor("demo", "rates.change")
    report = load_rates(engine(), kind, path, actor=actor, scope=scope)
    if report.already_loaded:
        out.print(f"{path} is already loaded into {report.table}; nothing changed",
                  highlight=False)  # fmt: skip
        return
    out.print(f"loaded {report.rows} row(s) into {report.table} from {path} as {actor.label}",
              highlight=False)  # fmt: skip
    checkpoint_after_job(actor)
