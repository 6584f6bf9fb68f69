"""Per-parcel, per-season time-series features shared by the crop-type and yield models.

Pipeline for one girdawari season (``docs/domain.md`` §8: mask clouds, interpolate gaps,
smooth with Savitzky–Golay):

1. **Mask**: an observation counts only if its zonal ``valid_fraction`` ≥ 0.5 (at least
   half of the parcel's pixels clear of cloud/shadow) and its mean is finite. A partly
   clouded parcel mean is biased toward the cloud spectrum, so it is dropped rather than
   down-weighted.
2. **Gap-fill** on the acquisition dates (:func:`imagery.phenology.interpolate_gaps`:
   linear in time, nearest value at the edges).
3. **Resample** onto a fixed grid: season start + 5 days × k, k = 0 … 36 (``N_STEPS``).
   Both seasons are 181–184 days long, so one grid length fits rabi and kharif and one
   temporal model can see both. Resampling is a fixed linear map (a sparse T_grid × T_obs
   matrix), so it runs as one matrix product for 100 000 parcels.
4. **Smooth** (optional) with :func:`imagery.phenology.smooth` (Savitzky–Golay, window 5
   observations = 25 days, order 2).

Outputs (:class:`SeasonFeatures`): (a) the regular series ``[row, index, time]`` for a
temporal model; (b) summary features per index for tree/linear models (peak, time of peak,
base, amplitude, integral, mean, std, green-up and senescence slopes, season length,
start/end at 30 %/70 % of the amplitude, six monthly means); (c) ``valid`` counts of clear
observations per row and index, so callers can refuse rows with too little clear imagery
instead of predicting from interpolated guesses.

Rows are parcel-seasons: several seasons are stacked into one object (``season`` column).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import xarray as xr

from imagery.phenology import interpolate_gaps, smooth
from landgov.domain import calendar
from landgov.domain.calendar import season_label, season_start, season_window
from landgov.errors import LandgovError

__all__ = [
    "DEFAULT_INDICES",
    "MIN_VALID_FRACTION",
    "N_STEPS",
    "STEP_DAYS",
    "FeatureError",
    "SeasonFeatures",
    "concat",
    "features_from_arrays",
    "features_from_datasets",
    "load_training_table",
    "parse_season",
    "season_grid",
    "season_label",
    "summary_names",
]

STEP_DAYS: Final = 5
N_STEPS: Final = 37
"""Grid points per season: days 0, 5, …, 180 after the season start."""
MIN_VALID_FRACTION: Final = 0.5
DEFAULT_INDICES: Final = ("ndvi", "wdrvi", "ndmi")
"""NDVI (greenness), WDRVI (does not saturate at high cover; better for Punjab wheat per
domain.md §8) and NDMI (canopy water: separates flooded rice and irrigated fodder)."""
_MONTHS: Final = 6
_SUMMARY: Final = (
    "peak",
    "t_peak",
    "base",
    "amplitude",
    "integral",
    "mean",
    "std",
    "greenup_slope",
    "senescence_slope",
    "length",
    "t_start",
    "t_end",
    *(f"m{i}" for i in range(_MONTHS)),
)


class FeatureError(LandgovError, ValueError):
    """Input that cannot be turned into season features (shapes, seasons, indices)."""


def parse_season(label: str) -> tuple[str, int]:
    """``"rabi 2025-26"`` → ("rabi", 2026) (girdawari year = harvest year); ``"kharif 2025"``
    → ("kharif", 2025). Also accepts ``"rabi 2026"``.

    :func:`landgov.domain.calendar.parse_season`, its refusal raised as a
    :class:`FeatureError` so that callers of the feature pipeline catch one error type.
    """
    try:
        return calendar.parse_season(label)
    except calendar.InvalidSeason as e:
        raise FeatureError(str(e)) from None


def season_grid(label: str, step_days: int = STEP_DAYS, n_steps: int = N_STEPS) -> np.ndarray:
    """The fixed grid dates (``datetime64[D]``) of a season label."""
    start = season_start(*parse_season(label))
    return np.array([start + timedelta(days=step_days * k) for k in range(n_steps)],
                    dtype="datetime64[D]")  # fmt: skip


def summary_names(indices: Sequence[str]) -> list[str]:
    """Column names of :attr:`SeasonFeatures.summary` (plus the trailing ``is_rabi``)."""
    return [f"{i}_{n}" for i in indices for n in _SUMMARY] + ["is_rabi"]


@dataclass
class SeasonFeatures:
    """Features of parcel-season rows.

    Attributes:
        khasra_id: ``[N]`` int64.
        season: ``[N]`` season labels (``"rabi 2025-26"``).
        indices: index names, the second axis of ``series`` and ``valid``.
        series: ``[N, I, N_STEPS]`` float32, gap-filled (and smoothed) on the 5-day grid;
            rows without two clear observations are 0 (see ``valid``).
        valid: ``[N, I]`` int32 clear observations inside the season.
        n_obs: ``[N]`` int32 acquisitions inside the season (clear or not).
        summary: ``[N, F]`` float32 summary features, names in ``summary_names``.
    """

    khasra_id: np.ndarray
    season: np.ndarray
    indices: tuple[str, ...]
    series: np.ndarray
    valid: np.ndarray
    n_obs: np.ndarray
    summary: np.ndarray
    summary_names: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.khasra_id.shape[0])

    @property
    def is_rabi(self) -> np.ndarray:
        return np.char.startswith(self.season.astype(str), "rabi")

    def min_valid(self) -> np.ndarray:
        """Clear observations of the worst-observed index, per row."""
        return self.valid.min(axis=1) if self.valid.size else np.zeros(len(self), np.int32)

    def subset(self, rows: Any) -> SeasonFeatures:
        """Rows selected by a boolean mask or integer positions."""
        return SeasonFeatures(
            self.khasra_id[rows], self.season[rows], self.indices, self.series[rows],
            self.valid[rows], self.n_obs[rows], self.summary[rows], list(self.summary_names),
        )  # fmt: skip

    def frame(self) -> pd.DataFrame:
        """Row keys as a DataFrame (khasra_id, season)."""
        return pd.DataFrame({"khasra_id": self.khasra_id, "season": self.season})


def concat(parts: Sequence[SeasonFeatures]) -> SeasonFeatures:
    """Stack feature objects with the same indices."""
    if not parts:
        raise FeatureError("nothing to concatenate")
    if any(p.indices != parts[0].indices for p in parts):
        raise FeatureError("cannot concatenate features of different indices")
    return SeasonFeatures(
        np.concatenate([p.khasra_id for p in parts]),
        np.concatenate([p.season for p in parts]),
        parts[0].indices,
        np.concatenate([p.series for p in parts]),
        np.concatenate([p.valid for p in parts]),
        np.concatenate([p.n_obs for p in parts]),
        np.concatenate([p.summary for p in parts]),
        list(parts[0].summary_names),
    )


def _resample_matrix(obs_days: np.ndarray, grid_days: np.ndarray) -> np.ndarray:
    """Linear-interpolation weights W (grid × obs): ``grid = W @ obs``; nearest at edges."""
    w = np.zeros((grid_days.size, obs_days.size))
    for g, d in enumerate(grid_days):
        j = int(np.searchsorted(obs_days, d))
        if j == 0:
            w[g, 0] = 1.0
        elif j >= obs_days.size:
            w[g, -1] = 1.0
        elif obs_days[j] == d:
            w[g, j] = 1.0
        else:
            f = (d - obs_days[j - 1]) / (obs_days[j] - obs_days[j - 1])
            w[g, j - 1], w[g, j] = 1.0 - f, f
    return w


def _summary(s: np.ndarray, step_days: int) -> np.ndarray:
    """Summary features of smoothed series ``s`` ``[N, I, T]`` → ``[N, I, len(_SUMMARY)]``.

    Times are days since the season start. Length = days above half the amplitude; start
    (end) = first (last) grid day above 30 % (70 %) of the amplitude, the thresholds of
    domain.md §8 computed vectorised on the grid (rounded to the 5-day step).
    """
    t = s.shape[2]
    peak, base = s.max(axis=2), s.min(axis=2)
    amp = peak - base
    d = np.diff(s, axis=2) / step_days
    rel = (s - base[..., None]) / np.maximum(amp, 1e-6)[..., None]
    above30, above70 = rel >= 0.3, rel >= 0.7
    t_start = above30.argmax(axis=2) * step_days
    t_end = (t - 1 - above70[..., ::-1].argmax(axis=2)) * step_days
    months = [c.mean(axis=2) for c in np.array_split(s, _MONTHS, axis=2)]
    cols = [
        peak,
        s.argmax(axis=2) * float(step_days),
        base,
        amp,
        s.sum(axis=2) * step_days,  # ∑ value × 5 days (rectangle rule on the grid)
        s.mean(axis=2),
        s.std(axis=2),
        d.max(axis=2) * 100,  # per 100 days, to keep magnitudes near 1
        d.min(axis=2) * 100,
        (rel >= 0.5).sum(axis=2) * float(step_days),
        t_start.astype(np.float64),
        t_end.astype(np.float64),
        *months,
    ]
    return np.stack(cols, axis=2)


def features_from_arrays(
    khasra_id: Any,
    dates: Any,
    values: Any,
    *,
    season: str,
    indices: Sequence[str],
    valid_fraction: Any = None,
    min_valid_fraction: float = MIN_VALID_FRACTION,
    smooth_window: int | None = 5,
    step_days: int = STEP_DAYS,
    n_steps: int = N_STEPS,
) -> SeasonFeatures:
    """Season features from raw per-parcel means.

    Args:
        khasra_id: ``[N]`` parcel ids.
        dates: ``[T]`` acquisition dates (any ``datetime64``-convertible); only those in the
            season window are used.
        values: ``[N, I, T]`` index means (NaN = missing/cloud); ``[N, T]`` for one index.
        season: season label (``"rabi 2025-26"``).
        indices: the I index names.
        valid_fraction: optional ``[N, I, T]`` (or ``[N, T]``) clear share of each
            observation; observations below ``min_valid_fraction`` are masked.
        smooth_window: Savitzky–Golay window in grid steps (odd), None for no smoothing.
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim == 2:
        v = v[:, None, :]
    ids = np.asarray(khasra_id, dtype=np.int64).reshape(-1)
    if v.ndim != 3 or v.shape[0] != ids.size or v.shape[1] != len(indices):
        raise FeatureError(
            f"values must be [parcels={ids.size}, indices={len(indices)}, time], got {v.shape}"
        )
    d = np.asarray(dates, dtype="datetime64[D]").reshape(-1)
    if d.size != v.shape[2]:
        raise FeatureError(f"{v.shape[2]} observations but {d.size} dates")
    if valid_fraction is not None:
        vf = np.asarray(valid_fraction, dtype=np.float64).reshape(v.shape)
        v = np.where(vf >= min_valid_fraction, v, np.nan)
    grid = season_grid(season, step_days, n_steps)
    start, end = season_window(*parse_season(season))
    inside = (d >= np.datetime64(start)) & (d <= np.datetime64(end))
    order = np.argsort(d[inside], kind="stable")
    d, v = d[inside][order], v[:, :, inside][:, :, order]
    if d.size and np.any(np.diff(d.astype(np.int64)) == 0):
        raise FeatureError("duplicate acquisition dates: merge them before feature extraction")
    n, ni = ids.size, len(indices)
    valid = np.isfinite(v).sum(axis=2).astype(np.int32)
    out = np.zeros((n, ni, n_steps), dtype=np.float64)
    if d.size >= 2 and n:
        filled = interpolate_gaps(v.reshape(n * ni, -1), d)  # rows with < 2 clear: NaN
        days = (d - grid[0]).astype(np.float64)
        w = _resample_matrix(days, (grid - grid[0]).astype(np.float64))
        g = np.nan_to_num(filled @ w.T, nan=0.0)  # < 2 clear: zeroed below, never smoothed in
        if smooth_window:
            win = min(smooth_window, n_steps if n_steps % 2 else n_steps - 1)
            g = smooth(g, grid, window=win, order=min(2, win - 2))
        out = g.reshape(n, ni, n_steps)
    out[valid < 2] = 0.0
    summ = _summary(out, step_days).reshape(n, -1)
    is_rabi = np.full((n, 1), 1.0 if season.strip().lower().startswith("rabi") else 0.0)
    return SeasonFeatures(
        khasra_id=ids,
        season=np.array([season] * n, dtype=object),
        indices=tuple(indices),
        series=out.astype(np.float32),
        valid=valid,
        n_obs=np.full(n, d.size, dtype=np.int32),
        summary=np.concatenate([summ, is_rabi], axis=1).astype(np.float32),
        summary_names=summary_names(indices),
    )


