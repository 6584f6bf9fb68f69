"""The `landgov import parcels|mutations` and `landgov export` commands, acting as the
person signed in (the session file), never as a name typed on the command line."""

from __future__ import annotations

from pathlib import Path

import pyogrio
import pytest
from cli_support import use_database
from io_testdata import ASLAM, MUTATION_HEADER, World, mutation_row, owner_of, rect, to_file
from security_support import staff_actor
from sqlalchemy import text
from typer.testing import CliRunner

from landgov.cli import app
from landgov.cli._shell import forget_session, save_session
from landgov.security import Actor


def sign_in_as(actor: Actor) -> None:
    save_session(actor.token, actor.username)


@pytest.fixture
def cli(world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose landgov talks to the test database, signed in as the patwari."""
    use_database(world.engine, tmp_path, monkeypatch)
    monkeypatch.setenv("COLUMNS", "300")  # no wrapping of rich's messages
    sign_in_as(world.actor)
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
    result = cli.invoke(app, ["import", "mutations", str(good)])
    assert result.exit_code == 0, result.output
    assert "register.csv: 1 mutation (1 line) imported into mouza Kot Nau (hadbast 117)" in flat(
        result.output
    )
    with world.engine.connect() as conn:
        actor = conn.execute(
            text("SELECT actor FROM audit_log WHERE action = 'import mutations'")
        ).scalar_one()
    assert actor == world.actor.label

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


def test_changing_commands_need_a_session_and_take_no_actor(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    path = parcels_file(tmp_path)
    result = cli.invoke(app, ["import", "parcels", str(path), "--mouza", "117", "--actor", "x"])
    assert result.exit_code == 2
    assert "No such option: --actor" in flat(result.output)
    forget_session()
    for args in (
        ["import", "parcels", str(path), "--mouza", "117"],
        ["import", "mutations", str(tmp_path / "register.csv")],
        ["export", "--mouza", "117", "--out", str(tmp_path / "x.gpkg")],
    ):
        result = cli.invoke(app, args)
        assert result.exit_code == 1, args
        assert "error: not signed in: run 'landgov login' first" in flat(result.output)
    assert world.counts()["khasra"] == 0


def test_import_outside_the_posting_is_refused(
    cli: CliRunner, world: World, tmp_path: Path
) -> None:
    result = cli.invoke(
        app, ["import", "parcels", str(parcels_file(tmp_path)), "--mouza", "Dhamke"]
    )
    assert result.exit_code == 1
    expected = "error: refused by rule jurisdiction: Muhammad Akram (patwari) is not posted"
    assert f"{expected} over mouza Dhamke today" in flat(result.output)
    assert world.counts()["khasra"] == 0


def test_export_unmasked_and_csv(cli: CliRunner, world: World, tmp_path: Path) -> None:
    imported = cli.invoke(app, ["import", "parcels", str(parcels_file(tmp_path)), "--mouza", "117"])
    assert imported.exit_code == 0, imported.output
    with owner_of(world.engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai,"
                " valid_from) SELECT :w, id, mouza_id, 700, '2020-01-01' FROM khasra"
            ),
            {"w": world.khewats[("Kot Nau", 1)]},
        )
        conn.execute(
            text(
                "INSERT INTO share (khewat_id, party_id, numerator, denominator, valid_from)"
                " VALUES (:w, :p, 1, 1, '2020-01-01')"
            ),
            {"w": world.khewats[("Kot Nau", 1)], "p": world.parties[ASLAM]},
        )
    csv_out = tmp_path / "owners.csv"
    result = cli.invoke(
        app, ["export", "--mouza", "117", "--out", str(csv_out), "--as-of", "2024-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert "35401-*******-1" in csv_out.read_text(encoding="utf-8-sig")
    assert ASLAM not in csv_out.read_text(encoding="utf-8-sig")
    result = cli.invoke(
        app,
        ["export", "--mouza", "117", "--out", str(csv_out), "--as-of", "2024-01-01", "--unmasked"],
    )
    assert result.exit_code == 0, result.output
    assert ASLAM in csv_out.read_text(encoding="utf-8-sig")

    sign_in_as(staff_actor(world.engine, "revenue_analyst"))
    result = cli.invoke(
        app, ["export", "--mouza", "117", "--out", str(tmp_path / "a.csv"), "--unmasked"]
    )
    assert result.exit_code == 1
    assert "error: refused by rule unmask:" in flat(result.output)
    assert not (tmp_path / "a.csv").exists()
    with world.engine.connect() as conn:
        logged = conn.execute(
            text("SELECT actor, details ->> 'unmasked' FROM access_log ORDER BY id")
        ).all()
    assert logged == [(world.actor.label, "false"), (world.actor.label, "true")]
