"""Advisory rules: what a parcel's imagery and predictions say to its farmer, with evidence.

Pure functions over one parcel-season's observations and its peers (no I/O): the batch
job reads the series from ``parcel_zonal`` and the predictions, calls these, and stores
the result. Every advisory carries the numbers and dates behind it (``evidence``) and a
confidence in [0, 1]; when clouds leave too few clear observations the only advisory is
:data:`INSUFFICIENT` — the rules do not guess.

Rules and thresholds (each a named constant, so the reasoning is reviewable):

- **crop health** (:func:`crop_health`): the parcel's latest clear WDRVI and NDVI against
  (a) the parcels of the same crop this season on the same dates (robust z-score:
  median and 1.4826 × MAD) and (b) its own earlier seasons of the same crop at the same
  day of the season. ``poor`` at z ≤ −1.5 against peers, ``good`` at z ≥ +1.0, judged
  on WDRVI where known because NDVI saturates over dense wheat (domain.md §8).
- **yield outlook** (:func:`yield_outlook`): the yield model's t/ha, in maunds per acre
  (40 kg maund: 1 maund/acre = 98.8 kg/ha), against the district average of the crop.
- **water stress** (:func:`water_stress`): NDMI (canopy water) at least 0.10 and three
  robust spreads below what equally green parcels of the same crop show on the same day
  (NDMI regressed on NDVI across the peers): a canopy short of water for its greenness.
- **late sowing** / **early senescence** (:func:`phenology_notices`, single-cycle crops
  only: :data:`PHENOLOGY_CROPS`): green-up (NDVI first crossing :data:`GREENUP_NDVI`)
  ≥ 21 days after the peers' median; end of season (phenology marks, 70 % of amplitude
  on green-down) ≥ 14 days before the peers' median.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, Final

import numpy as np

MIN_CLEAR_FRACTION: Final = 0.5
MIN_CLEAR_RECENT: Final = 2
RECENT_DAYS: Final = 20
POOR_Z: Final = -1.5
GOOD_Z: Final = 1.0
MIN_PEERS: Final = 5
YIELD_WARN: Final = -0.2
"""A yield outlook is a warning (and an SMS) only 20 % or more below the district: the
yield model's own error is about 10 %, so "below" alone is often noise."""
STRESS_DEFICIT: Final = 0.10
STRESS_Z: Final = 3.0
MIN_NDMI_PIXELS: Final = 4.0
"""Whole 20 m pixels a parcel needs for its NDMI to be its own (0.16 ha; a killa has 10)."""
STRESS_LOOKBACK_DAYS: Final = 30
PHENOLOGY_CROPS: Final = ("wheat", "rice", "cotton", "maize")
"""One sowing, one green-up, one senescence: fodder is cut and regrown, sugarcane and
orchards span seasons, so their curves say nothing about sowing dates."""
GREENUP_NDVI: Final = 0.4
LATE_DAYS: Final = 21
EARLY_DAYS: Final = 14
KG_HA_PER_MAUND_ACRE: Final = 98.8
"""domain.md §3/§8: one 40 kg maund per acre is 98.8 kg per hectare."""


class Kind(StrEnum):
    INSUFFICIENT = "insufficient_imagery"
    HEALTH = "crop_health"
    YIELD = "yield_outlook"
    WATER = "water_stress"
    LATE = "late_sowing"
    EARLY = "early_senescence"


INSUFFICIENT: Final = Kind.INSUFFICIENT


class Level(StrEnum):
    INFO = "info"
    WARNING = "warning"


@dataclass(frozen=True)
class Series:
    """One parcel's clear and cloudy observations of a season up to a date.

    ``dates`` are sorted; NaN marks a cloudy or missing observation (per index)."""

    dates: Sequence[date]
    ndvi: np.ndarray
    wdrvi: np.ndarray
    ndmi: np.ndarray

    def clear(self) -> np.ndarray:
        mask: np.ndarray = np.isfinite(self.ndvi)
        return mask


