"""Geometry of the demo district: a canal-colony grid of murabbas and killas.

Conventions (demo):

- A killa is 198 ft (east-west) × 220 ft (north-south) = 43,560 ft², one acre; a murabba
  is 5 × 5 killas = 25 acres (domain.md §3). Khasra numbers are ``murabba//killa``.
- Killas are numbered 1-25 inside a murabba in serpentine order from the north-west
  corner: the north row west to east (1-5), the next row east to west (6-10), and so on,
  so killa 25 is the south-west corner.
- Murabbas are numbered per mouza row by row from the north-west, west to east,
  skipping the abadi and forest squares.
- Every mouza has six murabba rows. From south to north: two rows, the canal
  distributary (a 10 m channel with 15 m of right-of-way on each side: 40 m, Irrigation),
  three rows, a district road (66 ft right-of-way, Highways), one row. Road and canal are
  ``ghair_mumkin`` khasras with ordinary numbers, one per murabba column.
- One square next to the road is the abadi (village settlement), cut into irregular
  plots with ordinary numbers; in one mouza two squares are a forest plantation; in each
  mouza five killas of one murabba are shamlat (village common).
- About 8 % of the killas were split before the settlement into tatima parcels
  ``45//12/1``, ``45//12/2`` by cuts at an angle to the killa sides.

Lattice points are jittered by a few decimetres (digitising noise) and every parcel is
built from the shared lattice, so parcels tile without gaps or overlaps. The grid is
rotated by a few degrees and placed around Sheikhupura (31.71 N, 73.98 E), in UTM 43N.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import shapely
from shapely.geometry import Polygon

from landgov.demo.model import Khasra, StateLand, World
from landgov.demo.shapes import Frame, split_by_fractions
from landgov.demo.spec import MOUZAS
from landgov.domain import FOOT_M, KhasraNumber

FT = float(FOOT_M)
KILLA_W = 198 * FT  # east-west, metres
KILLA_H = 220 * FT  # north-south, metres
CANAL_CHANNEL_M = 10.0
CANAL_BUFFER_M = 15.0
CANAL_ROW_M = CANAL_CHANNEL_M + 2 * CANAL_BUFFER_M
ROAD_ROW_M = 66 * FT
ROWS_SOUTH_TO_NORTH = ("m", "m", "canal", "m", "m", "m", "road", "m")
CENTRE_LONLAT = (73.98, 31.71)
TATIMA_SHARE = 0.08
JITTER_M = 0.3


@dataclass
class Grid:
    """The lattice and where each kind of parcel sits in it."""

    points: np.ndarray  # (nu, nv, 2) jittered lattice points
    band_j: dict[str, int]  # lattice row index of the bottom of the canal / road band
    cell_killa: dict[tuple[int, int], int] = field(default_factory=dict)  # -> khasra id
    band_segment: dict[tuple[str, int], int] = field(default_factory=dict)  # (band, col)

    def p(self, k: int, j: int) -> tuple[float, float]:
        return (float(self.points[k, j, 0]), float(self.points[k, j, 1]))

    def cell(self, k: int, j: int) -> Polygon:
        return Polygon([self.p(k, j), self.p(k + 1, j), self.p(k + 1, j + 1), self.p(k, j + 1)])

    def band(self, col: int, j: int) -> Polygon:
        bottom = [self.p(k, j) for k in range(5 * col, 5 * col + 6)]
        top = [self.p(k, j + 1) for k in range(5 * col + 5, 5 * col - 1, -1)]
        return Polygon(bottom + top)

    def outline(self, k0: int, k1: int, j0: int, j1: int) -> Polygon:
        """The lattice rectangle [k0, k1] × [j0, j1] with every boundary point."""
        pts = [self.p(k, j0) for k in range(k0, k1)]
        pts += [self.p(k1, j) for j in range(j0, j1)]
        pts += [self.p(k, j1) for k in range(k1, k0, -1)]
        pts += [self.p(k0, j) for j in range(j1, j0, -1)]
        return Polygon(pts)


def serpentine(row: int, col: int) -> int:
    """Killa number (1-25) of killa row ``row`` (0 = north), column ``col`` (0 = west)."""
    return 5 * row + (col if row % 2 == 0 else 4 - col) + 1


def make_layout(world: World, rnd: random.Random, nprng: np.random.Generator) -> Grid:
    """Fills ``world`` with khasras and state land (local frame) and returns the grid."""
    total_cols = sum(spec.cols for spec in MOUZAS)
    u = np.arange(5 * total_cols + 1) * KILLA_W
    v_lines = [0.0]
    murabba_rows: list[int] = []  # lattice j of the south edge of each murabba row (S->N)
    band_j: dict[str, int] = {}
    for item in ROWS_SOUTH_TO_NORTH:
        if item == "m":
            murabba_rows.append(len(v_lines) - 1)
            for _ in range(5):
                v_lines.append(v_lines[-1] + KILLA_H)
        else:
            band_j[item] = len(v_lines) - 1
            v_lines.append(v_lines[-1] + (CANAL_ROW_M if item == "canal" else ROAD_ROW_M))
    v = np.asarray(v_lines)
    uu, vv = np.meshgrid(u, v, indexing="ij")
    noise = np.clip(nprng.normal(0.0, JITTER_M, size=(*uu.shape, 2)), -0.8, 0.8)
    points = np.stack((uu, vv), axis=-1) + noise
    grid = Grid(points=points, band_j=band_j)
    rows_north_first = list(reversed(murabba_rows))
    n_rows = len(rows_north_first)

    rotation = rnd.choice((-1, 1)) * rnd.uniform(3.0, 9.0)
    frame = Frame(CENTRE_LONLAT, (float(u[-1]) / 2, float(v[-1]) / 2), rotation)

    col0 = 0
    for mouza, spec in zip(world.mouzas, MOUZAS, strict=True):
        cols = range(col0, col0 + spec.cols)
        abadi = (1, rnd.randint(1, spec.cols - 2))  # (row from north, column in mouza)
        forest = (
            {(n_rows - 1, spec.cols - 2), (n_rows - 1, spec.cols - 1)} if spec.forest else set()
        )
        # extra jitter inside the abadi square: its plots are irregular
        ak, aj = 5 * (col0 + abadi[1]), rows_north_first[abadi[0]]
        grid.points[ak + 1 : ak + 5, aj + 1 : aj + 5] += nprng.uniform(-6.0, 6.0, size=(4, 4, 2))

        ordinary = 0

        def add(
            number: KhasraNumber,
            land_class: str,
            poly: Polygon,
            kind: str,
            mouza_id: int = mouza.id,
        ) -> Khasra:
            k = Khasra(
                id=len(world.khasras) + 1,
                mouza_id=mouza_id,
                number=number,
                land_class=land_class,
                local=poly,
                kind=kind,
                frozen=kind not in ("killa", "tatima"),
            )
            world.khasras.append(k)
            return k

        # bands: road then canal, west to east
        band_polys: dict[str, list[Polygon]] = {"road": [], "canal": []}
        for band in ("road", "canal"):
            for c in cols:
                ordinary += 1
                poly = grid.band(c, band_j[band])
                segment = add(KhasraNumber(None, ordinary), "ghair_mumkin", poly, band)
                grid.band_segment[(band, c)] = segment.id
                band_polys[band].append(poly)

        # abadi plots: random rectangles of killa cells, merged
        free = [[True] * 5 for _ in range(5)]
        for r in range(5):
            for cc in range(5):
                if not free[r][cc]:
                    continue
                w = 1
                while w < 3 and cc + w < 5 and free[r][cc + w] and rnd.random() < 0.6:
                    w += 1
                h = (
                    2
                    if r < 4 and all(free[r + 1][cc + x] for x in range(w)) and rnd.random() < 0.5
                    else 1
                )
                cells = []
                for dr in range(h):
                    for dc in range(w):
                        free[r + dr][cc + dc] = False
                        cells.append(grid.cell(ak + cc + dc, aj + 4 - (r + dr)))
                ordinary += 1
                add(KhasraNumber(None, ordinary), "abadi", shapely.union_all(cells), "abadi")

        # forest compartments
        forest_polys = []
        for fr, fc in sorted(forest):
            fk, fj = 5 * (col0 + fc), rows_north_first[fr]
            for k0, k1 in ((0, 3), (3, 5)):
                ordinary += 1
                poly = grid.outline(fk + k0, fk + k1, fj, fj + 5)
                add(KhasraNumber(None, ordinary), "forest", poly, "forest")
                forest_polys.append(poly)

        # murabbas
        positions = [
            (r, c)
            for r in range(n_rows)
            for c in range(spec.cols)
            if (r, c) != abadi and (r, c) not in forest
        ]
        shamlat_pos = positions[rnd.randrange(len(positions))]
        shamlat_polys = []
        for number, (r, c) in enumerate(positions, start=1):
            mk, mj = 5 * (col0 + c), rows_north_first[r]
            base = rnd.choices(("nehri", "chahi", "barani"), (75, 17, 8))[0]
            for kr in range(5):
                for kc in range(5):
                    killa = serpentine(kr, kc)
                    k, j = mk + kc, mj + 4 - kr
                    poly = grid.cell(k, j)
                    if (r, c) == shamlat_pos and kr == 4:
                        add(KhasraNumber(number, killa), "shamlat", poly, "shamlat")
                        shamlat_polys.append(poly)
                        continue
                    land_class = base
                    if rnd.random() < 0.15:
                        land_class = rnd.choices(
                            ("nehri", "chahi", "barani", "banjar"), (40, 30, 10, 20)
                        )[0]
                    kh = add(KhasraNumber(number, killa), land_class, poly, "killa")
                    grid.cell_killa[(k, j)] = kh.id

        # state land of this mouza (the notified extent, drawn from the lattice)
        def state(
            category: str,
            custodian: str,
            name: str,
            notification: str,
            polys: list[Polygon],
            mouza_id: int = mouza.id,
        ) -> None:
            world.state_land.append(
                StateLand(
                    id=len(world.state_land) + 1,
                    mouza_id=mouza_id,
                    category=category,
                    custodian=custodian,
                    name=name,
                    notification=notification,
                    local=shapely.union_all(polys),
                )
            )

        state(
            "road_row",
            "highways",
            f"Sheikhupura-Sharaqpur link road ({spec.name})",
            "Highways Dept. notification No. HW/SKP/1979/52 (right-of-way 66 ft)",
            band_polys["road"],
        )
        state(
            "canal_row",
            "irrigation",
            f"Kot Rehmat Distributary ({spec.name})",
            "Irrigation Dept. notification No. IRR/LCC/1966/214 (10 m channel, "
            "15 m right-of-way each side)",
            band_polys["canal"],
        )
        state(
            "shamlat",
            "village_proprietary_body",
            f"Shamlat deh {spec.name}",
            f"Jamabandi {spec.name} 2002, khewat 1 (shamlat deh)",
            shamlat_polys,
        )
        if forest_polys:
            state(
                "forest",
                "forest",
                f"Rakh {spec.name} plantation",
                "Forest Dept. notification No. FOR/1972/87 (reserved plantation)",
                forest_polys,
            )

        mouza.boundary_local = grid.outline(5 * cols.start, 5 * cols.stop, 0, len(v) - 1)
        col0 += spec.cols

    _settlement_tatimas(world, rnd)
    world.frame = frame
    return grid


def _settlement_tatimas(world: World, rnd: random.Random) -> None:
    """Splits about 8 % of killas into tatima parcels before the settlement."""
    for parent in list(world.khasras):
        if parent.kind != "killa" or rnd.random() >= TATIMA_SHARE:
            continue
        if rnd.random() < 0.7:
            f = rnd.uniform(0.3, 0.7)
            fractions = [f, 1 - f]
        else:
            raw = [rnd.uniform(0.8, 1.2) for _ in range(3)]
            fractions = [x / sum(raw) for x in raw]
        angle = rnd.choice((0.0, 90.0)) + rnd.choice((-1, 1)) * rnd.uniform(15.0, 40.0)
        pieces = split_by_fractions(parent.local, fractions, angle)
        when = date(1975, 1, 1) + timedelta(days=rnd.randrange(365 * 26))
        parent.retired_on = when
        for i, piece in enumerate(pieces, start=1):
            world.khasras.append(
                Khasra(
                    id=len(world.khasras) + 1,
                    mouza_id=parent.mouza_id,
                    number=parent.number.child(i),
                    land_class=parent.land_class,
                    local=piece,
                    parent_id=parent.id,
                    created_on=when,
                    kind="tatima",
                )
            )


def split_angle(rnd: random.Random) -> float:
    """A cut direction at an angle to the killa sides, as partitions draw them."""
    return rnd.choice((0.0, 90.0)) + rnd.choice((-1, 1)) * rnd.uniform(5.0, 30.0)


def to_lonlat(world: World) -> None:
    """Converts every local geometry to EPSG:4326 MultiPolygons."""
    frame: Frame = world.frame
    geoms = frame.to_lonlat([k.local for k in world.khasras])
    for k, g in zip(world.khasras, geoms, strict=True):
        k.geom = g
    for s, g in zip(
        world.state_land, frame.to_lonlat([s.local for s in world.state_land]), strict=True
    ):
        s.geom = g
    for m, g in zip(
        world.mouzas, frame.to_lonlat([m.boundary_local for m in world.mouzas]), strict=True
    ):
        m.boundary = g
