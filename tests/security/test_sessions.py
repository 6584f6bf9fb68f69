"""Sign-in, lockout, TOTP, session expiry, binding the actor, and the authorize rules,
against the real database with the application role."""

from __future__ import annotations

import time
from datetime import date, timedelta
from typing import Any

import pytest
from security_support import PASSWORD, owner_engine, service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from landgov.domain import totp
from landgov.errors import AccessDenied, AuthenticationFailed
from landgov.security import authenticate, authorize, bind, login, logout, service_login
from landgov.security.accounts import create_person, new_totp_secret
from landgov.security.sessions import FAILED, token_hash

NAIB_A = "35202-3000001-1"  # naib tehsildar of tehsil A since 2000
NAIB_MOVED = "35202-3000002-1"  # naib tehsildar of tehsil A until 10 days ago, now tehsil B
ANALYST_CNIC = "35202-3000003-2"


def _seed(engine: Engine) -> dict[str, Any]:
    """Two tehsils with a mouza each; two naib tehsildars; accounts with known secrets."""
    moved_on = date.today() - timedelta(days=10)
    secrets = {"naib.a": new_totp_secret(), "naib.moved": new_totp_secret()}
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (2, 'division', 'Lahore', 1), (3, 'district', 'Sheikhupura', 2),"
                " (4, 'tehsil', 'Tehsil A', 3), (5, 'tehsil', 'Tehsil B', 3);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 4, 'Mouza A', 1), (2, 5, 'Mouza B', 2);"
            )
        )
        for cnic, name in ((NAIB_A, "Nadeem"), (NAIB_MOVED, "Mushtaq")):
            conn.execute(
                text(
                    "INSERT INTO officer (name, designation, cnic)"
                    " VALUES (:n, 'naib_tehsildar', :c)"
                ),
                {"n": name, "c": cnic},
            )
        conn.execute(
            text(
                "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from, valid_to)"
                " SELECT id, 4, DATE '2000-01-01', NULL FROM officer WHERE cnic = :a"
                " UNION ALL SELECT id, 4, DATE '2000-01-01', :moved FROM officer WHERE cnic = :m"
                " UNION ALL SELECT id, 5, :moved, NULL FROM officer WHERE cnic = :m"
            ),
            {"a": NAIB_A, "m": NAIB_MOVED, "moved": moved_on},
        )
        create_person(conn, username="naib.a", full_name="Nadeem", officer_cnic=NAIB_A,
                      password=PASSWORD, totp_secret=secrets["naib.a"])  # fmt: skip
        create_person(conn, username="naib.moved", full_name="Mushtaq", officer_cnic=NAIB_MOVED,
                      password=PASSWORD, totp_secret=secrets["naib.moved"])  # fmt: skip
        create_person(conn, username="analyst", full_name="Asma", cnic=ANALYST_CNIC,
                      roles=["revenue_analyst"], password=PASSWORD)  # fmt: skip
    return {"secrets": secrets, "moved_on": moved_on}


def _sign_in(engine: Engine, user: str, secret: str | None, step_offset: int = 0) -> Any:
    at = time.time() + step_offset * totp.STEP_SECONDS
    code = totp.totp(secret, at) if secret else None
    return login(engine, user, PASSWORD, code, channel="cli", now=at)


def test_sign_in_with_password_and_code_opens_a_session_stored_by_hash(engine: Engine) -> None:
    world = _seed(engine)
    actor = _sign_in(engine, "naib.a", world["secrets"]["naib.a"])
    assert actor.designation == "naib_tehsildar" and "naib_tehsildar" in actor.roles
    assert actor.second_factor and actor.label == "user:naib.a"
    with owner_engine(engine).connect() as conn:
        stored = conn.execute(
            text("SELECT token_hash FROM user_session WHERE id = :s"), {"s": actor.session_id}
        ).scalar_one()
        hashes = conn.execute(text("SELECT password_hash FROM app_user")).scalars().all()
    assert stored == token_hash(actor.token) and actor.token not in stored
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert authenticate(engine, actor.token).user_id == actor.user_id


