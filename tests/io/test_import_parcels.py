"""Importing khasra parcels from GeoPackage, Shapefile and GeoJSON (landgov.io.parcels)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import shapely
from cli_support import use_database
from io_testdata import (
    ASLAM,
    OFFICER,
    ORIGIN,
    OUTSIDER,
    UTM43,
    World,
    bow_tie,
    overshoot,
    owner_of,
    rect,
    to_file,
)
from pyproj import Transformer
from rich.console import Console
from rich.progress import Progress
from security_support import officer_actor, service_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from landgov.cli import app
from landgov.cli._shell import save_session
from landgov.errors import AccessDenied, ImportRejected, RowProblem
from landgov.io import ImportReport, import_parcels
from landgov.security import bind
from landgov.storage import NotFound

WritePar = Callable[..., Path]

GOOD_ROWS = [
    {"khasra_no": "012", "land_class": "Nehri", "area_kms": "4-7-3"},
    {"khasra_no": "13/1", "land_class": "chahi"},
    {
        "khasra_no": "45 // 7 / 2",
        "land_class": "ghair mumkin",
        "unit_system": "urban",
        "source": "aks-shajra 1998",
    },
]
# 4-7-3 = 4*180 + 7*9 + 3; 2,000 m2 / 2.81032 m2 (standard sarsai) = 711.66;
# 2,000 m2 / 2.32258 m2 (urban sarsai, 25 ft2) = 861.11
EXPECTED = {
    "12": (None, 12, [], "nehri", 786, "standard"),
    "13/1": (None, 13, [1], "chahi", 712, "standard"),
    "45//7/2": (45, 7, [2], "ghair_mumkin", 861, "urban"),
}


def stored(world: World) -> dict[str, dict[str, object]]:
    with world.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT number, murabba, main_number, tatima, land_class, record_area_sarsai,"
                " unit_system, geom_area_m2, source, ST_SRID(geom) AS srid,"
                " GeometryType(geom) AS type, ST_IsValid(geom) AS valid,"
                " ST_NumGeometries(geom) AS parts, ST_XMin(geom) AS xmin, ST_YMin(geom) AS ymin,"
                " ST_XMax(geom) AS xmax, ST_YMax(geom) AS ymax, mouza_id"
                " FROM khasra ORDER BY id"
            )
        ).mappings()
        return {r["number"]: dict(r) for r in rows}


def lonlat_bounds(geom: shapely.Geometry, epsg: int = UTM43) -> tuple[float, ...]:
    """Bounds in degrees of a UTM geometry, projected independently with pyproj."""
    to_wgs84 = Transformer.from_crs(epsg, 4326, always_xy=True)
    lon, lat = to_wgs84.transform(*zip(*shapely.get_coordinates(geom), strict=True))
    return min(lon), min(lat), max(lon), max(lat)


def write_good(write_parcels: WritePar, name: str) -> Path:
    geoms = [rect(0), rect(1), rect(2)]
    if name.endswith(".geojson"):  # GeoJSON is WGS 84 by definition (RFC 7946)
        import geopandas as gpd

        wgs84 = gpd.GeoSeries(geoms, crs=UTM43).to_crs(4326)
        return write_parcels(name, GOOD_ROWS, list(wgs84), crs=4326)
    if name.endswith(".shp"):  # any CRS will do: UTM 42N, extended past its zone
        import geopandas as gpd

        utm42 = gpd.GeoSeries(geoms, crs=UTM43).to_crs(32642)
        return write_parcels(name, GOOD_ROWS, list(utm42), crs=32642)
    return write_parcels(name, GOOD_ROWS, geoms, crs=UTM43)


@pytest.mark.parametrize("name", ["parcels.gpkg", "parcels.shp", "parcels.geojson"])
def test_good_file_imports_every_khasra(world: World, write_parcels: WritePar, name: str) -> None:
    path = write_good(write_parcels, name)

    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)

    assert isinstance(report, ImportReport)
    assert report.counts == {"khasra": 3}
    assert report.summary().startswith(
        f"{name}: 3 khasras imported into mouza Kot Nau (hadbast 117) in "
    )
    rows = stored(world)
    assert list(rows) == ["12", "13/1", "45//7/2"]  # canonical numbers, file order
    for number, (murabba, main, tatima, land_class, sarsai, units) in EXPECTED.items():
        row = rows[number]
        assert (row["murabba"], row["main_number"], row["tatima"]) == (murabba, main, tatima)
        assert (row["land_class"], row["record_area_sarsai"], row["unit_system"]) == (
            land_class,
            sarsai,
            units,
        )
        assert row["geom_area_m2"] == pytest.approx(2000.0, rel=1e-6)
        assert (row["srid"], row["type"], row["valid"], row["parts"]) == (
            4326,
            "MULTIPOLYGON",
            True,
            1,
        )
        assert row["mouza_id"] == world.mouza_id
    assert rows["12"]["source"] == f"import:{name}"
    assert rows["45//7/2"]["source"] == "aks-shajra 1998"
    # the UTM 43N square lands where pyproj puts it, in degrees
    expected = lonlat_bounds(rect(0))
    got = tuple(rows["12"][k] for k in ("xmin", "ymin", "xmax", "ymax"))
    assert got == pytest.approx(expected, abs=1e-9)
    assert 73.9 < expected[0] < 74.0 and 31.7 < expected[1] < 31.8


def test_import_writes_its_audit_rows_as_the_actor(world: World, write_parcels: WritePar) -> None:
    """One import row, and the database's own row of the inserted khasras, both naming
    the signed-in patwari."""
    with world.engine.connect() as conn:
        before = conn.execute(text("SELECT coalesce(max(id), 0) FROM audit_log")).scalar_one()
    path = write_good(write_parcels, "parcels.gpkg")
    import_parcels(world.engine, path, mouza="117", actor=world.actor)
    with world.engine.connect() as conn:
        audit = conn.execute(
            text(
                "SELECT actor, action, entity, entity_id, details FROM audit_log"
                " WHERE id > :b ORDER BY id"
            ),
            {"b": before},
        )
        rows = audit.mappings().all()
    assert [(r["actor"], r["action"], r["entity"]) for r in rows] == [
        (world.actor.label, "db.insert", "khasra"),
        (world.actor.label, "import parcels", "mouza"),
    ]
    assert world.actor.label.startswith("user:")
    assert rows[0]["details"]["rows"] == 3
    row = rows[1]
    assert row["entity_id"] == str(world.mouza_id)
    assert row["details"]["file"] == "parcels.gpkg"
    assert row["details"]["count"] == 3
    assert row["details"]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_zipped_shapefile(world: World, write_parcels: WritePar, tmp_path: Path) -> None:
    shp = write_good(write_parcels, "parcels.shp")
    archive = tmp_path / "parcels.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("parcels.*"):
            if part.suffix != ".zip":
                zf.write(part, part.name)
    assert shp.exists()
    report = import_parcels(world.engine, archive, mouza="Kot Nau", actor=world.actor)
    assert report.counts == {"khasra": 3}


def test_numbers_in_a_numeric_column_and_3d_geometry(world: World, write_parcels: WritePar) -> None:
    """A khasra_no column typed integer and PolygonZ features are read as a person would."""
    geoms = [shapely.force_3d(rect(0), 200.0), shapely.force_3d(rect(1), 201.0)]
    path = write_parcels(
        "numeric.gpkg",
        [{"khasra_no": 7, "land_class": "barani"}, {"khasra_no": 8, "land_class": "barani"}],
        geoms,
    )
    import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    rows = stored(world)
    assert list(rows) == ["7", "8"]
    with world.engine.connect() as conn:
        assert (
            conn.execute(text("SELECT bool_or(ST_NDims(geom) = 3) FROM khasra")).scalar() is False
        )


def test_layer_must_be_named_when_the_file_has_several(
    world: World, write_parcels: WritePar, tmp_path: Path
) -> None:
    path = tmp_path / "survey.gpkg"
    to_file(path, [{"khasra_no": "1", "land_class": "nehri"}], [rect(0)], layer="parcels")
    to_file(path, [{"khasra_no": "2", "land_class": "nehri"}], [rect(1)], layer="old_parcels")

    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    assert exc.value.problems == [
        RowProblem(None, None, "has 2 layers (parcels, old_parcels); name the one to import")
    ]
    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", layer="new", actor=world.actor)
    assert exc.value.problems == [
        RowProblem(None, None, "has no layer 'new'; its layers: parcels, old_parcels")
    ]

    report = import_parcels(
        world.engine, path, mouza="Kot Nau", layer="old_parcels", actor=world.actor
    )
    assert report.counts == {"khasra": 1}
    assert list(stored(world)) == ["2"]


# --- geometry repair rule ---------------------------------------------------------------


def self_touching(i: int) -> shapely.Polygon:
    """An hourglass whose ring touches itself at one point, drawn in degrees (EPSG:4326)
    so that the touching vertex lies exactly on the opposite edge."""
    x0, y0 = 73.95 + i * 0.001, 31.72
    return shapely.Polygon(
        [(x0, y0), (x0 + 0.001, y0), (x0 + 0.001, y0 + 0.0004), (x0 + 0.0005, y0),
         (x0, y0 + 0.0004)]
    )  # fmt: skip


def spike(i: int) -> shapely.Polygon:
    """A parcel with a zero-width spike digitised out of its north edge."""
    x0, y0 = ORIGIN[0] + i * 50, ORIGIN[1]
    return shapely.Polygon(
        [(x0, y0), (x0 + 50, y0), (x0 + 50, y0 + 40), (x0 + 25, y0 + 40), (x0 + 25, y0 + 60),
         (x0 + 25, y0 + 40), (x0, y0 + 40)]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "parts", "area_m2"),
    [
        pytest.param(overshoot, 2, 2000.5, id="corner-overshoot-loop"),
        # two triangles of 0.0005 x 0.0004 degrees: 2,101.9 m2 geodesic (pyproj.Geod)
        pytest.param(self_touching, 2, 2101.9, id="self-touching-ring"),
        pytest.param(spike, 1, 2000.0, id="spike"),
    ],
)
def test_invalid_but_repairable_geometry_is_repaired(
    world: World,
    write_parcels: WritePar,
    shape: Callable[[int], shapely.Polygon],
    parts: int,
    area_m2: float,
) -> None:
    """The repair keeps what was drawn: the repaired area is within 1 % of the shoelace area."""
    geom = shape(0)
    assert not geom.is_valid
    crs = 4326 if shape is self_touching else UTM43
    rows = [{"khasra_no": "5", "land_class": "nehri"}]
    path = write_parcels("parcels.gpkg", rows, [geom], crs=crs)

    import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)

    row = stored(world)["5"]
    assert (row["valid"], row["type"], row["parts"]) == (True, "MULTIPOLYGON", parts)
    assert row["geom_area_m2"] == pytest.approx(area_m2, rel=2e-3)  # UTM scale error


def test_bow_tie_is_refused_with_its_validity_reason(world: World, write_parcels: WritePar) -> None:
    """Two equal lobes: shoelace area 0 against 1,000 m2 repaired: the intent is unknown."""
    path = write_parcels("parcels.gpkg", [{"khasra_no": "5", "land_class": "nehri"}], [bow_tie(0)])
    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    (problem,) = exc.value.problems
    assert (problem.row, problem.field) == (1, "geometry")
    assert problem.reason.startswith("invalid geometry (Self-intersection at (73.94")
    assert problem.reason.endswith(
        "repairing it would change its area by 100.0% (more than 1%), so its intended shape "
        "is unclear: fix it in the GIS"
    )


def test_a_hole_outside_its_shell_is_refused(world: World, write_parcels: WritePar) -> None:
    shell = rect(0)
    far_hole = shapely.box(ORIGIN[0] + 200, ORIGIN[1], ORIGIN[0] + 210, ORIGIN[1] + 10)
    geom = shapely.Polygon(shell.exterior.coords, [far_hole.exterior.coords])
    path = write_parcels("parcels.gpkg", [{"khasra_no": "5", "land_class": "nehri"}], [geom])
    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    (problem,) = exc.value.problems
    assert problem.reason.startswith("invalid geometry (Hole lies outside shell at (")
    assert "would change its area by 9.5% (more than 1%)" in problem.reason  # 200 of 2,100 m2


# --- every problem is reported, not just the first ---------------------------------------


def test_all_row_problems_are_collected(world: World, write_parcels: WritePar) -> None:
    far_away = rect(0, dx=3_000_000)  # 3,000 km east: outside Pakistan
    rows = [
        {"khasra_no": "1", "land_class": "rice paddy", "area_kms": "1-25-0"},
        {"khasra_no": "2//", "land_class": "nehri", "unit_system": "metric"},
        {"khasra_no": "3", "land_class": "nehri"},
        {"khasra_no": None, "land_class": None},
        {"khasra_no": "5", "land_class": "nehri", "area_kms": "0-0-0"},
        {"khasra_no": "6", "land_class": "nehri"},
        {"khasra_no": "7", "land_class": "nehri"},
        {"khasra_no": "99999999999", "land_class": "nehri", "area_kms": "99999999-0-0"},
    ]
    geoms = [rect(0), rect(1), shapely.Point(ORIGIN), rect(3), rect(4), None, far_away, rect(8)]
    path = write_parcels("parcels.gpkg", rows, geoms)

    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)

    found = [(p.row, p.field) for p in exc.value.problems]
    assert found == [
        (1, "land_class"),
        (1, "area_kms"),
        (2, "khasra_no"),
        (2, "unit_system"),
        (3, "geometry"),
        (4, "khasra_no"),
        (4, "land_class"),
        (5, "area_kms"),
        (6, "geometry"),
        (7, "geometry"),
        (8, "khasra_no"),
        (8, "area_kms"),
    ]
    reasons = [p.reason for p in exc.value.problems]
    assert reasons[0] == (
        "unknown land class 'rice paddy'; expected one of: nehri, chahi, barani, banjar, "
        "ghair_mumkin, abadi, shamlat, forest"
    )
    assert reasons[1] == "area '1-25-0': marla 25 in 1-25-0 must be 0-19 (20 marla make a kanal)"
    assert reasons[2].startswith("khasra number '2//': dangling '/'")
    assert reasons[3] == "unknown unit system 'metric'; expected one of: standard, urban"
    assert reasons[4] == "a Point; a khasra must be a Polygon or MultiPolygon"
    assert reasons[5] == "missing khasra number"
    assert reasons[7] == "area '0-0-0' must be more than 0-0-0"
    assert reasons[8] == "missing geometry"
    assert reasons[9].endswith(
        "lie outside Pakistan (longitude 60 to 78, latitude 23 to 38) once reprojected from "
        "EPSG:32643 to EPSG:4326"
    )
    assert reasons[10:] == [
        "khasra number '99999999999' is too large",
        "area '99999999-0-0' is too large",
    ]
    assert str(exc.value).startswith(f"{path}: rejected, nothing imported (12 problem(s)):")
    assert world.counts()["khasra"] == 0


def test_unknown_mouza(world: World, write_parcels: WritePar) -> None:
    path = write_good(write_parcels, "parcels.gpkg")
    with pytest.raises(NotFound, match="no mouza 'Nowhere'"):
        import_parcels(world.engine, path, mouza="Nowhere", actor=world.actor)


def test_database_refusal_becomes_a_rejection(world: World, write_parcels: WritePar) -> None:
    """A failure only the database sees (here a trigger standing in for a concurrent
    insert) rolls everything back and is reported as a rejection."""
    with owner_of(world.engine).begin() as conn:
        conn.execute(
            text(
                "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " RAISE EXCEPTION 'khasra % was taken meanwhile', NEW.number"
                " USING ERRCODE = 'unique_violation'; END $$"
            )
        )
        conn.execute(
            text(
                "CREATE TRIGGER refuse BEFORE INSERT ON khasra FOR EACH ROW"
                " WHEN (NEW.number = '13/1') EXECUTE FUNCTION refuse()"
            )
        )
    path = write_good(write_parcels, "parcels.gpkg")
    before = world.counts()
    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    (problem,) = exc.value.problems
    assert (problem.row, problem.field) == (None, None)
    assert problem.reason.startswith("the database refused it: khasra 13/1 was taken meanwhile")
    assert world.counts() == before


def test_progress_is_reported(world: World, write_parcels: WritePar) -> None:
    path = write_good(write_parcels, "parcels.gpkg")
    with Progress(console=Console(file=io.StringIO())) as progress:
        import_parcels(world.engine, path, mouza="Kot Nau", progress=progress, actor=world.actor)
    done = {t.description: (t.completed, t.total) for t in progress.tasks}
    assert done["Checking parcels.gpkg"] == (3, 3)
    assert done["Writing parcels.gpkg"] == (1, 1)


# --- who may import ---------------------------------------------------------------------


def test_import_outside_the_actors_jurisdiction_is_refused(
    world: World, write_parcels: WritePar
) -> None:
    """The patwari of Ferozewala cannot import into Dhamke (tehsil Muridke), nor can the
    tehsildar of Muridke import into Kot Nau; an analyst cannot import at all."""
    path = write_good(write_parcels, "parcels.gpkg")
    before = world.counts()
    with pytest.raises(AccessDenied) as exc:
        import_parcels(world.engine, path, mouza="Dhamke", actor=world.actor)
    assert exc.value.rule == "jurisdiction"
    assert "is not posted over mouza Dhamke today" in str(exc.value)
    outsider = officer_actor(world.engine, OUTSIDER)
    with pytest.raises(AccessDenied) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=outsider)
    assert exc.value.rule == "jurisdiction"
    analyst = staff_actor(world.engine, "revenue_analyst")
    with pytest.raises(AccessDenied) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=analyst)
    assert exc.value.rule == "role"
    assert world.counts() == before
    # where posted, the same file imports
    report = import_parcels(world.engine, path, mouza="Dhamke", actor=outsider)
    assert report.counts == {"khasra": 3}


def test_the_demo_loader_imports_anywhere(world: World, write_parcels: WritePar) -> None:
    path = write_good(write_parcels, "parcels.gpkg")
    demo = service_actor(world.engine, "demo")
    report = import_parcels(world.engine, path, mouza="Dhamke", actor=demo)
    assert report.counts == {"khasra": 3}
    with world.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT actor, action FROM audit_log"
                " WHERE entity = 'khasra' OR action = 'import parcels' ORDER BY id"
            )
        ).all()
    assert rows == [("service:demo", "db.insert"), ("service:demo", "import parcels")]


# --- where a khasra belongs: khewat_no, or unassigned (issue 16) -------------------------


def holdings(world: World) -> dict[str, tuple[object, ...]]:
    """Per imported khasra: (unassigned_since, khewat id, held area, valid_from, valid_to,
    khewat_khasra.mouza_id), the khewat columns None when no khewat holds it."""
    with world.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT k.number, k.unassigned_since, kk.khewat_id, kk.area_sarsai,"
                " kk.valid_from, kk.valid_to, kk.mouza_id FROM khasra k"
                " LEFT JOIN khewat_khasra kk ON kk.khasra_id = k.id ORDER BY k.id"
            )
        ).all()
    return {r[0]: tuple(r[1:]) for r in rows}


def today(world: World) -> object:
    with world.engine.connect() as conn:
        return conn.execute(text("SELECT current_date")).scalar_one()


def test_a_file_without_khewat_no_imports_its_khasras_unassigned(
    world: World, write_parcels: WritePar
) -> None:
    """No khewat_no column: every khasra is mapped and unassigned, none is held, and the
    report and the audit row say so."""
    path = write_good(write_parcels, "parcels.gpkg")
    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    assert report.counts == {"khasra": 3}
    assert (report.details["attached"], report.details["unassigned"]) == (0, 3)
    day = today(world)
    assert holdings(world) == {n: (day, None, None, None, None, None) for n in EXPECTED}
    with world.engine.connect() as conn:
        details = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'import parcels'")
        ).scalar_one()
    assert (details["attached"], details["unassigned"]) == (0, 3)


def test_khewat_no_attaches_each_khasra_to_its_khewat(
    world: World, write_parcels: WritePar
) -> None:
    """A typed (integer) khewat_no column: each khasra is held whole by its khewat from the
    import date, open-ended; a row marked unassigned is left unassigned; one statement
    writes the khewat_khasra rows, audited as the importing patwari."""
    rows = [
        {"khasra_no": "1", "land_class": "nehri", "area_kms": "4-7-3", "khewat_no": 1},
        {"khasra_no": "2", "land_class": "nehri", "khewat_no": 2, "assignment": None},
        {"khasra_no": "3", "land_class": "nehri", "khewat_no": None, "assignment": "Unassigned"},
        {"khasra_no": "4", "land_class": "chahi", "khewat_no": 1},
    ]
    path = write_parcels("parcels.gpkg", rows, [rect(i) for i in range(4)])
    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)

    assert report.counts == {"khasra": 4, "khewat_khasra": 3}
    assert (report.details["attached"], report.details["unassigned"]) == (3, 1)
    day = today(world)
    one, two, m = world.khewats[("Kot Nau", 1)], world.khewats[("Kot Nau", 2)], world.mouza_id
    assert holdings(world) == {
        "1": (None, one, 786, day, None, m),  # 4-7-3 = 786 sarsai, the record area
        "2": (None, two, 712, day, None, m),  # from the geometry: 2,000 m2
        "3": (day, None, None, None, None, None),
        "4": (None, one, 712, day, None, m),
    }
    with world.engine.connect() as conn:
        audit = conn.execute(
            text("SELECT actor, action, entity, details FROM audit_log ORDER BY id")
        ).all()
    assert [(a.actor, a.action, a.entity) for a in audit][-3:] == [
        (world.actor.label, "db.insert", "khasra"),
        (world.actor.label, "db.insert", "khewat_khasra"),
        (world.actor.label, "import parcels", "mouza"),
    ]
    assert audit[-2].details["rows"] == 3
    assert (audit[-1].details["attached"], audit[-1].details["unassigned"]) == (3, 1)


def test_khewat_no_in_a_shapefile_text_column(world: World, write_parcels: WritePar) -> None:
    """A Shapefile with khewat_no as text ("007" is khewat 7's spelling of 7)."""
    with owner_of(world.engine).begin() as conn:
        seven = conn.execute(
            text("INSERT INTO khewat (mouza_id, number) VALUES (:m, 7) RETURNING id"),
            {"m": world.mouza_id},
        ).scalar_one()
    rows = [{"khasra_no": "1", "land_class": "nehri", "khewat_no": "007"}]
    path = write_parcels("parcels.shp", rows, [rect(0)])
    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    assert report.counts == {"khasra": 1, "khewat_khasra": 1}
    assert holdings(world)["1"][:2] == (None, seven)


def _close_khewat(world: World, number: int) -> None:
    """Gives khewat ``number`` of Kot Nau an owner from 2020 whose share a sanctioned
    mutation ended in 2024: the account is closed."""
    with owner_of(world.engine).begin() as conn:
        mutation = conn.execute(
            text(
                "INSERT INTO mutation (mouza_id, number, type, status, entered_on, decided_on,"
                " officer_id) VALUES (:m, 1, 'partition', 'sanctioned', '2024-01-01',"
                " '2024-01-10', :o) RETURNING id"
            ),
            {"m": world.mouza_id, "o": world.officers[OFFICER]},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from,"
                " valid_to, ended_by_mutation_id) VALUES (:w, :p, 1, 1, '2020-01-01',"
                " '2024-01-10', :mu)"
            ),
            {"w": world.khewats[("Kot Nau", number)], "p": world.parties[ASLAM], "mu": mutation},
        )


