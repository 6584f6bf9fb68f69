"""The Disputes page's data: cached calls of :mod:`landgov.disputes.cases` and the pure
helpers that turn a case into tables and map layers.

Kept apart from the other pages' data so the case workflow can change without touching the
parcel and mutation pages. As there, every cached function takes the database URL first,
and the helpers make no Streamlit calls (tests use them directly). After a workflow step
:func:`forget` drops the cached queues and cases, so the page shows the new status.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pandas as pd
import streamlit as st
from shapely.geometry import shape

from app.shared import data as shared
from app.shared import i18n
from app.shared.selection import SelectedKhasra
from app.views.cases import evidence
from imagery.picture import Markers, Overlay, Polygons
from landgov.disputes.evidence import khasra_labels, khasra_numbers, mask_cnics

RGBA = tuple[int, int, int, int]

# the page's widget keys and map layer ids (here, so tests can name them)
STATUS_KEY: Final = "case_statuses"
CASE_KEY: Final = "case_id"
CASE_PARAM: Final = "case"
"""The query parameter naming the open case: ``/disputes?case=12`` is that case's address."""
TABLE_KEY: Final = "case_table"
OUTCOME_KEY: Final = "case_outcome"
FLAG_LAYER_ID: Final = "case_flags"
FLAG_MARKER_LAYER_ID: Final = "case_flag_markers"
PARCEL_LAYER_ID: Final = "case_parcels"
SELECTED_LAYER_ID: Final = "case_selected"
SELECTED_LINE_PX: Final = 5
"""Outline of the khasra selected on another page, when it is one of the case's: wider
than the subject's yellow, in the Parcels map's selection cyan, so it reads as "this one"."""
SELECTED_OUTLINE: Final = (0, 229, 255, 255)

FLAG_MIN_LINE_PX: Final = 3
"""On-screen width of a flag polygon's outline, whatever the zoom: a 2 m gap at a view of
a few hundred metres is under a pixel wide, its outline in its rule colour keeps it in
sight."""
FLAG_MARKER_PX: Final = 14
"""Radius of the ring marking each flag (at its representative point), whatever the zoom,
so even a flag of 1 m² is found at a glance."""
FLAG_MARKER_LINE_PX: Final = 3
PARCEL_LINE_PX: Final = 3
MIN_VIEW_M: Final = 60.35
"""Least extent of the case map's first view on its flags, in metres: a killa's side
(198 ft), so a flag a few metres across shows with the fields around it."""

RULE_COLORS: Final[MappingProxyType[str, RGBA]] = MappingProxyType(
    {
        "overlap": (230, 40, 40, 170),  # red: the same ground recorded twice
        "gap": (40, 110, 240, 160),  # blue: land in no khasra
        "sliver": (0, 200, 220, 170),  # cyan: a thin unrecorded strip
        "private_on_state_land": (200, 0, 200, 170),  # magenta: encroachment
        "structure_on_state_land": (255, 120, 0, 190),  # orange: a new structure
        "tatima_area_mismatch": (240, 200, 0, 150),  # yellow
    }
)
"""Fill of each flag geometry by rule, so overlaps, gaps and encroachments read apart."""

OTHER_RULE_COLOR: Final[RGBA] = (120, 120, 120, 150)
SUBJECT_FILL: Final[RGBA] = (255, 255, 255, 40)
SUBJECT_OUTLINE: Final[RGBA] = (255, 230, 0, 255)
FLAGGED_OUTLINE: Final[RGBA] = (255, 140, 0, 255)
STATE_LAND_FILL: Final[RGBA] = (150, 95, 195, 70)