def features_from_datasets(
    datasets: Mapping[str, xr.Dataset],
    seasons: Sequence[str],
    *,
    min_valid_fraction: float = MIN_VALID_FRACTION,
    smooth_window: int | None = 5,
) -> SeasonFeatures:
    """Season features from :func:`imagery.series.parcel_series` datasets, one per index.

    All datasets must cover the same parcels (same ``khasra_id`` order); their time axes
    may differ (each index is aligned on the union of dates, missing = NaN).
    """
    if not datasets:
        raise FeatureError("no index datasets given")
    names = list(datasets)
    first = datasets[names[0]]
    ids = first["khasra_id"].to_numpy()
    for name in names[1:]:
        if not np.array_equal(datasets[name]["khasra_id"].to_numpy(), ids):
            raise FeatureError(f"index {name!r} covers other parcels than {names[0]!r}")
    times = np.unique(np.concatenate([datasets[n]["time"].to_numpy() for n in names]))
    vals = np.full((ids.size, len(names), times.size), np.nan)
    frac = np.zeros_like(vals)
    for k, name in enumerate(names):
        ds = datasets[name].reindex(time=times)
        vals[:, k] = ds["mean"].transpose("parcel", "time").to_numpy()
        frac[:, k] = np.nan_to_num(ds["valid_fraction"].transpose("parcel", "time").to_numpy())
    days = times.astype("datetime64[D]")
    parts = [
        features_from_arrays(
            ids,
            days,
            vals,
            season=s,
            indices=names,
            valid_fraction=frac,
            min_valid_fraction=min_valid_fraction,
            smooth_window=smooth_window,
        )
        for s in seasons
    ]
    return concat(parts)


