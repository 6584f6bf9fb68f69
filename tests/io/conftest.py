"""Fixtures for the import/export tests (data and helpers: io_testdata.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
import shapely
from io_testdata import (
    ASLAM,
    BUSHRA,
    GIRDAWAR,
    MUTATION_HEADER,
    OFFICER,
    OUTSIDER,
    PATWARI,
    POSTED_FROM,
    TARIQ,
    ParcelRows,
    World,
    owner_of,
    to_file,
)
from security_support import officer_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine


@pytest.fixture
def world(engine: Engine) -> World:
    """Punjab > Sheikhupura > Ferozewala > mouzas Kot Nau (117) and Jandiala (118), and
    Sheikhupura > Muridke > mouza Dhamke (201); officers posted as io_testdata says.

    Seeded with the owner role (the application role writes the record tables only for
    a bound actor); the patwari of Ferozewala is signed in as ``world.actor``.
    """
    with owner_of(engine).begin() as conn:

        def one(sql: str, **params: object) -> int:
            return int(conn.execute(text(sql + " RETURNING id"), params).scalar_one())

        admin = "INSERT INTO admin_unit (level, name, parent_id) VALUES (:level, :name, :parent)"
        province = one(admin, level="province", name="Punjab", parent=None)
        district = one(admin, level="district", name="Sheikhupura", parent=province)
        tehsil = one(admin, level="tehsil", name="Ferozewala", parent=district)
        muridke = one(admin, level="tehsil", name="Muridke", parent=district)
        mouza = "INSERT INTO mouza (tehsil_id, name, hadbast_number) VALUES (:t, :name, :h)"
        kot_nau = one(mouza, t=tehsil, name="Kot Nau", h=117)
        jandiala = one(mouza, t=tehsil, name="Jandiala", h=118)
        dhamke = one(mouza, t=muridke, name="Dhamke", h=201)
        person = (
            "INSERT INTO party (kind, cnic, name, guardian_relation, guardian_name, gender)"
            " VALUES ('person', :cnic, :name, :rel, :guardian, :gender)"
        )
        parties = {
            ASLAM: one(
                person,
                cnic=ASLAM,
                name="Muhammad Aslam",
                rel="son_of",
                guardian="Ghulam Rasool",
                gender="male",
            ),
            BUSHRA: one(
                person,
                cnic=BUSHRA,
                name="Bushra Bibi",
                rel="daughter_of",
                guardian="Ghulam Rasool",
                gender="female",
            ),
            TARIQ: one(
                person,
                cnic=TARIQ,
                name="Tariq Mehmood",
                rel="son_of",
                guardian="Muhammad Aslam",
                gender="male",
            ),
            "irrigation": one(
                "INSERT INTO party (kind, custodian, name)"
                " VALUES ('state', 'irrigation', 'Irrigation Department')"
            ),
        }
        officer = "INSERT INTO officer (name, designation, cnic) VALUES (:name, :d, :cnic)"
        posting = (
            "INSERT INTO officer_jurisdiction (officer_id, admin_unit_id, valid_from)"
            " VALUES (:o, :u, :f)"
        )
        officers = {}
        for cnic, name, designation, unit in (
            (OFFICER, "Naveed Akhtar", "tehsildar", tehsil),
            (PATWARI, "Muhammad Akram", "patwari", tehsil),
            (GIRDAWAR, "Sajid Ali", "girdawar", tehsil),
            (OUTSIDER, "Khalid Mahmood", "tehsildar", muridke),
        ):
            officers[cnic] = one(officer, name=name, d=designation, cnic=cnic)
            conn.execute(text(posting), {"o": officers[cnic], "u": unit, "f": POSTED_FROM})
        khewat = "INSERT INTO khewat (mouza_id, number) VALUES (:m, :n)"
        khewats = {
            ("Kot Nau", 1): one(khewat, m=kot_nau, n=1),
            ("Kot Nau", 2): one(khewat, m=kot_nau, n=2),
            ("Jandiala", 1): one(khewat, m=jandiala, n=1),
            ("Dhamke", 1): one(khewat, m=dhamke, n=1),
        }
    actor = officer_actor(engine, PATWARI)
    return World(engine, kot_nau, jandiala, khewats, parties, actor, officers, dhamke)


@pytest.fixture
def write_parcels(tmp_path: Path) -> Callable[..., Path]:
    """``write_parcels(name, rows, geoms, crs=...)`` writes a file into tmp_path."""

    def write(
        name: str, rows: ParcelRows, geoms: Sequence[shapely.Geometry | None], **kwargs: object
    ) -> Path:
        return to_file(tmp_path / name, rows, geoms, **kwargs)

    return write


@pytest.fixture
def write_csv(tmp_path: Path) -> Callable[..., Path]:
    """``write_csv(name, rows, header=MUTATION_HEADER, bom=False)`` writes a CSV."""

    def write(
        name: str, rows: Sequence[str], *, header: str = MUTATION_HEADER, bom: bool = False
    ) -> Path:
        path = tmp_path / name
        body = "\n".join([header, *rows]) + "\n"
        path.write_text(("\ufeff" if bom else "") + body, encoding="utf-8")
        return path

    return write
