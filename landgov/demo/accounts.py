"""Login accounts for the demo district: its officers and three staff members.

Every officer of the demo records with a CNIC gets an account bound to his ``officer``
row, so his designation and valid-dated postings decide what he may do and where
(``tehsildar.1``, ``tehsildar.2``... numbered by officer id within each designation;
most have left their postings, the accounts of those posted today are listed first).
Staff: ``admin`` (administrator), ``analyst`` (revenue analyst) and ``auditor``. Each
account has a random password; the roles that need a second factor (deciding officers,
the administrator) a TOTP secret too. Demo accounts do not have to change their password
at first sign-in: the file is their password list.

Everything a person needs to sign in goes to ``<demo_dir>/accounts.txt`` (to read) and
``accounts.json`` (for scripts), both mode 0600 in a 0700 folder
(:func:`landgov.storage.cluster.write_private`); they live under ``$LANDGOV_HOME``, never
in the repository. The database keeps only argon2id hashes.

Idempotent: accounts that exist and are listed in the file are kept as they are; an
account that exists but is missing from the file (the file was deleted, or its TOTP
secret changed) gets a new password, and the file is written again. Accounts are made
by the demo's batch service (capability ``records.load_demo``) in one transaction with
one audit row naming it; passwords never reach the audit log.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain.totp import provisioning_uri
from landgov.errors import LandgovError
from landgov.security import Actor, authorize, bind, passwords, policy
from landgov.security.accounts import create_person
from landgov.storage.audit import append as audit_append
from landgov.storage.cluster import write_private

JSON_NAME: Final = "accounts.json"
TEXT_NAME: Final = "accounts.txt"
STAFF: Final = (
    ("admin", "Demo Administrator", "administrator"),
    ("analyst", "Demo Revenue Analyst", "revenue_analyst"),
    ("auditor", "Demo Auditor", "auditor"),
)
"""Username, full name and the one role of each demo staff account."""
ISSUER: Final = "landgov demo"
_ORDER: Final = {d: i for i, d in enumerate(policy.OFFICER_ROLES)}


class DemoAccountsError(LandgovError):
    """The demo's accounts cannot be made (a username is taken by another account)."""


@dataclass(frozen=True)
class DemoAccount:
    """One demo account as the file lists it."""

    username: str
    full_name: str
    roles: tuple[str, ...]
    jurisdiction: str
    posted_today: bool
    password: str
    totp_secret: str | None
    otpauth_uri: str | None

    def as_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["roles"] = list(self.roles)
        return d


@dataclass(frozen=True)
class _Wanted:
    username: str
    full_name: str
    officer_id: int | None
    officer_cnic: str | None
    roles: tuple[str, ...]
    stored_roles: tuple[str, ...]
    jurisdiction: str
    posted_today: bool


def _postings(conn: Connection, today: date) -> dict[int, tuple[str, bool]]:
    """Officer id -> (a summary of his postings, whether one is valid today)."""
    rows = conn.execute(
        text(
            "SELECT j.officer_id, a.name, a.level, j.valid_from, j.valid_to"
            " FROM officer_jurisdiction j JOIN admin_unit a ON a.id = j.admin_unit_id"
            " ORDER BY j.officer_id, j.valid_from"
        )
    ).all()
    parts: dict[int, list[str]] = {}
    today_posted: set[int] = set()
    for r in rows:
        current = r.valid_from <= today and (r.valid_to is None or r.valid_to > today)
        if current:
            today_posted.add(int(r.officer_id))
        until = "now" if r.valid_to is None or r.valid_to > today else r.valid_to.isoformat()
        place = f"{r.name} {str(r.level).replace('_', ' ')}"
        parts.setdefault(int(r.officer_id), []).append(
            f"{place}, {r.valid_from.isoformat()} to {until}"
        )
    return {o: ("; ".join(p), o in today_posted) for o, p in parts.items()}


