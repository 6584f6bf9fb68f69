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

from app.shared import i18n
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
def postings(url: str, officer_id: int | None, on: date, lang: str = i18n.DEFAULT) -> list[str]:
    """The officer's postings on ``on``: ``tehsil Sheikhupura (since 2024-03-01)``, in
    ``lang`` (the unit's name as the record holds it)."""
    from landgov.security.queries import officer_postings

    if officer_id is None:
        return []
    with engine(url).connect() as conn:
        rows = officer_postings(conn, officer_id, on)
    _ = i18n.Words(lang)
    shown = []
    for r in rows:
        level = _(LEVELS[r.level]) if r.level in LEVELS else r.level.replace("_", " ")
        since = register_date(r.valid_from, lang)
        if r.valid_to is None:
            shown.append(_("frame.posting", level=level, name=r.name, since=since))
        else:
            until = register_date(r.valid_to, lang)
            shown.append(
                _("frame.posting_until", level=level, name=r.name, since=since, until=until)
            )
    return shown


LEVELS = {
    "province": "level.province",
    "division": "level.division",
    "district": "level.district",
    "tehsil": "level.tehsil",
    "qanungo_halqa": "level.qanungo_halqa",
    "patwar_circle": "level.patwar_circle",
}
"""Each admin unit level's catalogue key."""


def register_date(day: date, lang: str) -> str:
    """A date as the register writes it, ``2021-03-01``, in the language's digits and
    read left to right (tables and captions the tests and officers compare with the
    register)."""
    return i18n.record_number(day.isoformat(), lang)


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


def mouza_name(mouza: read.MouzaSummary, lang: str = i18n.DEFAULT) -> str:
    """The mouza's name in ``lang``'s script when the record holds one (``name_ur``),
    else as stored."""
    return mouza.name_ur if i18n.rtl(lang) and mouza.name_ur else mouza.name


def mouza_label(mouza: read.MouzaSummary, lang: str = i18n.DEFAULT) -> str:
    """``Kot Test (hadbast 7, Raiwind)``: the mouza picker's line."""
    return i18n.t(
        "frame.mouza_label",
        lang,
        name=mouza_name(mouza, lang),
        hadbast=i18n.record_number(str(mouza.hadbast_number), lang),
        tehsil=mouza.tehsil,
    )


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


OWNER_HEADINGS = {
    "Name": "register.name",
    "Guardian": "register.guardian",
    "CNIC": "register.cnic",
    "Share of khewat": "register.share",
    "Right": "register.right",
    "Since": "register.since",
    "Area equivalent (K-M-S)": "register.area",
}
"""The owner table's columns (their English names, which code and tests use) and the
catalogue key of each heading."""
OWNER_COLUMNS = list(OWNER_HEADINGS)

RELATIONS = {"son_of": "relation.son_of", "daughter_of": "relation.daughter_of",
             "wife_of": "relation.wife_of"}  # fmt: skip
RIGHTS = {
    "ownership": "right.ownership",
    "mortgage_with_possession": "right.mortgage_with_possession",
    "mortgage_without_possession": "right.mortgage_without_possession",
    "lease": "right.lease",
}
MUTATION_TYPES = {
    "settlement": "mutation_type.settlement",
    "sale": "mutation_type.sale",
    "inheritance": "mutation_type.inheritance",
    "gift": "mutation_type.gift",
    "mortgage": "mutation_type.mortgage",
    "redemption": "mutation_type.redemption",
    "exchange": "mutation_type.exchange",
    "partition": "mutation_type.partition",
    "court_decree": "mutation_type.court_decree",
    "lease": "mutation_type.lease",
}
STATUSES = {
    "settlement": "status.settlement",
    "sanctioned": "status.sanctioned",
    "rejected": "status.rejected",
    "entered": "status.entered",
    "verified": "status.verified",
}
"""Catalogue keys of the register's coded words (the schema's CHECK lists)."""


