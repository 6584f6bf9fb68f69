"""Per-parcel series: zonal statistics per scene into parcel_zonal, batch, datacube, CLI."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from catalog_support import origin, use_db, write_raster
from pyproj import Transformer
from security_support import owner_engine, service_actor
from shapely.geometry import MultiPolygon, Polygon
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from imagery.batch import mouza_datacube, run_batch
from imagery.ingest import ingest
from imagery.series import parcel_phenology, parcel_series

STAMPS = ("20250115T054211", "20250301T054211", "20250415T054211", "20250601T054211")
CLOUDY = 1  # the second date is cloudy over parcel 2
# parcels as (col0, row0, col1, row1) on the 10 m grid (half-open)
BOXES = {1: (2, 2, 6, 6), 2: (10, 2, 16, 8), 3: (2, 12, 8, 18)}


def _b08(t: int) -> np.ndarray:
    cols = np.arange(20, dtype=np.float64)
    return np.tile(1500 + 300 * t + 20 * cols, (20, 1))


def _write_scenes(folder: Path) -> list[Path]:
    paths = []
    for t, stamp in enumerate(STAMPS):
        pre = folder / f"T43RCQ_{stamp}"
        b08 = _b08(t).astype("uint16")[None]
        for b in ("B02", "B03", "B04"):  # DN 1500 = reflectance 0.05 after the -1000 offset
            paths.append(write_raster(Path(f"{pre}_{b}_10m.tif"),
                                      data=np.full((1, 20, 20), 1500, dtype="uint16")))  # fmt: skip
        paths.append(write_raster(Path(f"{pre}_B08_10m.tif"), data=b08))
        for b in ("B8A", "B11"):
            paths.append(write_raster(Path(f"{pre}_{b}_20m.tif"), size=10, res=20.0,
                                      data=np.full((1, 10, 10), 1200, dtype="uint16")))  # fmt: skip
        scl = np.full((1, 10, 10), 4, dtype="uint8")
        if t == CLOUDY:
            scl[0, 1:2, 5:8] = 9  # 10 m rows 2-3, cols 10-15: top third of parcel 2
        paths.append(write_raster(Path(f"{pre}_SCL_20m.tif"), size=10, res=20.0,
                                  dtype="uint8", data=scl))  # fmt: skip
    return paths


def _setup(engine: Engine, tmp_path: Path) -> Path:
    x, y = origin()
    to_ll = Transformer.from_crs("EPSG:32643", "EPSG:4326", always_xy=True)
    with owner_engine(engine).begin() as conn:  # seeding records: the owner, not the app
        conn.execute(text(
            "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
            " (1, 'province', 'Punjab', NULL), (2, 'district', 'Sheikhupura', 1),"
            " (3, 'tehsil', 'Sheikhupura', 2);"
            "INSERT INTO mouza (id, tehsil_id, name, hadbast_number) VALUES (1, 3, 'Kot Test', 17)"
        ))  # fmt: skip
        for kid, (c0, r0, c1, r1) in BOXES.items():
            xs = [x + 10 * c0, x + 10 * c1, x + 10 * c1, x + 10 * c0]
            ys = [y - 10 * r0, y - 10 * r0, y - 10 * r1, y - 10 * r1]
            poly = Polygon(zip(xs, ys, strict=True))
            geom = MultiPolygon([Polygon(zip(*to_ll.transform(xs, ys), strict=True))])
            conn.execute(
                text(
                    "INSERT INTO khasra (id, mouza_id, number, main_number, land_class,"
                    " record_area_sarsai, unit_system, geom_area_m2, geom, source) VALUES"
                    " (:id, 1, :no, :id, 'nehri', 100, 'standard', :area,"
                    " ST_GeomFromText(:wkt, 4326), 'test')"
                ),
                {"id": kid, "no": str(kid), "area": poly.area, "wkt": geom.wkt},
            )
    home = tmp_path / "home"
    ingest(
        engine, _write_scenes(tmp_path / "in"), home=home, actor=service_actor(engine, "imagery")
    )
    return home


def _rows(engine: Engine) -> list[tuple]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text(
            "SELECT khasra_id, scene_id, index, mean, median, std, count, valid_fraction"
            " FROM parcel_zonal ORDER BY khasra_id, scene_id"
        ))]  # fmt: skip


def test_parcel_series_means_cloud_and_rerun(engine: Engine, tmp_path: Path) -> None:
    home = _setup(engine, tmp_path)
    ds = parcel_series(engine, mouza=1, index="ndvi", home=home)
    assert dict(ds.sizes) == {"parcel": 3, "time": 4}
    assert list(ds["khasra_id"].values) == [1, 2, 3]
    assert set(ds.data_vars) >= {"mean", "median", "std", "count", "valid_fraction"}
    c0, _, c1, _ = BOXES[1]
    for t in range(4):
        b08 = _b08(t)[0, c0:c1]
        nir, red = (b08 - 1000) * 1e-4, (1500 - 1000) * 1e-4  # L2A baseline >= 04.00
        expected = np.mean((nir - red) / (nir + red))
        assert ds["mean"].values[0, t] == pytest.approx(expected, abs=2e-3)
        assert ds["valid_fraction"].values[0, t] == pytest.approx(1.0)
    vf = ds["valid_fraction"].values[1, CLOUDY]
    assert 0.5 < vf < 0.8  # 2 of 6 rows clouded
    assert ds["valid_fraction"].values[1, 0] == pytest.approx(1.0)
    assert len(_rows(engine)) == 12

    with engine.begin() as conn:  # mark a value so a recompute would be visible
        conn.execute(text("UPDATE parcel_zonal SET mean = 42 WHERE khasra_id = 1"))
    again = parcel_series(engine, mouza="Kot Test", index="ndvi", home=home)
    assert len(_rows(engine)) == 12
    assert np.all(again["mean"].values[0] == 42)

    ndmi = parcel_series(engine, mouza=1, index="ndmi", home=home)  # on the 20 m grid
    np.testing.assert_allclose(ndmi["mean"].values[0], 0.0, atol=1e-9)
    assert len(_rows(engine)) == 24

    pheno = parcel_phenology(ds)
    assert list(pheno["khasra_id"]) == [1, 2, 3]
    assert {"start", "peak", "end"} <= set(pheno.columns)


def test_run_batch_matches_serial_and_datacube(engine: Engine, tmp_path: Path) -> None:
    from dask.distributed import LocalCluster

    home = _setup(engine, tmp_path)
    parcel_series(engine, mouza=1, index="ndvi", home=home)
    serial = _rows(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM parcel_zonal"))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False) as cluster:
        report = run_batch(engine, [1], index="ndvi", home=home, scheduler=cluster)
        assert report.tasks == 4 and report.rows == 12
        again = run_batch(engine, [1], index="ndvi", home=home, scheduler=cluster)
        assert again.tasks == 0
    batch = _rows(engine)
    assert [r[:3] for r in batch] == [r[:3] for r in serial]
    for a, b in zip(batch, serial, strict=True):
        np.testing.assert_allclose(
            np.array(a[3:], dtype=float), np.array(b[3:], dtype=float), equal_nan=True
        )

    cube = mouza_datacube(engine, 1, home=home, chunks={"x": 8, "y": 8})
    assert cube.sizes["time"] == 4
    assert cube["B04"].chunks is not None
    assert "ndvi" in cube and cube["ndvi"].chunks is not None


def test_cli_series_writes_csv(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    from landgov.cli.main import app

    home = _setup(engine, tmp_path)
    use_db(engine, home, monkeypatch)
    out = tmp_path / "series.csv"
    result = CliRunner().invoke(
        app, ["imagery", "series", "--mouza", "1", "--index", "ndvi", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    frame = pd.read_csv(out)
    assert len(frame) == 12
    assert {"khasra_id", "time", "mean", "valid_fraction"} <= set(frame.columns)
    result = CliRunner().invoke(app, ["imagery", "phenology", "--mouza", "1", "--json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("sensor", "when", "expected"),
    [
        ("sentinel-2", "2025-01-15", (1e-4, -1000.0)),  # baseline 04.00 and later
        ("sentinel-2", "2021-06-01", (1e-4, 0.0)),  # before the offset was introduced
        ("landsat-9", "2025-01-15", (2.75e-5, -0.2 / 2.75e-5)),
        ("orthophoto", "2025-01-15", (1.0, 0.0)),
    ],
)
def test_radiometry_follows_sensor_and_date(
    sensor: str, when: str, expected: tuple[float, float]
) -> None:
    import datetime as dt

    import pystac

    from imagery.series import radiometry

    item = pystac.Item(
        id="x",
        geometry=None,
        bbox=None,
        datetime=dt.datetime.fromisoformat(when).replace(tzinfo=dt.UTC),
        properties={"landgov:sensor": sensor},
    )
    assert radiometry(item) == pytest.approx(expected)


def test_cli_batch_default_local_cluster_of_processes(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The default path: no --scheduler starts a 2-process LocalCluster, every mouza."""
    from landgov.cli.main import app

    home = _setup(engine, tmp_path)
    parcel_series(engine, mouza=1, index="ndvi", home=home)
    serial = _rows(engine)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM parcel_zonal"))
    use_db(engine, home, monkeypatch)
    result = CliRunner().invoke(app, ["imagery", "batch", "--index", "ndvi"])
    assert result.exit_code == 0, result.output
    assert "4 task(s), 4 scene(s) written, 12 row(s)" in result.output
    batch = _rows(engine)
    assert [r[:3] for r in batch] == [r[:3] for r in serial]
    for a, b in zip(batch, serial, strict=True):
        np.testing.assert_allclose(
            np.array(a[3:], dtype=float), np.array(b[3:], dtype=float), equal_nan=True
        )
    again = CliRunner().invoke(app, ["imagery", "batch", "--index", "ndvi"])
    assert again.exit_code == 0 and "0 task(s)" in again.output


