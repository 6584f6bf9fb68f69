"""The authenticated actor: who is acting, established from a session, never claimed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from landgov.security import policy


@dataclass(frozen=True)
class Actor:
    """A signed-in person or service, as :mod:`landgov.security.sessions` found it.

    Only :func:`landgov.security.sessions.authenticate` and the sign-in functions make
    one: the ``token`` is the session's secret, which the database checks again when a
    transaction binds the actor (:func:`landgov.security.bind`).

    Attributes:
        user_id: ``app_user.id``.
        username: the account name.
        kind: ``person`` or ``service``.
        full_name: the person's or service's name.
        roles: every role held today (officer designation + stored roles).
        officer_id: the bound officer row (postings), or None.
        designation: that officer's designation, or None.
        cnic: the person's CNIC, or None.
        session_id: ``user_session.id``.
        second_factor: whether the session was opened with a TOTP code.
    """

    user_id: int
    username: str
    kind: Literal["person", "service"]
    full_name: str
    roles: frozenset[str]
    officer_id: int | None
    designation: str | None
    cnic: str | None
    session_id: int
    second_factor: bool
    token: str = field(repr=False)

    @property
    def label(self) -> str:
        """How audit and access rows name the actor: ``user:NAME`` or ``service:NAME``."""
        return f"{'service' if self.kind == 'service' else 'user'}:{self.username}"

    @property
    def display(self) -> str:
        """``Full name (role, role)`` for messages."""
        shown = ", ".join(r.replace("_", " ") for r in sorted(self.roles)) or "no role"
        return f"{self.full_name} ({shown})"

    def has(self, capability: str) -> bool:
        """Whether a role of the actor holds ``capability`` (jurisdiction aside)."""
        return bool(policy.capability(capability).roles & self.roles)
