"""The Parcels page's own panels: the mouza map, the khasra's facts, its owners, its fard,
its mutation chain and its NDVI over time. Shared panels (errors, legend, the map deck)
are in :mod:`app.shared.panels`, the map's other layers in :mod:`app.shared.maplayers`.

Every panel takes the page's language (``lang``, English by default) and takes its words
from the catalogue (``app/locale/<lang>.parcels.toml``, the register's words from the
shared ``<lang>.toml``). What the record holds is shown as stored: names, deed numbers,
notes. Numbers the register writes (khasra ``45//12``, shares, K-M-S, dates) keep the
register's form, ``2021-03-01``, in the language's digits and read left to right
(:func:`app.shared.i18n.record_number`), so an officer can compare them with the paper
record in either language. The mutation chain's table and chart are built here from the
chain itself, in the page's language (the English builders in :mod:`.data` stay for the
tests and other callers).

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

from app.shared import context, i18n, maplayers, panels, selection, style
from app.shared import data as shared
from app.shared.feedback import rule_text
from app.views.parcels import data
from landgov.domain import check_khewat_total, format_share
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


UNITS = {"standard": "parcels.unit_standard", "urban": "parcels.unit_urban"}
"""The marla each unit system measures in (:class:`landgov.domain.UnitSystem`)."""


def page_lang(lang: str | None) -> str:
    """``lang``, or the language of the page being drawn (:func:`app.shared.context.language`):
    the page's script need not pass it, and a panel drawn outside a page is in English."""
    return context.language() if lang is None else lang


def day(on: date, lang: str) -> str:
    """A date as the register writes it (:func:`app.shared.data.register_date`)."""
    return shared.register_date(on, lang)


def title(lang: str | None = None) -> str:
    """The page's title."""
    lang = page_lang(lang)
    return i18n.t("parcels.title", lang)


def mouza_header(
    mouza: MouzaSummary, parcels: gpd.GeoDataFrame, as_of: date, *, lang: str | None = None
) -> None:
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    district = _("parcels.header_district", district=mouza.district) if mouza.district else ""
    st.caption(
        _(
            "parcels.header",
            mouza=shared.mouza_name(mouza, lang),
            hadbast=i18n.record_number(str(mouza.hadbast_number), lang),
            tehsil=mouza.tehsil,
            district=district,
            count=len(parcels),
            date=day(as_of, lang),
            units=shared.coded(UNITS, mouza.unit_system, lang),
        )
    )


def no_khasra(mouza: MouzaSummary, as_of: date, lang: str | None = None) -> str:
    """The page's message when the mouza has no live khasra on the date."""
    lang = page_lang(lang)
    return i18n.t(
        "parcels.no_khasra", lang, mouza=shared.mouza_name(mouza, lang), date=day(as_of, lang)
    )


def select_prompt(lang: str | None = None) -> str:
    """What the panel says before a khasra is selected."""
    lang = page_lang(lang)
    return i18n.t("parcels.select_prompt", lang)


def owners_not_shown(actor: Actor, lang: str | None = None) -> str:
    """Why an actor without ``personal.read`` sees no owners."""
    lang = page_lang(lang)
    return i18n.t("parcels.owners.not_shown", lang, who=actor.display)


def owners_today_title(today: date, lang: str | None = None) -> str:
    """The heading of today's owners, shown below those on an earlier date."""
    lang = page_lang(lang)
    return i18n.t("parcels.owners.today", lang, date=day(today, lang))


SELECTED_LAYER_ID = "selected-khasra"
SELECTED_LINE_PX = 4
OUTLINE_LAYER_ID = "parcel-edges"
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
    """The parcels from the JSON file at ``parcels_url`` (:func:`data.map_files`), filled
    in their land class's colour (``faded`` over imagery); their edges are another layer
    (:data:`OUTLINE_LAYER_ID`).

    The fill colour is given to the polygon layer's ``fill`` sub-layer, not as the
    layer's own ``getFillColor``: Streamlit recolours a picked layer's
    ``getFillColor`` (every other parcel faded to 40 %, the clicked one kept bright),
    which would contradict the page's own selection (the yellow outline, which the
    khasra picker moves too) as soon as a khasra is typed.

    No hover highlight: with ``auto_highlight`` every pointer move over a new parcel
    redraws the whole layer, and in a browser without a GPU (software WebGL, as on the
    offices' thin clients and in the benchmark) that redraw was still running when the
    click came, delaying the pick by ≈ 0.1 s. The tooltip already answers a hover and
    the yellow outline shows the pick."""
    return pdk.Layer(
        "PolygonLayer",
        data=parcels_url,
        id=layer_id,
        get_polygon="polygon",
        filled=True,
        stroked=False,  # the edges: a layer of segments (app.shared.maplayers on why)
        pickable=True,
        auto_highlight=False,
        opacity=0.45 if faded else 1.0,
        _sub_layer_props={"fill": {"getFillColor": "@@=fill_color"}},
    )


