"""The maps' imagery base layer, drawn from the project's own COGs (Parcels, Disputes and
Valuation pages).

No basemap and no CDN. Which Sentinel-2 scene is drawn is decided by
:func:`imagery.catalog.choose_scene`: the nearest scene to the chosen date that sees the
mouza clear (its parcels' stored clear fraction from the zonal batch, else the tile's
cloud cover), within two months; else the clearest there. So a past date no longer lays a
54 %-cloud scene over the parcels because it happened to be the nearest. Where an
orthophoto covers part of the map, the one taken nearest the date is drawn over the
Sentinel-2 scene there (0.5 m against 10 m).

A picture is rendered once (:func:`imagery.render.render_png`, cached an hour: a stored
scene does not change) and sent as a media file (:func:`app.shared.maplayers.media_url`),
not inside the map's JSON: a rerun (a click on a parcel) sends a URL the browser already
has. This module keeps the sidebar radio, the choice and the caches; everything degrades
to "no imagery" (None, no layer) when the catalog is empty or the files are missing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Final

import pydeck as pdk
import streamlit as st

from app.shared import context, data, i18n, maplayers
from imagery.catalog import SceneChoice, SceneSummary
from imagery.render import NDVI, TRUE_COLOUR

BASE_NONE, BASE_TRUE_COLOUR, BASE_NDVI = "none", TRUE_COLOUR, NDVI
BASE_LAYERS = (BASE_NONE, BASE_TRUE_COLOUR, BASE_NDVI)
IMAGERY_LAYER_ID = "imagery"
ORTHO_LAYER_ID = "orthophoto"
SENSOR = "sentinel-2"
ORTHO_SENSOR = "orthophoto"
ORTHO_PIXEL_M: Final = 1.0
"""The orthophoto's picture: 1 m a pixel (its own is 0.5 m; the map's first view shows
about 2 m a pixel), at most 1024 px a side."""
IMAGERY_TTL_S: Final = 600
"""Scenes are ingested by a batch, not by officers: ten minutes is fresh enough."""

Bounds = tuple[float, float, float, float]


@st.cache_data(ttl=IMAGERY_TTL_S, show_spinner=False)
def scenes(url: str, bbox: Bounds, sensor: str = SENSOR) -> list[SceneSummary]:
    """Scenes of ``sensor`` intersecting ``bbox``, oldest first; [] when there are none."""
    from imagery.catalog import scene_summaries

    try:
        return scene_summaries(data.engine(url), bbox_or_geometry=bbox, sensor=sensor)
    except Exception:  # no imagery tables, or an unreadable catalog: no base layer
        return []


@st.cache_data(ttl=IMAGERY_TTL_S, show_spinner=False)
def clear_fractions(url: str, mouza_id: int) -> dict[str, float]:
    """:func:`imagery.catalog.clear_fractions` of the mouza ({} when unknown)."""
    from imagery.catalog import clear_fractions as read

    try:
        return read(data.engine(url), mouza_id)
    except Exception:  # no zonal table: the tile's cloud cover decides alone
        return {}


def choose(url: str, mouza_id: int, bbox: Bounds, day: date) -> SceneChoice | None:
    """The Sentinel-2 scene the map of ``day`` draws (:func:`imagery.catalog.choose_scene`)."""
    from imagery.catalog import choose_scene

    return choose_scene(scenes(url, bbox), day, clear_fractions(url, mouza_id))


def nearest_orthophoto(url: str, bbox: Bounds, day: date) -> SceneSummary | None:
    """The orthophoto over ``bbox`` taken nearest ``day`` (the earlier on a tie)."""
    found = scenes(url, bbox, ORTHO_SENSOR)
    if not found:
        return None
    return min(found, key=lambda s: (abs((s.when.date() - day).days), s.when))


@st.cache_data(ttl=3600, show_spinner=False, max_entries=64)
def rendered(
    url: str,
    home: str,
    scene_id: str,
    mode: str,
    bbox: Bounds,
    pixel_m: float = 10.0,
) -> bytes | None:
    """:func:`imagery.render.render_png`: the scene in ``mode`` over ``bbox`` as PNG
    bytes, or None when the scene or its band files cannot be read. Cached an hour."""
    from imagery.render import render_png

    return render_png(data.engine(url), Path(home), scene_id, mode, bbox, pixel_m)


MODE_NAMES: Final = {
    BASE_NONE: "map.mode.none",
    BASE_TRUE_COLOUR: "map.mode.true_colour",
    BASE_NDVI: "map.mode.ndvi",
}
"""Each base layer's name in the catalogue (the value stays the code: tests and state)."""
RULES: Final = {
    "nearest_clear": "map.rule.nearest_clear",
    "clearest": "map.rule.clearest",
    "nearest": "map.rule.nearest",
}
"""Why a scene was chosen (:class:`imagery.catalog.SceneChoice` ``rule``), in words."""


def base_layer_choice(available: bool, *, key: str) -> str:
    """The sidebar radio; true colour by default when the mouza has scenes."""
    _ = i18n.Words(context.language())
    return str(
        st.radio(
            _("map.base_layer"),
            options=list(BASE_LAYERS),
            format_func=lambda mode: _(MODE_NAMES[mode]),
            index=1 if available else 0,
            key=key,
            disabled=not available,
            help=_("map.base_layer_help"),
        )
    )


