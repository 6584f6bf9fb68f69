"""The Parcels page's own panels: the mouza map, the khasra's facts, its owners, its fard,
its mutation chain and its NDVI over time. Shared panels (errors, legend, the map deck)
are in :mod:`app.shared.panels`, the map's other layers in :mod:`app.shared.maplayers`.

altair is imported where a chart is drawn, not with this module: the first map of a
server does not wait for it (the page's :func:`~app.views.parcels.data.warm_up` loads it
in the background before the first click)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction
from functools import partial
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import pandas as pd
import pydeck as pdk
import streamlit as st

from app.shared import data as shared
from app.shared import maplayers, panels, selection, style
from app.views.parcels import data
from landgov.domain import check_khewat_total
from landgov.errors import InvalidShare
from landgov.security import Actor
from landgov.storage import read
from landgov.storage.read import MouzaSummary

if TYPE_CHECKING:
    import altair as alt

MAP_HEIGHT_PX = 720
"""Tall enough for a mouza's killas to be told apart on a laptop screen."""
MAP_WIDTH_PX = 900
"""About the map column's width on a 1440 px screen (fits the first view)."""


def mouza_header(mouza: MouzaSummary, parcels: gpd.GeoDataFrame, as_of: date) -> None:
    district = f", district {mouza.district}" if mouza.district else ""
    st.caption(
        f"Mouza {mouza.name} — hadbast {mouza.hadbast_number}, tehsil {mouza.tehsil}"
        f"{district} · {len(parcels)} khasras on {as_of:%Y-%m-%d} · "
        f"{mouza.unit_system} units"
    )


SELECTED_LAYER_ID = "selected-khasra"
PICKS_KEY = "_parcel_map_picks"
"""How many parcels the map has picked in this session: part of the parcel layer's id."""


def parcel_layer_id(mouza_id: int) -> str:
    """The parcel layer's id: ``parcels-<mouza>-<picks so far>``.

    Streamlit's map keeps the clicked object as the chart's selection, by layer id and
    index, and takes a click on that same object again for "unselect" (the page would
    hear nothing of it). So a click on the parcel picked before, after a khasra was
    typed in the picker, or on the parcel of the same index in another mouza, would do
    nothing. A new id after each pick and for each mouza leaves the chart's selection
    pointing at a layer no longer drawn: every click is a new pick. deck.gl builds the
    layer again from the file it already holds; the view (zoom, pan) is the chart's
    and stays."""
    return f"{data.PARCEL_LAYER_ID}-{mouza_id}-{st.session_state.get(PICKS_KEY, 0)}"


def _apply_map_pick(map_key: str, picker_key: str) -> None:
    """Selection callback of the map: a clicked parcel becomes the picker's khasra."""
    state = st.session_state.get(map_key)
    if state is None:
        return
    for layer_id, picked in state["selection"]["objects"].items():
        if str(layer_id).startswith(data.PARCEL_LAYER_ID) and picked:
            st.session_state[picker_key] = str(picked[0]["khasra_no"])
            st.session_state[PICKS_KEY] = st.session_state.get(PICKS_KEY, 0) + 1
            return


def parcel_layer(parcels_url: str, layer_id: str, *, faded: bool) -> pdk.Layer:
    """The parcels from the JSON file at ``parcels_url`` (:func:`data.map_json`), filled
    in their land class's colour and outlined; ``faded`` over imagery.

    The fill colour is given to the polygon layer's ``fill`` sub-layer, not as the
    layer's own ``getFillColor``: Streamlit recolours a picked layer's
    ``getFillColor`` (every other parcel faded to 40 %, the clicked one kept bright),
    which would contradict the page's own selection (the yellow outline, which the
    khasra picker moves too) as soon as a khasra is typed."""
    return pdk.Layer(
        "PolygonLayer",
        data=parcels_url,
        id=layer_id,
        get_polygon="polygon",
        get_line_color=list(style.OUTLINE_COLOR),
        filled=True,
        stroked=True,
        line_width_units=pdk.types.String("pixels"),  # a plain str would be an accessor
        get_line_width=1,
        line_width_min_pixels=1,
        pickable=True,
        auto_highlight=True,
        opacity=0.45 if faded else 1.0,
        # a click picks the fill: the outlines need not be drawn into the picking buffer
        _sub_layer_props={
            "fill": {"getFillColor": "@@=fill_color"},
            "stroke": {"pickable": False},
        },
    )