def coded(table: dict[str, str], code: str, lang: str) -> str:
    """A coded value (``court_decree``) in ``lang`` through ``table``; a code the table
    lacks (a newer schema) as its words, ``court decree``, never an error."""
    key = table.get(code)
    return code.replace("_", " ") if key is None else i18n.t(key, lang)


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
    lang: str = i18n.DEFAULT,
) -> pd.DataFrame:
    """The owners of one khewat as shown to staff; shares exact, CNICs masked unless
    ``unmasked`` (:func:`landgov.security.may_unmask` said the reader may see them);
    headings and the register's coded words in ``lang``, names as the record holds them.

    The area equivalent is share × the khewat's area, rounded to the nearest sarsai.
    """
    _ = i18n.Words(lang)
    rows = []
    for rec in owners_df[owners_df["khewat_no"] == khewat_no].itertuples(index=False):
        share = Fraction(as_int(rec.numerator), as_int(rec.denominator))
        relation, guardian_name = _text(rec.guardian_relation), _text(rec.guardian_name)
        guardian = ""
        if relation and guardian_name:
            guardian = f"{coded(RELATIONS, relation, lang)} {guardian_name}"
        name = str(rec.name)
        if not is_null(rec.date_of_death):
            died = register_date(as_date(rec.date_of_death), lang)
            name = _("register.died", name=name, date=died)
        cnic, custodian = _text(rec.cnic), _text(rec.custodian)
        if cnic:
            shown_id = i18n.isolate(cnic if unmasked else mask_cnic(cnic), lang)
        elif custodian:
            shown_id = _("register.state", custodian=custodian.replace("_", " "))
        else:
            shown_id = "—"
        area = "—"
        if khewat_area_sarsai is not None:
            area = i18n.record_number(kms(round(share * khewat_area_sarsai)), lang)
        rows.append(
            {
                "Name": name,
                "Guardian": guardian,
                "CNIC": shown_id,
                "Share of khewat": i18n.record_number(format_share(share), lang),
                "Right": coded(RIGHTS, str(rec.right_type), lang),
                "Since": register_date(as_date(rec.valid_from), lang),
                "Area equivalent (K-M-S)": area,
            }
        )
    table = pd.DataFrame(rows, columns=OWNER_COLUMNS)
    return table.rename(columns={c: _(k) for c, k in OWNER_HEADINGS.items()})


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


def status_label(status: str, lang: str = i18n.DEFAULT) -> str:
    """How an event's status reads (``pending (entered)``), in ``lang``."""
    return coded(STATUSES, status, lang)


def party_label(
    name: Cell,
    relation: Cell = None,
    guardian: Cell = None,
    custodian: Cell = None,
    lang: str = i18n.DEFAULT,
) -> str:
    """A party as the register names it: ``Ahmad Khan s/o Bashir Khan`` (no CNIC)."""
    shown = _text(name)
    if shown is None:
        custodian_text = _text(custodian)
        return custodian_text.replace("_", " ") if custodian_text else "—"
    relation_text, guardian_text = _text(relation), _text(guardian)
    if relation_text and guardian_text:
        shown += f" {coded(RELATIONS, relation_text, lang)} {guardian_text}"
    return shown


def _line_party(rec: PandasNamedTuple, role: str, lang: str) -> str | None:
    name = getattr(rec, f"{role}_name")
    if _text(name) is None:
        return None
    return party_label(
        name,
        getattr(rec, f"{role}_guardian_relation"),
        getattr(rec, f"{role}_guardian_name"),
        getattr(rec, f"{role}_custodian"),
        lang,
    )


def share_text(numerator: object, denominator: object, right: str, lang: str) -> str:
    """``1/6``, or ``1/6 (lease)`` for a right other than ownership."""
    share = i18n.record_number(format_share(Fraction(as_int(numerator), as_int(denominator))), lang)
    return share if right == "ownership" else f"{share} ({coded(RIGHTS, right, lang)})"


