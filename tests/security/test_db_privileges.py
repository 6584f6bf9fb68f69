"""Least privilege in PostgreSQL, against the real roles of the test database.

- the application role (``engine``: what the CLI, the dashboard and the jobs use) has
  DML only: no UPDATE/DELETE/TRUNCATE of the logs, no DDL, no trigger switching, no
  ``COPY ... TO PROGRAM``, no superuser, no way to become the owner or to claim an actor
  without that actor's session; without a bound actor row-level security keeps it from
  writing the record;
- the reporting role reads, and reads no credentials;
- the private cluster authenticates every connection with a password (scram-sha-256);
- whoever changes ``share`` (the owner and the superuser too, who bypass row-level
  security) leaves an audit row from the trigger, naming the database role or the bound
  actor, with the rows before and after.
"""

from __future__ import annotations

import stat
from collections.abc import Iterator

import psycopg
import pytest
from security_support import owner_engine, service_actor, superuser_engine
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from landgov.config import load_settings
from landgov.security import bind
from landgov.storage.engine import get_engine

NO_PRIVILEGE = "42501"  # insufficient_privilege


def _refused(engine: Engine, sql: str) -> str:
    """Runs ``sql`` in its own transaction; returns the database's refusal (42501)."""
    with pytest.raises(DBAPIError) as info, engine.begin() as conn:
        conn.execute(text(sql))
    assert getattr(info.value.orig, "sqlstate", None) == NO_PRIVILEGE, (sql, str(info.value))
    return str(info.value.orig)


@pytest.fixture
def seeded(engine: Engine) -> Engine:
    """One mouza with khewat 1 held whole by one person (share 1), seeded by the owner."""
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (2, 'district', 'Sheikhupura', 1), (3, 'tehsil', 'Sheikhupura', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 3, 'Kot A', 17);"
                "INSERT INTO party (id, kind, cnic, name, gender)"
                " VALUES (1, 'person', '35401-1234567-1', 'Aslam', 'male');"
                "INSERT INTO khewat (id, mouza_id, number) VALUES (1, 1, 1);"
                "INSERT INTO share (id, khewat_id, party_id, numerator, denominator, valid_from)"
                " VALUES (1, 1, 1, 1, 1, '2002-01-01');"
            )
        )
    return engine


def _share(engine: Engine) -> tuple[int, int]:
    with engine.connect() as conn:
        n, d = conn.execute(text("SELECT numerator, denominator FROM share WHERE id = 1")).one()
    return int(n), int(d)


def _audit_rows(engine: Engine, entity: str, action: str) -> list[tuple[str, dict[str, object]]]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT actor, details FROM audit_log WHERE entity = :e AND action = :a"
                " ORDER BY seq"
            ),
            {"e": entity, "a": action},
        ).all()
    return [(str(actor), dict(details)) for actor, details in rows]


# --- the application role ----------------------------------------------------------------


@pytest.mark.parametrize("log", ["audit_log", "access_log"])
def test_the_app_role_cannot_change_the_logs(engine: Engine, log: str) -> None:
    for sql in (
        f"UPDATE {log} SET actor = 'someone else'",
        f"DELETE FROM {log}",
        f"TRUNCATE {log}",
    ):
        assert f"permission denied for table {log}" in _refused(engine, sql)
    # appending is what it may do
    with engine.begin() as conn:
        if log == "audit_log":
            conn.execute(
                text("INSERT INTO audit_log (actor, action, entity) VALUES ('a', 'b', 'c')")
            )
        else:
            conn.execute(
                text(
                    "INSERT INTO access_log (actor, action, subject_kind, subject)"
                    " VALUES ('a', 'read', 'party', '1')"
                )
            )
        assert conn.execute(text(f"SELECT count(*) FROM {log}")).scalar_one() == 1


def test_the_app_role_has_no_ddl_and_cannot_switch_triggers_or_policies(engine: Engine) -> None:
    assert "must be owner of table share" in _refused(
        engine, "ALTER TABLE share DISABLE TRIGGER share_audit_update"
    )
    assert "must be owner of table audit_log" in _refused(
        engine, "ALTER TABLE audit_log DISABLE TRIGGER USER"
    )
    assert "must be owner of table khewat" in _refused(
        engine, "ALTER TABLE khewat DISABLE ROW LEVEL SECURITY"
    )
    assert "permission denied for schema public" in _refused(engine, "CREATE TABLE t (id int)")
    assert "must be owner" in _refused(engine, "DROP TABLE share")
    # triggers cannot be skipped by pretending to be a replica either
    assert "session_replication_role" in _refused(engine, "SET session_replication_role = replica")


def test_the_app_role_cannot_run_programs_or_write_files(engine: Engine) -> None:
    assert "program" in _refused(engine, "COPY (SELECT 1) TO PROGRAM 'id'")
    assert "file" in _refused(engine, "COPY (SELECT 1) TO '/tmp/landgov-should-not-exist'")
    _refused(engine, "SELECT pg_read_file('/etc/passwd')")


