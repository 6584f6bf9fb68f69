"""Farmer sign-in (issue 14 §6): one-time codes that cannot be brute-forced, answers that
do not tell whether a CNIC holds land, and no code readable after hand-over.

Everything runs against a real PostGIS as the application role; time is moved by ageing
the rows (as the owner), never by faking a clock.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from security_support import owner_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from landgov.advisories.farmer import (
    CODE_FORMAT,
    CODE_REFUSED,
    CODE_SENT,
    REDACTED,
    CodeAnswer,
    request_code,
    verify_code,
)
from landgov.config import load_settings
from landgov.errors import InvalidCNIC
from landgov.storage.engine import get_engine

PHONE = "+923001234567"
SHARED_PHONE = "+923217654321"
UNKNOWN = "11111-1111111-1"


@dataclass(frozen=True)
class Person:
    party_id: int
    cnic: str
    phone: str | None


def _person(engine: Engine, pid: int, cnic: str, phone: str | None, language: str = "en") -> Person:
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO party (id, kind, cnic, name, gender) VALUES"
                " (:i, 'person', :c, :n, 'male')"
            ),
            {"i": pid, "c": cnic, "n": f"Farmer {pid}"},
        )
        if phone is not None:
            conn.execute(
                text(
                    "INSERT INTO farmer_contact (party_id, phone, language, opted_in_on)"
                    " VALUES (:i, :p, :l, '2025-01-01')"
                ),
                {"i": pid, "p": phone, "l": language},
            )
    return Person(pid, cnic, phone)


@pytest.fixture
def people(engine: Engine) -> dict[str, Person]:
    """A farmer with a phone, two sharing one phone, one without a phone."""
    return {
        "farmer": _person(engine, 101, "35202-1000001-1", PHONE),
        "first": _person(engine, 102, "35202-1000002-1", SHARED_PHONE),
        "second": _person(engine, 103, "35202-1000003-1", SHARED_PHONE, "ur"),
        "no_phone": _person(engine, 104, "35202-1000004-1", None),
    }


def ask(engine: Engine, cnic: str) -> CodeAnswer:
    with engine.begin() as conn:
        return request_code(conn, cnic)


def check(engine: Engine, cnic: str, code: str) -> tuple[int | None, str]:
    with engine.begin() as conn:
        return verify_code(conn, cnic, code)


def latest_code(engine: Engine, party_id: int) -> str:
    """The code in the person's newest queued OTP message (what their phone receives)."""
    with engine.connect() as conn:
        body = conn.execute(
            text(
                "SELECT body FROM sms_outbox WHERE party_id = :p AND purpose = 'otp'"
                " AND status = 'queued' ORDER BY id DESC LIMIT 1"
            ),
            {"p": party_id},
        ).scalar_one()
    found = re.search(r"\d{6}", body)
    assert found is not None, body
    return found.group()


def count(engine: Engine, sql: str, **params: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def outcomes(engine: Engine, action: str) -> dict[str, int]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT outcome, count(*) FROM farmer_signin_attempt WHERE action = :a"
                " GROUP BY outcome"
            ),
            {"a": action},
        ).all()
    return {str(o): int(n) for o, n in rows}


def age(engine: Engine, minutes: int) -> None:
    """Moves every code, OTP message and attempt ``minutes`` into the past."""
    shift = {"m": minutes}
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text("UPDATE farmer_signin_attempt SET at = at - make_interval(mins => :m)"), shift
        )
        conn.execute(
            text(
                "UPDATE farmer_otp SET created_at = created_at - make_interval(mins => :m),"
                " expires_at = expires_at - make_interval(mins => :m)"
            ),
            shift,
        )
        conn.execute(
            text(
                "UPDATE sms_outbox SET created_at = created_at - make_interval(mins => :m),"
                " expires_at = expires_at - make_interval(mins => :m)"
            ),
            shift,
        )


def wrong_codes(right: str) -> Iterator[str]:
    """Every six-digit code but ``right``, in order."""
    return (f"{n:06d}" for n in range(10**6) if f"{n:06d}" != right)


