"""Which scene a map draws: :func:`imagery.catalog.choose_scene` and the reads it uses."""

from __future__ import annotations

import io
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from catalog_support import LAT, LON, s2_scene
from PIL import Image
from security_support import owner_engine, service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from imagery.catalog import (
    CLEAR_ENOUGH,
    SceneSummary,
    choose_scene,
    clarity,
    clear_fractions,
    scene_summaries,
)
from imagery.ingest import ingest
from imagery.render import NDVI, TRUE_COLOUR, render_png

DAY = date(2026, 3, 5)
BOX = (74.0, 31.0, 74.1, 31.1)


def scene(days: int, cloud: float | None, sid: str | None = None) -> SceneSummary:
    when = datetime(2026, 3, 5, 5, 56, tzinfo=UTC) + timedelta(days=days)
    return SceneSummary(sid or f"S{days:+d}", "sentinel-2", when, cloud, BOX)


def test_the_nearest_clear_scene_beats_a_nearer_cloudy_one() -> None:
    found = [scene(-20, 2.0), scene(-2, 54.0), scene(3, 30.0), scene(25, 0.0)]
    choice = choose_scene(found, DAY)
    assert choice is not None
    assert (choice.scene.id, choice.rule) == ("S-20", "nearest_clear")
    assert choice.clear == pytest.approx(0.98)
    assert choice.passed_over is not None and choice.passed_over.id == "S-2"
    assert choice.passed_over_clear == pytest.approx(0.46)


def test_a_clear_nearest_scene_is_simply_taken() -> None:
    choice = choose_scene([scene(-20, 0.0), scene(1, 5.0), scene(4, 0.0)], DAY)
    assert choice is not None
    assert (choice.scene.id, choice.rule, choice.passed_over) == ("S+1", "nearest_clear", None)


def test_without_a_clear_scene_the_clearest_in_the_window() -> None:
    choice = choose_scene([scene(-50, 40.0), scene(-3, 70.0), scene(10, 35.0)], DAY)
    assert choice is not None
    assert (choice.scene.id, choice.rule) == ("S+10", "clearest")
    assert choice.passed_over is not None and choice.passed_over.id == "S-3"


def test_beyond_two_months_the_nearest_whatever_its_clouds() -> None:
    choice = choose_scene([scene(-200, 0.0), scene(90, 80.0)], DAY)
    assert choice is not None
    assert (choice.scene.id, choice.rule) == ("S+90", "nearest")
    assert choose_scene([], DAY) is None


def test_the_parcels_clear_fraction_outranks_the_tiles_cloud_cover() -> None:
    """A 60 %-cloud tile can see the mouza clear (the clouds are elsewhere), and a clear
    tile can hide it under its one cloud."""
    near, far = scene(-2, 60.0), scene(-15, 0.0)
    assert clarity(near, {}) == pytest.approx(0.4)
    choice = choose_scene([near, far], DAY, {near.id: 0.97, far.id: 0.2})
    assert choice is not None and (choice.scene.id, choice.clear) == (near.id, 0.97)
    choice = choose_scene([near, far], DAY, {near.id: 0.5})
    assert choice is not None and choice.scene.id == far.id  # far: 100 % by its tile


def test_unknown_clarity_is_no_better_than_a_measurement() -> None:
    unknown, cloudy = scene(-1, None), scene(-5, 70.0)
    assert clarity(unknown, {}) is None
    choice = choose_scene([unknown, cloudy], DAY)
    assert choice is not None and (choice.scene.id, choice.rule) == (cloudy.id, "clearest")
    choice = choose_scene([unknown], DAY)
    assert choice is not None and (choice.scene.id, choice.rule, choice.clear) == (
        unknown.id,
        "nearest",
        None,
    )


def test_ties_go_to_the_earlier_scene() -> None:
    choice = choose_scene([scene(3, 0.0), scene(-3, 0.0)], DAY)
    assert choice is not None and choice.scene.id == "S-3"
    assert CLEAR_ENOUGH == 0.9


# --- the catalog reads ------------------------------------------------------------------


@pytest.fixture
def two_scenes(engine: Engine, tmp_path: Path) -> tuple[Engine, Path]:
    home = tmp_path / "home"
    for stamp in ("20250115T054211", "20250214T054211"):
        ingest(
            engine,
            s2_scene(tmp_path / stamp, stamp=stamp),
            home=home,
            actor=service_actor(engine, "imagery"),
        )
    return engine, home


