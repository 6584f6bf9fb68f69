"""The map's layers as data (no Streamlit run): state land, boundary, khasra numbers, the
compact deck JSON and the legend."""

from __future__ import annotations

import json
from typing import Any

import geopandas as gpd
import pydeck as pdk
import pytest
import shapely
import shapely.affinity

from app.shared import maplayers, panels
from app.views.parcels import data


def test_polygons_keep_holes_and_parts_to_a_tenth_of_a_metre() -> None:
    square = shapely.box(74.0, 31.0, 74.001, 31.001)
    holed = square.difference(shapely.box(74.0004, 31.0004, 74.0006, 31.0006))
    far = shapely.box(74.01, 31.01, 74.011, 31.011)
    parts = list(maplayers.polygons(shapely.MultiPolygon([holed, far])))
    assert [len(rings) for rings in parts] == [2, 1]  # exterior and hole; a second part
    assert [74.011, 31.01] in parts[1][0]
    wobbly = shapely.box(74.00000004, 31.0, 74.1, 31.1)
    (rings,) = maplayers.polygons(wobbly)
    assert all(c == round(c, maplayers.COORD_DECIMALS) for point in rings[0] for c in point)
    assert list(maplayers.polygons(None)) == []
    assert list(maplayers.polygons(shapely.Polygon())) == []


def test_state_land_rows_take_their_category_style() -> None:
    gdf = gpd.GeoDataFrame(
        {"category": ["canal_row", "shamlat"]},
        geometry=[shapely.box(74, 31, 74.01, 31.001), shapely.box(74, 31.002, 74.002, 31.004)],
        crs="EPSG:4326",
    ).rename_geometry("geom")
    rows = maplayers.state_land_rows(gdf)
    assert [r["label"] for r in rows] == ["Canal right-of-way", "Shamlat (state record)"]
    canal = maplayers.STATE_LAND["canal_row"].rgb
    assert rows[0]["line_color"] == [*canal, 255]
    assert rows[0]["fill_color"] == [*canal, maplayers.STATE_LAND_FILL_ALPHA]
    fill, outline = (json.loads(la.to_json()) for la in maplayers.state_land_layers(rows))
    assert fill["pickable"] is False and outline["pickable"] is False  # a click: the parcel
    assert fill["stroked"] is False and outline["@@type"] == "LineLayer"
    assert len(outline["data"]) == 8  # two rectangles' sides, each in its category's colour
    assert {tuple(e["line_color"]) for e in outline["data"]} == {
        (*maplayers.STATE_LAND[c].rgb, 255) for c in ("canal_row", "shamlat")
    }


def test_segments_draw_each_shared_edge_once() -> None:
    left = shapely.box(74.0, 31.0, 74.001, 31.001)
    right = shapely.box(74.001, 31.0, 74.002, 31.001)
    rows = [{"polygon": rings} for g in (left, right) for rings in maplayers.polygons(g)]
    assert len(maplayers.ring_segments(rows)) == 8
    once = maplayers.ring_segments(rows, shared_once=True)
    assert len(once) == 7  # the common side once
    assert {frozenset((tuple(e["s"]), tuple(e["t"]))) for e in once} >= {
        frozenset(((74.001, 31.0), (74.001, 31.001)))
    }
    with pytest.raises(ValueError, match="shared"):
        maplayers.ring_segments([{"polygon": rows[0]["polygon"], "c": 1}], keep=("c",),
                                shared_once=True)  # fmt: skip
    line = maplayers.outline_layer(once, "edges", color=[0, 0, 0, 255], width_px=2)
    spec = json.loads(line.to_json())
    assert spec["widthUnits"] == "pixels" and spec["getSourcePosition"] == "@@=s"


