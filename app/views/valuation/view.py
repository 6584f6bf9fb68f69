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

Every word comes from the catalogue (``app/locale/<lang>.valuation.toml``) in the
page's language: Urdu headlines in کروڑ and لاکھ, statistics and their targets, tables'
headings and cells (khasra and mutation numbers as the register writes them, left to
right), map tooltip and legend. Commands to type (``landgov valuation run``) stay as
typed, and a service's own English sentence is shown as the service's words.

The map outlines the khasra selected on another page (:mod:`app.shared.selection`, read
only), so an officer who picked a parcel on the Parcels page finds it here. It is a
picture drawn on the server (:mod:`imagery.picture`) until the officer turns on the
"Interactive map" switch above it (kept for the session): a new WebGL map costs a browser
without a graphics card about half a second each time the page opens.

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

from app.shared import context, i18n, imagery, maplayers, panels, selection
from app.shared import data as shared
from app.views.valuation import data
from imagery.picture import Frame
from landgov.storage.read import MouzaSummary

MAP_HEIGHT_PX = 520
# the selected khasra's outline: crimson, apart from the blue-yellow value ramp (no
# docstring: a bare string in a page script is drawn on the page)
SELECTED_RGBA: tuple[int, int, int, int] = (220, 20, 60, 255)
SELECTED_LINE_PX = 3


def money_metric(column: Any, label: str, value: int, _: i18n.Words) -> None:
    """A rupee sum as a metric that never cuts off: crore/lakh, the exact figure in the
    tooltip."""
    column.metric(
        label,
        data.rupees_short(value, _.lang),
        help=_("valuation_page.exactly", amount=data.rupees(value, _.lang)),
    )


def roll_header(roll: dict[str, Any], gdf: gpd.GeoDataFrame, live: int, _: i18n.Words) -> None:
    """The roll's version, date and method, and what it holds for this mouza."""
    lang = _.lang
    # three figures, the total first and widest: five in a row cut "Rs 7,168,74…" and,
    # at a laptop's width, even the date off; the roll's number and method are words
    total_col, parcels_col, date_col = st.columns([5, 3, 4])
    total_here = int(gdf["value_rs"].sum()) if len(gdf) else 0
    money_metric(total_col, _("valuation_page.roll.total_value"), total_here, _)
    parcels_col.metric(_("valuation_page.roll.parcels_valued"), i18n.number(len(gdf), lang))
    roll_no = i18n.record_number(str(roll["roll"]), lang)
    method = data.method_label(roll["method"], lang)
    date_col.metric(
        _("valuation_page.roll.valued_as_of"),
        data.day(roll["as_of"], lang),
        help=_("valuation_page.roll.method_help", roll=roll_no, method=method),
    )
    unvalued = live - len(gdf)
    total = int(roll["total_value_rs"])
    st.caption(
        _(
            "valuation_page.roll.summary",
            roll=roll_no,
            method=method,
            parcels=int(roll["parcels"]),
            short=data.rupees_short(total, lang),
            exact=data.rupees(total, lang),
            unvalued=int(roll["unvalued"]),
        )
        + (_("valuation_page.roll.mouza_unvalued", n=unvalued) if unvalued > 0 else "")
    )


def legend(gdf: gpd.GeoDataFrame, _: i18n.Words) -> None:
    span = data.value_range(gdf)
    if span is None:
        return
    items = []
    for value, (r, g, b, _a) in data.legend_stops(*span):
        items.append(
            f'<span style="display:inline-block;width:0.9em;height:0.9em;'
            f'background:rgb({r},{g},{b});border:1px solid #333"></span> '
            f"{data.rupees(value, _.lang)}"
        )
    st.markdown(
        _("valuation_page.map.legend") + " " + " &nbsp; ".join(items), unsafe_allow_html=True
    )


