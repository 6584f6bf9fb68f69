"""The dispute case workflow: officers review, confirm, dismiss and refer cases.

A scan (:mod:`landgov.disputes.scan`) opens a case per subject (a khewat, a khasra, a
piece of state land or a jamabandi). Officers then take it through::

    open ──review──▶ under_review ──confirm──▶ confirmed ──refer──▶ referred
      │                   │
      └─────dismiss───────┴──▶ dismissed (with a reason)

Who acts is the signed-in :class:`~landgov.security.Actor`, never a name or CNIC a
caller passes; each step binds the actor to its transaction and checks it with
:func:`landgov.security.authorize` (capabilities in :mod:`landgov.security.policy`):

- review (``case.review``): any officer but a patwari. The patwari keeps the very record
  the case questions, so he cannot be the one to examine it.
- confirm, dismiss, refer (``case.decide``, signed in with a TOTP code): revenue
  officers (naib tehsildar, tehsildar, assistant commissioner), the designations that
  decide mutations.
- the officer must be posted over the case's mouza today and, for a step dated in the
  past, on that date as well, within the back-dating window (``security_setting``
  ``backdate_window_days``); nothing is dated in the future.

A refusal is a :class:`~landgov.errors.CaseActionRefused` whose ``rule`` keeps the ids
the dashboard and the CLI already show: the security rules ``role``, ``jurisdiction``
and ``future_date`` come as ``officer_designation``, ``officer_jurisdiction`` and
``case_date``; ``posting_then_and_now``, ``backdate_window`` and ``second_factor`` keep
their own names (:data:`SECURITY_RULES`). The workflow's own rules: ``case_status``,
``reason_required``, ``case_date`` (confirmed before reviewed, referred before
confirmed).

Each step is one transaction: the case row is locked (``FOR UPDATE``), so two officers
acting at once are serialised and the second sees the first one's status; every check
runs before anything is written, and a refusal writes nothing, not even an audit row. A
step that passes updates the case (``reviewed_by`` / ``decided_by``: the actor's officer)
and appends one audit row (actor = the account, ``user:NAME``; action ``dispute case
<step>``, entity ``dispute_case``).

:func:`case_queue` and :func:`case_detail` are the read side, shared by ``landgov
disputes cases|show`` and the dashboard's Disputes page; :func:`masked` hides the CNICs
of a detail for whoever may not see them in full.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import mask_cnic
from landgov.errors import AccessDenied, CaseActionRefused, DomainError
from landgov.security import Actor, authorize, bind
from landgov.storage import audit, read
from landgov.storage.lookup import NotFound
from landgov.storage.officers import DESIGNATIONS, REVENUE_OFFICERS, jurisdiction_mouzas

COMMITTEE_DAYS: Final = 90
"""Days the dispute resolution committee has to decide a referred case (``decide_by``).

