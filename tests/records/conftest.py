"""Fixtures for the mutation engine's tests: the hand-made mouza of records_support."""

from __future__ import annotations

import pytest
from records_support import World, build
from sqlalchemy.engine import Engine


@pytest.fixture
def world(engine: Engine) -> World:
    """Mouza Kot A with five khewats, officers in and out of jurisdiction (records_support)."""
    return build(engine)
