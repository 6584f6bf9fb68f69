"""Reads of who is posted where, as the dashboard's sidebar shows them.

Kept beside the rest of :mod:`landgov.security` (jurisdiction is what
:func:`~landgov.security.authorize` checks) so that the dashboard shell runs no SQL of its
own: it calls these functions and formats what they return.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection


@dataclass(frozen=True)
class Posting:
    """One ``officer_jurisdiction`` row: the admin unit (``level`` and ``name``) an officer
    is posted over, from ``valid_from`` until ``valid_to`` (None: still posted)."""

    level: str
    name: str
    valid_from: date
    valid_to: date | None


def officer_postings(conn: Connection, officer_id: int, on: date) -> list[Posting]:
    """The postings of officer ``officer_id`` in force on ``on`` (``valid_from <= on <
    valid_to``), oldest first, then by unit name.

    The date is the caller's, not the database's ``current_date``: the dashboard asks
    for the day its sidebar shows, so a session that runs past midnight stays consistent.
    """
    rows = conn.execute(
        text(
            "SELECT a.level, a.name, j.valid_from, j.valid_to FROM officer_jurisdiction j"
            " JOIN admin_unit a ON a.id = j.admin_unit_id WHERE j.officer_id = :o"
            " AND j.valid_from <= :d AND (j.valid_to IS NULL OR j.valid_to > :d)"
            " ORDER BY j.valid_from, a.name"
        ),
        {"o": officer_id, "d": on},
    ).all()
    return [Posting(str(r.level), str(r.name), r.valid_from, r.valid_to) for r in rows]


def postings_today(conn: Connection, officer_id: int) -> tuple[list[Posting], int]:
    """The officer's postings on the database's today, by level then name (as
    ``landgov whoami`` lists them), and how many mouzas they cover together."""
    from landgov.storage.officers import jurisdiction_mouzas

    today = conn.execute(text("SELECT current_date")).scalar_one()
    postings = sorted(officer_postings(conn, officer_id, today), key=lambda p: (p.level, p.name))
    return postings, len(jurisdiction_mouzas(conn, officer_id, today))
