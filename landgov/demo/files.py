"""The demo district as files: parcels, state land, the mutation register, DC rates,
the ground truth of planted anomalies and a README.

Files are byte-identical for the same seed: rows are written in a fixed order, CSVs with
``\\n`` line ends, and GeoPackages with a fixed timestamp (GDAL's ``OGR_CURRENT_DATE``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import geopandas as gpd
import pyogrio

from landgov.demo.model import AS_OF, DEED_REQUIRED_FROM, World
from landgov.domain import KanalMarlaSarsai, format_kms, format_share
from landgov.io.mutations import COLUMNS as REGISTER_COLUMNS

# the demo's register is written in exactly the format the importer reads
MUTATION_COLUMNS = REGISTER_COLUMNS
GROUND_TRUTH_COLUMNS = (
    "anomaly_id",
    "signal",
    "kind",
    "mouza",
    "khewat_no",
    "khasra_no",
    "mutation_no",
    "party_cnic",
    "details",
)
MARKET_TRUTH_COLUMNS = (
    "mouza",
    "mutation_no",
    "kind",
    "market_value_rs",
    "declared_rs",
    "statutory_value_rs",
)
CONTACT_COLUMNS = ("cnic", "phone", "language", "opted_in_on", "opted_out_on")
FIXED_TIMESTAMP = f"{AS_OF.isoformat()}T00:00:00Z"


@contextmanager
def _fixed_gdal_date() -> Iterator[None]:
    previous = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_TIMESTAMP})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": previous})


def _csv(path: Path, header: tuple[str, ...], rows: list[list[object]]) -> None:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(["" if v is None else v for v in row] for row in rows)
    path.write_bytes(buf.getvalue().encode("utf-8"))


def _gpkg(path: Path, layer: str, frame: gpd.GeoDataFrame) -> None:
    if path.exists():
        path.unlink()
    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG")


def write_files(world: World, out_dir: Path, fingerprint: str) -> list[Path]:
    """Writes every demo file into ``out_dir`` (created if needed); returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with _fixed_gdal_date():
        for mouza in world.mouzas:
            live = sorted(
                (k for k in world.khasras if k.mouza_id == mouza.id and k.retired_on is None),
                key=lambda k: k.number.sort_key,
            )
            frame = gpd.GeoDataFrame(
                {
                    "khasra_no": [str(k.number) for k in live],
                    "land_class": [k.land_class for k in live],
                    "area_kms": [
                        format_kms(KanalMarlaSarsai.from_sarsai(k.record_area_sarsai)) for k in live
                    ],
                },
                geometry=[k.geom for k in live],
                crs="EPSG:4326",
            )
            path = out_dir / f"parcels_{mouza.slug}.gpkg"
            _gpkg(path, "parcels", frame)
            written.append(path)
        frame = gpd.GeoDataFrame(
            {
                "mouza": [world.mouza(s.mouza_id).name for s in world.state_land],
                "category": [s.category for s in world.state_land],
                "custodian": [s.custodian for s in world.state_land],
                "name": [s.name for s in world.state_land],
                "notification": [s.notification for s in world.state_land],
            },
            geometry=[s.geom for s in world.state_land],
            crs="EPSG:4326",
        )
        path = out_dir / "state_land.gpkg"
        _gpkg(path, "state_land", frame)
        written.append(path)

    def code(pid: int | None) -> str | None:
        if pid is None:
            return None
        p = world.party(pid)
        return p.cnic if p.kind == "person" else p.custodian

    officers = {o.id: o.cnic for o in world.officers}
    rows: list[list[object]] = []
    for m in world.mutations:
        for n, line in enumerate(m.lines, start=1):
            rows.append(
                [
                    world.mouza(m.mouza_id).name,
                    m.number,
                    m.type,
                    m.status,
                    m.entered_on,
                    m.verified_on,
                    m.decided_on,
                    officers.get(m.officer_id or 0),
                    m.rejection_reason,
                    m.deed_number,
                    m.deed_date,
                    m.sub_registrar,
                    m.consideration_rs,
                    m.statutory_value_rs,
                    m.fees_rs,
                    world.khewat(line.khewat_id).number,
                    n,
                    code(line.transferor),
                    code(line.transferee),
                    format_share(line.share),
                    line.right_type,
                ]
            )
    path = out_dir / "mutations.csv"
    _csv(path, MUTATION_COLUMNS, rows)
    written.append(path)

    path = out_dir / "dc_rates.csv"
    _csv(
        path,
        ("year", "land_class", "rs_per_acre"),
        [[year, cls, rate] for (year, cls), rate in sorted(world.dc_rates.items())],
    )
    written.append(path)

    rows = []
    for a in world.anomalies:
        rows.append(
            [
                a.anomaly_id,
                a.signal,
                a.kind,
                world.mouza(a.mouza_id).name,
                None if a.khewat_id is None else world.khewat(a.khewat_id).number,
                ";".join(str(world.khasra(k).number) for k in a.khasra_ids) or None,
                None if a.mutation is None else a.mutation.number,
                None if a.party_id is None else code(a.party_id),
                a.details,
            ]
        )
    path = out_dir / "ground_truth.csv"
    _csv(path, GROUND_TRUTH_COLUMNS, rows)
    written.append(path)

    path = out_dir / "market_truth.csv"
    _csv(
        path,
        MARKET_TRUTH_COLUMNS,
        [
            [
                world.mouza(s.mutation.mouza_id).name,
                s.mutation.number,
                s.kind,
                s.market_value_rs,
                s.declared_rs,
                s.mutation.statutory_value_rs,
            ]
            for s in sorted(
                world.market_sales, key=lambda s: (s.mutation.mouza_id, s.mutation.number)
            )
        ],
    )
    written.append(path)

    path = out_dir / "farmer_contacts.csv"
    _csv(path, CONTACT_COLUMNS, farmer_contacts(world))
    written.append(path)

    path = out_dir / "README.md"
    path.write_bytes(readme(world, fingerprint).encode("utf-8"))
    written.append(path)
    return written


