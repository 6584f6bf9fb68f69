"""The demo's login accounts: a private file, real sign-ins, bound to the demo officers."""

from __future__ import annotations

import shutil
import stat
from pathlib import Path

import pytest
from security_support import code_for, service_actor
from security_support import sign_in as sign_in_as
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.demo.accounts import STAFF, DemoAccount, create_demo_accounts, read_accounts
from landgov.errors import AccessDenied, AuthenticationFailed
from landgov.security import Actor, login, policy


def sign_in(engine: Engine, account: DemoAccount) -> Actor:
    """Signs a demo account in with the accounts file's password (and TOTP secret)."""
    return sign_in_as(engine, account.username, account.password, account.totp_secret)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_accounts_files_are_private_and_complete(demo_engine: Engine, demo_dir: Path) -> None:
    for name in ("accounts.txt", "accounts.json"):
        assert mode(demo_dir / name) == 0o600, name
    assert mode(demo_dir) == 0o700
    accounts = read_accounts(demo_dir)
    with demo_engine.connect() as conn:
        officers = conn.execute(
            text("SELECT count(*) FROM officer WHERE cnic IS NOT NULL")
        ).scalar_one()
        bound = conn.execute(
            text(
                "SELECT u.username, o.designation, u.must_change_password FROM app_user u"
                " JOIN officer o ON o.id = u.officer_id"
            )
        ).all()
    assert len(bound) == officers == len(accounts) - len(STAFF)
    assert {u for u, _, _ in bound} <= set(accounts)
    assert all(u.startswith(f"{d}.") for u, d, _ in bound)  # tehsildar.1, patwari.2...
    assert not any(change for _, _, change in bound)  # the file's passwords stay valid
    assert {"admin", "analyst", "auditor", "tehsildar.1", "patwari.1"} <= set(accounts)
    txt = (demo_dir / "accounts.txt").read_text(encoding="utf-8")
    for a in accounts.values():
        assert a.password in txt and len(a.password) >= 20
        needs = policy.needs_second_factor(a.roles)
        assert (a.totp_secret is not None) == needs, a.username
        if a.totp_secret:
            assert a.otpauth_uri and f"secret={a.totp_secret}" in a.otpauth_uri
            assert a.totp_secret in txt
    # the officers posted today are listed first: the accounts to try the demo with
    assert txt.index("Officers posted today") < txt.index("Staff") < txt.index("have ended")
    with demo_engine.connect() as conn:
        hashes = conn.execute(text("SELECT password_hash FROM app_user")).scalars().all()
    assert not any(a.password in str(h) for a in accounts.values() for h in hashes)


def test_every_account_signs_in_and_officers_are_bound_to_their_officer(
    demo_copy: Engine, demo_dir: Path
) -> None:
    accounts = read_accounts(demo_dir)
    with demo_copy.connect() as conn:
        officer_of = dict(
            conn.execute(
                text(
                    "SELECT u.username, o.id FROM app_user u JOIN officer o ON o.id = u.officer_id"
                )
            ).all()
        )
    for account in accounts.values():
        actor = sign_in(demo_copy, account)
        assert actor.username == account.username and actor.kind == "person"
        assert set(actor.roles) == set(account.roles)
        assert actor.second_factor == (account.totp_secret is not None)
        assert actor.officer_id == officer_of.get(account.username)
    # a wrong password is refused like any other account's
    admin = accounts["admin"]
    with pytest.raises(AuthenticationFailed):
        login(demo_copy, "admin", admin.password + "x", code_for(admin.totp_secret or ""))

    # an officer posted today acts where the postings say, and not elsewhere
    tehsildar = next(a for a in accounts.values() if a.roles == ("tehsildar",) and a.posted_today)
    actor = sign_in(demo_copy, tehsildar)
    with demo_copy.connect() as conn:
        mouzas = conn.execute(
            text("SELECT landgov_officer_mouzas(:o, current_date)"), {"o": actor.officer_id}
        ).scalar_one()
        designation = conn.execute(
            text("SELECT designation FROM officer WHERE id = :o"), {"o": actor.officer_id}
        ).scalar_one()
    assert designation == "tehsildar" and len(mouzas) == 3  # the whole Sheikhupura tehsil
    assert "Sheikhupura tehsil" in tehsildar.jurisdiction and "to now" in tehsildar.jurisdiction


def test_a_second_run_keeps_the_accounts_and_a_lost_file_resets_the_passwords(
    demo_copy: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    mine = tmp_path / "demo"
    mine.mkdir()
    for name in ("accounts.txt", "accounts.json"):
        shutil.copy2(demo_dir / name, mine / name)
    before = {n: (mine / n).read_bytes() for n in ("accounts.txt", "accounts.json")}
    demo = service_actor(demo_copy, "demo")
    again = create_demo_accounts(demo_copy, demo, mine)
    assert {n: (mine / n).read_bytes() for n in before} == before
    assert {a.username: a for a in again} == read_accounts(demo_dir)

    old = read_accounts(mine)
    (mine / "accounts.json").unlink()
    (mine / "accounts.txt").unlink()
    create_demo_accounts(demo_copy, demo, mine)
    new = read_accounts(mine)
    assert set(new) == set(old) and mode(mine / "accounts.txt") == 0o600
    assert all(new[u].password != old[u].password for u in new)
    assert all(new[u].totp_secret == old[u].totp_secret for u in new)  # the app keeps working
    with pytest.raises(AuthenticationFailed):
        sign_in(demo_copy, old["analyst"])
    assert sign_in(demo_copy, new["analyst"]).roles == {"revenue_analyst"}
    with demo_copy.connect() as conn:
        (audit,) = conn.execute(
            text("SELECT actor, details FROM audit_log WHERE action = 'demo accounts'"
                 " ORDER BY seq DESC LIMIT 1")
        ).all()  # fmt: skip
    assert audit.actor == "service:demo" and set(audit.details["password_reset"]) == set(old)
    assert old["analyst"].password not in str(audit.details)


def test_only_the_demo_service_makes_demo_accounts(demo_copy: Engine, tmp_path: Path) -> None:
    with pytest.raises(AccessDenied) as refused:
        create_demo_accounts(demo_copy, service_actor(demo_copy, "disputes"), tmp_path)
    assert refused.value.rule == "role"
    assert not list(tmp_path.iterdir())
