"""The Disputes page's data: cached calls of :mod:`landgov.disputes.cases` and the pure
helpers that turn a case into tables and map layers.

Kept apart from the other pages' data so the case workflow can change without touching the
parcel and mutation pages. As there, every cached function takes the database URL first,
and the helpers make no Streamlit calls (tests use them directly). After a workflow step
:func:`forget` drops the cached queues and cases, so the page shows the new status.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

import pandas as pd
import streamlit as st
from shapely.geometry import shape

from app.shared import data as shared
from app.views.cases.evidence import facts, mask_cnics, measure_text

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

FLAG_MIN_LINE_PX: Final = 3
"""Least on-screen width of a flag polygon's outline: a 2 m gap at a view of a few
hundred metres is under a pixel wide, drawn in its rule colour at least this wide."""
FLAG_MARKER_PX: Final = 14
"""Radius of the ring marking each flag (at its representative point), whatever the zoom,
so even a flag of 1 m² is found at a glance."""
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


@st.cache_data(ttl=shared.CACHE_TTL_S, show_spinner=False)
def rules(url: str) -> dict[str, dict[str, Any]]:
    """Every dispute rule's titles and explanations by id
    (:func:`landgov.disputes.cases.rule_texts`)."""
    from landgov.disputes.cases import rule_texts

    with shared.engine(url).connect() as conn:
        return rule_texts(conn)


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


def status_label(status: str) -> str:
    return status.replace("_", " ")


def rule_titles(rule_ids: Iterable[str], texts: Mapping[str, Mapping[str, Any]]) -> str:
    """The rules' titles (``Parcels overlap; Gap between parcels``), never their ids; a rule
    the table does not know (deleted since) keeps its id."""
    return "; ".join(str(texts.get(r, {}).get("title_en") or r) for r in rule_ids)


def queue_table(
    rows: Sequence[dict[str, Any]], texts: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """The queue as the page shows it (one row per case, in the given order); the rules
    by their titles (``texts``: :func:`rules`)."""
    out = [
        {
            "Case": int(r["id"]),
            "Risk": float(r["risk"]),
            "Status": status_label(str(r["status"])),
            "Mouza": r["mouza"],
            "Subject": r["subject_label"],
            "Open flags": int(r["open_flags"]),
            "Rules": rule_titles(r["rules"], texts),
            "Opened": f"{r['opened_at']:%Y-%m-%d}",
            "Decide by": "" if r["decide_by"] is None else r["decide_by"].isoformat(),
            "Overdue": bool(r["overdue"]),
        }
        for r in rows
    ]
    return pd.DataFrame(out, columns=QUEUE_COLUMNS)


def case_choice(row: dict[str, Any]) -> str:
    """``No. 12 · risk 40 · khewat 47, Kot Pindi Das · open``."""
    return (
        f"No. {row['id']} · risk {float(row['risk']):g} · {row['subject_label']}, "
        f"{row['mouza']} · {status_label(str(row['status']))}"
    )


BREAKDOWN_COLUMNS: Final = ["Rule", "Severity", "Flags", "Points"]


def breakdown_table(risk: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The risk score by rule: the rule's title, its severity, flags and points."""
    return pd.DataFrame(
        [
            {
                "Rule": b["title_en"],
                "Severity": b["severity"],
                "Flags": int(b["flags"]),
                "Points": float(b["points"]),
            }
            for b in risk
        ],
        columns=BREAKDOWN_COLUMNS,
    )


def _khasra_numbers(flag: dict[str, Any], labels: Mapping[int, str]) -> list[str]:
    """The numbers of the khasras a flag's evidence names by id (``khasra_ids``)."""
    ids = flag["evidence"].get("khasra_ids")
    if not isinstance(ids, list):
        return []
    return [labels[int(i)] for i in ids if isinstance(i, int) and int(i) in labels]


def _image(side: dict[str, Any] | None, home: Path, which: str) -> dict[str, Any] | None:
    """One image chip of a flag: its file (None if it is missing) and a caption with the
    scene's date and sensor."""
    from landgov.disputes.cases import evidence_file

    if side is None or not side.get("chip"):
        return None
    when = side.get("on")
    caption = which + (f", {when:%Y-%m-%d}" if isinstance(when, date) else "")
    if side.get("sensor"):
        caption += f" ({side['sensor']})"
    return {"path": evidence_file(side["chip"], home), "caption": caption, "chip": side["chip"]}


