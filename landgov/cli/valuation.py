"""``landgov valuation``: rolls, mass appraisal and how well valuations track prices.

``ratio-study`` reads a CSV of sales (``estimate``, ``sale_price`` and optionally a
stratum column) and reports the IAAO ratio statistics of
:mod:`landgov.domain.ratio_study` with their gates, on all sales and on the trimmed ones.
``train`` fits the appraisal models, ``run`` publishes a roll (statutory or model),
``explain`` shows why the model values a parcel as it does.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from landgov.cli._shell import checkpoint_after_job, clean_errors, engine, job_actor, out
from landgov.domain import ratio_study
from landgov.domain.ratio_study import STATISTICS, PropertyClass, RatioStudy
from landgov.errors import ImportRejected, RowProblem

app = typer.Typer(help="Valuation: rolls, mass appraisal and ratio studies.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Valuation: rolls, mass appraisal and ratio studies."""
    # a callback keeps ``valuation`` a command group even with a single command


ESTIMATE = "estimate"
PRICE = "sale_price"

_LABELS = {
    "median_ratio": "median ratio",
    "cod": "COD",
    "prd": "PRD",
    "prb": "PRB",
    "mki": "MKI",
}


def read_sales(path: Path, stratum: str | None = None) -> list[dict[str, Any]]:
    """The sales of a CSV file as ``{estimate, sale_price[, stratum]}`` dicts.

    Every bad cell is collected before refusing the file, so one run names all of them
    (row counted from 1 after the header, as a spreadsheet user sees it, blank lines
    included). Numbers may carry thousands separators (``1,250,000``), as exported from
    spreadsheets.
    """
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            records = list(csv.reader(fh, strict=True))
    except FileNotFoundError:
        raise ImportRejected(str(path), [RowProblem(None, None, "no such file")]) from None
    except UnicodeDecodeError as exc:
        raise ImportRejected(
            str(path), [RowProblem(None, None, f"not UTF-8 text (offset {exc.start})")]
        ) from exc
    except (OSError, csv.Error) as exc:
        raise ImportRejected(
            str(path), [RowProblem(None, None, f"not a readable CSV file: {exc}")]
        ) from exc
    wanted = [ESTIMATE, PRICE] + ([stratum] if stratum else [])
    if not records or not any(cell.strip() for cell in records[0]):
        raise ImportRejected(
            str(path), [RowProblem(None, None, f"empty file: no header row; need {wanted}")]
        )
    header = [cell.strip() for cell in records[0]]
    lowered = [cell.lower() for cell in header]
    index: dict[str, int] = {}
    problems: list[RowProblem] = []
    for name in wanted:
        matches = [i for i, cell in enumerate(lowered) if cell == name.lower()]
        if not matches:
            problems.append(RowProblem(None, name, f"missing column '{name}'"))
        elif len(matches) > 1:
            problems.append(RowProblem(None, name, f"column '{name}' appears {len(matches)} times"))
        else:
            index[name] = matches[0]
    if problems:
        raise ImportRejected(str(path), problems)

    sales: list[dict[str, Any]] = []
    for row, record in enumerate(records[1:], start=1):
        if not any(cell.strip() for cell in record):
            continue  # a blank line is no sale, but still counts as a row
        sale: dict[str, Any] = {}
        for name in (ESTIMATE, PRICE):
            cell = record[index[name]].strip() if index[name] < len(record) else ""
            value, reason = _positive_number(cell)
            if reason:
                problems.append(RowProblem(row, name, reason))
            sale[name] = value
        if stratum:
            cell = record[index[stratum]].strip() if index[stratum] < len(record) else ""
            if not cell:
                problems.append(RowProblem(row, stratum, "empty stratum"))
            sale["stratum"] = cell
        sales.append(sale)
    if problems:
        raise ImportRejected(str(path), problems)
    if not sales:
        raise ImportRejected(str(path), [RowProblem(None, None, "no sales: only a header row")])
    return sales


def _positive_number(cell: str) -> tuple[float, str | None]:
    """The cell as a positive finite number, or the reason it is not one."""
    if not cell:
        return math.nan, "empty; a positive amount in rupees is needed"
    try:
        value = float(cell.replace(",", ""))
    except ValueError:
        return math.nan, f"not a number: {cell!r}"
    if not math.isfinite(value):
        return math.nan, f"not a finite number: {cell!r}"
    if value <= 0:
        return math.nan, f"must be positive, got {cell}"
    return value, None


