"""Parcel files as vendors deliver them (issue 17, point 3): their own field names mapped
with ``--field`` or a mapping file, a default land class, a per-field report of what
could not be read, and a dry run (``--check``) that writes nothing.

The vendor-id and section cases use real parcels of the cadastre of Épinay-sur-Orge,
moved into the test mouza's frame (projected to their UTM zone, translated, declared
EPSG:32643: shapes unchanged). Source : DGFiP / Etalab — cadastre (PCI Vecteur),
millésime 2022-01-01, cadastre.data.gouv.fr (Licence Ouverte / Open Licence 2.0).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely
from cli_support import use_database
from io_testdata import ORIGIN, World, rect
from sqlalchemy import text
from typer.testing import CliRunner

from landgov.cli import app
from landgov.cli._shell import save_session
from landgov.errors import ImportRejected, InputRejected
from landgov.io.parcels import (
    FieldMapping,
    ParcelsRejected,
    check_parcels,
    import_parcels,
)

WritePar = Callable[..., Path]
CADASTRE = (
    Path(__file__).resolve().parents[3]
    / "shared/data/real/cadastre_epinay_sur_orge/cadastre-91216-parcelles.json"
)

VENDOR_ROWS = [
    {"KHASRA_NO": "12", "LC_TYPE": "Nehri", "KMS": "4-7-3", "VILLAGE": "Kot Nau"},
    {"KHASRA_NO": "13/1", "LC_TYPE": "chahi", "KMS": None, "VILLAGE": "Kot Nau"},
    {"KHASRA_NO": "45//7/2", "LC_TYPE": None, "KMS": None, "VILLAGE": "Kot Nau"},
]


def counts(world: World) -> dict[str, int]:
    """Rows of every table an import writes (the audit log included)."""
    with world.engine.connect() as conn:
        return {
            t: conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("khasra", "khewat_khasra", "audit_log", "mutation")
        }


def stored(world: World) -> dict[str, tuple[str, int]]:
    """Khasra number -> (land class, record area in sarsai)."""
    with world.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT number, land_class, record_area_sarsai FROM khasra ORDER BY id")
        )
        return {r.number: (r.land_class, r.record_area_sarsai) for r in rows}


def vendor_file(write_parcels: WritePar, name: str = "vendor.gpkg") -> Path:
    return write_parcels(name, VENDOR_ROWS, [rect(0), rect(1), rect(2)])


# --- mapping ---------------------------------------------------------------------------


def test_vendor_names_mapped_with_field_options(world: World, write_parcels: WritePar) -> None:
    """Source columns are matched in any case; the empty land class takes the default;
    the columns not read are listed; the audit row says how the file was read."""
    path = vendor_file(write_parcels)
    mapping = FieldMapping.build(
        ["khasra_no=khasra_no", "land_class=LC_type", "area_kms = KMS"],
        default_land_class="Ghair Mumkin",
    )
    assert mapping.fields == {"khasra_no": "khasra_no", "land_class": "LC_type", "area_kms": "KMS"}
    assert mapping.default_land_class == "ghair_mumkin"

    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)

    assert report.counts == {"khasra": 3}
    assert stored(world) == {
        "12": ("nehri", 786),  # 4-7-3
        "13/1": ("chahi", 712),  # from the 2,000 m² geometry
        "45//7/2": ("ghair_mumkin", 712),  # the default, for the empty cell
    }
    lines = [u.describe() for u in report.details["fields"]]
    assert lines[:3] == [
        "khasra_no: column 'KHASRA_NO' (mapped by --field)",
        "land_class: column 'LC_TYPE' (mapped by --field); 1 empty cell(s) take the default "
        "'ghair_mumkin'",
        "area_kms: column 'KMS' (mapped by --field)",
    ]
    assert lines[3] == "unit_system: not in the file: the mouza's unit system"
    assert report.details["ignored"] == ["VILLAGE"]
    with world.engine.connect() as conn:
        details = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'import parcels'")
        ).scalar_one()
    assert details["fields"] == {"khasra_no": "KHASRA_NO", "land_class": "LC_TYPE",
                                 "area_kms": "KMS"}  # fmt: skip
    assert (details["default_land_class"], details["defaulted"]) == ("ghair_mumkin", 1)


@pytest.mark.parametrize("suffix", [".toml", ".yaml"])
def test_mapping_file(world: World, write_parcels: WritePar, tmp_path: Path, suffix: str) -> None:
    path = vendor_file(write_parcels)
    mapping_file = tmp_path / f"vendor{suffix}"
    if suffix == ".toml":
        mapping_file.write_text(
            'default_land_class = "barani"\n[fields]\nkhasra_no = "KHASRA_NO"\n'
            'land_class = "LC_TYPE"\narea_kms = "kms"\nkhewat_no = ""\n',
            encoding="utf-8",
        )
    else:
        mapping_file.write_text(
            "default_land_class: barani\nfields:\n  khasra_no: KHASRA_NO\n"
            "  land_class: LC_TYPE\n  area_kms: kms\n  khewat_no:\n",
            encoding="utf-8",
        )
    mapping = FieldMapping.build(file=mapping_file)
    assert mapping.fields["khewat_no"] is None  # said absent
    assert mapping.origins["khasra_no"] == mapping_file.name

    import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)

    assert stored(world)["45//7/2"] == ("barani", 712)


def test_default_land_class_for_a_file_without_one(world: World, write_parcels: WritePar) -> None:
    rows = [{"khasra_no": "1"}, {"khasra_no": "2"}]
    path = write_parcels("no_class.gpkg", rows, [rect(0), rect(1)])
    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    (problem,) = exc.value.problems
    assert (problem.row, problem.field) == (None, "land_class")
    assert problem.reason.endswith(
        "map it to the file's column with --field land_class=COLUMN or give --default-land-class"
    )

    mapping = FieldMapping.build(default_land_class="barani")
    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)

    assert stored(world) == {"1": ("barani", 712), "2": ("barani", 712)}
    land_class = next(u for u in report.details["fields"] if u.field == "land_class")
    assert land_class.describe() == (
        "land_class: no column; every row takes 'barani' (--default-land-class)"
    )
    assert land_class.defaulted == 2


def test_a_default_does_not_hide_an_unknown_code(world: World, write_parcels: WritePar) -> None:
    """Only empty cells take the default: a vendor's code is a value to translate."""
    rows = [{"k": "1", "lc": "N"}, {"k": "2", "lc": "N"}, {"k": "3", "lc": "chahi"}]
    path = write_parcels("codes.gpkg", rows, [rect(0), rect(1), rect(2)])
    mapping = FieldMapping.build(["khasra_no=K", "land_class=LC"], default_land_class="nehri")
    before = counts(world)
    with pytest.raises(ParcelsRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)
    assert [(p.row, p.field) for p in exc.value.problems] == [(1, "land_class"), (2, "land_class")]
    (summary,) = exc.value.by_field
    assert (summary.field, summary.column, summary.rows, summary.total) == (
        "land_class",
        "lc",
        2,
        3,
    )
    message = str(exc.value)
    assert message.startswith(f"{path}: rejected, nothing imported (2 problem(s)):")
    assert (
        "by field: land_class (column 'lc'): 2 of 3 rows not importable, first row 1: unknown "
        "land class 'N'; expected one of: nehri, chahi, barani, banjar, ghair_mumkin, abadi, "
        "shamlat, forest. Translate the file's codes to land classes before importing, or "
        "leave those cells empty and give --default-land-class"
    ) in message
    assert counts(world) == before


