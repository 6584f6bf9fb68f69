"""What one farmer may see: their own parcels and advisories, behind a one-time code.

:func:`farmer_view` answers for one CNIC only: the khasras the person owns a share of on
the date, and the advisories of those khasras. Nothing about other people is returned
(co-owners of a khewat are not named, only the person's own share).

One-time codes (:func:`request_code`, :func:`verify_code`): six digits, sent through the
SMS outbox to the farmer's registered phone; only a SHA-256 of the code (salted with the
party and the code's row) is stored; a code works once, for :data:`CODE_MINUTES`
minutes, and only the newest code of a person is checked.

Limits (``security_setting``, migration ``019_farmer_signin_limits.sql``):

- codes: at most ``farmer_codes_per_hour`` (3) in any hour and ``farmer_codes_per_day``
  (10) in any 24 hours, per CNIC (requests for unknown CNICs count alike) and per
  phone. A CNIC over its limit is told so, in words that are the same for every CNIC;
  a phone over its limit gets nothing, and the asker hears the usual answer (saying
  more would tell that two CNICs share a phone);
- failures: one budget per CNIC across all its codes, ``farmer_failures_per_day`` (10)
  codes not accepted in any 24 hours (wrong, used, expired, or for an unknown CNIC).
  While it is spent no code is checked at all, not even the right one; it recovers as
  its failures grow 24 hours old. A success does not reset it.

Every check is serialised per CNIC (a transaction-scoped advisory lock), so parallel
guesses cannot slip past the count; the database refuses codes and OTP messages over
the limits whoever inserts them (triggers), and the attempt log is insert-only.

The guessing bound: a code is uniform over 10^6 values, fresh for each request, and a
check tests one guess against one code, so each check succeeds with probability at most
1/10^6. A check is made only while fewer than 10 failures lie in the 24 hours before
it; so in any 24 hours the checks up to the first success are at most 10 (every one
before it failed, and an 11th would have seen 10 failures). By the union bound an
attacker's chance per CNIC per day is at most 10 x 1/10^6 = 10/10^6 = 1e-5, below the
target of 1e-4 (1 in 10,000). More codes do not help: checks, not codes, are counted
(3 codes an hour and 10 a day bound the SMS sent, i.e. the cost to the farmer).

Nothing tells whether a CNIC holds land or has a phone: a request always answers
:data:`CODE_SENT` (when under the CNIC's limit), a failed check always
:data:`CODE_REFUSED`; the unknown path draws and hashes a code as the known one does.
Once an OTP message leaves the queue (handed to the gateway, failed, expired) or
passes its expiry, the database replaces its body by :data:`REDACTED`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.domain.cnic import mask_cnic, validate_cnic
from landgov.domain.sms import sms_size
from landgov.errors import LandgovError

CODE_MINUTES: Final = 10
CODE_SPACE: Final = 10**6
REDACTED: Final = "[one-time code]"
"""What an OTP message's body becomes once it is handed over or expired."""
CODE_SENT: Final = "If this CNIC is registered for SMS, a code has been sent."
"""The one answer to a code request under the CNIC's limit, registered or not."""
CODE_REFUSED: Final = (
    "The code was not accepted. Check it, or ask for a new one: a code works once, for "
    f"{CODE_MINUTES} minutes, and after too many wrong codes in 24 hours none is accepted "
    "for a while."
)
"""The one answer to every failed check: wrong, used, expired, unknown CNIC, budget spent."""
CODE_FORMAT: Final = "The code is the six digits of the SMS."
_DIGITS: Final = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_SIX: Final = re.compile(r"^\d{6}$", re.ASCII)


class FarmerNotFound(LandgovError):
    """No person with that CNIC (officers' look-ups; never said to a farmer)."""


@dataclass(frozen=True)
class CodeAnswer:
    """What a code request answers: ``message`` for the farmer, and ``refused_by`` the
    rule (``farmer_codes_per_hour`` or ``farmer_codes_per_day``) when the CNIC's own
    limit refused it (the same for every CNIC, registered or not), else None."""

    message: str
    refused_by: str | None = None


def party_of(conn: Connection, cnic: str) -> int:
    pid = conn.execute(
        text("SELECT id FROM party WHERE kind = 'person' AND cnic = :c"), {"c": cnic.strip()}
    ).scalar()
    if pid is None:
        raise FarmerNotFound(f"no person with CNIC {cnic.strip()!r} in the records")
    return int(pid)


