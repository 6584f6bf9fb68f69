"""``landgov demo`` runs as the demo service, prints how to sign in (never the secrets) and
ends with a signed audit checkpoint."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from cli_support import invoke, use_database
from sqlalchemy import text
from sqlalchemy.engine import Engine


def _home_with_demo_files(demo_dir: Path, tmp_path: Path) -> Path:
    """A landgov home whose demo folder is a copy of the session's demo files."""
    home = tmp_path / "home"
    shutil.copytree(demo_dir, home / "demo")
    return home


def _secrets(demo_dir: Path) -> list[str]:
    data = json.loads((demo_dir / "accounts.json").read_text(encoding="utf-8"))
    return [
        str(a[k])
        for a in data["accounts"]
        for k in ("password", "totp_secret", "otpauth_uri")
        if a.get(k)
    ]


def test_demo_accounts_prints_where_and_who_never_the_secrets(
    demo_engine: Engine, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home_with_demo_files(demo_dir, tmp_path)
    use_database(demo_engine, tmp_path, monkeypatch, home=home)
    result = invoke("demo", "--accounts")
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert f"{home / 'demo' / 'accounts.txt'}" in said and "not printed here" in said
    accounts = json.loads((demo_dir / "accounts.json").read_text(encoding="utf-8"))["accounts"]
    today = [a["username"] for a in accounts if a["posted_today"]]
    assert today and all(f"{u} (" in said for u in today)
    assert "landgov login --username" in said
    secrets = _secrets(demo_dir)
    assert secrets and not any(s in result.output for s in secrets)
    # the file itself stays readable by its owner only
    assert stat.S_IMODE((demo_dir / "accounts.txt").stat().st_mode) == 0o600
    use_database(demo_engine, tmp_path / "other", monkeypatch)
    none = invoke("demo", "--accounts")
    assert none.exit_code == 0 and "run 'landgov demo' first" in none.output


def test_demo_runs_as_the_demo_service_and_checkpoints_the_audit_log(
    demo_copy: Engine, demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _home_with_demo_files(demo_dir, tmp_path)
    use_database(demo_copy, tmp_path, monkeypatch, home=home)
    refused = invoke("demo")
    assert refused.exit_code == 1
    assert "runs as the 'demo' service" in refused.output and "Traceback" not in refused.output

    use_database(demo_copy, tmp_path, monkeypatch, home=home, services=("demo",))
    result = invoke("demo")
    assert result.exit_code == 0, result.output
    assert "How to sign in" in result.output
    assert not any(s in result.output for s in _secrets(demo_dir))
    checkpoints = Path(os.environ["LANDGOV_AUDIT_CHECKPOINTS"])
    lines = [json.loads(line) for line in checkpoints.read_text(encoding="utf-8").splitlines()]
    assert lines and lines[-1]["database"] == demo_copy.url.database
    with demo_copy.connect() as conn:
        head = conn.execute(text("SELECT max(seq) FROM audit_log")).scalar_one()
        signed = (
            conn.execute(
                text("SELECT actor FROM audit_log WHERE action = 'audit.checkpoint' ORDER BY seq")
            )
            .scalars()
            .all()
        )
    assert signed[-1] == "service:demo" and lines[-1]["seq"] <= head
