"""Helpers shared by the case workflow tests (tests/disputes is on sys.path under pytest)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from security_support import sign_in as sign_in_as
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.demo.accounts import DemoAccount, read_accounts
from landgov.security import Actor

ON = date.today()  # the steps' date, fixed once: the officers are those posted on it


def posted(engine: Engine, designation: str, unit: str, on: date = ON) -> str:
    """CNIC of an officer of ``designation`` posted to the admin unit named ``unit`` on
    ``on`` (read directly, not through the code under test)."""
    with engine.connect() as conn:
        cnic = conn.execute(
            text(
                "SELECT o.cnic FROM officer o JOIN officer_jurisdiction j ON j.officer_id = o.id"
                " JOIN admin_unit a ON a.id = j.admin_unit_id"
                " WHERE o.designation = :d AND a.name = :u AND j.valid_from <= :on"
                " AND (j.valid_to IS NULL OR j.valid_to > :on) ORDER BY o.id LIMIT 1"
            ),
            {"d": designation, "u": unit, "on": on},
        ).scalar()
    assert cnic is not None, f"the demo has no {designation} of {unit} on {on}"
    return str(cnic)


def first_case(engine: Engine, mouza: str = "Burj Karam Singh", status: str = "open") -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT c.id FROM dispute_case c JOIN mouza m ON m.id = c.mouza_id"
                    " WHERE m.name = :m AND c.status = :s ORDER BY c.risk DESC, c.id LIMIT 1"
                ),
                {"m": mouza, "s": status},
            ).scalar_one()
        )


def status_of(engine: Engine, case_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT status FROM dispute_case WHERE id = :i"), {"i": case_id}
            ).scalar_one()
        )


def sign_in(engine: Engine, account: DemoAccount) -> Actor:
    """Signs a demo account in with the accounts file's password (and TOTP secret)."""
    return sign_in_as(engine, account.username, account.password, account.totp_secret)


def officer(engine: Engine, demo_dir: Path, cnic: str) -> Actor:
    """The signed-in demo account of the officer with ``cnic`` (accounts.txt's password)."""
    with engine.connect() as conn:
        username = conn.execute(
            text(
                "SELECT u.username FROM app_user u JOIN officer o ON o.id = u.officer_id"
                " WHERE o.cnic = :c"
            ),
            {"c": cnic},
        ).scalar_one()
    return sign_in(engine, read_accounts(demo_dir)[username])


def staff_member(engine: Engine, demo_dir: Path, username: str) -> Actor:
    """A demo staff account (``admin``, ``analyst``, ``auditor``), signed in."""
    return sign_in(engine, read_accounts(demo_dir)[username])