def test_brute_force_is_stopped_within_the_budget(
    engine: Engine, people: dict[str, Person]
) -> None:
    """The bound of landgov.advisories.farmer: 10 checked failures per CNIC in any 24
    hours, 10^6 codes, so at most 10/10^6 = 1e-5 < 1e-4 per CNIC per day."""
    farmer = people["farmer"]
    # a flood of code requests: three codes and three SMS in the hour, no more
    answers = [ask(engine, farmer.cnic) for _ in range(40)]
    assert [a.refused_by for a in answers[:3]] == [None, None, None]
    assert all(a.message == CODE_SENT for a in answers[:3])
    assert {a.refused_by for a in answers[3:]} == {"farmer_codes_per_hour"}
    assert count(engine, "SELECT count(*) FROM farmer_otp WHERE party_id = :p", p=101) == 3
    assert count(engine, "SELECT count(*) FROM sms_outbox WHERE phone = :ph", ph=PHONE) == 3
    right = latest_code(engine, farmer.party_id)
    # a flood of guesses against the live code: only ten are ever checked
    guesses = wrong_codes(right)
    answers_v = [check(engine, farmer.cnic, next(guesses)) for _ in range(300)]
    assert all(a == (None, CODE_REFUSED) for a in answers_v)
    assert outcomes(engine, "verify") == {"wrong": 10, "budget_spent": 290}
    # the budget is spent: the right code is refused too, and is not spent by that
    assert check(engine, farmer.cnic, right) == (None, CODE_REFUSED)
    assert count(engine, "SELECT count(*) FROM farmer_otp WHERE used_at IS NOT NULL") == 0
    # new codes do not reset it (a code asked for after the budget is spent is refused)
    age(engine, 61)
    assert ask(engine, farmer.cnic).refused_by is None
    assert check(engine, farmer.cnic, latest_code(engine, farmer.party_id)) == (
        None,
        CODE_REFUSED,
    )
    age(engine, 22 * 60)  # 23 h 1 min after the failures: still spent
    for _ in range(5):
        check(engine, farmer.cnic, next(guesses))
    assert outcomes(engine, "verify")["wrong"] == 10
    age(engine, 60)  # 24 h 1 min: the failures have aged out, the budget is back
    assert ask(engine, farmer.cnic) == CodeAnswer(CODE_SENT)
    assert check(engine, farmer.cnic, latest_code(engine, farmer.party_id)) == (
        farmer.party_id,
        "",
    )
    # over the whole attack: at most 10 wrong codes were checked in any 24 hours
    assert outcomes(engine, "verify")["wrong"] == 10
    assert outcomes(engine, "verify")["ok"] == 1


def test_parallel_guesses_cannot_slip_past_the_budget(
    engine: Engine, people: dict[str, Person]
) -> None:
    farmer = people["farmer"]
    ask(engine, farmer.cnic)
    right = latest_code(engine, farmer.party_id)
    guesses = [g for g, _ in zip(wrong_codes(right), range(60), strict=False)]
    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda g: check(engine, farmer.cnic, g), guesses))
    assert all(a == (None, CODE_REFUSED) for a in answers)
    assert outcomes(engine, "verify") == {"wrong": 10, "budget_spent": 50}


def test_codes_per_cnic_at_most_three_an_hour_and_ten_a_day(
    engine: Engine, people: dict[str, Person]
) -> None:
    farmer = people["farmer"]
    sent_each_hour = []
    refusals = set()
    for _ in range(6):
        before = count(engine, "SELECT count(*) FROM farmer_otp WHERE party_id = 101")
        for _ in range(5):
            answer = ask(engine, farmer.cnic)
            if answer.refused_by is not None:
                refusals.add(answer.refused_by)
                assert f"rule {answer.refused_by}" in answer.message
        sent_each_hour.append(
            count(engine, "SELECT count(*) FROM farmer_otp WHERE party_id = 101") - before
        )
        age(engine, 61)
    assert sent_each_hour == [3, 3, 3, 1, 0, 0]  # ten in 24 hours
    assert refusals == {"farmer_codes_per_hour", "farmer_codes_per_day"}
    age(engine, 24 * 60 - 6 * 61 + 2)  # the first hour's codes are now 24 h old
    assert ask(engine, farmer.cnic).refused_by is None


def test_codes_per_phone_are_limited_silently(engine: Engine, people: dict[str, Person]) -> None:
    """Two CNICs share a phone: the phone gets three codes an hour in all, and the fourth
    asker hears the usual words (telling more would tell that the CNICs share a phone)."""
    first, second = people["first"], people["second"]
    for _ in range(3):
        assert ask(engine, first.cnic) == CodeAnswer(CODE_SENT)
    assert ask(engine, second.cnic) == CodeAnswer(CODE_SENT)  # under its CNIC's limit
    phone_rows = "SELECT count(*) FROM sms_outbox WHERE phone = :ph AND purpose = 'otp'"
    assert count(engine, phone_rows, ph=SHARED_PHONE) == 3
    assert count(engine, "SELECT count(*) FROM farmer_otp WHERE party_id = 103") == 0
    assert outcomes(engine, "request") == {"sent": 3, "phone_limit": 1}
    age(engine, 61)
    assert ask(engine, second.cnic) == CodeAnswer(CODE_SENT)
    assert count(engine, phone_rows, ph=SHARED_PHONE) == 4
    with engine.connect() as conn:  # the Urdu message, to the second person
        language = conn.execute(
            text("SELECT language FROM sms_outbox WHERE party_id = 103")
        ).scalar_one()
    assert language == "ur"
    assert re.search(r"\d{6}", latest_code(engine, second.party_id))


