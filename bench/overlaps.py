"""Benchmark: PostGIS overlap and gap detectors vs geopandas sjoin + overlay.

Generates N parcels as a grid of jittered 50 m quadrilaterals in UTM 43N around 74 E
31.7 N (neighbours share jittered lattice corners, so they tile exactly), grouped into
mouzas of 100 x 100 cells; plants N / 4000 overlaps (a parcel's east edge pushed 5 m
into its neighbour) and N / 4000 gaps (an east edge pulled back 3 m). Loads them with
COPY into a scratch database (created and dropped here), then times
:func:`landgov.disputes.spatial.overlaps` and :func:`~landgov.disputes.spatial.gaps`,
first on one connection, then with :func:`~landgov.disputes.spatial.run_partitioned` (the
mouzas split over ``--workers`` connections reading one snapshot, as ``landgov disputes
scan`` runs them), and the peer (geopandas sjoin predicate=intersects + overlay
how=intersection, and a unary_union for gaps) on the first ``--peer-n`` parcels. Peak
memory is the RSS high-water mark of this process (the peer) or of the PostgreSQL
backend (ours, from /proc, where readable).

    .venv/bin/python bench/overlaps.py [--n 1000000] [--peer-n 100000] [--workers 2]
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

BLOCK = 100  # cells per mouza side
CELL = 50.0
X0, Y0 = 400_000.0, 3_507_000.0


def make(n: int, seed: int = 42) -> tuple[list[object], np.ndarray, set[int], set[int]]:
    """Parcels in UTM (shapely), their mouza ids, planted overlap and gap parcel indices."""
    import shapely

    side = int(np.ceil(np.sqrt(n)))
    rng = np.random.default_rng(seed)
    lx = X0 + CELL * np.arange(side + 1)[:, None] + rng.uniform(-3, 3, (side + 1, side + 1))
    ly = Y0 + CELL * np.arange(side + 1)[None, :] + rng.uniform(-3, 3, (side + 1, side + 1))
    idx = np.arange(n)
    i, j = idx // side, idx % side
    k = max(1, n // 4000)
    inner = idx[
        (i % BLOCK > 1)
        & (i % BLOCK < BLOCK - 2)
        & (j % BLOCK > 1)
        & (j % BLOCK < BLOCK - 2)
        & (i < side - 2)
    ]
    picks = rng.choice(inner, size=min(2 * k, len(inner)), replace=False)
    over, gap = set(picks[:k].tolist()), set(picks[k:].tolist())
    shift = np.zeros(n)
    shift[list(over)] = 5.0
    shift[list(gap)] = -3.0
    xs = np.stack([lx[i, j], lx[i + 1, j] + shift, lx[i + 1, j + 1] + shift, lx[i, j + 1]], 1)
    ys = np.stack([ly[i, j], ly[i + 1, j], ly[i + 1, j + 1], ly[i, j + 1]], 1)
    coords = np.stack([xs, ys], 2)
    polys = shapely.polygons(coords)
    mouza = (i // BLOCK) * ((side + BLOCK - 1) // BLOCK) + (j // BLOCK) + 1
    return list(polys), mouza, over, gap


def load(
    engine: object, polys: list[object], mouza: np.ndarray, land_class: list[str] | None = None
) -> float:
    """COPYs the parcels (EPSG:4326, record area in sarsai) into mouzas of one tehsil;
    ``land_class`` per parcel (default all nehri). Returns the seconds taken."""
    import shapely
    from pyproj import Transformer
    from sqlalchemy import text

    t0 = time.perf_counter()
    to_ll = Transformer.from_crs("EPSG:32643", "EPSG:4326", always_xy=True)
    arr = np.array(polys, dtype=object)
    areas = shapely.area(arr)
    ll = shapely.multipolygons(
        shapely.transform(
            arr, lambda c: np.column_stack(to_ll.transform(c[:, 0], c[:, 1]))
        ).reshape(-1, 1)
    )
    hexes = shapely.to_wkb(shapely.set_srid(ll, 4326), hex=True, include_srid=True)
    sarsai = np.maximum(1, np.round(areas / (30.25 * 0.3048**2))).astype(int)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        conn.execute(text(
            "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
            " (1, 'province', 'Punjab', NULL), (2, 'district', 'Bench', 1),"
            " (3, 'tehsil', 'Bench', 2)"
        ))  # fmt: skip
        for m in np.unique(mouza):
            conn.execute(
                text(
                    "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                    " VALUES (:m, 3, :name, :m)"
                ),
                {"m": int(m), "name": f"M{m}"},
            )
        conn.execute(text("DROP INDEX khasra_geom_gix"))
        raw = conn.connection.driver_connection
        buf = io.StringIO()
        classes = land_class or ["nehri"] * len(polys)
        rows = zip(mouza, hexes, areas, sarsai, classes, strict=True)
        for q, (m, h, a, s, c) in enumerate(rows):
            buf.write(f"{q + 1}\t{m}\t{q + 1}\t{q + 1}\t{c}\t{s}\tstandard\t{a}\t{h}\tbench\n")
        with raw.cursor().copy(
            "COPY khasra (id, mouza_id, number, main_number, land_class, record_area_sarsai,"
            " unit_system, geom_area_m2, geom, source) FROM STDIN"
        ) as cp:
            cp.write(buf.getvalue())
        conn.execute(text("CREATE INDEX khasra_geom_gix ON khasra USING gist (geom)"))
        conn.execute(text("ANALYZE khasra"))
    return time.perf_counter() - t0


def peer(polys: list[object]) -> tuple[float, int, float, int]:
    import geopandas as gpd
    import shapely

    t0 = time.perf_counter()
    df = gpd.GeoDataFrame({"pid": np.arange(len(polys))}, geometry=polys, crs="EPSG:32643")
    df["area"] = df.area
    pairs = gpd.sjoin(df, df, predicate="intersects")
    pairs = pairs[pairs["pid_left"] < pairs["pid_right"]]
    cand = set(pairs["pid_left"]) | set(pairs["pid_right"])
    sub = df[df["pid"].isin(cand)]
    ov = gpd.overlay(sub, sub, how="intersection", keep_geom_type=True)
    ov = ov[ov["pid_1"] < ov["pid_2"]]
    ov = ov[ov.area > 0.01 * np.minimum(ov["area_1"], ov["area_2"])]
    t_over = time.perf_counter() - t0
    t0 = time.perf_counter()
    u = shapely.unary_union(df.geometry.values)
    holes = [shapely.Polygon(r) for p in getattr(u, "geoms", [u]) for r in p.interiors]
    gaps = [h for h in holes if h.area > 50 or h.area / h.length < 0.5]
    return t_over, len(ov), time.perf_counter() - t0, len(gaps)


@contextmanager
def scratch_database(name: str) -> Iterator[Any]:
    """A migrated database ``name`` on the configured server (dropped first if left by an
    earlier run), dropped again afterwards.

    Yields the OWNER role's engine: a benchmark seeds a million parcels with COPY and
    drops and rebuilds indexes (DDL), which the application role may not do, and writes
    record tables without a signed-in officer, which row-level security refuses to the
    application role (sql/018). Creating and dropping the database takes the superuser.
    """
    from landgov.config import load_settings
    from landgov.storage import cluster, migrate
    from landgov.storage.engine import get_engine

    settings = load_settings()
    cluster.drop_database(settings, name)
    cluster.ensure_database(settings, name)  # owned by the owner role, with PostGIS
    engine = get_engine(settings, name, "owner")
    try:
        migrate.migrate(engine)
        yield engine
    finally:
        engine.dispose()
        cluster.drop_database(settings, name)


def service_actor(engine: Any, name: str) -> Any:
    """The batch service ``name`` of the scratch database, signed in with its key (kept in
    a temporary folder for the run), as the CLI's jobs sign in."""
    import tempfile

    from landgov.security import service_login
    from landgov.security.accounts import provision_services, service_key_path

    folder = Path(tempfile.mkdtemp(prefix="landgov-bench-keys-"))
    provision_services(engine, folder)
    return service_login(engine, name, service_key_path(folder, name).read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--peer-n", type=int, default=100_000)
    ap.add_argument(
        "--workers",
        type=int,
        default=0,
        help="connections for the partitioned run (default: CPU count)",
    )
    args = ap.parse_args()

    from sqlalchemy import text

    from landgov.disputes import spatial

    with scratch_database("landgov_bench_overlaps") as engine:
        t0 = time.perf_counter()
        polys, mouza, over, gap = make(args.n)
        print(
            f"generated {args.n} parcels in {time.perf_counter() - t0:.1f} s "
            f"({len(over)} overlaps, {len(gap)} gaps planted)"
        )
        print(f"COPY + index: {load(engine, polys, mouza):.1f} s")
        rows = []
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
            conn.execute(text("SET max_parallel_workers_per_gather = 2"))
            for label, fn in (("ours overlaps", spatial.overlaps), ("ours gaps", spatial.gaps)):
                t0 = time.perf_counter()
                found = fn(conn)
                dt = time.perf_counter() - t0
                try:
                    with open(f"/proc/{pid}/status") as fh:
                        hwm = next(ln for ln in fh if ln.startswith("VmHWM")).split()[1]
                    mem = f"{int(hwm) / 1024:.0f} MiB (backend)"
                except OSError:
                    mem = "n/a"
                rows.append((label, args.n, dt, len(found), mem))
                if fn is spatial.gaps:
                    # moving an edge also tilts its neighbours' shared edges: thin
                    # triangles beside every planted parcel are real gaps of the data
                    planted = {q + 1 for q in over | gap}
                    for r in ("gap", "sliver"):
                        mine = [f for f in found if f["rule"] == r]
                        near = sum(bool(planted & set(f["khasra_ids"])) for f in mine)
                        print(f"{r}: {len(mine)}, {near} touching a planted parcel")
        workers = args.workers or os.cpu_count() or 1
        with engine.begin() as conn:
            for label, fn in (("ours overlaps", spatial.overlaps), ("ours gaps", spatial.gaps)):
                t0 = time.perf_counter()
                found = spatial.run_partitioned(conn, fn, workers=workers)
                dt = time.perf_counter() - t0
                rows.append((f"{label} x{workers}", args.n, dt, len(found),
                             f"{workers} backends"))  # fmt: skip
        m = min(args.peer_n, args.n)
        t_o, n_o, t_g, n_g = peer(polys[:m])
        rss = f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB (process)"
        rows.append(("geopandas sjoin+overlay", m, t_o, n_o, rss))
        rows.append(("shapely unary_union gaps", m, t_g, n_g, rss))
        print(f"{'method':26} {'n':>9} {'seconds':>9} {'found':>7}  peak memory")
        for label, n, dt, f, mem in rows:
            print(f"{label:26} {n:>9} {dt:>9.2f} {f:>7}  {mem}")


if __name__ == "__main__":
    main()
