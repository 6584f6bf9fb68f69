"""``landgov imagery synthesize``: the whole district by default, skipped when up to date."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from cli_support import use_database
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from landgov.cli.main import app


def _use(engine: Engine, home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    use_database(engine, home / ".cli", monkeypatch, home=home, services=("imagery",))


def test_synthesize_every_mouza_then_up_to_date(
    demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(demo_copy, tmp_path, monkeypatch)
    args = ["imagery", "synthesize", "--step-days", "60"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    assert "wrote 56 band files" in first.output  # 2 seasons x 4 dates x 7 bands
    folder = tmp_path / "synthetic" / "sentinel-2"
    with open(folder / "ground_truth.csv") as fh:
        mouzas = {r["mouza"] for r in csv.DictReader(fh)}
    with demo_copy.connect() as conn:
        assert mouzas == {r.name for r in conn.execute(text("SELECT name FROM mouza"))}
        assert conn.execute(text("SELECT count(*) FROM imagery_scene")).scalar_one() == 8
    stamp = (folder / "scenes.csv").stat().st_mtime_ns
    second = CliRunner().invoke(app, args)
    assert second.exit_code == 0, second.output
    assert "up to date" in second.output and "already catalogued" in second.output
    with demo_copy.connect() as conn:  # catalogued by the imagery service
        actors = set(conn.execute(text(
            "SELECT actor FROM audit_log WHERE action = 'ingest imagery'")).scalars())  # fmt: skip
    assert actors == {"service:imagery"}
    assert (folder / "scenes.csv").stat().st_mtime_ns == stamp
    # other parameters are another series: rewritten, and --force rewrites regardless
    other = CliRunner().invoke(app, [*args[:-1], "30", "--no-ingest"])
    assert other.exit_code == 0 and "wrote" in other.output
    forced = CliRunner().invoke(app, [*args[:-1], "30", "--no-ingest", "--force"])
    assert forced.exit_code == 0 and "wrote" in forced.output


def test_synthesize_unknown_mouza_is_a_clean_error(
    demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _use(demo_copy, tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["imagery", "synthesize", "--mouza", "Nowhere"])
    assert result.exit_code != 0
    assert "Nowhere" in result.output and "Traceback" not in result.output
