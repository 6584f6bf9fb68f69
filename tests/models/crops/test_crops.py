"""Crop type per parcel-season (models.crops): training, determinism, flags, round trip."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from landgov.demo.parcel_series import simulate_series
from models.crops import (
    CropConfig,
    CropModelError,
    build_crop_model,
    crop_tensors,
    evaluate_crops,
    hyperparameters,
    predict_crops,
    predict_proba,
    train_crop_model,
)
from models.features import concat, features_from_arrays

RABI, KHARIF = "rabi 2025-26", "kharif 2025"


def _data(seed: int, n: int = 12):
    parts, labels = [], []
    for season, crops in ((RABI, ("wheat", "fodder", "fallow")),
                          (KHARIF, ("cotton", "rice", "fallow"))):  # fmt: skip
        c = [crops[i % len(crops)] for i in range(n * len(crops))]
        d, v, _ = simulate_series(c, season, seed=seed)
        ids = np.arange(len(c)) + (0 if season == RABI else 10_000)
        parts.append(features_from_arrays(ids, d, v, season=season,
                                          indices=("ndvi", "wdrvi", "ndmi")))  # fmt: skip
        labels += c
    return concat(parts), np.array(labels, dtype=object)


@pytest.fixture(scope="module")
def trained():
    torch.set_num_threads(1)
    x, y = _data(1)
    model, report = train_crop_model(x, y, config=CropConfig.tiny(), seed=0)
    return model, report


def test_tiny_cnn_separates_synthetic_crops(trained) -> None:
    model, report = trained
    x, y = _data(2)
    p = predict_crops(model, x)
    assert (p["crop"].to_numpy() == y).mean() >= 0.9
    assert report["rows"] == len(y) and report["refused_rows"] == 0


def test_season_mask_forbids_off_season_crops(trained) -> None:
    model, _ = trained
    x, _ = _data(3, n=2)
    p = predict_proba(model, x)
    rabi = x.is_rabi
    assert np.all(p[rabi][:, model.classes.index("rice")] == 0)
    assert np.all(p[~rabi][:, model.classes.index("wheat")] == 0)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_training_is_deterministic() -> None:
    x, y = _data(4, n=4)
    a, _ = train_crop_model(x, y, config=CropConfig.tiny(), seed=7)
    b, _ = train_crop_model(x, y, config=CropConfig.tiny(), seed=7)
    ta, tb = crop_tensors(a), crop_tensors(b)
    assert ta.keys() == tb.keys()
    assert all(torch.equal(ta[k], tb[k]) for k in ta)


def test_round_trip_through_tensors(trained) -> None:
    model, _ = trained
    rebuilt = build_crop_model(hyperparameters(model), crop_tensors(model))
    x, _ = _data(5, n=2)
    np.testing.assert_allclose(predict_proba(rebuilt, x), predict_proba(model, x), atol=1e-6)
    with pytest.raises(CropModelError):
        build_crop_model({**hyperparameters(model), "classes": ["a", "b"]}, crop_tensors(model))


def test_disagreement_flags_and_evaluation(trained) -> None:
    model, _ = trained
    x, y = _data(6, n=4)
    recorded = y.copy()
    recorded[0] = "fallow" if y[0] != "fallow" else "wheat"  # a misreported entry
    p = predict_crops(model, x, list(recorded))
    assert bool(p["disagrees"].iloc[0]) and p["girdawari_probability"].iloc[0] < 0.5
    truth = x.frame().assign(crop=y, girdawari_crop=recorded)
    r = evaluate_crops(p, truth)
    assert r["misreported"] == 1 and r["flag_recall"] == 1.0
    assert r["oa_vs_truth"] >= 0.9 and r["oa_vs_truth"] >= r["oa_vs_girdawari"]


def test_refuses_rows_without_clear_imagery(trained) -> None:
    model, _ = trained
    d, v, _ = simulate_series(["wheat", "wheat"], RABI, seed=8, cloud_prob=0.0)
    v[1, :, 3:] = np.nan  # only three clear observations
    x = features_from_arrays([1, 2], d, v, season=RABI, indices=("ndvi", "wdrvi", "ndmi"))
    p = predict_crops(model, x, pd.DataFrame({"khasra_id": [1, 2], "season": [RABI] * 2,
                                              "girdawari_crop": ["wheat"] * 2}))  # fmt: skip
    assert p["crop"].iloc[0] == "wheat" and pd.isna(p["crop"].iloc[1])
    assert "clear imagery" in p["reason"].iloc[1] and not p["disagrees"].iloc[1]


def test_gradient_boosting_peer_and_bad_input() -> None:
    x, y = _data(9, n=20)  # default leaves hold 20 rows
    model, _ = train_crop_model(x, y, config=CropConfig.tiny("hgb"), seed=0)
    assert (predict_crops(model, x)["crop"].to_numpy() == y).mean() >= 0.9
    with pytest.raises(CropModelError):
        hyperparameters(model)
    with pytest.raises(CropModelError):
        train_crop_model(x, ["maize"] * len(x), config=CropConfig.tiny())
    with pytest.raises(CropModelError):
        train_crop_model(x, y, config=CropConfig(kind="svm"))


def test_registry_save_and_load(trained, tmp_path) -> None:
    from models.registry import ModelCard, load_model, save_model

    model, _ = trained
    card = ModelCard(name="crop-type-test", task="crop type", classes=model.classes,
                     hyperparameters=hyperparameters(model))  # fmt: skip
    save_model(card, crop_tensors(model), root=tmp_path / "models")
    tensors, loaded = load_model("crop-type-test", home=tmp_path)
    rebuilt = build_crop_model(loaded.hyperparameters, tensors)
    x, _ = _data(10, n=2)
    np.testing.assert_allclose(predict_proba(rebuilt, x), predict_proba(model, x), atol=1e-6)
