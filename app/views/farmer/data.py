"""The Farmer page's data: the one-time code, the farmer's own parcels and a parcel's
NDVI over the season, each a call of the service that owns it
(:mod:`landgov.advisories.farmer`, :func:`imagery.series.read_zonal`).

No SQL here (the dashboard's rule, :mod:`app.shared.data`) and no cache: a code request,
a check and every view of the parcels are writes (counted attempts, the access log), so
each must reach the database when the farmer asks.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd

from app.shared import data as shared

if TYPE_CHECKING:
    from landgov.advisories.farmer import CodeAnswer

MIN_CLEAR = 0.5
"""Least clear fraction of the parcel for a look to be drawn (cloudy looks mislead)."""


def send_code(url: str, cnic: str) -> CodeAnswer:
    """:func:`landgov.advisories.farmer.request_code`, in its own transaction (the request
    is counted whatever the answer)."""
    from landgov.advisories.farmer import request_code

    with shared.engine(url).begin() as conn:
        return request_code(conn, cnic)


def check_code(url: str, cnic: str, code: str) -> tuple[int | None, str]:
    """:func:`landgov.advisories.farmer.verify_code`: (the party's id, "") or (None, why);
    a failure is counted either way."""
    from landgov.advisories.farmer import verify_code

    with shared.engine(url).begin() as conn:
        return verify_code(conn, cnic, code)


def own_parcels(url: str, cnic: str, on: date) -> dict[str, Any]:
    """:func:`landgov.advisories.farmer.farmer_view` of the farmer on ``on``, and its
    access-log row (:func:`~landgov.advisories.farmer.log_farmer_view`) in the same
    transaction: no view is shown that is not logged."""
    from landgov.advisories.farmer import farmer_view, log_farmer_view

    with shared.engine(url).begin() as conn:
        view = farmer_view(conn, cnic, on)
        log_farmer_view(conn, cnic, view["party_id"], on,
                        {"parcels": [p["khasra_id"] for p in view["parcels"]]})  # fmt: skip
    return view


def season_series(url: str, khasra_id: int, season: str, year: int) -> pd.DataFrame:
    """The parcel's clear NDVI looks of the season (:func:`imagery.series.read_zonal`):
    indexed by ``date`` (the scene's UTC day), one column ``ndvi``; looks less than
    :data:`MIN_CLEAR` clear, or without a mean, are left out."""
    from imagery.series import read_zonal
    from landgov.domain.calendar import season_end, season_start

    with shared.engine(url).connect() as conn:
        rows = read_zonal(
            conn,
            khasra_ids=[khasra_id],
            indices=("ndvi",),
            start=season_start(season, year),
            end=season_end(season, year),
        )
    rows = rows[(rows["valid_fraction"] >= MIN_CLEAR) & rows["mean"].notna()]
    out = pd.DataFrame({"date": rows["time"].dt.date, "ndvi": rows["mean"]})
    return out.set_index("date")


def parcels_table(view: dict[str, Any]) -> pd.DataFrame:
    """The farmer's parcels, one row each: mouza, khasra, khewat, share, land class and
    how many advisories (and warnings) each has."""
    return pd.DataFrame(
        [
            {
                "Mouza": p["mouza"],
                "Khasra": p["khasra"],
                "Khewat": p["khewat"],
                "Your share": p["share"],
                "Land class": p["land_class"],
                "Advisories": len(p["advisories"]),
                "Warnings": sum(a["level"] == "warning" for a in p["advisories"]),
            }
            for p in view["parcels"]
        ]
    )
