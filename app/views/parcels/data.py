"""The Parcels page's data: cached calls of :mod:`landgov.storage.read` and
:func:`imagery.series.read_zonal`, and the pure helpers that turn a mouza's parcels, a
khasra's owners and its mutation chain into map rows, panel facts and the timeline.

No SQL here (the dashboard's rule, :mod:`app.shared.data`): every read is a call of the
service that owns the data, kept in ``st.cache_data`` keyed by the database URL first.
The helpers make no Streamlit calls, so tests use them directly.

What the map needs is cached ready to send: the parcels as a JSON file of records with
coordinates to 0.1 m and their edges as another (:func:`map_files`), the state land and
the boundary per mouza (:func:`overlays`), the label points as a GeoJSON file
(:func:`label_points`). A click on a parcel then costs the owners' and the chain's
reads, not the map's; its NDVI series is read for that khasra alone
(:func:`ndvi_series`), not for the whole mouza. The first Parcels page of a server starts
:func:`warm_up`, which loads in the background the modules a click needs (the series
reader and its scipy, altair), so the officer's first click does not wait for them.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import streamlit as st
from sqlalchemy.engine import Engine

from app.shared import maplayers, style
from app.shared.data import (
    CACHE_TTL_S,
    STATUS_LABELS,
    as_date,
    as_int,
    engine,
    is_null,
    kms,
    mutation_groups,
    mutation_row,
    party_label,
    transfer_text,
)
from landgov.domain import UnitSystem, format_share, sarsai_to_m2
from landgov.errors import AccessDenied
from landgov.security import Actor
from landgov.storage import read

PARCEL_LAYER_ID = "parcels"


@st.cache_data(ttl=CACHE_TTL_S, show_spinner="Loading parcels…")
def parcels(url: str, mouza_id: int, as_of: date) -> gpd.GeoDataFrame:
    with engine(url).connect() as conn:
        return read.mouza_parcels(conn, mouza_id, as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def owners(url: str, khasra_id: int, as_of: date) -> pd.DataFrame:
    with engine(url).connect() as conn:
        return read.owners_as_of(conn, as_of, khasra_ids=[khasra_id])


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def khewat_areas(url: str, khewat_ids: tuple[int, ...], as_of: date) -> dict[int, int]:
    with engine(url).connect() as conn:
        return read.khewat_areas(conn, list(khewat_ids), as_of)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def map_files(url: str, mouza_id: int, as_of: date) -> tuple[bytes, bytes]:
    """The parcels as the map's layers load them: :func:`parcel_records` as a JSON file,
    and their edges as another (:func:`app.shared.maplayers.ring_segments`, an edge two
    parcels share once)."""
    rows = parcel_records(parcels(url, mouza_id, as_of))
    edges = maplayers.ring_segments(rows, shared_once=True)
    return maplayers.json_bytes(rows), maplayers.json_bytes(edges)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def label_points(url: str, mouza_id: int, as_of: date) -> bytes:
    """The khasra numbers' GeoJSON (:func:`app.shared.maplayers.label_points`)."""
    return maplayers.label_points(parcels(url, mouza_id, as_of))


@dataclass(frozen=True)
class Overlays:
    """What the mouza map draws over its parcels: state land rows
    (:func:`app.shared.maplayers.state_land_rows`) and the boundary's paths."""

    state_land: list[dict[str, Any]]
    boundary: list[dict[str, Any]]

    @property
    def categories(self) -> list[str]:
        """The state-land categories drawn, in the legend's order."""
        present = {row["category"] for row in self.state_land}
        known = [c for c in maplayers.STATE_LAND if c in present]
        return known + sorted(present - set(known))


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def overlays(url: str, mouza_id: int) -> Overlays:
    with engine(url).connect() as conn:
        state_land = read.mouza_state_land(conn, mouza_id)
        boundary = read.mouza_boundary(conn, mouza_id)
    return Overlays(
        state_land=maplayers.state_land_rows(state_land),
        boundary=maplayers.boundary_paths(boundary),
    )


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def mutation_chain(url: str, khasra_id: int) -> read.MutationChain:
    with engine(url).connect() as conn:
        return read.mutation_chain(conn, khasra_id)


