"""The ``landgov db`` commands and ``--help`` on every command, through typer's runner."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from cli_support import use_database
from sqlalchemy.engine import Engine
from typer.main import get_command
from typer.testing import CliRunner

from landgov.cli import app
from landgov.security.accounts import SERVICES
from landgov.storage import engine as engine_module
from landgov.storage import migrate

runner = CliRunner()


@pytest.fixture
def on_db(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Engine:
    use_database(engine, tmp_path, monkeypatch)  # a home of its own: keys go there
    return engine


def _all_command_paths() -> list[list[str]]:
    paths: list[list[str]] = []

    def walk(cmd: object, prefix: list[str]) -> None:
        paths.append(prefix)
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*prefix, name])

    walk(get_command(app), [])
    return paths


@pytest.mark.parametrize("path", _all_command_paths(), ids=lambda p: " ".join(p) or "landgov")
def test_every_command_has_help(path: list[str]) -> None:
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_db_status_reports_migrations(on_db: Engine) -> None:
    result = runner.invoke(app, ["db", "status"])
    assert result.exit_code == 0, result.output
    assert f"migrations applied: {len(migrate.discover())}, pending: 0" in result.output


def test_db_migrate_is_idempotent_and_provisions_the_services(
    on_db: Engine, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["db", "migrate"])
    assert result.exit_code == 0, result.output
    assert "0 migration(s) applied" in result.output
    keys = tmp_path / "home" / "secrets" / "services"
    assert "service accounts provisioned" in result.output
    assert sorted(p.name for p in keys.iterdir()) == sorted(f"{name}.key" for name in SERVICES)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in keys.iterdir())
    again = runner.invoke(app, ["db", "migrate"])
    assert again.exit_code == 0 and "provisioned" not in again.output  # keys kept
    # a provisioned key signs its service in: what every batch command does
    from landgov.security import service_login

    actor = service_login(on_db, "valuation", (keys / "valuation.key").read_text())
    assert actor.label == "service:valuation" and actor.roles == {"svc_valuation"}


def test_db_up_with_external_server_does_not_start_a_cluster(on_db: Engine) -> None:
    result = runner.invoke(app, ["db", "up"])
    assert result.exit_code == 0, result.output
    assert "LANDGOV_DATABASE_URL is set" in result.output


def test_unreachable_database_is_a_clean_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANDGOV_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    engine_module._engine_for.cache_clear()
    result = runner.invoke(app, ["db", "migrate"])
    assert result.exit_code == 1
    assert "cannot reach the database" in result.output
    assert "Traceback" not in result.output


def test_inheritance_json_contract() -> None:
    result = runner.invoke(
        app, ["inheritance", "--school", "hanafi", "--heirs", "wife=1,son=2,daughter=1", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [
        {"heir": "wife", "count": 1, "share": "1/8", "share_each": "1/8"},
        {"heir": "son", "count": 2, "share": "7/10", "share_each": "7/20"},
        {"heir": "daughter", "count": 1, "share": "7/40", "share_each": "7/40"},
    ]


def test_inheritance_predeceased_and_errors() -> None:
    result = runner.invoke(
        app,
        ["inheritance", "--heirs", "son=1", "--predeceased", "son:sons=1,daughters=1", "--json"],
    )
    assert result.exit_code == 0, result.output
    shares = {row["heir"]: row["share"] for row in json.loads(result.output)}
    assert shares == {
        "son": "1/2",
        "predeceased_son_1.son": "1/3",
        "predeceased_son_1.daughter": "1/6",
    }
    bad = runner.invoke(app, ["inheritance", "--heirs", "wife=5"])
    assert bad.exit_code == 1
    assert "at most 4 wives" in bad.output
    bad = runner.invoke(app, ["inheritance", "--heirs", "son=1", "--school", "maliki"])
    assert bad.exit_code == 1
    assert "unknown school 'maliki'" in bad.output


def test_unmigrated_database_says_to_migrate(
    empty_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "LANDGOV_DATABASE_URL", empty_engine.url.render_as_string(hide_password=False)
    )
    engine_module._engine_for.cache_clear()
    result = runner.invoke(app, ["imagery", "list"])
    assert result.exit_code == 1
    assert "Run 'landgov db migrate'" in result.output
    assert "Traceback" not in result.output
