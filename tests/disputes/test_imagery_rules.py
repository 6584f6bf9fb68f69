"""Rules over stored model runs: girdawari vs satellite, structures on state land."""

from __future__ import annotations

from datetime import date

from security_support import service_actor
from shapely.geometry import box
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.disputes.scan import scan
from landgov.storage import detections as store


def test_model_outputs_become_flags_and_cases(demo_copy: Engine) -> None:
    with demo_copy.begin() as conn:
        k1, k2 = conn.execute(text("SELECT id FROM khasra WHERE mouza_id = 1 ORDER BY id"
                                   " LIMIT 2")).scalars().all()  # fmt: skip
        crun = store.replace_run(conn, kind="crops", mouza_id=1, run_key="c", model_name="m",
                                 model_version="v1", params={"season": "rabi 2025-26"})  # fmt: skip
        conn.execute(text(
            "INSERT INTO crop_prediction (run_id, khasra_id, season, year, crop, probability,"
            " girdawari_crop, disagrees, clear_observations) VALUES"
            " (:r, :a, 'rabi', 2026, 'fodder', 0.97, 'wheat', true, 20),"
            " (:r, :b, 'rabi', 2026, 'fodder', 0.55, 'wheat', true, 20)"),
            {"r": crun, "a": k1, "b": k2})  # fmt: skip
        erun = store.replace_run(conn, kind="encroachment", mouza_id=1, run_key="e",
                                 model_name="u", model_version="v1", params={})  # fmt: skip
        road = conn.execute(text(
            "SELECT id, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom))"
            " FROM state_land WHERE mouza_id = 1 AND category = 'road_row'")).one()  # fmt: skip
        x, y = float(road[1]), float(road[2])
        square = box(x - 2e-5, y - 2e-5, x + 2e-5, y + 2e-5)
        cases = store.write_encroachment_cases(
            conn, erun, 1, [store.Candidate(square.wkb, 0.95), ], seen_on=date(2026, 3, 1),
            before_scene_id=None, after_scene_id=None)  # fmt: skip
    assert len(cases) == 1
    report = scan(demo_copy, mouza=1, actor=service_actor(demo_copy, "disputes"))
    assert report.found["girdawari_vs_satellite"] == 1  # the unsure one is not flagged
    assert report.found["structure_on_state_land"] == 1
    with demo_copy.connect() as conn:
        subjects = conn.execute(text(
            "SELECT c.subject, c.subject_id, f.rule_id FROM dispute_case c"
            " JOIN dispute_case_flag cf ON cf.case_id = c.id"
            " JOIN dispute_flag f ON f.id = cf.flag_id"
            " WHERE f.rule_id IN ('girdawari_vs_satellite', 'structure_on_state_land')"
            " ORDER BY f.rule_id")).all()  # fmt: skip
    assert [tuple(s) for s in subjects] == [
        ("khasra", k1, "girdawari_vs_satellite"),
        ("state_land", road[0], "structure_on_state_land"),
    ]
