"""Mutation (intiqal) lifecycle: enter, verify, sanction or reject, and replay.

Lifecycle (domain.md §2, §4)
    ``entered`` (the patwari records the transfer) -> ``verified`` (a girdawar or a
    revenue officer checks it) -> ``sanctioned`` (a revenue officer attests it and the
    shares change) or ``rejected`` (with a reason, from entered or verified). Every
    transition is one transaction with one audit row of the engine (who, when, what
    changed, the shares before and after; the database's triggers add one row per
    statement on the record tables); a refusal writes nothing, not even an audit row.

Who may act
    Only an authenticated actor (:class:`landgov.security.Actor`, from a session, never a
    name a caller types). Every changing function takes ``actor=`` and, in its own
    transaction, first binds it (:func:`landgov.security.bind`: the database checks the
    session again and from then on knows who acts, for its row-level security and its
    audit triggers), then checks it with :func:`landgov.security.authorize` against the
    mutation's mouza and the date given to the step: the role (``mutation.enter``:
    patwari; ``mutation.verify``: girdawar or a revenue officer; ``mutation.sanction`` and
    ``mutation.reject``: naib tehsildar, tehsildar, assistant commissioner), the account's
    officer posted over the mouza today, no date in the future, a past date only within
    the back-dating window (``security_setting.backdate_window_days``) and only when the
    officer was posted there on that date too, and for a sanction or rejection a session
    opened with the second factor. The acting officer is the one the account is bound to
    (``actor.officer_id``). Separation of duties: whoever entered a mutation cannot verify
    it; whoever entered or verified it cannot sanction or reject it
    (:func:`landgov.security.policy.separation_of_duties`; mutations loaded by the demo
    or imported have no accounts recorded, so none conflicts with them).

    These refusals are :class:`~landgov.errors.AccessDenied` (rules ``role``,
    ``jurisdiction``, ``future_date``, ``backdate_window``, ``posting_then_and_now``,
    ``second_factor``, ``separation_of_duties``) and propagate as they are; the record's
    own rules stay :class:`~landgov.errors.SanctionRefused`. Callers show either's
    ``rule``. A session the database no longer accepts is
    :class:`~landgov.errors.AuthenticationFailed`. In every case nothing was written.

    Each step records who: ``entered_by_user``/``entered_by`` (account, officer) on entry,
    ``verified_by_user``/``verified_by`` on verification, ``decided_by_user``/
    ``officer_id`` on sanction or rejection; the server's clock records when
    (``recorded_at``, ``verified_recorded_at``, ``decided_recorded_at``), so a back-dated
    step shows. The engine's audit rows name ``actor.label`` (``user:NAME``) and keep the
    officer's name and designation in their details.

Sanctioning (:func:`sanction`) runs in ONE transaction
    1. the actor is bound and authorized (rules above), the mutation row is locked
       (``FOR NO KEY UPDATE NOWAIT``), its status must be ``verified`` and separation of
       duties holds;
    2. the khewat rows it touches are locked in id order, ``NOWAIT``: a lock held by
       another sanction is a :class:`~landgov.errors.SanctionConflict` at once ("khewat N
       is being changed by another sanction; nothing written") rather than a wait, so two
       officers sanctioning conflicting mutations at the same moment get exactly one
       success and one conflict, and no deadlock is possible. ``NO KEY UPDATE`` rather
       than ``UPDATE`` so that a concurrent entry (whose foreign keys take KEY SHARE on
       the khewat) neither blocks nor is mistaken for a conflicting sanction;
    3. under those locks (READ COMMITTED: every later statement sees everything
       committed before the lock was granted, including a conflicting sanction that won)
       the open share rows are read and the rules checked: dates
       (``sanction_date_order``: not before entry or verification, and after the
       khewats' latest share change), ``transferor_alive_on_deed_date``, ``faraid_shares``
       for inheritance, then :func:`landgov.domain.ledger.apply_lines` per khewat
       (``transferor_holds_share``, ``khewat_sums_to_one``...);
    4. changed holdings close their rows (``valid_to`` = sanction date,
       ``ended_by_mutation_id``) and open new ones; unchanged holdings stay open. The
       close is ``... WHERE valid_to IS NULL`` and its row count is checked, so a row
       changed behind the locks (by a writer that does not take them) is detected as a
       stale read and the sanction fails as a conflict instead of writing over it;
    5. the mutation becomes ``sanctioned`` and the audit row is written last (the audit
       chain serialises writers until commit, so it is held as briefly as possible).

Why refuse a sanction date on or before the khewat's latest change: share periods are
whole days, so a second change on the same day would create a period of no length, and
a sanction dated before a later one would change a past that later sanctions were checked
against. Sanctions therefore apply in date order per khewat; an officer back-dating one
gets ``sanction_date_order``.

Inheritance (wirasat)
    Party relations are not in the database, so the officer states each heir's kind
    (``son``, ``wife``..., or ``predeceased_son_1.daughter`` under MFLO 1961 s.4); they
    are stored with the mutation (``mutation_heir``, excluded heirs included).
    :func:`enter_inheritance` computes the lines with
    :func:`landgov.domain.faraid.compute_shares` times the deceased's share, exactly.
    :func:`check_inheritance` recomputes them for any entered inheritance mutation; a
    mutation whose lines differ is flagged on entry (``mutation_flag``, rule
    ``faraid_shares``, and in the entry's audit row) and refused on sanction with rule
    ``faraid_shares``: an officer cannot override faraid, only reject the mutation and
    have a correct one entered. The estate is the deceased's ownership in the khewats
    the mutation names, as held on the day of the check (so a sale in the deceased's
    name sanctioned in between makes the wirasat differ). The check cannot see an heir
    who is not named at all (domain.md §6.5, an omitted daughter): that needs the
    family tree, which the record does not hold.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from landgov.domain import ledger
from landgov.domain.faraid import School
from landgov.domain.records import MutationType, RightType
from landgov.domain.shares import format_share, validate_share
from landgov.errors import (
    AccessDenied,
    InvalidHeirs,
    InvalidShare,
    LandgovError,
    SanctionConflict,
    SanctionRefused,
)
from landgov.security import Actor, authorize, bind, policy
from landgov.storage import officers
from landgov.storage.audit import append as audit_append
from landgov.storage.lookup import NotFound, find_mouza

__all__ = [
    "DraftLine",
    "InheritanceDifference",
    "InheritanceFacts",
    "MutationDraft",
    "MutationInvalid",
    "ReplayReport",
    "SanctionResult",
    "check_inheritance",
    "enter",
    "enter_inheritance",
    "find_mutation",
    "reject",
    "replay_mouza",
    "sanction",
    "show",
    "verify",
]

_MOUZA_LOCK: Final = 0x1A4D_0703  # advisory-lock namespace for per-mouza register numbers
_CNIC_RE: Final = re.compile(r"^\d{5}-\d{7}-\d$")
_LOCK_NOT_AVAILABLE: Final = "55P03"
_PARTY_IN_MESSAGE: Final = re.compile(r"party (\d+)")


class MutationInvalid(LandgovError):
    """A mutation cannot be entered as given (unknown khewat, bad line...); nothing written."""


# --- drafts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftLine:
    """One line as the patwari writes it.

    ``transferor``/``transferee`` are a CNIC or a state custodian's code
    (``board_of_revenue``...); either may be None (creation or extinction of a right).
    ``share`` is the fraction of the WHOLE khewat.
    """

    khewat_no: int
    transferor: str | None
    transferee: str | None
    share: Fraction
    right_type: str = RightType.OWNERSHIP.value


@dataclass(frozen=True)
class InheritanceFacts:
    """The deceased (CNIC), the school of law, and each heir's kind by CNIC."""

    deceased: str
    heirs: Mapping[str, str]
    school: School | str = School.HANAFI


