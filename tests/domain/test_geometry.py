"""Metric areas of EPSG:4326 geometries in the right UTM zone (domain.md §3)."""

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Geod

from landgov.domain import area_m2, areas_m2, utm_epsg_for
from landgov.errors import InvalidArea

WGS84 = Geod(ellps="WGS84")


def geodesic_square(lon: float, lat: float, side_m: float) -> shapely.Polygon:
    """A square with geodesic sides of ``side_m`` metres, its south-west corner at lon/lat."""
    e_lon, e_lat, _ = WGS84.fwd(lon, lat, 90, side_m)
    n_lon, n_lat, _ = WGS84.fwd(lon, lat, 0, side_m)
    ne_lon, ne_lat, _ = WGS84.fwd(e_lon, e_lat, 0, side_m)
    return shapely.Polygon([(lon, lat), (e_lon, e_lat), (ne_lon, ne_lat), (n_lon, n_lat)])


def geodesic_area(geom: shapely.Geometry) -> float:
    return abs(WGS84.geometry_area_perimeter(geom)[0])


@pytest.mark.parametrize(
    ("lon", "lat", "epsg"),
    [
        (73.98, 31.71, 32643),  # Sheikhupura
        (74.35, 31.55, 32643),  # Lahore
        (71.5, 30.2, 32642),  # west of 72°E
        (71.999, 30.0, 32642),
        (72.0, 30.0, 32643),  # the boundary belongs to 43N
        (-0.1, 51.5, 32630),
        (151.2, -33.9, 32756),  # southern hemisphere
        (-180.0, 0.0, 32601),
        (180.0, 0.0, 32660),
    ],
)
def test_utm_epsg_for(lon: float, lat: float, epsg: int) -> None:
    assert utm_epsg_for(lon, lat) == epsg


@pytest.mark.parametrize(("lon", "lat"), [(500000.0, 3500000.0), (74.0, 91.0), (np.nan, 30.0)])
def test_utm_epsg_for_rejects_non_degrees(lon: float, lat: float) -> None:
    with pytest.raises(InvalidArea, match="EPSG:4326"):
        utm_epsg_for(lon, lat)


def test_sheikhupura_hectare() -> None:
    square = geodesic_square(73.98, 31.71, 100.0)
    assert area_m2(square) == pytest.approx(10_000, rel=1e-3)


def test_west_of_72_uses_zone_42() -> None:
    square = geodesic_square(71.5, 30.2, 100.0)
    assert utm_epsg_for(square.centroid.x, square.centroid.y) == 32642
    assert area_m2(square) == pytest.approx(10_000, rel=1e-3)


def test_empty_points_lines_have_zero_area() -> None:
    assert area_m2(shapely.Polygon()) == 0.0
    assert area_m2(shapely.Point(74, 31)) == 0.0
    assert area_m2(shapely.LineString([(74, 31), (74.1, 31.1)])) == 0.0


def test_projected_input_rejected() -> None:
    with pytest.raises(InvalidArea, match="EPSG:4326"):
        area_m2(shapely.box(400_000, 3_500_000, 400_100, 3_500_100))


def test_multipolygon_area_is_sum() -> None:
    a = geodesic_square(74.0, 31.0, 50.0)
    b = geodesic_square(74.01, 31.0, 80.0)
    assert area_m2(shapely.MultiPolygon([a, b])) == pytest.approx(area_m2(a) + area_m2(b), rel=1e-9)


punjab_lon = st.floats(69.5, 75.5)
punjab_lat = st.floats(28.0, 34.0)


@settings(max_examples=50, deadline=None)
@given(punjab_lon, punjab_lat, st.floats(5.0, 2000.0))
def test_area_matches_geodesic(lon: float, lat: float, side: float) -> None:
    square = geodesic_square(lon, lat, side)
    # UTM scale error at Punjab's latitudes stays within about 0.12 %.
    assert area_m2(square) == pytest.approx(geodesic_area(square), rel=1.5e-3)


def test_areas_m2_matches_area_m2_across_zones() -> None:
    rng = np.random.default_rng(42)
    n = 2_000
    lon = rng.uniform(69.5, 75.5, n)
    lat = rng.uniform(28.0, 34.0, n)
    boxes = shapely.box(lon, lat, lon + 0.002, lat + 0.001)
    vectorised = areas_m2(boxes)
    assert vectorised.shape == (n,)
    assert vectorised.dtype == np.float64
    np.testing.assert_allclose(vectorised, [area_m2(g) for g in boxes], rtol=1e-12)
    assert {utm_epsg_for(x, y) for x, y in zip(lon, lat, strict=True)} == {32642, 32643}


def test_areas_m2_accepts_lists_with_empty_and_missing() -> None:
    square = geodesic_square(73.98, 31.71, 100.0)
    result = areas_m2([square, shapely.Polygon(), None, shapely.Point(74, 31)])
    assert result[0] == pytest.approx(10_000, rel=1e-3)
    assert result[1] == 0.0
    assert np.isnan(result[2])
    assert result[3] == 0.0
    assert areas_m2([]).shape == (0,)


def test_areas_m2_rejects_projected() -> None:
    with pytest.raises(InvalidArea):
        areas_m2([shapely.box(400_000, 3_500_000, 400_100, 3_500_100)])


def test_areas_m2_checks_every_vertex() -> None:
    # Centroid is plausible, but one vertex is not a longitude.
    bad = shapely.Polygon([(-200, 0), (200, 0), (200, 1), (-200, 1)])
    with pytest.raises(InvalidArea):
        areas_m2([bad])
    with pytest.raises(InvalidArea):
        area_m2(bad)


def test_areas_m2_large_batch() -> None:
    rng = np.random.default_rng(7)
    n = 100_000
    lon = rng.uniform(70.0, 75.0, n)
    lat = rng.uniform(29.0, 33.0, n)
    result = areas_m2(shapely.box(lon, lat, lon + 0.001, lat + 0.001))
    assert np.all((result > 9_000) & (result < 12_000))
