"""Colours, labels, fonts and writing direction the dashboard uses, defined once so every
page and legend agree.

Urdu is set in Noto Nastaliq Urdu, the script's own calligraphic style (the browser's
fall-back for Arabic script is a Naskh or Kufi face, which Urdu readers find foreign),
served by the dashboard itself (no CDN: the dashboard runs offline). Streamlit serves
``app/static/`` at ``app/static/`` when ``[server] enableStaticServing`` is on
(``.streamlit/config.toml``), but refuses a symbolic link that leaves the folder, so
:func:`serve_fonts` copies the font the system installed (Debian ``fonts-noto-core``,
in the Makefile's packages) into ``app/static/fonts/`` (ignored by git: 560 kB that
``apt`` already keeps). The browser caches it after the first page.
"""

from __future__ import annotations

import logging
import shutil
from html import escape
from pathlib import Path
from types import MappingProxyType
from typing import Final

from app.shared import i18n
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


LAND_CLASS_KEYS: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        LandClass.NEHRI: "land_class.nehri",
        LandClass.CHAHI: "land_class.chahi",
        LandClass.BARANI: "land_class.barani",
        LandClass.BANJAR: "land_class.banjar",
        LandClass.GHAIR_MUMKIN: "land_class.ghair_mumkin",
        LandClass.ABADI: "land_class.abadi",
        LandClass.SHAMLAT: "land_class.shamlat",
        LandClass.FOREST: "land_class.forest",
    }
)
"""Each land class's catalogue key (its English text is :data:`LAND_CLASS_LABELS`)."""


def land_class_label(land_class: str, lang: str = i18n.DEFAULT) -> str:
    """A land class as the legend and the khasra panel name it, in ``lang``; a class the
    schema does not know, as stored."""
    key = LAND_CLASS_KEYS.get(land_class)
    return land_class if key is None else i18n.t(key, lang)


def legend_html(counts: dict[str, int] | None = None, lang: str = i18n.DEFAULT) -> str:
    """An HTML legend of every land class; with ``counts``, the parcels of each class
    (in ``lang``'s words and digits)."""
    items = []
    for land_class, (r, g, b) in LAND_CLASS_COLORS.items():
        label = escape(land_class_label(land_class, lang))
        shown = "" if counts is None else i18n.number(counts.get(land_class, 0), lang)
        count = "" if counts is None else f" <small>({shown})</small>"
        items.append(
            '<div style="display:flex;align-items:center;gap:0.4em;margin:0.15em 0">'
            f'<span style="display:inline-block;width:1.1em;height:1.1em;'
            f'background:rgb({r},{g},{b});border:1px solid #333"></span>'
            f"<span>{label}{count}</span></div>"
        )
    return '<div class="landgov-legend">' + "".join(items) + "</div>"


# --- fonts and writing direction ---------------------------------------------------------

URDU_FONT: Final = "Noto Nastaliq Urdu"
FONT_SOURCE: Final = Path("/usr/share/fonts/truetype/noto/NotoNastaliqUrdu-Regular.ttf")
"""Where Debian's fonts-noto-core installs the font."""
STATIC_DIR: Final = Path(__file__).resolve().parents[1] / "static"
"""Streamlit's static folder: next to the entry script, served at ``app/static/``."""
FONT_FILE: Final = STATIC_DIR / "fonts" / FONT_SOURCE.name
FONT_URL: Final = f"app/static/fonts/{FONT_SOURCE.name}"
"""Relative, so it holds under any ``server.baseUrlPath`` (page URLs are one level deep)."""

_log = logging.getLogger(__name__)


def serve_fonts(source: Path = FONT_SOURCE, target: Path = FONT_FILE) -> bool:
    """Puts the Urdu font where Streamlit serves it (once; again when the installed
    font changes size); False, with a warning in the log, when it cannot (the font is
    not installed, or the folder is read-only): Urdu then falls back to the browser's
    Arabic-script font, legible but not Nastaliq."""
    try:
        if target.is_file() and target.stat().st_size == source.stat().st_size:
            return True
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        shutil.copyfile(source, partial)
        partial.replace(target)  # atomic: a page never gets half a font
        return True
    except OSError as exc:
        _log.warning("Urdu font not served (%s): install fonts-noto-core", exc)
        return False


