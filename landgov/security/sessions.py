"""Sign-in, sessions and binding the actor to a transaction.

Sign-in (:func:`login`): username + password (argon2id) + a TOTP code for the roles that
need one (:data:`landgov.security.policy.SECOND_FACTOR_ROLES`). Failures count per
account; after ``lockout_threshold`` in a row the account locks for
``lockout_base_seconds``, doubling with each further failure up to
``lockout_max_seconds`` (settings in ``security_setting``). Every attempt is a
``login_attempt`` row. Whatever failed, the caller hears the same words.

Sessions: a random 256-bit token, stored only as its SHA-256; it ends when unused for
``session_idle_minutes`` or ``session_absolute_minutes`` after sign-in (CLI tokens:
``cli_token_minutes``), or at logout. :func:`authenticate` turns a token back into an
:class:`~landgov.security.actor.Actor` and extends the idle time.

Services (batch jobs) sign in with a key instead (:func:`service_login`); the key file
lives under ``$LANDGOV_HOME/secrets/services`` (0600), so running a batch job needs the OS
rights on that directory, and the database keeps only the key's SHA-256.

Binding (:func:`bind`): every transaction that changes the record first calls
``landgov_act_as(token)``; the database checks the token again and from then on knows the
actor for row-level security and the audit triggers (``sql/018_security.sql``).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from datetime import datetime
from typing import Final, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain import totp
from landgov.errors import AuthenticationFailed
from landgov.security import passwords, policy
from landgov.security.actor import Actor

Channel = Literal["dashboard", "cli", "service", "oidc"]
FAILED: Final = "sign-in failed: wrong username, password or code, or the account is locked"
"""The one answer to every failed sign-in."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def setting(conn: Connection, name: str) -> int:
    """A ``security_setting`` value."""
    value = conn.execute(
        text("SELECT value FROM security_setting WHERE name = :n"), {"n": name}
    ).scalar_one_or_none()
    if value is None:
        raise KeyError(f"no security setting {name!r}")
    return int(value)


def roles_of_user(conn: Connection, user_id: int, designation: str | None) -> frozenset[str]:
    """Every role of account ``user_id`` valid today (its officer's designation and the
    stored roles)."""
    return _roles(conn, user_id, designation)


def _roles(conn: Connection, user_id: int, designation: str | None) -> frozenset[str]:
    stored = conn.execute(
        text(
            "SELECT role FROM user_role WHERE user_id = :u AND valid_from <= current_date"
            " AND (valid_to IS NULL OR valid_to > current_date)"
        ),
        {"u": user_id},
    ).scalars()
    return policy.roles_of(designation, stored)


_USER_SQL: Final = (
    "SELECT u.id, u.username, u.kind, u.full_name, u.cnic, u.officer_id, o.designation,"
    " u.password_hash, u.totp_secret, u.totp_last_step, u.failed_logins, u.locked_until,"
    " u.disabled_at, u.key_hash, clock_timestamp() AS now"
    " FROM app_user u LEFT JOIN officer o ON o.id = u.officer_id"
)


def _open_session(
    conn: Connection, row: object, channel: Channel, second_factor: bool, minutes: int | None
) -> Actor:
    user_id = int(row.id)  # type: ignore[attr-defined]
    token = secrets.token_urlsafe(32)
    idle = setting(conn, "session_idle_minutes")
    absolute = minutes if minutes is not None else setting(conn, "session_absolute_minutes")
    session_id = conn.execute(
        text(
            "INSERT INTO user_session (user_id, token_hash, channel, second_factor,"
            " idle_expires_at, expires_at) VALUES (:u, :h, :c, :f,"
            " least(clock_timestamp() + make_interval(mins => :idle),"
            "       clock_timestamp() + make_interval(mins => :abs)),"
            " clock_timestamp() + make_interval(mins => :abs)) RETURNING id"
        ),
        {
            "u": user_id,
            "h": token_hash(token),
            "c": channel,
            "f": second_factor,
            "idle": idle if channel not in ("cli", "service") else absolute,
            "abs": absolute,
        },
    ).scalar_one()
    designation = row.designation  # type: ignore[attr-defined]
    return Actor(
        user_id=user_id,
        username=str(row.username),  # type: ignore[attr-defined]
        kind=row.kind,  # type: ignore[attr-defined]
        full_name=str(row.full_name),  # type: ignore[attr-defined]
        roles=_roles(conn, user_id, designation),
        officer_id=row.officer_id,  # type: ignore[attr-defined]
        designation=designation,
        cnic=row.cnic,  # type: ignore[attr-defined]
        session_id=int(session_id),
        second_factor=second_factor,
        token=token,
    )


