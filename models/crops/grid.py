"""A crop model's own time grid, and the rule that brings any field series onto it.

Real index series come at every cadence: 16-day composites (Landsat/MODIS products),
5-day Sentinel-2 looks, monthly mosaics, with gaps where clouds or missing scenes left no
valid value. A model is trained on one fixed grid (recorded on its card), and every series
it sees is brought onto that grid by the same rule:

1. **Composite.** The grid is ``n_steps`` periods of ``step_days`` days from ``start``
   (month-day) of the field's year. A period's value is the mean of the valid observations
   dated inside it (several looks in a period are averaged, as a compositing product does;
   one look is taken as it is). Observations outside the grid's span are not used.
2. **Gaps.** A period without a valid observation is *unobserved*. The temporal model
   sees there the straight line between the neighbouring observed periods (the nearest
   observed value before the first or after the last one) **and** a 0 in that index's
   ``observed`` channel, so it can tell a measurement from a guess: a whole missing spring
   (Samarkand 2016 in the Central Asia survey) is visible to it as missing, not as a flat
   line. The gradient-boosting baseline sees NaN there, which it routes natively.
3. **Refusal.** A field with fewer than ``min_observed`` observed periods in any index the
   model needs is not classified: :func:`to_grid` keeps it, :meth:`GriddedSeries.enough`
   says which rows to refuse, and predictions carry a reason instead of a crop.

The default grid is the calendar year in 16-day periods from 1 January (23 periods, the
MODIS/Landsat compositing calendar): the Central Asia survey's own cadence, so its series
go onto it unchanged, and a Sentinel-2 series is averaged into the same periods.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd

from landgov.errors import LandgovError

__all__ = ["GridError", "GriddedSeries", "TimeGrid", "fill_gaps", "to_grid"]

MIN_OBSERVED: Final = 6
"""Observed periods needed per index: six 16-day periods over a year leave gaps no longer
than about two months on average, the length of a crop's green-up."""


class GridError(LandgovError, ValueError):
    """A series that cannot be put on a grid (no such index, bad dates, bad grid)."""


@dataclass(frozen=True)
class TimeGrid:
    """``n_steps`` periods of ``step_days`` days from ``start`` ("MM-DD") of a field's year."""

    start: str = "01-01"
    step_days: int = 16
    n_steps: int = 23

    def __post_init__(self) -> None:
        try:
            month, day = (int(p) for p in self.start.split("-"))
            date(2001, month, day)
        except ValueError as exc:
            raise GridError(f"grid start {self.start!r}: write MM-DD, e.g. 01-01") from exc
        if not 1 <= self.step_days <= 92 or not 2 <= self.n_steps <= 400:
            raise GridError(
                f"grid of {self.n_steps} steps of {self.step_days} days: "
                "steps must be 1–92 days and 2–400 of them"
            )

    def origin(self, year: int) -> date:
        month, day = (int(p) for p in self.start.split("-"))
        return date(year, month, day)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> TimeGrid:
        return cls(**{k: raw[k] for k in ("start", "step_days", "n_steps") if k in raw})


