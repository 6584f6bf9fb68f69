"""Deterministic synthetic 0.5 m RGBN orthophotos with buildings, at two dates.

:func:`synthesize_orthophotos` renders a square window (default 1.2 km, 2400 × 2400 px
at 0.5 m, EPSG:32643) centred on the mouza's abadi and moved, if need be, so that the
nearest canal right-of-way and the nearest road right-of-way (``state_land``
``canal_row``/``road_row``) both fall inside it (1.44 km², the "few km² around the
settlement, canal and road" that the encroachment models need).

Model (documented choices, not physics; values are 8-bit DN, bands red/green/blue/nir):

* Background from the parcels' land class: irrigated fields (nehri, chahi) a mix of
  green crop and soil with a per-parcel cover and row striping at a per-parcel
  orientation; barani/banjar mostly soil; shamlat grass; forest trees; abadi packed earth;
  ghair_mumkin and land that is no parcel grey-brown. Right-of-way state land is drawn on
  top: the road's carriageway (ROW shrunk 6 m) asphalt, the canal's channel (ROW shrunk
  15 m) dark water with very low NIR, the rest earthen banks/verges. Vegetation has high
  NIR, roofs and roads low-moderate.
* Buildings: rotated rectangles with sides 5–25 m (abadi houses 6–18 m, packed and near
  a common orientation; sparse farmhouses on fields) and a roof colour from a palette
  (concrete, brick, whitewash, tin). Shadows: the building mask shifted 3 px south-east
  darkened × 0.45 where it falls on the ground.
* The last date adds new structures: up to 6 per right-of-way category inside the canal/
  road right-of-way (kiosks, shops and sheds 3.5–6 m deep and 4–12 m long on the banks/
  verges, aligned with it, never on the carriageway or in the channel), some on other
  state land in the window, and a few on private land.
* Noise: N(0, 3) DN per pixel and band, fixed per seed and date.

Files: ``ortho_<date>.tif`` (4-band uint8, band descriptions red/green/blue/nir,
``TIFFTAG_DATETIME``), ``buildings_<date>.tif`` (uint8, 1 = structure),
``new_structures.tif`` (1 = present at the last date and not the first) and
``structures.csv``. Same seed ⇒ byte-identical files.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt
import rasterio
from affine import Affine
from rasterio.features import rasterize
from rasterio.transform import from_origin
from shapely import affinity, box, wkb
from shapely.geometry import Point, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.ops import nearest_points, unary_union
from sqlalchemy import Connection, Engine, text

from landgov.demo.imagery_s2 import CRS, _as_conn
from landgov.errors import LandgovError
from landgov.storage.lookup import resolve_mouza, resolve_mouzas

RES: Final = 0.5
DEFAULT_DATES: Final = (date(2024, 3, 1), date(2026, 3, 1))
BAND_NAMES: Final = ("red", "green", "blue", "nir")

VEG: Final = np.array([45.0, 85.0, 40.0, 205.0])
SOIL: Final = np.array([150.0, 128.0, 100.0, 120.0])
GRASS: Final = np.array([95.0, 115.0, 70.0, 150.0])
TREE: Final = np.array([35.0, 65.0, 35.0, 175.0])
ABADI_GROUND: Final = np.array([155.0, 142.0, 125.0, 110.0])
LANE: Final = np.array([135.0, 128.0, 118.0, 100.0])
ASPHALT: Final = np.array([95.0, 96.0, 100.0, 80.0])
WATER: Final = np.array([30.0, 55.0, 78.0, 12.0])
BANK: Final = np.array([165.0, 150.0, 125.0, 128.0])
ROOFS: Final = np.array(
    [
        [175.0, 172.0, 165.0, 105.0],  # concrete
        [150.0, 85.0, 65.0, 95.0],  # brick
        [222.0, 220.0, 214.0, 135.0],  # whitewash
        [120.0, 128.0, 138.0, 85.0],  # tin
    ]
)
FIELD_CLASSES: Final = ("nehri", "chahi")
ROW_CATEGORIES: Final = ("canal_row", "road_row")
NOISE_DN: Final = 3.0
SHADOW_PX: Final = 3

# background codes
_LANE, _FIELD, _DRY, _GRASS, _TREE, _ABADI, _ASPHALT, _WATER, _BANK = range(9)
_CLASS_CODE: Final = {
    "nehri": _FIELD,
    "chahi": _FIELD,
    "barani": _DRY,
    "banjar": _DRY,
    "ghair_mumkin": _LANE,
    "abadi": _ABADI,
    "shamlat": _GRASS,
    "forest": _TREE,
}


@dataclass
class Structure:
    id: int
    geom: Polygon
    date_built: date
    roof: int
    state_land_category: str | None = None


@dataclass
class OrthoResult:
    images: list[Path]
    building_masks: list[Path]
    new_structures: Path
    structures_csv: Path
    dates: list[date]
    transform: Affine
    crs: str = CRS
    structures: list[Structure] = field(default_factory=list)


# (id, land class or state-land category, geometry in UTM 43N) of a parcel or state land
_Feature = tuple[int, str, BaseGeometry]


def _load(conn: Connection, mouza_id: int, as_of: date) -> tuple[list[_Feature], list[_Feature]]:
    parcels = conn.execute(
        text(
            "SELECT id, land_class, ST_AsBinary(ST_Transform(geom, 32643)) AS g FROM khasra"
            " WHERE mouza_id = :m AND (created_on IS NULL OR created_on <= :d)"
            " AND (retired_on IS NULL OR retired_on > :d) ORDER BY id"
        ),
        {"m": mouza_id, "d": as_of},
    ).all()
    state = conn.execute(
        text(
            "SELECT id, category, ST_AsBinary(ST_Transform(geom, 32643)) AS g FROM state_land"
            " ORDER BY id"
        )
    ).all()
    return (
        [(int(r.id), str(r.land_class), wkb.loads(bytes(r.g))) for r in parcels],
        [(int(r.id), str(r.category), wkb.loads(bytes(r.g))) for r in state],
    )


def _window(
    parcels: Sequence[_Feature], state: Sequence[_Feature], size_m: float
) -> tuple[float, float]:
    """Top-left corner: centred on the abadi, moved to take in the nearest right-of-way of
    each category (each move is the smallest that brings its point into view)."""
    abadi = [g for _, c, g in parcels if c == "abadi"] or [g for _, _, g in parcels]
    centre = unary_union(abadi).centroid
    cx, cy = centre.x, centre.y
    reach = size_m / 2 - min(60.0, size_m / 4)
    for cat in ROW_CATEGORIES:
        rows = [g for _, c, g in state if c == cat]
        if rows:
            p = nearest_points(centre, unary_union(rows))[1]
            cx = min(max(cx, p.x - reach), p.x + reach)
            cy = min(max(cy, p.y - reach), p.y + reach)
    left = math.floor(cx - size_m / 2)
    top = math.floor(cy + size_m / 2)
    return float(left), float(top)


def _rect(cx: float, cy: float, w: float, h: float, angle: float) -> Polygon:
    r = box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
    return affinity.rotate(r, angle, origin=(cx, cy))


def _axis_angle(geom: BaseGeometry) -> float:
    """Orientation (degrees) of the long side of the geometry's minimum rotated rectangle."""
    mrr = geom.minimum_rotated_rectangle
    if mrr.geom_type != "Polygon":
        return 0.0
    xs, ys = mrr.exterior.coords.xy
    sides = [(xs[i + 1] - xs[i], ys[i + 1] - ys[i]) for i in range(2)]
    dx, dy = max(sides, key=lambda s: math.hypot(*s))
    return math.degrees(math.atan2(dy, dx))


