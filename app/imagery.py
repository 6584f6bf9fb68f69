"""The map's imagery base layer and the per-parcel NDVI chart, from the project's own COGs.

No basemap and no CDN: the Sentinel-2 scene nearest the chosen date that intersects the
mouza is read with rasterio, reprojected onto an EPSG:4326 grid of the mouza's bounds and
drawn by pydeck's BitmapLayer from a PNG data URL. Everything here degrades to "no
imagery" (None, empty frames) when the catalog is empty or the files are missing.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import pydeck as pdk
import streamlit as st
from sqlalchemy import text

from app import data

BASE_NONE, BASE_TRUE_COLOUR, BASE_NDVI = "none", "true colour", "NDVI"
BASE_LAYERS = (BASE_NONE, BASE_TRUE_COLOUR, BASE_NDVI)
IMAGERY_LAYER_ID = "imagery"
SENSOR = "sentinel-2"
MIN_VALID = 0.5
MAX_PX = 1024
PIXEL_M = 10.0
# NDVI colour ramp, brown (bare) → yellow → green (dense canopy)
NDVI_STOPS = (0.0, 0.35, 0.8)
NDVI_COLOURS = ((140, 90, 45), (225, 210, 120), (30, 125, 45))


@dataclass(frozen=True)
class Scene:
    id: str
    when: datetime
    cloud_cover: float | None


@st.cache_data(ttl=data.CACHE_TTL_S, show_spinner=False)
def scenes(url: str, bbox: tuple[float, float, float, float]) -> list[Scene]:
    """Sentinel-2 scenes intersecting ``bbox``, oldest first; [] when there are none."""
    from imagery.catalog import search

    try:
        items = search(data.engine(url), bbox_or_geometry=bbox, sensor=SENSOR)
    except Exception:  # no imagery tables, or an unreadable catalog: no base layer
        return []
    out = []
    for item in items:
        if item.datetime is None:
            continue
        cloud = item.properties.get("eo:cloud_cover")
        out.append(Scene(item.id, item.datetime, None if cloud is None else float(cloud)))
    return out


def nearest(found: list[Scene], day: date) -> Scene | None:
    """The scene taken closest to ``day`` (the earlier one on a tie)."""
    if not found:
        return None
    return min(found, key=lambda s: abs((s.when.date() - day).days))


def grid_shape(bbox: tuple[float, float, float, float]) -> tuple[int, int]:
    """(width, height) in pixels of a ~10 m EPSG:4326 grid over ``bbox``, capped."""
    x0, y0, x1, y1 = bbox
    lat = math.radians((y0 + y1) / 2)
    width_m = max((x1 - x0) * 111_320 * math.cos(lat), PIXEL_M)
    height_m = max((y1 - y0) * 110_540, PIXEL_M)
    k = max(width_m, height_m) / PIXEL_M
    scale = min(1.0, MAX_PX / k)
    return max(2, round(width_m / PIXEL_M * scale)), max(2, round(height_m / PIXEL_M * scale))


def _warp(path: Path, bbox: tuple[float, float, float, float]) -> np.ndarray:
    import rasterio
    from rasterio.transform import from_bounds
    from rasterio.warp import Resampling, reproject

    width, height = grid_shape(bbox)
    out = np.full((height, width), np.nan, dtype=np.float32)
    with rasterio.open(path) as src:
        reproject(
            source=rasterio.band(src, 1),
            destination=out,
            src_nodata=src.nodata if src.nodata is not None else 0,
            dst_transform=from_bounds(*bbox, width, height),
            dst_crs="EPSG:4326",
            dst_nodata=np.nan,
            resampling=Resampling.bilinear,
        )
    return out


def stretch(rgb: np.ndarray, low: float = 2.0, high: float = 98.0) -> np.ndarray:
    """Bands × rows × cols reflectance → uint8 with one 2–98 % stretch for all bands.

    One shared range keeps the colour balance of the reflectances (a per-band stretch
    turns near-uniform bare soil or noise into false colours); the percentiles cut
    clouds and dark shadows from the range.
    """
    out = np.zeros(rgb.shape, dtype=np.uint8)
    ok = np.isfinite(rgb).all(axis=0)
    if not ok.any():
        return out
    lo, hi = np.percentile(rgb[:, ok], [low, high])
    span = hi - lo if hi > lo else 1.0
    scaled = np.clip((np.nan_to_num(rgb) - lo) / span, 0.0, 1.0) * 255
    out[:] = np.where(ok, scaled, 0).astype(np.uint8)
    return out


def ndvi_colours(ndvi: np.ndarray) -> np.ndarray:
    """NDVI (rows × cols) → 3 × rows × cols uint8 on the brown → green ramp."""
    v = np.nan_to_num(ndvi, nan=0.0)
    return np.stack(
        [np.interp(v, NDVI_STOPS, [c[i] for c in NDVI_COLOURS]) for i in range(3)]
    ).astype(np.uint8)


def png_data_url(rgb: np.ndarray, valid: np.ndarray) -> str:
    """3 × rows × cols uint8 plus a validity mask → a ``data:image/png;base64,`` URL."""
    from PIL import Image

    alpha = np.where(valid, 255, 0).astype(np.uint8)
    rgba = np.dstack([rgb[0], rgb[1], rgb[2], alpha])
    buf = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buf, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


@st.cache_data(ttl=3600, show_spinner=False, max_entries=32)
def rendered(
    url: str, home: str, scene_id: str, mode: str, bbox: tuple[float, float, float, float]
) -> str | None:
    """The scene in ``mode`` (true colour or NDVI) over ``bbox`` as a PNG data URL, or
    None when the scene or its band files cannot be read."""
    from imagery.catalog import asset_path, get_item
    from imagery.indices import ndvi
    from imagery.series import radiometry

    try:
        item = get_item(data.engine(url), scene_id)
        if item is None:
            return None
        scale, offset = radiometry(item)
        bands = ("B04", "B03", "B02") if mode == BASE_TRUE_COLOUR else ("B08", "B04")
        arrays = [_warp(asset_path(Path(home), item.assets[b].href), bbox) for b in bands]
    except Exception:  # missing band or file, unreadable raster: no base layer
        return None
    if mode == BASE_TRUE_COLOUR:
        refl = np.stack(arrays) * scale + offset
        valid = np.isfinite(refl).all(axis=0)
        return png_data_url(stretch(refl), valid)
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.asarray(ndvi(arrays[0], arrays[1], scale=scale, offset=offset), dtype=float)
    valid = np.isfinite(index)
    return png_data_url(ndvi_colours(index), valid)


def base_layer_choice(available: bool, *, key: str) -> str:
    """The sidebar radio; true colour by default when the mouza has scenes."""
    return str(
        st.radio(
            "Base layer",
            options=list(BASE_LAYERS),
            index=1 if available else 0,
            key=key,
            disabled=not available,
            help="Drawn from the project's own Sentinel-2 COGs, nearest the chosen date.",
        )
    )


def bitmap_layer(image_url: str, bbox: tuple[float, float, float, float]) -> pdk.Layer:
    x0, y0, x1, y1 = bbox
    return pdk.Layer(
        "BitmapLayer",
        id=IMAGERY_LAYER_ID,
        image=pdk.types.String(image_url),  # a plain str would be an accessor
        bounds=[x0, y0, x1, y1],
        pickable=False,
    )


def scene_caption(scene: Scene, mode: str) -> str:
    cloud = "unknown" if scene.cloud_cover is None else f"{scene.cloud_cover:.0f} %"
    return (
        f"Base layer: {mode}, Sentinel-2 scene of {scene.when:%Y-%m-%d}"
        f" ({scene.id}), cloud cover {cloud}."
    )


def base_layer(
    url: str, mouza_id: int, bbox: tuple[float, float, float, float], day: date
) -> pdk.Layer | None:
    """Draws the sidebar radio and returns the chosen base layer (None for none)."""
    from landgov.config import load_settings

    found = scenes(url, bbox)
    with st.sidebar:
        mode = base_layer_choice(bool(found), key=f"base_layer_{mouza_id}")
    scene = nearest(found, day)
    if mode == BASE_NONE or scene is None:
        return None
    image = rendered(url, str(load_settings().home), scene.id, mode, bbox)
    if image is None:
        st.caption(f"Base layer: the files of scene {scene.id} cannot be read.")
        return None
    st.caption(scene_caption(scene, mode))
    return bitmap_layer(image, bbox)


# --- per-parcel NDVI chart ---------------------------------------------------------------


@st.cache_data(ttl=data.CACHE_TTL_S, show_spinner=False)
def zonal_rows(url: str, mouza_id: int, index: str = "ndvi") -> pd.DataFrame:
    """Stored parcel_zonal rows of the mouza's khasras: khasra_id, time, mean, count,
    valid_fraction (empty when there are none or no such table)."""
    cols = ["khasra_id", "time", "mean", "count", "valid_fraction"]
    sql = (
        "SELECT z.khasra_id, s.datetime AS time, z.mean, z.count, z.valid_fraction"
        " FROM parcel_zonal z JOIN imagery_scene s ON s.id = z.scene_id"
        " JOIN khasra k ON k.id = z.khasra_id"
        " WHERE k.mouza_id = :m AND z.index = :i ORDER BY s.datetime"
    )
    try:
        with data.engine(url).connect() as conn:
            rows = conn.execute(text(sql), {"m": mouza_id, "i": index}).mappings().all()
    except Exception:
        return pd.DataFrame(columns=cols)
    df = pd.DataFrame(rows, columns=cols)
    if not df.empty:
        df["time"] = pd.to_datetime(df["time"], utc=True).dt.tz_localize(None)
        for c in ("mean", "count", "valid_fraction"):
            df[c] = pd.to_numeric(df[c], errors="coerce")
    return df


def parcel_series(rows: pd.DataFrame, khasra_id: int) -> pd.DataFrame:
    """One khasra's series: time, mean, valid_fraction, valid, smoothed (one row a date)."""
    df = rows[rows["khasra_id"] == khasra_id].copy()
    if df.empty:
        return pd.DataFrame(columns=["time", "mean", "valid_fraction", "valid", "smoothed"])
    df = df.sort_values(["time", "count"]).drop_duplicates("time", keep="last")
    df = df.reset_index(drop=True)
    df["valid"] = (df["valid_fraction"] >= MIN_VALID) & np.isfinite(df["mean"])
    df["smoothed"] = _smoothed(df)
    return df[["time", "mean", "valid_fraction", "valid", "smoothed"]]


