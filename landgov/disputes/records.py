"""Rules over the temporal record of rights and the mutation register (domain.md §6).

Share sums are computed with exact fractions in Python (the database stores numerator and
denominator; 1/3 + 2/3 must be exactly 1, which floating point cannot promise).
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import Connection, text

from landgov.disputes.rules import Finding, rule


def _since_clause(column: str, since: date | None) -> str:
    return f" AND {column} >= :since" if since is not None else ""


@rule("share_total_not_one")
def share_total_not_one(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.1: on some date a khewat's ownership shares sum to more or less than 1.

    Checked at every date a share row of the khewat starts or ends (the sum is constant in
    between). One finding per khewat: the first bad date, its exact sum, and every bad
    period. ``since`` limits the scan to khewats with a share row starting or ending then
    or later.
    """
    tol = Fraction(str(thresholds.get("tolerance", 0)))
    params: dict[str, Any] = {"m": mouza_ids}
    recent = ""
    if since is not None:
        recent = (" AND k.id IN (SELECT khewat_id FROM share WHERE valid_from >= :since"
                  " OR valid_to >= :since)")  # fmt: skip
        params["since"] = since
    rows = conn.execute(
        text(
            "SELECT s.khewat_id, k.mouza_id, k.number, s.numerator, s.denominator,"
            " s.valid_from, s.valid_to FROM share s JOIN khewat k ON k.id = s.khewat_id"
            " WHERE k.mouza_id = ANY(:m) AND s.right_type = 'ownership'"
            + recent
            + " ORDER BY s.khewat_id, s.valid_from, s.id"
        ),
        params,
    ).all()
    by_khewat: dict[int, list[Any]] = defaultdict(list)
    for r in rows:
        by_khewat[int(r.khewat_id)].append(r)
    out: list[Finding] = []
    for khewat_id, shares in by_khewat.items():
        dates = sorted({r.valid_from for r in shares} | {r.valid_to for r in shares if r.valid_to})
        bad: list[tuple[date, Fraction]] = []
        for d in dates:
            live = [
                r for r in shares if r.valid_from <= d and (r.valid_to is None or d < r.valid_to)
            ]
            if not live:
                continue  # a khewat closed by partition or consolidation has no owners
            total = sum((Fraction(r.numerator, r.denominator) for r in live), Fraction(0))
            if abs(total - 1) > tol:
                bad.append((d, total))
        if bad:
            first_date, first_total = bad[0]
            worst = max(bad, key=lambda b: abs(b[1] - 1))[1]
            out.append(Finding(
                rule="share_total_not_one", mouza_id=int(shares[0].mouza_id),
                khewat_id=khewat_id, measure=float(worst), threshold=1.0,
                evidence={"khewat_no": shares[0].number, "first_date": first_date.isoformat(),
                          "first_total": str(first_total), "worst_total": str(worst),
                          "over_allocated": worst > 1,
                          "dates": [(d.isoformat(), str(t)) for d, t in bad[:10]]},
            ))  # fmt: skip
    return out


@rule("same_day_sanction")
def same_day_sanction(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.7: a mutation sanctioned fewer than ``min_days`` days after it was entered."""
    min_days = int(thresholds.get("min_days", 1))
    params: dict[str, Any] = {"m": mouza_ids, "d": min_days}
    if since is not None:
        params["since"] = since
    rows = conn.execute(
        text(
            "SELECT id, mouza_id, number, type, entered_on, decided_on, officer_id FROM mutation"
            " WHERE mouza_id = ANY(:m) AND status = 'sanctioned'"
            " AND decided_on - entered_on < :d"
            + _since_clause("decided_on", since)
            + " ORDER BY id"
        ),
        params,
    ).all()
    return [
        Finding(rule="same_day_sanction", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
                measure=float((r.decided_on - r.entered_on).days), threshold=float(min_days),
                evidence={"mutation_no": r.number, "type": r.type,
                          "entered_on": r.entered_on.isoformat(),
                          "sanctioned_on": r.decided_on.isoformat(), "officer_id": r.officer_id})
        for r in rows
    ]  # fmt: skip


@rule("transfer_without_deed")
def transfer_without_deed(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.6: a transfer sanctioned on or after ``required_from`` with no registered deed
    number, unless its type is in ``exempt_types`` (inheritance passes by law, not deed)."""
    params: dict[str, Any] = {
        "m": mouza_ids,
        "req": date.fromisoformat(str(thresholds.get("required_from", "1900-01-01"))),
        "exempt": list(thresholds.get("exempt_types", ["inheritance"])),
    }
    if since is not None:
        params["since"] = since
    rows = conn.execute(
        text(
            "SELECT id, mouza_id, number, type, decided_on FROM mutation"
            " WHERE mouza_id = ANY(:m) AND status = 'sanctioned' AND decided_on >= :req"
            " AND type <> ALL(:exempt) AND btrim(coalesce(deed_number, '')) = ''"
            + _since_clause("decided_on", since)
            + " ORDER BY id"
        ),
        params,
    ).all()
    return [
        Finding(rule="transfer_without_deed", mouza_id=int(r.mouza_id), mutation_id=int(r.id),
                evidence={"mutation_no": r.number, "type": r.type,
                          "sanctioned_on": r.decided_on.isoformat()})
        for r in rows
    ]  # fmt: skip


@rule("unattested_jamabandi")
def unattested_jamabandi(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.11: a jamabandi never attested ``grace_days`` after 1 June of its year (when the
    four-yearly record is due); ``as_of`` (default today) fixes the date for tests."""
    as_of = date.fromisoformat(str(thresholds["as_of"])) if "as_of" in thresholds else date.today()
    grace = timedelta(days=int(thresholds.get("grace_days", 365)))
    rows = conn.execute(
        text(
            "SELECT j.id, j.mouza_id, j.year, m.name FROM jamabandi j"
            " JOIN mouza m ON m.id = j.mouza_id WHERE j.mouza_id = ANY(:m)"
            " AND j.attested_by IS NULL ORDER BY j.mouza_id, j.year"
        ),
        {"m": mouza_ids},
    ).all()
    return [
        Finding(rule="unattested_jamabandi", mouza_id=int(r.mouza_id),
                measure=float((as_of - date(r.year, 6, 1)).days),
                threshold=float(grace.days),
                evidence={"mouza": r.name, "year": int(r.year), "jamabandi_id": int(r.id)},
                subject=("jamabandi", int(r.id)), key=f"jamabandi:{r.id}")
        for r in rows if date(r.year, 6, 1) + grace < as_of
    ]  # fmt: skip


@rule("orphan_khasra")
def orphan_khasra(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.11: a live khasra on the map that no khewat holds today (its owners are missing
    from the record of rights)."""
    rows = conn.execute(
        text(
            "SELECT k.id, k.mouza_id, k.number, k.land_class, k.record_area_sarsai FROM khasra k"
            " WHERE k.mouza_id = ANY(:m) AND k.retired_on IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM khewat_khasra kk WHERE kk.khasra_id = k.id"
            "  AND kk.valid_to IS NULL) ORDER BY k.id"
        ),
        {"m": mouza_ids},
    ).all()
    return [
        Finding(rule="orphan_khasra", mouza_id=int(r.mouza_id), khasra_id=int(r.id),
                evidence={"khasra_no": r.number, "land_class": r.land_class,
                          "record_area_sarsai": int(r.record_area_sarsai)})
        for r in rows
    ]  # fmt: skip
