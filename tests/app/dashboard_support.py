"""Helpers shared by the dashboard tests (tests/app is on sys.path under pytest)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import shapely
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.domain import UnitSystem, area_m2, m2_to_sarsai

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "app" / "dashboard.py"


def database_url(engine: Engine) -> str:
    """The full URL of ``engine``'s database, password included, for LANDGOV_DATABASE_URL."""
    return engine.url.render_as_string(hide_password=False)


@dataclass(frozen=True)
class TinyMouza:
    mouza_id: int
    label: str
    khasras: dict[str, int]  # number -> record area in sarsai
    geom_m2: dict[str, float]
    khewat_number: int
    cnics: tuple[str, str]
    masked: tuple[str, str]


def _square(lon: float, lat: float, size: float = 0.0006) -> shapely.MultiPolygon:
    return shapely.MultiPolygon([shapely.box(lon, lat, lon + size, lat + size)])


def insert_tiny_mouza(engine: Engine) -> TinyMouza:
    """One mouza, 3 khasras, khewat 5 holding two of them, owned 1/3 and 2/3."""
    geoms = {
        "11": _square(74.3000, 31.5000),
        "12": _square(74.3006, 31.5000),
        "45//12/1": _square(74.3000, 31.5006, 0.0004),
    }
    areas = {no: area_m2(g) for no, g in geoms.items()}
    # the register area: the map area to the nearest sarsai, plus a little for realism
    record = {no: m2_to_sarsai(a, UnitSystem.STANDARD) + 3 for no, a in areas.items()}
    parts = {"11": (None, 11, "{}"), "12": (None, 12, "{}"), "45//12/1": (45, 12, "{1}")}
    land = {"11": "nehri", "12": "chahi", "45//12/1": "abadi"}
    cnics = ("35202-1234567-1", "35202-7654321-2")
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (2, 'district', 'Lahore', 1), (3, 'tehsil', 'Raiwind', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 3, 'Kot Test', 7);"
                "INSERT INTO khewat (id, mouza_id, number) VALUES (1, 1, 5);"
            )
        )
        for kid, (no, geom) in enumerate(geoms.items(), start=1):
            murabba, main, tatima = parts[no]
            conn.execute(
                text(
                    "INSERT INTO khasra (id, mouza_id, number, murabba, main_number, tatima,"
                    " land_class, record_area_sarsai, unit_system, geom_area_m2, geom, source)"
                    " VALUES (:id, 1, :no, :murabba, :main, CAST(:tatima AS integer[]), :lc,"
                    " :rec, 'standard', :m2, ST_GeomFromText(:wkt, 4326), 'test')"
                ),
                {
                    "id": kid,
                    "no": no,
                    "murabba": murabba,
                    "main": main,
                    "tatima": tatima,
                    "lc": land[no],
                    "rec": record[no],
                    "m2": areas[no],
                    "wkt": geom.wkt,
                },
            )
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) VALUES (1, 1, 1, :a1, '2020-01-01'), (1, 2, 1, :a2, '2020-01-01')"
            ),
            {"a1": record["11"], "a2": record["12"]},
        )
        conn.execute(
            text(
                "INSERT INTO party (id, kind, cnic, name, guardian_relation, guardian_name,"
                " gender) VALUES"
                " (1, 'person', :c1, 'Ahmad Khan', 'son_of', 'Bashir Khan', 'male'),"
                " (2, 'person', :c2, 'Fatima Bibi', 'daughter_of', 'Bashir Khan', 'female')"
            ),
            {"c1": cnics[0], "c2": cnics[1]},
        )
        conn.execute(
            text(
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from)"
                " VALUES (1, 1, 1, 3, '2020-01-01'), (1, 2, 2, 3, '2020-01-01')"
            )
        )
    return TinyMouza(
        mouza_id=1,
        label="Kot Test (hadbast 7, Raiwind)",
        khasras=record,
        geom_m2=areas,
        khewat_number=5,
        cnics=cnics,
        masked=("35202-*******-1", "35202-*******-2"),
    )