@app.command("ratio-study")
@clean_errors
def ratio_study_cmd(
    file: Annotated[Path, typer.Argument(help="CSV with columns estimate and sale_price.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    stratum: Annotated[
        str | None,
        typer.Option("--stratum", help="Column to group sales by (one study per value)."),
    ] = None,
    property_class: Annotated[
        PropertyClass,
        typer.Option("--class", help="Property class; sets the COD limit (15 / 20 / 25)."),
    ] = PropertyClass.OTHER,
    bootstrap: Annotated[
        int, typer.Option("--bootstrap", min=0, help="Bootstrap resamples for the CIs (0: none).")
    ] = 1000,
    seed: Annotated[int, typer.Option(help="Seed of the bootstrap resamples.")] = 0,
) -> None:
    """Median ratio, COD, PRD, PRB and MKI with IAAO gates, untrimmed and trimmed.

    Trimming drops ratios beyond 3 × IQR outside the quartiles; --json prints the
    untrimmed figures at top level and the trimmed ones under "trimmed".
    """
    sales = read_sales(file, stratum)
    if stratum:
        studies = ratio_study.by_stratum(
            sales, property_class=property_class, n_boot=bootstrap, seed=seed
        )
        if as_json:
            typer.echo(json.dumps({key: s.as_json() for key, s in studies.items()}))
            return
        for key, result in studies.items():
            _print_table(result, f"{stratum} = {key}")
        return
    result = ratio_study.study(
        [s[ESTIMATE] for s in sales],
        [s[PRICE] for s in sales],
        property_class=property_class,
        n_boot=bootstrap,
        seed=seed,
    )
    if as_json:
        typer.echo(json.dumps(result.as_json()))
        return
    _print_table(result, file.name)


def _print_table(result: RatioStudy, title: str) -> None:
    """One study as a table: each statistic, its gate, untrimmed and trimmed verdicts."""
    from rich.table import Table

    trimmed = result.trimmed
    table = Table(
        title=f"{title}: {result.property_class.value}, {result.n} sales"
        + (f", {trimmed.dropped} trimmed" if trimmed else ""),
        title_justify="left",
    )
    table.add_column("statistic")
    table.add_column("gate")
    table.add_column("all sales", justify="right")
    if result.ci:
        table.add_column(f"{result.level:.0%} CI", justify="right")
    table.add_column("")
    if trimmed is not None:
        table.add_column("trimmed", justify="right")
        if trimmed.ci:
            table.add_column(f"{trimmed.level:.0%} CI", justify="right")
        table.add_column("")
    for name in STATISTICS:
        low, high = result.ranges[name]
        gate = f"≤ {high:g}" if name == "cod" else f"{low:g} – {high:g}"
        cells = [_LABELS[name], gate, *_cells(result, name)]
        if trimmed is not None:
            cells += _cells(trimmed, name)
        table.add_row(*cells)
    out.print(table)


def _cells(result: RatioStudy, name: str) -> list[str]:
    value = f"{getattr(result, name):.4f}" if name != "cod" else f"{result.cod:.2f}"
    cells = [value]
    if result.ci:
        lo, hi = result.ci[name]
        cells.append(f"{lo:.4g} – {hi:.4g}")
    cells.append("[green]pass[/]" if result.gates[name] else "[bold red]FAIL[/]")
    return cells


@app.command("run")
@clean_errors
def run_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="Valuation date, YYYY-MM-DD.")],
    scheduler: Annotated[
        str | None, typer.Option(help="Dask scheduler address (default: a local cluster).")
    ] = None,
    method: Annotated[
        str,
        typer.Option(help="statutory (DC rate × area) or model (mass appraisal, per land class)."),
    ] = "statutory",
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Value every parcel live on the date and publish the roll as one version (atomic;
    the same inputs give the same roll). Runs as the signed-in analyst, else as the
    valuation service."""
    from landgov.valuation.roll import METHODS, run_roll

    day = _as_of(as_of)
    if method not in METHODS:
        raise typer.BadParameter(f"one of {', '.join(METHODS)}", param_hint="--method")
    actor = job_actor("valuation", "valuation.run")
    roll = run_roll(engine(), day, method=method, scheduler=scheduler, actor=actor)
    checkpoint_after_job(actor)
    if as_json:
        typer.echo(json.dumps(roll.as_json(), indent=1))
        return
    state = "already published" if roll.reused else "published"
    out.print(
        f"roll {roll.id} ({roll.method}, as of {roll.as_of}) {state}: {roll.parcels:,} "
        f"parcel(s) valued, Rs {roll.total_value_rs:,} in all; {roll.unvalued} without a "
        f"rate in force; fingerprint {roll.fingerprint[:12]}",
        highlight=False,
    )
    by = roll.summary.get("valued_by")
    if method == "model" and by:
        out.print(f"  by model: {by['model']:,}; at the DC rate (no model for the class): "
                  f"{by['statutory']:,}", highlight=False)  # fmt: skip


def _as_of(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(f"{value!r} is not a date", param_hint="--as-of") from exc


@app.command("train")
@clean_errors
def train_cmd(
    as_of: Annotated[str, typer.Option("--as-of", help="Valuation date, YYYY-MM-DD.")],
    years: Annotated[
        int | None, typer.Option(min=1, help="Only sales of the last N years (default: all).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Train the mass-appraisal models (LightGBM per land class) on validated sales and
    report each one's out-of-fold ratio study against the DC table's. Runs as the
    signed-in analyst, else as the valuation service."""
    from landgov.valuation.appraisal import train

    day = _as_of(as_of)
    actor = job_actor("valuation", "valuation.run")
    aset = train(engine(), day, years=years, actor=actor)
    checkpoint_after_job(actor)
    if as_json:
        typer.echo(json.dumps(aset.as_json(), indent=1))
        return
    state = "found (same sales)" if aset.reused else "trained"
    out.print(
        f"appraisal models {state} for {aset.as_of}: market trend "
        f"{100 * (math.exp(aset.trend_per_year) - 1):+.1f} % a year; fingerprint "
        f"{aset.fingerprint[:12]}",
        highlight=False,
    )
    for cls, m in sorted(aset.models.items()):
        rs, dc = m.metrics.get("ratio_study", {}), m.metrics.get("statutory_ratio_study", {})
        judged = rs.get("trimmed", rs)
        out.print(
            f"  {cls}: model {m.id}, {m.n_sales} sales, {m.metrics.get('trees')} trees; "
            f"out of fold: median ratio {judged.get('median_ratio', float('nan')):.3f}, "
            f"COD {judged.get('cod', float('nan')):.1f}, PRD {judged.get('prd', float('nan')):.3f}"
            f" ({'passes' if judged.get('passed') else 'FAILS'} the IAAO gates); DC table: "
            f"median ratio {dc.get('median_ratio') or float('nan'):.3f}, "
            f"COD {dc.get('cod') or float('nan'):.1f}",
            highlight=False,
        )
    for cls, why in sorted(aset.skipped.items()):
        out.print(f"  {cls}: no model ({why}); its parcels keep the DC value", highlight=False)
    if aset.excluded:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(aset.excluded.items()))
        out.print(f"  sales set aside: {listed}", highlight=False)


