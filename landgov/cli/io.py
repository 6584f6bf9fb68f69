"""Import and export commands: parcels and mutation registers in, a mouza's GeoPackage out."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from landgov.cli._shell import clean_errors, engine, out

import_app = typer.Typer(
    help="Import files into the record (one file, one transaction).", no_args_is_help=True
)


@import_app.command("parcels")
@clean_errors
def import_parcels_cmd(
    path: Annotated[Path, typer.Argument(help="GeoPackage, Shapefile or GeoJSON of khasras.")],
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    layer: Annotated[str | None, typer.Option(help="Layer name (GeoPackage).")] = None,
    actor: Annotated[str, typer.Option(help="Who imports, for the audit log.")] = "cli",
) -> None:
    """Import khasra parcels into a mouza. Any bad row rejects the whole file."""
    from landgov.io.parcels import import_parcels
    from landgov.progress import progress_bar

    with progress_bar() as progress:
        report = import_parcels(
            engine(), path, mouza=mouza, layer=layer, actor=actor, progress=progress
        )
    out.print(report.summary())


@import_app.command("mutations")
@clean_errors
def import_mutations_cmd(
    path: Annotated[Path, typer.Argument(help="Mutation register CSV (one row per line).")],
    actor: Annotated[str, typer.Option(help="Who imports, for the audit log.")] = "cli",
) -> None:
    """Import a mutation register from CSV. Any bad row rejects the whole file."""
    from landgov.io.mutations import import_mutations
    from landgov.progress import progress_bar

    with progress_bar() as progress:
        report = import_mutations(engine(), path, actor=actor, progress=progress)
    out.print(report.summary())


@clean_errors
def export_cmd(
    mouza: Annotated[str, typer.Option(help="Mouza name or hadbast number.")],
    out_path: Annotated[Path, typer.Option("--out", help="GeoPackage to write.")],
    as_of: Annotated[
        str | None, typer.Option(help="Owners as of this date (YYYY-MM-DD); default today.")
    ] = None,
) -> None:
    """Export a mouza's parcels with their khewat and owners to a GeoPackage."""
    from landgov.io.export import export_mouza

    when = date.fromisoformat(as_of) if as_of else date.today()
    report = export_mouza(engine(), mouza, out_path, as_of=when)
    out.print(report.summary())
