"""Benchmark: ``landgov imagery zonal`` end to end beside the in-process call (issue 17.5).

Builds its own seeded data: a 791 × 718 float32 GeoTIFF in UTM 43N with 30 m pixels (a
Landsat-like scene clipped to a few villages, 1 % of its pixels nodata) and 3,000
irregular quadrilateral parcels of ~3 to ~8 pixels a side, in a GeoPackage whose first
column (``mouza``) repeats and whose second (``khasra_no``) identifies each parcel, so
the command's default id column is exercised. Then, in one run, times:

* the command as a subprocess, process start to CSV written (``.venv/bin/landgov
  imagery zonal RASTER PARCELS --stats mean,count --out CSV``), median of ``--runs``:

  - *as installed here*: the environment as it is. This machine's venv holds no
    bytecode (``uv pip sync`` compiles none unless told ``--compile-bytecode``) and sets
    ``PYTHONDONTWRITEBYTECODE=1``, so Python compiles every module it imports from
    source on every run;
  - *with bytecode*: the same, with Python's bytecode cache kept in a private directory
    (``PYTHONPYCACHEPREFIX``) filled by one untimed run: what a venv installed with
    ``--compile-bytecode`` (or by pip, which compiles by default) gives;

  each *cold*, with an empty numba cache directory per run (a fresh clone), and *warm*,
  numba's cache filled by an untimed run (``NUMBA_CACHE_DIR``, numba's own variable);
* the peer, in process: ``imagery.zonal.zonal_stats`` on the same files (median of
  ``--runs`` calls), with the numpy twin the command uses at this size and with the
  numba kernels (compiled first);
* numba's own price in a fresh process: importing it and compiling the kernels with an
  empty cache, then importing it and loading them from that cache.

``--before DIR`` times another source tree's command too (its ``landgov`` and
``imagery`` packages first on ``PYTHONPATH``), run for run alternately with this
checkout's so that both see the same load on a shared machine, and says whether both
wrote the same CSV, byte for byte; e.g. the code before this change::

    git archive a17da31 landgov imagery | tar -x -C /tmp/before
    .venv/bin/python bench/zonal_cli.py --before /tmp/before

    .venv/bin/python bench/zonal_cli.py [--runs 5]

Each command run's CPU time (user + system, from ``getrusage``) is printed beside its
wall time: on a busy machine the wall time grows with the load, the CPU time much less.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT, RES = 791, 718, 30.0
X0, Y0, CRS = 300_000.0, 3_500_000.0, "EPSG:32643"
N_PARCELS = 3_000
STATS = "mean,count"


def make_data(tmp: Path, n: int = N_PARCELS, seed: int = 17) -> tuple[Path, Path]:
    """The seeded scene and parcels (see the module docstring); returns their paths."""
    import geopandas as gpd
    import rasterio
    import shapely
    from rasterio.transform import from_origin

    rng = np.random.default_rng(seed)
    raster = tmp / "scene.tif"
    with rasterio.open(
        raster, "w", driver="GTiff", height=HEIGHT, width=WIDTH, count=1, dtype="float32",
        crs=CRS, transform=from_origin(X0, Y0, RES, RES), nodata=-9999.0,
    ) as ds:  # fmt: skip
        band = rng.uniform(0.05, 0.9, (HEIGHT, WIDTH)).astype("float32")
        band[rng.random((HEIGHT, WIDTH)) < 0.01] = -9999.0  # a few cloud-masked pixels
        ds.write(band, 1)
    half = rng.uniform(1.5, 4.0, (n, 1)) * RES
    cx = X0 + rng.uniform(5, WIDTH - 5, (n, 1)) * RES
    cy = Y0 - rng.uniform(5, HEIGHT - 5, (n, 1)) * RES
    jit = rng.uniform(-0.3, 0.3, (n, 4, 2)) * half[:, :, None]
    sx, sy = np.array([-1, 1, 1, -1]), np.array([-1, -1, 1, 1])
    xs = cx + sx * half + jit[:, :, 0]
    ys = cy + sy * half + jit[:, :, 1]
    parcels = tmp / "parcels.gpkg"
    gpd.GeoDataFrame(
        {
            "mouza": [f"M-{i % 12:02d}" for i in range(n)],
            "khasra_no": [f"{1000 + i}/{i % 7 + 1}" for i in range(n)],
            "crop": rng.choice(["wheat", "cotton", "rice", "fallow"], n),
        },
        geometry=shapely.polygons(np.stack([xs, ys], axis=-1)),
        crs=CRS,
    ).to_file(parcels)
    return raster, parcels


def environment(src: Path | None, numba_cache: Path, pycache: Path | None) -> dict[str, str]:
    """The subprocess environment: source tree, numba cache, bytecode cache or none."""
    env = dict(os.environ, NUMBA_CACHE_DIR=str(numba_cache))
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(src), env.get("PYTHONPATH")]))
    if pycache is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def time_cli(
    landgov: str, raster: Path, parcels: Path, out: Path, env: dict[str, str]
) -> tuple[float, float]:
    """(wall, CPU) seconds from process start to exit of one ``landgov imagery zonal``."""
    out.unlink(missing_ok=True)
    cmd = [landgov, "imagery", "zonal", str(raster), str(parcels), "--stats", STATS,
           "--out", str(out)]  # fmt: skip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    res = subprocess.run(cmd, env=env, capture_output=True, text=True)
    took = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if res.returncode != 0 or not out.exists():
        sys.exit(f"landgov imagery zonal failed ({res.returncode}):\n{res.stdout}{res.stderr}")
    return took, cpu


NUMBA_PRICE = """
import time
import numpy as np, pandas, rasterio, shapely  # what imagery.zonal needs besides numba
from affine import Affine
t = time.perf_counter()
import numba
from imagery import zonal
square = (np.ones((4, 4), dtype="float32"), Affine(1, 0, 0, 0, -1, 0))
geoms = [shapely.box(0.5, -3.5, 3.5, -0.5)]
if "kernel" in zonal.zonal_stats.__code__.co_varnames:
    zonal.zonal_stats(square, geoms, kernel="numba")