@pytest.mark.parametrize(
    ("options", "default", "expected"),
    [
        (["khasra=KHASRA_NO"], None, "unknown field 'khasra' (--field: khasra=KHASRA_NO); the "
         "fields are: khasra_no, land_class, area_kms, unit_system, source, khewat_no, "
         "assignment"),
        (["khasra_no=A", "KHASRA_NO=B"], None, "field khasra_no is mapped twice: to column 'A' "
         "(--field) and to column 'B' (--field); map each field once"),
        (["khasra_no"], None, "--field 'khasra_no': expected FIELD=COLUMN, e.g. "
         "khasra_no=KHASRA_NO"),
        ([], "paddy", "default land class 'paddy' is not a land class; expected one of: nehri"),
    ],
)  # fmt: skip
def test_mapping_mistakes_are_refused(
    options: list[str], default: str | None, expected: str
) -> None:
    with pytest.raises(InputRejected) as exc:
        FieldMapping.build(options, default_land_class=default)
    assert str(exc.value).startswith("field mapping refused:\n  " + expected)


def test_mapping_file_mistakes_are_refused(tmp_path: Path) -> None:
    yaml = tmp_path / "twice.yaml"
    yaml.write_text("fields:\n  khasra_no: A\n  khasra_no: B\n", encoding="utf-8")
    with pytest.raises(InputRejected, match=r"twice.yaml: not valid YAML: key 'khasra_no' given"):
        FieldMapping.build(file=yaml)
    toml = tmp_path / "vendor.toml"
    toml.write_text('[fields]\nkhasra_no = "A"\n[extra]\n', encoding="utf-8")
    with pytest.raises(InputRejected, match=r"vendor.toml: unknown key\(s\) 'extra'"):
        FieldMapping.build(file=toml)
    toml.write_text('default_land_class = "nehri"\n[fields]\nkhasra_no = "A"\n', encoding="utf-8")
    with pytest.raises(InputRejected) as exc:  # the same field on both sides, two defaults
        FieldMapping.build(["khasra_no=B"], toml, default_land_class="chahi")
    message = str(exc.value)
    assert (
        "field khasra_no is mapped twice: to column 'A' (vendor.toml) and to column 'B'" in message
    )
    assert "two default land classes: 'nehri' (vendor.toml) and 'chahi'" in message
    ini = tmp_path / "vendor.ini"
    ini.write_text("[fields]\nkhasra_no = A\n", encoding="utf-8")
    with pytest.raises(
        InputRejected, match=r"vendor\.ini: expected a \.toml, \.yaml or \.yml file"
    ):
        FieldMapping.build(file=ini)


