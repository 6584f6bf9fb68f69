"""Planted anomalies and their ground truth.

Every dispute and fraud signal of domain.md §6 that records and geometry can show
(signals 1-11; 12 needs imagery) is planted 3-6 times at seeded places. This module plans
the counts, plants the spatial ones on the layout, plants the transaction ones when
:mod:`landgov.demo.history` fires their events (the ``plant_*`` functions, the gift
before death, the sale after death) and numbers the ground truth. Inheritance faults are
decided inside the history's wirasat, settlement ones by :mod:`landgov.demo.settlement`.

Where one planted fault implies another signal (a double sale over-allocates its
khewat), the implied signal gets its own ground-truth row, so a perfect detector's
findings equal the ground truth.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Final

from shapely.geometry import Polygon

from landgov.demo.layout import Grid
from landgov.demo.model import DEED_REQUIRED_FROM, Anomaly, Khasra, Line, Mutation, Party, World
from landgov.demo.shapes import ring, split_by_fractions
from landgov.domain import format_share

if TYPE_CHECKING:
    from landgov.demo.history import History
    from landgov.demo.settlement import KState

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


def record(world: World, kind: str, mouza_id: int, details: str, **fields: Any) -> None:
    """Adds one ground-truth row; its signal number is looked up, so it always fits the kind."""
    world.anomalies.append(Anomaly(SIGNALS[kind], kind, mouza_id, details, **fields))


def record_mutation(
    world: World,
    kind: str,
    ks: KState,
    m: Mutation,
    party: int | None,
    details: str,
    khasras: tuple[int, ...] = (),
    **refs: Mutation,
) -> None:
    """Adds the ground truth of an anomaly planted by mutation ``m`` on khewat ``ks``.

    ``{m}`` in ``details``, and ``{name}`` for each mutation in ``refs``, become register
    numbers once the mutations are numbered (:func:`finish`).
    """
    record(
        world,
        kind,
        ks.mouza_id,
        details,
        khewat_id=ks.id,
        khasra_ids=khasras,
        mutation=m,
        party_id=party,
        refs=refs,
    )


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
        record(
            world,
            "overlap",
            a.mouza_id,
            f"khasra {a.number} is drawn {dist:.1f} m into {b.number}: "
            f"about {inter:.0f} m² ({100 * inter / min(a.local.area, b.local.area):.0f} "
            "% of the smaller parcel)",
            khasra_ids=(a.id, b.id),
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
            record(
                world,
                "row_encroachment",
                a.mouza_id,
                f"khasra {a.number} extends {dist:.1f} m into the {what} right-of-way "
                f"(state land, {'Irrigation' if band == 'canal' else 'Highways'}): "
                f"about {dist * math.dist(*edge):.0f} m² inside it",
                khasra_ids=(a.id,),
            )
            planted += 1
            break

    # record area off the map area by 2.5-8 %
    killas = [k for k in world.khasras if usable(k.id) is not None]
    for kh in rnd.sample(killas, targets["area_mismatch"]):
        kh.record_factor = 1 + rnd.choice((-1, 1)) * rnd.uniform(0.025, 0.08)
        take(kh)
        record(
            world,
            "area_mismatch",
            kh.mouza_id,
            f"record area of khasra {kh.number} is "
            f"{100 * (kh.record_factor - 1):+.1f} % off its map area",
            khasra_ids=(kh.id,),
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
        record(
            world,
            "tatima_area_mismatch",
            parent.mouza_id,
            f"tatima parcels of {parent.number} cover "
            f"{100 * total / parent.local.area:.1f} % of it (a gap where "
            f"{last.number} was drawn short)",
            khasra_ids=(parent.id,),
        )
    return mismatched


# -- transaction anomalies, planted when the history fires their events ---------------

PLANT_WINDOW: Final = (date(2004, 1, 1), date(2025, 6, 30))
"""When transaction anomalies are planted, unless :data:`WINDOWS` says otherwise."""
WINDOWS: Final = {
    # a missing deed is a fault only once deeds are required
    "transfer_without_deed": (date(2026, 1, 5), date(2026, 8, 31)),
    # old enough to be stale, entered after the records went digital
    "stale_pending_mutation": (date(2017, 1, 1), date(2023, 12, 31)),
}


def plant_window(kind: str) -> tuple[date, date]:
    """The days on which ``kind`` may be planted (retries stop at the last)."""
    return WINDOWS.get(kind, PLANT_WINDOW)


def _plant_on_sale(
    h: History,
    kind: str,
    mouza_id: int,
    day: date,
    details: Callable[[Mutation], str],
    options: Callable[[], dict[str, Any]] = dict,
) -> bool:
    """Plants ``kind`` on a sale of one holder's whole share that is never rejected.

    Five kinds differ only in the sale's options (a low price, a timing, an outside
    officer, no deed, never decided) and in the ground truth's words. ``options`` is
    called after the holder is found, so its random draws come where they always did and
    a seed still gives the same district.
    """
    found = h.find_holder(mouza_id, day)
    if found is None:
        return False
    ks, seller = found
    m = h.sale(ks, seller, ks.own[seller].share, day, reject_ok=False, **options())
    if m is None:
        return False
    record_mutation(h.world, kind, ks, m, seller, details(m))
    return True


def plant_under_declared_price(h: History, mouza_id: int, day: date) -> bool:
    """Signal 8: a sale declared at 15-38 % of its DC value (honest ones declare more)."""

    def details(m: Mutation) -> str:
        assert m.consideration_rs is not None and m.statutory_value_rs is not None
        return (
            f"declared Rs {m.consideration_rs:,} against a DC value of "
            f"Rs {m.statutory_value_rs:,} "
            f"({100 * m.consideration_rs / m.statutory_value_rs:.0f} %)"
        )

    return _plant_on_sale(
        h,
        "under_declared_price",
        mouza_id,
        day,
        details,
        lambda: {"ratio": h.rnd.uniform(0.15, 0.38)},
    )


def plant_same_day_sanction(h: History, mouza_id: int, day: date) -> bool:
    """Signal 7: a sale entered, verified and sanctioned on one day."""
    return _plant_on_sale(
        h,
        "same_day_sanction",
        mouza_id,
        day,
        lambda m: f"entered, verified and sanctioned on {day.isoformat()}",
        lambda: {"timing": (day, day)},
    )


def plant_officer_outside_jurisdiction(h: History, mouza_id: int, day: date) -> bool:
    """Signal 7: a sale sanctioned by an officer posted to the other tehsil."""

    def options() -> dict[str, Any]:
        timing = h.timeline(day)
        return {"timing": timing, "officer": h.outsider(timing[1])}

    def details(m: Mutation) -> str:
        assert m.officer_id is not None
        o = h.world.officers[m.officer_id - 1]
        return (
            f"sanctioned by {o.name} ({o.designation}, {o.cnic}), posted to "
            f"{h.hier.other_tehsil.name} tehsil, not to this mouza's tehsil"
        )

    return _plant_on_sale(h, "officer_outside_jurisdiction", mouza_id, day, details, options)


def plant_transfer_without_deed(h: History, mouza_id: int, day: date) -> bool:
    """Signal 6: a sale sanctioned without a registered deed after deeds became required."""
    return _plant_on_sale(
        h,
        "transfer_without_deed",
        mouza_id,
        day,
        lambda m: (
            f"sale entered {day.isoformat()} and sanctioned without a registered deed "
            f"(required from {DEED_REQUIRED_FROM.isoformat()})"
        ),
        lambda: {"deed": False},
    )


def plant_stale_pending_mutation(h: History, mouza_id: int, day: date) -> bool:
    """Signal 11: a sale entered years ago and never verified or decided."""
    return _plant_on_sale(
        h,
        "stale_pending_mutation",
        mouza_id,
        day,
        lambda m: f"entered {day.isoformat()} and never verified or decided (unattested entry)",
        lambda: {"pending": True, "deed": False},
    )


def _implied_over_allocation(world: World, ks: KState, cause: str, m: Mutation) -> None:
    """The over-allocation that a planted over-transfer implies gets its own row."""
    record_mutation(
        world,
        "over_allocation",
        ks,
        m,
        None,
        f"implied by {cause} {{m}}: khewat shares total more than 1 from its decision",
    )


def plant_double_sale(h: History, mouza_id: int, day: date) -> bool:
    """Signal 3: a holder sells all of a share, then sells it (or half) again days later.

    The second sale is decided after the first, so it also transfers more than the
    seller still holds (signal 2) and over-allocates the khewat (signal 1).
    """
    rnd = h.rnd
    found = h.find_holder(mouza_id, day)
    if found is None:
        return False
    ks, q = found
    held = ks.own[q].share
    b1 = h.pick_person(day, day + timedelta(days=200), [q, *ks.own])
    b2 = h.pick_person(day, day + timedelta(days=200), [q, *ks.own, b1.id if b1 else 0])
    if b1 is None or b2 is None:
        return False
    t1 = h.timeline(day)
    first = h.sale(ks, q, held, day, buyers=[b1.id], reject_ok=False, timing=t1, deed=True)
    assert first is not None
    day2 = day + h.days(4, 20)
    verified2 = day2 + h.days(2, 8)
    decided2 = max(t1[1] + h.days(3, 15), verified2 + timedelta(days=10))
    portion = held if rnd.random() < 0.6 else held / 2
    second = h.sale(
        ks,
        q,
        portion,
        day2,
        buyers=[b2.id],
        reject_ok=False,
        timing=(verified2, decided2),
        deed=True,
        deed_date=day2 - h.days(0, 3),
    )
    assert second is not None
    ks.frozen = True
    seller = h.party(q).name
    record_mutation(
        h.world,
        "double_sale",
        ks,
        second,
        q,
        f"{seller} sold all {format_share(held)} by sale {{first}} (deed "
        f"{first.deed_date}) and sold {format_share(portion)} again by sale {{m}} (deed "
        f"{second.deed_date})",
        first=first,
    )
    _implied_over_allocation(h.world, ks, "double sale", second)
    record_mutation(
        h.world,
        "transfer_exceeds_holding",
        ks,
        second,
        q,
        f"implied by double sale {{m}}: {seller} no longer holds the "
        f"{format_share(portion)} sold again",
    )
    return True


def plant_deeds_short_window(h: History, mouza_id: int, day: date) -> bool:
    """Signal 3: land bought and sold on by deeds a few weeks apart (a quick resale)."""
    found = h.find_holder(mouza_id, day)
    if found is None:
        return False
    ks, q = found
    held = ks.own[q].share
    b = h.pick_person(day, day + timedelta(days=400), [q, *ks.own], male=1.0)
    if b is None:
        return False
    c = h.pick_person(day, day + timedelta(days=200), [q, b.id, *ks.own])
    if c is None:
        return False
    t1 = h.timeline(day)
    deed1, deed2 = day - h.days(1, 5), day + h.days(1, 20)
    first = h.sale(
        ks, q, held, day, buyers=[b.id], reject_ok=False, timing=t1, deed=True, deed_date=deed1
    )
    assert first is not None
    day2 = t1[1] + h.days(1, 6)
    second = h.sale(
        ks, b.id, held, day2, buyers=[c.id], reject_ok=False, deed=True, deed_date=deed2
    )
    assert second is not None
    ks.frozen = True
    record_mutation(
        h.world,
        "deeds_short_window",
        ks,
        second,
        b.id,
        f"deed {first.deed_number} of {first.deed_date} ({{first}}) and deed "
        f"{second.deed_number} of {second.deed_date} ({{m}}) on the same land "
        f"{(deed2 - deed1).days} days apart (quick resale)",
        khasras=tuple(ks.khasras),
        first=first,
    )
    return True


def plant_transfer_exceeds_holding(h: History, mouza_id: int, day: date) -> bool:
    """Signal 2: a co-sharer sells a third of the others' share on top of his own."""
    found = h.find_holder(mouza_id, day, joint=True)
    if found is None:
        return False
    ks, q = found
    held = ks.own[q].share
    sold = held + (1 - held) / 3
    m = h.sale(ks, q, sold, day, reject_ok=False)
    if m is None:
        return False
    ks.frozen = True
    record_mutation(
        h.world,
        "transfer_exceeds_holding",
        ks,
        m,
        q,
        f"{h.party(q).name} holds {format_share(held)} and transfers {format_share(sold)}",
    )
    _implied_over_allocation(h.world, ks, "over-transfer", m)
    return True