def test_label_points_lie_inside_their_parcels() -> None:
    ell = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])  # centroid outside
    ell = shapely.affinity.scale(ell, 0.001, 0.001, origin=(0, 0))
    ell = shapely.affinity.translate(ell, 74.0, 31.0)
    assert not ell.contains(ell.centroid)
    gdf = gpd.GeoDataFrame(
        {"khasra_no": ["45//12/1"]}, geometry=[shapely.MultiPolygon([ell])], crs="EPSG:4326"
    ).rename_geometry("geom")
    (feature,) = json.loads(maplayers.label_points(gdf))["features"]
    assert feature["properties"] == {"khasra_no": "45//12/1"}
    assert ell.contains(shapely.Point(feature["geometry"]["coordinates"]))


def test_numbers_show_from_the_zoom_asked() -> None:
    """deck.gl's tile zoom is round(zoom) + zoomOffset; the one world tile exists from 0:
    the numbers show once round(zoom) >= -zoomOffset."""
    for from_zoom, offset in ((16.5, -17), (15.5, -16), (17.5, -18)):
        spec = json.loads(maplayers.label_layer("/media/x.json", from_zoom).to_json())
        assert spec["zoomOffset"] == offset
        shown_at = [z / 10 for z in range(100, 200) if round(z / 10 + 1e-9) + offset >= 0]
        assert min(shown_at) == from_zoom
    spec = json.loads(maplayers.label_layer("/media/x.json").to_json())
    assert (spec["minZoom"], spec["maxZoom"], spec["tileSize"]) == (0, 0, 512)
    assert spec["textCharacterSet"] == "0123456789/"  # a literal, not an expression


def test_the_deck_json_is_compact_and_the_same() -> None:
    rows = [{"polygon": [[[74.0, 31.0], [74.1, 31.0], [74.1, 31.1]]], "khasra_no": "1"}]
    layer = pdk.Layer("PolygonLayer", data=rows, id="p", get_polygon="polygon")
    deck = panels.offline_deck([layer], (74.0, 31.0, 74.1, 31.1), 600, "{khasra_no}")
    compact = deck.to_json()
    assert "\n" not in compact and ": " not in compact
    assert json.loads(compact) == json.loads(pdk.Deck.to_json(deck))  # pydeck's own, indented
    assert json.loads(compact)["mapStyle"] == "__MAP_STYLE__"  # still no basemap


def test_media_url_falls_back_to_inline_data() -> None:
    url = maplayers.media_url(b'{"a":1}', "application/json")  # no Streamlit runtime here
    assert url == "data:application/json;base64,eyJhIjoxfQ=="


def test_the_legend_lists_the_layers_drawn() -> None:
    overlays = data.Overlays(
        state_land=[{"category": "road_row"}, {"category": "canal_row"}, {"category": "road_row"}],
        boundary=[{"path": [[74, 31], [74.1, 31]]}],
    )
    assert overlays.categories == ["road_row", "canal_row"]  # the legend's order, once each
    from app.views.parcels import record

    sections = dict(record.map_legend(overlays, "12", ["Sentinel-2 true colour, 2026-04-30"]))
    assert [i.label for i in sections["State land"]] == ["Road right-of-way", "Canal right-of-way"]
    assert [i.kind for i in sections["State land"]] == ["outline", "outline"]
    on_map = [i.label for i in sections["On the map"]]
    assert on_map[:2] == ["Mouza boundary", "Selected: khasra 12"]
    html = panels.legend_items_html(sections["State land"])
    r, g, b = maplayers.STATE_LAND["road_row"].rgb
    assert f"border:3px solid rgb({r},{g},{b})" in html and "Road right-of-way" in html
    empty = dict(record.map_legend(data.Overlays([], []), None, []))
    assert empty["State land"] == [] and empty["Imagery"] == []
    assert [i.label for i in empty["On the map"]] == [
        "Khasra numbers: zoom in (scroll or double-click) to see them"
    ]


