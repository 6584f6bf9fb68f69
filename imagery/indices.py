"""Sentinel-2 spectral indices as pure numpy ufunc expressions.

Every index works on plain ``numpy`` arrays and on ``xarray.DataArray`` objects (only
arithmetic ufuncs are used, so labels and coordinates survive), and keeps the floating
dtype of its inputs: float32 in gives float32 out, float64 gives float64. Integer inputs
(raw L2A digital numbers) are promoted to float32.

Reflectance scaling
-------------------
Inputs may already be surface reflectance in 0–1 (the default ``scale=1.0, offset=0.0``)
or the raw Sentinel-2 L2A integers in 0–10000. Those are converted with::

    reflectance = (DN + offset) * scale

For L2A products of processing baseline 04.00 and later (from 25 January 2022) ESA adds
``BOA_ADD_OFFSET = -1000`` to the quantified values, so the correct call is
``scale=1e-4, offset=-1000`` (see :data:`L2A_SCALE` and :data:`L2A_OFFSET_PB0400`);
for older baselines use ``offset=0``. The offset does not cancel in a normalised
difference, so forgetting it biases NDVI and friends, most of all over dark targets.

Numerical rules
---------------
* a zero denominator gives NaN (never ±inf), and no ``RuntimeWarning`` leaks out;
* NaN in any input propagates to NaN in the output.

Formulas follow ``docs/domain.md`` §8 ("Crops and imagery").
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

__all__ = [
    "INDICES",
    "L2A_OFFSET_PB0400",
    "L2A_SCALE",
    "compute",
    "evi",
    "ndbi",
    "ndmi",
    "ndvi",
    "to_reflectance",
    "wdrvi",
]

#: Quantification value of Sentinel-2 L2A: reflectance = DN / 10000.
L2A_SCALE = 1e-4
#: BOA_ADD_OFFSET of Sentinel-2 L2A since processing baseline 04.00 (January 2022).
L2A_OFFSET_PB0400 = -1000.0


def to_reflectance(x: Any, *, scale: float = 1.0, offset: float = 0.0) -> Any:
    """Return ``(x + offset) * scale`` as floating point, keeping float32/float64.

    Integer inputs become float32; plain Python numbers and lists become float64 arrays.
    """
    if not hasattr(x, "dtype"):
        x = np.asarray(x, dtype=np.float64)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    if offset != 0.0:
        x = x + offset
    if scale != 1.0:
        x = x * scale
    return x


def _safe_div(num: Any, den: Any) -> Any:
    """``num / den`` with NaN where ``den == 0``, using ufuncs only (xarray-safe)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        # den / den is 1 where den is finite and non-zero, NaN where it is zero, so the
        # ±inf produced by x / 0 turns into NaN without np.where (which drops xarray labels).
        return (num / den) * (den / den)


def _normdiff(a: Any, b: Any, scale: float, offset: float) -> Any:
    a = to_reflectance(a, scale=scale, offset=offset)
    b = to_reflectance(b, scale=scale, offset=offset)
    with np.errstate(invalid="ignore", over="ignore"):
        return _safe_div(a - b, a + b)


def ndvi(nir: Any, red: Any, *, scale: float = 1.0, offset: float = 0.0) -> Any:
    """Normalised Difference Vegetation Index.

    ``NDVI = (B8 − B4) / (B8 + B4)`` (Rouse et al. 1974; domain.md §8), with ``nir`` = B08
    (842 nm, 10 m) and ``red`` = B04 (665 nm, 10 m). Range −1..1 for reflectances ≥ 0.
    """
    return _normdiff(nir, red, scale, offset)


def evi(nir: Any, red: Any, blue: Any, *, scale: float = 1.0, offset: float = 0.0) -> Any:
    """Enhanced Vegetation Index.

    ``EVI = 2.5 (B8 − B4) / (B8 + 6 B4 − 7.5 B2 + 1)`` (Huete et al. 2002; domain.md §8),
    with ``blue`` = B02. The ``+1`` canopy background term assumes reflectance in 0–1, so
    L2A integers **must** be passed with ``scale``/``offset``.
    """
    n = to_reflectance(nir, scale=scale, offset=offset)
    r = to_reflectance(red, scale=scale, offset=offset)
    b = to_reflectance(blue, scale=scale, offset=offset)
    with np.errstate(invalid="ignore", over="ignore"):
        return _safe_div(2.5 * (n - r), n + 6.0 * r - 7.5 * b + 1.0)


def ndmi(nir08: Any, swir16: Any, *, scale: float = 1.0, offset: float = 0.0) -> Any:
    """Normalised Difference Moisture Index.

    ``NDMI = (B8A − B11) / (B8A + B11)`` (Gao 1996 NDWI; domain.md §8), with ``nir08`` = B8A
    (865 nm, 20 m) and ``swir16`` = B11 (1610 nm, 20 m): canopy water content.
    """
    return _normdiff(nir08, swir16, scale, offset)


def wdrvi(
    nir: Any, red: Any, alpha: float = 0.15, *, scale: float = 1.0, offset: float = 0.0
) -> Any:
    """Wide Dynamic Range Vegetation Index.

    ``WDRVI = (α B8 − B4) / (α B8 + B4)`` (Gitelson 2004; domain.md §8) with α in 0.1–0.2
    (default 0.15). Less saturated than NDVI over dense canopies; reported better than NDVI
    for Punjab wheat. ``alpha = 1`` reduces to NDVI.
    """
    if not 0.0 < alpha <= 1.0:
        raise ValueError(f"alpha must be in (0, 1], got {alpha}")
    n = to_reflectance(nir, scale=scale, offset=offset)
    r = to_reflectance(red, scale=scale, offset=offset)
    with np.errstate(invalid="ignore", over="ignore"):
        return _safe_div(alpha * n - r, alpha * n + r)


def ndbi(swir16: Any, nir: Any, *, scale: float = 1.0, offset: float = 0.0) -> Any:
    """Normalised Difference Built-up Index.

    ``NDBI = (B11 − B8) / (B11 + B8)`` (Zha et al. 2003; domain.md §8), with ``swir16`` = B11
    and ``nir`` = B08 (resample B11 from 20 m to 10 m first). Positive over built-up land.
    """
    return _normdiff(swir16, nir, scale, offset)


IndexFunc = Callable[..., Any]

#: Index name → (function, Sentinel-2 band names in the order of its positional arguments).
INDICES: dict[str, tuple[IndexFunc, tuple[str, ...]]] = {
    "ndvi": (ndvi, ("B08", "B04")),
    "evi": (evi, ("B08", "B04", "B02")),
    "ndmi": (ndmi, ("B8A", "B11")),
    "wdrvi": (wdrvi, ("B08", "B04")),
    "ndbi": (ndbi, ("B11", "B08")),
}


def compute(name: str, bands: Mapping[str, Any], **kwargs: Any) -> Any:
    """Compute index ``name`` from a mapping of Sentinel-2 band name → array.

    ``kwargs`` (``scale``, ``offset``, ``alpha``) are passed to the index function.
    """
    try:
        func, names = INDICES[name.lower()]
    except KeyError:
        raise KeyError(f"unknown index {name!r}; known: {sorted(INDICES)}") from None
    missing = [b for b in names if b not in bands]
    if missing:
        raise KeyError(f"index {name!r} needs bands {names}; missing {missing}")
    return func(*(bands[b] for b in names), **kwargs)
