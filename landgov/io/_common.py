"""Helpers shared by the importers and the exporter."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.errors import ImportRejected, RowProblem
from landgov.storage.audit import append as append_audit


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
    """One audit row, chained by :func:`landgov.storage.audit.append`."""
    append_audit(
        conn, actor=actor, action=action, entity=entity, entity_id=entity_id, details=details
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