def value_map(
    url: str,
    mouza: MouzaSummary,
    gdf: gpd.GeoDataFrame,
    roll_id: int,
    on: date,
    _: i18n.Words,
) -> None:
    """The parcels coloured by value per acre over the sidebar's imagery base layer, the
    khasra selected on another page outlined: a picture drawn on the server
    (:mod:`imagery.picture`), or, with the switch above it on, the interactive map (zoom,
    a tooltip per parcel)."""
    bbox = shared.bounds(gdf)
    interactive = panels.interactive_map_switch("valuation", _.lang)
    base = imagery.base_imagery(url, mouza.id, bbox, on, orthophoto=False)
    for caption in base.captions:
        st.caption(caption)
    opacity = 0.6 if base.pictures else 1.0
    # made once per roll, mouza and language, not on every rerun of the page
    rows, rows_json, edges_json = data.map_files(url, mouza.id, roll_id, _.lang)
    picked = selection.current(mouza.id)
    selected = None if picked is None else picked.khasra_id
    if interactive:
        # files the browser fetches once (their URL is their content's hash), not inline
        # JSON sent again on every rerun: 244 kB on the demo's mouza 1
        layers: list[pdk.Layer] = list(base.layers)
        layers += panels.polygon_layers(
            maplayers.media_url(rows_json, "application/json"),
            data.VALUE_LAYER_ID,
            line_color=list(data.EDGE_RGBA),
            edges=maplayers.media_url(edges_json, "application/json"),
            opacity=opacity,
        )
        outline = [] if selected is None else data.selected_edges(rows, selected)
        if outline:
            layers.append(
                maplayers.outline_layer(
                    outline,
                    data.SELECTED_LAYER_ID,
                    color=list(SELECTED_RGBA),
                    width_px=SELECTED_LINE_PX,
                )
            )
        deck = panels.offline_deck(layers, bbox, MAP_HEIGHT_PX, _("valuation_page.map.tooltip"))
        st.pydeck_chart(
            deck,
            height=MAP_HEIGHT_PX,
            key=f"valuation_map_{mouza.id}",
            alt=_("valuation_page.map.alt"),
        )
    else:
        overlays = data.picture_overlays(
            rows,
            opacity=opacity,
            selected=selected,
            selected_rgba=SELECTED_RGBA,
            selected_px=SELECTED_LINE_PX,
        )
        frame = Frame.fitted(bbox, panels.PICTURE_WIDTH_PX, MAP_HEIGHT_PX)
        png = panels.map_picture(frame, base.under, overlays)
        panels.show_picture(png, _("valuation_page.map.alt"))
    legend(gdf, _)
    # the selected khasra is outlined (either way) when this roll values it here
    if picked is not None and len(rows) and (rows["khasra_id"] == picked.khasra_id).any():
        st.caption(
            _("valuation_page.map.selected", khasra=i18n.record_number(picked.number, _.lang))
        )


def money_columns(_: i18n.Words) -> dict[str, Any]:
    """The rupee columns of every table, grouped as the reader's browser groups."""
    return {
        _(key): st.column_config.NumberColumn(format="localized") for key in data.MONEY_COLUMN_KEYS
    }


def roll_section(url: str, mouza: MouzaSummary, on: date, _: i18n.Words) -> None:
    lang = _.lang
    st.header(_("valuation_page.roll.header"))
    with panels.database_errors(url):
        roll = data.roll(url, on)
        latest = data.roll(url) if roll is None else roll
    if latest is None:
        st.info(_("valuation_page.roll.none"))
        return
    if roll is None:
        st.info(
            _(
                "valuation_page.roll.none_on",
                on=data.day(on, lang),
                latest=data.day(latest["as_of"], lang),
                command_date=on.isoformat(),
            )
        )
        return
    roll_id, as_of = int(roll["roll"]), date.fromisoformat(roll["as_of"])
    st.caption(
        _("valuation_page.roll.in_force", on=data.day(on, lang), as_of=data.day(as_of, lang))
    )
    with panels.database_errors(url):
        gdf = data.mouza_values(url, mouza.id, roll_id)
        live = data.live_count(url, mouza.id, as_of)
    roll_header(roll, gdf, live, _)
    if gdf.empty:
        st.info(
            _(
                "valuation_page.roll.no_values",
                roll=i18n.record_number(str(roll_id), lang),
                mouza=shared.mouza_name(mouza, lang),
            )
        )
        return
    with st.container(border=True):
        value_map(url, mouza, gdf, roll_id, as_of, _)
    st.dataframe(
        data.values_table(gdf, lang),
        hide_index=True,
        width="stretch",
        column_config=money_columns(_),
    )
    if roll.get("method") == "model":
        explain_panel(url, mouza, gdf, roll_id, _)
    stem = data.file_stem(mouza.name, roll_id, as_of)
    csv_col, gpkg_col = st.columns(2)
    csv_col.download_button(
        _("valuation_page.roll.download_csv"),
        data=partial(data.csv_bytes, gdf),  # written only when clicked
        file_name=f"{stem}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="valuation_csv",
        on_click="ignore",
    )
    gpkg_col.download_button(
        _("valuation_page.roll.download_gpkg"),
        data=partial(data.geopackage_bytes, gdf, roll_id),  # written only when clicked
        file_name=f"{stem}.gpkg",
        mime="application/geopackage+sqlite3",
        icon=":material/download:",
        key="valuation_gpkg",
        on_click="ignore",
        help=_("valuation_page.roll.gpkg_help", layer=data.GPKG_LAYER),
    )


