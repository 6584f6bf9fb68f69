"""Twenty-four years of mutations (2003-2026), simulated event by event with exact shares.

An event queue runs in date order: random transactions in each mouza (sales, gifts,
mortgages, partitions, exchanges, court decrees, leases), deaths (each followed by an
inheritance mutation), redemptions of mortgages, and the planting of anomalies (the
planters themselves are in :mod:`landgov.demo.anomalies`).

A mutation is entered, verified a few days later and decided two to seven weeks after
entry (3 % are rejected with a reason). Its effect is applied on the decision date: the
old share rows are closed (``valid_to`` = decided_on, ``ended_by_mutation_id``) and new
ones opened (``valid_from`` = decided_on, ``created_by_mutation_id``), all in exact
:class:`~fractions.Fraction` arithmetic, so every khewat's ownership shares total exactly
1 on every date, except where an anomaly is planted. A khewat with a pending mutation is
locked for other random events, and two deeds on one khewat are at least 120 days apart,
so no signal arises by chance. Mutations decided after :data:`AS_OF` stay pending.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Iterable
from datetime import date, timedelta
from fractions import Fraction
from typing import Any

from landgov.demo.admin import SANCTIONING, Hierarchy, posted
from landgov.demo.anomalies import (
    PLANT_WINDOW,
    PLANTERS,
    gift_donors,
    plant_gift_before_death,
    plant_sale_after_death,
    plant_window,
    record_mutation,
)
from landgov.demo.inheritance import NotSimpleCase, simple_hanafi
from landgov.demo.layout import split_angle
from landgov.demo.market import Market, MarketSale
from landgov.demo.model import (
    AS_OF,
    DEED_REQUIRED_FROM,
    HISTORY_START,
    Khasra,
    Line,
    Mutation,
    Party,
    Share,
    World,
)
from landgov.demo.settlement import KState, Registry
from landgov.demo.shapes import split_by_fractions
from landgov.demo.valuation import statutory_value
from landgov.domain import UnitSystem, format_share, sarsai_to_m2

SARSAI_M2 = float(sarsai_to_m2(1, UnitSystem.STANDARD))
DECIDE, DEATH, INHERIT, REDEEM, PLANT, TICK = range(6)
TICKS_PER_YEAR = (16, 26)  # random transactions tried per mouza and year
TYPE_WEIGHTS = {
    "sale": 45,
    "gift": 12,
    "mortgage": 10,
    "partition": 10,
    "exchange": 3,
    "court_decree": 3,
    "lease": 4,
}
DEED_PROBABILITY = {
    "sale": 0.65,
    "gift": 0.35,
    "mortgage": 0.5,
    "redemption": 0.2,
    "exchange": 0.4,
    "partition": 0.2,
    "lease": 0.3,
    "court_decree": 0.0,
    "inheritance": 0.0,
}
DEED_STRICT_ENTRY = date(2025, 11, 1)  # entries from here get a deed (decided after 1 Dec)
DEED_GAP_DAYS = 150  # natural deeds on one khewat are at least ~3.5 months apart
MIN_PARTITION_SARSAI = 360  # partition children are at least 2 kanal
REJECTIONS = (
    "Seller's identity not verified: CNIC does not match the fard",
    "Objection by a co-sharer: right of pre-emption claimed",
    "Civil suit pending about the khewat",
    "Stamp duty not paid in full",
    "Khasra numbers in the deed do not match the jamabandi",
    "Parties did not appear before the revenue officer",
)
SUB_REGISTRARS = ("Sub-Registrar Sheikhupura", "Joint Sub-Registrar Sheikhupura (Saddar)")


class History:
    def __init__(
        self,
        world: World,
        hier: Hierarchy,
        states: dict[int, KState],
        reg: Registry,
        rnd: random.Random,
        targets: dict[str, int],
    ) -> None:
        self.world, self.hier, self.reg, self.rnd = world, hier, reg, rnd
        self.states = states
        self.by_mouza: dict[int, list[KState]] = {m.id: [] for m in world.mouzas}
        for ks in states.values():
            self.by_mouza[ks.mouza_id].append(ks)
        self.quota = dict(targets)
        self.heap: list[tuple[int, int, int, str, Any]] = []
        self.counter = itertools.count()
        self.locks: dict[int, list[KState]] = {}
        self.last_deed: dict[int, date] = {}
        self.deed_serial: dict[int, int] = {}
        self.inherit_at: dict[int, date] = {}
        self.inherit_flag: dict[int, str] = {}
        self.flagged: dict[str, int] = {"wrong_inheritance_shares": 0, "omitted_female_heir": 0}
        self.persons = [p for p in world.parties if p.kind == "person" and p.cnic is not None]
        self.market = Market(world)

    # -- the queue -------------------------------------------------------------------
    def push(self, day: date, prio: int, kind: str, payload: Any) -> None:
        heapq.heappush(self.heap, (day.toordinal(), prio, next(self.counter), kind, payload))

    def run(self) -> None:
        rnd = self.rnd
        for mouza in self.world.mouzas:
            for year in range(HISTORY_START.year, AS_OF.year + 1):
                for _ in range(rnd.randint(*TICKS_PER_YEAR)):
                    day = date(year, 1, 1) + timedelta(days=rnd.randrange(365))
                    if day <= AS_OF:
                        self.push(day, TICK, "tick", mouza.id)
        first = min(m.settlement_date for m in self.world.mouzas)
        for p in self.persons:
            if p.dod is not None and first < p.dod <= AS_OF:
                self.push(p.dod, DEATH, "death", p.id)
        for kind in PLANTERS:
            lo, hi = plant_window(kind)
            for _ in range(self.quota[kind]):
                day = lo + timedelta(days=rnd.randrange((hi - lo).days))
                self.push(day, PLANT, "plant", (kind, 0, hi))
        for donor in gift_donors(self):
            assert donor.dod is not None
            self.push(donor.dod - self.days(60, 200), PLANT, "gift", donor.id)
        while self.heap:
            ordinal, _, _, kind, payload = heapq.heappop(self.heap)
            day = date.fromordinal(ordinal)
            if day > AS_OF:
                break
            getattr(self, f"on_{kind}")(day, payload)
        self._number_mutations()

    # -- helpers ---------------------------------------------------------------------
    def party(self, pid: int) -> Party:
        return self.world.party(pid)

    def person_alive_through(self, pid: int, day: date) -> bool:
        p = self.party(pid)
        return p.kind == "person" and p.alive_through(day)

    def free(self, ks: KState, day: date, *, deed: bool = True) -> bool:
        if not ks.active or ks.closed or ks.frozen or ks.is_state or ks.locks:
            return False
        if ks.last_change >= day or ks.mortgaged():
            return False
        last = self.last_deed.get(ks.id)
        return not (deed and last is not None and (day - last).days < DEED_GAP_DAYS)

    def candidates(self, mouza_id: int, day: date) -> list[KState]:
        return [ks for ks in self.by_mouza[mouza_id] if self.free(ks, day)]

    def pick_person(
        self,
        day: date,
        through: date,
        exclude: Iterable[int] = (),
        male: float = 0.85,
        min_age: float = 25,
        max_age: float = 75,
    ) -> Party | None:
        rnd = self.rnd
        excluded = set(exclude)
        for _ in range(200):
            p = self.persons[rnd.randrange(len(self.persons))]
            if p.id in excluded or not p.alive_on(day) or not p.alive_through(through):
                continue
            if not min_age <= p.age_on(day) <= max_age:
                continue
            if (p.gender == "male") != (rnd.random() < male):
                continue
            return p
        return None

    def days(self, lo: int, hi: int) -> timedelta:
        """A random span of ``lo`` to ``hi`` days (inclusive), from the history's stream."""
        return timedelta(days=self.rnd.randint(lo, hi))

    def timeline(self, entered: date) -> tuple[date, date]:
        verified = entered + self.days(2, 12)
        return verified, verified + self.days(10, 40)

    def sanctioner(self, day: date) -> int:
        ids = posted(self.world, self.hier.tehsil.id, SANCTIONING, day)
        return self.rnd.choice(ids)

    def outsider(self, day: date) -> int:
        ids = posted(self.world, self.hier.other_tehsil.id, ("tehsildar", "naib_tehsildar"), day)
        return self.rnd.choice(ids)

    def value(self, ks: KState, fraction: Fraction, year: int) -> int:
        parcels = [
            (self.world.khasra(k).land_class, self.world.khasra(k).record_area_sarsai)
            for k in ks.khasras
        ]
        return statutory_value(self.world, year, parcels, float(fraction))

    def deed_number(self, day: date) -> str:
        serial = self.deed_serial.get(day.year, self.rnd.randint(1000, 3000)) + self.rnd.randint(
            1, 40
        )
        self.deed_serial[day.year] = serial
        return f"SKP-{day.year}-{serial:05d}"

    def register(
        self,
        mouza_id: int,
        mtype: str,
        entered: date,
        lines: list[Line],
        ops: list[tuple[Any, ...]],
        locks: list[KState],
        *,
        timing: tuple[date, date] | None = None,
        reject_ok: bool = True,
        officer: int | None = None,
        deed: bool | None = None,
        deed_date: date | None = None,
        pending: bool = False,
        remarks: str | None = None,
        consideration: int | None = None,
        statutory: int | None = None,
        fees: int | None = None,
    ) -> Mutation:
        rnd = self.rnd
        verified, decided = timing or self.timeline(entered)
        status, reason = "sanctioned", None
        if reject_ok and rnd.random() < 0.03:
            status, reason = "rejected", rnd.choice(REJECTIONS)
        if deed is None:
            required = mtype != "inheritance" and (
                entered >= DEED_STRICT_ENTRY or decided >= DEED_REQUIRED_FROM
            )
            deed = required or rnd.random() < DEED_PROBABILITY[mtype]
        decided_on: date | None = decided
        verified_on: date | None = verified
        if pending or decided > AS_OF:
            decided_on = None
            if pending or verified > AS_OF:
                status, verified_on = "entered", None
            else:
                status = "verified"
            reason = None
        m = Mutation(
            seq=len(self.world.mutations) + 1,
            mouza_id=mouza_id,
            type=mtype,
            status=status,
            entered_on=entered,
            verified_on=verified_on,
            decided_on=decided_on,
            officer_id=(officer or self.sanctioner(decided)) if decided_on else None,
            rejection_reason=reason,
            consideration_rs=consideration,
            statutory_value_rs=statutory,
            fees_rs=fees,
            remarks=remarks,
            lines=lines,
            ops=ops,
        )
        if deed:
            if deed_date is None:
                back = (15, 45) if mtype == "court_decree" else (0, 12)
                deed_date = entered - self.days(*back)
            m.deed_date = deed_date
            m.deed_number = (
                f"Decree CS-{rnd.randint(10, 999)}/{deed_date.year}"
                if mtype == "court_decree"
                else self.deed_number(deed_date)
            )
            m.sub_registrar = rnd.choice(SUB_REGISTRARS)
            for ks in locks:
                self.last_deed[ks.id] = max(deed_date, self.last_deed.get(ks.id, deed_date))
        self.world.mutations.append(m)
        if not pending:
            for ks in locks:
                ks.locks += 1
            self.locks[m.seq] = locks
            if decided_on is not None:
                self.push(decided_on, DECIDE, "decide", m)
        return m

    # -- applying a decision ---------------------------------------------------------
    def close(self, row: Share, day: date, m: Mutation) -> None:
        assert row.valid_from < day, f"share {row.id} opened {row.valid_from}, closed {day}"
        row.valid_to, row.ended_by = day, m

    def set_holding(self, ks: KState, pid: int, new: Fraction, day: date, m: Mutation) -> None:
        old_row = ks.own.get(pid)
        old = old_row.share if old_row is not None else Fraction(0)
        if new == old:
            return
        if old_row is not None:
            self.close(old_row, day, m)
            del ks.own[pid]
        if new > 0:
            ks.own[pid] = self.reg.share(ks.id, pid, new, "ownership", day, m)
        else:
            for kt in list(ks.khataunis):
                if kt.cultivator_id == pid and kt.tenancy == "self_cultivation":
                    if kt.valid_from < day:
                        kt.valid_to = day
                    ks.khataunis.remove(kt)

    def on_decide(self, day: date, m: Mutation) -> None:
        locks = self.locks.pop(m.seq, [])
        if m.status == "sanctioned":
            self.apply(m)
        for ks in locks:
            ks.locks -= 1
            if m.status == "sanctioned":
                ks.last_change = max(ks.last_change, day)

    def apply(self, m: Mutation) -> None:
        day = m.decided_on
        assert day is not None
        deltas: dict[int, tuple[KState, dict[int, Fraction]]] = {}
        for op in m.ops:
            kind = op[0]
            if kind == "own":
                _, ks, pid, delta = op
                acc = deltas.setdefault(ks.id, (ks, {}))[1]
                acc[pid] = acc.get(pid, Fraction(0)) + delta
            elif kind == "open":
                _, ks, pid, frac, right = op
                ks.other.append(self.reg.share(ks.id, pid, frac, right, day, m))
            elif kind == "close":
                _, ks, row = op
                self.close(row, day, m)
                ks.other.remove(row)
            elif kind == "partition":
                self.apply_partition(m, *op[1:])
            elif kind == "lessee":
                _, ks, lessee, rent = op
                for kt in list(ks.khataunis):
                    if kt.tenancy != "self_cultivation":
                        kt.valid_to = day
                        ks.khataunis.remove(kt)
                row = self.reg.khatauni(ks, lessee, "lessee", rent, day)
                dod = self.party(lessee).dod
                if dod is not None:
                    row.valid_to = dod
                    ks.khataunis.remove(row)
        for ks, acc in deltas.values():
            for pid, delta in acc.items():
                old = ks.own[pid].share if pid in ks.own else Fraction(0)
                self.set_holding(ks, pid, max(Fraction(0), old + delta), day, m)
                p = self.party(pid)
                if delta > 0 and p.dod is not None and p.dod <= day:
                    self.schedule_inherit(pid, day + self.days(30, 120))

    def apply_partition(
        self,
        m: Mutation,
        ks: KState,
        parent: Khasra,
        children: list[Khasra],
        new_states: list[KState],
        owners: list[int],
        full: bool,
    ) -> None:
        day = m.decided_on
        assert day is not None
        parent.retired_on, parent.retired_by = day, m
        row = ks.kk.pop(parent.id)
        row.valid_to = day
        ks.khasras.remove(parent.id)
        for child, ns, pid in zip(children, new_states, owners, strict=True):
            child.created_on, child.created_by = day, m
            ns.khasras.append(child.id)
            ns.kk[child.id] = self.reg.khewat_khasra(ns.khewat, child, day)
            ns.own[pid] = self.reg.share(ns.id, pid, Fraction(1), "ownership", day, m)
            ns.active, ns.last_change = True, day
        if full:
            for share_row in ks.own.values():
                self.close(share_row, day, m)
            ks.own.clear()
            ks.closed = True
            for kt in ks.khataunis:
                if kt.valid_from < day:
                    kt.valid_to = day
            ks.khataunis.clear()

    # -- random transactions ---------------------------------------------------------
    def on_tick(self, day: date, mouza_id: int) -> None:
        kind = self.rnd.choices(list(TYPE_WEIGHTS), list(TYPE_WEIGHTS.values()))[0]
        getattr(self, f"try_{kind}")(mouza_id, day)

    def find_holder(
        self, mouza_id: int, day: date, *, joint: bool = False, margin: int = 150
    ) -> tuple[KState, int] | None:
        cands = [ks for ks in self.candidates(mouza_id, day) if not joint or len(ks.own) >= 2]
        for _ in range(15):
            if not cands:
                return None
            ks = self.rnd.choice(cands)
            holders = [
                pid
                for pid in ks.own
                if self.person_alive_through(pid, day + timedelta(days=margin))
            ]
            if holders:
                return ks, self.rnd.choice(holders)
        return None

    def sale(
        self,
        ks: KState,
        seller: int,
        portion: Fraction,
        day: date,
        *,
        buyers: list[int] | None = None,
        ratio: float | None = None,
        ops: list[tuple[Any, ...]] | None = None,
        line_share: Fraction | None = None,
        **kwargs: Any,
    ) -> Mutation | None:
        """A sale of ``portion`` of the khewat by ``seller``; None if no buyer is found."""
        rnd = self.rnd
        if buyers is None:
            co = [
                pid
                for pid in ks.own
                if pid != seller and self.person_alive_through(pid, day + timedelta(days=90))
            ]
            if co and rnd.random() < 0.2:
                buyers = [rnd.choice(co)]
            else:
                exclude = [seller, *ks.own]
                first = self.pick_person(day, day + timedelta(days=90), exclude)
                if first is None:
                    return None
                buyers = [first.id]
                if rnd.random() < 0.15:
                    second = self.pick_person(day, day + timedelta(days=90), [*exclude, first.id])
                    if second is not None:
                        buyers.append(second.id)
        each = (line_share or portion) / len(buyers)
        lines = [Line(ks.id, seller, b, each) for b in buyers]
        if ops is None:
            ops = [("own", ks, seller, -portion)] + [
                ("own", ks, b, portion / len(buyers)) for b in buyers
            ]
        fraction = line_share or portion
        statutory = self.value(ks, fraction, day.year)
        parcels = [
            (k, statutory_value(self.world, day.year, [(k.land_class, k.record_area_sarsai)], f))
            for k, f in ((self.world.khasra(k), float(fraction)) for k in ks.khasras)
        ]
        co_owner = all(b in ks.own for b in buyers)
        price, value, kind = self.market.price(parcels, statutory, co_owner=co_owner)
        if ratio is not None:
            # an anomaly sets the declared price (rounded up to Rs 1,000)
            price, kind = 1000 * math.ceil(statutory * ratio / 1000), "set_by_anomaly"
        else:
            # generator 2 drew its price noise here: drawing it still keeps everything
            # after a sale as it was; prices now come from the market's own stream
            rnd.uniform(1.0, 2.2)
        fees = int(round(0.01 * max(price, statutory), -2))
        m = self.register(
            ks.mouza_id,
            "sale",
            day,
            lines,
            ops,
            [ks],
            consideration=price,
            statutory=statutory,
            fees=fees,
            **kwargs,
        )
        self.world.market_sales.append(MarketSale(m, kind, value, price))
        return m

    def try_sale(self, mouza_id: int, day: date) -> bool:
        found = self.find_holder(mouza_id, day)
        if found is None:
            return False
        ks, seller = found
        h = ks.own[seller].share
        portion = (
            h
            if self.rnd.random() < 0.6
            else h
            * self.rnd.choice((Fraction(1, 2), Fraction(1, 3), Fraction(2, 3), Fraction(1, 4)))
        )
        return self.sale(ks, seller, portion, day) is not None

    def try_gift(self, mouza_id: int, day: date) -> bool:
        rnd = self.rnd
        # natural gifts: the donor lives at least four more years (no deathbed gifts)
        found = self.find_holder(mouza_id, day, margin=4 * 366)
        if found is None:
            return False
        ks, donor_id = found
        donor = self.party(donor_id)
        kids = [self.party(c) for c in donor.children]
        kids = [
            k
            for k in kids
            if k.cnic
            and k.alive_through(day + timedelta(days=90))
            and k.age_on(day) >= 18
            and k.id not in ks.own
        ]
        roll = rnd.random()
        if (
            roll < 0.15
            and donor.spouse_id is not None
            and self.person_alive_through(donor.spouse_id, day + timedelta(days=90))
            and self.party(donor.spouse_id).cnic
            and donor.spouse_id not in ks.own
        ):
            donees = [donor.spouse_id]
        elif roll < 0.75:
            donees = [k.id for k in kids if k.gender == "male"]
        else:
            donees = [k.id for k in kids]
        if not donees:
            return False
        h = ks.own[donor_id].share
        portion = h if rnd.random() < 0.7 else h / 2
        lines = [Line(ks.id, donor_id, d, portion / len(donees)) for d in donees]
        ops = [("own", ks, donor_id, -portion)] + [
            ("own", ks, d, portion / len(donees)) for d in donees
        ]
        statutory = self.value(ks, portion, day.year)
        self.register(
            mouza_id,
            "gift",
            day,
            lines,
            ops,
            [ks],
            statutory=statutory,
            fees=int(round(0.005 * statutory, -2)),
            remarks="Hiba (gift) to close relatives",
        )
        return True

    def try_mortgage(self, mouza_id: int, day: date) -> bool:
        rnd = self.rnd
        until = day + timedelta(days=rnd.randint(365, 7 * 365))
        found = self.find_holder(mouza_id, day, margin=(until - day).days + 400)
        if found is None:
            return False
        ks, owner = found
        lender = self.pick_person(day, max(until, AS_OF) + timedelta(days=400), [*ks.own])
        if lender is None:
            return False
        h = ks.own[owner].share
        portion = h if rnd.random() < 0.7 else h / 2
        right = "mortgage_with_possession" if rnd.random() < 0.8 else "mortgage_without_possession"
        money = int(round(self.value(ks, portion, day.year) * rnd.uniform(0.2, 0.5), -3))
        m = self.register(
            mouza_id,
            "mortgage",
            day,
            [Line(ks.id, owner, lender.id, portion, right)],
            [("open", ks, lender.id, portion, right)],
            [ks],
            fees=1000,
            remarks=f"Rehn ({right.replace('_', ' ')}), mortgage money Rs {money:,}",
        )
        if until <= AS_OF:
            self.push(until, REDEEM, "redeem", (m, ks, owner, lender.id, portion, right))
        return True

    def on_redeem(self, day: date, payload: tuple[Any, ...]) -> None:
        m, ks, owner, lender, portion, right = payload
        if m.status != "sanctioned":
            return
        rows = [r for r in ks.other if r.created_by is m]
        if not rows:
            return
        if ks.locks or ks.last_change >= day:
            self.push(day + timedelta(days=30), REDEEM, "redeem", payload)
            return
        self.register(
            ks.mouza_id,
            "redemption",
            day,
            [Line(ks.id, lender, owner, portion, right)],
            [("close", ks, rows[0])],
            [ks],
            reject_ok=False,
            fees=500,
            remarks="Fak-ul-rehn: mortgage money repaid",
        )

    def try_partition(self, mouza_id: int, day: date) -> bool:
        rnd = self.rnd
        if day > AS_OF - timedelta(days=100):
            return False
        cands = [
            ks
            for ks in self.candidates(mouza_id, day)
            if 2 <= len(ks.own) <= 4
            and not ks.other
            and ks.total() == 1
            and all(self.person_alive_through(p, day + timedelta(days=365)) for p in ks.own)
        ]
        if not cands:
            return False
        ks = rnd.choice(cands)
        owners = list(ks.own)
        shares = [ks.own[p].share for p in owners]
        parcels = [self.world.khasra(k) for k in ks.khasras]
        parcels = [
            k
            for k in parcels
            if k.kind in ("killa", "tatima")
            and not k.frozen
            and all(k.record_area_sarsai * s >= MIN_PARTITION_SARSAI for s in shares)
        ]
        if not parcels:
            return False
        parent = rnd.choice(parcels)
        pieces = split_by_fractions(parent.local, [float(s) for s in shares], split_angle(rnd))
        areas = [p.area for p in pieces]
        records = apportion(parent.record_area_sarsai, areas)
        # keep every child's record within 0.9 % of its map area (errors must not add up)
        if any(
            abs(r - a / SARSAI_M2) > 0.009 * a / SARSAI_M2
            for r, a in zip(records, areas, strict=True)
        ):
            return False
        children, new_states, lines = [], [], []
        full = len(ks.khasras) == 1
        for i, (piece, record, pid) in enumerate(zip(pieces, records, owners, strict=True), 1):
            child = Khasra(
                id=len(self.world.khasras) + 1,
                mouza_id=mouza_id,
                number=parent.number.child(i),
                land_class=parent.land_class,
                local=piece,
                record_area_sarsai=record,
                parent_id=parent.id,
                kind="tatima",
            )
            self.world.khasras.append(child)
            children.append(child)
            ns = KState(
                self.reg.khewat(mouza_id, ks.khewat.number),
                [],
                {},
                {},
                active=False,
                last_change=day,
            )
            self.states[ns.id] = ns
            self.by_mouza[mouza_id].append(ns)
            new_states.append(ns)
            lines.append(Line(ns.id, None, pid, Fraction(1)))
        if full:
            lines += [Line(ks.id, pid, None, s) for pid, s in zip(owners, shares, strict=True)]
        self.register(
            mouza_id,
            "partition",
            day,
            lines,
            [("partition", ks, parent, children, new_states, owners, full)],
            [ks, *new_states],
            reject_ok=False,
            fees=500,
            remarks=f"Taqseem of khasra {parent.number} among the co-sharers of "
            f"khewat {ks.khewat.number}",
        )
        return True

    def try_exchange(self, mouza_id: int, day: date) -> bool:
        first = self.find_holder(mouza_id, day, margin=365)
        if first is None:
            return False
        ks1, a = first
        cands = [ks for ks in self.candidates(mouza_id, day) if ks is not ks1 and a not in ks.own]
        self.rnd.shuffle(cands)
        for ks2 in cands[:10]:
            holders = [
                b
                for b in ks2.own
                if b not in ks1.own and self.person_alive_through(b, day + timedelta(days=365))
            ]
            if holders:
                b = self.rnd.choice(holders)
                sa, sb = ks1.own[a].share, ks2.own[b].share
                lines = [Line(ks1.id, a, b, sa), Line(ks2.id, b, a, sb)]
                ops = [
                    ("own", ks1, a, -sa),
                    ("own", ks1, b, sa),
                    ("own", ks2, b, -sb),
                    ("own", ks2, a, sb),
                ]
                statutory = self.value(ks1, sa, day.year) + self.value(ks2, sb, day.year)
                self.register(
                    mouza_id,
                    "exchange",
                    day,
                    lines,
                    ops,
                    [ks1, ks2],
                    statutory=statutory,
                    fees=int(round(0.005 * statutory, -2)),
                    remarks=f"Tabadla between khewats {ks1.khewat.number} and {ks2.khewat.number}",
                )
                return True
        return False

    def try_court_decree(self, mouza_id: int, day: date) -> bool:
        rnd = self.rnd
        found = self.find_holder(mouza_id, day, margin=365)
        if found is None:
            return False
        ks, defendant = found
        co = [
            p
            for p in ks.own
            if p != defendant and self.person_alive_through(p, day + timedelta(days=90))
        ]
        if co and rnd.random() < 0.5:
            plaintiff, what = rnd.choice(co), "pre-emption"
        else:
            person = self.pick_person(day, day + timedelta(days=90), [*ks.own])
            if person is None:
                return False
            plaintiff, what = person.id, "declaration and possession"
        h = ks.own[defendant].share
        portion = h if rnd.random() < 0.7 else h / 2
        self.register(
            mouza_id,
            "court_decree",
            day,
            [Line(ks.id, defendant, plaintiff, portion)],
            [("own", ks, defendant, -portion), ("own", ks, plaintiff, portion)],
            [ks],
            fees=500,
            remarks=f"Decree of the Civil Judge, Sheikhupura, in a suit for {what}",
        )
        return True

    def try_lease(self, mouza_id: int, day: date) -> bool:
        rnd = self.rnd
        cands = [
            ks
            for ks in self.candidates(mouza_id, day)
            if not ks.leased()
            and all(self.person_alive_through(p, day + timedelta(days=365)) for p in ks.own)
        ]
        if not cands:
            return False
        ks = rnd.choice(cands)
        lessee = self.pick_person(day, day + timedelta(days=365), [*ks.own])
        if lessee is None:
            return False
        acres = sum(self.world.khasra(k).record_area_sarsai for k in ks.khasras) / 1440
        rent = int(round(acres * rnd.uniform(30_000, 90_000) * (1.08 ** (day.year - 2003)), -2))
        years = rnd.randint(3, 10)
        lines = [Line(ks.id, pid, lessee.id, row.share, "lease") for pid, row in ks.own.items()]
        ops: list[tuple[Any, ...]] = [
            ("open", ks, lessee.id, row.share, "lease") for row in ks.own.values()
        ]
        ops.append(("lessee", ks, lessee.id, rent))
        self.register(
            mouza_id,
            "lease",
            day,
            lines,
            ops,
            [ks],
            fees=500,
            remarks=f"Lease (ijara) for {years} years at Rs {rent:,} a year",
        )
        return True

    # -- deaths and inheritance ------------------------------------------------------
    def holdings(self, pid: int) -> list[KState]:
        return [ks for ks in self.states.values() if pid in ks.own and not ks.closed]

    def schedule_inherit(self, pid: int, day: date) -> None:
        pending = self.inherit_at.get(pid)
        if pending is not None and pending >= day:
            return
        self.inherit_at[pid] = day
        self.push(day, INHERIT, "inherit", pid)

    def on_death(self, day: date, pid: int) -> None:
        rnd = self.rnd
        held = self.holdings(pid)
        if not held:
            return
        lag = rnd.randint(45, 200)
        in_window = PLANT_WINDOW[0] <= day <= PLANT_WINDOW[1]
        if in_window and self.quota["sale_after_death"] > 0 and rnd.random() < 0.25:
            m = plant_sale_after_death(self, day, pid, held)
            if m is not None:  # the wirasat follows the fraudulent sale's decision
                assert m.decided_on is not None
                lag = max(lag, (m.decided_on - day).days + 20)
        if in_window and pid not in self.inherit_flag and rnd.random() < 0.3:
            options = [
                k
                for k in ("wrong_inheritance_shares", "omitted_female_heir")
                if self.quota[k] - self.flagged[k] > 0
            ]
            if options:
                self.inherit_flag[pid] = rnd.choice(options)
                self.flagged[self.inherit_flag[pid]] += 1
        self.schedule_inherit(pid, max(HISTORY_START, day + timedelta(days=lag)))

    def on_inherit(self, day: date, pid: int) -> None:
        if self.inherit_at.get(pid) != day:
            return
        del self.inherit_at[pid]
        held = self.holdings(pid)
        if not held:
            return
        if any(ks.locks for ks in held):
            self.schedule_inherit(pid, day + timedelta(days=20))
            return
        deceased = self.party(pid)
        assert deceased.dod is not None
        try:
            heirs = simple_hanafi(self.world, deceased, deceased.dod)
        except NotSimpleCase:
            return
        flag = self.inherit_flag.pop(pid, None)
        if flag is not None:
            self.flagged[flag] -= 1
        recorded = heirs
        omitted: Party | None = None
        if flag == "wrong_inheritance_shares":
            equal = [(h, Fraction(1, len(heirs))) for h, _ in heirs]
            if equal != heirs:
                recorded = equal
            else:
                flag = None
        elif flag == "omitted_female_heir":
            daughters = [
                h for h, _ in heirs if self.party(h).gender == "female" and h in deceased.children
            ]
            if daughters and len(heirs) >= 2:
                omitted = self.party(self.rnd.choice(daughters))
                recorded = simple_hanafi(self.world, deceased, deceased.dod, (omitted.id,))
            else:
                flag = None
        mouza_ids = sorted({ks.mouza_id for ks in held})
        for n, mouza_id in enumerate(mouza_ids):
            group = sorted(
                (ks for ks in held if ks.mouza_id == mouza_id), key=lambda ks: ks.khewat.number
            )
            use = recorded if n == 0 else heirs
            lines, ops = [], []
            for ks in group:
                h = ks.own[pid].share
                ops.append(("own", ks, pid, -h))
                for heir, frac in use:
                    lines.append(Line(ks.id, pid, heir, h * frac))
                    ops.append(("own", ks, heir, h * frac))
            m = self.register(
                mouza_id,
                "inheritance",
                day,
                lines,
                ops,
                group,
                reject_ok=False,
                fees=0,
                remarks=f"Wirasat of {deceased.name} (died {deceased.dod.isoformat()})",
            )
            if n == 0 and flag is not None and m.status == "sanctioned":
                self.quota[flag] -= 1
                expected = ", ".join(f"{self.party(h).cnic}={format_share(f)}" for h, f in heirs)
                got = ", ".join(f"{self.party(h).cnic}={format_share(f)}" for h, f in recorded)
                if flag == "wrong_inheritance_shares":
                    party, fault = pid, f"estate of {deceased.name} divided equally"
                else:
                    assert omitted is not None
                    party, fault = (
                        omitted.id,
                        f"daughter {omitted.name} ({omitted.cnic}) of {deceased.name} "
                        "left out of the wirasat",
                    )
                record_mutation(
                    self.world,
                    flag,
                    group[0],
                    m,
                    party,
                    f"{fault}; expected [{expected}] recorded [{got}]",
                )

    # -- planted anomalies (the planters are in landgov.demo.anomalies) -------------
    def on_plant(self, day: date, payload: tuple[str, int, date]) -> None:
        kind, attempt, limit = payload
        mouza_id = self.world.mouzas[self.rnd.randrange(len(self.world.mouzas))].id
        if PLANTERS[kind](self, mouza_id, day):
            return
        retry = day + timedelta(days=30)
        if attempt < 40 and retry <= limit:
            self.push(retry, PLANT, "plant", (kind, attempt + 1, limit))

    def on_gift(self, day: date, pid: int) -> None:
        plant_gift_before_death(self, day, pid)

    # -- register numbers ------------------------------------------------------------
    def _number_mutations(self) -> None:
        rnd = self.rnd
        for mouza in self.world.mouzas:
            ms = sorted(
                (m for m in self.world.mutations if m.mouza_id == mouza.id),
                key=lambda m: (m.entered_on, m.seq),
            )
            base = rnd.randint(600, 1800)
            for i, m in enumerate(ms):
                m.number = base + i
        self.world.mutations.sort(key=lambda m: (m.mouza_id, m.number))
        for i, m in enumerate(self.world.mutations, start=1):
            m.id = i


def apportion(total: int, weights: list[float]) -> list[int]:
    """Splits a whole number in proportion to weights (largest remainder); sums to total."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: (-(raw[i] - parts[i]), i))
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
