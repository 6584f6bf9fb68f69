"""Metric areas of parcel geometries stored in EPSG:4326 (longitude, latitude).

An area in square degrees means nothing (a degree of longitude shrinks with latitude),
so each geometry is projected to the UTM zone of its centroid and measured there
(domain.md §3). Punjab spans UTM zones 42N and 43N with the boundary at 72°E: parcels
west of 72°E (e.g. Dera Ghazi Khan, Rajanpur) use EPSG:32642, the rest EPSG:32643.

UTM is conformal, not equal-area: its scale error changes areas by -0.08 % on a zone's
central meridian to about +0.12 % at the zone edge at Punjab's latitudes. That is far
inside the 1 % record-versus-map tolerance (domain.md §6.9), and it keeps our areas equal
to what a GIS user sees after reprojecting to the same zone.

Pure computation: no files, no database.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Final

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from landgov.errors import InvalidArea

WGS84_EPSG: Final = 4326
"""The CRS every stored geometry uses: longitude, latitude on WGS 84."""

UTM_NORTH_BASE: Final = 32600
"""EPSG:326zz is WGS 84 / UTM zone zzN (EPSG registry)."""
UTM_SOUTH_BASE: Final = 32700
"""EPSG:327zz is WGS 84 / UTM zone zzS (EPSG registry)."""
UTM_ZONE_WIDTH_DEG: Final = 6
"""UTM zones are 6° of longitude wide, zone 1 starting at 180°W."""

Coords = npt.NDArray[np.float64]
"""An (N, 2) array of x, y coordinates, as shapely.transform passes them."""


def utm_epsg_for(lon: float, lat: float) -> int:
    """The EPSG code of the WGS 84 UTM zone containing a point.

    Zone = floor((lon + 180) / 6) + 1, with lon = 180 put in zone 60; north of the
    equator EPSG:326zz, south EPSG:327zz. The Norway and Svalbard exceptions are
    ignored. In Punjab: lon < 72 -> 32642, otherwise 32643.

    Raises:
        InvalidArea: the point is not a finite longitude/latitude in degrees (e.g. the
            geometry is already projected).
    """
    _check_lon_lat(np.array([lon]), np.array([lat]))
    return int(_utm_epsg(np.array([lon]), np.array([lat]))[0])


def area_m2(geom: BaseGeometry) -> float:
    """The area in square metres of one EPSG:4326 geometry, in its centroid's UTM zone.

    Empty geometries, points and lines have area 0.

    Raises:
        InvalidArea: a coordinate is not a longitude/latitude in degrees.
    """
    if geom.is_empty:
        return 0.0
    centroid = geom.centroid
    epsg = utm_epsg_for(float(centroid.x), float(centroid.y))
    return float(shapely.area(shapely.transform(geom, _projector(epsg))))


def areas_m2(geoms: Sequence[BaseGeometry] | npt.NDArray[np.object_]) -> npt.NDArray[np.float64]:
    """Areas in square metres of many EPSG:4326 geometries, each in its own UTM zone.

    Vectorised for whole districts: geometries are grouped by zone and each group is
    projected with one coordinate transformation, so 100,000 parcels take about a
    second. Gives the same values as :func:`area_m2`; empty geometries give 0 and
    missing ones (None) NaN.

    Raises:
        InvalidArea: a coordinate is not a longitude/latitude in degrees.
    """
    arr = np.asarray(geoms, dtype=object).reshape(-1)
    result = np.full(arr.shape, np.nan, dtype=np.float64)
    present = ~shapely.is_missing(arr)
    result[present & shapely.is_empty(arr)] = 0.0
    todo = np.flatnonzero(present & ~shapely.is_empty(arr))
    if todo.size == 0:
        return result
    centroids = shapely.centroid(arr[todo])
    lon = np.asarray(shapely.get_x(centroids), dtype=np.float64)
    lat = np.asarray(shapely.get_y(centroids), dtype=np.float64)
    _check_lon_lat(lon, lat)
    epsg = _utm_epsg(lon, lat)
    for code in np.unique(epsg):
        group = todo[epsg == code]
        projected = shapely.transform(arr[group], _projector(int(code)))
        result[group] = shapely.area(projected)
    return result


def _utm_epsg(lon: Coords, lat: Coords) -> npt.NDArray[np.int64]:
    """Vectorised UTM EPSG codes for valid longitudes/latitudes (see utm_epsg_for)."""
    zone = np.floor((lon + 180.0) / UTM_ZONE_WIDTH_DEG).astype(np.int64) + 1
    zone = np.clip(zone, 1, 60)
    return np.where(lat >= 0, UTM_NORTH_BASE, UTM_SOUTH_BASE) + zone


def _check_lon_lat(lon: Coords, lat: Coords) -> None:
    """Refuses coordinates that cannot be degrees, the usual sign of a projected input."""
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidArea(
            f"coordinate ({lon[i]!r}, {lat[i]!r}) is not longitude/latitude in degrees; "
            f"geometries must be in EPSG:{WGS84_EPSG}"
        )


@lru_cache(maxsize=120)  # 60 zones x 2 hemispheres: every zone stays cached
def _transformer(epsg: int) -> Transformer:
    """A cached EPSG:4326 -> ``epsg`` transformer; building one costs milliseconds."""
    return Transformer.from_crs(WGS84_EPSG, epsg, always_xy=True)


def _projector(epsg: int) -> Callable[[Coords], Coords]:
    """A coordinate function for shapely.transform that projects lon/lat to ``epsg``."""
    transformer = _transformer(epsg)

    def project(coords: Coords) -> Coords:
        _check_lon_lat(coords[:, 0], coords[:, 1])
        x, y = transformer.transform(coords[:, 0], coords[:, 1])
        return np.column_stack((x, y)).astype(np.float64, copy=False)

    return project
