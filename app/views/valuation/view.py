"""Valuation page: the roll in force on the sidebar's "as of" date for its mouza (with why
the model values a parcel as it does), how statutory values compare with declared sale
prices (a ratio study per land class), the mass-appraisal models' own ratio studies, and
the under-declared sales (below the DC value, or far below the model value). Every section
honours the "as of" date: the roll valued last on or before it, the sales and models up
to it.

Headline sums are in crore and lakh (``Rs 71.69 crore``), which fit a metric at any
width, with the exact figure in the metric's tooltip; each ratio-study statistic (COD,
PRD, PRB, MKI and the median ratio) is explained in one line with its IAAO target, beside
the tables and in their column headers' tooltips.

Everything is read from what ``landgov valuation run`` and the rate tables stored, through
the same functions the CLI calls (:mod:`landgov.valuation`), so the page and the CLI agree
to the rupee. The data and pure helpers are in :mod:`app.views.valuation.data`.

For roles that read valuations (``valuation.read``: revenue analysts, the deciding
revenue officers, auditors). The tables name parcels and mutations, never a person, so
there is no CNIC to mask; the CSV download neutralises formula-like cells.
"""

from __future__ import annotations

import math
from datetime import date
from functools import partial
from typing import Any

import geopandas as gpd
import pydeck as pdk
import streamlit as st

from app.shared import context, imagery, panels
from app.shared import data as shared
from app.views.valuation import data
from landgov.storage.read import MouzaSummary

MAP_HEIGHT_PX = 520


def money_metric(column: Any, label: str, value: int) -> None:
    """A rupee sum as a metric that never cuts off: crore/lakh, the exact figure in the
    tooltip."""
    column.metric(label, data.rupees_short(value), help=f"Exactly {data.rupees(value)}.")


def roll_header(roll: dict[str, Any], gdf: gpd.GeoDataFrame, live: int) -> None:
    """The roll's version, date and method, and what it holds for this mouza."""
    # three figures, the total first and widest: five in a row cut "Rs 7,168,74…" and,
    # at a laptop's width, even the date off; the roll's number and method are words
    total_col, parcels_col, date_col = st.columns([5, 3, 4])
    money_metric(total_col, "Total value", int(gdf["value_rs"].sum()) if len(gdf) else 0)
    parcels_col.metric("Parcels valued", f"{len(gdf):,}")
    date_col.metric(
        "Valued as of", roll["as_of"], help=f"Roll {roll['roll']}, {roll['method']} method."
    )
    unvalued = live - len(gdf)
    total = int(roll["total_value_rs"])
    st.caption(
        f"Roll {roll['roll']} ({roll['method']} method). Whole roll: {roll['parcels']:,} "
        f"parcels, {data.rupees_short(total)} "
        f"({data.rupees(total)}), {roll['unvalued']:,} unvalued (no DC rate in force)."
        + (f" In this mouza {unvalued:,} live parcel(s) have no value." if unvalued > 0 else "")
    )


def legend(gdf: gpd.GeoDataFrame) -> None:
    span = data.value_range(gdf)
    if span is None:
        return
    items = []
    for value, (r, g, b, _) in data.legend_stops(*span):
        items.append(
            f'<span style="display:inline-block;width:0.9em;height:0.9em;'
            f'background:rgb({r},{g},{b});border:1px solid #333"></span> {data.rupees(value)}'
        )
    st.markdown("Value per acre (log scale): " + " &nbsp; ".join(items), unsafe_allow_html=True)


def value_map(url: str, mouza: MouzaSummary, gdf: gpd.GeoDataFrame, on: date) -> None:
    """The parcels coloured by value per acre over the sidebar's imagery base layer."""
    bbox = shared.bounds(gdf)
    base = imagery.base_layer(url, mouza.id, bbox, on)
    layers: list[pdk.Layer] = [] if base is None else [base]
    layers.append(
        panels.polygon_layer(
            data.map_rows(gdf),
            data.VALUE_LAYER_ID,
            line_color=[40, 40, 40, 200],
            opacity=1.0 if base is None else 0.6,
        )
    )
    deck = panels.offline_deck(
        layers,
        bbox,
        MAP_HEIGHT_PX,
        "<b>Khasra {khasra_no}</b><br/>{land_class_label}<br/>{area_kms} K-M-S"
        "<br/>{value_text} ({per_acre_text} per acre)",
    )
    st.pydeck_chart(
        deck,
        height=MAP_HEIGHT_PX,
        key=f"valuation_map_{mouza.id}",
        alt="Map of the mouza's khasras coloured by statutory value per acre",
    )
    legend(gdf)


