"""Ratio-study statistics against hand arithmetic (IAAO 2013; domain.md §7)."""

from __future__ import annotations

import math
import statistics

import numpy as np
import pytest

from landgov.domain import ratio_study as rs
from landgov.errors import DomainError

# five sales, regressive: cheap ones over-assessed, dear ones under-assessed
PRICES = [100.0, 200.0, 400.0, 500.0, 1000.0]
ESTIMATES = [120.0, 220.0, 400.0, 450.0, 800.0]  # ratios 1.2, 1.1, 1.0, 0.9, 0.8


def _market(n: int = 400, seed: int = 7, tilt: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    p = rng.lognormal(15.0, 0.8, n)
    e = p * rng.lognormal(0.0, 0.1, n) * (p / np.median(p)) ** tilt
    return e, p


def test_five_sales_by_hand() -> None:
    assert list(rs.ratios(ESTIMATES, PRICES)) == pytest.approx([1.2, 1.1, 1.0, 0.9, 0.8])
    assert rs.median_ratio(ESTIMATES, PRICES) == pytest.approx(1.0)
    # |r − 1| = .2 .1 0 .1 .2 → mean .12 → COD 12
    assert rs.cod(ESTIMATES, PRICES) == pytest.approx(12.0)
    # mean ratio 1.0; weighted 1990 / 2200
    assert rs.prd(ESTIMATES, PRICES) == pytest.approx(1.0 / (1990 / 2200))
    # Σ i·price = 100 + 400 + 1200 + 2000 + 5000 = 8700; Σ i·estimate = 7560
    g_p = (2 * 8700 / 2200 - 6) / 5
    g_e = (2 * 7560 / 1990 - 6) / 5
    assert rs.mki(ESTIMATES, PRICES) == pytest.approx(g_e / g_p)
    # PRB: y = r − 1 on x = log2((estimate/1 + price)/2)
    x = [math.log2((e + p) / 2) for e, p in zip(ESTIMATES, PRICES, strict=True)]
    y = [e / p - 1.0 for e, p in zip(ESTIMATES, PRICES, strict=True)]
    assert rs.prb(ESTIMATES, PRICES) == pytest.approx(statistics.linear_regression(x, y).slope)


def test_even_count_median_and_prb_uses_estimate_over_median() -> None:
    e, p = [90.0, 220.0, 330.0, 500.0], [100.0, 200.0, 300.0, 400.0]  # 0.9 1.1 1.1 1.25
    med = (1.1 + 1.1) / 2
    assert rs.median_ratio(e, p) == pytest.approx(med)
    x = [math.log2((a / med + b) / 2) for a, b in zip(e, p, strict=True)]
    y = [(a / b - med) / med for a, b in zip(e, p, strict=True)]
    assert rs.prb(e, p) == pytest.approx(statistics.linear_regression(x, y).slope)


def test_mki_orders_by_price_with_stable_ties() -> None:
    # tied prices keep input order: estimates 5 then 1 at price 10, then 8 at price 20
    e, p = [5.0, 1.0, 8.0], [10.0, 10.0, 20.0]
    g_e = (2 * (1 * 5 + 2 * 1 + 3 * 8) / 14 - 4) / 3
    g_p = (2 * (10 + 20 + 60) / 40 - 4) / 3
    assert rs.mki(e, p) == pytest.approx(g_e / g_p)
    assert rs.mki([8.0, 5.0, 1.0], [20.0, 10.0, 10.0]) == pytest.approx(g_e / g_p)


def test_proportional_estimates_are_perfectly_equitable() -> None:
    p = np.array([50.0, 80.0, 120.0, 300.0, 900.0, 2000.0])
    e = 0.95 * p
    assert rs.median_ratio(e, p) == pytest.approx(0.95)
    assert rs.cod(e, p) == pytest.approx(0.0, abs=1e-9)
    assert rs.prd(e, p) == pytest.approx(1.0)
    assert rs.prb(e, p) == pytest.approx(0.0, abs=1e-9)
    assert rs.mki(e, p) == pytest.approx(1.0)


def test_regressive_roll_fails_vertical_equity() -> None:
    e, p = _market(tilt=-0.15)  # ratios fall as value rises
    assert rs.prd(e, p) > 1.03
    assert rs.prb(e, p) < -0.05
    assert rs.mki(e, p) < 0.95
    result = rs.study(e, p, n_boot=0)
    assert not result.gates["prd"] and not result.gates["prb"] and not result.gates["mki"]
    assert not result.passed


def test_progressive_roll_is_the_mirror_image() -> None:
    e, p = _market(tilt=0.15)
    assert rs.prd(e, p) < 0.98 and rs.prb(e, p) > 0.05 and rs.mki(e, p) > 1.05


def test_trim_drops_a_planted_extreme_ratio() -> None:
    e, p = _market(n=50)
    e[17] = p[17] * 8.0  # a family transfer recorded at a token price
    kept = rs.trim_iqr(e, p)
    assert kept.dropped == 1
    assert kept.estimates.size == 49
    assert not np.any(np.isclose(kept.estimates / kept.prices, 8.0))
    assert list(kept.prices) == list(np.delete(p, 17))  # input order kept
    assert rs.trim_iqr(*_market(n=50)).dropped == 0
    result = rs.study(e, p, n_boot=0)
    assert result.n == 50 and result.dropped == 0
    assert result.trimmed is not None
    assert result.trimmed.n == 49 and result.trimmed.dropped == 1
    assert result.trimmed.cod == pytest.approx(rs.cod(kept.estimates, kept.prices))
    assert result.trimmed.mki == pytest.approx(rs.mki(kept.estimates, kept.prices))
    assert result.cod > result.trimmed.cod


def test_study_matches_the_single_statistics() -> None:
    e, p = _market()
    result = rs.study(e, p, n_boot=0)
    for name, func in [
        ("median_ratio", rs.median_ratio),
        ("cod", rs.cod),
        ("prd", rs.prd),
        ("prb", rs.prb),
        ("mki", rs.mki),
    ]:
        assert getattr(result, name) == pytest.approx(func(e, p), rel=1e-12)
    assert dict(result.ci) == {}


@pytest.mark.parametrize("stat", rs.STATISTICS)
def test_bootstrap_ci_contains_the_estimate_and_is_deterministic(stat: str) -> None:
    e, p = _market()
    point = getattr(rs, stat)(e, p)
    lo, hi = rs.bootstrap_ci(e, p, stat, n_boot=300, seed=5)
    assert lo < point < hi
    assert rs.bootstrap_ci(e, p, stat, n_boot=300, seed=5) == (lo, hi)
    assert rs.bootstrap_ci(e, p, stat, n_boot=300, seed=6) != (lo, hi)
    assert rs.bootstrap_ci(e, p, getattr(rs, stat), n_boot=300, seed=5) == (lo, hi)


@pytest.mark.parametrize("stat", rs.STATISTICS)
def test_batched_bootstrap_equals_resampling_one_by_one(stat: str) -> None:
    # a lambda is not recognised, so it runs on materialised resamples: same draws
    e, p = _market(n=60)
    e[:6] = e[6:12]
    p[:6] = p[6:12]  # duplicated sales: ties in price and ratio
    func = getattr(rs, stat)
    batched = rs.bootstrap_ci(e, p, stat, n_boot=200, seed=1)
    looped = rs.bootstrap_ci(e, p, lambda a, b: func(a, b), n_boot=200, seed=1)
    assert batched == pytest.approx(looped, rel=1e-9)


def test_study_ci_shares_resamples_with_bootstrap_ci() -> None:
    e, p = _market()
    result = rs.study(e, p, n_boot=200, seed=3)
    assert result.ci["cod"] == rs.bootstrap_ci(e, p, "cod", n_boot=200, seed=3)
    assert result.trimmed is not None and set(result.trimmed.ci) == set(rs.STATISTICS)
    narrow = rs.study(e, p, n_boot=200, seed=3, level=0.5).ci["cod"]
    assert result.ci["cod"][0] < narrow[0] < narrow[1] < result.ci["cod"][1]


@pytest.mark.parametrize(
    ("cls", "limit"), [("residential", 15.0), ("other", 20.0), ("vacant", 25.0)]
)
def test_cod_limit_depends_on_property_class(cls: str, limit: float) -> None:
    assert rs.GATES.ranges(cls)["cod"] == (0.0, limit)
    assert rs.GATES.check({"cod": limit}, cls) == {"cod": True}
    assert rs.GATES.check({"cod": limit + 0.01}, cls) == {"cod": False}


def test_gates_by_class_on_a_study() -> None:
    e, p = _market(n=300, seed=2)
    e = p * np.random.default_rng(3).lognormal(0.0, 0.22, p.size)  # COD ≈ 17–18
    cod = rs.cod(e, p)
    assert 15.0 < cod < 20.0
    assert not rs.study(e, p, property_class="residential", n_boot=0).gates["cod"]
    assert rs.study(e, p, property_class="other", n_boot=0).gates["cod"]
    assert rs.study(e, p, property_class=rs.PropertyClass.VACANT, n_boot=0).gates["cod"]


def test_gate_edges_are_inclusive() -> None:
    check = rs.GATES.check
    assert check({"median_ratio": 0.90, "prd": 1.03, "prb": -0.05, "mki": 1.05}, "other") == {
        "median_ratio": True,
        "prd": True,
        "prb": True,
        "mki": True,
    }
    assert check({"median_ratio": 1.1001, "prd": 0.9799, "mki": 0.9499}, "other") == {
        "median_ratio": False,
        "prd": False,
        "mki": False,
    }


def test_as_json_has_the_contract_keys_first() -> None:
    e, p = _market()
    data = rs.study(e, p, n_boot=50).as_json()
    assert list(data)[:6] == ["n", "median_ratio", "cod", "prd", "prb", "mki"]
    assert set(data["trimmed"]) >= {"n", "median_ratio", "cod", "prd", "prb", "mki", "gates"}
    assert "trimmed" not in data["trimmed"]
    assert set(data["ci"]) == set(rs.STATISTICS)


def test_by_stratum_studies_each_group() -> None:
    e, p = _market(n=90)
    rows = [
        {"stratum": ["b", "a", "c"][i % 3], "estimate": e[i], "sale_price": p[i]} for i in range(90)
    ]
    result = rs.by_stratum(rows, n_boot=0)
    assert list(result) == ["a", "b", "c"]
    assert result["b"].n == 30
    assert result["b"].cod == pytest.approx(rs.cod(e[0::3], p[0::3]))


def test_by_stratum_names_the_failing_stratum() -> None:
    rows = [{"stratum": "x", "estimate": 1.0, "sale_price": 2.0}] * 2
    with pytest.raises(rs.RatioStudyError, match="stratum 'x': needs at least 3 sales"):
        rs.by_stratum(rows, n_boot=0)


@pytest.mark.parametrize(
    ("estimates", "prices", "message"),
    [
        ([1.0, 2.0], [1.0], "2 estimate"),
        ([1.0], [1.0], "at least 2 sales"),
        ([1.0, -2.0], [1.0, 1.0], "estimate.*not positive.*sale 2"),
        ([1.0, 2.0], [1.0, 0.0], "sale price.*not positive.*sale 2"),
        ([1.0, math.nan], [1.0, 1.0], "not finite"),
        ([1.0, 2.0], [math.inf, 1.0], "not finite.*sale 1"),
        (["a", "b"], [1.0, 1.0], "must be numbers"),
    ],
)
def test_bad_input_is_refused(estimates: list[object], prices: list[float], message: str) -> None:
    with pytest.raises(rs.RatioStudyError, match=message) as caught:
        rs.cod(estimates, prices)  # type: ignore[arg-type]
    assert isinstance(caught.value, DomainError)


def test_prb_and_study_need_three_sales_and_spread() -> None:
    with pytest.raises(rs.RatioStudyError, match="at least 3"):
        rs.prb([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(rs.RatioStudyError, match="at least 3"):
        rs.study([1.0, 2.0], [1.0, 2.0])
    with pytest.raises(rs.RatioStudyError, match="MKI is undefined"):
        rs.mki([1.0, 2.0, 3.0], [5.0, 5.0, 5.0])
    with pytest.raises(rs.RatioStudyError, match="PRB is undefined"):
        rs.prb([5.0, 5.0, 5.0], [5.0, 5.0, 5.0])
    with pytest.raises(rs.RatioStudyError, match="unknown property class"):
        rs.study([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], property_class="commercial")
    with pytest.raises(rs.RatioStudyError, match="level"):
        rs.bootstrap_ci([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], "cod", level=1.5)
    with pytest.raises(rs.RatioStudyError, match="unknown statistic"):
        rs.bootstrap_ci([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], "cov")