def load_training_table(
    engine: Any,
    mouzas: Sequence[int | str],
    truth_csv: str | Path,
    indices: Sequence[str] = DEFAULT_INDICES,
    *,
    seasons: Sequence[str] | None = None,
    home: Path | None = None,
) -> tuple[SeasonFeatures, pd.DataFrame]:
    """Features and labels of every parcel-season of ``mouzas`` found in ``truth_csv``.

    Reads stored zonal statistics (``parcel_zonal``) with :func:`imagery.series.read_series`
    (read-only); with ``home`` given, missing scenes are computed first with
    :func:`imagery.series.parcel_series`.

    Returns:
        (features, labels): ``labels`` is row-aligned with the features: khasra_id, season,
        mouza_id, crop (grown), girdawari_crop, yield_t_ha.
    """
    from imagery.series import mouza_khasras, parcel_series, read_series
    from landgov.storage.lookup import resolve_mouza

    truth = pd.read_csv(truth_csv)
    need = {"khasra_id", "season", "crop", "girdawari_crop", "yield_t_ha"}
    if missing := need - set(truth.columns):
        raise FeatureError(f"{truth_csv}: missing columns {sorted(missing)}")
    labels_all = sorted(truth["season"].unique()) if seasons is None else list(seasons)
    parts = []
    for mouza in mouzas:
        with engine.connect() as conn:
            mid = resolve_mouza(conn, mouza)
            parcels = mouza_khasras(conn, mid)
        if parcels.empty:
            raise FeatureError(f"mouza {mouza!r} has no khasras")
        dsets = {}
        for index in indices:
            if home is not None:
                dsets[index] = parcel_series(engine, mouza=mid, index=index, home=home)
            else:
                dsets[index] = read_series(engine, parcels, index=index)
            if dsets[index].sizes.get("time", 0) == 0:
                raise FeatureError(f"no stored {index} series for mouza {mouza!r}")
        feats = features_from_datasets(dsets, labels_all)
        parts.append(feats)
    x = concat(parts)
    keys = x.frame()
    lab = keys.merge(truth, on=["khasra_id", "season"], how="left", validate="one_to_one")
    keep = lab["crop"].notna().to_numpy()
    x, lab = x.subset(keep), lab[keep].reset_index(drop=True)
    cols = ["khasra_id", "season", "mouza_id", "crop", "girdawari_crop", "yield_t_ha"]
    return x, lab[[c for c in cols if c in lab.columns]]
