"""Planted anomalies and their ground truth.

Every dispute and fraud signal of domain.md §6 that records and geometry can show
(signals 1-11; 12 needs imagery) is planted 3-6 times at seeded places. Transaction and
inheritance anomalies are planted by :mod:`landgov.demo.history` while it simulates,
settlement ones by :mod:`landgov.demo.settlement`; this module plans the counts, plants
the spatial ones on the layout and numbers the ground truth.

Where one planted fault implies another signal (a double sale over-allocates its
khewat), the implied signal gets its own ground-truth row, so a perfect detector's
findings equal the ground truth.
"""

from __future__ import annotations

import math
import random
from typing import Final

from shapely.geometry import Polygon

from landgov.demo.layout import Grid
from landgov.demo.model import Anomaly, Khasra, World
from landgov.demo.shapes import ring, split_by_fractions

SIGNALS: Final = {
    "over_allocation": 1,
    "under_allocation": 1,
    "transfer_exceeds_holding": 2,
    "double_sale": 3,
    "deeds_short_window": 3,
    "sale_after_death": 4,
    "gift_before_death": 4,
    "wrong_inheritance_shares": 5,
    "omitted_female_heir": 5,
    "transfer_without_deed": 6,
    "same_day_sanction": 7,
    "officer_outside_jurisdiction": 7,
    "under_declared_price": 8,
    "overlap": 9,
    "area_mismatch": 9,
    "tatima_area_mismatch": 9,
    "row_encroachment": 10,
    "unattested_jamabandi": 11,
    "orphan_khasra": 11,
    "stale_pending_mutation": 11,
}
"""Every planted kind and its signal number in domain.md §6."""


def plan_counts(rnd: random.Random) -> dict[str, int]:
    """How many of each kind to plant (3-6 each)."""
    targets = {kind: rnd.randint(3, 6) for kind in SIGNALS}
    over, under = targets.pop("over_allocation"), targets.pop("under_allocation")
    targets["settlement_over"], targets["over_allocation_mut"] = over // 2, over - over // 2
    targets["settlement_under"], targets["under_allocation_mut"] = under // 2, under - under // 2
    return targets


def _extend(
    poly: Polygon, a: tuple[float, float], b: tuple[float, float], dist: float, into: Polygon
) -> Polygon:
    """``poly`` pushed outwards across its edge a-b by ``dist`` metres, within ``into``."""
    pts = ring(poly)
    i = pts.index(a)
    assert pts[(i + 1) % len(pts)] == b
    # outward normal of a counter-clockwise ring is the edge direction turned clockwise
    ex, ey = b[0] - a[0], b[1] - a[1]
    length = math.hypot(ex, ey)
    nx, ny = ey / length * dist, -ex / length * dist
    strip = Polygon([a, b, (b[0] + nx, b[1] + ny), (a[0] + nx, a[1] + ny)])
    grown = poly.union(strip.intersection(into))
    assert grown.geom_type == "Polygon" and grown.is_valid
    return grown


