"""The advisory batch: every cultivated parcel of a season, its advice stored, and the SMS
for its owners queued once.

``run_advisories(engine, as_of)`` takes the season ``as_of`` falls in, and per mouza:

1. reads each live parcel's NDVI, WDRVI and NDMI per scene of the season up to ``as_of``
   (``parcel_zonal``; a scene where less than half the parcel is clear counts as cloudy);
2. takes the crop the crop model saw (latest run), else the girdawari entry; fallow and
   uncropped parcels get no advice;
3. applies :mod:`landgov.advisories.rules` with the same-crop parcels of the mouza as
   peers and the parcel's own earlier seasons (up to 3) as its history;
4. stores one advisory per parcel, season and kind (a re-run refreshes evidence and text),
   and queues the SMS for every owner on ``as_of`` (record of rights: shares of the
   khewats holding the khasra) with a phone and a standing opt-in, in their language.
   What is texted: warnings (poor health, a yield outlook below the district average,
   water stress, late sowing, early senescence); the rest, and "not enough clear
   imagery", stay on the dashboard: an SMS every week that all is well trains farmers to
   ignore the one that is not. The outbox's
   unique key (party, parcel, season, kind) makes a re-run queue nothing twice.

Everything of a run is one transaction: a failure leaves the previous state.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.advisories.rules import (
    PHENOLOGY_CROPS,
    Advisory,
    Kind,
    Level,
    Series,
    crop_health,
    greenup_date,
    imagery_check,
    phenology_notices,
    water_stress,
    yield_outlook,
)
from landgov.advisories.texts import render
from landgov.domain.calendar import season_of, season_start

if TYPE_CHECKING:
    from landgov.security import Actor

INDICES = ("ndvi", "wdrvi", "ndmi")
MIN_VALID = 0.5
HISTORY_YEARS = 3
NOT_CROPPED = ("fallow",)


@dataclass
class RunReport:
    """What a run did."""

    run_id: int
    as_of: date
    season: str
    year: int
    parcels: int = 0
    advisories: Counter[str] = field(default_factory=Counter)
    queued: int = 0
    already_queued: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            "run": self.run_id, "as_of": self.as_of.isoformat(), "season": self.season,
            "year": self.year, "parcels": self.parcels, "advisories": dict(self.advisories),
            "sms_queued": self.queued, "sms_already_queued": self.already_queued,
        }  # fmt: skip


def _zonal(
    conn: Connection, ids: Sequence[int], indices: Sequence[str], start: date, end: date
) -> pd.DataFrame:
    """The parcels' stored zonal rows of scenes dated ``start`` to ``end`` (both whole
    days), from :func:`imagery.series.read_zonal`, with the scene's ``date`` and ``clear``
    (a finite mean over at least :data:`MIN_VALID` of the parcel).

    One row per parcel, index and date: where two scenes of one day both hold a parcel, a
    clear view beats a cloudy one, then the one that sees more of it (larger ``count``),
    as in ``read_zonal``.
    """
    from imagery.series import read_zonal

    df = read_zonal(conn, khasra_ids=ids, indices=indices, start=start, end=end,
                    stats=("mean", "valid_fraction"))  # fmt: skip
    df["date"] = df["time"].dt.normalize()  # the scene's UTC day, as datetime64
    df["clear"] = df["mean"].notna() & (df["valid_fraction"].fillna(0.0) >= MIN_VALID)
    df = df.sort_values(["clear", "count"], kind="stable")
    return df.drop_duplicates(["khasra_id", "index", "date"], keep="last")


def _series(
    conn: Connection, ids: Sequence[int], start: date, end: date
) -> tuple[list[date], dict[str, np.ndarray]]:
    """Scene dates in [start, end] and per index a parcels × dates matrix (NaN: cloudy)."""
    df = _zonal(conn, ids, INDICES, start, end)
    days = np.unique(df["date"].to_numpy())
    dates: list[date] = [pd.Timestamp(d).date() for d in days]
    row = {k: i for i, k in enumerate(ids)}
    out = {ix: np.full((len(ids), len(dates)), np.nan) for ix in INDICES}
    clear = df[df["clear"]]
    for ix, part in clear.groupby("index"):
        r = part["khasra_id"].map(row).to_numpy()
        c = np.searchsorted(days, part["date"].to_numpy())
        out[str(ix)][r, c] = part["mean"].to_numpy(dtype=np.float64)
    return dates, out


def _pixels(conn: Connection, ids: Sequence[int]) -> dict[int, float]:
    """Each parcel's most 20 m pixels in any scene (NDMI's grid): its size as the water
    stress rule sees it."""
    from imagery.series import most_pixels

    return most_pixels(conn, ids, "ndmi")


def _crops(conn: Connection, ids: Sequence[int], season: str, year: int) -> dict[int, str]:
    """Crop per parcel: the crop model's latest label, else the girdawari entry."""
    found: dict[int, str] = {}
    for k, crop in conn.execute(
        text(
            "SELECT khasra_id, crop FROM girdawari WHERE khasra_id = ANY(:ids)"
            " AND season = :s AND year = :y ORDER BY khasra_id, area_sown_sarsai"
        ),
        {"ids": list(ids), "s": season, "y": year},
    ):
        found[int(k)] = str(crop)
    for k, crop in conn.execute(
        text(
            "SELECT DISTINCT ON (khasra_id) khasra_id, crop FROM crop_prediction"
            " WHERE khasra_id = ANY(:ids) AND season = :s AND year = :y AND crop IS NOT NULL"
            " ORDER BY khasra_id, run_id DESC"
        ),
        {"ids": list(ids), "s": season, "y": year},
    ):
        found[int(k)] = str(crop)
    return found


