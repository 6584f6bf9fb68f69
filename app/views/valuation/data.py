"""The Valuation page's data: cached reads of the current roll, the mouza's sales and the
under-declared report, and the pure helpers that turn them into map rows, tables, ratio
studies and export files.

No SQL here (the dashboard's rule, :mod:`app.shared.data`): the reads are calls of
:mod:`landgov.valuation` (its ``queries``, ``roll``, ``transfer`` and ``appraisal``) and
:mod:`landgov.records.queries`. Every cached function takes the database URL first and
the mouza id (and the roll id, where values depend on the roll) as keys; the helpers make
no Streamlit calls, so tests use them directly.
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import pandas as pd
import streamlit as st

from app.shared import data as shared
from app.shared import i18n, maplayers, style
from imagery.picture import Polygons
from landgov.domain.units import UnitSystem, sarsai_sqft

RGBA = tuple[int, int, int, int]

VALUE_LAYER_ID: Final = "valuation"
SELECTED_LAYER_ID: Final = "valuation_selected"
GPKG_LAYER: Final = "valuation"
SQ_FT_PER_ACRE: Final = 43_560
MIN_STRATUM: Final = 5
"""Fewer sales than this in a stratum are listed, not studied: COD and PRB of a handful
of sales are noise, whatever the gates say."""
N_BOOT: Final = 200
MIXED: Final = "mixed"

RAMP: Final[tuple[RGBA, ...]] = (
    (255, 255, 204, 210),  # pale yellow: cheapest land
    (161, 218, 180, 210),
    (65, 182, 196, 210),
    (44, 127, 184, 210),
    (37, 52, 148, 210),  # dark blue: dearest land
)
"""A sequential ramp (ColorBrewer YlGnBu) readable over imagery and for colour-blind eyes,
and apart from the land-class colours of the Parcels page so the two maps are not confused."""


def _columns(keys: Sequence[str], lang: str) -> list[str]:
    return [i18n.t(key, lang) for key in keys]


VALUE_COLUMN_KEYS: Final = (
    "valuation_page.column.khasra",
    "valuation_page.column.land_class",
    "valuation_page.column.area_kms",
    "valuation_page.column.acres",
    "valuation_page.column.value",
    "valuation_page.column.per_acre",
    "valuation_page.column.valued_by",
)
VALUE_COLUMNS: Final = _columns(VALUE_COLUMN_KEYS, i18n.DEFAULT)
"""The values table's columns in English: the page's in English, and the CSV export's
in every language (a file other systems read keeps one set of headings)."""
STATISTIC_KEYS: Final = {
    "median_ratio": "valuation_page.statistic.median_ratio",
    "cod": "valuation_page.statistic.cod",
    "prd": "valuation_page.statistic.prd",
    "prb": "valuation_page.statistic.prb",
    "mki": "valuation_page.statistic.mki",
}
"""The ratio-study statistics (IAAO Standard on Ratio Studies, domain.md §7) in the
order the tables show them, each with its name's key."""
STATISTICS: Final = tuple((key, i18n.t(name, i18n.DEFAULT)) for key, name in STATISTIC_KEYS.items())
"""(statistic, English name) pairs, in :data:`STATISTIC_KEYS` order."""
STATISTIC_MEANING: Final = {
    "median_ratio": "valuation_page.meaning.median_ratio",
    "cod": "valuation_page.meaning.cod",
    "prd": "valuation_page.meaning.prd",
    "prb": "valuation_page.meaning.prb",
    "mki": "valuation_page.meaning.mki",
}
"""One line per ratio-study statistic: what it says about the values, read off its
formula in :mod:`landgov.domain.ratio_study` (the keys of those lines)."""


def statistic_label(key: str, lang: str = i18n.DEFAULT) -> str:
    """A statistic's name (``COD``) in ``lang``."""
    return i18n.t(STATISTIC_KEYS[key], lang)


def ratio_columns(lang: str = i18n.DEFAULT) -> list[str]:
    """The ratio study's columns: stratum, sales, trimmed, then each statistic and its gate."""
    names = _columns(
        (
            "valuation_page.column.stratum",
            "valuation_page.column.n",
            "valuation_page.column.trimmed",
        ),
        lang,
    )
    for key, _ in STATISTICS:
        label = statistic_label(key, lang)
        names += [label, i18n.t("valuation_page.column.gate", lang, statistic=label)]
    return names


