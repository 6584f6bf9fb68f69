"""``landgov disputes cases|show|review|confirm|dismiss|refer`` on the scanned demo."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from case_support import ON, first_case, posted, status_of
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from landgov.cli.main import app
from landgov.disputes.scan import scan
from landgov.storage import engine as engine_module


@pytest.fixture
def cli(demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    """The scanned demo copy, with the CLI pointed at it."""
    scan(demo_copy)
    monkeypatch.setenv("LANDGOV_DATABASE_URL", demo_copy.url.render_as_string(hide_password=False))
    monkeypatch.setenv("LANDGOV_HOME", str(tmp_path))
    engine_module._engine_for.cache_clear()
    return demo_copy


def run(*args: str) -> Result:
    return CliRunner().invoke(app, ["disputes", *args])


def test_cases_json_is_the_officers_queue_riskiest_first(cli: Engine) -> None:
    patwari = posted(cli, "patwari", "Burj Karam Singh")
    every = run("cases", "--json")
    assert every.exit_code == 0, every.output
    rows = json.loads(every.output)
    risks = [r["risk"] for r in rows]
    assert risks == sorted(risks, reverse=True) and len(rows) > 1
    mine = run("cases", "--json", "--officer", patwari)
    assert mine.exit_code == 0, mine.output
    assert json.loads(mine.output) == [r for r in rows if r["mouza"] == "Burj Karam Singh"]
    by_mouza = run("cases", "--json", "--mouza", "Burj Karam Singh", "--status", "open")
    assert json.loads(by_mouza.output) == json.loads(mine.output)
    assert json.loads(run("cases", "--json", "--status", "referred").output) == []


def test_cases_table_and_errors(cli: Engine) -> None:
    table = run("cases", "--mouza", "Chak Mehr Wala")
    assert table.exit_code == 0, table.output
    assert "Chak Mehr Wala" in table.output and "Burj Karam Singh" not in table.output
    assert "case(s)" in table.output
    bad = run("cases", "--status", "closed")
    assert bad.exit_code == 1 and "unknown case status closed" in bad.output
    nobody = run("cases", "--officer", "99999-9999999-9")
    assert nobody.exit_code == 1 and "no officer with CNIC 99999-9999999-9" in nobody.output
    assert "Traceback" not in bad.output + nobody.output


def test_show_json_and_text(cli: Engine) -> None:
    cid = first_case(cli)
    shown = run("show", str(cid), "--json")
    assert shown.exit_code == 0, shown.output
    detail = json.loads(shown.output)
    assert detail["case"]["id"] == cid and detail["case"]["status"] == "open"
    assert {"risk", "flags", "parcels", "mutations", "chain", "audit"} <= set(detail)
    assert detail["risk"] and detail["risk"][0]["title_ur"]
    text_out = run("show", str(cid))
    assert text_out.exit_code == 0, text_out.output
    assert f"case {cid}: {detail['case']['subject_label']}" in text_out.output
    assert "open dispute case" in text_out.output
    missing = run("show", "999999")
    assert missing.exit_code == 1 and "no dispute case with id 999999" in missing.output


def test_the_lifecycle_through_the_cli(cli: Engine) -> None:
    cid = first_case(cli)
    patwari = posted(cli, "patwari", "Burj Karam Singh")
    girdawar = posted(cli, "girdawar", "Kot Rehmat")
    tehsildar = posted(cli, "tehsildar", "Sheikhupura")

    refused = run("review", str(cid), "--officer", patwari)
    assert refused.exit_code == 1
    assert "refused by rule officer_designation" in refused.output
    assert status_of(cli, cid) == "open"

    ok = run("review", str(cid), "--officer", girdawar, "--on", ON.isoformat())
    assert ok.exit_code == 0, ok.output
    assert f"case {cid}: open -> under review on {ON.isoformat()}" in ok.output
    ok = run("confirm", str(cid), "--officer", tehsildar, "--note", "sold twice")
    assert ok.exit_code == 0 and status_of(cli, cid) == "confirmed", ok.output
    ok = run("refer", str(cid), "--officer", tehsildar, "--on", ON.isoformat())
    assert ok.exit_code == 0, ok.output
    deadline = (ON + timedelta(days=90)).isoformat()
    assert f"the committee must decide by {deadline} (90 days)" in ok.output
    assert status_of(cli, cid) == "referred"
    again = run("refer", str(cid), "--officer", tehsildar)
    assert again.exit_code == 1 and "refused by rule case_status" in again.output


def test_dismiss_needs_a_reason_and_a_readable_date(cli: Engine) -> None:
    cid = first_case(cli)
    tehsildar = posted(cli, "tehsildar", "Sheikhupura")
    no_reason = run("dismiss", str(cid), "--officer", tehsildar)
    assert no_reason.exit_code == 2  # typer: a required option is missing
    blank = run("dismiss", str(cid), "--officer", tehsildar, "--reason", " ")
    assert blank.exit_code == 1 and "refused by rule reason_required" in blank.output
    bad_date = run("dismiss", str(cid), "--officer", tehsildar, "--reason", "x", "--on", "soon")
    assert bad_date.exit_code == 1 and "'soon' is not a date" in bad_date.output
    assert status_of(cli, cid) == "open"
    ok = run("dismiss", str(cid), "--officer", tehsildar, "--reason", "already corrected")
    assert ok.exit_code == 0 and "open -> dismissed" in ok.output
    assert status_of(cli, cid) == "dismissed"