def test_the_app_role_is_no_superuser_and_cannot_become_the_owner(engine: Engine) -> None:
    with engine.connect() as conn:
        role = conn.execute(
            text(
                "SELECT rolname, rolsuper, rolbypassrls, rolcreaterole, rolcreatedb,"
                " rolreplication FROM pg_roles WHERE rolname = current_user"
            )
        ).one()
        owner = conn.execute(
            text("SELECT tableowner FROM pg_tables WHERE tablename = 'share'")
        ).scalar_one()
        member = conn.execute(
            text("SELECT pg_has_role(current_user, :o, 'MEMBER')"), {"o": owner}
        ).scalar_one()
    assert role.rolname != owner
    assert not (role.rolsuper or role.rolbypassrls or role.rolcreaterole or role.rolcreatedb)
    assert not role.rolreplication and not member
    assert "permission denied to set role" in _refused(engine, f'SET ROLE "{owner}"')
    assert "permission denied to set role" in _refused(engine, "SET ROLE postgres")


def test_the_app_role_cannot_read_or_forge_who_acts(engine: Engine) -> None:
    assert "acting_session" in _refused(engine, "SELECT * FROM acting_session")
    assert "acting_session" in _refused(
        engine,
        "INSERT INTO acting_session VALUES (pg_backend_pid(), now(), 1, 1, 'user:x', true, '{}')",
    )
    # the one way in is a live session's token
    with pytest.raises(DBAPIError, match="no valid landgov session") as info, engine.begin() as c:
        c.execute(text("SELECT landgov_act_as('a-token-nobody-was-given')"))
    assert getattr(info.value.orig, "sqlstate", None) == "28000"


# --- row-level security and the trigger audit ------------------------------------------


def test_without_a_bound_actor_the_app_role_cannot_write_the_record(seeded: Engine) -> None:
    for table, sql in (
        ("khewat", "INSERT INTO khewat (mouza_id, number) VALUES (1, 2)"),
        (
            "share",
            "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from)"
            " VALUES (1, 1, 1, 2, '2024-01-01')",
        ),
    ):
        with (
            pytest.raises(DBAPIError, match=f'row-level security policy for table "{table}"'),
            seeded.begin() as conn,
        ):
            conn.execute(text(sql))
    with seeded.begin() as conn:  # rows it may not write are rows it cannot see to change
        updated = conn.execute(text("UPDATE share SET denominator = 2 WHERE id = 1"))
        deleted = conn.execute(text("DELETE FROM khewat_khasra"))
        assert (updated.rowcount, deleted.rowcount) == (0, 0)
    assert _share(seeded) == (1, 1)
    assert _audit_rows(seeded, "share", "db.update") == []
    with seeded.connect() as conn:  # reading stays open
        assert conn.execute(text("SELECT count(*) FROM share")).scalar_one() == 1


def test_a_bound_service_writes_and_the_trigger_names_it(seeded: Engine) -> None:
    demo = service_actor(seeded, "demo")
    with seeded.begin() as conn:
        bind(conn, demo)
        assert conn.execute(text("UPDATE share SET denominator = 2 WHERE id = 1")).rowcount == 1
        conn.execute(text("INSERT INTO khewat (id, mouza_id, number) VALUES (2, 1, 2)"))
    assert _share(seeded) == (1, 2)
    ((actor, details),) = _audit_rows(seeded, "share", "db.update")
    assert actor == "service:demo"
    assert details["rows"] == 1 and details["db_user"] != "postgres"
    (change,) = details["rows_changed"]  # type: ignore[misc]
    assert change["before"]["denominator"] == 1 and change["after"]["denominator"] == 2
    inserted = _audit_rows(seeded, "khewat", "db.insert")
    assert inserted[-1][0] == "service:demo"
    # the binding ends with its transaction: the next one is anonymous again
    with seeded.begin() as conn:
        assert conn.execute(text("UPDATE share SET denominator = 3 WHERE id = 1")).rowcount == 0


@pytest.mark.parametrize("who", ["owner", "superuser"])
def test_a_direct_update_by_the_owner_or_superuser_is_audited(seeded: Engine, who: str) -> None:
    """They bypass row-level security, not the statement trigger."""
    privileged = owner_engine(seeded) if who == "owner" else superuser_engine(seeded)
    with privileged.begin() as conn:
        role = conn.execute(text("SELECT session_user")).scalar_one()
        conn.execute(text("UPDATE share SET numerator = 1, denominator = 3 WHERE id = 1"))
    assert _share(seeded) == (1, 3)
    ((actor, details),) = _audit_rows(seeded, "share", "db.update")
    assert actor == f"db:{role}" and details["db_user"] == role
    (change,) = details["rows_changed"]  # type: ignore[misc]
    assert (change["before"]["denominator"], change["after"]["denominator"]) == (1, 3)
    assert len(str(details["digest"])) == 64


