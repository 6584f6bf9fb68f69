"""The evidence behind one advisory, for a farmer: a sentence and a chart.

The advisory's own text (``text_ur``/``text_en``, from the service's templates) says what
to do; the evidence here says what was measured, with dates and units, in the reader's
language from the dashboard's catalogue, and draws it:

- crop health, late sowing, early drying, too few clear looks: the parcel's greenness
  (NDVI) over the season, clear looks only, with the nearby parcels' middle value on the
  day it was judged, or the two green-up (drying) dates side by side;
- water stress: the canopy moisture (NDMI) over the season and what equally green
  parcels held on the day;
- yield outlook: two bars, the parcel's expected yield and the district's average, in
  maunds per acre.

Charts are Vega-Lite (Altair), drawn as SVG so the Urdu labels take the page's Nastaliq
font once it has loaded. The x axis is the day of the season, a plain number: the
labels on both axes are written by :mod:`app.shared.i18n` and looked up by the axis's
label expression, so they follow the language's digits and month names, not the
browser's locale (nor its time zone). Pure functions: no Streamlit, no database.
"""

from __future__ import annotations

import json
import math
from datetime import date
from typing import Any, Final

import altair as alt
import pandas as pd

from app.shared import i18n
from landgov.advisories.texts import crop_name

THIS_COLOR: Final = "#1f6fb4"
PEER_COLOR: Final = "#e07b00"
HEIGHT: Final = 200
AXIS_TITLES: Final = {"ndvi": "farmer.chart.ndvi", "ndmi": "farmer.chart.ndmi"}


def index_of(kind: str) -> str:
    """The vegetation index an advisory's chart draws: moisture for water stress,
    greenness otherwise."""
    return "ndmi" if kind == "water_stress" else "ndvi"


def _day(value: Any) -> date | None:
    return None if value is None else date.fromisoformat(str(value)[:10])


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


def sentence(a: dict[str, Any], lang: str) -> str:
    """What was measured, in one sentence of ``lang``; an advisory whose evidence lacks
    a number it needs gets the general sentence (never a "None" on the page)."""
    _ = i18n.Words(lang)
    e: dict[str, Any] = a.get("evidence") or {}
    crop = crop_name(str(a.get("crop") or "other"), lang)
    kind = str(a["kind"])
    try:
        if kind == "crop_health":
            return _("farmer.evidence.crop_health", date=_need(_day(e.get("date"))),
                     ndvi=_need(_num(e.get("ndvi"))), peers=int(e["peers"]), crop=crop,
                     peers_ndvi=_need(_num(e.get("peers_median_ndvi"))))  # fmt: skip
        if kind == "water_stress":
            return _("farmer.evidence.water_stress", date=_need(_day(e.get("date"))),
                     now=_need(_num(e.get("ndmi_now"))), peers=int(e["peers"]), crop=crop,
                     expected=_need(_num(e.get("ndmi_expected"))))  # fmt: skip
        if kind == "late_sowing":
            return _("farmer.evidence.late_sowing", greenup=_need(_day(e.get("greenup"))),
                     peers_greenup=_need(_day(e.get("peers_median_greenup"))),
                     peers=int(e["peers"]), crop=crop, days=int(e["days_late"]))  # fmt: skip
        if kind == "early_senescence":
            return _("farmer.evidence.early_senescence", end=_need(_day(e.get("end"))),
                     peers_end=_need(_day(e.get("peers_median_end"))),
                     peers=int(e["peers"]), crop=crop, days=int(e["days_early"]))  # fmt: skip
        if kind == "yield_outlook":
            return _("farmer.evidence.yield_outlook", crop=crop,
                     md=i18n.number(float(e["maunds_per_acre"]), lang, 1),
                     dmd=i18n.number(float(e["district_maunds_per_acre"]), lang, 1),
                     tha=_need(_num(e.get("t_ha"))))  # fmt: skip
        if kind == "insufficient_imagery":
            return _("farmer.evidence.insufficient_imagery", clear=int(e["clear"]),
                     n=int(e["observations"]), recent=int(e["clear_recent"]),
                     days=int(e["recent_days"]))  # fmt: skip
    except (KeyError, TypeError, ValueError):
        pass
    return _("farmer.evidence.general")


def _need(value: Any) -> Any:
    if value is None:
        raise ValueError("missing evidence")
    return value


# --- charts ------------------------------------------------------------------------------


def _label_expr(labels: dict[str, str]) -> str:
    """A Vega expression writing each tick's value as ``labels`` says (keyed by the
    value as JavaScript writes a number); a value without a label is left blank."""
    return f"({json.dumps(labels, ensure_ascii=False)})[''+datum.value] || ''"


def month_ticks(first: date, last: date) -> list[date]:
    """The first day of each month from ``first`` to ``last``."""
    out = []
    y, m = first.year, first.month
    while date(y, m, 1) <= last:
        if date(y, m, 1) >= first:
            out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def value_ticks(lo: float, hi: float, step: float = 0.2) -> list[float]:
    """Round tick values covering [lo, hi] every ``step``."""
    start = math.floor(lo / step) * step
    n = math.ceil((hi - start) / step - 1e-9)
    return [round(start + i * step, 6) for i in range(n + 1)]


def _number_labels(values: list[float], lang: str, places: int) -> dict[str, str]:
    # Vega writes a number as JavaScript does: 0.2 -> "0.2", 1 -> "1", -0.2 -> "-0.2"
    def js(v: float) -> str:
        return str(int(v)) if float(v).is_integer() else repr(float(v))

    return {js(v): i18n.number(v, lang, places) for v in values}