RATIO_COLUMNS: Final = ratio_columns()
MODEL_COLUMN_KEYS: Final = (
    "valuation_page.column.land_class",
    "valuation_page.column.model",
    "valuation_page.column.sales",
    "valuation_page.column.trees",
    "valuation_page.statistic.median_ratio",
    "valuation_page.statistic.cod",
    "valuation_page.statistic.prd",
    "valuation_page.column.gates",
    "valuation_page.column.dc_median_ratio",
    "valuation_page.column.dc_cod",
)
MODEL_COLUMNS: Final = _columns(MODEL_COLUMN_KEYS, i18n.DEFAULT)
EXPLAIN_COLUMN_KEYS: Final = (
    "valuation_page.column.feature",
    "valuation_page.column.feature_value",
    "valuation_page.column.factor",
    "valuation_page.column.effect",
)
EXPLAIN_COLUMNS: Final = _columns(EXPLAIN_COLUMN_KEYS, i18n.DEFAULT)
SALE_COLUMN_KEYS: Final = (
    "valuation_page.column.mutation",
    "valuation_page.column.status",
    "valuation_page.column.date",
    "valuation_page.column.declared",
    "valuation_page.column.statutory",
)
"""The columns both under-declared tables start with."""
BELOW_MODEL_COLUMN_KEYS: Final = (
    *SALE_COLUMN_KEYS,
    "valuation_page.column.model_value",
    "valuation_page.column.declared_to_model",
    "valuation_page.column.tax_at_model",
)
BELOW_MODEL_COLUMNS: Final = _columns(BELOW_MODEL_COLUMN_KEYS, i18n.DEFAULT)
UNDER_COLUMN_KEYS: Final = (
    *SALE_COLUMN_KEYS,
    "valuation_page.column.declared_to_statutory",
    "valuation_page.column.at_stake",
)
UNDER_COLUMNS: Final = _columns(UNDER_COLUMN_KEYS, i18n.DEFAULT)
MONEY_COLUMN_KEYS: Final = (
    "valuation_page.column.value",
    "valuation_page.column.per_acre",
    "valuation_page.column.declared",
    "valuation_page.column.statutory",
    "valuation_page.column.at_stake",
    "valuation_page.column.model_value",
    "valuation_page.column.tax_at_model",
)
"""Rupee columns, shown with the reader's grouping (``NumberColumn(format="localized")``)."""
FEATURE_LABELS: Final = {
    "mouza": "valuation_page.feature.mouza",
    "acres": "valuation_page.feature.acres",
    "compactness": "valuation_page.feature.compactness",
    "road_m": "valuation_page.feature.road_m",
    "canal_m": "valuation_page.feature.canal_m",
    "crop": "valuation_page.feature.crop",
    "yield_rel": "valuation_page.feature.yield_rel",
    "ndvi_peak": "valuation_page.feature.ndvi_peak",
}
"""The appraisal model's features as an officer names them (keys)."""
METHODS: Final = {
    "statutory": "valuation_page.method.statutory",
    "model": "valuation_page.method.model",
}
SET_ASIDE: Final = {
    "not_sanctioned": "valuation_page.set_aside.not_sanctioned",
    "no_price": "valuation_page.set_aside.no_price",
    "outside_window": "valuation_page.set_aside.outside_window",
    "several_khewats": "valuation_page.set_aside.several_khewats",
    "co_owner_buyer": "valuation_page.set_aside.co_owner_buyer",
    "related_parties": "valuation_page.set_aside.related_parties",
    "below_statutory": "valuation_page.set_aside.below_statutory",
    "no_parcels": "valuation_page.set_aside.no_parcels",
    "mixed_land_classes": "valuation_page.set_aside.mixed_land_classes",
    "outlier": "valuation_page.set_aside.outlier",
}
"""Why the appraisal set a sale aside (:mod:`landgov.valuation.sales`), in words."""
CROPS: Final = {
    "wheat": "valuation_page.crop.wheat",
    "rice": "valuation_page.crop.rice",
    "cotton": "valuation_page.crop.cotton",
    "sugarcane": "valuation_page.crop.sugarcane",
    "maize": "valuation_page.crop.maize",
    "fodder": "valuation_page.crop.fodder",
    "orchard": "valuation_page.crop.orchard",
    "fallow": "valuation_page.crop.fallow",
    "other": "valuation_page.crop.other",
}
"""The crop feature's values (:data:`landgov.valuation.features.CROP_CODES`) in words."""


def signed(text: str, lang: str) -> str:
    """A signed figure written in English (``+4.1 %``, ``−0.05``) in ``lang``'s digits
    and decimal sign, kept left to right so that Urdu does not carry its sign to the
    other end."""
    shown = i18n.digits(text.replace(".", i18n.language(lang).decimal), lang)
    return i18n.isolate(shown, lang)


