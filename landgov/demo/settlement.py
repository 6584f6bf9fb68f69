"""The settlement of 2002: khewats, their khasras, owners' shares and khataunis.

Each mouza's private parcels are grouped, in khasra-number order (so holdings are
contiguous), into khewats of 1-8 khasras. Owners come from the families of
:mod:`landgov.demo.people`:

- a single owner (a family head) holding 1/1;
- the heirs of a head who died before the settlement, with their inherited shares
  (widow 1/8, sons twice daughters: denominators such as 24, 40, 56);
- a father with sons to whom he gave part of the land;
- a husband and wife;
- two to four unrelated co-owners with shares over 2, 3, 4, 6, 8, 12, 24, 40 or 120.

Neighbouring khewats are often held by the same family in the same shares. State land
sits in khewats of its custodian: 1 village proprietary body (shamlat and abadi),
2 Highways (road), 3 Irrigation (canal), 4 Forest. Shares start on the settlement date
with no mutation (``created_by_mutation_id`` NULL).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

from landgov.demo.inheritance import NotSimpleCase, simple_hanafi
from landgov.demo.model import (
    Anomaly,
    Khasra,
    Khatauni,
    Khewat,
    KhewatKhasra,
    Mutation,
    Party,
    Share,
    World,
)

KHEWAT_SIZES = (1, 2, 3, 4, 5, 6, 7, 8)
KHEWAT_SIZE_WEIGHTS = (15, 20, 20, 15, 10, 8, 6, 6)
DENOMINATORS = (2, 3, 4, 6, 8, 12, 24, 40, 120)
SARSAI_PER_ACRE = 1440


@dataclass(eq=False)
class KState:
    """A khewat during the simulation: its open rows and whether it may change."""

    khewat: Khewat
    khasras: list[int]
    kk: dict[int, KhewatKhasra]
    own: dict[int, Share]  # party id -> open ownership row
    other: list[Share] = field(default_factory=list)  # open mortgage / lease rows
    khataunis: list[Khatauni] = field(default_factory=list)  # open ones
    locks: int = 0  # pending mutations that will change this khewat
    last_change: date = date(1900, 1, 1)
    frozen: bool = False  # part of a planted anomaly: no more random events
    closed: bool = False
    is_state: bool = False
    active: bool = True  # False while a partition that creates it is pending

    @property
    def id(self) -> int:
        return self.khewat.id

    @property
    def mouza_id(self) -> int:
        return self.khewat.mouza_id

    def total(self) -> Fraction:
        return sum((r.share for r in self.own.values()), Fraction(0))

    def mortgaged(self) -> bool:
        return any(r.right_type.startswith("mortgage") for r in self.other)

    def leased(self) -> bool:
        return any(r.right_type == "lease" for r in self.other)


class Registry:
    """Creates khewats, share rows and khataunis with sequential ids."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.next_number: dict[int, int] = {}

    def khewat(self, mouza_id: int, previous: int | None) -> Khewat:
        number = self.next_number.get(mouza_id, 1)
        self.next_number[mouza_id] = number + 1
        k = Khewat(len(self.world.khewats) + 1, mouza_id, number, previous)
        self.world.khewats.append(k)
        return k

    def share(
        self,
        khewat_id: int,
        party_id: int,
        share: Fraction,
        right_type: str,
        valid_from: date,
        created_by: Mutation | None,
    ) -> Share:
        row = Share(
            len(self.world.shares) + 1,
            khewat_id,
            party_id,
            share,
            right_type,
            valid_from,
            created_by=created_by,
        )
        self.world.shares.append(row)
        return row

    def khewat_khasra(self, khewat: Khewat, khasra: Khasra, valid_from: date) -> KhewatKhasra:
        row = KhewatKhasra(
            khewat.id, khasra.id, khewat.mouza_id, khasra.record_area_sarsai, valid_from
        )
        self.world.khewat_khasras.append(row)
        return row

    def khatauni(
        self, ks: KState, cultivator: int, tenancy: str, rent: int | None, valid_from: date
    ) -> Khatauni:
        number = 1 + sum(1 for k in self.world.khataunis if k.khewat_id == ks.id)
        row = Khatauni(
            len(self.world.khataunis) + 1,
            ks.id,
            number,
            cultivator,
            tenancy,
            rent,
            valid_from,
            None,
            list(ks.khasras),
        )
        self.world.khataunis.append(row)
        ks.khataunis.append(row)
        return row


