"""Who may act on the record (issue 14): only a signed-in account, bound to an officer
posted over the mouza today (and on the date given to the step), with the role for the
step, never the one who entered or verified, a sanction only with the second factor;
dates neither in the future nor beyond the back-dating window; and the database's
row-level security as a second wall behind those checks.

Every refusal is checked to have written nothing (``records_support.snapshot``).
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import date, timedelta
from fractions import Fraction

import pytest
from records_support import (
    ALI,
    BILAL,
    FORMER,
    GIRDAWAR,
    GUL,
    NAIB,
    OUTSIDER,
    PATWARI,
    RECORD_SARSAI,
    SETTLED,
    TEHSILDAR,
    World,
    db_today,
    draft,
    entered_and_verified,
    officer,
    owner_engine,
    rectangle,
    set_window,
    snapshot,
)
from security_support import PASSWORD, sign_in, totp_secret
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from landgov.domain import areas_m2
from landgov.errors import AccessDenied, AuthenticationFailed
from landgov.records import mutations as mut
from landgov.security import Actor, authenticate, bind, login
from landgov.security.sessions import token_hash

ON = date(2024, 2, 1)


def denied(engine: Engine, rule: str, call: object, *args: object, **kwargs: object) -> str:
    """Runs ``call``, expects AccessDenied(rule) and that nothing was written."""
    before = snapshot(engine)
    with pytest.raises(AccessDenied) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.rule == rule, info.value
    assert f"refused by rule {rule}" in str(info.value)
    assert snapshot(engine) == before
    return str(info.value)


def mutation_row(engine: Engine, mutation_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT status, entered_on, verified_on, decided_on, entered_by_user,"
                " entered_by, verified_by_user, decided_by_user, recorded_at,"
                " verified_recorded_at, decided_recorded_at FROM mutation WHERE id = :m"
            ),
            {"m": mutation_id},
        ).one()
    return dict(row._mapping)


# --- a second mouza, in the other tehsil -------------------------------------------------------

KOT_B = "Kot B"


def add_kot_b(world: World) -> tuple[int, int]:
    """Mouza Kot B (hadbast 18) in Muridke tehsil, where only OUTSIDER is posted: one
    khewat (Ali 1/2, Bilal 1/2) and a verified sale Ali -> Gul 1/4 imported from a
    register (no accounts recorded). Returns (khewat id, mutation id)."""
    geom = rectangle(30)
    with owner_engine(world.engine).begin() as conn:
        conn.execute(
            text("INSERT INTO mouza (id, tehsil_id, name, hadbast_number) VALUES (2, 5, :n, 18)"),
            {"n": KOT_B},
        )
        kid = conn.execute(
            text("INSERT INTO khewat (mouza_id, number) VALUES (2, 1) RETURNING id")
        ).scalar_one()
        khasra = conn.execute(
            text(
                "INSERT INTO khasra (mouza_id, number, main_number, land_class,"
                " record_area_sarsai, unit_system, geom_area_m2, geom, source, created_on)"
                " VALUES (2, '1', 1, 'nehri', :a, 'standard', :m2,"
                " ST_GeomFromText(:wkt, 4326), 'test', :on) RETURNING id"
            ),
            {"a": RECORD_SARSAI, "m2": float(areas_m2([geom])[0]), "wkt": geom.wkt,
             "on": SETTLED},
        ).scalar_one()  # fmt: skip
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) VALUES (:w, :k, 2, :a, :on)"
            ),
            {"w": kid, "k": khasra, "a": RECORD_SARSAI, "on": SETTLED},
        )
        for cnic in (ALI, BILAL):
            conn.execute(
                text(
                    "INSERT INTO share (khewat_id, party_id, numerator, denominator,"
                    " valid_from) VALUES (:w, :p, 1, 2, :on)"
                ),
                {"w": kid, "p": world.party[cnic], "on": SETTLED},
            )
        mid = conn.execute(
            text(
                "INSERT INTO mutation (mouza_id, number, type, status, entered_on,"
                " verified_on) VALUES (2, 1, 'sale', 'verified', '2024-01-10', '2024-01-12')"
                " RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO mutation_line (mutation_id, line_no, khewat_id,"
                " transferor_party_id, transferee_party_id, numerator, denominator)"
                " VALUES (:m, 1, :k, :a, :g, 1, 4)"
            ),
            {"m": mid, "k": kid, "a": world.party[ALI], "g": world.party[GUL]},
        )
    return int(kid), int(mid)


def test_a_naib_tehsildar_of_one_mouza_cannot_sanction_in_another(world: World) -> None:
    e = world.engine
    _, in_b = add_kot_b(world)
    in_a = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    message = denied(e, "jurisdiction", mut.sanction, e, in_b, actor=officer(e, NAIB), on=ON)
    assert "Nasir" in message and "Kot B" in message
    denied(e, "jurisdiction", mut.reject, e, in_b, actor=officer(e, NAIB), on=ON, reason="x")
    # each in his own charge: the naib in Kot A, Muridke's tehsildar in Kot B
    mut.sanction(e, in_a, actor=officer(e, NAIB), on=ON)
    mut.sanction(e, in_b, actor=officer(e, OUTSIDER), on=ON)
    in_kot_b = mut.MutationDraft(KOT_B, "sale", date(2024, 1, 10),
                                 [mut.DraftLine(1, ALI, GUL, Fraction(1, 8))])  # fmt: skip
    denied(e, "jurisdiction", mut.enter, e, in_kot_b, actor=officer(e, PATWARI))
    # an imported mutation has no accounts: no separation-of-duties conflict from NULLs
    row = mutation_row(e, in_b)
    assert (row["status"], row["entered_by_user"], row["verified_by_user"]) == (
        "sanctioned", None, None,
    )  # fmt: skip
    assert row["decided_by_user"] == officer(e, OUTSIDER).user_id


# --- separation of duties --------------------------------------------------------------------


def test_a_naib_tehsildar_cannot_sanction_or_reject_what_he_verified(world: World) -> None:
    e = world.engine
    naib = officer(e, NAIB)
    mid = mut.enter(e, draft("sale", [(1, ALI, GUL, "1/4")]), actor=officer(e, PATWARI))
    mut.verify(e, mid, actor=naib, on=date(2024, 1, 12))
    message = denied(e, "separation_of_duties", mut.sanction, e, mid, actor=naib, on=ON)
    assert "verified" in message
    denied(e, "separation_of_duties", mut.reject, e, mid, actor=naib, on=ON, reason="x")
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    row = mutation_row(e, mid)
    assert (row["entered_by_user"], row["verified_by_user"], row["decided_by_user"]) == (
        officer(e, PATWARI).user_id,
        naib.user_id,
        officer(e, TEHSILDAR).user_id,
    )
    assert row["entered_by"] == world.officer[PATWARI]


def _sign_in_again(engine: Engine, username: str) -> Actor:
    """A new sign-in of ``username`` (password + the next unused TOTP code)."""
    return sign_in(engine, username, PASSWORD, totp_secret(engine, username))


def test_the_patwari_who_entered_cannot_verify_it(world: World) -> None:
    e = world.engine
    patwari = officer(e, PATWARI)
    mid = mut.enter(e, draft("sale", [(1, ALI, GUL, "1/4")]), actor=patwari)
    denied(e, "role", mut.verify, e, mid, actor=patwari, on=date(2024, 1, 12))
    # promoted to girdawar in the same circle, he still cannot verify his own entry
    with owner_engine(e).begin() as conn:
        conn.execute(
            text("UPDATE officer SET designation = 'girdawar' WHERE cnic = :c"), {"c": PATWARI}
        )
    promoted = _sign_in_again(e, patwari.username)
    assert promoted.roles == frozenset({"girdawar"}) and promoted.user_id == patwari.user_id
    message = denied(
        e, "separation_of_duties", mut.verify, e, mid, actor=promoted, on=date(2024, 1, 12)
    )
    assert "entered" in message
    mut.verify(e, mid, actor=officer(e, GIRDAWAR), on=date(2024, 1, 12))


# --- dates -----------------------------------------------------------------------------------


def test_no_step_is_dated_in_the_future(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    message = denied(
        e, "future_date", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=date(2099, 1, 1)
    )
    assert "2099-01-01" in message
    future = db_today(e) + timedelta(days=1)
    denied(e, "future_date", mut.reject, e, mid, actor=officer(e, NAIB), on=future, reason="x")
    denied(e, "future_date", mut.enter, e, draft("sale", [(1, ALI, GUL, "1/8")], entered=future),
           actor=officer(e, PATWARI))  # fmt: skip
    entered = mut.enter(e, draft("sale", [(1, BILAL, GUL, "1/8")]), actor=officer(e, PATWARI))
    denied(e, "future_date", mut.verify, e, entered, actor=officer(e, GIRDAWAR), on=future)


def test_a_date_beyond_the_back_dating_window_is_refused(world: World) -> None:
    e = world.engine
    today = db_today(e)
    d = draft("sale", [(1, ALI, GUL, "1/4")], entered=today - timedelta(days=20))
    mid = entered_and_verified(e, d, verified=today - timedelta(days=15))
    set_window(e, 7)
    message = denied(
        e, "backdate_window", mut.sanction, e, mid, actor=officer(e, TEHSILDAR),
        on=today - timedelta(days=10),
    )  # fmt: skip
    assert "7 day(s)" in message
    denied(e, "backdate_window", mut.enter, e, draft("sale", [(1, BILAL, GUL, "1/8")],
           entered=today - timedelta(days=8)), actor=officer(e, PATWARI))  # fmt: skip
    # inside the window it goes through
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=today - timedelta(days=7))
    set_window(e, 0)  # today only
    other = entered_and_verified(
        e, draft("sale", [(1, BILAL, GUL, "1/4")], entered=today), verified=today
    )
    denied(e, "backdate_window", mut.reject, e, other, actor=officer(e, NAIB),
           on=today - timedelta(days=1), reason="x")  # fmt: skip


def test_an_officer_whose_posting_ended_is_refused_even_within_the_window(
    world: World,
) -> None:
    e = world.engine
    today = db_today(e)
    set_window(e, 7)
    d = draft("sale", [(1, ALI, GUL, "1/4")], entered=today - timedelta(days=5))
    mid = entered_and_verified(e, d, verified=today - timedelta(days=4))
    former = officer(e, FORMER)  # his account still signs in: his posting ended in 2010
    for on in (today, today - timedelta(days=1)):
        message = denied(e, "jurisdiction", mut.sanction, e, mid, actor=former, on=on)
        assert "not posted over mouza Kot A today" in message


def test_an_officer_posted_after_the_date_cannot_back_date_into_it(world: World) -> None:
    """Muridke's tehsildar, transferred to Sheikhupura two days ago, may act there from
    then on, not on a date before his posting (posted then AND now)."""
    e = world.engine
    today = db_today(e)
    set_window(e, 7)
    d = draft("sale", [(1, ALI, GUL, "1/4")], entered=today - timedelta(days=6))
    mid = entered_and_verified(e, d, verified=today - timedelta(days=5))
    with owner_engine(e).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from)"
                " VALUES (:o, 4, :f)"
            ),
            {"o": world.officer[OUTSIDER], "f": today - timedelta(days=2)},
        )
    transferred = officer(e, OUTSIDER)
    message = denied(
        e, "posting_then_and_now", mut.sanction, e, mid, actor=transferred,
        on=today - timedelta(days=4),
    )  # fmt: skip
    assert (today - timedelta(days=4)).isoformat() in message
    result = mut.sanction(e, mid, actor=transferred, on=today - timedelta(days=1))
    assert result.backdated


def test_a_back_dated_sanction_inside_the_window_is_recorded_as_such(world: World) -> None:
    e = world.engine
    today = db_today(e)
    set_window(e, 7)
    d = draft("sale", [(1, ALI, GUL, "1/4")], entered=today - timedelta(days=6))
    mid = entered_and_verified(e, d, verified=today - timedelta(days=5))
    tehsildar = officer(e, TEHSILDAR)
    result = mut.sanction(e, mid, actor=tehsildar, on=today - timedelta(days=3))
    assert result.backdated and (result.closed, result.opened) == (1, 2)
    row = mutation_row(e, mid)
    assert row["status"] == "sanctioned" and row["decided_on"] == today - timedelta(days=3)
    assert row["decided_by_user"] == tehsildar.user_id
    # the server's clock recorded each step when it was taken, after the date it bears
    for dated, recorded in (
        ("entered_on", "recorded_at"),
        ("verified_on", "verified_recorded_at"),
        ("decided_on", "decided_recorded_at"),
    ):
        assert row[recorded].date() > row[dated], (dated, row)  # type: ignore[attr-defined,operator]
    with e.connect() as conn:
        details = conn.execute(
            text(
                "SELECT details FROM audit_log WHERE action = 'mutation.sanction'"
                " AND entity_id = :m"
            ),
            {"m": str(mid)},
        ).scalar_one()
    assert details["backdated"] is True and details["officer"] == "Tariq (tehsildar)"
    # a step dated today is not back-dated
    other = entered_and_verified(
        e, draft("sale", [(1, BILAL, GUL, "1/4")], entered=today), verified=today
    )
    assert not mut.sanction(e, other, actor=tehsildar, on=today).backdated


# --- the session -----------------------------------------------------------------------------


def _session_without_second_factor(engine: Engine, actor: Actor) -> Actor:
    """Another session of ``actor``'s account opened without a TOTP code (as an identity
    provider's sign-in that asserted no second factor would be), through authenticate."""
    token = secrets.token_urlsafe(32)
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO user_session (user_id, token_hash, channel, second_factor,"
                " idle_expires_at, expires_at) VALUES (:u, :h, 'oidc', false,"
                " now() + interval '30 minutes', now() + interval '1 hour')"
            ),
            {"u": actor.user_id, "h": token_hash(token)},
        )
    return authenticate(engine, token)