def parcel_map(
    parcels_url: str,
    outline_url: str,
    bounds: tuple[float, float, float, float],
    selected: list[dict[str, Any]],
    *,
    mouza_id: int,
    map_key: str,
    picker_key: str,
    base: Sequence[pdk.Layer] = (),
    overlays: data.Overlays | None = None,
    labels_url: str | None = None,
    lang: str | None = None,
) -> None:
    """The parcels coloured by land class, no basemap; a click selects a khasra.

    Bottom to top: the imagery ``base`` layers (:func:`app.shared.imagery.base_imagery`;
    the parcels are then semi-transparent), the parcels (:func:`parcel_layer`) and their
    one-pixel edges from ``outline_url`` (as faded as the fill), the state land and the mouza
    boundary (``overlays``), the ``selected`` khasra's outline (:func:`data.khasra_rings`),
    and the khasra numbers from ``labels_url`` once zoomed
    in (:func:`app.shared.maplayers.label_layer`). The heavy layers are URLs that stay
    the same from one rerun to the next, so a click sends and redraws only the outline."""
    lang = page_lang(lang)
    faded = bool(base)
    layers = [
        *base,
        parcel_layer(parcels_url, parcel_layer_id(mouza_id), faded=faded),
        maplayers.outline_layer(
            outline_url,
            OUTLINE_LAYER_ID,
            color=list(style.OUTLINE_COLOR),
            width_px=1,
            opacity=0.45 if faded else 1.0,
        ),
    ]
    if overlays is not None:
        if overlays.state_land:
            layers.extend(maplayers.state_land_layers(overlays.state_land))
        if overlays.boundary:
            layers.extend(maplayers.boundary_layers(overlays.boundary))
    if selected:
        layers.append(
            maplayers.outline_layer(
                maplayers.ring_segments(selected, keep=("khasra_no",)),
                SELECTED_LAYER_ID,
                color=list(style.SELECTED_OUTLINE_COLOR),
                width_px=SELECTED_LINE_PX,
            )
        )
    if labels_url is not None:
        layers.append(maplayers.label_layer(labels_url))
    _ = i18n.Words(lang)
    # the tooltip's {fields} are the layer's columns, filled in by deck.gl: the message's
    # placeholders are given back to it unchanged
    fields = ("khasra_no", "land_class_label", "area_kms", "khewat_no")
    tooltip = _("parcels.map_tooltip", **{f: "{" + f + "}" for f in fields})
    deck = panels.offline_deck(layers, bounds, MAP_HEIGHT_PX, tooltip, width_px=MAP_WIDTH_PX)
    st.pydeck_chart(
        deck,
        height=MAP_HEIGHT_PX,
        on_select=partial(_apply_map_pick, map_key, picker_key),
        selection_mode="single-object",
        key=map_key,
        alt=_("parcels.map_alt"),
    )


STATE_LAND = {
    "road_row": "parcels.legend.road_row",
    "canal_row": "parcels.legend.canal_row",
    "shamlat": "parcels.legend.shamlat",
    "forest": "parcels.legend.forest",
    "auqaf": "parcels.legend.auqaf",
    "evacuee": "parcels.legend.evacuee",
}
"""The legend's name of each state-land category of :data:`app.shared.maplayers.STATE_LAND`."""


