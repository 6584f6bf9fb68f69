"""Ratio studies: how well valuations track sale prices (IAAO Standard on Ratio Studies).

A ratio study compares each sold property's estimate (the DC rate, an FBR table value or
a mass-appraisal model's figure) with its sale price. The ratio ``r = estimate / price``
should sit near 1 (*level*), vary little from sale to sale (*uniformity*, COD) and not
drift with value (*vertical equity*: PRD, PRB, MKI). Definitions follow the IAAO
Standard on Ratio Studies (2013) exactly as domain.md §7 states them, in the style of
the open ``assesspy`` package: each statistic is one short, pure function.

Everything is vectorised numpy, so a study of a province's 1,000,000 sales takes well
under a second without bootstrap. Bootstrap resamples are drawn as multinomial counts
over the original sales (never materialised resamples), so every statistic of a
resample is an O(n) weighted sum over data sorted once; see :func:`bootstrap_ci`.

No I/O here: the CLI (``landgov valuation ratio-study``) reads the CSV.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Final, NamedTuple

import numpy as np
import numpy.typing as npt

from landgov.errors import DomainError

FloatArray = npt.NDArray[np.float64]
Stat = Callable[[npt.ArrayLike, npt.ArrayLike], float]

STATISTICS: Final = ("median_ratio", "cod", "prd", "prb", "mki")
"""The statistics a study reports, in the order the CLI contract prints them."""

_GATE_TOLERANCE: Final = 1e-9
"""Slack on gate limits, so a figure that prints as exactly 1.03 passes ``≤ 1.03``."""

_BOOT_CELLS: Final = 1 << 18
"""Resample cells (resamples × sales) per bootstrap chunk: 2 MiB per float array, so a
chunk's temporaries stay in cache for small strata; large ones go one resample at a time."""


class RatioStudyError(DomainError):
    """Sales cannot be studied: bad numbers, too few sales, or a degenerate statistic."""


class PropertyClass(StrEnum):
    """Property classes with their own COD limit (IAAO 2013, Table 1.3; domain.md §7)."""

    RESIDENTIAL = "residential"
    OTHER = "other"
    VACANT = "vacant"


# --------------------------------------------------------------------------- validation


