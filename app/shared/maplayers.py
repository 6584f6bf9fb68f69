"""What a mouza map draws besides its parcels, and how big files reach the browser.

- **State land** (shamlat, forest, a road's or a canal's right-of-way): filled faintly
  and outlined in its category's colour, so the parcels under it stay legible;
- **the mouza boundary**: a dark line on a white halo, legible on any imagery;
- **khasra numbers**: drawn only from :data:`LABELS_FROM_ZOOM` on. deck.gl has no
  "show from this zoom" property that Streamlit's JSON passes through, but its
  ``TileLayer`` shows nothing below ``minZoom``; with one world tile
  (``minZoom = maxZoom = 0``) and ``zoomOffset`` = −zoom, the layer loads its one tile
  (a GeoJSON file of label points, drawn as text by the tile's GeoJsonLayer) once the
  view is zoomed in that far, and drops it again when zoomed out. At the mouza's first
  view the parcels are 20–30 px across and their numbers would only be noise;
- **files** (the parcels, the imagery PNG, the labels' GeoJSON) go to the browser through
  Streamlit's media files (:func:`media_url`), under a URL derived from their content,
  instead of inside the map's JSON: a rerun (a click on a parcel) then sends a map
  whose heavy layers are the same URLs as before, which deck.gl neither fetches nor
  builds again. Only what changed (the selected khasra's outline) travels.

Every layer here is drawn, not picked (``pickable=False``): a click on the map always
lands on a parcel.

**Outlines** (a parcel's edge, state land, the boundary, the selected khasra) are drawn
as straight segments (:func:`ring_segments`, deck.gl's ``LineLayer``), never as
deck.gl's ``PathLayer`` (what a ``PolygonLayer``'s ``stroked`` draws). Measured in
Chromium without a GPU (software WebGL, as on an office PC whose graphics driver the
browser does not trust, and in ``bench/dashboard.py``): a single PathLayer, even of one
small ring, added 0.7–1.5 s to every map the page mounted, and a mouza's parcel strokes
as paths cost more than their fills; the same edges as a LineLayer cost a few tenths. A
segment has no joins: where a thick line turns, the outer corner shows a notch of half
its width. Round joints (a dot of the line's width at each vertex, a ``ScatterplotLayer``)
cost another 0.1–0.35 s of drawing per map there, more than a notch of 2 px is worth.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Final

import geopandas as gpd
import pydeck as pdk
import shapely
from shapely.geometry.base import BaseGeometry

RGB = tuple[int, int, int]
COORD_DECIMALS: Final = 6
"""Decimals of a longitude or latitude sent to the map: 0.1 m, finer than any survey."""


@dataclass(frozen=True)
class Category:
    label: str
    rgb: RGB


STATE_LAND: Final[MappingProxyType[str, Category]] = MappingProxyType(
    {
        "road_row": Category("Road right-of-way", (110, 70, 40)),  # brown: the road's strip
        "canal_row": Category("Canal right-of-way", (25, 100, 215)),  # blue: water
        "shamlat": Category("Shamlat (state record)", (120, 60, 170)),  # purple, as the class
        "forest": Category("Reserved forest", (10, 70, 30)),  # dark green
        "auqaf": Category("Auqaf property", (200, 110, 0)),  # amber
        "evacuee": Category("Evacuee trust property", (190, 40, 120)),  # magenta
    }
)
"""Each state-land category: its legend label and outline colour (in the legend's order)."""
STATE_LAND_FILL_ALPHA: Final = 60
STATE_LAND_LINE_PX: Final = 2.5
BOUNDARY_RGB: Final[RGB] = (15, 15, 15)
BOUNDARY_PX: Final = 3.0
HALO_PX: Final = 7.0
LABELS_FROM_ZOOM: Final = 16.5
"""Khasra numbers appear from this zoom on (about 1.4 m a pixel here, a killa ~45 px)."""
LABEL_PX: Final = 12
STATE_LAND_LAYER_ID: Final = "state-land"
BOUNDARY_LAYER_ID: Final = "mouza-boundary"
LABEL_LAYER_ID: Final = "khasra-numbers"


def _round(coords: Iterable[tuple[float, ...]]) -> list[list[float]]:
    return [[round(c[0], COORD_DECIMALS), round(c[1], COORD_DECIMALS)] for c in coords]


def polygons(geom: BaseGeometry | None) -> Iterator[list[list[list[float]]]]:
    """Each polygon of ``geom`` (multipolygon parts apart) as rings of [lon, lat]:
    exterior first, then the holes."""
    if geom is None or geom.is_empty:
        return
    for part in getattr(geom, "geoms", [geom]):
        if isinstance(part, shapely.Polygon):
            yield [_round(part.exterior.coords), *(_round(r.coords) for r in part.interiors)]


# --- state land -------------------------------------------------------------------------


def state_land_rows(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """One row per polygon of each piece of state land, for :func:`state_land_layers`:
    ``polygon``, ``category``, ``label``, ``line_color`` and ``fill_color``."""
    rows = []
    for rec in gdf.itertuples(index=False):
        category = str(rec.category)
        style = STATE_LAND.get(category, Category(category.replace("_", " "), (255, 0, 255)))
        for rings in polygons(rec.geom):
            rows.append(
                {
                    "polygon": rings,
                    "category": category,
                    "label": style.label,
                    "line_color": [*style.rgb, 255],
                    "fill_color": [*style.rgb, STATE_LAND_FILL_ALPHA],
                }
            )
    return rows


def state_land_layers(rows: list[dict[str, Any]]) -> list[pdk.Layer]:
    """The state land filled faintly, then outlined in its category's colour."""
    fill = pdk.Layer(
        "PolygonLayer",
        data=rows,
        id=STATE_LAND_LAYER_ID,
        get_polygon="polygon",
        get_fill_color="fill_color",
        filled=True,
        stroked=False,
        pickable=False,
    )
    edges = ring_segments(rows, keep=("line_color",))
    outline = outline_layer(
        edges, f"{STATE_LAND_LAYER_ID}-outline", color="line_color", width_px=STATE_LAND_LINE_PX
    )
    return [fill, outline]


# --- the mouza boundary -----------------------------------------------------------------


def boundary_paths(geoms: Iterable[BaseGeometry]) -> list[dict[str, Any]]:
    """Each ring of the boundary as a path (``{"path": [[lon, lat], ...]}``)."""
    return [{"path": ring} for geom in geoms for rings in polygons(geom) for ring in rings]


def boundary_layers(paths: list[dict[str, Any]]) -> list[pdk.Layer]:
    """A white halo, then the dark line on it: legible on fields and on imagery alike.
    The halo is opaque: a translucent one would darken where two of its segments
    overlap, at each vertex."""
    edges = path_segments(p["path"] for p in paths)
    return [
        outline_layer(edges, f"{BOUNDARY_LAYER_ID}-{part}", color=colour, width_px=width)
        for part, colour, width in (
            ("halo", [255, 255, 255, 255], HALO_PX),
            ("line", [*BOUNDARY_RGB, 255], BOUNDARY_PX),
        )
    ]


# --- outlines ---------------------------------------------------------------------------


Point = Sequence[float]


def path_segments(
    paths: Iterable[Sequence[Point]], extra: Mapping[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Each pair of consecutive points of each path as a segment row
    ``{"s": [lon, lat], "t": [lon, lat], **extra}`` (a ring is closed: its last point is
    its first, so its last edge is there too)."""
    more = dict(extra or {})
    return [
        {"s": list(a), "t": list(b), **more}
        for path in paths
        for a, b in itertools.pairwise(path)
        if list(a) != list(b)
    ]


def ring_segments(
    rows: Iterable[Mapping[Any, Any]],
    *,
    keep: Sequence[str] = (),
    shared_once: bool = False,
) -> list[dict[str, Any]]:
    """The edges of every ring of the rows' ``polygon`` (rings of [lon, lat], as
    :func:`polygons` gives them) as segment rows (:func:`path_segments`), each with the
    ``keep`` columns of its row (its colour, its tooltip).

    ``shared_once``: an edge two polygons share, in either direction, is drawn once.
    Neighbouring parcels share most of their edges, so a mouza's outline has about half
    the segments; only for outlines of one colour (a kept column would differ)."""
    if shared_once and keep:
        raise ValueError("shared_once draws a shared edge once: its rows' columns may differ")
    segments: list[dict[str, Any]] = []
    seen: set[tuple[tuple[float, ...], tuple[float, ...]]] = set()
    for row in rows:
        extra = {k: row[k] for k in keep}
        for edge in path_segments(row["polygon"], extra):
            if shared_once:
                a, b = tuple(edge["s"]), tuple(edge["t"])
                key = (a, b) if a <= b else (b, a)
                if key in seen:
                    continue
                seen.add(key)
            segments.append(edge)
    return segments


def outline_layer(
    segments: list[dict[str, Any]] | str,
    layer_id: str,
    *,
    color: Sequence[int] | str,
    width_px: float,
    opacity: float = 1.0,
    pickable: bool = False,
) -> pdk.Layer:
    """Lines of ``width_px`` screen pixels along ``segments`` (rows of
    :func:`path_segments`, or the URL of a JSON file of them), in ``color`` (RGBA, or the
    name of the segments' column holding one). ``pickable`` with the tooltip's columns
    kept in the segments: a strip thinner than a pixel still shows its tooltip on its
    outline."""
    return pdk.Layer(
        "LineLayer",
        data=segments,
        id=layer_id,
        get_source_position="s",
        get_target_position="t",
        get_color=color,
        width_units=pdk.types.String("pixels"),  # a plain str would be an accessor
        get_width=width_px,
        opacity=opacity,
        pickable=pickable,
    )


# --- khasra numbers ---------------------------------------------------------------------


def label_points(gdf: gpd.GeoDataFrame) -> bytes:
    """The khasra numbers as a GeoJSON FeatureCollection of points, one per khasra, each
    inside its parcel (shapely's representative point: a centroid can fall outside an L
    or a strip). UTF-8 bytes, ready for :func:`media_url`."""
    features = []
    for rec in gdf.itertuples(index=False):
        geom = rec.geom
        if geom is None or geom.is_empty:
            continue
        parts = getattr(geom, "geoms", [geom])
        point = max(parts, key=lambda p: p.area).representative_point()
        features.append(
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": _round([(point.x, point.y)])[0]},
                "properties": {"khasra_no": str(rec.khasra_no)},
            }
        )
    return json_bytes({"type": "FeatureCollection", "features": features})


def label_layer(url: str, from_zoom: float = LABELS_FROM_ZOOM) -> pdk.Layer:
    """The khasra numbers of the GeoJSON at ``url``, shown from zoom ``from_zoom`` on.

    One world tile: the tile zoom is ``round(zoom) + zoomOffset`` (512 px tiles); below
    ``minZoom`` 0 the TileLayer draws nothing, from it on the tile is clamped to
    ``maxZoom`` 0, whose one tile is the whole file. So the numbers appear when
    ``round(zoom) >= -zoomOffset``: from ``from_zoom``, which is therefore a half zoom
    level (16.5: from 16.5 on; 16 acts as 15.5)."""
    offset = -math.floor(from_zoom + 0.5)
    return pdk.Layer(
        "TileLayer",
        id=LABEL_LAYER_ID,
        data=url,
        min_zoom=0,
        max_zoom=0,
        zoom_offset=offset,
        tile_size=512,
        pickable=False,
        # what the tile's GeoJsonLayer draws: its points as text only
        point_type=pdk.types.String("text"),
        get_text="properties.khasra_no",
        get_text_size=LABEL_PX,
        text_size_units=pdk.types.String("pixels"),
        get_text_color=[20, 20, 20, 255],
        text_outline_width=3,
        text_outline_color=[255, 255, 255, 235],
        text_font_family=pdk.types.String("Source Sans Pro, Helvetica, Arial, sans-serif"),
        text_font_weight=600,
        text_font_settings={"sdf": True},
        text_character_set=pdk.types.String("0123456789/"),  # a khasra number: digits, /
        get_text_anchor=pdk.types.String("middle"),
        get_text_alignment_baseline=pdk.types.String("center"),
    )


# --- files for the browser --------------------------------------------------------------


def json_bytes(value: Any) -> bytes:
    """``value`` as compact UTF-8 JSON, the form the map's files take."""
    return json.dumps(value, separators=(",", ":")).encode()


def data_url(data: bytes, mimetype: str) -> str:
    """``data`` inline, as a ``data:`` URL (base64)."""
    return f"data:{mimetype};base64," + base64.b64encode(data).decode("ascii")


def media_url(data: bytes, mimetype: str) -> str:
    """A URL the browser fetches ``data`` from: a Streamlit media file of this session
    (its name is the content's hash, so an unchanged file keeps its URL: the browser
    does not fetch it again and deck.gl keeps the layer built from it); a ``data:`` URL
    where no Streamlit runtime serves files.

    The file is registered again on every run that shows it (Streamlit drops a session's
    files that its last run did not use), under a name made from the content, so two
    files of one run never take each other's place.
    """
    from streamlit import runtime

    if not runtime.exists():
        return data_url(data, mimetype)
    name = "landgov-" + hashlib.sha1(data, usedforsecurity=False).hexdigest()
    return runtime.get_instance().media_file_mgr.add(data, mimetype, name)
