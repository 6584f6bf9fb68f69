"""The demo district: three mouzas near Sheikhupura with 24 years of records.

``build_demo(engine, out_dir, seed, actor=...)`` generates the district deterministically
from the seed (:mod:`~landgov.demo.generate`), loads it into the database in one
transaction as the demo's batch service (:mod:`~landgov.demo.load`), makes login accounts
for its officers and staff (:mod:`~landgov.demo.accounts`: ``accounts.txt``, 0600) and
writes it as files with the ground truth of its planted anomalies
(:mod:`~landgov.demo.files`). A second build of the same seed finds the demo's audit row
and returns at once.

Modules: :mod:`~landgov.demo.admin` (hierarchy, officers), :mod:`~landgov.demo.layout`
(canal-colony geometry), :mod:`~landgov.demo.people` (families, CNICs),
:mod:`~landgov.demo.settlement` (2002 khewats and shares), :mod:`~landgov.demo.history`
(mutations 2003-2026), :mod:`~landgov.demo.inheritance` (the simple Hanafi case),
:mod:`~landgov.demo.anomalies` (planting, ground truth), :mod:`~landgov.demo.records`
(jamabandi, girdawari), :mod:`~landgov.demo.valuation` (DC rates), and the synthetic
imagery the demo's models learn from: :mod:`~landgov.demo.imagery_s2` (Sentinel-2 L2A
scenes with crops, yields and clouds) and :mod:`~landgov.demo.imagery_ortho` (orthophotos
with planted structures).
"""

from __future__ import annotations

import csv
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine

from landgov.demo.accounts import TEXT_NAME, create_demo_accounts
from landgov.demo.load import (
    CAPABILITY,
    DemoConflict,
    check_current,
    check_empty,
    database_counts,
    demo_marker,
    load,
)
from landgov.demo.spec import file_names
from landgov.security import Actor, authorize

if TYPE_CHECKING:
    from landgov.demo.generate import Demo, generate


def __getattr__(name: str) -> Any:
    # the generator pulls in numpy, shapely and geopandas: import it only when needed,
    # so a build that finds the demo loaded answers at once
    if name in ("Demo", "generate"):
        from landgov.demo import generate as module

        return getattr(module, name)
    raise AttributeError(name)


__all__ = ["Demo", "DemoConflict", "DemoReport", "build_demo", "generate"]


@dataclass
class DemoReport:
    """What a build did, with counts of what the database holds."""

    seed: int
    out_dir: Path
    fingerprint: str
    loaded: bool  # False: this seed's demo was already in the database
    elapsed_s: float
    counts: dict[str, int]
    anomalies: dict[str, int]  # kind -> planted count
    files_written: list[Path] = field(default_factory=list)
    accounts: int = 0  # demo login accounts listed in accounts_file
    accounts_file: Path | None = None

    def summary(self) -> str:
        c = self.counts
        what = (
            f"{c['mouzas']} mouzas near Sheikhupura, {c['khasras']:,} khasras "
            f"({c['live_khasras']:,} live), {c['khewats']:,} khewats, "
            f"{c['parties']:,} parties, {c['officers']} officers, {c['mutations']:,} "
            f"mutations ({c['first_year']}-{c['last_year']}) with "
            f"{c['mutation_lines']:,} lines, {c['shares']:,} share rows and "
            f"{c['girdawari']:,} girdawari rows"
        )
        planted = (
            f"{sum(self.anomalies.values())} planted anomalies of "
            f"{len(self.anomalies)} kinds are listed in "
            f"{self.out_dir / 'ground_truth.csv'}"
        )
        if self.loaded:
            head = f"Built the demo district (seed {self.seed}) in {self.elapsed_s:.1f} s: "
            tail = f". Files are in {self.out_dir}."
        else:
            head = (
                f"The demo district (seed {self.seed}, fingerprint "
                f"{self.fingerprint[:12]}) is already in the database, nothing was "
                f"loaded ({self.elapsed_s:.1f} s): "
            )
            tail = (
                f". Missing files were written again to {self.out_dir}."
                if self.files_written
                else f". Files are in {self.out_dir}."
            )
        login = ""
        if self.accounts_file is not None:
            login = (
                f" {self.accounts} demo accounts (officers, admin, analyst, auditor) with "
                f"their passwords and TOTP secrets are in {self.accounts_file} (mode 0600): "
                "sign in with `landgov login USERNAME` or on the dashboard."
            )
        return f"{head}{what}; {planted}{tail}{login}"


def _anomaly_counts_from_file(path: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    if path.exists():
        with path.open(encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                counts[row["kind"]] = counts.get(row["kind"], 0) + 1
    return counts


def build_demo(
    engine: Engine, out_dir: Path, seed: int = 42, *, progress: Any = None, actor: Actor
) -> DemoReport:
    """Generates, loads and writes the demo district of ``seed`` as ``actor``; idempotent.

    ``actor`` is the demo's batch service (``svc_demo``: capability
    ``records.load_demo``), the only account that writes records in every mouza. If the
    database already holds this seed's demo (its audit row), nothing is loaded and only
    missing files (and accounts) are made again. Files go to ``out_dir``: one GeoPackage
    of parcels per mouza, ``state_land.gpkg``, ``mutations.csv``, ``dc_rates.csv``,
    ``ground_truth.csv``, ``README.md`` and the demo's login accounts, ``accounts.txt``
    and ``accounts.json`` (mode 0600).

    Raises:
        AccessDenied: ``actor`` may not build the demo (rule ``role``).
        DemoConflict: the database holds other land records, another seed's demo, or
            this seed's demo from an older generator.
    """
    start = time.perf_counter()
    out_dir = Path(out_dir)
    with engine.connect() as conn:
        authorize(conn, actor, CAPABILITY)  # before generating anything
        marker = demo_marker(conn, seed)
        if marker is None:
            check_empty(conn, seed)  # fail before generating (load checks again, locked)
    if marker is not None:
        check_current(marker, seed)
        written: list[Path] = []
        if not all((out_dir / n).exists() for n in file_names()):
            from landgov.demo.files import write_files
            from landgov.demo.generate import generate

            demo = generate(seed, progress)
            written = write_files(demo.world, out_dir, demo.fingerprint)
        accounts = create_demo_accounts(engine, actor, out_dir)
        return DemoReport(
            seed,
            out_dir,
            str(marker.get("fingerprint", "")),
            False,
            time.perf_counter() - start,
            database_counts(engine),
            _anomaly_counts_from_file(out_dir / "ground_truth.csv"),
            written,
            len(accounts),
            out_dir / TEXT_NAME,
        )
    from landgov.demo.files import write_files
    from landgov.demo.generate import generate

    demo = generate(seed, progress)
    loaded = load(engine, demo, actor, progress)
    written = write_files(demo.world, out_dir, demo.fingerprint)
    accounts = create_demo_accounts(engine, actor, out_dir)
    anomalies: dict[str, int] = {}
    for a in demo.world.anomalies:
        anomalies[a.kind] = anomalies.get(a.kind, 0) + 1
    counts = demo.counts() if loaded else database_counts(engine)
    return DemoReport(
        seed,
        out_dir,
        demo.fingerprint,
        loaded,
        time.perf_counter() - start,
        counts,
        anomalies,
        written,
        len(accounts),
        out_dir / TEXT_NAME,
    )
