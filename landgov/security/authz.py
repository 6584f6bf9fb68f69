"""Checking an action against the actor's roles, postings and the date rules.

:func:`authorize` is the one check every changing action and every read of personal data
goes through, inside the action's own transaction (so the postings read are those of the
moment the action is written):

1. the actor's roles hold the capability (rule ``role``);
2. a capability bounded by jurisdiction needs the actor's officer posted in the mouza
   today (``jurisdiction``); a dated action (``on``) also needs the date not in the
   future (``future_date``), within the back-dating window (``backdate_window``,
   ``security_setting``) and the officer posted there on that date as well
   (``posting_then_and_now``);
3. a capability that needs a second factor (sanction, decide, change rates, manage
   accounts) needs a session opened with TOTP (``second_factor``).

It returns whether the action is back-dated; the dispute rule ``backdated_action`` lists
every such step afterwards from the server's own record times.

The :class:`Actor` a caller passes is not trusted as it is: :func:`authorize` binds its
session token to the transaction (``landgov_act_as``, which checks the token) and takes
the user, the roles valid today, the bound officer and whether the session was opened
with a second factor from the database (``landgov_acting_identity``), so an Actor edited
in memory gains nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.errors import AccessDenied
from landgov.security import policy
from landgov.security.actor import Actor
from landgov.security.sessions import bind, roles_of_user, setting

_NEEDS_TOTP: Final = frozenset(
    {
        "mutation.sanction",
        "mutation.reject",
        "case.decide",
        "rates.change",
        "accounts.manage",
        "settings.change",
        "api_clients.manage",
    }
)


def _today(conn: Connection) -> date:
    return conn.execute(text("SELECT current_date")).scalar_one()  # type: ignore[no-any-return]


def _mouza_name(conn: Connection, mouza_id: int) -> str:
    name = conn.execute(text("SELECT name FROM mouza WHERE id = :m"), {"m": mouza_id}).scalar()
    return f"mouza {name or mouza_id}"


def posted(conn: Connection, actor: Actor, mouza_id: int, on: date) -> bool:
    """Whether the actor's officer is posted over ``mouza_id`` on ``on``."""
    from landgov.storage.officers import has_jurisdiction

    return actor.officer_id is not None and has_jurisdiction(conn, actor.officer_id, mouza_id, on)


def _verified(conn: Connection, actor: Actor) -> Actor:
    """The actor as the database knows it for this transaction (binding it when needed)."""
    from dataclasses import replace

    from landgov.errors import AuthenticationFailed

    query = text(
        "SELECT user_id, session_id, officer_id, designation, second_factor, kind"
        " FROM landgov_acting_identity()"
    )
    row = conn.execute(query).one()
    if row.session_id != actor.session_id:
        bind(conn, actor)
        row = conn.execute(query).one()
    if row.user_id is None or row.user_id != actor.user_id:
        raise AuthenticationFailed("the session does not belong to this actor: sign in again")
    return replace(
        actor,
        kind=row.kind,
        officer_id=row.officer_id,
        designation=row.designation,
        second_factor=bool(row.second_factor),
        roles=roles_of_user(conn, int(row.user_id), row.designation),
    )


def authorize(
    conn: Connection,
    actor: Actor,
    capability: str,
    *,
    mouza_id: int | None = None,
    on: date | None = None,
) -> bool:
    """Checks ``actor`` may use ``capability`` (in ``mouza_id``, dated ``on``); returns
    whether the action is back-dated.

    Raises:
        AccessDenied: with the rule that refuses (module notes).
        AuthenticationFailed: the actor's session is no longer valid.
    """
    actor = _verified(conn, actor)
    cap = policy.check_role(actor.roles, capability, actor.display)
    if capability in _NEEDS_TOTP and actor.kind == "person" and not actor.second_factor:
        raise AccessDenied(
            "second_factor", f"to {cap.what} sign in again with your authenticator code"
        )
    today = _today(conn)
    if on is not None and on > today:
        raise AccessDenied(
            "future_date",
            f"an action cannot be dated {on.isoformat()}, after today ({today.isoformat()})",
        )
    # a role that holds the capability without jurisdiction (a service) acts anywhere
    unbounded = cap.roles & actor.roles - set(policy.OFFICER_ROLES)
    if not cap.jurisdiction or unbounded:
        return on is not None and on < today
    if mouza_id is None:
        raise ValueError(f"{capability} is checked against a mouza: give mouza_id")
    place = _mouza_name(conn, mouza_id)
    if not posted(conn, actor, mouza_id, today):
        raise AccessDenied(
            "jurisdiction",
            f"{actor.display} is not posted over {place} today ({today.isoformat()})",
        )
    if on is None:
        return False
    return policy.check_action_date(
        on,
        today,
        window_days=setting(conn, "backdate_window_days"),
        posted_then=posted(conn, actor, mouza_id, on),
        posted_now=True,
        place=place,
    )


def may_unmask(conn: Connection, actor: Actor, mouza_id: int | None) -> bool:
    """Whether the actor sees CNICs and phone numbers in full (there: ``mouza_id``)."""
    actor = _verified(conn, actor)
    if not actor.has("personal.unmask"):
        return False
    if mouza_id is None:
        return True
    return posted(conn, actor, mouza_id, _today(conn))
