"""The Mutations page's data: cached calls of :mod:`landgov.storage.read` (the mouza's
pending mutations, khewats and owners) and the pure helpers that turn pending mutations
into the page's table and choices.

No SQL here (the dashboard's rule, :mod:`app.shared.data`). After an action the forms
call :func:`app.shared.data.forget_results`, so every page shows the change.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app.shared.data import CACHE_TTL_S, STATUS_LABELS, engine, mutation_groups, mutation_row
from landgov.storage import read


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def pending_lines(url: str, mouza_id: int) -> pd.DataFrame:
    with engine(url).connect() as conn:
        return read.mutation_lines(conn, mouza_id)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def mouza_khewats(url: str, mouza_id: int, as_of: date) -> list[int]:
    with engine(url).connect() as conn:
        return read.mouza_khewats(conn, mouza_id, as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def khewat_owners(
    url: str, mouza_id: int, khewat_numbers: tuple[int, ...], as_of: date
) -> pd.DataFrame:
    with engine(url).connect() as conn:
        return read.khewat_owners(conn, mouza_id, list(khewat_numbers), as_of)


def mutation_number(url: str, mutation_id: int) -> int | None:
    """Not cached: asked right after a mutation is entered."""
    with engine(url).connect() as conn:
        return read.mutation_number(conn, mutation_id)


# --- pure helpers ---------------------------------------------------------------------


PENDING_COLUMNS = [
    "Mutation",
    "Type",
    "Status",
    "Entered",
    "Verified",
    "Khewat",
    "Transfers",
    "Deed",
]


def pending_table(lines: pd.DataFrame) -> pd.DataFrame:
    """The pending mutations of :func:`read.mutation_lines`, one row each."""
    rows = [mutation_row(first, group) for first, group in mutation_groups(lines)]
    return pd.DataFrame(rows, columns=PENDING_COLUMNS)


def pending_choices(lines: pd.DataFrame) -> dict[int, str]:
    """Mutation id -> ``No. 3 · sale · pending (verified) · khewat 5``."""
    return {
        int(first.mutation_id): f"No. {first.number} · {str(first.type).replace('_', ' ')} · "
        f"{STATUS_LABELS.get(str(first.status), str(first.status))} · khewat "
        + ", ".join(dict.fromkeys(str(k) for k in group["khewat_no"]))
        for first, group in mutation_groups(lines)
    }