def test_every_failure_gets_the_same_answer(engine: Engine) -> None:
    world = _seed(engine)
    secret = world["secrets"]["naib.a"]
    failures = [
        lambda: login(engine, "nobody.here", PASSWORD, "123456"),
        lambda: login(engine, "naib.a", "wrong password!!", totp.totp(secret, time.time())),
        lambda: login(engine, "naib.a", PASSWORD, None),  # code required for a naib
        lambda: login(engine, "naib.a", PASSWORD, "000000"),
    ]
    for attempt in failures:
        with pytest.raises(AuthenticationFailed) as info:
            attempt()
        assert str(info.value) == FAILED
    with owner_engine(engine).connect() as conn:
        reasons = (
            conn.execute(text("SELECT reason FROM login_attempt WHERE NOT ok ORDER BY id"))
            .scalars()
            .all()
        )
    assert reasons == ["unknown account", "wrong password", "wrong or reused TOTP code",
                       "wrong or reused TOTP code"]  # fmt: skip


def test_a_totp_code_is_spent_once(engine: Engine) -> None:
    world = _seed(engine)
    secret = world["secrets"]["naib.a"]
    at = time.time()
    code = totp.totp(secret, at)
    login(engine, "naib.a", PASSWORD, code, now=at)
    with pytest.raises(AuthenticationFailed):
        login(engine, "naib.a", PASSWORD, code, now=at)


def test_an_account_without_a_second_factor_needs_none(engine: Engine) -> None:
    _seed(engine)
    actor = login(engine, "analyst", PASSWORD, None)
    assert actor.roles == frozenset({"revenue_analyst"}) and not actor.second_factor


def test_lockout_after_five_failures_with_back_off(engine: Engine) -> None:
    world = _seed(engine)
    secret = world["secrets"]["naib.a"]
    for _ in range(5):
        with pytest.raises(AuthenticationFailed):
            login(engine, "naib.a", "not the password", "000000")
    locked = _lock_seconds(engine, "naib.a")
    assert 55 <= locked <= 60  # lockout_base_seconds
    # the right password and code are refused while locked, with the same words
    with pytest.raises(AuthenticationFailed, match="sign-in failed"):
        _sign_in(engine, "naib.a", secret)
    # a further failure doubles the lock
    with owner_engine(engine).begin() as conn:
        conn.execute(text("UPDATE app_user SET locked_until = now() - interval '1 s'"
                          " WHERE username = 'naib.a'"))  # fmt: skip
    with pytest.raises(AuthenticationFailed):
        login(engine, "naib.a", "not the password", "000000")
    assert 115 <= _lock_seconds(engine, "naib.a") <= 120
    # once the lock has passed, the right credentials work and the count resets
    with owner_engine(engine).begin() as conn:
        conn.execute(text("UPDATE app_user SET locked_until = now() - interval '1 s'"
                          " WHERE username = 'naib.a'"))  # fmt: skip
    _sign_in(engine, "naib.a", secret, step_offset=1)
    with engine.connect() as conn:
        assert (
            conn.execute(
                text("SELECT failed_logins FROM app_user WHERE username = 'naib.a'")
            ).scalar_one()
            == 0
        )


def _lock_seconds(engine: Engine, user: str) -> float:
    with engine.connect() as conn:
        return float(
            conn.execute(
                text("SELECT extract(epoch FROM locked_until - now()) FROM app_user"
                     " WHERE username = :u"),
                {"u": user},
            ).scalar_one()
        )  # fmt: skip


@pytest.mark.parametrize("column", ["idle_expires_at", "expires_at"])
def test_idle_and_absolute_expiry_end_a_session(engine: Engine, column: str) -> None:
    _seed(engine)
    actor = login(engine, "analyst", PASSWORD, None)
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(f"UPDATE user_session SET {column} = now() - interval '1 s',"
                 " idle_expires_at = least(idle_expires_at, now() - interval '1 s')"
                 " WHERE id = :s" if column == "expires_at" else
                 f"UPDATE user_session SET {column} = now() - interval '1 s' WHERE id = :s"),
            {"s": actor.session_id},
        )  # fmt: skip
    with pytest.raises(AuthenticationFailed, match="session has ended"):
        authenticate(engine, actor.token)


def test_logout_and_disabling_end_sessions_in_the_database_too(engine: Engine) -> None:
    world = _seed(engine)
    actor = _sign_in(engine, "naib.a", world["secrets"]["naib.a"])
    logout(engine, actor.token)
    with pytest.raises(AuthenticationFailed):
        authenticate(engine, actor.token)
    with pytest.raises(AuthenticationFailed), engine.begin() as conn:
        bind(conn, actor)


