"""Applies the numbered SQL migrations in ``sql/`` and records what was applied.

Each file ``NNN_name.sql`` runs in its own transaction together with the row that
records it in ``schema_migration``, so a failed migration leaves no trace. The checksum
of every applied file is kept: editing a migration after it ran is refused, because the
databases that already ran it would silently differ from new ones. An advisory lock
lets two processes migrate the same database safely.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.errors import MigrationError

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")
_LOCK_KEY = 0x1A4D_607  # any constant shared by every landgov process


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def discover(sql_dir: Path = SQL_DIR) -> list[Migration]:
    found: list[Migration] = []
    for path in sorted(sql_dir.glob("*.sql")):
        match = _NAME.match(path.name)
        if match is None:
            raise MigrationError(f"{path}: migration files are named NNN_name.sql")
        found.append(Migration(int(match[1]), match[2], path))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"{sql_dir}: two migrations share a version number")
    return found


def _ensure_table(conn: Connection) -> None:
    conn.execute(
        text(
            "CREATE TABLE IF NOT EXISTS schema_migration ("
            " version integer PRIMARY KEY, name text NOT NULL, checksum text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
    )


def applied(engine: Engine) -> dict[int, str]:
    """Version → checksum of every migration applied to the database."""
    with engine.begin() as conn:
        # read-only for roles that may not create tables (the application role)
        if conn.execute(text("SELECT to_regclass('schema_migration')")).scalar() is None:
            return {}
        rows = conn.execute(text("SELECT version, checksum FROM schema_migration"))
        return {int(v): str(c) for v, c in rows}


def pending(engine: Engine, sql_dir: Path = SQL_DIR) -> list[Migration]:
    done = applied(engine)
    todo = []
    for migration in discover(sql_dir):
        if migration.version in done:
            if done[migration.version] != migration.checksum:
                raise MigrationError(
                    f"{migration.path.name} was edited after it was applied; "
                    "write a new migration instead"
                )
        else:
            todo.append(migration)
    return todo


def migrate(engine: Engine, sql_dir: Path = SQL_DIR) -> list[Migration]:
    """Apply every pending migration in order; returns those applied."""
    ran: list[Migration] = []
    with engine.begin() as conn:
        _ensure_table(conn)
    with engine.connect() as lock_conn:
        lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _LOCK_KEY})
        try:
            for migration in pending(engine, sql_dir):
                try:
                    with engine.begin() as conn:
                        # through the driver without parameters, so '%' in SQL is literal
                        driver = conn.connection.driver_connection
                        assert driver is not None
                        driver.execute(migration.sql)
                        conn.execute(
                            text(
                                "INSERT INTO schema_migration (version, name, checksum) "
                                "VALUES (:v, :n, :c)"
                            ),
                            {"v": migration.version, "n": migration.name, "c": migration.checksum},
                        )
                except Exception as exc:  # any database error aborts this migration only
                    reason = getattr(exc, "orig", None) or exc
                    raise MigrationError(f"{migration.path.name}: {reason}") from exc
                ran.append(migration)
        finally:
            lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _LOCK_KEY})
            lock_conn.commit()
    return ran