def test_mapped_columns_are_checked_against_the_file(world: World, write_parcels: WritePar) -> None:
    """File-level problems, all at once, each naming the field; nothing written."""
    rows = [{"ID": "1", "id ": "x", "CLASS": "nehri", "khewat_no": "1"}]
    path = write_parcels("odd.gpkg", rows, [rect(0)])
    before = counts(world)

    def problems(*options: str) -> list[tuple[str | None, str]]:
        mapping = FieldMapping.build(options)
        with pytest.raises(ImportRejected) as exc:
            import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)
        return [(p.field, p.reason) for p in exc.value.problems]

    assert problems("khasra_no=PARCEL", "land_class=class") == [
        ("khasra_no", "mapped to column 'PARCEL' (--field), which the file does not have; the "
         "file has: ID, id , CLASS, khewat_no"),
    ]  # fmt: skip
    assert problems("khasra_no=id", "land_class=class") == [
        ("khasra_no", "mapped to column 'id' (--field), which matches the columns 'ID' and "
         "'id ': they differ only in case; rename one"),
    ]  # fmt: skip
    assert problems("khasra_no=CLASS", "land_class=class") == [
        ("land_class", "column 'CLASS' is mapped to both khasra_no and land_class (--field): a "
         "column feeds one field"),
    ]  # fmt: skip
    # a column mapped to one field whose own name means another: ambiguous...
    assert problems("khasra_no=khewat_no", "land_class=CLASS") == [
        ("khewat_no", "column 'khewat_no' is mapped to khasra_no (--field) and its name also "
         "means khewat_no: map khewat_no to another column, or write --field khewat_no= if "
         "the file has none"),
    ]  # fmt: skip
    assert counts(world) == before
    # ... until the other field is said absent
    mapping = FieldMapping.build(["khasra_no=khewat_no", "land_class=CLASS", "khewat_no="])
    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)
    assert (report.details["attached"], report.details["unassigned"]) == (0, 1)
    assert stored(world) == {"1": ("nehri", 712)}
    assert report.details["ignored"] == ["ID", "id "]


# --- real vendor ids and numbers per section -----------------------------------------------


def real_parcels(sections: tuple[str, ...]) -> gpd.GeoDataFrame:
    """The real parcels of these sections of Épinay-sur-Orge with the vendor's names
    (IDU, SECTION, NUMERO), moved next to the test mouza's origin in UTM 43N."""
    if not CADASTRE.is_file():
        pytest.fail(f"the real cadastre is missing: {CADASTRE}")
    real = gpd.read_file(CADASTRE)
    real = real[real["section"].isin(sections)].to_crs(32631)
    minx, miny, _, _ = real.total_bounds
    shift = np.array([ORIGIN[0] - minx, ORIGIN[1] - miny])
    moved = shapely.transform(np.asarray(real.geometry.array), lambda xy: xy + shift)
    assert shapely.area(moved) == pytest.approx(real.area.to_numpy(), rel=1e-9)
    return gpd.GeoDataFrame(
        {"IDU": real["id"].to_numpy(), "SECTION": real["section"].to_numpy(),
         "NUMERO": real["numero"].to_numpy()},
        geometry=list(moved), crs=32643,
    )  # fmt: skip


