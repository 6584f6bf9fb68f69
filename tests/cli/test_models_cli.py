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


def test_train_and_evaluate_on_own_orthophotos_and_footprints(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user's own RGB orthophotos (UTM and lon/lat) and footprints (another CRS)."""
    from town_support import town_scene

    use_database(demo_engine, tmp_path / ".cli", monkeypatch, home=tmp_path, services=("models",))
    scenes = [town_scene(tmp_path / "data", s, crs)
              for s, crs in ((0, "EPSG:32643"), (1, "EPSG:4326"), (2, "EPSG:32643"))]  # fmt: skip
    images = [str(i) for i, _ in scenes]
    labels = [a for _, lbl in scenes for a in ("--labels", str(lbl))]
    run = CliRunner()
    trained = run.invoke(app, ["models", "train", "encroachment", "--preset", "tiny",
                               "--images", images[0], "--images", images[1], "--images",
                               images[2], *labels, "--block-m", "48", "--json"])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    report = json.loads(trained.stdout)
    assert report["registered"] == "encroachment-unet:v1"  # the first trained here
    for key in ("model", "baseline_lightgbm", "encroachment-unet:v1", "held_out_synthetic"):
        assert key in report, key
    # the drawn roofs are easy: a per-pixel classifier already separates them
    assert report["baseline_lightgbm"]["overall"]["pixel"]["iou"] > 0.8
    assert set(report["model"]["overall"]["building"]) >= {"precision", "recall", "f1", "tp"}
    card = json.loads((tmp_path / "models" / "encroachment-unet" / "v1" / "card.json").read_text())
    hp, data = card["hyperparameters"], card["training_data"]
    assert hp["bands"] == ["red", "green", "blue"] and hp["resolution_m"] == 0.3
    split = data["split"]
    assert split["test_fraction"] >= 0.25 and split["block_m"] == 48
    assert 0 <= card["metrics"]["held_out_real"]["pixel.iou"] <= 1
    assert "change.object_recall_state_land.recall" in card["metrics"]["held_out_synthetic"]
    # the same model, the same held-out blocks: the same scores, as text and JSON
    again = run.invoke(app, ["models", "evaluate", "encroachment-unet:v1", "--held-out",
                             "--images", str(tmp_path / "data"), *labels, "--json"])  # fmt: skip
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["overall"] == report["model"]["overall"]
    text = run.invoke(app, ["models", "evaluate", "encroachment-unet:v1", "--images",
                            str(tmp_path / "data" / "*_utm.tif"), *labels])  # fmt: skip
    assert text.exit_code == 0, text.output
    assert "OVERALL" in text.output and "town_0_utm" in text.output


def test_bad_images_and_labels_are_clear_errors_and_register_nothing(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import numpy as np
    import rasterio
    from town_support import town_scene

    use_database(demo_engine, tmp_path / ".cli", monkeypatch, home=tmp_path, services=("models",))
    image, labels = town_scene(tmp_path / "data", 0)
    two_band = tmp_path / "two_band.tif"
    with rasterio.open(image) as src:
        profile = src.profile | {"count": 2}
        data = src.read([1, 2])
    with rasterio.open(two_band, "w", **profile) as dst:
        dst.write(data)
    plain = tmp_path / "plain.png"  # a PNG with no world file and no .aux.xml
    with rasterio.open(plain, "w", driver="PNG", width=64, height=64, count=3,
                       dtype="uint8") as dst:  # fmt: skip
        dst.write(np.zeros((3, 64, 64), np.uint8))
    bad_labels = tmp_path / "nocrs.geojson"
    bad_labels.write_text('{"type": "FeatureCollection", "features": []}')
    run = CliRunner()
    base = ["models", "train", "encroachment", "--preset", "tiny", "--no-score-synthetic"]
    cases = [
        (["--images", str(two_band), "--labels", str(labels)], ["two_band.tif", "blue"]),
        (["--images", str(plain), "--labels", str(labels)], ["plain.png", "world file"]),
        (["--images", str(image), "--labels", str(bad_labels)], ["nocrs.geojson"]),
        (["--images", str(tmp_path / "nowhere.tif"), "--labels", str(labels)], ["nowhere.tif"]),
        (["--images", str(image)], ["--labels"]),
    ]
    for args, words in cases:
        result = run.invoke(app, [*base, *args])
        assert result.exit_code != 0, args
        assert "Traceback" not in result.output
        for word in words:
            assert word in result.output, (args, result.output)
    assert not (tmp_path / "models").exists()  # nothing registered
    missing = run.invoke(app, ["models", "evaluate", "encroachment-unet:v1", "--images",
                               str(two_band), "--labels", str(labels)])  # fmt: skip
    assert missing.exit_code == 1 and "nir" in missing.output and "two_band.tif" in missing.output
