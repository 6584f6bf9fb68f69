"""Fard (ownership extract): a PDF certificate of a person's or a khewat's holding on a
date, in English and Urdu, with a verification code.

What a fard shows
    A header (Government of the Punjab, Board of Revenue; marked as a demonstration
    record), district, tehsil and mouza, the date of the record (``as_of``), the issue
    time (Pakistan time), then either

    * a *person* fard: the owner with guardian (s/o, d/o, w/o) and full CNIC (a fard is
      issued to the owner), and every right they hold in every khewat of every mouza:
      khewat, khasras, khewat area, exact share ``n/d``, right type, since-date and
      mutation, and the area the share stands for in K-M-S and m²; or
    * a *khewat* fard: the khewat's khasras with areas, and every right in force with
      the holder, exact share, right type and since-date. Co-owners' CNICs are masked
      (``35401-*******-1``): a khewat fard goes to one owner, who should not learn the
      others' numbers; each owner can get a person fard with their own full CNIC.

    The Urdu version is laid out right to left with Urdu labels, Urdu names where the
    record has them (``party.name_ur``; a guardian's name, recorded in Latin only, takes
    the Urdu spelling other parties of that name carry), in Noto Nastaliq Urdu with
    HarfBuzz shaping (joined letters, right-to-left runs). Numbers, CNICs, khasra numbers
    and dates stay in Western digits inside left-to-right isolates, so ``45//12/1`` and
    ``4-7-3`` are never reversed.

Verification code
    The snapshot of the holding (:mod:`landgov.records.rights`) is hashed
    (``snapshot_sha256``). The fard's code is the SHA-256 of the canonical text of the
    issue: snapshot hash, subject, date, language, purpose, issue time and issuer; it is
    stored whole in ``fard_issue`` and printed whole and as a short code (its first 12
    hex digits, ``ABCD-EFGH-IJKL``). :func:`verify_fard` finds the issue by either,
    recomputes the holding from the records as they are now, for the same subject and
    date, and says whether it still matches.

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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path
from typing import Any, Final, Literal

from fpdf import FPDF
from fpdf.enums import TableBordersLayout
from fpdf.fonts import FontFace
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import format_kms, format_share, mask_cnic, validate_cnic
from landgov.errors import AccessDenied, LandgovError
from landgov.records.fonts import FardFonts, fard_fonts
from landgov.records.rights import (
    RELATION_EN,
    Holder,
    KhewatHolding,
    PersonHolding,
    Right,
    canonical_json,
    decimal_text,
    khewat_holding,
    person_holdings,
    snapshot_hash,
)
from landgov.security import Actor, authorize, bind, log_access, policy
from landgov.storage.audit import append as append_audit
from landgov.storage.lookup import NotFound, find_mouza
from landgov.storage.officers import jurisdiction_mouzas
from landgov.storage.read import urdu_spellings

Language = Literal["en", "ur", "both"]
LANGUAGES: Final = ("en", "ur", "both")
SubjectKind = Literal["person", "khewat"]

PKT: Final = timezone(timedelta(hours=5), "PKT")
"""Pakistan Standard Time (UTC+5, no daylight saving): the issue time printed."""

SHORT_CODE_HEX: Final = 12
"""Hex digits of the code printed as the short code."""

LRI: Final = "\u2066"  # left-to-right isolate
THIN_SPACE: Final = "\u2004"  # the Nastaliq font's own space is too narrow for Latin text
PDI: Final = "\u2069"


class FardError(LandgovError):
    """A fard cannot be issued or verified as asked."""


# --- Urdu vocabulary ---------------------------------------------------------------------

RELATION_UR: Final = {"son_of": "ولد", "daughter_of": "دختر", "wife_of": "زوجہ"}
LAND_CLASS_UR: Final = {
    "nehri": "نہری",
    "chahi": "چاہی",
    "barani": "بارانی",
    "banjar": "بنجر",
    "ghair_mumkin": "غیر ممکن",
    "abadi": "آبادی",
    "shamlat": "شاملات",
    "forest": "جنگل",
}
RIGHT_UR: Final = {
    "ownership": "ملکیت",
    "mortgage_with_possession": "رہن با قبضہ",
    "mortgage_without_possession": "رہن بلا قبضہ",
    "lease": "اجارہ",
}


def ltr(value: object) -> str:
    """``value`` as a left-to-right isolate, for numbers and Latin text in Urdu lines.

    Without it the bidi algorithm of a right-to-left paragraph reverses ``45//12/1``
    into ``1/12//45`` and ``4-7-3`` into ``3-7-4``. Spaces become three-per-em spaces:
    Noto Nastaliq's own space is hardly visible between Latin words.
    """
    return f"{LRI}{str(value).replace(' ', THIN_SPACE)}{PDI}"


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


def short_code(code: str) -> str:
    """The printed short form of a code: its first 12 hex digits, ``ABCD-EFGH-IJKL``."""
    head = code[:SHORT_CODE_HEX].upper()
    return "-".join(head[i : i + 4] for i in range(0, SHORT_CODE_HEX, 4))


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
                mouza_id = find_mouza(conn, str(mouza_ref))
                kind, subject = "khewat", f"{mouza_id}:{int(khewat_no)}"
            holding = _subject_holding(conn, kind, subject, as_of)
            _authorize_issue(conn, actor, holding)
            spellings = urdu_spellings(conn, _guardian_names(holding))
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
    """Checks an issued fard against the records as they are now.

    Raises:
        FardError: ``code`` is not a code, or a short code matches several issues.
        NotFound: no fard was issued with that code.
    """
    wanted = _normalise_code(code)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT code, subject_kind, subject, as_of, language, purpose, snapshot,"
                " snapshot_sha256, issued_at, issued_by FROM fard_issue"
                " WHERE code LIKE :prefix ORDER BY code LIMIT 2"
            ),
            {"prefix": wanted + "%"},
        ).all()
        if not rows:
            raise NotFound(
                f"unknown verification code {code.strip()!r}: no fard was issued with it"
            )
        if len(rows) > 1:
            raise FardError(f"code {code.strip()!r} matches several fards; give the full code")
        row = rows[0]
        try:
            current: PersonHolding | KhewatHolding | None = _subject_holding(
                conn, row.subject_kind, row.subject, row.as_of
            )
        except NotFound:
            current = None
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
    if recomputed_code != row.code or snapshot_hash(stored) != row.snapshot_sha256:
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
    return FardVerification(
        code=row.code,
        subject_kind=row.subject_kind,
        subject_label=label,
        as_of=row.as_of,
        issued_at=row.issued_at,
        issued_by=row.issued_by,
        matches=not problems,
        differences=tuple(problems),
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


# --- rendering ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Text:
    """One piece of text in both languages (``ur`` already has its LTR isolates)."""

    en: str
    ur: str

    def get(self, rtl: bool) -> str:
        return self.ur if rtl else self.en


@dataclass(frozen=True)
class _Table:
    title: _Text
    widths: tuple[float, ...]
    headings: tuple[_Text, ...]
    rows: tuple[tuple[_Text, ...], ...]


@dataclass(frozen=True)
class _Content:
    subtitle: _Text
    facts: tuple[tuple[_Text, _Text], ...]
    sections: tuple[_Table | _Text, ...]


def _same(value: object) -> _Text:
    """A number or code: the same in both languages."""
    return _Text(str(value), ltr(value))


def _guardian_names(holding: PersonHolding | KhewatHolding) -> list[str]:
    holders = (
        [holding.person]
        if isinstance(holding, PersonHolding)
        else [r.holder for r in holding.rights]
    )
    return [h.guardian_name for h in holders if h.guardian_name]


def _holder_text(holder: Holder, urdu_names: Mapping[str, str]) -> _Text:
    name_ur = holder.name_ur or ltr(holder.name)
    if holder.guardian_relation and holder.guardian_name:
        guardian = holder.guardian_name
        guardian_ur = urdu_names.get(guardian) or ltr(guardian)
        return _Text(
            f"{holder.name} {RELATION_EN[holder.guardian_relation]} {guardian}",
            f"{name_ur} {RELATION_UR[holder.guardian_relation]} {guardian_ur}",
        )
    return _Text(holder.name, name_ur)


def _right_text(right: Right) -> _Text:
    return _Text(right.right_type.value.replace("_", " "), RIGHT_UR[right.right_type.value])


def _mutation_text(right: Right) -> _Text:
    if right.mutation_no is None:
        return _Text("settlement", "بندوبست")
    return _same(right.mutation_no)


def _m2(value: Fraction) -> _Text:
    return _same(decimal_text(value))


def _mouza_facts(holding: KhewatHolding) -> tuple[tuple[_Text, _Text], ...]:
    m = holding.mouza
    return (
        (
            _Text("District", "ضلع"),
            _Text(m.district or "-", m.district_ur or ltr(m.district or "-")),
        ),
        (_Text("Tehsil", "تحصیل"), _Text(m.tehsil, m.tehsil_ur or ltr(m.tehsil))),
        (
            _Text("Mouza", "موضع"),
            _Text(
                f"{m.name} (hadbast {m.hadbast_number})",
                f"{m.name_ur or ltr(m.name)} (حد بست {ltr(m.hadbast_number)})",
            ),
        ),
    )


def _khewat_content(holding: KhewatHolding, urdu_names: Mapping[str, str]) -> _Content:
    prev = holding.previous_no
    khewat = _Text(
        f"{holding.khewat_no}" + (f" (previous khewat {prev})" if prev else ""),
        ltr(holding.khewat_no) + (f" (سابقہ کھیوٹ {ltr(prev)})" if prev else ""),
    )
    facts = (
        *_mouza_facts(holding),
        (_Text("Khewat", "کھیوٹ نمبر"), khewat),
        (
            _Text("Total area", "کل رقبہ"),
            _Text(
                f"{format_kms(holding.area_kms)} (kanal-marla-sarsai), "
                f"{decimal_text(holding.area_m2)} m²",
                f"{ltr(format_kms(holding.area_kms))} (کنال-مرلہ-سرسائی)، "
                f"{ltr(decimal_text(holding.area_m2))} مربع میٹر",
            ),
        ),
    )
    khasras = _Table(
        title=_Text("Khasras of the khewat", "خسرہ جات کھیوٹ"),
        widths=(30, 30, 40, 40, 40),
        headings=(
            _Text("Khasra", "خسرہ نمبر"),
            _Text("Land class", "قسم زمین"),
            _Text("Area (K-M-S)", "رقبہ (ک-م-س)"),
            _Text("Area (m²)", "رقبہ (مربع میٹر)"),
            _Text("Held since", "از تاریخ"),
        ),
        rows=tuple(
            (
                _same(k.number),
                _Text(k.land_class.replace("_", " "), LAND_CLASS_UR[k.land_class]),
                _same(format_kms(k.area_kms)),
                _m2(k.area_m2),
                _same(k.since.isoformat()),
            )
            for k in holding.khasras
        ),
    )
    rights = _Table(
        title=_Text("Owners and other rights", "مالکان و دیگر حقدار"),
        widths=(62, 32, 20, 28, 22, 16),
        headings=(
            _Text("Holder", "نام حقدار"),
            _Text("CNIC", "شناختی کارڈ نمبر"),
            _Text("Share", "حصہ"),
            _Text("Right", "نوعیت حق"),
            _Text("Since", "از تاریخ"),
            _Text("Mutation", "انتقال"),
        ),
        rows=tuple(
            (
                _holder_text(r.holder, urdu_names),
                _same(mask_cnic(r.holder.cnic)) if r.holder.cnic else _Text("state", "سرکار"),
                _same(format_share(r.share)),
                _right_text(r),
                _same(r.since.isoformat()),
                _mutation_text(r),
            )
            for r in holding.rights
        ),
    )
    total = format_share(holding.ownership_total) if holding.owners else "0"
    whole = _Text(
        f"Total of the ownership shares: {total} "
        + ("(the whole khewat)." if holding.is_whole else "(NOT the whole khewat)."),
        f"میزان حصص ملکیت: {ltr(total)} "
        + ("(مکمل کھیوٹ)۔" if holding.is_whole else "(کھیوٹ مکمل نہیں)۔"),
    )
    note = _Text(
        "Co-owners' CNICs are masked; each owner can obtain a fard of their own holding "
        "showing their full CNIC.",
        "شریک مالکان کے شناختی کارڈ نمبر جزوی طور پر پوشیدہ ہیں؛ ہر مالک اپنی ملکیت کی فرد "
        "مکمل شناختی کارڈ نمبر کے ساتھ حاصل کر سکتا ہے۔",
    )
    return _Content(
        subtitle=_Text(
            "Extract of the record of rights of one khewat", "نقل ریکارڈ حقوق برائے کھیوٹ"
        ),
        facts=facts,
        sections=(khasras, rights, whole, note),
    )


def _khasra_list(holding: KhewatHolding, rtl: bool) -> str:
    if rtl:
        return "، ".join(ltr(k.number) for k in holding.khasras) or "-"
    return ", ".join(k.number for k in holding.khasras) or "-"


def _person_content(holding: PersonHolding, urdu_names: Mapping[str, str]) -> _Content:
    person = holding.person
    assert person.cnic is not None
    mouzas = sorted(
        {s.khewat.mouza.id: s.khewat.mouza for s in holding.shares}.values(),
        key=lambda m: (m.name, m.id),
    )
    districts = sorted({m.district or "-" for m in mouzas})
    tehsils = sorted({m.tehsil for m in mouzas})
    facts: list[tuple[_Text, _Text]] = [
        (_Text("Owner", "مالک"), _holder_text(person, urdu_names)),
        (_Text("CNIC", "شناختی کارڈ نمبر"), _same(person.cnic)),
    ]
    if mouzas:
        ur_of = {m.district or "-": m.district_ur for m in mouzas}
        tur_of = {m.tehsil: m.tehsil_ur for m in mouzas}
        facts += [
            (
                _Text("District", "ضلع"),
                _Text(", ".join(districts), "، ".join(ur_of[d] or ltr(d) for d in districts)),
            ),
            (
                _Text("Tehsil", "تحصیل"),
                _Text(", ".join(tehsils), "، ".join(tur_of[t] or ltr(t) for t in tehsils)),
            ),
        ]
    facts.append(
        (
            _Text("Owned area", "کل رقبہ ملکیت"),
            _Text(
                f"{format_kms(holding.owned_kms)} (kanal-marla-sarsai), "
                f"{decimal_text(holding.owned_m2)} m²",
                f"{ltr(format_kms(holding.owned_kms))} (کنال-مرلہ-سرسائی)، "
                f"{ltr(decimal_text(holding.owned_m2))} مربع میٹر",
            ),
        )
    )
    sections: list[_Table | _Text] = []
    if holding.shares:
        sections.append(
            _Table(
                title=_Text("Holdings", "ملکیت و حقوق"),
                widths=(26, 15, 29, 18, 15, 37, 18, 22),
                headings=(
                    _Text("Mouza", "موضع"),
                    _Text("Khewat", "کھیوٹ"),
                    _Text("Khasras", "خسرہ نمبرات"),
                    _Text("Khewat area (K-M-S)", "رقبہ کھیوٹ"),
                    _Text("Share", "حصہ"),
                    _Text("Right, since", "نوعیت حق، از تاریخ"),
                    _Text("Area of share (K-M-S)", "رقبہ بقدر حصہ"),
                    _Text("Area of share (m²)", "مربع میٹر"),
                ),
                rows=tuple(
                    (
                        _Text(
                            f"{s.khewat.mouza.name} ({s.khewat.mouza.hadbast_number})",
                            f"{s.khewat.mouza.name_ur or ltr(s.khewat.mouza.name)} "
                            f"({ltr(s.khewat.mouza.hadbast_number)})",
                        ),
                        _same(s.khewat.khewat_no),
                        _Text(_khasra_list(s.khewat, False), _khasra_list(s.khewat, True)),
                        _same(format_kms(s.khewat.area_kms)),
                        _same(format_share(s.right.share)),
                        _Text(
                            f"{_right_text(s.right).en}, {s.right.since.isoformat()}"
                            + (f", mutation {s.right.mutation_no}" if s.right.mutation_no else ""),
                            f"{_right_text(s.right).ur}، {ltr(s.right.since.isoformat())}"
                            + (
                                f"، انتقال {ltr(s.right.mutation_no)}"
                                if s.right.mutation_no
                                else ""
                            ),
                        ),
                        _same(format_kms(s.area_kms)),
                        _m2(s.area_m2),
                    )
                    for s in holding.shares
                ),
            )
        )
        sections.append(
            _Text(
                "The area of a share is the share times the khewat's area, to the nearest "
                "sarsai; mortgage and lease rights are not counted in the owned area.",
                "رقبہ بقدر حصہ = حصہ × رقبہ کھیوٹ (قریب ترین سرسائی تک)؛ رہن اور اجارہ کے حقوق "
                "کل رقبہ ملکیت میں شامل نہیں۔",
            )
        )
    else:
        sections.append(
            _Text(
                "On this date the record shows no land held by this person.",
                "اس تاریخ کو ریکارڈ میں اس شخص کے نام کوئی اراضی درج نہیں۔",
            )
        )
    return _Content(
        subtitle=_Text("Extract of the record of rights of a person", "نقل ریکارڈ حقوق بنام مالک"),
        facts=tuple(facts),
        sections=tuple(sections),
    )


class _FardPDF(FPDF):
    def __init__(self, fonts: FardFonts, code: str) -> None:
        super().__init__(orientation="portrait", unit="mm", format="A4")
        self.code = code
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(auto=True, margin=16)
        self.add_font("sans", "", str(fonts.sans))
        self.add_font("sans", "B", str(fonts.sans_bold))
        self.add_font("urdu", "", str(fonts.urdu))
        self.add_font("urdu", "B", str(fonts.urdu_bold))
        self.set_fallback_fonts(["sans"], exact_match=False)
        self.set_creator("landgov")
        self.set_author("Board of Revenue, Punjab (landgov demo)")
        self.set_title(f"Fard {short_code(code)}")
        self.set_subject("Fard-e-malkiyat (ownership extract)")

    def footer(self) -> None:
        saved = self.text_shaping
        self.text_shaping = None
        self.set_y(-13)
        self.set_font("sans", "", 7.5)
        self.set_text_color(90)
        self.cell(
            0,
            5,
            f"landgov fard  ·  verification code {short_code(self.code)}  ·  "
            f"page {self.page_no()} of {{nb}}",
            align="C",
        )
        self.set_text_color(0)
        self.text_shaping = saved


def _style(pdf: _FardPDF, rtl: bool, size: float, bold: bool = False) -> None:
    pdf.set_font("urdu" if rtl else "sans", "B" if bold else "", size)


def _line(
    pdf: _FardPDF,
    rtl: bool,
    value: str,
    size: float,
    *,
    bold: bool = False,
    align: str | None = None,
    height: float | None = None,
) -> None:
    _style(pdf, rtl, size, bold)
    # Nastaliq needs about 0.75 mm of line per point; large single-line titles need less
    factor = (0.68 if size >= 11 else 0.75) if rtl else 0.5
    pdf.multi_cell(
        0,
        height or size * factor,
        value,
        align=align or ("R" if rtl else "L"),
        new_x="LMARGIN",
        new_y="NEXT",
    )


def _page(
    pdf: _FardPDF,
    content: _Content,
    *,
    rtl: bool,
    code: str,
    as_of: date,
    issued_at: datetime,
    issued_by: str,
    purpose: str | None,
) -> None:
    if rtl:
        pdf.set_text_shaping(
            use_shaping_engine=True, direction="rtl", script="arab", language="urd"
        )
    else:
        pdf.set_text_shaping(False)
    pdf.add_page()
    t = (lambda ur, en: ur) if rtl else (lambda ur, en: en)
    body = 10 if rtl else 9
    _line(pdf, rtl, t("حکومتِ پنجاب", "GOVERNMENT OF THE PUNJAB"), 15, bold=True, align="C")
    _line(
        pdf,
        rtl,
        t("بورڈ آف ریونیو — محکمہ مال", "BOARD OF REVENUE — Revenue Department"),
        11,
        align="C",
    )
    pdf.set_text_color(170, 0, 0)
    _line(
        pdf,
        rtl,
        t(
            "نمونہ ریکارڈ (ڈیمو) — قانونی استعمال کے لیے نہیں",
            "DEMONSTRATION RECORD (landgov demo) — not valid for legal use",
        ),
        8,
        align="C",
    )
    pdf.set_text_color(0)
    pdf.ln(3.5 if rtl else 1)  # room for the title's tall Nastaliq letters
    _line(
        pdf,
        rtl,
        t("فرد ملکیت", "FARD-E-MALKIYAT — Ownership extract"),
        18 if rtl else 15,
        bold=True,
        align="C",
    )
    _line(pdf, rtl, content.subtitle.get(rtl), 10, align="C")
    pdf.ln(2)
    issued = issued_at.astimezone(PKT).strftime("%Y-%m-%d %H:%M:%S")
    facts = [
        *content.facts,
        (_Text("Record as of", "ریکارڈ بمطابق تاریخ"), _same(as_of.isoformat())),
        (_Text("Issued", "تاریخ اجرا"), _Text(f"{issued} PKT", ltr(f"{issued} PKT"))),
        (_Text("Issued by", "جاری کنندہ"), _Text(issued_by, ltr(issued_by))),
    ]
    if purpose:
        facts.append((_Text("Purpose", "مقصد"), _Text(purpose, ltr(purpose))))
    _table(
        pdf,
        rtl,
        widths=(40, 140),
        headings=None,
        rows=[(label, value) for label, value in facts],
        size=body,
        bold_first=True,
    )
    for section in content.sections:
        pdf.ln(2.5)
        if isinstance(section, _Table):
            _line(pdf, rtl, section.title.get(rtl), body + 1, bold=True)
            _table(
                pdf,
                rtl,
                widths=section.widths,
                headings=section.headings,
                rows=section.rows,
                size=body - 1,
            )
        else:
            _line(pdf, rtl, section.get(rtl), body)
    _verification_box(pdf, rtl, code, as_of)


def _table(
    pdf: _FardPDF,
    rtl: bool,
    *,
    widths: Sequence[float],
    headings: Sequence[_Text] | None,
    rows: Iterable[Sequence[_Text]],
    size: float,
    bold_first: bool = False,
) -> None:
    order = (lambda cells: list(reversed(cells))) if rtl else list
    _style(pdf, rtl, size)
    family = "urdu" if rtl else "sans"
    with pdf.table(
        col_widths=tuple(order(list(widths))),
        width=sum(widths),
        text_align="RIGHT" if rtl else "LEFT",
        line_height=size * (0.68 if rtl else 0.48),
        first_row_as_headings=headings is not None,
        headings_style=FontFace(family=family, emphasis="BOLD", fill_color=(225, 230, 238)),
        borders_layout=(
            TableBordersLayout.ALL if headings is not None else TableBordersLayout.HORIZONTAL_LINES
        ),
        padding=(2.4, 1.2, 0.2, 1.2) if rtl else (0.6, 1.2),
        v_align="MIDDLE",
    ) as table:
        if headings is not None:
            row = table.row()
            for cell in order(list(headings)):
                row.cell(cell.get(rtl))
        for values in rows:
            row = table.row()
            cells = list(values)
            styles = [
                FontFace(family=family, emphasis="BOLD") if bold_first and i == 0 else None
                for i in range(len(cells))
            ]
            for cell, style in zip(order(cells), order(styles), strict=True):
                row.cell(cell.get(rtl), style=style)


def _verification_box(pdf: _FardPDF, rtl: bool, code: str, as_of: date) -> None:
    pdf.ln(4)
    needed = 36 if rtl else 31
    if pdf.get_y() + needed > pdf.h - pdf.b_margin:
        pdf.add_page()
    top = pdf.get_y()
    saved = pdf.text_shaping
    _line(pdf, rtl, "تصدیقی کوڈ" if rtl else "Verification code", 10, bold=True, align="C")
    pdf.text_shaping = None
    pdf.set_font("sans", "B", 18)
    pdf.cell(0, 9, short_code(code), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("sans", "", 7)
    pdf.cell(0, 4, f"SHA-256 {code}", align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("sans", "", 8)
    pdf.cell(
        0, 5, f"landgov fard verify {short_code(code)}", align="C", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.text_shaping = saved
    _line(
        pdf,
        rtl,
        (
            f"یہ کوڈ اس فرد میں درج ریکارڈ (بمطابق {ltr(as_of.isoformat())}) اور اجرا کا "
            f"{ltr('SHA-256')} ہیش ہے؛ تصدیق تب ہی ہو گی جب تک یہ ریکارڈ تبدیل نہ ہو۔"
        )
        if rtl
        else (
            "The code is the SHA-256 of the record this extract shows (as of "
            f"{as_of.isoformat()}) and of its issue; it verifies only while that record is "
            "unchanged."
        ),
        8,
        align="C",
    )
    pdf.set_draw_color(60)
    pdf.rect(pdf.l_margin, top - 1.5, pdf.epw, pdf.get_y() - top + 3)
    pdf.set_draw_color(0)


def render_fard(
    holding: PersonHolding | KhewatHolding,
    *,
    code: str,
    language: Language,
    issued_at: datetime,
    issued_by: str,
    purpose: str | None = None,
    urdu_names: Mapping[str, str] | None = None,
    fonts: FardFonts | None = None,
) -> FPDF:
    """The fard of ``holding`` as an unsaved :class:`fpdf.FPDF` (call ``.output(path)``)."""
    names = urdu_names or {}
    content = (
        _person_content(holding, names)
        if isinstance(holding, PersonHolding)
        else _khewat_content(holding, names)
    )
    pdf = _FardPDF(fonts or fard_fonts(), code)
    for rtl in {"en": (False,), "ur": (True,), "both": (False, True)}[language]:
        _page(
            pdf,
            content,
            rtl=rtl,
            code=code,
            as_of=holding.as_of,
            issued_at=issued_at,
            issued_by=issued_by,
            purpose=purpose,
        )
    return pdf