def _as_sales(
    estimates: npt.ArrayLike, prices: npt.ArrayLike, minimum: int
) -> tuple[FloatArray, FloatArray]:
    """Both arrays as 1-D float64 after checking the rules every statistic relies on.

    Ratios are only meaningful for positive, finite figures, and a statistic of fewer
    sales than it needs is noise, so both are refused rather than returned as NaN.
    """
    try:
        e = np.asarray(estimates, dtype=np.float64)
        p = np.asarray(prices, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise RatioStudyError(f"estimates and sale prices must be numbers: {exc}") from exc
    if e.ndim != 1 or p.ndim != 1:
        raise RatioStudyError("estimates and sale prices must be flat sequences of numbers")
    if e.size != p.size:
        raise RatioStudyError(
            f"{e.size} estimate(s) but {p.size} sale price(s): each sale needs both"
        )
    if e.size < minimum:
        raise RatioStudyError(f"needs at least {minimum} sales, got {e.size}")
    for name, values in (("estimate", e), ("sale price", p)):
        bad = ~np.isfinite(values)
        if bad.any():
            i = int(np.argmax(bad))
            raise RatioStudyError(
                f"{int(bad.sum())} {name}(s) not finite; first: sale {i + 1} ({values[i]})"
            )
        bad = values <= 0
        if bad.any():
            i = int(np.argmax(bad))
            raise RatioStudyError(
                f"{int(bad.sum())} {name}(s) not positive; first: sale {i + 1} ({values[i]:g})"
            )
    return e, p


# --------------------------------------------------------------------------- statistics


def ratios(estimates: npt.ArrayLike, prices: npt.ArrayLike) -> FloatArray:
    """Assessment ratios ``r_i = estimate_i / price_i`` (IAAO 2013, §1.1).

    The building block of every other statistic; a ratio of 1 means the estimate equals
    what the property actually sold for.
    """
    e, p = _as_sales(estimates, prices, 1)
    return e / p


def median_ratio(estimates: npt.ArrayLike, prices: npt.ArrayLike) -> float:
    """Median of the ratios: the study's measure of level (IAAO 2013, §9.2.1).

    The median rather than the mean, because a few wild sales (family transfers, forced
    sales) must not move the verdict on the level of the whole roll.
    """
    e, p = _as_sales(estimates, prices, 2)
    return float(np.median(e / p))


def cod(estimates: npt.ArrayLike, prices: npt.ArrayLike) -> float:
    """Coefficient of dispersion ``COD = 100 · mean|r − med| / med`` (IAAO 2013, §9.3.1).

    Uniformity: the average absolute deviation from the median ratio, in percent of it.
    Two owners of equal properties should pay equal tax; a COD of 15 means estimates
    stray 15 % from the typical ratio on average.
    """
    e, p = _as_sales(estimates, prices, 2)
    r = e / p
    med = np.median(r)
    return float(100.0 * np.mean(np.abs(r - med)) / med)


def prd(estimates: npt.ArrayLike, prices: npt.ArrayLike) -> float:
    """Price-related differential ``PRD = mean(r) / (Σ estimate / Σ price)`` (IAAO 2013, §9.4.1).

    Vertical equity: the weighted mean weighs expensive sales more, so when cheap
    properties are over-assessed relative to dear ones (regressivity) the plain mean
    exceeds it and PRD rises above 1.
    """
    e, p = _as_sales(estimates, prices, 2)
    return float(np.mean(e / p) / (e.sum() / p.sum()))


def prb(estimates: npt.ArrayLike, prices: npt.ArrayLike) -> float:
    """Price-related bias: OLS slope of ``(r − med)/med`` on ``log2((estimate/med + price)/2)``.

    IAAO 2013, §9.4.2 and Appendix B (Gloudemans 2011), as in domain.md §7. The value
    proxy ``(estimate/med + price)/2`` blends the estimate scaled to market level with
    the price, so the slope is not biased by sale-price noise alone. The slope reads as
    the percentage change of ratios when value doubles: −0.05 means ratios fall 5 % per
    doubling (regressive). Needs at least 3 sales with differing value proxies.
    """
    e, p = _as_sales(estimates, prices, 3)
    r = e / p
    med = np.median(r)
    slope = _ols_slope(np.log2((e / med + p) / 2.0), (r - med) / med)
    if math.isnan(slope):
        raise RatioStudyError("PRB is undefined: every sale has the same value proxy")
    return slope


def mki(estimates: npt.ArrayLike, prices: npt.ArrayLike) -> float:
    """Modified Kakwani index ``MKI = G(estimates) / G(prices)`` (Quintos 2020; IAAO 2013 update).

    Both Gini coefficients order sales by sale price (stable sort, so ties keep their
    input order): ``G(x) = (2·Σ i·x_i / Σx − (n + 1)) / n`` with ``i = 1…n``. Estimates
    less unequal than prices (MKI < 1) mean dear properties are under-assessed relative
    to cheap ones: a regressive roll. Undefined when every price is equal.
    """
    e, p = _as_sales(estimates, prices, 2)
    order = np.argsort(p, kind="stable")
    g_prices = _gini(p[order])
    if g_prices == 0.0:
        raise RatioStudyError("MKI is undefined: every sale price is equal")
    return _gini(e[order]) / g_prices


def _gini(x: FloatArray) -> float:
    """``G(x) = (2·Σ i·x_i / Σx − (n + 1)) / n`` for ``x`` already in sale-price order."""
    n = x.size
    i = np.arange(1, n + 1, dtype=np.float64)
    return float((2.0 * np.dot(i, x) / x.sum() - (n + 1)) / n)


def _ols_slope(x: FloatArray, y: FloatArray) -> float:
    """Least-squares slope of ``y`` on ``x`` (with intercept); NaN when ``x`` is constant."""
    dx = x - x.mean()
    sxx = float(np.dot(dx, dx))
    if sxx <= 1e-300 or sxx <= 1e-24 * float(np.dot(x, x)):
        return math.nan
    return float(np.dot(dx, y - y.mean()) / sxx)


# --------------------------------------------------------------------------- trimming


class Trimmed(NamedTuple):
    """Sales kept by :func:`trim_iqr`, in input order, and how many were dropped."""

    estimates: FloatArray
    prices: FloatArray
    dropped: int


def trim_iqr(estimates: npt.ArrayLike, prices: npt.ArrayLike, k: float = 3.0) -> Trimmed:
    """Drop sales whose ratio lies beyond ``k × IQR`` outside the quartiles (IAAO 2013, App. B).

    Ratios below ``Q1 − k·IQR`` or above ``Q3 + k·IQR`` are almost always not arm's-length
    sales or data-entry errors, and a handful of them can move COD and PRD on their own.
    IAAO recommends ``k = 3`` (extreme outliers only); quartiles use numpy's default
    linear interpolation. Ratios between the quartiles are always kept.
    """
    e, p = _as_sales(estimates, prices, 1)
    keep = _keep_mask(e / p, k)
    return Trimmed(e[keep], p[keep], int(keep.size - np.count_nonzero(keep)))


def _keep_mask(r: FloatArray, k: float) -> npt.NDArray[np.bool_]:
    """Which ratios lie within ``[Q1 − k·IQR, Q3 + k·IQR]``."""
    if not (math.isfinite(k) and k >= 0):
        raise RatioStudyError(f"trim factor k must be a finite number ≥ 0, got {k}")
    q1, q3 = np.quantile(r, [0.25, 0.75])
    iqr = q3 - q1
    keep: npt.NDArray[np.bool_] = (r >= q1 - k * iqr) & (r <= q3 + k * iqr)
    return keep


# --------------------------------------------------------------------------- bootstrap


@dataclass(frozen=True)
class _Sorted:
    """Sales laid out once for batched resample statistics.

    Sales are held in ratio order (so a resample's median is a cumulative count away),
    with ``to_price`` taking them to sale-price order (stable in the *input* order, as
    :func:`mki` sorts) and ``to_input`` back to input order, for callables.
    """

    e: FloatArray
    p: FloatArray
    r: FloatArray
    to_price: npt.NDArray[np.intp]
    to_input: npt.NDArray[np.intp]
    e_by_price: FloatArray
    p_by_price: FloatArray
    shift: float  # subtracted from the PRB value proxy: same slope, less cancellation

    @classmethod
    def of(cls, e: FloatArray, p: FloatArray, by_price: npt.NDArray[np.intp]) -> _Sorted:
        r = e / p
        by_ratio = np.argsort(r, kind="stable")
        rank = np.empty_like(by_ratio)
        rank[by_ratio] = np.arange(by_ratio.size)
        return cls(
            e[by_ratio],
            p[by_ratio],
            r[by_ratio],
            rank[by_price],
            rank,
            e[by_price],
            p[by_price],
            float(np.log2(np.median(p))),
        )


def _rowdot(a: FloatArray, b: FloatArray) -> FloatArray:
    """Row-wise dot products of two (resamples × sales) arrays."""
    out: FloatArray = np.einsum("bn,bn->b", a, b)
    return out


def _batch_stats(s: _Sorted, w: FloatArray, names: Iterable[str]) -> dict[str, FloatArray]:
    """Every named statistic of each resample, given its counts ``w`` (resamples × sales).

    A resample that holds sale ``j`` ``w_j`` times is the same as a weighted sample, so
    each statistic becomes a weighted sum: the median from cumulative counts in ratio
    order, MKI from the positions ``C_{j-1}+1 … C_j`` that sale ``j``'s copies occupy in
    price order (their sum is ``w_j·C_{j-1} + w_j(w_j+1)/2``), PRB from weighted
    moments. Degenerate resamples (constant value proxy, equal prices) give NaN.
    """
    wanted = set(names)
    n = s.r.size
    out: dict[str, FloatArray] = {}
    cum = np.cumsum(w, axis=1)

    def kth(k: int) -> FloatArray:  # k-th smallest ratio (1-based) of each resample
        below: npt.NDArray[np.intp] = np.count_nonzero(cum < k, axis=1)
        return s.r[below]

    med = kth((n + 1) // 2) if n % 2 else (kth(n // 2) + kth(n // 2 + 1)) / 2.0
    med_col = med[:, None]
    sum_r = w @ s.r
    out["median_ratio"] = med
    if "cod" in wanted:
        # Σ w|r − med| = med·(2·W_low − n) + Σ w·r − 2·S_low, over the sales below med
        low = np.searchsorted(s.r, med)
        w_low = np.array([cum[i, m - 1] if m else 0.0 for i, m in enumerate(low)])
        s_low = np.array([w[i, :m] @ s.r[:m] for i, m in enumerate(low)])
        out["cod"] = 100.0 * (med * (2.0 * w_low - n) + sum_r - 2.0 * s_low) / n / med
    if "prd" in wanted or "mki" in wanted:
        sum_e = w @ s.e
        sum_p = w @ s.p
        out["prd"] = (sum_r / n) / (sum_e / sum_p)
    if "prb" in wanted:
        # slope of y = (r − med)/med on x: Sxy / Sxx from weighted raw moments
        x = s.e / med_col
        x += s.p
        np.log2(x, out=x)
        x -= 1.0 + s.shift
        wx = w * x
        sx = wx.sum(axis=1)
        sxx_raw = _rowdot(wx, x)
        sxx = sxx_raw - sx * sx / n
        sxy = (wx @ s.r - sx * sum_r / n) / med
        flat = sxx <= 1e-12 * sxx_raw
        out["prb"] = np.where(flat, np.nan, sxy / np.where(flat, 1.0, sxx))
    if "mki" in wanted:
        wp = w[:, s.to_price]
        pos = np.cumsum(wp, axis=1)
        pos -= 0.5 * wp
        pos += 0.5
        pos *= wp
        g_e = (2.0 * (pos @ s.e_by_price) / sum_e - (n + 1)) / n
        g_p = (2.0 * (pos @ s.p_by_price) / sum_p - (n + 1)) / n
        flat_p = np.abs(g_p) <= 1e-12
        out["mki"] = np.where(flat_p, np.nan, g_e / np.where(flat_p, 1.0, g_p))
    return out


def _resample_counts(rng: np.random.Generator, n: int, b: int) -> FloatArray:
    """Counts of each sale in ``b`` bootstrap resamples of size ``n`` (b × n)."""
    idx = rng.integers(0, n, size=(b, n))
    if b > 1:
        idx += (np.arange(b) * n)[:, None]
    return np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(np.float64)


_BATCHED: Final[Mapping[Callable[..., float], str]] = MappingProxyType(
    {median_ratio: "median_ratio", cod: "cod", prd: "prd", prb: "prb", mki: "mki"}
)


def _bootstrap(
    e: FloatArray,
    p: FloatArray,
    stats: Mapping[str, str | Stat],
    n_boot: int,
    level: float,
    seed: int,
    by_price: npt.NDArray[np.intp] | None = None,
) -> dict[str, tuple[float, float]]:
    """Percentile intervals of several statistics from the same ``n_boot`` resamples.

    Named statistics run batched (:func:`_batch_stats`); any other callable is applied
    to each materialised resample (in input order), so it sees exactly the resamples
    the batched ones see. ``by_price`` is the stable price order, when already known.
    """
    if not (isinstance(n_boot, int) and n_boot >= 1):
        raise RatioStudyError(f"n_boot must be a whole number ≥ 1, got {n_boot!r}")
    if not (0.0 < level < 1.0):
        raise RatioStudyError(f"level must lie strictly between 0 and 1, got {level}")
    if by_price is None:
        by_price = np.argsort(p, kind="stable")
    s = _Sorted.of(e, p, by_price)
    n = e.size
    named = {key: stat for key, stat in stats.items() if isinstance(stat, str)}
    custom = {key: stat for key, stat in stats.items() if not isinstance(stat, str)}
    values: dict[str, list[FloatArray]] = {key: [] for key in stats}
    rng = np.random.default_rng(seed)
    chunk = max(1, _BOOT_CELLS // n)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        w = _resample_counts(rng, n, b)
        batch = _batch_stats(s, w, named.values())
        for key, name in named.items():
            values[key].append(batch[name])
        for key, func in custom.items():
            got = np.empty(b)
            for row in range(b):
                idx = np.repeat(np.arange(n), w[row, s.to_input].astype(np.intp))
                try:
                    got[row] = func(e[idx], p[idx])
                except RatioStudyError:  # a degenerate resample, as NaN in the batch
                    got[row] = np.nan
            values[key].append(got)
        done += b
    alpha = (1.0 - level) / 2.0
    out: dict[str, tuple[float, float]] = {}
    for key, parts in values.items():
        v = np.concatenate(parts)
        v = v[np.isfinite(v)]
        if v.size == 0:
            out[key] = (math.nan, math.nan)
        else:
            lo, hi = np.quantile(v, [alpha, 1.0 - alpha])
            out[key] = (float(lo), float(hi))
    return out


def bootstrap_ci(
    estimates: npt.ArrayLike,
    prices: npt.ArrayLike,
    stat: Stat | str,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap interval of one statistic (IAAO 2013, §9.2.4 and App. C).

    A COD of 14 from 40 sales and one from 4,000 sales are not equally convincing; the
    interval says how far the figure could move with another draw of sales. Resamples
    come from ``numpy.random.default_rng(seed)``, so the same data and seed always give
    the same interval. ``stat`` is one of this module's statistics (as the function or
    its name: computed batched, without materialising resamples) or any callable
    ``(estimates, prices) -> float`` (applied to each resample in turn). Resamples on
    which the statistic is undefined (e.g. PRB of identical sales) are left out.
    """
    e, p = _as_sales(estimates, prices, 2)
    if isinstance(stat, str):
        if stat not in STATISTICS:
            raise RatioStudyError(f"unknown statistic {stat!r}; one of {', '.join(STATISTICS)}")
        spec: str | Stat = stat
    else:
        spec = _BATCHED.get(stat, stat)
    return _bootstrap(e, p, {"stat": spec}, n_boot, level, seed)["stat"]


# --------------------------------------------------------------------------- gates


@dataclass(frozen=True)
class Gates:
    """IAAO performance standards as data (IAAO 2013, Table 1.3; domain.md §7).

    Ranges are inclusive. The COD limit depends on the property class, because
    heterogeneous classes (vacant land above all) cannot be valued as uniformly as
    homogeneous housing. Pass a different instance to :func:`study` to apply a
    jurisdiction's own standards.
    """

    median_ratio: tuple[float, float] = (0.90, 1.10)
    prd: tuple[float, float] = (0.98, 1.03)
    prb: tuple[float, float] = (-0.05, 0.05)
    mki: tuple[float, float] = (0.95, 1.05)
    cod_max: Mapping[PropertyClass, float] = field(
        default_factory=lambda: MappingProxyType(
            {PropertyClass.RESIDENTIAL: 15.0, PropertyClass.OTHER: 20.0, PropertyClass.VACANT: 25.0}
        )
    )

    def ranges(self, property_class: PropertyClass | str) -> dict[str, tuple[float, float]]:
        """Each statistic's accepted ``(low, high)`` for this class; COD's low is 0."""
        cls = property_class_of(property_class)
        return {
            "median_ratio": self.median_ratio,
            "cod": (0.0, self.cod_max[cls]),
            "prd": self.prd,
            "prb": self.prb,
            "mki": self.mki,
        }

    def check(
        self, values: Mapping[str, float], property_class: PropertyClass | str
    ) -> dict[str, bool]:
        """Pass (True) or fail (False) for each statistic in ``values``."""
        ranges = self.ranges(property_class)
        return {
            name: bool(
                ranges[name][0] - _GATE_TOLERANCE <= value <= ranges[name][1] + _GATE_TOLERANCE
            )
            for name, value in values.items()
        }


GATES: Final = Gates()
"""The IAAO gates of domain.md §7."""


def property_class_of_land(land_class: str) -> PropertyClass:
    """The IAAO class whose COD limit applies to a land class (domain.md §7): abadi
    (houses) residential, farm and waste land vacant (the loosest limit: the most
    heterogeneous land), anything else (e.g. a stratum mixing classes) other."""
    if land_class == "abadi":
        return PropertyClass.RESIDENTIAL
    if land_class in ("nehri", "chahi", "barani", "banjar", "ghair_mumkin", "shamlat", "forest"):
        return PropertyClass.VACANT
    return PropertyClass.OTHER


def property_class_of(value: PropertyClass | str) -> PropertyClass:
    """The :class:`PropertyClass` named by ``value`` (case-insensitive)."""
    try:
        return PropertyClass(str(value).strip().lower())
    except ValueError:
        choices = ", ".join(c.value for c in PropertyClass)
        raise RatioStudyError(f"unknown property class {value!r}; one of {choices}") from None


# --------------------------------------------------------------------------- the study


@dataclass(frozen=True)
class RatioStudy:
    """One ratio study: the five statistics, their intervals and gate verdicts.

    ``ci`` is empty when no bootstrap was run. ``dropped`` counts sales removed by
    trimming before these figures were computed (0 for the untrimmed study), and
    ``trimmed`` holds the same study on the trimmed sales (``None`` on that one itself).
    """

    n: int
    median_ratio: float
    cod: float
    prd: float
    prb: float
    mki: float
    property_class: PropertyClass
    gates: Mapping[str, bool]
    ranges: Mapping[str, tuple[float, float]]
    ci: Mapping[str, tuple[float, float]]
    level: float
    n_boot: int
    dropped: int = 0
    trimmed: RatioStudy | None = None

    @property
    def values(self) -> dict[str, float]:
        """The five statistics by name, in :data:`STATISTICS` order."""
        return {name: float(getattr(self, name)) for name in STATISTICS}

    @property
    def passed(self) -> bool:
        """Whether every gate passed."""
        return all(self.gates.values())

    def as_json(self) -> dict[str, Any]:
        """A JSON-ready dict (``json.dumps`` it): the CLI contract keys first, then detail.

        Top level: ``n``, ``median_ratio``, ``cod``, ``prd``, ``prb``, ``mki`` (the CLI
        contract), then ``property_class``, ``gates`` (name → pass), ``limits`` (name →
        [low, high]), ``ci`` (name → [low, high], with ``level`` and ``n_boot``),
        ``dropped`` and ``trimmed`` (the same keys, trimmed sales). NaN becomes null.
        """
        data: dict[str, Any] = {"n": self.n}
        data.update({name: _finite(value) for name, value in self.values.items()})
        data["property_class"] = self.property_class.value
        data["gates"] = dict(self.gates)
        data["passed"] = self.passed
        data["limits"] = {name: list(lim) for name, lim in self.ranges.items()}
        data["ci"] = {name: [_finite(lo), _finite(hi)] for name, (lo, hi) in self.ci.items()}
        data["ci_level"] = self.level
        data["n_boot"] = self.n_boot
        data["dropped"] = self.dropped
        if self.trimmed is not None:
            data["trimmed"] = self.trimmed.as_json()
        return data


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def _point(e: FloatArray, p: FloatArray, by_price: npt.NDArray[np.intp]) -> dict[str, float]:
    """The five statistics of validated sales, given their stable price order."""
    r = e / p
    med = float(np.median(r))
    prb_value = _ols_slope(np.log2((e / med + p) / 2.0), (r - med) / med)
    if math.isnan(prb_value):
        raise RatioStudyError("PRB is undefined: every sale has the same value proxy")
    g_prices = _gini(p[by_price])
    if g_prices == 0.0:
        raise RatioStudyError("MKI is undefined: every sale price is equal")
    return {
        "median_ratio": med,
        "cod": float(100.0 * np.mean(np.abs(r - med)) / med),
        "prd": float(np.mean(r) / (e.sum() / p.sum())),
        "prb": prb_value,
        "mki": _gini(e[by_price]) / g_prices,
    }


def _one_study(
    e: FloatArray,
    p: FloatArray,
    by_price: npt.NDArray[np.intp],
    cls: PropertyClass,
    gates: Gates,
    n_boot: int,
    level: float,
    seed: int,
    dropped: int,
    trimmed: RatioStudy | None,
) -> RatioStudy:
    values = _point(e, p, by_price)
    everything: dict[str, str | Stat] = {name: name for name in STATISTICS}
    ci = _bootstrap(e, p, everything, n_boot, level, seed, by_price) if n_boot else {}
    return RatioStudy(
        n=int(e.size),
        **values,
        property_class=cls,
        gates=MappingProxyType(gates.check(values, cls)),
        ranges=MappingProxyType(gates.ranges(cls)),
        ci=MappingProxyType(ci),
        level=level,
        n_boot=n_boot,
        dropped=dropped,
        trimmed=trimmed,
    )


def study(
    estimates: npt.ArrayLike,
    prices: npt.ArrayLike,
    *,
    property_class: PropertyClass | str = PropertyClass.OTHER,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    k: float = 3.0,
    gates: Gates = GATES,
) -> RatioStudy:
    """The full ratio study of one stratum: untrimmed figures, and trimmed ones inside.

    The untrimmed figures are what the sales say; the trimmed ones (``k × IQR``, see
    :func:`trim_iqr`) are what IAAO gates are meant to be judged on. Both are reported
    so an officer can see how much a few outliers matter. ``n_boot = 0`` skips the
    bootstrap (fast: 1,000,000 sales in well under a second); otherwise each
    statistic gets a percentile interval from the same resamples (``seed``), the trimmed
    study resampling the trimmed sales. Needs at least 3 sales (PRB is a regression).
    """
    cls = property_class_of(property_class)
    if not (isinstance(n_boot, int) and n_boot >= 0):
        raise RatioStudyError(f"n_boot must be a whole number ≥ 0, got {n_boot!r}")
    e, p = _as_sales(estimates, prices, 3)
    keep = _keep_mask(e / p, k)
    kept = Trimmed(e[keep], p[keep], int(keep.size - np.count_nonzero(keep)))
    if kept.estimates.size < 3:
        raise RatioStudyError(f"only {kept.estimates.size} sale(s) left after trimming")
    by_price = np.argsort(p, kind="stable")
    # the kept sales' price order follows from the full one (trimming keeps input order)
    kept_by_price = (np.cumsum(keep) - 1)[by_price[keep[by_price]]]
    inner = _one_study(
        kept.estimates,
        kept.prices,
        kept_by_price,
        cls,
        gates,
        n_boot,
        level,
        seed,
        kept.dropped,
        None,
    )
    return _one_study(e, p, by_price, cls, gates, n_boot, level, seed, 0, inner)


def by_stratum(
    rows: Iterable[Mapping[str, Any]],
    *,
    stratum_key: str = "stratum",
    estimate_key: str = "estimate",
    price_key: str = "sale_price",
    property_class: PropertyClass | str = PropertyClass.OTHER,
    n_boot: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    k: float = 3.0,
    gates: Gates = GATES,
) -> dict[str, RatioStudy]:
    """One :func:`study` per stratum (e.g. mouza, land class), sorted by stratum name.

    IAAO gates apply within homogeneous groups: a district-wide COD hides one tehsil
    valued at 70 % of market and another at 130 %. ``rows`` are mappings (CSV dict rows,
    records) holding the stratum, estimate and price; stratum values are compared as
    text. An error names the stratum it concerns.
    """
    groups: dict[str, tuple[list[Any], list[Any]]] = {}
    for i, row in enumerate(rows, start=1):
        try:
            key, est, price = row[stratum_key], row[estimate_key], row[price_key]
        except KeyError as exc:
            raise RatioStudyError(f"row {i} has no {exc.args[0]!r} value") from None
        group = groups.setdefault(str(key), ([], []))
        group[0].append(est)
        group[1].append(price)
    if not groups:
        raise RatioStudyError("no sales to study")
    out: dict[str, RatioStudy] = {}
    for key in sorted(groups):
        est_list, price_list = groups[key]
        try:
            out[key] = study(
                est_list,
                price_list,
                property_class=property_class,
                n_boot=n_boot,
                level=level,
                seed=seed,
                k=k,
                gates=gates,
            )
        except RatioStudyError as exc:
            raise RatioStudyError(f"stratum {key!r}: {exc}") from exc
    return out
