"""Finding records by the references people type (mouza names, hadbast numbers)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.errors import LandgovError


class NotFound(LandgovError):
    """A referenced record does not exist, or the reference is ambiguous."""


def find_mouza(conn: Connection, ref: str) -> int:
    """Id of the mouza named ``ref`` (case-insensitive), or with hadbast number ``ref``.

    Raises:
        NotFound: no mouza matches, or several do (the message lists them).
    """
    rows = conn.execute(
        text(
            "SELECT m.id, m.name, m.hadbast_number, t.name FROM mouza m "
            "JOIN admin_unit t ON t.id = m.tehsil_id "
            "WHERE lower(m.name) = lower(:ref) OR m.hadbast_number::text = :ref "
            "ORDER BY m.id"
        ),
        {"ref": ref.strip()},
    ).all()
    if not rows:
        known = conn.execute(text("SELECT name FROM mouza ORDER BY name LIMIT 20")).scalars().all()
        hint = f" Known mouzas: {', '.join(known)}." if known else " No mouza exists yet."
        raise NotFound(f"no mouza '{ref}' (by name or hadbast number).{hint}")
    if len(rows) > 1:
        listed = "; ".join(f"{r[1]} (hadbast {r[2]}, tehsil {r[3]})" for r in rows)
        raise NotFound(f"mouza '{ref}' is ambiguous: {listed}")
    return int(rows[0][0])


def find_khasra(conn: Connection, mouza_id: int, number: str) -> int:
    """Id of khasra ``number`` (e.g. ``45//12/1``) in a mouza.

    Raises:
        NotFound: no such khasra in that mouza.
    """
    found = conn.execute(
        text("SELECT id FROM khasra WHERE mouza_id = :m AND number = :n"),
        {"m": mouza_id, "n": number.strip()},
    ).scalar()
    if found is None:
        raise NotFound(f"no khasra '{number}' in mouza {mouza_id}")
    return int(found)
