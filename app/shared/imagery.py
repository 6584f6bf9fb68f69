"""The maps' imagery base layer, drawn from the project's own COGs (Parcels, Disputes and
Valuation pages).

No basemap and no CDN: the Sentinel-2 scene nearest the chosen date that intersects the
map is found in the catalog (:func:`imagery.catalog.search`) and drawn by
:func:`imagery.render.render_scene` as a PNG data URL for pydeck's BitmapLayer; this
module keeps the sidebar radio and the caches. Everything degrades to "no imagery"
(None, []) when the catalog is empty or the files are missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pydeck as pdk
import streamlit as st

from app.shared import data
from imagery.render import NDVI, TRUE_COLOUR

BASE_NONE, BASE_TRUE_COLOUR, BASE_NDVI = "none", TRUE_COLOUR, NDVI
BASE_LAYERS = (BASE_NONE, BASE_TRUE_COLOUR, BASE_NDVI)
IMAGERY_LAYER_ID = "imagery"
SENSOR = "sentinel-2"


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


@st.cache_data(ttl=3600, show_spinner=False, max_entries=32)
def rendered(
    url: str, home: str, scene_id: str, mode: str, bbox: tuple[float, float, float, float]
) -> str | None:
    """:func:`imagery.render.render_scene`: the scene in ``mode`` (true colour or NDVI)
    over ``bbox`` as a PNG data URL, or None when the scene or its band files cannot be
    read. Cached an hour: a stored scene does not change."""
    from imagery.render import render_scene

    return render_scene(data.engine(url), Path(home), scene_id, mode, bbox)


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