def parcel_map(
    parcels_url: str,
    bounds: tuple[float, float, float, float],
    selected: list[dict[str, Any]],
    *,
    mouza_id: int,
    map_key: str,
    picker_key: str,
    base: Sequence[pdk.Layer] = (),
    overlays: data.Overlays | None = None,
    labels_url: str | None = None,
) -> None:
    """The parcels coloured by land class, no basemap; a click selects a khasra.

    Bottom to top: the imagery ``base`` layers (:func:`app.shared.imagery.base_imagery`;
    the parcels are then semi-transparent), the parcels (:func:`parcel_layer`), the
    state land and the mouza boundary (``overlays``), the ``selected`` khasra's outline
    (:func:`data.khasra_rings`), and the khasra numbers from ``labels_url`` once zoomed
    in (:func:`app.shared.maplayers.label_layer`). The heavy layers are URLs that stay
    the same from one rerun to the next, so a click sends and redraws only the outline."""
    layers = [*base, parcel_layer(parcels_url, parcel_layer_id(mouza_id), faded=bool(base))]
    if overlays is not None:
        if overlays.state_land:
            layers.append(maplayers.state_land_layer(overlays.state_land))
        if overlays.boundary:
            layers.extend(maplayers.boundary_layers(overlays.boundary))
    if selected:
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                data=selected,
                id=SELECTED_LAYER_ID,
                get_polygon="polygon",
                filled=False,
                stroked=True,
                get_line_color=list(style.SELECTED_OUTLINE_COLOR),
                line_width_units=pdk.types.String("pixels"),  # a plain str would be an accessor
                get_line_width=4,
                line_width_min_pixels=4,
                pickable=False,
            )
        )
    if labels_url is not None:
        layers.append(maplayers.label_layer(labels_url))
    deck = panels.offline_deck(
        layers,
        bounds,
        MAP_HEIGHT_PX,
        "<b>Khasra {khasra_no}</b><br/>{land_class_label}<br/>"
        "{area_kms} K-M-S · khewat {khewat_no}",
        width_px=MAP_WIDTH_PX,
    )
    st.pydeck_chart(
        deck,
        height=MAP_HEIGHT_PX,
        on_select=partial(_apply_map_pick, map_key, picker_key),
        selection_mode="single-object",
        key=map_key,
        alt="Map of the mouza's khasras coloured by land class",
    )


def map_legend(
    overlays: data.Overlays, selected: str | None, imagery: Sequence[str]
) -> list[tuple[str, list[panels.LegendItem]]]:
    """The legend's lines for what the map draws besides the land classes."""
    state_land = [
        panels.LegendItem(maplayers.STATE_LAND[c].label, maplayers.STATE_LAND[c].rgb, "outline")
        for c in overlays.categories
        if c in maplayers.STATE_LAND
    ]
    lines = []
    if overlays.boundary:
        lines.append(panels.LegendItem("Mouza boundary", maplayers.BOUNDARY_RGB, "line"))
    if selected is not None:
        rgb = style.SELECTED_OUTLINE_COLOR[:3]
        lines.append(panels.LegendItem(f"Selected: khasra {selected}", rgb, "outline"))
    lines.append(
        panels.LegendItem(
            "Khasra numbers: zoom in (scroll or double-click) to see them", kind="text"
        )
    )
    pictures = [panels.LegendItem(label, kind="text") for label in imagery]
    return [("State land", state_land), ("On the map", lines), ("Imagery", pictures)]


def khasra_picker(numbers: list[str], *, picker_key: str, mouza_id: int) -> str | None:
    """Khasra number chooser; the map's selection callback sets it too.

    Its first value is the dashboard's selected khasra (:mod:`app.shared.selection`) when
    that lies in this mouza: coming back to the page, or from another page that selected
    one, shows it again."""
    if picker_key in st.session_state and st.session_state[picker_key] not in numbers:
        st.session_state[picker_key] = None  # e.g. the khasra is not live on the new date
    if picker_key not in st.session_state:
        kept = selection.current(mouza_id)
        if kept is not None and kept.number in numbers:
            st.session_state[picker_key] = kept.number
    return st.selectbox(
        "Khasra",
        options=numbers,
        index=None,
        placeholder="Click a parcel on the map, or type a khasra number",
        key=picker_key,
    )


def khasra_panel(facts: data.KhasraFacts) -> None:
    st.subheader(f"Khasra {facts.number}")
    st.markdown(
        f"- **Land class:** {facts.land_class_label}\n"
        f"- **Record area:** {facts.record_area_kms} K-M-S "
        f"({facts.record_area_m2:,.1f} m², {facts.unit_system} units)\n"
        f"- **Map area (UTM):** {facts.geom_area_m2:,.1f} m² "
        f"({facts.area_difference_pct:+.1f} % vs record)\n"
        f"- **Khewat:** {facts.khewat_numbers or 'none on this date'}\n"
    )