def map_legend(
    overlays: data.Overlays,
    selected: str | None,
    imagery: Sequence[str],
    lang: str | None = None,
) -> list[tuple[str, list[panels.LegendItem]]]:
    """The legend's lines for what the map draws besides the land classes (``imagery``:
    the base layer's lines, already in the page's language)."""
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    state_land = [
        panels.LegendItem(shared.coded(STATE_LAND, c, lang), maplayers.STATE_LAND[c].rgb, "outline")
        for c in overlays.categories
        if c in maplayers.STATE_LAND
    ]
    lines = []
    if overlays.boundary:
        lines.append(
            panels.LegendItem(_("parcels.legend.boundary"), maplayers.BOUNDARY_RGB, "line")
        )
    if selected is not None:
        rgb = style.SELECTED_OUTLINE_COLOR[:3]
        shown = i18n.record_number(selected, lang)
        lines.append(panels.LegendItem(_("parcels.legend.selected", khasra=shown), rgb, "outline"))
    lines.append(panels.LegendItem(_("parcels.legend.numbers"), kind="text"))
    pictures = [panels.LegendItem(label, kind="text") for label in imagery]
    return [
        (_("parcels.legend.state_land"), state_land),
        (_("parcels.legend.on_the_map"), lines),
        (_("parcels.legend.imagery"), pictures),
    ]


def khasra_picker(
    numbers: list[str], *, picker_key: str, mouza_id: int, lang: str | None = None
) -> str | None:
    """Khasra number chooser; the map's selection callback sets it too.

    Its first value is the dashboard's selected khasra (:mod:`app.shared.selection`) when
    that lies in this mouza: coming back to the page, or from another page that selected
    one, shows it again."""
    lang = page_lang(lang)
    if picker_key in st.session_state and st.session_state[picker_key] not in numbers:
        st.session_state[picker_key] = None  # e.g. the khasra is not live on the new date
    if picker_key not in st.session_state:
        kept = selection.current(mouza_id)
        if kept is not None and kept.number in numbers:
            st.session_state[picker_key] = kept.number
    return st.selectbox(
        i18n.t("parcels.khasra", lang),
        options=numbers,
        index=None,
        # typed as the register writes it (ASCII digits): the option itself stays the
        # stored number, only its label is in the language's digits
        format_func=lambda number: i18n.record_number(number, lang),
        placeholder=i18n.t("parcels.khasra_placeholder", lang),
        key=picker_key,
    )


def khasra_panel(facts: data.KhasraFacts, lang: str | None = None) -> None:
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    st.subheader(_("parcels.khasra_heading", khasra=i18n.record_number(facts.number, lang)))
    # signed, so kept left to right: "-0.4" must not read "0.4-" in Urdu
    diff = i18n.isolate(i18n.number(facts.area_difference_pct, lang, 1), lang)
    if facts.area_difference_pct > 0:
        diff = i18n.isolate("+" + i18n.number(facts.area_difference_pct, lang, 1), lang)
    khewat = i18n.record_number(facts.khewat_numbers, lang) if facts.khewat_numbers else None
    lines = (
        _("parcels.land_class", label=style.land_class_label(facts.land_class, lang)),
        _(
            "parcels.record_area",
            kms=i18n.record_number(facts.record_area_kms, lang),
            m2=i18n.number(facts.record_area_m2, lang, 1),
            units=shared.coded(UNITS, str(facts.unit_system), lang),
        ),
        _("parcels.map_area", m2=i18n.number(facts.geom_area_m2, lang, 1), diff=diff),
        _("parcels.khewat", khewat=khewat or _("parcels.no_khewat")),
    )
    st.markdown("".join(f"- {line}\n" for line in lines))


def owners_panel(
    owners: pd.DataFrame,
    khewat_areas: dict[int, int],
    as_of: date,
    *,
    title: str | None = None,
    unmasked: bool = False,
    lang: str | None = None,
) -> None:
    """The owners of each khewat holding the khasra, with exact shares; CNICs masked
    unless ``unmasked``. ``title`` defaults to "Owners on <as_of>"."""
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    st.markdown(f"#### {title or _('parcels.owners.on', date=day(as_of, lang))}")
    if owners.empty:
        st.info(_("parcels.owners.none"))
        return
    for (khewat_id, khewat_no), group in owners.groupby(["khewat_id", "khewat_no"], sort=True):
        area = khewat_areas.get(shared.as_int(khewat_id))
        number = i18n.record_number(str(khewat_no), lang)
        if area is None:
            st.markdown(_("parcels.owners.khewat", khewat=number))
        else:
            held = i18n.record_number(shared.kms(area), lang)
            st.markdown(_("parcels.owners.khewat_holds", khewat=number, kms=held))
        st.dataframe(
            shared.owner_table(group, shared.as_int(khewat_no), area, unmasked=unmasked, lang=lang),
            hide_index=True,
            width="stretch",
        )
        ownership = group[group["right_type"] == "ownership"]
        shares = [
            Fraction(int(n), int(d))
            for n, d in ownership[["numerator", "denominator"]].itertuples(index=False)
        ]
        try:
            check_khewat_total(shares)
        except InvalidShare:
            total = i18n.record_number(format_share(sum(shares, Fraction(0))), lang)
            st.warning(_("parcels.owners.not_whole", khewat=number, total=total))