def test_a_vendor_parcel_id_is_not_a_khasra_number(world: World, tmp_path: Path) -> None:
    """``91216000AB0037`` (commune, prefix, section, number) is refused, every row, with
    the remedy in the summary."""
    vendor = real_parcels(("AB",))
    path = tmp_path / "epinay_ab.gpkg"
    vendor.to_file(path, engine="pyogrio")
    mapping = FieldMapping.build(["khasra_no=IDU"], default_land_class="abadi")
    before = counts(world)

    with pytest.raises(ParcelsRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)

    n = len(vendor)
    assert [(p.row, p.field) for p in exc.value.problems] == [
        (row, "khasra_no") for row in range(1, n + 1)
    ]
    first = exc.value.problems[0].reason
    assert first == (
        f"khasra number '{vendor['IDU'][0]}': '{vendor['IDU'][0]}' is not a whole number"
    )
    (summary,) = exc.value.by_field
    assert (summary.column, summary.rows, summary.total) == ("IDU", n, n)
    assert summary.hint.startswith(
        "A khasra number is digits, '/' before a tatima and '//' between murabba and killa "
        "(123, 123/2, 45//12/1); a vendor's parcel id such as 91216000AB0037 is not one: map "
        "khasra_no to the column holding the khasra number"
    )
    assert f"by field: khasra_no (column 'IDU'): {n} of {n} rows not importable" in str(exc.value)
    assert counts(world) == before


def test_numbers_unique_per_section_import_section_by_section(world: World, tmp_path: Path) -> None:
    """NUMERO repeats across sections AO and AP: the whole file is refused as duplicates,
    with what to do; one file per section into its own mouza imports."""
    vendor = real_parcels(("AO", "AP"))
    both = tmp_path / "epinay_ao_ap.gpkg"
    vendor.to_file(both, engine="pyogrio")
    mapping = FieldMapping.build(["khasra_no=numero"], default_land_class="abadi")
    repeats = int(vendor["NUMERO"].duplicated().sum())
    assert repeats == 6  # AO's 1-6 are also AP's

    with pytest.raises(ParcelsRejected) as exc:
        import_parcels(world.engine, both, mouza="Kot Nau", actor=world.actor, mapping=mapping)

    assert len(exc.value.problems) == repeats
    assert all("appears twice in the file" in p.reason for p in exc.value.problems)
    (summary,) = exc.value.by_field
    assert summary.hint == (
        "Khasra numbers are unique in a mouza: if the file numbers its parcels within "
        "sections or sheets, import each section into its own mouza (one file per "
        "section), or map khasra_no to a column unique in the file"
    )
    assert counts(world)["khasra"] == 0

    for section, mouza in (("AO", "Kot Nau"), ("AP", "Jandiala")):
        path = tmp_path / f"epinay_{section}.gpkg"
        vendor[vendor["SECTION"] == section].to_file(path, engine="pyogrio")
        report = import_parcels(world.engine, path, mouza=mouza, actor=world.actor, mapping=mapping)
        assert report.counts == {"khasra": int((vendor["SECTION"] == section).sum())}
    with world.engine.connect() as conn:
        per_mouza = dict(
            conn.execute(
                text(
                    "SELECT m.name, count(*) FROM khasra k JOIN mouza m ON m.id = k.mouza_id"
                    " GROUP BY m.name"
                )
            ).all()
        )
    assert per_mouza == {"Kot Nau": 6, "Jandiala": int((vendor["SECTION"] == "AP").sum())}


# --- the dry run ---------------------------------------------------------------------------