def test_khewat_no_problems_refuse_the_whole_file(world: World, write_parcels: WritePar) -> None:
    """Each wrong khewat_no or assignment is a row problem with its field; nothing is
    written, not even the good rows' khasras."""
    _close_khewat(world, 2)
    rows = [
        {"khasra_no": "1", "land_class": "nehri", "khewat_no": "1"},  # good
        {"khasra_no": "2", "land_class": "nehri", "khewat_no": "99"},
        {"khasra_no": "3", "land_class": "nehri", "khewat_no": "twelve"},
        {"khasra_no": "4", "land_class": "nehri", "khewat_no": "1,2"},
        {"khasra_no": "5", "land_class": "nehri", "khewat_no": None},
        {"khasra_no": "6", "land_class": "nehri", "khewat_no": "1", "assignment": "unassigned"},
        {"khasra_no": "7", "land_class": "nehri", "khewat_no": None, "assignment": "later"},
        {"khasra_no": "8", "land_class": "nehri", "khewat_no": "2"},
        {"khasra_no": "9", "land_class": "nehri", "khewat_no": "-1"},
    ]
    path = write_parcels("parcels.gpkg", rows, [rect(i) for i in range(len(rows))])
    before = world.counts()
    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    place = "mouza Kot Nau (hadbast 117)"
    assert exc.value.problems == [
        RowProblem(2, "khewat_no", f"no khewat 99 in {place}"),
        RowProblem(
            3,
            "khewat_no",
            "khewat number 'twelve' is not a whole number (to import the khasra without a "
            "khewat, leave it empty and write 'unassigned' in the assignment field)",
        ),
        RowProblem(
            4,
            "khewat_no",
            "'1,2' names several khewats; an import attaches a khasra to one (which part of "
            "its area each would hold is not in the file): import it with assignment "
            "'unassigned'",
        ),
        RowProblem(
            5,
            "khewat_no",
            "missing khewat number: give the khewat that holds the khasra, or write "
            "'unassigned' in the assignment field to import it without one",
        ),
        RowProblem(
            6, "assignment", "'unassigned' but the row names khewat 1: leave one of them empty"
        ),
        RowProblem(
            7,
            "assignment",
            "unknown assignment 'later'; expected 'unassigned' (a khasra mapped before the "
            "record of rights holds it), or leave it empty",
        ),
        RowProblem(
            8,
            "khewat_no",
            f"khewat 2 of {place} is closed (no owner holds a share of it today); a khasra "
            "cannot be attached to a closed account",
        ),
        RowProblem(
            9,
            "khewat_no",
            "khewat number '-1' is not a whole number (to import the khasra without a "
            "khewat, leave it empty and write 'unassigned' in the assignment field)",
        ),
    ]
    assert world.counts() == before
    with world.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM khewat_khasra")).scalar_one() == 0