# --- the mutation chain, in the page's language -----------------------------------------


def owners_text(group: pd.DataFrame, lang: str) -> str:
    """The settlement owners of a khewat: ``Ahmad Khan s/o Bashir Khan 1/3; ...``."""
    return "; ".join(
        f"{shared.party_label(r.name, r.guardian_relation, r.guardian_name, r.custodian, lang)}"
        f" {shared.share_text(r.numerator, r.denominator, str(r.right_type), lang)}"
        for r in group.itertuples(index=False)
    )


def chain_table(chain: read.MutationChain, lang: str | None = None) -> pd.DataFrame:
    """The register of the chain (:func:`.data.timeline_table`), its headings and words in
    ``lang``: one row per event, oldest first, parties by name and guardian (no CNIC)."""
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    rows: list[dict[str, str]] = []
    if not chain.settlement.empty:
        for (valid_from, khewat_no), group in chain.settlement.groupby(
            ["valid_from", "khewat_no"], sort=True
        ):
            rows.append(
                {
                    "Date": day(shared.as_date(valid_from), lang),
                    "Mutation": "—",
                    "Type": shared.coded(shared.MUTATION_TYPES, "settlement", lang),
                    "Status": shared.status_label("settlement", lang),
                    "Khewat": i18n.digits(str(khewat_no), lang),
                    "Transfers": _("register.first_recorded", owners=owners_text(group, lang)),
                    "Deed": "—",
                    "Officer": "—",
                    "Note": "",
                }
            )
    if not chain.lines.empty:
        rows.extend(
            shared.mutation_row(first, group, lang)
            for first, group in shared.mutation_groups(chain.lines)
        )
    table = pd.DataFrame(rows, columns=data.TIMELINE_COLUMNS)
    return table.rename(columns={c: _(shared.REGISTER_HEADINGS[c]) for c in table.columns})


def lane(khewat_no: object, khasra_no: object, lang: str) -> str:
    """A timeline row: the khewat and the khasra (itself or a partition parent) it held.
    Plain digits, no isolates: the chart draws its labels on a canvas."""
    return i18n.t(
        "parcels.chain.lane",
        lang,
        khewat=i18n.digits(str(khewat_no), lang),
        khasra=i18n.digits(str(khasra_no), lang),
    )


def chain_events(chain: read.MutationChain, lang: str | None = None) -> pd.DataFrame:
    """The chart's points (:func:`.data.timeline_events`) in ``lang``: ``date, lane,
    status, type, mutation, transfers, above``."""
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    columns = ["date", "lane", "status", "type", "mutation", "transfers", "above"]
    rows = []
    if not chain.settlement.empty:
        for (valid_from, khewat_no, via), group in chain.settlement.groupby(
            ["valid_from", "khewat_no", "via_khasra_no"], sort=True
        ):
            rows.append(
                {
                    "date": pd.Timestamp(shared.as_date(valid_from)),
                    "lane": lane(khewat_no, via, lang),
                    "status": shared.status_label("settlement", lang),
                    "type": shared.coded(shared.MUTATION_TYPES, "settlement", lang),
                    "mutation": _("parcels.chain.first_owners"),
                    "transfers": owners_text(group, lang),
                }
            )
    if not chain.lines.empty:
        for first, group in shared.mutation_groups(chain.lines):
            for (khewat_no, via), part in group.groupby(["khewat_no", "via_khasra_no"], sort=False):
                rows.append(
                    {
                        "date": pd.Timestamp(first.event_date),
                        "lane": lane(khewat_no, via, lang),
                        "status": shared.status_label(str(first.status), lang),
                        "type": shared.coded(shared.MUTATION_TYPES, str(first.type), lang),
                        "mutation": _(
                            "register.number", number=i18n.digits(str(first.number), lang)
                        ),
                        "transfers": "; ".join(
                            shared.transfer_text(rec, lang) for rec in part.itertuples(index=False)
                        ),
                    }
                )
    events = pd.DataFrame(rows, columns=columns).sort_values("date", kind="stable")
    events["above"] = events.groupby("lane").cumcount() % 2 == 0
    return events.reset_index(drop=True)