QUEUE_COLUMNS: Final = [
    "Case",
    "Risk",
    "Status",
    "Mouza",
    "Subject",
    "Open flags",
    "Opened",
    "Decide by",
    "Overdue",
    "Rules",  # last: the titles are long, the dates must stay in sight
]


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def queue(
    url: str, mouza_ids: tuple[int, ...], statuses: tuple[str, ...], on: date
) -> list[dict[str, Any]]:
    """:func:`landgov.disputes.cases.case_queue` of the mouzas ``mouza_ids``, riskiest
    first (none for no mouza)."""
    from landgov.disputes.cases import case_queue

    if not mouza_ids:
        return []
    with shared.engine(url).connect() as conn:
        return case_queue(conn, mouza_ids=mouza_ids, statuses=statuses, on=on)


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner="Loading the case…")
def detail(url: str, case_id: int, today: date) -> dict[str, Any]:
    """:func:`landgov.disputes.cases.case_detail`."""
    from landgov.disputes.cases import case_detail

    with shared.engine(url).connect() as conn:
        return case_detail(conn, case_id, today=today)


def find_case(
    url: str, case_id: int, mouza_ids: tuple[int, ...] | None, on: date
) -> dict[str, Any] | None:
    """The queue row of case ``case_id`` whatever its status, if it is in the mouzas
    ``mouza_ids`` (None: any mouza); None otherwise. For a case opened by its address
    (``?case=12``): it shows only where the actor's queue could have shown it."""
    if mouza_ids is not None and not mouza_ids:
        return None
    from landgov.disputes.cases import case_queue

    with shared.engine(url).connect() as conn:
        rows = case_queue(conn, mouza_ids=mouza_ids, on=on)
    return next((r for r in rows if int(r["id"]) == case_id), None)


def forget() -> None:
    """Drops the cached queues and cases (after a review, confirmation, dismissal...)."""
    queue.clear()
    detail.clear()


# --- pure helpers ---------------------------------------------------------------------


STATUSES: Final = MappingProxyType(
    {
        "open": "cases.status_word.open",
        "under_review": "cases.status_word.under_review",
        "confirmed": "cases.status_word.confirmed",
        "dismissed": "cases.status_word.dismissed",
        "referred": "cases.status_word.referred",
    }
)
"""A case's status in words (``under review``), by its code."""

SUBJECTS: Final = MappingProxyType(
    {
        "khasra": "cases.subject.khasra",
        "khewat": "cases.subject.khewat",
        "jamabandi": "cases.subject.jamabandi",
    }
)
"""The kind of record a case is about, as its label starts (``khasra 12//3``)."""