def test_a_session_without_the_second_factor_cannot_sanction(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    tehsildar = officer(e, TEHSILDAR)
    assert tehsildar.second_factor
    weak = _session_without_second_factor(e, tehsildar)
    assert not weak.second_factor and weak.roles == tehsildar.roles
    message = denied(e, "second_factor", mut.sanction, e, mid, actor=weak, on=ON)
    assert "authenticator code" in message
    denied(e, "second_factor", mut.reject, e, mid, actor=weak, on=ON, reason="x")
    mut.sanction(e, mid, actor=tehsildar, on=ON)


def test_an_officer_without_an_account_cannot_act_at_all(world: World) -> None:
    """Muridke's tehsildar has no account: he cannot sign in, and an Actor made up in
    Python (his officer id, a tehsildar's roles, any token) is refused by the database
    before anything is read or written."""
    e = world.engine
    mid = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    username = f"officer.{world.officer[OUTSIDER]}"
    with pytest.raises(AuthenticationFailed):
        login(e, username, PASSWORD, "123456")
    real = officer(e, TEHSILDAR)
    forged = [
        Actor(
            user_id=real.user_id,
            username=username,
            kind="person",
            full_name="Omar",
            roles=frozenset({"tehsildar"}),
            officer_id=world.officer[OUTSIDER],
            designation="tehsildar",
            cnic=OUTSIDER,
            session_id=real.session_id,
            second_factor=True,
            token=secrets.token_urlsafe(32),
        ),
        dataclasses.replace(real, token=real.token[:-2] + "xx"),
    ]
    for actor in forged:
        before = snapshot(e)
        with pytest.raises(AuthenticationFailed, match="session has ended"):
            mut.sanction(e, mid, actor=actor, on=ON)
        assert snapshot(e) == before
    # a disabled account's live session stops working too
    with owner_engine(e).begin() as conn:
        conn.execute(
            text("UPDATE app_user SET disabled_at = now() WHERE id = :u"), {"u": real.user_id}
        )
    with pytest.raises(AuthenticationFailed):
        mut.sanction(e, mid, actor=real, on=ON)
    assert mutation_row(e, mid)["status"] == "verified"


# --- the database's own wall -------------------------------------------------------------------


def test_row_level_security_is_a_second_wall(world: World) -> None:
    """A raw UPDATE through the application's connection, the engine's checks bypassed:
    bound to Kot A's naib tehsildar it changes Kot A's rows and none of Kot B's; unbound
    it changes nothing; an INSERT into Kot B is refused outright."""
    e = world.engine
    kot_b_khewat, kot_b_mutation = add_kot_b(world)
    naib = officer(e, NAIB)
    update = text("UPDATE share SET numerator = numerator WHERE khewat_id = :k")
    with e.connect() as conn:
        with conn.begin() as tx:
            bind(conn, naib)
            assert conn.execute(update, {"k": kot_b_khewat}).rowcount == 0
            assert conn.execute(update, {"k": world.khewat[1]}).rowcount == 3
            assert (
                conn.execute(
                    text("UPDATE mutation SET remarks = 'x' WHERE id = :m"), {"m": kot_b_mutation}
                ).rowcount
                == 0
            )
            tx.rollback()
        with conn.begin() as tx:  # no actor bound: nothing is writable
            assert conn.execute(update, {"k": world.khewat[1]}).rowcount == 0
            tx.rollback()
        with pytest.raises(DBAPIError, match="row-level security"), conn.begin():
            bind(conn, naib)
            conn.execute(
                text(
                    "INSERT INTO share (khewat_id, party_id, numerator, denominator,"
                    " valid_from) VALUES (:k, :p, 1, 2, '2024-01-01')"
                ),
                {"k": kot_b_khewat, "p": world.party[GUL]},
            )
    with owner_engine(e).connect() as conn:
        held = conn.execute(
            text("SELECT count(*) FROM share WHERE khewat_id = :k"), {"k": kot_b_khewat}
        ).scalar_one()
    assert held == 2


def test_the_engine_names_the_session_in_the_databases_own_audit_rows(world: World) -> None:
    """The triggers' rows of a sanction name the same actor as the engine's row."""
    e = world.engine
    mid = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    first = snapshot(e)["audit_log"][-1][0]
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    with e.connect() as conn:
        rows = conn.execute(
            text("SELECT actor, action, entity FROM audit_log WHERE id > :i ORDER BY id"),
            {"i": first},
        ).all()
    label = officer(e, TEHSILDAR).label
    assert {a for a, _, _ in rows} == {label}
    assert {(b, c) for _, b, c in rows} >= {
        ("db.update", "share"),
        ("db.insert", "share"),
        ("db.update", "mutation"),
        ("mutation.sanction", "mutation"),
    }
