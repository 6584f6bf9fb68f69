"""Accounts: people bound to officer postings, staff roles, batch services.

An administrator (``accounts.manage``) adds, lists, disables accounts, resets passwords
and grants or ends roles; every change is one transaction with one audit row naming the
administrator. An officer's account is bound to the ``officer`` row of the records, so its
designation and valid-dated postings (``officer_jurisdiction``) are the ones the
sanctioning rules already use; nothing about jurisdiction is copied into the account.

Two bootstrap paths need no signed-in administrator, only the database owner's
credentials (OS access to ``$LANDGOV_HOME/secrets``): :func:`provision_services` (the
batch jobs' accounts and key files, at ``landgov db migrate``) and
:func:`bootstrap_administrator` (the first administrator, when there is none).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain.cnic import validate_cnic as normalize_cnic
from landgov.errors import AccessDenied, DomainError
from landgov.security import passwords, policy
from landgov.security.actor import Actor
from landgov.security.sessions import bind, token_hash
from landgov.storage.audit import append as audit_append

SERVICES: Final[dict[str, str]] = {
    "demo": "svc_demo",
    "disputes": "svc_disputes",
    "valuation": "svc_valuation",
    "advisories": "svc_advisories",
    "imagery": "svc_imagery",
    "models": "svc_models",
    "audit": "svc_audit",
}
"""Service account name -> its one role."""


class AccountError(DomainError):
    """An account cannot be created or changed as asked (unknown officer, taken name...)."""


@dataclass(frozen=True)
class NewAccount:
    """What an administrator hands to the new user, once: never stored in clear."""

    user_id: int
    username: str
    password: str
    totp_secret: str | None


def new_totp_secret() -> str:
    """A random 160-bit base32 TOTP secret (RFC 4226 §4 recommends 160 bits)."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _require_admin(actor: Actor) -> None:
    policy.check_role(actor.roles, "accounts.manage", actor.display)
    if not actor.second_factor:
        raise AccessDenied("second_factor", "managing accounts needs a session opened with TOTP")


def _user_id(conn: Connection, username: str) -> int:
    found = conn.execute(
        text("SELECT id FROM app_user WHERE username = :n"), {"n": username.strip().lower()}
    ).scalar_one_or_none()
    if found is None:
        raise AccountError(f"no account named {username.strip()!r}")
    return int(found)


def _check_roles(roles: list[str]) -> None:
    for role in roles:
        if role not in policy.STAFF_ROLES:
            raise AccountError(
                f"unknown role {role!r}: a person's stored roles are "
                + ", ".join(policy.STAFF_ROLES)
                + " (officer roles come from the officer's designation and postings)"
            )


def create_person(
    conn: Connection,
    *,
    username: str,
    full_name: str,
    cnic: str | None = None,
    officer_cnic: str | None = None,
    roles: list[str] | None = None,
    granted_by: int | None = None,
    on: date | None = None,
    password: str | None = None,
    totp_secret: str | None = None,
) -> NewAccount:
    """Inserts a person's account in the caller's transaction (no permission check:
    callers check). An officer account is bound by the officer's CNIC."""
    name = username.strip().lower()
    roles = list(roles or [])
    _check_roles(roles)
    officer_id = None
    designation = None
    if officer_cnic is not None:
        row = conn.execute(
            text("SELECT id, designation, name FROM officer WHERE cnic = :c"),
            {"c": normalize_cnic(officer_cnic)},
        ).one_or_none()
        if row is None:
            raise AccountError(f"no officer with CNIC {officer_cnic.strip()} in the records")
        officer_id, designation = int(row.id), str(row.designation)
        cnic = cnic or normalize_cnic(officer_cnic)
    if officer_id is None and not roles:
        raise AccountError("an account needs an officer posting (--officer) or a role (--role)")
    if conn.execute(text("SELECT 1 FROM app_user WHERE username = :n"), {"n": name}).first():
        raise AccountError(f"the username {name!r} is taken")
    if (
        officer_id is not None
        and conn.execute(
            text("SELECT 1 FROM app_user WHERE officer_id = :o"), {"o": officer_id}
        ).first()
    ):
        raise AccountError(f"officer {officer_cnic} already has an account")
    password = password or passwords.generate_password()
    passwords.check_strength(password, name)
    all_roles = policy.roles_of(designation, roles)
    secret = totp_secret or (new_totp_secret() if policy.needs_second_factor(all_roles) else None)
    user_id = conn.execute(
        text(
            "INSERT INTO app_user (username, kind, full_name, cnic, officer_id, password_hash,"
            " totp_secret, must_change_password) VALUES (:n, 'person', :f, :c, :o, :p, :t,"
            " true) RETURNING id"
        ),
        {
            "n": name,
            "f": full_name.strip(),
            "c": normalize_cnic(cnic) if cnic else None,
            "o": officer_id,
            "p": passwords.hash_password(password),
            "t": secret,
        },
    ).scalar_one()
    for role in roles:
        conn.execute(
            text(
                "INSERT INTO user_role (user_id, role, valid_from, granted_by)"
                " VALUES (:u, :r, coalesce(:d, current_date), :g)"
            ),
            {"u": user_id, "r": role, "d": on, "g": granted_by},
        )
    return NewAccount(int(user_id), name, password, secret)


