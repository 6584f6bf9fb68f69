"""The SMS outbox as people may see it: phones masked unless the role may unmask them,
one-time codes never shown, every read logged (``sms_outbox``, ``access_log``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

if TYPE_CHECKING:
    from landgov.security import Actor


def mask_phone(phone: str) -> str:
    """``+923001234567`` as ``+*********567``: only the last 3 digits shown."""
    digits = sum(c.isdigit() for c in phone)
    seen = 0
    shown = []
    for c in phone:
        if c.isdigit():
            seen += 1
            shown.append(c if seen > digits - 3 else "*")
        else:
            shown.append(c)
    return "".join(shown)


def read_outbox(
    conn: Connection, actor: Actor, *, status: str, phone: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest ``limit`` messages of ``status`` (to ``phone`` if given, normalised by the
    caller), as the actor may see them; the read is logged in the caller's transaction."""
    from landgov.advisories.farmer import REDACTED
    from landgov.security import log_access, may_unmask

    rows = [dict(r) for r in conn.execute(text(
        "SELECT id, phone, language, purpose, kind, segments, body, created_at"
        " FROM sms_outbox WHERE status = :s AND (CAST(:ph AS text) IS NULL OR phone = :ph)"
        " ORDER BY created_at DESC, id DESC LIMIT :n"),
        {"s": status, "ph": phone, "n": limit}).mappings()]  # fmt: skip
    unmasked = may_unmask(conn, actor, None)
    log_access(conn, actor, "sms_outbox.read", "phone", phone or "*",
               {"status": status, "rows": len(rows), "unmasked": unmasked})  # fmt: skip
    for r in rows:
        if not unmasked:
            r["phone"] = mask_phone(r["phone"])
        if r["purpose"] == "otp":  # a one-time code is for the farmer's phone only
            r["body"] = REDACTED
    return rows