@app.command("explain")
@clean_errors
def explain_cmd(
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    khasra: Annotated[str, typer.Option(help="Khasra number, e.g. 45//12.")],
    roll: Annotated[int | None, typer.Option(help="Roll id (default: the current roll).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Why the model values a parcel as it does: a base value per acre times one factor
    per feature (exact TreeSHAP contributions of the LightGBM model)."""
    from landgov.storage.lookup import find_khasra, resolve_mouza
    from landgov.valuation.appraisal import explain_roll_value

    with engine().connect() as conn:
        kid = find_khasra(conn, resolve_mouza(conn, mouza), khasra)
        ex, roll_id, stored = explain_roll_value(conn, kid, roll)
    if as_json:
        typer.echo(json.dumps({**ex.as_json(), "roll": roll_id, "roll_value_rs": stored},
                              indent=1))  # fmt: skip
        return
    out.print(
        f"khasra {khasra} ({ex.land_class}, {ex.acres:.3f} acres) in roll {roll_id}: "
        f"Rs {stored:,} (model {ex.model_id}, as of {ex.as_of})",
        highlight=False,
    )
    out.print(f"  base value (average {ex.land_class} sale): Rs {ex.base_rs_per_acre:,.0f} "
              "per acre", highlight=False)  # fmt: skip
    for c in sorted(ex.contributions, key=lambda c: -abs(c.log_contribution)):
        shown = "unknown" if c.value is None else c.value
        out.print(f"  × {c.factor:.3f}  {c.feature} = {shown}", highlight=False)
    out.print(f"  = Rs {ex.rs_per_acre:,.0f} per acre × {ex.acres:.3f} acres", highlight=False)
