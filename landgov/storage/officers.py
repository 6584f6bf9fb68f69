"""Revenue officers and their jurisdiction: who may act in which mouza on a date.

An officer acts in a mouza on ``on`` when an ``officer_jurisdiction`` row valid on that
date (``valid_from <= on < valid_to``) names the mouza's tehsil or patwar circle, or any
admin unit above them (qanungo halqa, district, division, province). This is the rule
:func:`landgov.security.authorize` applies to every action bounded by jurisdiction (the
records engine's entries, verifications and sanctions among them) and the one the
database's row-level security mirrors (``landgov_officer_mouzas``); it lives here, public,
so that the dispute case workflow and the dashboard's case queue apply the same one.

The acting officer is never named by a caller: it is the officer row a signed-in account
is bound to (:attr:`landgov.security.Actor.officer_id`, read with :func:`officer_by_id`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.storage.lookup import NotFound

DESIGNATIONS: Final = (
    "patwari",
    "girdawar",
    "naib_tehsildar",
    "tehsildar",
    "assistant_commissioner",
)
"""Every designation the ``officer`` table allows, from the village upwards."""

REVENUE_OFFICERS: Final = frozenset({"naib_tehsildar", "tehsildar", "assistant_commissioner"})
"""The designations that decide: sanction mutations, confirm or dismiss dispute cases."""


@dataclass(frozen=True)
class Officer:
    """One row of ``officer``."""

    id: int
    name: str
    designation: str
    cnic: str | None

    @property
    def label(self) -> str:
        """``Name (designation, CNIC)`` as messages and audit rows name an officer."""
        return f"{self.name} ({self.designation.replace('_', ' ')}, {self.cnic or 'no CNIC'})"


def officer_by_id(conn: Connection, officer_id: int) -> Officer:
    """The officer with id ``officer_id`` (e.g. the one an account is bound to).

    Raises:
        NotFound: no such officer.
    """
    row = conn.execute(
        text("SELECT id, name, designation, cnic FROM officer WHERE id = :i"),
        {"i": int(officer_id)},
    ).one_or_none()
    if row is None:
        raise NotFound(f"no officer with id {officer_id}")
    return Officer(int(row[0]), str(row[1]), str(row[2]), row[3])


# Every (mouza, admin unit at or above its tehsil or patwar circle) pair, then the
# officer's postings valid on the date among those units. One query for any number of
# mouzas: the admin tree is a few hundred rows at most.
_JURISDICTION_SQL: Final = text(
    "WITH RECURSIVE up(mouza_id, unit_id) AS ("
    "  SELECT m.id, u.unit_id FROM mouza m"
    "  CROSS JOIN LATERAL (VALUES (m.tehsil_id), (m.patwar_circle_id)) u(unit_id)"
    "  WHERE u.unit_id IS NOT NULL AND (CAST(:mouzas AS bigint[]) IS NULL"
    "   OR m.id = ANY(CAST(:mouzas AS bigint[])))"
    "  UNION SELECT up.mouza_id, a.parent_id FROM up JOIN admin_unit a ON a.id = up.unit_id"
    "  WHERE a.parent_id IS NOT NULL)"
    " SELECT DISTINCT up.mouza_id FROM up JOIN officer_jurisdiction j"
    "  ON j.admin_unit_id = up.unit_id"
    " WHERE j.officer_id = :officer AND j.valid_from <= :on"
    "  AND (j.valid_to IS NULL OR j.valid_to > :on)"
    " ORDER BY up.mouza_id"
)


def jurisdiction_mouzas(
    conn: Connection, officer_id: int, on: date, mouza_ids: Iterable[int] | None = None
) -> list[int]:
    """Ids of the mouzas (among ``mouza_ids``, or all) officer ``officer_id`` acts in on
    ``on``, ascending. An unknown officer simply has none."""
    wanted = None if mouza_ids is None else [int(m) for m in mouza_ids]
    rows = conn.execute(
        _JURISDICTION_SQL, {"mouzas": wanted, "officer": officer_id, "on": on}
    ).scalars()
    return [int(m) for m in rows]


def has_jurisdiction(conn: Connection, officer_id: int, mouza_id: int, on: date) -> bool:
    """Whether officer ``officer_id`` may act in mouza ``mouza_id`` on ``on``."""
    return bool(jurisdiction_mouzas(conn, officer_id, on, [mouza_id]))
