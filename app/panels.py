"""The dashboard's panels, one function each, so later pages can reuse them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from fractions import Fraction
from functools import partial
from typing import Any

import altair as alt
import geopandas as gpd
import pandas as pd
import pydeck as pdk
import streamlit as st
from psycopg.errors import UndefinedTable
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from app import data, style
from landgov.domain import check_khewat_total
from landgov.errors import InvalidShare, StorageError
from landgov.security import Actor
from landgov.storage import read
from landgov.storage.read import MouzaSummary

MAP_HEIGHT_PX = 560
SELECTED_LAYER_ID = "selected-khasra"
EMPTY_DB_MESSAGE = (
    "No mouza in the database yet. To see the dashboard, run `landgov demo` "
    "or import parcels (`landgov import ...`)."
)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Shows a database failure as a clear message and stops the page (no traceback)."""
    where = data.display_url(url)
    try:
        yield
    except ProgrammingError as exc:
        if not isinstance(exc.orig, UndefinedTable):
            raise  # a bug in a query, not a missing schema: show the traceback
        st.error(
            f"The database at `{where}` is reachable but has no landgov schema "
            f"(run `landgov db migrate`).\n\nDetails: {exc.orig}"
        )
        st.stop()
    except (OperationalError, InterfaceError, StorageError) as exc:
        detail = exc.orig if isinstance(exc, DBAPIError) else exc
        st.error(
            f"Cannot reach the landgov database at `{where}`. Start the private cluster "
            f"with `landgov db up`, or set LANDGOV_DATABASE_URL to a running PostGIS "
            f"server.\n\nDetails: {detail}"
        )
        st.stop()


def sidebar(mouzas: list[MouzaSummary]) -> tuple[MouzaSummary, date]:
    """Mouza and date pickers; returns the chosen mouza and the "as of" date."""
    by_id = {m.id: m for m in mouzas}
    if "mouza_id" in st.session_state and st.session_state["mouza_id"] not in by_id:
        st.session_state["mouza_id"] = mouzas[0].id  # e.g. not in this page's jurisdiction
    with st.sidebar:
        st.header("Record")
        mouza_id = st.selectbox(
            "Mouza",
            options=list(by_id),
            format_func=lambda i: data.mouza_label(by_id[i]),
            key="mouza_id",
        )
        as_of = st.date_input(
            "As of",
            value=date.today(),
            min_value=date(1900, 1, 1),
            max_value=date(2200, 12, 31),
            format="YYYY-MM-DD",
            key="as_of",
            help="The record of rights on this date: live khasras and shares in force.",
        )
    return by_id[mouza_id], as_of


def legend(counts: dict[str, int] | None = None) -> None:
    """The land-class colours, with the parcel count of each class when given."""
    st.markdown("**Land class**")
    st.markdown(style.legend_html(counts), unsafe_allow_html=True)


def mouza_header(mouza: MouzaSummary, parcels: gpd.GeoDataFrame, as_of: date) -> None:
    district = f", district {mouza.district}" if mouza.district else ""
    st.caption(
        f"Mouza {mouza.name} — hadbast {mouza.hadbast_number}, tehsil {mouza.tehsil}"
        f"{district} · {len(parcels)} khasras on {as_of:%Y-%m-%d} · "
        f"{mouza.unit_system} units"
    )


def _apply_map_pick(map_key: str, picker_key: str) -> None:
    """Selection callback of the map: a clicked parcel becomes the picker's khasra."""
    state = st.session_state.get(map_key)
    if state is None:
        return
    picked = state["selection"]["objects"].get(data.PARCEL_LAYER_ID) or []
    if picked:
        st.session_state[picker_key] = str(picked[0]["khasra_no"])


def offline_deck(
    layers: list[Any], bounds: tuple[float, float, float, float], height_px: int, tooltip: str
) -> pdk.Deck:
    """A deck of ``layers`` fitted to ``bounds``, with no basemap so every map works
    offline: ``map_provider=None`` leaves map_style at pydeck's "__MAP_STYLE__" sentinel,
    which Streamlit's frontend reads as "no basemap" (``map_style=None`` would make
    Streamlit fetch a Carto basemap instead). ``tooltip``: HTML with ``{column}`` fields."""
    view = data.fit_view(bounds, height_px=height_px)
    return pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(
            longitude=view.longitude, latitude=view.latitude, zoom=view.zoom, pitch=0, bearing=0
        ),
        map_provider=None,
        tooltip={"html": tooltip, "style": {"fontSize": "0.85em"}},
    )


def polygon_layer(
    rows: Any,
    layer_id: str,
    *,
    line_color: Any,
    line_width: int = 1,
    min_pixels: int = 1,
    highlight: bool = True,
    opacity: float = 1.0,
) -> pdk.Layer:
    """A pickable pydeck layer of filled, outlined polygons (columns ``polygon`` and
    ``fill_color``), outlines in screen pixels: the map pages' common parcel layer.
    ``line_color``: an RGBA list, or the name of a column holding one per row."""
    return pdk.Layer(
        "PolygonLayer",
        data=rows,
        id=layer_id,
        get_polygon="polygon",
        get_fill_color="fill_color",
        get_line_color=line_color,
        filled=True,
        stroked=True,
        line_width_units=pdk.types.String("pixels"),  # a plain str would be an accessor
        get_line_width=line_width,
        line_width_min_pixels=min_pixels,
        pickable=True,
        auto_highlight=highlight,
        opacity=opacity,
    )


