"""Rules over transfers and their sanction (domain.md §6.2, 6.3, 6.4, 6.7, 6.8, 6.11).

Each rule is one SQL query over the mutation register, its lines and the temporal share
table; they read the record as stored, independent of the checks the mutation engine
applies at sanction (the demo and imported registers contain mutations sanctioned before
those checks existed, which is what these rules exist to find).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any, NamedTuple

from sqlalchemy import Connection, text

from landgov.disputes.rules import Finding, rule
from landgov.records.register import once_per_transaction


def _params(mouza_ids: list[int], since: date | None, **kw: Any) -> dict[str, Any]:
    return {"m": mouza_ids, "since": since or date(1900, 1, 1), **kw}


@rule("sale_after_death")
def sale_after_death(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.4: a non-inheritance mutation whose deed was executed, or which was entered or
    attested, after its transferor's date of death."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT ON (m.id) m.id, m.mouza_id, m.number, m.type, m.deed_date,"
            " m.entered_on, m.decided_on, p.id AS party_id, p.name, p.date_of_death"
            " FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
            " JOIN party p ON p.id = l.transferor_party_id"
            " WHERE m.mouza_id = ANY(:m) AND m.type <> 'inheritance'"
            " AND m.status IN ('verified', 'sanctioned') AND p.date_of_death IS NOT NULL"
            " AND greatest(coalesce(m.deed_date, m.entered_on), m.entered_on) > p.date_of_death"
            " AND m.entered_on >= :since ORDER BY m.id"
        ),
        _params(mouza_ids, since),
    ).all()
    return [
        Finding(rule="sale_after_death", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
                measure=float((r.entered_on - r.date_of_death).days), threshold=0.0,
                evidence={"mutation_no": r.number, "type": r.type, "transferor": r.name,
                          "party_id": r.party_id, "died_on": r.date_of_death.isoformat(),
                          "deed_date": r.deed_date.isoformat() if r.deed_date else None,
                          "entered_on": r.entered_on.isoformat()})
        for r in rows
    ]  # fmt: skip


@rule("stale_pending_mutation")
def stale_pending_mutation(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.11: an entry left unattested (entered or verified, never decided) for longer
    than ``max_days`` before ``as_of`` (default today)."""
    as_of = date.fromisoformat(str(thresholds["as_of"])) if "as_of" in thresholds else date.today()
    limit = as_of - timedelta(days=int(thresholds.get("max_days", 365)))
    rows = conn.execute(
        text(
            "SELECT id, mouza_id, number, type, status, entered_on FROM mutation"
            " WHERE mouza_id = ANY(:m) AND status IN ('entered', 'verified')"
            " AND entered_on < :limit ORDER BY id"
        ),
        _params(mouza_ids, since, limit=limit),
    ).all()
    return [
        Finding(rule="stale_pending_mutation", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
                measure=float((as_of - r.entered_on).days),
                threshold=float(thresholds.get("max_days", 365)),
                evidence={"mutation_no": r.number, "type": r.type, "status": r.status,
                          "entered_on": r.entered_on.isoformat()})
        for r in rows
    ]  # fmt: skip


class _Valued(NamedTuple):
    mutation_id: int
    mouza_id: int
    number: int
    declared_rs: int | None
    statutory_rs: int  # the table's value, or the written one where no rate is in force
    written_rs: int | None
    valued_on: date
    valued_by: str  # "dc_table" or "written_value"
    tax_at_stake_rs: int | None