def farmer_view(conn: Connection, cnic: str, on: date) -> dict[str, Any]:
    """The person's own parcels on ``on`` (share, area, mouza) and each one's advisories
    (newest season first), as plain values; ``language`` is the language the person
    registered for SMS (``ur``/``en``, None without a registered phone), which the Farmer
    page takes as the person's own language."""
    pid = party_of(conn, cnic)
    person = conn.execute(
        text(
            "SELECT p.name, p.name_ur, c.language FROM party p"
            " LEFT JOIN farmer_contact c ON c.party_id = p.id WHERE p.id = :p"
        ),
        {"p": pid},
    ).one()
    rows = (
        conn.execute(
            text(
                "SELECT k.id, k.number, z.id AS mouza_id, z.name AS mouza, z.name_ur AS mouza_ur,"
                " k.land_class,"
                " k.record_area_sarsai,"
                " s.numerator, s.denominator, kw.number AS khewat"
                " FROM share s JOIN khewat kw ON kw.id = s.khewat_id"
                " JOIN khewat_khasra kk ON kk.khewat_id = s.khewat_id AND kk.valid_from <= :d"
                " AND (kk.valid_to IS NULL OR kk.valid_to > :d)"
                " JOIN khasra k ON k.id = kk.khasra_id JOIN mouza z ON z.id = k.mouza_id"
                " WHERE s.party_id = :p AND s.right_type = 'ownership' AND s.valid_from <= :d"
                " AND (s.valid_to IS NULL OR s.valid_to > :d)"
                " ORDER BY z.name, kw.number, k.id"
            ),
            {"p": pid, "d": on},
        )
        .mappings()
        .all()
    )
    ids = [int(r["id"]) for r in rows]
    advice: dict[int, list[dict[str, Any]]] = {k: [] for k in ids}
    for a in conn.execute(
        text(
            "SELECT khasra_id, season, year, kind, status, level, confidence, crop, as_of,"
            " evidence, sms_en, sms_ur, text_en, text_ur FROM advisory"
            " WHERE khasra_id = ANY(:ids) AND as_of <= :d"
            " ORDER BY khasra_id, year DESC, season, level DESC, kind"
        ),
        {"ids": ids, "d": on},
    ).mappings():
        item = dict(a)
        item["as_of"] = item["as_of"].isoformat()
        advice[int(a["khasra_id"])].append(item)
    return {
        "party_id": pid,
        "cnic": cnic.strip(),
        "name": person.name,
        "name_ur": person.name_ur,
        "language": person.language,
        "on": on.isoformat(),
        "parcels": [
            {
                "khasra_id": int(r["id"]),
                "khasra": r["number"],
                "mouza_id": int(r["mouza_id"]),
                "mouza": r["mouza"],
                "mouza_ur": r["mouza_ur"],
                "khewat": int(r["khewat"]),
                "land_class": r["land_class"],
                "share": str(Fraction(int(r["numerator"]), int(r["denominator"]))),
                "area_sarsai": int(r["record_area_sarsai"]),
                "advisories": advice[int(r["id"])],
            }
            for r in rows
        ],
    }


# --- one-time codes ----------------------------------------------------------------------


def _digest(cnic: str) -> str:
    return hashlib.sha256(f"landgov-farmer-cnic:{cnic}".encode()).hexdigest()


def _hash(party_id: int, row_id: int, code: str) -> str:
    return hashlib.sha256(f"{party_id}:{row_id}:{code}".encode()).hexdigest()


def _lock(conn: Connection, key: str) -> None:
    """Serialises this transaction with every other one on ``key`` until it ends."""
    conn.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": key})


def _setting(conn: Connection, name: str) -> int:
    from landgov.security.sessions import setting

    return setting(conn, name)


def _attempt(
    conn: Connection,
    digest: str,
    action: str,
    outcome: str,
    party_id: int | None = None,
    phone: str | None = None,
) -> None:
    conn.execute(
        text(
            "INSERT INTO farmer_signin_attempt (cnic_digest, party_id, phone, action, outcome)"
            " VALUES (:d, :p, :ph, :a, :o)"
        ),
        {"d": digest, "p": party_id, "ph": phone, "a": action, "o": outcome},
    )