@dataclass(frozen=True)
class Advisory:
    """One piece of advice: what, how sure, and the numbers behind it."""

    kind: Kind
    level: Level
    confidence: float
    evidence: dict[str, Any] = field(default_factory=dict)
    status: str = ""  # e.g. poor / normal / good for health, below / above for yield


def maunds_per_acre(t_ha: float) -> float:
    """t/ha → 40 kg maunds per acre."""
    return t_ha * 1000.0 / KG_HA_PER_MAUND_ACRE


def _robust_z(x: float, peers: np.ndarray) -> float | None:
    peers = peers[np.isfinite(peers)]
    if peers.size < MIN_PEERS:
        return None
    med = float(np.median(peers))
    mad = 1.4826 * float(np.median(np.abs(peers - med)))
    return (x - med) / max(mad, 0.02)  # a floor: identical peers would make any gap huge


def imagery_check(s: Series, on: date) -> Advisory | None:
    """:data:`INSUFFICIENT` when too few clear observations support any advice, else None.

    Needs half the season's observations clear and two clear ones in the last
    :data:`RECENT_DAYS` days (advice about today needs a recent look)."""
    clear = s.clear()
    n, k = len(s.dates), int(clear.sum())
    recent = sum(
        1 for d, c in zip(s.dates, clear, strict=True) if c and (on - d).days <= RECENT_DAYS
    )
    last = max((d for d, c in zip(s.dates, clear, strict=True) if c), default=None)
    if n and k / n >= MIN_CLEAR_FRACTION and recent >= MIN_CLEAR_RECENT:
        return None
    return Advisory(
        Kind.INSUFFICIENT,
        Level.INFO,
        1.0,
        {
            "observations": n,
            "clear": k,
            "clear_recent": recent,
            "recent_days": RECENT_DAYS,
            "last_clear": None if last is None else last.isoformat(),
        },
    )


def _latest_clear(s: Series) -> int:
    idx = np.flatnonzero(s.clear())
    return int(idx[-1])


def crop_health(
    s: Series,
    peers_ndvi_today: np.ndarray,
    own_history_ndvi: Sequence[float] = (),
    peers_wdrvi_today: np.ndarray | None = None,
) -> Advisory:
    """Health from the latest clear look against peers on that date and own history.

    The status follows the WDRVI z-score when the peers' WDRVI is given (it keeps
    separating dense canopies where NDVI saturates: domain.md §8 finds it better for
    Punjab wheat), else NDVI's; both are reported.

    Args:
        s: the parcel's series (must pass :func:`imagery_check`).
        peers_ndvi_today: NDVI of the same-crop parcels on the parcel's latest clear date.
        own_history_ndvi: the parcel's NDVI at the same day of earlier seasons, same crop.
        peers_wdrvi_today: the same peers' WDRVI on that date.
    """
    i = _latest_clear(s)
    x = float(s.ndvi[i])
    peers = np.asarray(peers_ndvi_today, dtype=float)
    z_ndvi = _robust_z(x, peers)
    z_wdrvi = None
    if peers_wdrvi_today is not None and np.isfinite(s.wdrvi[i]):
        z_wdrvi = _robust_z(float(s.wdrvi[i]), np.asarray(peers_wdrvi_today, dtype=float))
    z = z_wdrvi if z_wdrvi is not None else z_ndvi
    hist = np.asarray([v for v in own_history_ndvi if np.isfinite(v)], dtype=float)
    hist_delta = None if hist.size == 0 else x - float(np.mean(hist))
    status = (
        "unknown" if z is None else "poor" if z <= POOR_Z else "good" if z >= GOOD_Z else "normal"
    )
    n_peers = int(np.isfinite(peers).sum())
    confidence = min(1.0, n_peers / 20) * float(s.clear().mean())
    return Advisory(
        Kind.HEALTH,
        Level.WARNING if status == "poor" else Level.INFO,
        round(confidence, 3),
        {
            "date": s.dates[i].isoformat(),
            "ndvi": round(x, 3),
            "wdrvi": None if not np.isfinite(s.wdrvi[i]) else round(float(s.wdrvi[i]), 3),
            "peers": n_peers,
            "peers_median_ndvi": None if n_peers == 0 else round(float(np.nanmedian(peers)), 3),
            "z_vs_peers": None if z_ndvi is None else round(z_ndvi, 2),
            "wdrvi_z_vs_peers": None if z_wdrvi is None else round(z_wdrvi, 2),
            "judged_on": "wdrvi" if z_wdrvi is not None else "ndvi",
            "own_history_seasons": int(hist.size),
            "vs_own_history": None if hist_delta is None else round(hist_delta, 3),
        },
        status,
    )