def test_unknown_cnic_gets_the_same_answers_and_costs_the_same(
    engine: Engine, people: dict[str, Person]
) -> None:
    farmer, no_phone = people["farmer"], people["no_phone"]
    answers = {c: ask(engine, c) for c in (farmer.cnic, no_phone.cnic, UNKNOWN)}
    assert set(answers.values()) == {CodeAnswer(CODE_SENT)}
    with engine.connect() as conn:
        sent_to = conn.execute(text("SELECT party_id FROM sms_outbox")).scalars().all()
    assert sent_to == [farmer.party_id]  # nothing queued for the others
    right = latest_code(engine, farmer.party_id)
    wrong = next(wrong_codes(right))
    said = {check(engine, c, wrong) for c in (farmer.cnic, no_phone.cnic, UNKNOWN)}
    assert said == {(None, CODE_REFUSED)}
    # probing an unknown CNIC spends a budget exactly like a real one
    for _ in range(12):
        assert check(engine, UNKNOWN, wrong) == (None, CODE_REFUSED)
    with engine.connect() as conn:
        per_cnic = dict(
            conn.execute(
                text(
                    "SELECT coalesce(party_id, 0), count(*) FILTER (WHERE outcome = 'wrong')"
                    " FROM farmer_signin_attempt WHERE action = 'verify' GROUP BY 1"
                )
            ).all()
        )
    assert per_cnic == {0: 10, farmer.party_id: 1, no_phone.party_id: 1}
    # and the same code limit, in the same words
    for c in (farmer.cnic, UNKNOWN):
        ask(engine, c), ask(engine, c)
    assert ask(engine, farmer.cnic) == ask(engine, UNKNOWN)
    assert ask(engine, UNKNOWN).refused_by == "farmer_codes_per_hour"
    # bad input is refused by its rule, not counted
    with pytest.raises(InvalidCNIC), engine.begin() as conn:
        request_code(conn, "35202-12")
    assert check(engine, farmer.cnic, "12345") == (None, CODE_FORMAT)


def test_codes_work_once_only_the_newest_and_only_hashes_are_kept(
    engine: Engine, people: dict[str, Person]
) -> None:
    farmer = people["farmer"]
    ask(engine, farmer.cnic)
    old = latest_code(engine, farmer.party_id)
    ask(engine, farmer.cnic)
    new = latest_code(engine, farmer.party_id)
    if old != new:  # one chance in a million that they are the same
        assert check(engine, farmer.cnic, old) == (None, CODE_REFUSED)
    urdu = new.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹"))
    assert check(engine, farmer.cnic, urdu) == (farmer.party_id, "")  # typed in Urdu digits
    assert check(engine, farmer.cnic, new) == (None, CODE_REFUSED)  # spent
    with engine.connect() as conn:
        stored = " ".join(conn.execute(text("SELECT code_hash FROM farmer_otp")).scalars())
    assert new not in stored and old not in stored


def test_codes_expire_after_ten_minutes(engine: Engine, people: dict[str, Person]) -> None:
    farmer = people["farmer"]
    ask(engine, farmer.cnic)
    code = latest_code(engine, farmer.party_id)
    age(engine, 9)
    with engine.connect() as conn:  # still live: readable while queued
        shown = conn.execute(text("SELECT body FROM sms_outbox_readable")).scalar_one()
    assert code in shown
    age(engine, 2)  # 11 minutes old
    with engine.connect() as conn:  # the view hides it before any sweep
        row = conn.execute(text("SELECT body, status FROM sms_outbox_readable")).one()
    assert tuple(row) == (REDACTED, "expired")
    assert check(engine, farmer.cnic, code) == (None, CODE_REFUSED)
    ask(engine, farmer.cnic)  # every request sweeps expired messages out of the queue
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT body, status FROM sms_outbox ORDER BY id")).all()
    assert tuple(rows[0]) == (REDACTED, "expired")
    assert rows[1].status == "queued" and re.search(r"\d{6}", rows[1].body)


