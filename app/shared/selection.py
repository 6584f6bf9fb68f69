"""The khasra the officer has selected, kept for every page that shows parcels.

A click on a parcel of the Parcels map (or the khasra typed in its picker) is stored in
the session under :data:`KEY` as a :class:`SelectedKhasra`; any page that draws the
same mouza's parcels reads it with :func:`current` and outlines or opens that khasra,
and a page whose own map is clicked stores its pick with :func:`select`. One key for the
whole dashboard, not a widget's state: Streamlit forgets a widget's value when its page is
left, so the picker of the Parcels page could not carry the choice to another page (nor
back). Signing out clears the session, and with it the selection.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import streamlit as st

KEY: Final = "landgov_selected_khasra"
"""Session-state key of the selection: a :class:`SelectedKhasra`, or absent."""


@dataclass(frozen=True)
class SelectedKhasra:
    """A khasra by its mouza, id and number (the number is what the pickers show)."""

    mouza_id: int
    khasra_id: int
    number: str


def current(mouza_id: int | None = None) -> SelectedKhasra | None:
    """The selected khasra (of mouza ``mouza_id`` when given: None if another mouza's)."""
    found = st.session_state.get(KEY)
    if not isinstance(found, SelectedKhasra):
        return None
    if mouza_id is not None and found.mouza_id != mouza_id:
        return None
    return found


def select(khasra: SelectedKhasra | None) -> None:
    """Stores ``khasra`` as the selection (None: nothing selected)."""
    if khasra is None:
        st.session_state.pop(KEY, None)
    else:
        st.session_state[KEY] = khasra


def clear(mouza_id: int) -> None:
    """Forgets the selection if it lies in mouza ``mouza_id`` (its picker was emptied)."""
    if current(mouza_id) is not None:
        select(None)