def _attempt(
    conn: Connection, username: str, user_id: int | None, channel: str, ok: bool, reason: str
) -> None:
    conn.execute(
        text(
            "INSERT INTO login_attempt (username, user_id, channel, ok, reason)"
            " VALUES (:n, :u, :c, :ok, :r)"
        ),
        {"n": username[:100], "u": user_id, "c": channel, "ok": ok, "r": reason},
    )


def login(
    engine: Engine,
    username: str,
    password: str,
    code: str | None = None,
    *,
    channel: Channel = "dashboard",
    minutes: int | None = None,
    now: float | None = None,
) -> Actor:
    """Signs a person in; returns the actor with a new session.

    ``minutes`` overrides the session's absolute lifetime (the CLI's shorter token);
    ``now`` (unix time) is for tests of the TOTP window.

    Raises:
        AuthenticationFailed: always the same message (:data:`FAILED`), whatever failed.
    """
    name = username.strip().lower()
    with engine.begin() as conn:
        row = conn.execute(
            text(_USER_SQL + " WHERE u.username = :n AND u.kind = 'person' FOR UPDATE OF u"),
            {"n": name},
        ).one_or_none()
        if row is None:
            passwords.verify_password(None, password)  # the same work as a real account
            _attempt(conn, name, None, channel, False, "unknown account")
            conn.commit()
            raise AuthenticationFailed(FAILED)
        reason = _refusal(conn, row, password, code, now)
        if reason is not None:
            _record_failure(conn, row, name, channel, reason)
            conn.commit()
            raise AuthenticationFailed(FAILED)
        roles = _roles(conn, int(row.id), row.designation)
        second = policy.needs_second_factor(roles) or row.totp_secret is not None
        conn.execute(
            text(
                "UPDATE app_user SET failed_logins = 0, locked_until = NULL,"
                " totp_last_step = coalesce(CAST(:step AS bigint), totp_last_step),"
                " password_hash = coalesce(CAST(:rehash AS text), password_hash) WHERE id = :u"
            ),
            {
                "u": row.id,
                "step": _matched_step(row, code, now) if second else None,
                "rehash": passwords.hash_password(password)
                if passwords.needs_rehash(row.password_hash)
                else None,
            },
        )
        _attempt(conn, name, int(row.id), channel, True, "signed in")
        return _open_session(conn, row, channel, second, minutes)


def _matched_step(row: object, code: str | None, now: float | None) -> int | None:
    secret = row.totp_secret  # type: ignore[attr-defined]
    if secret is None or code is None:
        return None
    return totp.verify(
        secret,
        code,
        time.time() if now is None else now,
        last_step=row.totp_last_step,  # type: ignore[attr-defined]
    )


def _refusal(
    conn: Connection, row: object, password: str, code: str | None, now: float | None
) -> str | None:
    """Why the sign-in fails, or None. The password is checked even for a locked or
    disabled account, so timing tells nothing."""
    good_password = passwords.verify_password(row.password_hash, password)  # type: ignore[attr-defined]
    if row.disabled_at is not None:  # type: ignore[attr-defined]
        return "account disabled"
    locked = row.locked_until  # type: ignore[attr-defined]
    if locked is not None and locked > row.now:  # type: ignore[attr-defined]
        return "account locked"
    if not good_password:
        return "wrong password"
    roles = _roles(conn, int(row.id), row.designation)  # type: ignore[attr-defined]
    if policy.needs_second_factor(roles) and row.totp_secret is None:  # type: ignore[attr-defined]
        return "second factor required but not enrolled"
    if row.totp_secret is not None and _matched_step(row, code, now) is None:  # type: ignore[attr-defined]
        return "wrong or reused TOTP code"
    return None