@dataclass(frozen=True)
class MutationDraft:
    """A mutation to enter. ``mouza`` is a name or hadbast number."""

    mouza: str
    type: MutationType | str
    entered_on: date
    lines: Sequence[DraftLine]
    deed_number: str | None = None
    deed_date: date | None = None
    sub_registrar: str | None = None
    consideration_rs: int | None = None
    statutory_value_rs: int | None = None
    fees_rs: int | None = None
    remarks: str | None = None
    inheritance: InheritanceFacts | None = None


@dataclass(frozen=True)
class InheritanceDifference:
    """One heir (or khewat) where an inheritance mutation differs from faraid."""

    khewat_no: int
    party: str  # CNIC or custodian
    heir_kind: str | None
    expected: Fraction
    recorded: Fraction

    def __str__(self) -> str:
        kind = f" ({self.heir_kind})" if self.heir_kind else ""
        return (
            f"khewat {self.khewat_no}: {self.party}{kind} should receive "
            f"{_fmt(self.expected)}, the mutation gives {_fmt(self.recorded)}"
        )


@dataclass(frozen=True)
class SanctionResult:
    mutation_id: int
    number: int
    closed: int  # share rows closed
    opened: int  # share rows opened
    backdated: bool = False  # dated before the day it was recorded (within the window)


def _fmt(share: Fraction) -> str:
    return format_share(share) if share else "0"


# --- small queries -----------------------------------------------------------------------


@dataclass
class _Mutation:
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


def _mouza_of(conn: Connection, mutation_id: int) -> int:
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


def _today(conn: Connection) -> date:
    """The database's date: the one :func:`landgov.security.authorize` judges dates by."""
    return conn.execute(text("SELECT current_date")).scalar_one()  # type: ignore[no-any-return]


def _acting_officer(conn: Connection, actor: Actor) -> officers.Officer:
    """The officer the actor's account is bound to (its designation and postings were
    checked by :func:`landgov.security.authorize`)."""
    if actor.officer_id is None:  # authorize refuses first: these steps are officers'
        raise AccessDenied("role", f"{actor.display} is not bound to an officer's posting")
    return officers.officer_by_id(conn, actor.officer_id)


def _begin_step(
    conn: Connection, actor: Actor, mutation_id: int, capability: str, on: date
) -> tuple[_Mutation, officers.Officer, bool]:
    """Binds and authorizes ``actor`` for ``capability`` on mutation ``mutation_id``
    dated ``on``, then locks the mutation; returns it, the acting officer and whether
    the step is back-dated.

    Raises:
        AuthenticationFailed, AccessDenied: see the module notes. NotFound: no such
            mutation. SanctionConflict: another officer holds the mutation.
    """
    bind(conn, actor)
    backdated = authorize(conn, actor, capability, mouza_id=_mouza_of(conn, mutation_id), on=on)
    m = _lock_mutation(conn, mutation_id)
    return m, _acting_officer(conn, actor), backdated


def _lock_mutation(conn: Connection, mutation_id: int) -> _Mutation:
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
        if _is_lock_refusal(exc):
            raise SanctionConflict(
                f"mutation id {mutation_id} is being decided by another officer right now; "
                "nothing written"
            ) from None
        raise
    if row is None:
        raise NotFound(f"no mutation with id {mutation_id}")
    return _Mutation(*row)


