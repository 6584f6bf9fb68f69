"""``landgov audit verify | show | checkpoint`` through typer's runner.

Reading the log is an auditor's: the tests sign one in (a real account and session,
token file under ``tmp_path``). ``LANDGOV_HOME`` is a fresh folder, so the checkpoint
key and file land at their default places under it; the database is reached through
``LANDGOV_DATABASE_URL`` (the application role), as a deployment would.
"""

from __future__ import annotations

import json
import stat
from dataclasses import dataclass
from pathlib import Path

import pytest
from security_support import owner_engine, staff_actor, superuser_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from landgov.cli import app
from landgov.cli._shell import forget_session, save_session
from landgov.security import Actor
from landgov.security.accounts import provision_services
from landgov.storage import audit
from landgov.storage import engine as engine_module

runner = CliRunner()


@dataclass
class Db:
    engine: Engine  # the application role, as the CLI connects
    owner: Engine
    superuser: Engine
    home: Path
    auditor: Actor
    analyst: Actor

    def sign_in(self, actor: Actor) -> None:
        save_session(actor.token, actor.username)


@pytest.fixture
def on_db(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Db:
    # accounts and the owner's engines first: once LANDGOV_DATABASE_URL is set, every
    # role's URL defaults to it
    db = Db(
        engine,
        owner_engine(engine),
        superuser_engine(engine),
        tmp_path / "home",
        staff_actor(engine, "auditor"),
        staff_actor(engine, "revenue_analyst"),
    )
    monkeypatch.setenv("LANDGOV_HOME", str(db.home))
    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(tmp_path / "session.json"))
    monkeypatch.delenv("LANDGOV_AUDIT_CHECKPOINTS", raising=False)
    monkeypatch.delenv("LANDGOV_AUDIT_KEY", raising=False)
    monkeypatch.setenv("LANDGOV_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    engine_module._engine_for.cache_clear()
    db.sign_in(db.auditor)
    return db


@pytest.fixture
def logged(on_db: Db) -> Db:
    with on_db.engine.begin() as conn:
        audit.append(conn, actor="patwari", action="import parcels", entity="mouza", entity_id="7")
        audit.append(conn, actor="tehsildar", action="sanction", entity="mutation", entity_id="3")
        audit.append(
            conn, actor="patwari", action="import parcels", entity="mouza", details={"n": 2}
        )
    return on_db


def _tamper(db: Db, *sql: str) -> None:
    with db.owner.begin() as conn:
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        for statement in sql:
            conn.execute(text(statement))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def test_verify_an_empty_log(on_db: Db) -> None:
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"audit log intact: 0 rows, last hash {'0' * 64}" in result.output
    assert "no signed checkpoints" in result.output


def test_verify_an_intact_log(logged: Db) -> None:
    with logged.engine.connect() as conn:
        head = conn.execute(text("SELECT row_hash FROM audit_log WHERE seq = 3")).scalar()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 0, result.output
    assert f"audit log intact: 3 rows, last hash {head}" in result.output


def test_verify_names_the_first_tampered_row_and_exits_2(logged: Db) -> None:
    _tamper(logged, "UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2, result.output
    assert "seq 2" in result.output and "tampered" in result.output
    assert "Traceback" not in result.output


def test_verify_reports_a_deleted_row(logged: Db) -> None:
    _tamper(logged, "DELETE FROM audit_log WHERE seq = 2")
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2, result.output
    assert "seq 3" in result.output and "deleted" in result.output


def test_verify_as_json(logged: Db) -> None:
    result = runner.invoke(app, ["audit", "verify", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["ok"] is True and report["rows"] == 3 and report["problem"] is None
    assert report["checkpoints"] == 0 and report["checkpoint_problems"] == []
    assert report["checkpoint_file"] == str(logged.home / "audit" / "checkpoints.jsonl")
    _tamper(logged, "UPDATE audit_log SET details = '{}' WHERE seq = 3")
    broken = runner.invoke(app, ["audit", "verify", "--json"])
    assert broken.exit_code == 2
    report = json.loads(broken.stdout)
    assert report["ok"] is False and report["kinds"] == ["tampered"]
    assert report["problem"]["seq"] == 3


def test_reading_the_log_is_an_auditors(logged: Db) -> None:
    logged.sign_in(logged.analyst)
    for args in (["audit", "verify"], ["audit", "show"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output
        assert "refused by rule role" in result.output and "auditor" in result.output
    forget_session()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1 and "not signed in" in result.output


def test_show_as_json_filters_and_limits(logged: Db) -> None:
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


def test_show_as_a_table(logged: Db) -> None:
    result = runner.invoke(app, ["audit", "show"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for expected in ("tehsildar", "sanction", "mutation 3", "import parcels"):
        assert expected in result.output
    empty = runner.invoke(app, ["audit", "show", "--entity", "khasra"])
    assert empty.exit_code == 0 and "no audit rows about 'khasra'" in empty.output


# --- checkpoints ---------------------------------------------------------------------------


def _checkpoint_actor(db: Db) -> str:
    with db.engine.connect() as conn:
        return str(
            conn.execute(
                text(
                    "SELECT actor FROM audit_log WHERE action = 'audit.checkpoint'"
                    " ORDER BY seq DESC LIMIT 1"
                )
            ).scalar_one()
        )


def test_checkpoint_by_the_auditor_then_verify_holds(logged: Db) -> None:
    result = runner.invoke(app, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert "signed checkpoint" in result.output and "seq 3" in result.output
    key = logged.home / "secrets" / "audit-signing.key"
    file = logged.home / "audit" / "checkpoints.jsonl"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE(file.parent.stat().st_mode) == 0o700
    (line,) = file.read_text(encoding="utf-8").splitlines()
    assert (
        json.loads(line)["seq"] == 3 and json.loads(line)["database"] == logged.engine.url.database
    )
    assert _checkpoint_actor(logged) == logged.auditor.label

    verified = runner.invoke(app, ["audit", "verify"])
    assert verified.exit_code == 0, verified.output
    assert "1 signed checkpoint(s) hold, newest seq 3" in verified.output
    as_json = json.loads(runner.invoke(app, ["audit", "checkpoint", "--json"]).output)
    assert as_json["seq"] == 4 and as_json["line"] == 2  # seq 4: the first checkpoint's row


def test_checkpoint_by_the_audit_service_with_its_key(logged: Db) -> None:
    forget_session()  # no person signed in: the job runs as its service
    provision_services(logged.owner, logged.home / "secrets")
    result = runner.invoke(app, ["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    assert "by service:audit" in result.output
    assert _checkpoint_actor(logged) == "service:audit"


def test_checkpoint_needs_the_capability(logged: Db) -> None:
    logged.sign_in(logged.analyst)  # and no service key in this home
    result = runner.invoke(app, ["audit", "checkpoint"])
    assert result.exit_code == 1, result.output
    assert "refused by rule role" in result.output
    assert not (logged.home / "audit" / "checkpoints.jsonl").exists()


def test_a_broken_chain_is_not_signed(logged: Db) -> None:
    _tamper(logged, "UPDATE audit_log SET actor = 'nobody' WHERE seq = 2")
    result = runner.invoke(app, ["audit", "checkpoint"])
    assert result.exit_code == 1, result.output
    assert "refusing to sign" in result.output and "tampered" in result.output
    assert "Traceback" not in result.output


def test_verify_reports_a_superusers_rewrite_and_a_truncation(logged: Db) -> None:
    assert runner.invoke(app, ["audit", "checkpoint"]).exit_code == 0  # signs seq 3
    with logged.superuser.begin() as conn:  # edit seq 2, recompute every later hash
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text("""UPDATE audit_log SET details = '{"n": 9}' WHERE seq = 2"""))
        prev = conn.execute(text("SELECT row_hash FROM audit_log WHERE seq = 1")).scalar_one()
        for (seq,) in conn.execute(
            text("SELECT seq FROM audit_log WHERE seq >= 2 ORDER BY seq")
        ).all():
            prev = conn.execute(
                text(
                    "UPDATE audit_log SET prev_hash = :p, row_hash = audit_row_hash(:p, seq, at,"
                    " actor, action, entity, entity_id, details) WHERE seq = :s RETURNING row_hash"
                ),
                {"p": prev, "s": seq},
            ).scalar_one()
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    assert audit.verify(logged.engine, checkpoints=False).ok  # the chain alone is fooled

    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 2, result.output
    assert "rewritten" in result.output and "seq 3" in result.output

    with logged.superuser.begin() as conn:  # now also cut the newest rows
        conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only"))
        conn.execute(text("DELETE FROM audit_log WHERE seq >= 2"))
        conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only"))
    report = json.loads(runner.invoke(app, ["audit", "verify", "--json"]).stdout)
    assert report["ok"] is False and report["problem"] is None
    assert report["kinds"] == ["truncated"] and report["end_seq"] == 1
    assert "at least 2 newest row(s) were cut off" in report["checkpoint_problems"][0]["detail"]


def test_an_unreachable_database_is_a_clean_error(
    on_db: Db, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = on_db.engine.url.set(database="landgov_no_such_database")
    monkeypatch.setenv("LANDGOV_DATABASE_URL", url.render_as_string(hide_password=False))
    engine_module._engine_for.cache_clear()
    result = runner.invoke(app, ["audit", "verify"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output