RULE_TEXTS: Final = MappingProxyType(
    {
        "area_mismatch": ("cases.rule.area_mismatch.title", "cases.rule.area_mismatch.explain"),
        "backdated_action": (
            "cases.rule.backdated_action.title", "cases.rule.backdated_action.explain"),
        "deeds_short_window": (
            "cases.rule.deeds_short_window.title", "cases.rule.deeds_short_window.explain"),
        "faraid_shares_differ": (
            "cases.rule.faraid_shares_differ.title", "cases.rule.faraid_shares_differ.explain"),
        "gap": ("cases.rule.gap.title", "cases.rule.gap.explain"),
        "gift_before_death": (
            "cases.rule.gift_before_death.title", "cases.rule.gift_before_death.explain"),
        "girdawari_vs_satellite": (
            "cases.rule.girdawari_vs_satellite.title",
            "cases.rule.girdawari_vs_satellite.explain"),
        "imported_decision_unchecked": (
            "cases.rule.imported_decision_unchecked.title",
            "cases.rule.imported_decision_unchecked.explain"),
        "officer_outside_jurisdiction": (
            "cases.rule.officer_outside_jurisdiction.title",
            "cases.rule.officer_outside_jurisdiction.explain"),
        "omitted_heir": ("cases.rule.omitted_heir.title", "cases.rule.omitted_heir.explain"),
        "orphan_khasra": ("cases.rule.orphan_khasra.title", "cases.rule.orphan_khasra.explain"),
        "overlap": ("cases.rule.overlap.title", "cases.rule.overlap.explain"),
        "private_on_state_land": (
            "cases.rule.private_on_state_land.title",
            "cases.rule.private_on_state_land.explain"),
        "sale_after_death": (
            "cases.rule.sale_after_death.title", "cases.rule.sale_after_death.explain"),
        "same_day_sanction": (
            "cases.rule.same_day_sanction.title", "cases.rule.same_day_sanction.explain"),
        "sanction_volume_spike": (
            "cases.rule.sanction_volume_spike.title",
            "cases.rule.sanction_volume_spike.explain"),
        "share_total_not_one": (
            "cases.rule.share_total_not_one.title", "cases.rule.share_total_not_one.explain"),
        "shares_differ_from_register": (
            "cases.rule.shares_differ_from_register.title",
            "cases.rule.shares_differ_from_register.explain"),
        "sliver": ("cases.rule.sliver.title", "cases.rule.sliver.explain"),
        "stale_pending_mutation": (
            "cases.rule.stale_pending_mutation.title",
            "cases.rule.stale_pending_mutation.explain"),
        "statutory_value_misstated": (
            "cases.rule.statutory_value_misstated.title",
            "cases.rule.statutory_value_misstated.explain"),
        "structure_on_state_land": (
            "cases.rule.structure_on_state_land.title",
            "cases.rule.structure_on_state_land.explain"),
        "tatima_area_mismatch": (
            "cases.rule.tatima_area_mismatch.title", "cases.rule.tatima_area_mismatch.explain"),
        "transfer_exceeds_holding": (
            "cases.rule.transfer_exceeds_holding.title",
            "cases.rule.transfer_exceeds_holding.explain"),
        "transfer_without_deed": (
            "cases.rule.transfer_without_deed.title", "cases.rule.transfer_without_deed.explain"),
        "unattested_jamabandi": (
            "cases.rule.unattested_jamabandi.title", "cases.rule.unattested_jamabandi.explain"),
        "under_declared_price": (
            "cases.rule.under_declared_price.title", "cases.rule.under_declared_price.explain"),
    }
)  # fmt: skip
"""Each dispute rule's title and explanation in the catalogue, by rule code. The English
is ``dispute_rule``'s own ``title_en``/``explain_en`` (a test holds them equal, and finds
every rule of the table here), so the page, the command line and the table agree."""

SEVERITIES: Final = {
    "low": "cases.severity.low",
    "medium": "cases.severity.medium",
    "high": "cases.severity.high",
    "critical": "cases.severity.critical",
}
"""A rule's severity in words."""

ACTIONS: Final = MappingProxyType(
    {
        "open dispute case": "cases.action.open",
        "dispute case review": "cases.action.review",
        "dispute case confirm": "cases.action.confirm",
        "dispute case dismiss": "cases.action.dismiss",
        "dispute case refer": "cases.action.refer",
        "dispute case reopen": "cases.action.reopen",
    }
)
"""The audit log's actions on a case, in words (another action shows as recorded)."""

COLUMNS: Final = MappingProxyType(
    {
        "Case": "cases.col.case",
        "Risk": "cases.col.risk",
        "Status": "cases.col.status",
        "Mouza": "cases.col.mouza",
        "Subject": "cases.col.subject",
        "Open flags": "cases.col.open_flags",
        "Opened": "cases.col.opened",
        "Decide by": "cases.col.decide_by",
        "Overdue": "cases.col.overdue",
        "Rules": "cases.col.rules",
        "Rule": "cases.col.rule",
        "Severity": "cases.col.severity",
        "Flags": "cases.col.flags",
        "Points": "cases.col.points",
        "Mutation": "cases.col.mutation",
        "Type": "cases.col.type",
        "Entered": "cases.col.entered",
        "Decided": "cases.col.decided",
        "Deed": "cases.col.deed",
        "Officer": "cases.col.officer",
        "Date": "cases.col.date",
        "Khewat": "cases.col.khewat",
        "Khasras": "cases.col.khasras",
        "Transfer": "cases.col.transfer",
        "Flagged": "cases.col.flagged",
        "Seq": "cases.col.seq",
        "When": "cases.col.when",
        "Action": "cases.col.action",
        "By": "cases.col.by",
        "Change": "cases.col.change",
        "Reason / note": "cases.col.reason",
    }
)
"""Every table heading of the page by its English name (what code and tests refer to)."""


