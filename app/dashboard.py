"""The revenue officer's dashboard: a mouza's khasras on a map and their owners.

Run with ``streamlit run app/dashboard.py``. This file only lays out the page; the data
comes from :mod:`app.data` and each panel is a function in :mod:`app.panels`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run app/dashboard.py` puts app/ on sys.path, not the repository root that
# holds the `app` package.
_ROOT = str(Path(__file__).resolve().parents[1])
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from app import data, panels  # noqa: E402


def main() -> None:
    st.set_page_config(page_title="landgov · mouza map", page_icon="🗺️", layout="wide")
    st.title("Mouza map and record of rights")

    url = data.database_url()
    with panels.database_errors(url):
        mouzas = data.mouzas(url)
    if not mouzas:
        st.info(panels.EMPTY_DB_MESSAGE)
        with st.sidebar:
            panels.legend()
        return

    mouza, as_of = panels.sidebar(mouzas)
    with panels.database_errors(url):
        parcels = data.parcels(url, mouza.id, as_of)
        rows = data.map_rows(url, mouza.id, as_of)
    with st.sidebar:
        panels.legend(data.land_class_counts(parcels))
    panels.mouza_header(mouza, parcels, as_of)
    if parcels.empty:
        st.info(f"Mouza {mouza.name} has no khasra on record on {as_of:%Y-%m-%d}.")
        return

    map_key = f"parcel_map_{mouza.id}"
    picker_key = f"khasra_{mouza.id}"
    map_col, panel_col = st.columns([3, 2], gap="medium")
    with panel_col:
        selected = panels.khasra_picker(parcels["khasra_no"].tolist(), picker_key=picker_key)
    with map_col, st.container(border=True):
        panels.parcel_map(
            rows, data.bounds(parcels), selected, map_key=map_key, picker_key=picker_key
        )
    if selected is None:
        with panel_col:
            st.caption("Select a khasra to see its area, khewat and owners.")
        return
    facts = data.khasra_facts(parcels, selected)
    if facts is None:  # not live on this date
        return
    with panel_col:
        panels.khasra_panel(facts)
    with panels.database_errors(url):
        owners = data.owners(url, facts.khasra_id, as_of)
        khewat_ids = tuple(sorted({int(i) for i in owners["khewat_id"]}))
        areas = data.khewat_areas(url, khewat_ids, as_of) if khewat_ids else {}
    panels.owners_panel(owners, areas, as_of)


main()
