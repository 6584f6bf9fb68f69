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
from app.shared import style
from landgov.domain.units import UnitSystem, sarsai_sqft

RGBA = tuple[int, int, int, int]

VALUE_LAYER_ID: Final = "valuation"
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

VALUE_COLUMNS: Final = [
    "Khasra",
    "Land class",
    "Area (K-M-S)",
    "Area (acres)",
    "Value (Rs)",
    "Rs per acre",
    "Valued by",
]
STATISTICS: Final = (
    ("median_ratio", "Median ratio"),
    ("cod", "COD"),
    ("prd", "PRD"),
    ("prb", "PRB"),
    ("mki", "MKI"),
)
STATISTIC_MEANING: Final = {
    "median_ratio": "Level: the typical value / price. 1 means values match prices.",
    "cod": (
        "Uniformity: how far, on average, each ratio strays from the median, in % of it. "
        "Lower is fairer between owners of like land."
    ),
    "prd": (
        "Vertical equity: mean ratio over the sales-weighted ratio. Above the band, cheap "
        "land is valued high relative to dear land (regressive)."
    ),
    "prb": (
        "Vertical equity: how much ratios change each time value doubles (−0.05: 5 % "
        "lower). Below the band, dear land is under-valued."
    ),
    "mki": (
        "Vertical equity: inequality of values over inequality of prices. Below 1, values "
        "are flatter than prices, so dear land is under-valued."
    ),
}
"""One line per ratio-study statistic (IAAO Standard on Ratio Studies, domain.md §7):
what it says about the values, read off its formula in :mod:`landgov.domain.ratio_study`."""

RATIO_COLUMNS: Final = [
    "Stratum",
    "n",
    "Trimmed",
    *[c for _, label in STATISTICS for c in (label, f"{label} gate")],
]
MODEL_COLUMNS: Final = [
    "Land class",
    "Model",
    "Sales",
    "Trees",
    "Median ratio",
    "COD",
    "PRD",
    "IAAO gates",
    "DC median ratio",
    "DC COD",
]
EXPLAIN_COLUMNS: Final = ["Feature", "Value", "Factor", "Effect"]
BELOW_MODEL_COLUMNS: Final = [
    "Mutation",
    "Status",
    "Date",
    "Declared (Rs)",
    "Statutory (Rs)",
    "Model value (Rs)",
    "Declared / model",
    "Tax if assessed at model value (Rs)",
]
FEATURE_LABELS: Final = {
    "mouza": "Mouza (location)",
    "acres": "Parcel size (acres)",
    "compactness": "Shape (compactness, killa 0.78)",
    "road_m": "Distance to road (m)",
    "canal_m": "Distance to canal (m)",
    "crop": "Crop (model, latest season)",
    "yield_rel": "Yield vs peers (model)",
    "ndvi_peak": "Peak NDVI, last 12 months",
}
UNDER_COLUMNS: Final = [
    "Mutation",
    "Status",
    "Date",
    "Declared (Rs)",
    "Statutory (Rs)",
    "Declared / statutory",
    "Revenue at stake (Rs)",
]


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
    (:func:`landgov.valuation.queries.priced_sale_ids`), each valued by
    :func:`~landgov.valuation.transfer.transfer_tax` on its deed date (the same statutory
    figure the under-declaration check uses); and those no rate covers, with why."""
    from landgov.errors import LandgovError
    from landgov.valuation.queries import priced_sale_ids
    from landgov.valuation.transfer import transfer_tax

    found: list[Sale] = []
    unvalued: list[tuple[int, str]] = []
    with shared.engine(url).connect() as conn:
        ids = priced_sale_ids(conn, mouza_id, as_of)
        for mid in ids:
            try:
                tax = transfer_tax(conn, int(mid))
            except LandgovError as exc:
                unvalued.append((int(mid), str(exc)))
                continue
            found.append(
                Sale(
                    mutation_id=tax.mutation_id,
                    number=tax.number,
                    on=tax.valuation_date,
                    stratum=stratum_of(p.land_class for p in tax.parcels),
                    estimate_rs=tax.statutory_rs,
                    price_rs=int(tax.declared_rs or 0),
                )
            )
    return found, unvalued


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def ratio_studies(url: str, mouza_id: int, as_of: date) -> tuple[pd.DataFrame, list[str]]:
    """:func:`ratio_table` of the mouza's :func:`sales` (cached: the bootstrap costs)."""
    found, _ = sales(url, mouza_id, as_of)
    return ratio_table(found)


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


def rupees(value: float | int) -> str:
    return f"Rs {value:,.0f}"


CRORE: Final = 10_000_000
LAKH: Final = 100_000