def test_scene_summaries_read_what_the_choice_needs(two_scenes: tuple[Engine, Path]) -> None:
    engine, _ = two_scenes
    box = (LON - 0.01, LAT - 0.01, LON + 0.01, LAT + 0.01)
    found = scene_summaries(engine, bbox_or_geometry=box, sensor="sentinel-2")
    assert [s.id for s in found] == [
        "S2_T43RCQ_20250115T054211_L2A",
        "S2_T43RCQ_20250214T054211_L2A",
    ]
    first = found[0]
    assert first.when == datetime(2025, 1, 15, 5, 42, 11, tzinfo=UTC)
    assert first.cloud_cover == pytest.approx(25.0)  # the SCL's quarter of cloud
    x0, y0, x1, y1 = first.bounds
    assert x0 <= LON < x1 and y0 < LAT <= y1  # the scene hangs from its north-west corner
    assert scene_summaries(engine, bbox_or_geometry=(0.0, 0.0, 1.0, 1.0)) == []
    assert scene_summaries(engine, bbox_or_geometry=box, sensor="orthophoto") == []


def test_clear_fractions_average_the_mouzas_parcels(engine: Engine) -> None:
    owner = owner_engine(engine)
    with owner.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (2, 'district', 'Lahore', 1), (3, 'tehsil', 'Raiwind', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number) VALUES"
                " (1, 3, 'Kot Test', 7), (2, 3, 'Other', 8);"
            )
        )
        for kid, mouza in ((1, 1), (2, 1), (3, 2)):
            conn.execute(
                text(
                    "INSERT INTO khasra (id, mouza_id, number, main_number, land_class,"
                    " record_area_sarsai, unit_system, geom_area_m2, geom, source) VALUES"
                    " (:k, :m, :n, :k, 'nehri', 100, 'standard', 2500,"
                    "  ST_Multi(ST_MakeEnvelope(74, 31, 74.0005, 31.0005, 4326)), 'test')"
                ),
                {"k": kid, "m": mouza, "n": str(kid)},
            )
        for sid in ("A", "B"):
            conn.execute(
                text(
                    "INSERT INTO imagery_scene (id, sensor, collection, datetime, footprint,"
                    " crs, content_sha256, item) VALUES (:id, 'sentinel-2', 's2', now(),"
                    " ST_Multi(ST_MakeEnvelope(73, 30, 75, 32, 4326)), 'EPSG:32643', :sha,"
                    " '{}'::jsonb)"
                ),
                {"id": sid, "sha": sid.lower() * 64},
            )
        conn.execute(
            text(
                "INSERT INTO parcel_zonal (khasra_id, scene_id, index, count, valid_fraction)"
                " VALUES (1, 'A', 'ndvi', 10, 1.0), (2, 'A', 'ndvi', 10, 0.5),"
                " (3, 'A', 'ndvi', 10, 0.0), (1, 'B', 'ndvi', 10, NULL),"
                " (1, 'B', 'ndmi', 10, 0.1)"
            )
        )
    assert clear_fractions(engine, 1) == {"A": pytest.approx(0.75)}  # B: nothing measured
    assert clear_fractions(engine, 1, "NDMI") == {"B": pytest.approx(0.1)}
    assert clear_fractions(engine, 2) == {"A": 0.0}
    assert clear_fractions(engine, 99) == {}


def test_true_colour_needs_no_radiometry(
    two_scenes: tuple[Engine, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """True colour is a percentile stretch, the same for any scale and offset of the
    digital numbers: it is drawn without the series module (and its scipy), which a
    server's first map would otherwise wait for."""
    engine, home = two_scenes
    box = (LON, LAT - 0.0015, LON + 0.0015, LAT)
    sid = "S2_T43RCQ_20250115T054211_L2A"
    with monkeypatch.context() as blocked:
        blocked.setitem(sys.modules, "imagery.series", None)  # importing it fails
        png = render_png(engine, home, sid, TRUE_COLOUR, box)
    assert png is not None
    rgba = np.asarray(Image.open(io.BytesIO(png)))
    assert rgba.shape[2] == 4 and rgba[..., 3].max() == 255
    assert len(np.unique(rgba[..., :3].reshape(-1, 3), axis=0)) > 10  # a picture, not a fill
    ndvi = render_png(engine, home, sid, NDVI, box)
    assert ndvi is not None and ndvi != png
    assert render_png(engine, home, "no such scene", TRUE_COLOUR, box) is None