def language_css(direction: str, font: bool) -> str:
    """The page's style for a language: right to left and in Nastaliq for Urdu (with
    room between lines: Nastaliq's letters climb and descend far), left to right with
    the theme's font otherwise. The main area and the officers' sidebar (navigation,
    identity, pickers, legend) alike. Typed fields stay left to right (CNIC, codes, a
    date). Material icons keep their own font."""
    if direction != "rtl":
        return ""
    face = (
        f'@font-face{{font-family:"{URDU_FONT}";src:url("{FONT_URL}") format("truetype");'
        "font-display:swap}"
        if font
        else ""
    )
    area = ':is([data-testid="stMain"],[data-testid="stSidebar"])'
    text = (
        f"{area} :is(h1,h2,h3,h4,p,li,label,summary,button,td,th,"
        '[data-testid="stMarkdownContainer"],[data-testid="stCaptionContainer"])'
    )
    return (
        face
        # Streamlit aligns its blocks left explicitly: "start" follows the direction
        + f"{area},{area} :is(h1,h2,h3,h4,li,"
        '[data-testid="stMarkdownContainer"],[data-testid="stCaptionContainer"])'
        "{direction:rtl;text-align:start}"
        + f'{text},[data-baseweb="select"] div{{font-family:"{URDU_FONT}","Source Sans",'
        "sans-serif}"
        + f'{area} [data-testid="stMarkdownContainer"]{{line-height:2.2}}'
        # Nastaliq climbs past its box on the right (the kaf's stroke): room for it
        + f"{area} :is(h1,h2,h3,h4){{line-height:1.9;padding-bottom:.3em;"
        "padding-inline-start:.3em}"
        # Nastaliq looks larger than Latin at one size: a title fits a phone's line
        + '[data-testid="stMain"] h1{font-size:2.2rem}'
        + f"{area} input{{direction:ltr;text-align:right}}"
        # a date's parts (year, month, day segments) in the register's order, 2026-12-06
        + '[data-testid="stDateInputField"]{direction:ltr}'
        # a list's markers on the right, inside the column (Streamlit pads lists on the left)
        + f"{area} :is(ul,ol){{padding-left:0;padding-inline-start:1.4em}}"
        # a picker's chosen value reads in the page's direction, as its options do
        + f'{area} [data-baseweb="select"]{{direction:rtl}}'
        # code (a command to type) reads left to right, as it is typed
        + '[data-testid="stCode"],code{direction:ltr;unicode-bidi:isolate}'
        # a chart lays out its own labels (Vega anchors text at its start): left to
        # right, each Urdu label still reads right to left
        + '[data-testid="stVegaLiteChart"]{direction:ltr}'
        # the map's canvas and its controls are laid out by deck.gl, left to right
        + '[data-testid="stDeckGlJsonChart"]{direction:ltr}'
        # the language switch names each language in itself: kept in its own order
        + '[data-testid="stButtonGroup"]{direction:ltr;display:flex;justify-content:flex-end}'
        + '[data-testid="stIconMaterial"]{font-family:"Material Symbols Rounded"}'
    )


PHONE_CSS: Final = (
    '[data-testid="stSidebar"],[data-testid="stSidebarCollapsedControl"],'
    '[data-testid="stExpandSidebarButton"]{display:none}'
    # the top clears Streamlit's header bar (3.75rem: its menu and "running" sign)
    '[data-testid="stMainBlockContainer"]{padding:4rem 1rem 4rem;max-width:46rem}'
)
"""The farmer's page: no sidebar at all (no officer navigation), little padding on a
phone (the header's height at the top) and a readable line length on a wide screen."""
