"""Dashboard sign-in through OpenID Connect: the identity a provider vouches for mapped to
a local account (app/shared/auth.py), against the real database.

No provider runs in the tests: ``st.user`` is stood in by a plain object holding the
claims a provider's identity token would (the mapping reads nothing else), and the
accounts, the ``login_attempt`` rows and the sessions are real.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from dashboard_support import DASHBOARD, TinyHistory, database_url, insert_tiny_history, owner
from security_support import officer_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import auth
from landgov.errors import AuthenticationFailed
from landgov.security import authenticate
from landgov.security.sessions import FAILED

ISSUER = "https://login.revenue.example.gov.pk/realms/punjab"
PointAt = Callable[[str], None]


@dataclass
class FakeUser:
    """What ``st.user`` holds after ``st.login()``: the identity token's claims."""

    sub: str | None = None
    iss: str | None = ISSUER
    email: str | None = None
    email_verified: bool | None = None
    amr: list[str] = field(default_factory=list)
    exp: float | None = None
    is_logged_in: bool = True


def link(engine: Engine, username: str, subject: str) -> None:
    """What an administrator does to let a person sign in through the provider."""
    with owner(engine).begin() as conn:
        conn.execute(
            text("UPDATE app_user SET oidc_subject = :s WHERE username = :u"),
            {"s": subject, "u": username},
        )


def attempts(engine: Engine) -> list[tuple[Any, ...]]:
    with owner(engine).connect() as conn:
        return [
            tuple(r)
            for r in conn.execute(
                text(
                    "SELECT username, ok, reason FROM login_attempt WHERE channel = 'oidc'"
                    " ORDER BY id"
                )
            ).all()
        ]


def test_issuer_and_subject_map_to_the_linked_account(engine: Engine) -> None:
    analyst = staff_actor(engine, "revenue_analyst")
    link(engine, analyst.username, f"{ISSUER}#4f1c-77aa")
    actor = auth.oidc_sign_in(engine, FakeUser(sub="4f1c-77aa", exp=time.time() + 300))
    assert (actor.username, actor.roles) == (analyst.username, frozenset({"revenue_analyst"}))
    assert actor.second_factor is False
    assert authenticate(engine, actor.token).user_id == actor.user_id  # a live session
    with owner(engine).connect() as conn:
        channel = conn.execute(
            text("SELECT channel FROM user_session WHERE id = :s"), {"s": actor.session_id}
        ).scalar_one()
    assert channel == "oidc"
    assert attempts(engine) == [(analyst.username, True, "signed in")]


def test_a_verified_email_maps_and_an_unverified_one_does_not(engine: Engine) -> None:
    auditor = staff_actor(engine, "auditor")
    link(engine, auditor.username, "auditor@revenue.example.gov.pk")
    user = FakeUser(sub="someone-else", email="Auditor@Revenue.example.gov.pk",
                    email_verified=True)  # fmt: skip
    assert auth.oidc_sign_in(engine, user).username == auditor.username
    unverified = FakeUser(sub="someone-else", email=user.email, email_verified=False)
    with pytest.raises(AuthenticationFailed, match="no landgov account is linked"):
        auth.oidc_sign_in(engine, unverified)


def test_an_unknown_identity_is_refused_and_recorded(engine: Engine) -> None:
    staff_actor(engine, "revenue_analyst")  # an account exists, but is not linked
    with pytest.raises(AuthenticationFailed, match=f"linked to {ISSUER}#nobody"):
        auth.oidc_sign_in(engine, FakeUser(sub="nobody"))
    assert attempts(engine) == [(f"{ISSUER}#nobody", False, "no linked account")]


def test_an_expired_token_or_a_signed_out_user_is_refused(engine: Engine) -> None:
    analyst = staff_actor(engine, "revenue_analyst")
    link(engine, analyst.username, f"{ISSUER}#abc")
    with pytest.raises(AuthenticationFailed, match="has expired"):
        auth.oidc_sign_in(engine, FakeUser(sub="abc", exp=time.time() - 1))
    with pytest.raises(AuthenticationFailed, match="sign in with your identity provider"):
        auth.oidc_sign_in(engine, FakeUser(sub="abc", is_logged_in=False))


def test_a_deciding_officer_needs_the_providers_second_factor(engine: Engine) -> None:
    history: TinyHistory = insert_tiny_history(engine)
    tehsildar = officer_actor(engine, history.officers["tehsildar"])
    link(engine, tehsildar.username, f"{ISSUER}#t-1")
    with pytest.raises(AuthenticationFailed, match="second factor"):
        auth.oidc_sign_in(engine, FakeUser(sub="t-1", amr=["pwd"]))
    actor = auth.oidc_sign_in(engine, FakeUser(sub="t-1", amr=["pwd", "mfa"]))
    assert actor.second_factor and "tehsildar" in actor.roles
    assert [a[1:] for a in attempts(engine)] == [
        (False, "second factor required but not reported by the provider (amr)"),
        (True, "signed in"),
    ]


def test_a_disabled_account_is_refused_like_any_failure(engine: Engine) -> None:
    analyst = staff_actor(engine, "revenue_analyst")
    link(engine, analyst.username, f"{ISSUER}#gone")
    with owner(engine).begin() as conn:
        conn.execute(
            text("UPDATE app_user SET disabled_at = now() WHERE username = :u"),
            {"u": analyst.username},
        )
    with pytest.raises(AuthenticationFailed) as refused:
        auth.oidc_sign_in(engine, FakeUser(sub="gone"))
    assert str(refused.value) == FAILED


def test_the_sign_in_mode_comes_from_landgov_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LANDGOV_AUTH", raising=False)
    assert auth.mode() == "local"
    monkeypatch.setenv("LANDGOV_AUTH", "OIDC")
    assert auth.mode() == "oidc"
    monkeypatch.setenv("LANDGOV_AUTH", "ldap")
    with pytest.raises(ValueError, match="LANDGOV_AUTH='ldap' is not a sign-in mode"):
        auth.mode()


def test_with_oidc_unconfigured_the_sign_in_page_says_what_is_missing(
    engine: Engine, point_app_at: PointAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without Authlib or an [auth] section there is no provider to send anyone to: the
    page says which is missing (and offers no password form instead)."""
    monkeypatch.setenv("LANDGOV_AUTH", "oidc")
    point_app_at(database_url(engine))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    (error,) = [el.value for el in at.error]
    assert error.startswith("LANDGOV_AUTH=oidc needs ")
    assert not [w for w in at.text_input if w.key == "signin_password"]
    assert not at.get("deck_gl_json_chart")


def test_with_oidc_configured_the_sign_in_page_offers_the_provider(
    engine: Engine, point_app_at: PointAt, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.shared import signin

    monkeypatch.setenv("LANDGOV_AUTH", "oidc")
    monkeypatch.setattr(signin, "oidc_problem", lambda: None)  # as with [auth] and Authlib
    point_app_at(database_url(engine))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.button(key="oidc_login").label == "Sign in"
    assert not [w for w in at.text_input if w.key == "signin_password"]
    assert not at.get("deck_gl_json_chart")