def farmer_contacts(world: World) -> list[list[object]]:
    """Phones and SMS consent of the owners on the demo's today (invented, from their own
    random stream so the records stay as they are): 85 % opted in during 2024-25, a few
    of those opted out since; three in four read Urdu."""
    import random

    rnd = random.Random(f"landgov-demo-contacts-{world.seed}")
    owners = sorted(
        {s.party_id for s in world.shares if s.valid_to is None and s.right_type == "ownership"}
    )
    rows: list[list[object]] = []
    for pid in owners:
        p = world.party(pid)
        if p.kind != "person" or p.cnic is None or not p.alive_on(AS_OF):
            continue
        phone = f"03{rnd.choice('01234')}{rnd.randrange(10**8):08d}"  # Jazz … Telenor
        lang = "ur" if rnd.random() < 0.75 else "en"
        opted_in = opted_out = None
        if rnd.random() < 0.85:
            opted_in = date(2024, 1, 1) + timedelta(days=rnd.randrange(700))
            if rnd.random() < 0.05:
                opted_out = opted_in + timedelta(days=rnd.randrange(30, 300))
        rows.append([p.cnic, phone, lang, opted_in, opted_out])
    return rows


def readme(world: World, fingerprint: str) -> str:
    kinds: dict[tuple[int, str], int] = {}
    for a in world.anomalies:
        kinds[(a.signal, a.kind)] = kinds.get((a.signal, a.kind), 0) + 1
    anomaly_lines = "\n".join(f"| {s} | {k} | {n} |" for (s, k), n in sorted(kinds.items()))
    mouzas = "\n".join(
        f"- {m.name} ({m.name_ur}), hadbast {m.hadbast}: `parcels_{m.slug}.gpkg`"
        for m in world.mouzas
    )
    return f"""# landgov demo district (seed {world.seed})

Generated by `landgov demo` (`landgov.demo.build_demo`); the same seed gives
byte-identical files and identical database rows. Everything here is invented.
Fingerprint of the database rows: `{fingerprint}`.

Three mouzas of Sheikhupura tehsil (Punjab > Lahore division > Sheikhupura district >
Sheikhupura tehsil > qanungo halqa Kot Rehmat), around 31.71 N, 73.98 E (UTM 43N):

{mouzas}

## Files

- `parcels_<mouza>.gpkg`, layer `parcels`: the khasras live on {AS_OF.isoformat()}, with
  fields `khasra_no`, `land_class` and `area_kms` (record area as kanal-marla-sarsai),
  MultiPolygons in EPSG:4326.
- `state_land.gpkg`, layer `state_land`: road and canal rights-of-way, shamlat, forest;
  fields `mouza`, `category`, `custodian`, `name`, `notification`.
- `mutations.csv`: the mutation register, one row per mutation line (columns below).
- `dc_rates.csv`: the demo District Collector rates: `year`, `land_class`, `rs_per_acre`.
- `ground_truth.csv`: every planted anomaly (columns below).
- `market_truth.csv`: every sale's market value, what was declared and why
  (`arms_length`, `co_owner`, `declared_at_dc`: declared at the DC value though the
  market paid far more, or `set_by_anomaly`); the market model is in
  `landgov/demo/market.py`. Columns: {", ".join(MARKET_TRUTH_COLUMNS)}.
- `farmer_contacts.csv`: the owners' (invented) mobile numbers, language and SMS consent
  for the advisories (`landgov advisories contacts load`). Columns:
  {", ".join(CONTACT_COLUMNS)}.
- `accounts.txt` and `accounts.json` (mode 0600; made by the build for this database, not
  generated from the seed): the demo's login accounts, one per officer (`tehsildar.1`,
  `patwari.2`...: bound to the officer, acting only where and while posted) and `admin`,
  `analyst`, `auditor`, with their passwords and TOTP secrets. Keep them private.

`mutations.csv` columns: {", ".join(MUTATION_COLUMNS)}. `transferor` and `transferee`
are CNICs, or custodian codes (e.g. `highways`) for state bodies; `share` is the fraction
of the whole khewat (`7/24`); a line with only a transferee creates a right, one with
only a transferor ends it. Dates are ISO `YYYY-MM-DD`.

`ground_truth.csv` columns: {", ".join(GROUND_TRUTH_COLUMNS)}. `signal` is the number
of the dispute or fraud signal in docs/domain.md §6; `khasra_no` may list several
khasras separated by `;` (an overlap names both parcels); `party_cnic` is the person the
anomaly is about (seller, donor, deceased, or the heir left out); `details` says what
was planted. Where one planted fault implies another signal (a double sale or an
over-transfer over-allocates its khewat) the implied signal has its own row.

## Conventions

- Killa 198 ft × 220 ft (1 acre), murabba 5 × 5 killas; khasra numbers `murabba//killa`,
  tatima parcels `45//12/1`. Killas are numbered 1-25 in serpentine order from the
  north-west corner (north row west to east, next row east to west, ...). Road, canal,
  abadi and forest parcels have ordinary numbers.
- Settlement (first jamabandi) in 2002; mutations from 2003 to {AS_OF.isoformat()};
  the demo's "today" is {AS_OF.isoformat()} (later decisions are still pending).
- From {DEED_REQUIRED_FROM.isoformat()} every transfer except inheritance carries a
  registered deed (domain.md §4), except where that rule is broken on purpose.
- Inheritance uses the demo's simple Hanafi case (spouse and children, sons twice
  daughters, children of a predeceased child take its share).

## Planted anomalies

| signal | kind | count |
|---|---|---|
{anomaly_lines}
"""
