"""Panels more than one page of the dashboard draws, one function each: the database
error message, the sidebar's pickers and identity, the map legend, the offline map deck
and its polygon layer, an action's outcome and a refusal. A page's own panels live in its
folder.

Every panel speaks the page's language: ``lang`` when the caller passes it, else the
session's (:func:`app.shared.i18n.current`), so a page that has not moved to the
catalogue yet still gets its frame, refusals and errors in the officer's language.
A refusal names its rule: in English with the service's own sentence (it names who and
where), in another language with the rule's explanation from the catalogue
(``rule_reason.<rule>``); a rule the catalogue does not know keeps the service's English
sentence under "as the service records it", never dropped silently."""

from __future__ import annotations

import hashlib
import json
import pickle
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from html import escape
from typing import Any

import pydeck as pdk
import streamlit as st
from psycopg.errors import UndefinedTable
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, ProgrammingError

from app.shared import data, i18n, maplayers, style
from app.shared.feedback import rule_text
from imagery.picture import Frame, Markers, Overlay, Polygons, compose
from landgov.errors import StorageError
from landgov.security import Actor
from landgov.storage.read import MouzaSummary


def language(lang: str | None = None) -> str:
    """``lang``, or the session's language when None."""
    return lang or i18n.current()


@contextmanager
def database_errors(url: str, lang: str | None = None) -> Iterator[None]:
    """Shows a database failure as a clear message and stops the page (no traceback).
    The driver's own words follow as details (they are the database's, in English)."""
    where = data.display_url(url)
    try:
        yield
    except ProgrammingError as exc:
        if not isinstance(exc.orig, UndefinedTable):
            raise  # a bug in a query, not a missing schema: show the traceback
        _ = i18n.Words(language(lang))
        st.error(
            _("frame.no_schema", where=where) + "\n\n" + _("frame.details", detail=str(exc.orig))
        )
        st.stop()
    except (OperationalError, InterfaceError, StorageError) as exc:
        detail = exc.orig if isinstance(exc, DBAPIError) else exc
        _ = i18n.Words(language(lang))
        st.error(
            _("frame.unreachable", where=where) + "\n\n" + _("frame.details", detail=str(detail))
        )
        st.stop()


def sidebar(mouzas: list[MouzaSummary], lang: str | None = None) -> tuple[MouzaSummary, date]:
    """Mouza and date pickers; returns the chosen mouza and the "as of" date."""
    lang = language(lang)
    _ = i18n.Words(lang)
    by_id = {m.id: m for m in mouzas}
    if "mouza_id" in st.session_state and st.session_state["mouza_id"] not in by_id:
        st.session_state["mouza_id"] = mouzas[0].id  # e.g. not in this page's jurisdiction
    with st.sidebar:
        st.header(_("frame.record"))
        mouza_id = st.selectbox(
            _("frame.mouza"),
            options=list(by_id),
            format_func=lambda i: data.mouza_label(by_id[i], lang),
            key="mouza_id",
        )
        as_of = st.date_input(
            _("frame.as_of"),
            value=date.today(),
            min_value=date(1900, 1, 1),
            max_value=date(2200, 12, 31),
            format="YYYY-MM-DD",  # typed and read left to right, as the register writes it
            key="as_of",
            help=_("frame.as_of_help"),
        )
    return by_id[mouza_id], as_of


@dataclass(frozen=True)
class LegendItem:
    """One line of a map's legend: a swatch drawn as the layer draws it, and its label.
    ``kind``: ``fill`` (a filled square), ``outline`` (a square's border, faint fill),
    ``line`` (a thick stroke) or ``text`` (no swatch: a note)."""

    label: str
    rgb: tuple[int, int, int] = (0, 0, 0)
    kind: str = "fill"


def _swatch(item: LegendItem) -> str:
    r, g, b = item.rgb
    box = "display:inline-block;width:1.1em;flex:none;"
    if item.kind == "outline":
        return (
            f'<span style="{box}height:1.1em;border:3px solid rgb({r},{g},{b});'
            f'background:rgba({r},{g},{b},0.25)"></span>'
        )
    if item.kind == "line":
        return (
            f'<span style="{box}height:0;border-top:4px solid rgb({r},{g},{b});'
            'box-shadow:0 0 0 2px #fff"></span>'
        )
    if item.kind == "text":
        return ""
    return (
        f'<span style="{box}height:1.1em;background:rgb({r},{g},{b});border:1px solid #333"></span>'
    )


def legend_items_html(items: Sequence[LegendItem]) -> str:
    return "".join(
        '<div style="display:flex;align-items:center;gap:0.4em;margin:0.15em 0">'
        f"{_swatch(item)}<span>{escape(item.label)}</span></div>"
        for item in items
    )


