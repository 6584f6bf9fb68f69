"""The sign-in page: all an anonymous visitor sees (with the farmer's own sign-in).

No map, no mouza, no record before sign-in. Local accounts: username, password and the
authenticator code (always asked; :func:`landgov.security.login` decides whether the
account needs it). With ``LANDGOV_AUTH=oidc``: a button to the OpenID Connect provider
(:mod:`app.shared.auth`). Every word is from the catalogue (:mod:`app.shared.i18n`), in
the language of the switch at the top of the page; the services' own answers (a failed
sign-in, an ended session) are shown in that language too where the catalogue knows
them. The configuration problems of :func:`oidc_problem` stay in English: they are for
the administrator who set the server up, and name settings that are English anyway.
"""

from __future__ import annotations

from typing import Any, Final

import streamlit as st

from app.shared import auth, context, data, i18n, panels
from landgov.errors import AuthenticationFailed

FORM_KEY = "signin_form"
USERNAME_KEY = "signin_username"
PASSWORD_KEY = "signin_password"
CODE_KEY = "signin_code"
SUBMIT_KEY = "signin_submit"
NOTICES: Final = {
    "You have signed out.": "signin.signed_out",
    "your session has ended (expired, signed out or revoked): sign in again": (
        "signin.session_ended"
    ),
}
"""The notices :mod:`app.shared.auth` leaves for this page, by catalogue key."""


def _notice(lang: str) -> None:
    notice = st.session_state.pop(auth.NOTICE_KEY, None)
    if notice:
        st.info(i18n.service_text(str(notice), NOTICES, lang), icon="🔒")


def _local(url: str, lang: str) -> None:
    _ = i18n.Words(lang)
    with st.form(FORM_KEY, clear_on_submit=True, border=True):
        username = st.text_input(_("signin.username"), key=USERNAME_KEY,
                                 autocomplete="username")  # fmt: skip
        password = st.text_input(_("signin.password"), type="password", key=PASSWORD_KEY,
                                 autocomplete="current-password")  # fmt: skip
        code = st.text_input(
            _("signin.code"),
            key=CODE_KEY,
            max_chars=6,
            placeholder=_("signin.code_placeholder"),
            autocomplete="one-time-code",
            help=_("signin.code_help"),
        )
        submitted = st.form_submit_button(_("signin.submit"), key=SUBMIT_KEY, type="primary")
    if not submitted:
        return
    with panels.database_errors(url):
        try:
            auth.sign_in(data.engine(url), username or "", password or "",
                         i18n.ascii_digits(code or ""))  # fmt: skip
        except AuthenticationFailed:
            st.error(_("signin.failed"), icon="⛔")  # one answer for every failure
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


def _oidc(url: str, lang: str) -> None:
    _ = i18n.Words(lang)
    problem = oidc_problem()
    if problem is not None:
        st.error(problem, icon="⛔")
        return
    user: Any = st.user
    if not getattr(user, "is_logged_in", False):
        st.caption(_("signin.oidc_caption"))
        st.button(_("signin.submit"), key="oidc_login", type="primary", on_click=st.login)
        return
    with panels.database_errors(url):
        try:
            auth.oidc_sign_in(data.engine(url), user)
        except AuthenticationFailed as exc:
            st.error(f"{exc}.", icon="⛔")  # which of the provider's checks failed
            st.button(_("signin.oidc_sign_out"), key="oidc_logout", on_click=st.logout)
            return
    st.rerun()


def page(farmer: st.Page | None = None) -> None:
    ctx = context.current()
    lang = i18n.current()
    _ = i18n.Words(lang)
    i18n.apply_style(lang)
    i18n.switch(lang)
    st.title(_("signin.title"))
    st.caption(_("signin.caption"))
    _notice(lang)
    try:
        how = auth.mode()
    except ValueError as exc:
        st.error(str(exc))
        return
    left, _right = st.columns([2, 3])
    with left:
        if how == "oidc":
            _oidc(ctx.url, lang)
        else:
            _local(ctx.url, lang)
        if farmer is not None:
            st.divider()
            st.markdown(_("signin.landowner"))
            st.page_link(farmer, label=_("signin.farmer_nav"), icon=":material/agriculture:")
