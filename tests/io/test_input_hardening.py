"""Input that cannot hurt the next person (issue 14 §7): size limits, non-UTF-8 text,
numbers too large for their columns and terminal control characters are refused with a
clear message naming file, row and rule; never a traceback, never a partial write."""

from __future__ import annotations

import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import shapely
from io_testdata import MUTATION_HEADER, ORIGIN, World, mutation_row, rect, to_file

from landgov.errors import ImportRejected, InputRejected, RowProblem
from landgov.io import import_mutations, import_parcels

WriteCsv = Callable[..., Path]
GOOD = [{"khasra_no": "12", "land_class": "nehri"}, {"khasra_no": "13", "land_class": "chahi"}]


def refused(world: World, run: Callable[[], object]) -> ImportRejected:
    """Runs an import that must be refused, writing nothing; returns the rejection."""
    before = world.counts()
    with pytest.raises(ImportRejected) as exc:
        run()
    assert world.counts() == before
    message = str(exc.value)
    assert "\x1b" not in message and "\u202e" not in message  # nothing raw echoed
    return exc.value


def register(world: World, path: Path) -> ImportRejected:
    return refused(world, lambda: import_mutations(world.engine, path, actor=world.actor))


def parcels(world: World, path: Path) -> ImportRejected:
    return refused(
        world, lambda: import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    )


def problem_at(rejection: ImportRejected, row: int | None, field: str | None) -> RowProblem:
    found = [p for p in rejection.problems if (p.row, p.field) == (row, field)]
    assert found, f"no problem at ({row}, {field}) in {rejection}"
    return found[0]


# --- non-UTF-8 ---------------------------------------------------------------------------


def test_non_utf8_register_names_row_line_and_offset(world: World, tmp_path: Path) -> None:
    """A Latin-1 'é' on data row 2, which is line 4 of the file because row 1's reason
    spans two lines; the offset counts the byte-order mark."""
    row1 = mutation_row(
        no=1, status="rejected", decided="2024-02-01", officer="35401-9999999-1", reason="REASON"
    ).replace("REASON", '"Deed\nnot produced"')
    row2 = mutation_row(no=2, registrar="Sub-Registrar MARK")
    text = f"{MUTATION_HEADER}\n{row1}\n{row2}\n"
    data = b"\xef\xbb\xbf" + text.encode("utf-8").replace(b"MARK", b"Mur\xe9dke")
    path = tmp_path / "latin1.csv"
    path.write_bytes(data)
    offset = data.index(b"\xe9")

    rejection = register(world, path)

    assert rejection.path == str(path)
    assert rejection.problems == [
        RowProblem(
            2,
            None,
            f"not UTF-8 text (byte 0xe9 at byte offset {offset:,}, line 4, data row 2); "
            "expected a CSV mutation register saved as UTF-8",
        )
    ]
    assert str(rejection).startswith(f"{path}: rejected, nothing imported (1 problem(s)):")
    assert "row 2: not UTF-8 text" in str(rejection)


def test_non_utf8_header(world: World, tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_bytes(MUTATION_HEADER.replace("mouza", "mouz\xe4", 1).encode("latin-1") + b"\n")
    (problem,) = register(world, path).problems
    assert problem.row is None
    assert problem.reason.startswith(
        "not UTF-8 text (byte 0xe4 at byte offset 4, line 1, the header)"
    )


# --- numbers too large for their columns ----------------------------------------------------------


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        pytest.param(
            mutation_row(consideration="9" * 20),
            "consideration_rs",
            "99999999999999999999 rupees is more than 16 digits (the largest amount the "
            "register stores)",
            id="price-beyond-numeric-16",
        ),
        pytest.param(
            mutation_row(statutory=str(2**63)),
            "statutory_value_rs",
            "9223372036854775808 rupees is more than 16 digits",
            id="value-beyond-int8",
        ),
        pytest.param(
            mutation_row(consideration="0" * 30 + "5"),
            None,
            "",
            id="leading-zeros-are-not-overflow",
        ),
        pytest.param(
            mutation_row(share="1/" + "9" * 5000),
            "share",
            f"share '1/{'9' * 38}…': a term of 5,000 digits is too large to store (at most 19 "
            "digits once in lowest terms)",
            id="share-of-5000-digits",
        ),
        pytest.param(
            mutation_row(share=f"{2**64}/{2**65}"),
            None,
            "",
            id="large-terms-that-reduce-are-fine",
        ),
        pytest.param(
            mutation_row(share=f"1/{2**64 + 1}"),
            "share",
            f"share '1/{2**64 + 1}': its denominator is too large to store",
            id="denominator-beyond-int8",
        ),
        pytest.param(
            mutation_row(no="9" * 5000),
            "mutation_no",
            f"mutation number {'9' * 40}… is too large",
            id="mutation-number-of-5000-digits",
        ),
        pytest.param(
            mutation_row(khewat="1" + "0" * 10),
            "khewat_no",
            "khewat number 10000000000 is too large",
            id="khewat-beyond-int4",
        ),
    ],
)
def test_numeric_overflow_is_a_row_problem(
    world: World, write_csv: WriteCsv, row: str, field: str | None, reason: str
) -> None:
    path = write_csv("register.csv", [row])
    if field is None:  # not an overflow: imports
        report = import_mutations(world.engine, path, actor=world.actor)
        assert report.counts["mutation"] == 1
        return
    problem = problem_at(register(world, path), 1, field)
    assert problem.reason.startswith(reason), problem.reason
    assert len(problem.reason) < 200


