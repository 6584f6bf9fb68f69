"""Per-parcel zonal statistics with exact, coverage-weighted partial pixels.

Coverage fractions are computed like exactextract does: for every cell of a polygon's
bounding window, the fraction of the cell's area that the polygon covers, exact for
straight edges. The kernel uses Green's theorem per cell: with ``g_r(y) = clamp(y, r,
r + 1) - r`` and ``h_c`` the indicator of column ``c``, the closed-ring integral
``∮ g_r(y) h_c(x) dx`` equals (up to the ring's orientation sign) the area of the ring's
interior inside cell ``(r, c)``. Each edge is cut at column and row lines; a piece inside
cell ``(r, c)`` with x-extent ``dx`` and mean height ``ym`` adds ``dx * (ym - r)`` to that
cell and a full ``dx`` to every cell above it in the same column (stored once and summed
by a suffix scan). Rings are signed so that shells add and holes subtract, whatever
their stored orientation; MultiPolygon parts add up.

Statistics (all coverage-weighted with ``c`` the coverage fraction of a cell, ``v`` its
value; "valid" excludes nodata, NaN and ``mask``-ed cells):

* ``count``: Σ c over valid cells (exactextract's ``count``);
* ``sum``: Σ c·v; ``mean``: Σ c·v / Σ c; ``std``: weighted population standard
  deviation sqrt(Σ c·(v - mean)² / Σ c);
* ``median``: weighted median, the smallest value ``v`` such that the coverage of valid
  cells with value ≤ ``v`` is at least half of ``count``;
* ``min`` / ``max``: over valid cells with coverage > 0;
* ``valid_fraction``: Σ c over valid cells / Σ c over all covered cells inside the
  raster (NaN when the polygon covers no cell).

An empty intersection gives count 0 and NaN for the other statistics.

Reading: a path is read in horizontal strips (``strip_rows`` rows, default chosen so a
strip is about 128 MB), each strip extended downwards to the bottom of the tallest
polygon whose window starts in it; so each polygon is computed from one in-memory array
and memory stays at about one strip plus the polygon arrays, whatever the raster size.
An in-memory array is used as it is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely
from numba import njit

from landgov.errors import LandgovError

STATS = ("count", "sum", "mean", "median", "std", "min", "max", "valid_fraction")
_STRIP_BYTES = 128 * 1024 * 1024


class ZonalError(LandgovError):
    """Bad input to zonal statistics (unknown statistic, band, transform...)."""


# --------------------------------------------------------------------------- kernels


@njit(cache=True)
def _piece(ya, yb, dx, col, h, partial, full):
    """Add one in-column edge piece (window-relative rows) to the accumulators."""
    lo = min(ya, yb)
    hi = max(ya, yb)
    if hi == lo:
        r = math.floor(lo)
        if r < 0:
            return
        if r >= h:
            full[h, col] += dx
            return
        partial[r, col] += dx * (lo - r)
        full[r, col] += dx
        return
    dy = hi - lo
    if hi > h:
        full[h, col] += dx * (hi - max(lo, float(h))) / dy
    rs = max(math.floor(lo), 0)
    re = min(math.ceil(hi), h)
    for r in range(rs, re):
        p = max(lo, float(r))
        q = min(hi, r + 1.0)
        if q <= p:
            continue
        f = dx * (q - p) / dy
        partial[r, col] += f * ((p + q) * 0.5 - r)
        full[r, col] += f


@njit(cache=True)
def _ring(px, py, start, end, mult, r0, c0, h, w, partial, full):
    """Accumulate one closed ring (pixel coordinates) into a window at (r0, c0)."""
    cmax = float(c0 + w)
    for i in range(start, end - 1):
        x0 = px[i]
        y0 = py[i]
        x1 = px[i + 1]
        y1 = py[i + 1]
        if x0 == x1:
            continue
        if x1 > x0:
            sgn = mult
            xl, yl, xr, yr = x0, y0, x1, y1
        else:
            sgn = -mult
            xl, yl, xr, yr = x1, y1, x0, y0
        slope = (yr - yl) / (xr - xl)
        a = max(xl, float(c0))
        b = min(xr, cmax)
        if a >= b:
            continue
        k = math.floor(a)
        while k < b:
            xa = max(a, float(k))
            xb = min(b, k + 1.0)
            if xb > xa:
                ya = yl if xa == xl else yl + (xa - xl) * slope
                yb = yr if xb == xr else yl + (xb - xl) * slope
                _piece(ya - r0, yb - r0, (xb - xa) * sgn, k - c0, h, partial, full)
            k += 1


@njit(cache=True)
def _bboxes(px, py, ring_off, geom_ring_start, geom_ring_end, height, width):
    n = geom_ring_start.shape[0]
    out = np.zeros((n, 4), dtype=np.int64)  # r0, r1, c0, c1 (clipped, half-open)
    for g in range(n):
        a = ring_off[geom_ring_start[g]]
        b = ring_off[geom_ring_end[g]]
        if b <= a:
            continue
        xmin = np.inf
        xmax = -np.inf
        ymin = np.inf
        ymax = -np.inf
        for i in range(a, b):
            xmin = min(xmin, px[i])
            xmax = max(xmax, px[i])
            ymin = min(ymin, py[i])
            ymax = max(ymax, py[i])
        r0 = max(math.floor(ymin), 0)
        r1 = min(math.ceil(ymax), height)
        c0 = max(math.floor(xmin), 0)
        c1 = min(math.ceil(xmax), width)
        if r1 > r0 and c1 > c0:
            out[g, 0] = r0
            out[g, 1] = r1
            out[g, 2] = c0
            out[g, 3] = c1
    return out


@njit(cache=True)
def _ring_mults(px, py, ring_off, is_hole):
    """+1/-1 per ring so that shells add coverage and holes subtract it."""
    n = is_hole.shape[0]
    out = np.zeros(n, dtype=np.float64)
    for k in range(n):
        s = 0.0
        x0 = px[ring_off[k]]
        y0 = py[ring_off[k]]
        for i in range(ring_off[k], ring_off[k + 1] - 1):
            # ∮ y dx relative to the first vertex (better conditioned)
            s += (px[i + 1] - px[i]) * ((py[i] - y0) + (py[i + 1] - y0)) * 0.5
        _ = x0
        m = 0.0
        if s > 0:
            m = 1.0
        elif s < 0:
            m = -1.0
        out[k] = -m if is_hole[k] else m
    return out


@njit(cache=True)
def _kernel(
    px,
    py,
    ring_off,
    ring_mult,
    geom_ring_start,
    geom_ring_end,
    bbox,
    geoms,
    data,
    row0,
    nodata,
    has_nodata,
    mask,
    has_mask,
    want_median,
    out,
):
    """Statistics for the polygons ``geoms``; ``data`` holds raster rows from ``row0``.

    ``out`` columns: count, sum, mean, median, std, min, max, valid_fraction.
    """
    maxcells = 0
    maxh = 0
    maxw = 0
    for gi in range(geoms.shape[0]):
        g = geoms[gi]
        hh = bbox[g, 1] - bbox[g, 0]
        ww = bbox[g, 3] - bbox[g, 2]
        maxh = max(maxh, hh)
        maxw = max(maxw, ww)
        maxcells = max(maxcells, hh * ww)
    partial = np.zeros((maxh, maxw))
    full = np.zeros((maxh + 1, maxw))
    vals = np.empty(maxcells)
    wts = np.empty(maxcells)
    for gi in range(geoms.shape[0]):
        g = geoms[gi]
        r0 = bbox[g, 0]
        c0 = bbox[g, 2]
        h = bbox[g, 1] - r0
        w = bbox[g, 3] - c0
        if h <= 0 or w <= 0:
            out[g, 0] = 0.0
            out[g, 1] = 0.0
            continue
        p = partial[:h, :w]
        f = full[: h + 1, :w]
        p[:, :] = 0.0
        f[:, :] = 0.0
        for k in range(geom_ring_start[g], geom_ring_end[g]):
            _ring(px, py, ring_off[k], ring_off[k + 1], ring_mult[k], r0, c0, h, w, p, f)
        total = 0.0
        n = 0
        for j in range(w):
            acc = f[h, j]
            for i in range(h - 1, -1, -1):
                c = p[i, j] + acc
                acc += f[i, j]
                if c <= 1e-12:
                    continue
                if c > 1.0:
                    c = 1.0
                total += c
                rr = r0 + i
                cc = c0 + j
                if has_mask and mask[rr, cc]:
                    continue
                v = float(data[rr - row0, cc])
                if np.isnan(v) or (has_nodata and v == nodata):
                    continue
                vals[n] = v
                wts[n] = c
                n += 1
        cnt = 0.0
        s = 0.0
        vmin = np.inf
        vmax = -np.inf
        for k in range(n):
            cnt += wts[k]
            s += wts[k] * vals[k]
            vmin = min(vmin, vals[k])
            vmax = max(vmax, vals[k])
        out[g, 0] = cnt
        out[g, 1] = s
        out[g, 7] = cnt / total if total > 0 else np.nan
        if n == 0 or cnt <= 0:
            continue
        mean = s / cnt
        ss = 0.0
        for k in range(n):
            d = vals[k] - mean
            ss += wts[k] * d * d
        out[g, 2] = mean
        out[g, 4] = math.sqrt(ss / cnt)
        out[g, 5] = vmin
        out[g, 6] = vmax
        if want_median:
            order = np.argsort(vals[:n], kind="mergesort")
            half = 0.5 * cnt
            acc = 0.0
            for k in range(n):
                acc += wts[order[k]]
                if acc >= half:
                    out[g, 3] = vals[order[k]]
                    break


# --------------------------------------------------------------------------- helpers


def _flatten(geoms: Any, transform: Any):
    """Ragged arrays of the geometries in fractional pixel coordinates."""
    arr = np.asarray(geoms, dtype=object)
    arr = np.where(shapely.is_missing(arr), shapely.Polygon(), arr)
    kinds = shapely.get_type_id(arr)
    if np.any((kinds != 3) & (kinds != 6)):
        raise ZonalError("zonal statistics need Polygon or MultiPolygon geometries")
    if arr.size == 0:
        z = np.zeros(1, dtype=np.int64)
        return np.zeros(0), np.zeros(0), z, np.zeros(0, bool), z[:0], z[:0]
    gtype, coords, offsets = shapely.to_ragged_array(arr)
    if gtype == shapely.GeometryType.POLYGON:
        ring_off, geom_off = offsets
        part_off = geom_off  # one part per geometry: its first ring is the shell
        geom_ring = geom_off
    else:
        ring_off, part_off, geom_off = offsets
        geom_ring = np.asarray(part_off)[np.asarray(geom_off)]
    ring_off = np.asarray(ring_off, dtype=np.int64)
    part_off = np.asarray(part_off, dtype=np.int64)
    is_hole = np.ones(len(ring_off) - 1, dtype=bool)
    is_hole[part_off[:-1][part_off[:-1] < len(is_hole)]] = False
    a, c, e, f = transform.a, transform.c, transform.e, transform.f
    px = (coords[:, 0] - c) / a
    py = (coords[:, 1] - f) / e
    geom_ring = np.asarray(geom_ring, dtype=np.int64)
    return px, py, ring_off, is_hole, geom_ring[:-1], geom_ring[1:]


def _check_transform(transform: Any) -> None:
    if transform is None:
        raise ZonalError("an array needs its affine transform: pass (array, transform)")
    if transform.b != 0 or transform.d != 0:
        raise ZonalError(
            "rotated or sheared raster transforms are not supported (north-up grids only)"
        )
    if transform.a == 0 or transform.e == 0:
        raise ZonalError("degenerate raster transform (zero pixel size)")


def _parse_stats(stats: str | Sequence[str]) -> list[str]:
    names = [s.strip() for s in stats.split(",")] if isinstance(stats, str) else list(stats)
    names = [s for s in names if s]
    unknown = [s for s in names if s not in STATS]
    if unknown or not names:
        raise ZonalError(
            f"unknown statistic(s) {', '.join(unknown) or '(none given)'}; "
            f"choose from {', '.join(STATS)}"
        )
    return names


# --------------------------------------------------------------------------- API


def zonal_stats(
    raster: Any,
    geometries: Any,
    *,
    band: int = 1,
    stats: str | Sequence[str] = ("mean",),
    nodata: float | None = None,
    mask: np.ndarray | None = None,
    strip_rows: int | None = None,
) -> pd.DataFrame:
    """Coverage-weighted statistics of ``raster`` inside each geometry.

    ``raster``: a path readable by rasterio, or ``(array, transform)`` with a 2-D array
    (or a 3-D ``(bands, rows, cols)`` one, indexed by ``band``). ``geometries``: a
    GeoSeries or sequence of shapely Polygons/MultiPolygons in the raster's CRS (a
    GeoSeries with another CRS is reprojected when the raster is a path). ``nodata``
    overrides the raster's own nodata value; ``mask`` is a boolean array of the raster's
    shape, True marking cells to treat as invalid. Returns one row per geometry, in input
    order, with the requested ``stats`` as columns (see the module docstring).
    """
    names = _parse_stats(stats)
    want_median = "median" in names
    src = None
    if isinstance(raster, str | Path):
        import rasterio

        try:
            src = rasterio.open(raster)
        except Exception as exc:  # rasterio raises its own RasterioIOError
            raise ZonalError(f"cannot read raster {raster}: {exc}") from exc
        transform = src.transform
        height, width = src.height, src.width
        if not 1 <= band <= src.count:
            src.close()
            raise ZonalError(f"band {band} out of range: the raster has {src.count} band(s)")
        if nodata is None:
            nodata = src.nodatavals[band - 1]
        crs = getattr(geometries, "crs", None)
        if crs is not None and src.crs is not None and crs != src.crs:
            geometries = geometries.to_crs(src.crs)
        dtype = np.dtype(src.dtypes[band - 1])
        array = None
    else:
        try:
            array, transform = raster
        except (TypeError, ValueError) as exc:
            raise ZonalError("raster must be a path or an (array, transform) pair") from exc
        array = np.asarray(array)
        if array.ndim == 3:
            if not 1 <= band <= array.shape[0]:
                raise ZonalError(
                    f"band {band} out of range: the array has {array.shape[0]} band(s)"
                )
            array = array[band - 1]
        elif array.ndim != 2:
            raise ZonalError("raster array must be 2-D (rows, cols) or 3-D (bands, ...)")
        height, width = array.shape
        dtype = array.dtype
    try:
        _check_transform(transform)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (height, width):
                raise ZonalError(f"mask shape {mask.shape} != raster shape {(height, width)}")
        index = geometries.index if isinstance(geometries, pd.Series) else None
        px, py, ring_off, is_hole, g_start, g_end = _flatten(geometries, transform)
        n = len(g_start)
        out = np.full((n, 8), np.nan)
        out[:, 0] = 0.0
        out[:, 1] = 0.0
        if n:
            ring_mult = _ring_mults(px, py, ring_off, is_hole)
            bbox = _bboxes(px, py, ring_off, g_start, g_end, height, width)
            has_nodata = nodata is not None and not (
                isinstance(nodata, float) and math.isnan(nodata)
            )
            nd = float(nodata) if has_nodata else 0.0
            m = mask if mask is not None else np.zeros((1, 1), dtype=bool)
            live = np.nonzero(bbox[:, 1] > bbox[:, 0])[0]

            def run(geoms: np.ndarray, data: np.ndarray, row0: int) -> None:
                _kernel(
                    px, py, ring_off, ring_mult, g_start, g_end, bbox, geoms, data,
                    row0, nd, has_nodata, m, mask is not None, want_median, out,
                )  # fmt: skip

            if array is not None:
                run(live, array, 0)
            else:
                from rasterio.windows import Window

                if strip_rows is None:
                    strip_rows = max(64, _STRIP_BYTES // max(1, width * dtype.itemsize))
                order = live[np.argsort(bbox[live, 0], kind="stable")]
                tops = bbox[order, 0]
                for s0 in range(0, height, strip_rows):
                    lo, hi = np.searchsorted(tops, [s0, s0 + strip_rows])
                    if hi <= lo:
                        continue
                    geoms = order[lo:hi]
                    r_top = int(tops[lo])
                    r_bot = int(bbox[geoms, 1].max())
                    data = src.read(band, window=Window(0, r_top, width, r_bot - r_top))
                    run(geoms, data, r_top)
    finally:
        if src is not None:
            src.close()
    cols = ["count", "sum", "mean", "median", "std", "min", "max", "valid_fraction"]
    frame = pd.DataFrame(out, columns=cols)[names]
    if index is not None:
        frame.index = index
    return frame
