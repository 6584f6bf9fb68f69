"""``landgov imagery``: the raster catalog, ingest and per-parcel analysis."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Satellite imagery: catalog, ingest, zonal statistics.", no_args_is_help=True
)