def transfer_text(rec: PandasNamedTuple, lang: str = i18n.DEFAULT) -> str:
    """One mutation line: ``Ahmad Khan s/o Bashir Khan → Bilal 1/6 of khewat 5``."""
    giver, taker = _line_party(rec, "transferor", lang), _line_party(rec, "transferee", lang)
    share = share_text(rec.numerator, rec.denominator, str(rec.right_type), lang)
    return f"{giver or '—'} → {taker or '—'} {share}"


def mutation_groups(lines: pd.DataFrame) -> Iterator[tuple[Any, pd.DataFrame]]:
    """(first line, all lines) of each mutation, in the order the query gave them."""
    for _mutation_id, group in lines.groupby("mutation_id", sort=False):
        yield group.iloc[0], group


def _day(value: object, lang: str) -> str:
    return register_date(as_date(value), lang)


def mutation_row(first: Any, group: pd.DataFrame, lang: str = i18n.DEFAULT) -> dict[str, str]:
    """One mutation as the register shows it (the keys of TIMELINE_COLUMNS and more), its
    words in ``lang``: the keys stay English (code refers to them), :data:`REGISTER_HEADINGS`
    names each heading's catalogue key."""
    _ = i18n.Words(lang)
    deed_parts = []
    if _text(first.deed_number):
        deed = i18n.isolate(str(first.deed_number), lang)
        deed_parts.append(_("register.deed_of", deed=deed, date=_day(first.deed_date, lang)))
    if not pd.isna(first.consideration_rs):
        deed_parts.append(_("register.rupees", amount=int(first.consideration_rs)))
    deed = _("register.separator").join(deed_parts)
    officer = "—"
    if _text(first.officer_name):
        designation = coded(ROLES, str(first.officer_designation), lang)
        officer = _("register.officer_of", name=str(first.officer_name), designation=designation)
    khewats = (i18n.digits(str(k), lang) for k in group["khewat_no"])
    return {
        "Date": _day(first.event_date, lang),
        "Mutation": i18n.digits(str(first.number), lang),
        "Type": coded(MUTATION_TYPES, str(first.type), lang),
        "Status": status_label(str(first.status), lang),
        "Khewat": _("register.separator").join(dict.fromkeys(khewats)),
        "Transfers": "; ".join(transfer_text(rec, lang) for rec in group.itertuples(index=False)),
        "Deed": deed or "—",
        "Officer": officer,
        "Note": _text(first.rejection_reason) or _text(first.remarks) or "",
        "Entered": _day(first.entered_on, lang),
        "Verified": "—" if pd.isna(first.verified_on) else _day(first.verified_on, lang),
    }


REGISTER_HEADINGS = {
    "Date": "register.date",
    "Mutation": "register.mutation",
    "Type": "register.type",
    "Status": "register.status",
    "Khewat": "register.khewat",
    "Transfers": "register.transfers",
    "Deed": "register.deed",
    "Officer": "register.officer",
    "Note": "register.note",
    "Entered": "register.entered",
    "Verified": "register.verified",
}
"""The catalogue key of each column of :func:`mutation_row`."""

ROLES = {
    "patwari": "role.patwari",
    "girdawar": "role.girdawar",
    "naib_tehsildar": "role.naib_tehsildar",
    "tehsildar": "role.tehsildar",
    "assistant_commissioner": "role.assistant_commissioner",
    "revenue_analyst": "role.revenue_analyst",
    "auditor": "role.auditor",
    "administrator": "role.administrator",
}
"""Catalogue keys of the roles and officer designations (service roles read as
``role.service``)."""


def role_label(role: str, lang: str = i18n.DEFAULT) -> str:
    """A role or designation in ``lang``: ``naib tehsildar``; a service account's role
    (``svc_demo``) as "service account"."""
    if role.startswith("svc_"):
        return i18n.t("role.service", lang)
    return coded(ROLES, role, lang)
