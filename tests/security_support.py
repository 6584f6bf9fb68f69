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
_BASE = load_settings()
"""The settings of the test run, read before any test points LANDGOV_DATABASE_URL at its
own database (the owner's and superuser's credentials come from here)."""
_cache: dict[tuple[str, str], Actor] = {}
_secrets: dict[tuple[str, str], str] = {}


def owner_engine(engine: Engine) -> Engine:
    """The owner role's engine of ``engine``'s database (seeding fixtures, DDL checks)."""
    return get_engine(_BASE, str(engine.url.database), "owner")


def superuser_engine(engine: Engine) -> Engine:
    """The superuser's engine of ``engine``'s database (what a superuser can do)."""
    return get_engine(_BASE, str(engine.url.database), "superuser")


_owner = owner_engine


def secrets_dir(engine: Engine) -> Path:
    """Where the service keys of ``engine``'s database live during the tests."""
    return _BASE.home / "test-secrets" / str(engine.url.database)


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
    ``roles``), created if missing, signed in with password and TOTP.

    An account that exists already (the demo makes its officers' and staff accounts) is
    taken over for the test: its password and TOTP secret are set to known ones with the
    owner role, as an administrator's reset would.
    """
    key = (str(engine.url.database), username)
    if key in _cache:
        return _cache[key]
    with _owner(engine).begin() as conn:
        officer_id = None
        if officer_cnic is not None:
            officer_id = conn.execute(
                text("SELECT id FROM officer WHERE cnic = :c"), {"c": officer_cnic}
            ).scalar_one()
        exists = conn.execute(
            text(
                "SELECT username, totp_secret FROM app_user"
                " WHERE username = :u OR (CAST(:o AS bigint) IS NOT NULL AND officer_id = :o)"
            ),
            {"u": username, "o": officer_id},
        ).one_or_none()
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
            username, secret = exists
            if secret is None or (str(engine.url.database), username) not in _secrets:
                secret = secret or new_totp_secret()
                conn.execute(
                    text(
                        "UPDATE app_user SET password_hash = :p, totp_secret = :t,"
                        " failed_logins = 0, locked_until = NULL WHERE username = :u"
                    ),
                    {"p": _password_hash(), "t": secret, "u": username},
                )
    _secrets[(str(engine.url.database), username)] = secret
    _secrets[key] = secret  # also under the name asked for
    actor = sign_in(engine, username, PASSWORD, secret)
    _cache[key] = actor
    return actor


def sign_in(engine: Engine, username: str, password: str, secret: str | None) -> Actor:
    """A new sign-in of ``username`` with ``password`` and, given the TOTP ``secret``, the
    code of the first time step the account has not used (a code is spent once used, and
    a copied database keeps its last step), through the real :func:`login`."""
    with owner_engine(engine).connect() as conn:
        last = conn.execute(
            text("SELECT totp_last_step FROM app_user WHERE username = :u"), {"u": username}
        ).scalar()
    at = max(time.time(), ((last or 0) + 1) * totp.STEP_SECONDS)
    code = code_for(secret, at) if secret else None
    return login(engine, username, password, code, channel="cli", now=at)


_hash: list[str] = []


def _password_hash() -> str:
    from landgov.security.passwords import hash_password

    if not _hash:
        _hash.append(hash_password(PASSWORD))
    return _hash[0]


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
    return person_actor(engine, f"test.{role.replace('_', '.')}", roles=[role])


__all__ = [
    "PASSWORD",
    "code_for",
    "new_totp_secret",
    "officer_actor",
    "owner_engine",
    "person_actor",
    "secrets_dir",
    "service_actor",
    "sign_in",
    "staff_actor",
    "superuser_engine",
    "totp_secret",
]
