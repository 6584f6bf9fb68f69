"""Deterministic synthetic Sentinel-2-like scenes consistent with the demo district.

:func:`synthesize_s2` renders, over the whole demo district (all mouzas; a real
Sentinel-2 tile is 110 km wide, so one scene covers them all) or over chosen mouzas, a
10 m time series every 5 days over a kharif and a rabi season: bands B02, B03, B04, B08
(10 m) and B8A, B11, SCL (20 m) as single-band GeoTIFFs in EPSG:32643 named like
Sentinel-2 L2A files (``T43RCQ_20260215T055641_B04_10m.tif``) so that :mod:`imagery.bands` and
:func:`imagery.ingest.ingest` recognise them.

Model (all documented choices, not physics):

* Encoding: L2A-like ``uint16`` DN = round(reflectance × 10000) + 1000 (processing
  baseline 04.00 offset); recover reflectance with
  ``to_reflectance(dn, scale=1e-4, offset=-1000)``. DN 0 is nodata.
* Seasons: girdawari (``year``, ``season``): rabi *year* runs 1 Nov (year−1) to 30 Apr
  (year), kharif *year* 1 May to 31 Oct. Each parcel shows its girdawari crop of the
  season the date falls in (sugarcane and orchards carry over).
* Yield: drawn per parcel and season within a crop's realistic range (t/ha; wheat 2–5.5,
  rice paddy 2.5–5, seed cotton 1.5–3.5, sugarcane 50–90, green fodder 30–60, orchard
  10–25, fallow 0): uniform over 85 % of the range, its start moved up 3 % of the range a
  year since 2021 (a yield trend that a linear-trend baseline can find). Light-use-
  efficiency-like relation: the seasonal peak of green
  vegetation cover is linear in yield, ``fc_peak = 0.45 + 0.5 × (y − ymin)/(ymax − ymin)``,
  so the seasonal integral of fAPAR (≈ fc) grows linearly with yield.
* Phenology: ``fc(t) = fc_peak × greenup(t) × (1 − senescence(t))`` with logistic green-up
  and senescence at crop-specific days (wheat sown mid Nov–early Dec, peak Feb–Mar,
  harvested Apr; cotton sown Apr–May; rice transplanted late Jun–Jul; sugarcane long;
  fodder cut and regrown; orchard evergreen; fallow bare soil fc≈0.04), jittered per
  parcel by a few days.
* Reflectance: linear mixing of a green-vegetation and a soil endmember,
  ``ρ = fc·ρ_veg + (1−fc)·ρ_soil`` (NDVI ≈ 0.22 for soil, 0.87 for full cover); land that
  is no parcel is built-up/road. Parcels are rasterised at 1 m and block-averaged to 10 m
  (20 m bands: to 20 m), so boundary pixels are mixed. Per-pixel field heterogeneity
  (fc × N(1, 0.05), fixed per seed) and sensor noise N(0, 0.01) are added.
* Clouds: per date, with probability 0.55 clear, else a target cloud fraction uniform in
  0.05–0.6: a Gaussian-smoothed random field thresholded at its quantile, so exactly that
  fraction of 20 m SCL pixels is cloud (8 medium, 9 high probability core, 10 cirrus on
  some dates); cloud shadow (SCL 3) is the cloud mask shifted 3 px north-west. Cloudy
  pixels are blended with a bright cloud spectrum, shadows are darkened ×0.5.
  Other SCL classes: 4 vegetation (fc ≥ 0.3), 5 not vegetated.

* Planted for the farmer advisories (issue 8), in the last rabi season, per mouza, three
  distinct wheat parcels drawn with the seed: a *water-stressed* one (from 10 Feb its
  green canopy dries: the vegetation's SWIR (B11) reflectance rises by
  :data:`DRY_B11_DELTA` over 10 days, so NDMI falls while NDVI stays), a *late-sown* one
  (sown :data:`LATE_SOWN_DAYS` days after its neighbours) and a *cloudy-season* one (a
  cloud sits on it on :data:`CLOUDY_PARCEL_RATE` of the season's dates). They are listed in
  ``advisory_truth.csv``.

Next to the scenes: ``ground_truth.csv`` (mouza_id, mouza, khasra_id, khasra_no, season,
crop as grown and seen from space, girdawari_crop as recorded, yield_t_ha; 3 % of
parcel-seasons have a misreported girdawari crop), ``district_yields.csv`` (the district's
mean yield per crop for the 10 years before each season, as the Crop Reporting Service
would publish it: the model's expected value, with the yearly trend)
and ``scenes.csv`` (date, cloud_pct: the SCL cloud fraction exactly as ingest counts it).
Same seed ⇒ byte-identical files.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import rasterio
from rasterio.features import rasterize
from rasterio.transform import from_origin
from scipy.ndimage import gaussian_filter
from shapely import wkb
from shapely.geometry.base import BaseGeometry
from sqlalchemy import Connection, Engine, text

from landgov.domain.calendar import season_label, season_of, season_window
from landgov.errors import LandgovError
from landgov.storage.lookup import resolve_mouzas

TILE: Final = "43RCQ"
"""Nominal MGRS tile used in the file names."""
CRS: Final = "EPSG:32643"
TIME: Final = "055641"
SCALE: Final = 10000
OFFSET: Final = 1000
BANDS_10M: Final = ("B02", "B03", "B04", "B08")
BANDS_20M: Final = ("B8A", "B11")
ALL_BANDS: Final = (*BANDS_10M, *BANDS_20M)
DEFAULT_SEASONS: Final = (("kharif", 2025), ("rabi", 2026))
"""Kharif 2025 and rabi 2025-26 (girdawari year 2026)."""

VEG: Final = np.array([0.03, 0.07, 0.03, 0.45, 0.46, 0.18])
SOIL: Final = np.array([0.08, 0.11, 0.14, 0.22, 0.24, 0.30])
BUILT: Final = np.array([0.12, 0.13, 0.15, 0.20, 0.21, 0.28])
CLOUD: Final = np.array([0.45, 0.46, 0.48, 0.52, 0.52, 0.38])

DRY_B11_DELTA: Final = 0.12
LATE_SOWN_DAYS: Final = 30
CLOUDY_PARCEL_RATE: Final = 0.85
STRESS_FROM: Final = (2, 10)  # month, day of the rabi season's second year
STRESS_RAMP_DAYS: Final = 10

YIELD_RANGE: Final = {
    "wheat": (2.0, 5.5),
    "rice": (2.5, 5.0),
    "cotton": (1.5, 3.5),
    "sugarcane": (50.0, 90.0),
    "fodder": (30.0, 60.0),
    "orchard": (10.0, 25.0),
    "fallow": (0.0, 0.0),
}
_CROP_CODE: Final = {c: i for i, c in enumerate(YIELD_RANGE)}
SEASON_CROPS: Final = {
    "rabi": ("wheat", "fodder", "fallow"),
    "kharif": ("cotton", "rice", "fodder", "fallow"),
}
"""Annual crops of each season, for misreported girdawari entries."""
MISREPORT_RATE: Final = 0.03
"""Share of parcel-seasons whose girdawari entry is not the crop grown."""
TREND_PER_YEAR: Final = 0.03
"""Yield trend: fraction of a crop's yield range gained per year."""
TREND_BASE_YEAR: Final = 2021
HISTORY_YEARS: Final = 10
"""Years of district yield statistics written before each synthesized season."""
CLEAR_PROB: Final = 0.55
CLOUD_FRACTION_RANGE: Final = (0.05, 0.6)
NOISE_SIGMA: Final = 0.01


