"""Record rules scored against the demo district's planted ground truth; scans dedupe."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from landgov.cli.main import app
from landgov.disputes.scan import risk_breakdown, scan
from landgov.storage import engine as engine_module

# rule id → the ground-truth kinds it must find
EXPECTED = {
    "share_total_not_one": {"over_allocation", "under_allocation"},
    "same_day_sanction": {"same_day_sanction"},
    "transfer_without_deed": {"transfer_without_deed"},
    "transfer_exceeds_holding": {"transfer_exceeds_holding", "double_sale"},
    "sale_after_death": {"sale_after_death"},
    "stale_pending_mutation": {"stale_pending_mutation"},
    "under_declared_price": {"under_declared_price"},
    "deeds_short_window": {"deeds_short_window"},
    "officer_outside_jurisdiction": {"officer_outside_jurisdiction"},
}
SPATIAL = {
    "overlap": {"overlap"},
    "area_mismatch": {"area_mismatch"},
    "tatima_area_mismatch": {"tatima_area_mismatch"},
    "private_on_state_land": {"row_encroachment"},
}


def _truth(demo_dir: Path) -> list[dict[str, str]]:
    with (demo_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _flags(conn, rule: str) -> list[dict]:
    return [dict(r) for r in conn.execute(text(
        "SELECT f.*, m.name AS mouza, kw.number AS khewat_no, mu.number AS mutation_no"
        " FROM dispute_flag f JOIN mouza m ON m.id = f.mouza_id"
        " LEFT JOIN khewat kw ON kw.id = f.khewat_id LEFT JOIN mutation mu ON mu.id = f.mutation_id"
        " WHERE f.rule_id = :r"), {"r": rule}).mappings()]  # fmt: skip


@pytest.mark.parametrize("rule", sorted(EXPECTED))
def test_rule_recall_and_precision_on_planted_anomalies(
    demo_copy: Engine, demo_dir: Path, rule: str
) -> None:
    from landgov.demo.model import AS_OF

    with demo_copy.begin() as conn:  # the demo's "today", so the test does not age
        conn.execute(
            text("UPDATE dispute_rule SET thresholds = thresholds || jsonb_build_object("
                 "'as_of', CAST(:d AS text)) WHERE id = 'stale_pending_mutation'"),
            {"d": AS_OF.isoformat()},
        )  # fmt: skip
    scan(demo_copy)
    planted = [t for t in _truth(demo_dir) if t["kind"] in EXPECTED[rule]]
    with demo_copy.connect() as conn:
        flags = _flags(conn, rule)
    if rule == "share_total_not_one":
        got = {(f["mouza"], str(f["khewat_no"])) for f in flags}
        want = {(t["mouza"], t["khewat_no"]) for t in planted}
    else:
        got = {(f["mouza"], str(f["mutation_no"])) for f in flags}
        want = {(t["mouza"], t["mutation_no"]) for t in planted}
    recall = len(got & want) / len(want)
    precision = len(got & want) / len(got) if got else 0.0
    assert recall == 1.0, sorted(want - got)
    assert precision >= 0.85, sorted(got - want)


def test_rescan_does_not_duplicate_and_cases_explain_risk(demo_copy: Engine) -> None:
    first = scan(demo_copy)
    again = scan(demo_copy)
    assert first.new_flags > 0 and again.new_flags == 0 and again.new_cases == 0
    with demo_copy.connect() as conn:
        n_flags = conn.execute(text("SELECT count(*) FROM dispute_flag")).scalar_one()
        cases = conn.execute(text("SELECT id, risk FROM dispute_case ORDER BY risk DESC")).all()
        breakdown = risk_breakdown(conn, int(cases[0].id))
        audited = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'open dispute case'")
        ).scalar_one()
    assert n_flags == first.new_flags and audited == first.new_cases == len(cases)
    assert cases[0].risk == pytest.approx(sum(b["points"] for b in breakdown))
    assert all(b["title_ur"] for b in breakdown)


def test_cli_scan_json(demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDGOV_DATABASE_URL",
                       demo_copy.url.render_as_string(hide_password=False))  # fmt: skip
    monkeypatch.setenv("LANDGOV_HOME", str(tmp_path))
    engine_module._engine_for.cache_clear()
    result = CliRunner().invoke(app, ["disputes", "scan", "--mouza", "Chak Mehr Wala", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["found"]["transfer_without_deed"] == 3
    inc = CliRunner().invoke(app, ["disputes", "scan", "--mouza", "Chak Mehr Wala", "--since",
                                   "2030-01-01", "--json"])  # fmt: skip
    assert inc.exit_code == 0 and json.loads(inc.output)["new_flags"] == 0
    bad = CliRunner().invoke(app, ["disputes", "scan", "--since", "soon"])
    assert bad.exit_code != 0 and "not a date" in bad.output


@pytest.mark.parametrize("rule", sorted(SPATIAL))
def test_spatial_rule_recall_and_precision_through_the_scan(
    demo_copy: Engine, demo_dir: Path, rule: str
) -> None:
    scan(demo_copy)
    planted = [t for t in _truth(demo_dir) if t["kind"] in SPATIAL[rule]]
    with demo_copy.connect() as conn:
        number = dict(conn.execute(text("SELECT id, number FROM khasra")).all())
        mouza = dict(conn.execute(text("SELECT id, name FROM mouza")).all())
        flags = [(mouza[f.mouza_id], {number[k] for k in f.evidence["khasra_ids"]})
                 for f in conn.execute(text("SELECT mouza_id, evidence FROM dispute_flag"
                                            " WHERE rule_id = :r"), {"r": rule})]  # fmt: skip
    want = [(t["mouza"], set(t["khasra_no"].split(";"))) for t in planted]

    def match(a: tuple[str, set[str]], b: tuple[str, set[str]]) -> bool:
        return a[0] == b[0] and bool(a[1] & b[1])

    found = [w for w in want if any(match(w, f) for f in flags)]
    true = [f for f in flags if any(match(w, f) for w in want)]
    assert len(found) == len(want), [w for w in want if w not in found]
    assert len(true) / len(flags) >= 0.85, [f for f in flags if f not in true]
