"""build_demo on a fresh database: reproducible rows, idempotent, refuses foreign data,
runs only as the demo's service."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.demo import DemoConflict, build_demo
from landgov.errors import AccessDenied, LandgovError

TABLES = (
    "admin_unit",
    "mouza",
    "officer",
    "officer_jurisdiction",
    "party",
    "mutation",
    "khasra",
    "state_land",
    "khewat",
    "khewat_khasra",
    "mutation_line",
    "share",
    "khatauni",
    "khatauni_khasra",
    "jamabandi",
    "girdawari",
)


SERVER_TIMES = "ARRAY['recorded_at', 'verified_recorded_at', 'decided_recorded_at']"
"""Columns the database stamps with its clock at load (sql/018): not part of the record."""


def digest(engine: Engine) -> dict[str, str]:
    """An md5 of every record table's rows in a fixed order (ids included, the server's
    record times left out)."""
    out = {}
    with engine.connect() as conn:
        for t in TABLES:
            out[t] = conn.execute(
                text(
                    f"SELECT md5(coalesce(string_agg(r, '|' ORDER BY r), '')) FROM"
                    f" (SELECT (to_jsonb(x) - {SERVER_TIMES})::text AS r FROM {t} x) rows"
                )
            ).scalar_one()
    return out


def test_build_is_reproducible_and_idempotent(
    engine: Engine, demo_engine: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "demo"
    demo = service_actor(engine, "demo")
    first = build_demo(engine, out, seed=42, actor=demo)
    assert first.loaded and first.elapsed_s < 60
    assert "Built the demo district (seed 42)" in first.summary()
    rows = digest(engine)
    assert rows == digest(demo_engine)  # same seed, same rows, in any empty database
    for name in ("ground_truth.csv", "mutations.csv", "parcels_kot-pindi-das.gpkg"):
        assert (out / name).read_bytes() == (demo_dir / name).read_bytes()

    start = time.perf_counter()
    second = build_demo(engine, out, seed=42, actor=demo)
    assert time.perf_counter() - start < 2.0
    assert not second.loaded and not second.files_written
    assert second.fingerprint == first.fingerprint
    assert second.counts == first.counts and second.anomalies == first.anomalies
    assert "already in the database" in second.summary()
    assert digest(engine) == rows
    with engine.connect() as conn:
        (marker,) = conn.execute(
            text("SELECT actor FROM audit_log WHERE action = 'demo build'")
        ).scalars()
        loaders = conn.execute(
            text("SELECT DISTINCT actor FROM audit_log WHERE action = 'db.insert'")
        ).scalars()
        # the id sequences were moved past the generator's ids (forward only, sql/020)
        next_ids = conn.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('party', 'id')) > max(id),"
                " landgov_advance_id_sequence('party') > max(id) FROM party"
            )
        ).one()
    assert marker == "service:demo" and set(loaders) == {"service:demo"}
    assert tuple(next_ids) == (True, True)
    assert first.accounts == second.accounts > 60
    assert "accounts.txt" in first.summary() and "landgov login" in first.summary()

    # a missing file is written again, identical, without touching the database
    (out / "mutations.csv").unlink()
    third = build_demo(engine, out, seed=42, actor=demo)
    assert not third.loaded and (out / "mutations.csv") in third.files_written
    assert (out / "mutations.csv").read_bytes() == (demo_dir / "mutations.csv").read_bytes()
    assert digest(engine) == rows

    # another seed cannot join it
    with pytest.raises(DemoConflict, match="seed 42"):
        build_demo(engine, tmp_path / "other", seed=7, actor=demo)
    assert digest(engine) == rows


def test_refuses_a_database_with_other_records(engine: Engine, tmp_path: Path) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (level, name) VALUES ('province', 'Sindh');"
                "INSERT INTO mouza (tehsil_id, name, hadbast_number)"
                " SELECT id, 'Deh Example', 1 FROM admin_unit"
            )
        )
    with pytest.raises(LandgovError, match="already holds land records"):
        build_demo(engine, tmp_path / "demo", seed=42, actor=service_actor(engine, "demo"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mouza")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM party")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0


def test_only_the_demo_service_builds_the_demo(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(AccessDenied) as refused:
        build_demo(engine, tmp_path / "demo", seed=42, actor=service_actor(engine, "disputes"))
    assert refused.value.rule == "role" and "build the demo district" in refused.value.message
    assert not (tmp_path / "demo").exists()  # refused before generating anything
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mouza")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0