def parcel_map(
    rows: pd.DataFrame,
    bounds: tuple[float, float, float, float],
    selected: str | None,
    *,
    map_key: str,
    picker_key: str,
    base: pdk.Layer | None = None,
) -> None:
    """The parcels coloured by land class, no basemap; a click selects a khasra.

    ``base``: an imagery layer (:func:`app.imagery.base_layer`) drawn under the parcels,
    which are then semi-transparent."""
    layers = [] if base is None else [base]
    layers.append(
        polygon_layer(
            rows,
            data.PARCEL_LAYER_ID,
            line_color=list(style.OUTLINE_COLOR),
            opacity=1.0 if base is None else 0.45,
        )
    )
    if selected is not None:
        layers.append(
            pdk.Layer(
                "PolygonLayer",
                data=rows[rows["khasra_no"] == selected],
                id=SELECTED_LAYER_ID,
                get_polygon="polygon",
                filled=False,
                stroked=True,
                get_line_color=list(style.SELECTED_OUTLINE_COLOR),
                line_width_units=pdk.types.String("pixels"),  # a plain str would be an accessor
                get_line_width=3,
                line_width_min_pixels=3,
                pickable=False,
            )
        )
    deck = offline_deck(
        layers,
        bounds,
        MAP_HEIGHT_PX,
        "<b>Khasra {khasra_no}</b><br/>{land_class_label}<br/>"
        "{area_kms} K-M-S · khewat {khewat_no}",
    )
    st.pydeck_chart(
        deck,
        height=MAP_HEIGHT_PX,
        on_select=partial(_apply_map_pick, map_key, picker_key),
        selection_mode="single-object",
        key=map_key,
        alt="Map of the mouza's khasras coloured by land class",
    )


def khasra_picker(numbers: list[str], *, picker_key: str) -> str | None:
    """Khasra number chooser; the map's selection callback sets it too."""
    if picker_key in st.session_state and st.session_state[picker_key] not in numbers:
        st.session_state[picker_key] = None  # e.g. the khasra is not live on the new date
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
        area = khewat_areas.get(int(khewat_id))
        held = f" — holds {data.kms(area)} K-M-S" if area is not None else ""
        st.markdown(f"**Khewat {khewat_no}**{held}")
        st.dataframe(
            data.owner_table(group, int(khewat_no), area, unmasked=unmasked),
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


def timeline_chart(chain: read.MutationChain, today: date) -> alt.LayerChart | None:
    """Each khewat period as a grey bar, each event a point coloured by its status."""
    events = data.timeline_events(chain)
    if events.empty:
        return None
    lanes = data.timeline_lanes(chain, today)
    order = list(
        dict.fromkeys([*lanes.sort_values("start")["lane"], *events.sort_values("date")["lane"]])
    )
    y = alt.Y("lane:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    statuses = list(data.STATUS_LABELS.values())
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


FARD_LANGUAGES = {"en": "English", "ur": "اردو (Urdu)", "both": "Both"}


def fard_panel(
    url: str, mouza: MouzaSummary, owners: pd.DataFrame, as_of: date, actor: Actor
) -> None:
    """Download a fard (ownership extract, PDF) of a khewat holding the khasra on the date.

    The PDF is issued only when the button is clicked (a fard is an audited act with its
    own verification code), by :func:`app.data.fard_pdf` as the signed-in ``actor``; the
    button is offered only to an actor who may issue one in this mouza today.
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
    engine = data.engine(url)  # resolved now: the download runs outside the script thread
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


def action_outcome(kind: str, message: str, rule: str | None = None) -> None:
    """The result of an officer's action, alike on every page: a refusal names the rule
    that refused it and says nothing was written."""
    if kind == "refused":
        st.error(f"**Refused — rule `{rule}`**: {message}. Nothing was written.", icon="⛔")
    elif kind == "conflict":
        st.warning(f"**Conflict**: {message}. Try again in a moment.", icon="⚠️")
    elif kind == "error":
        st.error(f"{message}. Nothing was written.", icon="⛔")
    else:
        st.success(message, icon="✅")


def refusal(rule: str, message: str) -> None:
    """A page or panel the signed-in actor may not see: the rule that refuses it."""
    st.error(f"**Refused — rule `{rule}`**: {message}.", icon="⛔")


def who(actor: Actor) -> str:
    """``Nasir Ali (girdawar)``: the actor as outcomes and captions name them."""
    role = actor.designation or ", ".join(sorted(actor.roles)) or "no role"
    return f"{actor.full_name} ({role.replace('_', ' ')})"


def identity(actor: Actor, postings: list[str], expires: str | None = None) -> None:
    """Who is signed in (name, roles, postings today), in the sidebar."""
    roles = ", ".join(r.replace("_", " ") for r in sorted(actor.roles)) or "no role"
    st.markdown(f"**Signed in:** {actor.full_name}  \n`{actor.username}` · {roles}")
    if postings:
        st.caption("Posted today over: " + "; ".join(postings))
    elif actor.officer_id is not None:
        st.caption("No posting today: you may read, not act.")
    if expires:
        st.caption(f"Session ends {expires}.")
