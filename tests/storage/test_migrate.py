"""The migration runner: ordering, idempotence, atomicity, checksum protection."""

from __future__ import annotations

from pathlib import Path

import pytest
from security_support import owner_engine
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from landgov.errors import MigrationError
from landgov.storage import migrate


def test_template_is_fully_migrated(engine: Engine) -> None:
    versions = migrate.applied(engine)
    assert sorted(versions) == [m.version for m in migrate.discover()]
    assert migrate.pending(engine) == []
    assert migrate.migrate(owner_engine(engine)) == []  # a second run applies nothing


def test_only_the_owner_migrates(engine: Engine) -> None:
    """The application role can read which migrations ran, but not record or run one."""
    with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO schema_migration (version, name, checksum) VALUES (999, 'x', 'y')")
        )
    with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
        conn.execute(text("CREATE TABLE t_app (id int)"))


def test_schema_has_the_record_entities(engine: Engine) -> None:
    names = set(inspect(engine).get_table_names())
    for expected in (
        "admin_unit",
        "mouza",
        "khasra",
        "khewat",
        "khewat_khasra",
        "share",
        "khatauni",
        "party",
        "jamabandi",
        "mutation",
        "mutation_line",
        "girdawari",
        "state_land",
        "audit_log",
        "officer",
    ):
        assert expected in names


def test_geometry_columns_are_4326_with_gist_indexes(engine: Engine) -> None:
    with engine.connect() as conn:
        cols = conn.execute(
            text("SELECT f_table_name, f_geometry_column, srid, type FROM geometry_columns")
        ).all()
        indexed = {
            (t, col)
            for t, col in conn.execute(
                text(
                    "SELECT tablename, substring(indexdef from 'USING gist \\((\\w+)\\)')"
                    " FROM pg_indexes WHERE indexdef ILIKE '%USING gist%'"
                )
            )
        }
    assert {t for t, *_ in cols} >= {"khasra", "state_land", "mouza"}
    for table_name, column, srid, kind in cols:
        assert (srid, kind) == (4326, "MULTIPOLYGON"), table_name
        assert (table_name, column) in indexed, f"{table_name}.{column} has no GiST index"


def _write(dir_: Path, name: str, sql: str) -> None:
    (dir_ / name).write_text(sql, encoding="utf-8")


def test_failed_migration_leaves_no_trace(empty_engine: Engine, tmp_path: Path) -> None:
    _write(tmp_path, "001_ok.sql", "CREATE TABLE t_ok (id int);")
    _write(tmp_path, "002_bad.sql", "CREATE TABLE t_half (id int); SELECT no_such_function();")
    with pytest.raises(MigrationError, match=r"002_bad\.sql"):
        migrate.migrate(empty_engine, tmp_path)
    names = set(inspect(empty_engine).get_table_names())
    assert "t_ok" in names and "t_half" not in names
    assert 2 not in migrate.applied(empty_engine)


def test_percent_signs_in_sql_are_literal(empty_engine: Engine, tmp_path: Path) -> None:
    _write(tmp_path, "001_pct.sql", "CREATE TABLE t_pct AS SELECT '100%' AS v;")
    migrate.migrate(empty_engine, tmp_path)
    with empty_engine.connect() as conn:
        assert conn.execute(text("SELECT v FROM t_pct")).scalar() == "100%"


def test_editing_an_applied_migration_is_refused(empty_engine: Engine, tmp_path: Path) -> None:
    _write(tmp_path, "001_a.sql", "CREATE TABLE t_a (id int);")
    migrate.migrate(empty_engine, tmp_path)
    _write(tmp_path, "001_a.sql", "CREATE TABLE t_a (id bigint);")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrate.migrate(empty_engine, tmp_path)


def test_badly_named_migration_is_refused(tmp_path: Path) -> None:
    _write(tmp_path, "1_short.sql", "SELECT 1;")
    with pytest.raises(MigrationError, match=r"NNN_name\.sql"):
        migrate.discover(tmp_path)
