"""Who is signed in on the Farmer page: a farmer has no account, only a session of
:data:`SESSION_MINUTES` minutes opened by a one-time code (:mod:`app.views.farmer.view`).

Its own module so that the entry script (:mod:`app.dashboard`) can ask whether a farmer
is signed in, to offer that farmer their own page and nothing else, without running the
page.
"""

from __future__ import annotations

import time
from typing import Any, Final

import streamlit as st

SESSION_KEY: Final = "farmer_session"
SESSION_MINUTES: Final = 30


def signed_in() -> dict[str, Any] | None:
    """The farmer signed in on this browser session (``cnic``, ``party_id``, ``at``), or
    None (never past :data:`SESSION_MINUTES`)."""
    who = st.session_state.get(SESSION_KEY)
    if not isinstance(who, dict):
        return None
    if time.time() - float(who["at"]) > SESSION_MINUTES * 60:
        st.session_state.pop(SESSION_KEY, None)
        return None
    return who


def open_session(cnic: str, party_id: int) -> None:
    st.session_state[SESSION_KEY] = {"cnic": cnic, "party_id": party_id, "at": time.time()}


def close_session() -> None:
    st.session_state.pop(SESSION_KEY, None)
