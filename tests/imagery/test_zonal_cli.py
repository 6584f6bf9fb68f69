"""``landgov imagery zonal`` keeps the parcels' own ids, and starts without what it does
not use (issue 17, point 5)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from test_zonal import CRS, box, write_tif
from typer.testing import CliRunner

from imagery.zonal import zonal_stats
from landgov.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
runner = CliRunner()


@pytest.fixture
def raster(tmp_path: Path) -> str:
    values = np.random.default_rng(5).random((30, 40)).astype("float32")
    return write_tif(tmp_path / "r.tif", values)


def parcels_file(tmp_path: Path, columns: dict[str, list], name: str = "p.gpkg") -> Path:
    """Four parcels (the last outside the raster) with the given attribute columns."""
    geoms = [box(0, 0, 2, 2), box(5, 5, 6.5, 6), box(10, 3, 13, 7.5), box(90, 90, 91, 91)]
    path = tmp_path / name
    gpd.GeoDataFrame(columns, geometry=geoms, crs=CRS).to_file(path)
    return path


def zonal(raster: str, parcels: Path, out: Path, *args: str) -> tuple[int, str, str]:
    res = runner.invoke(
        app, ["imagery", "zonal", raster, str(parcels), "--stats", "mean,count",
              "--out", str(out), *args],
    )  # fmt: skip
    return res.exit_code, res.stdout, res.stderr


def read(out: Path) -> pd.DataFrame:
    return pd.read_csv(out, dtype=str, keep_default_na=False)


def test_default_is_the_first_column_that_identifies_each_parcel(raster, tmp_path):
    # mouza repeats, the area is unique only by accident (decimals are never keys):
    # the vendor's own khasra number is the first identifying column
    vec = parcels_file(tmp_path, {
        "mouza": ["Kot", "Kot", "Pur", "Pur"],
        "area_m2": [400.0, 150.0, 1350.0, 100.0],
        "KHASRA_NO": ["12/1", "12/2", "7", "-3+1"],
        "plot": [4, 1, 2, 3],
    })  # fmt: skip
    out = tmp_path / "z.csv"
    code, stdout, _ = zonal(raster, vec, out)
    assert code == 0, stdout
    got = read(out)
    assert list(got.columns) == ["KHASRA_NO", "mean", "count"]
    # in file order; a text id that a spreadsheet would run is neutralised
    assert got["KHASRA_NO"].tolist() == ["12/1", "12/2", "7", "'-3+1"]
    assert "identified by KHASRA_NO" in stdout
    # the statistics are those of the in-process call, digit for digit
    peer = zonal_stats(raster, gpd.read_file(vec).geometry, stats="mean,count")
    exact = pd.read_csv(out)  # pandas writes and reads floats round-trip
    pd.testing.assert_frame_equal(exact[["mean", "count"]], peer, check_exact=True)


def test_an_integer_column_can_be_the_default(raster, tmp_path):
    vec = parcels_file(tmp_path, {"crop": ["w", "w", "c", "c"], "plot_id": [40, 10, 20, 30]})
    out = tmp_path / "z.csv"
    assert zonal(raster, vec, out)[0] == 0
    assert read(out)["plot_id"].tolist() == ["40", "10", "20", "30"]


def test_id_columns_are_copied_in_the_order_given(raster, tmp_path):
    # neither column identifies a parcel alone; together they do
    vec = parcels_file(tmp_path, {
        "khasra": ["1", "2", "1", "2"], "mouza": ["Kot", "Kot", "Pur", "Pur"],
        "owner": ["a", "b", "c", "d"],
    })  # fmt: skip
    out = tmp_path / "z.csv"
    code, stdout, _ = zonal(raster, vec, out, "--id-column", "mouza", "--id-column", "khasra")
    assert code == 0, stdout
    got = read(out)
    assert list(got.columns) == ["mouza", "khasra", "mean", "count"]
    assert list(zip(got["mouza"], got["khasra"], strict=True)) == [
        ("Kot", "1"), ("Kot", "2"), ("Pur", "1"), ("Pur", "2")
    ]  # fmt: skip
    assert got["count"].tolist()[-1] == "0.0"  # the parcel outside the raster keeps its row


def test_the_deprecated_id_field_still_works(raster, tmp_path):
    vec = parcels_file(tmp_path, {"a": [1, 2, 3, 4], "khasra_id": [7, 8, 9, 10]})
    out = tmp_path / "z.csv"
    code, _, stderr = zonal(raster, vec, out, "--id-field", "khasra_id")
    assert code == 0
    assert read(out)["khasra_id"].tolist() == ["7", "8", "9", "10"]
    assert "--id-field is deprecated" in stderr
    code, _, stderr = zonal(raster, vec, out, "--id-field", "a", "--id-column", "a")
    assert code == 1 and "give only --id-column" in stderr


def test_a_file_without_an_identifying_column_falls_back_to_the_row(raster, tmp_path):
    vec = parcels_file(tmp_path, {"mouza": ["Kot", "Kot", "Pur", "Pur"],
                                  "area": [1.0, 2.0, 3.0, 4.0]})  # fmt: skip
    out = tmp_path / "z.csv"
    code, stdout, stderr = zonal(raster, vec, out)
    assert code == 0, stdout
    got = read(out)
    assert list(got.columns) == ["row", "mean", "count"]
    assert got["row"].tolist() == ["1", "2", "3", "4"]
    assert f"no column of {vec} identifies each parcel" in stderr


@pytest.mark.parametrize(
    ("columns", "args", "message"),
    [
        ({"k": ["1", "2", "3", "4"]}, ["--id-column", "khasra"],
         "p.gpkg: no column 'khasra' (columns: k)"),
        ({"k": ["1", "2", "1", "1"]}, ["--id-column", "k"],
         "id column k does not identify each parcel: '1' on rows 1, 3, 4"),
        ({"m": ["a", "a", "b", "b"], "k": [1, 2, 1, 1]}, ["--id-column", "m", "--id-column", "k"],
         "id columns m, k do not identify each parcel: ('b', 1) on rows 3, 4"),
        ({"k": ["1", None, "3", None]}, ["--id-column", "k"],
         "id column k empty on row(s) 2, 4"),
        ({"mean": ["1", "2", "3", "4"]}, ["--id-column", "mean"],
         "id column 'mean' has the name of a requested statistic"),
        ({"k": ["1", "2", "3", "4"]}, ["--id-column", "geometry"], "'geometry' is the geometry"),
        ({"k": ["1", "2", "3", "4"]}, ["--id-column", "k", "--id-column", "k"],
         "'k' given more than once"),
    ],
)  # fmt: skip
def test_bad_id_columns_are_refused_and_nothing_is_written(
    raster, tmp_path, columns, args, message
):
    vec = parcels_file(tmp_path, columns)
    out = tmp_path / "z.csv"
    code, _, stderr = zonal(raster, vec, out, *args)
    assert code == 1
    assert message in " ".join(stderr.split()), stderr
    assert not out.exists()


def test_many_repeated_ids_are_summarised(raster, tmp_path):
    vec = parcels_file(tmp_path, {"k": ["x", "x", "x", "x"]})
    frame = gpd.read_file(vec)
    big = gpd.GeoDataFrame(  # 8 parcels: 6 times 'x', then 'y' twice
        {"k": ["x"] * 6 + ["y"] * 2},
        geometry=list(frame.geometry) * 2,
        crs=frame.crs,
    )
    big.to_file(vec)
    code, _, stderr = zonal(raster, vec, tmp_path / "z.csv", "--id-column", "k")
    assert code == 1
    assert "'x' on 6 rows (1, 2, 3, 4, 5, ...); 'y' on rows 7, 8" in " ".join(stderr.split())


def test_the_command_imports_neither_numba_nor_the_heavy_stacks(raster, tmp_path):
    """Run in a fresh interpreter: what the command imports is what a user waits for."""
    vec = parcels_file(tmp_path, {"k": ["1", "2", "3", "4"]})
    script = f"""
import json, sys
from typer.testing import CliRunner
from landgov.cli.main import app
res = CliRunner().invoke(app, ["imagery", "zonal", {raster!r}, {str(vec)!r},
                               "--out", {str(tmp_path / "z.csv")!r}])
assert res.exit_code == 0, res.output
loaded = sorted(m for m in ("numba", "torch", "streamlit", "lightgbm") if m in sys.modules)
import imagery.zonal as z
z.NUMPY_MAX_CELLS = 0  # any input is now "large": auto takes the numba kernels
big = z.zonal_stats({raster!r}, [z.shapely.box(500010, 2999700, 500300, 2999990)])
print(json.dumps({{"loaded": loaded, "numba": "numba" in sys.modules,
                   "means": int(big["mean"].notna().sum())}}))
"""
    res = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                         text=True, timeout=300)  # fmt: skip
    assert res.returncode == 0, res.stderr
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got == {"loaded": [], "numba": True, "means": 1}
