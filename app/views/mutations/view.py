"""Mutations page: the signed-in officer enters, verifies, sanctions and rejects
mutations (intiqal) in the mouzas of their jurisdiction today.

There is no officer picker: who acts is the signed-in actor. The sidebar offers only the
mouzas the officer is posted over today, the page shows only the forms the officer's
roles allow, and the records engine checks everything again when the action is written.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app.shared import context, panels
from app.shared.navigation import MUTATION_CAPABILITIES
from app.views.mutations import data, forms


def main() -> None:
    ctx = context.require(*MUTATION_CAPABILITIES)
    url, mouza, actor = ctx.url, ctx.mouza, ctx.actor
    st.title("Mutations (intiqal)")
    st.caption(
        f"Mouza {mouza.name} — hadbast {mouza.hadbast_number}, tehsil {mouza.tehsil}. "
        "Entered → verified → sanctioned or rejected, with the same rules as "
        "`landgov mutation`."
    )
    st.caption(
        f"Signed in as {forms.who(actor)}: you may {forms.mutation_powers(actor)} in the "
        "mouzas you are posted over today."
    )
    if not forms.engine_available():
        st.info("The mutation engine (landgov.records.mutations) is not installed yet.")
        return
    with panels.database_errors(url):
        forms.outcome_panel(url, mouza, actor)
        pending = data.pending_lines(url, mouza.id)
        khewats = data.mouza_khewats(url, mouza.id, date.today())
    count = pending["mutation_id"].nunique() if not pending.empty else 0
    if actor.has("mutation.enter"):
        pending_tab, entry_tab = st.tabs([f"Pending mutations ({count})", "Enter a mutation"])
        with pending_tab:
            forms.pending_panel(url, mouza, pending, actor)
        with entry_tab:
            forms.entry_panel(url, mouza, khewats)
    else:
        st.subheader(f"Pending mutations ({count})")
        forms.pending_panel(url, mouza, pending, actor)


main()