def owners_panel(
    owners: pd.DataFrame,
    khewat_areas: dict[int, int],
    as_of: date,
    *,
    title: str | None = None,
    unmasked: bool = False,
) -> None:
    """The owners of each khewat holding the khasra, with exact shares; CNICs masked
    unless ``unmasked``."""
    st.markdown(f"#### {title or f'Owners on {as_of:%Y-%m-%d}'}")
    if owners.empty:
        st.info("No share in force for this khasra on this date.")
        return
    for (khewat_id, khewat_no), group in owners.groupby(["khewat_id", "khewat_no"], sort=True):
        area = khewat_areas.get(shared.as_int(khewat_id))
        held = f" — holds {shared.kms(area)} K-M-S" if area is not None else ""
        st.markdown(f"**Khewat {khewat_no}**{held}")
        st.dataframe(
            shared.owner_table(group, shared.as_int(khewat_no), area, unmasked=unmasked),
            hide_index=True,
            width="stretch",
        )
        ownership = group[group["right_type"] == "ownership"]
        try:
            check_khewat_total(
                Fraction(int(n), int(d))
                for n, d in ownership[["numerator", "denominator"]].itertuples(index=False)
            )
        except InvalidShare as exc:
            st.warning(f"Khewat {khewat_no}: {exc}")


def changes_since(chain: read.MutationChain, as_of: date, today: date) -> None:
    """Which sanctioned mutations lie between the chosen date and today."""
    found = data.sanctioned_between(chain, as_of, today)
    low, high = sorted((as_of, today))
    if found:
        st.caption(
            f"Sanctioned between {low:%Y-%m-%d} and {high:%Y-%m-%d}: " + ", ".join(found) + "."
        )
    else:
        st.caption(f"No mutation sanctioned between {low:%Y-%m-%d} and {high:%Y-%m-%d}.")