def test_parcel_numbers_too_large(world: World, tmp_path: Path) -> None:
    rows = [
        {"khasra_no": "9" * 5000, "land_class": "nehri"},
        {"khasra_no": "13", "land_class": "nehri", "area_kms": "9" * 5000 + "-0-0"},
    ]
    rejection = parcels(world, to_file(tmp_path / "big.gpkg", rows, [rect(0), rect(1)]))
    assert problem_at(rejection, 1, "khasra_no").reason.startswith(
        "khasra number '9999999999999999999999999999999999999999…' is too large"
    )
    assert problem_at(rejection, 2, "area_kms").reason.startswith("area '99999")


# --- terminal control characters -----------------------------------------------------------------


def test_control_characters_in_register_cells_are_refused(
    world: World, write_csv: WriteCsv
) -> None:
    rows = [
        mutation_row(no=1, registrar="Ferozewala\x1b[2J\x1b[H"),  # clears the screen
        mutation_row(
            no=2,
            status="rejected",
            decided="2024-02-01",
            officer="35401-9999999-1",
            reason="Deed \u202eforged",
        ),
        mutation_row(no=3, deed="12/B\x85C", deed_date="2024-01-01"),  # C1 NEL
        mutation_row(no=4, registrar="tab\tis fine"),
    ]
    rejection = register(world, write_csv("register.csv", rows))
    assert [(p.row, p.field) for p in rejection.problems] == [
        (1, "sub_registrar"),
        (2, "rejection_reason"),
        (3, "deed_number"),
    ]
    reasons = [p.reason for p in rejection.problems]
    assert reasons[0] == (
        "contains U+001B (ESC, which starts a terminal escape sequence) at character 11: "
        "terminal control characters and bidirectional overrides are not allowed in text"
    )
    assert reasons[1].startswith("contains U+202E (right-to-left override) at character 6")
    assert reasons[2].startswith("contains U+0085 (a C1 control character) at character 5")


def test_control_characters_in_the_header_are_refused(world: World, tmp_path: Path) -> None:
    path = tmp_path / "register.csv"
    header = MUTATION_HEADER.replace("fees_rs", "fees_rs\x1b]0;owned\x07")
    path.write_text(f"{header}\n{mutation_row()}\n", encoding="utf-8")
    (problem,) = register(world, path).problems
    assert problem.row is None
    assert problem.reason.startswith(
        "column 15 of the header contains U+001B (ESC, which starts a terminal escape sequence)"
    )


def test_control_characters_in_parcel_cells_and_columns(world: World, tmp_path: Path) -> None:
    rows = [
        {"khasra_no": "12\x1b[8m", "land_class": "nehri", "source": "aks-shajra"},
        {"khasra_no": "13", "land_class": "chahi", "source": "survey \u2066 1998"},
    ]
    rejection = parcels(world, to_file(tmp_path / "ctl.gpkg", rows, [rect(0), rect(1)]))
    assert [(p.row, p.field) for p in rejection.problems] == [(1, "khasra_no"), (2, "source")]
    assert rejection.problems[1].reason.startswith(
        "contains U+2066 (left-to-right isolate) at character 8"
    )

    columns = [{"khasra_no": "12", "land_class": "nehri", "note\x1b[31m": "x"}]
    rejection = parcels(world, to_file(tmp_path / "column.gpkg", columns, [rect(0)]))
    (problem,) = rejection.problems
    assert problem.reason.startswith("the column name 'note<U+001B>[31m' contains U+001B")


# --- size limits ------------------------------------------------------------------------------


