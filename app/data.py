"""The dashboard's data access: cached calls of :mod:`landgov.storage.read`.

Every cached function takes the database URL as its first argument, so pointing
``LANDGOV_DATABASE_URL`` elsewhere (another district, a test database) never serves rows
of the previous database. The pure helpers below turn query results into what the panels
show; they are kept free of Streamlit calls so tests can use them directly.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from typing import Any, Literal

import geopandas as gpd
import pandas as pd
import streamlit as st
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url

from app import style
from landgov.config import load_settings
from landgov.domain import (
    KanalMarlaSarsai,
    UnitSystem,
    format_kms,
    format_share,
    mask_cnic,
    sarsai_to_m2,
)
from landgov.errors import AccessDenied
from landgov.security import Actor
from landgov.storage import get_engine, read

PARCEL_LAYER_ID = "parcels"
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


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Loading parcels…")
def parcels(url: str, mouza_id: int, as_of: date) -> gpd.GeoDataFrame:
    with engine(url).connect() as conn:
        return read.mouza_parcels(conn, mouza_id, as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def owners(url: str, khasra_id: int, as_of: date) -> pd.DataFrame:
    with engine(url).connect() as conn:
        return read.owners_as_of(conn, as_of, khasra_ids=[khasra_id])


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def khewat_areas(url: str, khewat_ids: tuple[int, ...], as_of: date) -> dict[int, int]:
    with engine(url).connect() as conn:
        return read.khewat_areas(conn, list(khewat_ids), as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def map_rows(url: str, mouza_id: int, as_of: date) -> pd.DataFrame:
    return parcel_polygons(parcels(url, mouza_id, as_of))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def mutation_chain(url: str, khasra_id: int) -> read.MutationChain:
    with engine(url).connect() as conn:
        return read.mutation_chain(conn, khasra_id)


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
def jurisdiction(url: str, officer_id: int, on: date) -> list[int]:
    """Ids of the mouzas officer ``officer_id`` is posted over on ``on``."""
    from landgov.storage.officers import jurisdiction_mouzas

    with engine(url).connect() as conn:
        return sorted(jurisdiction_mouzas(conn, officer_id, on))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def postings(url: str, officer_id: int | None, on: date) -> list[str]:
    """The officer's postings on ``on``: ``tehsil Sheikhupura (since 2024-03-01)``."""
    if officer_id is None:
        return []
    with engine(url).connect() as conn:
        rows = conn.execute(
            text(
                "SELECT a.level, a.name, j.valid_from, j.valid_to FROM officer_jurisdiction j"
                " JOIN admin_unit a ON a.id = j.admin_unit_id WHERE j.officer_id = :o"
                " AND j.valid_from <= :d AND (j.valid_to IS NULL OR j.valid_to > :d)"
                " ORDER BY j.valid_from, a.name"
            ),
            {"o": officer_id, "d": on},
        ).all()
    return [
        f"{str(r.level).replace('_', ' ')} {r.name} (since {r.valid_from:%Y-%m-%d}"
        + ("" if r.valid_to is None else f", until {r.valid_to:%Y-%m-%d}")
        + ")"
        for r in rows
    ]


def clear_caches() -> None:
    """Forget every cached result and engine (tests; after bulk imports)."""
    st.cache_data.clear()
    st.cache_resource.clear()


def forget_results() -> None:
    """Forget cached query results (after a mutation is written); keeps the engines."""
    st.cache_data.clear()


# --- pure helpers ---------------------------------------------------------------------


def mouza_label(mouza: read.MouzaSummary) -> str:
    return f"{mouza.name} (hadbast {mouza.hadbast_number}, {mouza.tehsil})"


def kms(sarsai: int) -> str:
    """Whole sarsai as the register writes them: ``4-7-3``."""
    return format_kms(KanalMarlaSarsai.from_sarsai(sarsai))


