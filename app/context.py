"""What every dashboard page shares: the database, the mouza and the "as of" date.

The entry script (:mod:`app.dashboard`) draws the sidebar and stores a :class:`Context`
in the session; each page reads it with :func:`current`. Session state, not a module
global, because one Streamlit server runs many sessions in one process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import streamlit as st

from landgov.storage.read import MouzaSummary

_KEY = "_landgov_context"


@dataclass(frozen=True)
class Context:
    url: str
    mouza: MouzaSummary
    as_of: date


def store(ctx: Context) -> None:
    st.session_state[_KEY] = ctx


def current() -> Context:
    """The context the entry script stored in this run."""
    return st.session_state[_KEY]  # type: ignore[no-any-return]