def _yields(conn: Connection, ids: Sequence[int], season: str, year: int) -> dict[int, float]:
    return {
        int(k): float(v)
        for k, v in conn.execute(
            text(
                "SELECT DISTINCT ON (khasra_id) khasra_id, yield_t_ha FROM yield_prediction"
                " WHERE khasra_id = ANY(:ids) AND season = :s AND year = :y"
                " AND yield_t_ha IS NOT NULL AND flag IS NULL ORDER BY khasra_id, run_id DESC"
            ),
            {"ids": list(ids), "s": season, "y": year},
        )
    }


def _history(
    conn: Connection, ids: Sequence[int], season: str, year: int, day: int, crops: dict[int, str]
) -> dict[int, list[float]]:
    """Each parcel's clear NDVI at the same day of the season (± 5 days) in up to
    :data:`HISTORY_YEARS` earlier seasons where the girdawari records the same crop."""
    out: dict[int, list[float]] = defaultdict(list)
    with_crop = [k for k in ids if k in crops]
    for back in range(1, HISTORY_YEARS + 1):
        y = year - back
        centre = season_start(season, y) + timedelta(days=day)
        recorded = conn.execute(
            text(
                "SELECT DISTINCT khasra_id, crop FROM girdawari WHERE khasra_id = ANY(:ids)"
                " AND season = :s AND year = :y"
            ),
            {"ids": with_crop, "s": season, "y": y},
        ).all()
        same = sorted({int(k) for k, c in recorded if crops[int(k)] == str(c)})
        if not same:
            continue
        df = _zonal(conn, same, ("ndvi",), centre - timedelta(days=5), centre + timedelta(days=5))
        df = df[df["clear"]]
        df = df.assign(off=(df["date"] - pd.Timestamp(centre)).abs().dt.days)  # days off it
        nearest = df.sort_values(["khasra_id", "off", "date"]).drop_duplicates("khasra_id")
        for k, v in zip(nearest["khasra_id"], nearest["mean"], strict=True):
            out[int(k)].append(float(v))
    return out


