"""``landgov models``: train a tiny model, list it, show its card, evaluate it again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cli_support import use_database
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from landgov.cli.main import app


def test_train_tiny_list_show_evaluate(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(demo_engine, tmp_path / ".cli", monkeypatch, home=tmp_path)
    run = CliRunner()
    refused = run.invoke(app, ["models", "train", "encroachment", "--preset", "tiny"])
    assert refused.exit_code == 1 and "runs as the 'models' service" in refused.output
    use_database(demo_engine, tmp_path / ".cli", monkeypatch, home=tmp_path, services=("models",))
    trained = run.invoke(app, ["models", "train", "encroachment", "--preset", "tiny"])
    assert trained.exit_code == 0, trained.output
    assert "registered encroachment-unet:v1" in trained.output
    card = json.loads((tmp_path / "models" / "encroachment-unet" / "v1" / "card.json").read_text())
    assert card["task"] == "semantic-segmentation" and card["seed"] == 42
    assert len(card["training_data"]["fingerprint"]) == 64 and card["code_version"]
    assert 0 <= card["metrics"]["pixel.iou"] <= 1
    listed = json.loads(run.invoke(app, ["models", "list", "--json"]).stdout)
    names = {(m["name"], m["version"], m["shipped"]) for m in listed}
    # trained here, and the defaults shipped in the repository
    assert ("encroachment-unet", "v1", False) in names
    assert {("crop-type-tcnn", "v1", True), ("yield-ridge", "v1", True)} <= names
    shown = json.loads(run.invoke(app, ["models", "show", "encroachment-unet:v1"]).output)
    assert shown["metrics"] == card["metrics"]
    again = run.invoke(app, ["models", "evaluate", "encroachment-unet"])
    assert again.exit_code == 0, again.output
    # the same weights on the same held-out scenes: the same scores
    assert json.loads(again.stdout)["pixel.iou"] == pytest.approx(card["metrics"]["pixel.iou"])
    unknown = run.invoke(app, ["models", "train", "nonsense"])
    assert unknown.exit_code != 0 and "encroachment, crops" in unknown.output
