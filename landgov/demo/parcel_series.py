"""Synthetic per-parcel index series on a season's grid, for tests and benchmarks.

:func:`simulate_series` gives the parcel means :mod:`landgov.demo.imagery_s2` would
produce, without rendering scenes: the scene generator's phenology is scalar and needs
rasters, far too slow to draw 10⁵ labelled parcels for training and benchmarking the crop
and yield models. It shares the generator's spectra and yield ranges, so both describe the
same synthetic district, and it lives beside the generator because the models it feeds
must not depend on the demo.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from landgov.demo.imagery_s2 import SOIL, VEG, YIELD_RANGE
from models.features import DEFAULT_INDICES, FeatureError, season_grid

__all__ = ["simulate_series"]


def _sig(x: np.ndarray) -> np.ndarray:
    out: np.ndarray = 1.0 / (1.0 + np.exp(-x))
    return out


def simulate_series(
    crops: Sequence[str],
    season: str,
    *,
    seed: int = 0,
    indices: Sequence[str] = DEFAULT_INDICES,
    cloud_prob: float = 0.3,
    noise: float = 0.01,
    yields: Sequence[float] | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fast vectorised stand-in for :mod:`landgov.demo.imagery_s2` parcel means.

    Green cover follows the same phenology family as :func:`landgov.demo.imagery_s2.cover`
    (which is scalar and too slow for 10⁵ parcels); reflectance is the linear
    soil/vegetation mix of that module, and indices are computed from the mixed
    reflectances. Cloudy dates are NaN with probability ``cloud_prob``.

    Returns:
        (dates ``[T]``, values ``[N, I, T]``, yields ``[N]``).
    """
    rng = np.random.default_rng(seed)
    n = len(crops)
    dates = season_grid(season)
    t = (dates - dates[0]).astype(np.float64)[None, :]
    crop = np.asarray(crops)
    if yields is None:
        lo = np.array([YIELD_RANGE[c][0] for c in crop])
        hi = np.array([YIELD_RANGE[c][1] for c in crop])
        y = lo + (hi - lo) * rng.uniform(0, 0.85, n)
    else:
        y = np.asarray(yields, dtype=np.float64)
    span = np.array([max(YIELD_RANGE[c][1] - YIELD_RANGE[c][0], 1e-9) for c in crop])
    lo = np.array([YIELD_RANGE[c][0] for c in crop])
    fcp = np.where(span > 1e-6, 0.45 + 0.5 * (y - lo) / span, 0.0)[:, None]
    tt = t - rng.uniform(-6, 6, (n, 1))
    rabi = season.strip().lower().startswith("rabi")
    fc = np.full((n, t.size), 0.04)
    shapes: dict[str, Callable[[], np.ndarray]] = {
        "wheat": lambda: 0.04 + fcp * _sig((tt - 75) / 10) * (1 - _sig((tt - 148) / 7)),
        "cotton": lambda: 0.04 + fcp * _sig((tt - 55) / 10) * (1 - _sig((tt - 160) / 10)),
        "rice": lambda: 0.04 + fcp * _sig((tt - 85) / 8) * (1 - _sig((tt - 170) / 6)),
        "fodder": lambda: (
            0.04
            + fcp
            * _sig((tt - (20 if rabi else 30)) / 8)
            * (0.6 + 0.4 * np.cos(2 * math.pi * tt / (40 if rabi else 45)))
            * (1 - _sig((tt - (175 if rabi else 180)) / 6))
        ),
        "sugarcane": lambda: fcp * (0.15 + 0.85 * _sig((tt + (100 if rabi else -80)) / 18)),
        "orchard": lambda: fcp * (0.75 + 0.15 * np.cos(2 * math.pi * (tt - 40) / 365)),
    }
    for name, f in shapes.items():
        m = crop == name
        if m.any():
            fc[m] = f()[m]
    fc = np.clip(fc * rng.normal(1.0, 0.03, (n, 1)), 0.0, 1.0)
    refl = fc[..., None] * VEG + (1 - fc[..., None]) * SOIL  # [N, T, band]
    refl = refl + rng.normal(0, noise, refl.shape)
    b2, b4, b8, b8a, b11 = (refl[..., k] for k in (0, 2, 3, 4, 5))
    formulas = {
        "ndvi": lambda: (b8 - b4) / (b8 + b4),
        "wdrvi": lambda: (0.15 * b8 - b4) / (0.15 * b8 + b4),
        "ndmi": lambda: (b8a - b11) / (b8a + b11),
        "evi": lambda: 2.5 * (b8 - b4) / (b8 + 6 * b4 - 7.5 * b2 + 1),
        "ndbi": lambda: (b11 - b8) / (b11 + b8),
    }
    unknown = [i for i in indices if i not in formulas]
    if unknown:
        raise FeatureError(f"unknown indices {unknown}; known: {sorted(formulas)}")
    vals = np.stack([formulas[i]() for i in indices], axis=1)
    cloudy = rng.random((n, 1, t.size)) < cloud_prob
    vals = np.where(cloudy, np.nan, vals)
    return dates, vals, y