def roll_section(url: str, mouza: MouzaSummary, on: date) -> None:
    st.header("Valuation roll")
    with panels.database_errors(url):
        roll = data.roll(url, on)
        latest = data.roll(url) if roll is None else roll
    if latest is None:
        st.info(
            "No valuation roll yet. Load the DC rates (`landgov tax rates load dc FILE.csv`), "
            "then run `landgov valuation run --as-of DATE` to value every live parcel."
        )
        return
    if roll is None:
        st.info(
            f"No roll is valued as of {on:%Y-%m-%d} or earlier (the latest is valued as of "
            f'{latest["as_of"]}): choose a later "As of" date in the sidebar, or run '
            f"`landgov valuation run --as-of {on:%Y-%m-%d}`."
        )
        return
    roll_id, as_of = int(roll["roll"]), date.fromisoformat(roll["as_of"])
    st.caption(
        f"The roll in force on {on:%Y-%m-%d} (the sidebar's date): the one valued last on or "
        f"before it, as of {as_of:%Y-%m-%d}."
    )
    with panels.database_errors(url):
        gdf = data.mouza_values(url, mouza.id, roll_id)
        live = data.live_count(url, mouza.id, as_of)
    roll_header(roll, gdf, live)
    if gdf.empty:
        st.info(f"Roll {roll_id} values no parcel of mouza {mouza.name}.")
        return
    with st.container(border=True):
        value_map(url, mouza, gdf, as_of)
    st.dataframe(
        data.values_table(gdf),
        hide_index=True,
        width="stretch",
        column_config={
            "Value (Rs)": st.column_config.NumberColumn(format="localized"),
            "Rs per acre": st.column_config.NumberColumn(format="localized"),
        },
    )
    if roll.get("method") == "model":
        explain_panel(url, gdf, roll_id)
    stem = data.file_stem(mouza.name, roll_id, as_of)
    csv_col, gpkg_col = st.columns(2)
    csv_col.download_button(
        "Download CSV",
        data=data.csv_bytes(gdf),
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="valuation_csv",
        on_click="ignore",
    )
    gpkg_col.download_button(
        "Download GeoPackage",
        data=partial(data.geopackage_bytes, gdf, roll_id),  # written only when clicked
        file_name=f"{stem}.gpkg",
        mime="application/geopackage+sqlite3",
        icon=":material/download:",
        key="valuation_gpkg",
        on_click="ignore",
        help=f"Layer `{data.GPKG_LAYER}`, EPSG:4326, one feature per khasra.",
    )


def explain_panel(url: str, gdf: gpd.GeoDataFrame, roll_id: int) -> None:
    """Pick a parcel valued by the model: its base value per acre and one factor per
    feature (exact contributions), largest effect first."""
    modelled = gdf[gdf["model_id"].notna()]
    st.subheader("Why this value?")
    if modelled.empty:
        st.caption("No parcel of this mouza is valued by a model in this roll (DC rates).")
        return
    options = {str(r.khasra_no): int(r.khasra_id) for r in modelled.itertuples(index=False)}
    number = st.selectbox("Khasra", list(options), key="valuation_explain_khasra")
    if number is None:
        return
    with panels.database_errors(url):
        ex = data.explanation(url, options[number], roll_id)
    if "error" in ex:
        st.warning(ex["error"])
        return
    cols = st.columns(3)
    money_metric(cols[0], "Value in the roll", int(ex["roll_value_rs"]))
    money_metric(cols[1], f"Base ({ex['land_class']} sale, per acre)", int(ex["base_rs_per_acre"]))
    money_metric(cols[2], "This parcel, per acre", int(ex["rs_per_acre"]))
    with panels.database_errors(url):
        names = {m.id: m.name for m in shared.mouzas(url)}
    st.dataframe(data.explain_table(ex, names), hide_index=True, width="stretch")
    st.caption(
        f"Model {ex['model_id']} (LightGBM, {ex['land_class']} land) on {ex['as_of']}: "
        f"value per acre = base × every factor; × {ex['acres']:.3f} acres = the value. "
        "Factors are the model's exact additive contributions (TreeSHAP) on the log scale; "
        "'unknown' means no imagery or prediction for the parcel."
    )


def statistics_guide(strata: list[str]) -> None:
    """What each statistic says, in one line, and its IAAO target (always in sight: a
    gate that reads FAIL needs its reason beside it)."""
    st.markdown("**What the statistics say** (ratio = statutory value ÷ declared price)")
    st.table(data.statistics_guide(strata).set_index("Statistic"))


def models_section(url: str, as_of: date) -> None:
    st.header("Mass appraisal models")
    with panels.database_errors(url):
        found = data.models(url, as_of)
    if found is None:
        st.info(
            "No appraisal model yet. `landgov valuation train --as-of DATE` fits one per "
            "land class on validated sales; `landgov valuation run --method model` uses them."
        )
        return
    st.dataframe(
        data.model_table(found),
        hide_index=True,
        width="stretch",
        column_config={
            "Median ratio": st.column_config.NumberColumn(help=data.statistic_help("median_ratio")),
            "COD": st.column_config.NumberColumn(help=data.statistic_help("cod", found["models"])),
            "PRD": st.column_config.NumberColumn(help=data.statistic_help("prd")),
            "IAAO gates": st.column_config.TextColumn(
                help="pass: median ratio, COD and PRD all within their IAAO targets "
                "(see the guide under the ratio study above)."
            ),
        },
    )
    excluded = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in found["excluded_sales"].items())
    st.caption(
        f"Trained for {found['as_of']} (market trend "
        f"{100 * (math.exp(found['trend_per_year']) - 1):+.1f} % a year). Ratio study of "
        "each model's out-of-fold estimates (sales it did not see) against time-adjusted "
        "prices, after 3 × IQR trimming; beside it, the DC table's on the same sales. "
        f"Sales set aside: {excluded or 'none'}."
    )
    for cls, why in found["no_model"].items():
        st.caption(f"No model for {cls}: {why}; its parcels keep their DC value.")


