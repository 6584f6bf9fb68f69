"""Helpers for the tests of the dashboard's maps (tests/app is on sys.path under pytest).

The maps send their heavy layers (parcels, imagery, labels) as files the browser fetches
(:func:`app.shared.maplayers.media_url`). Under AppTest those are mock media files that
are gone once the run is over, so :func:`inline_files` makes the maps put them inline
(``data:`` URLs, the same fall-back a page run without a Streamlit runtime takes), and
:func:`layer_data` reads a layer's rows back, inline or fetched.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from app.shared import maplayers


@pytest.fixture
def inline_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """The maps' files go inline as ``data:`` URLs, so a test can read them."""
    monkeypatch.setattr(maplayers, "media_url", maplayers.data_url)


def url_bytes(url: str) -> bytes:
    """The bytes of a ``data:...;base64,`` URL."""
    assert url.startswith("data:"), f"not an inline file: {url[:60]}"
    return base64.b64decode(url.split(",", 1)[1])


def layer_data(layer: dict[str, Any]) -> Any:
    """A deck layer's data: its rows when inline, the JSON of its file otherwise."""
    data = layer["data"]
    if isinstance(data, str):
        return json.loads(url_bytes(data))
    return data


def layer(spec: dict[str, Any], layer_id: str) -> dict[str, Any]:
    """The layer of ``spec`` with id ``layer_id``."""
    (found,) = [la for la in spec["layers"] if la["id"] == layer_id]
    return found