def chain_lanes(chain: read.MutationChain, today: date, lang: str | None = None) -> pd.DataFrame:
    """The chart's bars (:func:`.data.timeline_lanes`) in ``lang``: ``lane, start, end,
    held``; ``end`` is ``today`` for a current period."""
    lang = page_lang(lang)
    columns = ["lane", "start", "end", "held"]
    if chain.holdings.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for rec in chain.holdings.itertuples(index=False):
        valid_from = shared.as_date(rec.valid_from)
        end = today if shared.is_null(rec.valid_to) else shared.as_date(rec.valid_to)
        start = i18n.digits(valid_from.isoformat(), lang)
        if end == today:
            held = i18n.t("parcels.chain.period_today", lang, start=start)
        else:
            until = i18n.digits(end.isoformat(), lang)
            held = i18n.t("parcels.chain.period_to", lang, start=start, end=until)
        rows.append(
            {
                "lane": lane(rec.khewat_no, rec.khasra_no, lang),
                "start": pd.Timestamp(valid_from),
                "end": pd.Timestamp(max(end, valid_from)),
                "held": held,
            }
        )
    return pd.DataFrame(rows, columns=columns)


def lineage_text(chain: read.MutationChain, lang: str | None = None) -> str:
    """``Khasra 12/1 was cut from khasra 12 on 2023-05-01; ...`` (or empty)."""
    lang = page_lang(lang)
    lineage = chain.lineage
    if len(lineage) <= 1:
        return ""
    parts = []
    for child, parent in zip(
        lineage.iloc[:-1].itertuples(index=False),
        lineage.iloc[1:].itertuples(index=False),
        strict=True,
    ):
        numbers = {
            "child": i18n.record_number(str(child.khasra_no), lang),
            "parent": i18n.record_number(str(parent.khasra_no), lang),
        }
        if shared.is_null(child.created_on):
            parts.append(i18n.t("parcels.chain.cut_from", lang, **numbers))
        else:
            on = day(shared.as_date(child.created_on), lang)
            parts.append(i18n.t("parcels.chain.cut_from_on", lang, date=on, **numbers))
    # the first part opens the sentence; the others follow a semicolon, in lower case
    rest = [p[:1].lower() + p[1:] for p in parts[1:]]
    return "; ".join([parts[0], *rest])


def changes_since(
    chain: read.MutationChain, as_of: date, today: date, lang: str | None = None
) -> None:
    """Which sanctioned mutations lie between the chosen date and today."""
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    low, high = sorted((as_of, today))
    found = []
    if not chain.lines.empty:
        for first, _group in shared.mutation_groups(chain.lines):
            decided = first.decided_on
            if str(first.status) != "sanctioned" or pd.isna(decided) or not low < decided <= high:
                continue
            found.append(
                _(
                    "parcels.chain.found",
                    number=i18n.digits(str(first.number), lang),
                    type=shared.coded(shared.MUTATION_TYPES, str(first.type), lang),
                    date=day(shared.as_date(decided), lang),
                )
            )
    span = {"low": day(low, lang), "high": day(high, lang)}
    if found:
        st.caption(_("parcels.chain.between", found=_("register.separator").join(found), **span))
    else:
        st.caption(_("parcels.chain.none_between", **span))


STATUS_ORDER = ("settlement", "sanctioned", "rejected", "entered", "verified")
"""The statuses in the legend's order (:data:`app.shared.style.STATUS_COLORS`' order)."""