def test_each_pick_gets_a_new_parcel_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """Streamlit takes a click on the object its chart selected last for "unselect": after
    each pick the parcel layer has a new id, so clicking that parcel again (after typing
    another khasra) is a pick again, and a mouza's layer is never another's."""
    from app.views.parcels import record

    state: dict[str, Any] = {}
    monkeypatch.setattr(record.st, "session_state", state)
    assert record.parcel_layer_id(3) == "parcels-3-0"
    state["parcel_map"] = {
        "selection": {
            "indices": {"parcels-3-0": [5]},
            "objects": {"parcels-3-0": [{"khasra_no": "45//12"}]},
        }
    }
    record._apply_map_pick("parcel_map", "khasra_3")
    assert state["khasra_3"] == "45//12"
    assert record.parcel_layer_id(3) == "parcels-3-1" and record.parcel_layer_id(4) == "parcels-4-1"
    state["parcel_map"] = {"selection": {"indices": {}, "objects": {}}}  # unselected: no pick
    state["khasra_3"] = "7"
    record._apply_map_pick("parcel_map", "khasra_3")
    assert state["khasra_3"] == "7" and record.parcel_layer_id(3) == "parcels-3-1"


# --- maps drawn as pictures --------------------------------------------------------------


def test_the_value_picture_draws_the_rows_as_the_interactive_map_does() -> None:
    import pandas as pd

    from app.views.valuation import data as vd
    from imagery.picture import Polygons

    a = [[[74.0, 31.0], [74.001, 31.0], [74.001, 31.001], [74.0, 31.0]]]
    b = [[[74.001, 31.0], [74.002, 31.0], [74.002, 31.001], [74.001, 31.0]]]
    rows = pd.DataFrame(
        {
            "khasra_id": [7, 8],
            "fill_color": [[10, 20, 30, 200], [40, 50, 60, 100]],
            "polygon": [a, b],
        }
    )
    (values,) = vd.picture_overlays(rows, opacity=0.5)  # nothing selected
    assert isinstance(values, Polygons) and list(values.shapes) == [a, b]
    # the layer's opacity multiplies each fill's alpha, as deck.gl does
    assert list(values.fills or []) == [(10, 20, 30, 100), (40, 50, 60, 50)]
    assert list(values.outlines or []) == [vd.EDGE_RGBA] * 2 and values.width_px == 1
    values, picked = vd.picture_overlays(rows, opacity=1.0, selected=8, selected_px=3)
    assert list(picked.shapes) == [b] and picked.fills is None and picked.width_px == 3
    assert len(vd.picture_overlays(rows, opacity=1.0, selected=99)) == 1  # not valued here
    assert len(vd.picture_overlays(rows.iloc[:0], opacity=1.0, selected=7)) == 1


def test_the_case_picture_draws_parcels_selection_flags_and_rings() -> None:
    from app.views.cases import data as cd
    from imagery.picture import Markers, Polygons

    ring = [[74.0, 31.0], [74.001, 31.0], [74.001, 31.001], [74.0, 31.0]]
    square = {"type": "Polygon", "coordinates": [ring]}
    parcel = {"geojson": square, "role": "subject", "kind": "khasra", "label": "12", "id": 1}
    flag = {"geojson": square, "resolved": False, "rule": "overlap", "severity": "high"}
    flag |= {"measure": 12.5, "threshold": 1.0}
    drawn = cd.picture_overlays(
        cd.parcel_polygons([parcel]),
        cd.selected_polygons([parcel], None),  # nothing selected: no outline drawn
        cd.flag_polygons([flag]),
        cd.flag_markers([flag]),
    )
    assert [type(o) for o in drawn] == [Polygons, Polygons, Markers]
    outline, flagged, rings = drawn
    assert isinstance(outline, Polygons) and outline.width_px == cd.PARCEL_LINE_PX
    assert isinstance(flagged, Polygons) and flagged.width_px == cd.FLAG_MIN_LINE_PX
    red = cd.rule_color("overlap")
    assert list(flagged.fills or []) == [tuple(red)]
    assert list(flagged.outlines or []) == [(*red[:3], 255)]
    assert isinstance(rings, Markers) and rings.radius_px == cd.FLAG_MARKER_PX
    assert list(rings.colours) == [(*red[:3], 255)]