def _compose(rnd: random.Random, parts: int) -> list[Fraction]:
    denominator = rnd.choice([d for d in DENOMINATORS if d >= parts])
    cuts = sorted(rnd.sample(range(1, denominator), parts - 1))
    bounds = [0, *cuts, denominator]
    return [Fraction(bounds[i + 1] - bounds[i], denominator) for i in range(parts)]


class _Owners:
    """Draws owner sets for new khewats from the families."""

    def __init__(self, world: World, rnd: random.Random, on: date) -> None:
        self.world, self.rnd, self.on = world, rnd, on
        persons = [p for p in world.parties if p.kind == "person" and p.cnic is not None]
        self.adults = [p for p in persons if p.alive_on(on) and p.age_on(on) >= 21]
        heads = [
            p
            for p in world.parties
            if p.kind == "person" and p.generation == 1 and p.gender == "male"
        ]
        rnd.shuffle(heads)
        self.heads = heads

    def _next_head(self) -> Party:
        if not self.heads:
            raise RuntimeError("demo ran out of families")
        return self.heads.pop()

    def draw(self) -> list[tuple[int, Fraction]]:
        rnd, on = self.rnd, self.on
        for _ in range(50):
            pattern = rnd.choices(("single", "gift", "couple", "unrelated"), (45, 15, 15, 25))[0]
            if pattern == "unrelated":
                n = rnd.choice((2, 2, 3, 3, 4))
                people = rnd.sample(self.adults, n)
                return [(p.id, f) for p, f in zip(people, _compose(rnd, n), strict=True)]
            head = self._next_head()
            if not head.alive_on(on):  # the heirs of a head who died before the settlement
                if head.dod is None:
                    continue
                try:
                    heirs = simple_hanafi(self.world, head, head.dod)
                except NotSimpleCase:
                    continue
                if all(
                    self.world.party(h).alive_on(on) and self.world.party(h).cnic for h, _ in heirs
                ):
                    return heirs
                continue
            if pattern == "couple" and head.spouse_id is not None:
                wife = self.world.party(head.spouse_id)
                if wife.alive_on(on):
                    f = rnd.choice((Fraction(1, 4), Fraction(1, 3), Fraction(1, 2)))
                    return [(head.id, 1 - f), (wife.id, f)]
            if pattern == "gift":
                sons = [self.world.party(c) for c in head.children]
                sons = [
                    s for s in sons if s.gender == "male" and s.alive_on(on) and s.age_on(on) >= 18
                ]
                if sons:
                    kept = rnd.choice((Fraction(1, 2), Fraction(2, 3), Fraction(1, 3)))
                    return [(head.id, kept)] + [(s.id, (1 - kept) / len(sons)) for s in sons]
            return [(head.id, Fraction(1))]
        raise RuntimeError("demo could not draw owners")


