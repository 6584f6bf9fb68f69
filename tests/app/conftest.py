"""Fixtures for the dashboard tests: a tiny hand-made mouza and a pointed environment."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest
import streamlit as st
from dashboard_support import ROOT, TinyMouza, insert_tiny_mouza
from sqlalchemy.engine import Engine, make_url

from landgov.config import load_settings
from landgov.errors import StorageError

if str(ROOT) not in sys.path:  # the `app` package lives at the repository root
    sys.path.insert(0, str(ROOT))

_ROLE_VARIABLES = {
    "owner": "LANDGOV_OWNER_DATABASE_URL",
    "superuser": "LANDGOV_ADMIN_DATABASE_URL",
    "report": "LANDGOV_REPORT_DATABASE_URL",
}


@pytest.fixture
def point_app_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Points the dashboard (LANDGOV_DATABASE_URL) at a database, with cold caches.

    The owner's, superuser's and reporting role's URLs of the same database are set
    beside it (when the configured server has them), so seeding helpers that ask
    landgov's settings for the owner still get the owner, not the application role."""

    def point(url: str) -> None:
        database = make_url(url).database
        settings = load_settings()
        for role, variable in _ROLE_VARIABLES.items():
            try:
                monkeypatch.setenv(variable, settings.url(database, role))  # type: ignore[arg-type]
            except StorageError:  # no password of that role here: leave it unset
                monkeypatch.delenv(variable, raising=False)
        monkeypatch.setenv("LANDGOV_DATABASE_URL", url)
        st.cache_data.clear()
        st.cache_resource.clear()

    yield point
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture
def tiny_mouza(engine: Engine) -> TinyMouza:
    """One mouza, 3 khasras, khewat 5 holding two of them, owned 1/3 and 2/3."""
    return insert_tiny_mouza(engine)
