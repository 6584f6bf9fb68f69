"""Exact coverage-weighted zonal statistics (``imagery.zonal``) and its CLI."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import rasterio
import shapely
from rasterio.transform import Affine, from_origin
from typer.testing import CliRunner

from imagery import zonal
from imagery.zonal import STATS, ZonalError, zonal_stats

X0, Y0, RES = 500_000.0, 3_000_000.0, 10.0
TR = from_origin(X0, Y0, RES, RES)
CRS = "EPSG:32642"


def cell(col: float, row: float) -> tuple[float, float]:
    return X0 + col * RES, Y0 - row * RES


def box(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    (x0, y0), (x1, y1) = cell(c0, r1), cell(c1, r0)
    return shapely.box(x0, y0, x1, y1)


@pytest.fixture
def arr() -> np.ndarray:
    return np.random.default_rng(1).random((30, 40)).astype("float32")


def write_tif(path, arr, nodata=None) -> str:
    with rasterio.open(
        path, "w", driver="GTiff", height=arr.shape[0], width=arr.shape[1], count=1,
        dtype=arr.dtype, crs=CRS, transform=TR, nodata=nodata,
    ) as ds:  # fmt: skip
        ds.write(arr, 1)
    return str(path)


def test_one_cell_and_half_cell(arr):
    tri = shapely.Polygon([cell(3, 5), cell(4, 5), cell(3, 4)])
    res = zonal_stats((arr, TR), [box(3, 4, 4, 5), tri], stats="count,mean,valid_fraction")
    assert res["count"].tolist() == pytest.approx([1.0, 0.5], abs=1e-12)
    assert res["mean"].tolist() == pytest.approx([arr[4, 3]] * 2)
    assert res["valid_fraction"].tolist() == [1.0, 1.0]


def test_hole_and_orientation(arr):
    ring = box(2, 2, 8, 8)
    hole = box(4, 4, 6, 6)
    poly = shapely.Polygon(ring.exterior.coords, [hole.exterior.coords])
    rev = shapely.Polygon(ring.exterior.coords[::-1], [hole.exterior.coords[::-1]])
    res = zonal_stats((arr, TR), [poly, rev], stats=["count", "sum"])
    sub = arr[2:8, 2:8].astype(float).sum() - arr[4:6, 4:6].astype(float).sum()
    assert res["count"].tolist() == pytest.approx([32.0, 32.0])
    assert res["sum"].tolist() == pytest.approx([sub, sub])


def test_edge_outside_multipolygon(arr):
    crossing = box(-1.5, -2, 1.5, 1)  # covers 1.5 columns x 1 row inside
    outside = box(50, 50, 52, 52)
    multi = shapely.MultiPolygon([box(0, 0, 1, 1), box(10.5, 10, 11, 11)])
    res = zonal_stats((arr, TR), [crossing, outside, multi], stats="count,mean,valid_fraction")
    assert res["count"].tolist() == pytest.approx([1.5, 0.0, 1.5])
    assert res["mean"][0] == pytest.approx((arr[0, 0] + 0.5 * arr[0, 1]) / 1.5)
    assert math.isnan(res["mean"][1]) and math.isnan(res["valid_fraction"][1])
    assert res["mean"][2] == pytest.approx((arr[0, 0] + 0.5 * arr[10, 10]) / 1.5)


def test_nodata_mask_and_other_stats(arr, tmp_path):
    a = arr.copy()
    a[0, 0] = -9999
    path = write_tif(tmp_path / "r.tif", a, nodata=-9999)
    poly = box(0, 0, 2, 1)
    res = zonal_stats(path, [poly], stats="count,mean,valid_fraction,min,max,median,std")
    assert res["count"][0] == pytest.approx(1.0)
    assert res["mean"][0] == pytest.approx(a[0, 1])
    assert res["valid_fraction"][0] == pytest.approx(0.5)
    assert res["median"][0] == res["min"][0] == res["max"][0] == a[0, 1]
    assert res["std"][0] == 0.0
    mask = np.zeros(a.shape, bool)
    mask[0, 1] = True
    res = zonal_stats((a, TR), [poly], stats="count,mean", nodata=-9999, mask=mask)
    assert res["count"][0] == 0.0 and math.isnan(res["mean"][0])
    # weighted median / std on two cells with weights 1 and 0.5
    res = zonal_stats((arr, TR), [box(3, 3, 4.5, 4)], stats="median,std")
    v0, v1 = float(arr[3, 3]), float(arr[3, 4])
    mean = (v0 + 0.5 * v1) / 1.5
    assert res["median"][0] == v0
    assert res["std"][0] == pytest.approx(
        math.sqrt((((v0 - mean) ** 2) + 0.5 * (v1 - mean) ** 2) / 1.5)
    )


def test_errors(arr):
    with pytest.raises(ZonalError, match="unknown statistic"):
        zonal_stats((arr, TR), [box(0, 0, 1, 1)], stats="mean,mode")
    with pytest.raises(ZonalError, match="rotated"):
        zonal_stats((arr, TR @ Affine.rotation(10)), [box(0, 0, 1, 1)])
    with pytest.raises(ZonalError, match="band"):
        zonal_stats((arr[None], TR), [box(0, 0, 1, 1)], band=2)
    with pytest.raises(ZonalError, match="unknown kernel"):
        zonal_stats((arr, TR), [box(0, 0, 1, 1)], kernel="gpu")  # type: ignore[arg-type]


def random_polygons(n: int, rng) -> gpd.GeoSeries:
    polys = []
    for _ in range(n):
        cx, cy = rng.uniform(-5, 45), rng.uniform(-5, 35)
        ang = np.sort(rng.uniform(0, 2 * np.pi, 8))
        rad = rng.uniform(0.2, 6, 8)
        ring = np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]
        poly = shapely.Polygon([cell(c, r) for c, r in ring]).buffer(0)
        if rng.random() < 0.2:
            poly = poly.difference(shapely.Point(cell(cx, cy)).buffer(RES * 0.8))
        polys.append(poly)
    return gpd.GeoSeries(polys, crs=CRS)


def test_against_exactextract(arr, tmp_path):
    exactextract = pytest.importorskip("exactextract")
    geoms = random_polygons(200, np.random.default_rng(7))
    path = write_tif(tmp_path / "r.tif", arr)
    ours = zonal_stats(path, geoms, stats="count,mean")
    strips = zonal_stats(path, geoms, stats="count,mean", strip_rows=4)
    inmem = zonal_stats((arr, TR), geoms, stats="count,mean")
    ee = exactextract.exact_extract(
        path, gpd.GeoDataFrame(geometry=geoms), ["count", "mean"], output="pandas"
    )
    pd.testing.assert_frame_equal(ours, strips)
    pd.testing.assert_frame_equal(ours, inmem)
    # exactextract keeps coverage fractions in float32: counts agree to ~1e-7 relative,
    # means (a ratio, where that rounding largely cancels) to ~1e-8.
    np.testing.assert_allclose(ours["count"], ee["count"], rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(ours["mean"], ee["mean"], rtol=1e-7, atol=1e-7)
    inside = shapely.intersection(geoms.values, shapely.box(*cell(0, 30), *cell(40, 0)))
    exact = shapely.area(inside) / RES**2  # no nodata: count is the covered area
    np.testing.assert_allclose(ours["count"], exact, rtol=1e-9, atol=1e-9)


def test_cli_contract(arr, tmp_path):
    from landgov.cli.main import app

    path = write_tif(tmp_path / "r.tif", arr)
    parcels = gpd.GeoDataFrame(
        {"khasra_id": ["K-1", "K-2", "K-3"]},
        geometry=[box(0, 0, 2, 2), box(5, 5, 6.5, 6), box(90, 90, 91, 91)],
        crs=CRS,
    ).to_crs(4326)
    vec = tmp_path / "parcels.gpkg"
    parcels.to_file(vec)
    out = tmp_path / "z.csv"
    runner = CliRunner()
    res = runner.invoke(
        app, ["imagery", "zonal", path, str(vec), "--band", "1", "--stats", "mean,count",
              "--out", str(out)],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    got = pd.read_csv(out)
    assert list(got.columns) == ["khasra_id", "mean", "count"]
    assert got["khasra_id"].tolist() == ["K-1", "K-2", "K-3"]
    np.testing.assert_allclose(got["count"], [4.0, 1.5, 0.0], atol=1e-6)
    assert got["mean"][0] == pytest.approx(arr[:2, :2].astype(float).mean(), abs=1e-6)
    for bad, msg in ((["--stats", "mean,mode"], "unknown statistic"), (["--band", "3"], "band")):
        res = runner.invoke(app, ["imagery", "zonal", path, str(vec), *bad, "--out", str(out)])
        assert res.exit_code == 1 and msg in res.output
    res = runner.invoke(app, ["imagery", "zonal", path, str(tmp_path / "nope.gpkg")])
    assert res.exit_code == 1 and "cannot read parcels" in res.output


def awkward_polygons(rng) -> list:
    """Random polygons plus the cases the kernels branch on: edges on grid lines and
    horizontal ones, windows cut by the raster's edges, a MultiPolygon, a clockwise shell
    with a hole wound the same way, an empty and a missing geometry, one outside."""
    shell = list(box(10, 10, 14, 13).exterior.coords)[::-1]
    hole = list(box(11, 11, 12, 12).exterior.coords)[::-1]
    return [
        *random_polygons(150, rng),
        box(3, 4, 4, 5), box(2.5, 3, 7, 3.5), box(-2, -2, 3, 3), box(38, 28, 45, 33),
        shapely.MultiPolygon([box(1, 1, 2, 2), box(5, 5, 7.5, 6)]),
        shapely.Polygon(shell, [hole]), shapely.Polygon(), None, box(90, 90, 91, 91),
    ]  # fmt: skip


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_numpy_twin_is_bit_for_bit_the_numba_kernel(seed, tmp_path, monkeypatch):
    rng = np.random.default_rng(seed)
    a = rng.random((30, 40)).astype("float32")
    a[rng.random(a.shape) < 0.1] = -9999
    a[rng.random(a.shape) < 0.05] = np.nan
    ints = rng.integers(0, 4, (30, 40)).astype("uint8")  # ties for the median; 0 = nodata
    mask = rng.random(a.shape) < 0.05
    geoms = awkward_polygons(rng)
    for data, nodata in ((a, -9999), (ints, 0)):
        kw = {"stats": list(STATS), "nodata": nodata, "mask": mask}
        ref = zonal_stats((data, TR), geoms, kernel="numba", **kw).to_numpy()
        twin = zonal_stats((data, TR), geoms, kernel="numpy", **kw).to_numpy()
        np.testing.assert_array_equal(twin, ref)  # exact; NaN where numba has NaN
        assert np.isfinite(ref[:, 2]).sum() > 100  # most polygons have statistics
        path = write_tif(tmp_path / f"r{seed}{data.dtype}.tif", data, nodata=nodata)
        strips = zonal_stats(path, geoms, kernel="numpy", strip_rows=4, **kw).to_numpy()
        np.testing.assert_array_equal(strips, ref)
        with monkeypatch.context() as m:
            m.setattr(zonal, "_NP_CHUNK_CELLS", 40)  # one polygon or a few a block
            blocks = zonal_stats((data, TR), geoms, kernel="numpy", **kw).to_numpy()
        np.testing.assert_array_equal(blocks, ref)
    # the helpers the auto choice runs before it knows which kernel it wants
    px, py, ring_off, is_hole, g0, g1 = zonal._flatten(geoms, TR)
    np.testing.assert_array_equal(
        zonal._np_bboxes(px, py, ring_off, g0, g1, 30, 40),
        zonal._bboxes(px, py, ring_off, g0, g1, 30, 40),
    )
    np.testing.assert_array_equal(
        zonal._np_ring_mults(px, py, ring_off, is_hole),
        zonal._ring_mults(px, py, ring_off, is_hole),
    )