def rupees_short(value: float | int) -> str:
    """A headline figure that fits a metric: ``Rs 71.69 crore``, ``Rs 5.03 lakh``, or the
    whole figure below a lakh.

    Crore and lakh, because they are how a revenue office reads and says large sums
    (Rs 71.69 crore, not Rs 716.9 million); two decimals keep the figure to the lakh
    (Rs 1 lakh is 0.01 crore). The exact figure goes beside it (a metric's tooltip), so
    nothing is lost for being short."""
    sign = "-" if value < 0 else ""
    v = abs(float(value))
    if v >= CRORE:
        # to the lakh below 100 crore; beyond, to the 10 lakh, so the figure stays short
        places = 2 if v < 100 * CRORE else 1 if v < 10_000 * CRORE else 0
        return f"{sign}Rs {v / CRORE:,.{places}f} crore"
    if v >= LAKH:
        return f"{sign}Rs {v / LAKH:,.2f} lakh"
    return f"{sign}Rs {v:,.0f}"


def map_rows(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """One row per polygon (multipolygon parts exploded) for a pydeck PolygonLayer.

    Columns ``khasra_no``, ``land_class_label``, ``area_kms``, ``value_text`` and
    ``per_acre_text`` (the tooltip), ``rs_per_acre``, ``fill_color``, ``polygon``.
    """
    columns = [
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
                "khasra_no": rec.khasra_no,
                "land_class_label": style.land_class_label(rec.land_class),
                "area_kms": shared.kms(int(rec.record_area_sarsai)),
                "value_text": rupees(int(rec.value_rs)),
                "per_acre_text": "—" if per_acre is None else rupees(per_acre),
                "rs_per_acre": per_acre,
                "fill_color": list(ramp_color(t)),
                "polygon": [[[round(x, 7), round(y, 7)] for x, y, *_ in r.coords] for r in rings],
            }
        )
    return pd.DataFrame(rows, columns=columns)


