"""``landgov imagery zonal``: coverage-weighted per-parcel raster statistics."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from landgov.cli._shell import clean_errors, out
from landgov.cli.imagery import app

ID_FIELDS = ("khasra_id", "id", "khasra_no")


@app.command("zonal")
@clean_errors
def zonal_cmd(
    raster: Annotated[Path, typer.Argument(help="Raster file (GeoTIFF...).")],
    parcels: Annotated[Path, typer.Argument(help="Parcel polygons, any OGR vector file.")],
    band: Annotated[int, typer.Option(help="Band number, from 1.")] = 1,
    stats: Annotated[
        str, typer.Option(help="Comma-separated: count,sum,mean,median,std,min,max,valid_fraction.")
    ] = "mean",
    out_file: Annotated[Path, typer.Option("--out", help="CSV file to write.")] = Path("zonal.csv"),
    id_field: Annotated[
        str | None,
        typer.Option(help="Parcel id column (default: khasra_id, id, khasra_no, else index)."),
    ] = None,
) -> None:
    """Write one CSV row per parcel: its id and coverage-weighted statistics."""
    import pyogrio
    import rasterio

    from imagery.zonal import ZonalError, _parse_stats, zonal_stats

    names = _parse_stats(stats)
    try:
        with rasterio.open(raster) as src:
            crs, count = src.crs, src.count
    except Exception as exc:
        raise ZonalError(f"cannot read raster {raster}: {exc}") from exc
    if not 1 <= band <= count:
        raise ZonalError(f"band {band} out of range: {raster} has {count} band(s)")
    try:
        gdf = pyogrio.read_dataframe(parcels)
    except Exception as exc:
        raise ZonalError(f"cannot read parcels {parcels}: {exc}") from exc
    if id_field is not None and id_field not in gdf.columns:
        raise ZonalError(f"no column {id_field!r} in {parcels}")
    field = id_field or next((f for f in ID_FIELDS if f in gdf.columns), None)
    ids = gdf[field].to_numpy() if field else gdf.index.to_numpy()
    if gdf.crs is not None and crs is not None and gdf.crs != crs:
        gdf = gdf.to_crs(crs)
    frame = zonal_stats(raster, gdf.geometry.reset_index(drop=True), band=band, stats=names)
    frame.insert(0, field or "id", ids)
    try:
        _safe(frame).to_csv(out_file, index=False)
    except OSError as exc:
        raise ZonalError(f"cannot write {out_file}: {exc}") from exc
    out.print(f"wrote {len(frame)} parcel(s) to {out_file}")


def _safe(frame: Any) -> Any:
    """The frame with text cells that a spreadsheet would run neutralised (OWASP)."""
    from landgov.io.safe_csv import neutralise_frame  # imported late: pulls in geopandas

    return neutralise_frame(frame)
