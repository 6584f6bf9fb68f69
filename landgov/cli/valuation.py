"""``landgov valuation``: how well valuations track sale prices.

``ratio-study`` reads a CSV of sales (``estimate``, ``sale_price`` and optionally a
stratum column) and reports the IAAO ratio statistics of
:mod:`landgov.domain.ratio_study` with their gates, on all sales and on the trimmed ones.
"""

from __future__ import annotations

import csv
import json
import math
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from landgov.cli._shell import clean_errors, engine, out
from landgov.domain import ratio_study
from landgov.domain.ratio_study import STATISTICS, PropertyClass, RatioStudy
from landgov.errors import ImportRejected, RowProblem

app = typer.Typer(help="Valuation: ratio studies of estimates against sales.", no_args_is_help=True)


@app.callback()
def _group() -> None:
    """Valuation: ratio studies of estimates against sales."""
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
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Value every parcel live on the date and publish the roll as one version (atomic;
    the same inputs give the same roll)."""
    from landgov.valuation.roll import run_roll

    try:
        day = date.fromisoformat(as_of)
    except ValueError as exc:
        raise typer.BadParameter(f"{as_of!r} is not a date", param_hint="--as-of") from exc
    roll = run_roll(engine(), day, scheduler=scheduler)
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
