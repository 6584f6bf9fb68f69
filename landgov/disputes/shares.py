"""Rules over holdings, read from the register as it states them (domain.md §6.1, §6.2).

Every rule here reads :func:`landgov.records.register.register_for`: the settlement's
shares with every sanctioned mutation, imported or sanctioned here, replayed with exact
fractions. An imported register never changes the ``share`` table, so a rule reading the
table alone would miss a double sale recorded in it; a clerk can edit share rows without
a mutation, so a rule reading the replay alone would miss that. Hence: the totals are
checked on both, the transfers against the replay, and the difference between the two is
its own rule.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, text

from landgov.disputes.rules import Finding, rule
from landgov.domain import ledger
from landgov.records.register import OWNERSHIP, holdings_on, register_for

_NOT_CHECKED_TYPES = frozenset({"inheritance", "partition", "redemption"})
"""Mutation types transfer_exceeds_holding leaves to other rules: a wirasat moves the
deceased's estate (faraid rules), a partition re-divides a khewat, a redemption releases."""


def _fmt(f: Fraction) -> str:
    return f"{f.numerator}/{f.denominator}"


def _bad_totals(
    periods: Iterable[ledger.SharePeriod], tol: Fraction
) -> list[tuple[date, Fraction]]:
    """Dates on which the ownership shares sum to other than 1 (checked where a period
    starts or ends: the sum is constant in between)."""
    own = [p for p in periods if p.right_type == OWNERSHIP]
    dates = sorted({p.valid_from for p in own} | {p.valid_to for p in own if p.valid_to})
    bad = []
    for d in dates:
        live = [p for p in own if p.valid_from <= d and (p.valid_to is None or d < p.valid_to)]
        if not live:
            continue  # a khewat closed by partition or consolidation has no owners
        total = sum((p.share for p in live), Fraction(0))
        if abs(total - 1) > tol:
            bad.append((d, total))
    return bad


@rule("share_total_not_one")
def share_total_not_one(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.1: on some date a khewat's ownership shares sum to more or less than 1, in the
    register (the replay) or in the stored share table.

    One finding per khewat: the first bad date, the worst total, every bad period (10 at
    most) and where it is seen (``register``, ``stored`` or both). ``since`` limits the
    scan to khewats with a period starting or ending then or later.
    """
    tol = Fraction(str(thresholds.get("tolerance", 0)))
    reg = register_for(conn, mouza_ids)
    out: list[Finding] = []
    for khewat_id in reg.khewat_ids():
        sources = {"register": reg.khewat_periods(khewat_id),
                   "stored": reg.stored_periods(khewat_id)}  # fmt: skip
        if since is not None and not any(
            p.valid_from >= since or (p.valid_to is not None and p.valid_to >= since)
            for ps in sources.values() for p in ps
        ):  # fmt: skip
            continue
        found = {name: _bad_totals(ps, tol) for name, ps in sources.items()}
        bad = sorted({b for bs in found.values() for b in bs})
        if not bad:
            continue
        mouza_id, number = reg.khewat_mouza[khewat_id]
        first_date, first_total = bad[0]
        worst = max(bad, key=lambda b: abs(b[1] - 1))[1]
        out.append(Finding(
            rule="share_total_not_one", mouza_id=mouza_id, khewat_id=khewat_id,
            measure=float(worst), threshold=1.0,
            evidence={"khewat_no": number, "first_date": first_date.isoformat(),
                      "first_total": str(first_total), "worst_total": str(worst),
                      "over_allocated": worst > 1,
                      "seen_in": [name for name, bs in found.items() if bs],
                      "dates": [(d.isoformat(), str(t)) for d, t in bad[:10]]},
        ))  # fmt: skip
    return out


@rule("transfer_exceeds_holding")
def transfer_exceeds_holding(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.2, §6.3: a sanctioned mutation whose transferor moves (or encumbers) more than the
    register says he held just before it: a double sale, whether its two halves were
    sanctioned here or imported.

    Read from the replay's own check (``transferor_holds_share``), so every line of one
    transferor in one mutation counts against one holding: splitting an over-transfer over
    several buyers does not hide it. One finding per mutation (the first khewat short).
    """
    reg = register_for(conn, mouza_ids)
    out: dict[int, Finding] = {}
    for issue in reg.issues:
        if issue.rule != "transferor_holds_share" or issue.mutation_id in out:
            continue
        m = reg.mutations[issue.mutation_id]
        if m.type in _NOT_CHECKED_TYPES or (since is not None and m.decided_on < since):
            continue
        out[m.id] = _exceeds(conn, reg, m, issue.khewat_id)
    return list(out.values())


def _exceeds(conn: Connection, reg: Any, m: Any, khewat_id: int) -> Finding:
    lines = conn.execute(
        text(
            "SELECT transferor_party_id AS src, numerator, denominator FROM mutation_line"
            " WHERE mutation_id = :m AND khewat_id = :k AND transferor_party_id IS NOT NULL"
            " ORDER BY line_no"
        ),
        {"m": m.id, "k": khewat_id},
    ).all()
    moved: dict[int, Fraction] = defaultdict(Fraction)
    for r in lines:
        moved[int(r.src)] += Fraction(r.numerator, r.denominator)
    # the transferor short by the most (several may sell in one mutation)
    short = {p: (v, reg.held_before(m.id, khewat_id, p)) for p, v in moved.items()}
    party, (transferred, held) = max(short.items(), key=lambda kv: kv[1][0] - kv[1][1])
    return Finding(
        rule="transfer_exceeds_holding", mouza_id=m.mouza_id, mutation_id=m.id,
        khewat_id=khewat_id, measure=float(transferred), threshold=float(held),
        evidence={"mutation_no": m.number, "type": m.type, "transferor_party_id": party,
                  "khewat_no": reg.khewat_mouza[khewat_id][1],
                  "transferred": _fmt(transferred), "held": _fmt(held),
                  "excess": _fmt(transferred - held),
                  "excess_of_holding": (float((transferred - held) / held) if held else None),
                  "applied_to_shares": m.applied,
                  "sanctioned_on": m.decided_on.isoformat()},
        key=f"mutation:{m.id}",
    )  # fmt: skip


@rule("shares_differ_from_register")
def shares_differ_from_register(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """The stored share rows of a khewat differ from the register even after allowing for
    the mutations not yet applied to them (imported ones): rows written, changed or ended
    outside any mutation. One finding per khewat, with the first date they differ and the
    holdings (``party:right``) on that date on both sides. An old edit is still an edit:
    ``since`` limits nothing here.
    """
    reg = register_for(conn, mouza_ids)
    out: list[Finding] = []
    for khewat_id, first in sorted(reg.edited.items()):
        mouza_id, number = reg.khewat_mouza.get(khewat_id, (None, None))
        if mouza_id is None:
            continue

        def on(periods: list[ledger.SharePeriod], day: date | None) -> dict[str, str]:
            held = holdings_on(periods, day)
            return {f"{party}:{right}": _fmt(v) for (party, right), v in sorted(held.items())}

        out.append(Finding(
            rule="shares_differ_from_register", mouza_id=mouza_id, khewat_id=khewat_id,
            evidence={"khewat_no": number,
                      "first_date": first.isoformat() if first else None,
                      "stored": on(reg.stored_periods(khewat_id), first),
                      "register": on(reg.khewat_periods(khewat_id), first)},
            key=f"khewat:{khewat_id}",
        ))  # fmt: skip
    return out