def flag_evidence(detail: dict[str, Any], home: Path) -> list[dict[str, Any]]:
    """Each flag of a case as the page shows it: ``id, title, severity, resolved,
    measure`` (with its unit: :func:`~app.views.cases.evidence.measure_text`),
    ``facts`` (labelled evidence, :func:`~app.views.cases.evidence.facts`), ``record``
    (the khasra, khewat and mutation it names, as the register numbers them) and
    ``images`` (the before and after chips of an encroachment, files under ``home``)."""
    labels = {
        int(p["id"]): str(p["label"]).removeprefix("khasra ")
        for p in detail["parcels"]
        if p["kind"] == "khasra"
    }
    out = []
    for f in detail["flags"]:
        record = [
            f"{name} {f[key]}"
            for name, key in (("khasra", "khasra_no"), ("khewat", "khewat_no"),
                              ("mutation", "mutation_no"))
            if f.get(key) is not None
        ]  # fmt: skip
        images = f.get("images") or {}
        chips = [
            _image(images.get("before"), home, "Before"),
            _image(images.get("after"), home, "After"),
        ]
        out.append(
            {
                "id": int(f["id"]),
                "rule": f["rule"],
                "title": f["title_en"],
                "severity": f["severity"],
                "resolved": bool(f["resolved"]),
                "measure": measure_text(f["rule"], f["measure"], f["threshold"]),
                "facts": facts(f["rule"], f["evidence"], _khasra_numbers(f, labels)),
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


def _flag_tooltip(f: dict[str, Any]) -> dict[str, str]:
    return {
        "label": str(f["title_en"]),
        "detail": " · ".join(
            x for x in (measure_text(f["rule"], f.get("measure"), f.get("threshold")),
                        f"{f['severity']} severity") if x
        ),
    }  # fmt: skip


def flag_polygons(flags: Sequence[dict[str, Any]]) -> pd.DataFrame:
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
                    **_flag_tooltip(f),
                    "rule": f["rule"],
                    "fill_color": list(color),
                    "line_color": [*color[:3], 255],
                    "polygon": rings,
                }
            )
    return pd.DataFrame(
        rows, columns=["label", "detail", "rule", "fill_color", "line_color", "polygon"]
    )


def flag_markers(flags: Sequence[dict[str, Any]]) -> pd.DataFrame:
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
                **_flag_tooltip(f),
                "rule": f["rule"],
                "line_color": [*rule_color(f["rule"])[:3], 255],
                "position": [round(point.x, 7), round(point.y, 7)],
            }
        )
    return pd.DataFrame(rows, columns=["label", "detail", "rule", "line_color", "position"])


def parcel_polygons(parcels: Sequence[dict[str, Any]]) -> pd.DataFrame:
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
                    "label": p["label"],
                    "detail": "the case's subject" if subject else "named by a flag",
                    "role": p["role"],
                    "fill_color": list(fill if subject else (0, 0, 0, 0)),
                    "line_color": list(SUBJECT_OUTLINE if subject else FLAGGED_OUTLINE),
                    "polygon": rings,
                }
            )
    return pd.DataFrame(
        rows, columns=["label", "detail", "role", "fill_color", "line_color", "polygon"]
    )


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


def mutations_table(
    mutations: Sequence[dict[str, Any]], texts: Mapping[str, Mapping[str, Any]]
) -> pd.DataFrame:
    """The mutations the flags name: number, type, status, dates, deed, officer, and the
    rules by their titles."""
    return pd.DataFrame(
        [
            {
                "Mutation": str(m["number"]),
                "Type": str(m["type"]).replace("_", " "),
                "Status": m["status"],
                "Entered": str(m["entered_on"]),
                "Decided": "" if m["decided_on"] is None else str(m["decided_on"]),
                "Deed": m["deed_number"] or "",
                "Officer": ""
                if m["officer_name"] is None
                else f"{m['officer_name']} ({str(m['officer_designation']).replace('_', ' ')})",
                "Rules": rule_titles(m["rules"], texts),
            }
            for m in mutations
        ],
        columns=["Mutation", "Type", "Status", "Entered", "Decided", "Deed", "Officer", "Rules"],
    )


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


def chain_table(chain: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The subject khasras' mutation chain, one row per line, flagged lines marked."""
    if not chain:
        return pd.DataFrame(columns=CHAIN_COLUMNS)
    frame = pd.DataFrame(list(chain))
    rows = []
    # the khasras of a line are a list, which no pandas scalar type admits: read from the dict
    for line, rec in zip(chain, frame.itertuples(index=False), strict=True):
        rows.append(
            {
                "Date": str(rec.event_date),
                "Mutation": str(rec.number),
                "Type": str(rec.type).replace("_", " "),
                "Status": shared.STATUS_LABELS.get(str(rec.status), str(rec.status)),
                "Khewat": str(rec.khewat_no),
                "Khasras": ", ".join(str(k) for k in line["khasras"]),
                "Transfer": shared.transfer_text(rec),
                "Flagged": bool(rec.flagged),
            }
        )
    return pd.DataFrame(rows, columns=CHAIN_COLUMNS)


def audit_table(audit: Sequence[dict[str, Any]]) -> pd.DataFrame:
    """The case's audit rows, oldest first, CNICs masked."""
    rows = []
    for a in audit:
        details = dict(a["details"] or {})
        said = details.get("reason") or details.get("note") or ""
        change = f"{details['from']} → {details['to']}" if "from" in details else ""
        rows.append(
            {
                "Seq": int(a["seq"]),
                "When": f"{a['at']:%Y-%m-%d %H:%M}",
                "Action": a["action"],
                "By": mask_cnics(str(details.get("officer") or a["actor"])),
                "Change": change.replace("_", " "),
                "Reason / note": said,
                "Decide by": details.get("decide_by", ""),
            }
        )
    return pd.DataFrame(
        rows, columns=["Seq", "When", "Action", "By", "Change", "Reason / note", "Decide by"]
    )
