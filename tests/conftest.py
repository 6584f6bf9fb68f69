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

from collections.abc import Iterator
from pathlib import Path

import pytest
from database_support import _PREFIX, _copy_demo, _counter, _create, _drop
from security_support import owner_engine, superuser_engine  # noqa: F401  (re-exported)
from sqlalchemy.engine import Engine

from landgov.config import Settings, load_settings
from landgov.storage import cluster, migrate
from landgov.storage.engine import get_engine


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
    from security_support import service_actor

    scan(eng, actor=service_actor(eng, "disputes"))
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


@pytest.fixture(autouse=True)
def _private_audit_checkpoints(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Checkpoints and their signing key per test, never in the real $LANDGOV_HOME: jobs
    run through the CLI sign a checkpoint after they finish."""
    folder = tmp_path_factory.mktemp("audit")
    monkeypatch.setenv("LANDGOV_AUDIT_CHECKPOINTS", str(folder / "checkpoints.jsonl"))
    monkeypatch.setenv("LANDGOV_AUDIT_KEY", str(folder / "audit-signing.key"))