def _record_failure(conn: Connection, row: object, name: str, channel: str, reason: str) -> None:
    # tries while locked are recorded but neither count nor extend the lock
    failures = int(row.failed_logins) + (reason != "account locked")  # type: ignore[attr-defined]
    threshold = setting(conn, "lockout_threshold")
    lock_seconds = None
    if failures >= threshold and reason != "account locked":
        base = setting(conn, "lockout_base_seconds")
        lock_seconds = min(base * 2 ** (failures - threshold), setting(conn, "lockout_max_seconds"))
    conn.execute(
        text(
            "UPDATE app_user SET failed_logins = :f, locked_until = CASE"
            " WHEN CAST(:s AS double precision) IS NULL THEN locked_until"
            " ELSE clock_timestamp() + make_interval(secs => CAST(:s AS double precision)) END"
            " WHERE id = :u"
        ),
        {"f": failures, "s": lock_seconds, "u": row.id},  # type: ignore[attr-defined]
    )
    _attempt(conn, name, int(row.id), channel, False, reason)  # type: ignore[attr-defined]


def oidc_login(engine: Engine, subjects: list[str], *, second_factor: bool) -> Actor:
    """Opens a session (channel ``oidc``) for the local account linked to an identity an
    OpenID Connect provider vouched for: ``subjects`` are what ``app_user.oidc_subject``
    may hold (``<issuer>#<sub>``, then a verified e-mail), ``second_factor`` whether the
    provider reported one (``amr``). The account, its roles and postings stay local.

    Raises:
        AuthenticationFailed: no linked account, disabled or locked, or the account's
            roles need a second factor the provider did not report.
    """
    shown = subjects[0] if subjects else "(no iss/sub or e-mail claim)"
    with engine.begin() as conn:
        row = None
        if subjects:
            row = conn.execute(
                text(
                    _USER_SQL + " WHERE u.oidc_subject = ANY(:s) AND u.kind = 'person'"
                    " ORDER BY array_position(CAST(:s AS text[]), u.oidc_subject)"
                    " LIMIT 1 FOR UPDATE OF u"
                ),
                {"s": subjects},
            ).one_or_none()
        if row is None:
            _attempt(conn, shown[:100], None, "oidc", False, "no linked account")
            conn.commit()
            raise AuthenticationFailed(
                f"no landgov account is linked to {shown}: ask an administrator to link it"
            )
        roles = _roles(conn, int(row.id), row.designation)
        reason = None
        if row.disabled_at is not None:
            reason = "account disabled"
        elif row.locked_until is not None and row.locked_until > row.now:
            reason = "account locked"
        elif policy.needs_second_factor(roles) and not second_factor:
            reason = "second factor required but not reported by the provider (amr)"
        if reason is not None:
            _attempt(conn, str(row.username), int(row.id), "oidc", False, reason)
            conn.commit()
            raise AuthenticationFailed(
                f"sign-in refused for {row.username}: {reason}"
                if reason.startswith("second factor")
                else FAILED
            )
        _attempt(conn, str(row.username), int(row.id), "oidc", True, "signed in")
        return _open_session(conn, row, "oidc", second_factor, None)


def service_login(engine: Engine, name: str, key: str) -> Actor:
    """Signs a batch service in with its key.

    Raises:
        AuthenticationFailed: unknown service, wrong key or disabled.
    """
    with engine.begin() as conn:
        row = conn.execute(
            text(_USER_SQL + " WHERE u.username = :n AND u.kind = 'service'"),
            {"n": name},
        ).one_or_none()
        given = token_hash(key.strip())
        if (
            row is None
            or row.key_hash is None
            or not hmac.compare_digest(row.key_hash, given)
            or row.disabled_at is not None
        ):
            _attempt(conn, name, None if row is None else int(row.id), "service", False,
                     "bad service key")  # fmt: skip
            conn.commit()
            raise AuthenticationFailed(f"service '{name}': its key is not valid")
        _attempt(conn, name, int(row.id), "service", True, "signed in")
        return _open_session(conn, row, "service", False, setting(conn, "cli_token_minutes"))