def timeline_chart(
    chain: read.MutationChain, today: date, lang: str | None = None
) -> alt.LayerChart | alt.FacetChart | None:
    """Each khewat period as a grey bar, each event a point coloured by its status.

    A layer chart in fact: ``alt.layer`` returns a facet chart only when every layer
    shares a facet encoding, and none of these has one; altair types it as either.
    """
    lang = page_lang(lang)
    import altair as alt

    _ = i18n.Words(lang)
    events = chain_events(chain, lang)
    if events.empty:
        return None
    lanes = chain_lanes(chain, today, lang)
    order = list(
        dict.fromkeys([*lanes.sort_values("start")["lane"], *events.sort_values("date")["lane"]])
    )
    y = alt.Y("lane:N", sort=order, title=None, axis=alt.Axis(labelLimit=320))
    statuses = [shared.status_label(s, lang) for s in STATUS_ORDER]
    colour = alt.Color(
        "status:N",
        scale=alt.Scale(domain=statuses, range=list(style.STATUS_COLORS.values())),
        legend=alt.Legend(title=_("parcels.chain.status"), orient="bottom", direction="horizontal"),
    )
    bars = (
        alt.Chart(lanes)
        .mark_bar(height=12, color=style.LANE_COLOR, cornerRadius=3)
        .encode(
            x=alt.X("start:T", title=None, axis=alt.Axis(format="%Y", grid=True)),
            x2="end:T",
            y=y,
            tooltip=[
                alt.Tooltip("lane:N", title=_("parcels.chain.held")),
                alt.Tooltip("held:N", title=_("parcels.chain.period")),
            ],
        )
    )
    points = (
        alt.Chart(events)
        .mark_point(filled=True, size=170, opacity=0.95, stroke="#222", strokeWidth=0.6)
        .encode(
            x="date:T",
            y=y,
            color=colour,
            shape=alt.Shape("type:N", legend=alt.Legend(title=_("register.type"), orient="right")),
            tooltip=[
                alt.Tooltip("date:T", title=_("register.date"), format="%Y-%m-%d"),
                alt.Tooltip("mutation:N", title=_("register.mutation")),
                alt.Tooltip("type:N", title=_("register.type")),
                alt.Tooltip("status:N", title=_("register.status")),
                alt.Tooltip("transfers:N", title=_("register.transfers")),
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


def mutation_chain_panel(
    chain: read.MutationChain, khasra_no: str, as_of: date, lang: str | None = None
) -> None:
    """The khasra's mutations back to the first recorded owner: a chart and a register."""
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    st.markdown(f"#### {_('parcels.chain.heading', khasra=i18n.record_number(khasra_no, lang))}")
    lineage = lineage_text(chain, lang)
    if lineage:
        st.caption(_("parcels.chain.caption_lineage", lineage=lineage))
    else:
        st.caption(_("parcels.chain.caption"))
    table = chain_table(chain, lang)
    if table.empty:
        st.info(_("parcels.chain.none"))
        return
    chart = timeline_chart(chain, max(date.today(), as_of), lang)
    if chart is not None:
        st.altair_chart(chart, width="stretch", alt=_("parcels.chain.chart_alt"))
    st.table(table, hide_index=True)


FARD_LANGUAGES: dict[data.FardLanguage, str] = {
    "en": "parcels.fard.english",
    "ur": "parcels.fard.urdu",
    "both": "parcels.fard.both",
}
"""The fard's languages (the PDF's, not the page's), by catalogue key."""


def fard_panel(
    url: str,
    mouza: MouzaSummary,
    owners: pd.DataFrame,
    as_of: date,
    actor: Actor,
    lang: str | None = None,
) -> None:
    """Download a fard (ownership extract, PDF) of a khewat holding the khasra on the date.

    The PDF is issued only when the button is clicked (a fard is an audited act with its
    own verification code), by :func:`app.views.parcels.data.fard_pdf` as the signed-in
    ``actor``; the button is offered only to an actor who may issue one in this mouza
    today.
    """
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    st.markdown(f"#### {_('parcels.fard.heading', date=day(as_of, lang))}")
    if owners.empty:
        st.caption(_("parcels.fard.no_khewat"))
        return
    if not data.fard_available():
        st.caption(_("parcels.fard.not_installed"))
        return
    if as_of > date.today():
        st.caption(_("parcels.fard.future"))
        return
    denied = data.refusal_of(url, actor, "fard.issue", mouza.id)
    if denied is not None:
        said = rule_text(denied.rule, denied.message, lang)
        st.caption(_("parcels.fard.refused", rule=said.rule, reason=said.reason))
        if said.as_recorded:
            st.caption(_("refusal.as_recorded", message=said.as_recorded))
        return
    khewat_numbers = sorted({int(n) for n in owners["khewat_no"]})
    left, right = st.columns(2)
    with left:
        khewat_no = st.selectbox(
            _("parcels.fard.khewat"),
            khewat_numbers,
            key=f"fard_khewat_{mouza.id}",
            format_func=lambda n: i18n.digits(str(n), lang),
        )
    with right:
        language = st.radio(
            _("parcels.fard.language"),
            list(FARD_LANGUAGES),
            format_func=lambda code: _(FARD_LANGUAGES[code]),
            horizontal=True,
            key="fard_language",
        )
    engine = shared.engine(url)  # resolved now: the download runs outside the script thread
    st.download_button(
        _("parcels.fard.download"),
        data=partial(data.fard_pdf, engine, mouza.name, khewat_no, as_of, language, actor=actor),
        file_name=data.fard_file_name(mouza.name, khewat_no, as_of, language),
        mime="application/pdf",
        icon=":material/download:",
        key="fard_download",
        on_click="ignore",
        help=_("parcels.fard.help"),
    )


# --- the NDVI chart ---------------------------------------------------------------------


def ndvi_chart(series: pd.DataFrame, lang: str | None = None) -> alt.LayerChart | alt.FacetChart:
    """Mean NDVI (clear observations only), the smoothed curve and season marks.

    A layer chart in fact (no layer has a facet encoding); see :func:`timeline_chart`.
    """
    lang = page_lang(lang)
    import altair as alt

    _ = i18n.Words(lang)
    base = alt.Chart(series).encode(
        x=alt.X("time:T", title=_("parcels.ndvi.date")),
    )
    points = (
        base.transform_filter(alt.datum.valid)
        .mark_line(point=True, opacity=0.6)
        .encode(
            y=alt.Y("mean:Q", title=_("parcels.ndvi.mean"), scale=alt.Scale(domain=[-0.1, 1.0])),
            tooltip=[
                alt.Tooltip("time:T", title=_("parcels.ndvi.date"), format="%Y-%m-%d"),
                alt.Tooltip("mean:Q", title=_("parcels.ndvi.ndvi"), format=".3f"),
                alt.Tooltip("valid_fraction:Q", title=_("parcels.ndvi.clear"), format=".0%"),
            ],
        )
    )
    curve = base.mark_line(color="#2e7d32", strokeWidth=2).encode(y="smoothed:Q")
    layers: list[alt.Chart] = [points, curve]
    marks = {"start": _("parcels.ndvi.start"), "peak": _("parcels.ndvi.peak"),
             "end": _("parcels.ndvi.end")}  # fmt: skip
    rules = data.season_rules(series)
    if not rules.empty:
        rules = rules.assign(mark=rules["mark"].map(marks))
        layers.append(
            alt.Chart(rules)
            .mark_rule(strokeDash=[4, 3])
            .encode(
                x="time:T",
                color=alt.Color(
                    "mark:N", title=_("parcels.ndvi.season"), sort=list(marks.values())
                ),
                tooltip=["season:N", "mark:N", alt.Tooltip("time:T", format="%Y-%m-%d")],
            )
        )
    return alt.layer(*layers).properties(height=260)


def ndvi_panel(
    url: str,
    mouza_name: str,
    mouza_id: int,
    khasra_id: int,
    khasra_no: str,
    lang: str | None = None,
) -> None:
    """The selected khasra's NDVI over time; never fails when imagery is absent. The
    command that makes a series is shown as code: it is typed as it is, in any language."""
    lang = page_lang(lang)
    _ = i18n.Words(lang)
    shown = i18n.record_number(khasra_no, lang)
    st.subheader(_("parcels.ndvi.heading"))
    series = data.ndvi_series(url, khasra_id)
    if series.empty:
        if data.zonal_rows(url, mouza_id).empty:
            st.info(_("parcels.ndvi.no_series"))
            st.code(f"landgov imagery series --mouza '{mouza_name}'", language="bash")
        else:
            st.info(_("parcels.ndvi.no_observations", khasra=shown))
        return
    st.altair_chart(
        ndvi_chart(series, lang), width="stretch", alt=_("parcels.ndvi.alt", khasra=shown)
    )
    clear = int(series["valid"].sum())
    st.caption(
        _(
            "parcels.ndvi.caption",
            clear=clear,
            n=len(series),
            share=i18n.percent(data.MIN_VALID, lang),
        )
    )
