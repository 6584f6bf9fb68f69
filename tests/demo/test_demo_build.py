"""build_demo on a fresh database: reproducible rows, idempotent, refuses foreign data."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.demo import DemoConflict, build_demo
from landgov.errors import LandgovError

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


def digest(engine: Engine) -> dict[str, str]:
    """An md5 of every record table's rows in a fixed order (ids included)."""
    out = {}
    with engine.connect() as conn:
        for t in TABLES:
            out[t] = conn.execute(
                text(
                    f"SELECT md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), ''))"
                    f" FROM {t} x"
                )
            ).scalar_one()
    return out


def test_build_is_reproducible_and_idempotent(
    engine: Engine, demo_engine: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "demo"
    first = build_demo(engine, out, seed=42)
    assert first.loaded and first.elapsed_s < 60
    assert "Built the demo district (seed 42)" in first.summary()
    rows = digest(engine)
    assert rows == digest(demo_engine)  # same seed, same rows, in any empty database
    for name in ("ground_truth.csv", "mutations.csv", "parcels_kot-pindi-das.gpkg"):
        assert (out / name).read_bytes() == (demo_dir / name).read_bytes()

    start = time.perf_counter()
    second = build_demo(engine, out, seed=42)
    assert time.perf_counter() - start < 2.0
    assert not second.loaded and not second.files_written
    assert second.fingerprint == first.fingerprint
    assert second.counts == first.counts and second.anomalies == first.anomalies
    assert "already in the database" in second.summary()
    assert digest(engine) == rows
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM audit_log WHERE action = 'demo build'")
            ).scalar()
            == 1
        )

    # a missing file is written again, identical, without touching the database
    (out / "mutations.csv").unlink()
    third = build_demo(engine, out, seed=42)
    assert not third.loaded and (out / "mutations.csv") in third.files_written
    assert (out / "mutations.csv").read_bytes() == (demo_dir / "mutations.csv").read_bytes()
    assert digest(engine) == rows

    # another seed cannot join it
    with pytest.raises(DemoConflict, match="seed 42"):
        build_demo(engine, tmp_path / "other", seed=7)
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
        build_demo(engine, tmp_path / "demo", seed=42)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mouza")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM party")).scalar() == 0
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar() == 0