@st.cache_data(ttl=CACHE_TTL_S, show_spinner=False)
def zonal_rows(url: str, mouza_id: int, index: str = "ndvi") -> pd.DataFrame:
    """Stored parcel_zonal rows of the mouza's khasras (:func:`imagery.series.read_zonal`):
    khasra_id, time, mean, count, valid_fraction (empty when there are none or no such
    table)."""
    from imagery.series import read_zonal

    cols = ["khasra_id", "time", "mean", "count", "valid_fraction"]
    try:
        with engine(url).connect() as conn:
            rows = read_zonal(conn, mouza_id=mouza_id, indices=(index,))
    except Exception:  # no imagery tables, or an unreadable catalog: no chart
        return pd.DataFrame(columns=cols)
    return rows[cols]


SERIES_TTL_S = 600
"""The zonal batch runs after an ingest, not while an officer works: ten minutes."""


@st.cache_data(ttl=SERIES_TTL_S, show_spinner=False, max_entries=512)
def ndvi_series(url: str, khasra_id: int) -> pd.DataFrame:
    """One khasra's NDVI series (:func:`parcel_series`) from its own stored zonal rows
    (empty when there are none or no such table)."""
    from imagery.series import read_zonal

    try:
        with engine(url).connect() as conn:
            rows = read_zonal(conn, khasra_ids=[khasra_id], indices=("ndvi",))
    except Exception:  # no imagery tables, or an unreadable catalog: no chart
        rows = pd.DataFrame(columns=["khasra_id", "time", "mean", "count", "valid_fraction"])
    return parcel_series(rows, khasra_id)


_warmed = threading.Event()
WARM_MODULES = ("imagery.series", "imagery.phenology", "altair", "lightgbm")
"""What a first click on a parcel would otherwise import (about 3 s on a loaded machine),
and the appraisal model's library, which the Valuation page's explanation of a model value
and a sanction's price check load (0.3 s)."""


def warm_up() -> None:
    """Imports :data:`WARM_MODULES` in a background thread, once per server process.

    A process-wide flag, not session state: an import is for every session. The thread
    starts a second after the page has drawn its map, so it takes no time from the first
    map; an import the script needs meanwhile waits on Python's import lock, never runs
    twice.
    """
    if _warmed.is_set():
        return
    _warmed.set()

    def run() -> None:
        import importlib

        for name in WARM_MODULES:
            try:
                importlib.import_module(name)
            except Exception:  # an optional speed-up: the script imports it anyway
                continue

    # a second's grace: the browser fetches the first map's files from this process first
    timer = threading.Timer(1.0, run)
    timer.name, timer.daemon = "landgov-warm-up", True
    timer.start()


# --- pure helpers: the map and the khasra panel ------------------------------------


MAP_COLUMNS = [
    "khasra_no",
    "land_class",
    "land_class_label",
    "area_kms",
    "khewat_no",
    "fill_color",
    "polygon",
]


def parcel_records(gdf: gpd.GeoDataFrame) -> list[dict[str, Any]]:
    """One record per polygon (multipolygon parts apart) for a pydeck PolygonLayer, keys
    :data:`MAP_COLUMNS`: ``fill_color`` is RGBA, ``polygon`` the exterior ring then the
    holes, each a list of [lon, lat] to 0.1 m (:func:`app.shared.maplayers.polygons`)."""
    rows: list[dict[str, Any]] = []
    for rec in gdf.itertuples(index=False):
        head = {
            "khasra_no": rec.khasra_no,
            "land_class": rec.land_class,
            "land_class_label": style.land_class_label(rec.land_class),
            "area_kms": kms(int(rec.record_area_sarsai)),
            "khewat_no": "—" if pd.isna(rec.khewat_no) else rec.khewat_no,
            "fill_color": [*style.land_class_color(rec.land_class), style.FILL_ALPHA],
        }
        rows.extend({**head, "polygon": rings} for rings in maplayers.polygons(rec.geom))
    return rows


def parcel_polygons(gdf: gpd.GeoDataFrame) -> pd.DataFrame:
    """:func:`parcel_records` as a frame (columns :data:`MAP_COLUMNS`)."""
    return pd.DataFrame(parcel_records(gdf), columns=MAP_COLUMNS)