def add_user(
    engine: Engine,
    actor: Actor,
    *,
    username: str,
    full_name: str,
    cnic: str | None = None,
    officer_cnic: str | None = None,
    roles: list[str] | None = None,
    totp: bool = False,
) -> NewAccount:
    """An administrator creates an account; returns the one-time password (and the TOTP
    secret when the roles need a second factor, or ``totp`` asks for one).

    Raises:
        AccessDenied: the actor is not an administrator signed in with TOTP.
        AccountError, InvalidCNIC: the account cannot be made as asked.
    """
    _require_admin(actor)
    with engine.begin() as conn:
        bind(conn, actor)
        made = create_person(
            conn,
            username=username,
            full_name=full_name,
            cnic=cnic,
            officer_cnic=officer_cnic,
            roles=roles,
            granted_by=actor.user_id,
            totp_secret=new_totp_secret() if totp else None,
        )
        audit_append(
            conn, actor=actor.label, action="account.add", entity="app_user",
            entity_id=str(made.user_id),
            details={"username": made.username, "roles": roles or [],
                     "officer_cnic": officer_cnic, "second_factor": made.totp_secret is not None},
        )  # fmt: skip
    return made


@dataclass(frozen=True)
class AccountRow:
    username: str
    kind: str
    full_name: str
    roles: tuple[str, ...]
    officer: str | None
    second_factor: bool
    disabled: bool
    locked_until: object


def list_users(engine: Engine, actor: Actor) -> list[AccountRow]:
    """Every account with its roles today (administrators and auditors)."""
    if not (actor.has("accounts.manage") or actor.has("audit.read")):
        policy.check_role(actor.roles, "accounts.manage", actor.display)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT u.username, u.kind, u.full_name, o.designation,"
                " o.name || ' (' || o.designation || ')' AS officer,"
                " u.totp_secret IS NOT NULL, u.disabled_at IS NOT NULL, u.locked_until,"
                " coalesce(array_agg(r.role ORDER BY r.role) FILTER (WHERE r.role IS NOT NULL),"
                "  '{}')"
                " FROM app_user u LEFT JOIN officer o ON o.id = u.officer_id"
                " LEFT JOIN user_role r ON r.user_id = u.id AND r.valid_from <= current_date"
                "  AND (r.valid_to IS NULL OR r.valid_to > current_date)"
                " GROUP BY u.id, o.id ORDER BY u.kind, u.username"
            )
        ).all()
    return [
        AccountRow(
            r[0], r[1], r[2], tuple(sorted(policy.roles_of(r[3], r[8]))), r[4], r[5], r[6], r[7]
        )
        for r in rows
    ]


def disable(engine: Engine, actor: Actor, username: str) -> None:
    """Disables an account and ends its sessions at once."""
    _require_admin(actor)
    with engine.begin() as conn:
        bind(conn, actor)
        uid = _user_id(conn, username)
        if uid == actor.user_id:
            raise AccountError("an administrator cannot disable his own account")
        conn.execute(
            text("UPDATE app_user SET disabled_at = clock_timestamp() WHERE id = :u"), {"u": uid}
        )
        conn.execute(
            text(
                "UPDATE user_session SET revoked_at = clock_timestamp()"
                " WHERE user_id = :u AND revoked_at IS NULL"
            ),
            {"u": uid},
        )
        audit_append(conn, actor=actor.label, action="account.disable", entity="app_user",
                     entity_id=str(uid), details={"username": username})  # fmt: skip