def yield_outlook(
    predicted_t_ha: float | None, district_t_ha: float | None, crop: str, confidence: float
) -> Advisory | None:
    """The yield model's outlook against the district average (None: no prediction)."""
    if predicted_t_ha is None or not np.isfinite(predicted_t_ha):
        return None
    diff = None if not district_t_ha else predicted_t_ha / district_t_ha - 1.0
    status = (
        "unknown"
        if diff is None
        else "below"
        if diff <= -0.1
        else "above"
        if diff >= 0.1
        else "near"
    )
    return Advisory(
        Kind.YIELD,
        Level.WARNING if diff is not None and diff <= YIELD_WARN else Level.INFO,
        round(confidence, 3),
        {
            "crop": crop,
            "t_ha": round(predicted_t_ha, 2),
            "maunds_per_acre": round(maunds_per_acre(predicted_t_ha), 1),
            "district_t_ha": None if not district_t_ha else round(district_t_ha, 2),
            "district_maunds_per_acre": None
            if not district_t_ha
            else round(maunds_per_acre(district_t_ha), 1),
            "vs_district": None if diff is None else round(diff, 3),
        },
        status,
    )


def ndmi_drop(s: Series) -> tuple[float, date, date] | None:
    """(NDMI fall from its highest value of the previous :data:`STRESS_LOOKBACK_DAYS`
    days to the latest clear look, date of that high, latest clear date)."""
    clear = np.flatnonzero(s.clear() & np.isfinite(s.ndmi))
    if clear.size < 2:
        return None
    i = int(clear[-1])
    window = [j for j in clear[:-1] if (s.dates[i] - s.dates[j]).days <= STRESS_LOOKBACK_DAYS]
    if not window:
        return None
    hi = max(window, key=lambda j: s.ndmi[j])
    return float(s.ndmi[hi] - s.ndmi[i]), s.dates[hi], s.dates[i]


