"""Season features shared by the crop and yield models (models.features).

Pure-array tests, plus one integration test: synthetic scenes → ingest → zonal series →
season features (demo_copy; ~5 s).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pytest
from security_support import service_actor
from sqlalchemy.engine import Engine

from landgov.demo.parcel_series import simulate_series
from models.features import (
    N_STEPS,
    FeatureError,
    concat,
    features_from_arrays,
    load_training_table,
    parse_season,
    season_grid,
    season_label,
)

RABI = "rabi 2025-26"


def test_parse_season_round_trip() -> None:
    assert parse_season(RABI) == ("rabi", 2026)
    assert parse_season("kharif 2025") == ("kharif", 2025)
    assert season_label("rabi", 2026) == RABI
    with pytest.raises(FeatureError):
        parse_season("spring 2025")
    with pytest.raises(FeatureError):
        parse_season("rabi 2025-27")


def test_grid_is_five_days_from_season_start() -> None:
    g = season_grid(RABI)
    assert g.size == N_STEPS and str(g[0]) == "2025-11-01" and str(g[-1]) == "2026-04-30"
    assert str(season_grid("kharif 2025")[0]) == "2025-05-01"


def test_gap_interpolation_masking_and_counts() -> None:
    dates = season_grid(RABI)
    t = np.arange(N_STEPS, dtype=float)
    line = 0.2 + 0.01 * t  # linear: interpolation must reproduce it exactly
    vals = np.tile(line, (3, 1))
    frac = np.ones_like(vals)
    vals[0, 10:15] = np.nan  # a cloud gap
    frac[1, 20] = 0.3  # a mostly-cloudy observation with a bogus value
    vals[1, 20] = 0.9
    vals[2, :] = np.nan
    vals[2, 5] = 0.5  # one clear observation only
    f = features_from_arrays([1, 2, 3], dates, vals, season=RABI, indices=["ndvi"],
                             valid_fraction=frac, smooth_window=None)  # fmt: skip
    assert f.valid[:, 0].tolist() == [N_STEPS - 5, N_STEPS - 1, 1]
    np.testing.assert_allclose(f.series[0, 0], line, atol=1e-6)
    np.testing.assert_allclose(f.series[1, 0], line, atol=1e-6)  # 0.9 was masked
    assert np.all(f.series[2] == 0)  # refused row is zero, not NaN
    assert f.min_valid().tolist() == [N_STEPS - 5, N_STEPS - 1, 1]


def test_irregular_dates_resampled_and_outside_season_dropped() -> None:
    d0 = np.datetime64("2025-11-01")
    offsets = np.array([-20, 0, 7, 19, 40, 100, 180, 200])  # two outside the season
    vals = (0.1 + offsets / 1000.0)[None, :]
    f = features_from_arrays([7], d0 + offsets, vals, season=RABI, indices=["ndvi"],
                             smooth_window=None)  # fmt: skip
    assert f.n_obs[0] == 6 and f.valid[0, 0] == 6
    np.testing.assert_allclose(f.series[0, 0], 0.1 + np.arange(N_STEPS) * 5 / 1000, atol=1e-6)


def test_summary_peak_and_timing() -> None:
    dates = season_grid(RABI)
    t = np.arange(N_STEPS) * 5.0
    bump = 0.2 + 0.6 * np.exp(-(((t - 100) / 25) ** 2))
    f = features_from_arrays([1], dates, bump[None], season=RABI, indices=["ndvi"])
    s = dict(zip(f.summary_names, f.summary[0], strict=True))
    assert abs(s["ndvi_peak"] - 0.8) < 0.03 and s["ndvi_t_peak"] == 100
    assert s["ndvi_t_start"] < 100 < s["ndvi_t_end"]
    assert s["ndvi_greenup_slope"] > 0 > s["ndvi_senescence_slope"] and s["is_rabi"] == 1


def test_bad_shapes_and_concat() -> None:
    dates = season_grid(RABI)
    with pytest.raises(FeatureError):
        features_from_arrays([1, 2], dates, np.zeros((3, N_STEPS)), season=RABI,
                             indices=["ndvi"])  # fmt: skip
    a = features_from_arrays([1], dates, np.full((1, N_STEPS), 0.3), season=RABI, indices=["x"])
    b = features_from_arrays([1], dates, np.full((1, N_STEPS), 0.3), season="kharif 2025",
                             indices=["x"])  # fmt: skip
    both = concat([a, b])
    assert len(both) == 2 and both.is_rabi.tolist() == [True, False]


def test_simulated_series_deterministic() -> None:
    a = simulate_series(["wheat", "fallow"], RABI, seed=3)
    b = simulate_series(["wheat", "fallow"], RABI, seed=3)
    np.testing.assert_array_equal(a[1], b[1])
    assert a[1].shape == (2, 3, N_STEPS)


def test_training_table_from_ingested_scenes(demo_copy: Engine, tmp_path: Path) -> None:
    from imagery.ingest import ingest
    from landgov.demo.imagery_s2 import synthesize_s2

    dates = [date(2025, 11, 1) + timedelta(days=20 * k) for k in range(9)]  # rabi, coarse
    paths = synthesize_s2(demo_copy, tmp_path / "s2", mouza=1, dates=dates, window_m=400)
    home = tmp_path / "home"
    ingest(demo_copy, paths, home=home, actor=service_actor(demo_copy, "imagery"))
    x, lab = load_training_table(demo_copy, [1], tmp_path / "s2" / "ground_truth.csv",
                                 indices=("ndvi",), home=home)  # fmt: skip
    assert len(x) == len(lab) > 0 and set(lab["season"]) == {"rabi 2025-26"}
    assert (x.n_obs == len(dates)).all()
    seen = x.min_valid() >= 5  # parcels inside the 400 m window with clear observations
    assert seen.any()
    peak = x.summary[:, x.summary_names.index("ndvi_peak")]
    crop = lab["crop"].to_numpy()
    wheat, fallow = seen & (crop == "wheat"), seen & (crop == "fallow")
    if wheat.any() and fallow.any():
        assert np.median(peak[wheat]) > np.median(peak[fallow]) + 0.2