def values_table(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """The parcels' values as the page shows them (and the CSV export writes them)."""
    return pd.DataFrame(
        [
            {
                "Khasra": str(r.khasra_no),
                "Land class": style.land_class_label(r.land_class),
                "Area (K-M-S)": shared.kms(int(r.record_area_sarsai)),
                "Area (acres)": round(float(r.acres), 4),
                "Value (Rs)": int(r.value_rs),
                "Rs per acre": None if r.rs_per_acre is None else round(float(r.rs_per_acre)),
                "Valued by": valued_by(r.rate_id, getattr(r, "model_id", None)),
            }
            for r in gdf.itertuples(index=False)
        ],
        columns=VALUE_COLUMNS,
    )


def valued_by(rate_id: Any, model_id: Any) -> str:
    """``model 3`` or ``DC rate 12``: which stored row made the value."""
    if model_id is not None and not pd.isna(model_id):
        return f"model {int(model_id)}"
    return "DC rate" if rate_id is None or pd.isna(rate_id) else f"DC rate {int(rate_id)}"


def model_table(models_json: dict[str, Any]) -> pd.DataFrame:
    """One row per land class model: its out-of-fold ratio study (trimmed, as the gates
    are judged) beside the DC table's on the same sales."""
    rows = []
    for cls, m in models_json["models"].items():
        rs = m.get("ratio_study", {})
        judged = rs.get("trimmed", rs)
        dc = m.get("statutory_ratio_study", {})
        dc = dc.get("trimmed", dc)
        rows.append(
            {
                "Land class": style.land_class_label(cls),
                "Model": int(m["model_id"]),
                "Sales": int(m["n_sales"]),
                "Trees": m.get("trees"),
                "Median ratio": _round(judged.get("median_ratio"), 3),
                "COD": _round(judged.get("cod"), 1),
                "PRD": _round(judged.get("prd"), 3),
                "IAAO gates": "pass" if judged.get("passed") else "FAIL",
                "DC median ratio": _round(dc.get("median_ratio"), 3),
                "DC COD": _round(dc.get("cod"), 1),
            }
        )
    return pd.DataFrame(rows, columns=MODEL_COLUMNS)


def _round(value: Any, digits: int) -> float | None:
    return None if value is None else round(float(value), digits)


def feature_value(feature: str, value: Any, mouza_names: Mapping[int, str]) -> str:
    """A model feature's value as an officer reads it: the mouza by its name (the model
    stores its id), distances in whole metres, ratios to two decimals."""
    if value is None:
        return "unknown"
    if feature == "mouza":
        try:
            mouza_id = int(value)
        except (TypeError, ValueError):
            return str(value)
        return mouza_names.get(mouza_id, f"mouza {mouza_id}")
    if not isinstance(value, int | float) or isinstance(value, bool):
        return str(value).replace("_", " ")
    if feature in ("road_m", "canal_m"):
        return f"{value:,.0f} m"
    if feature == "acres":
        return f"{value:,.2f} acres"
    if feature in ("compactness", "yield_rel", "ndvi_peak"):
        return f"{value:.2f}"
    return f"{value:,.4g}"


def explain_table(ex: dict[str, Any], mouza_names: Mapping[int, str]) -> pd.DataFrame:
    """The contributions, largest effect first: value per acre = base × Π factors;
    ``mouza_names`` (id → name) names the mouza feature."""
    return pd.DataFrame(
        [
            {
                "Feature": FEATURE_LABELS.get(c["feature"], c["feature"]),
                "Value": feature_value(c["feature"], c["value"], mouza_names),
                "Factor": f"× {c['factor']:.3f}",
                "Effect": f"{100 * (c['factor'] - 1):+.1f} %",
            }
            for c in ex["contributions"]
        ],
        columns=EXPLAIN_COLUMNS,
    )


def below_model_table(report: dict[str, Any]) -> pd.DataFrame:
    """The sales declared far below the model value, lowest declared/model first."""
    return pd.DataFrame(
        [
            {
                **_sale_cells(s),
                "Model value (Rs)": int(s["model_value_rs"]),
                "Declared / model": s["declared_to_model"],
                "Tax if assessed at model value (Rs)": int(s["revenue_if_assessed_at_model_rs"]),
            }
            for s in report.get("below_model", {}).get("sales", [])
        ],
        columns=BELOW_MODEL_COLUMNS,
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


def _band(low: float, high: float, places: int) -> str:
    return f"{low:.{places}f} to {high:.{places}f}"


def statistic_targets(strata: Iterable[str] = ()) -> dict[str, str]:
    """Each statistic's IAAO target (:data:`landgov.domain.ratio_study.GATES`, the gates
    the study judges by); COD's depends on the property class, so it is given for the
    classes of ``strata`` (all classes when none)."""
    from landgov.domain.ratio_study import GATES, PropertyClass

    ranges = GATES.ranges(PropertyClass.OTHER)
    classes = sorted({property_class(s) for s in strata}) or [c.value for c in PropertyClass]
    cod = ", ".join(f"≤ {GATES.ranges(c)['cod'][1]:g} {CLASS_WORDS[c]}" for c in classes)
    return {
        "median_ratio": _band(*ranges["median_ratio"], 2),
        "cod": cod,
        "prd": _band(*ranges["prd"], 2),
        "prb": _band(*ranges["prb"], 2).replace("-", "−"),
        "mki": _band(*ranges["mki"], 2),
    }


CLASS_WORDS: Final = {
    "residential": "for abadi (residential)",
    "vacant": "for farm and waste land (IAAO: vacant)",
    "other": "for sales of mixed classes (other)",
}
"""The IAAO property classes whose COD limits differ, in the land classes they cover
(:func:`landgov.domain.ratio_study.property_class_of_land`)."""

GUIDE_COLUMNS: Final = ["Statistic", "What it says", "IAAO target"]


def statistics_guide(strata: Iterable[str] = ()) -> pd.DataFrame:
    """One row per statistic: its name, a line on what it says, its IAAO target."""
    targets = statistic_targets(strata)
    return pd.DataFrame(
        [
            {
                "Statistic": label,
                "What it says": STATISTIC_MEANING[key],
                "IAAO target": targets[key],
            }
            for key, label in STATISTICS
        ],
        columns=GUIDE_COLUMNS,
    )


def statistic_help(key: str, strata: Iterable[str] = ()) -> str:
    """A column header's tooltip: the statistic's line and its target."""
    return f"{STATISTIC_MEANING[key]} IAAO target: {statistic_targets(strata)[key]}."


def _gate(ok: bool) -> str:
    return "pass" if ok else "FAIL"


def ratio_table(
    found: Sequence[Sale], *, n_boot: int = N_BOOT, seed: int = 0, minimum: int = MIN_STRATUM
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
        if len(group) < minimum:
            skipped.append(f"{name}: {len(group)} sale(s), too few (needs {minimum})")
            continue
        try:
            result = study(
                [s.estimate_rs for s in group],
                [s.price_rs for s in group],
                property_class=property_class(name),
                n_boot=n_boot,
                seed=seed,
            )
        except RatioStudyError as exc:
            skipped.append(f"{name}: {exc}")
            continue
        judged = result.trimmed or result
        row: dict[str, Any] = {"Stratum": name, "n": result.n, "Trimmed": judged.dropped}
        for key, label in STATISTICS:
            row[label] = round(float(getattr(judged, key)), 4)
            row[f"{label} gate"] = _gate(judged.gates[key])
        rows.append(row)
    return pd.DataFrame(rows, columns=RATIO_COLUMNS), skipped


def _sale_cells(s: dict[str, Any]) -> dict[str, Any]:
    """The columns both under-declared tables start with."""
    return {
        "Mutation": str(s["number"]),
        "Status": s["status"],
        "Date": s["valuation_date"],
        "Declared (Rs)": int(s["declared_rs"] or 0),
        "Statutory (Rs)": int(s["statutory_rs"]),
    }


def under_table(report: dict[str, Any]) -> pd.DataFrame:
    """The under-declared sales (:meth:`UnderDeclaredReport.as_dict`), most at stake first."""
    return pd.DataFrame(
        [
            {
                **_sale_cells(s),
                "Declared / statutory": s["declared_ratio"],
                "Revenue at stake (Rs)": int(s["revenue_at_stake_rs"]),
            }
            for s in report["sales"]
        ],
        columns=UNDER_COLUMNS,
    )