def headed(frame: pd.DataFrame, lang: str) -> pd.DataFrame:
    """``frame`` with its headings in ``lang`` (the English names stay in code)."""
    if lang == i18n.DEFAULT:
        return frame
    return frame.rename(columns={c: i18n.t(COLUMNS[c], lang) for c in frame.columns})


def places(x: Any) -> int:
    """Decimals a risk or a score needs: none for a whole number, else one."""
    return 0 if float(x) % 1 == 0 else 1


def status_label(status: str, lang: str = i18n.DEFAULT) -> str:
    """A case status in words: ``under review``."""
    return shared.coded(dict(STATUSES), status, lang)


def rule_text(rule: str, lang: str = i18n.DEFAULT) -> tuple[str, str]:
    """A rule's title and explanation in ``lang``; a rule the catalogue does not know
    (added to ``dispute_rule`` since) shows its id, never nothing."""
    keys = RULE_TEXTS.get(rule)
    if keys is None:
        return rule, ""
    return i18n.t(keys[0], lang), i18n.t(keys[1], lang)


def rule_titles(rule_ids: Iterable[str], lang: str = i18n.DEFAULT) -> str:
    """The rules' titles (``Parcels overlap; Gap between parcels``), never their ids."""
    return i18n.t("cases.list_sep", lang).join(rule_text(r, lang)[0] for r in rule_ids)


def subject_text(label: str, lang: str = i18n.DEFAULT) -> str:
    """A case's subject as the service labels it (``khasra 12//3``) in ``lang``: the kind
    of record in words, its number as the register writes it; a state land by its name."""
    kind, _, number = label.partition(" ")
    key = SUBJECTS.get(kind)
    if key is None or not number:
        return label
    return i18n.t(key, lang, number=i18n.record_number(number, lang))


def _day(value: Any, lang: str) -> str:
    if value is None:
        return ""
    day = value.date() if hasattr(value, "date") and callable(value.date) else value
    return shared.register_date(day, lang)


