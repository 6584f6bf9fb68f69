"""The record of rights as the register states it: one derived record the share rules read.

Why a derived record: the ``share`` table holds what the mutation engine applied. A
register imported from a file (``landgov.io.mutations``) records sanctioned mutations
without applying them, and a clerk with database access can edit share rows outside any
mutation. The register itself is the legal record: the settlement's shares (the rows no
mutation created) with every sanctioned mutation, imported or sanctioned here, replayed in
sanction order with exact fractions (:func:`landgov.domain.ledger.rebuild`). Every share
rule of the dispute scan, ``landgov mutation rebuild`` and ``landgov mutation
check-inheritance`` read this replay, never today's share rows alone.

Where the stored shares and the register disagree, the difference is explained:

* **not applied**: the stored shares equal the replay of the mutations that were applied
  to them (those that created or ended a share row); the rest of the register (imported
  mutations) is simply not in the share table yet. That is the expected state after an
  import, not an anomaly.
* **edited**: the stored shares differ even from the replay of the mutations applied to
  them: rows were written, changed or ended outside any mutation. That is its own dispute
  signal (rule ``shares_differ_from_register``).

Cost: a replay of one pass over the mouzas' sanctioned mutations (``bench/
sanction_and_rebuild.py`` replays a million in seconds); the scan reads it once per
transaction (:func:`register_for`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any, NamedTuple

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.domain import ledger

OWNERSHIP = "ownership"


class RegisterMutation(NamedTuple):
    """A sanctioned mutation of the register, as the replay uses it."""

    id: int
    mouza_id: int
    number: int
    type: str
    decided_on: date
    applied: bool  # it created or ended a stored share row


@dataclass
class Register:
    """The replayed register of some mouzas, beside their stored shares.

    Attributes:
        periods: every share period the register implies (the derived record).
        stored: the ``share`` rows as stored.
        issues: the record's rules broken on the way (a transferor holding too little,
            a khewat not summing to one), from :func:`landgov.domain.ledger.rebuild`.
        mutations: the sanctioned mutations replayed, by id.
        edited: khewat id -> the first date its stored shares differ from the replay of
            the mutations applied to them (None: on one side only).
        not_applied: khewat id -> the sanctioned mutations (ids) the share table does not
            reflect, for khewats whose stored shares are otherwise the register's.
        khewat_mouza: khewat id -> (mouza id, khewat number).
    """

    mouza_ids: list[int]
    periods: list[ledger.SharePeriod]
    stored: list[ledger.SharePeriod]
    issues: list[ledger.ReplayIssue]
    mutations: dict[int, RegisterMutation]
    khewat_mouza: dict[int, tuple[int, int]]
    edited: dict[int, date | None] = field(default_factory=dict)
    not_applied: dict[int, list[int]] = field(default_factory=dict)
    _grouped: dict[str, dict[int, list[ledger.SharePeriod]]] = field(default_factory=dict)

    def _by_khewat(self, side: str) -> dict[int, list[ledger.SharePeriod]]:
        if side not in self._grouped:  # grouped once: every rule reads by khewat
            grouped: dict[int, list[ledger.SharePeriod]] = defaultdict(list)
            for p in self.periods if side == "register" else self.stored:
                grouped[p.khewat_id].append(p)
            self._grouped[side] = dict(grouped)
        return self._grouped[side]

    def khewat_periods(self, khewat_id: int) -> list[ledger.SharePeriod]:
        """The derived periods of one khewat."""
        return self._by_khewat("register").get(khewat_id, [])

    def stored_periods(self, khewat_id: int) -> list[ledger.SharePeriod]:
        """The stored share rows of one khewat."""
        return self._by_khewat("stored").get(khewat_id, [])

    def khewat_ids(self) -> list[int]:
        """Every khewat with a period on either side."""
        return sorted(self._by_khewat("register").keys() | self._by_khewat("stored").keys())

    def held_before(self, mutation_id: int, khewat_id: int, party_id: int,
                    right_type: str = OWNERSHIP) -> Fraction:  # fmt: skip
        """What ``party_id`` held in the khewat just before the mutation took effect.

        The replay closes every holding a mutation changes with ``ended_by`` = that
        mutation, so the holding before it is the period it ended; a holding the mutation
        left unchanged is the period open across its date.
        """
        m = self.mutations[mutation_id]
        total = Fraction(0)
        for p in self.khewat_periods(khewat_id):
            if p.party_id != party_id or p.right_type != right_type:
                continue
            if p.ended_by == mutation_id or (
                p.created_by != mutation_id
                and p.valid_from < m.decided_on
                and (p.valid_to is None or p.valid_to > m.decided_on)
            ):
                total += p.share
        return total

    def holdings_on(self, khewat_id: int, day: date | None = None) -> dict[Key, Fraction]:
        """The khewat's holdings on ``day`` (None: the open periods, the register today)."""
        return holdings_on(self.khewat_periods(khewat_id), day)


Key = tuple[int, str]  # (party id, right type)


def holdings_on(periods: Iterable[ledger.SharePeriod], day: date | None) -> dict[Key, Fraction]:
    """Each (party, right)'s total over the periods live on ``day`` (None: the open ones)."""
    out: dict[Key, Fraction] = {}
    for p in periods:
        if day is None:
            live = p.valid_to is None
        else:
            live = p.valid_from <= day and (p.valid_to is None or day < p.valid_to)
        if live:
            key = (p.party_id, p.right_type)
            out[key] = out.get(key, Fraction(0)) + p.share
    return {k: v for k, v in out.items() if v}