def _smoothed(df: pd.DataFrame) -> np.ndarray:
    from imagery.phenology import smooth

    values = np.where(df["valid"], df["mean"], np.nan).astype(np.float64)
    n = len(values)
    window = min(5, n if n % 2 else n - 1)
    order = min(2, window - 2)
    if order < 1 or np.count_nonzero(np.isfinite(values)) < 2:
        return np.full(n, np.nan)
    try:
        return smooth(values, df["time"].to_numpy(), window=window, order=order)
    except ValueError:
        return np.full(n, np.nan)


def season_of(when: pd.Timestamp) -> str:
    """Punjab's crop seasons: kharif May–October, rabi November–April (named by harvest)."""
    if 5 <= when.month <= 10:
        return f"kharif {when.year}"
    return f"rabi {when.year + 1 if when.month >= 11 else when.year}"


def season_rules(series: pd.DataFrame) -> pd.DataFrame:
    """Start, peak and end of each season with marks (imagery.phenology.season_marks)."""
    from imagery.phenology import season_marks

    out: list[dict[str, Any]] = []
    if series.empty:
        return pd.DataFrame(columns=["time", "mark", "season"])
    for season, part in series.groupby(series["time"].map(season_of), sort=False):
        if len(part) < 3 or not np.isfinite(part["smoothed"]).all():
            continue
        raw = np.where(part["valid"], part["mean"], np.nan)
        try:
            marks = season_marks(part["time"].to_numpy(), part["smoothed"].to_numpy(), raw=raw)
        except ValueError:
            continue
        if not marks.ok:
            continue
        for name in ("start", "peak", "end"):
            out.append({"time": pd.Timestamp(getattr(marks, name)), "mark": name, "season": season})
    return pd.DataFrame(out, columns=["time", "mark", "season"])


