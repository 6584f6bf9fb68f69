"""``landgov.storage.detections``: runs replace themselves; cases come from SQL overlays."""

from __future__ import annotations

from datetime import date

import pytest
from shapely import wkb
from shapely.geometry import Polygon, box
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.storage import detections as store


def _utm(conn, sql: str):
    g = conn.execute(text(sql)).scalar_one()
    return wkb.loads(bytes(g))


def _to_ll(geom: Polygon) -> bytes:
    import numpy as np
    import shapely
    from pyproj import Transformer

    t = Transformer.from_crs("EPSG:32643", "EPSG:4326", always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1]))).wkb


def _square(x: float, y: float, side: float) -> Polygon:
    return box(x - side / 2, y - side / 2, x + side / 2, y + side / 2)


@pytest.fixture
def places(demo_copy: Engine):
    """Mouza 1's road right-of-way (UTM), a point inside it, a point on private land."""
    with demo_copy.connect() as conn:
        road = _utm(conn, "SELECT ST_AsBinary(ST_Transform(geom, 32643)) FROM state_land"
                          " WHERE mouza_id = 1 AND category = 'road_row'")  # fmt: skip
        others = _utm(conn, "SELECT ST_AsBinary(ST_Transform(ST_Collect(geom), 32643))"
                            " FROM state_land WHERE category <> 'road_row'")  # fmt: skip
        private = _utm(conn, "SELECT ST_AsBinary(ST_Transform(ST_PointOnSurface(geom), 32643))"
                             " FROM khasra k WHERE mouza_id = 1 AND land_class = 'nehri'"
                             " AND NOT EXISTS (SELECT 1 FROM state_land s"
                             "  WHERE ST_DWithin(s.geom::geography, k.geom::geography, 50))"
                             " ORDER BY id LIMIT 1")  # fmt: skip
    if hasattr(road, "geoms"):
        road = max(road.geoms, key=lambda g: g.area)
    inner = road.representative_point()
    return road, inner, private, others


def _run(conn, key: str) -> int:
    return store.replace_run(conn, kind="encroachment", mouza_id=1, run_key=key,
                             model_name="m", model_version="v1", params={"k": key})  # fmt: skip


def test_cases_only_where_structures_meet_state_land_zones(demo_copy: Engine, places) -> None:
    road, inner, private, others = places
    on_road = _square(inner.x, inner.y, 4)
    # a structure just beyond the ROW edge: centred 1.5 m outside, within the 3 m road
    # buffer, and clear of other state land (else it would be a case there too)
    outward = road.buffer(1.5).exterior
    spots = (outward.interpolate(f * outward.length) for f in (0.1, 0.3, 0.5, 0.7, 0.9))
    q = next(p for p in spots if p.distance(others) > 20)
    near = _square(q.x, q.y, 2.4)
    far = _square(private.x, private.y, 6)
    cands = [store.Candidate(_to_ll(g), c) for g, c in ((on_road, 0.9), (near, 0.7), (far, 0.8))]
    with demo_copy.begin() as conn:
        run = _run(conn, "a")
        cases = store.write_encroachment_cases(
            conn, run, 1, cands, seen_on=date(2026, 3, 1), before_scene_id=None,
            after_scene_id=None)  # fmt: skip
    cats = sorted((c["category"], round(c["confidence"], 2)) for c in cases)
    assert cats == [("road_row", 0.7), ("road_row", 0.9)]
    big = next(c for c in cases if c["confidence"] == pytest.approx(0.9))
    assert big["area_m2"] == pytest.approx(16.0, rel=1e-3)
    assert big["overlap_m2"] == pytest.approx(16.0, rel=1e-3)
    assert all(c["first_seen"] == date(2026, 3, 1) for c in cases)


def test_rerun_replaces_and_first_seen_carries_over(demo_copy: Engine, places) -> None:
    _, inner, _, _ = places
    cand = [store.Candidate(_to_ll(_square(inner.x, inner.y, 5)), 0.8)]
    with demo_copy.begin() as conn:
        run = _run(conn, "early")
        store.write_encroachment_cases(conn, run, 1, cand, seen_on=date(2025, 3, 1),
                                       before_scene_id=None, after_scene_id=None)  # fmt: skip
    for _ in range(2):  # the same later run twice: replaced, not duplicated
        with demo_copy.begin() as conn:
            run = _run(conn, "late")
            [case] = store.write_encroachment_cases(
                conn, run, 1, cand, seen_on=date(2026, 3, 1),
                before_scene_id=None, after_scene_id=None)  # fmt: skip
    assert case["first_seen"] == date(2025, 3, 1)
    with demo_copy.connect() as conn:
        runs = conn.execute(text("SELECT run_key FROM detection_run ORDER BY id")).scalars().all()
        n = conn.execute(text("SELECT count(*) FROM encroachment_case")).scalar_one()
    assert runs == ["early", "late"] and n == 2


def test_zone_widths_are_data(demo_copy: Engine, places) -> None:
    road, _, _, _ = places
    outward = road.buffer(6.0).exterior  # 6 m outside the right-of-way: beyond 3 m
    q = outward.interpolate(outward.length / 4)
    cand = [store.Candidate(_to_ll(_square(q.x, q.y, 3)), 0.9)]
    with demo_copy.begin() as conn:
        assert store.write_encroachment_cases(conn, _run(conn, "x"), 1, cand,
                                              seen_on=date(2026, 3, 1), before_scene_id=None,
                                              after_scene_id=None) == []  # fmt: skip
        conn.execute(text("UPDATE encroachment_zone SET buffer_m = 10 WHERE category = 'road_row'"))
        got = store.write_encroachment_cases(conn, _run(conn, "y"), 1, cand,
                                             seen_on=date(2026, 3, 1), before_scene_id=None,
                                             after_scene_id=None)  # fmt: skip
    assert [c["category"] for c in got] == ["road_row"]
