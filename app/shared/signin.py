"""The sign-in page: all an anonymous visitor sees (with the farmer's own sign-in).

No map, no mouza, no record before sign-in. Local accounts: username, password and the
authenticator code (always asked; :func:`landgov.security.login` decides whether the
account needs it). With ``LANDGOV_AUTH=oidc``: a button to the OpenID Connect provider
(:mod:`app.shared.auth`).
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app.shared import auth, context, data, panels
from landgov.errors import AuthenticationFailed
from landgov.security.sessions import FAILED

FORM_KEY = "signin_form"
USERNAME_KEY = "signin_username"
PASSWORD_KEY = "signin_password"
CODE_KEY = "signin_code"
SUBMIT_KEY = "signin_submit"


def _notice() -> None:
    notice = st.session_state.pop(auth.NOTICE_KEY, None)
    if notice:
        st.info(str(notice), icon="🔒")


def _local(url: str) -> None:
    with st.form(FORM_KEY, clear_on_submit=True, border=True):
        username = st.text_input("Username", key=USERNAME_KEY, autocomplete="username")
        password = st.text_input("Password", type="password", key=PASSWORD_KEY,
                                 autocomplete="current-password")  # fmt: skip
        code = st.text_input(
            "Authenticator code",
            key=CODE_KEY,
            max_chars=6,
            placeholder="6 digits",
            autocomplete="one-time-code",
            help="The code your authenticator app shows now. Revenue officers who decide "
            "mutations or cases and administrators always need it.",
        )
        submitted = st.form_submit_button("Sign in", key=SUBMIT_KEY, type="primary")
    if not submitted:
        return
    with panels.database_errors(url):
        try:
            auth.sign_in(data.engine(url), username or "", password or "", code)
        except AuthenticationFailed:
            st.error(FAILED[0].upper() + FAILED[1:] + ".", icon="⛔")
            return
    st.rerun()


def oidc_problem() -> str | None:
    """Why the OpenID Connect sign-in cannot work here (None: it can)."""
    import importlib.util

    if importlib.util.find_spec("authlib") is None:
        return (
            "LANDGOV_AUTH=oidc needs Authlib 1.3.2 or later in the dashboard's environment "
            "(pip install 'streamlit[auth]')"
        )
    try:
        configured = "auth" in st.secrets
    except FileNotFoundError:  # no secrets file (StreamlitSecretNotFoundError)
        configured = False
    if not configured:
        return (
            "LANDGOV_AUTH=oidc needs an [auth] section (redirect_uri, cookie_secret, "
            "client_id, client_secret, server_metadata_url) in .streamlit/secrets.toml"
        )
    return None


def _oidc(url: str) -> None:
    problem = oidc_problem()
    if problem is not None:
        st.error(problem, icon="⛔")
        return
    user: Any = st.user
    if not getattr(user, "is_logged_in", False):
        st.caption("Sign in with your department's identity provider.")
        st.button("Sign in", key="oidc_login", type="primary", on_click=st.login)
        return
    with panels.database_errors(url):
        try:
            auth.oidc_sign_in(data.engine(url), user)
        except AuthenticationFailed as exc:
            st.error(f"{exc}.", icon="⛔")
            st.button("Sign out of the identity provider", key="oidc_logout", on_click=st.logout)
            return
    st.rerun()


def page(farmer: st.Page | None = None) -> None:
    ctx = context.current()
    st.title("Sign in to landgov")
    st.caption("Land records of the revenue department. Staff sign in with their own account.")
    _notice()
    try:
        how = auth.mode()
    except ValueError as exc:
        st.error(str(exc))
        return
    left, _ = st.columns([2, 3])
    with left:
        if how == "oidc":
            _oidc(ctx.url)
        else:
            _local(ctx.url)
        if farmer is not None:
            st.divider()
            st.markdown("**Are you a landowner?** See your own parcels and advisories.")
            st.page_link(farmer, label="Farmer sign-in", icon=":material/agriculture:")
