"""Import throughput: landgov's validated importers against a plain load of the same file.

Run:  .venv/bin/python bench/import_throughput.py [--parcels 20000] [--lines 100000]
      (a quick check: --parcels 200 --lines 400)

Uses a throwaway database on the configured server (private cluster or
LANDGOV_DATABASE_URL), dropped afterwards. For each file it times

- landgov: ``import_parcels`` / ``import_mutations`` as production runs them: the
  application role, a signed-in patwari posted over the mouza (bound to the transaction,
  row-level security on), every row validated, reprojected, areas in UTM, officers'
  ranks and postings checked, one transaction, audit rows;
- the peer, in the same run on the same file: geopandas ``read_file`` + ``to_crs`` +
  ``to_postgis`` into an unconstrained table, and pandas ``read_csv`` + ``to_sql``
  (no checks at all; as the owner role, which may create tables) — the floor that
  validation adds to.

Prints rows/s for both and the ratio, plus the process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely
from sqlalchemy import text

from landgov.config import load_settings
from landgov.io import import_mutations, import_parcels
from landgov.security import Actor, login
from landgov.security.accounts import create_person
from landgov.storage import cluster, migrate
from landgov.storage.engine import get_engine

DB = "landgov_bench_import"
ORIGIN = (400_000.0, 3_510_000.0)  # UTM 43N near Sheikhupura
SELLER, BUYER, OFFICER = "35401-1234567-1", "35401-1111111-3", "35401-9999999-1"
PATWARI, GIRDAWAR = "35401-5555555-1", "35401-6666666-1"
PASSWORD = "bench import throughput 2024"
KHEWATS = 1000


def _seed_world(engine) -> None:  # type: ignore[no-untyped-def]
    """The bench mouza and its officers, as the owner role (the application role writes
    the record tables only for a bound actor)."""
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id)"
                " VALUES (2, 'district', 'Sheikhupura', 1), (3, 'tehsil', 'Ferozewala', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 3, 'Bench', 1);"
                "INSERT INTO khewat (mouza_id, number)"
                f" SELECT 1, g FROM generate_series(1, {KHEWATS}) g;"
                "INSERT INTO party (kind, cnic, name, gender)"
                f" VALUES ('person', '{SELLER}', 'A', 'male'),"
                f" ('person', '{BUYER}', 'B', 'male');"
                "INSERT INTO officer (id, name, designation, cnic)"
                f" VALUES (1, 'T', 'tehsildar', '{OFFICER}'), (2, 'P', 'patwari', '{PATWARI}'),"
                f" (3, 'G', 'girdawar', '{GIRDAWAR}');"
                "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from)"
                " VALUES (1, 3, '2000-01-01'), (2, 3, '2000-01-01'), (3, 3, '2000-01-01');"
            )
        )
        create_person(
            conn, username="bench.patwari", full_name="Bench Patwari", officer_cnic=PATWARI,
            password=PASSWORD,
        )  # fmt: skip


def _sign_in(engine) -> Actor:  # type: ignore[no-untyped-def]
    """The patwari (no second factor: a patwari cannot sanction)."""
    return login(engine, "bench.patwari", PASSWORD, channel="cli")


def _parcels_file(n: int, folder: Path) -> Path:
    side = int(n**0.5) + 1
    geoms = [
        shapely.box(
            ORIGIN[0] + (i % side) * 50,
            ORIGIN[1] + (i // side) * 40,
            ORIGIN[0] + (i % side) * 50 + 50,
            ORIGIN[1] + (i // side) * 40 + 40,
        )
        for i in range(n)
    ]
    gdf = gpd.GeoDataFrame(
        {
            "khasra_no": [str(i + 1) for i in range(n)],
            "land_class": ["nehri"] * n,
            "area_kms": ["3-19-1"] * n,
        },
        geometry=geoms,
        crs=32643,
    )
    path = folder / "parcels.gpkg"
    gdf.to_file(path, engine="pyogrio")
    return path


def _register_file(lines: int, folder: Path) -> Path:
    header = (
        "mouza,mutation_no,type,status,entered_on,verified_on,decided_on,officer_cnic,"
        "rejection_reason,deed_number,deed_date,sub_registrar,consideration_rs,"
        "statutory_value_rs,fees_rs,khewat_no,line_no,transferor,transferee,share,"
        "right_type,verifier_cnic"
    )
    rows = [header]
    per = 4
    for m in range(1, lines // per + 1):
        for line in range(1, per + 1):
            rows.append(
                f"Bench,{m},sale,sanctioned,2024-01-10,2024-01-20,2024-02-01,{OFFICER},,"
                f"D-{m},2024-01-09,Sheikhupura,1500000,1400000,30000,"
                f"{(m % KHEWATS) + 1},{line},{SELLER},{BUYER},1/16,ownership,{GIRDAWAR}"
            )
    path = folder / "register.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def _timed(fn):  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parcels", type=int, default=20_000)
    parser.add_argument("--lines", type=int, default=100_000)
    args = parser.parse_args()

    settings = load_settings()
    if settings.uses_private_cluster:
        cluster.up(settings)
    cluster.drop_database(settings, DB)
    cluster.ensure_database(settings, DB)
    owner = get_engine(settings, DB, "owner")
    engine = get_engine(settings, DB)  # the application role, as the CLI
    try:
        migrate.migrate(owner)
        _seed_world(owner)
        actor = _sign_in(engine)
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            gpkg = _parcels_file(args.parcels, folder)
            csv = _register_file(args.lines, folder)

            ours = _timed(lambda: import_parcels(engine, gpkg, mouza="Bench", actor=actor))
            peer = _timed(
                lambda: (
                    gpd.read_file(gpkg, engine="pyogrio")
                    .to_crs(4326)
                    .to_postgis("peer_parcels", owner, if_exists="replace")
                )
            )
            _report(
                "parcels (GeoPackage, UTM 43N → 4326)",
                args.parcels,
                ours,
                peer,
                "geopandas read_file + to_crs + to_postgis, no checks",
            )

            ours = _timed(lambda: import_mutations(engine, csv, actor=actor))
            peer = _timed(
                lambda: pd.read_csv(csv, dtype=str).to_sql(
                    "peer_register",
                    owner,
                    if_exists="replace",
                    index=False,
                    chunksize=2_000,
                    method="multi",
                )
            )
            _report(
                "mutation register lines (CSV)",
                args.lines,
                ours,
                peer,
                "pandas read_csv + to_sql(method='multi'), no checks",
            )
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS of the whole run: {peak:.0f} MiB")
    finally:
        engine.dispose()
        owner.dispose()
        cluster.drop_database(settings, DB)


def _report(what: str, n: int, ours: float, peer: float, peer_name: str) -> None:
    print(f"{what}: {n:,} rows")
    print(f"  landgov (validated, one transaction): {ours:6.2f} s  {n / ours:>10,.0f} rows/s")
    print(f"  peer ({peer_name}): {peer:6.2f} s  {n / peer:>10,.0f} rows/s")
    print(f"  landgov / peer time: {ours / peer:.2f}×")


if __name__ == "__main__":
    main()
