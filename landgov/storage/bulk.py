"""Bulk writes with PostgreSQL's COPY, and the database's reason when one fails.

Why COPY: it streams every row of a table in one statement, many times faster than
executemany INSERTs for the thousands of rows an import or the demo writes. It runs on
the psycopg connection under the caller's SQLAlchemy connection, so inside the caller's
transaction: a failure rolls back with everything else.

How values are encoded: each row is a sequence of values in the order of ``columns``,
adapted by psycopg as COPY text: None is NULL, dates, numbers and text as usual, a list
an array. A string is handed to the column's input function as it is, so a geometry can
be given as hex EWKB with its SRID, and an array as its text (``{1,2}``).

How errors surface: a refused row raises SQLAlchemy's :class:`~sqlalchemy.exc.DBAPIError`
(the subclass for its SQLSTATE, e.g. IntegrityError), as an INSERT's failure would, so
callers handle both alike. The message carries a context line naming the COPY and the raw
row; :func:`database_reason` gives the message without it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Final

import psycopg
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

MUTATION_COLUMNS: Final = (
    "id",
    "mouza_id",
    "number",
    "type",
    "status",
    "entered_on",
    "verified_on",
    "decided_on",
    "rejection_reason",
    "officer_id",
    "deed_number",
    "sub_registrar",
    "deed_date",
    "consideration_rs",
    "statutory_value_rs",
    "fees_rs",
    "remarks",
)
"""The ``mutation`` columns the demo and the register import fill with COPY (the register
leaves remarks empty); columns added later for the engine, such as ``verified_by``,
are left NULL by these bulk writers."""

MUTATION_LINE_COLUMNS: Final = (
    "mutation_id",
    "line_no",
    "khewat_id",
    "transferor_party_id",
    "transferee_party_id",
    "numerator",
    "denominator",
    "right_type",
)
"""The ``mutation_line`` columns the same two writers fill."""

_COPY_CONTEXT = re.compile(r"\n(?:CONTEXT:\s+)?COPY \w+, line \d+[^\n]*")


RLS_TABLES: Final = frozenset(
    {"khasra", "khewat", "khewat_khasra", "share", "mutation", "mutation_line"}
)
"""Tables under row-level security (``sql/018_security.sql``). PostgreSQL refuses COPY
FROM into them for a role the policies apply to, so rows go through a temporary staging
table and one ``INSERT ... SELECT``, which the policies check row by row."""


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """Writes ``rows`` (values in the order of ``columns``) into ``table`` with COPY.

    Raises:
        DBAPIError: the database refused a row (see the module's notes).
    """
    cols = ", ".join(columns)
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    target = table
    if table in RLS_TABLES:
        target = f"_stage_{table}"
        driver.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {target} AS SELECT {cols} FROM {table} WITH NO DATA"
        )
        driver.execute(f"TRUNCATE {target}")
    statement = f"COPY {target} ({cols}) FROM STDIN"
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
        if target != table:
            statement = f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {target}"
            driver.execute(statement)
            driver.execute(f"DROP TABLE {target}")
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc


def database_reason(exc: BaseException) -> str:
    """The database's own message for a failed statement, on one line.

    The context line a failed COPY adds (``COPY khasra, line 2: "<raw row>"``) is left
    out: the raw row is noise to a reader, and an INSERT's message has no such line.
    """
    orig = getattr(exc, "orig", None) or exc
    return " ".join(_COPY_CONTEXT.sub("", str(orig)).split())