def _owners(conn: Connection, ids: Sequence[int], on: date) -> dict[int, set[int]]:
    """Khasra → owner party ids on ``on`` (ownership shares of the khewats holding it)."""
    out: dict[int, set[int]] = defaultdict(set)
    for k, p in conn.execute(
        text(
            "SELECT DISTINCT kk.khasra_id, s.party_id FROM khewat_khasra kk"
            " JOIN share s ON s.khewat_id = kk.khewat_id AND s.right_type = 'ownership'"
            " AND s.valid_from <= :d AND (s.valid_to IS NULL OR s.valid_to > :d)"
            " WHERE kk.khasra_id = ANY(:ids) AND kk.valid_from <= :d"
            " AND (kk.valid_to IS NULL OR kk.valid_to > :d)"
        ),
        {"ids": list(ids), "d": on},
    ):
        out[int(k)].add(int(p))
    return out


def _texted(a: Advisory) -> bool:
    return a.kind is not Kind.INSUFFICIENT and a.level is Level.WARNING


def mouza_advisories(
    conn: Connection, mouza_id: int, as_of: date, district_t_ha: dict[str, float] | None = None
) -> list[tuple[int, str, str, Advisory]]:
    """(khasra id, khasra number, crop, advisory) for every cultivated live parcel."""
    season, year = season_of(as_of)
    start = season_start(season, year)
    parcels = conn.execute(
        text(
            "SELECT id, number FROM khasra WHERE mouza_id = :m"
            " AND (created_on IS NULL OR created_on <= :d)"
            " AND (retired_on IS NULL OR retired_on > :d)"
            " AND land_class IN ('nehri', 'chahi', 'barani') ORDER BY id"
        ),
        {"m": mouza_id, "d": as_of},
    ).all()
    ids = [int(p.id) for p in parcels]
    number = {int(p.id): str(p.number) for p in parcels}
    crops = {k: c for k, c in _crops(conn, ids, season, year).items() if c not in NOT_CROPPED}
    ids = [k for k in ids if k in crops]
    if not ids:
        return []
    dates, m = _series(conn, ids, start, as_of)
    if not dates:
        return []
    yields = _yields(conn, ids, season, year)
    pixels = _pixels(conn, ids)
    history = _history(conn, ids, season, year, (as_of - start).days, crops)
    row = {k: i for i, k in enumerate(ids)}
    by_crop: dict[str, list[int]] = defaultdict(list)
    for k in ids:
        by_crop[crops[k]].append(k)
    district = dict(district_t_ha or {})
    for crop, members in by_crop.items():  # without published figures: this season's mean
        if crop not in district:
            ys = [yields[k] for k in members if k in yields]
            if ys:
                district[crop] = float(np.mean(ys))

    from imagery.phenology import season_marks, smooth

    series = {k: Series(dates, m["ndvi"][row[k]], m["wdrvi"][row[k]], m["ndmi"][row[k]])
              for k in ids}  # fmt: skip
    checks = {k: imagery_check(series[k], as_of) for k in ids}
    ok = [k for k in ids if checks[k] is None]
    smoothed = {}
    if ok:
        sm = smooth(
            np.array([m["ndvi"][row[k]] for k in ok]), np.array(dates, dtype="datetime64[D]")
        )
        smoothed = {k: sm[i] for i, k in enumerate(ok)}
    greenup = {k: greenup_date(dates, smoothed[k]) for k in ok}
    ends: dict[int, date | None] = {}
    for k in ok:
        marks = season_marks(
            np.array(dates, dtype="datetime64[D]"), smoothed[k], raw=m["ndvi"][row[k]]
        )
        ends[k] = None if not marks.ok or marks.end is None else marks.end.astype(date)
    out: list[tuple[int, str, str, Advisory]] = []
    for k in ids:
        crop = crops[k]
        if checks[k] is not None:
            out.append((k, number[k], crop, checks[k]))  # type: ignore[arg-type]
            continue
        s = series[k]
        peers = [p for p in by_crop[crop] if p != k and p in smoothed]
        clear = s.clear()
        last = int(np.flatnonzero(clear)[-1])
        peers_today = np.array([m["ndvi"][row[p], last] for p in peers])
        peers_wdrvi = np.array([m["wdrvi"][row[p], last] for p in peers])
        found = [crop_health(s, peers_today, history.get(k, []), peers_wdrvi)]
        y = yield_outlook(yields.get(k), district.get(crop), crop, float(clear.mean()))
        if y is not None:
            found.append(y)
        w = water_stress(
            s,
            np.array([m["ndvi"][row[p], last] for p in peers]),
            np.array([m["ndmi"][row[p], last] for p in peers]),
            pixels.get(k),
        )
        if w is not None:
            found.append(w)
        if crop in PHENOLOGY_CROPS:
            found += phenology_notices(
                greenup[k], [g for p in peers if (g := greenup[p]) is not None],
                ends[k], [e for p in peers if (e := ends[p]) is not None], float(clear.mean()),
            )  # fmt: skip
        out += [(k, number[k], crop, a) for a in found]
    return out


