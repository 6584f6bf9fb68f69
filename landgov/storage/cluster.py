"""A private PostGIS cluster under ``$LANDGOV_HOME/pgdata``.

The cluster listens on 127.0.0.1 at a non-default port with trust authentication for
local connections only, and keeps its Unix socket inside the data directory so it
needs nothing from ``/var/run``. PostgreSQL refuses to run as root, so when landgov runs
as root the server runs as the ``postgres`` system user (created by the Debian package).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from landgov.config import DEFAULT_DATABASE, Settings
from landgov.errors import StorageError

APT_COMMAND = (
    "apt-get update && apt-get install -y --no-install-recommends "
    "postgresql-15 postgresql-15-postgis-3 postgis"
)


@dataclass(frozen=True)
class ClusterStatus:
    initialised: bool
    running: bool
    port: int
    pgdata: Path


def pg_bindir() -> Path:
    """The newest installed PostgreSQL server's bin directory that has PostGIS."""
    for bindir in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        version = Path(bindir).parent.name
        has_postgis = glob.glob(f"/usr/share/postgresql/{version}/extension/postgis.control")
        if Path(bindir, "initdb").exists() and has_postgis:
            return Path(bindir)
    raise StorageError(
        "PostgreSQL with PostGIS is not installed. Install it (as root) with:\n  "
        + APT_COMMAND
        + "\nor point LANDGOV_DATABASE_URL at an existing PostGIS server."
    )


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() != 0:
        return cmd
    if shutil.which("runuser") is None:
        raise StorageError("running as root needs 'runuser' to start PostgreSQL as 'postgres'")
    return ["runuser", "-u", "postgres", "--", *cmd]


def _run(cmd: list[str], what: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise StorageError(
            f"{what} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout}"
        )
    return proc


def _prepare_dir(path: Path) -> None:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
        # the server user must be able to reach its directory through every parent
        for parent in path.parents:
            mode = parent.stat().st_mode
            if not mode & 0o001:
                parent.chmod(mode | 0o001)


def status(settings: Settings) -> ClusterStatus:
    pgdata = settings.pgdata
    initialised = (pgdata / "PG_VERSION").exists()
    running = False
    if initialised:
        cmd = [str(pg_bindir() / "pg_ctl"), "status", "-D", str(pgdata)]
        proc = subprocess.run(_as_server_user(cmd), capture_output=True, text=True, check=False)
        running = proc.returncode == 0
    return ClusterStatus(initialised, running, settings.port, pgdata)


def up(settings: Settings) -> ClusterStatus:
    """Initialise (once) and start the private cluster, then make sure the database exists."""
    bindir = pg_bindir()
    pgdata = settings.pgdata
    if not (pgdata / "PG_VERSION").exists():
        _prepare_dir(pgdata)
        _run(
            [
                str(bindir / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8",
            ],
            "initdb",
        )
    current = status(settings)
    if not current.running:
        log = settings.home / "postgres.log"
        if not log.exists():
            log.touch()
        if os.geteuid() == 0:
            shutil.chown(log, "postgres", "postgres")
            shutil.chown(pgdata, "postgres", "postgres")
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={settings.port} "
            f"-c unix_socket_directories='{pgdata}' -c fsync=on "
            "-c max_connections=200 -c shared_buffers=256MB"
        )
        _run(
            [
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(pgdata),
                "-l",
                str(log),
                "-o",
                options,
            ],
            f"starting PostgreSQL (log: {log})",
        )
    ensure_database(settings, DEFAULT_DATABASE)
    return status(settings)


def down(settings: Settings) -> None:
    if status(settings).running:
        _run(
            [str(pg_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(settings.pgdata)],
            "stopping PostgreSQL",
        )


def ensure_database(settings: Settings, name: str) -> None:
    """Create database ``name`` on the configured server if it does not exist."""
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            conn = psycopg.connect(_libpq_url(settings, "postgres"), autocommit=True)
            break
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
            time.sleep(0.2)
    with conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def _libpq_url(settings: Settings, database: str) -> str:
    return settings.url(database).replace("postgresql+psycopg://", "postgresql://", 1)
