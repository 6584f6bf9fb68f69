"""The dashboard's words in every language it speaks: one catalogue, one lookup.

**The catalogue** is one TOML file per language in ``app/locale/`` (``en.toml``,
``ur.toml``), and beside it one file per page and language (``en.parcels.toml``,
``ur.parcels.toml``: :func:`load`), checked in and read at start-up with the standard
library's ``tomllib``.
A message has a dotted key (``farmer.send_code``: the page, then what it is) and the
same keys are in every file. Chosen over gettext ``.po``/``.mo`` files because:

- keys, not English sentences, identify a message, so the English text lives in the
  catalogue like any other language and can be reworded without orphaning the Urdu;
- nothing is compiled: no build step a fresh clone could miss, no new dependency
  (Babel), and a reviewer reads both languages side by side in plain text;
- a key missing from a language is an error at load time and in the tests
  (``tests/app/test_farmer_i18n.py``), never a silent fall-back to another language.

Placeholders are ``str.format`` fields (``{date}``); a language's text must use exactly
the fields of the English one (checked on load). Each file's ``[language]`` table holds
that language's conventions: its own name (shown in the switch), writing direction,
digits, decimal and grouping signs, month names and date patterns. Urdu follows the
Unicode CLDR locale ``ur`` with its native ``arabext`` numbering: Extended Arabic-Indic
digits ۰–۹ with ``٫`` and ``٬`` (with ASCII separators the bidirectional algorithm can
show a number back to front in right-to-left text) and the long date ``d MMMM، y``.

**The chosen language** (:func:`current`): ``?lang=ur`` in the address wins (a link can
open a page in Urdu), then the choice kept in the session (the switch, :func:`switch`),
then a preference the page knows (:func:`prefer`: a farmer's registered SMS language),
then English. It is written back to the address on every run, because Streamlit drops
query parameters when the page changes, so a copied link keeps its language. English,
the default, leaves the address clean.

How to add a message or a language: docs/i18n.md.
"""

from __future__ import annotations

import string
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import cache
from pathlib import Path
from typing import Any, Final

import streamlit as st

LOCALE_DIR: Final = Path(__file__).resolve().parents[1] / "locale"
"""One ``<code>.toml`` per language, and ``<code>.<part>.toml`` per page."""
DEFAULT: Final = "en"
"""The language when nobody chose one: the officers' working language."""
QUERY_KEY: Final = "lang"
STATE_KEY: Final = "_landgov_lang"
SWITCH_KEY: Final = "_landgov_lang_switch"
LRI, PDI = "\u2066", "\u2069"
"""Left-to-right isolate: a record number (``45//12``) reads left to right in Urdu."""
_META: Final = "language"
_META_FIELDS: Final = (
    "name", "direction", "digits", "decimal", "group", "percent", "months", "date",
    "day_month",
)  # fmt: skip


class CatalogueError(ValueError):
    """A catalogue file that cannot be used (the message names file, key and reason)."""


@dataclass(frozen=True)
class Language:
    """One language's conventions (a catalogue file's ``[language]`` table)."""

    code: str
    name: str
    direction: str
    digits: str
    decimal: str
    group: str
    percent: str
    months: tuple[str, ...]
    date: str
    day_month: str


@dataclass(frozen=True)
class Catalogue:
    """Every language (in the switch's order: the default first) and its messages."""

    languages: Mapping[str, Language]
    messages: Mapping[str, Mapping[str, str]]

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(self.languages)