def season_dates(seasons: Iterable[tuple[str, int]], step_days: int = 5) -> list[date]:
    out: list[date] = []
    for season, year in seasons:
        start, end = season_window(season, year)
        d = start
        while d <= end:
            out.append(d)
            d += timedelta(days=step_days)
    return sorted(set(out))


@dataclass(frozen=True)
class Parcel:
    khasra_id: int
    khasra_no: str
    geom: BaseGeometry  # in EPSG:32643


def _sig(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _doy_rel(d: date, season: str, year: int) -> float:
    """Days since the start of the season."""
    return float((d - season_window(season, year)[0]).days)


def cover(crop: str, d: date, season: str, year: int, fc_peak: float, jitter: float) -> float:
    """Green vegetation cover of ``crop`` on ``d`` (days from season start, jittered)."""
    t = _doy_rel(d, season, year) - jitter
    if crop == "fallow":
        return 0.04
    if crop == "orchard":
        doy = d.timetuple().tm_yday
        return fc_peak * (0.75 + 0.15 * math.cos(2 * math.pi * (doy - 220) / 365))
    if crop == "sugarcane":
        doy = (d - date(d.year if d.month >= 2 else d.year - 1, 2, 15)).days
        return fc_peak * (0.15 + 0.85 * _sig((doy - 100) / 18) * (1 - _sig((doy - 330) / 10)))
    if season == "rabi":  # t = 0 on 1 Nov
        if crop == "wheat":  # sown ~20 Nov, green-up Dec-Jan, peak Feb-Mar, harvest April
            return 0.04 + fc_peak * _sig((t - 75) / 10) * (1 - _sig((t - 148) / 7))
        # fodder (berseem): sown Oct, cut every ~40 days
        cyc = 0.6 + 0.4 * math.cos(2 * math.pi * t / 40)
        return 0.04 + fc_peak * _sig((t - 20) / 8) * cyc * (1 - _sig((t - 175) / 6))
    # kharif, t = 0 on 1 May
    if crop == "cotton":  # sown May, peak Aug, picked Oct
        return 0.04 + fc_peak * _sig((t - 55) / 10) * (1 - _sig((t - 160) / 10))
    if crop == "rice":  # transplanted early Jul, peak Sep, harvest late Oct
        return 0.04 + fc_peak * _sig((t - 85) / 8) * (1 - _sig((t - 170) / 6))
    cyc = 0.6 + 0.4 * math.cos(2 * math.pi * t / 45)
    return 0.04 + fc_peak * _sig((t - 30) / 8) * cyc * (1 - _sig((t - 180) / 6))


def peak_cover(crop: str, yield_t_ha: float) -> float:
    lo, hi = YIELD_RANGE[crop]
    if hi <= lo:
        return 0.0
    return 0.45 + 0.5 * (yield_t_ha - lo) / (hi - lo)


def draw_yield(seed: int, khasra_id: int, crop: str, season: str, year: int) -> float:
    """A parcel's yield: uniform over the lower 85 % of the crop's range, moved up by
    ``TREND_PER_YEAR`` of the range per year since ``TREND_BASE_YEAR`` (clipped to it)."""
    lo, hi = YIELD_RANGE[crop]
    rng = np.random.default_rng([seed, khasra_id, year, 0 if season == "rabi" else 1])
    u = float(rng.uniform()) * 0.85 + TREND_PER_YEAR * (year - TREND_BASE_YEAR)
    return round(lo + (hi - lo) * min(1.0, max(0.0, u)), 2)


def district_mean_yield(crop: str, year: int) -> float:
    """Expected district yield of ``crop`` in ``year`` under :func:`draw_yield`'s model
    (the mean of the clipped uniform), as a crop-reporting statistic would give it."""
    lo, hi = YIELD_RANGE[crop]
    a = TREND_PER_YEAR * (year - TREND_BASE_YEAR)
    b = a + 0.85
    # E[clip(U, 0, 1)] for U uniform on [a, b]
    lo_c, hi_c = max(a, 0.0), min(b, 1.0)
    inner = max(0.0, hi_c**2 - lo_c**2) / 2
    above = max(0.0, b - max(a, 1.0))
    return round(lo + (hi - lo) * (inner + above) / (b - a), 3)


def grown_crop(seed: int, khasra_id: int, girdawari_crop: str, season: str, year: int) -> str:
    """The crop actually grown: the girdawari entry, except for ``MISREPORT_RATE`` of
    parcel-seasons where the patwari recorded another crop of the season (or fallow)."""
    rng = np.random.default_rng([seed, khasra_id, year, 3])
    if girdawari_crop in ("sugarcane", "orchard") or rng.random() >= MISREPORT_RATE:
        return girdawari_crop
    others = [c for c in SEASON_CROPS[season] if c != girdawari_crop]
    return others[int(rng.integers(len(others)))]


def _as_conn(conn_or_engine: Connection | Engine) -> AbstractContextManager[Connection]:
    """A connection of the engine, closed after; a given connection, left open."""
    if isinstance(conn_or_engine, Engine):
        return conn_or_engine.connect()
    return _NoClose(conn_or_engine)


class _NoClose:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def __enter__(self) -> Connection:
        return self.conn

    def __exit__(self, *exc: object) -> None:
        return None


def load_parcels(conn: Connection, mouza_id: int | Sequence[int], as_of: date) -> list[Parcel]:
    """Khasras of the mouza(s) live on ``as_of``, in EPSG:32643, in id order."""
    ids = [mouza_id] if isinstance(mouza_id, int) else list(mouza_id)
    rows = conn.execute(
        text(
            "SELECT id, number, ST_AsBinary(ST_Transform(geom, 32643)) AS g FROM khasra"
            " WHERE mouza_id = ANY(:m) AND (created_on IS NULL OR created_on <= :d)"
            " AND (retired_on IS NULL OR retired_on > :d) ORDER BY id"
        ),
        {"m": ids, "d": as_of},
    ).all()
    return [Parcel(int(r.id), str(r.number), wkb.loads(bytes(r.g))) for r in rows]


def _mouza_of(conn: Connection, ids: Sequence[int]) -> dict[int, tuple[int, str]]:
    rows = conn.execute(
        text(
            "SELECT k.id, m.id AS mid, m.name FROM khasra k JOIN mouza m ON m.id = k.mouza_id"
            " WHERE k.id = ANY(:ids)"
        ),
        {"ids": list(ids)},
    ).all()
    return {int(r.id): (int(r.mid), str(r.name)) for r in rows}


def load_crops(
    conn: Connection, ids: Sequence[int], seasons: Iterable[tuple[str, int]]
) -> dict[tuple[int, str, int], str]:
    """Girdawari crop per (khasra, season, year); the first crop if several."""
    from landgov.storage.read import girdawari_crops

    out: dict[tuple[int, str, int], str] = {}
    for season, year in seasons:
        frame = girdawari_crops(conn, list(ids), season, year)
        for k, crop in zip(frame["khasra_id"], frame["girdawari_crop"], strict=True):
            out[(int(k), season, year)] = str(crop)
    return out


def _grid(parcels: Sequence[Parcel], window_m: float | None) -> tuple[float, float, int, int]:
    """Top-left x, y and the 20 m grid size (cols, rows), snapped to 20 m."""
    xs0, ys0, xs1, ys1 = zip(*(p.geom.bounds for p in parcels), strict=True)
    x0, y0, x1, y1 = min(xs0), min(ys0), max(xs1), max(ys1)
    if window_m is not None:
        cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
        x0, x1, y0, y1 = cx - window_m / 2, cx + window_m / 2, cy - window_m / 2, cy + window_m / 2
    left, top = math.floor(x0 / 20) * 20.0, math.ceil(y1 / 20) * 20.0
    cols, rows = math.ceil((x1 - left) / 20), math.ceil((top - y0) / 20)
    return left, top, cols, rows


def _block_mean(a: np.ndarray, k: int) -> np.ndarray:
    h, w = a.shape[-2] // k, a.shape[-1] // k
    means: np.ndarray = a.reshape(*a.shape[:-2], h, k, w, k).mean(axis=(-3, -1))
    return means


def _write(path: Path, arr: np.ndarray, left: float, top: float, res: float, when: date) -> None:
    profile = {
        "driver": "GTiff",
        "width": arr.shape[1],
        "height": arr.shape[0],
        "count": 1,
        "dtype": "uint16",
        "crs": CRS,
        "transform": from_origin(left, top, res, res),
        "nodata": 0,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)
        dst.update_tags(TIFFTAG_DATETIME=f"{when:%Y:%m:%d} 05:56:41")


def _clouds(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[np.ndarray, float]:
    """SCL cloud classes (0 = none) on the 20 m grid and the cloud fraction."""
    scl = np.zeros(shape, np.uint8)
    if rng.random() < CLEAR_PROB:
        rng.random(3)  # keep the stream length fixed
        return scl, 0.0
    frac, cirrus, noise_seed = rng.uniform(*CLOUD_FRACTION_RANGE), rng.random() < 0.3, rng.random()
    field = gaussian_filter(
        np.random.default_rng(int(noise_seed * 2**31)).standard_normal(shape), 6, mode="wrap"
    )
    n = round(frac * field.size)
    order = np.argsort(field, axis=None, kind="stable")[::-1]
    cloud = np.zeros(field.size, bool)
    cloud[order[:n]] = True
    core = np.zeros(field.size, bool)
    core[order[: n // 2]] = True
    cloud, core = cloud.reshape(shape), core.reshape(shape)
    if cirrus:
        scl[cloud] = 10
    else:
        scl[cloud] = 8
        scl[core] = 9
        shadow = np.zeros(shape, bool)
        shadow[:-3, :-3] = cloud[3:, 3:]
        scl[shadow & ~cloud] = 3
    return scl, float(cloud.mean())


def _plant_advisory_cases(
    seed: int,
    parcels: Sequence[Parcel],
    present: np.ndarray,
    fc_peak: dict[tuple[int, str, int], tuple[str, float, float]],
    mouza_of: dict[int, tuple[int, str]],
    used: Sequence[tuple[str, int]],
) -> dict[tuple[int, str, int], tuple[str, str]]:
    """(parcel index, season, year) -> (plant, detail): per mouza, three distinct wheat
    parcels of the last rabi season, drawn with the seed (module docstring)."""
    rabi = [y for s, y in used if s == "rabi"]
    if not rabi:
        return {}
    year = max(rabi)
    by_mouza: dict[int, list[int]] = {}
    for idx in present:
        if fc_peak[(int(idx), "rabi", year)][0] == "wheat":
            p = parcels[int(idx) - 1]
            by_mouza.setdefault(mouza_of[p.khasra_id][0], []).append(int(idx))
    out: dict[tuple[int, str, int], tuple[str, str]] = {}
    stress_from = date(year, *STRESS_FROM).isoformat()
    for mid, idxs in sorted(by_mouza.items()):
        if len(idxs) < 3:
            continue
        picks = np.random.default_rng([seed, 12, mid]).choice(sorted(idxs), 3, replace=False)
        out[(int(picks[0]), "rabi", year)] = ("water_stress", f"canopy dries from {stress_from}")
        out[(int(picks[1]), "rabi", year)] = ("late_sowing", f"sown {LATE_SOWN_DAYS} days late")
        out[(int(picks[2]), "rabi", year)] = (
            "cloudy_season",
            f"clouded on {CLOUDY_PARCEL_RATE:.0%} of the dates",
        )
    return out


def synthesize_s2(
    conn_or_engine: Connection | Engine,
    out_dir: str | Path,
    *,
    seed: int = 42,
    mouza: int | str | Sequence[int | str] | None = None,
    seasons: Sequence[tuple[str, int]] = DEFAULT_SEASONS,
    dates: Sequence[date] | None = None,
    window_m: float | None = None,
) -> list[Path]:
    """Writes the scenes (7 files per date) and the CSVs; returns the band files written.

    ``mouza`` is one mouza, several, or ``None`` for every mouza of the district.
    ``dates`` overrides the 5-day series over ``seasons``; ``window_m`` restricts the
    area to a square of that side around the centre of the mouzas' extent.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    when = sorted(dates) if dates is not None else season_dates(seasons)
    used = sorted({season_of(d) for d in when})
    with _as_conn(conn_or_engine) as conn:
        chosen = resolve_mouzas(conn, mouza)
        parcels = load_parcels(conn, [m for m, _ in chosen], max(when))
        if not parcels:
            raise LandgovError(f"mouza(s) {', '.join(n for _, n in chosen)} have no parcels")
        crops = load_crops(conn, [p.khasra_id for p in parcels], used)
        mouza_of = _mouza_of(conn, [p.khasra_id for p in parcels])
    left, top, cols, rows = _grid(parcels, window_m)
    # labels at 1 m; parcel index + 1, 0 = not a parcel (roads, abadi lanes)
    shapes = [(p.geom, i + 1) for i, p in enumerate(parcels)]
    labels = rasterize(
        shapes,
        out_shape=(rows * 20, cols * 20),
        transform=from_origin(left, top, 1.0, 1.0),
        fill=0,
        dtype="int32",
    )
    present = np.unique(labels)
    present = present[present > 0]
    lut = np.zeros(len(parcels) + 1, np.int32)
    lut[present] = np.arange(1, len(present) + 1)
    compact = lut[labels]  # 0 = no parcel, j = present[j - 1]
    k = len(present) + 1
    parcel_frac = _block_mean((compact > 0).astype(np.float32), 10).astype(np.float64)
    truth: list[tuple[int, str, int, str, str, str, str, float]] = []
    fc_peak: dict[tuple[int, str, int], tuple[str, float, float]] = {}
    for season, year in used:
        for idx in present:
            p = parcels[idx - 1]
            entered = crops.get((p.khasra_id, season, year), "fallow")
            crop = grown_crop(seed, p.khasra_id, entered, season, year)
            y = draw_yield(seed, p.khasra_id, crop, season, year)
            jit = float(np.random.default_rng([seed, p.khasra_id, year, 7]).uniform(-8, 8))
            fc_peak[(idx, season, year)] = (crop, peak_cover(crop, y), jit)
            label = season_label(season, year)
            mid, mname = mouza_of[p.khasra_id]
            truth.append((mid, mname, p.khasra_id, p.khasra_no, label, crop, entered, y))
    plants = _plant_advisory_cases(seed, parcels, present, fc_peak, mouza_of, used)
    for (idx, season, year), (plant, _) in plants.items():
        if plant == "late_sowing":
            crop, peak, jit = fc_peak[(idx, season, year)]
            fc_peak[(idx, season, year)] = (crop, peak, jit + LATE_SOWN_DAYS)
    stressed = {(idx, year): date(year, *STRESS_FROM) for (idx, _, year), (plant, _) in
                plants.items() if plant == "water_stress"}  # fmt: skip
    cloudy = {(idx, year) for (idx, _, year), (plant, _) in plants.items()
              if plant == "cloudy_season"}  # fmt: skip
    hetero = np.random.default_rng([seed, 1]).normal(1.0, 0.05, (rows * 2, cols * 2))
    written: list[Path] = []
    cloud_rows: list[tuple[str, float]] = []
    for d in when:
        season, year = season_of(d)
        fcs = np.zeros(k)
        for j, idx in enumerate(present, start=1):
            crop, peak, jit = fc_peak[(idx, season, year)]
            fcs[j] = min(1.0, max(0.0, cover(crop, d, season, year, peak, jit)))
        fc10 = _block_mean(fcs.astype(np.float32)[compact], 10).astype(np.float64) * hetero
        fc10 = np.clip(fc10, 0, parcel_frac)
        refl = (
            fc10[None] * VEG[:, None, None]
            + (parcel_frac - fc10)[None] * SOIL[:, None, None]
            + (1 - parcel_frac)[None] * BUILT[:, None, None]
        )
        dry = np.zeros(k)
        for (idx, y), start in stressed.items():
            if y == year and d > start:
                dry[int(lut[idx])] = min(1.0, (d - start).days / STRESS_RAMP_DAYS)
        if dry.any():  # a drying canopy reflects more short-wave infrared: NDMI falls
            dry10 = _block_mean(dry.astype(np.float32)[compact], 10).astype(np.float64)
            refl[ALL_BANDS.index("B11")] += fc10 * dry10 * DRY_B11_DELTA
        rng = np.random.default_rng([seed, d.toordinal()])
        scl_cloud, cloud_frac = _clouds(rng, (rows, cols))
        for idx, y in sorted(cloudy):
            draw = np.random.default_rng([seed, d.toordinal(), int(idx), 13]).random()
            if y == year and season == "rabi" and draw < CLOUDY_PARCEL_RATE:
                on = _block_mean((compact == lut[idx]).astype(np.float32), 20) > 0
                scl_cloud = np.where(on, 9, scl_cloud).astype(scl_cloud.dtype)
                cloud_frac = float(np.isin(scl_cloud, (8, 9, 10)).mean())
        alpha20 = np.select(
            [scl_cloud == 9, scl_cloud == 8, scl_cloud == 10], [0.95, 0.7, 0.35], 0.0
        )
        alpha10 = np.repeat(np.repeat(alpha20, 2, 0), 2, 1)
        shadow10 = np.repeat(np.repeat(scl_cloud == 3, 2, 0), 2, 1)
        refl = (1 - alpha10) * refl + alpha10 * CLOUD[:, None, None]
        refl = np.where(shadow10[None], refl * 0.5, refl)
        stamp = f"T{TILE}_{d:%Y%m%d}T{TIME}"
        for b, name in enumerate(ALL_BANDS):
            band = refl[b] if name in BANDS_10M else _block_mean(refl[b], 2)
            band = band + rng.normal(0.0, NOISE_SIGMA, band.shape)
            dn = np.clip(np.round(band * SCALE) + OFFSET, 1, 65535).astype(np.uint16)
            res = 10.0 if name in BANDS_10M else 20.0
            path = out / f"{stamp}_{name}_{int(res)}m.tif"
            _write(path, dn, left, top, res, d)
            written.append(path)
        fc20 = _block_mean(fc10, 2)
        scl = np.where(fc20 >= 0.3, 4, 5).astype(np.uint8)
        scl = np.where(scl_cloud > 0, scl_cloud, scl).astype(np.uint16)
        path = out / f"{stamp}_SCL_20m.tif"
        _write(path, scl, left, top, 20.0, d)
        written.append(path)
        cloud_rows.append((d.isoformat(), round(100.0 * cloud_frac, 2)))
    with open(out / "ground_truth.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["mouza_id", "mouza", "khasra_id", "khasra_no", "season", "crop",
                    "girdawari_crop", "yield_t_ha"])  # fmt: skip
        # sorted apart from writerows: its Iterable[Any] context would hide the row type
        truth_rows = sorted(truth, key=lambda r: (r[4], r[2]))
        w.writerows(truth_rows)
    with open(out / "advisory_truth.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["mouza_id", "mouza", "khasra_id", "khasra_no", "season", "plant", "detail"])
        rows_out: list[tuple[int, str, int, str, str, str, str]] = []
        for (idx, season, year), (plant, detail) in plants.items():
            p = parcels[idx - 1]
            mid, mname = mouza_of[p.khasra_id]
            rows_out.append((mid, mname, p.khasra_id, p.khasra_no,
                             season_label(season, year), plant, detail))  # fmt: skip
        rows_out.sort(key=lambda r: (r[0], r[5]))
        w.writerows(rows_out)
    with open(out / "district_yields.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["crop", "season", "year", "mean_yield_t_ha"])
        for season, year in used:
            for crop in YIELD_RANGE:
                if crop == "fallow" or (crop in ("sugarcane", "orchard") and season == "rabi"):
                    continue
                for past in range(year - HISTORY_YEARS, year):
                    w.writerow([crop, season, past, district_mean_yield(crop, past)])
    with open(out / "scenes.csv", "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["date", "cloud_pct"])
        w.writerows(cloud_rows)
    return written
