"""The access log: every read of personal data, who read whom.

Owner lists, a person's record of rights, a fard, an export with CNICs, a farmer's
advisories: each read writes one ``access_log`` row (append-only; the application role
may insert and select, nothing else) with the actor, what was read and about whom. A
read through the HTTP API names its client (``api_client_id``, actor ``client:NAME``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.security.actor import Actor

if TYPE_CHECKING:
    from landgov.security.clients import ApiClient

SubjectKind = Literal["party", "khewat", "khasra", "mouza", "phone", "export"]


def log_access(
    conn: Connection,
    actor: Actor | ApiClient,
    action: str,
    subject_kind: SubjectKind,
    subject: str,
    details: Mapping[str, object] | None = None,
) -> None:
    """Writes one access row in the caller's transaction (``actor``: a signed-in person
    or service, or an API client)."""
    client_id = None if isinstance(actor, Actor) else actor.id
    conn.execute(
        text(
            "INSERT INTO access_log (actor, user_id, api_client_id, action, subject_kind,"
            " subject, details) VALUES (:a, :u, :c, :act, :k, :s, CAST(:d AS jsonb))"
        ),
        {
            "a": actor.label,
            "u": actor.user_id,
            "c": client_id,
            "act": action,
            "k": subject_kind,
            "s": subject,
            "d": json.dumps(dict(details or {}), default=str),
        },
    )