def no_model_reason(why: str, lang: str = i18n.DEFAULT) -> str:
    """Why a land class has no appraisal model, in ``lang``: the appraisal's one reason
    (:data:`landgov.valuation.appraisal.TOO_FEW_SALES`) is recognised and translated;
    any other sentence is shown as the service's own words, said to be so."""
    from landgov.valuation.appraisal import TOO_FEW_SALES

    pattern = re.escape(TOO_FEW_SALES).replace(r"\{n\}", r"(\d+)").replace(r"\{minimum\}", r"(\d+)")
    found = re.fullmatch(pattern, why)
    if found is None:
        return i18n.t("valuation_page.models.service_words", lang, words=why)
    n, minimum = (int(g) for g in found.groups())
    return i18n.t("valuation_page.models.too_few", lang, n=n, minimum=minimum)


def day(on: date | str, lang: str = i18n.DEFAULT) -> str:
    """A date on this page: ISO in English (as the register and the CLI write it), the
    long form in Urdu (``۱۵ نومبر، ۲۰۲۶``: an ISO date in Urdu digits reads backwards)."""
    found = date.fromisoformat(on) if isinstance(on, str) else on
    return found.isoformat() if not i18n.rtl(lang) else i18n.long_date(found, lang)


def method_label(method: str, lang: str = i18n.DEFAULT) -> str:
    """A roll's method (``statutory``, ``model``) in ``lang``."""
    return shared.coded(METHODS, method, lang)


# --- cached reads ------------------------------------------------------------------------


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def roll(url: str, on: date | None = None) -> dict[str, Any] | None:
    """The roll in force on ``on`` (:func:`landgov.valuation.roll.roll_on`), or with no
    date the current roll (:func:`~landgov.valuation.roll.current_roll`), as plain values."""
    from landgov.valuation.roll import current_roll, roll_on

    with shared.engine(url).connect() as conn:
        found = current_roll(conn) if on is None else roll_on(conn, on)
    return None if found is None else found.as_json()


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner="Loading the roll's values…")
def mouza_values(url: str, mouza_id: int, roll_id: int) -> gpd.GeoDataFrame:
    """The roll's value of each of the mouza's parcels, with its geometry and area
    (:func:`landgov.valuation.queries.roll_values`, then :func:`with_per_acre`)."""
    from landgov.valuation.queries import roll_values

    with shared.engine(url).connect() as conn:
        gdf = roll_values(conn, roll_id, mouza_id)
    return with_per_acre(gdf)


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def map_files(
    url: str, mouza_id: int, roll_id: int, lang: str
) -> tuple[pd.DataFrame, bytes, bytes]:
    """The value map's rows (:func:`map_rows` of :func:`mouza_values`), then the same as
    the JSON file its layer loads, then their edges' file (each edge two parcels share
    once, :func:`app.shared.maplayers.ring_segments`): made once per roll, mouza and
    language, not on every rerun of the page."""
    rows = map_rows(mouza_values(url, mouza_id, roll_id), lang)
    edges = maplayers.ring_segments(rows.to_dict("records"), shared_once=True)
    return rows, rows.to_json(orient="records").encode(), maplayers.json_bytes(edges)


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def live_count(url: str, mouza_id: int, on: date) -> int:
    """The mouza's khasras live on ``on`` (the roll's date), valued or not
    (:func:`landgov.records.queries.live_khasra_count`)."""
    from landgov.records.queries import live_khasra_count

    with shared.engine(url).connect() as conn:
        return live_khasra_count(conn, mouza_id, on)