class _Placer:
    """Places non-overlapping rectangles, checked on an occupancy grid (1 m clearance)."""

    def __init__(self, left: float, top: float, n: int) -> None:
        self.left, self.top, self.n = left, top, n
        self.occ = np.zeros((n, n), bool)

    def _span(self, g: BaseGeometry) -> tuple[int, int, int, int]:
        x0, y0, x1, y1 = g.bounds
        c0 = int((x0 - 1 - self.left) / RES)
        c1 = math.ceil((x1 + 1 - self.left) / RES)
        r0 = int((self.top - y1 - 1) / RES)
        r1 = math.ceil((self.top - y0 + 1) / RES)
        return r0, r1, c0, c1

    def try_add(self, g: BaseGeometry) -> bool:
        r0, r1, c0, c1 = self._span(g)
        if r0 < 0 or c0 < 0 or r1 > self.n or c1 > self.n or self.occ[r0:r1, c0:c1].any():
            return False
        self.occ[r0 + 2 : r1 - 2, c0 + 2 : c1 - 2] = True
        return True


def _place(
    rng: np.random.Generator,
    placer: _Placer,
    region: BaseGeometry | None,
    count: int,
    sides: tuple[float, float],
    angle: float,
    jitter: float,
    attempts: int = 40,
    avoid: BaseGeometry | None = None,
) -> list[Polygon]:
    """Up to ``count`` rectangles lying within ``region`` (and off ``avoid``)."""
    out: list[Polygon] = []
    if region is None or region.is_empty or count <= 0:
        return out
    x0, y0, x1, y1 = region.bounds
    for _ in range(count * attempts):
        if len(out) >= count:
            break
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        w, h = rng.uniform(*sides), rng.uniform(*sides)
        a = angle + rng.normal(0.0, jitter)
        g = _rect(cx, cy, max(w, h), min(w, h), a)
        if not region.contains(g) or (avoid is not None and g.intersects(avoid)):
            continue
        if placer.try_add(g):
            out.append(g)
    return out