def authenticate(engine: Engine, token: str | None) -> Actor:
    """The actor of a live session; extends its idle time.

    Raises:
        AuthenticationFailed: no token, or expired, revoked, unknown, or the account is
            disabled.
    """
    if not token:
        raise AuthenticationFailed("not signed in: run 'landgov login' (or sign in)")
    with engine.begin() as conn:
        row = conn.execute(
            text(
                "UPDATE user_session s SET last_seen_at = clock_timestamp(),"
                " idle_expires_at = least(s.expires_at, clock_timestamp() + make_interval("
                "  mins => CASE WHEN s.channel IN ('cli', 'service')"
                "   THEN (SELECT value FROM security_setting WHERE name = 'cli_token_minutes')"
                "   ELSE (SELECT value FROM security_setting WHERE name = 'session_idle_minutes')"
                "  END))"
                " FROM app_user u WHERE s.token_hash = :h AND u.id = s.user_id"
                " AND s.revoked_at IS NULL AND s.expires_at > clock_timestamp()"
                " AND s.idle_expires_at > clock_timestamp() AND u.disabled_at IS NULL"
                " RETURNING s.id, s.user_id, s.second_factor"
            ),
            {"h": token_hash(token)},
        ).one_or_none()
        if row is None:
            raise AuthenticationFailed(
                "your session has ended (expired, signed out or revoked): sign in again"
            )
        user = conn.execute(text(_USER_SQL + " WHERE u.id = :u"), {"u": row.user_id}).one()
    return Actor(
        user_id=int(user.id),
        username=str(user.username),
        kind=user.kind,
        full_name=str(user.full_name),
        roles=_roles_now(engine, int(user.id), user.designation),
        officer_id=user.officer_id,
        designation=user.designation,
        cnic=user.cnic,
        session_id=int(row.id),
        second_factor=bool(row.second_factor),
        token=token,
    )


def _roles_now(engine: Engine, user_id: int, designation: str | None) -> frozenset[str]:
    with engine.connect() as conn:
        return _roles(conn, user_id, designation)


def logout(engine: Engine, token: str) -> None:
    """Ends the session of ``token`` (no error when it has already ended)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE user_session SET revoked_at = clock_timestamp()"
                " WHERE token_hash = :h AND revoked_at IS NULL"
            ),
            {"h": token_hash(token)},
        )


def bind(conn: Connection, actor: Actor) -> None:
    """Tells the database who acts in this transaction (``landgov_act_as``); call it first
    in every transaction that changes the record.

    Raises:
        AuthenticationFailed: the database no longer accepts the session.
    """
    from sqlalchemy.exc import DBAPIError

    try:
        conn.execute(text("SELECT landgov_act_as(:t)"), {"t": actor.token})
    except DBAPIError as exc:
        if getattr(exc.orig, "sqlstate", None) == "28000":
            raise AuthenticationFailed(
                "your session has ended (expired, signed out or revoked): sign in again"
            ) from None
        raise


def expires_at(engine: Engine, actor: Actor) -> datetime:
    """When the actor's session ends at the latest."""
    with engine.connect() as conn:
        value = conn.execute(
            text("SELECT least(idle_expires_at, expires_at) FROM user_session WHERE id = :s"),
            {"s": actor.session_id},
        ).scalar_one()
    return value  # type: ignore[no-any-return]


__all__ = [
    "FAILED",
    "authenticate",
    "bind",
    "expires_at",
    "login",
    "logout",
    "oidc_login",
    "service_login",
    "setting",
    "token_hash",
]
