"""Advisory rules on synthetic parcel-season series: each rule fires on what it is for,
stays quiet otherwise, and carries its evidence."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from landgov.advisories.rules import (
    Kind,
    Level,
    Series,
    crop_health,
    greenup_date,
    imagery_check,
    maunds_per_acre,
    phenology_notices,
    water_stress,
    yield_outlook,
)

START = date(2025, 11, 20)
DATES = [START + timedelta(days=5 * i) for i in range(20)]  # to 2026-02-27
ON = DATES[-1]


def wheat(shift_days: int = 0, n: int = 20) -> np.ndarray:
    """A wheat-like NDVI green-up: logistic around 40 days after 20 Nov (+ shift)."""
    t = np.array([(d - START).days for d in DATES[:n]], dtype=float)
    return 0.2 + 0.6 / (1 + np.exp(-(t - 40 - shift_days) / 8))


def series(ndvi: np.ndarray, ndmi: np.ndarray | None = None) -> Series:
    ndmi = ndvi * 0.5 if ndmi is None else ndmi
    return Series(DATES[: len(ndvi)], ndvi, ndvi * 0.6, ndmi)


def test_cloudy_season_gets_only_not_enough_imagery() -> None:
    v = wheat()
    v[::2] = np.nan  # half the looks cloudy ...
    v[-5:] = np.nan  # ... and nothing clear in the last 20 days
    a = imagery_check(series(v), ON)
    assert a is not None and a.kind is Kind.INSUFFICIENT
    assert a.evidence["clear"] == 7 and a.evidence["clear_recent"] == 0
    assert a.evidence["last_clear"] == DATES[13].isoformat()
    assert imagery_check(series(wheat()), ON) is None


def test_health_against_peers_and_own_history() -> None:
    peers = np.array([0.78, 0.8, 0.79, 0.81, 0.77, 0.8, 0.79])
    weak = wheat()
    weak[-1] = 0.55
    a = crop_health(series(weak), peers, own_history_ndvi=[0.8, 0.82])
    assert a.status == "poor" and a.level is Level.WARNING
    assert a.evidence["ndvi"] == 0.55 and a.evidence["peers"] == 7
    assert a.evidence["vs_own_history"] == pytest.approx(-0.26)
    ok = crop_health(series(wheat()), peers)
    assert ok.status == "normal" and ok.level is Level.INFO
    assert crop_health(series(wheat()), peers[:3]).status == "unknown"  # too few peers
    # judged on WDRVI where the peers' is known: NDVI saturated, WDRVI still separates
    dense = wheat()
    dense[-1] = 0.79  # NDVI like the peers ...
    s = Series(DATES, dense, dense * 0.6, dense * 0.5)
    s.wdrvi[-1] = 0.30  # ... but a thinner canopy than theirs (0.45)
    wd = crop_health(s, peers, peers_wdrvi_today=np.full(7, 0.45) + np.linspace(-0.01, 0.01, 7))
    assert wd.status == "poor" and wd.evidence["judged_on"] == "wdrvi"
    assert crop_health(s, peers).status == "normal"  # NDVI alone misses it


def test_yield_outlook_in_maunds_per_acre() -> None:
    assert maunds_per_acre(3.1) == pytest.approx(31.38, abs=0.01)  # Punjab wheat 2020-21
    a = yield_outlook(2.5, 3.5, "wheat", 0.8)
    assert a is not None and a.status == "below" and a.evidence["maunds_per_acre"] == 25.3
    assert a.evidence["district_maunds_per_acre"] == 35.4
    assert yield_outlook(3.6, 3.5, "wheat", 0.8).status == "near"  # type: ignore[union-attr]
    assert yield_outlook(None, 3.5, "wheat", 0.8) is None


def test_water_stress_is_less_canopy_water_than_equally_green_peers() -> None:
    rng = np.random.default_rng(3)
    peers_ndvi = rng.uniform(0.6, 0.85, 30)
    peers_ndmi = 0.5 * peers_ndvi - 0.05 + rng.normal(0, 0.005, 30)  # watered: on the line
    v = wheat()
    ndmi = 0.5 * v - 0.05
    ndmi[-3:] -= np.array([0.02, 0.06, 0.12])  # drying while as green as ever
    a = water_stress(series(v, ndmi), peers_ndvi, peers_ndmi)
    assert a is not None and a.kind is Kind.WATER and a.level is Level.WARNING
    assert a.evidence["deficit"] == pytest.approx(0.12, abs=0.01)
    assert a.evidence["ndmi_expected"] == pytest.approx(0.5 * v[-1] - 0.05, abs=0.01)
    assert a.evidence["date"] == ON.isoformat() and a.evidence["peers"] == 30
    assert a.evidence["ndmi_drop"] >= 0.1 and a.evidence["since"] is not None
    # a fodder cut: NDMI and NDVI fall together, staying on the peers' line
    cut = v.copy()
    cut[-1] = 0.45
    assert water_stress(series(cut, 0.5 * cut - 0.05), peers_ndvi, peers_ndmi) is None
    # healthy, or too few peers to know what healthy is
    assert water_stress(series(v, 0.5 * v - 0.05), peers_ndvi, peers_ndmi) is None
    assert water_stress(series(v, ndmi), peers_ndvi[:3], peers_ndmi[:3]) is None


def test_late_sowing_and_early_senescence_against_peers() -> None:
    on_time = greenup_date(DATES, wheat())
    late = greenup_date(DATES, wheat(shift_days=30))
    assert on_time is not None and late is not None and (late - on_time).days >= 28
    peers = [on_time + timedelta(days=k) for k in (-3, -1, 0, 1, 2, 4)]
    notices = phenology_notices(late, peers, None, [], 0.9)
    assert [n.kind for n in notices] == [Kind.LATE]
    assert notices[0].evidence["days_late"] >= 27
    assert phenology_notices(on_time, peers, None, [], 0.9) == []
    end = date(2026, 3, 1)
    ends = [date(2026, 3, 25) + timedelta(days=k) for k in range(6)]
    (early,) = phenology_notices(None, [], end, ends, 0.9)
    assert early.kind is Kind.EARLY and early.evidence["days_early"] == 27
    assert greenup_date(DATES[:5], wheat(n=5)) is None  # not green yet
