"""Who is signed in to the dashboard.

Local accounts are the default: the sign-in page asks for the username, the password
and the authenticator (TOTP) code, and :func:`landgov.security.login` decides (lockout,
second factor for the roles that need one; every failure reads the same,
:data:`landgov.security.sessions.FAILED`). The session's token is kept in
``st.session_state`` only (the database stores its SHA-256), and every run of the script
turns it back into an :class:`~landgov.security.Actor` with
:func:`landgov.security.authenticate`, so the database enforces idle and absolute expiry,
sign-out and disabled accounts at once; an ended session returns to the sign-in page
with a notice.

OpenID Connect (``LANDGOV_AUTH=oidc``, with an ``[auth]`` section in
``.streamlit/secrets.toml`` and Authlib installed): the sign-in page offers Streamlit's
``st.login()`` instead; after it, :func:`oidc_sign_in` maps the identity token's claims
in ``st.user`` to a local account by ``app_user.oidc_subject`` and opens a landgov session
(channel ``oidc``). The account, its roles and its postings stay local: the provider
only says who the person is. ``oidc_subject`` holds ``<issuer>#<sub>`` (stable across
e-mail changes; preferred) or a verified e-mail address. A role that needs a second
factor signs in through the provider only when the token's ``amr`` claim reports one
(``mfa``, ``otp`` or ``hwk``); an expired token (``exp``) is refused.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from typing import Any, Final, Literal

import streamlit as st
from sqlalchemy.engine import Engine

from landgov.errors import AuthenticationFailed
from landgov.security import Actor, authenticate, login, logout
from landgov.security.sessions import oidc_login

TOKEN_KEY: Final = "_landgov_token"
NOTICE_KEY: Final = "_landgov_notice"
MODE_VARIABLE: Final = "LANDGOV_AUTH"
SECOND_FACTOR_AMR: Final = frozenset({"mfa", "otp", "hwk"})
"""``amr`` values (RFC 8176) that count as a second factor at the provider."""

Mode = Literal["local", "oidc"]


def mode() -> Mode:
    """``local`` (default) or ``oidc``, from ``LANDGOV_AUTH``.

    Raises:
        ValueError: any other value (naming the variable and what it may be).
    """
    value = os.environ.get(MODE_VARIABLE, "local").strip().lower() or "local"
    if value == "local":
        return "local"
    if value == "oidc":
        return "oidc"
    raise ValueError(
        f"{MODE_VARIABLE}={value!r} is not a sign-in mode: use 'local' (landgov accounts, "
        "the default) or 'oidc' (an OpenID Connect provider configured in "
        ".streamlit/secrets.toml)"
    )


def current(engine: Engine) -> Actor | None:
    """The signed-in actor of this browser session, re-authenticated now; None when
    nobody is signed in. An ended session is forgotten and leaves a notice for the
    sign-in page."""
    token = st.session_state.get(TOKEN_KEY)
    if not token:
        return None
    try:
        return authenticate(engine, str(token))
    except AuthenticationFailed as exc:
        forget_session()
        st.session_state[NOTICE_KEY] = str(exc)
        return None


def remember(actor: Actor) -> None:
    """Keeps the new session's token for the next runs (nothing else is kept)."""
    st.session_state[TOKEN_KEY] = actor.token
    st.session_state.pop(NOTICE_KEY, None)


def sign_in(engine: Engine, username: str, password: str, code: str | None) -> Actor:
    """A local sign-in from the dashboard.

    Raises:
        AuthenticationFailed: always :data:`landgov.security.sessions.FAILED`.
    """
    actor = login(engine, username, password, (code or "").strip() or None, channel="dashboard")
    remember(actor)
    return actor


def forget_session() -> None:
    """Drops everything this browser session kept: the token, the chosen mouza, pending
    form values and outcomes (the next person at the computer starts clean)."""
    for key in list(st.session_state.keys()):
        if key != NOTICE_KEY:
            del st.session_state[key]


def sign_out(engine: Engine) -> None:
    """Ends the session in the database (:func:`landgov.security.logout`) and here."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        logout(engine, str(token))
    forget_session()
    st.session_state[NOTICE_KEY] = "You have signed out."


# --- OpenID Connect -------------------------------------------------------------------


def oidc_subjects(claims: Mapping[str, Any]) -> list[str]:
    """What ``app_user.oidc_subject`` may hold for this identity, most specific first:
    ``<iss>#<sub>``, then the e-mail address unless the provider says it is unverified."""
    found = []
    iss, sub = claims.get("iss"), claims.get("sub")
    if iss and sub:
        found.append(f"{iss}#{sub}")
    email = claims.get("email")
    if email and claims.get("email_verified", True) is not False:
        found.append(str(email).strip().lower())
    return found


def _claims(user: Any) -> dict[str, Any]:
    """The claims of ``st.user`` (or any mapping, or an object with those attributes)."""
    if isinstance(user, Mapping):
        return dict(user)
    names = ("iss", "sub", "email", "email_verified", "amr", "exp", "is_logged_in", "name")
    return {n: getattr(user, n) for n in names if getattr(user, n, None) is not None}


def oidc_sign_in(engine: Engine, user: Any, *, now: float | None = None) -> Actor:
    """Maps an OpenID Connect identity (``st.user``) to its local account and opens a
    landgov session with channel ``oidc``; every try is a ``login_attempt`` row.

    Raises:
        AuthenticationFailed: not signed in at the provider, the identity token has
            expired, no account is linked to it, the account is disabled or locked, or the
            account's roles need a second factor the provider did not report.
    """
    claims = _claims(user)
    if claims.get("is_logged_in") is False:
        raise AuthenticationFailed("sign in with your identity provider first")
    exp = claims.get("exp")
    if exp is not None and float(exp) <= (time.time() if now is None else now):
        raise AuthenticationFailed("your identity provider's sign-in has expired: sign in again")
    subjects = oidc_subjects(claims)
    amr = claims.get("amr") or []
    second = bool(SECOND_FACTOR_AMR & {str(a).lower() for a in amr})
    return oidc_login(engine, subjects, second_factor=second)