def _config(chart: alt.TopLevelMixin, lang: str) -> Any:
    font = "Noto Nastaliq Urdu" if i18n.rtl(lang) else "Source Sans, sans-serif"
    return (
        chart.configure(font=font)
        .configure_axis(labelFontSize=12, titleFontSize=12, grid=True, gridOpacity=0.4)
        .configure_legend(orient="bottom", labelFontSize=12, title=None, symbolSize=80)
        .configure_view(stroke=None)
        .properties(usermeta={"embedOptions": {"renderer": "svg"}})
    )


def chart(a: dict[str, Any], series: pd.DataFrame, season: tuple[date, date], lang: str) -> Any:
    """The chart of advisory ``a`` (an Altair chart), or None when there is nothing to
    draw. ``series``: the parcel's clear looks of the season (index ``date``, one column,
    :func:`index_of` the advisory's kind); ``season``: its first and last day."""
    _ = i18n.Words(lang)
    e: dict[str, Any] = a.get("evidence") or {}
    kind = str(a["kind"])
    if kind == "yield_outlook":
        return _yield_chart(e, lang)
    index = index_of(kind)
    if series.empty:
        return None
    this = _("farmer.chart.this_parcel")
    # x: the day of the season (a number), labelled with the first of each month: the
    # labels are written here, in the reader's digits and month names
    first = season[0]
    points = pd.DataFrame(
        {
            "day": [(d - first).days for d in series.index],
            "value": series[index].to_numpy(dtype=float),
            "who": this,
        }
    )
    refs: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    peers = _("farmer.chart.nearby")
    judged = _day(e.get("date"))
    if kind == "crop_health" and judged and e.get("peers_median_ndvi") is not None:
        refs.append({"day": (judged - first).days, "value": float(e["peers_median_ndvi"]),
                     "who": peers})  # fmt: skip
    if kind == "water_stress" and judged and e.get("ndmi_expected") is not None:
        peers = _("farmer.chart.expected")
        refs.append({"day": (judged - first).days, "value": float(e["ndmi_expected"]),
                     "who": peers})  # fmt: skip
    marks = {"late_sowing": ("greenup", "peers_median_greenup"),
             "early_senescence": ("end", "peers_median_end")}  # fmt: skip
    if kind in marks:
        mine, theirs = marks[kind]
        for key, who in ((mine, this), (theirs, peers)):
            day = _day(e.get(key))
            if day is not None:
                rules.append({"day": (day - first).days, "who": who})
    values = [*points["value"], *(r["value"] for r in refs)]
    lo, hi = min(0.0, min(values)), max(0.8, max(values))
    y_ticks = value_ticks(lo, hi)
    x_ticks = month_ticks(*season)
    x = alt.X(
        "day:Q",
        title=None,
        scale=alt.Scale(domain=[0, (season[1] - first).days], nice=False),
        axis=alt.Axis(
            values=[(d - first).days for d in x_ticks],
            labelExpr=_label_expr(
                {str((d - first).days): i18n.day_month(d, lang) for d in x_ticks}
            ),
            labelAngle=0,
            labelOverlap=True,
        ),
    )
    y = alt.Y(
        "value:Q",
        title=_(AXIS_TITLES[index]),
        scale=alt.Scale(domain=[y_ticks[0], y_ticks[-1]]),
        axis=alt.Axis(values=y_ticks, labelExpr=_label_expr(_number_labels(y_ticks, lang, 1))),
    )
    color = alt.Color(
        "who:N",
        scale=alt.Scale(domain=[this, peers], range=[THIS_COLOR, PEER_COLOR]),
        legend=alt.Legend(title=None),
    )
    layers: list[Any] = [
        alt.Chart(points).mark_line(point=True, strokeWidth=2).encode(x=x, y=y, color=color)
    ]
    if refs:
        layers.append(
            alt.Chart(pd.DataFrame(refs))
            .mark_point(shape="diamond", size=140, filled=True)
            .encode(x=x, y=y, color=color)
        )
    if rules:
        layers.append(
            alt.Chart(pd.DataFrame(rules))
            .mark_rule(strokeDash=[5, 3], strokeWidth=2)
            .encode(x=x, color=color)
        )
    return _config(alt.layer(*layers).properties(height=HEIGHT, width="container"), lang)


def _yield_chart(e: dict[str, Any], lang: str) -> Any:
    _ = i18n.Words(lang)
    if e.get("maunds_per_acre") is None or e.get("district_maunds_per_acre") is None:
        return None
    this, district = _("farmer.chart.this_parcel"), _("farmer.chart.district")
    bars = pd.DataFrame(
        {
            "who": [this, district],
            "value": [float(e["maunds_per_acre"]), float(e["district_maunds_per_acre"])],
        }
    )
    bars["label"] = [i18n.number(v, lang, 1) for v in bars["value"]]
    top = max(bars["value"]) * 1.2
    ticks = value_ticks(0, top, step=10 if top > 30 else 5)
    y = alt.Y(
        "value:Q",
        title=_("farmer.chart.maunds"),
        scale=alt.Scale(domain=[0, ticks[-1]]),
        axis=alt.Axis(values=ticks, labelExpr=_label_expr(_number_labels(ticks, lang, 0))),
    )
    x = alt.X("who:N", title=None, sort=[this, district], axis=alt.Axis(labelAngle=0))
    color = alt.Color(
        "who:N", scale=alt.Scale(domain=[this, district], range=[THIS_COLOR, PEER_COLOR]),
        legend=None,
    )  # fmt: skip
    base = alt.Chart(bars).encode(x=x, y=y)
    chart = base.mark_bar(size=48).encode(color=color) + base.mark_text(dy=-8).encode(
        text="label:N"
    )
    return _config(chart.properties(height=HEIGHT, width="container"), lang)