def bitmap_layer(image_url: str, bbox: Bounds, layer_id: str = IMAGERY_LAYER_ID) -> pdk.Layer:
    x0, y0, x1, y1 = bbox
    return pdk.Layer(
        "BitmapLayer",
        id=layer_id,
        image=pdk.types.String(image_url),  # a plain str would be an accessor
        bounds=[x0, y0, x1, y1],
        pickable=False,
    )


def _percent(fraction: float | None, lang: str) -> str:
    if fraction is None:
        return i18n.t("map.unknown", lang)
    return i18n.number(100 * fraction, lang) + " %"


def _day(when: date, lang: str) -> str:
    """A scene's date as the register writes it (2026-04-30), in the language's digits."""
    return i18n.record_number(f"{when:%Y-%m-%d}", lang)


def scene_caption(choice: SceneChoice, mode: str, lang: str = i18n.DEFAULT) -> str:
    """What the base layer shows and why that scene: its date, how clear it sees the
    mouza, and the nearer scene it was preferred to."""
    _ = i18n.Words(lang)
    scene = choice.scene
    cloud = (
        _("map.unknown")
        if scene.cloud_cover is None
        else i18n.number(scene.cloud_cover, lang) + " %"
    )
    text = _(
        "map.scene_caption",
        mode=_(MODE_NAMES[mode]),
        day=_day(scene.when, lang),
        scene=i18n.isolate(scene.id, lang),
        why=_(RULES[choice.rule]),
        clear=_percent(choice.clear, lang),
        cloud=cloud,
    )
    passed = choice.passed_over
    if passed is not None:
        text += _(
            "map.passed_over",
            day=_day(passed.when, lang),
            clear=_percent(choice.passed_over_clear, lang),
        )
    return text + _("map.full_stop")


@dataclass(frozen=True)
class BaseImagery:
    """The imagery of a map, bottom first: each picture as (its layer id, PNG bytes, the
    bounds it covers); what each shows (captions and legend lines), and the Sentinel-2
    choice (None: no scene drawn)."""

    pictures: list[tuple[str, bytes, Bounds]] = field(default_factory=list)
    captions: list[str] = field(default_factory=list)
    legend: list[str] = field(default_factory=list)
    choice: SceneChoice | None = None

    @property
    def layers(self) -> list[pdk.Layer]:
        """The pictures as an interactive map's bitmap layers, each a file the browser
        fetches (:func:`app.shared.maplayers.media_url`): made only when a map asks for
        them, so a map drawn as a picture registers no file it never sends."""
        return [
            bitmap_layer(maplayers.media_url(png, "image/png"), bounds, layer_id)
            for layer_id, png, bounds in self.pictures
        ]

    @property
    def under(self) -> tuple[tuple[bytes, Bounds], ...]:
        """The pictures as :func:`imagery.picture.compose` lays them under a map."""
        return tuple((png, bounds) for _id, png, bounds in self.pictures)


def _overlap(a: Bounds, b: Bounds) -> Bounds | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[2], b[2]), min(a[3], b[3])
    return (x0, y0, x1, y1) if x0 < x1 and y0 < y1 else None


def base_imagery(
    url: str, mouza_id: int, bbox: Bounds, day: date, *, orthophoto: bool = True
) -> BaseImagery:
    """Draws the sidebar radio; returns the chosen imagery for a map of ``bbox`` on
    ``day``: the cloud-aware Sentinel-2 scene, and (``orthophoto``) the orthophoto
    nearest the day over the part of the map it covers."""
    from landgov.config import load_settings

    found = scenes(url, bbox)
    ortho = nearest_orthophoto(url, bbox, day) if orthophoto else None
    with st.sidebar:
        mode = base_layer_choice(bool(found) or ortho is not None, key=f"base_layer_{mouza_id}")
    if mode == BASE_NONE:
        return BaseImagery()
    home = str(load_settings().home)
    lang = context.language()
    _ = i18n.Words(lang)
    out = BaseImagery(choice=choose(url, mouza_id, bbox, day))
    if out.choice is not None:
        png = rendered(url, home, out.choice.scene.id, mode, bbox)
        if png is None:
            out.captions.append(_("map.unreadable", scene=i18n.isolate(out.choice.scene.id, lang)))
        else:
            out.pictures.append((IMAGERY_LAYER_ID, png, bbox))
            out.captions.append(scene_caption(out.choice, mode, lang))
            out.legend.append(
                _(
                    "map.legend_scene",
                    mode=_(MODE_NAMES[mode]),
                    day=_day(out.choice.scene.when, lang),
                )
            )
    part = None if ortho is None else _overlap(bbox, ortho.bounds)
    if ortho is not None and part is not None:
        png = rendered(url, home, ortho.id, mode, part, ORTHO_PIXEL_M)
        if png is not None:
            out.pictures.append((ORTHO_LAYER_ID, png, part))
            out.captions.append(
                _(
                    "map.ortho_caption",
                    day=_day(ortho.when, lang),
                    scene=i18n.isolate(ortho.id, lang),
                )
            )
            out.legend.append(
                _("map.legend_ortho", mode=_(MODE_NAMES[mode]), day=_day(ortho.when, lang))
            )
    return out
