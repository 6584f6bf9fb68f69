"""``landgov imagery zonal``: coverage-weighted per-parcel raster statistics.

Each CSV row starts with the parcel's own identifying columns, so the file joins back
to the parcels and to the vendor's records:

* ``--id-column NAME`` (repeatable) copies those columns, in that order, like
  exactextract's ``include_cols``; together they must identify each parcel (no empty
  value, no combination twice), or the command stops and names the repeated values
  and their rows;
* by default, the file's first column that identifies each parcel on its own: text or
  integer values, none empty, none repeated (a decimal column such as an area can be
  unique by accident, so it is never picked), and not named like a requested statistic;
* a file with no such column gets ``row``, the parcel's position in the file counted
  from 1 (as import errors count rows), with a note on stderr.

Start-up is most of this command's time (the statistics of a few thousand parcels take
tens of milliseconds), so it imports only what it uses, when it uses it: no database,
no settings; numba only for large inputs (:mod:`imagery.zonal`). ``bench/zonal_cli.py``
measures it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from landgov.cli._shell import clean_errors, err, out
from landgov.cli.imagery import app

if TYPE_CHECKING:
    import pandas as pd

ROW_COLUMN = "row"
_SHOWN = 5  # repeated or empty ids named in an error before "and N more"


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
    id_columns: Annotated[
        list[str] | None,
        typer.Option(
            "--id-column",
            help="A column of the parcels file to copy into each row, first; repeat for"
            " several (together they must identify each parcel). Default: the file's first"
            " text or integer column with no empty and no repeated value, else the row"
            " position ('row', from 1).",
        ),
    ] = None,
    id_field: Annotated[
        str | None, typer.Option(help="Deprecated: use --id-column (same meaning).")
    ] = None,
) -> None:
    """Write one CSV row per parcel: its id column(s) and coverage-weighted statistics."""
    import pyogrio
    import rasterio

    from imagery.zonal import ZonalError, _parse_stats, zonal_stats

    names = _parse_stats(stats)
    asked = list(id_columns or [])
    if id_field is not None:
        if asked:
            raise ZonalError("--id-field is the old name of --id-column: give only --id-column")
        err.print("note: --id-field is deprecated; use --id-column", highlight=False,
                  markup=False, emoji=False)  # fmt: skip
        asked = [id_field]
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
    if asked:
        check_id_columns(gdf, asked, names, parcels)
        keys = asked
    else:
        first = first_unique_column(gdf, exclude=names)
        keys = [first] if first is not None else []
        if first is None:
            err.print(f"note: no column of {parcels} identifies each parcel (text or integer,"
                      " none empty, none repeated): rows are identified by their position in"
                      f" the file, column '{ROW_COLUMN}' from 1", highlight=False,
                      markup=False, emoji=False, soft_wrap=True)  # fmt: skip
    if gdf.crs is not None and crs is not None and gdf.crs != crs:
        gdf = gdf.to_crs(crs)
    frame = zonal_stats(raster, gdf.geometry.reset_index(drop=True), band=band, stats=names)
    ids = gdf[keys].reset_index(drop=True) if keys else None
    for position, key in enumerate(keys):
        frame.insert(position, key, ids[key].to_numpy())  # type: ignore[index]
    if not keys:
        frame.insert(0, ROW_COLUMN, range(1, len(frame) + 1))
    try:
        _safe(frame).to_csv(out_file, index=False)
    except OSError as exc:
        raise ZonalError(f"cannot write {out_file}: {exc}") from exc
    by = ", ".join(keys) if keys else f"{ROW_COLUMN} (position in the file)"
    out.print(f"wrote {len(frame)} parcel(s) to {out_file}, identified by {by}",
              highlight=False, markup=False, emoji=False, soft_wrap=True)  # fmt: skip


def first_unique_column(frame: pd.DataFrame, *, exclude: Sequence[str] = ()) -> str | None:
    """The first attribute column of ``frame`` that identifies each row on its own.

    Text or integer values only: a decimal column (an area, a yield) is unique by
    accident and would make a meaningless key, and a boolean or date never identifies
    anything. None empty, none repeated. Columns named in ``exclude`` (the statistics
    the output already has) are passed over. None when no column qualifies.
    """
    from pandas.api.types import is_integer_dtype, is_string_dtype

    geometry = getattr(frame, "geometry", None)
    geometry_name = getattr(geometry, "name", None)
    for column in frame.columns:
        if column == geometry_name or column in exclude:
            continue
        series = frame[column]
        if not (is_integer_dtype(series.dtype) or is_string_dtype(series.dtype)):
            continue
        if series.notna().all() and series.is_unique:
            return str(column)
    return None


def check_id_columns(
    frame: pd.DataFrame, columns: Sequence[str], stats: Sequence[str], path: Path
) -> None:
    """Refuses id columns that are missing or do not identify each parcel.

    Raises:
        ZonalError: a column is not in the file, is its geometry, is named twice or like
            a requested statistic, is empty on some rows, or the columns together take
            the same values on two rows (naming the values and their rows, from 1).
    """
    from imagery.zonal import ZonalError

    geometry_name = getattr(getattr(frame, "geometry", None), "name", None)
    attributes = [str(c) for c in frame.columns if c != geometry_name]
    for column in columns:
        if column == geometry_name:
            raise ZonalError(f"{path}: {column!r} is the geometry, not an id column")
        if column not in attributes:
            raise ZonalError(f"{path}: no column {column!r} (columns: {', '.join(attributes)})")
        if column in stats:
            raise ZonalError(f"{path}: id column {column!r} has the name of a requested"
                             " statistic; the CSV would have two such columns")  # fmt: skip
    twice = sorted({c for c in columns if list(columns).count(c) > 1})
    if twice:
        raise ZonalError(f"id column(s) {', '.join(map(repr, twice))} given more than once")
    keys = frame[list(columns)].reset_index(drop=True)
    label = f"id column{'s' if len(columns) > 1 else ''} {', '.join(columns)}"
    empty = keys.isna().any(axis=1).to_numpy().nonzero()[0]
    if len(empty):
        rows = ", ".join(str(r + 1) for r in empty[:_SHOWN])
        more = f" and {len(empty) - _SHOWN} more" if len(empty) > _SHOWN else ""
        raise ZonalError(f"{path}: {label} empty on row(s) {rows}{more}: every parcel needs"
                         " an id")  # fmt: skip
    repeated = keys[keys.duplicated(keep=False)]
    if repeated.empty:
        return
    groups = list(repeated.groupby(list(columns), sort=False).indices.items())
    shown = []
    for value, positions in groups[:_SHOWN]:
        if isinstance(value, tuple) and len(value) == 1:
            value = value[0]
        rows = ", ".join(str(int(repeated.index[p]) + 1) for p in positions[:_SHOWN])
        n = len(positions)
        where = f"{n} rows ({rows}, ...)" if n > _SHOWN else f"rows {rows}"
        shown.append(f"{_show(value)} on {where}")
    more = f" (and {len(groups) - _SHOWN} more repeated values)" if len(groups) > _SHOWN else ""
    raise ZonalError(f"{path}: {label} do{'' if len(columns) > 1 else 'es'} not identify each"
                     f" parcel: {'; '.join(shown)}{more}")  # fmt: skip


def _show(value: object) -> str:
    """A repeated id as the user typed it: text quoted (control characters escaped),
    numbers plain, a combination in parentheses."""
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    item = getattr(value, "item", None)  # numpy scalars: their Python value
    plain = item() if callable(item) else value
    return repr(plain) if isinstance(plain, str) else str(plain)


def _safe(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with text cells that a spreadsheet would run neutralised (OWASP)."""
    from landgov.io.safe_csv import neutralise_frame  # imported late: pulls in geopandas

    return neutralise_frame(frame)