def test_otp_body_is_redacted_at_hand_over_and_never_readable_again(
    engine: Engine, people: dict[str, Person]
) -> None:
    farmer = people["farmer"]
    ask(engine, farmer.cnic)
    code = latest_code(engine, farmer.party_id)
    with engine.begin() as conn:  # the gateway hands it over
        conn.execute(text("UPDATE sms_outbox SET status = 'sent', sent_at = now()"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM sms_outbox")).scalar_one() == REDACTED
        assert conn.execute(text("SELECT body FROM sms_outbox_readable")).scalar_one() == REDACTED
    with engine.begin() as conn:  # neither writing it back nor re-queueing shows it
        conn.execute(
            text("UPDATE sms_outbox SET status = 'queued', body = :b"), {"b": f"code {code}"}
        )
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM sms_outbox")).scalar_one() == REDACTED
    with pytest.raises(DBAPIError, match="otp_redaction"), engine.begin() as conn:
        conn.execute(text("UPDATE sms_outbox SET purpose = 'advisory'"))
    # an OTP inserted already handed over is stored redacted
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO sms_outbox (party_id, phone, language, body, encoding, segments,"
                " purpose, status, expires_at) VALUES (101, :ph, 'en', 'code 123456', 'gsm7',"
                " 1, 'otp', 'sent', now() + interval '10 minutes')"
            ),
            {"ph": PHONE},
        )
        bodies = set(conn.execute(text("SELECT body FROM sms_outbox")).scalars())
    assert bodies == {REDACTED}
    # the reporting role reads the outbox only through the view
    report = get_engine(load_settings(), str(engine.url.database), "report")
    try:
        with pytest.raises(DBAPIError, match="permission denied"), report.connect() as conn:
            conn.execute(text("SELECT body FROM sms_outbox")).all()
        with report.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM sms_outbox_readable")).scalar() == 2
    finally:
        report.dispose()


def test_the_database_holds_the_limits_whoever_inserts(
    engine: Engine, people: dict[str, Person]
) -> None:
    """Behind the application: codes and OTP messages over the limits are refused by
    triggers, and the attempt log cannot be rewritten by the application role."""
    insert_otp = text(
        "INSERT INTO farmer_otp (party_id, code_hash, expires_at, created_at)"
        " VALUES (101, repeat('a', 64), now() + interval '10 minutes', now() - interval '2 days')"
    )
    for _ in range(3):
        with engine.begin() as conn:
            conn.execute(insert_otp)  # back-dated: the trigger stamps it now
    with pytest.raises(DBAPIError, match="farmer_codes_per_hour"), engine.begin() as conn:
        conn.execute(insert_otp)
    insert_sms = text(
        "INSERT INTO sms_outbox (party_id, phone, language, body, encoding, segments, purpose,"
        " expires_at) VALUES (102, :ph, 'en', 'x', 'gsm7', 1, 'otp', now() + interval '1 hour')"
    )
    for _ in range(3):
        with engine.begin() as conn:
            conn.execute(insert_sms, {"ph": SHARED_PHONE})
    with pytest.raises(DBAPIError, match="farmer_codes_per_hour"), engine.begin() as conn:
        conn.execute(insert_sms, {"ph": SHARED_PHONE})
    ask(engine, UNKNOWN)
    for sql in ("UPDATE farmer_signin_attempt SET at = at - interval '1 day'",
                "DELETE FROM farmer_signin_attempt"):  # fmt: skip
        with pytest.raises(DBAPIError, match="permission denied"), engine.begin() as conn:
            conn.execute(text(sql))
    assert count(engine, "SELECT count(*) FROM farmer_signin_attempt") == 1


def test_farmer_page_anonymous_sign_in_shows_only_own_parcels(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page on its own (no dashboard context, no officer session): the same words for
    an unknown CNIC, the code from the SMS opens only the farmer's parcels, and the view
    is an access-log row naming the farmer by masked CNIC."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.app.dashboard_support import ROOT, database_url, insert_tiny_mouza

    tiny = insert_tiny_mouza(owner_engine(engine))
    mine, theirs = tiny.cnics
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text("INSERT INTO farmer_contact (party_id, phone, language) VALUES (1, :p, 'en')"),
            {"p": PHONE},
        )
    monkeypatch.setenv("LANDGOV_DATABASE_URL", database_url(engine))
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        page = ROOT / "app" / "views" / "farmer" / "view.py"
        at = AppTest.from_file(str(page), default_timeout=60)
        at.run()
        assert not at.exception, [e.value for e in at.exception]
        at.text_input(key="farmer_cnic").input(UNKNOWN).run()
        at.button(key="farmer_send").click().run()
        unknown_said = [i.value for i in at.info]
        at.text_input(key="farmer_cnic").input(mine).run()
        at.button(key="farmer_send").click().run()
        assert [i.value for i in at.info] == unknown_said == [CODE_SENT]
        code = latest_code(engine, 1)
        at.text_input(key="farmer_code").input(next(wrong_codes(code))).run()
        at.button(key="farmer_open").click().run()
        assert [e.value for e in at.error] == [CODE_REFUSED]
        at.text_input(key="farmer_code").input(code).run()
        at.button(key="farmer_open").click().run()
        assert not at.exception, [e.value for e in at.exception]
        assert any("Farmer 1" in h.value or "Ahmad Khan" in h.value for h in at.subheader)
        table = at.dataframe[0].value
        assert sorted(table["Khasra"]) == ["11", "12"]
        assert set(table["Your share"]) == {"1/3"}
        shown = " ".join(
            str(x.value) for kind in ("markdown", "caption", "subheader", "dataframe", "info")
            for x in getattr(at, kind)
        )  # fmt: skip
        assert theirs not in shown and "Fatima" not in shown
        with engine.connect() as conn:
            logged = conn.execute(
                text("SELECT actor, user_id, action, subject_kind, subject FROM access_log")
            ).all()
        assert logged and {tuple(r) for r in logged} == {
            ("farmer:35202-*******-1", None, "farmer.view", "party", "1")
        }
        at.button(key="farmer_signout").click().run()
        assert at.text_input(key="farmer_cnic") is not None and not at.dataframe
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()


def test_show_command_needs_a_reader_masks_the_cnic_and_logs_the_read(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``landgov advisories show`` (an officer's look-up of one farmer): refused without
    a session or without ``personal.read``; the CNIC in full only for an officer posted
    over the farmer's land today; every read an access-log row."""
    from security_support import officer_actor, person_actor
    from typer.testing import CliRunner

    from landgov.cli._shell import save_session
    from landgov.cli.main import app
    from landgov.storage import engine as engine_module
    from tests.app.dashboard_support import database_url, insert_tiny_mouza

    tiny = insert_tiny_mouza(owner_engine(engine))
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (4, 'tehsil', 'Ferozewala', 2);"
                "INSERT INTO officer (id, name, designation, cnic) VALUES"
                " (1, 'Shafqat Hussain', 'patwari', '35202-7777777-9'),"
                " (2, 'Imran Shah', 'patwari', '35202-8888888-9');"
                "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from)"
                " VALUES (1, 3, '2020-01-01'), (2, 4, '2020-01-01')"
            )
        )
    here, elsewhere = (
        officer_actor(engine, "35202-7777777-9"),
        officer_actor(engine, "35202-8888888-9"),
    )
    auditor = person_actor(engine, "show.auditor", roles=["auditor"])
    admin = person_actor(engine, "show.admin", roles=["administrator"])
    monkeypatch.setenv("LANDGOV_DATABASE_URL", database_url(engine))
    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(tmp_path / "session.json"))
    engine_module._engine_for.cache_clear()
    show = ["advisories", "show", "--cnic", tiny.cnics[0], "--json"]
    try:
        res = CliRunner().invoke(app, show)
        assert res.exit_code == 1 and "not signed in" in res.output
        save_session(admin.token, admin.username)
        res = CliRunner().invoke(app, show)
        assert res.exit_code == 1 and "refused by rule role" in res.output
        seen = {}
        for who in (here, elsewhere, auditor):
            save_session(who.token, who.username)
            res = CliRunner().invoke(app, show)
            assert res.exit_code == 0, res.output
            seen[who.username] = json.loads(res.output)
    finally:
        engine_module._engine_for.cache_clear()
    assert seen[here.username]["cnic"] == tiny.cnics[0]
    assert seen[elsewhere.username]["cnic"] == tiny.masked[0]
    assert seen[auditor.username]["cnic"] == tiny.masked[0]
    assert {p["khasra"] for p in seen[auditor.username]["parcels"]} == {"11", "12"}
    assert tiny.cnics[1] not in json.dumps(seen)
    with engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT actor, user_id, subject_kind, subject, details ->> 'unmasked'"
                " FROM access_log WHERE action = 'advisories.show' ORDER BY id"
            )
        ).all()
    assert [tuple(r) for r in logged] == [
        (here.label, here.user_id, "party", "1", "true"),
        (elsewhere.label, elsewhere.user_id, "party", "1", "false"),
        (auditor.label, auditor.user_id, "party", "1", "false"),
    ]
