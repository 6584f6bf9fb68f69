"""The dashboard's data access: cached calls of :mod:`landgov.storage.read`.

Every cached function takes the database URL as its first argument, so pointing
``LANDGOV_DATABASE_URL`` elsewhere (another district, a test database) never serves rows
of the previous database. The pure helpers below turn query results into what the panels
show; they are kept free of Streamlit calls so tests can use them directly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction

import geopandas as gpd
import pandas as pd
import streamlit as st
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


def clear_caches() -> None:
    """Forget every cached result and engine (tests; after bulk imports)."""
    st.cache_data.clear()
    st.cache_resource.clear()


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
    owners_df: pd.DataFrame, khewat_no: int, khewat_area_sarsai: int | None
) -> pd.DataFrame:
    """The owners of one khewat as shown to an officer; CNICs masked, shares exact.

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
            shown_id = mask_cnic(cnic)
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
