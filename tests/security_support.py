"""Signed-in actors for tests: real accounts and real sessions, nothing faked.

Accounts are created with the owner role (as an administrator's command would), then
signed in through :func:`landgov.security.sessions.login` with the password and a TOTP
code computed from the account's secret, or through the service key for batch services.
Actors are cached per database and username: a session lives for the test run.
"""

from __future__ import annotations

import time
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.config import load_settings
from landgov.domain import totp
from landgov.security import Actor, login, service_login
from landgov.security.accounts import create_person, new_totp_secret, provision_services
from landgov.storage.engine import get_engine

PASSWORD = "correct horse battery staple 42"
_cache: dict[tuple[str, str], Actor] = {}
_secrets: dict[tuple[str, str], str] = {}


def _owner(engine: Engine) -> Engine:
    return get_engine(load_settings(), str(engine.url.database), "owner")


def secrets_dir(engine: Engine) -> Path:
    """Where the service keys of ``engine``'s database live during the tests."""
    return load_settings().home / "test-secrets" / str(engine.url.database)


def service_actor(engine: Engine, name: str) -> Actor:
    """The batch service ``name`` (demo, disputes, valuation...) signed in with its key."""
    key = (str(engine.url.database), f"service:{name}")
    if key not in _cache:
        folder = secrets_dir(engine)
        provision_services(_owner(engine), folder)
        secret = (folder / "services" / f"{name}.key").read_text(encoding="utf-8")
        _cache[key] = service_login(engine, name, secret)
    return _cache[key]


def totp_secret(engine: Engine, username: str) -> str | None:
    return _secrets.get((str(engine.url.database), username))


def code_for(secret: str, at: float | None = None) -> str:
    """The TOTP code of ``secret`` now (or at ``at``)."""
    return totp.totp(secret, time.time() if at is None else at)


def person_actor(
    engine: Engine,
    username: str,
    *,
    officer_cnic: str | None = None,
    roles: list[str] | None = None,
    full_name: str | None = None,
) -> Actor:
    """A person's account (bound to the officer with ``officer_cnic`` and/or holding
    ``roles``), created if missing, signed in with password and TOTP."""
    key = (str(engine.url.database), username)
    if key in _cache:
        return _cache[key]
    with _owner(engine).begin() as conn:
        exists = conn.execute(
            text("SELECT totp_secret, totp_last_step FROM app_user WHERE username = :u"),
            {"u": username},
        ).one_or_none()
        last = None
        if exists is None:
            secret = new_totp_secret()
            create_person(
                conn,
                username=username,
                full_name=full_name or username.replace(".", " ").title(),
                officer_cnic=officer_cnic,
                roles=roles,
                password=PASSWORD,
                totp_secret=secret,
            )
        else:
            secret, last = exists
    _secrets[key] = secret
    # a code is spent once used (a copied database keeps its last step): sign in at the
    # first step after the last one used
    at = max(time.time(), ((last or 0) + 1) * totp.STEP_SECONDS)
    actor = login(engine, username, PASSWORD, code_for(secret, at), channel="cli", now=at)
    _cache[key] = actor
    return actor


def officer_actor(engine: Engine, officer_cnic: str) -> Actor:
    """The signed-in account of the officer with ``officer_cnic`` (made if missing)."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT id, name FROM officer WHERE cnic = :c"), {"c": officer_cnic}
        ).one()
    return person_actor(engine, f"officer.{row.id}", officer_cnic=officer_cnic,
                        full_name=str(row.name))  # fmt: skip


def staff_actor(engine: Engine, role: str) -> Actor:
    """A signed-in account holding the one staff role ``role``."""
    return person_actor(engine, role.replace("_", "."), roles=[role])


__all__ = [
    "PASSWORD",
    "code_for",
    "new_totp_secret",
    "officer_actor",
    "person_actor",
    "secrets_dir",
    "service_actor",
    "staff_actor",
    "totp_secret",
]
