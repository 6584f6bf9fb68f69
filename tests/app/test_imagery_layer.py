"""The map's imagery base layer, its choice of scene, and the per-parcel NDVI chart
(AppTest, no browser)."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from dashboard_support import ROOT, TinyMouza, database_url, owner, sign_in
from map_support import inline_files, url_bytes  # noqa: F401  # inline_files: a fixture
from PIL import Image
from security_support import service_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import imagery
from app.views.parcels import data as parcels_data

sys.path.insert(0, str(ROOT / "tests" / "imagery"))
from catalog_support import LAT, LON, s2_scene

from imagery.ingest import ingest

PointAt = Callable[[str], None]
S2_ID = "S2_T43RCQ_20250115T054211_L2A"


def run_app(engine: Engine) -> AppTest:
    """The dashboard, signed in as a revenue analyst (who reads every mouza's map)."""
    return sign_in(engine, staff_actor(engine, "revenue_analyst"))


def deck_specs(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]


def assert_no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def texts(at: AppTest) -> str:
    kinds = ("subheader", "markdown", "caption", "info", "warning", "error")
    return "\n".join(str(el.value) for kind in kinds for el in at.get(kind))


def move_mouza_onto_scene(engine: Engine) -> None:
    """Shift the tiny mouza (74.30E 31.50N) inside the tiny scene (73.98E 31.71N, 200 m)."""
    with owner(engine).begin() as conn:
        conn.execute(
            text("UPDATE khasra SET geom = ST_Translate(geom, :dx, :dy)"),
            {"dx": LON + 0.0002 - 74.3, "dy": LAT - 0.0015 - 31.5},
        )


def test_without_imagery_base_layer_is_none(
    engine: Engine,
    tiny_mouza: TinyMouza,
    point_app_at: PointAt,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_app_at(database_url(engine))  # first: it sets the owner's URL beside it
    monkeypatch.setenv("LANDGOV_HOME", str(tmp_path))
    at = run_app(engine)
    assert_no_exception(at)
    radio = at.sidebar.radio(key=f"base_layer_{tiny_mouza.mouza_id}")
    assert radio.value == imagery.BASE_NONE
    layers = [layer["@@type"] for spec in deck_specs(at) for layer in spec["layers"]]
    assert "BitmapLayer" not in layers
    at = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}").select("11").run()
    assert_no_exception(at)
    assert "no imagery series yet" in texts(at).lower()
    commands = " ".join(str(c.value) for c in at.code)  # shown as a block to copy
    assert "landgov imagery series --mouza 'Kot Test'" in commands


@pytest.mark.usefixtures("inline_files")
def test_ingested_scene_is_a_bitmap_base_layer(
    engine: Engine,
    tiny_mouza: TinyMouza,
    point_app_at: PointAt,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = tmp_path / "home"
    point_app_at(database_url(engine))  # first: it sets the owner's URL beside it
    monkeypatch.setenv("LANDGOV_HOME", str(home))
    move_mouza_onto_scene(engine)
    ingest(engine, s2_scene(tmp_path / "in"), home=home, actor=service_actor(engine, "imagery"))
    at = run_app(engine)
    assert_no_exception(at)
    key = f"base_layer_{tiny_mouza.mouza_id}"
    assert at.sidebar.radio(key=key).value == imagery.BASE_TRUE_COLOUR
    for mode in (imagery.BASE_TRUE_COLOUR, imagery.BASE_NDVI):
        at = at.sidebar.radio(key=key).set_value(mode).run()
        assert_no_exception(at)
        (spec,) = deck_specs(at)
        bitmaps = [layer for layer in spec["layers"] if layer["@@type"] == "BitmapLayer"]
        assert len(bitmaps) == 1
        assert bitmaps[0]["image"].startswith("data:image/png;base64,")
        png = Image.open(io.BytesIO(url_bytes(bitmaps[0]["image"])))
        alpha = np.asarray(png.convert("RGBA"))[..., 3]
        assert alpha.any(), "the scene covers the mouza, so some pixels are drawn"
        assert spec["layers"][0]["@@type"] == "BitmapLayer"  # under the parcels
        assert "scene of 2025-01-15" in texts(at) and "tile cloud cover 25 %" in texts(at)
        assert "the nearest scene (none within two months)" in texts(at)  # today: far off
    at = at.sidebar.radio(key=key).set_value(imagery.BASE_NONE).run()
    layers = [layer["@@type"] for spec in deck_specs(at) for layer in spec["layers"]]
    assert "BitmapLayer" not in layers


def test_the_base_layer_is_the_clearest_scene_near_the_date(
    engine: Engine,
    tiny_mouza: TinyMouza,
    point_app_at: PointAt,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A nearer but cloudy scene is passed over for a clear one within two months; the
    parcels' own clear fraction (zonal rows) outranks the tile's cloud cover; and the
    picture travels as a media file, not inside the map's JSON."""
    import streamlit as st

    home = tmp_path / "home"
    point_app_at(database_url(engine))
    monkeypatch.setenv("LANDGOV_HOME", str(home))
    move_mouza_onto_scene(engine)
    for stamp in ("20250115T054211", "20250214T054211"):
        ingest(
            engine,
            s2_scene(tmp_path / stamp, stamp=stamp),
            home=home,
            actor=service_actor(engine, "imagery"),
        )
    feb = "S2_T43RCQ_20250214T054211_L2A"
    with owner(engine).begin() as conn:
        conn.execute(
            text("UPDATE imagery_scene SET cloud_cover = CASE id WHEN :feb THEN 60 ELSE 5 END"),
            {"feb": feb},
        )
    at = run_app(engine)
    at = at.sidebar.date_input(key="as_of").set_value(date(2025, 2, 20)).run()
    assert_no_exception(at)
    page = texts(at)
    assert "scene of 2025-01-15" in page and "the nearest clear scene" in page
    assert "95 % of the mouza clear" in page
    assert "the nearer scene of 2025-02-14 was passed over (40 % clear)" in page
    (spec,) = deck_specs(at)
    (bitmap,) = [la for la in spec["layers"] if la["@@type"] == "BitmapLayer"]
    assert bitmap["image"].startswith("/mock/media/") and bitmap["image"].endswith(".png")

    # the zonal batch saw the mouza's parcels clear on 14 February: that scene, then
    with owner(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO parcel_zonal (khasra_id, scene_id, index, mean, median, std, count,"
                " valid_fraction) SELECT id, :feb, 'ndvi', 0.5, 0.5, 0.1, 10, 0.98 FROM khasra"
            ),
            {"feb": feb},
        )
    st.cache_data.clear()
    at.run()
    page = texts(at)
    assert "scene of 2025-02-14" in page and "98 % of the mouza clear" in page
    assert "passed over" not in page


def test_ndvi_chart_renders_from_stored_rows(
    engine: Engine,
    tiny_mouza: TinyMouza,
    point_app_at: PointAt,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    point_app_at(database_url(engine))  # first: it sets the owner's URL beside it
    monkeypatch.setenv("LANDGOV_HOME", str(tmp_path))
    days = pd.date_range("2024-11-01", periods=12, freq="14D")
    curve = 0.2 + 0.6 * np.exp(-(((np.arange(12) - 6) / 2.5) ** 2))
    with owner(engine).begin() as conn:
        for i, day in enumerate(days):
            sid = f"S2_TEST_{i:02d}"
            item = {"type": "Feature", "id": sid, "properties": {"datetime": day.isoformat()}}
            conn.execute(
                text(
                    "INSERT INTO imagery_scene (id, sensor, collection, datetime, footprint,"
                    " crs, content_sha256, item) VALUES (:id, 'sentinel-2', 'sentinel-2-l2a', :dt,"
                    " ST_Multi(ST_MakeEnvelope(74.29, 31.49, 74.31, 31.51, 4326)),"
                    " 'EPSG:32643', :sha, CAST(:item AS jsonb))"
                ),
                {
                    "sha": f"{i:064x}",
                    "id": sid,
                    "dt": day.to_pydatetime(),
                    "item": json.dumps(item),
                },
            )
            conn.execute(
                text(
                    "INSERT INTO parcel_zonal (khasra_id, scene_id, index, mean, median, std,"
                    " count, valid_fraction) VALUES (1, :s, 'ndvi', :m, :m, 0.01, 40, :v)"
                ),
                {"s": sid, "m": float(curve[i]), "v": 0.2 if i == 3 else 1.0},
            )
    at = run_app(engine)
    at = at.selectbox(key=f"khasra_{tiny_mouza.mouza_id}").select("11").run()
    assert_no_exception(at)
    assert "NDVI over time" in texts(at)
    charts = [json.loads(el.proto.spec) for el in at.get("vega_lite_chart")]
    ndvi = [c for c in charts if "Mean NDVI" in json.dumps(c)]
    assert ndvi, "expected the NDVI chart"
    marks = [layer["mark"]["type"] for layer in ndvi[0]["layer"]]
    assert marks == ["line", "line", "rule"]  # observations, smoothed curve, season marks
    assert "11 of 12 observations" in texts(at)

    rows = parcels_data.zonal_rows.__wrapped__(database_url(engine), tiny_mouza.mouza_id)
    series = parcels_data.parcel_series(rows, 1)
    assert len(series) == 12 and not series["valid"].iloc[3]
    rules = parcels_data.season_rules(series)
    assert list(rules["mark"]) == ["start", "peak", "end"]