def reset_password(
    engine: Engine, actor: Actor, username: str, *, totp: bool = False
) -> NewAccount:
    """A new one-time password (and a new TOTP secret with ``totp``); unlocks the account
    and ends its sessions."""
    _require_admin(actor)
    with engine.begin() as conn:
        bind(conn, actor)
        uid = _user_id(conn, username)
        password = passwords.generate_password()
        secret = new_totp_secret() if totp else None
        conn.execute(
            text(
                "UPDATE app_user SET password_hash = :p, must_change_password = true,"
                " failed_logins = 0, locked_until = NULL,"
                " totp_secret = coalesce(CAST(:t AS text), totp_secret),"
                " totp_last_step = CASE WHEN CAST(:t AS text) IS NULL THEN totp_last_step END"
                " WHERE id = :u AND kind = 'person'"
            ),
            {"p": passwords.hash_password(password), "t": secret, "u": uid},
        )
        conn.execute(
            text("UPDATE user_session SET revoked_at = clock_timestamp()"
                 " WHERE user_id = :u AND revoked_at IS NULL"),
            {"u": uid},
        )  # fmt: skip
        audit_append(conn, actor=actor.label, action="account.reset_password",
                     entity="app_user", entity_id=str(uid),
                     details={"username": username, "new_totp": totp})  # fmt: skip
    return NewAccount(uid, username, password, secret)


def set_roles(
    engine: Engine,
    actor: Actor,
    username: str,
    *,
    grant: list[str] | None = None,
    end: list[str] | None = None,
    on: date | None = None,
) -> None:
    """Grants roles from ``on`` (default today) and ends others on ``on``."""
    _require_admin(actor)
    grant, end = list(grant or []), list(end or [])
    _check_roles(grant + end)
    with engine.begin() as conn:
        bind(conn, actor)
        uid = _user_id(conn, username)
        for role in grant:
            conn.execute(
                text(
                    "INSERT INTO user_role (user_id, role, valid_from, granted_by)"
                    " SELECT :u, :r, coalesce(:d, current_date), :g WHERE NOT EXISTS ("
                    " SELECT 1 FROM user_role WHERE user_id = :u AND role = :r"
                    " AND (valid_to IS NULL OR valid_to > coalesce(:d, current_date)))"
                ),
                {"u": uid, "r": role, "d": on, "g": actor.user_id},
            )
        for role in end:
            conn.execute(
                text(
                    "UPDATE user_role SET valid_to = coalesce(:d, current_date)"
                    " WHERE user_id = :u AND role = :r AND valid_to IS NULL"
                    " AND valid_from < coalesce(:d, current_date)"
                ),
                {"u": uid, "r": role, "d": on},
            )
        audit_append(conn, actor=actor.label, action="account.roles", entity="app_user",
                     entity_id=str(uid),
                     details={"username": username, "grant": grant, "end": end,
                              "on": on})  # fmt: skip


def service_key_path(secrets_dir: Path, name: str) -> Path:
    return secrets_dir / "services" / f"{name}.key"


def provision_services(owner_engine: Engine, secrets_dir: Path) -> list[str]:
    """Creates the batch services' accounts and key files that are missing (run with the
    owner's credentials at ``landgov db migrate``); returns the names provisioned.

    A key file that exists is kept when its hash matches the database; otherwise a new
    key replaces both (the database is the one that changed, e.g. a fresh demo database).
    """
    from landgov.storage.cluster import write_private

    made: list[str] = []
    with owner_engine.begin() as conn:
        for name, role in SERVICES.items():
            path = service_key_path(secrets_dir, name)
            row = conn.execute(
                text("SELECT id, key_hash FROM app_user WHERE username = :n"), {"n": name}
            ).one_or_none()
            key = path.read_text(encoding="utf-8").strip() if path.exists() else None
            if row is not None and key is not None and row.key_hash == token_hash(key):
                continue
            key = secrets.token_urlsafe(32)
            if row is None:
                uid = conn.execute(
                    text(
                        "INSERT INTO app_user (username, kind, full_name, key_hash)"
                        " VALUES (:n, 'service', :f, :k) RETURNING id"
                    ),
                    {"n": name, "f": f"landgov {name} batch service", "k": token_hash(key)},
                ).scalar_one()
                conn.execute(
                    text(
                        "INSERT INTO user_role (user_id, role, valid_from)"
                        " VALUES (:u, :r, DATE '2000-01-01')"
                    ),
                    {"u": uid, "r": role},
                )
            else:
                conn.execute(
                    text("UPDATE app_user SET key_hash = :k WHERE id = :u"),
                    {"k": token_hash(key), "u": row.id},
                )
            write_private(path, key + "\n")
            made.append(name)
    return made


