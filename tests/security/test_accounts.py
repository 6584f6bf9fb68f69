"""Account changes: a person's own password, linking an OpenID Connect identity."""

from __future__ import annotations

import pytest
from security_support import PASSWORD, sign_in, staff_actor, totp_secret
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.errors import AccessDenied, AuthenticationFailed
from landgov.security import Actor, authenticate
from landgov.security.accounts import AccountError, change_password, link_oidc
from landgov.security.passwords import WeakPassword
from landgov.security.sessions import oidc_login

NEW = "a much better passphrase 7"


def _login(engine: Engine, username: str, password: str) -> Actor:
    """Signs in with the account's TOTP code of the next unused step."""
    return sign_in(engine, username, password, totp_secret(engine, username))


def test_a_person_changes_his_password_and_other_sessions_end(engine: Engine) -> None:
    analyst = staff_actor(engine, "revenue_analyst")
    other = _login(engine, analyst.username, PASSWORD)
    with pytest.raises(AccessDenied) as info:
        change_password(engine, analyst, "not my password", NEW)
    assert info.value.rule == "password"
    with pytest.raises(WeakPassword):
        change_password(engine, analyst, PASSWORD, "short")
    with pytest.raises(WeakPassword, match="differ"):
        change_password(engine, analyst, PASSWORD, PASSWORD)
    change_password(engine, analyst, PASSWORD, NEW)
    with pytest.raises(AuthenticationFailed):
        _login(engine, analyst.username, PASSWORD)
    assert _login(engine, analyst.username, NEW).user_id == analyst.user_id
    assert authenticate(engine, analyst.token).user_id == analyst.user_id  # this one stays
    with pytest.raises(AuthenticationFailed):
        authenticate(engine, other.token)
    with engine.connect() as conn:
        flag, actions = conn.execute(
            text(
                "SELECT u.must_change_password, (SELECT array_agg(action) FROM audit_log"
                " WHERE entity = 'app_user') FROM app_user u WHERE u.id = :u"
            ),
            {"u": analyst.user_id},
        ).one()
    assert flag is False and "account.change_password" in actions


def test_only_an_administrator_links_an_identity_and_it_then_signs_in(engine: Engine) -> None:
    admin = staff_actor(engine, "administrator")
    auditor = staff_actor(engine, "auditor")
    with pytest.raises(AccessDenied) as info:
        link_oidc(engine, auditor, auditor.username, "https://idp.example#1")
    assert info.value.rule == "role"
    with pytest.raises(AccountError, match="neither"):
        link_oidc(engine, admin, auditor.username, "just-a-name")
    link_oidc(engine, admin, auditor.username, "https://idp.example#a-77")
    actor = oidc_login(engine, ["https://idp.example#a-77"], second_factor=False)
    assert actor.user_id == auditor.user_id
    with pytest.raises(AccountError, match="linked to the account"):
        link_oidc(engine, admin, admin.username, "https://idp.example#a-77")
    # an administrator needs the provider to report a second factor
    link_oidc(engine, admin, admin.username, "https://idp.example#root")
    with pytest.raises(AuthenticationFailed, match="second factor"):
        oidc_login(engine, ["https://idp.example#root"], second_factor=False)
    link_oidc(engine, admin, auditor.username, None)
    with pytest.raises(AuthenticationFailed, match="no landgov account"):
        oidc_login(engine, ["https://idp.example#a-77"], second_factor=False)
