"""Constraints that do real work: the database refuses what the domain forbids.

Rows are written as the application role with the demo service bound (the one actor
row-level security lets write in every mouza), as the demo loader writes them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from enum import StrEnum

import pytest
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

from landgov.domain import records
from landgov.security import bind

SQUARE = "MULTIPOLYGON(((73.98 31.71,73.981 31.71,73.981 31.711,73.98 31.711,73.98 31.71)))"
BOWTIE = "MULTIPOLYGON(((73.98 31.71,73.981 31.711,73.981 31.71,73.98 31.711,73.98 31.71)))"


@pytest.fixture
def conn(engine: Engine) -> Iterator[Connection]:
    """A connection with one mouza, khewat and person, inside a rolled-back transaction."""
    actor = service_actor(engine, "demo")
    with engine.connect() as c:
        bind(c, actor)
        c.execute(
            text(
                "INSERT INTO admin_unit (id, level, name) VALUES (1, 'province', 'Punjab');"
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (2, 'district', 'Sheikhupura', 1), (3, 'tehsil', 'Sheikhupura', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 3, 'Kot A', 17);"
                "INSERT INTO khewat (id, mouza_id, number) VALUES (1, 1, 1);"
                "INSERT INTO party (id, kind, cnic, name, gender)"
                " VALUES (1, 'person', '35401-1234567-1', 'Aslam', 'male');"
            )
        )
        yield c
        c.rollback()


def refused(conn: Connection, sql: str, **params: object) -> str:
    """Run ``sql`` in a savepoint and return the database's refusal message."""
    with pytest.raises((IntegrityError, DBAPIError)) as info, conn.begin_nested():
        conn.execute(text(sql), params)
    return str(info.value.orig)


def khasra_sql(
    number: str = "12//3", geom: str = SQUARE, murabba: int | None = 12, main: int = 3
) -> str:
    return (
        "INSERT INTO khasra (mouza_id, number, murabba, main_number, land_class,"
        " record_area_sarsai, unit_system, geom_area_m2, geom, source) VALUES"
        f" (1, '{number}', {murabba if murabba is not None else 'NULL'}, {main}, 'nehri',"
        f" 1440, 'standard', 4000, ST_GeomFromText('{geom}', 4326), 'test')"
    )


def test_share_must_be_a_proper_fraction(conn: Connection) -> None:
    base = (
        "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from)"
        " VALUES (1, 1, :n, :d, '2002-01-01')"
    )
    assert "share_proper_fraction" in refused(conn, base, n=3, d=2)
    assert "share_numerator_check" in refused(conn, base, n=0, d=2)
    assert "share_denominator_check" in refused(conn, base, n=0, d=0)
    conn.execute(text(base), {"n": 1, "d": 1})  # the whole khewat is fine


def test_invalid_geometry_is_refused(conn: Connection) -> None:
    assert "khasra_geom_check" in refused(conn, khasra_sql(geom=BOWTIE))
    conn.execute(text(khasra_sql()))


def test_khasra_number_is_unique_per_mouza(conn: Connection) -> None:
    conn.execute(text(khasra_sql()))
    assert "khasra_mouza_id_number_key" in refused(conn, khasra_sql())


def test_a_murabba_has_25_killas(conn: Connection) -> None:
    assert "khasra_killa_within_murabba" in refused(conn, khasra_sql(number="12//26", main=26))


def test_cnic_format_is_checked(conn: Connection) -> None:
    msg = refused(
        conn,
        "INSERT INTO party (kind, cnic, name, gender)"
        " VALUES ('person', '3540112345671', 'X', 'male')",
    )
    assert "party_cnic_check" in msg


def test_a_person_needs_a_cnic_and_the_state_a_custodian(conn: Connection) -> None:
    assert "party_identity_by_kind" in refused(
        conn, "INSERT INTO party (kind, name, gender) VALUES ('person', 'X', 'male')"
    )
    assert "party_identity_by_kind" in refused(
        conn, "INSERT INTO party (kind, name) VALUES ('state', 'Irrigation Dept')"
    )
    conn.execute(
        text(
            "INSERT INTO party (kind, custodian, name)"
            " VALUES ('state', 'irrigation', 'Irrigation Department')"
        )
    )