def water_stress(
    s: Series, peers_ndvi: np.ndarray, peers_ndmi: np.ndarray, pixels: float | None = None
) -> Advisory | None:
    """A water-stress warning when the canopy holds less water than it should for its
    greenness; None otherwise.

    On the parcel's latest clear date, the same-crop peers' NDMI is regressed on their
    NDVI (least squares): what a canopy this green holds when watered. The parcel is
    stressed when its NDMI falls :data:`STRESS_DEFICIT` or more below that line and at
    least :data:`STRESS_Z` robust spreads below the peers' own residuals. Why not the
    parcel's own NDMI drop alone: a crop still greening up raises NDMI while it dries,
    and a fodder cut lowers NDMI with NDVI; comparing with equally green peers on the
    same day removes both. The drop from its recent high is reported as evidence.

    ``pixels``: the parcel's 20 m pixels (NDMI's resolution); under
    :data:`MIN_NDMI_PIXELS` its NDMI mixes in too much of the neighbours' and the
    roads' to say anything (no advisory rather than a guess)."""
    if pixels is not None and pixels < MIN_NDMI_PIXELS:
        return None
    clear = np.flatnonzero(s.clear() & np.isfinite(s.ndmi))
    if clear.size == 0:
        return None
    i = int(clear[-1])
    x, y = np.asarray(peers_ndvi, dtype=float), np.asarray(peers_ndmi, dtype=float)
    ok = np.isfinite(x) & np.isfinite(y)
    x, y = x[ok], y[ok]
    if x.size < MIN_PEERS or np.ptp(x) == 0:
        return None
    b, a = np.polyfit(x, y, 1)
    res = y - (a + b * x)
    spread = max(1.4826 * float(np.median(np.abs(res - np.median(res)))), 0.01)
    expected = float(a + b * s.ndvi[i])
    deficit = expected - float(s.ndmi[i])
    if deficit < STRESS_DEFICIT or deficit / spread < STRESS_Z:
        return None
    drop = ndmi_drop(s)
    clear_window = sum(
        1 for d, c in zip(s.dates, s.clear(), strict=True)
        if c and (s.dates[i] - d).days <= STRESS_LOOKBACK_DAYS
    )  # fmt: skip
    confidence = min(1.0, x.size / 20) * min(1.0, clear_window / 3)
    return Advisory(
        Kind.WATER,
        Level.WARNING,
        round(confidence * min(1.0, deficit / (2 * STRESS_DEFICIT)), 3),
        {
            "date": s.dates[i].isoformat(),
            "ndvi": round(float(s.ndvi[i]), 3),
            "ndmi_now": round(float(s.ndmi[i]), 3),
            "ndmi_expected": round(expected, 3),
            "deficit": round(deficit, 3),
            "peers": int(x.size),
            "peers_spread": round(spread, 3),
            "ndmi_drop": None if drop is None else round(drop[0], 3),
            "since": None if drop is None else drop[1].isoformat(),
        },
        "stressed",
    )


def greenup_date(dates: Sequence[date], smoothed_ndvi: np.ndarray) -> date | None:
    """First date the smoothed NDVI reaches :data:`GREENUP_NDVI` (linear between
    observations), or None if it has not yet."""
    v = np.asarray(smoothed_ndvi, dtype=float)
    for k in range(len(v)):
        if np.isfinite(v[k]) and v[k] >= GREENUP_NDVI:
            if k == 0:
                return dates[0]
            a, b = v[k - 1], v[k]
            frac = 0.0 if b == a else (GREENUP_NDVI - a) / (b - a)
            step = (dates[k] - dates[k - 1]).days
            return dates[k - 1] + timedelta(days=round(frac * step))
    return None


def _peers_median(ds: Sequence[date]) -> date | None:
    if len(ds) < MIN_PEERS:
        return None
    ords = sorted(d.toordinal() for d in ds)
    return date.fromordinal(ords[len(ords) // 2])


def _timing_notice(
    kind: Kind,
    status: str,
    key: str,
    day: date | None,
    peers: Sequence[date],
    min_days: int,
    clear_fraction: float,
) -> Advisory | None:
    """``kind`` when ``day`` is ``min_days`` or more after (``late``) or before
    (``early``) the peers' median; evidence ``key``, ``peers_median_<key>``,
    ``days_<status>``, ``peers``."""
    med = _peers_median(peers)
    if day is None or med is None:
        return None
    days = (day - med).days if status == "late" else (med - day).days
    if days < min_days:
        return None
    return Advisory(
        kind, Level.WARNING, round(min(1.0, len(peers) / 20) * clear_fraction, 3),
        {key: day.isoformat(), f"peers_median_{key}": med.isoformat(), f"days_{status}": days,
         "peers": len(peers)},
        status,
    )  # fmt: skip


def phenology_notices(
    greenup: date | None,
    peers_greenup: Sequence[date],
    end: date | None,
    peers_end: Sequence[date],
    clear_fraction: float,
) -> list[Advisory]:
    """Late-sowing and early-senescence notices against the same-crop peers' medians."""
    found = (
        _timing_notice(Kind.LATE, "late", "greenup", greenup, peers_greenup, LATE_DAYS,
                       clear_fraction),
        _timing_notice(Kind.EARLY, "early", "end", end, peers_end, EARLY_DAYS, clear_fraction),
    )  # fmt: skip
    return [a for a in found if a is not None]