@dataclass(frozen=True)
class Sale:
    """One sanctioned sale of the ratio study: statutory value against the price."""

    mutation_id: int
    number: int
    on: date
    stratum: str
    estimate_rs: int
    price_rs: int


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner="Valuing the mouza's sales…")
def sales(url: str, mouza_id: int, as_of: date) -> tuple[list[Sale], list[tuple[int, str]]]:
    """The mouza's sanctioned sales up to ``as_of`` with a price
    (:func:`landgov.valuation.queries.priced_sale_ids`), each valued on its deed date by
    :func:`~landgov.valuation.transfer.transfer_taxes_of` (the same statutory figure the
    under-declaration check uses, read for all the sales at once); and those no rate
    covers, with why."""
    from landgov.valuation.queries import priced_sale_ids
    from landgov.valuation.transfer import transfer_taxes_of

    with shared.engine(url).connect() as conn:
        valued, unvalued = transfer_taxes_of(conn, priced_sale_ids(conn, mouza_id, as_of))
    found = [
        Sale(
            mutation_id=tax.mutation_id,
            number=tax.number,
            on=tax.valuation_date,
            stratum=stratum_of(p.land_class for p in tax.parcels),
            estimate_rs=tax.statutory_rs,
            price_rs=int(tax.declared_rs or 0),
        )
        for tax in valued
    ]
    return found, unvalued


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def ratio_studies(
    url: str, mouza_id: int, as_of: date, lang: str = i18n.DEFAULT
) -> tuple[pd.DataFrame, list[str]]:
    """:func:`ratio_table` of the mouza's :func:`sales` in ``lang`` (cached: the
    bootstrap costs)."""
    found, _ = sales(url, mouza_id, as_of)
    return ratio_table(found, lang=lang)


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner="Checking declared prices…")
def under_declared(url: str, mouza_id: int, as_of: date) -> dict[str, Any]:
    """:func:`landgov.valuation.transfer.under_declared` of the mouza, as plain values."""
    from landgov.valuation.transfer import under_declared as report

    with shared.engine(url).connect() as conn:
        return report(conn, mouza_id, as_of).as_dict()


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def models(url: str, on: date | None = None) -> dict[str, Any] | None:
    """The appraisal models trained last (for a date up to ``on``), as plain values."""
    from landgov.valuation.appraisal import latest_set

    with shared.engine(url).connect() as conn:
        found = latest_set(conn, on)
    return None if found is None else found.as_json()


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner="Explaining the value…")
def explanation(url: str, khasra_id: int, roll_id: int) -> dict[str, Any]:
    """Why the model values a parcel as it does in a roll
    (:func:`landgov.valuation.appraisal.explain_roll_value`), or ``{"error": why}``."""
    from landgov.valuation.appraisal import AppraisalError, explain_roll_value

    with shared.engine(url).connect() as conn:
        try:
            ex, rid, stored = explain_roll_value(conn, khasra_id, roll_id)
        except AppraisalError as exc:
            return {"error": str(exc)}
    return {**ex.as_json(), "roll": rid, "roll_value_rs": stored}


# --- pure helpers: values and the map ------------------------------------------------------


def acres(area_sarsai: int, unit_system: str) -> float:
    """Record area in acres (43,560 ft²), from whole sarsai in the khasra's unit system."""
    return float(area_sarsai * sarsai_sqft(UnitSystem(unit_system)) / SQ_FT_PER_ACRE)


