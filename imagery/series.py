"""Per-parcel index time series: zonal statistics per Sentinel-2 scene, stored in PostGIS.

For every Sentinel-2 scene of the catalog that intersects a mouza in a date range, the
index (:data:`imagery.indices.INDICES`) is computed from the scene's band COGs, pixels
that the scene classification (SCL) marks unusable (:func:`imagery.scl.clear_mask`) are
treated as nodata, and :func:`imagery.zonal.zonal_stats` gives coverage-weighted mean,
median, std, count and valid-pixel fraction for each khasra (reprojected to the scene CRS).

Grids: indices whose bands are all 10 m (NDVI, EVI, WDRVI) are computed on the 10 m grid
with the 20 m SCL upsampled by :func:`imagery.scl.upsample_scl_to_10m`. Indices that need
a 20 m band (NDMI: B8A/B11; NDBI: B11/B08) are computed on the 20 m grid: 10 m bands are
block-averaged 2×2 down to 20 m (no spectral information is invented by upsampling), and
SCL is used at its native 20 m.

Storage: results go to the PostGIS table ``parcel_zonal`` (sql/009), not GeoParquet,
because (1) they join directly with the records (khasra, mouza, khewat) in SQL;
(2) each scene is written in one transaction, so an interrupted run never leaves a half
scene behind; (3) the primary key (khasra_id, scene_id, index) makes re-runs incremental:
scenes already computed for all parcels of the mouza are skipped.
:func:`parcel_series` reads the rows back as an ``xarray.Dataset`` (parcel × time).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pystac
import xarray as xr
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from imagery.catalog import asset_path, search
from imagery.indices import INDICES, L2A_OFFSET_PB0400, L2A_SCALE, compute
from imagery.phenology import SeasonMarks, season_marks_many
from imagery.scl import clear_mask, upsample_scl_to_10m
from landgov.errors import LandgovError
from landgov.progress import track
from landgov.storage.lookup import resolve_mouza

STAT_COLUMNS = ("mean", "median", "std", "count", "valid_fraction")
MIN_VALID = 0.5


def mouza_khasras(conn: Connection, mouza_id: int, as_of: date | None = None) -> gpd.GeoDataFrame:
    """Live khasras of the mouza (khasra_id, khasra_no, geom in EPSG:4326)."""
    from landgov.storage.read import mouza_parcels

    gdf = mouza_parcels(conn, mouza_id, as_of or date.today())
    return gdf[["khasra_id", "khasra_no", "geom"]].reset_index(drop=True)


def _bounds(parcels: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    if parcels.empty:
        raise LandgovError("the mouza has no live khasras with geometry")
    x0, y0, x1, y1 = parcels.total_bounds
    return float(x0), float(y0), float(x1), float(y1)


def scene_band_paths(item: pystac.Item, home: Path) -> dict[str, str]:
    """Band name → COG path of a catalogued scene."""
    return {k: str(asset_path(home, a.href)) for k, a in item.assets.items()}


def _read(path: str) -> tuple[np.ndarray, Any, Any, float | None]:
    import rasterio

    with rasterio.open(path) as src:
        return src.read(1), src.transform, src.crs, src.nodata


def _block_mean(a: np.ndarray) -> np.ndarray:
    h, w = a.shape[0] // 2 * 2, a.shape[1] // 2 * 2
    a = a[:h, :w]
    means: np.ndarray = a.reshape(h // 2, 2, w // 2, 2).mean(axis=(1, 3))
    return means


# Sentinel-2 L2A from processing baseline 04.00 (25 January 2022) carries BOA_ADD_OFFSET
# -1000; Landsat Collection 2 Level-2 surface reflectance is DN * 2.75e-5 - 0.2.
_PB0400_FROM = datetime(2022, 1, 25, tzinfo=UTC)
_LANDSAT_SCALE = 2.75e-5


def radiometry(item: pystac.Item) -> tuple[float, float]:
    """``(scale, offset)`` turning the scene's digital numbers into surface reflectance.

    Indices are normalised differences, but an additive offset does not cancel in them,
    so computing NDVI on raw L2A numbers (+1000) would bias every value low. The offset
    is decided by sensor and acquisition date, as the products define it; other sensors
    (orthophotos) are taken as given.
    """
    sensor = str(item.properties.get("landgov:sensor", ""))
    if sensor == "sentinel-2":
        when = item.datetime
        late = when is not None and when.astimezone(UTC) >= _PB0400_FROM
        return L2A_SCALE, (L2A_OFFSET_PB0400 if late else 0.0)
    if sensor.startswith("landsat"):
        return _LANDSAT_SCALE, -0.2 / _LANDSAT_SCALE
    return 1.0, 0.0


def scene_index(
    paths: Mapping[str, str], index: str, *, scale: float = 1.0, offset: float = 0.0
) -> tuple[np.ndarray, Any, Any]:
    """(index array with NaN where unusable, affine transform, CRS) of one scene."""
    try:
        _, names = INDICES[index.lower()]
    except KeyError:
        raise LandgovError(f"unknown index {index!r}; known: {sorted(INDICES)}") from None
    missing = [b for b in (*names, "SCL") if b not in paths]
    if missing:
        raise LandgovError(f"index {index} needs bands {missing} the scene lacks")
    coarse = any(b in ("B8A", "B11", "B12", "B05", "B06", "B07") for b in names)
    bands: dict[str, np.ndarray] = {}
    transform = crs = None
    bad: np.ndarray | None = None
    for b in names:
        arr, tr, c, nd = _read(paths[b])
        arr = arr.astype(np.float64)
        if nd is not None and not math.isnan(nd):
            arr[arr == nd] = np.nan
        is10 = abs(tr.a) < 15
        if coarse and is10:
            arr = _block_mean(arr)
            tr = tr * tr.scale(2, 2)
        bands[b] = arr
        if transform is None:
            transform, crs = tr, c
    scl, _, _, _ = _read(paths["SCL"])
    if not coarse:
        scl = upsample_scl_to_10m(scl)
    shape = next(iter(bands.values())).shape
    h, w = min(shape[0], scl.shape[0]), min(shape[1], scl.shape[1])
    bands = {k: v[:h, :w] for k, v in bands.items()}
    bad = ~np.asarray(clear_mask(scl[:h, :w]))
    with np.errstate(all="ignore"):
        values = np.asarray(compute(index, bands, scale=scale, offset=offset), dtype=np.float64)
    values[bad] = np.nan
    return values, transform, crs


def scene_zonal(
    paths: Mapping[str, str],
    parcels: gpd.GeoDataFrame,
    index: str,
    *,
    scale: float = 1.0,
    offset: float = 0.0,
) -> pd.DataFrame:
    """Zonal statistics of one scene's index for the parcels (one row per khasra_id).

    A pure function of files and geometries, so it runs unchanged on dask workers.
    """
    from imagery.zonal import zonal_stats

    values, transform, crs = scene_index(paths, index, scale=scale, offset=offset)
    geoms = gpd.GeoSeries(parcels.geometry.values, crs=parcels.crs or "EPSG:4326")
    if crs is not None:
        geoms = geoms.to_crs(crs)
    frame = zonal_stats(
        (values, transform),
        list(geoms.values),
        stats=list(STAT_COLUMNS),
        mask=~np.isfinite(values),
    )
    frame.insert(0, "khasra_id", parcels["khasra_id"].to_numpy())
    return frame.reset_index(drop=True)


def _none(v: Any) -> float | None:
    v = float(v)
    return None if math.isnan(v) else v


def write_scene(conn: Connection, scene_id: str, index: str, frame: pd.DataFrame) -> int:
    """Insert a scene's rows (skipping any already present); returns rows inserted.

    COPY into a temporary table, then one INSERT … ON CONFLICT DO NOTHING: a scene over a
    district is thousands of rows, which row-by-row INSERTs made the batch's bottleneck.
    """
    from landgov.storage.bulk import copy_rows

    conn.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS _zonal_in (LIKE parcel_zonal INCLUDING DEFAULTS)"
            " ON COMMIT DELETE ROWS"
        )
    )
    conn.execute(text("DELETE FROM _zonal_in"))
    cols = ("khasra_id", "scene_id", "index", "mean", "median", "std", "count",
            "valid_fraction")  # fmt: skip
    # plain tuples: the stubs cannot see itertuples' fields (``r.count`` reads as tuple.count)
    stats = frame[["khasra_id", "mean", "median", "std", "count", "valid_fraction"]]
    rows = (
        (int(k), scene_id, index, _none(mean), _none(median), _none(std), float(count),
         _none(valid))
        for k, mean, median, std, count, valid in stats.itertuples(index=False, name=None)
    )  # fmt: skip
    copy_rows(conn, "_zonal_in", cols, rows)
    res = conn.execute(
        text(
            f"INSERT INTO parcel_zonal ({', '.join(cols)}) SELECT {', '.join(cols)}"
            " FROM _zonal_in ON CONFLICT DO NOTHING"
        )
    )
    return int(res.rowcount)


def done_scenes(conn: Connection, khasra_ids: Iterable[int], index: str) -> set[str]:
    """Scenes for which every given khasra already has a row for ``index``."""
    ids = [int(k) for k in khasra_ids]
    if not ids:
        return set()
    rows = conn.execute(
        text(
            "SELECT scene_id FROM parcel_zonal WHERE index = :i AND khasra_id = ANY(:ids)"
            " GROUP BY scene_id HAVING count(*) >= :n"
        ),
        {"i": index, "ids": ids, "n": len(ids)},
    ).scalars()
    return set(rows)


def pending(
    engine: Engine,
    mouza: int | str,
    *,
    index: str,
    start: Any = None,
    end: Any = None,
) -> tuple[int, gpd.GeoDataFrame, list[pystac.Item]]:
    """(mouza id, its khasras, the Sentinel-2 scenes in range not yet computed)."""
    index = index.lower()
    if index not in INDICES:
        raise LandgovError(f"unknown index {index!r}; known: {sorted(INDICES)}")
    with engine.connect() as conn:
        mid = resolve_mouza(conn, mouza)
        parcels = mouza_khasras(conn, mid)
        bounds = _bounds(parcels)
        items = search(engine, bbox_or_geometry=bounds, start=start, end=end, sensor="sentinel-2")
        done = done_scenes(conn, parcels["khasra_id"], index)
    return mid, parcels, [i for i in items if i.id not in done]


def read_zonal(
    conn: Connection,
    *,
    khasra_ids: Iterable[int] | None = None,
    mouza_id: int | None = None,
    indices: Iterable[str] = ("ndvi",),
    start: Any = None,
    end: Any = None,
    stats: Sequence[str] = STAT_COLUMNS,
) -> pd.DataFrame:
    """Stored zonal rows (``parcel_zonal`` × scene date): the one read of per-parcel series.

    Give the khasras (``khasra_ids``) or a whole mouza (``mouza_id``). ``start`` / ``end``
    bound the scene time (a date means the whole day). Where two tiles of one date both
    hold a parcel, the one that sees more of it (larger ``count``) is kept, so every
    (khasra, index, date) has one row.

    Returns:
        DataFrame(khasra_id, index, time (naive UTC), then ``stats``: by default mean,
        median, std, count, valid_fraction), ordered by khasra, index and time; numbers as
        float (NaN = none). ``count`` is always read (it decides between tiles).
    """
    from imagery.catalog import _when

    if (khasra_ids is None) == (mouza_id is None):
        raise LandgovError("read_zonal: give khasra_ids or mouza_id")
    # Read through the driver's cursor, times as epoch microseconds: building a frame
    # from SQLAlchemy rows cost more than the query itself (1.2 M rows in the advisory
    # batch). The statement runs on the caller's connection, inside its transaction.
    unknown = [c for c in stats if c not in STAT_COLUMNS]
    if unknown:
        raise LandgovError(f"read_zonal: unknown statistics {unknown}; known: {STAT_COLUMNS}")
    wanted = [c for c in STAT_COLUMNS if c in stats or c == "count"]
    sql = (
        "SELECT z.khasra_id, z.index, (extract(epoch FROM s.datetime) * 1000000)::bigint, "
        + ", ".join(f"z.{c}" for c in wanted)
        + " FROM parcel_zonal z JOIN imagery_scene s ON s.id = z.scene_id"
        " WHERE z.index = ANY(%(ix)s)"
    )
    params: dict[str, Any] = {"ix": [i.lower() for i in indices]}
    if khasra_ids is not None:
        sql += " AND z.khasra_id = ANY(%(ids)s)"
        params["ids"] = [int(k) for k in khasra_ids]
    else:
        sql += " AND z.khasra_id IN (SELECT id FROM khasra WHERE mouza_id = %(m)s)"
        params["m"] = int(mouza_id)  # type: ignore[arg-type]
    if start is not None:
        sql += " AND s.datetime >= CAST(%(start)s AS timestamptz)"
        params["start"] = _when(start, end=False)
    if end is not None:
        sql += " AND s.datetime <= CAST(%(end)s AS timestamptz)"
        params["end"] = _when(end, end=True)
    cursor = conn.connection.cursor()
    try:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    finally:
        cursor.close()
    cols = list(zip(*rows, strict=True)) if rows else [()] * (3 + len(wanted))
    df = pd.DataFrame({
        "khasra_id": np.array(cols[0], dtype=np.int64),
        "index": np.array(cols[1], dtype=object),
        "time": pd.to_datetime(np.array(cols[2], dtype=np.int64), unit="us"),
        **{c: np.array(cols[3 + j], dtype=np.float64) for j, c in enumerate(wanted)},
    })  # fmt: skip
    df = df.sort_values("count", kind="stable").drop_duplicates(
        ["khasra_id", "index", "time"], keep="last"
    )
    return df.sort_values(["khasra_id", "index", "time"]).reset_index(drop=True)


def most_pixels(conn: Connection, khasra_ids: Iterable[int], index: str) -> dict[int, float]:
    """Each khasra's largest stored pixel ``count`` of ``index`` over every scene (the
    parcel's size on that index's grid); khasras with no stored row are left out."""
    rows = conn.execute(
        text(
            "SELECT khasra_id, max(count) FROM parcel_zonal WHERE index = :i"
            " AND khasra_id = ANY(:ids) GROUP BY 1"
        ),
        {"i": index.lower(), "ids": [int(k) for k in khasra_ids]},
    ).all()
    return {int(k): float(v) for k, v in rows if v is not None}


def read_series(
    engine: Engine,
    parcels: gpd.GeoDataFrame,
    *,
    index: str,
    start: Any = None,
    end: Any = None,
) -> xr.Dataset:
    """Stored rows of the parcels as a Dataset (parcel × time), from :func:`read_zonal`."""
    ids = parcels["khasra_id"].to_numpy(dtype=np.int64)
    with engine.connect() as conn:
        df = read_zonal(conn, khasra_ids=ids.tolist(), indices=[index], start=start, end=end)
    times = np.sort(df["time"].unique()).astype("datetime64[ns]")
    data = {}
    for col in STAT_COLUMNS:
        wide = (
            pd.DataFrame({"k": df["khasra_id"], "t": df["time"], "v": df[col]})
            .pivot_table(index="k", columns="t", values="v", aggfunc="first", dropna=False)
            .reindex(index=ids, columns=times)
            if not df.empty
            else pd.DataFrame(index=ids, columns=times, dtype=float)
        )
        data[col] = (("parcel", "time"), wide.to_numpy(dtype=np.float64))
    return xr.Dataset(
        data,
        coords={
            "parcel": np.arange(len(ids)),
            "khasra_id": ("parcel", ids),
            "khasra_no": ("parcel", parcels["khasra_no"].astype(str).to_numpy()),
            "time": times,
        },
        attrs={"index": index.lower()},
    )


def parcel_series(
    engine: Engine,
    *,
    mouza: int | str,
    index: str = "ndvi",
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    home: Path,
    progress: Any = None,
) -> xr.Dataset:
    """Compute (incrementally) and return per-parcel zonal statistics of ``index``.

    Scenes already stored for every khasra of the mouza are not recomputed. Returns a
    Dataset with dims (parcel, time), variables mean, median, std, count and
    valid_fraction, and coords khasra_id, khasra_no, time. See the module docstring.
    """
    index = index.lower()
    _, parcels, todo = pending(engine, mouza, index=index, start=start, end=end)
    for item in track(todo, f"zonal {index}", progress, total=len(todo)):
        scale, offset = radiometry(item)
        frame = scene_zonal(
            scene_band_paths(item, Path(home)), parcels, index, scale=scale, offset=offset
        )
        with engine.begin() as conn:
            write_scene(conn, item.id, index, frame)
    return read_series(engine, parcels, index=index, start=start, end=end)


def parcel_phenology(
    ds: xr.Dataset, *, min_valid: float = MIN_VALID, window: int = 5, order: int = 2
) -> pd.DataFrame:
    """Season start/peak/end per parcel from the mean series (Savitzky–Golay smoothed).

    Observations with valid_fraction below ``min_valid`` count as missing (NaN).
    """
    mean = ds["mean"].where(ds["valid_fraction"] >= min_valid)
    matrix = mean.transpose("parcel", "time").to_numpy()
    rows = []
    n = ds.sizes.get("time", 0)
    # a short series gets a shorter (odd) window and, if need be, a lower order
    window = min(window, n if n % 2 else n - 1)
    order = min(order, window - 2)
    if ds.sizes.get("parcel", 0) and order >= 1:
        marks = season_marks_many(ds["time"].to_numpy(), matrix, window=window, order=order)
    else:
        marks = [SeasonMarks.failed("too few observations")] * ds.sizes.get("parcel", 0)
    for i, m in enumerate(marks):
        rows.append(
            {
                "khasra_id": int(ds["khasra_id"].values[i]),
                "khasra_no": str(ds["khasra_no"].values[i]),
                "start": m.start,
                "peak": m.peak,
                "end": m.end,
                "amplitude": m.amplitude,
                "peak_value": m.peak_value,
                "reason": m.reason,
            }
        )
    cols = ["khasra_id", "khasra_no", "start", "peak", "end", "amplitude", "peak_value", "reason"]
    return pd.DataFrame(rows, columns=cols)
