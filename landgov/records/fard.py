"""Fard (ownership extract): issuing a certificate of a person's or a khewat's holding on
a date, in English and Urdu, and verifying it by its code.

What a fard shows, and its PDF, are in :mod:`landgov.records.fard_pdf`; this module reads
the holding, decides who may issue, computes the code and keeps the register of issues.
:func:`render_fard`, :func:`short_code` and the other names of the renderer that callers
use with an issue are importable from here too.

Verification code
    The snapshot of the holding (:mod:`landgov.records.rights`) is hashed
    (``snapshot_sha256``, :func:`landgov.records.snapshot.snapshot_hash`). The fard's code
    is the SHA-256 of the canonical text of the issue: snapshot hash, subject, date,
    language, purpose, issue time and issuer; it is stored whole in ``fard_issue`` and
    printed whole and as a short code (its first 12 hex digits, ``ABCD-EFGH-IJKL``).
    :func:`verify_fard` finds the issue by either, recomputes the holding from the
    records as they are now, for the same subject and date, and says whether it still
    matches.

Who issues
    A signed-in actor holding ``fard.issue`` (a patwari or a revenue officer) posted today
    over the mouza of a khewat fard, or over every mouza where the person of a person
    fard holds land (a nil fard: posted anywhere today). The actor's label is the issuer
    printed, registered and hashed into the code; the issue writes an ``access_log`` row
    (a fard is a read of personal data) and an audit row, in one transaction with the
    register row. Refusals are :class:`~landgov.errors.AccessDenied` (``role``,
    ``jurisdiction``) and leave neither a PDF nor a record.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import validate_cnic
from landgov.errors import AccessDenied, LandgovError
from landgov.records.fard_pdf import (
    LANGUAGES,
    PKT,
    SHORT_CODE_HEX,
    Language,
    guardian_names,
    render_fard,
    short_code,
)
from landgov.records.fonts import fard_fonts
from landgov.records.rights import (
    KhewatHolding,
    PersonHolding,
    khewat_holding,
    person_holdings,
)
from landgov.records.snapshot import canonical_json, snapshot_hash
from landgov.security import Actor, authorize, bind, log_access, policy
from landgov.storage.audit import append as append_audit
from landgov.storage.lookup import NotFound, resolve_mouza
from landgov.storage.officers import jurisdiction_mouzas
from landgov.storage.read import urdu_spellings

if TYPE_CHECKING:
    from landgov.security.clients import ApiClient

__all__ = [
    "LANGUAGES",
    "PKT",
    "SHORT_CODE_HEX",
    "FardError",
    "FardIssue",
    "FardVerification",
    "Language",
    "SubjectKind",
    "client_verify_fard",
    "issue_code",
    "issue_fard",
    "render_fard",
    "short_code",
    "verify_fard",
    "verify_fard_in",
]

SubjectKind = Literal["person", "khewat"]


class FardError(LandgovError):
    """A fard cannot be issued or verified as asked."""


# --- the issue and its code ----------------------------------------------------------------


@dataclass(frozen=True)
class FardIssue:
    """An issued fard: its code and the PDF written."""

    code: str
    path: Path
    subject_kind: SubjectKind
    subject: str
    subject_label: str
    as_of: date
    language: Language
    snapshot_sha256: str
    issued_at: datetime
    issued_by: str

    @property
    def short_code(self) -> str:
        return short_code(self.code)

    def summary(self) -> str:
        return (
            f"fard of {self.subject_label} as of {self.as_of.isoformat()} ({self.language}) "
            f"written to {self.path}\nverification code {self.short_code} "
            f"(full {self.code})"
        )


def issue_code(
    *,
    snapshot_sha256: str,
    subject_kind: str,
    subject: str,
    as_of: date,
    language: str,
    purpose: str | None,
    issued_at: datetime,
    issued_by: str,
) -> str:
    """The full verification code of an issue (SHA-256 hex of its canonical text)."""
    return snapshot_hash(
        {
            "scheme": "landgov-fard-v1",
            "snapshot_sha256": snapshot_sha256,
            "subject_kind": subject_kind,
            "subject": subject,
            "as_of": as_of.isoformat(),
            "language": language,
            "purpose": purpose,
            "issued_at": issued_at.astimezone(UTC).isoformat(timespec="microseconds"),
            "issued_by": issued_by,
        }
    )


def _subject_holding(
    conn: Connection, kind: str, subject: str, as_of: date
) -> PersonHolding | KhewatHolding:
    if kind == "person":
        return person_holdings(conn, subject, as_of)
    mouza_id, khewat_no = (int(part) for part in subject.split(":"))
    return khewat_holding(conn, mouza_id, khewat_no, as_of)


def _authorize_issue(
    conn: Connection, actor: Actor, holding: PersonHolding | KhewatHolding
) -> None:
    """``fard.issue`` over every mouza the fard covers (module notes, Who issues).

    Raises:
        AccessDenied: ``role``, ``jurisdiction``.
    """
    if isinstance(holding, KhewatHolding):
        mouzas = {holding.mouza.id}
    else:
        mouzas = {s.khewat.mouza.id for s in holding.shares}
    for mouza_id in sorted(mouzas):
        authorize(conn, actor, "fard.issue", mouza_id=mouza_id)
    if not mouzas:  # a nil fard: an issuer posted somewhere today
        policy.check_role(actor.roles, "fard.issue", actor.display)
        today = conn.execute(text("SELECT current_date")).scalar_one()
        if actor.officer_id is None or not jurisdiction_mouzas(conn, actor.officer_id, today):
            raise AccessDenied(
                "jurisdiction", f"{actor.display} is not posted over any mouza today"
            )


def issue_fard(
    engine: Engine,
    *,
    cnic: str | None = None,
    khewat: tuple[str, int] | None = None,
    as_of: date,
    language: Language = "en",
    out: Path,
    actor: Actor,
    purpose: str | None = None,
) -> FardIssue:
    """Issues a fard of a person (``cnic``) or of a khewat (``(mouza, khewat_no)``).

    One transaction: the actor is bound and authorized (module notes, Who issues), the
    holding read, the PDF written beside ``out`` under a temporary name, the issue
    recorded in ``fard_issue`` with an access-log row and an audit row; after the commit
    the PDF is renamed into place. A failure leaves neither a PDF nor a record.

    Args:
        engine: the database.
        cnic: the person's CNIC, for a person fard.
        khewat: the mouza (name or hadbast number) and khewat number, for a khewat fard.
        as_of: the date of the record of rights.
        language: ``en``, ``ur`` or ``both`` (English pages, then Urdu pages).
        out: the PDF to write; replaced if it exists.
        actor: who issues it (signed in); its label goes to the register and the logs.
        purpose: what the owner needs it for, printed and recorded (optional).

    Raises:
        FardError: not exactly one subject, an unknown language, or a date in the future.
        AuthenticationFailed: the actor's session has ended.
        AccessDenied: ``role``, ``jurisdiction``.
        InvalidCNIC: ``cnic`` is not a CNIC.
        NotFound: no such person, mouza or khewat.
        FontMissing: the Noto fonts are not installed.
    """
    if (cnic is None) == (khewat is None):
        raise FardError("a fard is of a person (--cnic) or of a khewat (--mouza and --khewat)")
    if language not in LANGUAGES:
        raise FardError(f"language {language!r}: use en, ur or both")
    if as_of > date.today():
        raise FardError(f"as-of date {as_of.isoformat()} is in the future")
    purpose = purpose.strip() if purpose and purpose.strip() else None
    fonts = fard_fonts()
    out = Path(out)
    issued_by = actor.label

    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with engine.begin() as conn:
            bind(conn, actor)
            kind: SubjectKind
            if cnic is not None:
                kind, subject = "person", validate_cnic(cnic)
            else:
                assert khewat is not None
                mouza_ref, khewat_no = khewat
                mouza_id = resolve_mouza(conn, str(mouza_ref))
                kind, subject = "khewat", f"{mouza_id}:{int(khewat_no)}"
            holding = _subject_holding(conn, kind, subject, as_of)
            _authorize_issue(conn, actor, holding)
            spellings = urdu_spellings(conn, guardian_names(holding))
            snapshot = holding.snapshot()
            snapshot_sha = snapshot_hash(snapshot)
            issued_at = datetime.now(UTC)
            code = issue_code(
                snapshot_sha256=snapshot_sha,
                subject_kind=kind,
                subject=subject,
                as_of=as_of,
                language=language,
                purpose=purpose,
                issued_at=issued_at,
                issued_by=issued_by,
            )
            pdf = render_fard(
                holding,
                code=code,
                language=language,
                issued_at=issued_at,
                issued_by=issued_by,
                purpose=purpose,
                urdu_names=spellings,
                fonts=fonts,
            )
            out.parent.mkdir(parents=True, exist_ok=True)
            pdf.output(str(temp))
            conn.execute(
                text(
                    "INSERT INTO fard_issue (code, subject_kind, subject, as_of, language,"
                    " purpose, snapshot, snapshot_sha256, issued_at, issued_by) VALUES"
                    " (:code, :kind, :subject, :as_of, :language, :purpose,"
                    " CAST(:snapshot AS jsonb), :sha, :issued_at, :actor)"
                ),
                {
                    "code": code,
                    "kind": kind,
                    "subject": subject,
                    "as_of": as_of,
                    "language": language,
                    "purpose": purpose,
                    "snapshot": canonical_json(snapshot),
                    "sha": snapshot_sha,
                    "issued_at": issued_at,
                    "actor": issued_by,
                },
            )
            log_access(
                conn,
                actor,
                "fard.issue",
                "party" if kind == "person" else "khewat",
                subject,
                {"as_of": as_of.isoformat(), "short_code": short_code(code), "purpose": purpose},
            )
            append_audit(
                conn,
                actor=issued_by,
                action="fard issue",
                entity="fard_issue",
                entity_id=code,
                details={
                    "subject_kind": kind,
                    "subject": subject,
                    "as_of": as_of.isoformat(),
                    "language": language,
                    "purpose": purpose,
                    "snapshot_sha256": snapshot_sha,
                    "short_code": short_code(code),
                },
            )
        os.replace(temp, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return FardIssue(
        code=code,
        path=out,
        subject_kind=kind,
        subject=subject,
        subject_label=holding.label,
        as_of=as_of,
        language=language,
        snapshot_sha256=snapshot_sha,
        issued_at=issued_at,
        issued_by=issued_by,
    )


# --- verification ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FardVerification:
    """What :func:`verify_fard` found."""

    code: str
    subject_kind: str
    subject_label: str
    as_of: date
    issued_at: datetime
    issued_by: str
    matches: bool
    differences: tuple[str, ...] = field(default=())
    issued: Mapping[str, Any] = field(default_factory=dict, repr=False)
    """The holding as the fard printed it (the register's snapshot)."""
    register_intact: bool = True
    """False when the register entry no longer hashes to its code (altered after issue)."""
    subject: str = ""
    """The register's subject: a CNIC, or ``<mouza id>:<khewat no>``."""
    changed_since: tuple[str, ...] = field(default=())
    """How the holding today differs from the one printed (a later mutation): a fard that
    still matches the record of its date may no longer be the holding of today."""
    checked_on: date | None = None
    """The database's today, against which :attr:`changed_since` was found."""

    @property
    def short_code(self) -> str:
        return short_code(self.code)

    @property
    def message(self) -> str:
        head = (
            f"fard {self.short_code} ({self.subject_label}, record as of "
            f"{self.as_of.isoformat()}, issued {self.issued_at.astimezone(PKT):%Y-%m-%d %H:%M} "
            f"PKT by {self.issued_by})"
        )
        if self.matches:
            return f"{head} matches the records."
        listed = "\n".join(f"  {d}" for d in self.differences)
        return f"{head} does NOT match: records changed since issue.\n{listed}"


_HEX = re.compile(r"[0-9a-f]+")


def _normalise_code(code: str) -> str:
    cleaned = re.sub(r"[\s-]", "", code).lower()
    if not cleaned or not _HEX.fullmatch(cleaned):
        raise FardError(
            f"{code!r} is not a verification code: expected ABCD-EFGH-IJKL or 64 hex digits"
        )
    if len(cleaned) < SHORT_CODE_HEX or len(cleaned) > 64:
        raise FardError(
            f"{code!r} is not a verification code: give the 12-digit short code "
            "(ABCD-EFGH-IJKL) or the full 64-digit code"
        )
    return cleaned


def verify_fard(engine: Engine, code: str) -> FardVerification:
    """Checks an issued fard against the records as they are now: whether the record of
    the fard's date still says what it printed (:attr:`FardVerification.matches`), and
    how today's holding differs from it (:attr:`FardVerification.changed_since`).

    Raises:
        FardError: ``code`` is not a code, or a short code matches several issues.
        NotFound: no fard was issued with that code.
    """
    with engine.connect() as conn:
        return verify_fard_in(conn, code)


def verify_fard_in(conn: Connection, code: str) -> FardVerification:
    """:func:`verify_fard` on the caller's connection (one transaction with what the
    caller writes, as :func:`client_verify_fard` does).

    Raises:
        FardError, NotFound: as :func:`verify_fard`.
    """
    wanted = _normalise_code(code)
    rows = conn.execute(
        text(
            "SELECT code, subject_kind, subject, as_of, language, purpose, snapshot,"
            " snapshot_sha256, issued_at, issued_by, current_date AS today FROM fard_issue"
            " WHERE code LIKE :prefix ORDER BY code LIMIT 2"
        ),
        {"prefix": wanted + "%"},
    ).all()
    if not rows:
        raise NotFound(f"unknown verification code {code.strip()!r}: no fard was issued with it")
    if len(rows) > 1:
        raise FardError(f"code {code.strip()!r} matches several fards; give the full code")
    row = rows[0]
    try:
        current: PersonHolding | KhewatHolding | None = _subject_holding(
            conn, row.subject_kind, row.subject, row.as_of
        )
    except NotFound:
        current = None
    today = row.today  # the database's today, read with the row
    now_held = current
    if row.as_of != today:
        try:
            now_held = _subject_holding(conn, row.subject_kind, row.subject, today)
        except NotFound:
            now_held = None
    stored = dict(row.snapshot)
    problems: list[str] = []
    recomputed_code = issue_code(
        snapshot_sha256=row.snapshot_sha256,
        subject_kind=row.subject_kind,
        subject=row.subject,
        as_of=row.as_of,
        language=row.language,
        purpose=row.purpose,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
    )
    intact = recomputed_code == row.code and snapshot_hash(stored) == row.snapshot_sha256
    if not intact:
        problems.append("the register entry of this fard was altered after issue")
    if current is None:
        problems.append(
            f"the subject ({row.subject_kind} {row.subject}) is no longer in the record"
        )
        label = _stored_label(row.subject_kind, stored)
    else:
        label = current.label
        now = current.snapshot()
        if snapshot_hash(now) != row.snapshot_sha256:
            problems.extend(_differences(stored, now) or ["the record differs from the snapshot"])
    if now_held is None:
        since: list[str] = [f"the subject ({row.subject_kind} {row.subject}) is gone today"]
    else:
        undated = {k: v for k, v in stored.items() if k != "as_of"}
        today_snap = {k: v for k, v in now_held.snapshot().items() if k != "as_of"}
        since = [] if undated == today_snap else (
            _differences(undated, today_snap) or ["the holding differs today"]
        )  # fmt: skip
    return FardVerification(
        code=row.code,
        subject_kind=row.subject_kind,
        subject_label=label,
        as_of=row.as_of,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
        matches=not problems,
        differences=tuple(problems),
        issued=stored,
        register_intact=intact,
        subject=str(row.subject),
        changed_since=tuple(since),
        checked_on=today,
    )


def _stored_label(kind: str, snapshot: Mapping[str, Any]) -> str:
    if kind == "person":
        person = snapshot.get("person", {})
        return f"{person.get('name')} (CNIC {person.get('party')})"
    mouza = snapshot.get("mouza", {})
    return f"khewat {snapshot.get('khewat')} of mouza {mouza.get('name')}"


def _holding_key(h: Mapping[str, Any]) -> str:
    mouza = h.get("mouza", {})
    return (
        f"mouza {mouza.get('name')} khewat {h.get('khewat')}: "
        f"{h.get('right_type')} {h.get('share')} since {h.get('since')}"
    )


def _differences(stored: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """Readable differences between two snapshots of one subject."""
    lines: list[str] = []
    if stored.get("record") == "person":
        if stored.get("person") != now.get("person"):
            lines.append("the person's particulars (name, guardian...) changed")
        old = {_holding_key(h): h for h in stored.get("holdings", [])}
        new = {_holding_key(h): h for h in now.get("holdings", [])}
        lines += [f"no longer held: {k}" for k in sorted(old.keys() - new.keys())]
        lines += [f"now held: {k}" for k in sorted(new.keys() - old.keys())]
        lines += [
            f"changed: {k} (khasras or areas)"
            for k in sorted(old.keys() & new.keys())
            if old[k] != new[k]
        ]
        return lines
    for key in sorted(stored.keys() | now.keys()):
        if stored.get(key) != now.get(key):
            was, is_now = _brief(stored.get(key)), _brief(now.get(key))
            lines.append(f"{key.replace('_', ' ')}: was {was}, now {is_now}")
    return lines


def _brief(value: object) -> str:
    if isinstance(value, list):
        if value and isinstance(value[0], dict) and "share" in value[0]:
            return "; ".join(
                f"{v.get('name')} {v.get('share')} {v.get('right_type')}" for v in value
            )
        if value and isinstance(value[0], dict) and "khasra" in value[0]:
            return ", ".join(f"{v.get('khasra')} ({v.get('area_kms')})" for v in value)
        return f"{len(value)} item(s)"
    return str(value)


def client_verify_fard(
    engine: Engine, *, client: ApiClient, code: str, request_id: str | None = None
) -> FardVerification | None:
    """:func:`verify_fard` for an API client holding ``fard:read`` (a bank before a
    mortgage); None when no fard was issued with ``code``.

    A fard names its holders, so a found one is a read of personal data: one
    ``access_log`` row under the client's name. Codes looked up in vain (or not codes at
    all) are counted, and a client that reaches ``api_fard_misses_per_minute`` waits for
    the next minute before looking up more (:func:`~landgov.security.clients.
    check_fard_misses`): guessing codes stays hopeless.

    Raises:
        AccessDenied: the client lacks ``fard:read``. RateLimited: too many unknown codes
            this minute. FardError: ``code`` is not a verification code.
    """
    from landgov.security.clients import check_fard_misses, count_fard_miss

    if "fard:read" not in client.scopes:
        raise AccessDenied("scope", f"API client {client.name} does not hold fard:read")
    missed: FardError | None = None
    with engine.begin() as conn:
        check_fard_misses(conn, client)
        try:
            found = verify_fard_in(conn, code)
        except FardError as exc:
            missed = exc
        except NotFound:
            count_fard_miss(conn, client)
            return None
        else:
            log_access(
                conn, client, "fard.verify",
                "party" if found.subject_kind == "person" else "khewat", found.subject,
                {"code": found.short_code, "matches": found.matches, "client": client.name,
                 "agency": client.agency, "request_id": request_id},
            )  # fmt: skip
            return found
        count_fard_miss(conn, client)  # not a code at all: a miss too
    assert missed is not None  # the one way here
    raise missed
