"""``landgov disputes scan``: run the enabled rules, store flags once, open cases.

Flags are keyed by a fingerprint of (rule, subject), so a re-scan updates ``last_scan_id``
instead of adding a row; a full scan of a mouza marks its flags that were not found again
as resolved. Each flag is attached to a case on its subject (the khewat, or else the
khasra): a mutation's flag goes to the khewats its lines touch. A subject with a live case
gets the new flags attached, never a second case; a flag already weighed in a dismissed
case of its subject does not reopen one. Case risk = Σ over its unresolved flags
of the rule's weight × severity factor × the flag's grade (explained by
:func:`risk_breakdown`; grades: :mod:`landgov.disputes.grades`).

A scan runs as a signed-in :class:`~landgov.security.Actor` holding ``disputes.scan``
(the ``disputes`` batch service, or the demo's): the transaction binds it first and the
audit rows of the cases it opens name it (``service:disputes``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import Connection, Engine, text

from landgov.disputes import (  # noqa: F401  (each module registers its rules)
    geometry_rules,
    grades,
    imagery,
    inheritance,
    records,
    shares,
    transfers,
)
from landgov.disputes.rules import DETECTORS, SEVERITY_FACTOR, Detector, Finding
from landgov.errors import LandgovError
from landgov.security import Actor, authorize, bind


@dataclass
class ScanReport:
    scan_id: int
    mouza_ids: list[int]
    since: date | None
    found: dict[str, int] = field(default_factory=dict)
    new_flags: int = 0
    resolved_flags: int = 0
    new_cases: int = 0
    cases_updated: int = 0
    skipped_rules: list[str] = field(default_factory=list)
    kept_dismissed: int = 0  # flags found again on a subject whose case was dismissed

    def as_json(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["since"] = self.since.isoformat() if self.since else None
        return d


def _subjects(conn: Connection, f: Finding) -> list[tuple[str, int]]:
    if f.subject is not None:
        return [f.subject]
    if f.khewat_id is not None:
        return [("khewat", f.khewat_id)]
    if f.khasra_id is not None:
        return [("khasra", f.khasra_id)]
    if f.mutation_id is not None:
        ids = (
            conn.execute(
                text("SELECT DISTINCT khewat_id FROM mutation_line WHERE mutation_id = :m"),
                {"m": f.mutation_id},
            )
            .scalars()
            .all()
        )
        return [("khewat", int(i)) for i in ids]
    return []


def _dismissed_before(conn: Connection, flag_id: int, subject: str, subject_id: int) -> bool:
    """The flag was already weighed in a case of this subject that an officer dismissed:
    finding the same evidence again must not reopen it (new evidence is a new flag)."""
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM dispute_case_flag cf"
                " JOIN dispute_case c ON c.id = cf.case_id WHERE cf.flag_id = :f"
                " AND c.subject = :s AND c.subject_id = :i AND c.status = 'dismissed')"
            ),
            {"f": flag_id, "s": subject, "i": subject_id},
        ).scalar_one()
    )


def risk_breakdown(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    """Which rules make up a case's risk and how much each (unresolved flags only)."""
    rows = (
        conn.execute(
            text(
                "SELECT r.id, r.severity, r.weight, r.title_en, r.title_ur, count(*) AS n,"
                " sum(f.grade) AS graded"
                " FROM dispute_case_flag cf JOIN dispute_flag f ON f.id = cf.flag_id"
                " JOIN dispute_rule r ON r.id = f.rule_id"
                " WHERE cf.case_id = :c AND NOT f.resolved GROUP BY r.id ORDER BY r.id"
            ),
            {"c": case_id},
        )
        .mappings()
        .all()
    )
    return [{"rule": r["id"], "severity": r["severity"], "flags": int(r["n"]),
             "points": float(r["weight"]) * SEVERITY_FACTOR[r["severity"]] * float(r["graded"]),
             "title_en": r["title_en"], "title_ur": r["title_ur"]} for r in rows]  # fmt: skip


