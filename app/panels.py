"""The dashboard's panels, one function each, so later pages can reuse them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from fractions import Fraction
from functools import partial

import geopandas as gpd
import pandas as pd
import pydeck as pdk
import streamlit as st
from psycopg.errors import UndefinedTable
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from app import data, style
from landgov.domain import check_khewat_total
from landgov.errors import InvalidShare, StorageError
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


def parcel_map(
    rows: pd.DataFrame,
    bounds: tuple[float, float, float, float],
    selected: str | None,
    *,
    map_key: str,
    picker_key: str,
) -> None:
    """The parcels coloured by land class, no basemap; a click selects a khasra."""
    layers = [
        pdk.Layer(
            "PolygonLayer",
            data=rows,
            id=data.PARCEL_LAYER_ID,
            get_polygon="polygon",
            get_fill_color="fill_color",
            get_line_color=list(style.OUTLINE_COLOR),
            filled=True,
            stroked=True,
            line_width_units=pdk.types.String("pixels"),  # a plain str would be an accessor
            get_line_width=1,
            line_width_min_pixels=1,
            pickable=True,
            auto_highlight=True,
        )
    ]
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
    view = data.fit_view(bounds, height_px=MAP_HEIGHT_PX)
    deck = pdk.Deck(
        layers=layers,
        initial_view_state=pdk.ViewState(
            longitude=view.longitude, latitude=view.latitude, zoom=view.zoom, pitch=0, bearing=0
        ),
        # No basemap, so the page works offline. map_provider=None leaves map_style at
        # pydeck's "__MAP_STYLE__" sentinel, which Streamlit's frontend reads as "no
        # basemap"; map_style=None would make Streamlit fetch a Carto basemap instead.
        map_provider=None,
        tooltip={
            "html": "<b>Khasra {khasra_no}</b><br/>{land_class_label}<br/>"
            "{area_kms} K-M-S · khewat {khewat_no}",
            "style": {"fontSize": "0.85em"},
        },
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


def owners_panel(owners: pd.DataFrame, khewat_areas: dict[int, int], as_of: date) -> None:
    """The owners of each khewat holding the khasra, with exact shares and masked CNICs."""
    st.markdown(f"#### Owners on {as_of:%Y-%m-%d}")
    if owners.empty:
        st.info("No share in force for this khasra on this date.")
        return
    for (khewat_id, khewat_no), group in owners.groupby(["khewat_id", "khewat_no"], sort=True):
        area = khewat_areas.get(int(khewat_id))
        held = f" — holds {data.kms(area)} K-M-S" if area is not None else ""
        st.markdown(f"**Khewat {khewat_no}**{held}")
        st.dataframe(
            data.owner_table(group, int(khewat_no), area), hide_index=True, width="stretch"
        )
        ownership = group[group["right_type"] == "ownership"]
        try:
            check_khewat_total(
                Fraction(int(n), int(d))
                for n, d in ownership[["numerator", "denominator"]].itertuples(index=False)
            )
        except InvalidShare as exc:
            st.warning(f"Khewat {khewat_no}: {exc}")
