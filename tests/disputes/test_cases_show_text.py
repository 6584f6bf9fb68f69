"""``landgov disputes show`` prints a case's evidence as plain text in the service's words
(each rule's title, the measure with its unit, labelled facts), the words the Disputes
page says in English (:mod:`landgov.disputes.evidence`); ``--json`` stays for machines."""

from __future__ import annotations

import json
import re
from pathlib import Path

from case_support import officer, posted, staff_member
from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_cases_cli import cli  # noqa: F401  (the scanned demo, the CLI pointed at it)
from typer.testing import CliRunner, Result

from landgov.cli._shell import save_session
from landgov.cli.main import app
from landgov.domain import mask_cnic
from landgov.security import Actor


def show(actor: Actor, *args: str) -> Result:
    save_session(actor.token, actor.username)
    return CliRunner().invoke(app, ["disputes", "show", *args])


def _case(engine: Engine, rule: str) -> tuple[int, float, float, str, str]:
    with engine.connect() as conn:
        row = conn.execute(
            text(
                "SELECT cf.case_id, f.measure, f.threshold, r.title_en, f.evidence::text"
                " FROM dispute_case_flag cf JOIN dispute_flag f ON f.id = cf.flag_id"
                " JOIN dispute_rule r ON r.id = f.rule_id WHERE f.rule_id = :r"
                " ORDER BY cf.case_id LIMIT 1"
            ),
            {"r": rule},
        ).one()
    return int(row[0]), float(row[1]), float(row[2]), str(row[3]), str(row[4])


def test_show_prints_the_evidence_in_words_with_units(
    cli: Engine,  # noqa: F811
    demo_dir: Path,
) -> None:
    case_id, measure, threshold, title, stored = _case(cli, "overlap")
    auditor = staff_member(cli, demo_dir, "auditor")
    shown = show(auditor, str(case_id))
    assert shown.exit_code == 0, shown.output
    out = shown.output
    assert title in out  # the rule's plain title, never only its id
    assert f"measured: {measure:,.1f} m² overlap (flagged above {threshold:,.1f} m²)" in out
    assert "Share of each khasra: " in out and " %" in out and "Mapping tolerance: " in out
    assert re.search(r"Khasras: \d+//\d+, \d+//\d+", out)  # numbers, not the ids
    assert "{" not in out and "khasra_ids" not in out and "srid" not in out  # no JSON
    # --json: the stored evidence as it is, for machines
    as_json = show(auditor, str(case_id), "--json")
    assert as_json.exit_code == 0, as_json.output
    flag = next(f for f in json.loads(as_json.output)["flags"] if f["rule"] == "overlap")
    assert flag["evidence"] == json.loads(stored)


def test_show_masks_the_cnics_of_its_facts_unless_posted_there(
    cli: Engine,  # noqa: F811
    demo_dir: Path,
) -> None:
    case_id, *_, stored = _case(cli, "omitted_heir")
    heir = json.loads(stored)["omitted"][0]["heir"]
    (cnic,) = re.findall(r"\d{5}-\d{7}-\d", heir)
    auditor = show(staff_member(cli, demo_dir, "auditor"), str(case_id))
    assert auditor.exit_code == 0, auditor.output
    assert "Heirs left out: " in auditor.output and "gender female" in auditor.output
    assert "measured: " in auditor.output and " of the estate withheld" in auditor.output
    assert cnic not in auditor.output and mask_cnic(cnic) in auditor.output
    girdawar = officer(cli, demo_dir, posted(cli, "girdawar", "Kot Rehmat"))
    posted_there = show(girdawar, str(case_id))
    assert posted_there.exit_code == 0, posted_there.output
    assert cnic in posted_there.output
