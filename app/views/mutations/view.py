"""Mutations page: the signed-in officer enters, verifies, sanctions and rejects
mutations (intiqal) in the mouzas of their jurisdiction today, and registers a party the
record does not know yet (a new buyer).

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


def as_of_note(as_of: date, today: date) -> None:
    """Says that this page is as of today: an entry or a decision is written on the day it
    is made, by an officer posted that day, so the sidebar's date cannot apply here."""
    if as_of == today:
        st.caption(f"As of today, {today:%Y-%m-%d}.")
        return
    st.info(
        f"Mutations are entered and decided as of today, {today:%Y-%m-%d}: each action is "
        "dated the day it is recorded and checked against your posting that day, and the "
        f"holdings offered are today's. The sidebar's date ({as_of:%Y-%m-%d}) applies to the "
        "Parcels and Valuation pages, not here.",
        icon=":material/event:",
    )


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
    as_of_note(ctx.as_of, date.today())
    if not forms.engine_available():
        st.info("The mutation engine (landgov.records.mutations) is not installed yet.")
        return
    # the last action's confirmation: always a container here, so nothing below it moves
    # when one appears
    outcome = st.container()
    with panels.database_errors(url):
        with outcome:
            forms.outcome_panel(url, mouza, actor)
        pending = data.pending_lines(url, mouza.id)
        khewats = data.mouza_khewats(url, mouza.id, date.today())
    count = pending["mutation_id"].nunique() if not pending.empty else 0
    if actor.has("mutation.enter"):
        # keyed, with labels that do not change (no count in them): the tab the officer is
        # working in stays open when an action redraws the page
        pending_tab, entry_tab = st.tabs(
            ["Pending mutations", "Enter a mutation"], key="mutation_tab", on_change="rerun"
        )
        with pending_tab:
            st.caption(f"{count} pending mutation(s) in mouza {mouza.name}.")
            forms.pending_panel(url, mouza, pending, actor)
        with entry_tab:
            forms.entry_panel(url, mouza, khewats)
    else:
        st.subheader(f"Pending mutations ({count})")
        forms.pending_panel(url, mouza, pending, actor)


main()