# --- the reporting role --------------------------------------------------------------------


@pytest.fixture
def report(seeded: Engine) -> Iterator[Engine]:
    eng = get_engine(load_settings(), str(seeded.url.database), "report")
    with eng.connect() as conn, seeded.connect() as app:
        same = (
            conn.execute(text("SELECT current_user")).scalar_one()
            == app.execute(text("SELECT current_user")).scalar_one()
        )
    if same:  # an external server configured without LANDGOV_REPORT_DATABASE_URL
        pytest.skip("this deployment has no separate reporting role")
    yield eng
    eng.dispose()


def test_the_reporting_role_reads_but_never_writes(report: Engine) -> None:
    with report.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM share")).scalar_one() == 1
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() >= 1
    for sql in (
        "INSERT INTO admin_unit (level, name) VALUES ('province', 'Sindh')",
        "UPDATE mouza SET name = 'X'",
        "DELETE FROM party",
        "INSERT INTO audit_log (actor, action, entity) VALUES ('a', 'b', 'c')",
        "CREATE TABLE t (id int)",
    ):
        _refused(report, sql)


@pytest.mark.parametrize("table", ["app_user", "user_session", "acting_session"])
def test_the_reporting_role_cannot_read_credentials(report: Engine, table: str) -> None:
    assert f"permission denied for table {table}" in _refused(report, f"SELECT * FROM {table}")


# --- the private cluster -------------------------------------------------------------------


@pytest.fixture
def private_cluster(engine: Engine) -> Iterator[Connection]:
    """The superuser's connection to the test database on the private cluster."""
    if not load_settings().uses_private_cluster:
        pytest.skip("LANDGOV_DATABASE_URL: the server is the deployer's, not landgov's")
    with superuser_engine(engine).connect() as conn:
        yield conn


def test_the_cluster_trusts_nobody_without_a_password(
    private_cluster: Connection, engine: Engine
) -> None:
    rules = private_cluster.execute(
        text("SELECT line_number, type, auth_method, error FROM pg_hba_file_rules")
    ).all()
    assert rules, "pg_hba.conf has no rules"
    assert [r for r in rules if r.error is not None] == []
    assert {r.auth_method for r in rules} == {"scram-sha-256"}, rules  # no trust, no md5
    assert private_cluster.execute(text("SHOW password_encryption")).scalar_one() == "scram-sha-256"
    stored = private_cluster.execute(
        text(
            "SELECT rolname, rolpassword FROM pg_authid"
            " WHERE rolname IN ('postgres', 'landgov_owner', 'landgov_app', 'landgov_report')"
        )
    ).all()
    assert len(stored) == 4
    assert all(str(pw).startswith("SCRAM-SHA-256$") for _, pw in stored), [n for n, _ in stored]

    settings = load_settings()
    for user in ("landgov_app", "postgres"):  # no password, no connection
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(
                host="127.0.0.1",
                port=settings.port,
                user=user,
                dbname=str(engine.url.database),
                password="",
                passfile="/nonexistent",
                connect_timeout=10,
            ).close()


def test_the_generated_passwords_are_private(private_cluster: Connection) -> None:
    settings = load_settings()
    assert stat.S_IMODE(settings.db_secrets_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(settings.secrets_dir.stat().st_mode) == 0o700


@pytest.mark.parametrize("rows", [20, 21, 60])
def test_statement_audit_keeps_rows_up_to_twenty_and_digests_every_row(
    seeded: Engine, rows: int
) -> None:
    """Before and after are kept for 20 rows or fewer; ids for the first 50; the digest is
    the SHA-256 of each row's own SHA-256, one a line in key order (sql/026), so a
    statement of a million rows neither holds every row in one value nor fails."""
    import hashlib

    privileged = owner_engine(seeded)
    with privileged.begin() as conn:
        conn.execute(text(
            "INSERT INTO khewat (id, mouza_id, number)"
            " SELECT 100 + g, 1, 100 + g FROM generate_series(1, :n) g"
        ), {"n": rows})  # fmt: skip
        per_row = conn.execute(text(
            "SELECT encode(sha256(convert_to(to_jsonb(k)::text, 'UTF8')), 'hex')"
            " FROM khewat k WHERE id > 100 ORDER BY id"
        )).scalars().all()  # fmt: skip
    ((_, details),) = _audit_rows(seeded, "khewat", "db.insert")[-1:]
    assert details["rows"] == rows
    assert details["ids"] == list(range(101, 101 + min(rows, 50)))
    assert ("rows_changed" in details) == (rows <= 20)
    if rows <= 20:
        assert len(details["rows_changed"]) == rows  # type: ignore[arg-type]
    expected = hashlib.sha256("\n".join(per_row).encode()).hexdigest()
    assert details["digest"] == expected
