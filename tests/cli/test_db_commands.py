"""The ``landgov db`` commands and ``--help`` on every command, through typer's runner."""

from __future__ import annotations

import pytest
from sqlalchemy.engine import Engine
from typer.main import get_command
from typer.testing import CliRunner

from landgov.cli import app
from landgov.storage import engine as engine_module

runner = CliRunner()


@pytest.fixture
def on_db(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> Engine:
    monkeypatch.setenv("LANDGOV_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    engine_module._engine_for.cache_clear()
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
    assert "migrations applied: 4, pending: 0" in result.output


def test_db_migrate_is_idempotent(on_db: Engine) -> None:
    result = runner.invoke(app, ["db", "migrate"])
    assert result.exit_code == 0, result.output
    assert "0 migration(s) applied" in result.output


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