def _in_windows(conn: Connection, sql: str, params: dict[str, Any]) -> tuple[int, int]:
    """(rows in the last hour, rows in the last 24 hours) of ``sql``, which selects one
    timestamp column ``t`` of the rows to count."""
    row = conn.execute(
        text(
            "SELECT count(*) FILTER (WHERE t > clock_timestamp() - interval '1 hour'),"
            f" count(*) FROM ({sql}) c WHERE t > clock_timestamp() - interval '24 hours'"
        ),
        params,
    ).one()
    return int(row[0]), int(row[1])


def _over(conn: Connection, in_hour: int, in_day: int) -> str | None:
    if in_hour >= _setting(conn, "farmer_codes_per_hour"):
        return "farmer_codes_per_hour"
    if in_day >= _setting(conn, "farmer_codes_per_day"):
        return "farmer_codes_per_day"
    return None


def _body(code: str, language: str) -> str:
    if language == "en":
        return f"landgov code: {code}. Valid {CODE_MINUTES} min. Do not share it."
    return f"لینڈگوو کوڈ: {code}۔ {CODE_MINUTES} منٹ کے لیے۔ کسی کو نہ بتائیں"


def request_code(conn: Connection, cnic: str) -> CodeAnswer:
    """Queues a new six-digit code to the phone registered for ``cnic``, within the
    limits; answers the same whether or not the CNIC is a person with a phone.

    Consent to advisories is not needed for a code the person asked for. Commit the
    connection whatever the answer: the request is counted. The code is read from the
    outbox by the SMS gateway (``sms_outbox``, queued).

    Raises:
        InvalidCNIC: ``cnic`` is not a CNIC (nothing counted, nothing said about anyone).
    """
    dashed = validate_cnic(cnic)
    digest = _digest(dashed)
    _lock(conn, f"landgov-farmer-cnic:{digest}")
    conn.execute(text("SELECT landgov_expire_otp_sms()"))
    rule = _over(conn, *_in_windows(
        conn,
        "SELECT at AS t FROM farmer_signin_attempt WHERE cnic_digest = :d"
        " AND action = 'request' AND outcome <> 'cnic_limit'",
        {"d": digest},
    ))  # fmt: skip
    if rule is not None:
        _attempt(conn, digest, "request", "cnic_limit")
        per_hour = _setting(conn, "farmer_codes_per_hour")
        per_day = _setting(conn, "farmer_codes_per_day")
        return CodeAnswer(
            f"No new code now (rule {rule}): at most {per_hour} codes an hour and {per_day} "
            "in 24 hours are sent for one CNIC. Please try again later.",
            rule,
        )
    # the same work whoever asks: draw and hash a code before looking the person up
    code = f"{secrets.randbelow(CODE_SPACE):06d}"
    _hash(0, 0, code)
    contact = conn.execute(
        text(
            "SELECT p.id, c.phone, c.language FROM party p"
            " LEFT JOIN farmer_contact c ON c.party_id = p.id"
            " WHERE p.kind = 'person' AND p.cnic = :c"
        ),
        {"c": dashed},
    ).first()
    if contact is None or contact.phone is None:
        _attempt(conn, digest, "request", "unregistered", None if contact is None else contact.id)
        return CodeAnswer(CODE_SENT)
    pid, phone = int(contact.id), str(contact.phone)
    _lock(conn, f"landgov-farmer-phone:{phone}")
    if _over(conn, *_in_windows(
        conn,
        "SELECT created_at AS t FROM sms_outbox WHERE purpose = 'otp' AND phone = :ph",
        {"ph": phone},
    )) is not None:  # fmt: skip
        _attempt(conn, digest, "request", "phone_limit", pid, phone)
        return CodeAnswer(CODE_SENT)
    row = conn.execute(
        text(
            "INSERT INTO farmer_otp (party_id, code_hash, expires_at) VALUES (:p, :h,"
            " now() + make_interval(mins => :m)) RETURNING id, expires_at"
        ),
        {"p": pid, "h": "0" * 64, "m": CODE_MINUTES},
    ).one()
    conn.execute(
        text("UPDATE farmer_otp SET code_hash = :h WHERE id = :i"),
        {"h": _hash(pid, int(row.id), code), "i": row.id},
    )
    body = _body(code, contact.language)
    size = sms_size(body)
    conn.execute(
        text(
            "INSERT INTO sms_outbox (party_id, phone, language, body, encoding, segments,"
            " purpose, expires_at) VALUES (:p, :ph, :l, :b, :e, :s, 'otp', :x)"
        ),
        {"p": pid, "ph": phone, "l": contact.language, "b": body,
         "e": size.encoding.value, "s": size.segments, "x": row.expires_at},
    )  # fmt: skip
    _attempt(conn, digest, "request", "sent", pid, phone)
    return CodeAnswer(CODE_SENT)