def test_cli_batch_scheduler_address_and_netcdf(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--scheduler tcp://… reaches an external scheduler; series --out FILE.nc round-trips."""
    import xarray as xr
    from dask.distributed import LocalCluster

    from landgov.cli.main import app

    home = _setup(engine, tmp_path)
    use_db(engine, home, monkeypatch)
    with LocalCluster(
        n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", scheduler_port=0
    ) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tcp://")
        result = CliRunner().invoke(
            app, ["imagery", "batch", "--mouza", "Kot Test", "--index", "ndvi",
                  "--index", "ndmi", "--scheduler", address],
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "ndvi: 4 task(s)" in result.output and "ndmi: 4 task(s)" in result.output
    nc = tmp_path / "series.nc"
    result = CliRunner().invoke(
        app, ["imagery", "series", "--mouza", "1", "--index", "ndmi", "--out", str(nc)]
    )
    assert result.exit_code == 0, result.output
    ds = xr.open_dataset(nc)
    assert ds.sizes["parcel"] == 3 and ds.sizes["time"] == 4
    assert "mean" in ds


def test_cli_batch_without_mouzas_is_a_clean_error(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from landgov.cli.main import app

    use_db(engine, tmp_path, monkeypatch)
    result = CliRunner().invoke(app, ["imagery", "batch"])
    assert result.exit_code != 0
    assert "no mouza" in result.output