def explain_panel(
    url: str, mouza: MouzaSummary, gdf: gpd.GeoDataFrame, roll_id: int, _: i18n.Words
) -> None:
    """Pick a parcel valued by the model: its base value per acre and one factor per
    feature (exact contributions), largest effect first. It opens on the khasra selected
    on another page (:mod:`app.shared.selection`) when the model values it, else on none
    (the officer picks one: no explanation is worked out that nobody asked for)."""
    lang = _.lang
    modelled = gdf[gdf["model_id"].notna()]
    st.subheader(_("valuation_page.explain.header"))
    if modelled.empty:
        st.caption(_("valuation_page.explain.none"))
        return
    options = {str(r.khasra_no): int(r.khasra_id) for r in modelled.itertuples(index=False)}
    numbers = list(options)
    picked = selection.current(mouza.id)
    ids = [options[n] for n in numbers]
    start = ids.index(picked.khasra_id) if picked and picked.khasra_id in ids else None
    number = st.selectbox(
        _("valuation_page.explain.khasra"),
        numbers,
        index=start,
        placeholder=_("valuation_page.explain.choose"),
        key="valuation_explain_khasra",
        format_func=lambda n: i18n.record_number(n, lang),
    )
    if number is None:
        return
    with panels.database_errors(url):
        ex = data.explanation(url, options[number], roll_id)
    if "error" in ex:
        # the service's own sentence, said to be its own (no rule code to key it by)
        st.warning(_("valuation_page.explain.failed"))
        st.caption(ex["error"])
        return
    cols = st.columns(3)
    cls = str(ex["land_class"])
    money_metric(cols[0], _("valuation_page.explain.value_in_roll"), int(ex["roll_value_rs"]), _)
    base_label = _("valuation_page.explain.base", land_class=data.stratum_label(cls, lang))
    money_metric(cols[1], base_label, int(ex["base_rs_per_acre"]), _)
    money_metric(cols[2], _("valuation_page.explain.per_acre"), int(ex["rs_per_acre"]), _)
    with panels.database_errors(url):
        names = {m.id: shared.mouza_name(m, lang) for m in shared.mouzas(url)}
    st.dataframe(data.explain_table(ex, names, lang), hide_index=True, width="stretch")
    st.caption(
        _(
            "valuation_page.explain.caption",
            model=i18n.record_number(str(ex["model_id"]), lang),
            land_class=data.stratum_label(cls, lang),
            as_of=data.day(ex["as_of"], lang),
            acres=i18n.number(float(ex["acres"]), lang, 3),
        )
    )


def statistics_guide(strata: list[str], _: i18n.Words) -> None:
    """What each statistic says, in one line, and its IAAO target (always in sight: a
    gate that reads FAIL needs its reason beside it)."""
    st.markdown(_("valuation_page.ratio.guide"))
    guide = data.statistics_guide(strata, _.lang)
    st.table(guide.set_index(guide.columns[0]))


def models_section(url: str, as_of: date, _: i18n.Words) -> None:
    lang = _.lang
    st.header(_("valuation_page.models.header"))
    with panels.database_errors(url):
        found = data.models(url, as_of)
    if found is None:
        st.info(_("valuation_page.models.none"))
        return
    classes = list(found["models"])
    st.dataframe(
        data.model_table(found, lang),
        hide_index=True,
        width="stretch",
        column_config={
            _("valuation_page.statistic.median_ratio"): st.column_config.NumberColumn(
                help=data.statistic_help("median_ratio", lang=lang)
            ),
            _("valuation_page.statistic.cod"): st.column_config.NumberColumn(
                help=data.statistic_help("cod", classes, lang)
            ),
            _("valuation_page.statistic.prd"): st.column_config.NumberColumn(
                help=data.statistic_help("prd", lang=lang)
            ),
            _("valuation_page.column.gates"): st.column_config.TextColumn(
                help=_("valuation_page.models.gates_help")
            ),
        },
    )
    excluded = ("، " if _.rtl else ", ").join(
        _("valuation_page.models.set_aside", reason=shared.coded(data.SET_ASIDE, k, lang), n=int(v))
        for k, v in found["excluded_sales"].items()
    )
    trend = 100 * (math.exp(found["trend_per_year"]) - 1)
    st.caption(
        _(
            "valuation_page.models.caption",
            as_of=data.day(found["as_of"], lang),
            trend=data.signed(f"{trend:+.1f} %", lang),
            excluded=excluded or _("valuation_page.models.none_set_aside"),
        )
    )
    for cls, why in found["no_model"].items():
        st.caption(
            _(
                "valuation_page.models.no_model",
                land_class=data.stratum_label(cls, lang),
                why=data.no_model_reason(why, lang),
            )
        )


