"""What every page of the dashboard shares: the database, the caches, the mouzas and
postings of the sidebar, who may see owners, and how the register words its entries.

The data-access rule of the dashboard: no module under ``app/`` builds or runs SQL. The
cached functions here and in each page's ``data.py`` call the service that owns the data
(:mod:`landgov.storage.read`, :mod:`landgov.security.queries`, ...) and shape what it
returns; ``tests/app/test_layout.py`` checks the rule on the syntax tree.

Every cached function takes the database URL as its first argument, so pointing
``LANDGOV_DATABASE_URL`` elsewhere (another district, a test database) never serves rows
of the previous database. The pure helpers make no Streamlit calls, so tests use them
directly; they live here when two pages or more show the same thing (an owner table, a
mutation's row, an area in K-M-S), in the page's ``data.py`` otherwise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any, SupportsIndex, SupportsInt, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine, make_url

from app.shared import style
from landgov.config import load_settings
from landgov.domain import KanalMarlaSarsai, format_kms, format_share, mask_cnic
from landgov.security import Actor
from landgov.storage import get_engine, read

if TYPE_CHECKING:
    from pandas._typing import ScalarOrNA
    from pandas.core.frame import PandasNamedTuple

    Cell: TypeAlias = ScalarOrNA | np.bool_ | pd.Period | pd.Interval
    """What pandas-stubs says a field of an ``itertuples()`` row is: any pandas scalar or a
    missing value (the stubs cannot know a column's type, so nor can mypy)."""

CACHE_TTL_S = 60  # imports and mutations show up within a minute


def database_url() -> str:
    """The SQLAlchemy URL of the configured landgov database (read on every rerun)."""
    return load_settings().url()


def display_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    return make_url(url).render_as_string(hide_password=True)


@st.cache_resource(show_spinner=False)
def engine(url: str) -> Engine:
    """The engine of ``url`` (from :func:`database_url`), one per URL."""
    return get_engine(replace(load_settings(), database_url=url))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def mouzas(url: str) -> list[read.MouzaSummary]:
    with engine(url).connect() as conn:
        return read.list_mouzas(conn)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def jurisdiction(url: str, officer_id: int, on: date) -> list[int]:
    """Ids of the mouzas officer ``officer_id`` is posted over on ``on``."""
    from landgov.storage.officers import jurisdiction_mouzas

    with engine(url).connect() as conn:
        return sorted(jurisdiction_mouzas(conn, officer_id, on))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def postings(url: str, officer_id: int | None, on: date) -> list[str]:
    """The officer's postings on ``on``: ``tehsil Sheikhupura (since 2024-03-01)``."""
    from landgov.security.queries import officer_postings

    if officer_id is None:
        return []
    with engine(url).connect() as conn:
        rows = officer_postings(conn, officer_id, on)
    return [
        f"{r.level.replace('_', ' ')} {r.name} (since {r.valid_from:%Y-%m-%d}"
        + ("" if r.valid_to is None else f", until {r.valid_to:%Y-%m-%d}")
        + ")"
        for r in rows
    ]


def forget_results() -> None:
    """Forget cached query results (after a mutation is written); keeps the engines."""
    st.cache_data.clear()


# --- who may see owners, and the access log ---------------------------------------


def unmask_allowed(url: str, actor: Actor, mouza_id: int) -> bool:
    """:func:`landgov.security.may_unmask` now (not cached: postings change)."""
    from landgov.security import may_unmask

    with engine(url).connect() as conn:
        return may_unmask(conn, actor, mouza_id)


READ_LOG_KEY = "_owner_reads_logged"


def log_owner_read(
    url: str,
    actor: Actor,
    mouza: read.MouzaSummary,
    khasra: str,
    owners_df: pd.DataFrame,
    on: date,
    *,
    unmasked: bool,
) -> bool:
    """Writes the access-log row of showing a khasra's owners on ``on`` (who read whom);
    once per browser session and (khasra, date, masking), not on every rerun. Returns
    whether a row was written."""
    from landgov.security import log_access

    logged: set[tuple[object, ...]] = st.session_state.setdefault(READ_LOG_KEY, set())
    key = (actor.session_id, mouza.id, khasra, on, unmasked)
    if key in logged:
        return False
    parties = sorted({int(p) for p in owners_df["party_id"]}) if not owners_df.empty else []
    with engine(url).begin() as conn:
        log_access(
            conn,
            actor,
            "owners",
            "khasra",
            f"{mouza.name} khasra {khasra}",
            {
                "mouza_id": mouza.id,
                "khasra": khasra,
                "on": on.isoformat(),
                "parties": parties,
                "unmasked": unmasked,
                "page": "dashboard",
            },
        )
    logged.add(key)
    return True


# --- pure helpers: how the register words things ----------------------------------


def mouza_label(mouza: read.MouzaSummary) -> str:
    return f"{mouza.name} (hadbast {mouza.hadbast_number}, {mouza.tehsil})"


def kms(sarsai: int) -> str:
    """Whole sarsai as the register writes them: ``4-7-3``."""
    return format_kms(KanalMarlaSarsai.from_sarsai(sarsai))


def bounds(gdf: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """(min lon, min lat, max lon, max lat) of the parcels."""
    min_x, min_y, max_x, max_y = (float(v) for v in gdf.total_bounds)
    return min_x, min_y, max_x, max_y


@dataclass(frozen=True)
class View:
    longitude: float
    latitude: float
    zoom: float


def fit_view(
    bounds: tuple[float, float, float, float],
    width_px: int = 800,
    height_px: int = 560,
    padding: float = 0.08,
) -> View:
    """The centre and web-mercator zoom that show ``bounds`` (lon/lat) in a map box."""
    min_x, min_y, max_x, max_y = bounds
    lon = (min_x + max_x) / 2
    lat = (min_y + max_y) / 2

    def merc_y(deg: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(deg) / 2))

    dx = max(math.radians(max_x - min_x), 1e-9)
    dy = max(merc_y(max_y) - merc_y(min_y), 1e-9)
    usable = 1 - 2 * padding
    # at zoom z the whole world (2π radians) is 512 · 2^z px wide in deck.gl's MapView
    zoom_x = math.log2(width_px * usable * 2 * math.pi / (512 * dx))
    zoom_y = math.log2(height_px * usable * 2 * math.pi / (512 * dy))
    return View(longitude=lon, latitude=lat, zoom=max(0.0, min(zoom_x, zoom_y, 20.0)))


OWNER_COLUMNS = [
    "Name",
    "Guardian",
    "CNIC",
    "Share of khewat",
    "Right",
    "Since",
    "Area equivalent (K-M-S)",
]


# --- cells of rows read back from the database ------------------------------------------
# A row of ``itertuples()`` or a ``groupby`` key is typed as any pandas scalar (or just
# Hashable); these narrow one to what the column holds, so the code after them is checked
# against the real type instead of a cast. A value of another type is a bug upstream and
# raises a TypeError that names it.


def is_null(value: Cell) -> bool:
    """Whether a cell is NULL as pandas reads it back: None, NaN, NaT or NA.

    ``pd.isna`` answers for any scalar at run time, but pandas-stubs types it for fewer
    scalars than a cell may be: numpy booleans, periods and intervals are left out, and
    none of them is ever missing (a missing period is NaT), so they answer False here.
    """
    if isinstance(value, np.bool_ | pd.Period | pd.Interval):
        return False
    return pd.isna(value)


def as_int(value: object) -> int:
    """A whole-number cell or key (a khewat number, a share's numerator) as an int.

    Raises:
        TypeError: ``value`` is nothing ``int()`` converts (NA, a date, ...).
    """
    if isinstance(value, str | SupportsInt | SupportsIndex):
        return int(value)
    raise TypeError(f"expected a whole number, got {value!r} ({type(value).__name__})")


def as_date(value: object) -> date:
    """A date cell or key (``valid_from``, a mutation's date) as a date (Timestamps are
    dates too); check :func:`is_null` first where the column is nullable.

    Raises:
        TypeError: ``value`` is not a date.
    """
    if isinstance(value, date):
        return value
    raise TypeError(f"expected a date, got {value!r} ({type(value).__name__})")


def owner_table(
    owners_df: pd.DataFrame,
    khewat_no: int,
    khewat_area_sarsai: int | None,
    *,
    unmasked: bool = False,
) -> pd.DataFrame:
    """The owners of one khewat as shown to staff; shares exact, CNICs masked unless
    ``unmasked`` (:func:`landgov.security.may_unmask` said the reader may see them).

    The area equivalent is share × the khewat's area, rounded to the nearest sarsai.
    """
    rows = []
    for rec in owners_df[owners_df["khewat_no"] == khewat_no].itertuples(index=False):
        share = Fraction(as_int(rec.numerator), as_int(rec.denominator))
        relation, guardian_name = _text(rec.guardian_relation), _text(rec.guardian_name)
        guardian = ""
        if relation and guardian_name:
            guardian = f"{style.GUARDIAN_ABBREVIATIONS.get(relation, relation)} {guardian_name}"
        name = str(rec.name)
        if not is_null(rec.date_of_death):
            name += f" (died {as_date(rec.date_of_death)})"
        cnic, custodian = _text(rec.cnic), _text(rec.custodian)
        if cnic:
            shown_id = cnic if unmasked else mask_cnic(cnic)
        elif custodian:
            shown_id = "state: " + custodian.replace("_", " ")
        else:
            shown_id = "—"
        area = "—" if khewat_area_sarsai is None else kms(round(share * khewat_area_sarsai))
        rows.append(
            {
                "Name": name,
                "Guardian": guardian,
                "CNIC": shown_id,
                "Share of khewat": format_share(share),
                "Right": str(rec.right_type).replace("_", " "),
                "Since": str(rec.valid_from),
                "Area equivalent (K-M-S)": area,
            }
        )
    return pd.DataFrame(rows, columns=OWNER_COLUMNS)


def _text(value: Cell) -> str | None:
    """A nullable text column's value: None for NULL, NaN or an empty string."""
    if is_null(value):
        return None
    return str(value) or None


STATUS_LABELS = {
    "settlement": "settlement",
    "sanctioned": "sanctioned",
    "rejected": "rejected",
    "entered": "pending (entered)",
    "verified": "pending (verified)",
}
"""How each event's status reads on the timeline, in the legend's order."""


def party_label(
    name: Cell, relation: Cell = None, guardian: Cell = None, custodian: Cell = None
) -> str:
    """A party as the register names it: ``Ahmad Khan s/o Bashir Khan`` (no CNIC)."""
    shown = _text(name)
    if shown is None:
        custodian_text = _text(custodian)
        return custodian_text.replace("_", " ") if custodian_text else "—"
    relation_text, guardian_text = _text(relation), _text(guardian)
    if relation_text and guardian_text:
        abbreviation = style.GUARDIAN_ABBREVIATIONS.get(relation_text, relation_text)
        shown += f" {abbreviation} {guardian_text}"
    return shown


def _line_party(rec: PandasNamedTuple, role: str) -> str | None:
    name = getattr(rec, f"{role}_name")
    if _text(name) is None:
        return None
    return party_label(
        name,
        getattr(rec, f"{role}_guardian_relation"),
        getattr(rec, f"{role}_guardian_name"),
        getattr(rec, f"{role}_custodian"),
    )


def transfer_text(rec: PandasNamedTuple) -> str:
    """One mutation line: ``Ahmad Khan s/o Bashir Khan → Bilal 1/6 of khewat 5``."""
    share = format_share(Fraction(as_int(rec.numerator), as_int(rec.denominator)))
    giver, taker = _line_party(rec, "transferor"), _line_party(rec, "transferee")
    right = str(rec.right_type)
    suffix = "" if right == "ownership" else f" ({right.replace('_', ' ')})"
    return f"{giver or '—'} → {taker or '—'} {share}{suffix}"


def mutation_groups(lines: pd.DataFrame) -> Iterator[tuple[Any, pd.DataFrame]]:
    """(first line, all lines) of each mutation, in the order the query gave them."""
    for _mutation_id, group in lines.groupby("mutation_id", sort=False):
        yield group.iloc[0], group


def mutation_row(first: Any, group: pd.DataFrame) -> dict[str, str]:
    """One mutation as the register shows it (the keys of TIMELINE_COLUMNS and more)."""
    deed_parts = []
    if _text(first.deed_number):
        deed_parts.append(f"{first.deed_number} of {first.deed_date}")
    if not pd.isna(first.consideration_rs):
        deed_parts.append(f"Rs {int(first.consideration_rs):,}")
    deed = ", ".join(deed_parts) or "—"
    officer = "—"
    if _text(first.officer_name):
        designation = str(first.officer_designation).replace("_", " ")
        officer = f"{first.officer_name} ({designation})"
    return {
        "Date": str(first.event_date),
        "Mutation": str(first.number),
        "Type": str(first.type).replace("_", " "),
        "Status": STATUS_LABELS.get(str(first.status), str(first.status)),
        "Khewat": ", ".join(dict.fromkeys(str(k) for k in group["khewat_no"])),
        "Transfers": "; ".join(transfer_text(rec) for rec in group.itertuples(index=False)),
        "Deed": deed,
        "Officer": officer,
        "Note": _text(first.rejection_reason) or _text(first.remarks) or "",
        "Entered": str(first.entered_on),
        "Verified": "—" if pd.isna(first.verified_on) else str(first.verified_on),
    }
