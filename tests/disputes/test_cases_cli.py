"""``landgov disputes cases|show|review|confirm|dismiss|refer`` on the scanned demo, as the
person signed in (the session file ``landgov login`` writes), never a CNIC typed in."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from case_support import ON, first_case, officer, posted, staff_member, status_of
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from landgov.cli._shell import forget_session, save_session
from landgov.cli.main import app
from landgov.disputes.scan import scan
from landgov.domain import mask_cnic
from landgov.security import Actor
from landgov.storage import engine as engine_module


@pytest.fixture
def cli(demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The scanned demo copy, with the CLI pointed at it and a session file of its own."""
    scan(demo_copy, actor=service_actor(demo_copy, "disputes"))
    monkeypatch.setenv("LANDGOV_DATABASE_URL", demo_copy.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LANDGOV_HOME", str(tmp_path))
    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(tmp_path / "state" / "session.json"))
    engine_module._engine_for.cache_clear()
    return demo_copy


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["disputes", *args])


def as_user(actor: Actor) -> None:
    """Signs ``actor`` in for the next commands, as ``landgov login`` would."""
    save_session(actor.token, actor.username)


def said(result: Result) -> str:
    return " ".join(result.output.split())  # rich wraps long lines


def an_officer(engine: Engine, demo_dir: Path, designation: str, unit: str) -> Actor:
    return officer(engine, demo_dir, posted(engine, designation, unit))


def test_cases_json_is_the_officers_queue_riskiest_first(cli: Engine, demo_dir: Path) -> None:
    as_user(staff_member(cli, demo_dir, "auditor"))  # no posting: every mouza
    every = run("cases", "--json")
    assert every.exit_code == 0, every.output
    rows = json.loads(every.output)
    risks = [r["risk"] for r in rows]
    assert risks == sorted(risks, reverse=True) and len(rows) > 1
    as_user(an_officer(cli, demo_dir, "patwari", "Burj Karam Singh"))
    mine = run("cases", "--json")
    assert mine.exit_code == 0, mine.output
    assert json.loads(mine.output) == [r for r in rows if r["mouza"] == "Burj Karam Singh"]
    by_mouza = run("cases", "--json", "--mouza", "Burj Karam Singh", "--status", "open")
    assert json.loads(by_mouza.output) == json.loads(mine.output)
    assert json.loads(run("cases", "--json", "--status", "referred").output) == []
    as_user(an_officer(cli, demo_dir, "tehsildar", "Muridke"))  # another tehsil
    assert json.loads(run("cases", "--json").output) == []


def test_cases_needs_a_session_and_takes_no_officer_option(cli: Engine, demo_dir: Path) -> None:
    anonymous = run("cases")
    assert anonymous.exit_code == 1 and "not signed in" in said(anonymous)
    as_user(staff_member(cli, demo_dir, "analyst"))  # reads valuations, not cases
    analyst = run("cases")
    assert analyst.exit_code == 1 and "refused by rule role" in said(analyst)
    as_user(an_officer(cli, demo_dir, "girdawar", "Kot Rehmat"))
    table = run("cases", "--mouza", "Chak Mehr Wala")
    assert table.exit_code == 0, table.output
    assert "Chak Mehr Wala" in table.output and "Burj Karam Singh" not in table.output
    assert "case(s)" in table.output
    bad = run("cases", "--status", "closed")
    assert bad.exit_code == 1 and "unknown case status closed" in bad.output
    gone = run("cases", "--officer", "35202-1234567-1")
    assert gone.exit_code == 2 and "No such option" in gone.output  # identity: the session
    assert "Traceback" not in bad.output + anonymous.output
    forget_session()
    assert run("cases").exit_code == 1