def ratio_section(url: str, mouza: MouzaSummary, as_of: date, _: i18n.Words) -> None:
    lang = _.lang
    st.header(_("valuation_page.ratio.header"))
    with panels.database_errors(url):
        found, unvalued = data.sales(url, mouza.id, as_of)
        table, skipped = data.ratio_studies(url, mouza.id, as_of, lang)
    st.caption(
        _(
            "valuation_page.ratio.caption",
            mouza=shared.mouza_name(mouza, lang),
            as_of=data.day(as_of, lang),
            valued=len(found),
            unvalued=len(unvalued),
            n_boot=data.N_BOOT,
        )
    )
    if table.empty:
        st.info(_("valuation_page.ratio.none"))
    else:
        # the strata's land classes (their COD targets differ), from the labels shown
        codes = {data.stratum_label(s.stratum, lang): s.stratum for s in found}
        strata = [codes[label] for label in table[table.columns[0]]]
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={
                data.statistic_label(key, lang): st.column_config.NumberColumn(
                    help=data.statistic_help(key, strata, lang)
                )
                for key in data.STATISTIC_KEYS
            },
        )
        statistics_guide(strata, _)
        st.caption(_("valuation_page.ratio.dc_below_market"))
    for line in skipped:
        st.caption(_("valuation_page.ratio.not_studied", line=line))


def under_section(url: str, mouza: MouzaSummary, as_of: date, _: i18n.Words) -> None:
    lang = _.lang
    st.header(_("valuation_page.under.header"))
    with panels.database_errors(url):
        report = data.under_declared(url, mouza.id, as_of)
    if not report["sales"]:
        st.success(
            _(
                "valuation_page.under.none",
                mouza=shared.mouza_name(mouza, lang),
                as_of=data.day(as_of, lang),
            )
        )
    else:
        cols = st.columns(3)
        cols[0].metric(_("valuation_page.under.count"), i18n.number(report["count"], lang))
        money_metric(
            cols[1], _("valuation_page.under.at_stake"), int(report["revenue_at_stake_rs"]), _
        )
        cols[2].metric(
            _("valuation_page.under.declared_to_statutory"),
            i18n.number(report["declared_rs"] / max(report["statutory_rs"], 1), lang, 2),
        )
        st.dataframe(
            data.under_table(report, lang),
            hide_index=True,
            width="stretch",
            column_config=money_columns(_),
        )
        st.caption(
            _(
                "valuation_page.under.caption",
                total=data.rupees(report["revenue_at_stake_rs"], lang),
            )
        )
    if report["unvalued"]:
        st.caption(_("valuation_page.under.unvalued", n=len(report["unvalued"])))
    below = report.get("below_model", {})
    st.subheader(_("valuation_page.under.below_header"))
    if below.get("model_set") is None:
        st.caption(_("valuation_page.under.no_model"))
    elif not below["sales"]:
        st.success(
            _("valuation_page.under.none_below", threshold=i18n.percent(below["threshold"], lang))
        )
    else:
        st.dataframe(
            data.below_model_table(report, lang),
            hide_index=True,
            width="stretch",
            column_config=money_columns(_),
        )
        st.caption(
            _(
                "valuation_page.under.below_caption",
                n=int(below["count"]),
                threshold=i18n.percent(below["threshold"], lang),
            )
        )


def main() -> None:
    ctx = context.require("valuation.read")
    url, mouza, as_of = ctx.url, ctx.mouza, ctx.as_of
    _ = ctx.words
    st.title(_("valuation_page.title"))
    panels.metrics_never_cut()
    st.caption(_("valuation_page.caption", mouza=shared.mouza_name(mouza, ctx.lang)))
    roll_section(url, mouza, as_of, _)
    ratio_section(url, mouza, as_of, _)
    models_section(url, as_of, _)
    under_section(url, mouza, as_of, _)


main()