def run_advisories(
    engine: Engine,
    as_of: date,
    *,
    mouza_id: int | None = None,
    district_t_ha: dict[str, float] | None = None,
    actor: Actor,
) -> RunReport:
    """Computes, stores and queues the advisories of the season ``as_of`` falls in.

    ``actor`` must hold ``advisories.run`` (the advisories or demo service); the run's
    transaction is bound to it and its audit row names it.

    Raises:
        AccessDenied: the actor may not run advisories.
    """
    from landgov.security import authorize, bind
    from landgov.storage import audit

    season, year = season_of(as_of)
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "advisories.run")
        mouzas = [mouza_id] if mouza_id is not None else [
            int(x) for x in conn.execute(text("SELECT id FROM mouza ORDER BY id")).scalars()
        ]  # fmt: skip
        run_id = int(conn.execute(
            text("INSERT INTO advisory_run (as_of, season, year) VALUES (:d, :s, :y) RETURNING id"),
            {"d": as_of, "s": season, "y": year},
        ).scalar_one())  # fmt: skip
        report = RunReport(run_id, as_of, season, year)
        for mid in mouzas:
            found = mouza_advisories(conn, mid, as_of, district_t_ha)
            report.parcels += len({k for k, *_ in found})
            owners = _owners(conn, sorted({k for k, *_ in found}), as_of)
            contacts = _contacts(conn, sorted({p for ps in owners.values() for p in ps}), as_of)
            for k, number, crop, a in found:
                report.advisories[a.kind.value] += 1
                en, ur = render(a, number, crop, "en"), render(a, number, crop, "ur")
                aid = int(conn.execute(
                    text(
                        "INSERT INTO advisory (run_id, khasra_id, season, year, kind, status,"
                        " level, confidence, crop, as_of, evidence, sms_en, sms_ur, text_en,"
                        " text_ur) VALUES (:r, :k, :s, :y, :kind, :st, :lv, :c, :crop, :d,"
                        " CAST(:e AS jsonb), :se, :su, :te, :tu)"
                        " ON CONFLICT (khasra_id, season, year, kind) DO UPDATE SET"
                        " run_id = EXCLUDED.run_id, status = EXCLUDED.status,"
                        " level = EXCLUDED.level, confidence = EXCLUDED.confidence,"
                        " crop = EXCLUDED.crop, as_of = EXCLUDED.as_of,"
                        " evidence = EXCLUDED.evidence, sms_en = EXCLUDED.sms_en,"
                        " sms_ur = EXCLUDED.sms_ur, text_en = EXCLUDED.text_en,"
                        " text_ur = EXCLUDED.text_ur RETURNING id"
                    ),
                    {"r": run_id, "k": k, "s": season, "y": year, "kind": a.kind.value,
                     "st": a.status, "lv": a.level.value, "c": a.confidence, "crop": crop,
                     "d": as_of, "e": json.dumps(a.evidence), "se": en.sms, "su": ur.sms,
                     "te": en.long, "tu": ur.long},
                ).scalar_one())  # fmt: skip
                if not _texted(a):
                    continue
                for party in sorted(owners.get(k, ())):
                    contact = contacts.get(party)
                    if contact is None:
                        continue
                    phone, lang = contact
                    t = en if lang == "en" else ur
                    done = conn.execute(
                        text(
                            "INSERT INTO sms_outbox (party_id, phone, language, body, encoding,"
                            " segments, purpose, advisory_id, khasra_id, season, year, kind)"
                            " VALUES (:p, :ph, :l, :b, :enc, :seg, 'advisory', :a, :k, :s, :y,"
                            " :kind) ON CONFLICT (party_id, khasra_id, season, year, kind)"
                            " WHERE purpose = 'advisory' DO NOTHING RETURNING id"
                        ),
                        {"p": party, "ph": phone, "l": lang, "b": t.sms,
                         "enc": t.size.encoding.value, "seg": t.size.segments, "a": aid,
                         "k": k, "s": season, "y": year, "kind": a.kind.value},
                    ).first()  # fmt: skip
                    if done is None:
                        report.already_queued += 1
                    else:
                        report.queued += 1
        conn.execute(
            text("UPDATE advisory_run SET summary = CAST(:s AS jsonb) WHERE id = :r"),
            {"s": json.dumps(report.as_json()), "r": run_id},
        )
        audit.append(conn, actor=actor.label, action="run advisories", entity="advisory_run",
                     entity_id=str(run_id),
                     details={**report.as_json(), "mouza_id": mouza_id})  # fmt: skip
    return report


