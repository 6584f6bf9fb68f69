"""Reading labelled fields and their index series from the files users hold.

Fields: any OGR vector file (GeoPackage, Shapefile, GeoJSON) with a CRS, one polygon per
field, an id column (``field_id`` by default), a label column for training (``crop``) and
a year column (``year``; the year whose grid the field's series goes on). Without a year
column the year of the field's median observation date is used.

Series: CSV, long format, one row per field and date: ``field_id``, ``date`` (ISO
``YYYY-MM-DD``) and one numeric column per index (``ndvi``, ``evi``…); an empty cell is no
valid observation. Any cadence, any gaps: :mod:`models.crops.grid` brings it onto a model's
grid. Every problem names the file, the row (1 = the first data row after the header) and
the column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from landgov.errors import LandgovError
from models.crops.grid import GriddedSeries, TimeGrid, to_grid

__all__ = ["FieldData", "FieldFileError", "load_field_data", "read_fields", "read_series"]

_MAX_SHOWN = 5


class FieldFileError(LandgovError, ValueError):
    """A fields or series file that cannot be used as it is."""


def _rows(mask: np.ndarray) -> str:
    bad = np.flatnonzero(mask)[:_MAX_SHOWN] + 1
    more = int(mask.sum()) - len(bad)
    return ", ".join(map(str, bad)) + (f" and {more} more" if more > 0 else "")


def read_fields(
    path: str | Path,
    *,
    id_column: str = "field_id",
    label_column: str | None = "crop",
    year_column: str | None = "year",
    layer: str | None = None,
) -> Any:
    """The fields as a GeoDataFrame indexed by their id (columns: label, year, geometry)."""
    import pyogrio

    path = Path(path)
    if not path.is_file():
        raise FieldFileError(f"{path}: no such file")
    try:
        gdf = pyogrio.read_dataframe(path, layer=layer)
    except Exception as exc:
        raise FieldFileError(f"{path}: cannot read as a vector file ({exc})") from exc
    if gdf.crs is None:
        raise FieldFileError(f"{path}: no CRS; the spatial split needs to know where fields lie")
    for role, col in (("id", id_column), ("label", label_column), ("year", year_column)):
        if col is not None and col not in gdf.columns:
            hint = f" (use --{role}-column; columns: {[c for c in gdf.columns if c != 'geometry']})"
            if role == "year":
                continue  # optional: inferred from the series
            raise FieldFileError(f"{path}: no {role} column {col!r}{hint}")
    ids = gdf[id_column]
    if ids.isna().any():
        raise FieldFileError(f"{path}: rows {_rows(ids.isna().to_numpy())}: empty {id_column}")
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        raise FieldFileError(
            f"{path}: rows {_rows(dup)}: {id_column} repeats"
            f" (e.g. {ids[dup].iloc[0]!r}); every field needs its own id"
        )
    empty = gdf.geometry.isna() | gdf.geometry.is_empty
    if empty.any():
        raise FieldFileError(f"{path}: rows {_rows(empty.to_numpy())}: no geometry")
    out = gdf.set_index(gdf[id_column].to_numpy())
    keep = {"geometry": out.geometry}
    if label_column is not None:
        lab = out[label_column]
        blank = lab.isna().to_numpy() | (lab.astype(str).str.strip() == "").to_numpy()
        if blank.any():
            raise FieldFileError(f"{path}: rows {_rows(blank)}: empty {label_column}")
        keep["label"] = lab.astype(str).str.strip().str.lower()
    if year_column is not None and year_column in out.columns:
        yr = pd.to_numeric(out[year_column], errors="coerce")
        bad = yr.isna().to_numpy() | ~yr.between(1980, 2100).to_numpy()
        if bad.any():
            raise FieldFileError(
                f"{path}: rows {_rows(bad)}: {year_column} is not a year between 1980 and 2100"
            )
        keep["year"] = yr.astype(int)
    import geopandas as gpd

    return gpd.GeoDataFrame(keep, geometry="geometry", crs=gdf.crs)


def read_series(
    path: str | Path, indices: list[str] | None = None, *, id_column: str = "field_id"
) -> pd.DataFrame:
    """The long series table (``field_id``, ``date``, index columns), checked.

    Args:
        path: CSV file.
        indices: index columns needed; default every column other than id and date.
        id_column: the column naming the field.
    """
    path = Path(path)
    if not path.is_file():
        raise FieldFileError(f"{path}: no such file")
    try:
        raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    except Exception as exc:
        raise FieldFileError(f"{path}: cannot read as CSV ({exc})") from exc
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    id_column = id_column.lower()
    for col in (id_column, "date"):
        if col not in raw.columns:
            raise FieldFileError(f"{path}: no column {col!r} (columns: {list(raw.columns)})")
    indices = [i.lower() for i in indices] if indices else [
        c for c in raw.columns if c not in (id_column, "date")
    ]  # fmt: skip
    missing = [i for i in indices if i not in raw.columns]
    if missing:
        raise FieldFileError(
            f"{path}: no column {', '.join(map(repr, missing))} for the index the model needs"
            f" (columns: {list(raw.columns)})"
        )
    if not indices:
        raise FieldFileError(f"{path}: no index column besides {id_column} and date")
    when = pd.to_datetime(raw["date"], format="%Y-%m-%d", errors="coerce")
    if when.isna().any():
        bad = when.isna().to_numpy()
        raise FieldFileError(
            f"{path}: rows {_rows(bad)}: column date: {raw['date'][bad].iloc[0]!r} is not an"
            " ISO date (YYYY-MM-DD)"
        )
    out = pd.DataFrame({"field_id": raw[id_column], "date": when})
    for ix in indices:
        text = raw[ix].str.strip()
        # "", "NA" and "nan" coerce to NaN like any non-number; the check below tells the
        # three no-observation markers apart from text that is not a number
        value = pd.to_numeric(text, errors="coerce")
        bad = value.isna().to_numpy() & ~text.isin(["", "NA", "nan"]).to_numpy()
        bad |= ~np.isfinite(value.fillna(0).to_numpy())
        if bad.any():
            raise FieldFileError(
                f"{path}: rows {_rows(bad)}: column {ix}: {text[bad].iloc[0]!r} is not a number"
                " (leave the cell empty for no valid observation)"
            )
        out[ix] = value.astype(np.float64)
    return out


@dataclass
class FieldData:
    """Labelled fields with their series on a grid, aligned row by row."""

    fields: Any
    series: GriddedSeries
    labels: list[str]
    sources: list[Path] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)


def load_field_data(
    fields_path: str | Path,
    series_path: str | Path,
    *,
    indices: list[str] | None = None,
    grid: TimeGrid | None = None,
    id_column: str = "field_id",
    label_column: str | None = "crop",
    year_column: str | None = "year",
    layer: str | None = None,
) -> FieldData:
    """Read both files, match series to fields and put the series on ``grid``."""
    fields = read_fields(fields_path, id_column=id_column, label_column=label_column,
                         year_column=year_column, layer=layer)  # fmt: skip
    series = read_series(series_path, indices, id_column=id_column)
    # ids compare as text: a GeoPackage's integer 26 and the CSV's "26" are one field
    key = pd.Index(fields.index.astype(str))
    unknown = ~series["field_id"].isin(key)
    if unknown.any():
        raise FieldFileError(
            f"{series_path}: rows {_rows(unknown.to_numpy())}: {id_column}"
            f" {series['field_id'][unknown].iloc[0]!r} is not a field of {fields_path}"
        )
    if "year" in fields.columns:
        years = pd.Series(fields["year"].to_numpy(), index=key)
    else:
        med = series.groupby("field_id")["date"].median()
        years = pd.Series([int(med[k].year) if k in med.index else None for k in key],
                          index=key)  # fmt: skip
        if years.isna().any():
            raise FieldFileError(
                f"{fields_path}: no year column and no series rows for field(s)"
                f" {list(key[years.isna().to_numpy()][:_MAX_SHOWN])}"
            )
        years = years.astype(int)
    cols = [c for c in series.columns if c not in ("field_id", "date")]
    gridded = to_grid(series, years, cols, grid, source=str(series_path))
    gridded.field_ids = fields.index.to_numpy()
    no_rows = ~key.isin(series["field_id"].unique())
    labels = fields["label"].tolist() if "label" in fields.columns else []
    return FieldData(fields, gridded, labels, [Path(fields_path), Path(series_path)],
                     {"fields_without_series": int(no_rows.sum()),
                      "observations_outside_grid": gridded.unused})  # fmt: skip