def _misrecorded_sale(h: History, mouza_id: int, day: date, *, over: bool) -> bool:
    """Signal 1: a sale of a whole share whose recorded effect does not balance.

    Over: the buyer's share is opened but the seller's left open (the seller's fault).
    Under: the buyer's share is recorded as two thirds of what was sold (the buyer's).
    """
    found = h.find_holder(mouza_id, day)
    if found is None:
        return False
    ks, q = found
    held = ks.own[q].share
    b = h.pick_person(day, day + timedelta(days=120), [q, *ks.own])
    if b is None:
        return False
    if over:
        ops: list[tuple[Any, ...]] = [("own", ks, b.id, held)]
    else:
        ops = [("own", ks, q, -held), ("own", ks, b.id, held * 2 / 3)]
    m = h.sale(ks, q, held, day, buyers=[b.id], reject_ok=False, ops=ops)
    assert m is not None
    ks.frozen = True
    if over:
        record_mutation(
            h.world,
            "over_allocation",
            ks,
            m,
            q,
            f"sale {{m}} opened the buyer's {format_share(held)} but left the seller's "
            f"share open: khewat shares total {format_share(1 + held)} from its decision",
        )
    else:
        record_mutation(
            h.world,
            "under_allocation",
            ks,
            m,
            b.id,
            f"sale {{m}} transferred {format_share(held)} but recorded the buyer's share as "
            f"{format_share(held * 2 / 3)}: khewat shares total {format_share(1 - held / 3)} "
            "from its decision",
        )
    return True


