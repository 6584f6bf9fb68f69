"""The Mutations page's data: cached calls of :mod:`landgov.storage.read` (the mouza's
pending mutations, khewats and owners) and of the records engine's price check of a sale
(:func:`landgov.records.pricing.price_check`), and the pure helpers that turn them into
the page's tables and choices.

No SQL here (the dashboard's rule, :mod:`app.shared.data`). After an action the forms
call :func:`app.shared.data.forget_results`, so every page shows the change.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from app.shared.data import CACHE_TTL_S, STATUS_LABELS, engine, mutation_groups, mutation_row
from landgov.records.pricing import REASON_TEXT, PriceCheck
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


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def price_check(url: str, mutation_id: int) -> PriceCheck | None:
    """The sale's price check (None: not a sale); the sanction computes it again in its
    own transaction, so this is what the officer reads, not what decides."""
    from landgov.records.pricing import price_check as check

    with engine(url).connect() as conn:
        return check(conn, mutation_id)


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


def rupees(value: int | None) -> str:
    """``Rs 1,234,567``, or a dash for no value."""
    return "—" if value is None else f"Rs {value:,}"


def price_rows(check: PriceCheck) -> list[tuple[str, str, str]]:
    """The price check as (what, rupees, note) rows, for a table that never cuts a
    figure off: the declared price, the DC and model values (each with the declared
    price's share of it), the taxable value, the taxes and what is at stake."""
    dc, model = check.declared_to_dc, check.declared_to_model
    rows = [
        ("Declared price (consideration)", rupees(check.declared_rs), ""),
        ("DC (statutory) value", rupees(check.statutory_rs),
         "" if dc is None else f"declared is {dc:.0%} of it"),
        ("Model value", rupees(check.model_rs),
         check.model_note or ("" if model is None else f"declared is {model:.0%} of it")),
    ]  # fmt: skip
    if check.statutory_rs is None:
        return rows
    rows.append(("Taxable value (higher of declared and DC)", rupees(check.taxable_rs), ""))
    for tax in check.taxes:
        rows.append((f"{tax.code} ({tax.payer})", rupees(tax.amount), f"{tax.rate:.2%}"))
    rows.append(("Tax on the taxable value", rupees(check.tax_rs), ""))
    rows.append(
        ("Tax at stake (taxable value vs declared)", rupees(check.tax_at_stake_rs),
         "" if check.tax_on_declared_rs is None
         else f"the declared price alone would pay {rupees(check.tax_on_declared_rs)}")
    )  # fmt: skip
    if check.tax_if_model_rs:
        rows.append(("More if assessed at the model value", rupees(check.tax_if_model_rs), ""))
    return rows


def price_warning(check: PriceCheck) -> str | None:
    """What the sanctioning officer must acknowledge, in words (None: nothing)."""
    if not check.reasons:
        return None
    why = "; ".join(REASON_TEXT[r] for r in check.reasons)
    return f"Under-declared sale ({why}): {check.summary()}."
