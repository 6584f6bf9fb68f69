"""Reads of the record that the dashboard's pages need beyond :mod:`landgov.storage.read`.

The shells (``app/``, ``landgov/cli/``) run no SQL: they call these functions. What the
exporter, the CLI and the dashboard all read lives in :mod:`landgov.storage.read`; what
only a page of the records service's data needs lives here.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text
from sqlalchemy.engine import Connection


def live_khasra_count(conn: Connection, mouza_id: int, on: date) -> int:
    """How many khasras of mouza ``mouza_id`` are live on ``on`` (``created_on <= on <
    retired_on``; NULL bounds open), whatever else is recorded about them.

    The Valuation page sets it against the parcels a roll values, to say how many live
    parcels have no value.
    """
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM khasra WHERE mouza_id = :m"
                " AND (created_on IS NULL OR created_on <= :d)"
                " AND (retired_on IS NULL OR retired_on > :d)"
            ),
            {"m": mouza_id, "d": on},
        ).scalar_one()
    )
