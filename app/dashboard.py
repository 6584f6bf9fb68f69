"""The revenue officer's dashboard: ``streamlit run app/dashboard.py``.

This entry script draws what every page shares (the navigation, the mouza and the
"as of" date in the sidebar) and runs the chosen page:

- ``views/parcels.py``: the mouza map; a khasra's owners on the date and today, its
  mutation chain back to settlement, and its fard;
- ``views/mutations.py``: officers enter, verify, sanction and reject mutations;
- ``views/cases.py``: the dispute case queue of an officer's jurisdiction, riskiest
  first, and the case page (evidence on the map; review, confirm, dismiss, refer);
- ``views/valuation.py``: the mouza's current valuation roll on a map, a ratio study of
  DC values against declared prices, and the sales declared below their DC value;
- ``views/farmer.py``: a farmer's own parcels and advisories, behind a one-time code.

The data comes from :mod:`app.data` and each panel is a function in :mod:`app.panels`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run app/dashboard.py` puts app/ on sys.path, not the repository root that
# holds the `app` package.
_ROOT = str(Path(__file__).resolve().parents[1])
if sys.path[:1] != [_ROOT]:  # first, or app/imagery.py would shadow the imagery package
    if _ROOT in sys.path:
        sys.path.remove(_ROOT)
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from app import context, data, panels  # noqa: E402

# Not "pages/": Streamlit would take such a folder for an old-style multipage app and run
# a page without this entry script (and so without its sidebar) on some reruns.
VIEWS = Path(__file__).resolve().parent / "views"


def main() -> None:
    st.set_page_config(page_title="landgov", page_icon="🗺️", layout="wide")
    page = st.navigation(
        [
            st.Page(VIEWS / "parcels.py", title="Parcels", icon="🗺️", default=True),
            st.Page(VIEWS / "mutations.py", title="Mutations", icon="🖋️"),
            st.Page(VIEWS / "cases.py", title="Disputes", icon="⚖️"),
            st.Page(VIEWS / "valuation.py", title="Valuation", icon="💰"),
            st.Page(VIEWS / "farmer.py", title="Farmer", icon="🌾"),
        ]
    )
    url = data.database_url()
    with panels.database_errors(url):
        mouzas = data.mouzas(url)
    if not mouzas:
        st.title("Mouza map and record of rights")
        st.info(panels.EMPTY_DB_MESSAGE)
        with st.sidebar:
            panels.legend()
        return
    mouza, as_of = panels.sidebar(mouzas)
    context.store(context.Context(url=url, mouza=mouza, as_of=as_of))
    page.run()


main()
