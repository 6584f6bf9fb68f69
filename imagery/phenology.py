"""Per-parcel vegetation-index time series: gap filling, smoothing and season marks.

Method (``docs/domain.md`` §8): mask clouds, interpolate gaps, smooth with Savitzky–Golay
(window 5–7 observations, order 2); start of season at 30 % of the seasonal amplitude on
green-up, peak ≈ heading, end at 70 % on green-down.

Conventions
-----------
* Invalid observations (cloud, shadow, missing) are NaN in ``values``.
* Gaps are filled by linear interpolation **in time** (on the actual acquisition dates,
  not on the index), so an irregular revisit is handled correctly. Leading and trailing
  gaps are filled with the nearest valid value.
* Savitzky–Golay then runs over observations (``window`` counts observations, not days);
  Sentinel-2's regular 5-day revisit keeps observations close to evenly spaced.
* Season marks, for smoothed series ``s`` with peak ``P = max(s)`` at date ``t_peak``:

  - ``base`` (green-up base) = min of ``s`` before the peak; ``amplitude = P − base``.
  - ``base_end`` (green-down base) = min of ``s`` after the peak; ``amplitude_end = P −
    base_end``. Two bases are used because a field rarely ends the season at the level
    it started (stubble, weeds, the next crop).
  - start of season: the first date on green-up (between the green-up base and the peak)
    where ``s`` rises to ``base + sos_fraction · amplitude`` (30 % by default).
  - end of season: the first date on green-down (between the peak and the green-down
    base) where ``s`` falls back to ``base_end + eos_fraction · amplitude_end`` (70 %
    by default), i.e. the canopy has lost 30 % of its seasonal amplitude — early
    senescence, close to physiological maturity for wheat, before harvest.
  - crossing dates are linearly interpolated between the two bracketing observations and
    rounded to the day.

When the series cannot support an answer (too few clear observations, too small an
amplitude, peak at the edge of the series) the marks are ``None`` and ``reason`` says why,
so callers can report "not enough clear imagery" instead of a made-up date.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.signal import savgol_filter

__all__ = [
    "SeasonMarks",
    "interpolate_gaps",
    "season_marks",
    "season_marks_many",
    "smooth",
    "valid_fraction",
]

MIN_VALID_FRACTION = 0.5
MIN_AMPLITUDE = 0.1


@dataclass(frozen=True)
class SeasonMarks:
    """Season marks of one parcel; all marks are None (and ``reason`` set) on failure."""

    start: np.datetime64 | None
    peak: np.datetime64 | None
    end: np.datetime64 | None
    amplitude: float | None
    base: float | None
    peak_value: float | None
    base_end: float | None = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None

    @classmethod
    def failed(cls, reason: str) -> SeasonMarks:
        return cls(None, None, None, None, None, None, None, reason)


def _days(dates: Any) -> tuple[np.ndarray, np.datetime64]:
    """Dates → (float days since the first date, first date as datetime64[s])."""
    d = np.asarray(dates, dtype="datetime64[s]")
    if d.ndim != 1 or d.size == 0:
        raise ValueError("dates must be a non-empty 1-D sequence")
    t = (d - d[0]).astype(np.float64) / 86400.0
    if np.any(np.diff(t) <= 0):
        raise ValueError("dates must be strictly increasing")
    return t, d[0]


def _to_date(origin: np.datetime64, days: float) -> np.datetime64:
    day: np.datetime64 = (origin + np.timedelta64(round(days * 86400), "s")).astype("datetime64[D]")
    return day


def valid_fraction(values: Any) -> Any:
    """Share of finite observations along the last (time) axis (float, or array per row)."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape[-1] == 0:
        raise ValueError("empty series")
    frac = np.isfinite(v).mean(axis=-1)
    return float(frac) if np.ndim(frac) == 0 else frac


def interpolate_gaps(values: Any, dates: Any) -> np.ndarray:
    """Fill NaN gaps by linear interpolation on the acquisition dates.

    Works on one series or on a parcels × time matrix; rows with fewer than two valid
    observations come back all-NaN. The input dtype (float32/float64) is kept.
    """
    v = np.asarray(values)
    dtype = v.dtype if np.issubdtype(v.dtype, np.floating) else np.dtype(np.float64)
    v = v.astype(dtype, copy=False)
    t, _ = _days(dates)
    if v.shape[-1] != t.size:
        raise ValueError(f"values have {v.shape[-1]} observations but {t.size} dates")
    rows = v.reshape(-1, t.size)
    out = np.full(rows.shape, np.nan, dtype=dtype)
    ok = np.isfinite(rows)
    for i in range(rows.shape[0]):
        m = ok[i]
        if m.all():
            out[i] = rows[i]
        elif np.count_nonzero(m) >= 2:
            out[i] = np.interp(t, t[m], rows[i, m])
    return out.reshape(v.shape)