def bootstrap_administrator(
    owner_engine: Engine, *, username: str, full_name: str, cnic: str | None = None
) -> NewAccount:
    """The first administrator, made with the owner's credentials when none exists.

    Raises:
        AccountError: an administrator exists already (use ``landgov users add``).
    """
    with owner_engine.begin() as conn:
        exists = conn.execute(
            text(
                "SELECT 1 FROM user_role r JOIN app_user u ON u.id = r.user_id"
                " WHERE r.role = 'administrator' AND u.disabled_at IS NULL"
                " AND (r.valid_to IS NULL OR r.valid_to > current_date)"
            )
        ).first()
        if exists:
            raise AccountError(
                "an administrator exists already: sign in as one and use 'landgov users add'"
            )
        made = create_person(
            conn, username=username, full_name=full_name, cnic=cnic, roles=["administrator"]
        )
        audit_append(conn, actor="db:owner", action="account.bootstrap", entity="app_user",
                     entity_id=str(made.user_id), details={"username": made.username})  # fmt: skip
    return made


def link_oidc(engine: Engine, actor: Actor, username: str, subject: str | None) -> None:
    """Links a person's account to an OpenID Connect identity (``<issuer>#<sub>`` or a
    verified e-mail address), or unlinks it with None; the dashboard's ``LANDGOV_AUTH=oidc``
    sign-in then opens this account for that identity."""
    _require_admin(actor)
    value = None if subject is None else subject.strip()
    if value is not None and ("#" not in value and "@" not in value):
        raise AccountError(f"{subject!r} is neither '<issuer>#<sub>' nor an e-mail address")
    with engine.begin() as conn:
        bind(conn, actor)
        uid = _user_id(conn, username)
        taken = conn.execute(
            text("SELECT username FROM app_user WHERE oidc_subject = :s AND id <> :u"),
            {"s": value, "u": uid},
        ).scalar_one_or_none()
        if taken is not None:
            raise AccountError(f"{value} is linked to the account {taken!r} already")
        conn.execute(
            text("UPDATE app_user SET oidc_subject = :s WHERE id = :u AND kind = 'person'"),
            {"s": value, "u": uid},
        )
        audit_append(conn, actor=actor.label, action="account.link_oidc", entity="app_user",
                     entity_id=str(uid), details={"username": username,
                                                  "oidc_subject": value})  # fmt: skip


def change_password(engine: Engine, actor: Actor, current: str, new: str) -> None:
    """The signed-in person changes his own password (checking the current one first);
    every other session of the account ends.

    Raises:
        AccessDenied: the current password is wrong (rule ``password``).
        WeakPassword: the new one breaks the password rule.
    """
    if actor.kind != "person":
        raise AccountError("a service has a key, not a password")
    passwords.check_strength(new, actor.username)
    with engine.begin() as conn:
        bind(conn, actor)
        stored = conn.execute(
            text("SELECT password_hash FROM app_user WHERE id = :u FOR UPDATE"),
            {"u": actor.user_id},
        ).scalar_one()
        if not passwords.verify_password(stored, current):
            raise AccessDenied("password", "the current password is not right")
        if passwords.verify_password(stored, new):
            raise passwords.WeakPassword("the new password must differ from the current one")
        conn.execute(
            text(
                "UPDATE app_user SET password_hash = :p, must_change_password = false WHERE id = :u"
            ),
            {"p": passwords.hash_password(new), "u": actor.user_id},
        )
        conn.execute(
            text(
                "UPDATE user_session SET revoked_at = clock_timestamp()"
                " WHERE user_id = :u AND id <> :s AND revoked_at IS NULL"
            ),
            {"u": actor.user_id, "s": actor.session_id},
        )
        audit_append(conn, actor=actor.label, action="account.change_password",
                     entity="app_user", entity_id=str(actor.user_id),
                     details={"username": actor.username})  # fmt: skip
