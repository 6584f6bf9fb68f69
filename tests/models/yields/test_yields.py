"""Yield per parcel-season (models.yields): LUE formula, ridge, clamping, baselines."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from landgov.demo.parcel_series import simulate_series
from models.features import features_from_arrays
from models.yields import (
    YieldModelError,
    build_yield_model,
    clamp_yields,
    district_baselines,
    evaluate_yield,
    fapar_from_ndvi,
    lue_yield,
    predict_yield,
    train_yield_model,
    yield_hyperparameters,
    yield_tensors,
)

RABI = "rabi 2025-26"


def test_lue_hand_computed() -> None:
    # NDVI 0.5 → fAPAR = 1.1638·0.5 − 0.1426 = 0.4393; PAR 10 MJ/m²/d over 2 steps of 5 days:
    # APAR = 2 × 0.4393 × 10 × 5 = 43.93 MJ/m²; × ε 2.75 × HI 0.42 = 50.74 g/m² = 0.5074 t/ha
    y = lue_yield([0.5, 0.5], [10.0, 10.0], epsilon=2.75, harvest_index=0.42)
    assert y == pytest.approx(0.50739, abs=1e-4)
    assert fapar_from_ndvi([0.0, 1.0]).tolist() == [0.0, 1.0]  # clipped
    with pytest.raises(YieldModelError):
        lue_yield([0.5], [10.0], epsilon=0.0, harvest_index=0.4)


def test_clamp_grain_range_and_other_crops() -> None:
    v, c, f = clamp_yields(["wheat", "wheat", "rice", "sugarcane", "fallow"],
                           [9.0, 0.1, 4.0, 70.0, 0.0])  # fmt: skip
    assert v.tolist() == [7.0, 0.5, 4.0, 70.0, 0.0]
    assert c.tolist() == [True, True, False, False, False]
    assert "above" in f[0] and "below" in f[1] and f[3] == ""


def _wheat(seed: int, n: int = 60):
    rng = np.random.default_rng(seed)
    y = rng.uniform(2.0, 5.0, n)
    d, v, _ = simulate_series(["wheat"] * n, RABI, seed=seed, yields=y)
    return features_from_arrays(np.arange(n), d, v, season=RABI,
                                indices=("ndvi", "wdrvi", "ndmi")), y  # fmt: skip


def test_ridge_learns_yield_and_round_trips() -> None:
    x, y = _wheat(1)
    model, report = train_yield_model(x, ["wheat"] * len(x), y, seed=0)
    assert report["wheat"]["rows"] == len(x)
    xt, yt = _wheat(2)
    p = predict_yield(model, xt, ["wheat"] * len(xt))
    assert np.sqrt(np.mean((p["yield_t_ha"] - yt) ** 2)) < 0.4
    assert np.isfinite(p["lue_t_ha"]).all()
    again, _ = train_yield_model(x, ["wheat"] * len(x), y, seed=0)
    for a, b in zip(yield_tensors(model).values(), yield_tensors(again).values(), strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())  # NaN bias of absent crops too
    rebuilt = build_yield_model(yield_hyperparameters(model), yield_tensors(model))
    np.testing.assert_allclose(predict_yield(rebuilt, xt, ["wheat"] * len(xt))["yield_t_ha"],
                               p["yield_t_ha"])  # fmt: skip


def test_flags_for_fallow_missing_crop_and_mismatch() -> None:
    x, y = _wheat(3, n=12)
    model, _ = train_yield_model(x, ["wheat"] * len(x), y)
    crops = ["wheat"] * 9 + ["fallow", None, "orchard"]
    p = predict_yield(model, x, crops)
    assert p["yield_t_ha"].iloc[9] == 0 and "no crop" in p["flag"].iloc[10]
    with pytest.raises(YieldModelError):
        predict_yield(model, x, ["wheat"])


def test_district_baselines_and_evaluation() -> None:
    hist = pd.DataFrame({"crop": "wheat", "season": "rabi", "year": [2023, 2024, 2025],
                         "mean_yield_t_ha": [3.0, 3.1, 3.2]})  # fmt: skip
    b = district_baselines(hist, "wheat", RABI)
    assert b["previous_year"] == 3.2 and b["trend"] == pytest.approx(3.3)
    pred = pd.DataFrame({"khasra_id": [1, 2], "season": [RABI] * 2, "crop": ["wheat"] * 2,
                         "yield_t_ha": [3.0, 4.0], "lue_t_ha": [3.5, 4.5],
                         "clamped": [False, False]})  # fmt: skip
    truth = pred[["khasra_id", "season", "crop"]].assign(yield_t_ha=[3.0, 4.0])
    r = evaluate_yield(pred, truth, hist)
    assert r["wheat"]["model_rmse"] == 0 and r["wheat"]["lue_rmse"] == pytest.approx(0.5)