def parcel_polygons(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per polygon (multipolygon parts exploded) for a pydeck PolygonLayer.

    Columns: ``khasra_no``, ``land_class``, ``land_class_label``, ``area_kms``,
    ``khewat_no``, ``fill_color`` (RGBA list) and ``polygon`` (exterior ring then holes,
    each a list of [lon, lat]).
    """
    columns = [
        "khasra_no",
        "land_class",
        "land_class_label",
        "area_kms",
        "khewat_no",
        "fill_color",
        "polygon",
    ]
    if gdf.empty:
        return pd.DataFrame(columns=columns)
    parts = gdf.explode(index_parts=False)
    rows = []
    for rec in parts.itertuples(index=False):
        geom = rec.geom
        rings = [geom.exterior, *geom.interiors]
        rows.append(
            {
                "khasra_no": rec.khasra_no,
                "land_class": rec.land_class,
                "land_class_label": style.land_class_label(rec.land_class),
                "area_kms": kms(int(rec.record_area_sarsai)),
                "khewat_no": "—" if pd.isna(rec.khewat_no) else rec.khewat_no,
                "fill_color": [*style.land_class_color(rec.land_class), style.FILL_ALPHA],
                "polygon": [[[round(x, 7), round(y, 7)] for x, y in ring.coords] for ring in rings],
            }
        )
    return pd.DataFrame(rows, columns=columns)


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


@dataclass(frozen=True)
class KhasraFacts:
    khasra_id: int
    number: str
    land_class: str
    land_class_label: str
    unit_system: UnitSystem
    record_area_sarsai: int
    record_area_kms: str
    record_area_m2: float
    geom_area_m2: float
    khewat_numbers: str

    @property
    def area_difference_pct(self) -> float:
        """Map area versus record area, in percent of the record area."""
        return 100 * (self.geom_area_m2 - self.record_area_m2) / self.record_area_m2


def khasra_facts(gdf: gpd.GeoDataFrame, khasra_no: str) -> KhasraFacts | None:
    """The panel facts of khasra ``khasra_no`` in a :func:`read.mouza_parcels` result."""
    match = gdf[gdf["khasra_no"] == khasra_no]
    if match.empty:
        return None
    row = match.iloc[0]
    system = UnitSystem(row["unit_system"])
    sarsai = int(row["record_area_sarsai"])
    return KhasraFacts(
        khasra_id=int(row["khasra_id"]),
        number=str(row["khasra_no"]),
        land_class=str(row["land_class"]),
        land_class_label=style.land_class_label(str(row["land_class"])),
        unit_system=system,
        record_area_sarsai=sarsai,
        record_area_kms=kms(sarsai),
        record_area_m2=float(sarsai_to_m2(sarsai, system)),
        geom_area_m2=float(row["geom_area_m2"]),
        khewat_numbers="" if pd.isna(row["khewat_no"]) else str(row["khewat_no"]),
    )


OWNER_COLUMNS = [
    "Name",
    "Guardian",
    "CNIC",
    "Share of khewat",
    "Right",
    "Since",
    "Area equivalent (K-M-S)",
]


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
        share = Fraction(int(rec.numerator), int(rec.denominator))
        relation, guardian_name = _text(rec.guardian_relation), _text(rec.guardian_name)
        guardian = ""
        if relation and guardian_name:
            guardian = f"{style.GUARDIAN_ABBREVIATIONS.get(relation, relation)} {guardian_name}"
        name = str(rec.name)
        if not pd.isna(rec.date_of_death):
            name += f" (died {rec.date_of_death})"
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


def _text(value: object) -> str | None:
    """A nullable text column's value: None for NULL, NaN or an empty string."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    return str(value) or None


def land_class_counts(gdf: gpd.GeoDataFrame) -> dict[str, int]:
    if gdf.empty:
        return {}
    return {str(k): int(v) for k, v in gdf["land_class"].value_counts().items()}


# --- the mutation chain (timeline) ----------------------------------------------------

STATUS_LABELS = {
    "settlement": "settlement",
    "sanctioned": "sanctioned",
    "rejected": "rejected",
    "entered": "pending (entered)",
    "verified": "pending (verified)",
}
"""How each event's status reads on the timeline, in the legend's order."""

TIMELINE_COLUMNS = [
    "Date",
    "Mutation",
    "Type",
    "Status",
    "Khewat",
    "Transfers",
    "Deed",
    "Officer",
    "Note",
]


def party_label(
    name: object, relation: object = None, guardian: object = None, custodian: object = None
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


def _line_party(rec: object, role: str) -> str | None:
    name = getattr(rec, f"{role}_name")
    if _text(name) is None:
        return None
    return party_label(
        name,
        getattr(rec, f"{role}_guardian_relation"),
        getattr(rec, f"{role}_guardian_name"),
        getattr(rec, f"{role}_custodian"),
    )


def transfer_text(rec: object) -> str:
    """One mutation line: ``Ahmad Khan s/o Bashir Khan → Bilal 1/6 of khewat 5``."""
    share = format_share(Fraction(int(rec.numerator), int(rec.denominator)))  # type: ignore[attr-defined]
    giver, taker = _line_party(rec, "transferor"), _line_party(rec, "transferee")
    right = str(rec.right_type)  # type: ignore[attr-defined]
    suffix = "" if right == "ownership" else f" ({right.replace('_', ' ')})"
    return f"{giver or '—'} → {taker or '—'} {share}{suffix}"


def _owners_text(group: pd.DataFrame) -> str:
    parts = []
    for rec in group.itertuples(index=False):
        share = format_share(Fraction(int(rec.numerator), int(rec.denominator)))
        right = str(rec.right_type)
        suffix = "" if right == "ownership" else f" ({right.replace('_', ' ')})"
        who = party_label(rec.name, rec.guardian_relation, rec.guardian_name, rec.custodian)
        parts.append(f"{who} {share}{suffix}")
    return "; ".join(parts)


def _mutations(lines: pd.DataFrame) -> Iterator[tuple[Any, pd.DataFrame]]:
    """(first line, all lines) of each mutation, in the order the query gave them."""
    for _mutation_id, group in lines.groupby("mutation_id", sort=False):
        yield group.iloc[0], group


def _mutation_row(first: Any, group: pd.DataFrame) -> dict[str, str]:
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
    rows = [_mutation_row(first, group) for first, group in _mutations(lines)]
    return pd.DataFrame(rows, columns=PENDING_COLUMNS)


def pending_choices(lines: pd.DataFrame) -> dict[int, str]:
    """Mutation id -> ``No. 3 · sale · pending (verified) · khewat 5``."""
    return {
        int(first.mutation_id): f"No. {first.number} · {str(first.type).replace('_', ' ')} · "
        f"{STATUS_LABELS.get(str(first.status), str(first.status))} · khewat "
        + ", ".join(dict.fromkeys(str(k) for k in group["khewat_no"]))
        for first, group in _mutations(lines)
    }


def timeline_table(chain: read.MutationChain) -> pd.DataFrame:
    """One row per event, oldest first: the settlement owners, then every mutation.

    Shares are exact fractions of the khewat each line names; parties by name and
    guardian only (no CNIC).
    """
    rows: list[dict[str, str]] = []
    settlement = chain.settlement
    if not settlement.empty:
        for (valid_from, khewat_no), group in settlement.groupby(
            ["valid_from", "khewat_no"], sort=True
        ):
            rows.append(
                {
                    "Date": str(valid_from),
                    "Mutation": "—",
                    "Type": "settlement",
                    "Status": STATUS_LABELS["settlement"],
                    "Khewat": str(khewat_no),
                    "Transfers": "first recorded owners: " + _owners_text(group),
                    "Deed": "—",
                    "Officer": "—",
                    "Note": "",
                }
            )
    if not chain.lines.empty:
        rows.extend(_mutation_row(first, group) for first, group in _mutations(chain.lines))
    return pd.DataFrame(rows, columns=TIMELINE_COLUMNS)


def lane(khewat_no: object, khasra_no: object) -> str:
    """A timeline row: the khewat and the khasra (itself or a partition parent) it held."""
    return f"khewat {khewat_no} · khasra {khasra_no}"


def timeline_events(chain: read.MutationChain) -> pd.DataFrame:
    """The chart's points: ``date, lane, status, type, mutation, transfers, above``.

    ``above`` alternates along each lane (oldest first): where the label goes.
    """
    columns = ["date", "lane", "status", "type", "mutation", "transfers", "above"]
    rows = []
    settlement = chain.settlement
    if not settlement.empty:
        for (valid_from, khewat_no, via), group in settlement.groupby(
            ["valid_from", "khewat_no", "via_khasra_no"], sort=True
        ):
            rows.append(
                {
                    "date": pd.Timestamp(valid_from),
                    "lane": lane(khewat_no, via),
                    "status": STATUS_LABELS["settlement"],
                    "type": "settlement",
                    "mutation": "first owners",
                    "transfers": _owners_text(group),
                }
            )
    if not chain.lines.empty:
        for first, group in _mutations(chain.lines):
            for (khewat_no, via), part in group.groupby(["khewat_no", "via_khasra_no"], sort=False):
                rows.append(
                    {
                        "date": pd.Timestamp(first.event_date),
                        "lane": lane(khewat_no, via),
                        "status": STATUS_LABELS.get(str(first.status), str(first.status)),
                        "type": str(first.type).replace("_", " "),
                        "mutation": f"No. {first.number}",
                        "transfers": "; ".join(
                            transfer_text(rec) for rec in part.itertuples(index=False)
                        ),
                    }
                )
    events = pd.DataFrame(rows, columns=columns).sort_values("date", kind="stable")
    events["above"] = events.groupby("lane").cumcount() % 2 == 0
    return events.reset_index(drop=True)


def timeline_lanes(chain: read.MutationChain, today: date) -> pd.DataFrame:
    """The chart's bars: each khewat period of the khasra or a partition parent.

    Columns ``lane, start, end, held`` (``end`` is ``today`` for a current period).
    """
    columns = ["lane", "start", "end", "held"]
    if chain.holdings.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for rec in chain.holdings.itertuples(index=False):
        end = today if rec.valid_to is None or pd.isna(rec.valid_to) else rec.valid_to
        rows.append(
            {
                "lane": lane(rec.khewat_no, rec.khasra_no),
                "start": pd.Timestamp(rec.valid_from),
                "end": pd.Timestamp(max(end, rec.valid_from)),
                "held": f"{rec.valid_from} to {'today' if end == today else end}",
            }
        )
    return pd.DataFrame(rows, columns=columns)


def sanctioned_between(chain: read.MutationChain, start: date, end: date) -> list[str]:
    """``No. 12 (sale, 2021-03-01)`` for each mutation sanctioned in (start, end]."""
    lines = chain.lines
    if lines.empty:
        return []
    low, high = min(start, end), max(start, end)
    found = []
    for first, _group in _mutations(lines):
        decided = first.decided_on
        if str(first.status) == "sanctioned" and not pd.isna(decided) and low < decided <= high:
            found.append(f"No. {first.number} ({str(first.type).replace('_', ' ')}, {decided})")
    return found


def lineage_text(chain: read.MutationChain) -> str:
    """``cut from 12 on 2023-05-01, which was cut from 7 on 1990-01-01`` (or empty)."""
    lineage = chain.lineage
    if len(lineage) <= 1:
        return ""
    parts = []
    for child, parent in zip(
        lineage.iloc[:-1].itertuples(index=False),
        lineage.iloc[1:].itertuples(index=False),
        strict=True,
    ):
        on = (
            ""
            if child.created_on is None or pd.isna(child.created_on)
            else f" on {child.created_on}"
        )
        parts.append(f"khasra {child.khasra_no} was cut from khasra {parent.khasra_no}{on}")
    return "; ".join(parts)


# --- fard -------------------------------------------------------------------------------


def fard_available() -> bool:
    """Whether this landgov has the fard issuer (``landgov.records.fard``)."""
    import importlib.util

    return importlib.util.find_spec("landgov.records.fard") is not None


def fard_file_name(mouza: str, khewat_no: int, as_of: date, language: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in mouza.lower()).strip("-")
    return f"fard-{slug}-khewat-{khewat_no}-{as_of:%Y-%m-%d}-{language}.pdf"


FardLanguage = Literal["en", "ur", "both"]


def fard_pdf(
    engine: Engine,
    mouza: str,
    khewat_no: int,
    as_of: date,
    language: FardLanguage,
    *,
    actor: Actor,
) -> bytes:
    """Issues the fard of khewat ``khewat_no`` of ``mouza`` on ``as_of``; the PDF's bytes.

    ``mouza`` is its name (or hadbast number); ``language`` is ``en``, ``ur`` or ``both``.

    What the dashboard's "Download fard" button calls, as the signed-in ``actor``: the
    records engine checks ``fard.issue`` (role and posting today), writes the audit log
    and the access log under the actor's name, and gives the extract its verification
    code.
    """
    import tempfile
    from pathlib import Path

    from landgov.records.fard import issue_fard

    with tempfile.TemporaryDirectory(prefix="landgov-fard-") as tmp:
        out = Path(tmp) / fard_file_name(mouza, khewat_no, as_of, language)
        issued = issue_fard(
            engine,
            khewat=(mouza, khewat_no),
            as_of=as_of,
            language=language,
            out=out,
            actor=actor,
        )
        return Path(issued.path).read_bytes()


# --- who may see what, and the access log -------------------------------------------


def unmask_allowed(url: str, actor: Actor, mouza_id: int) -> bool:
    """:func:`landgov.security.may_unmask` now (not cached: postings change)."""
    from landgov.security import may_unmask

    with engine(url).connect() as conn:
        return may_unmask(conn, actor, mouza_id)


def refusal_of(url: str, actor: Actor, capability: str, mouza_id: int) -> AccessDenied | None:
    """Why ``actor`` may not use ``capability`` in the mouza today (None: may)."""
    from landgov.security import authorize

    with engine(url).connect() as conn:
        try:
            authorize(conn, actor, capability, mouza_id=mouza_id)
        except AccessDenied as exc:
            return exc
    return None


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


def mutation_number(url: str, mutation_id: int) -> int | None:
    """Not cached: asked right after a mutation is entered."""
    with engine(url).connect() as conn:
        return read.mutation_number(conn, mutation_id)
