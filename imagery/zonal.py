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

Two kernels, one algorithm: the numba kernels below, compiled on first use (numba's
``cache=True``: once per source version, in numba's cache directory, ``__pycache__``
beside this file unless ``NUMBA_CACHE_DIR`` says otherwise), and a numpy twin
(:func:`_np_kernel`) that makes the same floating-point operations in the same order, so
both give bit-for-bit the same statistics (tested). Importing numba and loading even
cached kernels costs about a second per process (compiling them, ~7 s), while the numpy
twin does a few thousand parcels in tens of milliseconds; so ``kernel="auto"`` takes
numpy when the polygons' windows hold at most :data:`NUMPY_MAX_CELLS` cells in all and
numba otherwise (or once this process has loaded it). The twin keeps every sum
sequential in the kernel's order (``np.bincount`` and ``np.cumsum`` add in input order;
``np.sum`` would add pairwise and differ in the last bits).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import shapely

from landgov.errors import LandgovError

STATS = ("count", "sum", "mean", "median", "std", "min", "max", "valid_fraction")
_STRIP_BYTES = 128 * 1024 * 1024
NUMPY_MAX_CELLS = 2_000_000
"""Above this many window cells (Σ (rows + 1) × columns of the polygons' windows),
``kernel="auto"`` loads numba's kernels. Measured on the 2-core machine, the numpy twin
takes 0.12 to 0.45 µs a cell (small windows cost most), so 0.3 to 0.9 s here: about what
importing numba and loading its cached kernels cost (0.6 to 1.8 s, the more where Python
has no bytecode cache), and far less than compiling them (~7 s)."""
_NP_CHUNK_CELLS = 1_000_000  # cells of one padded numpy block (a few tens of MB)


class ZonalError(LandgovError):
    """Bad input to zonal statistics (unknown statistic, band, transform...)."""


# --------------------------------------------------------------------------- kernels
#
# Plain Python until _numba_kernels() compiles them (numba resolves a kernel's callees
# among the module's globals when it compiles it, so all are replaced before any runs).
# The annotations are for mypy only: numba infers its own types from the arguments.


def _piece(
    ya: float, yb: float, dx: float, col: int, h: int, partial: np.ndarray, full: np.ndarray
) -> None:
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


def _ring(
    px: np.ndarray,
    py: np.ndarray,
    start: int,
    end: int,
    mult: float,
    r0: int,
    c0: int,
    h: int,
    w: int,
    partial: np.ndarray,
    full: np.ndarray,
) -> None:
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


def _bboxes(
    px: np.ndarray,
    py: np.ndarray,
    ring_off: np.ndarray,
    geom_ring_start: np.ndarray,
    geom_ring_end: np.ndarray,
    height: int,
    width: int,
) -> np.ndarray:
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


def _ring_mults(
    px: np.ndarray, py: np.ndarray, ring_off: np.ndarray, is_hole: np.ndarray
) -> np.ndarray:
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


def _kernel(
    px: np.ndarray,
    py: np.ndarray,
    ring_off: np.ndarray,
    ring_mult: np.ndarray,
    geom_ring_start: np.ndarray,
    geom_ring_end: np.ndarray,
    bbox: np.ndarray,
    geoms: np.ndarray,
    data: np.ndarray,
    row0: int,
    nodata: float,
    has_nodata: bool,
    mask: np.ndarray,
    has_mask: bool,
    want_median: bool,
    out: np.ndarray,
) -> None:
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


_JITTED = ("_piece", "_ring", "_bboxes", "_ring_mults", "_kernel")
_numba_loaded = False


def _numba_kernels() -> None:
    """Replaces the kernels with their numba-compiled versions (once per process)."""
    global _numba_loaded
    if _numba_loaded:
        return
    from numba import njit

    module = globals()
    for name in _JITTED:
        module[name] = njit(cache=True)(module[name])
    _numba_loaded = True