def _wanted(conn: Connection) -> list[_Wanted]:
    today = conn.execute(text("SELECT current_date")).scalar_one()
    postings = _postings(conn, today)
    officers = conn.execute(
        text("SELECT id, name, designation, cnic FROM officer WHERE cnic IS NOT NULL ORDER BY id")
    ).all()
    numbered: dict[str, int] = {}
    out: list[_Wanted] = []
    for o in sorted(officers, key=lambda o: (_ORDER.get(o.designation, 99), o.id)):
        n = numbered[o.designation] = numbered.get(o.designation, 0) + 1
        summary, now = postings.get(int(o.id), ("no posting", False))
        out.append(
            _Wanted(
                username=f"{o.designation}.{n}",
                full_name=str(o.name),
                officer_id=int(o.id),
                officer_cnic=str(o.cnic),
                roles=(str(o.designation),),
                stored_roles=(),
                jurisdiction=summary,
                posted_today=now,
            )
        )
    for username, full_name, role in STAFF:
        out.append(
            _Wanted(username, full_name, None, None, (role,), (role,), "whole district", True)
        )
    return out


def read_accounts(demo_dir: Path) -> dict[str, DemoAccount]:
    """The accounts listed in ``<demo_dir>/accounts.json`` (empty if missing or unreadable)."""
    path = Path(demo_dir) / JSON_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        listed = [
            DemoAccount(
                username=str(a["username"]),
                full_name=str(a["full_name"]),
                roles=tuple(a["roles"]),
                jurisdiction=str(a["jurisdiction"]),
                posted_today=bool(a["posted_today"]),
                password=str(a["password"]),
                totp_secret=a.get("totp_secret"),
                otpauth_uri=a.get("otpauth_uri"),
            )
            for a in data["accounts"]
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {a.username: a for a in listed}


def _existing(conn: Connection) -> dict[str, Any]:
    rows = conn.execute(
        text("SELECT id, username, kind, officer_id, totp_secret FROM app_user")
    ).all()
    return {str(r.username): r for r in rows}


def _account(w: _Wanted, password: str, secret: str | None, posted_today: bool) -> DemoAccount:
    uri = provisioning_uri(secret, w.username, ISSUER) if secret else None
    return DemoAccount(
        w.username, w.full_name, w.roles, w.jurisdiction, posted_today, password, secret, uri
    )


def create_demo_accounts(engine: Engine, actor: Actor, demo_dir: Path) -> list[DemoAccount]:
    """Makes the demo's accounts that are missing and writes the accounts files (0600).

    Returns every demo account as the file lists it: officers posted today first, then
    the staff, then officers whose postings have ended.

    Raises:
        AccessDenied: ``actor`` may not build the demo (``records.load_demo``).
        DemoAccountsError: a demo username belongs to another account (a service, or a
            person bound to another officer). An officer who already has an account under
            another name is left alone and not listed (not an error).
    """
    demo_dir = Path(demo_dir)
    listed = read_accounts(demo_dir)
    made: list[str] = []
    reset: list[str] = []
    skipped: list[str] = []
    accounts: list[DemoAccount] = []
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "records.load_demo")
        existing = _existing(conn)
        bound = {int(r.officer_id): name for name, r in existing.items() if r.officer_id}
        for w in _wanted(conn):
            row = existing.get(w.username)
            if row is None and w.officer_id is not None and w.officer_id in bound:
                skipped.append(bound[w.officer_id])  # the officer has another account
                continue
            if row is not None and (row.kind != "person" or row.officer_id != w.officer_id):
                raise DemoAccountsError(
                    f"the username {w.username!r} belongs to another account; the demo's "
                    "accounts need it (use an empty database for the demo)"
                )
            if row is None:
                new = create_person(
                    conn,
                    username=w.username,
                    full_name=w.full_name,
                    officer_cnic=w.officer_cnic,
                    roles=list(w.stored_roles),
                    granted_by=actor.user_id,
                )
                _no_forced_change(conn, new.user_id)
                accounts.append(_account(w, new.password, new.totp_secret, w.posted_today))
                made.append(w.username)
                continue
            old = listed.get(w.username)
            if old is not None and old.totp_secret == row.totp_secret:
                accounts.append(_account(w, old.password, old.totp_secret, w.posted_today))
                continue
            password = passwords.generate_password()
            conn.execute(
                text(
                    "UPDATE app_user SET password_hash = :p, must_change_password = false,"
                    " failed_logins = 0, locked_until = NULL WHERE id = :u"
                ),
                {"p": passwords.hash_password(password), "u": row.id},
            )
            conn.execute(
                text(
                    "UPDATE user_session SET revoked_at = clock_timestamp()"
                    " WHERE user_id = :u AND revoked_at IS NULL"
                ),
                {"u": row.id},
            )
            accounts.append(_account(w, password, row.totp_secret, w.posted_today))
            reset.append(w.username)
        if made or reset:
            audit_append(
                conn,
                actor=actor.label,
                action="demo accounts",
                entity="app_user",
                details={"created": made, "password_reset": reset, "skipped": skipped},
            )
    accounts.sort(key=_file_order)
    if made or reset or not _files_current(demo_dir, accounts):
        write_accounts(demo_dir, accounts)
    return accounts


