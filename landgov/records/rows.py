"""Small reads of the record shared by the mutation engine and partitions.

Entry, decisions, the faraid check, replay and :mod:`~landgov.records.partition` all turn
what people write (a party's CNIC, a khewat's number) into the database's ids and back,
and read a mutation's lines. These helpers do it, each one statement in the caller's
transaction; none checks who acts or writes anything. They are public so that no module
of the engine borrows another's private helpers (and none imports another just for
them): every module above depends on this one, and this one on none of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.domain import ledger
from landgov.errors import AccessDenied
from landgov.security import Actor
from landgov.storage import officers
from landgov.storage.lookup import NotFound

__all__ = [
    "Party",
    "acting_officer",
    "khewat_ids",
    "khewat_numbers",
    "mouza_of_mutation",
    "mutation_lines",
    "mutation_lines_numbered",
    "officer_text",
    "parties",
    "party_id",
    "party_refs",
]

_CNIC_RE: Final = re.compile(r"^\d{5}-\d{7}-\d$")


# --- mutations ---------------------------------------------------------------------------


def mouza_of_mutation(conn: Connection, mutation_id: int) -> int:
    """The mouza of a mutation, read without a lock: the actor is authorized against it
    before the row is locked (row-level security hides from a lock the rows the actor
    may not write, which would read as "no such mutation" instead of the refusal).

    Raises:
        NotFound: no such mutation.
    """
    mouza_id = conn.execute(
        text("SELECT mouza_id FROM mutation WHERE id = :id"), {"id": mutation_id}
    ).scalar()
    if mouza_id is None:
        raise NotFound(f"no mutation with id {mutation_id}")
    return int(mouza_id)


def mutation_lines(conn: Connection, mutation_id: int) -> list[ledger.Line]:
    """The mutation's lines in line order, with party and khewat ids."""
    rows = conn.execute(
        text(
            "SELECT khewat_id, transferor_party_id, transferee_party_id, numerator, denominator,"
            " right_type FROM mutation_line WHERE mutation_id = :id ORDER BY line_no"
        ),
        {"id": mutation_id},
    ).all()
    return [
        ledger.Line(int(k), src, dst, Fraction(int(n), int(d)), str(r))
        for k, src, dst, n, d, r in rows
    ]


def mutation_lines_numbered(
    conn: Connection, mutation_id: int
) -> tuple[list[ledger.Line], dict[int, int]]:
    """The mutation's lines, and the number of each khewat they name (id -> number)."""
    rows = conn.execute(
        text(
            "SELECT l.khewat_id, l.transferor_party_id, l.transferee_party_id, l.numerator,"
            " l.denominator, l.right_type, w.number FROM mutation_line l"
            " JOIN khewat w ON w.id = l.khewat_id WHERE l.mutation_id = :id ORDER BY l.line_no"
        ),
        {"id": mutation_id},
    ).all()
    lines = [
        ledger.Line(int(k), src, dst, Fraction(int(n), int(d)), str(r))
        for k, src, dst, n, d, r, _ in rows
    ]
    return lines, {int(r[0]): int(r[6]) for r in rows}


# --- officers ----------------------------------------------------------------------------


def acting_officer(conn: Connection, actor: Actor) -> officers.Officer:
    """The officer the actor's account is bound to (its designation and postings were
    checked by :func:`landgov.security.authorize`).

    Raises:
        AccessDenied: ``role``, the account is bound to no officer.
    """
    if actor.officer_id is None:  # authorize refuses first: these steps are officers'
        raise AccessDenied("role", f"{actor.display} is not bound to an officer's posting")
    return officers.officer_by_id(conn, actor.officer_id)


def officer_text(officer: officers.Officer) -> str:
    """``Name (designation)``, as the engine's audit rows name the acting officer."""
    return f"{officer.name} ({officer.designation.replace('_', ' ')})"


# --- parties -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Party:
    """A party as a sanction names it in its checks and its audit row."""

    ref: str  # CNIC or custodian code
    label: str  # "Name (ref)"
    died: date | None


def parties(conn: Connection, ids: Iterable[int]) -> dict[int, Party]:
    """The parties ``ids`` (id -> :class:`Party`); ids not found are left out."""
    wanted = sorted(set(ids))
    rows = conn.execute(
        text(
            "SELECT id, coalesce(cnic, custodian), name, date_of_death FROM party"
            " WHERE id = ANY(:ids)"
        ),
        {"ids": wanted},
    ).all()
    return {int(pid): Party(str(ref), f"{name} ({ref})", died) for pid, ref, name, died in rows}


def party_refs(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    """The CNIC, or for a state body its custodian code, of each party (id -> ref)."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        text("SELECT id, coalesce(cnic, custodian) FROM party WHERE id = ANY(:ids)"),
        {"ids": wanted},
    ).all()
    return {int(pid): str(ref) for pid, ref in rows}


def party_id(conn: Connection, ref: str) -> int:
    """The id of the party a CNIC (``#####-#######-#``) or a custodian code names.

    Raises:
        NotFound: no such party.
    """
    ref = ref.strip()
    if _CNIC_RE.match(ref):
        pid = conn.execute(text("SELECT id FROM party WHERE cnic = :r"), {"r": ref}).scalar()
        if pid is None:
            raise NotFound(f"no party with CNIC {ref}")
    else:
        pid = conn.execute(
            text("SELECT id FROM party WHERE custodian = :r"), {"r": ref.lower()}
        ).scalar()
        if pid is None:
            raise NotFound(f"no party '{ref}' (give a CNIC #####-#######-# or a custodian code)")
    return int(pid)


# --- khewats -----------------------------------------------------------------------------


def khewat_ids(conn: Connection, mouza_id: int, numbers: Iterable[int]) -> dict[int, int]:
    """The ids of khewats ``numbers`` of mouza ``mouza_id`` (number -> id).

    Raises:
        NotFound: a number is not a khewat of the mouza (all missing ones are named).
    """
    wanted = sorted(set(numbers))
    rows = conn.execute(
        text("SELECT number, id FROM khewat WHERE mouza_id = :m AND number = ANY(:n)"),
        {"m": mouza_id, "n": wanted},
    ).all()
    found = {int(n): int(i) for n, i in rows}
    missing = [n for n in wanted if n not in found]
    if missing:
        raise NotFound(f"no khewat {', '.join(map(str, missing))} in this mouza")
    return found


def khewat_numbers(conn: Connection, ids: Iterable[int]) -> dict[int, int]:
    """The numbers of khewats ``ids`` (id -> number); ids not found are left out."""
    rows = conn.execute(
        text("SELECT id, number FROM khewat WHERE id = ANY(:ids)"), {"ids": sorted(set(ids))}
    ).all()
    return {int(i): int(n) for i, n in rows}