def test_a_bound_actor_writes_only_where_posted_today(engine: Engine) -> None:
    world = _seed(engine)
    naib = _sign_in(engine, "naib.a", world["secrets"]["naib.a"])
    insert = text("INSERT INTO khewat (mouza_id, number) VALUES (:m, 1)")
    # no actor bound: the application role may not write the record at all
    with pytest.raises(DBAPIError, match="row-level security"), engine.begin() as conn:
        conn.execute(insert, {"m": 1})
    # bound: in mouza A (posted), not in mouza B
    with pytest.raises(DBAPIError, match="row-level security"), engine.begin() as conn:
        bind(conn, naib)
        conn.execute(insert, {"m": 2})
    with engine.begin() as conn:
        bind(conn, naib)
        conn.execute(insert, {"m": 1})
    # the binding lasts one transaction only
    with pytest.raises(DBAPIError, match="row-level security"), engine.begin() as conn:
        conn.execute(text("INSERT INTO khewat (mouza_id, number) VALUES (1, 2)"))
    with engine.connect() as conn:
        actor, action, details = conn.execute(
            text("SELECT actor, action, details FROM audit_log WHERE entity = 'khewat'")
        ).one()
    assert (actor, action) == ("user:naib.a", "db.insert") and details["rows"] == 1


def test_a_forged_token_binds_nobody(engine: Engine) -> None:
    _seed(engine)
    with pytest.raises(DBAPIError, match="no valid landgov session"), engine.begin() as conn:
        conn.execute(text("SELECT landgov_act_as('made-up-token')"))
    # nor can the application role write the acting-session table itself
    with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
        conn.execute(
            text("INSERT INTO acting_session VALUES (pg_backend_pid(), now(), 1, 1, 'x',"
                 " true, '{}')")
        )  # fmt: skip


def test_the_demo_service_writes_everywhere_other_services_nowhere(engine: Engine) -> None:
    _seed(engine)
    with engine.begin() as conn:
        bind(conn, service_actor(engine, "demo"))
        conn.execute(text("INSERT INTO khewat (mouza_id, number) VALUES (2, 7)"))
    with pytest.raises(DBAPIError, match="row-level security"), engine.begin() as conn:
        bind(conn, service_actor(engine, "valuation"))
        conn.execute(text("INSERT INTO khewat (mouza_id, number) VALUES (2, 8)"))
    with pytest.raises(AuthenticationFailed, match="key is not valid"):
        service_login(engine, "valuation", "not-the-key")


def test_authorize_applies_role_jurisdiction_and_date_rules(engine: Engine) -> None:
    world = _seed(engine)
    naib = _sign_in(engine, "naib.a", world["secrets"]["naib.a"])
    moved = _sign_in(engine, "naib.moved", world["secrets"]["naib.moved"])
    analyst = login(engine, "analyst", PASSWORD, None)
    today = date.today()

    def refused(actor: Any, mouza: int, on: date | None, cap: str = "mutation.sanction") -> str:
        with pytest.raises(AccessDenied) as info, engine.begin() as conn:
            authorize(conn, actor, cap, mouza_id=mouza, on=on)
        return info.value.rule

    with engine.begin() as conn:
        assert authorize(conn, naib, "mutation.sanction", mouza_id=1, on=today) is False
        assert authorize(conn, naib, "mutation.sanction", mouza_id=1, on=today - timedelta(3))
    assert refused(naib, 2, today) == "jurisdiction"
    assert refused(naib, 1, date(2099, 1, 1)) == "future_date"
    assert refused(naib, 1, today - timedelta(days=8)) == "backdate_window"
    assert refused(analyst, 1, today) == "role"
    # posted in tehsil A until 10 days ago, now in B: cannot act in A at all, nor reach
    # back in B to before the posting began
    assert refused(moved, 1, today - timedelta(days=5)) == "jurisdiction"
    world_moved_on = world["moved_on"]
    with owner_engine(engine).begin() as conn:
        conn.execute(text("UPDATE security_setting SET value = 30"
                          " WHERE name = 'backdate_window_days'"))  # fmt: skip
    assert refused(moved, 2, world_moved_on - timedelta(days=1)) == "posting_then_and_now"
    with engine.begin() as conn:
        assert authorize(conn, moved, "mutation.sanction", mouza_id=2, on=world_moved_on)
    # a session opened without the second factor cannot sanction, whatever the Actor
    # object in memory claims; nor do roles edited in memory count
    with owner_engine(engine).begin() as conn:
        conn.execute(text("UPDATE user_session SET second_factor = false WHERE id = :s"),
                     {"s": naib.session_id})  # fmt: skip
    assert refused(naib, 1, today) == "second_factor"
    forged = type(analyst)(**{**analyst.__dict__, "roles": frozenset({"naib_tehsildar"}),
                              "second_factor": True, "officer_id": naib.officer_id})  # fmt: skip
    assert refused(forged, 1, today) == "role"
