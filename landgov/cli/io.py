"""Import and export commands: parcels and mutation registers in, a mouza's records out.

Every command acts as the person signed in with ``landgov login``: imports need
``records.import`` (an officer posted over the mouza today), exports ``personal.read``
(and, for ``--unmasked``, an officer posted over the mouza). Identity comes from the
session alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from landgov.cli._shell import clean_errors, current_actor, engine, option_date, out

import_app = typer.Typer(
    help="Import files into the record (one file, one transaction).", no_args_is_help=True
)


@import_app.command("parcels")
@clean_errors
def import_parcels_cmd(
    path: Annotated[Path, typer.Argument(help="GeoPackage, Shapefile or GeoJSON of khasras.")],
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    layer: Annotated[str | None, typer.Option(help="Layer name (GeoPackage).")] = None,
) -> None:
    """Import khasra parcels into a mouza. Any bad row rejects the whole file.

    A khewat_no field attaches each khasra to that khewat of the mouza; without one (or
    with assignment 'unassigned') a khasra is stored unassigned: mapped, record of rights
    not yet attached, which is not an orphan.
    """
    from landgov.io.parcels import import_parcels
    from landgov.progress import progress_bar

    actor = current_actor("records.import")
    with progress_bar() as progress:
        report = import_parcels(
            engine(), path, mouza=mouza, layer=layer, actor=actor, progress=progress
        )
    out.print(report.summary(), highlight=False, markup=False)
    attached, unassigned = report.details["attached"], report.details["unassigned"]
    out.print(
        f"{attached:,} attached to khewats (khewat_no), {unassigned:,} unassigned "
        "(mapped, record of rights not yet attached)",
        highlight=False,
        markup=False,
    )


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
