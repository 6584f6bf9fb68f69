"""A private PostGIS cluster under ``$LANDGOV_HOME/pgdata``.

The cluster listens on 127.0.0.1 at a non-default port and keeps its Unix socket inside
the data directory so it needs nothing from ``/var/run``. PostgreSQL refuses to run as
root, so when landgov runs as root the server runs as the ``postgres`` system user
(created by the Debian package).

Authentication is ``scram-sha-256`` for every connection, never ``trust``: the passwords
of the superuser and of the three landgov roles (owner, application, reporting; see
:mod:`landgov.config`) are generated at the first ``landgov db up`` and kept in
``$LANDGOV_HOME/secrets/db.json``, mode 0600 in a 0700 directory. A cluster made by an
older landgov with ``trust`` is converted in place at the next ``db up``.

Each landgov database is owned by ``landgov_owner`` (so migrations, run as that role,
own every table) and has PostGIS created by the superuser, since ``CREATE EXTENSION
postgis`` needs one; the owner then grants the application and reporting roles what
they need in the migrations (``sql/018_security.sql``).
"""

from __future__ import annotations

import glob
import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from landgov.config import DEFAULT_DATABASE, ROLE_NAMES, DbRole, Settings
from landgov.errors import StorageError

if TYPE_CHECKING:
    import psycopg

LANDGOV_ROLES: Final = ("owner", "app", "report")
"""The login roles landgov creates besides the superuser (:data:`landgov.config.ROLE_NAMES`)."""

_HBA: Final = """# written by landgov: passwords (scram-sha-256) for everyone, nothing else
local   all   all                 scram-sha-256
host    all   all   127.0.0.1/32  scram-sha-256
host    all   all   ::1/128       scram-sha-256
"""

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


