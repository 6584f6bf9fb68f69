"""Helpers shared by the importers and the exporter."""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import pandas as pd
import psycopg
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from landgov.errors import ImportRejected, RowProblem


def file_problem(path: Path, reason: str, field: str | None = None) -> ImportRejected:
    """An ImportRejected for a problem with the whole file (no row)."""
    return ImportRejected(str(path), [RowProblem(None, field, reason)])


def check_readable(path: Path) -> None:
    """Rejects a path that is not an existing, readable regular file."""
    if not path.exists():
        raise file_problem(path, "file not found")
    if not path.is_file():
        raise file_problem(path, "not a file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise file_problem(path, f"cannot be read: {exc.strerror or exc}") from exc


def sha256_file(path: Path) -> str:
    """SHA-256 of a file; for a Shapefile, of the .shp and its sidecars together.

    A Shapefile's attributes and CRS live in sidecar files (.dbf, .shx, .prj, .cpg), so
    hashing the .shp alone would let two different imports share one fingerprint.
    """
    files = [path]
    if path.suffix.lower() == ".shp":
        files += sorted(
            p
            for p in path.parent.glob(path.stem + ".*")
            if p.suffix.lower() in {".dbf", ".shx", ".prj", ".cpg"}
        )
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as fh:
            for chunk in iter(lambda fh=fh: fh.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def mouza_label(conn: Connection, mouza_id: int) -> str:
    """``mouza Kot Nau (hadbast 117)``."""
    name, hadbast = conn.execute(
        text("SELECT name, hadbast_number FROM mouza WHERE id = :id"), {"id": mouza_id}
    ).one()
    return f"mouza {name} (hadbast {hadbast})"


def write_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    details: Mapping[str, object],
) -> None:
    conn.execute(
        text(
            "INSERT INTO audit_log (actor, action, entity, entity_id, details)"
            " VALUES (:actor, :action, :entity, :entity_id, CAST(:details AS jsonb))"
        ),
        {
            "actor": actor,
            "action": action,
            "entity": entity,
            "entity_id": entity_id,
            "details": json.dumps(details, default=str),
        },
    )


def cell_text(value: object) -> str | None:
    """A cell as stripped text; None for a missing value or blank text.

    Numbers read from typed columns come back as the text a person would type: an
    integral float ``12.0`` is ``"12"``.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if value is pd.NA or value is pd.NaT:
        return None
    stripped = str(value).strip()
    return stripped or None


_COPY_CONTEXT = re.compile(r"\n(?:CONTEXT:\s+)?COPY \w+, line \d+[^\n]*")


def database_reason(exc: BaseException) -> str:
    """The database's own message for a failed statement, on one line.

    The context line a failed COPY adds (``COPY khasra, line 2: "<raw row>"``) is left
    out: the raw row is noise to a reader, and an INSERT's message has no such line.
    """
    orig = getattr(exc, "orig", None) or exc
    return " ".join(_COPY_CONTEXT.sub("", str(orig)).split())


def copy_rows(
    conn: Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]
) -> None:
    """Writes ``rows`` (values in the order of ``columns``) into ``table`` with COPY.

    COPY streams every row in one statement, many times faster than executemany INSERTs
    for thousands of rows. It runs on the psycopg connection under ``conn``, so inside
    the caller's transaction. Values are adapted by psycopg (None is NULL, a list an
    array; give a geometry as hex EWKB with its SRID). A failure is raised as SQLAlchemy's
    DBAPIError, as an INSERT's would be, so that callers report both alike.
    """
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    try:
        with driver.cursor() as cursor, cursor.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
    except psycopg.Error as exc:
        raise DBAPIError.instance(statement, None, exc, psycopg.Error) from exc