def _file_order(a: DemoAccount) -> int:
    """0: officers posted today, 1: staff, 2: officers whose postings have ended."""
    if a.username in {s[0] for s in STAFF}:
        return 1
    return 0 if a.posted_today else 2


def _no_forced_change(conn: Connection, user_id: int) -> None:
    """Demo accounts keep the password of the file (nobody hands it over in person)."""
    conn.execute(
        text("UPDATE app_user SET must_change_password = false WHERE id = :u"), {"u": user_id}
    )


def _files_current(demo_dir: Path, accounts: list[DemoAccount]) -> bool:
    if not (demo_dir / TEXT_NAME).exists():
        return False
    listed = read_accounts(demo_dir)
    return [listed.get(a.username) for a in accounts] == accounts


def write_accounts(demo_dir: Path, accounts: list[DemoAccount]) -> None:
    """Writes ``accounts.json`` and ``accounts.txt`` (0600, folder 0700)."""
    demo_dir = Path(demo_dir)
    payload = {
        "about": "landgov demo accounts: passwords and TOTP secrets. Keep private (0600); "
        "never commit. Sign in with `landgov login` or on the dashboard.",
        "accounts": [a.as_json() for a in accounts],
    }
    write_private(demo_dir / JSON_NAME, json.dumps(payload, indent=1, ensure_ascii=False) + "\n")
    write_private(demo_dir / TEXT_NAME, format_accounts(accounts))


def format_accounts(accounts: list[DemoAccount]) -> str:
    """The accounts file as a person reads it."""
    lines = [
        "landgov demo accounts (keep this file private; it is mode 0600 and never committed)",
        "",
        "Sign in on the dashboard or with `landgov login USERNAME`. Accounts marked TOTP",
        "also need a 6-digit code: add the secret (or the otpauth URI, as a QR code) to an",
        "authenticator app, e.g. `oathtool --totp -b SECRET`.",
        "Officers act only where and while they are posted (jurisdiction below);",
        "most officers of the demo's 25 years have left their postings.",
        "",
    ]
    sections = (
        ("Officers posted today", 0),
        ("Staff", 1),
        ("Officers whose postings have ended", 2),
    )
    for title, key in sections:
        group = [a for a in accounts if _file_order(a) == key]
        if not group:
            continue
        lines += [f"== {title} ==", ""]
        for a in group:
            roles = ", ".join(r.replace("_", " ") for r in a.roles)
            lines.append(f"{a.username}  ({a.full_name}; {roles})")
            lines.append(f"  password:     {a.password}")
            if a.totp_secret:
                lines.append(f"  TOTP secret:  {a.totp_secret}")
                lines.append(f"  otpauth URI:  {a.otpauth_uri}")
            lines.append(f"  jurisdiction: {a.jurisdiction}")
            lines.append("")
    return "\n".join(lines)


__all__ = [
    "DemoAccount",
    "DemoAccountsError",
    "create_demo_accounts",
    "format_accounts",
    "read_accounts",
    "write_accounts",
]