def test_check_reports_everything_and_writes_nothing(world: World, write_parcels: WritePar) -> None:
    rows = [
        {"PARCEL": "1", "KHEWAT": "1", "LC": "nehri"},
        {"PARCEL": "2", "KHEWAT": None, "LC": "chahi", "STATE": "unassigned"},
        {"PARCEL": "3", "KHEWAT": "1", "LC": "paddy"},
        {"PARCEL": "1", "KHEWAT": "9", "LC": None},
    ]
    geoms = [rect(0), rect(1), rect(2), rect(3, dx=3_000_000)]  # the last: outside Pakistan
    path = write_parcels("survey.gpkg", rows, geoms)
    mapping = FieldMapping.build(["khasra_no=parcel", "khewat_no=khewat", "land_class=lc",
                                  "assignment=state"])  # fmt: skip
    before = counts(world)

    found = check_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor, mapping=mapping)

    assert counts(world) == before  # no khasra, no khewat_khasra, no audit row
    assert not found.ok
    assert (found.features, found.attached, found.unassigned) == (4, 2, 1)  # row 4: neither
    assert found.crs == "EPSG:32643" and found.layer == "survey"
    assert found.target == "mouza Kot Nau (hadbast 117)"
    assert found.area_m2 == pytest.approx(3 * 2_000, rel=1e-5)  # the fourth is refused
    assert [(p.row, p.field) for p in found.problems] == [
        (3, "land_class"),
        (4, "khasra_no"),
        (4, "land_class"),
        (4, "khewat_no"),
        (4, "geometry"),
    ]
    assert [(s.field, s.rows) for s in found.by_field] == [
        ("khasra_no", 1), ("land_class", 2), ("khewat_no", 1), ("geometry", 1),
    ]  # fmt: skip
    assert found.problems[1].reason == "khasra 1 appears twice in the file (also on row 1)"
    assert found.problems[3].reason == "no khewat 9 in mouza Kot Nau (hadbast 117)"
    assert found.bounds is not None and found.bounds[2] > 78  # the far parcel, as read

    # fixed, checked again: what the check says is what the import does
    good = write_parcels("survey_fixed.gpkg", rows[:2], geoms[:2])
    found = check_parcels(world.engine, good, mouza="Kot Nau", actor=world.actor, mapping=mapping)
    assert found.ok and counts(world) == before
    report = import_parcels(world.engine, good, mouza="Kot Nau", actor=world.actor, mapping=mapping)
    assert (report.details["attached"], report.details["unassigned"]) == (
        found.attached,
        found.unassigned,
    )
    assert report.counts == {"khasra": 2, "khewat_khasra": 1}
    with world.engine.connect() as conn:
        m2 = conn.execute(text("SELECT sum(geom_area_m2) FROM khasra")).scalar_one()
    assert m2 == pytest.approx(found.area_m2, rel=1e-12)


# --- the command ---------------------------------------------------------------------------


@pytest.fixture
def cli(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose landgov talks to the test database, signed in as the patwari."""
    use_database(world.engine, tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "300")
    save_session(world.actor.token, world.actor.username)
    return CliRunner()


def flat(output: str) -> str:
    return " ".join(output.split())


def test_the_command_maps_checks_and_imports(
    cli: CliRunner, world: World, write_parcels: WritePar, tmp_path: Path
) -> None:
    path = vendor_file(write_parcels)
    mapping = tmp_path / "vendor.toml"
    mapping.write_text('[fields]\nkhasra_no = "KHASRA_NO"\nland_class = "LC_TYPE"\n', "utf-8")
    base = ["import", "parcels", str(path), "--mouza", "117", "--mapping", str(mapping)]
    before = counts(world)

    # without a default the empty land class is a problem: --check lists it, exit 1
    result = cli.invoke(app, [*base, "--check"])
    assert result.exit_code == 1, result.output
    output = flat(result.output)
    assert (
        "vendor.gpkg (layer vendor, EPSG:32643): 3 features checked against mouza Kot Nau "
        "(hadbast 117); dry run, nothing written"
    ) in output
    assert "would import nothing: 1 problem(s)" in output
    assert "area: 6,000.0 m² on the map (0.60 ha)" in output
    assert "bounds: longitude 73.94" in output
    assert "khasra_no: column 'KHASRA_NO' (mapped by vendor.toml)" in output
    assert "columns not read: KMS, VILLAGE" in output
    assert "by field: land_class (column 'LC_TYPE'): 1 of 3 rows not importable" in output
    assert "row 3, field 'land_class': missing land class" in output
    assert counts(world) == before

    result = cli.invoke(app, [*base, "--field", "area_kms=kms", "--default-land-class", "barani",
                              "--check"])  # fmt: skip
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert "would import 3 khasras: 0 attached to khewats, 3 unassigned" in output
    assert "problems: none" in output
    assert counts(world) == before

    result = cli.invoke(app, [*base, "--field", "area_kms=kms", "--default-land-class", "barani"])
    assert result.exit_code == 0, result.output
    output = flat(result.output)
    assert "vendor.gpkg: 3 khasras imported into mouza Kot Nau (hadbast 117)" in output
    assert (
        "land_class: column 'LC_TYPE' (mapped by vendor.toml); 1 empty cell(s) take the "
        "default 'barani'"
    ) in output
    assert stored(world)["12"] == ("nehri", 786)

    result = cli.invoke(app, [*base, "--field", "khasra_no=X"])
    assert result.exit_code == 1
    assert (
        "field khasra_no is mapped twice: to column 'KHASRA_NO' (vendor.toml) and to column "
        "'X' (--field)"
    ) in flat(result.output)
    assert "Traceback" not in result.output
