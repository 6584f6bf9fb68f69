"""Benchmark: coverage-weighted zonal means vs exactextract and rasterstats (issue 4).

Builds a seeded 10,000 x 10,000 float32 GeoTIFF (tiled 512x512, uncompressed) and
10,000 / 100,000 random irregular quadrilateral parcels (~20x20 to 40x40 pixels) in its
CRS, then times each tool in its own subprocess (so each phase's peak RSS, from
``resource.getrusage``, is its own). landgov's numba kernels are compiled in a warm-up
call before timing (compile time printed separately). rasterstats is not
coverage-weighted and is timed on the first 1,000 parcels, extrapolated linearly.

    .venv/bin/python bench/zonal_stats.py [--size 10000] [--counts 10000,100000]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RES, X0, Y0, CRS = 10.0, 300_000.0, 3_500_000.0, "EPSG:32642"


def make_data(tmp: Path, size: int, counts: list[int]) -> None:
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    rng = np.random.default_rng(42)
    with rasterio.open(
        tmp / "r.tif", "w", driver="GTiff", height=size, width=size, count=1,
        dtype="float32", crs=CRS, transform=from_origin(X0, Y0, RES, RES),
        tiled=True, blockxsize=512, blockysize=512,
    ) as ds:  # fmt: skip
        for r in range(0, size, 1024):
            h = min(1024, size - r)
            ds.write(rng.random((h, size), dtype=np.float32), 1,
                     window=((r, r + h), (0, size)))  # fmt: skip
    for n in counts:
        half = rng.uniform(10, 20, (n, 1)) * RES
        cx = X0 + rng.uniform(25, size - 25, (n, 1)) * RES
        cy = Y0 - rng.uniform(25, size - 25, (n, 1)) * RES
        jit = rng.uniform(-0.3, 0.3, (n, 4, 2)) * half[:, :, None]
        sx = np.array([-1, 1, 1, -1])
        sy = np.array([-1, -1, 1, 1])
        xs = cx + sx * half + jit[:, :, 0]
        ys = cy + sy * half + jit[:, :, 1]
        polys = shapely.polygons(np.stack([xs, ys], axis=-1))
        gpd.GeoDataFrame({"id": np.arange(n)}, geometry=polys, crs=CRS).to_file(tmp / f"p{n}.gpkg")


def phase(tool: str, tmp: Path, n: int) -> dict:
    import pyogrio

    gdf = pyogrio.read_dataframe(tmp / f"p{n}.gpkg")
    raster = str(tmp / "r.tif")
    out: dict = {"tool": tool, "n": n}
    if tool == "landgov":
        sys.path.insert(0, str(ROOT))
        from imagery.zonal import zonal_stats

        t = time.perf_counter()
        zonal_stats(raster, gdf.geometry[:2], stats="mean")
        out["compile_s"] = time.perf_counter() - t
        t = time.perf_counter()
        means = zonal_stats(raster, gdf.geometry, stats="mean")["mean"].to_numpy()
    elif tool == "exactextract":
        from exactextract import exact_extract

        t = time.perf_counter()
        res = exact_extract(raster, gdf, "mean", output="pandas")
        means = res["mean"].to_numpy()
    else:
        from rasterstats import zonal_stats as rs

        sub = gdf.iloc[:1000]
        t = time.perf_counter()
        means = np.array([d["mean"] for d in rs(sub, raster, stats="mean", all_touched=False)])
        out["measured_on"] = len(sub)
    out["seconds"] = time.perf_counter() - t
    if tool == "rasterstats":
        out["extrapolated_s"] = out["seconds"] * n / len(sub)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    np.save(tmp / f"{tool}{n}.npy", means)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=10_000)
    ap.add_argument("--counts", default="10000,100000")
    ap.add_argument("--phase", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.phase:
        tool, tmp, n = args.phase
        print(json.dumps(phase(tool, Path(tmp), int(n))))
        return
    counts = [int(c) for c in args.counts.split(",")]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t = time.perf_counter()
        make_data(tmp, args.size, counts)
        print(f"data: {args.size}x{args.size} float32 raster, parcels {counts} "
              f"built in {time.perf_counter() - t:.1f} s")  # fmt: skip
        for n in counts:
            rows = {}
            for tool in ("landgov", "exactextract", "rasterstats"):
                cmd = [sys.executable, __file__, "--phase", tool, str(tmp), str(n)]
                res = subprocess.run(cmd, capture_output=True, text=True, check=True)
                rows[tool] = json.loads(res.stdout.strip().splitlines()[-1])
                print(f"  {json.dumps(rows[tool])}", flush=True)
            ours = np.load(tmp / f"landgov{n}.npy")
            ee = np.load(tmp / f"exactextract{n}.npy")
            t_l = rows["landgov"]["seconds"]
            t_e = rows["exactextract"]["seconds"]
            t_r = rows["rasterstats"]["extrapolated_s"]
            print(
                f"n={n}: landgov {t_l:.2f} s (compile {rows['landgov']['compile_s']:.1f} s, "
                f"peak RSS {rows['landgov']['peak_rss_mb']:.0f} MB) | exactextract "
                f"{t_e:.2f} s ({rows['exactextract']['peak_rss_mb']:.0f} MB) | rasterstats "
                f"~{t_r:.1f} s extrapolated ({rows['rasterstats']['peak_rss_mb']:.0f} MB) | "
                f"vs exactextract {t_e / t_l:.2f}x, vs rasterstats {t_r / t_l:.1f}x | "
                f"max |mean - exactextract| {np.nanmax(np.abs(ours - ee)):.2e}"
            )


if __name__ == "__main__":
    main()