def make_settlement(
    world: World, rnd: random.Random, targets: dict[str, int]
) -> tuple[dict[int, KState], Registry]:
    """Creates the settlement khewats of every mouza; returns their simulation states."""
    reg = Registry(world)
    states: dict[int, KState] = {}
    owners = _Owners(world, rnd, min(m.settlement_date for m in world.mouzas))

    # planted: khasras left out of every khewat (record quality, signal 11)
    candidates = [
        k for k in world.khasras if k.kind == "killa" and k.retired_on is None and not k.frozen
    ]
    orphans = rnd.sample(candidates, targets["orphan_khasra"])
    for k in orphans:
        k.frozen = True
        world.anomalies.append(
            Anomaly(
                11,
                "orphan_khasra",
                k.mouza_id,
                khasra_ids=(k.id,),
                details=f"khasra {k.number} is on the map and in no khewat since the "
                "settlement (missing from the record of rights)",
            )
        )
    orphan_ids = {k.id for k in orphans}

    for mouza in world.mouzas:
        day = mouza.settlement_date
        live = [k for k in world.khasras if k.mouza_id == mouza.id and k.retired_on is None]
        live.sort(key=lambda k: k.number.sort_key)

        def new_state(
            khasras: list[Khasra],
            holders: list[tuple[int, Fraction]],
            is_state: bool,
            mouza_id: int = mouza.id,
            day: date = day,
        ) -> KState:
            current = reg.next_number.get(mouza_id, 1)
            previous = None if rnd.random() < 0.2 else max(1, current + rnd.randint(-3, 3))
            kh = reg.khewat(mouza_id, previous)
            ks = KState(kh, [k.id for k in khasras], {}, {}, is_state=is_state, last_change=day)
            for k in khasras:
                ks.kk[k.id] = reg.khewat_khasra(kh, k, day)
            for pid, frac in holders:
                ks.own[pid] = reg.share(kh.id, pid, frac, "ownership", day, None)
            states[kh.id] = ks
            return ks

        sp = world.state_parties
        state_groups = [
            ("village_proprietary_body", [k for k in live if k.kind in ("shamlat", "abadi")]),
            ("highways", [k for k in live if k.kind == "road"]),
            ("irrigation", [k for k in live if k.kind == "canal"]),
            ("forest", [k for k in live if k.kind == "forest"]),
        ]
        for custodian, group in state_groups:
            if group:
                new_state(group, [(sp[custodian].id, Fraction(1))], True)

        private = [k for k in live if k.kind in ("killa", "tatima") and k.id not in orphan_ids]
        i = 0
        holders: list[tuple[int, Fraction]] = []
        while i < len(private):
            size = rnd.choices(KHEWAT_SIZES, KHEWAT_SIZE_WEIGHTS)[0]
            group = private[i : i + size]
            i += size
            if not holders or rnd.random() >= 0.35:
                holders = owners.draw()
            ks = new_state(group, holders, False)
            _settle_khatauni(world, reg, ks, rnd, day)

    _plant_settlement_allocation(world, states, rnd, targets)
    return states, reg


def _settle_khatauni(
    world: World, reg: Registry, ks: KState, rnd: random.Random, day: date
) -> None:
    roll = rnd.random()
    acres = sum(world.khasra(k).record_area_sarsai for k in ks.khasras) / SARSAI_PER_ACRE
    if roll < 0.35:
        tenancy = rnd.choices(("tenant_at_will", "occupancy_tenant", "lessee"), (60, 25, 15))[0]
        rate = {
            "tenant_at_will": (6000, 9000),
            "occupancy_tenant": (500, 1500),
            "lessee": (8000, 12000),
        }[tenancy]
        for _ in range(20):
            tenant = world.parties[rnd.randrange(7, len(world.parties))]
            if (
                tenant.cnic is not None
                and tenant.gender == "male"
                and tenant.alive_on(day)
                and tenant.age_on(day) >= 21
                and tenant.id not in ks.own
            ):
                rent = int(round(acres * rnd.uniform(*rate), -2))
                row = reg.khatauni(ks, tenant.id, tenancy, rent, day)
                if tenant.dod is not None:  # the tenancy ends with the tenant
                    row.valid_to = tenant.dod
                    ks.khataunis.remove(row)
                break
    elif roll < 0.55:
        cultivator = max(ks.own.items(), key=lambda item: (item[1].share, -item[0]))[0]
        reg.khatauni(ks, cultivator, "self_cultivation", None, day)


def _plant_settlement_allocation(
    world: World, states: dict[int, KState], rnd: random.Random, targets: dict[str, int]
) -> None:
    """Share-division errors copied into the settlement record (signal 1)."""
    joint = [ks for ks in states.values() if not ks.is_state and len(ks.own) >= 2]
    chosen = rnd.sample(joint, targets["settlement_over"] + targets["settlement_under"])
    for n, ks in enumerate(chosen):
        over = n < targets["settlement_over"]
        pid = sorted(ks.own)[0]
        row = ks.own[pid]
        old = row.share
        row.share = min(Fraction(1), old * 3 / 2) if over else old * 2 / 3
        ks.frozen = True
        kind = "over_allocation" if over else "under_allocation"
        world.anomalies.append(
            Anomaly(
                1,
                kind,
                ks.mouza_id,
                khewat_id=ks.id,
                party_id=pid,
                details=f"settlement record gives {world.party(pid).name} "
                f"{row.share.numerator}/{row.share.denominator} instead of "
                f"{old.numerator}/{old.denominator}: khewat shares total "
                f"{ks.total().numerator}/{ks.total().denominator} from "
                f"{row.valid_from.isoformat()}",
            )
        )