def plant_over_allocation_mut(h: History, mouza_id: int, day: date) -> bool:
    """Signal 1 by a mutation: the seller's share is left open after a sale."""
    return _misrecorded_sale(h, mouza_id, day, over=True)


def plant_under_allocation_mut(h: History, mouza_id: int, day: date) -> bool:
    """Signal 1 by a mutation: the buyer is recorded with less than was sold."""
    return _misrecorded_sale(h, mouza_id, day, over=False)


PLANTERS: Final[dict[str, Callable[[History, int, date], bool]]] = {
    # the history queues them in this order, so it is part of what a seed gives
    "double_sale": plant_double_sale,
    "transfer_exceeds_holding": plant_transfer_exceeds_holding,
    "over_allocation_mut": plant_over_allocation_mut,
    "under_allocation_mut": plant_under_allocation_mut,
    "under_declared_price": plant_under_declared_price,
    "same_day_sanction": plant_same_day_sanction,
    "officer_outside_jurisdiction": plant_officer_outside_jurisdiction,
    "transfer_without_deed": plant_transfer_without_deed,
    "deeds_short_window": plant_deeds_short_window,
    "stale_pending_mutation": plant_stale_pending_mutation,
}
"""Each transaction kind and its planter: True when planted, False to retry later."""


def plant_sale_after_death(h: History, day: date, pid: int, held: list[KState]) -> Mutation | None:
    """Signal 4: a sale in the name of ``pid``, who died on ``day``, sanctioned.

    Returns the sale when it was planted, so that the wirasat waits for its decision.
    """
    fraud = [ks for ks in held if h.free(ks, day + timedelta(days=10))]
    if not fraud:
        return None
    ks = fraud[0]
    entered = day + h.days(10, 45)
    m = h.sale(ks, pid, ks.own[pid].share, entered, reject_ok=False, deed=True)
    if m is None or m.status != "sanctioned":
        return None
    ks.frozen = True
    h.quota["sale_after_death"] -= 1
    record_mutation(
        h.world,
        "sale_after_death",
        ks,
        m,
        pid,
        f"{h.party(pid).name} died on {day.isoformat()}; sale {{m}} in "
        f"the deceased's name was entered on {entered.isoformat()} "
        f"and sanctioned on {m.decided_on}",
    )
    return m


