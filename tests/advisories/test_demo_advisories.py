"""The advisory batch on the demo district: the planted water-stressed, late-sown and
cloudy-season parcels (synthetic imagery) get the right advice in both languages, a rerun
queues nothing twice, and a farmer sees only their own parcels."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from imagery.ingest import ingest
from imagery.series import parcel_series
from landgov.advisories.contacts import load_contacts
from landgov.advisories.run import RunReport, run_advisories
from landgov.config import Settings
from landgov.demo.imagery_s2 import synthesize_s2
from landgov.domain.sms import sms_size

AS_OF = date(2026, 3, 5)
DATES = [date(2025, 11, 1) + timedelta(days=5 * i) for i in range(25)]  # to 2026-03-01


@pytest.fixture(scope="module")
def advised(
    settings: Settings,
    demo_engine: Engine,
    demo_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Engine, dict[str, int], RunReport, Path]]:
    """A demo copy with a rabi series of Kot Pindi Das, its zonal NDVI/WDRVI/NDMI, the demo
    contacts, and one advisory run; plant -> khasra id from advisory_truth.csv."""
    from database_support import _copy_demo, _drop
    from security_support import service_actor

    tmp = tmp_path_factory.mktemp("advisories")
    eng = _copy_demo(settings, demo_engine)
    files = synthesize_s2(eng, tmp / "s2", dates=DATES, mouza=1)
    ingest(eng, files, home=tmp / "home", kind="sentinel-2", actor=service_actor(eng, "imagery"))
    for ix in ("ndvi", "wdrvi", "ndmi"):
        parcel_series(eng, mouza=1, index=ix, home=tmp / "home")
    load_contacts(eng, demo_dir / "farmer_contacts.csv", actor=service_actor(eng, "advisories"))
    with (tmp / "s2" / "advisory_truth.csv").open() as fh:
        plants = {r["plant"]: int(r["khasra_id"]) for r in csv.DictReader(fh)}
    report = run_advisories(eng, AS_OF, mouza_id=1, actor=service_actor(eng, "advisories"))
    yield eng, plants, report, tmp
    eng.dispose()
    _drop(settings, str(eng.url.database))


def _advice(eng: Engine, khasra_id: int) -> dict[str, dict[str, Any]]:
    with eng.connect() as conn:
        rows = conn.execute(
            text("SELECT * FROM advisory WHERE khasra_id = :k"), {"k": khasra_id}
        ).mappings()
        return {r["kind"]: dict(r) for r in rows}


def test_planted_water_stress_in_both_languages(advised: Any) -> None:
    eng, plants, _, _ = advised
    a = _advice(eng, plants["water_stress"])["water_stress"]
    assert a["level"] == "warning" and a["confidence"] > 0.5
    assert a["evidence"]["deficit"] >= 0.1
    assert a["evidence"]["date"] >= "2026-02-20"  # after the canopy began to dry (10 Feb)
    assert "water stress" in a["sms_en"] and "Irrigate" in a["sms_en"]
    assert "پانی کی کمی" in a["sms_ur"] and "پانی لگائیں" in a["sms_ur"]
    assert sms_size(a["sms_ur"]).units <= 70 and sms_size(a["sms_en"]).units <= 160
    with eng.connect() as conn:
        stressed = (
            conn.execute(text("SELECT khasra_id FROM advisory WHERE kind = 'water_stress'"))
            .scalars()
            .all()
        )
    assert stressed == [plants["water_stress"]]  # and nowhere else in the mouza


def test_planted_late_sowing_in_both_languages(advised: Any) -> None:
    eng, plants, _, _ = advised
    a = _advice(eng, plants["late_sowing"])["late_sowing"]
    assert a["level"] == "warning" and 21 <= a["evidence"]["days_late"] <= 40
    assert "days later than nearby wheat" in a["sms_en"]
    assert "بوائی" in a["sms_ur"] and "دیر سے" in a["sms_ur"]
    with eng.connect() as conn:
        late = (
            conn.execute(text("SELECT khasra_id FROM advisory WHERE kind = 'late_sowing'"))
            .scalars()
            .all()
        )
    assert late == [plants["late_sowing"]]


def test_cloudy_season_parcel_says_not_enough_imagery(advised: Any) -> None:
    eng, plants, _, _ = advised
    found = _advice(eng, plants["cloudy_season"])
    assert set(found) == {"insufficient_imagery"}  # no guessed health, stress or yield
    a = found["insufficient_imagery"]
    assert a["evidence"]["clear"] < a["evidence"]["observations"] / 2
    assert "not enough clear satellite images" in a["sms_en"]
    assert "مشورہ ممکن نہیں" in a["sms_ur"]
    with eng.connect() as conn:  # told on the dashboard, never texted
        n = conn.execute(
            text("SELECT count(*) FROM sms_outbox WHERE kind = 'insufficient_imagery'")
        ).scalar_one()
    assert n == 0


def test_owners_who_opted_in_get_one_sms_and_a_rerun_sends_nothing_twice(advised: Any) -> None:
    eng, plants, first, _ = advised
    with eng.connect() as conn:
        to = (
            conn.execute(
                text(
                    "SELECT o.party_id, o.language, o.body, o.segments, c.opted_in_on,"
                    " c.opted_out_on FROM sms_outbox o JOIN farmer_contact c USING (party_id)"
                    " WHERE o.khasra_id = :k AND o.kind = 'water_stress'"
                ),
                {"k": plants["water_stress"]},
            )
            .mappings()
            .all()
        )
        owners = conn.execute(
            text(
                "SELECT count(DISTINCT s.party_id) FROM khewat_khasra kk JOIN share s"
                " ON s.khewat_id = kk.khewat_id AND s.right_type = 'ownership'"
                " AND s.valid_from <= :d AND (s.valid_to IS NULL OR s.valid_to > :d)"
                " JOIN farmer_contact c ON c.party_id = s.party_id"
                " AND c.opted_in_on <= :d AND (c.opted_out_on IS NULL OR c.opted_out_on > :d)"
                " WHERE kk.khasra_id = :k AND kk.valid_to IS NULL"
            ),
            {"k": plants["water_stress"], "d": AS_OF},
        ).scalar_one()
        total = conn.execute(text("SELECT count(*) FROM sms_outbox")).scalar_one()
    assert owners >= 1 and len(to) == owners  # every consenting owner, once
    assert all(r["segments"] == 1 for r in to)
    assert all(r["opted_in_on"] <= AS_OF and r["opted_out_on"] is None for r in to)
    assert first.queued == total > 0
    again = run_advisories(eng, AS_OF, mouza_id=1, actor=service_actor(eng, "advisories"))
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sms_outbox")).scalar_one() == total
        kinds = conn.execute(
            text("SELECT count(*) FROM advisory WHERE khasra_id = :k"),
            {"k": plants["water_stress"]},
        ).scalar_one()
    assert again.queued == 0 and again.already_queued == total
    assert kinds == len(_advice(eng, plants["water_stress"]))  # refreshed, not duplicated


def test_show_lists_only_the_farmers_own_parcels(
    advised: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """For a signed-in reader only, logged, the CNIC masked for an auditor (the officer
    posted over the land sees it in full: tests/advisories/test_farmer_signin.py)."""
    from security_support import person_actor, service_actor
    from typer.testing import CliRunner

    from landgov.cli._shell import save_session
    from landgov.cli.main import app
    from landgov.domain.cnic import mask_cnic
    from landgov.storage import engine as engine_module

    eng, plants, _, _ = advised
    with eng.connect() as conn:
        cnic = conn.execute(
            text(
                "SELECT p.cnic FROM share s JOIN khewat_khasra kk ON kk.khewat_id = s.khewat_id"
                " JOIN party p ON p.id = s.party_id WHERE kk.khasra_id = :k"
                " AND s.valid_to IS NULL AND kk.valid_to IS NULL AND s.right_type = 'ownership'"
                " ORDER BY p.id LIMIT 1"
            ),
            {"k": plants["water_stress"]},
        ).scalar_one()
        others = set(
            conn.execute(text("SELECT cnic FROM party WHERE cnic IS NOT NULL")).scalars()
        ) - {cnic}
    auditor = person_actor(eng, "farmer.show.auditor", roles=["auditor"])
    monkeypatch.setenv("LANDGOV_DATABASE_URL", eng.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LANDGOV_HOME", str(tmp_path))
    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(tmp_path / "session.json"))
    engine_module._engine_for.cache_clear()
    show = ["advisories", "show", "--cnic", cnic, "--on", AS_OF.isoformat(), "--json"]
    try:
        anonymous = CliRunner().invoke(app, show)
        assert anonymous.exit_code == 1 and "not signed in" in anonymous.output
        save_session(auditor.token, auditor.username)
        res = CliRunner().invoke(app, show)
        assert res.exit_code == 0, res.output
        view = json.loads(res.output)
        assert view["cnic"] == mask_cnic(cnic)  # an auditor: masked
        with eng.connect() as conn:
            logged = conn.execute(
                text(
                    "SELECT actor, subject_kind, subject FROM access_log"
                    " WHERE action = 'advisories.show'"
                )
            ).all()
        assert [tuple(r) for r in logged] == [(auditor.label, "party", str(view["party_id"]))]
        mine = {p["khasra_id"]: p for p in view["parcels"]}
        assert plants["water_stress"] in mine
        kinds = {a["kind"] for a in mine[plants["water_stress"]]["advisories"]}
        assert "water_stress" in kinds
        assert not any(other in res.output for other in others)  # nobody else's CNIC
        missing = CliRunner().invoke(app, ["advisories", "show", "--cnic", "00000-0000000-0"])
        assert missing.exit_code == 1 and "no person with CNIC" in missing.output
        runner = service_actor(eng, "advisories")  # a batch job, signed in as its service
        save_session(runner.token, runner.username)
        runs = CliRunner().invoke(
            app,
            [
                "advisories",
                "run",
                "--as-of",
                AS_OF.isoformat(),
                "--mouza",
                "Kot Pindi Das",
                "--json",
            ],
        )
        assert runs.exit_code == 0 and json.loads(runs.output)["sms_queued"] == 0
    finally:
        engine_module._engine_for.cache_clear()


def test_contacts_bad_rows_are_named_and_nothing_is_written(advised: Any, tmp_path: Path) -> None:
    from landgov.errors import ImportRejected

    eng, *_ = advised
    with eng.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM farmer_contact")).scalar_one()
        cnic = conn.execute(text("SELECT cnic FROM party WHERE cnic IS NOT NULL LIMIT 1")).scalar()
    path = tmp_path / "c.csv"
    path.write_text(
        "cnic,phone,language,opted_in_on,opted_out_on\n"
        f"{cnic},+92 300 1234567,ur,2025-01-01,\n"
        "99999-9999999-9,03001234567,ur,,\n"
        f"{cnic},021-1234567,fr,2025-13-01,\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as err:
        load_contacts(eng, path, actor=service_actor(eng, "advisories"))
    shown = str(err.value)
    assert "row 2, field 'cnic'" in shown and "row 3, field 'phone'" in shown
    assert "row 3, field 'language'" in shown and "row 3, field 'opted_in_on'" in shown
    with eng.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM farmer_contact")).scalar_one() == before


def test_farmer_page_needs_the_code_and_shows_only_own_parcels(
    advised: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import re

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from landgov.advisories.farmer import CODE_REFUSED, CODE_SENT
    from tests.app.dashboard_support import DASHBOARD, database_url

    eng, plants, _, _ = advised
    with eng.connect() as conn:
        pid, cnic, name = conn.execute(
            text(
                "SELECT p.id, p.cnic, p.name FROM share s JOIN khewat_khasra kk"
                " ON kk.khewat_id = s.khewat_id JOIN party p ON p.id = s.party_id"
                " JOIN farmer_contact c ON c.party_id = p.id WHERE kk.khasra_id = :k"
                " AND s.valid_to IS NULL AND kk.valid_to IS NULL AND s.right_type = 'ownership'"
                " ORDER BY p.id LIMIT 1"
            ),
            {"k": plants["water_stress"]},
        ).one()
        others = set(
            conn.execute(text("SELECT cnic FROM party WHERE cnic IS NOT NULL")).scalars()
        ) - {cnic}
    monkeypatch.setenv("LANDGOV_DATABASE_URL", database_url(eng))
    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(DASHBOARD), default_timeout=120)
    at.query_params["lang"] = "en"  # English whatever language the farmer registered
    at.run()
    at.switch_page("views/farmer/view.py").run()  # an anonymous visitor's "Farmer sign-in"
    assert not at.exception
    at.text_input(key="farmer_cnic").input(cnic).run()
    at.button(key="farmer_send").click().run()
    assert [i.value for i in at.info] == [CODE_SENT]
    with eng.connect() as conn:
        body = conn.execute(
            text(
                "SELECT body FROM sms_outbox WHERE party_id = :p AND purpose = 'otp'"
                " ORDER BY id DESC LIMIT 1"
            ),
            {"p": pid},
        ).scalar_one()
    code = re.search(r"\d{6}", body.translate(str.maketrans("۰۱۲۳۴۵۶۷۸۹", "0123456789")))
    assert code is not None
    wrong = "000000" if code.group() != "000000" else "111111"
    at.text_input(key="farmer_code").input(wrong).run()
    at.button(key="farmer_open").click().run()
    assert [e.value for e in at.error] == [CODE_REFUSED]
    at.text_input(key="farmer_code").input(code.group()).run()
    at.button(key="farmer_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(name in h.value for h in at.subheader)
    table = at.dataframe[0].value
    assert len(table) >= 1
    with eng.connect() as conn:
        number = conn.execute(
            text("SELECT number FROM khasra WHERE id = :k"), {"k": plants["water_stress"]}
        ).scalar_one()
    assert number in table["Khasra"].tolist()
    # the parcel picker holds khasra ids (one picker per language: farmer_parcel_<lang>)
    at.selectbox(key="farmer_parcel_en").select(plants["water_stress"]).run()
    assert "canopy moisture index" in " ".join(m.value for m in at.markdown)
    (switch,) = at.button_group  # the page's language switch: the whole page in Urdu
    switch.set_value("ur").run()
    assert "پانی کی کمی" in " ".join(m.value for m in at.markdown)
    everything = " ".join(
        str(x.value) for kind in ("markdown", "caption", "subheader", "dataframe")
        for x in getattr(at, kind)
    )  # fmt: skip
    assert not any(other in everything for other in others)
    assert at.get("arrow_vega_lite_chart") or at.get("vega_lite_chart")  # the NDVI chart
    with eng.connect() as conn:  # each view of the farmer's record is an access-log row
        actors = set(
            conn.execute(
                text("SELECT actor FROM access_log WHERE action = 'farmer.view' AND subject = :s"),
                {"s": str(pid)},
            ).scalars()
        )
    assert actors == {f"farmer:{cnic[:5]}-*******-{cnic[-1]}"}
    st.cache_data.clear()


def test_demo_farmer_gets_a_code_in_their_language_and_strangers_the_same_answer(
    advised: Any,
) -> None:
    """On the demo: the code goes to the farmer's phone in their language and works once;
    a person with no phone hears the same words and nothing is queued (the limits, the
    budget and the redaction: tests/advisories/test_farmer_signin.py)."""
    import re

    from landgov.advisories.farmer import (
        CODE_REFUSED,
        CODE_SENT,
        CodeAnswer,
        request_code,
        verify_code,
    )

    eng, *_ = advised
    with eng.connect() as conn:
        pid, cnic, language = conn.execute(
            text(
                "SELECT p.id, p.cnic, c.language FROM farmer_contact c"
                " JOIN party p ON p.id = c.party_id WHERE c.language = 'ur'"
                " ORDER BY p.id DESC LIMIT 1"
            )
        ).one()
        other, stranger = conn.execute(
            text(
                "SELECT id, cnic FROM party WHERE kind = 'person' AND id NOT IN"
                " (SELECT party_id FROM farmer_contact) LIMIT 1"
            )
        ).one()
        queued = conn.execute(text("SELECT count(*) FROM sms_outbox")).scalar_one()
    for who in (cnic, stranger):
        with eng.begin() as conn:
            assert request_code(conn, who) == CodeAnswer(CODE_SENT)
    with eng.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT party_id, language, body FROM sms_outbox WHERE purpose = 'otp'"
                " AND party_id IN (:p, :o)"
            ),
            {"p": pid, "o": other},
        ).all()
        assert conn.execute(text("SELECT count(*) FROM sms_outbox")).scalar_one() == queued + 1
    assert [(r.party_id, r.language) for r in rows] == [(pid, language)]
    assert "کوڈ" in rows[0].body
    found = re.search(r"\d{6}", rows[0].body)
    assert found is not None
    with eng.begin() as conn:
        assert verify_code(conn, cnic, found.group()) == (pid, "")
    with eng.begin() as conn:
        assert verify_code(conn, cnic, found.group()) == (None, CODE_REFUSED)  # used


def test_batch_steps_are_audited_as_their_service_and_others_are_refused(
    advised: Any, tmp_path: Path
) -> None:
    """The run and the contacts load name the advisories service in the audit log (file
    digest and counts, never a phone number); who lacks the capability changes nothing."""
    from security_support import staff_actor

    from landgov.errors import AccessDenied

    eng, _, report, _ = advised
    with eng.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT action, actor, entity_id, details FROM audit_log WHERE action IN"
                " ('run advisories', 'load farmer contacts') ORDER BY seq"
            )
        ).all()
        phones = conn.execute(text("SELECT phone FROM farmer_contact")).scalars().all()
    assert {r.actor for r in rows} == {"service:advisories"}
    loads = [r for r in rows if r.action == "load farmer contacts"]
    assert loads and loads[0].details["contacts"] == len(phones)
    assert len(loads[0].details["sha256"]) == 64
    run = next(
        r for r in rows if r.action == "run advisories" and r.entity_id == str(report.run_id)
    )
    assert run.details["sms_queued"] == report.queued
    logged = " ".join(str(r.details) for r in rows)
    assert phones and not any(p in logged or p[3:] in logged for p in phones)

    analyst = staff_actor(eng, "revenue_analyst")
    before = _counts(eng)
    with pytest.raises(AccessDenied, match="may not run farmer advisories"):
        run_advisories(eng, AS_OF, mouza_id=1, actor=analyst)
    path = tmp_path / "c.csv"
    path.write_text("cnic,phone\n", encoding="utf-8")
    with pytest.raises(AccessDenied, match="may not load farmer contacts"):
        load_contacts(eng, path, actor=analyst)
    assert _counts(eng) == before


def _counts(eng: Engine) -> tuple[int, ...]:
    with eng.connect() as conn:
        return tuple(
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("advisory_run", "advisory", "sms_outbox", "farmer_contact", "audit_log")
        )


def test_outbox_masks_phones_hides_codes_and_logs_the_read(
    advised: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cli_support import invoke, sign_in, use_database
    from security_support import staff_actor

    from landgov.advisories.farmer import REDACTED
    from landgov.advisories.outbox import mask_phone

    assert mask_phone("+923001234567") == "+*********567"
    eng, *_ = advised
    with eng.connect() as conn:
        queued = conn.execute(
            text("SELECT phone, purpose, body FROM sms_outbox WHERE status = 'queued'"
                 " ORDER BY created_at DESC, id DESC")
        ).all()  # fmt: skip
    assert queued
    use_database(eng, tmp_path, monkeypatch)
    anonymous = invoke("advisories", "outbox")
    assert anonymous.exit_code == 1 and "not signed in" in anonymous.output
    analyst = staff_actor(eng, "revenue_analyst")  # may not read the outbox
    sign_in(eng, analyst.username)
    refused = invoke("advisories", "outbox")
    assert refused.exit_code == 1 and "refused by rule role" in refused.output
    auditor = staff_actor(eng, "auditor")
    sign_in(eng, auditor.username)
    res = invoke("advisories", "outbox", "--json", "--limit", "500")
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert [r["phone"] for r in shown] == [mask_phone(q.phone) for q in queued]
    assert not any(q.phone in res.output for q in queued)
    assert all(r["phone"][-3:] == q.phone[-3:] for r, q in zip(shown, queued, strict=True))
    for r, q in zip(shown, queued, strict=True):  # a one-time code is never shown
        assert r["body"] == (REDACTED if q.purpose == "otp" else q.body)
    by_phone = invoke("advisories", "outbox", "--phone", queued[0].phone)
    assert by_phone.exit_code == 0 and queued[0].phone not in by_phone.output
    with eng.connect() as conn:
        reads = conn.execute(
            text("SELECT actor, subject_kind, subject FROM access_log"
                 " WHERE action = 'sms_outbox.read' ORDER BY id")
        ).all()  # fmt: skip
    assert [tuple(r) for r in reads] == [
        (auditor.label, "phone", "*"), (auditor.label, "phone", queued[0].phone),
    ]  # fmt: skip