def _flatten(table: Mapping[str, Any], prefix: str, path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            out |= _flatten(value, f"{key}.", path)
        elif isinstance(value, str):
            out[key] = value
        else:
            raise CatalogueError(f"{path.name}: {key}: a message must be text, not {value!r}")
    return out


def fields_of(text: str) -> frozenset[str]:
    """The placeholder names of a message (``{date}`` -> ``date``)."""
    return frozenset(name for _, name, _, _ in string.Formatter().parse(text) if name)


def _language(code: str, meta: Any, path: Path) -> Language:
    if not isinstance(meta, Mapping):
        raise CatalogueError(f"{path.name}: no [{_META}] table (the language's conventions)")
    missing = [f for f in _META_FIELDS if f not in meta]
    if missing:
        raise CatalogueError(f"{path.name}: [{_META}] lacks {', '.join(missing)}")
    if meta["direction"] not in ("ltr", "rtl"):
        raise CatalogueError(f"{path.name}: {_META}.direction: 'ltr' or 'rtl', not "
                             f"{meta['direction']!r}")  # fmt: skip
    if len(meta["digits"]) != 10:
        raise CatalogueError(f"{path.name}: {_META}.digits: ten digits, 0 to 9")
    if len(meta["months"]) != 12:
        raise CatalogueError(f"{path.name}: {_META}.months: twelve month names")
    return Language(
        code=code,
        name=str(meta["name"]),
        direction=str(meta["direction"]),
        digits=str(meta["digits"]),
        decimal=str(meta["decimal"]),
        group=str(meta["group"]),
        percent=str(meta["percent"]),
        months=tuple(str(m) for m in meta["months"]),
        date=str(meta["date"]),
        day_month=str(meta["day_month"]),
    )


def _part_file(code: str, part: str) -> str:
    """The file name of ``part`` of language ``code`` (``""`` is the language's own
    file, with its conventions)."""
    return f"{code}.{part}.toml" if part else f"{code}.toml"


def load(folder: Path = LOCALE_DIR) -> Catalogue:
    """Reads and checks every ``<code>.toml`` and ``<code>.<part>.toml`` in ``folder``.

    A language is its own file ``<code>.toml`` (its ``[language]`` conventions and the
    messages every page shares) and any number of part files ``<code>.<part>.toml``
    (``ur.parcels.toml``: one page's messages), so that a page's words sit beside each
    other in every language and two people translating two pages edit two files. The
    parts are merged; which file holds a key is only for people, but each language keeps
    a key in the same part as the default language does, so the files stay side by side.

    Raises:
        CatalogueError: no file for :data:`DEFAULT`; a file that is not TOML, lacks its
            conventions (or a part file that has some), holds a non-text message; a key
            in two files of one language; a key missing from a language or present only
            there, or kept in another part than the default language's; a message whose
            placeholders differ from the default language's. The message names the
            file, the key and the reason.
    """
    languages: dict[str, Language] = {}
    messages: dict[str, dict[str, str]] = {}
    where: dict[str, dict[str, str]] = {}  # language -> key -> part holding it
    paths = sorted(folder.glob("*.toml"), key=lambda p: (p.name.count("."), p.name))
    for path in paths:
        code, _, part = path.name.removesuffix(".toml").partition(".")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise CatalogueError(f"{path.name}: not TOML: {exc}") from exc
        meta = data.pop(_META, None)
        if part:
            if code not in languages:
                raise CatalogueError(f"{path.name}: no {code}.toml (the language's own file)")
            if meta is not None:
                raise CatalogueError(
                    f"{path.name}: [{_META}] belongs in {code}.toml, not in a part file"
                )
        else:
            languages[code] = _language(code, meta, path)
        texts, held = messages.setdefault(code, {}), where.setdefault(code, {})
        for key, text in _flatten(data, "", path).items():
            if key in texts:
                raise CatalogueError(
                    f"{path.name}: {key}: already in {_part_file(code, held[key])}"
                )
            texts[key], held[key] = text, part
    if DEFAULT not in languages:
        raise CatalogueError(f"{folder}: no {DEFAULT}.toml (the default language)")
    reference, home = messages[DEFAULT], where[DEFAULT]
    for code, texts in messages.items():
        for key in sorted(reference.keys() - texts.keys()):
            raise CatalogueError(
                f"{_part_file(code, home[key])}: {key}: missing "
                f"(it is in {_part_file(DEFAULT, home[key])})"
            )
        for key in sorted(texts.keys() - reference.keys()):
            raise CatalogueError(
                f"{_part_file(code, where[code][key])}: {key}: not in {DEFAULT}.toml or its parts"
            )
        for key, text in texts.items():
            mine_file = _part_file(code, where[code][key])
            if where[code][key] != home[key]:
                raise CatalogueError(
                    f"{mine_file}: {key}: belongs in {_part_file(code, home[key])}, as "
                    f"{_part_file(DEFAULT, home[key])} keeps it"
                )
            try:
                mine = fields_of(text)
            except ValueError as exc:  # an unmatched brace
                raise CatalogueError(f"{mine_file}: {key}: {exc}") from exc
            if mine != fields_of(reference[key]):
                raise CatalogueError(
                    f"{mine_file}: {key}: placeholders {sorted(mine)} differ from "
                    f"{_part_file(DEFAULT, home[key])}'s {sorted(fields_of(reference[key]))}"
                )
    order = [DEFAULT, *(c for c in languages if c != DEFAULT)]
    return Catalogue(
        languages={c: languages[c] for c in order},
        messages={c: messages[c] for c in order},
    )


@cache
def catalogue() -> Catalogue:
    """The dashboard's catalogue, read once per process (restart to see an edit)."""
    return load()


# --- the chosen language ----------------------------------------------------------------


def _keep_in_address(lang: str) -> None:
    if lang == DEFAULT:
        if QUERY_KEY in st.query_params:
            del st.query_params[QUERY_KEY]
    elif st.query_params.get(QUERY_KEY) != lang:
        st.query_params[QUERY_KEY] = lang


def current() -> str:
    """This session's language: ``?lang=`` in the address, else the one chosen or
    preferred in the session, else :data:`DEFAULT`; kept in the address."""
    codes = catalogue().codes
    asked = st.query_params.get(QUERY_KEY)
    if asked in codes:
        st.session_state[STATE_KEY] = asked
    lang = st.session_state.get(STATE_KEY)
    if lang not in codes:
        lang = DEFAULT
    _keep_in_address(lang)
    return str(lang)


def choose(lang: str) -> None:
    """Makes ``lang`` this session's language (an explicit choice).

    Raises:
        CatalogueError: the catalogue has no such language.
    """
    if lang not in catalogue().codes:
        raise CatalogueError(f"no language {lang!r} in the catalogue: {catalogue().codes}")
    st.session_state[STATE_KEY] = lang
    _keep_in_address(lang)


def prefer(lang: str | None) -> bool:
    """Uses ``lang`` unless a language was already chosen in this session or the address;
    True when it changed the language (the caller reruns to redraw)."""
    if lang not in catalogue().codes or STATE_KEY in st.session_state:
        return False
    if st.query_params.get(QUERY_KEY) in catalogue().codes:
        return False
    choose(str(lang))
    return lang != DEFAULT


def _switched() -> None:
    chosen = st.session_state.get(SWITCH_KEY)
    if chosen is not None:  # None: the selected language clicked again; it stays
        choose(str(chosen))


def switch(lang: str) -> None:
    """The language switch: each language by its own name (a reader finds their own
    language whatever the page is in now). Changing it reloads the page in that
    language and writes it to the address."""
    names = {c: catalogue().languages[c].name for c in catalogue().codes}
    st.session_state[SWITCH_KEY] = lang
    st.segmented_control(
        t("lang.switch", lang),
        options=list(names),
        format_func=names.__getitem__,
        key=SWITCH_KEY,
        on_change=_switched,
        label_visibility="collapsed",
    )


def language(lang: str) -> Language:
    return catalogue().languages[lang]


def rtl(lang: str) -> bool:
    return language(lang).direction == "rtl"


def apply_style(lang: str, *, phone: bool = False) -> None:
    """The page's direction and font for ``lang`` (:func:`app.shared.style.language_css`),
    and with ``phone`` the farmer's narrow, sidebar-free layout."""
    from app.shared import style

    css = style.language_css(language(lang).direction, font=rtl(lang) and style.serve_fonts())
    if phone:
        css += style.PHONE_CSS
    if css:
        st.html(f"<style>{css}</style>")


# --- messages ---------------------------------------------------------------------------


def t(key: str, lang: str, /, **fields: Any) -> str:
    """The message ``key`` in ``lang``, its placeholders filled: numbers, fractions and
    dates in the language's own convention (:func:`localise`), text as given.

    Raises:
        KeyError: no such key (the tests make sure every key used in app/ exists).
    """
    text = catalogue().messages[lang][key]
    if not fields:
        return text
    return text.format(**{name: localise(value, lang) for name, value in fields.items()})


_ = t
"""gettext's customary name for :func:`t`."""


@dataclass(frozen=True)
class Words:
    """:func:`t` bound to one language, for a page: ``_ = i18n.Words(lang)`` then
    ``_("farmer.title")``."""

    lang: str

    def __call__(self, key: str, /, **fields: Any) -> str:
        return t(key, self.lang, **fields)

    @property
    def rtl(self) -> bool:
        return rtl(self.lang)


def service_text(message: str, known: Mapping[str, str], lang: str, /, **fields: Any) -> str:
    """A message a service returned (English, for the command line and the logs), in
    ``lang`` when it is one of ``known`` (message -> catalogue key); otherwise as given."""
    key = known.get(message)
    return message if key is None else t(key, lang, **fields)


# --- numbers and dates ------------------------------------------------------------------


@cache
def _digit_table(lang: str) -> dict[int, int]:
    return str.maketrans("0123456789", language(lang).digits)


def digits(text: str, lang: str) -> str:
    """``text`` with its ASCII digits written in ``lang``'s digits."""
    return text.translate(_digit_table(lang))


def ascii_digits(text: str) -> str:
    """``text`` with every decimal digit (Urdu ۰–۹, Arabic ٠–٩, ...) as ASCII: what a
    phone's Urdu keyboard types is read as the same number."""
    return "".join(str(int(ch)) if ch.isdecimal() else ch for ch in text)


def isolate(text: str, lang: str) -> str:
    """``text`` kept left to right inside right-to-left text (record numbers, CNICs)."""
    return f"{LRI}{text}{PDI}" if rtl(lang) else text


def record_number(text: str, lang: str) -> str:
    """A number as the record writes it (khasra ``45//12``): the language's digits, read
    left to right."""
    return isolate(digits(text, lang), lang)


def number(x: float, lang: str, places: int = 0) -> str:
    """``1,234.5`` / ``۱٬۲۳۴٫۵``: grouped, ``places`` decimals, the language's signs."""
    text = f"{x:,.{places}f}"
    conv = language(lang)
    text = text.replace(",", "\0").replace(".", conv.decimal).replace("\0", conv.group)
    return digits(text, lang)


def percent(share: float, lang: str) -> str:
    """``88%`` / ``۸۸%`` of a share in [0, 1], rounded to whole percent."""
    return language(lang).percent.format(n=number(100 * share, lang))


def fraction(value: Fraction | str, lang: str) -> str:
    """A share as the record writes it (``1/3``), in the language's digits."""
    return record_number(str(value), lang)


def day_month(day: date, lang: str) -> str:
    """``5 Mar`` / ``۵ مارچ``."""
    conv = language(lang)
    return conv.day_month.format(day=digits(str(day.day), lang), month=conv.months[day.month - 1])


def long_date(day: date, lang: str) -> str:
    """``5 Mar 2026`` / ``۵ مارچ، ۲۰۲۶`` (CLDR ``d MMMM، y`` for Urdu)."""
    conv = language(lang)
    return conv.date.format(
        day=digits(str(day.day), lang),
        month=conv.months[day.month - 1],
        year=digits(str(day.year), lang),
    )


def localise(value: Any, lang: str) -> str:
    """A placeholder's value in ``lang``: a date as :func:`long_date`, a whole number or
    a float as :func:`number` (floats with two decimals), a fraction as the record writes
    it; text (names, already formatted numbers) unchanged."""
    if isinstance(value, date):
        return long_date(value, lang)
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return number(value, lang)
    if isinstance(value, float):
        return number(value, lang, 2)
    if isinstance(value, Fraction):
        return fraction(value, lang)
    return str(value)