def _heir_case(engine: Engine) -> int:
    """A case whose evidence names an omitted heir with the heir's CNIC."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                    " ON f.id = cf.flag_id WHERE f.rule_id = 'omitted_heir'"
                    " ORDER BY cf.case_id LIMIT 1"
                )
            ).scalar_one()
        )


def test_show_masks_cnics_unless_posted_there_and_logs_the_read(
    cli: Engine, demo_dir: Path
) -> None:
    cid = _heir_case(cli)
    as_user(an_officer(cli, demo_dir, "girdawar", "Kot Rehmat"))  # posted over every mouza
    shown = run("show", str(cid), "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert detail["case"]["id"] == cid and detail["case"]["status"] == "open"
    assert {"risk", "flags", "parcels", "mutations", "chain", "audit"} <= set(detail)
    assert detail["risk"] and detail["risk"][0]["title_ur"]
    omitted = next(f for f in detail["flags"] if f["rule"] == "omitted_heir")
    full = omitted["evidence"]["omitted"][0]["heir"]  # "Name (35202-1234567-2)"
    (cnic,) = re.findall(r"\d{5}-\d{7}-\d", full)
    assert cnic in shown.output

    as_user(staff_member(cli, demo_dir, "auditor"))  # reads cases, never CNICs in full
    masked = run("show", str(cid), "--json")
    assert masked.exit_code == 0, masked.output
    flags = json.loads(masked.output)["flags"]
    heir = next(f for f in flags if f["rule"] == "omitted_heir")["evidence"]["omitted"][0]
    assert heir["heir"] == full.replace(cnic, mask_cnic(cnic)) != full
    assert cnic not in masked.output

    text_out = run("show", str(cid))
    assert text_out.exit_code == 0, text_out.output
    assert f"case {cid}: {detail['case']['subject_label']}" in text_out.output
    assert "open dispute case by service:disputes" in said(text_out)
    missing = run("show", "999999")
    assert missing.exit_code == 1 and "no dispute case with id 999999" in missing.output
    with cli.connect() as conn:
        reads = conn.execute(
            text(
                "SELECT actor, details FROM access_log WHERE action = 'dispute case show'"
                " ORDER BY id"
            )
        ).all()
    assert [r.details["unmasked"] for r in reads] == [True, False, False]
    assert reads[0].actor.startswith("user:girdawar.") and reads[1].actor == "user:auditor"
    assert {r.details["case"] for r in reads} == {cid}


def test_the_lifecycle_through_the_cli(cli: Engine, demo_dir: Path) -> None:
    cid = first_case(cli)
    patwari = an_officer(cli, demo_dir, "patwari", "Burj Karam Singh")
    girdawar = an_officer(cli, demo_dir, "girdawar", "Kot Rehmat")
    tehsildar = an_officer(cli, demo_dir, "tehsildar", "Sheikhupura")
    outsider = an_officer(cli, demo_dir, "tehsildar", "Muridke")

    anonymous = run("review", str(cid))
    assert anonymous.exit_code == 1 and "not signed in" in said(anonymous)
    as_user(patwari)
    refused = run("review", str(cid))
    assert refused.exit_code == 1
    assert "refused by rule role" in said(refused)
    assert status_of(cli, cid) == "open"
    as_user(outsider)
    refused = run("review", str(cid))
    assert refused.exit_code == 1 and "refused by rule officer_jurisdiction" in said(refused)
    assert status_of(cli, cid) == "open"

    as_user(girdawar)
    ok = run("review", str(cid), "--on", ON.isoformat())
    assert ok.exit_code == 0, ok.output
    assert f"case {cid}: open -> under review on {ON.isoformat()}" in ok.output
    assert f"by {girdawar.full_name} (girdawar)" in said(ok)
    as_user(tehsildar)
    ok = run("confirm", str(cid), "--note", "sold twice")
    assert ok.exit_code == 0 and status_of(cli, cid) == "confirmed", ok.output
    ok = run("refer", str(cid), "--on", ON.isoformat())
    assert ok.exit_code == 0, ok.output
    deadline = (ON + timedelta(days=90)).isoformat()
    assert f"the committee must decide by {deadline} (90 days)" in said(ok)
    assert status_of(cli, cid) == "referred"
    again = run("refer", str(cid))
    assert again.exit_code == 1 and "refused by rule case_status" in said(again)
    with cli.connect() as conn:
        actors = conn.execute(
            text(
                "SELECT actor FROM audit_log WHERE entity = 'dispute_case' AND entity_id = :i"
                " ORDER BY seq"
            ),
            {"i": str(cid)},
        ).scalars()
        assert list(actors) == [
            "service:disputes",
            girdawar.label,
            tehsildar.label,
            tehsildar.label,
        ]


def test_dismiss_needs_a_reason_and_a_readable_date(cli: Engine, demo_dir: Path) -> None:
    cid = first_case(cli)
    as_user(an_officer(cli, demo_dir, "tehsildar", "Sheikhupura"))
    no_reason = run("dismiss", str(cid))
    assert no_reason.exit_code == 2  # typer: a required option is missing
    blank = run("dismiss", str(cid), "--reason", " ")
    assert blank.exit_code == 1 and "refused by rule reason_required" in said(blank)
    bad_date = run("dismiss", str(cid), "--reason", "x", "--on", "soon")
    assert bad_date.exit_code == 1 and "'soon' is not a date" in bad_date.output
    too_old = run("dismiss", str(cid), "--reason", "x", "--on", (ON - timedelta(30)).isoformat())
    assert too_old.exit_code == 1 and "refused by rule backdate_window" in said(too_old)
    assert status_of(cli, cid) == "open"
    ok = run("dismiss", str(cid), "--reason", "already corrected")
    assert ok.exit_code == 0 and "open -> dismissed" in ok.output
    assert status_of(cli, cid) == "dismissed"
