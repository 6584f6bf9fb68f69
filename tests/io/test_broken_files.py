"""Broken files: each is refused with a precise message and writes nothing at all.

Every case builds one bad file, imports it, and checks that the rejection names the
file, the row, the field and the reason, and that no row was added to khasra,
mutation, mutation_line or audit_log.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pytest
from io_testdata import (
    MUTATION_HEADER,
    UTM43,
    World,
    bow_tie,
    mutation_row,
    rect,
    to_file,
)

from landgov.errors import ImportRejected
from landgov.io import import_mutations, import_parcels


@dataclass(frozen=True)
class Case:
    """A broken file and the problem its rejection must contain."""

    build: Callable[[Path, World], Path]
    row: int | None
    field: str | None
    reason: str  # the problem's reason starts with this


GOOD = [
    {"khasra_no": "12", "land_class": "nehri"},
    {"khasra_no": "13", "land_class": "chahi"},
]


def good_gpkg(path: Path) -> Path:
    return to_file(path, GOOD, [rect(0), rect(1)])


def invalid_geometry(tmp: Path, world: World) -> Path:
    return to_file(tmp / "bowtie.gpkg", GOOD, [rect(0), bow_tie(1)])


def utm_declared_as_degrees(tmp: Path, world: World) -> Path:
    """UTM metres in a file that claims EPSG:4326 (the classic wrong-CRS mistake)."""
    return to_file(tmp / "wrong_crs.geojson", GOOD, [rect(0), rect(1)], crs=4326)


def shapefile_without_prj(tmp: Path, world: World) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "'crs' was not provided"
        path = to_file(tmp / "no_crs.shp", GOOD, [rect(0), rect(1)], crs=None)
    assert not path.with_suffix(".prj").exists()
    return path


def missing_column(tmp: Path, world: World) -> Path:
    rows = [{"khasra_no": "12", "area_kms": "4-7-3"}]
    return to_file(tmp / "no_class.gpkg", rows, [rect(0)])


def text_in_area(tmp: Path, world: World) -> Path:
    rows = [{**GOOD[0], "area_kms": "4-7-3"}, {**GOOD[1], "area_kms": "abc"}]
    return to_file(tmp / "bad_area.gpkg", rows, [rect(0), rect(1)])


def duplicate_khasra(tmp: Path, world: World) -> Path:
    rows = [*GOOD, {"khasra_no": "012", "land_class": "barani"}]  # 012 is khasra 12
    return to_file(tmp / "dupes.gpkg", rows, [rect(0), rect(1), rect(2)])


def khasra_already_in_db(tmp: Path, world: World) -> Path:
    seed = to_file(tmp / "seed.gpkg", [GOOD[0]], [rect(0)])
    import_parcels(world.engine, seed, mouza="Kot Nau", actor=world.actor)
    rows = [{"khasra_no": "14", "land_class": "nehri"}, {"khasra_no": "12", "land_class": "nehri"}]
    return to_file(tmp / "again.gpkg", rows, [rect(3), rect(4)])


def truncated_gpkg(tmp: Path, world: World) -> Path:
    path = good_gpkg(tmp / "truncated.gpkg")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def empty_layer(tmp: Path, world: World) -> Path:
    empty = gpd.GeoDataFrame(
        {"khasra_no": [], "land_class": []}, geometry=gpd.GeoSeries([], crs=UTM43)
    )
    path = tmp / "empty.gpkg"
    empty.to_file(path, engine="pyogrio", geometry_type="Polygon")
    return path


def zero_bytes(tmp: Path, world: World) -> Path:
    path = tmp / "nothing.geojson"
    path.write_bytes(b"")
    return path


def csv_renamed_gpkg(tmp: Path, world: World) -> Path:
    path = tmp / "parcels.gpkg"
    path.write_text("khasra_no,land_class\n12,nehri\n", encoding="utf-8")
    return path


def _register(tmp: Path, name: str, rows: list[str]) -> Path:
    path = tmp / name
    path.write_text("\n".join([MUTATION_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def share_above_whole(tmp: Path, world: World) -> Path:
    return _register(tmp, "share.csv", [mutation_row(line=1), mutation_row(line=2, share="3/2")])


def impossible_date(tmp: Path, world: World) -> Path:
    return _register(tmp, "date.csv", [mutation_row(entered="2024-02-30")])


def unknown_cnic(tmp: Path, world: World) -> Path:
    return _register(tmp, "cnic.csv", [mutation_row(transferee="35401-0000000-5")])


def text_mutation_no(tmp: Path, world: World) -> Path:
    return _register(tmp, "number.csv", [mutation_row(no="twelve")])


def second_half_bad(tmp: Path, world: World) -> Path:
    """Mutations 1-10 are good; 11-20 name a khewat the mouza does not have."""
    good = [mutation_row(no=n) for n in range(1, 11)]
    bad = [mutation_row(no=n, khewat=9) for n in range(11, 21)]
    return _register(tmp, "half.csv", good + bad)


def register_missing_column(tmp: Path, world: World) -> Path:
    header = MUTATION_HEADER.replace(",share", "")
    row = mutation_row().rsplit(",", 2)
    path = tmp / "columns.csv"
    path.write_text(f"{header}\n{row[0]},{row[2]}\n", encoding="utf-8")
    return path


def register_header_only(tmp: Path, world: World) -> Path:
    return _register(tmp, "header_only.csv", [])


def geopackage_as_register(tmp: Path, world: World) -> Path:
    gpkg = good_gpkg(tmp / "x.gpkg")
    path = tmp / "register.csv"
    path.write_bytes(gpkg.read_bytes())
    return path


PARCEL_CASES = {
    "invalid-geometry": Case(
        invalid_geometry, 2, "geometry", "invalid geometry (Self-intersection at (73.94"
    ),
    "utm-declared-as-wgs84": Case(
        utm_declared_as_degrees,
        None,
        "geometry",
        "every feature lies outside Pakistan (longitude 60 to 78, latitude 23 to 38) once "
        "reprojected from EPSG:4326 to EPSG:4326, e.g. row 1 at (400000, 3.51e+06): the "
        "declared CRS is wrong",
    ),
    "no-crs": Case(
        shapefile_without_prj,
        None,
        "geometry",
        "no coordinate reference system: declare the file's CRS (a Shapefile needs its .prj)",
    ),
    "missing-column": Case(
        missing_column,
        None,
        "land_class",
        "missing column 'land_class'; expected columns: khasra_no, land_class (required), "
        "area_kms, unit_system, source, khewat_no, assignment (optional); "
        "the file has: khasra_no, area_kms",
    ),
    "text-in-area": Case(
        text_in_area, 2, "area_kms", "area 'abc' is not kanal-marla-sarsai: expected whole"
    ),
    "duplicate-khasra": Case(
        duplicate_khasra, 3, "khasra_no", "khasra 12 appears twice in the file (also on row 1)"
    ),
    "khasra-in-database": Case(
        khasra_already_in_db,
        2,
        "khasra_no",
        "khasra 12 already exists in mouza Kot Nau (hadbast 117)",
    ),
    "truncated-gpkg": Case(
        truncated_gpkg, None, None, "the file is damaged or truncated and cannot be read ("
    ),
    "empty-layer": Case(empty_layer, None, None, "no features: the layer is empty"),
    "zero-bytes": Case(zero_bytes, None, None, "the file is empty (0 bytes)"),
    "csv-renamed-gpkg": Case(
        csv_renamed_gpkg,
        None,
        None,
        "not a GeoPackage, Shapefile or GeoJSON: its format is not recognised",
    ),
}

MUTATION_CASES = {
    "share-3/2": Case(
        share_above_whole, 2, "share", "share '3/2': share 3/2 is more than the whole (1/1)"
    ),
    "impossible-date": Case(
        impossible_date, 1, "entered_on", "'2024-02-30' is not a date: day is out of range"
    ),
    "unknown-cnic": Case(unknown_cnic, 1, "transferee", "no party with CNIC 35401-0000000-5"),
    "text-mutation-no": Case(
        text_mutation_no, 1, "mutation_no", "mutation number 'twelve' is not a whole number"
    ),
    "second-half-bad": Case(
        second_half_bad,
        11,
        "khewat_no",
        "khewat 9 does not exist in mouza Kot Nau (hadbast 117)",
    ),
    "missing-column": Case(
        register_missing_column,
        None,
        "share",
        "missing column 'share'; expected exactly these columns: mouza, mutation_no, type,",
    ),
    "header-only": Case(
        register_header_only,
        None,
        None,
        "no mutation lines: the file has a header but no data rows",
    ),
    "geopackage-as-csv": Case(
        geopackage_as_register,
        None,
        None,
        "not UTF-8 text (byte 0x",
    ),
}


def check_rejection(
    world: World, tmp_path: Path, case: Case, run: Callable[[Path], object]
) -> ImportRejected:
    path = case.build(tmp_path, world)
    before = world.counts()

    with pytest.raises(ImportRejected) as exc:
        run(path)

    rejection = exc.value
    assert rejection.path == str(path)
    assert str(rejection).startswith(f"{path}: rejected, nothing imported (")
    matching = [
        p
        for p in rejection.problems
        if (p.row, p.field) == (case.row, case.field) and p.reason.startswith(case.reason)
    ]
    assert matching, f"no problem ({case.row}, {case.field}, {case.reason!r}) in {rejection}"
    where = "file" if case.row is None else f"row {case.row}"
    assert f"  {where}" in str(rejection)
    assert world.counts() == before
    return rejection


@pytest.mark.parametrize("case", PARCEL_CASES.values(), ids=PARCEL_CASES.keys())
def test_broken_parcel_file_is_refused(world: World, tmp_path: Path, case: Case) -> None:
    check_rejection(
        world,
        tmp_path,
        case,
        lambda path: import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor),
    )


@pytest.mark.parametrize("case", MUTATION_CASES.values(), ids=MUTATION_CASES.keys())
def test_broken_mutation_register_is_refused(world: World, tmp_path: Path, case: Case) -> None:
    check_rejection(
        world, tmp_path, case, lambda path: import_mutations(world.engine, path, actor=world.actor)
    )


def test_second_half_bad_reports_only_the_bad_half(world: World, tmp_path: Path) -> None:
    """The good first half is checked clean, the bad half fully reported, nothing kept."""
    case = MUTATION_CASES["second-half-bad"]
    rejection = check_rejection(
        world, tmp_path, case, lambda p: import_mutations(world.engine, p, actor=world.actor)
    )
    assert [p.row for p in rejection.problems] == list(range(11, 21))
    counts = world.counts()
    assert (counts["khasra"], counts["mutation"], counts["mutation_line"]) == (0, 0, 0)
