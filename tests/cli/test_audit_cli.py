"""``landgov audit verify`` and ``landgov audit show`` through typer's runner."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from landgov.cli import app
from landgov.storage import audit
from landgov.storage import engine as engine_module

runner = CliRunner()


@pytest.fixture
def on_db(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("LANDGOV_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    engine_module._engine_for.cache_clear()
    return engine


@pytest.fixture
def logged(on_db: Engine) -> Engine:
    with on_db.begin() as conn:
        audit.append(conn, actor="patwari", action="import parcels", entity="mouza", entity_id="7")
        audit.append(conn, actor="tehsildar", action="sanction", entity="mutation", entity_id="3")
        audit.append(
            conn, actor="patwari", action="import parcels", entity="mouza", details={"n": 2}
        )
    return on_db


def test_verify_an_empty_log(on_db: Engine) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"audit log intact: 0 rows, last hash {'0' * 64}" in result.output


def test_verify_an_intact_log(logged: Engine) -> None:
    with logged.connect() as conn:
        head = conn.execute(text("SELECT row_hash FROM audit_log WHERE seq = 3")).scalar()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"audit log intact: 3 rows, last hash {head}" in result.output


def test_verify_names_the_first_tampered_row_and_exits_2(logged: Engine) -> None:
    with logged.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("UPDATE audit_log SET actor = 'nobody' WHERE seq = 2"))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2, result.output
    assert "seq 2" in result.output and "tampered" in result.output
    assert "Traceback" not in result.output


def test_verify_reports_a_deleted_row(logged: Engine) -> None:
    with logged.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        conn.execute(text("DELETE FROM audit_log WHERE seq = 2"))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2, result.output
    assert "seq 3" in result.output and "deleted" in result.output


def test_show_as_json_filters_and_limits(logged: Engine) -> None:
    result = runner.invoke(app, ["audit", "show", "--entity", "mouza", "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [r["seq"] for r in rows] == [1, 3]
    assert rows[1]["details"] == {"n": 2} and rows[1]["entity_id"] is None
    assert all(len(r["row_hash"]) == 64 and r["at"].endswith("+00:00") for r in rows)
    assert set(rows[0]) == {
        "seq",
        "id",
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "details",
        "prev_hash",
        "row_hash",
    }
    newest = json.loads(runner.invoke(app, ["audit", "show", "--limit", "2", "--json"]).output)
    assert [r["seq"] for r in newest] == [2, 3]


def test_show_as_a_table(logged: Engine) -> None:
    result = runner.invoke(app, ["audit", "show"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for expected in ("tehsildar", "sanction", "mutation 3", "import parcels"):
        assert expected in result.output
    empty = runner.invoke(app, ["audit", "show", "--entity", "khasra"])
    assert empty.exit_code == 0 and "no audit rows about 'khasra'" in empty.output


def test_an_unreachable_database_is_a_clean_error(
    on_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = on_db.url.set(database="landgov_no_such_database")
    monkeypatch.setenv("LANDGOV_DATABASE_URL", url.render_as_string(hide_password=False))
    engine_module._engine_for.cache_clear()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output
