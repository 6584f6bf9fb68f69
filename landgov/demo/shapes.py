"""Plane geometry for the demo layout: exact splits of convex parcels, the local frame.

The layout is drawn in a local metric frame (u east, v north, metres), rotated and moved
onto UTM zone 43N around Sheikhupura, then converted to EPSG:4326. Parcels that share an
edge share the very same vertex coordinates, so the tiling has no slivers; splits compute
each cut point once and hand it to both pieces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry import MultiPolygon, Polygon

Point = tuple[float, float]

UTM43N = 32643


def ring(poly: Polygon) -> list[Point]:
    """The exterior ring of ``poly`` without the closing point."""
    return [(float(x), float(y)) for x, y in list(poly.exterior.coords)[:-1]]


def clip_halfplane(pts: Sequence[Point], normal: Point, c: float, keep_below: bool) -> list[Point]:
    """Sutherland-Hodgman: the part of a polygon with n·p <= c (or >= c).

    The same polygon clipped below and above the same line yields cut points computed by
    the same arithmetic on the same edges, so the two pieces share them bit for bit.
    """
    nx, ny = normal
    out: list[Point] = []
    n = len(pts)
    for i in range(n):
        a, b = pts[i], pts[(i + 1) % n]
        da = a[0] * nx + a[1] * ny - c
        db = b[0] * nx + b[1] * ny - c
        ina = da <= 0 if keep_below else da >= 0
        inb = db <= 0 if keep_below else db >= 0
        if ina:
            out.append(a)
        if ina != inb:
            t = da / (da - db)
            out.append((a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])))
    return out


def _area(pts: Sequence[Point]) -> float:
    s = 0.0
    n = len(pts)
    for i in range(n):
        x1, y1 = pts[i]
        x2, y2 = pts[(i + 1) % n]
        s += x1 * y2 - x2 * y1
    return abs(s) / 2.0


def split_by_fractions(
    poly: Polygon, fractions: Sequence[float], angle_deg: float
) -> list[Polygon]:
    """Cuts a convex polygon by parallel lines into pieces with the given area fractions.

    ``angle_deg`` is the direction of the cut lines' normal from the u axis; pieces come
    in order along that normal. The fractions must be positive and sum to 1.
    """
    pts = ring(poly)
    normal = (math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg)))
    proj = [p[0] * normal[0] + p[1] * normal[1] for p in pts]
    total = _area(pts)
    pieces: list[Polygon] = []
    remaining = pts
    cumulative = 0.0
    for frac in fractions[:-1]:
        cumulative += frac
        lo, hi = min(proj), max(proj)
        for _ in range(60):
            mid = (lo + hi) / 2
            if _area(clip_halfplane(pts, normal, mid, True)) < cumulative * total:
                lo = mid
            else:
                hi = mid
        cut = (lo + hi) / 2
        piece = clip_halfplane(remaining, normal, cut, True)
        remaining = clip_halfplane(remaining, normal, cut, False)
        pieces.append(Polygon(piece))
    pieces.append(Polygon(remaining))
    return pieces


class Frame:
    """The local grid frame: rotation about the origin, then a shift onto UTM 43N."""

    def __init__(self, centre_lonlat: Point, centre_local: Point, rotation_deg: float) -> None:
        to_utm = Transformer.from_crs(4326, UTM43N, always_xy=True)
        e, n = to_utm.transform(*centre_lonlat)
        theta = math.radians(rotation_deg)
        self._cos, self._sin = math.cos(theta), math.sin(theta)
        cu, cv = centre_local
        self._e0 = e - (cu * self._cos - cv * self._sin)
        self._n0 = n - (cu * self._sin + cv * self._cos)
        self._to_lonlat = Transformer.from_crs(UTM43N, 4326, always_xy=True)

    def _project(self, coords: np.ndarray) -> np.ndarray:
        u, v = coords[:, 0], coords[:, 1]
        e = self._e0 + u * self._cos - v * self._sin
        n = self._n0 + u * self._sin + v * self._cos
        lon, lat = self._to_lonlat.transform(e, n)
        return np.column_stack((lon, lat))

    def to_lonlat(self, geoms: Sequence[Polygon | MultiPolygon]) -> list[MultiPolygon]:
        """Local polygons as EPSG:4326 MultiPolygons (vertices shared stay shared)."""
        arr = np.asarray(list(geoms), dtype=object)
        out = shapely.transform(arr, self._project)
        result = []
        for g in out:
            if g.geom_type == "Polygon":
                g = MultiPolygon([g])
            result.append(g)
        return result