def _place_row(
    rng: np.random.Generator,
    placer: _Placer,
    verge: BaseGeometry,
    carriageway: BaseGeometry,
    count: int,
    angle: float,
    attempts: int = 600,
) -> list[Polygon]:
    """Up to ``count`` structures on a right-of-way's verges/banks (``verge``), aligned with
    it, off the carriageway/channel: 3.5–6 m deep, 4–12 m along the road or canal."""
    from shapely.prepared import prep

    out: list[Polygon] = []
    if verge.is_empty or count <= 0:
        return out
    inside, off = prep(verge), prep(carriageway) if not carriageway.is_empty else None
    x0, y0, x1, y1 = verge.bounds
    for _ in range(count * attempts):
        if len(out) >= count:
            break
        cx, cy = rng.uniform(x0, x1), rng.uniform(y0, y1)
        deep, along = rng.uniform(3.5, 6.0), rng.uniform(4.0, 12.0)
        g = _rect(cx, cy, along, deep, angle + rng.normal(0.0, 2.0))
        if not inside.contains(g) or (off is not None and off.intersects(g)):
            continue
        if placer.try_add(g):
            out.append(g)
    return out


def _write(
    path: Path,
    arr: np.ndarray,
    transform: Affine,
    when: date | None,
    names: Sequence[str] | None = None,
) -> None:
    count = arr.shape[0] if arr.ndim == 3 else 1
    profile = {
        "driver": "GTiff",
        "width": arr.shape[-1],
        "height": arr.shape[-2],
        "count": count,
        "dtype": "uint8",
        "crs": CRS,
        "transform": transform,
        "compress": "deflate",
    }
    with rasterio.open(path, "w", **profile) as dst:
        if arr.ndim == 3:
            dst.write(arr)
        else:
            dst.write(arr, 1)
        if names:
            for i, name in enumerate(names, start=1):
                dst.set_band_description(i, name)
        if when is not None:
            dst.update_tags(TIFFTAG_DATETIME=f"{when:%Y:%m:%d} 06:00:00")


