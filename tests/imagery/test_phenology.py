"""Phenology: gap filling, Savitzky–Golay smoothing, season marks (imagery.phenology)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imagery.phenology import (
    interpolate_gaps,
    season_marks,
    season_marks_many,
    smooth,
    valid_fraction,
)

D0 = np.datetime64("2023-11-01")
T = np.arange(0, 212, 5.0)  # every 5 days, 1 Nov 2023 – 29 May 2024
DATES = D0 + T.astype("timedelta64[D]")


def wheat(t: np.ndarray) -> np.ndarray:
    """Synthetic Punjab wheat NDVI: green-up from mid-December, peak ~1 March, April senescence."""
    up = 1.0 / (1.0 + np.exp(-(t - 78.0) / 14.0))
    down = 1.0 / (1.0 + np.exp((t - 140.0) / 6.0))
    return 0.15 + 0.7 * up * down


def truth() -> tuple[float, float, float]:
    """Start, peak, end (days since D0) on the noiseless curve, same definitions."""
    tf = np.arange(0.0, 212.0, 0.001)
    c = wheat(tf)
    ip = int(np.argmax(c))
    base, base_end = c[: ip + 1].min(), c[ip:].min()
    sos = tf[np.argmax(c >= base + 0.3 * (c[ip] - base))]
    eos = tf[ip + np.argmax(c[ip:] <= base_end + 0.7 * (c[ip] - base_end))]
    return float(sos), float(tf[ip]), float(eos)


def noisy(seed: int, cloud: float = 0.3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    v = wheat(T) + rng.normal(0.0, 0.02, T.size)
    v[rng.choice(T.size, round(cloud * T.size), replace=False)] = np.nan
    return v


def days(d: np.datetime64 | None) -> float:
    assert d is not None
    return float((d - D0).astype("timedelta64[D]").astype(float))


def test_truth_is_plausible() -> None:
    sos, peak, eos = truth()
    assert np.datetime64("2023-12-15") < D0 + np.timedelta64(round(sos), "D")
    assert abs(peak - 121) < 10  # ~1 March (heading)
    assert D0 + np.timedelta64(round(eos), "D") < np.datetime64("2024-04-15")


@pytest.mark.parametrize("seed", range(10))
def test_wheat_marks_within_ten_days(seed: int) -> None:
    v = noisy(seed)
    assert valid_fraction(v) == pytest.approx(0.7, abs=0.02)
    marks = season_marks(DATES, smooth(v, DATES, window=7), raw=v)
    assert marks.ok, marks.reason
    sos, peak, eos = truth()
    assert abs(days(marks.start) - sos) <= 10
    assert abs(days(marks.peak) - peak) <= 10
    assert abs(days(marks.end) - eos) <= 10
    assert marks.amplitude is not None and 0.5 < marks.amplitude < 0.8
    assert marks.peak_value is not None and marks.base is not None
    assert marks.peak_value == pytest.approx(marks.base + marks.amplitude)


def test_many_matches_single() -> None:
    m = np.stack([noisy(s) for s in range(5)] + [noisy(99, cloud=0.6)])
    many = season_marks_many(DATES, m, window=7)
    assert len(many) == 6
    for i in range(5):
        single = season_marks(DATES, smooth(m[i], DATES, window=7), raw=m[i])
        assert many[i] == single
    assert not many[5].ok


def test_too_cloudy_is_none_with_reason() -> None:
    v = noisy(1, cloud=0.6)
    marks = season_marks(DATES, smooth(v, DATES, window=7), raw=v)
    assert not marks.ok
    assert marks.start is None and marks.peak is None and marks.end is None
    assert marks.reason is not None and "clear imagery" in marks.reason


def test_flat_series_is_none_with_reason() -> None:
    v = 0.2 + 0.01 * np.sin(T / 20.0)
    marks = season_marks(DATES, smooth(v, DATES), raw=v)
    assert not marks.ok and marks.amplitude is None
    assert marks.reason is not None and "amplitude" in marks.reason


def test_interpolation_uses_dates_not_index() -> None:
    dates = np.array(["2024-01-01", "2024-01-02", "2024-01-11"], dtype="datetime64[D]")
    out = interpolate_gaps(np.array([0.0, np.nan, 1.0]), dates)
    assert out[1] == pytest.approx(0.1)  # 1 day of 10, not halfway
    out = interpolate_gaps(np.array([[np.nan, 0.5, 0.7], [np.nan, 0.5, np.nan]]), dates)
    assert out[0].tolist() == [0.5, 0.5, 0.7]  # edges: nearest valid value
    assert np.isnan(out[1]).all()  # fewer than two valid observations


@pytest.mark.parametrize(("window", "order"), [(6, 2), (3, 2), (51, 2)])
def test_window_validation(window: int, order: int) -> None:
    with pytest.raises(ValueError):
        smooth(np.ones(T.size), DATES, window=window, order=order)


def test_dates_must_increase() -> None:
    with pytest.raises(ValueError):
        smooth(np.ones(5), DATES[:5][::-1], window=5)


def test_smooth_keeps_float32() -> None:
    v = wheat(T).astype(np.float32)
    assert smooth(v, DATES).dtype == np.float32


@settings(max_examples=50, deadline=None)
@given(
    c=st.floats(-1, 1, allow_nan=False),
    holes=st.lists(st.integers(0, T.size - 1), max_size=T.size // 2),
    window=st.sampled_from([5, 7]),
)
def test_smoothing_constant_is_constant(c: float, holes: list[int], window: int) -> None:
    v = np.full(T.size, c)
    v[holes] = np.nan
    if np.isfinite(v).sum() < 2:
        return
    np.testing.assert_allclose(smooth(v, DATES, window=window), c, atol=1e-9)
