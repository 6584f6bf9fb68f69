"""What one farmer may see: their own parcels and advisories, behind a one-time code.

:func:`farmer_view` answers for one CNIC only: the khasras the person owns a share of on
the date, and the advisories of those khasras. Nothing about other people is returned
(co-owners of a khewat are not named, only the person's own share).

One-time codes (:func:`issue_code`, :func:`verify_code`): six digits, sent through the
SMS outbox to the farmer's registered phone; only a SHA-256 of the code (salted with the
party and the code's row) is stored; a code works once, for :data:`CODE_MINUTES`
minutes, and :data:`MAX_ATTEMPTS` wrong tries spend it.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import date
from fractions import Fraction
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.domain.sms import sms_size
from landgov.errors import LandgovError

CODE_MINUTES: Final = 10
MAX_ATTEMPTS: Final = 5


class FarmerNotFound(LandgovError):
    """No person with that CNIC, or no registered phone for a code."""


def party_of(conn: Connection, cnic: str) -> int:
    pid = conn.execute(
        text("SELECT id FROM party WHERE kind = 'person' AND cnic = :c"), {"c": cnic.strip()}
    ).scalar()
    if pid is None:
        raise FarmerNotFound(f"no person with CNIC {cnic.strip()!r} in the records")
    return int(pid)


def farmer_view(conn: Connection, cnic: str, on: date) -> dict[str, Any]:
    """The person's own parcels on ``on`` (share, area, mouza) and each one's advisories
    (newest season first), as plain values."""
    pid = party_of(conn, cnic)
    person = conn.execute(text("SELECT name, name_ur FROM party WHERE id = :p"), {"p": pid}).one()
    rows = (
        conn.execute(
            text(
                "SELECT k.id, k.number, z.name AS mouza, k.land_class, k.record_area_sarsai,"
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
        "cnic": cnic.strip(),
        "name": person.name,
        "name_ur": person.name_ur,
        "on": on.isoformat(),
        "parcels": [
            {
                "khasra_id": int(r["id"]),
                "khasra": r["number"],
                "mouza": r["mouza"],
                "khewat": int(r["khewat"]),
                "land_class": r["land_class"],
                "share": str(Fraction(int(r["numerator"]), int(r["denominator"]))),
                "area_sarsai": int(r["record_area_sarsai"]),
                "advisories": advice[int(r["id"])],
            }
            for r in rows
        ],
    }


def _hash(party_id: int, row_id: int, code: str) -> str:
    return hashlib.sha256(f"{party_id}:{row_id}:{code}".encode()).hexdigest()


def issue_code(conn: Connection, cnic: str) -> int:
    """Queues a new six-digit code to the person's registered phone; returns the outbox
    row id (the demo reads the code from there). Needs a contact row (phone), consent to
    advisories is not required for a code the person asked for."""
    pid = party_of(conn, cnic)
    contact = conn.execute(
        text("SELECT phone, language FROM farmer_contact WHERE party_id = :p"), {"p": pid}
    ).first()
    if contact is None:
        raise FarmerNotFound("no phone is registered for this CNIC: ask the patwari to add it")
    code = f"{secrets.randbelow(10**6):06d}"
    row_id = int(conn.execute(
        text(
            "INSERT INTO farmer_otp (party_id, code_hash, expires_at) VALUES (:p, :h,"
            " now() + make_interval(mins => :m)) RETURNING id"
        ),
        {"p": pid, "h": "0" * 64, "m": CODE_MINUTES},
    ).scalar_one())  # fmt: skip
    conn.execute(
        text("UPDATE farmer_otp SET code_hash = :h WHERE id = :i"),
        {"h": _hash(pid, row_id, code), "i": row_id},
    )
    body = (
        f"landgov code: {code}. Valid {CODE_MINUTES} min. Do not share it."
        if contact.language == "en"
        else f"لینڈگوو کوڈ: {code}۔ {CODE_MINUTES} منٹ کے لیے۔ کسی کو نہ بتائیں"
    )
    size = sms_size(body)
    return int(conn.execute(
        text(
            "INSERT INTO sms_outbox (party_id, phone, language, body, encoding, segments,"
            " purpose) VALUES (:p, :ph, :l, :b, :e, :s, 'otp') RETURNING id"
        ),
        {"p": pid, "ph": contact.phone, "l": contact.language, "b": body,
         "e": size.encoding.value, "s": size.segments},
    ).scalar_one())  # fmt: skip


def verify_code(conn: Connection, cnic: str, code: str) -> tuple[int | None, str]:
    """(party id, "") if ``code`` is the person's newest live code (it is spent), else
    (None, why). A wrong try is counted: commit the connection either way."""
    pid = party_of(conn, cnic)
    row = conn.execute(
        text(
            "SELECT id, code_hash, attempts, used_at, expires_at < now() AS expired"
            " FROM farmer_otp WHERE party_id = :p ORDER BY created_at DESC, id DESC LIMIT 1"
            " FOR UPDATE"
        ),
        {"p": pid},
    ).first()
    if row is None or row.used_at is not None or row.expired or row.attempts >= MAX_ATTEMPTS:
        return None, "no valid code: ask for a new one"
    if not secrets.compare_digest(row.code_hash, _hash(pid, int(row.id), code.strip())):
        conn.execute(
            text("UPDATE farmer_otp SET attempts = attempts + 1 WHERE id = :i"), {"i": row.id}
        )
        left = MAX_ATTEMPTS - int(row.attempts) - 1
        return None, f"wrong code ({left} tries left)" if left else "wrong code: ask for a new one"
    conn.execute(text("UPDATE farmer_otp SET used_at = now() WHERE id = :i"), {"i": row.id})
    return pid, ""
