"""Colours and labels the dashboard uses, defined once so every page and legend agree."""

from __future__ import annotations

from html import escape
from types import MappingProxyType
from typing import Final

from landgov.domain import LandClass

RGB = tuple[int, int, int]

LAND_CLASS_COLORS: Final[MappingProxyType[str, RGB]] = MappingProxyType(
    {
        LandClass.NEHRI: (46, 160, 67),  # green: canal-irrigated
        LandClass.CHAHI: (0, 145, 200),  # blue: well / tubewell
        LandClass.BARANI: (235, 190, 50),  # wheat yellow: rain-fed
        LandClass.BANJAR: (176, 128, 86),  # brown: uncultivated
        LandClass.GHAIR_MUMKIN: (140, 140, 140),  # grey: roads, canals, graveyards
        LandClass.ABADI: (215, 60, 60),  # red: village settlement
        LandClass.SHAMLAT: (150, 95, 195),  # purple: village common land
        LandClass.FOREST: (20, 90, 45),  # dark green
    }
)
"""Fill colour of each land class (RGB), in the order the legend lists them."""

LAND_CLASS_LABELS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        LandClass.NEHRI: "Nehri (canal-irrigated)",
        LandClass.CHAHI: "Chahi (well-irrigated)",
        LandClass.BARANI: "Barani (rain-fed)",
        LandClass.BANJAR: "Banjar (uncultivated)",
        LandClass.GHAIR_MUMKIN: "Ghair mumkin (not cultivable)",
        LandClass.ABADI: "Abadi (settlement)",
        LandClass.SHAMLAT: "Shamlat (village common)",
        LandClass.FOREST: "Forest",
    }
)

UNKNOWN_COLOR: Final[RGB] = (255, 0, 255)
"""A class the schema does not know should never appear; if it does, it shows loudly."""

FILL_ALPHA: Final = 200
OUTLINE_COLOR: Final[tuple[int, int, int, int]] = (40, 40, 40, 220)
SELECTED_OUTLINE_COLOR: Final[tuple[int, int, int, int]] = (255, 230, 0, 255)

STATUS_COLORS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "settlement": "#1f6fb4",  # blue: the first recorded owners
        "sanctioned": "#2e9e46",  # green
        "rejected": "#d23c3c",  # red
        "pending (entered)": "#f0a020",  # amber
        "pending (verified)": "#b06ad0",  # violet
    }
)
"""Colour of each event status on the mutation timeline (keys: data.STATUS_LABELS values)."""

LANE_COLOR: Final = "#d9d9d9"
"""The grey bar of a khewat's holding period on the timeline."""

GUARDIAN_ABBREVIATIONS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {"son_of": "s/o", "daughter_of": "d/o", "wife_of": "w/o"}
)


def land_class_color(land_class: str) -> RGB:
    return LAND_CLASS_COLORS.get(land_class, UNKNOWN_COLOR)


def land_class_label(land_class: str) -> str:
    return LAND_CLASS_LABELS.get(land_class, land_class)


def legend_html(counts: dict[str, int] | None = None) -> str:
    """An HTML legend of every land class; with ``counts``, the parcels of each class."""
    items = []
    for land_class, (r, g, b) in LAND_CLASS_COLORS.items():
        label = escape(land_class_label(land_class))
        count = "" if counts is None else f" <small>({counts.get(land_class, 0)})</small>"
        items.append(
            '<div style="display:flex;align-items:center;gap:0.4em;margin:0.15em 0">'
            f'<span style="display:inline-block;width:1.1em;height:1.1em;'
            f'background:rgb({r},{g},{b});border:1px solid #333"></span>'
            f"<span>{label}{count}</span></div>"
        )
    return '<div class="landgov-legend">' + "".join(items) + "</div>"
