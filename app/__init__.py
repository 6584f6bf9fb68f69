"""The revenue officer's dashboard (Streamlit): ``streamlit run app/dashboard.py``.

One layout for every page, so there is one place to look for anything:

- ``dashboard.py``: the entry script (sign-in, navigation, the sidebar);
- ``views/<page>/view.py``: a page's script, run by ``st.navigation`` (the folder's name
  is the page's URL path); ``views/<page>/data.py``: its data, cached calls of service
  functions and the pure helpers that shape their results for the view (no widgets);
  further modules of a page hold its own widgets (``mutations/forms.py``,
  ``parcels/record.py``);
- ``shared/``: what two pages or more use, and the entry script's own parts: the
  database and caches (``data.py``), panels, style, the imagery base layer, the
  navigation, the page context, sign-in and authentication.

The data-access rule: no module here builds or runs SQL. SQL lives in the services that
own the data (``landgov.<service>.queries`` and the service's other modules, ``imagery``)
and in ``landgov.storage`` for what several services share; the dashboard calls their
functions. ``tests/app/test_layout.py`` checks both rules.
"""
