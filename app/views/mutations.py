"""Mutations page: officers enter, verify, sanction and reject mutations (intiqal)."""

from __future__ import annotations

from datetime import date

import streamlit as st

from app import context, data, forms, panels


def main() -> None:
    ctx = context.current()
    url, mouza = ctx.url, ctx.mouza
    st.title("Mutations (intiqal)")
    st.caption(
        f"Mouza {mouza.name} — hadbast {mouza.hadbast_number}, tehsil {mouza.tehsil}. "
        "Entered → verified → sanctioned or rejected, with the same rules as "
        "`landgov mutation`."
    )
    if not forms.engine_available():
        st.info("The mutation engine (landgov.records.mutations) is not installed yet.")
        return
    with panels.database_errors(url):
        officers = data.officers(url)
    if not officers:
        st.info("No officer in the database: add officers before deciding mutations.")
        return
    officer = forms.officer_picker(officers)
    with panels.database_errors(url):
        forms.outcome_panel(url, mouza)
        pending = data.pending_lines(url, mouza.id)
        khewats = data.mouza_khewats(url, mouza.id, date.today())
    count = pending["mutation_id"].nunique() if not pending.empty else 0
    pending_tab, entry_tab = st.tabs([f"Pending mutations ({count})", "Enter a mutation"])
    with pending_tab:
        forms.pending_panel(url, mouza, pending, officer)
    with entry_tab:
        forms.entry_panel(url, mouza, khewats, officer)


main()