def khasra_rings(gdf: gpd.GeoDataFrame, khasra_no: str) -> list[dict[str, Any]]:
    """The polygons of khasra ``khasra_no`` (``{"khasra_no", "polygon"}`` rows): what the
    selected khasra's outline draws."""
    match = gdf[gdf["khasra_no"] == khasra_no]
    return [
        {"khasra_no": khasra_no, "polygon": rings}
        for geom in match.geometry
        for rings in maplayers.polygons(geom)
    ]


@dataclass(frozen=True)
class KhasraFacts:
    khasra_id: int
    number: str
    land_class: str
    land_class_label: str
    unit_system: UnitSystem
    record_area_sarsai: int
    record_area_kms: str
    record_area_m2: float
    geom_area_m2: float
    khewat_numbers: str

    @property
    def area_difference_pct(self) -> float:
        """Map area versus record area, in percent of the record area."""
        return 100 * (self.geom_area_m2 - self.record_area_m2) / self.record_area_m2


def khasra_facts(gdf: gpd.GeoDataFrame, khasra_no: str) -> KhasraFacts | None:
    """The panel facts of khasra ``khasra_no`` in a :func:`read.mouza_parcels` result."""
    match = gdf[gdf["khasra_no"] == khasra_no]
    if match.empty:
        return None
    row = match.iloc[0]
    system = UnitSystem(row["unit_system"])
    sarsai = int(row["record_area_sarsai"])
    return KhasraFacts(
        khasra_id=int(row["khasra_id"]),
        number=str(row["khasra_no"]),
        land_class=str(row["land_class"]),
        land_class_label=style.land_class_label(str(row["land_class"])),
        unit_system=system,
        record_area_sarsai=sarsai,
        record_area_kms=kms(sarsai),
        record_area_m2=float(sarsai_to_m2(sarsai, system)),
        geom_area_m2=float(row["geom_area_m2"]),
        khewat_numbers="" if pd.isna(row["khewat_no"]) else str(row["khewat_no"]),
    )


def land_class_counts(gdf: gpd.GeoDataFrame) -> dict[str, int]:
    if gdf.empty:
        return {}
    return {str(k): int(v) for k, v in gdf["land_class"].value_counts().items()}


# --- the mutation chain (timeline) ----------------------------------------------------


TIMELINE_COLUMNS = [
    "Date",
    "Mutation",
    "Type",
    "Status",
    "Khewat",
    "Transfers",
    "Deed",
    "Officer",
    "Note",
]


def _owners_text(group: pd.DataFrame) -> str:
    parts = []
    for rec in group.itertuples(index=False):
        share = format_share(Fraction(as_int(rec.numerator), as_int(rec.denominator)))
        right = str(rec.right_type)
        suffix = "" if right == "ownership" else f" ({right.replace('_', ' ')})"
        who = party_label(rec.name, rec.guardian_relation, rec.guardian_name, rec.custodian)
        parts.append(f"{who} {share}{suffix}")
    return "; ".join(parts)


def timeline_table(chain: read.MutationChain) -> pd.DataFrame:
    """One row per event, oldest first: the settlement owners, then every mutation.

    Shares are exact fractions of the khewat each line names; parties by name and
    guardian only (no CNIC).
    """
    rows: list[dict[str, str]] = []
    settlement = chain.settlement
    if not settlement.empty:
        for (valid_from, khewat_no), group in settlement.groupby(
            ["valid_from", "khewat_no"], sort=True
        ):
            rows.append(
                {
                    "Date": str(valid_from),
                    "Mutation": "—",
                    "Type": "settlement",
                    "Status": STATUS_LABELS["settlement"],
                    "Khewat": str(khewat_no),
                    "Transfers": "first recorded owners: " + _owners_text(group),
                    "Deed": "—",
                    "Officer": "—",
                    "Note": "",
                }
            )
    if not chain.lines.empty:
        rows.extend(mutation_row(first, group) for first, group in mutation_groups(chain.lines))
    return pd.DataFrame(rows, columns=TIMELINE_COLUMNS)


def lane(khewat_no: object, khasra_no: object) -> str:
    """A timeline row: the khewat and the khasra (itself or a partition parent) it held."""
    return f"khewat {khewat_no} · khasra {khasra_no}"