def _periods(rows: Iterable[Any]) -> list[ledger.SharePeriod]:
    return [ledger.SharePeriod(int(r[0]), int(r[1]), str(r[2]), int(r[3]), int(r[4]), r[5],
                               r[6], r[7], r[8]) for r in rows]  # fmt: skip


def read_register(conn: Connection, mouza_ids: Sequence[int]) -> Register:
    """Replays the register of ``mouza_ids`` and explains where the stored shares differ.

    The settlement is the stored share rows no mutation created, dated on the khewat's
    settlement day (the earliest of them), reopened: a settlement row ended outside any
    mutation, or a row without a mutation dated later, is an edit, which the comparison
    then shows. The sanctioned mutations apply in order of sanction date, then id.
    """
    ids = [int(i) for i in mouza_ids]
    stored = _periods(conn.execute(
        text(
            "SELECT s.khewat_id, s.party_id, s.right_type, s.numerator, s.denominator,"
            " s.valid_from, s.valid_to, s.created_by_mutation_id, s.ended_by_mutation_id"
            " FROM share s JOIN khewat w ON w.id = s.khewat_id WHERE w.mouza_id = ANY(:m)"
        ),
        {"m": ids},
    ).all())  # fmt: skip
    khewat_mouza = {
        int(i): (int(m), int(n))
        for i, m, n in conn.execute(
            text("SELECT id, mouza_id, number FROM khewat WHERE mouza_id = ANY(:m)"), {"m": ids}
        ).all()
    }
    applied_ids = {p.created_by for p in stored if p.created_by is not None} | {
        p.ended_by for p in stored if p.ended_by is not None
    }
    mutations = {
        int(r.id): RegisterMutation(int(r.id), int(r.mouza_id), int(r.number), str(r.type),
                                    r.decided_on, int(r.id) in applied_ids)
        for r in conn.execute(
            text(
                "SELECT id, mouza_id, number, type, decided_on FROM mutation"
                " WHERE mouza_id = ANY(:m) AND status = 'sanctioned' AND decided_on IS NOT NULL"
                " ORDER BY decided_on, id"
            ),
            {"m": ids},
        ).all()
    }  # fmt: skip
    lines: dict[int, list[ledger.Line]] = defaultdict(list)
    for mid, kid, src, dst, num, den, right in conn.execute(
        text(
            "SELECT l.mutation_id, l.khewat_id, l.transferor_party_id, l.transferee_party_id,"
            " l.numerator, l.denominator, l.right_type FROM mutation_line l"
            " JOIN mutation m ON m.id = l.mutation_id"
            " WHERE m.mouza_id = ANY(:m) AND m.status = 'sanctioned'"
            " ORDER BY l.mutation_id, l.line_no"
        ),
        {"m": ids},
    ).all():
        lines[int(mid)].append(ledger.Line(int(kid), src, dst, Fraction(int(num), int(den)),
                                           str(right)))  # fmt: skip
    # the settlement is the rows no mutation created dated on the khewat's first day (its
    # earliest row of any kind): a row without a mutation dated later, or in a khewat a
    # mutation opened (a partition's), is not the record's but written in by hand, and
    # the comparison then shows it as an edit
    settled: dict[int, date] = {}
    for p in stored:
        if p.khewat_id not in settled or p.valid_from < settled[p.khewat_id]:
            settled[p.khewat_id] = p.valid_from
    initial = [
        p._replace(valid_to=None, ended_by=None)
        for p in stored
        if p.created_by is None and p.valid_from == settled[p.khewat_id]
    ]
    order = sorted(mutations.values(), key=lambda m: (m.decided_on, m.id))
    replay = [ledger.ReplayMutation(m.id, m.decided_on, m.type, lines.get(m.id, [])) for m in order]
    result = ledger.rebuild(initial, replay)
    register = Register(ids, result.periods, stored, result.issues, mutations, khewat_mouza)
    differ = ledger.compare_periods(stored, result.periods)
    if differ:
        applied_only = ledger.rebuild(initial, [r for r in replay if mutations[r.id].applied])
        touched = set(differ)
        edited = ledger.compare_periods(
            [p for p in stored if p.khewat_id in touched],
            [p for p in applied_only.periods if p.khewat_id in touched],
        )
        register.edited = edited
        pending: dict[int, list[int]] = defaultdict(list)
        for r in replay:
            if not mutations[r.id].applied:
                for kid in sorted({line.khewat_id for line in r.lines}):
                    pending[kid].append(r.id)
        register.not_applied = {k: pending.get(k, []) for k in sorted(differ) if k not in edited}
    return register


def once_per_transaction(conn: Connection, name: str, key: Any, build: Callable[[], Any]) -> Any:
    """``build()``, computed once per transaction, ``name`` and ``key``.

    The scan runs every rule in one transaction; rules that read the same derived data
    (the replayed register, the sales valued at the DC table) share one computation. The
    cache lives on the connection, keyed by the transaction's id, so a later transaction
    never sees a stale value.
    """
    xid = conn.execute(text("SELECT pg_current_xact_id()::text")).scalar_one()
    slot = f"landgov.{name}"
    cached = conn.info.get(slot)
    if cached is not None and cached[0] == (xid, key):
        return cached[1]
    value = build()
    conn.info[slot] = ((xid, key), value)
    return value


def register_for(conn: Connection, mouza_ids: Sequence[int]) -> Register:
    """:func:`read_register`, once per transaction and set of mouzas (the dispute scan's
    share rules share one replay)."""
    key = tuple(sorted(int(i) for i in mouza_ids))
    return once_per_transaction(conn, "register", key, lambda: read_register(conn, key))  # type: ignore[no-any-return]
