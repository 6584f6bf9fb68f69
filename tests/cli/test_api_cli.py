"""``landgov api-clients`` and ``landgov serve api`` (issue 20): registering clients as the
demo service or an administrator, credentials files readable only by their owner, and the
service answering over HTTP."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from cli_support import invoke, sign_in, use_database
from security_support import staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine


@pytest.fixture
def on_db(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    return use_database(engine, tmp_path, monkeypatch, services=("demo",))


def test_the_demo_service_registers_a_client_into_a_private_credentials_file(
    engine: Engine, on_db: Path, tmp_path: Path
) -> None:
    creds = tmp_path / "demo" / "api-client.json"
    args = ["api-clients", "add", "demo-bank", "--agency", "Demo Bank", "--scopes",
            "fard:read,parcels:read", "--credentials", str(creds), "--reuse"]  # fmt: skip
    first = invoke(*args)
    assert first.exit_code == 0, first.output
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    saved = json.loads(creds.read_text())
    assert saved["client_id"] == "demo-bank" and saved["scopes"] == ["fard:read", "parcels:read"]
    assert saved["token_url"].endswith("/v1/oauth/token")
    assert saved["client_secret"] not in first.output  # written, not printed
    with engine.connect() as conn:
        stored = conn.execute(
            text("SELECT secret_hash, created_by FROM api_client WHERE name = 'demo-bank'")
        ).one()
    assert saved["client_secret"] not in stored.secret_hash
    assert stored.created_by == "service:demo"
    # a second make demo keeps the file while it still holds the live secret...
    again = invoke(*args)
    assert again.exit_code == 0 and "still holds its secret" in again.output
    assert json.loads(creds.read_text()) == saved
    # ...and rotates the secret into it when the file was lost
    creds.unlink()
    third = invoke(*args)
    assert third.exit_code == 0, third.output
    assert json.loads(creds.read_text())["client_secret"] != saved["client_secret"]
    # without --reuse a taken name is a clean error
    taken = invoke("api-clients", "add", "demo-bank", "--agency", "X", "--scopes", "fard:read")
    assert taken.exit_code == 1 and "already exists" in taken.output


def test_bad_client_options_are_clean_errors_and_write_nothing(engine: Engine, on_db: Path) -> None:
    for extra, why in [
        (["--scopes", "fard:write"], "unknown scope"),
        (["--scopes", "fard:read", "--auth", "password"], "auth method"),
        (["--scopes", "fard:read", "--rate", "0"], "rate limit"),
    ]:
        result = invoke("api-clients", "add", "x-bank", "--agency", "X", *extra)
        assert result.exit_code == 1 and why in result.output, result.output
        assert "Traceback" not in result.output
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM api_client")).scalar_one() == 0


def test_an_administrator_lists_rotates_and_disables(engine: Engine, on_db: Path) -> None:
    staff_actor(engine, "administrator")
    sign_in(engine, "test.administrator")
    made = invoke("api-clients", "add", "tax-office", "--agency", "FBR",
                  "--scopes", "valuation:read", "--auth", "api_key")  # fmt: skip
    assert made.exit_code == 0 and "lgk_" in made.output  # shown once, no file asked
    listed = invoke("api-clients", "list", "--json")
    rows = json.loads(listed.output)
    assert [(r["name"], r["auth_method"], r["scopes"]) for r in rows] == [
        ("tax-office", "api_key", ["valuation:read"])
    ]
    assert rows[0]["created_by"] == "user:test.administrator"
    rotated = invoke("api-clients", "rotate", "tax-office")
    assert rotated.exit_code == 0 and "lgk_" in rotated.output
    assert invoke("api-clients", "disable", "tax-office").exit_code == 0
    assert json.loads(invoke("api-clients", "list", "--json").output)[0]["disabled_at"]
    missing = invoke("api-clients", "disable", "nobody")
    assert missing.exit_code == 1 and "no API client named" in missing.output


def test_serve_api_answers_over_http(engine: Engine, on_db: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("landgov")
    server = subprocess.Popen(
        [str(exe), "serve", "api", "--port", str(port)],
        env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                r = httpx.get(f"http://127.0.0.1:{port}/v1/conformance", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.3)
        assert r.status_code == 200 and r.json()["conformsTo"]
        denied = httpx.get(f"http://127.0.0.1:{port}/v1/collections/khasras/items")
        assert denied.status_code == 401
        assert denied.headers["content-type"] == "application/problem+json"
        key = on_db / "secrets" / "api" / "token_signing.key"
        assert stat.S_IMODE(key.stat().st_mode) == 0o600
    finally:
        server.terminate()
        server.wait(timeout=20)
