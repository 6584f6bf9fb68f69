"""The revenue hierarchy of the demo district and its officers.

Punjab > Lahore division > Sheikhupura district > Sheikhupura tehsil > qanungo halqa
Kot Rehmat > two patwar circles > three mouzas. A second tehsil (Muridke) exists so some
officers have a jurisdiction that does not cover the demo's mouzas (domain.md §6.7).

Officers serve postings of two to four years; one posting at a time per role and unit,
back to back from mid-2001, so every date has an officer in every role. Postings are
``officer_jurisdiction`` rows over the half-open period [valid_from, valid_to).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from landgov.demo.model import AS_OF, AdminUnit, Officer, Posting, World
from landgov.demo.names import FEMALE, MALE, MUHAMMAD
from landgov.demo.people import CnicMint
from landgov.demo.spec import PATWAR_CIRCLES

SANCTIONING = ("tehsildar", "naib_tehsildar", "assistant_commissioner")
POSTINGS_FROM = date(2001, 7, 1)


@dataclass
class Hierarchy:
    province: AdminUnit
    division: AdminUnit
    district: AdminUnit
    tehsil: AdminUnit
    other_tehsil: AdminUnit
    halqa: AdminUnit
    circles: list[AdminUnit]


def make_hierarchy(world: World) -> Hierarchy:
    def unit(level: str, name: str, name_ur: str, parent: AdminUnit | None) -> AdminUnit:
        u = AdminUnit(
            len(world.admin_units) + 1, level, name, name_ur, None if parent is None else parent.id
        )
        world.admin_units.append(u)
        return u

    province = unit("province", "Punjab", "پنجاب", None)
    division = unit("division", "Lahore", "لاہور", province)
    district = unit("district", "Sheikhupura", "شیخوپورہ", division)
    tehsil = unit("tehsil", "Sheikhupura", "شیخوپورہ", district)
    other = unit("tehsil", "Muridke", "مریدکے", district)
    halqa = unit("qanungo_halqa", "Kot Rehmat", "کوٹ رحمت", tehsil)
    circles = [unit("patwar_circle", en, ur, halqa) for en, ur in PATWAR_CIRCLES]
    return Hierarchy(province, division, district, tehsil, other, halqa, circles)


def make_officers(world: World, h: Hierarchy, rnd: random.Random, mint: CnicMint) -> None:
    roles = [(h.tehsil, d) for d in SANCTIONING]
    roles += [
        (h.other_tehsil, "tehsildar"),
        (h.other_tehsil, "naib_tehsildar"),
        (h.halqa, "girdawar"),
    ]
    roles += [(c, "patwari") for c in h.circles]
    for unit, designation in roles:
        start = POSTINGS_FROM
        while start <= AS_OF:
            end = start + timedelta(days=rnd.randint(700, 1500))
            female = designation != "patwari" and rnd.random() < 0.12
            if female:
                name = rnd.choice(FEMALE)[0]
            else:
                name = rnd.choice(MALE)[0]
                if rnd.random() < 0.5:
                    name = f"{MUHAMMAD[0]} {name}"
            officer = Officer(
                len(world.officers) + 1,
                name,
                designation,
                mint.issue(
                    "female" if female else "male",
                    rnd.choice(("35202", "35401", "34101", "35201", "33100")),
                ),
            )
            world.officers.append(officer)
            world.postings.append(
                Posting(officer.id, unit.id, start, end if end <= AS_OF else None)
            )
            start = end


def posted(world: World, unit_id: int, designations: tuple[str, ...], day: date) -> list[int]:
    """Ids of officers of those designations posted to ``unit_id`` on ``day``."""
    return [
        p.officer_id
        for p in world.postings
        if p.admin_unit_id == unit_id
        and p.covers(day)
        and world.officers[p.officer_id - 1].designation in designations
    ]