def test_mutation_status_needs_its_dates(conn: Connection) -> None:
    conn.execute(text("INSERT INTO officer (id, name, designation) VALUES (1, 'T', 'tehsildar')"))
    base = (
        "INSERT INTO mutation (mouza_id, number, type, status, entered_on, decided_on,"
        " officer_id, rejection_reason) VALUES (1, :no, 'sale', :st, '2020-01-01', :dec,"
        " :off, :why)"
    )
    assert "mutation_status_fields" in refused(
        conn, base, no=1, st="sanctioned", dec=None, off=1, why=None
    )
    assert "mutation_status_fields" in refused(
        conn, base, no=2, st="rejected", dec="2020-02-01", off=1, why=" "
    )
    assert "mutation_decided_after_entered" in refused(
        conn, base, no=3, st="sanctioned", dec="2019-12-31", off=1, why=None
    )
    conn.execute(
        text(base), {"no": 4, "st": "sanctioned", "dec": "2020-02-01", "off": 1, "why": None}
    )


def test_khewat_khasra_cannot_cross_mouzas(conn: Connection) -> None:
    conn.execute(text(khasra_sql()))
    conn.execute(
        text("INSERT INTO mouza (id, tehsil_id, name, hadbast_number) VALUES (2, 3, 'Kot B', 18)")
    )
    msg = refused(
        conn,
        "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
        " valid_from) SELECT 1, id, 2, 10, '2002-01-01' FROM khasra",
    )
    assert "foreign key" in msg


def test_audit_log_is_append_only(conn: Connection) -> None:
    conn.execute(text("INSERT INTO audit_log (actor, action, entity) VALUES ('t', 'x', 'y')"))
    # the application role holds no UPDATE, DELETE or TRUNCATE on the log at all (the
    # owner's refusal by the append-only trigger: tests/storage/test_audit.py)
    assert "permission denied" in refused(conn, "UPDATE audit_log SET actor = 'evil'")
    assert "permission denied" in refused(conn, "DELETE FROM audit_log")
    assert "permission denied" in refused(conn, "TRUNCATE audit_log")


ENUM_COLUMNS: list[tuple[str, str, type[StrEnum]]] = [
    ("admin_unit", "level", records.AdminLevel),
    ("khasra", "land_class", records.LandClass),
    ("share", "right_type", records.RightType),
    ("mutation_line", "right_type", records.RightType),
    ("mutation", "type", records.MutationType),
    ("mutation", "status", records.MutationStatus),
    ("party", "kind", records.PartyKind),
    ("party", "gender", records.Gender),
    ("party", "guardian_relation", records.GuardianRelation),
    ("party", "custodian", records.Custodian),
    ("state_land", "custodian", records.Custodian),
    ("state_land", "category", records.StateLandCategory),
    ("girdawari", "season", records.Season),
    ("girdawari", "crop", records.Crop),
    ("girdawari", "irrigation_source", records.IrrigationSource),
    ("khatauni", "tenancy", records.Tenancy),
]


@pytest.mark.parametrize(("table", "column", "enum"), ENUM_COLUMNS)
def test_check_lists_match_domain_enums(
    engine: Engine, table: str, column: str, enum: type[StrEnum]
) -> None:
    """The SQL CHECK lists and the Python enums name exactly the same values."""
    with engine.connect() as conn:
        defs = (
            conn.execute(
                text(
                    "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
                    " JOIN pg_class t ON t.oid = c.conrelid"
                    " WHERE t.relname = :t AND c.contype = 'c'"
                ),
                {"t": table},
            )
            .scalars()
            .all()
        )
    pattern = re.compile(rf"\b{column}\b = ANY \(ARRAY\[(.*?)\]\)")
    found = [m for d in defs if (m := pattern.search(d))]
    assert found, f"no CHECK list on {table}.{column}"
    values = set(re.findall(r"'([a-z_]+)'::text", found[0][1]))
    assert values == {e.value for e in enum}