def gift_donors(h: History) -> list[Party]:
    """Old fathers, dying in the planting window, who leave a son and a daughter.

    Six times the quota, in random order: a gift fails when the donor's land is busy.
    """
    cands = []
    for p in h.persons:
        if p.gender != "male" or p.dod is None:
            continue
        if not (PLANT_WINDOW[0] + timedelta(days=365) <= p.dod <= PLANT_WINDOW[1]):
            continue
        if p.age_on(p.dod) < 75:
            continue
        kids = [h.party(c) for c in p.children]
        if any(k.gender == "male" and k.alive_on(p.dod) for k in kids) and any(
            k.gender == "female" and k.alive_on(p.dod) for k in kids
        ):
            cands.append(p)
    h.rnd.shuffle(cands)
    return cands[: 6 * h.quota["gift_before_death"]]


def plant_gift_before_death(h: History, day: date, pid: int) -> None:
    """Signal 4: a father gifts all his land in a mouza to his sons shortly before his
    death, so that his daughters inherit none of it."""
    if h.quota["gift_before_death"] <= 0:
        return
    donor = h.party(pid)
    assert donor.dod is not None
    held = [ks for ks in h.holdings(pid) if h.free(ks, day)]
    if not held:
        return
    mouza_id = held[0].mouza_id
    group = [ks for ks in held if ks.mouza_id == mouza_id]
    sons = [h.party(c) for c in donor.children]
    sons = [
        s
        for s in sons
        if s.gender == "male" and s.alive_through(day + timedelta(days=400)) and s.cnic
    ]
    daughters = [h.party(c) for c in donor.children]
    daughters = [d for d in daughters if d.gender == "female" and d.alive_on(donor.dod)]
    if not sons or not daughters:
        return
    verified = day + h.days(2, 6)
    decided = min(verified + h.days(10, 30), donor.dod - timedelta(days=3))
    if decided <= verified:
        return
    lines, ops = [], []
    for ks in group:
        share = ks.own[pid].share
        ops.append(("own", ks, pid, -share))
        for s in sons:
            lines.append(Line(ks.id, pid, s.id, share / len(sons)))
            ops.append(("own", ks, s.id, share / len(sons)))
    statutory = sum(h.value(ks, ks.own[pid].share, day.year) for ks in group)
    m = h.register(
        mouza_id,
        "gift",
        day,
        lines,
        ops,
        group,
        timing=(verified, decided),
        reject_ok=False,
        statutory=statutory,
        fees=int(round(0.005 * statutory, -2)),
        remarks="Hiba (gift) to sons",
    )
    h.quota["gift_before_death"] -= 1
    for ks in group:
        ks.frozen = True
    record_mutation(
        h.world,
        "gift_before_death",
        group[0],
        m,
        pid,
        f"{donor.name}, aged {int(donor.age_on(day))}, gifted all his land here to "
        f"his son(s) {(donor.dod - decided).days} days before his death on "
        f"{donor.dod.isoformat()}; daughters left out: "
        + ", ".join(f"{d.name} ({d.cnic})" for d in daughters),
    )


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
