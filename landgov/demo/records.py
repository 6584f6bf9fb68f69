"""Jamabandis (every four years) and girdawaris (crop inspections) of the demo district.

Jamabandi: each mouza's record of rights for 2002 (the settlement), 2006, ... 2026,
attested by the tehsildar in office. Planted: a few left unattested (signal 11).

Girdawari: rabi and kharif of 2024, 2025 and 2026 for every cultivable khasra live on the
inspection day (rabi from about 1 March, kharif from about 1 October). Crops follow the
rice-wheat zone around Sheikhupura: rabi wheat or fodder; kharif rice, fodder or some
cotton; sugarcane and orchards stay the whole year; some fields lie fallow. Irrigation
follows the land class (nehri: canal, sometimes with a tubewell; chahi: tubewell; barani:
rain). The cultivator is the tenant of an open khatauni, else the largest owner.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal

from landgov.demo.admin import Hierarchy, posted
from landgov.demo.model import AS_OF, Anomaly, Girdawari, Jamabandi, Share, World

SEASONS = (
    (2024, "rabi"),
    (2024, "kharif"),
    (2025, "rabi"),
    (2025, "kharif"),
    (2026, "rabi"),
    (2026, "kharif"),
)
CULTIVABLE = ("nehri", "chahi", "barani", "banjar")


def make_jamabandis(world: World, hier: Hierarchy, rnd: random.Random, unattested: int) -> None:
    for mouza in world.mouzas:
        for year in range(2002, AS_OF.year + 1, 4):
            if year == 2002:
                on = mouza.settlement_date
            else:
                on = min(date(year, 6, 1) + timedelta(days=rnd.randrange(100)), AS_OF)
            by = rnd.choice(posted(world, hier.tehsil.id, ("tehsildar",), on))
            world.jamabandis.append(Jamabandi(len(world.jamabandis) + 1, mouza.id, year, by, on))
    middle = [j for j in world.jamabandis if 2002 < j.year < 2026]
    for j in rnd.sample(middle, unattested):
        j.attested_by = j.attested_on = None
        world.anomalies.append(
            Anomaly(
                11,
                "unattested_jamabandi",
                j.mouza_id,
                details=f"jamabandi year={j.year} of {world.mouza(j.mouza_id).name} was never "
                "attested by a revenue officer",
            )
        )


def _covers(start: date | None, end: date | None, day: date) -> bool:
    return (start is None or start <= day) and (end is None or day < end)


def make_girdawaris(world: World, rnd: random.Random) -> None:
    holders: dict[int, list[tuple[int, date, date | None]]] = {}
    for kk in world.khewat_khasras:
        holders.setdefault(kk.khasra_id, []).append((kk.khewat_id, kk.valid_from, kk.valid_to))
    owners: dict[int, list[Share]] = {}
    for s in world.shares:
        if s.right_type == "ownership":
            owners.setdefault(s.khewat_id, []).append(s)
    tenants: dict[int, list[tuple[int, date, date | None]]] = {}
    for kt in world.khataunis:
        if kt.tenancy != "self_cultivation":
            for kid in kt.khasra_ids:
                tenants.setdefault(kid, []).append((kt.cultivator_id, kt.valid_from, kt.valid_to))

    def cultivator(khasra_id: int, day: date) -> int | None:
        for pid, start, end in tenants.get(khasra_id, []):
            if _covers(start, end, day):
                return pid
        for khewat_id, start, end in holders.get(khasra_id, []):
            if _covers(start, end, day):
                live = [
                    s for s in owners.get(khewat_id, []) if _covers(s.valid_from, s.valid_to, day)
                ]
                if live:
                    best = max(live, key=lambda s: (s.share, -s.party_id))
                    if world.party(best.party_id).kind == "person":
                        return best.party_id
        return None

    perennial: dict[int, str] = {}
    for k in world.khasras:
        if k.land_class in ("nehri", "chahi"):
            roll = rnd.random()
            if roll < 0.07:
                perennial[k.id] = "sugarcane"
            elif roll < 0.10:
                perennial[k.id] = "orchard"
    for year, season in SEASONS:
        start = date(year, 3, 1) if season == "rabi" else date(year, 10, 1)
        for k in world.khasras:
            if k.land_class not in CULTIVABLE:
                continue
            day = start + timedelta(days=rnd.randrange(25))
            if not _covers(k.created_on, k.retired_on, day) or day > AS_OF:
                continue
            crop = perennial.get(k.id)
            if k.land_class == "banjar":
                crop = "fallow" if rnd.random() < 0.85 else "fodder"
            elif crop is None:
                options: tuple[tuple[str, int], ...]
                if k.land_class == "barani":
                    options = (
                        (("wheat", 60), ("fallow", 25), ("fodder", 15))
                        if season == "rabi"
                        else (("fodder", 40), ("fallow", 60))
                    )
                elif season == "rabi":
                    options = (("wheat", 78), ("fodder", 14), ("fallow", 8))
                else:
                    options = (("rice", 58), ("fodder", 22), ("cotton", 8), ("fallow", 12))
                crop = rnd.choices([c for c, _ in options], [w for _, w in options])[0]
            if crop == "fallow":
                sown, source = 0, "none"
            else:
                sown = int(k.record_area_sarsai * rnd.uniform(0.85, 1.0))
                source = {
                    "nehri": rnd.choice(("canal", "canal", "canal_and_tubewell")),
                    "chahi": "tubewell",
                    "barani": "rain",
                    "banjar": "rain",
                }[k.land_class]
            damage = Decimal(0)
            if crop != "fallow" and rnd.random() < 0.15:
                damage = Decimal(rnd.randint(2, 16) * 250) / 100
            world.girdawaris.append(
                Girdawari(
                    len(world.girdawaris) + 1,
                    k.id,
                    season,
                    year,
                    day,
                    crop,
                    sown,
                    source,
                    cultivator(k.id, day),
                    damage,
                )
            )