def ratio_section(url: str, mouza: MouzaSummary, as_of: date) -> None:
    st.header("Ratio study: statutory value against declared price")
    with panels.database_errors(url):
        found, unvalued = data.sales(url, mouza.id, as_of)
        table, skipped = data.ratio_studies(url, mouza.id, as_of)
    st.caption(
        f"Sanctioned sales of mouza {mouza.name} up to {as_of:%Y-%m-%d} with a declared "
        f"price: {len(found)} valued, {len(unvalued)} without a DC rate on the deed date. "
        "Estimate: the DC value of what was sold on the deed date (as the transfer tax "
        "computes it); strata: the land class sold (several classes: mixed); figures after "
        f"trimming 3 × IQR outliers, {data.N_BOOT} bootstrap resamples."
    )
    if table.empty:
        st.info("No land class has enough sales for a ratio study.")
    else:
        strata = table["Stratum"].tolist()
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                label: st.column_config.NumberColumn(help=data.statistic_help(key, strata))
                for key, label in data.STATISTICS
            },
        )
        statistics_guide(strata)
        st.caption(
            "DC values are expected to FAIL the level gate (median ratio 0.90–1.10): "
            "statutory rates are notified below market, which is why the tax falls on the "
            "higher of the declared price and the DC value, and why a price declared "
            "below even the DC value (next section) is a red flag."
        )
    for line in skipped:
        st.caption(f"Not studied: {line}.")


def under_section(url: str, mouza: MouzaSummary, as_of: date) -> None:
    st.header("Sales declared below statutory value")
    with panels.database_errors(url):
        report = data.under_declared(url, mouza.id, as_of)
    if not report["sales"]:
        st.success(f"No sale of mouza {mouza.name} up to {as_of:%Y-%m-%d} is under-declared.")
    else:
        cols = st.columns(3)
        cols[0].metric("Under-declared sales", f"{report['count']:,}")
        money_metric(cols[1], "Revenue at stake", int(report["revenue_at_stake_rs"]))
        cols[2].metric(
            "Declared / statutory (sum)",
            f"{report['declared_rs'] / max(report['statutory_rs'], 1):.2f}",
        )
        st.dataframe(
            data.under_table(report),
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="localized")
                for c in ("Declared (Rs)", "Statutory (Rs)", "Revenue at stake (Rs)")
            },
        )
        st.caption(
            f"Total revenue at stake: {data.rupees(report['revenue_at_stake_rs'])} (tax on "
            "the statutory value minus tax on the declared price, rules in force on each "
            "sale's date). Sales not rejected, most at stake first."
        )
    if report["unvalued"]:
        st.caption(f"{len(report['unvalued'])} sale(s) could not be valued (no DC rate).")
    below = report.get("below_model", {})
    st.subheader("Declared far below the model value")
    if below.get("model_set") is None:
        st.caption("No appraisal model trained: only the DC check above applies.")
    elif not below["sales"]:
        st.success(f"No sale declared below {below['threshold']:.0%} of the model value.")
    else:
        st.dataframe(
            data.below_model_table(report),
            hide_index=True,
            width="stretch",
            column_config={
                c: st.column_config.NumberColumn(format="localized")
                for c in data.BELOW_MODEL_COLUMNS[3:6] + data.BELOW_MODEL_COLUMNS[7:]
            },
        )
        st.caption(
            f"{below['count']} sale(s) declared at or above the DC value but below "
            f"{below['threshold']:.0%} of what the appraisal model says was sold (brought to "
            "each sale's year by the market's trend). The law taxes the higher of declared "
            "and DC value, so this is not a shortfall in law: it is where an audit of the "
            "deed should start. Last column: tax on the model value minus the tax paid."
        )


def main() -> None:
    ctx = context.require("valuation.read")
    url, mouza, as_of = ctx.url, ctx.mouza, ctx.as_of
    st.title("Valuation")
    panels.metrics_never_cut()
    st.caption(
        f"Mouza {mouza.name}: statutory (DC) and mass-appraisal values, checked against "
        "sale prices."
    )
    roll_section(url, mouza, as_of)
    ratio_section(url, mouza, as_of)
    models_section(url, as_of)
    under_section(url, mouza, as_of)


main()