def verify_code(conn: Connection, cnic: str, code: str) -> tuple[int | None, str]:
    """(party id, "") if ``code`` is the person's newest live code (it is spent), else
    (None, :data:`CODE_REFUSED`), the same words whatever failed. Every failure is
    counted against the CNIC's budget (unknown CNICs alike): commit the connection
    either way. While the budget is spent nothing is checked.

    A code that is not six digits (Urdu or Arabic-Indic digits are read as digits) is
    answered :data:`CODE_FORMAT` and not counted: it cannot be anyone's code.

    Raises:
        InvalidCNIC: ``cnic`` is not a CNIC.
    """
    dashed = validate_cnic(cnic)
    typed = code.strip().translate(_DIGITS)
    if not _SIX.fullmatch(typed):
        return None, CODE_FORMAT
    digest = _digest(dashed)
    _lock(conn, f"landgov-farmer-cnic:{digest}")
    failures = conn.execute(
        text(
            "SELECT count(*) FROM farmer_signin_attempt WHERE cnic_digest = :d"
            " AND action = 'verify' AND outcome = 'wrong'"
            " AND at > clock_timestamp() - interval '24 hours'"
        ),
        {"d": digest},
    ).scalar_one()
    if failures >= _setting(conn, "farmer_failures_per_day"):
        _hash(0, 0, typed)
        _attempt(conn, digest, "verify", "budget_spent")
        return None, CODE_REFUSED
    row = conn.execute(
        text(
            "SELECT o.id, o.party_id, o.code_hash, o.used_at IS NULL"
            " AND o.expires_at > clock_timestamp() AS live"
            " FROM party p JOIN farmer_otp o ON o.party_id = p.id"
            " WHERE p.kind = 'person' AND p.cnic = :c"
            " ORDER BY o.created_at DESC, o.id DESC LIMIT 1 FOR UPDATE OF o"
        ),
        {"c": dashed},
    ).first()
    if row is None:  # no such person, or never sent a code: the same work, the same answer
        hmac.compare_digest("0" * 64, _hash(0, 0, typed))
        party = conn.execute(
            text("SELECT id FROM party WHERE kind = 'person' AND cnic = :c"), {"c": dashed}
        ).scalar()
        _attempt(conn, digest, "verify", "wrong", party)
        return None, CODE_REFUSED
    pid = int(row.party_id)
    matches = hmac.compare_digest(row.code_hash, _hash(pid, int(row.id), typed))
    if not (matches and row.live):
        conn.execute(
            text("UPDATE farmer_otp SET attempts = attempts + 1 WHERE id = :i"), {"i": row.id}
        )
        _attempt(conn, digest, "verify", "wrong", pid)
        return None, CODE_REFUSED
    conn.execute(text("UPDATE farmer_otp SET used_at = now() WHERE id = :i"), {"i": row.id})
    _attempt(conn, digest, "verify", "ok", pid)
    return pid, ""


def farmer_label(cnic: str) -> str:
    """How access rows name a signed-in farmer: ``farmer:35202-*******-1``."""
    return f"farmer:{mask_cnic(cnic)}"


def log_farmer_view(
    conn: Connection, cnic: str, party_id: int, on: date, details: dict[str, Any] | None = None
) -> None:
    """One ``access_log`` row for a farmer reading their own record (a farmer has no
    account: the actor is :func:`farmer_label`, the subject the party's id)."""
    conn.execute(
        text(
            "INSERT INTO access_log (actor, action, subject_kind, subject, details)"
            " VALUES (:a, 'farmer.view', 'party', :s, CAST(:d AS jsonb))"
        ),
        {
            "a": farmer_label(cnic),
            "s": str(party_id),
            "d": json.dumps({"on": on.isoformat(), **(details or {})}, default=str),
        },
    )