def write_private(path: Path, content: str) -> None:
    """Writes ``content`` to ``path`` readable by its owner only (0600, in a 0700 directory).

    The file is created with its mode, never widened afterwards, so there is no moment
    when another OS user could read it.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.parent.chmod(0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(content)
    os.replace(tmp, path)


def _passwords(settings: Settings) -> dict[str, str]:
    """The generated passwords, generating (once) the ones missing."""
    path = settings.db_secrets_file
    current: dict[str, str] = {}
    if path.exists():
        current = json.loads(path.read_text(encoding="utf-8"))
    wanted = ("superuser", *LANDGOV_ROLES)
    if any(role not in current for role in wanted):
        for role in wanted:
            current.setdefault(role, secrets.token_urlsafe(24))
        write_private(path, json.dumps(current, indent=1))
    return current


def _hba_path(settings: Settings) -> Path:
    return settings.pgdata / "pg_hba.conf"


def _uses_trust(settings: Settings) -> bool:
    try:
        lines = _hba_path(settings).read_text(encoding="utf-8").splitlines()
    except PermissionError:  # not root and not the server user: cannot tell, assume not
        return False
    return any(
        line.split() and not line.lstrip().startswith("#") and line.split()[-1] == "trust"
        for line in lines
    )


def _write_hba(settings: Settings) -> None:
    path = _hba_path(settings)
    path.write_text(_HBA, encoding="utf-8")
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")
    path.chmod(0o600)


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
    passwords = _passwords(settings)
    if not (pgdata / "PG_VERSION").exists():
        _prepare_dir(pgdata)
        # the superuser's password reaches initdb through a file only the server user reads
        pwfile = settings.home / ".initdb-pw"
        write_private(pwfile, passwords["superuser"] + "\n")
        pwfile.parent.chmod(pwfile.parent.stat().st_mode | 0o001)
        if os.geteuid() == 0:
            shutil.chown(pwfile, "postgres", "postgres")
        try:
            _run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(pgdata),
                    "-U",
                    "postgres",
                    "--auth=scram-sha-256",
                    f"--pwfile={pwfile}",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                "initdb",
            )
        finally:
            pwfile.unlink(missing_ok=True)
        _write_hba(settings)
    converting = _uses_trust(settings)
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
    if converting:  # a cluster from before scram: set the passwords, then close trust
        _convert_from_trust(settings, passwords)
    ensure_roles(settings)
    ensure_database(settings, DEFAULT_DATABASE)
    return status(settings)


def _convert_from_trust(settings: Settings, passwords: dict[str, str]) -> None:
    import psycopg
    from psycopg import sql

    url = f"postgresql://postgres@127.0.0.1:{settings.port}/postgres"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("ALTER ROLE postgres PASSWORD {}").format(sql.Literal(passwords["superuser"]))
        )
    _write_hba(settings)
    _run([str(pg_bindir() / "pg_ctl"), "reload", "-D", str(settings.pgdata)], "reloading")
    time.sleep(0.3)


def ensure_roles(settings: Settings) -> None:
    """Creates (or resets to their generated passwords) the landgov login roles.

    The owner may create nothing outside its databases (no CREATEDB, no CREATEROLE); the
    application and reporting roles own nothing and inherit nothing.
    """
    from psycopg import sql

    passwords = _passwords(settings)
    with _admin_connect(settings) as conn:
        for role in LANDGOV_ROLES:
            name = ROLE_NAMES[role]
            exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(
                sql.SQL(
                    "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
                    " NOBYPASSRLS {} PASSWORD {}"
                ).format(
                    sql.SQL(verb),
                    sql.Identifier(name),
                    sql.SQL("INHERIT" if role == "owner" else "NOINHERIT"),
                    sql.Literal(passwords[role]),
                )
            )


def _admin_connect(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    """An autocommit connection as the superuser to the ``postgres`` database."""
    import psycopg

    deadline = time.monotonic() + 30
    while True:
        try:
            return psycopg.connect(_libpq_url(settings, "postgres", "superuser"), autocommit=True)
        except psycopg.OperationalError as exc:
            if time.monotonic() > deadline:
                raise StorageError(f"cannot connect to PostgreSQL: {exc}") from exc
            time.sleep(0.2)


def down(settings: Settings) -> None:
    if status(settings).running:
        _run(
            [str(pg_bindir() / "pg_ctl"), "stop", "-w", "-m", "fast", "-D", str(settings.pgdata)],
            "stopping PostgreSQL",
        )


def ensure_database(settings: Settings, name: str, template: str | None = None) -> None:
    """Creates database ``name`` (from ``template`` when given) if it does not exist, owned
    by the owner role, with PostGIS; hands an older database's objects to the owner.

    Safe to call on a database that exists: it only completes what is missing.
    """
    from psycopg import sql

    owner = _role_name(settings, "owner")
    with _admin_connect(settings) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(
                sql.SQL("CREATE DATABASE {}{} OWNER {}").format(
                    sql.Identifier(name),
                    sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
                    if template
                    else sql.SQL(""),
                    sql.Identifier(owner),
                )
            )
            if template:
                return
    _prepare_schema(settings, name, owner)


def _prepare_schema(settings: Settings, name: str, owner: str) -> None:
    """PostGIS (needs the superuser) and ownership of every landgov object by the owner
    role: a database migrated by an older landgov as the superuser is handed over."""
    import psycopg
    from psycopg import sql

    url = _libpq_url(settings, name, "superuser")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        if not settings.uses_private_cluster:  # the deployer set up roles and ownership
            return
        conn.execute(sql.SQL("ALTER DATABASE {} OWNER TO {}").format(
            sql.Identifier(name), sql.Identifier(owner)))  # fmt: skip
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(owner)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        # objects of the public schema that are not PostGIS's own (extension members)
        rows = conn.execute(
            "SELECT CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW'"
            " WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, c.relname"
            " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm')"
            " AND pg_get_userbyid(c.relowner) <> %s"
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid"
            "  AND d.deptype = 'e')"
            " AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d"
            "  WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))",
            (owner,),
        ).fetchall()
        for kind, rel in rows:
            conn.execute(sql.SQL("ALTER {} {} OWNER TO {}").format(
                sql.SQL(kind), sql.Identifier(rel), sql.Identifier(owner)))  # fmt: skip
        funcs = conn.execute(
            "SELECT p.oid::regprocedure::text FROM pg_proc p"
            " JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = 'public' AND pg_get_userbyid(p.proowner) <> %s"
            " AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid"
            "  AND d.deptype = 'e')",
            (owner,),
        ).fetchall()
        for (signature,) in funcs:
            conn.execute(sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(
                sql.SQL(signature), sql.Identifier(owner)))  # fmt: skip


def drop_database(settings: Settings, name: str) -> None:
    """Drops database ``name`` (closing its connections) if it exists."""
    from psycopg import sql

    with _admin_connect(settings) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))  # fmt: skip


def _role_name(settings: Settings, role: DbRole) -> str:
    if settings.uses_private_cluster:
        return ROLE_NAMES[role]
    from sqlalchemy.engine import make_url

    return str(make_url(settings.url(None, role)).username or ROLE_NAMES[role])


def _libpq_url(settings: Settings, database: str, role: DbRole = "superuser") -> str:
    return settings.url(database, role).replace("postgresql+psycopg://", "postgresql://", 1)