def legend(
    counts: dict[str, int] | None = None,
    layers: Sequence[tuple[str, Sequence[LegendItem]]] = (),
    lang: str | None = None,
) -> None:
    """The map's legend: the land-class colours (with the parcel count of each class
    when given), then a heading and its lines for each other layer the map draws
    (``layers``: state land, boundary, selection, labels, imagery, already in the page's
    language), so the legend lists exactly what is on the map."""
    lang = language(lang)
    st.markdown(f"**{i18n.t('frame.land_class', lang)}**")
    st.markdown(style.legend_html(counts, lang), unsafe_allow_html=True)
    for heading, items in layers:
        if items:
            st.markdown(f"**{heading}**")
            st.markdown(legend_items_html(items), unsafe_allow_html=True)


class OfflineDeck(pdk.Deck):  # type: ignore[misc]  # pydeck ships no types
    """pydeck's Deck, its JSON written compactly. pydeck indents its JSON two spaces a
    level, and a polygon's coordinates sit five levels deep: on a mouza of 955 khasras
    the map's JSON was 807 kB, mostly spaces and line breaks, sent and parsed again on
    every rerun."""

    def to_json(self) -> str:
        from pydeck.bindings.json_tools import default_serialize

        return json.dumps(self, sort_keys=True, default=default_serialize, separators=(",", ":"))


MAP_CONTROLLER: dict[str, Any] = {"doubleClickZoom": False}
"""How the maps answer the pointer: pan, wheel, pinch and keyboard zoom as deck.gl's
default, but no zoom on a double click. While double-click zoom is on, deck.gl holds
every click for its double-click interval (0.3 s) before it picks, and a click is the
officer's commonest action on a map: selecting a parcel. Streamlit hands the deck's
``views`` their own controller (it sets none itself when the JSON has views), so these
options reach deck.gl."""


def offline_deck(
    layers: list[Any],
    bounds: tuple[float, float, float, float],
    height_px: int,
    tooltip: str,
    width_px: int = 800,
) -> pdk.Deck:
    """A deck of ``layers`` fitted to ``bounds`` in a map of about ``width_px`` ×
    ``height_px``, with no basemap so every map works offline: ``map_provider=None``
    leaves map_style at pydeck's "__MAP_STYLE__" sentinel, which Streamlit's frontend reads
    as "no basemap" (``map_style=None`` would make Streamlit fetch a Carto basemap
    instead). ``tooltip``: HTML with ``{column}`` fields. Its JSON is compact
    (:class:`OfflineDeck`); its controller is :data:`MAP_CONTROLLER`."""
    view = data.fit_view(bounds, width_px=width_px, height_px=height_px)
    return OfflineDeck(
        layers=layers,
        initial_view_state=pdk.ViewState(
            longitude=view.longitude, latitude=view.latitude, zoom=view.zoom, pitch=0, bearing=0
        ),
        map_provider=None,
        views=[pdk.View(type="MapView", controller=MAP_CONTROLLER)],
        tooltip={"html": tooltip, "style": {"fontSize": "0.85em"}},
    )


INTERACTIVE_MAPS_KEY = "interactive_maps"
"""The officer's choice between maps as pictures and interactive maps, kept for the
session (one choice for every page that offers it)."""
PICTURE_WIDTH_PX = 960
"""A map picture's width: about the page's main column at a laptop's width (the picture
is scaled to the column)."""


def interactive_map_switch(page: str, lang: str | None = None) -> bool:
    """The switch above a map that is drawn as a picture by default (:mod:`imagery.picture`):
    on, the interactive map (zoom, hover). One choice for the session: the page's own
    widget is set from it each time the page opens (Streamlit forgets a widget's state
    when another page runs)."""
    _ = i18n.Words(language(lang))
    widget = f"{INTERACTIVE_MAPS_KEY}_{page}"
    if widget not in st.session_state:
        st.session_state[widget] = bool(st.session_state.get(INTERACTIVE_MAPS_KEY, False))
    on = bool(st.toggle(_("map.interactive"), key=widget, help=_("map.interactive_help")))
    st.session_state[INTERACTIVE_MAPS_KEY] = on
    return on


def _digest(overlay: Overlay) -> str:
    """An overlay's cache key: the SHA-1 of its pickle (0.3 ms for the 674-parcel value
    map, where Streamlit's own hashing of its nested lists took 35 ms on every rerun)."""
    return hashlib.sha1(pickle.dumps(overlay, protocol=5), usedforsecurity=False).hexdigest()


@st.cache_data(
    ttl=3600,
    max_entries=32,
    show_spinner=False,
    hash_funcs={Polygons: _digest, Markers: _digest},
)
def map_picture(
    frame: Frame,
    under: tuple[tuple[bytes, tuple[float, float, float, float]], ...],
    overlays: tuple[Overlay, ...],
) -> bytes:
    """:func:`imagery.picture.compose`, cached an hour (a page's rerun, or the officer
    coming back to it, sends the same picture without drawing it again)."""
    return compose(frame, under, overlays)


def show_picture(png: bytes, alt: str) -> None:
    """A map picture across the column, with its alternative text."""
    st.image(png, width="stretch", alt=alt)


