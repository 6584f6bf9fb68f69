"""Import and export commands: parcels and mutation registers in, a mouza's records out.

Every command acts as the person signed in with ``landgov login``: imports need
``records.import`` (an officer posted over the mouza today), exports ``personal.read``
(and, for ``--unmasked``, an officer posted over the mouza). Identity comes from the
session alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, cast

import typer

from landgov.cli._shell import clean_errors, current_actor, engine, option_date, out

if TYPE_CHECKING:  # imported when a command runs: `landgov --help` stays quick
    from landgov.io.parcels import FieldUse, ParcelCheck

import_app = typer.Typer(
    help="Import files into the record (one file, one transaction).", no_args_is_help=True
)


@import_app.command("parcels")
@clean_errors
def import_parcels_cmd(
    path: Annotated[Path, typer.Argument(help="GeoPackage, Shapefile or GeoJSON of khasras.")],
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    layer: Annotated[str | None, typer.Option(help="Layer name (GeoPackage).")] = None,
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            help="FIELD=COLUMN: read a field from the file's own column (any case), e.g. "
            "khasra_no=KHASRA_NO; FIELD= says the file has none. Repeat per field.",
        ),
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="A TOML or YAML file: [fields] FIELD = COLUMN, and default_land_class.",
        ),
    ] = None,
    default_land_class: Annotated[
        str | None,
        typer.Option(
            "--default-land-class",
            help="Land class of the rows without one (no land_class column, or empty cells).",
        ),
    ] = None,
    check: Annotated[
        bool,
        typer.Option(
            "--check",
            help="Dry run: print what would be imported and every problem; write nothing.",
        ),
    ] = False,
) -> None:
    """Import khasra parcels into a mouza. Any bad row rejects the whole file.

    A khewat_no field attaches each khasra to that khewat of the mouza; without one (or
    with assignment 'unassigned') a khasra is stored unassigned: mapped, record of rights
    not yet attached, which is not an orphan. A vendor's own field names are mapped with
    --field or --mapping; --check exits 1 when the file has problems.
    """
    from landgov.io.parcels import FieldMapping, check_parcels, import_parcels
    from landgov.progress import progress_bar

    fields = FieldMapping.build(field or (), mapping, default_land_class)
    actor = current_actor("records.import")
    if check:
        with progress_bar() as progress:
            found = check_parcels(
                engine(), path, mouza=mouza, layer=layer, actor=actor, progress=progress,
                mapping=fields,
            )  # fmt: skip
        for line in check_lines(found):
            out.print(line, highlight=False, markup=False, soft_wrap=True)
        if not found.ok:
            raise typer.Exit(1)
        return
    with progress_bar() as progress:
        report = import_parcels(
            engine(), path, mouza=mouza, layer=layer, actor=actor, progress=progress,
            mapping=fields,
        )  # fmt: skip
    out.print(report.summary(), highlight=False, markup=False)
    attached, unassigned = report.details["attached"], report.details["unassigned"]
    out.print(
        f"{attached:,} attached to khewats (khewat_no), {unassigned:,} unassigned "
        "(mapped, record of rights not yet attached)",
        highlight=False,
        markup=False,
    )
    if not fields.is_empty:  # say how the vendor's columns were read
        uses = cast("list[FieldUse]", report.details["fields"])
        for line in field_lines(uses, cast("list[str]", report.details["ignored"])):
            out.print(line, highlight=False, markup=False, soft_wrap=True)


def field_lines(fields: Sequence[FieldUse], ignored: Sequence[str]) -> list[str]:
    """Where each field came from, and the columns not read."""
    from landgov.io._common import printable

    lines = ["fields:"] + [f"  {use.describe()}" for use in fields]
    shown = ", ".join(printable(c) for c in ignored) or "none"
    lines.append(f"columns not read: {shown}")
    return lines


def check_lines(found: ParcelCheck) -> list[str]:
    """The dry run's report (:class:`landgov.io.parcels.ParcelCheck`), line by line."""
    lines = [
        f"{found.path.name} (layer {found.layer}, {found.crs}): {found.features:,} "
        f"features checked against {found.target}; dry run, nothing written",
    ]
    if found.ok:
        lines.append(
            f"would import {found.features:,} khasras: {found.attached:,} attached to "
            f"khewats, {found.unassigned:,} unassigned"
        )
    else:
        lines.append(
            f"would import nothing: {len(found.problems):,} problem(s) (of the rows as "
            f"read, {found.attached:,} name a khewat, {found.unassigned:,} would be "
            "unassigned)"
        )
    lines.append(
        f"area: {found.area_m2:,.1f} m² on the map ({found.area_m2 / 10_000:,.2f} ha); "
        f"record area {found.record_area_sarsai:,} sarsai"
    )
    if found.bounds is not None and found.file_bounds is not None:
        lon0, lat0, lon1, lat1 = found.bounds
        x0, y0, x1, y1 = found.file_bounds
        lines.append(
            f"bounds: longitude {lon0:.6f} to {lon1:.6f}, latitude {lat0:.6f} to "
            f"{lat1:.6f} (EPSG:4326); {x0:,.2f} {y0:,.2f} to {x1:,.2f} {y1:,.2f} "
            f"({found.crs})"
        )
    lines += field_lines(found.fields, found.ignored)
    if found.ok:
        lines.append("problems: none")
        return lines
    lines.append(f"problems ({len(found.problems):,}):")
    lines += [f"  by field: {summary}" for summary in found.by_field]
    lines += [f"  {problem}" for problem in found.problems]
    return lines


@import_app.command("mutations")
@clean_errors
def import_mutations_cmd(
    path: Annotated[Path, typer.Argument(help="Mutation register CSV (one row per line).")],
) -> None:
    """Import a mutation register from CSV. Any bad row rejects the whole file."""
    from landgov.io.mutations import import_mutations
    from landgov.progress import progress_bar

    actor = current_actor("records.import")
    with progress_bar() as progress:
        report = import_mutations(engine(), path, actor=actor, progress=progress)
    out.print(report.summary(), highlight=False, markup=False)


@clean_errors
def export_cmd(
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    out_path: Annotated[
        Path,
        typer.Option("--out", help="GeoPackage to write (.gpkg), or .csv for the owners only."),
    ],
    as_of: Annotated[
        str | None, typer.Option(help="Owners as of this date (YYYY-MM-DD); default today.")
    ] = None,
    unmasked: Annotated[
        bool,
        typer.Option(
            "--unmasked",
            help="CNICs in full (an officer posted over the mouza only; logged).",
        ),
    ] = False,
) -> None:
    """Export a mouza's parcels with their khewat and owners (CNICs masked by default)."""
    from datetime import date

    from landgov.io.export import export_mouza

    actor = current_actor("personal.read")
    when = option_date(as_of, "--as-of") or date.today()
    report = export_mouza(engine(), mouza, out_path, as_of=when, actor=actor, unmasked=unmasked)
    out.print(report.summary(), highlight=False, markup=False)