# --------------------------------------------------------------------------- numpy twin
#
# The same operations as the kernels above, vectorised. Every value a kernel accumulates
# is generated here in the order the kernel adds it (rings, edges, columns left to right,
# then the piece above the window before the rows top to bottom) and summed by
# np.bincount, which adds in input order; a column's running sum from the bottom is a
# np.cumsum along a padded block, sequential too.


def _ranges(starts: np.ndarray, ends: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ``range(start, end)`` concatenated: (which range, the index)."""
    counts = np.maximum(ends - starts, 0)
    owner = np.repeat(np.arange(len(counts)), counts)
    first = np.cumsum(counts) - counts
    return owner, np.arange(int(counts.sum())) - first[owner] + starts[owner]


def _np_ring_mults(
    px: np.ndarray, py: np.ndarray, ring_off: np.ndarray, is_hole: np.ndarray
) -> np.ndarray:
    """:func:`_ring_mults` in numpy."""
    n = is_hole.shape[0]
    ring, i = _ranges(ring_off[:-1], ring_off[1:] - 1)
    y0 = py[ring_off[ring]]
    terms = (px[i + 1] - px[i]) * ((py[i] - y0) + (py[i + 1] - y0)) * 0.5
    s = np.bincount(ring, weights=terms, minlength=n)
    m = np.where(s > 0, 1.0, np.where(s < 0, -1.0, 0.0))
    return np.where(is_hole, -m, m)


def _np_bboxes(
    px: np.ndarray,
    py: np.ndarray,
    ring_off: np.ndarray,
    geom_ring_start: np.ndarray,
    geom_ring_end: np.ndarray,
    height: int,
    width: int,
) -> np.ndarray:
    """:func:`_bboxes` in numpy (minima and maxima are exact in any order)."""
    n = geom_ring_start.shape[0]
    out = np.zeros((n, 4), dtype=np.int64)
    a = ring_off[geom_ring_start]
    b = ring_off[geom_ring_end]
    some = np.nonzero(b > a)[0]
    if some.size == 0:
        return out
    # the vertices of consecutive geometries are consecutive: one reduceat per bound
    starts = a[some]
    r0 = np.maximum(np.floor(np.minimum.reduceat(py, starts)), 0)
    r1 = np.minimum(np.ceil(np.maximum.reduceat(py, starts)), height)
    c0 = np.maximum(np.floor(np.minimum.reduceat(px, starts)), 0)
    c1 = np.minimum(np.ceil(np.maximum.reduceat(px, starts)), width)
    ok = (r1 > r0) & (c1 > c0)
    out[some[ok]] = np.stack([r0[ok], r1[ok], c0[ok], c1[ok]], axis=1).astype(np.int64)
    return out


def _np_kernel(
    px: np.ndarray,
    py: np.ndarray,
    ring_off: np.ndarray,
    ring_mult: np.ndarray,
    geom_ring_start: np.ndarray,
    geom_ring_end: np.ndarray,
    bbox: np.ndarray,
    geoms: np.ndarray,
    data: np.ndarray,
    row0: int,
    nodata: float,
    has_nodata: bool,
    mask: np.ndarray,
    has_mask: bool,
    want_median: bool,
    out: np.ndarray,
) -> None:
    """:func:`_kernel` in numpy: the same arguments, bit-for-bit the same ``out`` rows.

    Polygons go in blocks of similar window height, each block's window columns padded
    to its tallest window (at most :data:`_NP_CHUNK_CELLS` cells a block).
    """
    bb = bbox[geoms]
    h = bb[:, 1] - bb[:, 0]
    w = bb[:, 3] - bb[:, 2]
    empty = (h <= 0) | (w <= 0)
    out[geoms[empty], 0] = 0.0
    out[geoms[empty], 1] = 0.0
    geoms, h, w = geoms[~empty], h[~empty], w[~empty]
    order = np.argsort(h, kind="stable")
    start, cols = 0, 0
    for k, g in enumerate(order.tolist()):
        if k > start and (cols + int(w[g])) * (int(h[g]) + 1) > _NP_CHUNK_CELLS:
            _np_block(px, py, ring_off, ring_mult, geom_ring_start, geom_ring_end, bbox,
                      geoms[order[start:k]], data, row0, nodata, has_nodata, mask,
                      has_mask, want_median, out)  # fmt: skip
            start, cols = k, 0
        cols += int(w[g])
    if start < len(order):
        _np_block(px, py, ring_off, ring_mult, geom_ring_start, geom_ring_end, bbox,
                  geoms[order[start:]], data, row0, nodata, has_nodata, mask, has_mask,
                  want_median, out)  # fmt: skip


def _np_block(
    px: np.ndarray,
    py: np.ndarray,
    ring_off: np.ndarray,
    ring_mult: np.ndarray,
    geom_ring_start: np.ndarray,
    geom_ring_end: np.ndarray,
    bbox: np.ndarray,
    gs: np.ndarray,
    data: np.ndarray,
    row0: int,
    nodata: float,
    has_nodata: bool,
    mask: np.ndarray,
    has_mask: bool,
    want_median: bool,
    out: np.ndarray,
) -> None:
    """One block of :func:`_np_kernel` (polygons ``gs``, every window non-empty)."""
    r0 = bbox[gs, 0]
    c0 = bbox[gs, 2]
    hs = bbox[gs, 1] - r0
    ws = bbox[gs, 3] - c0
    nslots = len(gs)
    depth = int(hs.max()) + 1  # padded column: rows h (the full row below), h-1, ..., 0
    col_base = np.cumsum(ws) - ws
    ncols = int(ws.sum())

    # _ring: every edge of every ring of the block's polygons, in the kernel's order
    ring_slot, ring = _ranges(geom_ring_start[gs], geom_ring_end[gs])
    seg_ring, i = _ranges(ring_off[ring], ring_off[ring + 1] - 1)
    slot = ring_slot[seg_ring]
    mult = ring_mult[ring[seg_ring]]
    x0, y0, x1, y1 = px[i], py[i], px[i + 1], py[i + 1]
    keep = x0 != x1
    slot, mult, x0, y0, x1, y1 = slot[keep], mult[keep], x0[keep], y0[keep], x1[keep], y1[keep]
    right = x1 > x0
    sgn = np.where(right, mult, -mult)
    xl, yl = np.where(right, x0, x1), np.where(right, y0, y1)
    xr, yr = np.where(right, x1, x0), np.where(right, y1, y0)
    with np.errstate(all="ignore"):
        slope = (yr - yl) / (xr - xl)
    a = np.maximum(xl, c0[slot].astype(np.float64))
    b = np.minimum(xr, (c0 + ws)[slot].astype(np.float64))
    keep = a < b
    slot, sgn, xl, yl, xr, yr, slope, a, b = (
        v[keep] for v in (slot, sgn, xl, yl, xr, yr, slope, a, b)
    )
    k_first = np.floor(a).astype(np.int64)
    edge, k = _ranges(k_first, np.ceil(b).astype(np.int64))
    slot = slot[edge]
    xa = np.maximum(a[edge], k.astype(np.float64))
    xb = np.minimum(b[edge], k + 1.0)
    keep = xb > xa
    edge, k, slot, xa, xb = edge[keep], k[keep], slot[keep], xa[keep], xb[keep]
    xl, yl, xr, yr, slope = xl[edge], yl[edge], xr[edge], yr[edge], slope[edge]
    ya = np.where(xa == xl, yl, yl + (xa - xl) * slope)
    yb = np.where(xb == xr, yr, yl + (xb - xl) * slope)
    top = r0[slot].astype(np.float64)
    ya, yb = ya - top, yb - top
    dx = (xb - xa) * sgn[edge]
    col = k - c0[slot]

    # _piece: each piece's contributions, the one above the window first, rows down
    lo, hi = np.minimum(ya, yb), np.maximum(ya, yb)
    hp = hs[slot]
    hpf = hp.astype(np.float64)
    flat = hi == lo
    r_lo = np.floor(lo).astype(np.int64)
    above = ~flat & (hi > hpf)
    rs = np.maximum(r_lo, 0)
    re = np.minimum(np.ceil(hi).astype(np.int64), hp)
    count = np.where(flat, (r_lo >= 0).astype(np.int64), above + np.maximum(re - rs, 0))
    piece, j = _ranges(np.zeros_like(count), count)
    f_flat, f_above = flat[piece], above[piece]
    f_lo, f_hi, f_dx, f_h = lo[piece], hi[piece], dx[piece], hp[piece]
    r = np.where(f_flat, r_lo[piece], rs[piece] + j - f_above)
    is_above = f_above & (j == 0)
    is_row = ~f_flat & ~is_above
    rf = r.astype(np.float64)
    with np.errstate(all="ignore"):
        dy = f_hi - f_lo
        p = np.maximum(f_lo, rf)
        q = np.minimum(f_hi, r + 1.0)
        frac = f_dx * (q - p) / dy
        v_above = f_dx * (f_hi - np.maximum(f_lo, f_h.astype(np.float64))) / dy
        v_partial = np.where(f_flat, f_dx * (f_lo - r), frac * ((p + q) * 0.5 - r))
    v_full = np.where(f_flat, f_dx, np.where(is_above, v_above, frac))
    to_h = (f_flat & (r >= f_h)) | is_above  # the row below the window: full only
    live = ~is_row | (q > p)
    base = (col_base[slot[piece]] + col[piece]) * depth
    cell = base + np.where(to_h, 0, f_h - r)
    full = np.bincount(cell[live], weights=v_full[live], minlength=ncols * depth)
    has_p = live & ~to_h
    partial = np.bincount(cell[has_p], weights=v_partial[has_p], minlength=ncols * depth)
    full = full.reshape(ncols, depth)
    partial = partial.reshape(ncols, depth)

    # the kernel's scan: columns left to right, each from its bottom row up
    acc = np.cumsum(full, axis=1)
    cover = partial[:, 1:] + acc[:, :-1]  # position t: row h - t
    col_h = np.repeat(hs, ws)
    inside = (np.arange(1, depth)[None, :] <= col_h[:, None]) & (cover > 1e-12)
    colrow, t = np.nonzero(inside)
    c = np.minimum(cover[colrow, t], 1.0)
    cslot = np.repeat(np.arange(nslots), ws)[colrow]
    rr = r0[cslot] + hs[cslot] - (t + 1)
    cc = c0[cslot] + colrow - col_base[cslot]
    total = np.bincount(cslot, weights=c, minlength=nslots)
    vals = data[rr - row0, cc].astype(np.float64)
    bad = np.isnan(vals)
    if has_nodata:
        bad |= vals == nodata
    if has_mask:
        bad |= mask[rr, cc]
    good = ~bad
    sv, wv, vv = cslot[good], c[good], vals[good]
    n = np.bincount(sv, minlength=nslots)
    cnt = np.bincount(sv, weights=wv, minlength=nslots)
    s = np.bincount(sv, weights=wv * vv, minlength=nslots)
    out[gs, 0] = cnt
    out[gs, 1] = s
    with np.errstate(all="ignore"):
        out[gs, 7] = np.where(total > 0, cnt / total, np.nan)
    ok = (n > 0) & (cnt > 0)
    if not ok.any():
        return
    with np.errstate(all="ignore"):
        mean = s / cnt
        d = vv - mean[sv]
        ss = np.bincount(sv, weights=wv * d * d, minlength=nslots)
        std = np.sqrt(ss / cnt)
    firsts = np.cumsum(n) - n
    vmin = np.full(nslots, np.nan)
    vmax = np.full(nslots, np.nan)
    vmin[n > 0] = np.minimum.reduceat(vv, firsts[n > 0])
    vmax[n > 0] = np.maximum.reduceat(vv, firsts[n > 0])
    g_ok = gs[ok]
    out[g_ok, 2] = mean[ok]
    out[g_ok, 4] = std[ok]
    out[g_ok, 5] = vmin[ok]
    out[g_ok, 6] = vmax[ok]
    if want_median:
        order = np.lexsort((vv, sv))  # by polygon, then value; stable, as the kernel's
        vs, ws_sorted = vv[order], wv[order]
        for slot_i in np.nonzero(ok)[0].tolist():
            lo_i, hi_i = int(firsts[slot_i]), int(firsts[slot_i] + n[slot_i])
            running = np.cumsum(ws_sorted[lo_i:hi_i])
            at = int(np.searchsorted(running, 0.5 * cnt[slot_i], side="left"))
            if at < hi_i - lo_i:
                out[gs[slot_i], 3] = vs[lo_i + at]


# --------------------------------------------------------------------------- helpers


def _flatten(
    geoms: Any, transform: Any
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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
    kernel: Literal["auto", "numba", "numpy"] = "auto",
) -> pd.DataFrame:
    """Coverage-weighted statistics of ``raster`` inside each geometry.

    ``raster``: a path readable by rasterio, or ``(array, transform)`` with a 2-D array
    (or a 3-D ``(bands, rows, cols)`` one, indexed by ``band``). ``geometries``: a
    GeoSeries or sequence of shapely Polygons/MultiPolygons in the raster's CRS (a
    GeoSeries with another CRS is reprojected when the raster is a path). ``nodata``
    overrides the raster's own nodata value; ``mask`` is a boolean array of the raster's
    shape, True marking cells to treat as invalid. Returns one row per geometry, in input
    order, with the requested ``stats`` as columns (see the module docstring).
    ``kernel`` picks the numba kernels or their numpy twin (same results; ``"auto"``
    takes numpy for small inputs, see the module docstring).
    """
    names = _parse_stats(stats)
    if kernel not in ("auto", "numba", "numpy"):
        raise ZonalError(f"unknown kernel {kernel!r}: choose auto, numba or numpy")
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
            use_numba = kernel == "numba" or (kernel == "auto" and _numba_loaded)
            if use_numba:
                _numba_kernels()
                ring_mult = _ring_mults(px, py, ring_off, is_hole)
                bbox = _bboxes(px, py, ring_off, g_start, g_end, height, width)
            else:
                ring_mult = _np_ring_mults(px, py, ring_off, is_hole)
                bbox = _np_bboxes(px, py, ring_off, g_start, g_end, height, width)
                cells = int(((bbox[:, 1] - bbox[:, 0] + 1) * (bbox[:, 3] - bbox[:, 2])).sum())
                if kernel == "auto" and cells > NUMPY_MAX_CELLS:
                    use_numba = True  # the same bounds and signs as numba's: exact either way
                    _numba_kernels()
            stats_of = _kernel if use_numba else _np_kernel
            has_nodata = nodata is not None and not (
                isinstance(nodata, float) and math.isnan(nodata)
            )
            nd = float(nodata) if nodata is not None and has_nodata else 0.0
            m = mask if mask is not None else np.zeros((1, 1), dtype=bool)
            live = np.nonzero(bbox[:, 1] > bbox[:, 0])[0]

            def run(geoms: np.ndarray, data: np.ndarray, row0: int) -> None:
                stats_of(
                    px, py, ring_off, ring_mult, g_start, g_end, bbox, geoms, data,
                    row0, nd, has_nodata, m, mask is not None, want_median, out,
                )  # fmt: skip

            if array is not None:
                run(live, array, 0)
            else:
                from rasterio.windows import Window

                assert src is not None  # no array: the raster is the file opened above

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