@dataclass
class GriddedSeries:
    """Field series on a :class:`TimeGrid`.

    Attributes:
        field_ids: ``[N]`` the fields' own ids, in the order of the rows.
        indices: index names, the second axis of ``values``.
        values: ``[N, I, T]`` float32 period composites; NaN where unobserved.
        grid: the grid.
        unused: observations dated outside every field's grid span (not used).
    """

    field_ids: npt.NDArray[Any]
    indices: list[str]
    values: npt.NDArray[np.float32]
    grid: TimeGrid
    unused: int = 0

    def __len__(self) -> int:
        return len(self.field_ids)

    @property
    def observed(self) -> npt.NDArray[np.bool_]:
        """``[N, I, T]`` bool: the period had at least one valid observation."""
        return np.isfinite(self.values)

    def n_observed(self) -> npt.NDArray[np.int64]:
        """``[N]`` observed periods of the worst-covered index."""
        if not len(self):
            return np.zeros(0, dtype=np.int64)
        # numpy's stubs type axis reductions as Any; a bool sum is int64
        worst: npt.NDArray[np.int64] = self.observed.sum(axis=2).min(axis=1)
        return worst

    def enough(self, min_observed: int = MIN_OBSERVED) -> npt.NDArray[np.bool_]:
        """``[N]`` bool: rows a model may classify."""
        return self.n_observed() >= min_observed

    def subset(self, rows: np.ndarray) -> GriddedSeries:
        return GriddedSeries(self.field_ids[rows], list(self.indices), self.values[rows],
                             self.grid, self.unused)  # fmt: skip

    def select(self, indices: Sequence[str]) -> GriddedSeries:
        """The same rows with only ``indices``, in that order (a model's own order)."""
        missing = [i for i in indices if i not in self.indices]
        if missing:
            raise GridError(f"the model needs index(es) {missing}; the series has {self.indices}")
        pos = [self.indices.index(i) for i in indices]
        return GriddedSeries(self.field_ids, list(indices), self.values[:, pos],
                             self.grid, self.unused)  # fmt: skip


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Unobserved (NaN) periods → linear in time between observed neighbours, the nearest
    observed value before the first and after the last; a row with none observed → 0.

    Vectorised over all rows and indices (``[..., T]``): for every period the previous and
    the next observed positions come from running max/min scans.
    """
    v = np.asarray(values, dtype=np.float64)
    shape = v.shape
    flat = v.reshape(-1, shape[-1])
    t = shape[-1]
    ok = np.isfinite(flat)
    pos = np.broadcast_to(np.arange(t), flat.shape)
    prev = np.maximum.accumulate(np.where(ok, pos, -1), axis=1)
    nxt = np.minimum.accumulate(np.where(ok, pos, t)[:, ::-1], axis=1)[:, ::-1]
    has_prev, has_next = prev >= 0, nxt < t
    lo = np.where(has_prev, prev, nxt)
    hi = np.where(has_next, nxt, prev)
    none = ~(has_prev | has_next)
    lo, hi = np.where(none, 0, lo), np.where(none, 0, hi)
    rows = np.arange(len(flat))[:, None]
    a, b = flat[rows, lo], flat[rows, hi]
    span = np.maximum(hi - lo, 1)
    w = np.where(hi > lo, (pos - lo) / span, 0.0)
    out = a + (b - a) * w
    out[none] = 0.0
    return out.reshape(shape)


def to_grid(
    series: pd.DataFrame,
    years: Mapping[Any, int] | pd.Series,
    indices: Sequence[str],
    grid: TimeGrid | None = None,
    *,
    source: str = "series",
) -> GriddedSeries:
    """Composite a long series table onto ``grid``, one row per field of ``years``.

    Args:
        series: columns ``field_id``, ``date`` (datetime-like) and one numeric column per
            index; empty/NaN = no valid observation. Several rows of a field and date are
            all used (averaged within their period).
        years: the year whose grid each field's series is put on, by field id; its order is
            the order of the rows returned. Fields with no series rows are all-unobserved.
        indices: index columns to use (a model's own list).
        grid: the grid (default :class:`TimeGrid`'s calendar year in 16-day periods).
        source: name used in error messages (the file).

    Returns:
        :class:`GriddedSeries`.
    """
    grid = grid or TimeGrid()
    missing = [i for i in indices if i not in series.columns]
    if missing:
        raise GridError(
            f"{source}: no column {', '.join(map(repr, missing))} (the model needs"
            f" {list(indices)}; the file has {[c for c in series.columns]})"
        )
    yr = pd.Series(years) if not isinstance(years, pd.Series) else years
    ids = yr.index.to_numpy()
    row_of = pd.Series(np.arange(len(ids)), index=yr.index)
    s = series[series["field_id"].isin(yr.index)]
    when = pd.to_datetime(s["date"]).to_numpy().astype("datetime64[D]")
    origin = np.array(
        [np.datetime64(grid.origin(int(y)), "D") for y in yr.to_numpy()], dtype="datetime64[D]"
    )
    rows = row_of.loc[s["field_id"]].to_numpy()
    step = ((when - origin[rows]).astype(np.int64)) // grid.step_days
    inside = (step >= 0) & (step < grid.n_steps)
    values = np.full((len(ids), len(indices), grid.n_steps), np.nan, dtype=np.float32)
    for j, ix in enumerate(indices):
        v = pd.to_numeric(s[ix], errors="raise").to_numpy(dtype=np.float64)
        use = inside & np.isfinite(v)
        flat = rows[use] * grid.n_steps + step[use]
        total = np.bincount(flat, weights=v[use], minlength=len(ids) * grid.n_steps)
        count = np.bincount(flat, minlength=len(ids) * grid.n_steps)
        with np.errstate(invalid="ignore", divide="ignore"):
            mean = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        values[:, j, :] = mean.reshape(len(ids), grid.n_steps)
    return GriddedSeries(ids, list(indices), values, grid, unused=int((~inside).sum()))