def queue_table(rows: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The queue as the page shows it (one row per case, in the given order); the rules
    by their titles, headings and words in ``lang``."""
    out = [
        {
            "Case": int(r["id"]),
            "Risk": float(r["risk"]),
            "Status": status_label(str(r["status"]), lang),
            "Mouza": r["mouza"],
            "Subject": subject_text(str(r["subject_label"]), lang),
            "Open flags": int(r["open_flags"]),
            "Rules": rule_titles(r["rules"], lang),
            "Opened": _day(r["opened_at"], lang),
            "Decide by": _day(r["decide_by"], lang),
            "Overdue": bool(r["overdue"]),
        }
        for r in rows
    ]
    return headed(pd.DataFrame(out, columns=QUEUE_COLUMNS), lang)


def case_choice(row: dict[str, Any], lang: str = i18n.DEFAULT) -> str:
    """``No. 12 · risk 40 · khewat 47, Kot Pindi Das · open``."""
    return i18n.t(
        "cases.choice",
        lang,
        case=i18n.record_number(str(row["id"]), lang),
        risk=i18n.number(float(row["risk"]), lang, places(row["risk"])),
        subject=subject_text(str(row["subject_label"]), lang),
        mouza=row["mouza"],
        status=status_label(str(row["status"]), lang),
    )


BREAKDOWN_COLUMNS: Final = ["Rule", "Severity", "Flags", "Points"]


def breakdown_table(risk: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The risk score by rule: the rule's title, its severity, flags and points."""
    return headed(
        pd.DataFrame(
            [
                {
                    "Rule": rule_text(str(b["rule"]), lang)[0],
                    "Severity": shared.coded(SEVERITIES, str(b["severity"]), lang),
                    "Flags": int(b["flags"]),
                    "Points": float(b["points"]),
                }
                for b in risk
            ],
            columns=BREAKDOWN_COLUMNS,
        ),
        lang,
    )


def _image(side: dict[str, Any] | None, home: Path, which: str, lang: str) -> dict[str, Any] | None:
    """One image chip of a flag: its file (None if it is missing) and a caption with the
    scene's date and sensor."""
    from landgov.disputes.cases import evidence_file

    if side is None or not side.get("chip"):
        return None
    when = side.get("on")
    caption = which
    if isinstance(when, date):
        caption = i18n.t("cases.image_on", lang, image=which, date=shared.register_date(when, lang))
    if side.get("sensor"):
        sensor = str(side["sensor"])
        sensor = i18n.t(SENSORS[sensor], lang) if sensor in SENSORS else sensor
        caption = i18n.t("cases.image_by", lang, image=caption, sensor=sensor)
    return {"path": evidence_file(side["chip"], home), "caption": caption, "chip": side["chip"]}


SENSORS: Final = {"orthophoto": "cases.sensor.orthophoto", "sentinel-2": "cases.sensor.sentinel"}
RECORDS: Final = (
    ("khasra_no", "cases.record.khasra"),
    ("khewat_no", "cases.record.khewat"),
    ("mutation_no", "cases.record.mutation"),
)
"""The record a flag names, by the field holding its number."""


def flag_evidence(
    detail: dict[str, Any], home: Path, lang: str = i18n.DEFAULT
) -> list[dict[str, Any]]:
    """Each flag of a case as the page shows it in ``lang``: ``id, title, severity,
    resolved, measure`` (with its unit: :func:`landgov.disputes.evidence.measure_text`),
    ``facts`` (labelled evidence, :func:`landgov.disputes.evidence.facts`), ``record``
    (the khasra, khewat and mutation it names, as the register numbers them) and
    ``images`` (the before and after chips of an encroachment, files under ``home``)."""
    labels = khasra_labels(detail["parcels"])
    out = []
    for f in detail["flags"]:
        record = [
            i18n.t(key, lang, number=i18n.record_number(str(f[field]), lang))
            for field, key in RECORDS
            if f.get(field) is not None
        ]
        images = f.get("images") or {}
        chips = [
            _image(images.get("before"), home, i18n.t("cases.before", lang), lang),
            _image(images.get("after"), home, i18n.t("cases.after", lang), lang),
        ]
        out.append(
            {
                "id": int(f["id"]),
                "rule": f["rule"],
                "title": rule_text(str(f["rule"]), lang)[0],
                "severity": f["severity"],
                "resolved": bool(f["resolved"]),
                "measure": evidence.measure_text(f["rule"], f["measure"], f["threshold"], lang),
                "facts": evidence.facts(f["rule"], f["evidence"], khasra_numbers(f, labels), lang),
                "record": record,
                "images": [c for c in chips if c is not None],
            }
        )
    return out


def _rings(geojson: dict[str, Any]) -> list[list[list[list[float]]]]:
    """Each polygon of a GeoJSON Polygon or MultiPolygon as pydeck's ring list."""
    if geojson["type"] == "Polygon":
        polygons = [geojson["coordinates"]]
    elif geojson["type"] == "MultiPolygon":
        polygons = geojson["coordinates"]
    else:
        return []
    return [
        [[[round(x, 7), round(y, 7)] for x, y, *_ in ring] for ring in poly] for poly in polygons
    ]


def rule_color(rule: str) -> RGBA:
    """The fill of a flag of ``rule`` (:data:`RULE_COLORS`, grey for the others)."""
    return RULE_COLORS.get(rule, OTHER_RULE_COLOR)


def mapped_flags(flags: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The flags the case map draws: those with a geometry, unresolved (a resolved flag
    is no longer on the ground)."""
    return [f for f in flags if f["geojson"] is not None and not f["resolved"]]


def _flag_tooltip(f: dict[str, Any], lang: str) -> dict[str, str]:
    severity = shared.coded(SEVERITIES, str(f["severity"]), lang)
    measure = evidence.measure_text(f["rule"], f.get("measure"), f.get("threshold"), lang)
    shown = (measure, i18n.t("cases.severity_of", lang, level=severity))
    return {
        "label": rule_text(str(f["rule"]), lang)[0],
        "detail": " · ".join(x for x in shown if x),
    }


def flag_polygons(flags: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The flags' geometries (overlaps, gaps, encroachments) for a pydeck PolygonLayer.

    Columns ``label`` and ``detail`` (the tooltip), ``rule``, ``fill_color`` (the rule's,
    translucent), ``line_color`` (the rule's, opaque: drawn at least
    :data:`FLAG_MIN_LINE_PX` wide, it keeps a strip thinner than a pixel visible in its
    own colour, where a dark outline read as one more boundary line), ``polygon``.
    Resolved flags are left out.
    """
    rows = []
    for f in mapped_flags(flags):
        color = rule_color(f["rule"])
        for rings in _rings(f["geojson"]):
            rows.append(
                {
                    **_flag_tooltip(f, lang),
                    "rule": f["rule"],
                    "fill_color": list(color),
                    "line_color": [*color[:3], 255],
                    "polygon": rings,
                }
            )
    return pd.DataFrame(
        rows, columns=["label", "detail", "rule", "fill_color", "line_color", "polygon"]
    )


def flag_markers(flags: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """One marker per mapped flag for a pydeck ScatterplotLayer, at a point inside its
    geometry (shapely's ``representative_point``, on the surface even for an L-shaped
    strip, where a centroid may fall on a neighbour).

    Columns ``label``, ``detail``, ``rule``, ``line_color`` (the rule's, opaque),
    ``position`` ([lon, lat]).
    """
    rows = []
    for f in mapped_flags(flags):
        geom = shape(f["geojson"])
        if geom.is_empty:
            continue
        point = geom.representative_point()
        rows.append(
            {
                **_flag_tooltip(f, lang),
                "rule": f["rule"],
                "line_color": [*rule_color(f["rule"])[:3], 255],
                "position": [round(point.x, 7), round(point.y, 7)],
            }
        )
    return pd.DataFrame(rows, columns=["label", "detail", "rule", "line_color", "position"])


def parcel_polygons(parcels: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The subject's parcels (and the other khasras flags name) for a PolygonLayer.

    Columns ``label``, ``detail``, ``role``, ``fill_color``, ``line_color``, ``polygon``.
    """
    rows = []
    for p in parcels:
        if p["geojson"] is None:
            continue
        subject = p["role"] == "subject"
        fill = STATE_LAND_FILL if p["kind"] == "state_land" else SUBJECT_FILL
        for rings in _rings(p["geojson"]):
            rows.append(
                {
                    "label": subject_text(str(p["label"]), lang),
                    "detail": i18n.t("cases.map.subject" if subject else "cases.map.flagged", lang),
                    "role": p["role"],
                    "fill_color": list(fill if subject else (0, 0, 0, 0)),
                    "line_color": list(SUBJECT_OUTLINE if subject else FLAGGED_OUTLINE),
                    "polygon": rings,
                }
            )
    return pd.DataFrame(
        rows, columns=["label", "detail", "role", "fill_color", "line_color", "polygon"]
    )


def selected_polygons(
    parcels: Sequence[dict[str, Any]], chosen: SelectedKhasra | None, lang: str = i18n.DEFAULT
) -> pd.DataFrame:
    """The khasra selected elsewhere (:mod:`app.shared.selection`) when it is one of the
    case's parcels, outlined for a PolygonLayer (no fill: the case's own colours stay);
    empty when nothing is selected or the selection is not in the case."""
    rows = []
    for p in parcels:
        if chosen is None or p["kind"] != "khasra" or int(p["id"]) != chosen.khasra_id:
            continue
        if p["geojson"] is None:
            continue
        for rings in _rings(p["geojson"]):
            rows.append(
                {
                    "label": subject_text(str(p["label"]), lang),
                    "detail": i18n.t("cases.map.selected", lang),
                    "fill_color": [0, 0, 0, 0],
                    "line_color": list(SELECTED_OUTLINE),
                    "polygon": rings,
                }
            )
    return pd.DataFrame(rows, columns=["label", "detail", "fill_color", "line_color", "polygon"])


def _rgba(colour: Sequence[int]) -> tuple[int, int, int, int]:
    r, g, b, a = (int(c) for c in colour)
    return (r, g, b, a)


def picture_overlays(
    parcels: pd.DataFrame, picked: pd.DataFrame, flags: pd.DataFrame, markers: pd.DataFrame
) -> tuple[Overlay, ...]:
    """The case map drawn as a picture (:mod:`imagery.picture`), as the interactive map
    draws it: the case's parcels (:func:`parcel_polygons`), the selected khasra
    (:func:`selected_polygons`), the flags (:func:`flag_polygons`) with their outlines at
    least :data:`FLAG_MIN_LINE_PX` wide, and a ring round each (:func:`flag_markers`)."""
    drawn: list[Overlay] = []
    for rows, width in (
        (parcels, PARCEL_LINE_PX),
        (picked, SELECTED_LINE_PX),
        (flags, FLAG_MIN_LINE_PX),
    ):
        if len(rows):
            drawn.append(
                Polygons(
                    list(rows["polygon"]),
                    fills=[_rgba(c) for c in rows["fill_color"]],
                    outlines=[_rgba(c) for c in rows["line_color"]],
                    width_px=width,
                )
            )
    if len(markers):
        drawn.append(
            Markers(
                list(markers["position"]),
                [_rgba(c) for c in markers["line_color"]],
                radius_px=FLAG_MARKER_PX,
                width_px=FLAG_MARKER_LINE_PX,
            )
        )
    return tuple(drawn)


def case_bounds(
    geometries: Iterable[dict[str, Any] | None],
) -> tuple[float, float, float, float] | None:
    """(min lon, min lat, max lon, max lat) of the GeoJSON geometries, or None if none."""
    boxes = [shape(g).bounds for g in geometries if g is not None]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def at_least(
    bbox: tuple[float, float, float, float], metres: float = MIN_VIEW_M
) -> tuple[float, float, float, float]:
    """``bbox`` (lon/lat) grown about its centre to at least ``metres`` across each way
    (a degree of longitude shrinks by the cosine of the latitude), so that the map's view
    of a flag of a few m² does not zoom in to that flag alone."""
    x0, y0, x1, y1 = bbox
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    half_lat = metres / 2 / 111_320.0  # metres per degree of latitude
    half_lon = half_lat / max(math.cos(math.radians(cy)), 1e-6)
    return (
        min(x0, cx - half_lon),
        min(y0, cy - half_lat),
        max(x1, cx + half_lon),
        max(y1, cy + half_lat),
    )


def view_bounds(detail: dict[str, Any]) -> tuple[float, float, float, float] | None:
    """What the case map shows first: its flags' extent, at least :data:`MIN_VIEW_M`
    across (an overlap, a gap is what the officer must see, and at the extent of the
    case's parcels a 2 m gap is under a pixel wide); for a case whose flags have no
    geometry (a record area, a share total), its parcels' extent. None: nothing to map."""
    flagged = case_bounds(f["geojson"] for f in mapped_flags(detail["flags"]))
    if flagged is not None:
        return at_least(flagged)
    return case_bounds(p["geojson"] for p in detail["parcels"])


def padded(
    bbox: tuple[float, float, float, float], fraction: float = 0.5, minimum: float = 0.002
) -> tuple[float, float, float, float]:
    """``bbox`` grown on every side (at least ``minimum`` degrees, ~200 m), so the imagery
    shows the surroundings of a small parcel."""
    x0, y0, x1, y1 = bbox
    dx = max((x1 - x0) * fraction, minimum)
    dy = max((y1 - y0) * fraction, minimum)
    return x0 - dx, y0 - dy, x1 + dx, y1 + dy


def mutations_table(mutations: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The mutations the flags name: number, type, status, dates, deed, officer, and the
    rules by their titles."""

    def officer(m: dict[str, Any]) -> str:
        if m["officer_name"] is None:
            return ""
        role = str(m["officer_designation"])
        return f"{m['officer_name']} ({shared.coded(shared.ROLES, role, lang)})"

    return headed(
        pd.DataFrame(
            [
                {
                    "Mutation": i18n.record_number(str(m["number"]), lang),
                    "Type": shared.coded(shared.MUTATION_TYPES, str(m["type"]), lang),
                    "Status": shared.status_label(str(m["status"]), lang),
                    "Entered": _day(m["entered_on"], lang),
                    "Decided": _day(m["decided_on"], lang),
                    "Deed": i18n.isolate(m["deed_number"], lang) if m["deed_number"] else "",
                    "Officer": officer(m),
                    "Rules": rule_titles(m["rules"], lang),
                }
                for m in mutations
            ],
            columns=["Mutation", "Type", "Status", "Entered", "Decided", "Deed", "Officer",
                     "Rules"],
        ),
        lang,
    )  # fmt: skip


CHAIN_COLUMNS: Final = [
    "Date",
    "Mutation",
    "Type",
    "Status",
    "Khewat",
    "Khasras",
    "Transfer",
    "Flagged",
]


def chain_table(chain: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The subject khasras' mutation chain, one row per line, flagged lines marked."""
    if not chain:
        return headed(pd.DataFrame(columns=CHAIN_COLUMNS), lang)
    frame = pd.DataFrame(list(chain))
    rows = []
    sep = i18n.t("cases.list_sep", lang)
    # the khasras of a line are a list, which no pandas scalar type admits: read from the dict
    for line, rec in zip(chain, frame.itertuples(index=False), strict=True):
        rows.append(
            {
                "Date": _day(rec.event_date, lang),
                "Mutation": i18n.record_number(str(rec.number), lang),
                "Type": shared.coded(shared.MUTATION_TYPES, str(rec.type), lang),
                "Status": shared.status_label(str(rec.status), lang),
                "Khewat": i18n.record_number(str(rec.khewat_no), lang),
                "Khasras": sep.join(i18n.record_number(str(k), lang) for k in line["khasras"]),
                "Transfer": shared.transfer_text(rec, lang),
                "Flagged": bool(rec.flagged),
            }
        )
    return headed(pd.DataFrame(rows, columns=CHAIN_COLUMNS), lang)


def audit_table(audit: Sequence[dict[str, Any]], lang: str = i18n.DEFAULT) -> pd.DataFrame:
    """The case's audit rows, oldest first, CNICs masked; the actions and statuses in
    ``lang``, what an officer wrote (a reason, a note) as written."""
    rows = []
    for a in audit:
        details = dict(a["details"] or {})
        said = details.get("reason") or details.get("note") or ""
        change = ""
        if "from" in details:
            before, after = (status_label(str(details[k]), lang) for k in ("from", "to"))
            change = f"{before} → {after}"
        action = str(a["action"])
        decide_by = details.get("decide_by", "")
        rows.append(
            {
                "Seq": int(a["seq"]),
                "When": i18n.record_number(f"{a['at']:%Y-%m-%d %H:%M}", lang),
                "Action": i18n.t(ACTIONS[action], lang) if action in ACTIONS else action,
                "By": mask_cnics(str(details.get("officer") or a["actor"])),
                "Change": change,
                "Reason / note": said,
                "Decide by": i18n.record_number(str(decide_by), lang) if decide_by else "",
            }
        )
    return headed(
        pd.DataFrame(
            rows, columns=["Seq", "When", "Action", "By", "Change", "Reason / note", "Decide by"]
        ),
        lang,
    )