def _valued_sales(conn: Connection, mouza_ids: list[int], since: date | None) -> list[_Valued]:
    """Every sanctioned sale with its statutory value from the DC table in force on its
    valuation date (the deed's date, else the entry date), whatever value is written on
    the mutation (:func:`landgov.valuation.transfer.transfer_tax`); computed once per scan
    for both money rules. Where no DC rate covers the sale (no table loaded, a khasra
    without a rate), the written value is all there is: it is used and said so
    (``valued_by``)."""
    from landgov.errors import LandgovError
    from landgov.valuation.transfer import transfer_tax

    def build() -> list[_Valued]:
        rows = conn.execute(
            text(
                "SELECT id, mouza_id, number, consideration_rs, statutory_value_rs,"
                " coalesce(deed_date, entered_on) AS valued_on FROM mutation"
                " WHERE mouza_id = ANY(:m) AND type = 'sale' AND status = 'sanctioned'"
                " AND decided_on >= :since ORDER BY id"
            ),
            _params(mouza_ids, since),
        ).all()
        out = []
        for r in rows:
            declared = None if r.consideration_rs is None else int(r.consideration_rs)
            written = None if r.statutory_value_rs is None else int(r.statutory_value_rs)
            try:
                t = transfer_tax(conn, int(r.id))
            except LandgovError:
                if written is not None:
                    out.append(_Valued(int(r.id), int(r.mouza_id), int(r.number), declared,
                                       written, written, r.valued_on, "written_value",
                                       None))  # fmt: skip
                continue
            out.append(_Valued(int(r.id), int(r.mouza_id), int(r.number), declared,
                               t.statutory_rs, written, t.valuation_date, "dc_table",
                               t.revenue_at_stake_rs))  # fmt: skip
        return out

    key = (tuple(sorted(mouza_ids)), since)
    return once_per_transaction(conn, "valued_sales", key, build)  # type: ignore[no-any-return]


