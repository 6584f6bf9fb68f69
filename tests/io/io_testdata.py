"""Test data for the import/export tests: a tiny mouza and tiny files.

The mouza "Kot Nau" (hadbast 117) lies in tehsil Ferozewala, district Sheikhupura,
near 73.94°E 31.72°N (UTM zone 43N). Parcels are drawn in EPSG:32643 metres from the
origin below, 50 m x 40 m each (2,000 m², 712 standard sarsai = 3-19-1).

Officers, all posted since 2000-01-01: the patwari Muhammad Akram (who imports), the
girdawar Sajid Ali and the tehsildar Naveed Akhtar over tehsil Ferozewala (Kot Nau,
Jandiala); the tehsildar Khalid Mahmood over tehsil Muridke (mouza Dhamke) only.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import shapely
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.config import load_settings
from landgov.security import Actor
from landgov.storage.engine import get_engine

UTM43 = 32643
ORIGIN = (400_000.0, 3_510_000.0)  # 73.9445°E 31.7210°N
WIDTH, HEIGHT = 50.0, 40.0

ASLAM = "35401-1234567-1"  # Muhammad Aslam s/o Ghulam Rasool
BUSHRA = "35401-7654321-2"  # Bushra Bibi d/o Ghulam Rasool
TARIQ = "35401-1111111-3"  # Tariq Mehmood s/o Muhammad Aslam
OFFICER = "35401-9999999-1"  # Naveed Akhtar, tehsildar, Ferozewala
PATWARI = "35401-5555555-1"  # Muhammad Akram, patwari, Ferozewala: imports
GIRDAWAR = "35401-6666666-1"  # Sajid Ali, girdawar, Ferozewala
OUTSIDER = "35401-7777777-1"  # Khalid Mahmood, tehsildar, Muridke only
POSTED_FROM = "2000-01-01"

COUNTED_TABLES = ("khasra", "mutation", "mutation_line", "audit_log")


@dataclass(frozen=True)
class World:
    engine: Engine  # the application role, as the CLI
    mouza_id: int
    other_mouza_id: int
    khewats: dict[tuple[str, int], int]  # (mouza name, khewat number) -> id
    parties: dict[str, int]  # CNIC or custodian code -> id
    actor: Actor  # the patwari of Ferozewala, signed in
    officers: dict[str, int]  # CNIC -> officer id
    far_mouza_id: int  # Dhamke, in tehsil Muridke

    def counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return {
                t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
                for t in COUNTED_TABLES
            }


def owner_of(engine: Engine) -> Engine:
    """The owner role's engine of ``engine``'s database, for seeding rows directly (as
    conftest.owner_engine; a conftest cannot import another conftest reliably)."""
    return get_engine(load_settings(), str(engine.url.database), "owner")


def rect(i: int, *, dx: float = 0.0, dy: float = 0.0) -> shapely.Polygon:
    """The i-th 50 m x 40 m parcel east of the origin, in UTM 43N metres."""
    x0, y0 = ORIGIN[0] + i * WIDTH + dx, ORIGIN[1] + dy
    return shapely.box(x0, y0, x0 + WIDTH, y0 + HEIGHT)


def bow_tie(i: int) -> shapely.Polygon:
    """A parcel drawn with two corners swapped: two equal lobes, shoelace area 0."""
    x0, y0 = ORIGIN[0] + i * WIDTH, ORIGIN[1]
    return shapely.Polygon(
        [(x0, y0), (x0 + WIDTH, y0 + HEIGHT), (x0 + WIDTH, y0), (x0, y0 + HEIGHT)]
    )


def overshoot(i: int) -> shapely.Polygon:
    """A parcel whose last corner overshoots by 1 m, closing a 0.5 m² loop: fixable."""
    x0, y0 = ORIGIN[0] + i * WIDTH, ORIGIN[1]
    x1, y1 = x0 + WIDTH, y0 + HEIGHT
    return shapely.Polygon([(x0, y0), (x1, y0), (x1, y1), (x0 - 1, y1), (x0, y1 + 1), (x0, y0)])


ParcelRows = Sequence[dict[str, object]]


def to_file(
    path: Path,
    rows: ParcelRows,
    geoms: Sequence[shapely.Geometry | None],
    *,
    crs: int | str | None = UTM43,
    layer: str | None = None,
    **kwargs: object,
) -> Path:
    """Writes attribute rows and geometries to ``path`` with pyogrio."""
    gdf = gpd.GeoDataFrame(list(rows), geometry=list(geoms), crs=crs)
    with warnings.catch_warnings():
        # a Shapefile cuts unit_system to unit_syste, as real ones do; the importer knows
        warnings.filterwarnings("ignore", "Column names longer than 10", UserWarning)
        warnings.filterwarnings("ignore", "Normalized/laundered field name", RuntimeWarning)
        gdf.to_file(path, engine="pyogrio", layer=layer, **kwargs)
    return path


MUTATION_HEADER = (
    "mouza,mutation_no,type,status,entered_on,verified_on,decided_on,officer_cnic,"
    "rejection_reason,deed_number,deed_date,sub_registrar,consideration_rs,"
    "statutory_value_rs,fees_rs,khewat_no,line_no,transferor,transferee,share,right_type"
)
VERIFIER_HEADER = MUTATION_HEADER + ",verifier_cnic"
"""The register with its optional column (rows then pass ``verifier=``)."""


def mutation_row(
    *,
    mouza: str = "Kot Nau",
    no: object = 1,
    type: str = "sale",
    status: str = "entered",
    entered: str = "2024-01-10",
    verified: str = "",
    decided: str = "",
    officer: str = "",
    reason: str = "",
    deed: str = "",
    deed_date: str = "",
    registrar: str = "",
    consideration: str | None = None,
    statutory: str = "",
    fees: str = "",
    khewat: object = 1,
    line: object = 1,
    transferor: str = ASLAM,
    transferee: str = TARIQ,
    share: str = "1/4",
    right: str = "",
    verifier: str | None = None,
) -> str:
    if consideration is None:  # a sale needs its price (issue 19); other types have none
        consideration = "1250000" if type.lower() == "sale" else ""
    cells = [
        mouza,
        no,
        type,
        status,
        entered,
        verified,
        decided,
        officer,
        reason,
        deed,
        deed_date,
        registrar,
        consideration,
        statutory,
        fees,
        khewat,
        line,
        transferor,
        transferee,
        share,
        right,
    ]
    if verifier is not None:  # for VERIFIER_HEADER
        cells.append(verifier)
    return ",".join(f'"{c}"' if "," in str(c) else str(c) for c in cells)