def test_register_over_the_byte_limit(
    world: World, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_csv("register.csv", [mutation_row(no=n) for n in range(1, 4)])
    size = path.stat().st_size
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_BYTES", str(size - 1))
    (problem,) = register(world, path).problems
    assert problem == RowProblem(
        None,
        None,
        f"the file is {size:,} bytes, more than the limit of {size - 1:,} bytes set by "
        "LANDGOV_IMPORT_MAX_BYTES",
    )
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_BYTES", str(size))
    assert import_mutations(world.engine, path, actor=world.actor).counts["mutation"] == 3


def test_register_over_the_row_limit(
    world: World, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_ROWS", "2")
    path = write_csv("register.csv", [mutation_row(no=n) for n in range(1, 5)])
    (problem,) = register(world, path).problems
    assert problem == RowProblem(
        3,
        None,
        "the file has more than 2 rows, the limit set by LANDGOV_IMPORT_MAX_ROWS: row 3 is "
        "the first over it; split the file",
    )
    assert "  row 3: the file has more than 2 rows" in str(register(world, path))
    ok = write_csv("two.csv", [mutation_row(no=n) for n in range(1, 3)])
    assert import_mutations(world.engine, ok, actor=world.actor).counts["mutation"] == 2


def test_a_limit_that_is_not_a_number_is_refused(
    world: World, write_csv: WriteCsv, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_ROWS", "lots")
    with pytest.raises(InputRejected, match="LANDGOV_IMPORT_MAX_ROWS='lots' is not a whole"):
        import_mutations(world.engine, write_csv("r.csv", [mutation_row()]), actor=world.actor)
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_ROWS", "0")
    with pytest.raises(InputRejected, match="greater than 0"):
        import_mutations(world.engine, write_csv("r.csv", [mutation_row()]), actor=world.actor)


def test_parcels_over_the_feature_limit(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_ROWS", "2")
    rows = [*GOOD, {"khasra_no": "14", "land_class": "nehri"}]
    for name in ("three.gpkg", "three.geojson"):
        path = to_file(tmp_path / name, rows, [rect(0), rect(1), rect(2)])
        (problem,) = parcels(world, path).problems
        assert problem == RowProblem(
            3,
            None,
            "the layer has 3 features, more than 2 rows, the limit set by "
            "LANDGOV_IMPORT_MAX_ROWS: row 3 is the first over it; split the file",
        )


def test_parcel_over_the_vertex_limit(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parcel digitised with 129 vertices against a limit of 100; the check comes before
    any reprojection or repair."""
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_VERTICES", "100")
    round_plot = shapely.Point(ORIGIN[0] + 500, ORIGIN[1] + 500).buffer(20, quad_segs=32)
    assert shapely.get_num_coordinates(round_plot) == 129
    path = to_file(tmp_path / "round.gpkg", GOOD, [rect(0), round_plot])
    (problem,) = parcels(world, path).problems
    assert problem == RowProblem(
        2,
        "geometry",
        "129 vertices, more than the limit of 100 per parcel set by LANDGOV_IMPORT_MAX_VERTICES",
    )
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_VERTICES", "129")
    report = import_parcels(world.engine, path, mouza="Kot Nau", actor=world.actor)
    assert report.counts == {"khasra": 2}


def test_parcel_file_over_the_byte_limit(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Shapefile counts with its sidecars; a zip both as stored and as unpacked."""
    shp = to_file(tmp_path / "parcels.shp", GOOD, [rect(0), rect(1)])
    total = sum(p.stat().st_size for p in tmp_path.glob("parcels.*"))
    assert shp.stat().st_size < total
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_BYTES", str(total - 1))
    (problem,) = parcels(world, shp).problems
    assert 1024 < total < 10 * 1024
    assert problem.reason == (
        f"the file is {total / 1024:.1f} KiB ({total:,} bytes), more than the limit of "
        f"{(total - 1) / 1024:.1f} KiB ({total - 1:,} bytes) set by LANDGOV_IMPORT_MAX_BYTES"
    )

    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for part in tmp_path.glob("parcels.*"):
            archive.write(part, part.name)
        archive.writestr("padding.txt", b"\0" * 3_000_000)  # packs to a few KiB
    assert bomb.stat().st_size < 100_000
    monkeypatch.setenv("LANDGOV_IMPORT_MAX_BYTES", "1048576")
    (problem,) = parcels(world, bomb).problems
    assert problem.reason.startswith("the archive unpacks to 2.9 MiB (")
    assert problem.reason.endswith(
        "more than the limit of 1.0 MiB (1,048,576 bytes) set by LANDGOV_IMPORT_MAX_BYTES"
    )


def test_non_utf8_text_in_a_parcel_file_names_its_feature(world: World, tmp_path: Path) -> None:
    """A GeoJSON whose third feature's source was saved in Latin-1."""
    import geopandas as gpd

    rows = [*GOOD, {"khasra_no": "14", "land_class": "nehri"}]
    frame = gpd.GeoDataFrame(
        [{**r, "source": "MARK" if r["khasra_no"] == "14" else "survey"} for r in rows],
        geometry=gpd.GeoSeries([rect(0), rect(1), rect(2)], crs=32643).to_crs(4326).tolist(),
        crs=4326,
    )
    path = tmp_path / "latin1.geojson"
    path.write_bytes(frame.to_json().encode("utf-8").replace(b"MARK", b"Mur\xe9dke"))
    (problem,) = parcels(world, path).problems
    assert problem == RowProblem(
        3,
        None,
        "not UTF-8 text: a text field holds byte 0xe9 (at byte 3 of the field), which is not "
        "UTF-8; save the file as UTF-8 (a Shapefile: declare its encoding in a .cpg file)",
    )