@rule("under_declared_price")
def under_declared_price(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.8: a sale's declared price below ``min_ratio`` × its statutory value, valued at
    the DC table in force on the deed date, not the value written on the mutation (a low
    written value would hide the sale; ``statutory_value_misstated`` flags that value)."""
    ratio = float(thresholds.get("min_ratio", 1.0))
    return [
        Finding(rule="under_declared_price", mouza_id=v.mouza_id, mutation_id=v.mutation_id,
                measure=v.declared_rs / v.statutory_rs, threshold=ratio,
                evidence={"mutation_no": v.number, "declared_rs": v.declared_rs,
                          "statutory_rs": v.statutory_rs, "valued_by": v.valued_by,
                          "written_statutory_rs": v.written_rs,
                          "valued_on": v.valued_on.isoformat(),
                          "declared_ratio": round(v.declared_rs / v.statutory_rs, 4),
                          "at_stake_rs": v.statutory_rs - v.declared_rs,
                          "tax_at_stake_rs": v.tax_at_stake_rs})
        for v in _valued_sales(conn, mouza_ids, since)
        if v.declared_rs is not None and v.statutory_rs > 0
        and v.declared_rs < ratio * v.statutory_rs
    ]  # fmt: skip


@rule("statutory_value_misstated")
def statutory_value_misstated(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.8: the statutory value written on a sale differs from the DC table in force on
    its valuation date by more than ``tolerance`` (a fraction of the table's value): a
    value copied low lowers the tax base and hides under-declaration."""
    tol = float(thresholds.get("tolerance", 0.005))
    out = []
    for v in _valued_sales(conn, mouza_ids, since):
        if v.valued_by != "dc_table" or v.written_rs is None or v.statutory_rs <= 0:
            continue
        off = v.written_rs / v.statutory_rs - 1
        if abs(off) <= tol:
            continue
        out.append(Finding(
            rule="statutory_value_misstated", mouza_id=v.mouza_id, mutation_id=v.mutation_id,
            measure=abs(off), threshold=tol,
            evidence={"mutation_no": v.number, "written_statutory_rs": v.written_rs,
                      "table_statutory_rs": v.statutory_rs,
                      "valued_on": v.valued_on.isoformat(),
                      "written_below_table": off < 0, "misstated_by": round(abs(off), 4)},
        ))  # fmt: skip
    return out


@rule("deeds_short_window")
def deeds_short_window(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.3: two registered deeds on the same land within ``window_days``, the buyer of the
    first selling in the second (a quick resale, the usual shape of a fraudulent chain)."""
    days = int(thresholds.get("window_days", 45))
    rows = conn.execute(
        text(
            "SELECT DISTINCT ON (b.id) b.id, b.mouza_id, b.number, b.deed_number, b.deed_date,"
            " a.id AS first_id, a.number AS first_no, a.deed_number AS first_deed,"
            " a.deed_date AS first_date, la.khewat_id"
            " FROM mutation a JOIN mutation_line la ON la.mutation_id = a.id"
            " JOIN mutation_line lb ON lb.khewat_id = la.khewat_id"
            "  AND lb.transferor_party_id = la.transferee_party_id"
            " JOIN mutation b ON b.id = lb.mutation_id AND b.id <> a.id"
            " WHERE a.mouza_id = ANY(:m) AND a.deed_date IS NOT NULL AND b.deed_date IS NOT NULL"
            " AND a.status = 'sanctioned' AND b.status IN ('verified', 'sanctioned')"
            " AND b.deed_date >= a.deed_date AND b.deed_date - a.deed_date <= :days"
            " AND b.deed_date >= :since ORDER BY b.id, a.deed_date DESC"
        ),
        _params(mouza_ids, since, days=days),
    ).all()
    return [
        Finding(rule="deeds_short_window", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
                khewat_id=int(r.khewat_id),
                measure=float((r.deed_date - r.first_date).days), threshold=float(days),
                evidence={"mutation_no": r.number, "deed": r.deed_number,
                          "days_between_deeds": (r.deed_date - r.first_date).days,
                          "deed_date": r.deed_date.isoformat(), "first_mutation_no": r.first_no,
                          "first_deed": r.first_deed, "first_deed_date": r.first_date.isoformat()},
                key=f"mutation:{r.id}")
        for r in rows
    ]  # fmt: skip


@rule("officer_outside_jurisdiction")
def officer_outside_jurisdiction(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.7: a mutation sanctioned by an officer who could not sanction it on the decision
    date: no posting over the mouza's tehsil or patwar circle or any admin unit above them
    (``jurisdiction``), or a designation without the power to sanction (``designation``: a
    patwari or girdawar; the powers are the engine's, :mod:`landgov.security.policy`).
    Every sanction is checked, whichever way it entered the register; a sanction naming no
    officer fails both."""
    from landgov.security import policy

    may = set(policy.capability("mutation.sanction").roles)
    rows = conn.execute(
        text(
            "WITH RECURSIVE up(mouza_id, id, parent_id) AS ("
            "  SELECT m.id, a.id, a.parent_id FROM mouza m JOIN admin_unit a"
            "   ON a.id IN (m.tehsil_id, m.patwar_circle_id) WHERE m.id = ANY(:m)"
            "  UNION SELECT up.mouza_id, a.id, a.parent_id FROM admin_unit a"
            "   JOIN up ON a.id = up.parent_id)"
            " SELECT mu.id, mu.mouza_id, mu.number, mu.decided_on, o.id AS officer_id, o.name,"
            " o.designation, EXISTS (SELECT 1 FROM officer_jurisdiction j JOIN up"
            "  ON up.id = j.admin_unit_id AND up.mouza_id = mu.mouza_id"
            "  WHERE j.officer_id = o.id AND j.valid_from <= mu.decided_on"
            "  AND (j.valid_to IS NULL OR j.valid_to > mu.decided_on)) AS posted"
            " FROM mutation mu LEFT JOIN officer o ON o.id = mu.officer_id"
            " WHERE mu.mouza_id = ANY(:m) AND mu.status = 'sanctioned' AND mu.decided_on >= :since"
            " ORDER BY mu.id"
        ),
        _params(mouza_ids, since),
    ).all()
    out = []
    for r in rows:
        problems = ([] if r.posted else ["jurisdiction"]) + (
            [] if r.designation in may else ["designation"])  # fmt: skip
        if not problems:
            continue
        out.append(Finding(
            rule="officer_outside_jurisdiction", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
            evidence={"mutation_no": r.number, "officer_id": r.officer_id,
                      "officer": f"{r.name} ({r.designation})" if r.officer_id else None,
                      "problems": problems, "may_sanction": sorted(may),
                      "sanctioned_on": r.decided_on.isoformat()},
        ))  # fmt: skip
    return out


@rule("sanction_volume_spike")
def sanction_volume_spike(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.7: an officer sanctioning unusually many mutations in one day: at least
    ``min_count`` and at least ``factor`` times the officer's median over the days he
    sanctioned anything in the ``baseline_days`` before. An open court (khuli kachehri)
    legitimately clears dozens, so the rule compares the officer with himself, not with a
    fixed number. One finding per mutation of the day, so each lands on its khewats."""
    min_count = int(thresholds.get("min_count", 10))
    factor = float(thresholds.get("factor", 5))
    baseline = int(thresholds.get("baseline_days", 365))
    rows = conn.execute(
        text(
            "WITH daily AS (SELECT officer_id, decided_on, count(*) AS n FROM mutation"
            "  WHERE status = 'sanctioned' AND officer_id IS NOT NULL GROUP BY 1, 2),"
            " spikes AS (SELECT d.officer_id, d.decided_on, d.n,"
            "  (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY b.n) FROM daily b"
            "   WHERE b.officer_id = d.officer_id AND b.decided_on < d.decided_on"
            "   AND b.decided_on >= d.decided_on - :baseline) AS usual"
            "  FROM daily d WHERE d.n >= :min_count)"
            " SELECT m.id, m.mouza_id, m.number, m.decided_on, s.n, s.usual, o.name,"
            " o.designation FROM spikes s"
            " JOIN mutation m ON m.officer_id = s.officer_id AND m.decided_on = s.decided_on"
            "  AND m.status = 'sanctioned'"
            " JOIN officer o ON o.id = s.officer_id"
            " WHERE m.mouza_id = ANY(:m) AND m.decided_on >= :since"
            " AND s.n >= :factor * coalesce(s.usual, 1) ORDER BY m.id"
        ),
        _params(mouza_ids, since, min_count=min_count, factor=factor, baseline=baseline),
    ).all()
    return [
        Finding(rule="sanction_volume_spike", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
                measure=float(r.n), threshold=float(max(min_count, factor * (r.usual or 1))),
                evidence={"mutation_no": r.number, "officer": f"{r.name} ({r.designation})",
                          "sanctioned_on": r.decided_on.isoformat(), "that_day": int(r.n),
                          "usual_per_day": None if r.usual is None else float(r.usual)})
        for r in rows
    ]  # fmt: skip


# A step recorded through the engine: the server's date of recording against the date the
# officer gave it. Only steps with an account behind them count; loaded or imported
# history has its *_recorded_at stamped at load time (sql/018), which says nothing.
_STEPS_SQL = (
    "SELECT m.id, m.mouza_id, m.number, m.type, m.status, s.step, s.dated, s.recorded_on,"
    " s.recorded_on - s.dated AS days, u.username"
    " FROM mutation m CROSS JOIN LATERAL (VALUES"
    "  ('verify', m.verified_on, CAST(m.verified_recorded_at AS date), m.verified_by_user),"
    "  ('decide', m.decided_on, CAST(m.decided_recorded_at AS date), m.decided_by_user))"
    "  s(step, dated, recorded_on, user_id)"
    " JOIN app_user u ON u.id = s.user_id"
    " WHERE m.mouza_id = ANY(:m) AND s.dated IS NOT NULL AND s.recorded_on IS NOT NULL"
    " AND s.recorded_on - s.dated >= :days AND s.recorded_on >= :since"
    " ORDER BY m.id, s.step DESC"
)


@rule("backdated_action")
def backdated_action(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """A verification or decision taken through landgov and dated at least ``days`` before
    the day the server recorded it (``verified_recorded_at``, ``decided_recorded_at``).
    The back-dating window allows such a step (``security_setting``
    ``backdate_window_days``); every one is listed for review. One finding per mutation,
    naming each back-dated step, on the khewats its lines touch; ``since`` limits it to
    steps recorded on or after that date."""
    days = int(thresholds.get("days", 1))
    rows = conn.execute(text(_STEPS_SQL), _params(mouza_ids, since, days=days)).all()
    by_mutation: dict[int, list[Any]] = {}
    for r in rows:
        by_mutation.setdefault(int(r.id), []).append(r)
    out = []
    for mutation_id, steps in by_mutation.items():
        first = steps[0]
        out.append(Finding(
            rule="backdated_action", mouza_id=int(first.mouza_id), mutation_id=mutation_id,
            measure=float(max(int(s.days) for s in steps)), threshold=float(days),
            evidence={"mutation_no": first.number, "type": first.type,
                      "status": first.status,
                      "steps": [{"step": s.step, "dated": s.dated.isoformat(),
                                 "recorded_on": s.recorded_on.isoformat(),
                                 "days_back": int(s.days), "by": f"user:{s.username}"}
                                for s in steps]},
        ))  # fmt: skip
    return out


@rule("imported_decision_unchecked")
def imported_decision_unchecked(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """A step loaded or imported from a register (no account behind it) that the engine
    would have refused:

    - a decision (sanctioned or rejected, ``decided_by_user IS NULL``) whose officer's
      designation cannot decide (``designation``: a patwari or girdawar), or, for a
      rejection, who had no posting over the mouza on the decision date
      (``jurisdiction``). A sanction by an officer with no posting there is
      :func:`officer_outside_jurisdiction`'s, not flagged twice (sql/020);
    - a verification naming its officer (``verified_by``, ``verified_by_user IS NULL``)
      by a patwari (``designation``) or by an officer with no posting over the mouza on
      the verification date (``jurisdiction``).

    One finding per mutation, listing each failed step, on the khewats its lines touch.
    Postings are read with :func:`landgov.storage.officers.jurisdiction_mouzas`, the rule
    the engine applies to live steps."""
    from landgov.security import policy
    from landgov.storage.officers import jurisdiction_mouzas

    may = {  # the ranks the engine allows for each step (landgov.security.policy)
        "decision": policy.capability("mutation.sanction").roles,
        "verification": policy.capability("mutation.verify").roles,
    }

    rows = conn.execute(
        text(
            "SELECT m.id, m.mouza_id, m.number, m.type, m.status, s.step, s.on_day,"
            " o.id AS officer_id, o.name, o.designation FROM mutation m"
            " CROSS JOIN LATERAL (VALUES"
            "  ('decision', m.decided_on, CASE WHEN m.status IN ('sanctioned', 'rejected')"
            "   AND m.decided_by_user IS NULL THEN m.officer_id END),"
            "  ('verification', m.verified_on, CASE WHEN m.verified_by_user IS NULL"
            "   THEN m.verified_by END)) s(step, on_day, officer)"
            " JOIN officer o ON o.id = s.officer"
            " WHERE m.mouza_id = ANY(:m) AND s.on_day IS NOT NULL AND s.on_day >= :since"
            " ORDER BY m.id, s.step"
        ),
        _params(mouza_ids, since),
    ).all()
    posted: dict[tuple[int, date], set[int]] = {}

    def posted_there(officer_id: int, day: date) -> set[int]:
        if (officer_id, day) not in posted:
            posted[(officer_id, day)] = set(jurisdiction_mouzas(conn, officer_id, day, mouza_ids))
        return posted[(officer_id, day)]

    failed: dict[int, list[dict[str, Any]]] = {}
    first: dict[int, Any] = {}
    for r in rows:
        if r.step == "decision" and r.status == "sanctioned":
            continue  # a sanction's rank and posting are officer_outside_jurisdiction's
        if r.designation not in may[r.step]:
            problem = "designation"
        elif int(r.mouza_id) in posted_there(int(r.officer_id), r.on_day):
            continue
        else:
            problem = "jurisdiction"
        first.setdefault(int(r.id), r)
        failed.setdefault(int(r.id), []).append(
            {"step": r.step, "on": r.on_day.isoformat(), "problem": problem,
             "officer_id": int(r.officer_id), "officer": f"{r.name} ({r.designation})"}
        )  # fmt: skip
    return [
        Finding(rule="imported_decision_unchecked", mouza_id=int(first[m].mouza_id),
                mutation_id=m,
                evidence={"mutation_no": first[m].number, "type": first[m].type,
                          "status": first[m].status, "steps": steps})
        for m, steps in failed.items()
    ]  # fmt: skip