def scan(
    engine: Engine, *, mouza: int | str | None = None, since: date | None = None,
    actor: Actor,
) -> ScanReport:  # fmt: skip
    """Runs every enabled rule with a detector over the mouza (or all) in one transaction,
    as ``actor``.

    Raises:
        AccessDenied: ``actor`` may not scan (capability ``disputes.scan``).
    """
    from landgov.storage import audit
    from landgov.storage.lookup import resolve_mouza

    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "disputes.scan")
        if mouza is None:
            mouza_ids = [int(i) for i in conn.execute(text("SELECT id FROM mouza ORDER BY id"))
                         .scalars()]  # fmt: skip
        else:
            mouza_ids = [resolve_mouza(conn, mouza)]
        if not mouza_ids:
            raise LandgovError("there is no mouza to scan")
        scan_id = int(conn.execute(
            text("INSERT INTO dispute_scan (mouza_id, since) VALUES (:m, :s) RETURNING id"),
            {"m": mouza_ids[0] if mouza is not None else None, "s": since},
        ).scalar_one())  # fmt: skip
        report = ScanReport(scan_id, mouza_ids, since)
        rules = conn.execute(
            text("SELECT id, thresholds, grade FROM dispute_rule WHERE enabled ORDER BY id")
        ).all()
        specs = {r.id: dict(r.grade or {}) for r in rules}
        for spec in specs.values():
            grades.check_spec(spec)
        touched: set[int] = set()
        # rules sharing a detector (gaps and slivers) run it once, with their thresholds
        groups: dict[Detector, dict[str, dict[str, Any]]] = {}
        for r in rules:
            detector = DETECTORS.get(r.id)
            if detector is None:
                report.skipped_rules.append(r.id)
                continue
            groups.setdefault(detector, {})[r.id] = dict(r.thresholds)
        for detector, wanted in groups.items():
            merged = {k: v for th in wanted.values() for k, v in th.items()}
            findings = []
            for f in detector(conn, mouza_ids, since, merged):
                if f.rule not in wanted:
                    continue
                g = f.grade * grades.grade(specs[f.rule], f.evidence)
                if g > 0:  # outside every ramp: no evidence of the signal
                    findings.append(replace(f, grade=min(1.0, g)))
            for rule_id in wanted:
                report.found[rule_id] = sum(f.rule == rule_id for f in findings)
            for f in findings:
                fp = f.fingerprint()
                row = conn.execute(
                    text(
                        "INSERT INTO dispute_flag (rule_id, fingerprint, mouza_id, khasra_id,"
                        " khewat_id, mutation_id, measure, threshold, evidence, geom, grade,"
                        " first_scan_id, last_scan_id) VALUES (:r, :fp, :m, :ka, :kw, :mu,"
                        " :me, :th, CAST(:ev AS jsonb),"
                        " ST_Multi(ST_CollectionExtract(ST_GeomFromWKB(:g, 4326), 3)), :gr,"
                        " :s, :s) ON CONFLICT (fingerprint) DO UPDATE SET last_scan_id = :s,"
                        " resolved = false, measure = :me, evidence = CAST(:ev AS jsonb),"
                        " grade = :gr"
                        " RETURNING id, (xmax = 0) AS inserted"
                    ),
                    {"r": f.rule, "fp": fp, "m": f.mouza_id, "ka": f.khasra_id,
                     "kw": f.khewat_id, "mu": f.mutation_id, "me": f.measure,
                     "th": f.threshold, "ev": f.evidence_json(), "g": f.geom_wkb,
                     "gr": f.grade, "s": scan_id},
                ).one()  # fmt: skip
                report.new_flags += int(bool(row.inserted))
                for subject, subject_id in _subjects(conn, f):
                    case = conn.execute(
                        text(
                            "SELECT id FROM dispute_case WHERE subject = :s AND subject_id = :i"
                            " AND status IN ('open', 'under_review', 'referred', 'confirmed')"
                        ),
                        {"s": subject, "i": subject_id},
                    ).scalar()
                    if case is None and _dismissed_before(conn, row.id, subject, subject_id):
                        report.kept_dismissed += 1
                        continue
                    if case is None:
                        case = conn.execute(
                            text("INSERT INTO dispute_case (mouza_id, subject, subject_id)"
                                 " VALUES (:m, :s, :i) RETURNING id"),
                            {"m": f.mouza_id, "s": subject, "i": subject_id},
                        ).scalar_one()  # fmt: skip
                        report.new_cases += 1
                        audit.append(conn, actor=actor.label, action="open dispute case",
                                     entity="dispute_case", entity_id=str(case),
                                     details={"subject": subject, "subject_id": subject_id,
                                              "scan": scan_id})  # fmt: skip
                    conn.execute(
                        text("INSERT INTO dispute_case_flag (case_id, flag_id) VALUES (:c, :f)"
                             " ON CONFLICT DO NOTHING"),
                        {"c": case, "f": row.id},
                    )  # fmt: skip
                    touched.add(int(case))
        if since is None:  # a full scan: what it no longer finds is resolved
            report.resolved_flags = conn.execute(
                text(
                    "UPDATE dispute_flag SET resolved = true WHERE mouza_id = ANY(:m)"
                    " AND NOT resolved AND rule_id = ANY(:rules) AND last_scan_id <> :s"
                ),
                {"m": mouza_ids, "rules": list(report.found), "s": scan_id},
            ).rowcount
        for case_id in sorted(touched):
            risk = sum(b["points"] for b in risk_breakdown(conn, case_id))
            conn.execute(
                text("UPDATE dispute_case SET risk = :r, updated_at = now() WHERE id = :c"),
                {"r": risk, "c": case_id},
            )
        report.cases_updated = len(touched)
        conn.execute(
            text("UPDATE dispute_scan SET summary = CAST(:s AS jsonb) WHERE id = :id"),
            {"s": json.dumps(report.as_json()), "id": scan_id},
        )
    return report
