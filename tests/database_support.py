"""Throwaway databases for the tests: names, creation from a template, copies, drops.

In a module of its own (not conftest.py) so that every test imports the one instance:
several folders have a conftest.py, and ``from conftest import`` may find another one,
or load a second copy whose name counter starts again and reuses live databases' names.
"""

from __future__ import annotations

import itertools
import os

import psycopg
from security_support import owner_engine
from sqlalchemy.engine import Engine

from landgov.config import Settings
from landgov.storage import cluster
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