def with_per_acre(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """``gdf`` with ``acres`` and ``rs_per_acre`` (None where the area is 0)."""
    out = gdf.copy()
    areas = [
        acres(int(a), str(s))
        for a, s in zip(out["record_area_sarsai"], out["unit_system"], strict=True)
    ]
    out["acres"] = pd.Series(areas, index=out.index, dtype=float)
    out["rs_per_acre"] = [
        float(v) / a if a > 0 else None for v, a in zip(out["value_rs"], areas, strict=True)
    ]
    return out


def ramp_color(t: float) -> RGBA:
    """The ramp's colour at ``t`` in [0, 1] (clamped), interpolated between stops."""
    t = min(max(t, 0.0), 1.0) if math.isfinite(t) else 0.0
    x = t * (len(RAMP) - 1)
    i = min(int(x), len(RAMP) - 2)
    f = x - i
    lo, hi = RAMP[i], RAMP[i + 1]
    r, g, b, a = (round(low + (high - low) * f) for low, high in zip(lo, hi, strict=True))
    return (r, g, b, a)


def ramp_position(value: float, low: float, high: float) -> float:
    """Where ``value`` sits between ``low`` and ``high`` on a log scale (0 to 1).

    Log, because land prices span orders of magnitude (banjar against abadi): on a linear
    scale every field would look the same pale colour beside one village plot."""
    if not (value > 0 and low > 0 and high > low):
        return 0.0
    return (math.log(value) - math.log(low)) / (math.log(high) - math.log(low))


def legend_stops(low: float, high: float, n: int = 5) -> list[tuple[float, RGBA]]:
    """``n`` (value, colour) pairs from ``low`` to ``high``, evenly spaced on the log scale."""
    if not (low > 0 and high > low):
        return [(low, ramp_color(0.0))]
    step = (math.log(high) - math.log(low)) / (n - 1)
    return [(math.exp(math.log(low) + i * step), ramp_color(i / (n - 1))) for i in range(n)]


def value_range(gdf: gpd.GeoDataFrame) -> tuple[float, float] | None:
    """(lowest, highest) positive Rs per acre of the parcels, or None if none."""
    per_acre = [float(v) for v in gdf["rs_per_acre"] if v is not None and v > 0]
    if not per_acre:
        return None
    return min(per_acre), max(per_acre)


def rupees(value: float | int, lang: str = i18n.DEFAULT) -> str:
    """``Rs 1,234`` / ``۱٬۲۳۴ روپے``: whole rupees, grouped."""
    return i18n.t("valuation_page.rupees", lang, amount=i18n.number(value, lang))


CRORE: Final = 10_000_000
LAKH: Final = 100_000


def rupees_short(value: float | int, lang: str = i18n.DEFAULT) -> str:
    """A headline figure that fits a metric: ``Rs 71.69 crore``, ``Rs 5.03 lakh``, or the
    whole figure below a lakh.

    Crore and lakh, because they are how a revenue office reads and says large sums
    (Rs 71.69 crore, not Rs 716.9 million); two decimals keep the figure to the lakh
    (Rs 1 lakh is 0.01 crore). The exact figure goes beside it (a metric's tooltip), so
    nothing is lost for being short. In Urdu: ``۷۱٫۶۹ کروڑ روپے``."""
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    if v >= CRORE:
        # to the lakh below 100 crore; beyond, to the 10 lakh, so the figure stays short
        places = 2 if v < 100 * CRORE else 1 if v < 10_000 * CRORE else 0
        amount = i18n.number(v / CRORE, lang, places)
        return sign + i18n.t("valuation_page.crore", lang, amount=amount)
    if v >= LAKH:
        return sign + i18n.t("valuation_page.lakh", lang, amount=i18n.number(v / LAKH, lang, 2))
    return sign + rupees(v, lang)


def map_rows(gdf: gpd.GeoDataFrame, lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """One row per polygon (multipolygon parts exploded) for a pydeck PolygonLayer.

    Columns ``khasra_id``; ``khasra_no``, ``land_class_label``, ``area_kms``,
    ``value_text`` and ``per_acre_text`` (the tooltip, in ``lang``); ``rs_per_acre``,
    ``fill_color``, ``polygon``.
    """
    columns = [
        "khasra_id",
        "khasra_no",
        "land_class_label",
        "area_kms",
        "value_text",
        "per_acre_text",
        "rs_per_acre",
        "fill_color",
        "polygon",
    ]
    if gdf.empty:
        return pd.DataFrame(columns=columns)
    span = value_range(gdf)
    low, high = span if span else (0.0, 0.0)
    rows = []
    for rec in gdf.explode(index_parts=False).itertuples(index=False):
        per_acre = rec.rs_per_acre
        t = 0.5 if span and low == high else ramp_position(per_acre or 0.0, low, high)
        rings = [rec.geom.exterior, *rec.geom.interiors]
        rows.append(
            {
                "khasra_id": int(rec.khasra_id),
                "khasra_no": i18n.record_number(str(rec.khasra_no), lang),
                "land_class_label": style.land_class_label(rec.land_class, lang),
                "area_kms": i18n.record_number(shared.kms(int(rec.record_area_sarsai)), lang),
                "value_text": rupees(int(rec.value_rs), lang),
                "per_acre_text": "—" if per_acre is None else rupees(per_acre, lang),
                "rs_per_acre": per_acre,
                "fill_color": list(ramp_color(t)),
                "polygon": [[[round(x, 7), round(y, 7)] for x, y, *_ in r.coords] for r in rings],
            }
        )
    return pd.DataFrame(rows, columns=columns)


def selected_edges(rows: pd.DataFrame, khasra_id: int) -> list[dict[str, Any]]:
    """The edges of khasra ``khasra_id``'s rings among :func:`map_rows`
    (:func:`app.shared.maplayers.ring_segments`): the selected parcel's outline, empty if
    the roll does not value it."""
    mine = rows[rows["khasra_id"] == khasra_id] if len(rows) else rows
    return maplayers.ring_segments(mine.to_dict("records"))


EDGE_RGBA: Final = (40, 40, 40, 200)
"""The parcels' edges on the value map (dark grey, a little translucent)."""


def picture_overlays(
    rows: pd.DataFrame,
    *,
    opacity: float,
    selected: int | None = None,
    selected_rgba: RGBA = (220, 20, 60, 255),
    selected_px: float = 3,
) -> tuple[Polygons, ...]:
    """The value map drawn as a picture (:mod:`imagery.picture`): each polygon of
    :func:`map_rows` filled in its value's colour at ``opacity`` (as the interactive map's
    layer), its edges, and khasra ``selected``'s outline (none when None or not valued)."""
    shapes = list(rows["polygon"]) if len(rows) else []
    fills = [
        (int(r), int(g), int(b), round(int(a) * opacity))
        for r, g, b, a in (rows["fill_color"] if len(rows) else [])
    ]
    drawn = [Polygons(shapes, fills=fills, outlines=[EDGE_RGBA] * len(shapes), width_px=1)]
    if selected is not None and len(rows):
        mine = list(rows.loc[rows["khasra_id"] == selected, "polygon"])
        if mine:
            drawn.append(Polygons(mine, outlines=[selected_rgba] * len(mine), width_px=selected_px))
    return tuple(drawn)


def values_table(gdf: gpd.GeoDataFrame, lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The parcels' values as the page shows them in ``lang`` (and the CSV export writes
    them, in English); khasra numbers and K-M-S areas as the record writes them."""
    return pd.DataFrame(
        [
            (
                i18n.record_number(str(r.khasra_no), lang),
                style.land_class_label(r.land_class, lang),
                i18n.record_number(shared.kms(int(r.record_area_sarsai)), lang),
                round(float(r.acres), 4),
                int(r.value_rs),
                None if r.rs_per_acre is None else round(float(r.rs_per_acre)),
                valued_by(r.rate_id, getattr(r, "model_id", None), lang),
            )
            for r in gdf.itertuples(index=False)
        ],
        columns=_columns(VALUE_COLUMN_KEYS, lang),
    )


def valued_by(rate_id: Any, model_id: Any, lang: str = i18n.DEFAULT) -> str:
    """``model 3`` or ``DC rate 12``: which stored row made the value."""
    if model_id is not None and not pd.isna(model_id):
        return i18n.t(
            "valuation_page.valued_by.model", lang, id=i18n.record_number(str(int(model_id)), lang)
        )
    if rate_id is None or pd.isna(rate_id):
        return i18n.t("valuation_page.valued_by.dc", lang)
    return i18n.t(
        "valuation_page.valued_by.dc_row", lang, id=i18n.record_number(str(int(rate_id)), lang)
    )


def model_table(models_json: dict[str, Any], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """One row per land class model: its out-of-fold ratio study (trimmed, as the gates
    are judged) beside the DC table's on the same sales."""
    rows = []
    for cls, m in models_json["models"].items():
        rs = m.get("ratio_study", {})
        judged = rs.get("trimmed", rs)
        dc = m.get("statutory_ratio_study", {})
        dc = dc.get("trimmed", dc)
        rows.append(
            (
                style.land_class_label(cls, lang),
                int(m["model_id"]),
                int(m["n_sales"]),
                m.get("trees"),
                _round(judged.get("median_ratio"), 3),
                _round(judged.get("cod"), 1),
                _round(judged.get("prd"), 3),
                _gate(bool(judged.get("passed")), lang),
                _round(dc.get("median_ratio"), 3),
                _round(dc.get("cod"), 1),
            )
        )
    return pd.DataFrame(rows, columns=_columns(MODEL_COLUMN_KEYS, lang))


def _round(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def feature_value(
    feature: str, value: Any, mouza_names: Mapping[int, str], lang: str = i18n.DEFAULT
) -> str:
    """A model feature's value as an officer reads it: the mouza by its name (the model
    stores its id), distances in whole metres, ratios to two decimals; a crop as the
    model names it (the shared crop words are the farmer page's, keyed by advisory)."""
    if value is None:
        return i18n.t("valuation_page.explain.unknown", lang)
    if feature == "mouza":
        try:
            mouza_id = int(value)
        except (TypeError, ValueError):
            return str(value)
        if mouza_id in mouza_names:
            return mouza_names[mouza_id]
        return i18n.t(
            "valuation_page.explain.other_mouza", lang, id=i18n.record_number(str(mouza_id), lang)
        )
    if feature == "crop" and isinstance(value, str):
        return shared.coded(CROPS, value, lang)
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value).replace("_", " ")
    if feature in ("road_m", "canal_m"):
        return i18n.t("valuation_page.explain.metres", lang, n=i18n.number(value, lang))
    if feature == "acres":
        return i18n.t("valuation_page.explain.acres", lang, n=i18n.number(value, lang, 2))
    if feature in ("compactness", "yield_rel", "ndvi_peak"):
        return i18n.number(value, lang, 2)
    return i18n.digits(f"{value:,.4g}", lang)


def explain_table(
    ex: dict[str, Any], mouza_names: Mapping[int, str], lang: str = i18n.DEFAULT
) -> pd.DataFrame:
    """The contributions, largest effect first: value per acre = base × Π factors;
    ``mouza_names`` (id → name) names the mouza feature."""
    return pd.DataFrame(
        [
            (
                shared.coded(FEATURE_LABELS, c["feature"], lang),
                feature_value(c["feature"], c["value"], mouza_names, lang),
                "× " + i18n.number(c["factor"], lang, 3),
                signed(f"{100 * (c['factor'] - 1):+.1f} %", lang),
            )
            for c in ex["contributions"]
        ],
        columns=_columns(EXPLAIN_COLUMN_KEYS, lang),
    )


def below_model_table(report: dict[str, Any], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The sales declared far below the model value, lowest declared/model first."""
    return pd.DataFrame(
        [
            (
                *_sale_cells(s, lang),
                int(s["model_value_rs"]),
                s["declared_to_model"],
                int(s["revenue_if_assessed_at_model_rs"]),
            )
            for s in report.get("below_model", {}).get("sales", [])
        ],
        columns=_columns(BELOW_MODEL_COLUMN_KEYS, lang),
    )


def csv_bytes(gdf: gpd.GeoDataFrame) -> bytes:
    """The values table as UTF-8 CSV (with BOM, so Excel reads the rupee figures right);
    text cells that a spreadsheet would take for a formula are neutralised
    (:func:`landgov.io.safe_csv.neutralise_frame`, OWASP CSV injection)."""
    from landgov.io.safe_csv import neutralise_frame

    return neutralise_frame(values_table(gdf)).to_csv(index=False).encode("utf-8-sig")


def geopackage_bytes(gdf: gpd.GeoDataFrame, roll_id: int | None = None) -> bytes:
    """The parcels and their values as a GeoPackage (layer ``valuation``, EPSG:4326).

    Through a temporary file: GeoPackage is SQLite, which GDAL writes to a path only."""
    out = gdf[
        [
            "khasra_id",
            "khasra_no",
            "land_class",
            "record_area_sarsai",
            "unit_system",
            "acres",
            "value_rs",
            "rs_per_acre",
            "rate_id",
            "model_id",
            "geom",
        ]
    ].copy()
    out["value_rs"] = out["value_rs"].astype("int64")
    if roll_id is not None:
        out.insert(0, "roll_id", roll_id)
    out = gpd.GeoDataFrame(out, geometry="geom", crs=gdf.crs or "EPSG:4326")
    with tempfile.TemporaryDirectory(prefix="landgov-gpkg-") as tmp:
        path = Path(tmp) / "valuation.gpkg"
        out.to_file(path, layer=GPKG_LAYER, driver="GPKG")
        return path.read_bytes()


def file_stem(mouza: str, roll_id: int, as_of: date) -> str:
    """``valuation_kot-pindi-das_roll3_2026-11-15``."""
    slug = "-".join(mouza.lower().split())
    return f"valuation_{slug}_roll{roll_id}_{as_of:%Y-%m-%d}"


# --- pure helpers: the ratio study and the under-declared list ---------------------------


def stratum_of(land_classes: Iterable[str]) -> str:
    """A sale's stratum: the land class of what it sold, or ``mixed`` over several.

    Strata keep like with like: a DC rate is set per land class, so a stratum mixing
    classes would measure the rate table's spread, not how well one rate tracks prices."""
    classes = set(land_classes)
    return next(iter(classes)) if len(classes) == 1 else MIXED


def property_class(stratum: str) -> str:
    """The IAAO class whose COD limit applies (:func:`property_class_of_land`)."""
    from landgov.domain.ratio_study import property_class_of_land

    return property_class_of_land(stratum).value


def _band(low: float, high: float, places: int, lang: str) -> str:
    def shown(x: float) -> str:
        # a true minus sign: "-0.05" reads as a hyphen beside "to"
        if x < 0:
            return signed(f"−{abs(x):.{places}f}", lang)
        return i18n.number(x, lang, places)

    return i18n.t("valuation_page.target.band", lang, low=shown(low), high=shown(high))


def statistic_targets(strata: Iterable[str] = (), lang: str = i18n.DEFAULT) -> dict[str, str]:
    """Each statistic's IAAO target (:data:`landgov.domain.ratio_study.GATES`, the gates
    the study judges by); COD's depends on the property class, so it is given for the
    classes of ``strata`` (all classes when none)."""
    from landgov.domain.ratio_study import GATES, PropertyClass

    ranges = GATES.ranges(PropertyClass.OTHER)
    classes = sorted({property_class(s) for s in strata}) or [c.value for c in PropertyClass]
    cod = ", ".join(
        i18n.t(
            "valuation_page.target.at_most",
            lang,
            limit=i18n.digits(f"{GATES.ranges(c)['cod'][1]:g}", lang),
            covers=i18n.t(CLASS_WORDS[c], lang),
        )
        for c in classes
    )
    return {
        "median_ratio": _band(*ranges["median_ratio"], 2, lang),
        "cod": cod if lang == i18n.DEFAULT else cod.replace(", ", "، "),
        "prd": _band(*ranges["prd"], 2, lang),
        "prb": _band(*ranges["prb"], 2, lang),
        "mki": _band(*ranges["mki"], 2, lang),
    }


CLASS_WORDS: Final = {
    "residential": "valuation_page.target.residential",
    "vacant": "valuation_page.target.vacant",
    "other": "valuation_page.target.other",
}
"""The IAAO property classes whose COD limits differ, in the land classes they cover
(:func:`landgov.domain.ratio_study.property_class_of_land`)."""

GUIDE_COLUMN_KEYS: Final = (
    "valuation_page.column.statistic",
    "valuation_page.column.meaning",
    "valuation_page.column.target",
)
GUIDE_COLUMNS: Final = _columns(GUIDE_COLUMN_KEYS, i18n.DEFAULT)


def statistics_guide(strata: Iterable[str] = (), lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """One row per statistic: its name, a line on what it says, its IAAO target."""
    targets = statistic_targets(strata, lang)
    return pd.DataFrame(
        [
            (statistic_label(key, lang), i18n.t(STATISTIC_MEANING[key], lang), targets[key])
            for key, _ in STATISTICS
        ],
        columns=_columns(GUIDE_COLUMN_KEYS, lang),
    )


def statistic_help(key: str, strata: Iterable[str] = (), lang: str = i18n.DEFAULT) -> str:
    """A column header's tooltip: the statistic's line and its target."""
    return i18n.t(
        "valuation_page.target.help",
        lang,
        meaning=i18n.t(STATISTIC_MEANING[key], lang),
        target=statistic_targets(strata, lang)[key],
    )


def _gate(ok: bool, lang: str = i18n.DEFAULT) -> str:
    return i18n.t("valuation_page.gate.pass" if ok else "valuation_page.gate.fail", lang)


def stratum_label(stratum: str, lang: str = i18n.DEFAULT) -> str:
    """A stratum as the page names it: the land class's code in English (short, as the
    tables have always shown it), its Urdu name in Urdu; ``mixed`` in words."""
    if stratum == MIXED:
        return i18n.t("valuation_page.ratio.mixed", lang)
    return stratum if lang == i18n.DEFAULT else style.land_class_label(stratum, lang)


def ratio_table(
    found: Sequence[Sale],
    *,
    n_boot: int = N_BOOT,
    seed: int = 0,
    minimum: int = MIN_STRATUM,
    lang: str = i18n.DEFAULT,
) -> tuple[pd.DataFrame, list[str]]:
    """One row per stratum with at least ``minimum`` sales, judged on the trimmed sales
    (IAAO: gates are for the sales left after removing k × IQR outliers); and a line for
    each stratum too small or degenerate to study. ``mixed`` comes last."""
    from landgov.domain.ratio_study import RatioStudyError, study

    groups: dict[str, list[Sale]] = {}
    for s in found:
        if s.estimate_rs > 0 and s.price_rs > 0:
            groups.setdefault(s.stratum, []).append(s)
    rows, skipped = [], []
    for name in sorted(groups, key=lambda g: (g == MIXED, g)):
        group = groups[name]
        label = stratum_label(name, lang)
        if len(group) < minimum:
            skipped.append(
                i18n.t(
                    "valuation_page.ratio.too_few",
                    lang,
                    stratum=label,
                    n=len(group),
                    minimum=minimum,
                )
            )
            continue
        try:
            result = study(
                [s.estimate_rs for s in group],
                [s.price_rs for s in group],
                property_class=property_class(name),
                n_boot=n_boot,
                seed=seed,
            )
        except RatioStudyError as exc:  # the service's words, said to be its own
            skipped.append(
                i18n.t("valuation_page.ratio.not_computed", lang, stratum=label, reason=str(exc))
            )
            continue
        judged = result.trimmed or result
        row: list[Any] = [label, result.n, judged.dropped]
        for key, _ in STATISTICS:
            row += [round(float(getattr(judged, key)), 4), _gate(judged.gates[key], lang)]
        rows.append(row)
    return pd.DataFrame(rows, columns=ratio_columns(lang)), skipped


def _sale_cells(s: dict[str, Any], lang: str) -> tuple[Any, ...]:
    """The cells both under-declared tables start with (:data:`SALE_COLUMN_KEYS`): the
    mutation's number as the register writes it, its status and date in words."""
    return (
        i18n.record_number(str(s["number"]), lang),
        shared.status_label(s["status"], lang),
        day(s["valuation_date"], lang),
        int(s["declared_rs"] or 0),
        int(s["statutory_rs"]),
    )


def under_table(report: dict[str, Any], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The under-declared sales (:meth:`UnderDeclaredReport.as_dict`), most at stake first."""
    return pd.DataFrame(
        [
            (*_sale_cells(s, lang), s["declared_ratio"], int(s["revenue_at_stake_rs"]))
            for s in report["sales"]
        ],
        columns=_columns(UNDER_COLUMN_KEYS, lang),
    )