def plant_spatial(
    world: World, grid: Grid, rnd: random.Random, targets: dict[str, int]
) -> set[int]:
    """Overlaps, right-of-way encroachments, area mismatches and bad tatima splits.

    Returns the ids of tatima parents whose children must keep their own (planted) areas.
    """
    used: set[int] = set()

    def usable(kid: int | None) -> Khasra | None:
        if kid is None or kid in used:
            return None
        k = world.khasra(kid)
        if k.kind != "killa" or k.retired_on is not None or k.frozen:
            return None
        return k

    def take(*ks: Khasra) -> None:
        for k in ks:
            used.add(k.id)
            k.frozen = True

    # overlaps: a killa drawn across its east edge into its neighbour
    cells = sorted(grid.cell_killa)
    rnd.shuffle(cells)
    planted = 0
    for k, j in cells:
        if planted == targets["overlap"]:
            break
        a, b = usable(grid.cell_killa.get((k, j))), usable(grid.cell_killa.get((k + 1, j)))
        if a is None or b is None or a.mouza_id != b.mouza_id:
            continue
        dist = rnd.uniform(6.0, 14.0)
        a.local = _extend(a.local, grid.p(k + 1, j), grid.p(k + 1, j + 1), dist, b.local)
        take(a, b)
        inter = a.local.intersection(b.local).area
        world.anomalies.append(
            Anomaly(
                9,
                "overlap",
                a.mouza_id,
                khasra_ids=(a.id, b.id),
                details=f"khasra {a.number} is drawn {dist:.1f} m into {b.number}: "
                f"about {inter:.0f} m² ({100 * inter / min(a.local.area, b.local.area):.0f} "
                "% of the smaller parcel)",
            )
        )
        planted += 1

    # encroachments: a killa next to the canal or road pushed into the right-of-way
    planted = 0
    for k, j in cells:
        if planted == targets["row_encroachment"]:
            break
        for band, bj in sorted(grid.band_j.items()):
            a = None
            if j == bj + 1:  # north of the band: its south edge faces it
                a, edge = usable(grid.cell_killa.get((k, j))), (grid.p(k, j), grid.p(k + 1, j))
            elif j == bj - 1:  # south of the band: its north edge faces it
                a, edge = (
                    usable(grid.cell_killa.get((k, j))),
                    (grid.p(k + 1, j + 1), grid.p(k, j + 1)),
                )
            if a is None:
                continue
            dist = rnd.uniform(6.0, 14.0) if band == "canal" else rnd.uniform(4.0, 8.0)
            segment = world.khasra(grid.band_segment[(band, k // 5)])
            a.local = _extend(a.local, edge[0], edge[1], dist, segment.local)
            segment.local = segment.local.difference(a.local)
            assert segment.local.geom_type == "Polygon"
            take(a)
            what = "canal" if band == "canal" else "road"
            world.anomalies.append(
                Anomaly(
                    10,
                    "row_encroachment",
                    a.mouza_id,
                    khasra_ids=(a.id,),
                    details=f"khasra {a.number} extends {dist:.1f} m into the {what} right-of-way "
                    f"(state land, {'Irrigation' if band == 'canal' else 'Highways'}): "
                    f"about {dist * math.dist(*edge):.0f} m² inside it",
                )
            )
            planted += 1
            break

    # record area off the map area by 2.5-8 %
    killas = [k for k in world.khasras if usable(k.id) is not None]
    for kh in rnd.sample(killas, targets["area_mismatch"]):
        kh.record_factor = 1 + rnd.choice((-1, 1)) * rnd.uniform(0.025, 0.08)
        take(kh)
        world.anomalies.append(
            Anomaly(
                9,
                "area_mismatch",
                kh.mouza_id,
                khasra_ids=(kh.id,),
                details=f"record area of khasra {kh.number} is "
                f"{100 * (kh.record_factor - 1):+.1f} % off its map area",
            )
        )

    # tatima children that leave a gap in their parent (areas do not sum)
    parents = [k for k in world.khasras if k.kind == "killa" and k.retired_on is not None]
    mismatched: set[int] = set()
    for parent in rnd.sample(parents, targets["tatima_area_mismatch"]):
        children = [k for k in world.khasras if k.parent_id == parent.id]
        last = children[-1]
        lost = parent.local.area * rnd.uniform(0.03, 0.06)
        keep = 1 - lost / last.local.area
        # cut across the last child at an angle; drop the outer sliver
        piece = max(
            split_by_fractions(last.local, [keep, 1 - keep], rnd.uniform(0, 180)),
            key=lambda p: p.area,
        )
        last.local = piece
        for c in children:
            c.frozen = True
        mismatched.add(parent.id)
        total = sum(c.local.area for c in children)
        world.anomalies.append(
            Anomaly(
                9,
                "tatima_area_mismatch",
                parent.mouza_id,
                khasra_ids=(parent.id,),
                details=f"tatima parcels of {parent.number} cover "
                f"{100 * total / parent.local.area:.1f} % of it (a gap where "
                f"{last.number} was drawn short)",
            )
        )
    return mismatched


def finish(world: World) -> None:
    """Gives every planted anomaly a stable id: kind-01, kind-02, ... in planting order."""
    counters: dict[str, int] = {}
    for a in world.anomalies:
        counters[a.kind] = counters.get(a.kind, 0) + 1
        a.anomaly_id = f"{a.kind}-{counters[a.kind]:02d}"
        assert SIGNALS[a.kind] == a.signal
        refs = {name: str(m.number) for name, m in a.refs.items()}
        if a.mutation is not None:
            refs.setdefault("m", str(a.mutation.number))
        if refs:
            a.details = a.details.format(**refs)
    world.anomalies.sort(key=lambda a: (a.signal, a.kind, a.anomaly_id))
