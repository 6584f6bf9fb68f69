"""``models.registry``: safetensors + model card, versions, roots, no network."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from models import registry
from models.registry import ModelCard, ModelNotFound


def _card(**kw: object) -> ModelCard:
    base: dict[str, object] = {
        "name": "toy-net",
        "task": "classification",
        "classes": ["a", "b"],
        "seed": 7,
        "hyperparameters": {"width": 3},
        "training_data": {"fingerprint": "abc"},
        "metrics": {"accuracy": 0.5},
    }
    base.update(kw)
    return ModelCard(**base)  # type: ignore[arg-type]


def test_save_load_round_trip_and_versions(tmp_path: Path) -> None:
    root = tmp_path / "models"
    w = {"layer.weight": torch.arange(6, dtype=torch.float32).reshape(2, 3)}
    first = registry.save_model(_card(), w, root=root)
    second = registry.save_model(_card(metrics={"accuracy": 0.9}), w, root=root)
    assert (first.name, second.name) == ("v1", "v2")
    assert sorted(p.name for p in first.iterdir()) == ["card.json", "model.safetensors"]
    tensors, card = registry.load_model("toy-net", home=tmp_path)
    assert card.version == "v2" and card.metrics == {"accuracy": 0.9}
    assert torch.equal(tensors["layer.weight"], w["layer.weight"])
    _, old = registry.load_model("toy-net", "v1", home=tmp_path)
    assert old.metrics == {"accuracy": 0.5} and old.seed == 7 and old.classes == ["a", "b"]
    assert card.created and card.code_version.startswith(("git:", "src:"))
    listed = [(c.name, c.version) for c, _ in registry.list_models(home=tmp_path)
              if c.name == "toy-net"]  # fmt: skip
    assert listed == [("toy-net", "v1"), ("toy-net", "v2")]


def test_unknown_model_names_what_exists(tmp_path: Path) -> None:
    registry.save_model(_card(), {"w": torch.zeros(1)}, root=tmp_path / "models")
    with pytest.raises(ModelNotFound, match="toy-net"):
        registry.load_model("nope", home=tmp_path)
    with pytest.raises(ModelNotFound, match="version v9"):
        registry.load_model("toy-net", "v9", home=tmp_path)


def test_bad_name_refused(tmp_path: Path) -> None:
    with pytest.raises(registry.LandgovError, match="model name"):
        registry.save_model(_card(name="../evil"), {"w": torch.zeros(1)}, root=tmp_path)


def test_half_written_version_is_invisible(tmp_path: Path) -> None:
    root = tmp_path / "models"
    registry.save_model(_card(), {"w": torch.zeros(1)}, root=root)
    (root / "toy-net" / ".tmp-v2").mkdir()  # a crash during a save
    (root / "toy-net" / "v3").mkdir()  # a folder without a card
    _, card = registry.load_model("toy-net", home=tmp_path)
    assert card.version == "v1"
    nxt = registry.save_model(_card(), {"w": torch.ones(1)}, root=root)
    assert nxt.name == "v2"


def test_fingerprint_depends_on_content_not_order(tmp_path: Path) -> None:
    a, b = tmp_path / "a.bin", tmp_path / "b.bin"
    a.write_bytes(b"one")
    b.write_bytes(b"two")
    fp = registry.data_fingerprint([a, b])
    assert fp == registry.data_fingerprint([b, a])
    b.write_bytes(b"three")
    assert registry.data_fingerprint([a, b]) != fp


def test_coverage_box_decides_which_cards_cover_the_most_local_first(tmp_path: Path) -> None:
    district = _card(name="district", task="crop type per parcel-season",
                     coverage={"bbox_lonlat": [73.9, 31.6, 74.1, 31.8]})  # fmt: skip
    region = _card(name="region", task="crop type per field-year",
                   coverage={"bbox_lonlat": [60.0, 25.0, 80.0, 40.0]})  # fmt: skip
    nowhere = _card(name="nowhere", task="crop type per parcel-season")  # no box: no ground
    inside = (73.95, 31.69, 74.0, 31.72)
    assert registry.covers(district, inside) and registry.covers(region, inside)
    assert not registry.covers(nowhere, inside)
    # a box only partly inside is not covered: the model never saw the rest
    assert not registry.covers(district, (74.05, 31.7, 74.2, 31.75))
    assert [c.name for c in registry.covering([region, nowhere, district], inside)] == [
        "district",
        "region",
    ]
    assert [c.name for c in registry.covering([region, district], (61, 26, 62, 27))] == ["region"]
    assert registry.covering([district], (10.0, 10.0, 11.0, 11.0)) == []

    # current_cards: the version load_model would take, for models of the task only
    root = tmp_path / "models"
    registry.save_model(_card(name="crop-a", task="crop type per parcel-season"),
                        {"w": torch.zeros(1)}, root=root)  # fmt: skip
    registry.save_model(_card(name="crop-a", task="crop type per parcel-season", seed=9),
                        {"w": torch.zeros(1)}, root=root)  # fmt: skip
    registry.save_model(_card(name="other-task"), {"w": torch.zeros(1)}, root=root)
    found = {c.name: c for c in registry.current_cards("crop type", home=tmp_path)}
    assert found["crop-a"].version == "v2" and found["crop-a"].seed == 9
    assert "other-task" not in found
    assert "crop-type-central-asia" in found  # the shipped root is searched too
