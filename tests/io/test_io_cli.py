"""The `landgov import parcels|mutations` and `landgov export` commands."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from io_testdata import MUTATION_HEADER, World, mutation_row, rect, to_file
from typer.testing import CliRunner

from landgov.cli import app


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose landgov talks to the test database."""
    url = world.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("LANDGOV_DATABASE_URL", url)
    monkeypatch.setenv("COLUMNS", "300")  # no wrapping of rich's messages
    return CliRunner()


def flat(text: str) -> str:
    return " ".join(text.split())


def parcels_file(tmp_path: Path, area: str = "4-7-3") -> Path:
    rows = [
        {"khasra_no": "12", "land_class": "nehri", "area_kms": area},
        {"khasra_no": "13", "land_class": "chahi"},
    ]
    return to_file(tmp_path / "parcels.gpkg", rows, [rect(0), rect(1)])


def test_import_parcels_command(cli: CliRunner, world: World, tmp_path: Path) -> None:
    path = parcels_file(tmp_path)
    result = cli.invoke(app, ["import", "parcels", str(path), "--mouza", "117"])
    assert result.exit_code == 0, result.output
    assert "parcels.gpkg: 2 khasras imported into mouza Kot Nau (hadbast 117)" in flat(
        result.output
    )
    assert world.counts()["khasra"] == 2


def test_import_parcels_command_refuses_a_bad_file(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    path = parcels_file(tmp_path, area="abc")
    result = cli.invoke(app, ["import", "parcels", str(path), "--mouza", "Kot Nau"])
    assert result.exit_code == 1
    output = flat(result.output)
    assert f"error: {path}: rejected, nothing imported (1 problem(s)):" in output
    assert "row 1, field 'area_kms': area 'abc' is not kanal-marla-sarsai" in output
    assert "Traceback" not in output
    assert world.counts()["khasra"] == 0


def test_import_parcels_command_unknown_mouza(cli: CliRunner, tmp_path: Path) -> None:
    result = cli.invoke(app, ["import", "parcels", str(parcels_file(tmp_path)), "--mouza", "X"])
    assert result.exit_code == 1
    assert "error: no mouza 'X' (by name or hadbast number)" in flat(result.output)


def test_import_mutations_command(cli: CliRunner, world: World, tmp_path: Path) -> None:
    good = tmp_path / "register.csv"
    good.write_text(f"{MUTATION_HEADER}\n{mutation_row(no=1)}\n", encoding="utf-8")
    result = cli.invoke(app, ["import", "mutations", str(good), "--actor", "clerk"])
    assert result.exit_code == 0, result.output
    assert "register.csv: 1 mutation (1 line) imported into mouza Kot Nau (hadbast 117)" in flat(
        result.output
    )

    bad = tmp_path / "bad.csv"
    bad.write_text(f"{MUTATION_HEADER}\n{mutation_row(no=2, share='3/2')}\n", encoding="utf-8")
    result = cli.invoke(app, ["import", "mutations", str(bad)])
    assert result.exit_code == 1
    assert "row 1, field 'share': share '3/2': share 3/2 is more than the whole (1/1)" in flat(
        result.output
    )
    assert world.counts()["mutation"] == 1


def test_export_command(cli: CliRunner, world: World, tmp_path: Path) -> None:
    imported = cli.invoke(app, ["import", "parcels", str(parcels_file(tmp_path)), "--mouza", "117"])
    assert imported.exit_code == 0, imported.output
    out = tmp_path / "out" / "kot_nau.gpkg"
    result = cli.invoke(
        app, ["export", "--mouza", "Kot Nau", "--out", str(out), "--as-of", "2024-01-01"]
    )
    assert result.exit_code == 0, result.output
    expected = "kot_nau.gpkg: 2 khasras and 0 ownership rows of mouza Kot Nau (hadbast 117)"
    assert f"{expected} as of 2024-01-01 exported in" in flat(result.output)
    assert len(pyogrio.read_dataframe(out, layer="khasra")) == 2
