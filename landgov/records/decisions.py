"""Deciding a mutation: verify, reject, or sanction (which changes the shares).

Lifecycle and who may decide are in :mod:`landgov.records.mutations` (Lifecycle, Who may
act); each decision here first binds and authorizes the actor, then locks the mutation
(:mod:`landgov.records.locks`), checks its status and separation of duties, and writes
one audit row. A refusal writes nothing, not even an audit row.

Sanctioning (:func:`sanction`) runs in ONE transaction
    1. the actor is bound and authorized (rules in :mod:`landgov.records.mutations`),
       the mutation row is locked (``FOR NO KEY UPDATE NOWAIT``), its status must be
       ``verified`` and separation of duties holds;
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
       for inheritance (:mod:`landgov.records.inheritance`), then
       :func:`landgov.domain.ledger.apply_lines` per khewat (``transferor_holds_share``,
       ``khewat_sums_to_one``...), and for a partition the rules of
       :func:`landgov.records.partition.apply_plan`, which also writes the tatimas;
    4. changed holdings close their rows (``valid_to`` = sanction date,
       ``ended_by_mutation_id``) and open new ones; unchanged holdings stay open. The
       close is ``... WHERE valid_to IS NULL`` and its row count is checked, so a row
       changed behind the locks (by a writer that does not take them) is detected as a
       stale read and the sanction fails as a conflict instead of writing over it;
    5. the mutation becomes ``sanctioned`` and the audit row is written last (the audit
       chain serialises writers until commit, so it is held as briefly as possible).

Before step 2, a sale's price is checked (:mod:`landgov.records.pricing`): declared
below the DC value, far below the model value, or not at all, it is refused
(``under_declared_price``) unless the officer acknowledges it; the acknowledgement is
stored with who and when (``mutation_price_acknowledgement``, sql/025) and every sale's
figures join the sanction's audit row. Checked before the khewats are locked, so a
refusal holds no lock; read in the same transaction, so the figures acknowledged are
the ones the sanction was judged by.

Why refuse a sanction date on or before the khewat's latest change: share periods are
whole days, so a second change on the same day would create a period of no length, and
a sanction dated before a later one would change a past that later sanctions were checked
against. Sanctions therefore apply in date order per khewat; an officer back-dating one
gets ``sanction_date_order``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import ledger
from landgov.domain.shares import format_share
from landgov.errors import InvalidHeirs, SanctionConflict, SanctionRefused
from landgov.records import partition
from landgov.records.drafts import MutationInvalid
from landgov.records.inheritance import inheritance_differences
from landgov.records.locks import MutationRow, lock_khewats, lock_mutation
from landgov.records.pricing import REASON_TEXT, PriceCheck, price_check
from landgov.records.rows import (
    acting_officer,
    khewat_numbers,
    mouza_of_mutation,
    mutation_lines_numbered,
    officer_text,
    parties,
)
from landgov.security import Actor, authorize, bind, policy
from landgov.storage import officers
from landgov.storage.audit import append as audit_append

__all__ = ["SanctionResult", "reject", "sanction", "verify"]


@dataclass(frozen=True)
class SanctionResult:
    mutation_id: int
    number: int
    closed: int  # share rows closed
    opened: int  # share rows opened
    backdated: bool = False  # dated before the day it was recorded (within the window)


def _today(conn: Connection) -> date:
    """The database's date: the one :func:`landgov.security.authorize` judges dates by."""
    return conn.execute(text("SELECT current_date")).scalar_one()  # type: ignore[no-any-return]


def _begin_step(
    conn: Connection, actor: Actor, mutation_id: int, capability: str, on: date
) -> tuple[MutationRow, officers.Officer, bool]:
    """Binds and authorizes ``actor`` for ``capability`` on mutation ``mutation_id``
    dated ``on``, then locks the mutation; returns it, the acting officer and whether
    the step is back-dated.

    Raises:
        AuthenticationFailed, AccessDenied: see :mod:`landgov.records.mutations` (Who may
            act). NotFound: no such mutation. SanctionConflict: another officer holds the
            mutation.
    """
    bind(conn, actor)
    backdated = authorize(
        conn, actor, capability, mouza_id=mouza_of_mutation(conn, mutation_id), on=on
    )
    m = lock_mutation(conn, mutation_id)
    return m, acting_officer(conn, actor), backdated


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


def _render(holdings: Mapping[ledger.Key, Fraction], refs: Mapping[int, str]) -> dict[str, str]:
    return {
        f"{refs.get(pid, pid)} {right}": format_share(share)
        for (pid, right), share in sorted(holdings.items())
    }