def ndvi_chart(series: pd.DataFrame) -> alt.LayerChart:
    """Mean NDVI (clear observations only), the smoothed curve and season marks."""
    base = alt.Chart(series).encode(
        x=alt.X("time:T", title="Date"),
    )
    points = (
        base.transform_filter(alt.datum.valid)
        .mark_line(point=True, opacity=0.6)
        .encode(
            y=alt.Y("mean:Q", title="Mean NDVI", scale=alt.Scale(domain=[-0.1, 1.0])),
            tooltip=[
                alt.Tooltip("time:T", title="Date", format="%Y-%m-%d"),
                alt.Tooltip("mean:Q", title="NDVI", format=".3f"),
                alt.Tooltip("valid_fraction:Q", title="Clear", format=".0%"),
            ],
        )
    )
    curve = base.mark_line(color="#2e7d32", strokeWidth=2).encode(y="smoothed:Q")
    layers: list[alt.Chart] = [points, curve]
    rules = season_rules(series)
    if not rules.empty:
        layers.append(
            alt.Chart(rules)
            .mark_rule(strokeDash=[4, 3])
            .encode(
                x="time:T",
                color=alt.Color("mark:N", title="Season", sort=["start", "peak", "end"]),
                tooltip=["season:N", "mark:N", alt.Tooltip("time:T", format="%Y-%m-%d")],
            )
        )
    return alt.layer(*layers).properties(height=260)


def ndvi_panel(url: str, mouza_name: str, mouza_id: int, khasra_id: int, khasra_no: str) -> None:
    """The selected khasra's NDVI over time; never fails when imagery is absent."""
    st.subheader("NDVI over time")
    rows = zonal_rows(url, mouza_id)
    if rows.empty:
        st.info(f"No imagery series yet: run `landgov imagery series --mouza {mouza_name}`.")
        return
    series = parcel_series(rows, khasra_id)
    if series.empty:
        st.info(f"No NDVI observations of khasra {khasra_no} are stored yet.")
        return
    st.altair_chart(
        ndvi_chart(series), width="stretch", alt=f"NDVI of khasra {khasra_no} over time"
    )
    clear = int(series["valid"].sum())
    st.caption(
        f"{clear} of {len(series)} observations at least {MIN_VALID:.0%} clear; the line"
        " is Savitzky–Golay smoothed; dashed rules mark start, peak and end of season."
    )
