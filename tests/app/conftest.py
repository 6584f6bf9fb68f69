"""Fixtures for the dashboard tests: a tiny hand-made mouza and a pointed environment."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator

import pytest
import streamlit as st
from dashboard_support import ROOT, TinyMouza, insert_tiny_mouza
from sqlalchemy.engine import Engine

if str(ROOT) not in sys.path:  # the `app` package lives at the repository root
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def point_app_at(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], None]]:
    """Points the dashboard (LANDGOV_DATABASE_URL) at a database, with cold caches."""

    def point(url: str) -> None:
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
