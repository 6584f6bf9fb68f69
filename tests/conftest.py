"""Test fixtures: throwaway PostGIS databases on the configured server.

The suite always runs against a real PostGIS: the private cluster of ``make test`` or
the server named by ``LANDGOV_DATABASE_URL``. If neither can be reached the session
fails instead of skipping, so a green run always means the database was exercised.

A template database is migrated once per session (as the owner role); each test that
asks for ``engine`` gets a fresh copy (``CREATE DATABASE ... TEMPLATE``), dropped
afterwards. ``engine`` connects as the application role, as the CLI and the dashboard
do, so every test runs with the production privileges; :func:`owner_engine` gives the
owner's engine of the same database for fixtures that seed rows directly. The demo
district is built once per session into ``demo_engine`` (read-only use).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import Engine

from landgov.config import Settings, load_settings
from landgov.storage import cluster, migrate
from landgov.storage.engine import get_engine

_counter = itertools.count()
_PREFIX = f"landgov_test_{os.getpid()}"


def _admin(settings: Settings) -> psycopg.Connection:
    url = settings.url("postgres", "superuser").replace("postgresql+psycopg://", "postgresql://", 1)
    return psycopg.connect(url, autocommit=True)


def _drop(settings: Settings, name: str) -> None:
    cluster.drop_database(settings, name)


def _create(settings: Settings, name: str, template: str | None = None) -> None:
    cluster.drop_database(settings, name)
    cluster.ensure_database(settings, name, template)


def owner_engine(engine: Engine) -> Engine:
    """The owner role's engine of ``engine``'s database (seeding fixtures, DDL checks)."""
    return get_engine(load_settings(), str(engine.url.database), "owner")


def superuser_engine(engine: Engine) -> Engine:
    """The superuser's engine of ``engine``'s database (tests of what a superuser can do)."""
    return get_engine(load_settings(), str(engine.url.database), "superuser")


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    s = load_settings()
    if s.uses_private_cluster:
        cluster.up(s)  # fails loudly when PostGIS is missing: no skipping
    return s


@pytest.fixture(scope="session")
def template_db(settings: Settings) -> Iterator[str]:
    name = f"{_PREFIX}_template"
    _create(settings, name)
    engine = get_engine(settings, name, "owner")
    migrate.migrate(engine)
    engine.dispose()  # a template must have no open connections
    yield name
    _drop(settings, name)


@pytest.fixture
def engine(settings: Settings, template_db: str) -> Iterator[Engine]:
    """A fresh, migrated, empty database for one test."""
    name = f"{_PREFIX}_{next(_counter)}"
    _create(settings, name, template_db)
    eng = get_engine(settings, name)
    yield eng
    eng.dispose()
    _drop(settings, name)


@pytest.fixture
def empty_engine(settings: Settings) -> Iterator[Engine]:
    """A fresh database with no migrations applied (for testing the runner itself)."""
    name = f"{_PREFIX}_{next(_counter)}"
    _create(settings, name)
    eng = get_engine(settings, name, "owner")
    yield eng
    eng.dispose()
    _drop(settings, name)


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("demo")


@pytest.fixture(scope="session")
def demo_engine(settings: Settings, template_db: str, demo_dir: Path) -> Iterator[Engine]:
    """A database holding the demo district (seed 42), built once per session.

    Tests must treat it as read-only.
    """
    from security_support import service_actor

    from landgov.demo import build_demo

    name = f"{_PREFIX}_demo"
    _create(settings, name, template_db)
    eng = get_engine(settings, name)
    build_demo(eng, demo_dir, seed=42, actor=service_actor(eng, "demo"))
    yield eng
    eng.dispose()
    _drop(settings, name)


def _copy_demo(settings: Settings, demo_engine: Engine) -> Engine:
    demo_engine.dispose()  # a template must have no open connections: also other engines'
    owner_engine(demo_engine).dispose()
    template = str(demo_engine.url.database)  # (e.g. a CLI test's cached engine)
    with _admin(settings) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (template,),
        )
    name = f"{_PREFIX}_{next(_counter)}"
    _create(settings, name, template)
    return get_engine(settings, name)


@pytest.fixture
def demo_copy(settings: Settings, demo_engine: Engine) -> Iterator[Engine]:
    """A writable copy of the demo database for one test (CREATE DATABASE … TEMPLATE)."""
    eng = _copy_demo(settings, demo_engine)
    yield eng
    eng.dispose()
    _drop(settings, str(eng.url.database))


@pytest.fixture(scope="session")
def scanned_demo(settings: Settings, demo_engine: Engine) -> Iterator[Engine]:
    """A copy of the demo after one full dispute scan on the demo's "today" (AS_OF), so
    the date-dependent rules do not age. Built once per session: tests treat it as
    read-only (they write in a ``demo_copy``)."""
    from sqlalchemy import text

    from landgov.demo.model import AS_OF
    from landgov.disputes.scan import scan

    eng = _copy_demo(settings, demo_engine)
    with owner_engine(eng).begin() as conn:
        conn.execute(
            text(
                "UPDATE dispute_rule SET thresholds = thresholds || jsonb_build_object("
                "'as_of', CAST(:d AS text)) WHERE id IN ('stale_pending_mutation',"
                " 'unattested_jamabandi')"
            ),
            {"d": AS_OF.isoformat()},
        )
    scan(eng)
    yield eng
    eng.dispose()
    _drop(settings, str(eng.url.database))


@pytest.fixture(autouse=True)
def _keep_main_module() -> Iterator[None]:
    """Streamlit's AppTest leaves ``sys.modules["__main__"]`` pointing at the page it ran;
    a dask LocalCluster started later spawns its workers by re-running ``__main__``, i.e.
    the dashboard, and fails. Put the real one back after every test."""
    import sys

    main = sys.modules["__main__"]
    yield
    sys.modules["__main__"] = main
