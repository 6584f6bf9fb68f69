"""The private cluster from nothing: init, start, idempotent restart, stop."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import psycopg
import pytest

from landgov.config import Settings
from landgov.storage import cluster

pytestmark = pytest.mark.skipif(
    bool(os.environ.get("LANDGOV_DATABASE_URL")),
    reason="LANDGOV_DATABASE_URL names an external server; the private cluster is not used",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_cluster_lifecycle(tmp_path: Path) -> None:
    home = tmp_path / "home with space"
    settings = Settings(home=home, database_url=None, port=_free_port())
    assert not cluster.status(settings).initialised
    try:
        st = cluster.up(settings)
        assert st.initialised and st.running
        url = settings.url().replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(url) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            version = conn.execute("SELECT postgis_lib_version()").fetchone()
            assert version is not None and version[0].startswith("3.")
        assert cluster.up(settings).running  # second call reuses what exists
    finally:
        cluster.down(settings)
    assert not cluster.status(settings).running
    assert cluster.status(settings).initialised  # data survives a stop
