"""Mutations page: the signed-in officer enters, verifies, sanctions and rejects
mutations (intiqal) in the mouzas of their jurisdiction today, and registers a party the
record does not know yet (a new buyer).

There is no officer picker: who acts is the signed-in actor. The sidebar offers only the
mouzas the officer is posted over today, the page shows only the forms the officer's
roles allow, and the records engine checks everything again when the action is written.

The page speaks the session's language (``ctx.lang``: English or Urdu, right to left in
Nastaliq): its words are the catalogue's ``[mutations]`` part, passed down to the forms.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from app.shared import context, i18n, panels
from app.shared.navigation import MUTATION_CAPABILITIES
from app.views.mutations import data, forms


def as_of_note(as_of: date, today: date, lang: str = i18n.DEFAULT) -> None:
    """Says that this page is as of today: an entry or a decision is written on the day it
    is made, by an officer posted that day, so the sidebar's date cannot apply here."""
    if as_of == today:
        st.caption(i18n.t("mutations.as_of_today", lang, date=today))
        return
    st.info(
        i18n.t("mutations.as_of_other", lang, today=today, as_of=as_of),
        icon=":material/event:",
    )


def main() -> None:
    ctx = context.require(*MUTATION_CAPABILITIES)
    url, mouza, actor, lang = ctx.url, ctx.mouza, ctx.actor, ctx.lang
    place = data.mouza_name(mouza, lang)
    _ = ctx.words
    i18n.apply_style(lang)
    st.title(_("mutations.title"))
    st.caption(
        _("mutations.mouza_caption", mouza=place,
          hadbast=i18n.record_number(str(mouza.hadbast_number), lang), tehsil=mouza.tehsil)
    )  # fmt: skip
    st.caption(forms.signed_in_caption(actor, lang))
    as_of_note(ctx.as_of, date.today(), lang)
    if not forms.engine_available():
        st.info(_("mutations.no_engine"))
        return
    # the last action's confirmation: always a container here, so nothing below it moves
    # when one appears
    outcome = st.container()
    with panels.database_errors(url):
        with outcome:
            forms.outcome_panel(url, mouza, actor, lang)
        pending = data.pending_lines(url, mouza.id)
        khewats = data.mouza_khewats(url, mouza.id, date.today())
    count = int(pending["mutation_id"].nunique()) if not pending.empty else 0
    if actor.has("mutation.enter"):
        # keyed, with labels that do not change (no count in them): the tab the officer is
        # working in stays open when an action redraws the page
        pending_tab, entry_tab = st.tabs(
            [_("mutations.tab_pending"), _("mutations.tab_entry")],
            key="mutation_tab",
            on_change="rerun",
        )
        with pending_tab:
            st.caption(_("mutations.pending_count", count=count, mouza=place))
            forms.pending_panel(url, mouza, pending, actor, lang)
        with entry_tab:
            forms.entry_panel(url, mouza, khewats, lang)
    else:
        st.subheader(_("mutations.pending_heading", count=count))
        forms.pending_panel(url, mouza, pending, actor, lang)


main()