def _is_lock_refusal(exc: DBAPIError) -> bool:
    return getattr(exc.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE


def _lock_khewats(conn: Connection, numbers: Mapping[int, int]) -> None:
    """Locks the khewat rows (id -> number) in id order without waiting (module notes).

    A failed statement ends the transaction, so the numbers for the message are read
    before locking.
    """
    for kid in sorted(numbers):
        # one row at a time, so a refusal can name the khewat that is busy
        try:
            conn.execute(
                text("SELECT 1 FROM khewat WHERE id = :id FOR NO KEY UPDATE NOWAIT"), {"id": kid}
            )
        except DBAPIError as exc:
            if _is_lock_refusal(exc):
                raise SanctionConflict(
                    f"khewat {numbers[kid]} is being changed by another sanction; nothing written"
                ) from None
            raise


@dataclass(frozen=True)
class _Party:
    ref: str  # CNIC or custodian code
    label: str  # "Name (ref)"
    died: date | None


def _parties(conn: Connection, ids: Iterable[int]) -> dict[int, _Party]:
    wanted = sorted(set(ids))
    rows = conn.execute(
        text(
            "SELECT id, coalesce(cnic, custodian), name, date_of_death FROM party"
            " WHERE id = ANY(:ids)"
        ),
        {"ids": wanted},
    ).all()
    return {int(pid): _Party(str(ref), f"{name} ({ref})", died) for pid, ref, name, died in rows}


def _party_refs(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    rows = conn.execute(
        text("SELECT id, coalesce(cnic, custodian) FROM party WHERE id = ANY(:ids)"),
        {"ids": wanted},
    ).all()
    return {int(pid): str(ref) for pid, ref in rows}


def _party_id(conn: Connection, ref: str) -> int:
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


def _khewat_ids(conn: Connection, mouza_id: int, numbers: Iterable[int]) -> dict[int, int]:
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


def _open_rows(
    conn: Connection, khewat_ids: Sequence[int]
) -> dict[int, list[tuple[int, int, str, int, int]]]:
    """Open share rows per khewat: (row id, party, right, numerator, denominator)."""
    rows = conn.execute(
        text(
            "SELECT khewat_id, id, party_id, right_type, numerator, denominator FROM share"
            " WHERE khewat_id = ANY(:ids) AND valid_to IS NULL ORDER BY id"
        ),
        {"ids": list(khewat_ids)},
    ).all()
    out: dict[int, list[tuple[int, int, str, int, int]]] = {k: [] for k in khewat_ids}
    for kid, rid, pid, right, num, den in rows:
        out[int(kid)].append((int(rid), int(pid), str(right), int(num), int(den)))
    return out


def _holdings(rows: Sequence[tuple[int, int, str, int, int]]) -> ledger.Holdings:
    return ledger.holdings_from_rows((pid, right, num, den) for _, pid, right, num, den in rows)


def _lines(conn: Connection, mutation_id: int) -> list[ledger.Line]:
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


def _lines_numbered(conn: Connection, mutation_id: int) -> tuple[list[ledger.Line], dict[int, int]]:
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


def _khewat_numbers(conn: Connection, ids: Iterable[int]) -> dict[int, int]:
    rows = conn.execute(
        text("SELECT id, number FROM khewat WHERE id = ANY(:ids)"), {"ids": sorted(set(ids))}
    ).all()
    return {int(i): int(n) for i, n in rows}


def _render(holdings: Mapping[ledger.Key, Fraction], refs: Mapping[int, str]) -> dict[str, str]:
    return {
        f"{refs.get(pid, pid)} {right}": format_share(share)
        for (pid, right), share in sorted(holdings.items())
    }


# --- entering ----------------------------------------------------------------------------


def _mutation_type(value: MutationType | str) -> MutationType:
    try:
        return MutationType(str(value).strip().lower())
    except ValueError:
        valid = ", ".join(t.value for t in MutationType)
        raise MutationInvalid(f"unknown mutation type {value!r}; valid: {valid}") from None


def enter(engine: Engine, draft: MutationDraft, *, actor: Actor) -> int:
    """Enters a mutation as ``entered`` with the next number of its mouza; returns its id.

    ``actor`` must be a patwari posted over the mouza today, and on the entry date when
    it is in the past (within the back-dating window); the entry records the account
    and the officer (module notes, Who may act).

    Checks that the mouza, khewats (in that mouza) and parties exist, that every line is
    well formed for the type (:func:`landgov.domain.ledger.apply_lines`' ``line_shape``),
    that the deed is complete and not after entry, and for inheritance that the facts are
    given and consistent. Entry does not check holdings: the patwari records what the
    parties claim, and the sanction decides. An inheritance mutation whose lines differ
    from faraid is entered but flagged (see the module notes).

    Raises:
        AuthenticationFailed, AccessDenied: the actor may not enter it (module notes).
        MutationInvalid, NotFound, InvalidShare, InvalidHeirs: nothing was written.
    """
    mtype = _mutation_type(draft.type)
    if mtype is MutationType.PARTITION:
        raise MutationInvalid(
            "a partition names the khasra it divides: enter it with "
            "landgov.records.partition.enter_partition ('landgov mutation enter-partition')"
        )
    with engine.begin() as conn:
        mouza_id = begin_entry(conn, actor, draft.mouza, draft.entered_on)
        return _enter(conn, mouza_id, mtype, draft, actor=actor)


def begin_entry(conn: Connection, actor: Actor, mouza: str, entered_on: date) -> int:
    """Binds ``actor`` to the transaction and authorizes an entry in ``mouza`` dated
    ``entered_on`` (``mutation.enter``); returns the mouza's id. The first step of every
    entry (shared with partitions).

    Raises:
        AuthenticationFailed, AccessDenied: module notes. NotFound: no such mouza.
    """
    bind(conn, actor)
    mouza_id = find_mouza(conn, mouza)
    authorize(conn, actor, "mutation.enter", mouza_id=mouza_id, on=entered_on)
    return mouza_id


def lock_register(conn: Connection, mouza_id: int) -> None:
    """Takes the mouza's register lock (held until the transaction ends), which numbers
    its mutations. A writer that also opens khewats takes it before anything it writes,
    so every writer takes it before the audit chain's lock (no deadlock)."""
    conn.execute(text("SELECT pg_advisory_xact_lock(:ns, :m)"), {"ns": _MOUZA_LOCK, "m": mouza_id})


def _enter(
    conn: Connection,
    mouza_id: int,
    mtype: MutationType,
    draft: MutationDraft,
    *,
    actor: Actor,
    extra: Callable[[int], dict[str, Any]] | None = None,
) -> int:
    """Inserts a checked mutation in the caller's transaction (shared with partitions),
    which has already bound and authorized ``actor`` (:func:`begin_entry`)."""
    officer = _acting_officer(conn, actor)
    if not draft.lines:
        raise MutationInvalid("a mutation needs at least one line")
    if (draft.deed_number is None) != (draft.deed_date is None):
        raise MutationInvalid("a deed needs both its number and its date")
    if draft.deed_date is not None and draft.deed_date > draft.entered_on:
        raise MutationInvalid(
            f"deed date {draft.deed_date} is after the entry date {draft.entered_on}"
        )
    for what, amount in (
        ("consideration", draft.consideration_rs),
        ("statutory value", draft.statutory_value_rs),
        ("fees", draft.fees_rs),
    ):
        if amount is not None and amount < 0:
            raise MutationInvalid(f"{what} Rs {amount} cannot be negative")
    khewats = _khewat_ids(conn, mouza_id, (line.khewat_no for line in draft.lines))
    refs: dict[str, int] = {}
    lines: list[ledger.Line] = []
    for i, d in enumerate(draft.lines, start=1):
        try:
            share = validate_share(Fraction(d.share))
        except InvalidShare as exc:
            raise MutationInvalid(f"line {i}: {exc}") from None
        src = _ref(conn, refs, d.transferor)
        dst = _ref(conn, refs, d.transferee)
        line = ledger.Line(khewats[d.khewat_no], src, dst, share, str(d.right_type))
        try:
            ledger.check_line(line, mtype.value)
        except SanctionRefused as exc:
            raise MutationInvalid(f"line {i}: {exc.message}") from None
        lines.append(line)
    inheritance: tuple[int, str, dict[int, str]] | None = None
    if mtype is MutationType.INHERITANCE:
        inheritance = _check_inheritance_facts(conn, draft, lines, refs)
    elif draft.inheritance is not None:
        raise MutationInvalid("heirs and a deceased are given only for an inheritance")

    lock_register(conn, mouza_id)
    number = conn.execute(
        text("SELECT coalesce(max(number), 0) + 1 FROM mutation WHERE mouza_id = :m"),
        {"m": mouza_id},
    ).scalar_one()
    mid = conn.execute(
        text(
            "INSERT INTO mutation (mouza_id, number, type, status, entered_on, deed_number,"
            " sub_registrar, deed_date, consideration_rs, statutory_value_rs, fees_rs, remarks,"
            " entered_by_user, entered_by)"
            " VALUES (:mouza, :number, :type, 'entered', :entered, :deed_number,"
            " :sub_registrar, :deed_date, :consideration, :statutory, :fees, :remarks,"
            " :user, :officer) RETURNING id"
        ),
        {
            "user": actor.user_id,
            "officer": officer.id,
            "mouza": mouza_id,
            "number": number,
            "type": mtype.value,
            "entered": draft.entered_on,
            "deed_number": draft.deed_number,
            "sub_registrar": draft.sub_registrar,
            "deed_date": draft.deed_date,
            "consideration": draft.consideration_rs,
            "statutory": draft.statutory_value_rs,
            "fees": draft.fees_rs,
            "remarks": draft.remarks,
        },
    ).scalar_one()
    conn.execute(
        text(
            "INSERT INTO mutation_line (mutation_id, line_no, khewat_id, transferor_party_id,"
            " transferee_party_id, numerator, denominator, right_type)"
            " VALUES (:m, :n, :k, :src, :dst, :num, :den, :right)"
        ),
        [
            {
                "m": mid,
                "n": i,
                "k": line.khewat_id,
                "src": line.transferor,
                "dst": line.transferee,
                "num": line.share.numerator,
                "den": line.share.denominator,
                "right": line.right_type,
            }
            for i, line in enumerate(lines, start=1)
        ],
    )
    details: dict[str, Any] = {
        "mouza_id": mouza_id,
        "number": number,
        "type": mtype.value,
        "entered_on": draft.entered_on,
        "officer": _officer_text(officer),
        "officer_id": officer.id,
        "lines": [
            {
                "khewat_no": d.khewat_no,
                "transferor": d.transferor,
                "transferee": d.transferee,
                "share": format_share(Fraction(d.share)),
                "right_type": str(d.right_type),
            }
            for d in draft.lines
        ],
    }
    if inheritance is not None:
        deceased, school, heirs = inheritance
        conn.execute(
            text(
                "INSERT INTO mutation_inheritance (mutation_id, deceased_party_id, school)"
                " VALUES (:m, :d, :s)"
            ),
            {"m": mid, "d": deceased, "s": school},
        )
        conn.execute(
            text(
                "INSERT INTO mutation_heir (mutation_id, party_id, heir_kind) VALUES (:m, :p, :k)"
            ),
            [{"m": mid, "p": p, "k": k} for p, k in sorted(heirs.items())],
        )
        differences = _inheritance_differences(conn, mid)
        if differences:
            flag = {"differences": [str(d) for d in differences]}
            conn.execute(
                text(
                    "INSERT INTO mutation_flag (mutation_id, rule, details)"
                    " VALUES (:m, 'faraid_shares', CAST(:d AS jsonb))"
                ),
                {"m": mid, "d": _json(flag)},
            )
            details["flags"] = {"faraid_shares": flag["differences"]}
    if extra is not None:
        details.update(extra(mid))
    audit_append(
        conn,
        actor=actor.label,
        action="mutation.enter",
        entity="mutation",
        entity_id=str(mid),
        details=details,
    )
    return int(mid)


def _officer_text(officer: officers.Officer) -> str:
    """``Name (designation)``, as the engine's audit rows name the acting officer."""
    return f"{officer.name} ({officer.designation.replace('_', ' ')})"


def _json(value: object) -> str:
    return json.dumps(value, default=str)


def _ref(conn: Connection, cache: dict[str, int], ref: str | None) -> int | None:
    if ref is None or not ref.strip():
        return None
    key = ref.strip()
    if key not in cache:
        cache[key] = _party_id(conn, key)
    return cache[key]


def _check_inheritance_facts(
    conn: Connection, draft: MutationDraft, lines: Sequence[ledger.Line], refs: dict[str, int]
) -> tuple[int, str, dict[int, str]]:
    facts = draft.inheritance
    if facts is None:
        raise MutationInvalid(
            "an inheritance mutation needs the deceased, the school and each heir's kind"
        )
    try:
        school = School(str(facts.school).strip().lower())
    except ValueError:
        raise MutationInvalid(f"unknown school {facts.school!r}: use hanafi or jafari") from None
    deceased = _ref(conn, refs, facts.deceased)
    assert deceased is not None
    died = conn.execute(
        text("SELECT name, date_of_death FROM party WHERE id = :p"), {"p": deceased}
    ).one()
    if died.date_of_death is None:
        raise MutationInvalid(
            f"{died.name} ({facts.deceased}) has no date of death in the record; "
            "inheritance opens only on a recorded death"
        )
    if died.date_of_death > draft.entered_on:
        raise MutationInvalid(
            f"{died.name} died on {died.date_of_death}, after the entry date {draft.entered_on}"
        )
    heirs: dict[int, str] = {}
    for cnic, kind in facts.heirs.items():
        pid = _ref(conn, refs, cnic)
        assert pid is not None
        if pid == deceased:
            raise MutationInvalid("the deceased cannot be one of the heirs")
        heirs[pid] = str(kind).strip().lower()
    if not heirs:
        raise MutationInvalid("an inheritance mutation names at least one heir")
    ledger.heirs_from_kinds(heirs.values())  # InvalidHeirs early, with the calculator's words
    state = conn.execute(text("SELECT id FROM party WHERE custodian = 'board_of_revenue'")).scalar()
    for i, line in enumerate(lines, start=1):
        if line.transferor != deceased:
            raise MutationInvalid(f"line {i}: an inheritance line transfers from the deceased")
        if line.transferee is None or (line.transferee not in heirs and line.transferee != state):
            raise MutationInvalid(f"line {i}: the transferee is not one of the heirs named")
    return deceased, school.value, heirs


def enter_inheritance(
    engine: Engine,
    *,
    mouza: str,
    deceased_cnic: str,
    heirs: Mapping[str, str],
    entered_on: date,
    actor: Actor,
    school: School | str = School.HANAFI,
    khewat_no: int | Sequence[int] | None = None,
    remarks: str | None = None,
) -> int:
    """Enters a wirasat computed with faraid; returns its id.

    Each heir (CNIC -> heir kind) receives the deceased's ownership share of each khewat
    times the heir's share from :func:`~landgov.domain.faraid.compute_shares`, exactly;
    excluded heirs are recorded but get no line. ``khewat_no`` limits it to some khewats;
    by default every khewat of the mouza where the deceased holds ownership today.
    ``actor`` as for :func:`enter`.

    Raises:
        AuthenticationFailed, AccessDenied: the actor may not enter it (module notes).
        MutationInvalid, NotFound, InvalidHeirs: nothing was written.
    """
    with engine.begin() as conn:
        mouza_id = begin_entry(conn, actor, mouza, entered_on)
        deceased = _party_id(conn, deceased_cnic)
        rows = conn.execute(
            text(
                "SELECT w.number, w.id, s.numerator, s.denominator FROM share s"
                " JOIN khewat w ON w.id = s.khewat_id WHERE w.mouza_id = :m"
                " AND s.party_id = :p AND s.right_type = 'ownership' AND s.valid_to IS NULL"
            ),
            {"m": mouza_id, "p": deceased},
        ).all()
        estate: dict[int, Fraction] = {}
        numbers: dict[int, int] = {}
        for number, kid, num, den in rows:
            estate[int(kid)] = estate.get(int(kid), Fraction(0)) + Fraction(num, den)
            numbers[int(kid)] = int(number)
        if khewat_no is not None:
            wanted = {khewat_no} if isinstance(khewat_no, int) else set(khewat_no)
            missing = wanted - set(numbers.values())
            if missing:
                raise MutationInvalid(
                    f"{deceased_cnic} holds no ownership in khewat "
                    f"{', '.join(map(str, sorted(missing)))} of this mouza"
                )
            estate = {k: v for k, v in estate.items() if numbers[k] in wanted}
        if not estate:
            raise MutationInvalid(f"{deceased_cnic} holds no ownership in this mouza")
        heir_ids = {_party_id(conn, c): str(k).strip().lower() for c, k in heirs.items()}
        refs = _party_refs(conn, heir_ids)
        state = conn.execute(
            text("SELECT id FROM party WHERE custodian = 'board_of_revenue'")
        ).scalar()
        expected = ledger.faraid_expected(estate, heir_ids, school=school, bait_ul_mal_party=state)
        if state is not None and state not in refs:
            refs.update(_party_refs(conn, [state]))
        lines = [
            DraftLine(numbers[kid], deceased_cnic.strip(), refs[pid], share)
            for (kid, pid), share in sorted(expected.items(), key=lambda kv: (numbers[kv[0][0]],
                                                                              kv[0][1]))
        ]  # fmt: skip
        draft = MutationDraft(
            mouza=mouza,
            type=MutationType.INHERITANCE,
            entered_on=entered_on,
            lines=lines,
            remarks=remarks,
            inheritance=InheritanceFacts(deceased_cnic.strip(), dict(heirs), school),
        )
        return _enter(conn, mouza_id, MutationType.INHERITANCE, draft, actor=actor)


def _inheritance_differences(conn: Connection, mutation_id: int) -> list[InheritanceDifference]:
    facts = conn.execute(
        text("SELECT deceased_party_id, school FROM mutation_inheritance WHERE mutation_id = :m"),
        {"m": mutation_id},
    ).one_or_none()
    if facts is None:
        raise MutationInvalid(
            f"mutation id {mutation_id} has no inheritance facts (deceased, heirs): "
            "it cannot be checked against faraid"
        )
    deceased, school = int(facts[0]), str(facts[1])
    heirs = {
        int(p): str(k)
        for p, k in conn.execute(
            text("SELECT party_id, heir_kind FROM mutation_heir WHERE mutation_id = :m"),
            {"m": mutation_id},
        ).all()
    }
    lines = [line for line in _lines(conn, mutation_id) if line.right_type == "ownership"]
    khewats = sorted({line.khewat_id for line in lines})
    # the estate as the register states it (imported mutations included): just before
    # the mutation took effect when it is sanctioned, else the register today
    from landgov.records.register import register_for

    reg = register_for(conn, [_mouza_of(conn, mutation_id)])
    estate: dict[int, Fraction] = {}
    for kid in khewats:
        held = (
            reg.held_before(mutation_id, kid, deceased)
            if mutation_id in reg.mutations
            else reg.holdings_on(kid).get((deceased, "ownership"), Fraction(0))
        )
        if held:
            estate[kid] = held
    state = conn.execute(text("SELECT id FROM party WHERE custodian = 'board_of_revenue'")).scalar()
    expected = ledger.faraid_expected(estate, heirs, school=school, bait_ul_mal_party=state)
    recorded: dict[tuple[int, int], Fraction] = {}
    for line in lines:
        if line.transferor != deceased or line.transferee is None:
            continue
        key = (line.khewat_id, line.transferee)
        recorded[key] = recorded.get(key, Fraction(0)) + line.share
    numbers = _khewat_numbers(conn, khewats)
    refs = _party_refs(conn, {p for _, p in expected.keys() | recorded.keys()})
    diffs = []
    for key in sorted(expected.keys() | recorded.keys(), key=lambda k: (numbers[k[0]], k[1])):
        want, got = expected.get(key, Fraction(0)), recorded.get(key, Fraction(0))
        if want != got:
            kid, pid = key
            diffs.append(
                InheritanceDifference(numbers[kid], refs.get(pid, str(pid)), heirs.get(pid),
                                      want, got)
            )  # fmt: skip
    return diffs


def check_inheritance(engine: Engine, mutation_id: int) -> list[InheritanceDifference]:
    """Where an inheritance mutation's lines differ from faraid for the heirs it names.

    Empty when they agree. The estate is the deceased's ownership in the khewats the
    mutation names, as the register states it (:mod:`landgov.records.register`, imported
    mutations included): just before the mutation took effect when it is sanctioned (a
    sanctioned wirasat has already emptied the deceased's holding), else today.

    Raises:
        NotFound: no such mutation. MutationInvalid: not an inheritance mutation.
        InvalidHeirs: the heirs named are a case the calculator does not cover.
    """
    with engine.connect() as conn:
        mtype = conn.execute(
            text("SELECT type FROM mutation WHERE id = :m"), {"m": mutation_id}
        ).scalar()
        if mtype is None:
            raise NotFound(f"no mutation with id {mutation_id}")
        if mtype != "inheritance":
            raise MutationInvalid(f"mutation id {mutation_id} is a {mtype}, not an inheritance")
        return _inheritance_differences(conn, mutation_id)


# --- deciding ----------------------------------------------------------------------------


def _audit_transition(
    conn: Connection,
    m: _Mutation,
    actor: Actor,
    officer: officers.Officer,
    action: str,
    *,
    to: str,
    on: date,
    backdated: bool,
    **extra: Any,
) -> None:
    """The audit row of a decision moving ``m`` from its status to ``to``, naming the
    actor's account; the officer's name and designation, and ``extra`` (a reason, the
    shares...) join the details."""
    details: dict[str, Any] = {
        "mouza_id": m.mouza_id,
        "number": m.number,
        "from": m.status,
        "to": to,
        "on": on,
        "officer": _officer_text(officer),
        "officer_id": officer.id,
        **extra,
    }
    if backdated:
        details["backdated"] = True
    audit_append(
        conn,
        actor=actor.label,
        action=action,
        entity="mutation",
        entity_id=str(m.id),
        details=details,
    )


def verify(engine: Engine, mutation_id: int, *, actor: Actor, on: date | None = None) -> None:
    """Marks an entered mutation verified by ``actor`` on ``on`` (default: the database's
    today).

    ``actor`` must be a girdawar or a revenue officer posted over the mouza (today, and
    on ``on``), and not the account that entered it (module notes, Who may act).

    Raises:
        AccessDenied: ``role``, ``jurisdiction``, ``future_date``, ``backdate_window``,
            ``posting_then_and_now``, ``separation_of_duties``. AuthenticationFailed: the
            session has ended. SanctionRefused: ``status_transition``,
            ``sanction_date_order``. SanctionConflict: another officer is deciding it.
            NotFound: no such mutation.
    """
    with engine.begin() as conn:
        day = on or _today(conn)
        m, officer, backdated = _begin_step(conn, actor, mutation_id, "mutation.verify", day)
        ledger.check_transition(m.status, "verified", label=m.label)
        policy.separation_of_duties("verify", actor.user_id, m.entered_by_user, None)
        ledger.check_decision_date(day, entered_on=m.entered_on, label=m.label, what="verification")
        conn.execute(
            text(
                "UPDATE mutation SET status = 'verified', verified_on = :on, verified_by = :o,"
                " verified_by_user = :u WHERE id = :id"
            ),
            {"on": day, "o": officer.id, "u": actor.user_id, "id": m.id},
        )
        _audit_transition(
            conn, m, actor, officer, "mutation.verify", to="verified", on=day, backdated=backdated
        )


def reject(engine: Engine, mutation_id: int, *, actor: Actor, on: date, reason: str) -> None:
    """Rejects an entered or verified mutation, with a reason; shares do not change.

    ``actor`` as for :func:`sanction`.

    Raises:
        MutationInvalid: an empty reason. AccessDenied, AuthenticationFailed: as for
            :func:`sanction`. SanctionRefused: ``status_transition``,
            ``sanction_date_order``. SanctionConflict, NotFound: as for :func:`sanction`.
    """
    if not reason or not reason.strip():
        raise MutationInvalid("a rejection needs a reason")
    with engine.begin() as conn:
        m, officer, backdated = _begin_step(conn, actor, mutation_id, "mutation.reject", on)
        ledger.check_transition(m.status, "rejected", label=m.label)
        policy.separation_of_duties("reject", actor.user_id, m.entered_by_user, m.verified_by_user)
        ledger.check_decision_date(
            on, entered_on=m.entered_on, verified_on=m.verified_on, label=m.label,
            what="rejection",
        )  # fmt: skip
        conn.execute(
            text(
                "UPDATE mutation SET status = 'rejected', decided_on = :on, officer_id = :o,"
                " decided_by_user = :u, rejection_reason = :r WHERE id = :id"
            ),
            {"on": on, "o": officer.id, "u": actor.user_id, "r": reason.strip(), "id": m.id},
        )
        _audit_transition(
            conn, m, actor, officer, "mutation.reject", to="rejected", on=on,
            backdated=backdated, reason=reason.strip(),
        )  # fmt: skip


def sanction(
    engine: Engine,
    mutation_id: int,
    *,
    actor: Actor,
    on: date,
    hold: Callable[[], None] | None = None,
) -> SanctionResult:
    """Sanctions a verified mutation on ``on``: checks every rule and changes the shares.

    ``actor`` must be a naib tehsildar, tehsildar or assistant commissioner posted over
    the mouza today (and on ``on``, within the back-dating window), signed in with the
    second factor, who neither entered nor verified the mutation (module notes, Who may
    act). One transaction (see the module notes for the steps and the locking). ``hold``
    is a hook for tests: called inside the transaction once the locks are held, before
    the shares are read, so a test can keep a sanction open while another one runs.

    Raises:
        AccessDenied: the actor may not (``role``, ``jurisdiction``, ``future_date``,
            ``backdate_window``, ``posting_then_and_now``, ``second_factor``,
            ``separation_of_duties``); nothing written.
        AuthenticationFailed: the actor's session has ended; nothing written.
        SanctionRefused: a rule of the record forbids it (``status_transition``,
            ``sanction_date_order``, ``transferor_alive_on_deed_date``,
            ``faraid_shares``, ``line_shape``, ``transferor_holds_share``,
            ``khewat_sums_to_one``, ``encumbrance_exceeds_ownership``, and for
            partitions those of :mod:`landgov.records.partition`); nothing written.
        SanctionConflict: another sanction holds the mutation or one of its khewats, or
            a share row changed behind the locks; nothing written.
        NotFound: no such mutation.
    """
    with engine.begin() as conn:
        m, officer, backdated = _begin_step(conn, actor, mutation_id, "mutation.sanction", on)
        ledger.check_transition(m.status, "sanctioned", label=m.label)
        policy.separation_of_duties(
            "sanction", actor.user_id, m.entered_by_user, m.verified_by_user
        )
        ledger.check_decision_date(
            on, entered_on=m.entered_on, verified_on=m.verified_on, label=m.label
        )
        lines, numbers = _lines_numbered(conn, m.id)
        plan = None
        if m.type == "partition":
            from landgov.records import partition  # imports this module: import here

            try:
                plan = partition.load_plan(conn, m.id)
            except MutationInvalid as exc:
                raise SanctionRefused("partition_khasra", str(exc)) from None
            numbers.update(_khewat_numbers(conn, [plan.khewat_id]))
        ids = sorted(numbers)
        _lock_khewats(conn, numbers)
        if hold is not None:
            hold()
        latest = conn.execute(
            text(
                "SELECT max(d) FROM ("
                " SELECT greatest(valid_from, valid_to) AS d FROM share WHERE khewat_id = ANY(:k)"
                " UNION ALL SELECT greatest(valid_from, valid_to) FROM khewat_khasra"
                " WHERE khewat_id = ANY(:k)) changes"
            ),
            {"k": ids},
        ).scalar()
        ledger.check_decision_date(
            on, entered_on=m.entered_on, verified_on=m.verified_on, latest_change=latest,
            label=m.label,
        )  # fmt: skip
        transferors = {line.transferor for line in lines if line.transferor is not None}
        open_rows = _open_rows(conn, ids)
        before = {kid: _holdings(rows) for kid, rows in open_rows.items()}
        involved = {pid for held in before.values() for pid, _ in held} | transferors
        involved |= {line.transferee for line in lines if line.transferee is not None}
        parties = _parties(conn, involved)
        names = {pid: p.label for pid, p in parties.items()}
        deaths = {pid: parties[pid].died for pid in transferors if pid in parties}
        ledger.check_alive(
            lines,
            mutation_type=m.type,
            deed_date=m.deed_date,
            entered_on=m.entered_on,
            dates_of_death=deaths,
            names=names,
        )
        if m.type == "inheritance":
            try:
                diffs = _inheritance_differences(conn, m.id)
            except (MutationInvalid, InvalidHeirs) as exc:
                raise SanctionRefused("faraid_shares", f"{m.label}: {exc}") from None
            if diffs:
                raise SanctionRefused(
                    "faraid_shares",
                    f"{m.label} differs from the faraid shares of the heirs it names: "
                    + "; ".join(map(str, diffs)),
                )
        after: dict[int, ledger.Holdings] = {}
        by_khewat: dict[int, list[ledger.Line]] = {}
        for line in lines:
            by_khewat.setdefault(line.khewat_id, []).append(line)
        for kid, kl in sorted(by_khewat.items()):
            after[kid] = ledger.apply_lines(
                before[kid], kl, mutation_type=m.type, label=f"khewat {numbers[kid]}", names=names
            )
        partition_details: dict[str, Any] = {}
        if plan is not None:
            from landgov.records import partition  # imports this module: import here

            partition_details = partition.apply_plan(
                conn, m.id, plan, on=on, before=before, after=after, numbers=numbers
            )
        closed, opened = _write_shares(conn, m.id, on, open_rows, before, after)
        conn.execute(
            text(
                "UPDATE mutation SET status = 'sanctioned', decided_on = :on, officer_id = :o,"
                " decided_by_user = :u WHERE id = :id"
            ),
            {"on": on, "o": officer.id, "u": actor.user_id, "id": m.id},
        )
        refs = {pid: p.ref for pid, p in parties.items()}
        shares = {
            f"khewat {numbers[kid]}": {
                "before": _render(before[kid], refs),
                "after": _render(after[kid], refs),
            }
            for kid in sorted(after)
        }
        _audit_transition(
            conn, m, actor, officer, "mutation.sanction", to="sanctioned", on=on,
            backdated=backdated, type=m.type, shares=shares, **partition_details,
        )  # fmt: skip
        return SanctionResult(m.id, m.number, closed, opened, backdated)


def _write_shares(
    conn: Connection,
    mutation_id: int,
    on: date,
    open_rows: Mapping[int, Sequence[tuple[int, int, str, int, int]]],
    before: Mapping[int, ledger.Holdings],
    after: Mapping[int, ledger.Holdings],
) -> tuple[int, int]:
    """Closes the rows of changed holdings and opens rows for their new values."""
    close: list[int] = []
    insert: list[dict[str, Any]] = []
    for kid, new in after.items():
        old = before[kid]
        changed = {k for k in old.keys() | new.keys() if old.get(k) != new.get(k)}
        close += [rid for rid, pid, right, _, _ in open_rows[kid] if (pid, right) in changed]
        for pid, right in sorted(changed):
            share = new.get((pid, right))
            if share:
                insert.append(
                    {
                        "k": kid,
                        "p": pid,
                        "n": share.numerator,
                        "d": share.denominator,
                        "r": right,
                        "on": on,
                        "m": mutation_id,
                    }
                )
    if close:
        done = conn.execute(
            text(
                "UPDATE share SET valid_to = :on, ended_by_mutation_id = :m"
                " WHERE id IN :ids AND valid_to IS NULL"
            ).bindparams(bindparam("ids", expanding=True)),
            {"on": on, "m": mutation_id, "ids": close},
        ).rowcount
        if done != len(close):  # a row closed behind our locks: the read was stale
            raise SanctionConflict(
                "the shares changed while this sanction was checking them; nothing written"
            )
    if insert:
        conn.execute(
            text(
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, right_type,"
                " valid_from, created_by_mutation_id) VALUES (:k, :p, :n, :d, :r, :on, :m)"
            ),
            insert,
        )
    return len(close), len(insert)


# --- reading -----------------------------------------------------------------------------


def find_mutation(engine: Engine | Connection, mouza: str, number: int) -> int:
    """The id of mutation ``number`` in the register of ``mouza`` (name or hadbast).

    Raises:
        NotFound: no such mouza or mutation.
    """
    if isinstance(engine, Connection):
        return _find_mutation(engine, mouza, number)
    with engine.connect() as conn:
        return _find_mutation(conn, mouza, number)


def _find_mutation(conn: Connection, mouza: str, number: int) -> int:
    mouza_id = find_mouza(conn, mouza)
    mid = conn.execute(
        text("SELECT id FROM mutation WHERE mouza_id = :m AND number = :n"),
        {"m": mouza_id, "n": number},
    ).scalar()
    if mid is None:
        raise NotFound(f"no mutation {number} in the register of mouza '{mouza}'")
    return int(mid)


def show(engine: Engine, mutation_id: int) -> dict[str, Any]:
    """A mutation with its lines, flags, heirs and partition, as plain values (JSON-ready).

    Shares are strings ``n/d``; dates and times ISO strings. ``*_by_account`` are the
    usernames of the accounts that entered, verified and decided it (None for mutations
    loaded by the demo or imported), ``*recorded_at`` when the server recorded each step.
    """
    with engine.connect() as conn:
        row = (
            conn.execute(
                text(
                    "SELECT m.id, z.name AS mouza, m.number, m.type, m.status, m.entered_on,"
                    " m.verified_on, m.decided_on, m.rejection_reason, o.cnic AS officer_cnic,"
                    " o.name AS officer, v.cnic AS verified_by, m.deed_number, m.deed_date,"
                    " m.sub_registrar, m.consideration_rs, m.statutory_value_rs, m.fees_rs,"
                    " m.remarks, ue.username AS entered_by_account,"
                    " uv.username AS verified_by_account, ud.username AS decided_by_account,"
                    " m.recorded_at, m.verified_recorded_at, m.decided_recorded_at"
                    " FROM mutation m JOIN mouza z ON z.id = m.mouza_id"
                    " LEFT JOIN officer o ON o.id = m.officer_id"
                    " LEFT JOIN officer v ON v.id = m.verified_by"
                    " LEFT JOIN app_user ue ON ue.id = m.entered_by_user"
                    " LEFT JOIN app_user uv ON uv.id = m.verified_by_user"
                    " LEFT JOIN app_user ud ON ud.id = m.decided_by_user WHERE m.id = :m"
                ),
                {"m": mutation_id},
            )
            .mappings()
            .one_or_none()
        )
        if row is None:
            raise NotFound(f"no mutation with id {mutation_id}")
        out: dict[str, Any] = {
            k: (v.isoformat() if isinstance(v, date) else (int(v) if k.endswith("_rs") and v
                is not None else v))
            for k, v in row.items()
        }  # fmt: skip
        out["lines"] = [
            {
                "line_no": int(r.line_no),
                "khewat_no": int(r.khewat_no),
                "transferor": r.src,
                "transferee": r.dst,
                "share": format_share(Fraction(r.numerator, r.denominator)),
                "right_type": r.right_type,
            }
            for r in conn.execute(
                text(
                    "SELECT l.line_no, w.number AS khewat_no, coalesce(a.cnic, a.custodian) AS src,"
                    " coalesce(b.cnic, b.custodian) AS dst, l.numerator, l.denominator,"
                    " l.right_type FROM mutation_line l JOIN khewat w ON w.id = l.khewat_id"
                    " LEFT JOIN party a ON a.id = l.transferor_party_id"
                    " LEFT JOIN party b ON b.id = l.transferee_party_id"
                    " WHERE l.mutation_id = :m ORDER BY l.line_no"
                ),
                {"m": mutation_id},
            ).all()
        ]
        out["flags"] = [
            {"rule": r.rule, "details": r.details}
            for r in conn.execute(
                text("SELECT rule, details FROM mutation_flag WHERE mutation_id = :m ORDER BY id"),
                {"m": mutation_id},
            ).all()
        ]
        inh = conn.execute(
            text(
                "SELECT coalesce(p.cnic, p.custodian), i.school FROM mutation_inheritance i"
                " JOIN party p ON p.id = i.deceased_party_id WHERE i.mutation_id = :m"
            ),
            {"m": mutation_id},
        ).one_or_none()
        if inh is not None:
            out["inheritance"] = {
                "deceased": inh[0],
                "school": inh[1],
                "heirs": {
                    str(ref): str(kind)
                    for ref, kind in conn.execute(
                        text(
                            "SELECT coalesce(p.cnic, p.custodian), h.heir_kind FROM mutation_heir h"
                            " JOIN party p ON p.id = h.party_id WHERE h.mutation_id = :m"
                            " ORDER BY p.id"
                        ),
                        {"m": mutation_id},
                    ).all()
                },
            }
        part = conn.execute(
            text(
                "SELECT w.number, k.number FROM mutation_partition p"
                " JOIN khewat w ON w.id = p.khewat_id JOIN khasra k ON k.id = p.khasra_id"
                " WHERE p.mutation_id = :m"
            ),
            {"m": mutation_id},
        ).one_or_none()
        if part is not None:
            out["partition"] = {"khewat_no": int(part[0]), "khasra_no": str(part[1])}
        return out


# --- replaying the register --------------------------------------------------------------


@dataclass
class ReplayReport:
    """A mouza's register replayed (:mod:`landgov.records.register`) vs its shares.

    ``differences`` maps khewat numbers whose stored rights differ from the register,
    beyond the mutations not applied to them, to the first date they do (None: the khewat
    is on one side only): rows written, changed or ended outside any mutation.
    ``not_applied`` maps khewat numbers whose stored shares lack only sanctioned mutations
    recorded but never applied to them (an imported register) to those mutations'
    numbers: the register is the record, so that is not a difference. ``issues`` are the
    rules the register's sanctioned mutations broke, as (mutation number, khewat number,
    rule, message).
    """

    mouza: str
    mutations: int
    stored_rows: int
    replayed_rows: int
    differences: dict[int, date | None] = field(default_factory=dict)
    issues: list[tuple[int, int, str, str]] = field(default_factory=list)
    not_applied: dict[int, list[int]] = field(default_factory=dict)

    @property
    def equal(self) -> bool:
        return not self.differences


def replay_mouza(engine: Engine, mouza: str) -> ReplayReport:
    """Replays every sanctioned mutation of a mouza, imported or sanctioned here, from its
    settlement shares (:func:`landgov.records.register.read_register`) and compares the
    result with the ``share`` table, date by date."""
    from landgov.records.register import read_register

    with engine.connect() as conn:
        mouza_id = find_mouza(conn, mouza)
        name = conn.execute(text("SELECT name FROM mouza WHERE id = :m"), {"m": mouza_id}).scalar()
        reg = read_register(conn, [mouza_id])
        ids = {int(p) for i in reg.issues for p in _PARTY_IN_MESSAGE.findall(i.message)}
        refs = _party_refs(conn, ids)

    def named(message: str) -> str:
        return _PARTY_IN_MESSAGE.sub(lambda g: refs.get(int(g[1]), g[0]), message)

    khewat_no = {k: n for k, (_, n) in reg.khewat_mouza.items()}
    number = {i: m.number for i, m in reg.mutations.items()}
    return ReplayReport(
        mouza=str(name),
        mutations=len(reg.mutations),
        stored_rows=len(reg.stored),
        replayed_rows=len(reg.periods),
        differences={khewat_no.get(k, k): d for k, d in reg.edited.items()},
        issues=[
            (number.get(i.mutation_id, i.mutation_id), khewat_no.get(i.khewat_id, i.khewat_id),
             i.rule, named(i.message))
            for i in reg.issues
        ],
        not_applied={khewat_no.get(k, k): [number[m] for m in ms]
                     for k, ms in reg.not_applied.items()},
    )  # fmt: skip