def timeline_events(chain: read.MutationChain) -> pd.DataFrame:
    """The chart's points: ``date, lane, status, type, mutation, transfers, above``.

    ``above`` alternates along each lane (oldest first): where the label goes.
    """
    columns = ["date", "lane", "status", "type", "mutation", "transfers", "above"]
    rows = []
    settlement = chain.settlement
    if not settlement.empty:
        for (valid_from, khewat_no, via), group in settlement.groupby(
            ["valid_from", "khewat_no", "via_khasra_no"], sort=True
        ):
            rows.append(
                {
                    "date": pd.Timestamp(as_date(valid_from)),
                    "lane": lane(khewat_no, via),
                    "status": STATUS_LABELS["settlement"],
                    "type": "settlement",
                    "mutation": "first owners",
                    "transfers": _owners_text(group),
                }
            )
    if not chain.lines.empty:
        for first, group in mutation_groups(chain.lines):
            for (khewat_no, via), part in group.groupby(["khewat_no", "via_khasra_no"], sort=False):
                rows.append(
                    {
                        "date": pd.Timestamp(first.event_date),
                        "lane": lane(khewat_no, via),
                        "status": STATUS_LABELS.get(str(first.status), str(first.status)),
                        "type": str(first.type).replace("_", " "),
                        "mutation": f"No. {first.number}",
                        "transfers": "; ".join(
                            transfer_text(rec) for rec in part.itertuples(index=False)
                        ),
                    }
                )
    events = pd.DataFrame(rows, columns=columns).sort_values("date", kind="stable")
    events["above"] = events.groupby("lane").cumcount() % 2 == 0
    return events.reset_index(drop=True)


def timeline_lanes(chain: read.MutationChain, today: date) -> pd.DataFrame:
    """The chart's bars: each khewat period of the khasra or a partition parent.

    Columns ``lane, start, end, held`` (``end`` is ``today`` for a current period).
    """
    columns = ["lane", "start", "end", "held"]
    if chain.holdings.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for rec in chain.holdings.itertuples(index=False):
        valid_from = as_date(rec.valid_from)
        end = today if is_null(rec.valid_to) else as_date(rec.valid_to)
        rows.append(
            {
                "lane": lane(rec.khewat_no, rec.khasra_no),
                "start": pd.Timestamp(valid_from),
                "end": pd.Timestamp(max(end, valid_from)),
                "held": f"{valid_from} to {'today' if end == today else end}",
            }
        )
    return pd.DataFrame(rows, columns=columns)


def sanctioned_between(chain: read.MutationChain, start: date, end: date) -> list[str]:
    """``No. 12 (sale, 2021-03-01)`` for each mutation sanctioned in (start, end]."""
    lines = chain.lines
    if lines.empty:
        return []
    low, high = min(start, end), max(start, end)
    found = []
    for first, _group in mutation_groups(lines):
        decided = first.decided_on
        if str(first.status) == "sanctioned" and not pd.isna(decided) and low < decided <= high:
            found.append(f"No. {first.number} ({str(first.type).replace('_', ' ')}, {decided})")
    return found


def lineage_text(chain: read.MutationChain) -> str:
    """``cut from 12 on 2023-05-01, which was cut from 7 on 1990-01-01`` (or empty)."""
    lineage = chain.lineage
    if len(lineage) <= 1:
        return ""
    parts = []
    for child, parent in zip(
        lineage.iloc[:-1].itertuples(index=False),
        lineage.iloc[1:].itertuples(index=False),
        strict=True,
    ):
        on = "" if is_null(child.created_on) else f" on {as_date(child.created_on)}"
        parts.append(f"khasra {child.khasra_no} was cut from khasra {parent.khasra_no}{on}")
    return "; ".join(parts)


# --- the NDVI series -------------------------------------------------------------------


MIN_VALID = 0.5
"""Least clear fraction of a parcel for an observation to count (the chart's points)."""


def parcel_series(rows: pd.DataFrame, khasra_id: int) -> pd.DataFrame:
    """One khasra's series: time, mean, valid_fraction, valid, smoothed (one row a date)."""
    df = rows[rows["khasra_id"] == khasra_id].copy()
    if df.empty:
        return pd.DataFrame(columns=["time", "mean", "valid_fraction", "valid", "smoothed"])
    df = df.sort_values(["time", "count"]).drop_duplicates("time", keep="last")
    df = df.reset_index(drop=True)
    df["valid"] = (df["valid_fraction"] >= MIN_VALID) & np.isfinite(df["mean"])
    df["smoothed"] = _smoothed(df)
    return df[["time", "mean", "valid_fraction", "valid", "smoothed"]]


