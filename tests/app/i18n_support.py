"""What a page shows, as words a reader sees (AppTest): every title, text, label, option,
table cell and chart word, and which of them are in another script than the page's
language. Used by every test that checks a page speaks Urdu or English throughout."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

from streamlit.testing.v1 import AppTest

from app.shared import i18n

LATIN = re.compile(r"[A-Za-z]")
ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def _plain(value: str) -> str:
    """Markdown/HTML as read: tags, emphasis marks, icons (``:material/info:``) and
    colour directives (``:blue[...]``) gone."""
    parser = _Text()
    parser.feed(value)
    shown = " ".join(parser.parts).replace("**", " ").replace("#", " ")
    shown = re.sub(r":material/[a-z_]+:", " ", shown)
    return re.sub(r":(?:red|orange|yellow|blue|green|violet|gray|grey|primary)\[", " ", shown)


def bare(shown: str) -> str:
    """``shown`` without the invisible isolates that keep record numbers left to right."""
    return shown.replace(i18n.LRI, "").replace(i18n.PDI, "")


def visible_texts(at: AppTest) -> list[str]:
    """Every word the page shows: titles, text, captions, alerts, widget labels,
    placeholders and options, expander labels, table headings and cells, chart titles.
    The language switch's options are left out: each language is named in itself."""
    out: list[str] = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning",
                 "error", "success"):  # fmt: skip
        out += [_plain(str(el.value)) for el in getattr(at, kind)]
    for widget in (*at.text_input, *at.button, *at.selectbox, *at.expander):
        out.append(str(widget.label))
    out += [str(w.placeholder) for w in at.text_input if w.placeholder]
    for box in at.selectbox:
        out += [str(o) for o in box.options]
    for group in at.button_group:
        out.append(str(group.proto.label))
    out += [str(link.proto.label) for link in at.get("page_link")]
    for frame in at.dataframe:
        out += [str(c) for c in frame.value.columns]
        out += [str(v) for v in frame.value.to_numpy().ravel()]
    for chart in at.get("vega_lite_chart"):
        out += chart_words(chart.proto.spec)
    return [t for t in out if t.strip()]


def chart_words(spec: str) -> list[str]:
    """Axis titles, legend entries and axis labels a chart will draw."""
    words: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "title" and isinstance(value, str):
                    words.append(value)
                elif key == "labelExpr" and isinstance(value, str):
                    found = re.search(r"\((\{.*\})\)", value)
                    if found:
                        words.extend(json.loads(found.group(1)).values())
                elif key == "domain" and isinstance(value, list):
                    words.extend(v for v in value if isinstance(v, str))
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(json.loads(spec))
    return words


def untranslated(at: AppTest, lang: str) -> list[str]:
    """Visible texts written in another script than ``lang``'s: Latin letters on an Urdu
    page, Arabic-script letters on an English one (data the record holds only in one
    script would show here too: the seeded farmer has Urdu names)."""
    script = LATIN if i18n.rtl(lang) else ARABIC_SCRIPT
    return [t for t in visible_texts(at) if script.search(t)]