def _audit_transition(
    conn: Connection,
    m: MutationRow,
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
        "officer": officer_text(officer),
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
    on ``on``), and not the account that entered it (:mod:`landgov.records.mutations`, Who may act).

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
    acknowledge_price: bool = False,
    price_note: str | None = None,
    hold: Callable[[], None] | None = None,
) -> SanctionResult:
    """Sanctions a verified mutation on ``on``: checks every rule and changes the shares.

    ``actor`` must be a naib tehsildar, tehsildar or assistant commissioner posted over
    the mouza today (and on ``on``, within the back-dating window), signed in with the
    second factor, who neither entered nor verified the mutation
    (:mod:`landgov.records.mutations`, Who may act). One transaction (see the module
    notes for the steps and :mod:`landgov.records.locks` for the locking). ``hold`` is a
    hook for tests: called inside the transaction once the locks are held, before
    the shares are read, so a test can keep a sanction open while another one runs.

    A sale is priced first (:func:`landgov.records.pricing.price_check`, in this
    transaction): one declared below its DC value, far below the model value, or with no
    price is sanctioned only with ``acknowledge_price`` (the officer has seen the
    figures); the acknowledgement, with ``price_note`` and the figures, is stored in
    ``mutation_price_acknowledgement`` and the audit row, which keeps every sale's price
    check.

    Raises:
        AccessDenied: the actor may not (``role``, ``jurisdiction``, ``future_date``,
            ``backdate_window``, ``posting_then_and_now``, ``second_factor``,
            ``separation_of_duties``); nothing written.
        AuthenticationFailed: the actor's session has ended; nothing written.
        SanctionRefused: a rule of the record forbids it (``status_transition``,
            ``sanction_date_order``, ``transferor_alive_on_deed_date``,
            ``faraid_shares``, ``line_shape``, ``transferor_holds_share``,
            ``khewat_sums_to_one``, ``encumbrance_exceeds_ownership``,
            ``under_declared_price`` without ``acknowledge_price``, and for partitions
            those of :mod:`landgov.records.partition`); nothing written.
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
        priced = price_check(conn, m.id) if m.type == "sale" else None
        if priced is not None and priced.needs_acknowledgement and not acknowledge_price:
            raise SanctionRefused(
                "under_declared_price",
                f"{m.label}: {priced.summary()}. The sanctioning officer must acknowledge "
                "the price (" + ", ".join(REASON_TEXT[r] for r in priced.reasons) + ")",
            )
        lines, numbers = mutation_lines_numbered(conn, m.id)
        plan = None
        if m.type == "partition":
            try:
                plan = partition.load_plan(conn, m.id)
            except MutationInvalid as exc:
                raise SanctionRefused("partition_khasra", str(exc)) from None
            numbers.update(khewat_numbers(conn, [plan.khewat_id]))
        ids = sorted(numbers)
        lock_khewats(conn, numbers)
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
        people = parties(conn, involved)
        names = {pid: p.label for pid, p in people.items()}
        deaths = {pid: people[pid].died for pid in transferors if pid in people}
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
                diffs = inheritance_differences(conn, m.id)
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
        price_details: dict[str, Any] = {}
        if priced is not None:
            price_details["price_check"] = priced.as_dict()
            if priced.needs_acknowledgement:
                price_details["price_acknowledged"] = _acknowledge_price(
                    conn, priced, actor, officer, price_note
                )
        refs = {pid: p.ref for pid, p in people.items()}
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
            **price_details,
        )  # fmt: skip
        return SanctionResult(m.id, m.number, closed, opened, backdated)


def _acknowledge_price(
    conn: Connection,
    priced: PriceCheck,
    actor: Actor,
    officer: officers.Officer,
    note: str | None,
) -> dict[str, Any]:
    """Stores the officer's acknowledgement of an under-declared sale with the figures it
    was judged by; returns what the audit row keeps of it."""
    assert priced.statutory_rs is not None  # reasons exist only for a valued sale
    note = " ".join((note or "").split()) or None
    at = conn.execute(
        text(
            "INSERT INTO mutation_price_acknowledgement (mutation_id, reasons, valuation_date,"
            " declared_rs, statutory_rs, model_rs, model_set, tax_at_stake_rs, note,"
            " acknowledged_by_user, acknowledged_by) VALUES (:m, :r, :d, :declared,"
            " :statutory, :model, :set, :stake, :note, :u, :o) RETURNING acknowledged_at"
        ),
        {
            "m": priced.mutation_id,
            "r": list(priced.reasons),
            "d": priced.valuation_date,
            "declared": priced.declared_rs,
            "statutory": priced.statutory_rs,
            "model": priced.model_rs,
            "set": priced.model_set,
            "stake": priced.tax_at_stake_rs,
            "note": note,
            "u": actor.user_id,
            "o": officer.id,
        },
    ).scalar_one()
    return {
        "reasons": list(priced.reasons),
        "note": note,
        "by": officer_text(officer),
        "at": at.isoformat(),
    }


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
