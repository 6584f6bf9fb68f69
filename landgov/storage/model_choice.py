"""Per-mouza model choice (``sql/024_mouza_model.sql``): rows, the mouza's extent.

Only reads and writes; whether the actor may, and which model a mouza gets when it has no
row, are decided in :mod:`landgov.jobs.model_choice`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

TASKS = ("crops",)


@dataclass(frozen=True)
class Assignment:
    """A mouza's chosen model for one task."""

    mouza_id: int
    task: str
    model_name: str
    model_version: str | None
    note: str
    set_by: str
    set_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {**self.__dict__, "set_at": self.set_at.isoformat(timespec="seconds")}


_COLUMNS = "mouza_id, task, model_name, model_version, note, set_by, set_at"


def assignments(conn: Connection, task: str = "crops") -> dict[int, Assignment]:
    """Every stored choice for ``task``, by mouza id."""
    rows = conn.execute(
        text(f"SELECT {_COLUMNS} FROM mouza_model WHERE task = :t ORDER BY mouza_id"),
        {"t": task},
    ).mappings()
    return {int(r["mouza_id"]): Assignment(**r) for r in rows}


def upsert(
    conn: Connection,
    *,
    mouza_id: int,
    task: str,
    model_name: str,
    model_version: str | None,
    note: str,
    set_by: str,
) -> Assignment | None:
    """Stores the choice (replacing an earlier one); returns the one it replaced."""
    before = assignments(conn, task).get(mouza_id)
    conn.execute(
        text(
            "INSERT INTO mouza_model (mouza_id, task, model_name, model_version, note, set_by)"
            " VALUES (:m, :t, :n, :v, :note, :by)"
            " ON CONFLICT (mouza_id, task) DO UPDATE SET model_name = EXCLUDED.model_name,"
            " model_version = EXCLUDED.model_version, note = EXCLUDED.note,"
            " set_by = EXCLUDED.set_by, set_at = now()"
        ),
        {"m": mouza_id, "t": task, "n": model_name, "v": model_version, "note": note, "by": set_by},
    )
    return before


def delete(conn: Connection, *, mouza_id: int, task: str) -> Assignment | None:
    """Removes the choice; returns it (None if there was none)."""
    before = assignments(conn, task).get(mouza_id)
    conn.execute(
        text("DELETE FROM mouza_model WHERE mouza_id = :m AND task = :t"),
        {"m": mouza_id, "t": task},
    )
    return before


Extent = tuple[float, float, float, float]
"""(west, south, east, north) in degrees."""


def mouza_extent(conn: Connection, mouza_id: int) -> Extent | None:
    """(west, south, east, north) in degrees of the mouza's live and retired khasras; None
    for a mouza with no mapped khasra."""
    row = conn.execute(
        text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM"
            " (SELECT ST_Extent(ST_Transform(geom, 4326)) AS b FROM khasra"
            "  WHERE mouza_id = :m) e"
        ),
        {"m": mouza_id},
    ).one()
    return None if row[0] is None else (float(row[0]), float(row[1]), float(row[2]), float(row[3]))


def mouza_extents(conn: Connection, mouza_ids: Sequence[int]) -> dict[int, Extent]:
    """:func:`mouza_extent` of each of ``mouza_ids``, grouped in one statement (``serving``
    lists every mouza: one read, not one a mouza); a mouza with no mapped khasra is left
    out. The one-mouza query stays for :func:`~landgov.jobs.model_choice.choose_crop_model`
    (the predict path), where a grouped read buys nothing."""
    rows = conn.execute(
        text(
            "SELECT mouza_id, ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM"
            " (SELECT mouza_id, ST_Extent(ST_Transform(geom, 4326)) AS b FROM khasra"
            "  WHERE mouza_id = ANY(:m) GROUP BY mouza_id) e"
        ),
        {"m": [int(m) for m in mouza_ids]},
    ).all()
    return {
        int(r[0]): (float(r[1]), float(r[2]), float(r[3]), float(r[4]))
        for r in rows
        if r[1] is not None
    }
