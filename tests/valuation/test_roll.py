"""Valuation rolls: values, versions, idempotence, and no partial roll after kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import pytest
from cli_support import service_key, use_database
from security_support import service_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.security import Actor
from landgov.valuation.rates import load_dc_rates, statutory_value
from landgov.valuation.roll import current_roll, run_roll, value_chunk

AS_OF = date(2026, 11, 15)
AUDIT_LOCK = 441295057  # the audit chain's advisory lock (sql/005): taken at publication


@pytest.fixture
def rated(demo_copy: Engine, demo_dir: Path) -> Engine:
    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    return demo_copy


def _valuer(engine: Engine) -> Actor:
    return service_actor(engine, "valuation")


def _visible(engine: Engine) -> list[tuple[int, int, int]]:
    """(roll, parcels it claims, value rows it has) for every roll a reader can see."""
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT r.id, r.parcels, (SELECT count(*) FROM valuation_roll_value v"
            " WHERE v.roll_id = r.id) FROM valuation_roll r ORDER BY r.id"))]  # fmt: skip


def test_roll_values_every_live_parcel_at_its_statutory_value(rated: Engine) -> None:
    roll = run_roll(rated, AS_OF, actor=_valuer(rated))
    assert not roll.reused and roll.unvalued == 0
    with rated.connect() as conn:
        live = conn.execute(text(
            "SELECT count(*) FROM khasra WHERE (created_on IS NULL OR created_on <= :d)"
            " AND (retired_on IS NULL OR retired_on > :d)"), {"d": AS_OF}).scalar_one()  # fmt: skip
        sample = conn.execute(text(
            "SELECT khasra_id, value_rs, rate_id FROM valuation_current ORDER BY khasra_id"
            " LIMIT 25")).all()  # fmt: skip
        for kid, value, rate_id in sample:
            one = statutory_value(conn, kid, AS_OF)
            assert (one.rupees, one.rate.id) == (value, rate_id)
        total = conn.execute(text("SELECT sum(value_rs) FROM valuation_current")).scalar_one()
    assert roll.parcels == live and total == roll.total_value_rs
    assert _visible(rated) == [(roll.id, live, live)]


def test_same_inputs_same_roll_new_inputs_new_version(rated: Engine) -> None:
    first = run_roll(rated, AS_OF, actor=_valuer(rated))
    again = run_roll(rated, AS_OF, actor=_valuer(rated))
    assert again.reused and (again.id, again.fingerprint) == (first.id, first.fingerprint)
    later = run_roll(
        rated, date(2026, 11, 20), actor=_valuer(rated)
    )  # same parcels and rates, another date
    assert later.id != first.id and later.fingerprint != first.fingerprint
    with rated.begin() as conn:  # a new notification for nehri from 2026-11-18
        conn.execute(
            text(
                "UPDATE dc_rate SET valid_to = '2026-11-18' WHERE land_class = 'nehri'"
                " AND valid_from <= '2026-11-15' AND (valid_to IS NULL OR valid_to > '2026-11-18')"
            )
        )
        conn.execute(text(
            "INSERT INTO dc_rate (admin_unit_id, land_class, rs_per_unit, unit, valid_from)"
            " SELECT admin_unit_id, land_class, rs_per_unit * 2, unit, '2026-11-18'"
            " FROM dc_rate WHERE land_class = 'nehri' AND valid_to = '2026-11-18'"))  # fmt: skip
    dearer = run_roll(rated, date(2026, 11, 20), actor=_valuer(rated))
    assert not dearer.reused and dearer.total_value_rs > later.total_value_rs
    with rated.connect() as conn:
        current = current_roll(conn)
    assert current is not None and current.id == dearer.id  # readers see the newest


def test_parcels_without_a_rate_are_counted_not_guessed(rated: Engine) -> None:
    with rated.begin() as conn:
        conn.execute(text("DELETE FROM dc_rate WHERE land_class = 'forest'"))
        forests = conn.execute(text(
            "SELECT count(*) FROM khasra WHERE land_class = 'forest'"
            " AND (created_on IS NULL OR created_on <= :d)"
            " AND (retired_on IS NULL OR retired_on > :d)"), {"d": AS_OF}).scalar_one()  # fmt: skip
    roll = run_roll(rated, AS_OF, actor=_valuer(rated))
    assert forests > 0 and roll.unvalued == forests
    assert sum(roll.summary["no_rate_in_force"].values()) == forests


def test_only_who_may_run_valuations_publishes_a_roll(rated: Engine) -> None:
    from landgov.errors import AccessDenied

    before = _visible(rated)
    with pytest.raises(AccessDenied, match="may not train models and run rolls"):
        run_roll(rated, AS_OF, actor=staff_actor(rated, "auditor"))
    assert _visible(rated) == before
    analyst = staff_actor(rated, "revenue_analyst")  # an analyst may: the roll names him
    roll = run_roll(rated, AS_OF, actor=analyst)
    with rated.connect() as conn:
        actor = conn.execute(text(
            "SELECT actor FROM audit_log WHERE action = 'publish valuation roll'"
            " AND entity_id = :r"), {"r": str(roll.id)}).scalar_one()  # fmt: skip
    assert actor == analyst.label == f"user:{analyst.username}"


def test_value_chunk_is_exact() -> None:
    # 1 kanal = 20 marla × 9 sarsai = 180 sarsai = 5445 ft² (standard); an acre is 8 kanal
    rates = {(1, "nehri"): (7, "1000000/43560")}  # Rs 1,000,000 per acre
    assert value_chunk([(5, 1, "nehri", 180, "standard"), (6, 2, "nehri", 180, "standard")],
                       rates) == [(5, 125_000, 7), (6, None, None)]  # fmt: skip


def test_kill_9_during_publication_leaves_no_partial_roll(rated: Engine) -> None:
    """The run is held inside its publishing transaction (the audit lock it needs last is
    taken here), killed with SIGKILL there, and a re-run then publishes a complete roll."""
    before = _visible(rated)
    url = rated.url.render_as_string(hide_password=False)
    code = (
        "import sys; from datetime import date; from sqlalchemy import create_engine;"
        "from landgov.security import service_login; from landgov.valuation.roll import run_roll;"
        "e = create_engine(sys.argv[1]); actor = service_login(e, 'valuation', sys.argv[2]);"
        f"run_roll(e, date({AS_OF.year}, {AS_OF.month}, {AS_OF.day}), actor=actor)"
    )
    holder = rated.connect()
    trans = holder.begin()
    holder.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": AUDIT_LOCK})
    key = service_key(rated, "valuation")
    proc = subprocess.Popen([sys.executable, "-c", code, url, key], env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        blocked = False
        while time.monotonic() < deadline and proc.poll() is None:
            with rated.connect() as conn:
                blocked = bool(conn.execute(text(
                    "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE datname ="
                    " current_database() AND wait_event_type = 'Lock'"
                    " AND wait_event = 'advisory' AND query LIKE '%audit_log%')"
                )).scalar_one())  # fmt: skip
            if blocked:
                break
            time.sleep(0.2)
        assert blocked, "the run never reached its publishing transaction"
        # values and header are written but not committed: a reader sees none of it
        assert _visible(rated) == before
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        trans.rollback()  # release the lock: the orphaned backend finds its client gone
        holder.close()
    for _ in range(100):  # the killed run's backend rolls back and exits
        with rated.connect() as conn:
            waiting = conn.execute(text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND query LIKE '%audit_log%' AND state <> 'idle'"
                " AND pid <> pg_backend_pid()")).scalar_one()  # fmt: skip
        if not waiting:
            break
        time.sleep(0.1)
    assert _visible(rated) == before
    roll = run_roll(rated, AS_OF, actor=_valuer(rated))
    assert not roll.reused and _visible(rated) == [*before, (roll.id, roll.parcels, roll.parcels)]


def test_cli_run(rated: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import json

    from typer.testing import CliRunner

    from landgov.cli.main import app
    from landgov.storage import engine as engine_module

    use_database(rated, tmp_path, monkeypatch)  # no service key, nobody signed in
    refused = CliRunner().invoke(app, ["valuation", "run", "--as-of", "2026-11-15"])
    assert refused.exit_code == 1 and "runs as the 'valuation' service" in refused.output
    use_database(rated, tmp_path, monkeypatch, services=("valuation",))
    first = CliRunner().invoke(app, ["valuation", "run", "--as-of", "2026-11-15", "--json"])
    assert first.exit_code == 0, first.output
    data = json.loads(first.stdout)
    with rated.connect() as conn:
        actors = conn.execute(text(
            "SELECT actor FROM audit_log WHERE action = 'publish valuation roll'"
            " AND entity_id = :r"), {"r": str(data["roll"])}).scalars().all()  # fmt: skip
    assert actors == ["service:valuation"]
    again = CliRunner().invoke(app, ["valuation", "run", "--as-of", "2026-11-15"])
    assert again.exit_code == 0 and "already published" in again.output
    assert data["parcels"] > 2000 and not data["reused"]
    bad = CliRunner().invoke(app, ["valuation", "run", "--as-of", "someday"])
    assert bad.exit_code != 0 and "not a date" in bad.output
    engine_module._engine_for.cache_clear()