def smooth(values: Any, dates: Any, *, window: int = 5, order: int = 2) -> np.ndarray:
    """Mask invalid values, interpolate gaps in time, then Savitzky–Golay smooth.

    ``values``: one series or a parcels × time matrix (time on the last axis), NaN where
    cloudy/missing. ``window`` is in observations (5–7 recommended: 25–35 days at the
    5-day Sentinel-2 revisit); it must be odd, at least ``order + 2`` and at most the
    series length. Smoothing runs vectorised along the time axis.
    """
    v = np.asarray(values)
    n = v.shape[-1] if v.ndim else 0
    if window % 2 != 1:
        raise ValueError(f"window must be odd, got {window}")
    if window < order + 2:
        raise ValueError(f"window must be at least order + 2 = {order + 2}, got {window}")
    if window > n:
        raise ValueError(f"window {window} longer than the series ({n} observations)")
    filled = interpolate_gaps(v, dates)
    out: np.ndarray = savgol_filter(filled, window, order, axis=-1, mode="interp")
    return out.astype(filled.dtype, copy=False)


def _crossing(t: np.ndarray, s: np.ndarray, idx: range, thr: float, rising: bool) -> float:
    """Interpolated time where ``s`` first crosses ``thr`` moving along ``idx``."""
    prev = None
    for j in idx:
        hit = s[j] >= thr if rising else s[j] <= thr
        if hit:
            if prev is None:
                return float(t[j])
            ds = s[j] - s[prev]
            frac = 0.0 if ds == 0 else (thr - s[prev]) / ds
            return float(t[prev] + frac * (t[j] - t[prev]))
        prev = j
    raise ValueError("threshold not crossed")  # pragma: no cover - guarded by callers


def season_marks(
    dates: Any,
    smoothed: Any,
    *,
    sos_fraction: float = 0.30,
    eos_fraction: float = 0.70,
    raw: Any = None,
    min_valid_fraction: float = MIN_VALID_FRACTION,
    min_amplitude: float = MIN_AMPLITUDE,
) -> SeasonMarks:
    """Start, peak and end of season from one smoothed series (see module docstring).

    Pass the unsmoothed series as ``raw`` to also require ``min_valid_fraction`` clear
    observations (50 % by default). Amplitudes below ``min_amplitude`` (0.1 NDVI) on
    either side of the peak give a failed result.
    """
    if not (0.0 < sos_fraction < 1.0 and 0.0 < eos_fraction < 1.0):
        raise ValueError("sos_fraction and eos_fraction must be in (0, 1)")
    t, origin = _days(dates)
    s = np.asarray(smoothed, dtype=np.float64)
    if s.shape != t.shape:
        raise ValueError(f"smoothed has shape {s.shape}, dates {t.shape}")
    if raw is not None:
        frac = valid_fraction(raw)
        if frac < min_valid_fraction:
            return SeasonMarks.failed(
                f"not enough clear imagery: {frac:.0%} of observations valid "
                f"(need {min_valid_fraction:.0%})"
            )
    if not np.all(np.isfinite(s)):
        return SeasonMarks.failed("not enough clear imagery: series has no valid values")
    ip = int(np.argmax(s))
    if ip == 0 or ip == s.size - 1:
        return SeasonMarks.failed("peak at the edge of the series: season not fully observed")
    peak_value = float(s[ip])
    ib = int(np.argmin(s[: ip + 1]))
    ie = ip + int(np.argmin(s[ip:]))
    base, base_end = float(s[ib]), float(s[ie])
    amp, amp_end = peak_value - base, peak_value - base_end
    if min(amp, amp_end) < min_amplitude:
        return SeasonMarks.failed(
            f"seasonal amplitude too small (green-up {amp:.3f}, green-down {amp_end:.3f}, "
            f"need {min_amplitude})"
        )
    t_sos = _crossing(t, s, range(ib, ip + 1), base + sos_fraction * amp, rising=True)
    t_eos = _crossing(t, s, range(ip, ie + 1), base_end + eos_fraction * amp_end, rising=False)
    return SeasonMarks(
        start=_to_date(origin, t_sos),
        peak=_to_date(origin, float(t[ip])),
        end=_to_date(origin, t_eos),
        amplitude=amp,
        base=base,
        peak_value=peak_value,
        base_end=base_end,
    )


def season_marks_many(
    dates: Any,
    matrix: Any,
    *,
    window: int = 5,
    order: int = 2,
    sos_fraction: float = 0.30,
    eos_fraction: float = 0.70,
    min_valid_fraction: float = MIN_VALID_FRACTION,
    min_amplitude: float = MIN_AMPLITUDE,
) -> list[SeasonMarks]:
    """Season marks for a parcels × time matrix of raw index values (NaN = cloudy).

    Interpolation and Savitzky–Golay smoothing run on the whole matrix at once; the marks
    are then read per parcel. Returns one :class:`SeasonMarks` per row.
    """
    m = np.asarray(matrix, dtype=np.float64)
    if m.ndim != 2:
        raise ValueError("matrix must be parcels × time")
    sm = smooth(m, dates, window=window, order=order)
    return [
        season_marks(
            dates,
            sm[i],
            sos_fraction=sos_fraction,
            eos_fraction=eos_fraction,
            raw=m[i],
            min_valid_fraction=min_valid_fraction,
            min_amplitude=min_amplitude,
        )
        for i in range(m.shape[0])
    ]