def timeline_chart(
    chain: read.MutationChain, today: date
) -> alt.LayerChart | alt.FacetChart | None:
    """Each khewat period as a grey bar, each event a point coloured by its status.

    A layer chart in fact: ``alt.layer`` returns a facet chart only when every layer
    shares a facet encoding, and none of these has one; altair types it as either.
    """
    import altair as alt

    events = data.timeline_events(chain)
    if events.empty:
        return None
    lanes = data.timeline_lanes(chain, today)
    order = list(
        dict.fromkeys([*lanes.sort_values("start")["lane"], *events.sort_values("date")["lane"]])
    )
    y = alt.Y("lane:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    statuses = list(shared.STATUS_LABELS.values())
    colour = alt.Color(
        "status:N",
        scale=alt.Scale(domain=statuses, range=list(style.STATUS_COLORS.values())),
        legend=alt.Legend(title="Status", orient="bottom", direction="horizontal"),
    )
    bars = (
        alt.Chart(lanes)
        .mark_bar(height=12, color=style.LANE_COLOR, cornerRadius=3)
        .encode(
            x=alt.X("start:T", title=None, axis=alt.Axis(format="%Y", grid=True)),
            x2="end:T",
            y=y,
            tooltip=[alt.Tooltip("lane:N", title="Held"), alt.Tooltip("held:N", title="Period")],
        )
    )
    points = (
        alt.Chart(events)
        .mark_point(filled=True, size=170, opacity=0.95, stroke="#222", strokeWidth=0.6)
        .encode(
            x="date:T",
            y=y,
            color=colour,
            shape=alt.Shape("type:N", legend=alt.Legend(title="Type", orient="right")),
            tooltip=[
                alt.Tooltip("date:T", title="Date", format="%Y-%m-%d"),
                alt.Tooltip("mutation:N", title="Mutation"),
                alt.Tooltip("type:N", title="Type"),
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("transfers:N", title="Transfers"),
            ],
        )
    )
    # numbers alternate above and below the points, so neighbours do not overlap
    above, below = (
        alt.Chart(events)
        .transform_filter(f"datum.above == {str(flag).lower()}")
        .mark_text(dy=dy, fontSize=10, color="#333")
        .encode(x="date:T", y=y, text="mutation:N")
        for flag, dy in ((True, -15), (False, 17))
    )
    height = max(200, 64 * len(order) + 90)  # room for the status legend and the axis
    return alt.layer(bars, points, above, below).properties(height=height)


def mutation_chain_panel(chain: read.MutationChain, khasra_no: str, as_of: date) -> None:
    """The khasra's mutations back to the first recorded owner: a chart and a register."""
    st.markdown(f"#### Mutation chain of khasra {khasra_no}")
    lineage = data.lineage_text(chain)
    st.caption(
        "Every mutation on the khewats that held this khasra"
        + (" or the khasras it was cut from" if lineage else "")
        + ", from the settlement owners to the pending ones."
        + (f" {lineage[0].upper()}{lineage[1:]}." if lineage else "")
    )
    table = data.timeline_table(chain)
    if table.empty:
        st.info("No owner and no mutation on record for this khasra.")
        return
    chart = timeline_chart(chain, max(date.today(), as_of))
    if chart is not None:
        st.altair_chart(chart, width="stretch", alt="Timeline of the khasra's mutations")
    st.table(table, hide_index=True)


FARD_LANGUAGES: dict[data.FardLanguage, str] = {
    "en": "English",
    "ur": "اردو (Urdu)",
    "both": "Both",
}


def fard_panel(
    url: str, mouza: MouzaSummary, owners: pd.DataFrame, as_of: date, actor: Actor
) -> None:
    """Download a fard (ownership extract, PDF) of a khewat holding the khasra on the date.

    The PDF is issued only when the button is clicked (a fard is an audited act with its
    own verification code), by :func:`app.views.parcels.data.fard_pdf` as the signed-in
    ``actor``; the button is offered only to an actor who may issue one in this mouza
    today.
    """
    st.markdown(f"#### Fard on {as_of:%Y-%m-%d}")
    if owners.empty:
        st.caption("No khewat holds this khasra on this date: no fard to issue.")
        return
    if not data.fard_available():
        st.caption("Fard issue is not installed in this landgov yet.")
        return
    if as_of > date.today():
        st.caption("A fard certifies the record on a past date or today, not a future one.")
        return
    denied = data.refusal_of(url, actor, "fard.issue", mouza.id)
    if denied is not None:
        st.caption(f"No fard: refused by rule `{denied.rule}`: {denied.message}.")
        return
    khewat_numbers = sorted({int(n) for n in owners["khewat_no"]})
    left, right = st.columns(2)
    with left:
        khewat_no = st.selectbox(
            "Khewat", khewat_numbers, key=f"fard_khewat_{mouza.id}", format_func=str
        )
    with right:
        language = st.radio(
            "Language",
            list(FARD_LANGUAGES),
            format_func=FARD_LANGUAGES.__getitem__,
            horizontal=True,
            key="fard_language",
        )
    engine = shared.engine(url)  # resolved now: the download runs outside the script thread
    st.download_button(
        "Download fard (PDF)",
        data=partial(data.fard_pdf, engine, mouza.name, khewat_no, as_of, language, actor=actor),
        file_name=data.fard_file_name(mouza.name, khewat_no, as_of, language),
        mime="application/pdf",
        icon=":material/download:",
        key="fard_download",
        on_click="ignore",
        help="Issues a certified extract of the khewat on the chosen date (audited).",
    )


# --- the NDVI chart ---------------------------------------------------------------------


def ndvi_chart(series: pd.DataFrame) -> alt.LayerChart | alt.FacetChart:
    """Mean NDVI (clear observations only), the smoothed curve and season marks.

    A layer chart in fact (no layer has a facet encoding); see :func:`timeline_chart`.
    """
    import altair as alt

    base = alt.Chart(series).encode(
        x=alt.X("time:T", title="Date"),
    )
    points = (
        base.transform_filter(alt.datum.valid)
        .mark_line(point=True, opacity=0.6)
        .encode(
            y=alt.Y("mean:Q", title="Mean NDVI", scale=alt.Scale(domain=[-0.1, 1.0])),
            tooltip=[
                alt.Tooltip("time:T", title="Date", format="%Y-%m-%d"),
                alt.Tooltip("mean:Q", title="NDVI", format=".3f"),
                alt.Tooltip("valid_fraction:Q", title="Clear", format=".0%"),
            ],
        )
    )
    curve = base.mark_line(color="#2e7d32", strokeWidth=2).encode(y="smoothed:Q")
    layers: list[alt.Chart] = [points, curve]
    rules = data.season_rules(series)
    if not rules.empty:
        layers.append(
            alt.Chart(rules)
            .mark_rule(strokeDash=[4, 3])
            .encode(
                x="time:T",
                color=alt.Color("mark:N", title="Season", sort=["start", "peak", "end"]),
                tooltip=["season:N", "mark:N", alt.Tooltip("time:T", format="%Y-%m-%d")],
            )
        )
    return alt.layer(*layers).properties(height=260)


def ndvi_panel(url: str, mouza_name: str, mouza_id: int, khasra_id: int, khasra_no: str) -> None:
    """The selected khasra's NDVI over time; never fails when imagery is absent."""
    st.subheader("NDVI over time")
    series = data.ndvi_series(url, khasra_id)
    if series.empty:
        if data.zonal_rows(url, mouza_id).empty:
            st.info(f"No imagery series yet: run `landgov imagery series --mouza {mouza_name}`.")
        else:
            st.info(f"No NDVI observations of khasra {khasra_no} are stored yet.")
        return
    st.altair_chart(
        ndvi_chart(series), width="stretch", alt=f"NDVI of khasra {khasra_no} over time"
    )
    clear = int(series["valid"].sum())
    st.caption(
        f"{clear} of {len(series)} observations at least {data.MIN_VALID:.0%} clear; the line"
        " is Savitzky–Golay smoothed; dashed rules mark start, peak and end of season."
    )
