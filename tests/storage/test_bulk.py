"""COPY writes: rows land in the caller's transaction, refusals read like an INSERT's."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from landgov.storage import table
from landgov.storage.bulk import (
    MUTATION_COLUMNS,
    MUTATION_LINE_COLUMNS,
    copy_rows,
    database_reason,
)


@pytest.mark.parametrize(
    ("name", "listed"), [("mutation", MUTATION_COLUMNS), ("mutation_line", MUTATION_LINE_COLUMNS)]
)
def test_shared_column_lists_follow_the_schema(
    engine: Engine, name: str, listed: tuple[str, ...]
) -> None:
    """Every listed column exists; every column left out may be left out (NULL or default)."""
    columns = table(engine, name).columns
    assert set(listed) <= set(columns.keys())
    for column in columns:
        if column.name not in listed:
            assert column.nullable or column.server_default is not None, column.name


def test_copy_rows_writes_inside_the_callers_transaction(engine: Engine) -> None:
    rows = [(1, "province", "Punjab", None), (2, "district", "Sheikhupura", 1)]
    with engine.connect() as conn:
        copy_rows(conn, "admin_unit", ("id", "level", "name", "parent_id"), rows)
        got = conn.execute(text("SELECT id, level, name, parent_id FROM admin_unit ORDER BY id"))
        assert [tuple(r) for r in got] == rows
        conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM admin_unit")).scalar_one() == 0


def test_a_refused_row_raises_like_an_insert(engine: Engine) -> None:
    rows = [(1, "province", "Punjab"), (1, "province", "Sindh")]
    with engine.connect() as conn, pytest.raises(IntegrityError) as info:
        copy_rows(conn, "admin_unit", ("id", "level", "name"), rows)
    raw = str(info.value.orig)
    assert "COPY admin_unit, line 2" in raw
    reason = database_reason(info.value)
    assert reason.startswith("duplicate key value violates unique constraint")
    assert "COPY" not in reason and "\n" not in reason
