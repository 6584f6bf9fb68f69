"""The Farmer page's data: the one-time code, the farmer's own parcels and a parcel's
vegetation index over the season, each a call of the service that owns it
(:mod:`landgov.advisories.farmer`, :func:`imagery.series.read_zonal`), and the parcels
as a table in the reader's language.

No SQL here (the dashboard's rule, :mod:`app.shared.data`). No cache for the code and the
parcels: a code request, a check and every view of the parcels are writes (counted
attempts, the access log), so each must reach the database when the farmer asks. The
season's series is imagery, the same for every reader: cached for ten minutes.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pandas as pd
import streamlit as st

from app.shared import data as shared
from app.shared import i18n

if TYPE_CHECKING:
    from landgov.advisories.farmer import CodeAnswer

MIN_CLEAR = 0.5
"""Least clear fraction of the parcel for a look to be drawn (cloudy looks mislead)."""
LAND_CLASSES = {
    "nehri": "land_class.nehri",
    "chahi": "land_class.chahi",
    "barani": "land_class.barani",
    "banjar": "land_class.banjar",
    "ghair_mumkin": "land_class.ghair_mumkin",
    "abadi": "land_class.abadi",
    "shamlat": "land_class.shamlat",
    "forest": "land_class.forest",
}
"""Catalogue key of each land class (``khasra.land_class``)."""


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


@st.cache_data(ttl=600, show_spinner=False)
def season_series(
    url: str, khasra_id: int, season: str, year: int, index: str = "ndvi"
) -> pd.DataFrame:
    """The parcel's clear looks of the season (:func:`imagery.series.read_zonal`):
    indexed by ``date`` (the scene's UTC day), one column named ``index``; looks less
    than :data:`MIN_CLEAR` clear, or without a mean, are left out."""
    from imagery.series import read_zonal
    from landgov.domain.calendar import season_end, season_start

    with shared.engine(url).connect() as conn:
        rows = read_zonal(
            conn,
            khasra_ids=[khasra_id],
            indices=(index,),
            start=season_start(season, year),
            end=season_end(season, year),
        )
    rows = rows[(rows["valid_fraction"] >= MIN_CLEAR) & rows["mean"].notna()]
    out = pd.DataFrame({"date": rows["time"].dt.date, index: rows["mean"]})
    return out.set_index("date")


def land_class(value: str, lang: str) -> str:
    """A land class in ``lang`` (an unknown class as stored)."""
    key = LAND_CLASSES.get(value)
    return value if key is None else i18n.t(key, lang)


def mouza_name(parcel: dict[str, Any], lang: str) -> str:
    """The mouza's name in ``lang`` where the record has it (Urdu), else as recorded."""
    if i18n.rtl(lang) and parcel.get("mouza_ur"):
        return str(parcel["mouza_ur"])
    return str(parcel["mouza"])


def parcels_table(view: dict[str, Any], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The farmer's parcels, one row each, headed and written in ``lang``: mouza,
    khasra, khewat, share, land class and how many advisories (and warnings) each has."""
    _ = i18n.Words(lang)
    return pd.DataFrame(
        [
            {
                _("farmer.table.mouza"): mouza_name(p, lang),
                _("farmer.table.khasra"): i18n.digits(str(p["khasra"]), lang),
                _("farmer.table.khewat"): i18n.digits(str(p["khewat"]), lang),
                _("farmer.table.share"): i18n.digits(str(p["share"]), lang),
                _("farmer.table.land_class"): land_class(str(p["land_class"]), lang),
                _("farmer.table.advisories"): i18n.digits(str(len(p["advisories"])), lang),
                _("farmer.table.warnings"): i18n.digits(
                    str(sum(a["level"] == "warning" for a in p["advisories"])), lang
                ),
            }
            for p in view["parcels"]
        ]
    )
