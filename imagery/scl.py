"""Sentinel-2 L2A Scene Classification Layer (SCL) masks.

The SCL band is produced by Sen2Cor at **20 m**; resample it to the 10 m grid of B02, B03,
B04 and B08 with :func:`upsample_scl_to_10m` (nearest neighbour: a class code must never
be interpolated).

Default mask (:data:`DEFAULT_EXCLUDE`) drops no data (0), saturated/defective (1), cloud
shadows (3), cloud medium (8) and high probability (9) and thin cirrus (10). Two classes
are deliberately **kept**:

* ``2`` dark area pixels — over the irrigated Punjab plains this class is mostly freshly
  irrigated or flooded fields (rice paddies, pre-sowing irrigation) and dark soils, i.e.
  real surface states a crop time series should see; dropping them punches holes into
  exactly the weeks around sowing and transplanting. Terrain shadow, the other source of
  this class, hardly occurs on the plains.
* ``11`` snow — cropland in the plains never carries snow, so the class is rare there;
  in the northern valleys (Gilgit-Baltistan, upper KP) winter snow cover is a genuine
  surface state whose low NDVI is correct.

Use :data:`STRICT_EXCLUDE` (which also drops 2 and 11) for hilly or northern areas where
dark area pixels are mostly terrain shadow and "snow" over the plains is bright cloud.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum
from typing import Any

import numpy as np

__all__ = [
    "CLOUD_CLASSES",
    "DEFAULT_EXCLUDE",
    "SCL",
    "STRICT_EXCLUDE",
    "clear_mask",
    "cloud_fraction",
    "upsample_scl_to_10m",
]


class SCL(IntEnum):
    """Sentinel-2 L2A scene classification values."""

    NO_DATA = 0
    SATURATED_DEFECTIVE = 1
    DARK_AREA_PIXELS = 2
    CLOUD_SHADOWS = 3
    VEGETATION = 4
    NOT_VEGETATED = 5
    WATER = 6
    UNCLASSIFIED = 7
    CLOUD_MEDIUM_PROBABILITY = 8
    CLOUD_HIGH_PROBABILITY = 9
    THIN_CIRRUS = 10
    SNOW = 11


DEFAULT_EXCLUDE: frozenset[int] = frozenset(
    {
        SCL.NO_DATA,
        SCL.SATURATED_DEFECTIVE,
        SCL.CLOUD_SHADOWS,
        SCL.CLOUD_MEDIUM_PROBABILITY,
        SCL.CLOUD_HIGH_PROBABILITY,
        SCL.THIN_CIRRUS,
    }
)
STRICT_EXCLUDE: frozenset[int] = DEFAULT_EXCLUDE | {SCL.DARK_AREA_PIXELS, SCL.SNOW}
#: Classes counted as cloud by :func:`cloud_fraction`.
CLOUD_CLASSES: frozenset[int] = frozenset(
    {SCL.CLOUD_MEDIUM_PROBABILITY, SCL.CLOUD_HIGH_PROBABILITY, SCL.THIN_CIRRUS}
)


def _isin(scl: Any, classes: Iterable[int]) -> Any:
    values = [int(c) for c in classes]
    if hasattr(scl, "isin") and not isinstance(scl, np.ndarray):  # xarray keeps labels
        return scl.isin(values)
    return np.isin(np.asarray(scl), values)


def clear_mask(scl: Any, *, exclude: Iterable[int] = DEFAULT_EXCLUDE) -> Any:
    """Boolean mask, True where the pixel is usable (its class is not in ``exclude``).

    Float SCL arrays (e.g. after a reprojection that filled NaN) are False where NaN.
    """
    mask = ~_isin(scl, exclude)
    dtype = getattr(scl, "dtype", None)
    if dtype is not None and np.issubdtype(dtype, np.floating):
        mask = mask & np.isfinite(scl)
    return mask


def cloud_fraction(scl: Any, *, classes: Iterable[int] = CLOUD_CLASSES) -> float:
    """Share of data pixels (class ≠ 0 and not NaN) whose class is in ``classes``.

    Defaults to medium/high probability cloud and thin cirrus (8, 9, 10); pass
    ``classes=CLOUD_CLASSES | {SCL.CLOUD_SHADOWS}`` to count shadows too. Returns NaN when
    there is no data pixel at all.
    """
    arr = np.asarray(scl)
    data = arr != SCL.NO_DATA
    if np.issubdtype(arr.dtype, np.floating):
        data &= np.isfinite(arr)
    n = int(np.count_nonzero(data))
    if n == 0:
        return float("nan")
    return int(np.count_nonzero(_isin(arr, classes) & data)) / n


def upsample_scl_to_10m(scl: Any) -> np.ndarray:
    """Nearest-neighbour upsampling of a 20 m SCL grid to 10 m: each pixel → 2×2 pixels.

    Repeats along the last two axes (rows, columns), so a leading time/band axis is kept.
    Assumes the 20 m and 10 m grids share their origin, as in Sentinel-2 L2A tiles.
    """
    arr = np.asarray(scl)
    if arr.ndim < 2:
        raise ValueError("SCL must have at least two (row, column) axes")
    return np.repeat(np.repeat(arr, 2, axis=-2), 2, axis=-1)