def synthesize_orthophotos(
    conn_or_engine: Connection | Engine,
    out_dir: str | Path,
    *,
    seed: int = 42,
    mouza: int | str | None = None,
    dates: Sequence[date] = DEFAULT_DATES,
    size_m: float = 1200,
) -> OrthoResult:
    """Writes the orthophotos, masks and ``structures.csv``; see the module doc."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    when = sorted(dates)
    if len(when) < 2:
        raise ValueError("give at least two dates")
    with _as_conn(conn_or_engine) as conn:
        # no mouza named: the district's first, as the demo's orthophotos are
        mouza_id = (
            resolve_mouza(conn, mouza) if mouza is not None else resolve_mouzas(conn, None)[0][0]
        )
        parcels, state = _load(conn, mouza_id, when[-1])
    if not parcels:
        raise LandgovError(f"mouza {mouza_id} has no parcels")
    left, top = _window(parcels, state, size_m)
    n = round(size_m / RES)
    transform = from_origin(left, top, RES, RES)
    win = box(left, top - n * RES, left + n * RES, top)
    parcels = [p for p in parcels if p[2].intersects(win)]
    state = [s for s in state if s[2].intersects(win)]
    rng = np.random.default_rng([seed, 11])

    # background codes and parcel index
    shapes = [(g, _CLASS_CODE.get(c, _LANE)) for _, c, g in parcels]
    idx_shapes = [(g, i + 1) for i, (_, _, g) in enumerate(parcels)]
    rows_geoms = {c: unary_union([g for _, cc, g in state if cc == c]) for c in ROW_CATEGORIES}
    inner = {
        "road_row": rows_geoms["road_row"].buffer(-6.0),
        "canal_row": rows_geoms["canal_row"].buffer(-15.0),
    }
    for cat, code in (("road_row", _ASPHALT), ("canal_row", _WATER)):
        if not rows_geoms[cat].is_empty:
            shapes.append((rows_geoms[cat], _BANK))
            if not inner[cat].is_empty:
                shapes.append((inner[cat], code))
    code = rasterize(shapes, out_shape=(n, n), transform=transform, fill=_LANE, dtype="uint8")
    pidx = (
        rasterize(idx_shapes, out_shape=(n, n), transform=transform, fill=0, dtype="int32")
        if idx_shapes
        else np.zeros((n, n), np.int32)
    )
    k = len(parcels) + 1
    pr = np.random.default_rng([seed, 12])
    fc_base = np.concatenate([[0.0], pr.uniform(0.55, 0.95, k - 1)])
    theta = np.concatenate([[0.0], pr.uniform(0, math.pi, k - 1)])
    period = np.concatenate([[1.0], pr.uniform(1.5, 3.0, k - 1)])
    cols_m = (np.arange(n) + 0.5) * RES
    xx, yy = np.meshgrid(cols_m, cols_m)
    stripe = 0.5 + 0.5 * np.sin(
        2 * math.pi * (xx * np.cos(theta[pidx]) + yy * np.sin(theta[pidx])) / period[pidx]
    )
    from scipy.ndimage import gaussian_filter

    mottle = gaussian_filter(np.random.default_rng([seed, 13]).normal(0, 1, (n, n)), 6)
    mottle = mottle / (mottle.std() or 1.0)

    # structures
    placer = _Placer(left, top, n)
    structs: list[Structure] = []
    d0, d1 = when[0], when[-1]

    def add(
        geoms: Iterable[Polygon], built_lo: date, built_hi: date, cat: str | None = None
    ) -> None:
        for g in geoms:
            days = max(1, (built_hi - built_lo).days)
            built = built_lo + timedelta(days=int(rng.integers(0, days)))
            structs.append(Structure(len(structs) + 1, g, built, int(rng.integers(0, 4)), cat))

    before = d0 - timedelta(days=365 * 30)
    abadi = unary_union([g for _, c, g in parcels if c == "abadi"]).intersection(win)
    base_angle = _axis_angle(abadi) if not abadi.is_empty else 0.0
    n_abadi = int(abadi.area / 150)
    add(_place(rng, placer, abadi, n_abadi, (6, 18), base_angle, 3, 30), before, d0)
    state_all = unary_union([g for _, _, g in state]) if state else Polygon()
    for _, c, g in parcels:
        if c in (*FIELD_CLASSES, "barani", "banjar") and rng.random() < 0.12:
            region = g.intersection(win).difference(state_all)
            add(_place(rng, placer, region, int(rng.integers(1, 3)), (5, 25), 0, 30), before, d0)
    # new at the last date: in the right-of-way, on other state land, on private land
    new_lo = d0 + timedelta(days=1)
    for cat in ROW_CATEGORIES:
        row = rows_geoms[cat].intersection(win)
        if row.is_empty:
            continue
        verge = row.difference(inner[cat])
        add(_place_row(rng, placer, verge, inner[cat], 6, _axis_angle(row)), new_lo, d1, cat)
    for _, cat, g in state:
        if cat not in ROW_CATEGORIES:
            region = g.intersection(win).difference(unary_union(list(rows_geoms.values())))
            add(_place(rng, placer, region, 2, (5, 15), 0, 30), new_lo, d1, cat)
    private = [g.intersection(win).difference(state_all) for _, c, g in parcels]
    private = [g for g in private if g.area > 400]
    for i in rng.permutation(len(private))[:4]:
        add(_place(rng, placer, private[int(i)], 1, (6, 20), 0, 30), new_lo, d1)
    for s in structs:
        if s.state_land_category is None:
            hit = [c for _, c, g in state if g.intersects(s.geom)]
            s.state_land_category = hit[0] if hit else None

    # render
    images: list[Path] = []
    masks: list[Path] = []
    built_masks: list[np.ndarray] = []
    for d in when:
        dr = np.random.default_rng([seed, d.toordinal()])
        fc = np.clip(fc_base[pidx] * dr.uniform(0.9, 1.05) * (0.8 + 0.2 * stripe), 0, 1)
        fc = np.clip(fc + 0.05 * mottle, 0, 1)
        # float32 while composed, float64 once the sensor noise is added
        img: npt.NDArray[np.float32 | np.float64] = np.empty((4, n, n), np.float32)
        for b in range(4):
            band = LANE[b] + np.zeros((n, n), np.float32)
            mix = fc * VEG[b] + (1 - fc) * SOIL[b]
            dry = 0.15 * VEG[b] + 0.85 * SOIL[b]
            for cover, val in (
                (_FIELD, mix),
                (_DRY, dry),
                (_GRASS, GRASS[b]),
                (_TREE, TREE[b]),
                (_ABADI, ABADI_GROUND[b]),
                (_ASPHALT, ASPHALT[b]),
                (_WATER, WATER[b]),
                (_BANK, BANK[b]),
            ):
                band = np.where(code == cover, val, band)
            img[b] = band * (1 + 0.03 * mottle)
        present = [s for s in structs if s.date_built <= d]
        sid = (
            rasterize(
                [(s.geom, s.id) for s in present],
                out_shape=(n, n),
                transform=transform,
                fill=0,
                dtype="int32",
            )
            if present
            else np.zeros((n, n), np.int32)
        )
        built = sid > 0
        shadow = np.zeros((n, n), bool)
        shadow[SHADOW_PX:, SHADOW_PX:] = built[:-SHADOW_PX, :-SHADOW_PX]
        shadow &= ~built
        roof_lut = np.zeros((len(structs) + 1, 4), np.float32)
        for s in structs:
            roof_lut[s.id] = ROOFS[s.roof] * (0.92 + 0.16 * ((s.id * 37) % 11) / 10)
        roofs = roof_lut[sid].transpose(2, 0, 1)
        img = np.where(built[None], roofs, img)
        img = np.where(shadow[None], img * 0.45, img)
        img = img + dr.normal(0.0, NOISE_DN, img.shape)
        dn = np.clip(np.round(img), 1, 255).astype(np.uint8)
        path = out / f"ortho_{d.isoformat()}.tif"
        _write(path, dn, transform, d, BAND_NAMES)
        images.append(path)
        mpath = out / f"buildings_{d.isoformat()}.tif"
        _write(mpath, built.astype(np.uint8), transform, None)
        masks.append(mpath)
        built_masks.append(built)
    new = (built_masks[-1] & ~built_masks[0]).astype(np.uint8)
    new_path = out / "new_structures.tif"
    _write(new_path, new, transform, None)
    csv_path = out / "structures.csv"
    with open(csv_path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(
            [
                "id",
                "date_built",
                "on_state_land",
                "state_land_category",
                "area_m2",
                "centroid_x",
                "centroid_y",
            ]
        )
        for s in structs:
            centroid: Point = s.geom.centroid
            category = s.state_land_category
            w.writerow(
                [
                    s.id,
                    s.date_built.isoformat(),
                    str(category is not None).lower(),
                    category or "",
                    f"{s.geom.area:.2f}",
                    f"{centroid.x:.2f}",
                    f"{centroid.y:.2f}",
                ]
            )
    return OrthoResult(images, masks, new_path, csv_path, when, transform, CRS, structs)