def _smoothed(df: pd.DataFrame) -> np.ndarray:
    from imagery.phenology import smooth

    values = np.where(df["valid"], df["mean"], np.nan).astype(np.float64)
    n = len(values)
    window = min(5, n if n % 2 else n - 1)
    order = min(2, window - 2)
    if order < 1 or np.count_nonzero(np.isfinite(values)) < 2:
        return np.full(n, np.nan)
    try:
        return smooth(values, df["time"].to_numpy(), window=window, order=order)
    except ValueError:
        return np.full(n, np.nan)


def season_of(when: pd.Timestamp) -> str:
    """A day's girdawari season (:mod:`landgov.domain.calendar`) as the chart labels it:
    the season and its harvest year ("rabi 2026", "kharif 2025")."""
    from landgov.domain.calendar import season_of as season_and_year

    season, year = season_and_year(when.date())
    return f"{season} {year}"


def season_rules(series: pd.DataFrame) -> pd.DataFrame:
    """Start, peak and end of each season with marks (imagery.phenology.season_marks)."""
    from imagery.phenology import season_marks

    out: list[dict[str, Any]] = []
    if series.empty:
        return pd.DataFrame(columns=["time", "mark", "season"])
    for season, part in series.groupby(series["time"].map(season_of), sort=False):
        if len(part) < 3 or not np.isfinite(part["smoothed"]).all():
            continue
        raw = np.where(part["valid"], part["mean"], np.nan)
        try:
            marks = season_marks(part["time"].to_numpy(), part["smoothed"].to_numpy(), raw=raw)
        except ValueError:
            continue
        if not marks.ok:
            continue
        for name in ("start", "peak", "end"):
            out.append({"time": pd.Timestamp(getattr(marks, name)), "mark": name, "season": season})
    return pd.DataFrame(out, columns=["time", "mark", "season"])


# --- fard ---------------------------------------------------------------------------------


def fard_available() -> bool:
    """Whether this landgov has the fard issuer (``landgov.records.fard``)."""
    import importlib.util

    return importlib.util.find_spec("landgov.records.fard") is not None


def fard_file_name(mouza: str, khewat_no: int, as_of: date, language: str) -> str:
    slug = "".join(c if c.isalnum() else "-" for c in mouza.lower()).strip("-")
    return f"fard-{slug}-khewat-{khewat_no}-{as_of:%Y-%m-%d}-{language}.pdf"


FardLanguage = Literal["en", "ur", "both"]


def fard_pdf(
    engine: Engine,
    mouza: str,
    khewat_no: int,
    as_of: date,
    language: FardLanguage,
    *,
    actor: Actor,
) -> bytes:
    """Issues the fard of khewat ``khewat_no`` of ``mouza`` on ``as_of``; the PDF's bytes.

    ``mouza`` is its name (or hadbast number); ``language`` is ``en``, ``ur`` or ``both``.

    What the dashboard's "Download fard" button calls, as the signed-in ``actor``: the
    records engine checks ``fard.issue`` (role and posting today), writes the audit log
    and the access log under the actor's name, and gives the extract its verification
    code.
    """
    import tempfile
    from pathlib import Path

    from landgov.records.fard import issue_fard

    with tempfile.TemporaryDirectory(prefix="landgov-fard-") as tmp:
        out = Path(tmp) / fard_file_name(mouza, khewat_no, as_of, language)
        issued = issue_fard(
            engine,
            khewat=(mouza, khewat_no),
            as_of=as_of,
            language=language,
            out=out,
            actor=actor,
        )
        return Path(issued.path).read_bytes()


def refusal_of(url: str, actor: Actor, capability: str, mouza_id: int) -> AccessDenied | None:
    """Why ``actor`` may not use ``capability`` in the mouza today (None: may)."""
    from landgov.security import authorize

    with engine(url).connect() as conn:
        try:
            authorize(conn, actor, capability, mouza_id=mouza_id)
        except AccessDenied as exc:
            return exc
    return None
