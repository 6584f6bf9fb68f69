"""Farmer view: a farmer's own parcels and their advisories, behind a one-time code.

Open to anonymous visitors (a farmer has no account; the sign-in page links here): the
farmer types their CNIC and asks for a code; it goes to the phone registered for them
through the SMS outbox. The answers never tell whether a CNIC is in the records or has a
phone, and codes are rate-limited with one failure budget per CNIC
(:mod:`landgov.advisories.farmer`). With the code the page shows only that person's
parcels (share, khewat), each parcel's advisories in Urdu or English with the evidence,
and its NDVI over the season; every view writes an access-log row
(``farmer:<masked CNIC>``). Nobody else's CNIC or name is ever read for this page
(:func:`landgov.advisories.farmer.farmer_view`). A farmer's sign-in lasts
:data:`SESSION_MINUTES` minutes.
"""

from __future__ import annotations

import re
import time
from datetime import date
from typing import Any

import streamlit as st

from app.shared import context, panels
from app.shared import data as shared
from app.views.farmer import data

SESSION_KEY = "farmer_session"
SESSION_MINUTES = 30
CNIC = re.compile(r"^\d{5}-\d{7}-\d$")


def where() -> tuple[str, date]:
    """The database and the date: the dashboard's when it drew its sidebar (an officer's
    session), else the configured database and today (an anonymous farmer)."""
    try:
        ctx = context.current()
    except KeyError:
        return shared.database_url(), date.today()
    return ctx.url, ctx.as_of


def signed_in() -> dict[str, Any] | None:
    """The farmer signed in on this browser session, or None (never past
    :data:`SESSION_MINUTES`)."""
    who = st.session_state.get(SESSION_KEY)
    if not isinstance(who, dict):
        return None
    if time.time() - float(who["at"]) > SESSION_MINUTES * 60:
        st.session_state.pop(SESSION_KEY, None)
        return None
    return who


def login(url: str) -> None:
    st.caption(
        "Enter your CNIC and ask for a code: it is sent by SMS to the phone registered for "
        "you and works once, for 10 minutes."
    )
    cnic = st.text_input("CNIC", placeholder="35401-1234567-1", key="farmer_cnic").strip()
    cols = st.columns(2)
    if cols[0].button("Send me a code", key="farmer_send", icon=":material/sms:"):
        if not CNIC.match(cnic):
            st.error("Write the CNIC as 00000-0000000-0.")
        else:
            with panels.database_errors(url):
                answer = data.send_code(url, cnic)  # counted whatever the answer
            if answer.refused_by is None:
                st.info(answer.message)
            else:
                st.warning(answer.message)
    code = st.text_input("Code", max_chars=6, key="farmer_code").strip()
    if cols[1].button("Open my parcels", key="farmer_open", icon=":material/lock_open:"):
        if not CNIC.match(cnic):
            st.error("Write the CNIC as 00000-0000000-0.")
            return
        with panels.database_errors(url):
            pid, why = data.check_code(url, cnic, code)  # a failure is counted either way
        if pid is None:
            st.error(why)
        else:
            st.session_state[SESSION_KEY] = {"cnic": cnic, "party_id": pid, "at": time.time()}
            st.rerun()


def advisory_card(a: dict[str, Any], lang: str) -> None:
    body = a["text_ur"] if lang == "ur" else a["text_en"]
    icon = "⚠️" if a["level"] == "warning" else "ℹ️"
    with st.container(border=True):
        if lang == "ur":
            st.markdown(f'<div dir="rtl" lang="ur" style="font-size:1.15em">{icon} {body}</div>',
                        unsafe_allow_html=True)  # fmt: skip
        else:
            st.markdown(f"{icon} {body}")
        st.caption(
            f"{a['kind'].replace('_', ' ')} · {a['season']} {a['year']} · as of {a['as_of']} · "
            f"confidence {a['confidence']:.0%}"
        )
        with st.expander("Evidence"):
            st.json(a["evidence"])


def parcels(url: str, cnic: str, on: date) -> None:
    with panels.database_errors(url):
        view = data.own_parcels(url, cnic, on)  # shown and logged in one transaction
    top = st.columns([3, 1])
    top[0].subheader(f"{view['name']} — your parcels on {on:%d %b %Y}")
    if top[1].button("Sign out", key="farmer_signout"):
        st.session_state.pop(SESSION_KEY, None)
        st.rerun()
    if not view["parcels"]:
        st.info("The record of rights shows no parcel in your name on this date.")
        return
    table = data.parcels_table(view)
    st.dataframe(table, hide_index=True, width="stretch")
    lang = st.radio("Language", ["ur", "en"], horizontal=True, key="farmer_lang",
                    format_func=lambda x: "اردو" if x == "ur" else "English")  # fmt: skip
    labels = {f"{p['mouza']} · khasra {p['khasra']}": p for p in view["parcels"]}
    chosen = labels[st.selectbox("Parcel", list(labels), key="farmer_parcel")]
    if not chosen["advisories"]:
        st.info("No advisory for this parcel yet.")
        return
    for a in chosen["advisories"]:
        advisory_card(a, lang)
    first = chosen["advisories"][0]
    series = data.season_series(url, chosen["khasra_id"], first["season"], int(first["year"]))
    if not series.empty:
        st.caption("Greenness (NDVI) of this parcel this season, clear satellite looks only")
        st.line_chart(series, y="ndvi", height=220)


def main() -> None:
    st.title("Farmer")
    url, on = where()
    who = signed_in()
    if who is None:
        login(url)
    else:
        parcels(url, str(who["cnic"]), on)


main()
