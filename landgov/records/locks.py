"""The locks the mutation engine takes, and in which order.

Every writer of the register takes its locks through this module, so the order that
keeps them free of deadlocks is written down in one place.

Advisory locks (held until the transaction ends)
    * the mouza's *register* lock (:func:`lock_register`) numbers its mutations: every
      entry takes it before inserting, so two patwaris entering at once get consecutive
      numbers;
    * the mouza's *khewat numbers* lock (:func:`lock_khewat_numbers`) numbers new
      khewats (a partition opens one per co-owner), taken after the register lock.

    A writer takes them before anything it writes, so every writer takes them before the
    audit chain's lock (:func:`landgov.storage.audit.append`), and always in that order:
    register, khewat numbers, audit chain. No two writers can wait on each other in a
    circle.

Row locks (decisions: verify, reject, sanction)
    :func:`lock_mutation` locks the mutation row and :func:`lock_khewats` the khewat rows
    a sanction touches, in id order, both ``FOR NO KEY UPDATE NOWAIT``. ``NOWAIT``: a row
    another decision holds is a :class:`~landgov.errors.SanctionConflict` at once ("khewat
    N is being changed by another sanction; nothing written") rather than a wait, so two
    officers deciding conflicting mutations at the same moment get exactly one success
    and one conflict, and no deadlock is possible. ``NO KEY UPDATE`` rather than
    ``UPDATE`` so that a concurrent entry (whose foreign keys take KEY SHARE on the
    khewat) neither blocks nor is mistaken for a conflicting sanction. The steps of a
    sanction around these locks are in :mod:`landgov.records.decisions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from landgov.errors import SanctionConflict
from landgov.storage.lookup import NotFound

__all__ = [
    "MutationRow",
    "is_lock_refusal",
    "lock_khewat_numbers",
    "lock_khewats",
    "lock_mutation",
    "lock_register",
]

# advisory-lock namespaces, one per kind of number a mouza hands out (the second key is
# the mouza's id)
_REGISTER_LOCK: Final = 0x1A4D_0703  # per-mouza register (mutation) numbers
_KHEWAT_LOCK: Final = 0x1A4D_0704  # per-mouza new khewat numbers
_LOCK_NOT_AVAILABLE: Final = "55P03"  # PostgreSQL's sqlstate for a NOWAIT refusal


@dataclass
class MutationRow:
    """A mutation as a decision reads it under its row lock (:func:`lock_mutation`)."""

    id: int
    mouza_id: int
    mouza_name: str
    tehsil_id: int
    patwar_circle_id: int | None
    number: int
    type: str
    status: str
    entered_on: date
    verified_on: date | None
    deed_date: date | None
    entered_by_user: int | None
    verified_by_user: int | None

    @property
    def label(self) -> str:
        return f"mutation {self.number} of mouza {self.mouza_name}"


def lock_register(conn: Connection, mouza_id: int) -> None:
    """Takes the mouza's register lock (held until the transaction ends), which numbers
    its mutations. A writer that also opens khewats takes it before anything it writes,
    so every writer takes it before the audit chain's lock (no deadlock)."""
    conn.execute(
        text("SELECT pg_advisory_xact_lock(:ns, :m)"), {"ns": _REGISTER_LOCK, "m": mouza_id}
    )


def lock_khewat_numbers(conn: Connection, mouza_id: int) -> None:
    """Takes the mouza's lock on new khewat numbers (held until the transaction ends).

    Take it after :func:`lock_register` and before the first audited write (module
    notes), then read the next free number.
    """
    conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :m)"), {"ns": _KHEWAT_LOCK, "m": mouza_id})


def is_lock_refusal(exc: DBAPIError) -> bool:
    """Whether a database error is a ``NOWAIT`` lock that another transaction holds."""
    return getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


def lock_mutation(conn: Connection, mutation_id: int) -> MutationRow:
    """Locks mutation ``mutation_id`` without waiting and reads it (module notes).

    Raises:
        SanctionConflict: another officer holds the mutation. NotFound: no such mutation.
    """
    sql = text(
        "SELECT m.id, m.mouza_id, z.name, z.tehsil_id, z.patwar_circle_id, m.number, m.type,"
        " m.status, m.entered_on, m.verified_on, m.deed_date, m.entered_by_user,"
        " m.verified_by_user"
        " FROM mutation m JOIN mouza z ON z.id = m.mouza_id WHERE m.id = :id"
        " FOR NO KEY UPDATE OF m NOWAIT"
    )
    try:
        row = conn.execute(sql, {"id": mutation_id}).one_or_none()
    except DBAPIError as exc:
        if is_lock_refusal(exc):
            raise SanctionConflict(
                f"mutation id {mutation_id} is being decided by another officer right now; "
                "nothing written"
            ) from None
        raise
    if row is None:
        raise NotFound(f"no mutation with id {mutation_id}")
    return MutationRow(*row)


def lock_khewats(conn: Connection, numbers: Mapping[int, int]) -> None:
    """Locks the khewat rows (id -> number) in id order without waiting (module notes).

    A failed statement ends the transaction, so the numbers for the message are read
    before locking.

    Raises:
        SanctionConflict: another sanction holds one of the khewats.
    """
    for kid in sorted(numbers):
        # one row at a time, so a refusal can name the khewat that is busy
        try:
            conn.execute(
                text("SELECT 1 FROM khewat WHERE id = :id FOR NO KEY UPDATE NOWAIT"), {"id": kid}
            )
        except DBAPIError as exc:
            if is_lock_refusal(exc):
                raise SanctionConflict(
                    f"khewat {numbers[kid]} is being changed by another sanction; nothing written"
                ) from None
            raise