else:  # the code before the numpy twin: numba always
    zonal.zonal_stats(square, geoms)
print(time.perf_counter() - t)
"""


def numba_price(src: Path | None, cache: Path) -> float:
    """Seconds to import numba and get the kernels (compiled or loaded) in a new process."""
    res = subprocess.run(
        [sys.executable, "-c", NUMBA_PRICE], env=environment(src, cache, None), cwd=src or ROOT,
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(res.stdout.strip().splitlines()[-1])


def in_process(raster: Path, parcels: Path, runs: int) -> dict[str, float]:
    """Median seconds of ``zonal_stats`` in this process, per kernel (compiled first)."""
    import pyogrio

    from imagery.zonal import zonal_stats

    geoms = pyogrio.read_dataframe(parcels).geometry
    kernels = ["auto", "numba"] if "kernel" in inspect.signature(zonal_stats).parameters else []
    found = {}
    for kernel in kernels or ["default"]:
        kw = {"kernel": kernel} if kernels else {}
        zonal_stats(str(raster), geoms[:2], stats=STATS, **kw)  # compile (or load) kernels
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            zonal_stats(str(raster), geoms, stats=STATS, **kw)
            times.append(time.perf_counter() - t)
        found[kernel] = statistics.median(times)
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--landgov", default=str(ROOT / ".venv" / "bin" / "landgov"))
    ap.add_argument("--before", type=Path, help="another source tree, timed alternately")
    args = ap.parse_args()
    trees: dict[str, Path | None] = {"this checkout": None}
    if args.before:
        trees = {"before": args.before.resolve(), **trees}
    sys.path.insert(0, str(ROOT))
    print(f"load average {os.getloadavg()[0]:.2f} at start; PYTHONDONTWRITEBYTECODE="
          f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")  # fmt: skip
    runs: dict[tuple[str, str, str], list[tuple[float, float]]] = {}
    digests: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        raster, parcels = make_data(tmp)
        outs = {name: tmp / f"zonal-{i}.csv" for i, name in enumerate(trees)}

        def timed(name: str, numba_cache: str, pycache: Path | None) -> tuple[float, float]:
            env = environment(trees[name], tmp / f"{name}-{numba_cache}", pycache)
            return time_cli(args.landgov, raster, parcels, outs[name], env)

        for mode in ("as installed here", "with bytecode"):
            pycaches = {n: tmp / f"pycache-{i}" if mode == "with bytecode" else None
                        for i, n in enumerate(trees)}  # fmt: skip
            for name in trees:  # untimed: bytecode (as at install) and numba's warm cache
                timed(name, f"warm-{mode}", pycaches[name])
            for i in range(args.runs):
                for name in trees:  # alternately: both trees see the same load
                    runs.setdefault((name, mode, "cold"), []).append(
                        timed(name, f"cold-{mode}-{i}", pycaches[name])
                    )
                    runs.setdefault((name, mode, "warm"), []).append(
                        timed(name, f"warm-{mode}", pycaches[name])
                    )
        for name, path in outs.items():
            digests[name] = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
        header = outs["this checkout"].open().readline().strip()
        lines = sum(1 for _ in outs["this checkout"].open()) - 1
        peer = in_process(raster, parcels, args.runs)
        first = numba_price(None, tmp / "numba-price")
        second = numba_price(None, tmp / "numba-price")
    print(f"data: {WIDTH} x {HEIGHT} float32, {RES:g} m, {CRS}; {N_PARCELS} parcels; "
          f"stats {STATS}; {args.runs} runs each")  # fmt: skip
    print(f"CSV: {lines} rows, columns {header}; sha256 "
          + ", ".join(f"{n} {h}" for n, h in digests.items())
          + ("" if len(set(digests.values())) == 1 else "  <- DIFFERENT"))  # fmt: skip
    summary = {}
    for (name, mode, cache), times in runs.items():
        wall = statistics.median(t for t, _ in times)
        cpu = statistics.median(c for _, c in times)
        summary[f"{name} | {mode} | {cache}"] = [round(wall, 3), round(cpu, 3)]
        print(f"CLI {name}, {mode}, {cache} numba cache: median {wall:.2f} s wall, "
              f"{cpu:.2f} s CPU (wall: {', '.join(f'{t:.2f}' for t, _ in times)})")  # fmt: skip
    for kernel, seconds in peer.items():
        print(f"in-process zonal_stats (this checkout), kernel={kernel}: median {seconds:.3f} s")
    print(f"numba in a new process: import + compile (empty cache) {first:.2f} s, "
          f"import + load from cache {second:.2f} s")  # fmt: skip
    print(f"load average {os.getloadavg()[0]:.2f} at end")
    print(json.dumps({"cli": summary, "in_process": peer, "numba": [first, second]}))


if __name__ == "__main__":
    main()
