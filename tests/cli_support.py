"""Running ``landgov`` commands against a test database, as the real CLI would.

:func:`use_database` points the CLI at ``engine``'s database (the application role, as
production) with a landgov home, a session file and audit checkpoint files of the test's
own, so nothing of the developer's ``$LANDGOV_HOME`` is read or written. Batch services
get their key files where ``landgov.cli._shell.job_actor`` looks for them
(``$LANDGOV_HOME/secrets/services``): copies of the keys
:func:`security_support.service_actor` provisioned for that database. :func:`sign_in`
drives ``landgov login`` with the account's password and a fresh TOTP code.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from security_support import PASSWORD, code_for, secrets_dir, service_actor, totp_secret
from sqlalchemy.engine import Engine
from typer.testing import CliRunner, Result

from landgov.cli import app
from landgov.config import load_settings
from landgov.domain import totp
from landgov.storage import engine as engine_module
from landgov.storage.cluster import write_private
from landgov.storage.engine import get_engine

runner = CliRunner()


def use_database(
    engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    services: tuple[str, ...] = (),
    home: Path | None = None,
) -> Path:
    """Points the CLI at ``engine``'s database; returns the landgov home it uses.

    ``services``: batch services (demo, valuation, imagery...) whose keys the CLI may use
    (copied to ``$LANDGOV_HOME/secrets/services``, 0600, where ``job_actor`` reads them).
    """
    home = home or tmp_path / "home"
    owner = get_engine(load_settings(), str(engine.url.database), "owner")
    keys = {name: service_key(engine, name) for name in services}  # before LANDGOV_HOME moves
    monkeypatch.setenv("LANDGOV_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv(
        "LANDGOV_OWNER_DATABASE_URL", owner.url.render_as_string(hide_password=False)
    )
    monkeypatch.setenv("LANDGOV_HOME", str(home))
    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(tmp_path / "session" / "session.json"))
    monkeypatch.setenv("LANDGOV_AUDIT_CHECKPOINTS", str(tmp_path / "audit" / "checkpoints.jsonl"))
    monkeypatch.setenv("LANDGOV_AUDIT_KEY", str(tmp_path / "audit-key" / "signing.key"))
    engine_module._engine_for.cache_clear()
    for name, key in keys.items():
        write_private(home / "secrets" / "services" / f"{name}.key", key)
    return home


def service_key(engine: Engine, name: str) -> str:
    """The key of the service ``name`` in ``engine``'s database (provisioned if missing),
    as :func:`security_support.service_actor` keeps it."""
    service_actor(engine, name)
    return (secrets_dir(engine) / "services" / f"{name}.key").read_text(encoding="utf-8")


def invoke(*args: str, input: str | None = None) -> Result:
    """Runs ``landgov ARGS`` (stdout and stderr in ``result.output``)."""
    return runner.invoke(app, list(args), input=input)


def fresh_code(engine: Engine, username: str) -> str:
    """A TOTP code of a step not used yet by ``username`` (a step is spent once)."""
    from sqlalchemy import text

    secret = totp_secret(engine, username)
    assert secret is not None, f"no TOTP secret known for {username}"
    with get_engine(load_settings(), str(engine.url.database), "owner").connect() as conn:
        last = conn.execute(
            text("SELECT totp_last_step FROM app_user WHERE username = :u"), {"u": username}
        ).scalar()
    now = time.time()
    step = max(int(now // totp.STEP_SECONDS), (last or 0) + 1)
    while step > int(time.time() // totp.STEP_SECONDS) + 1:  # beyond the ±1 step window
        time.sleep(1)
    return code_for(secret, step * totp.STEP_SECONDS)


def sign_in(engine: Engine, username: str, password: str = PASSWORD) -> Result:
    """``landgov login`` as ``username`` (password and code on stdin)."""
    code = fresh_code(engine, username)
    result = invoke("login", "--username", username, "--password-stdin",
                    input=f"{password}\n{code}\n")  # fmt: skip
    assert result.exit_code == 0, result.output
    return result