def polygon_layers(
    rows: Any,
    layer_id: str,
    *,
    line_color: Sequence[int] | str,
    line_width: float = 1,
    edges: list[dict[str, Any]] | str | None = None,
    keep: Sequence[str] = (),
    highlight: bool = True,
    opacity: float = 1.0,
) -> list[pdk.Layer]:
    """The map pages' common parcel layers: a pickable layer ``layer_id`` of filled
    polygons (a frame with columns ``polygon`` and ``fill_color``, or the URL of a JSON
    file of such rows), then their outline ``<layer_id>-outline``, ``line_width`` screen pixels wide
    (:func:`app.shared.maplayers.outline_layer`: segments, not deck.gl's costly paths).

    ``line_color``: an RGBA list, or the name of a column holding one per row.
    ``edges``: the outline's segments (:func:`app.shared.maplayers.ring_segments`) or
    their file's URL; by default the rows' own rings, with the ``keep`` columns (the
    colour's column is kept by itself). An outline carrying columns (the tooltip's) is
    pickable: a strip thinner than a pixel shows its tooltip on its outline."""
    fill = pdk.Layer(
        "PolygonLayer",
        data=rows,
        id=layer_id,
        get_polygon="polygon",
        get_fill_color="fill_color",
        filled=True,
        stroked=False,
        pickable=True,
        auto_highlight=highlight,
        opacity=opacity,
    )
    if edges is None:
        colour = (line_color,) if isinstance(line_color, str) else ()
        edges = maplayers.ring_segments(rows.to_dict("records"), keep=(*keep, *colour))
    outline = maplayers.outline_layer(
        edges,
        f"{layer_id}-outline",
        color=line_color,
        width_px=line_width,
        opacity=opacity,
        pickable=bool(keep),
    )
    return [fill, outline]


def action_outcome(
    kind: str, message: str, rule: str | None = None, lang: str | None = None
) -> None:
    """The result of an officer's action, alike on every page: a refusal names the rule
    that refused it and says nothing was written."""
    _ = i18n.Words(language(lang))
    if kind == "refused":
        said = rule_text(rule, message, _.lang)
        st.error(_("feedback.refused", rule=said.rule, reason=said.reason), icon="⛔")
        if said.as_recorded:
            st.caption(_("refusal.as_recorded", message=said.as_recorded))
    elif kind == "conflict":
        st.warning(_("feedback.conflict", message=message), icon="⚠️")
    elif kind == "error":
        st.error(_("feedback.error", message=message), icon="⛔")
    else:
        st.success(message, icon="✅")


def refusal(rule: str, message: str, lang: str | None = None) -> None:
    """A page or panel the signed-in actor may not see: the rule that refuses it."""
    _ = i18n.Words(language(lang))
    said = rule_text(rule, message, _.lang)
    st.error(_("refusal.banner", rule=said.rule, reason=said.reason), icon="⛔")
    if said.as_recorded:
        st.caption(_("refusal.as_recorded", message=said.as_recorded))


def roles_text(actor: Actor, lang: str) -> str:
    """``girdawar, auditor``: the actor's roles in ``lang``."""
    roles = [data.role_label(r, lang) for r in sorted(actor.roles)]
    return i18n.t("register.separator", lang).join(dict.fromkeys(roles)) or i18n.t(
        "frame.no_role", lang
    )


def who(actor: Actor, lang: str | None = None) -> str:
    """``Nasir Ali (girdawar)``: the actor as outcomes and captions name them."""
    lang = language(lang)
    role = data.role_label(actor.designation, lang) if actor.designation else None
    return f"{actor.full_name} ({role or roles_text(actor, lang)})"


def identity(
    actor: Actor, postings: list[str], expires: str | None = None, lang: str | None = None
) -> None:
    """Who is signed in (name, roles, postings today), in the sidebar; ``expires`` is
    the sentence of when the session ends."""
    _ = i18n.Words(language(lang))
    username = i18n.isolate(f"`{actor.username}`", _.lang)
    st.markdown(
        _("frame.signed_in", name=actor.full_name) + f"  \n{username} · {roles_text(actor, _.lang)}"
    )
    if postings:
        st.caption(_("frame.posted_over", postings="; ".join(postings)))
    elif actor.officer_id is not None:
        st.caption(_("frame.no_posting"))
    if expires:
        st.caption(expires)


METRIC_WRAP_CSS = (
    "<style>[data-testid='stMetricValue'] .stMarkdownEllipsis,"
    "[data-testid='stMetricValue'] p{white-space:normal;overflow:visible;"
    "text-overflow:clip}</style>"
)
"""A metric's value wraps onto a second line instead of ending in "…" (issue 19: the
Valuation headline read "Rs 7,168,74…" at a laptop's width)."""


def metrics_never_cut() -> None:
    """Lets every metric on the page wrap rather than be cut off (style only)."""
    st.html(METRIC_WRAP_CSS)