def _contacts(conn: Connection, parties: Sequence[int], on: date) -> dict[int, tuple[str, str]]:
    """Party → (phone, language) for those with a standing opt-in on ``on``."""
    return {
        int(p): (str(phone), str(lang))
        for p, phone, lang in conn.execute(
            text(
                "SELECT party_id, phone, language FROM farmer_contact WHERE party_id = ANY(:p)"
                " AND opted_in_on IS NOT NULL AND opted_in_on <= :d"
                " AND (opted_out_on IS NULL OR opted_out_on > :d)"
            ),
            {"p": list(parties), "d": on},
        )
    }


def district_averages(path: str | Path, season: str, year: int) -> dict[str, float]:
    """Per crop, the latest published district mean yield (t/ha) of ``season`` before
    ``year`` from a Crop Reporting Service style CSV (crop, season, year,
    mean_yield_t_ha): last year's figure is what a farmer compares with.

    Raises:
        ImportRejected: a missing column or a bad number (file, row, field, reason).
    """
    import csv

    from landgov.errors import ImportRejected, RowProblem

    path = Path(path)
    latest: dict[str, tuple[int, float]] = {}
    problems: list[RowProblem] = []
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            need = {"crop", "season", "year", "mean_yield_t_ha"} - set(reader.fieldnames or [])
            if need:
                raise ImportRejected(
                    str(path), [RowProblem(None, c, "column missing") for c in sorted(need)]
                )
            for n, r in enumerate(reader, start=1):
                try:
                    y, value = int(r["year"]), float(r["mean_yield_t_ha"])
                except ValueError:
                    problems.append(RowProblem(n, "year/mean_yield_t_ha", "not a number"))
                    continue
                if not value > 0:
                    problems.append(RowProblem(n, "mean_yield_t_ha", f"{value} is not > 0"))
                elif r["season"] == season and y < year:
                    crop = r["crop"].strip()
                    if crop not in latest or latest[crop][0] < y:
                        latest[crop] = (y, value)
    except OSError as exc:
        raise ImportRejected(str(path), [RowProblem(None, None, f"cannot read: {exc}")]) from exc
    if problems:
        raise ImportRejected(str(path), problems)
    return {crop: value for crop, (_, value) in latest.items()}