def test_a_khewat_of_another_mouza_is_not_found(world: World, write_parcels: WritePar) -> None:
    """Khewat numbers are per mouza: Dhamke's khewat 1 exists, its khewat 2 does not."""
    rows = [{"khasra_no": "1", "land_class": "nehri", "khewat_no": 2}]
    path = write_parcels("parcels.gpkg", rows, [rect(0)])
    demo = service_actor(world.engine, "demo")
    with pytest.raises(ImportRejected) as exc:
        import_parcels(world.engine, path, mouza="Dhamke", actor=demo)
    assert exc.value.problems == [
        RowProblem(1, "khewat_no", "no khewat 2 in mouza Dhamke (hadbast 201)")
    ]
    rows = [{"khasra_no": "1", "land_class": "nehri", "khewat_no": 1}]
    path = write_parcels("parcels.gpkg", rows, [rect(0)])
    import_parcels(world.engine, path, mouza="Dhamke", actor=demo)
    assert holdings(world)["1"][1:3] == (world.khewats[("Dhamke", 1)], 712)


def test_the_unassigned_state_ends_when_a_khewat_holds_the_khasra_and_never_returns(
    world: World, write_parcels: WritePar
) -> None:
    """The database keeps the state honest whatever path writes: a khewat_khasra row
    inserted directly by the application role (a bound patwari) clears it, audited as
    him; setting it again, even as the owner role, is refused."""
    path = write_good(write_parcels, "parcels.gpkg")
    import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    with world.engine.begin() as conn:
        bind(conn, world.actor)
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) SELECT :w, id, mouza_id, record_area_sarsai, '2025-01-01'"
                " FROM khasra WHERE number = '12'"
            ),
            {"w": world.khewats[("Kot Nau", 1)]},
        )
    day = today(world)
    states = {n: h[0] for n, h in holdings(world).items()}
    assert states == {"12": None, "13/1": day, "45//7/2": day}
    with world.engine.connect() as conn:
        cleared = conn.execute(
            text(
                "SELECT actor, details FROM audit_log WHERE action = 'db.update'"
                " AND entity = 'khasra'"
            )
        ).one()
    assert cleared.actor == world.actor.label
    (change,) = cleared.details["rows_changed"]
    assert change["before"]["unassigned_since"] == str(day)
    assert "unassigned_since" not in change["after"]  # NULL (the audit strips nulls)
    # the state can be left, never entered again: not for the khasra just attached, nor
    # by moving an unassigned khasra's date
    for number, value in (("12", "2025-06-01"), ("13/1", "2020-01-01")):
        refused = pytest.raises(DBAPIError, match="the unassigned state is set only when a")
        with refused, owner_of(world.engine).begin() as conn:
            conn.execute(
                text("UPDATE khasra SET unassigned_since = :d WHERE number = :n"),
                {"d": value, "n": number},
            )
    assert {n: h[0] for n, h in holdings(world).items()} == states


def test_cli_reports_attached_and_unassigned(
    world: World, write_parcels: WritePar, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`landgov import parcels`, signed in as the patwari: its output counts both."""
    use_database(world.engine, tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "300")  # no wrapping of rich's messages
    save_session(world.actor.token, world.actor.username)
    rows = [
        {"khasra_no": "1", "land_class": "nehri", "khewat_no": 1},
        {"khasra_no": "2", "land_class": "nehri", "assignment": "unassigned"},
    ]
    path = write_parcels("parcels.gpkg", rows, [rect(0), rect(1)])
    result = CliRunner().invoke(app, ["import", "parcels", str(path), "--mouza", "117"])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert lines[-2].startswith(
        "parcels.gpkg: 2 khasras (1 attached to a khewat) imported into mouza Kot Nau"
    )
    assert lines[-1] == (
        "1 attached to khewats (khewat_no), 1 unassigned (mapped, record of rights not yet "
        "attached)"
    )
