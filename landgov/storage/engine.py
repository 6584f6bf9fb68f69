"""SQLAlchemy engines for the configured server."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from landgov.config import DbRole, Settings, load_settings


@lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, future=True)


def get_engine(
    settings: Settings | None = None, database: str | None = None, role: DbRole = "app"
) -> Engine:
    """The engine of ``database`` (default: landgov's) on the configured server, connected
    as ``role``: the application role unless asked (migrations use the owner)."""
    settings = settings or load_settings()
    return _engine_for(settings.url(database, role))