Source: docs/domain.md §6, last paragraph: Punjab's 2025 ownership-protection ordinance
sends disputes to a deputy-commissioner-led committee that must decide within 90 days.
The ordinance is still marked "to confirm" there; change this constant (not the callers)
when its text is checked.
"""

STATUSES: Final = ("open", "under_review", "confirmed", "dismissed", "referred")
"""Every case status, in workflow order (``dispute_case.status``)."""

LIVE_STATUSES: Final = ("open", "under_review", "confirmed", "referred")
"""The statuses of a case still being worked on (the default queue of the dashboard)."""

REVIEWERS: Final = frozenset(DESIGNATIONS) - {"patwari"}
"""Who may take a case up: anyone but the patwari, who keeps the record in question
(the roles of capability ``case.review``)."""

DECIDERS: Final = REVENUE_OFFICERS
"""Who may confirm, dismiss and refer: the revenue officers (``case.decide``)."""


SECURITY_RULES: Final = {
    "role": "officer_designation",
    "jurisdiction": "officer_jurisdiction",
    "future_date": "case_date",
}
"""The rule a :class:`CaseActionRefused` names for an :class:`AccessDenied` rule (the
others, e.g. ``backdate_window``, keep their name)."""


@dataclass(frozen=True)
class _Step:
    action: str
    from_statuses: tuple[str, ...]
    to: str
    capability: str


_STEPS: Final = {
    "review": _Step("review", ("open",), "under_review", "case.review"),
    "confirm": _Step("confirm", ("under_review",), "confirmed", "case.decide"),
    "dismiss": _Step("dismiss", ("open", "under_review"), "dismissed", "case.decide"),
    "refer": _Step("refer", ("confirmed",), "referred", "case.decide"),
}


@dataclass(frozen=True)
class CaseStep:
    """What one workflow step did (also what its audit row says).

    Attributes:
        case_id: the case.
        action: ``review``, ``confirm``, ``dismiss`` or ``refer``.
        from_status, to_status: the status before and after.
        on: the date of the step.
        officer: the acting officer, ``Name (designation)``.
        reason: the dismissal reason or the confirmation note, if any.
        decide_by: for a referral, the committee's deadline (``on`` + 90 days).
        audit_seq: the seq of the audit row written.
    """

    case_id: int
    action: str
    from_status: str
    to_status: str
    on: date
    officer: str
    reason: str | None
    decide_by: date | None
    audit_seq: int

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["on"] = self.on.isoformat()
        d["decide_by"] = self.decide_by.isoformat() if self.decide_by else None
        return d


@dataclass(frozen=True)
class _Case:
    id: int
    mouza_id: int
    mouza: str
    subject_label: str
    status: str
    decided_on: date | None
    reviewed_on: date | None


# The readable name of a case's subject; needs the case as ``c``.
_SUBJECT_LABEL: Final = (
    "CASE c.subject"
    " WHEN 'khewat' THEN (SELECT 'khewat ' || w.number FROM khewat w WHERE w.id = c.subject_id)"
    " WHEN 'khasra' THEN (SELECT 'khasra ' || k.number FROM khasra k WHERE k.id = c.subject_id)"
    " WHEN 'jamabandi' THEN (SELECT 'jamabandi ' || j.year FROM jamabandi j"
    "  WHERE j.id = c.subject_id)"
    " WHEN 'state_land' THEN (SELECT coalesce(nullif(btrim(s.name), ''),"
    "  replace(s.category, '_', ' ') || ' ' || s.id) FROM state_land s"
    "  WHERE s.id = c.subject_id)"
    " END"
)


def _lock_case(conn: Connection, case_id: int) -> _Case:
    row = conn.execute(
        text(
            "SELECT c.id, c.mouza_id, z.name, "
            + _SUBJECT_LABEL
            + ", c.status, c.decided_on, c.reviewed_on"
            " FROM dispute_case c JOIN mouza z ON z.id = c.mouza_id"
            " WHERE c.id = :id FOR UPDATE OF c"
        ),
        {"id": case_id},
    ).one_or_none()
    if row is None:
        raise NotFound(f"no dispute case with id {case_id}")
    label = row[3] or f"{row[0]}"
    return _Case(int(row[0]), int(row[1]), str(row[2]), str(label), str(row[4]), row[5], row[6])


def _officer_label(actor: Actor) -> str:
    return f"{actor.full_name} ({(actor.designation or 'no designation').replace('_', ' ')})"


def _check(conn: Connection, case: _Case, step: _Step, actor: Actor, on: date) -> bool:
    """Every rule of ``step``; raises :class:`CaseActionRefused` at the first broken one.
    Returns whether the step is back-dated."""
    what = f"case {case.id} ({case.subject_label}, mouza {case.mouza})"
    if case.status not in step.from_statuses:
        allowed = " or ".join(s.replace("_", " ") for s in step.from_statuses)
        raise CaseActionRefused(
            "case_status",
            f"{what} is {case.status.replace('_', ' ')}; only a case that is {allowed} "
            f"can be {_PAST[step.action]}",
        )
    try:
        backdated = authorize(conn, actor, step.capability, mouza_id=case.mouza_id, on=on)
    except AccessDenied as exc:
        raise CaseActionRefused(SECURITY_RULES.get(exc.rule, exc.rule), exc.message) from None
    if actor.officer_id is None:  # the case's reviewer and decider are officers
        raise CaseActionRefused("officer_designation", f"{actor.display} is not a revenue officer")
    if step.action in ("confirm", "dismiss") and case.reviewed_on and on < case.reviewed_on:
        raise CaseActionRefused(
            "case_date",
            f"{what} was taken up for review on {case.reviewed_on.isoformat()}; it cannot be "
            f"{_PAST[step.action]} before that ({on.isoformat()})",
        )
    if step.action == "refer" and case.decided_on is not None and on < case.decided_on:
        raise CaseActionRefused(
            "case_date",
            f"{what} was confirmed on {case.decided_on.isoformat()}; it cannot be referred "
            f"before that ({on.isoformat()})",
        )
    return backdated


_PAST: Final = {
    "review": "taken up for review",
    "confirm": "confirmed",
    "dismiss": "dismissed",
    "refer": "referred",
}


def _act(
    engine: Engine,
    case_id: int,
    actor: Actor,
    on: date | None,
    action: str,
    *,
    reason: str | None = None,
) -> CaseStep:
    """Runs one step in one transaction: bind, lock, check, update, audit (in that order)."""
    step = _STEPS[action]
    with engine.begin() as conn:
        bind(conn, actor)
        day = on or conn.execute(text("SELECT current_date")).scalar_one()
        case = _lock_case(conn, case_id)
        backdated = _check(conn, case, step, actor, day)
        decide_by = day + timedelta(days=COMMITTEE_DAYS) if action == "refer" else None
        if action == "review":
            sql = "reviewed_by = :officer, reviewed_on = :on"
        elif action == "refer":
            sql = "referred_on = :on, decide_by = :decide_by"
        else:  # confirm, dismiss: the decision, with its reason or note
            sql = "decided_by = :officer, decided_on = :on, reason = coalesce(:reason, reason)"
        conn.execute(
            text(f"UPDATE dispute_case SET status = :to, {sql}, updated_at = now() WHERE id = :id"),
            {
                "to": step.to,
                "officer": actor.officer_id,
                "on": day,
                "decide_by": decide_by,
                "reason": reason,
                "id": case.id,
            },
        )
        officer = _officer_label(actor)
        details: dict[str, Any] = {
            "from": case.status,
            "to": step.to,
            "on": day.isoformat(),
            "officer": officer,
            "mouza": case.mouza,
            "subject": case.subject_label,
        }
        if backdated:
            details["backdated"] = True
        if reason is not None:
            details["reason" if action == "dismiss" else "note"] = reason
        if decide_by is not None:
            details["referred_on"] = day.isoformat()
            details["decide_by"] = decide_by.isoformat()
            details["committee_days"] = COMMITTEE_DAYS
        seq = audit.append(
            conn,
            actor=actor.label,
            action=f"dispute case {action}",
            entity="dispute_case",
            entity_id=str(case.id),
            details=details,
        )
    return CaseStep(case.id, action, case.status, step.to, day, officer, reason, decide_by, seq)


def review(engine: Engine, case_id: int, actor: Actor, on: date | None = None) -> CaseStep:
    """Takes an open case up for review (open → under_review); records who reviews it.

    ``on`` (default: today, the database's date) is the step's date.

    Raises:
        CaseActionRefused: ``case_status``, ``officer_designation`` (a patwari),
            ``officer_jurisdiction``, ``posting_then_and_now``, ``backdate_window``,
            ``case_date``; nothing written.
        NotFound: no such case.
        AuthenticationFailed: the actor's session has ended.
    """
    return _act(engine, case_id, actor, on, "review")


def confirm(
    engine: Engine,
    case_id: int,
    actor: Actor,
    on: date | None = None,
    note: str | None = None,
) -> CaseStep:
    """Confirms a case under review (under_review → confirmed): the dispute is real.

    ``note`` (optional) is kept as the case's reason and in the audit row.

    Raises:
        CaseActionRefused: ``case_status``, ``officer_designation``, ``second_factor``,
            ``officer_jurisdiction``, ``posting_then_and_now``, ``backdate_window``,
            ``case_date``; nothing written.
        NotFound: no such case.
    """
    cleaned = note.strip() if note and note.strip() else None
    return _act(engine, case_id, actor, on, "confirm", reason=cleaned)


def dismiss(
    engine: Engine, case_id: int, actor: Actor, reason: str, on: date | None = None
) -> CaseStep:
    """Dismisses an open or reviewed case (→ dismissed); a reason is required.

    Raises:
        CaseActionRefused: ``reason_required`` (blank reason), ``case_status``,
            ``officer_designation``, ``second_factor``, ``officer_jurisdiction``,
            ``posting_then_and_now``, ``backdate_window``, ``case_date``; nothing written.
        NotFound: no such case.
    """
    if not reason or not reason.strip():
        raise CaseActionRefused("reason_required", "a dismissal needs a reason")
    return _act(engine, case_id, actor, on, "dismiss", reason=reason.strip())


def refer(engine: Engine, case_id: int, actor: Actor, on: date | None = None) -> CaseStep:
    """Refers a confirmed case to the dispute resolution committee (→ referred).

    Sets ``referred_on`` = ``on`` and ``decide_by`` = ``on`` + :data:`COMMITTEE_DAYS`.

    Raises:
        CaseActionRefused: ``case_status``, ``officer_designation``, ``second_factor``,
            ``officer_jurisdiction``, ``posting_then_and_now``, ``backdate_window``,
            ``case_date`` (before the confirmation); nothing written.
        NotFound: no such case.
    """
    return _act(engine, case_id, actor, on, "refer")


# --- the read side -----------------------------------------------------------------------


def _statuses(statuses: Iterable[str] | None) -> list[str] | None:
    if statuses is None:
        return None
    wanted = [s.strip() for s in statuses]
    unknown = sorted(set(wanted) - set(STATUSES))
    if unknown:
        raise DomainError(
            f"unknown case status {', '.join(unknown)}; use one of {', '.join(STATUSES)}"
        )
    return wanted


_QUEUE_SQL: Final = text(
    "SELECT c.id, c.mouza_id, z.name AS mouza, c.subject, c.subject_id, "
    + _SUBJECT_LABEL
    + " AS subject_label, c.status, c.risk, c.reason,"
    " (SELECT count(*) FROM dispute_case_flag cf JOIN dispute_flag f ON f.id = cf.flag_id"
    "   WHERE cf.case_id = c.id AND NOT f.resolved) AS open_flags,"
    " coalesce((SELECT array_agg(DISTINCT f.rule_id ORDER BY f.rule_id)"
    "   FROM dispute_case_flag cf JOIN dispute_flag f ON f.id = cf.flag_id"
    "   WHERE cf.case_id = c.id AND NOT f.resolved), '{}') AS rules,"
    " c.opened_at, c.updated_at, c.decided_on, c.referred_on, c.decide_by,"
    " (c.status = 'referred' AND c.decide_by < :on) AS overdue"
    " FROM dispute_case c JOIN mouza z ON z.id = c.mouza_id"
    " WHERE (CAST(:mouzas AS bigint[]) IS NULL OR c.mouza_id = ANY(CAST(:mouzas AS bigint[])))"
    " AND (CAST(:statuses AS text[]) IS NULL OR c.status = ANY(CAST(:statuses AS text[])))"
    " ORDER BY c.risk DESC, c.opened_at, c.id"
)


def case_queue(
    conn: Connection,
    *,
    actor: Actor | None = None,
    officer_id: int | None = None,
    mouza_ids: Iterable[int] | None = None,
    statuses: Iterable[str] | None = None,
    on: date | None = None,
) -> list[dict[str, Any]]:
    """The cases an officer (or anyone, for ``mouza_ids``) works on, riskiest first.

    With an ``actor`` bound to an officer (or an ``officer_id``) only the mouzas of that
    officer's postings on ``on`` (default today) count, intersected with ``mouza_ids``
    when both are given; an actor who is no officer (an auditor) sees every mouza.
    ``statuses`` limits the statuses (default: all).

    Returns:
        One dict per case: ``id, mouza_id, mouza, subject, subject_id, subject_label``
        (``khewat 12``, ``khasra 45//12/1``, ``jamabandi 2024`` or the state land's name),
        ``status, risk, reason, open_flags`` (unresolved flags), ``rules`` (their rule
        ids), ``opened_at, updated_at, decided_on, referred_on, decide_by`` and
        ``overdue`` (referred and the committee's deadline is before ``on``); sorted by
        risk descending, then oldest first.

    Raises:
        DomainError: an unknown status.
    """
    day = on or date.today()
    wanted = _statuses(statuses)
    mouzas = None if mouza_ids is None else [int(m) for m in mouza_ids]
    if officer_id is None and actor is not None:
        officer_id = actor.officer_id
    if officer_id is not None:
        mouzas = jurisdiction_mouzas(conn, officer_id, day, mouzas)
        if not mouzas:
            return []
    rows = conn.execute(_QUEUE_SQL, {"mouzas": mouzas, "statuses": wanted, "on": day})
    out = []
    for r in rows.mappings():
        row = dict(r)
        row["risk"] = float(row["risk"])
        row["open_flags"] = int(row["open_flags"])
        row["rules"] = list(row["rules"] or [])
        row["overdue"] = bool(row["overdue"])
        out.append(row)
    return out


_SEVERITY_ORDER: Final = (
    "CASE r.severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"
)


def _plain(value: Any) -> Any:
    """A pandas/numpy cell as a plain Python value (NaN and NaT → None)."""
    if value is None or isinstance(value, list | tuple | dict | str | bytes):
        return value
    if pd.isna(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _geojson(raw: str | None) -> dict[str, Any] | None:
    return None if raw is None else dict(json.loads(raw))


def _case_row(conn: Connection, case_id: int, on: date) -> dict[str, Any]:
    row = (
        conn.execute(
            text(
                "SELECT c.id, c.mouza_id, z.name AS mouza, c.subject, c.subject_id, "
                + _SUBJECT_LABEL
                + " AS subject_label, c.status, c.risk, c.reason, c.opened_at, c.updated_at,"
                " c.decided_on, c.referred_on, c.decide_by,"
                " (c.status = 'referred' AND c.decide_by < :on) AS overdue,"
                " rv.name || ' (' || replace(rv.designation, '_', ' ') || ')' AS reviewed_by,"
                " dc.name || ' (' || replace(dc.designation, '_', ' ') || ')' AS decided_by"
                " FROM dispute_case c JOIN mouza z ON z.id = c.mouza_id"
                " LEFT JOIN officer rv ON rv.id = c.reviewed_by"
                " LEFT JOIN officer dc ON dc.id = c.decided_by WHERE c.id = :id"
            ),
            {"id": case_id, "on": on},
        )
        .mappings()
        .one_or_none()
    )
    if row is None:
        raise NotFound(f"no dispute case with id {case_id}")
    case = dict(row)
    case["risk"] = float(case["risk"])
    case["overdue"] = bool(case["overdue"])
    return case


def _flags(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT f.id, f.rule_id AS rule, r.family, r.severity, r.weight, r.title_en,"
            " r.title_ur, r.explain_en, r.explain_ur, f.khasra_id, k.number AS khasra_no,"
            " f.khewat_id, w.number AS khewat_no, f.mutation_id, mu.number AS mutation_no,"
            " f.measure, f.threshold, f.evidence, f.resolved, f.first_scan_id,"
            " f.last_scan_id, ST_AsGeoJSON(f.geom, 7) AS geojson"
            " FROM dispute_case_flag cf JOIN dispute_flag f ON f.id = cf.flag_id"
            " JOIN dispute_rule r ON r.id = f.rule_id"
            " LEFT JOIN khasra k ON k.id = f.khasra_id"
            " LEFT JOIN khewat w ON w.id = f.khewat_id"
            " LEFT JOIN mutation mu ON mu.id = f.mutation_id"
            f" WHERE cf.case_id = :c ORDER BY f.resolved, {_SEVERITY_ORDER}, f.rule_id, f.id"
        ),
        {"c": case_id},
    ).mappings()
    out = []
    for r in rows:
        flag = dict(r)
        flag["weight"] = float(flag["weight"])
        flag["evidence"] = dict(flag["evidence"] or {})
        flag["geojson"] = _geojson(flag["geojson"])
        flag["images"] = None
        out.append(flag)
    encroachments = {
        int(f["evidence"]["encroachment_case_id"]): f
        for f in out
        if isinstance(f["evidence"].get("encroachment_case_id"), int)
    }
    for eid, images in _encroachment_images(conn, list(encroachments)).items():
        encroachments[eid]["images"] = images
    return out


def rule_texts(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every dispute rule's words, by rule id: ``title_en, title_ur, explain_en,
    explain_ur, severity, family``.

    Data, not code (``dispute_rule``): whoever shows a rule (the queue's rule column, a
    map legend) names it by its title, never by its id, and a reworded title shows
    everywhere at once. Disabled rules are included: their old flags still name them.
    """
    rows = conn.execute(
        text(
            "SELECT id, title_en, title_ur, explain_en, explain_ur, severity, family"
            " FROM dispute_rule ORDER BY id"
        )
    ).mappings()
    return {str(r["id"]): {k: v for k, v in r.items() if k != "id"} for r in rows}


def _encroachment_images(conn: Connection, ids: list[int]) -> dict[int, dict[str, Any]]:
    """The before/after image chips of encroachment cases (paths relative to landgov's
    home, as the detection job wrote them) with the date and sensor of each scene."""
    if not ids:
        return {}
    rows = conn.execute(
        text(
            "SELECT e.id, e.before_chip, e.after_chip, e.first_seen,"
            " b.datetime::date AS before_on, b.sensor AS before_sensor,"
            " a.datetime::date AS after_on, a.sensor AS after_sensor"
            " FROM encroachment_case e"
            " LEFT JOIN imagery_scene b ON b.id = e.before_scene_id"
            " LEFT JOIN imagery_scene a ON a.id = e.after_scene_id"
            " WHERE e.id = ANY(:ids)"
        ),
        {"ids": ids},
    ).mappings()
    return {
        int(r["id"]): {
            "before": {
                "chip": r["before_chip"],
                "on": r["before_on"],
                "sensor": r["before_sensor"],
            },
            "after": {"chip": r["after_chip"], "on": r["after_on"], "sensor": r["after_sensor"]},
            "first_seen": r["first_seen"],
        }
        for r in rows
    }


def evidence_file(relative: Any, home: Path) -> Path | None:
    """The file an evidence path names (an image chip: relative to landgov's ``home``),
    if it is a file inside ``home``; None otherwise (no path, gone, or a path that
    leaves ``home``: evidence is data a scan copied, not a licence to read any file)."""
    if not isinstance(relative, str) or not relative.strip():
        return None
    root = home.resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        return None
    return path


def _evidence_khasras(evidence: Mapping[str, Any]) -> list[int]:
    """Khasra ids an evidence dict names (``khasra_id`` or ``khasra_ids``)."""
    found: list[int] = []
    for key in ("khasra_id", "khasra_ids"):
        value = evidence.get(key)
        values = value if isinstance(value, list) else [value]
        found += [int(v) for v in values if isinstance(v, int) and not isinstance(v, bool)]
    return found


def _subject_khasras(conn: Connection, case: Mapping[str, Any], today: date) -> list[int]:
    """The subject's khasras: the khasra itself, or those the khewat holds today."""
    if case["subject"] == "khasra":
        return [int(case["subject_id"])]
    if case["subject"] == "khewat":
        parts = read.khewat_khasra_parts(conn, [int(case["subject_id"])], today)
        return list(dict.fromkeys(p.khasra_id for p in parts))
    return []


def _parcels(
    conn: Connection, case: Mapping[str, Any], subject_khasras: list[int], flagged: list[int]
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if case["subject"] == "state_land":
        row = conn.execute(
            text(
                "SELECT id, coalesce(nullif(btrim(name), ''), replace(category, '_', ' ')),"
                " category, ST_AsGeoJSON(geom, 7) FROM state_land WHERE id = :id"
            ),
            {"id": case["subject_id"]},
        ).one_or_none()
        if row is not None:
            out.append(
                {
                    "role": "subject",
                    "kind": "state_land",
                    "id": int(row[0]),
                    "label": f"state land: {row[1]}",
                    "land_class": row[2],
                    "geojson": _geojson(row[3]),
                }
            )
    wanted = list(dict.fromkeys([*subject_khasras, *flagged]))
    if wanted:
        rows = conn.execute(
            text(
                "SELECT id, number, land_class, ST_AsGeoJSON(geom, 7) FROM khasra"
                " WHERE id = ANY(:ids) AND geom IS NOT NULL"
            ),
            {"ids": wanted},
        ).all()
        by_id = {int(r[0]): r for r in rows}
        subject = set(subject_khasras)
        for kid in wanted:
            r = by_id.get(kid)
            if r is None:
                continue
            out.append(
                {
                    "role": "subject" if kid in subject else "flagged",
                    "kind": "khasra",
                    "id": kid,
                    "label": f"khasra {r[1]}",
                    "land_class": r[2],
                    "geojson": _geojson(r[3]),
                }
            )
    return out


def _flagged_mutations(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT m.id AS mutation_id, m.number, m.type, m.status, m.entered_on,"
            " m.verified_on, m.decided_on, m.deed_number, m.deed_date, m.consideration_rs,"
            " m.statutory_value_rs, o.name AS officer_name,"
            " o.designation AS officer_designation,"
            " array_agg(DISTINCT f.rule_id ORDER BY f.rule_id) AS rules"
            " FROM dispute_case_flag cf JOIN dispute_flag f ON f.id = cf.flag_id"
            " JOIN mutation m ON m.id = f.mutation_id"
            " LEFT JOIN officer o ON o.id = m.officer_id"
            " WHERE cf.case_id = :c GROUP BY m.id, o.id"
            " ORDER BY coalesce(m.decided_on, m.entered_on), m.number"
        ),
        {"c": case_id},
    ).mappings()
    out = []
    for r in rows:
        row = {k: _plain(v) for k, v in dict(r).items()}
        row["rules"] = list(r["rules"] or [])
        out.append(row)
    return out


def _chain(
    conn: Connection, khasra_ids: list[int], flagged_mutations: set[int]
) -> list[dict[str, Any]]:
    """The mutation chains of the khasras as one list of lines (a line shared by several
    khasras of one khewat appears once, naming them all)."""
    lines: dict[tuple[int, int], dict[str, Any]] = {}
    for kid in khasra_ids:
        chain = read.mutation_chain(conn, kid)
        if chain.lineage.empty:
            continue
        khasra_no = str(chain.lineage.iloc[0]["khasra_no"])
        for rec in chain.lines.to_dict("records"):
            key = (int(rec["mutation_id"]), int(rec["line_no"]))
            if key in lines:
                if khasra_no not in lines[key]["khasras"]:
                    lines[key]["khasras"].append(khasra_no)
                continue
            row = {str(k): _plain(v) for k, v in rec.items()}
            row["khasras"] = [khasra_no]
            row["flagged"] = key[0] in flagged_mutations
            lines[key] = row
    ordered = sorted(
        lines.values(),
        key=lambda r: (str(r["event_date"]), int(r["number"]), int(r["line_no"])),
    )
    return ordered


def _audit_history(conn: Connection, case_id: int) -> list[dict[str, Any]]:
    rows = conn.execute(
        text(
            "SELECT seq, at, actor, action, details FROM audit_log"
            " WHERE entity = 'dispute_case' AND entity_id = :id ORDER BY seq"
        ),
        {"id": str(case_id)},
    ).mappings()
    return [dict(r) for r in rows]


def case_detail(conn: Connection, case_id: int, *, today: date | None = None) -> dict[str, Any]:
    """Everything an officer needs to decide a case, in one dict.

    ``today`` (default: today) is the date for the khewat's khasras and for ``overdue``.

    Returns:
        ``case``: the case row (as in :func:`case_queue`, plus ``reviewed_by`` and
        ``decided_by`` as ``Name (designation)``); ``risk``: the
        :func:`~landgov.disputes.scan.risk_breakdown` rows with each rule's
        ``explain_en`` and ``explain_ur``; ``flags``: every flag of the case (unresolved
        first, then by severity) with its rule's titles and explanations, ``evidence``,
        ``geojson`` (the overlap, gap or structure polygon, or None) and ``images``
        (None, or for a structure on state land the ``before`` and ``after`` image
        chips: each ``chip`` (a path relative to landgov's home, :func:`evidence_file`),
        the ``on`` date and ``sensor`` of its scene; and ``first_seen``);
        ``parcels``: the subject's geometries (the khasra, the khasras the khewat holds
        today, or the state land: ``role`` ``subject``) and the other khasras flags name
        (``role`` ``flagged``), each with ``kind, id, label, land_class, geojson``;
        ``mutations``: the mutations the flags name; ``chain``: the mutation chain lines
        of the subject's khasras (:func:`landgov.storage.read.mutation_chain`, each with
        ``khasras`` and ``flagged``); ``audit``: the case's audit rows, oldest first.

    Raises:
        NotFound: no such case.
    """
    from landgov.disputes.scan import risk_breakdown

    day = today or date.today()
    case = _case_row(conn, case_id, day)
    flags = _flags(conn, case_id)
    explain = {f["rule"]: (f["explain_en"], f["explain_ur"]) for f in flags}
    risk = []
    for b in risk_breakdown(conn, case_id):
        en, ur = explain.get(b["rule"], ("", ""))
        risk.append({**b, "explain_en": en, "explain_ur": ur})
    subject_khasras = _subject_khasras(conn, case, day)
    flagged_khasras = [
        k
        for f in flags
        for k in ([f["khasra_id"]] if f["khasra_id"] else []) + _evidence_khasras(f["evidence"])
    ]
    mutations = _flagged_mutations(conn, case_id)
    return {
        "case": case,
        "risk": risk,
        "flags": flags,
        "parcels": _parcels(conn, case, subject_khasras, flagged_khasras),
        "mutations": mutations,
        "chain": _chain(conn, subject_khasras, {int(m["mutation_id"]) for m in mutations}),
        "audit": _audit_history(conn, case_id),
    }


_CNIC: Final = re.compile(r"\b\d{5}-\d{7}-\d\b")


def masked(value: Any) -> Any:
    """``value`` (a :func:`case_detail` dict, or any part of one) with every CNIC in its
    texts masked (``35202-*******-1``), for whoever may not see them in full
    (:func:`landgov.security.may_unmask`)."""
    if isinstance(value, str):
        return _CNIC.sub(lambda m: mask_cnic(m.group(0)), value)
    if isinstance(value, Mapping):  # keys too: shares are keyed by "Name (CNIC)"
        return {masked(k): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(masked(v) for v in value)
    return value
