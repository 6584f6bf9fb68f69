"""Rules over the mutation register's dates, deeds and record quality (domain.md §6).

The rules over shares read the replayed register and live in :mod:`landgov.disputes.shares`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, text

from landgov.disputes.rules import Finding, rule


def _since_clause(column: str, since: date | None) -> str:
    return f" AND {column} >= :since" if since is not None else ""


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
                          "days_after_entry": (r.decided_on - r.entered_on).days,
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
    """§6.11: a live khasra on the map that no khewat holds today (no open
    ``khewat_khasra`` period) and that is not *unassigned*, i.e. its owners are missing
    from the record of rights: its holding was lost (a period ended with no successor, a
    row deleted or edited directly) or the record never held it.

    An unassigned khasra (``khasra.unassigned_since``, sql/023: imported as "mapped,
    record of rights not yet attached") is a state, not an anomaly, and is skipped; the
    state ends when a khewat_khasra row attaches the khasra and can never be set again,
    so it cannot hide a lost holding. Evidence: the last khewat that held the khasra and
    until when, or ``never_held``.
    """
    rows = conn.execute(
        text(
            "SELECT k.id, k.mouza_id, k.number, k.land_class, k.record_area_sarsai,"
            " last.khewat_no, last.valid_to FROM khasra k"
            " LEFT JOIN LATERAL (SELECT w.number AS khewat_no, kk.valid_to"
            "  FROM khewat_khasra kk JOIN khewat w ON w.id = kk.khewat_id"
            "  WHERE kk.khasra_id = k.id ORDER BY kk.valid_to DESC, kk.valid_from DESC"
            "  LIMIT 1) last ON true"
            " WHERE k.mouza_id = ANY(:m) AND k.retired_on IS NULL"
            " AND k.unassigned_since IS NULL"
            " AND NOT EXISTS (SELECT 1 FROM khewat_khasra kk WHERE kk.khasra_id = k.id"
            "  AND kk.valid_to IS NULL) ORDER BY k.id"
        ),
        {"m": mouza_ids},
    ).all()
    return [
        Finding(rule="orphan_khasra", mouza_id=int(r.mouza_id), khasra_id=int(r.id),
                evidence={"khasra_no": r.number, "land_class": r.land_class,
                          "record_area_sarsai": int(r.record_area_sarsai),
                          "never_held": r.khewat_no is None,
                          "last_khewat_no": r.khewat_no,
                          "held_until": r.valid_to.isoformat() if r.valid_to else None})
        for r in rows
    ]  # fmt: skip
