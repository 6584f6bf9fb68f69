"""Parties of the demo district: families over three generations, and the state bodies.

Every person has a unique, valid CNIC whose last digit matches the gender (odd for men,
even for women, domain.md §2), an English and an Urdu name, and a guardian (wald, bint
or zauja). Families are generated as a genealogy so inheritance has real heirs:

- generation 1: a head (born 1915-1950), his wife and 2-6 children;
- generation 2: the children; each son born by 1982 marries (his wife comes from outside
  the demo's families) and has 1-5 children;
- generation 3: the grandchildren.

Heads, their wives, and generation-2 sons and their wives may die (each has children, so
the demo's simple inheritance case always applies); generation-2 daughters and
generation 3 live past the demo's end. Persons who died before the settlement take no
part in the record and are not loaded (they still name their children's guardian).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from landgov.demo.model import AS_OF, Party, World
from landgov.demo.names import CLANS, FEMALE, MALE, MUHAMMAD, OLD_MALE
from landgov.domain import Custodian, cnic_gender, validate_cnic

N_FAMILIES = 450
REGISTER_FROM = date(2001, 1, 1)
"""Persons who died before this date are not in the party table."""

STATE_NAMES: dict[str, tuple[str, str]] = {
    Custodian.BOARD_OF_REVENUE: ("Board of Revenue, Punjab", "بورڈ آف ریونیو پنجاب"),
    Custodian.FOREST: ("Forest Department, Punjab", "محکمہ جنگلات پنجاب"),
    Custodian.AUQAF: ("Auqaf Department, Punjab", "محکمہ اوقاف پنجاب"),
    Custodian.EVACUEE_TRUST: ("Evacuee Trust Property Board", "متروکہ وقف املاک بورڈ"),
    Custodian.IRRIGATION: ("Irrigation Department, Punjab", "محکمہ انہار پنجاب"),
    Custodian.HIGHWAYS: ("Highways Department, Punjab", "محکمہ شاہرات پنجاب"),
    Custodian.VILLAGE_PROPRIETARY_BODY: (
        "Jumla Malikan (village proprietary body)",
        "جملہ مالکان دیہہ",
    ),
}

# NADRA locality codes of the Sheikhupura district's tehsils (demo values).
LOCALITIES = ("35401", "35401", "35401", "35402", "35403", "35404")


class CnicMint:
    """Issues unique CNICs whose last digit encodes the gender."""

    def __init__(self, rnd: random.Random) -> None:
        self._rnd = rnd
        self._used: set[int] = set()

    def issue(self, gender: str, locality: str | None = None) -> str:
        rnd = self._rnd
        while True:
            middle = rnd.randrange(1_000_000, 10_000_000)
            if middle not in self._used:
                break
        self._used.add(middle)
        last = rnd.choice((1, 3, 5, 7, 9) if gender == "male" else (0, 2, 4, 6, 8))
        cnic = validate_cnic(f"{locality or rnd.choice(LOCALITIES)}-{middle:07d}-{last}")
        assert cnic_gender(cnic) == gender
        return cnic


@dataclass
class _Namer:
    rnd: random.Random

    def male(self, born: int, clan: tuple[str, str] | None) -> tuple[str, str]:
        rnd = self.rnd
        if born < 1945 and rnd.random() < 0.7:
            en, ur = rnd.choice(OLD_MALE)
        else:
            en, ur = rnd.choice(MALE)
            if rnd.random() < 0.55:
                en, ur = f"{MUHAMMAD[0]} {en}", f"{MUHAMMAD[1]} {ur}"
        if clan is not None and rnd.random() < 0.5:
            en, ur = f"{en} {clan[0]}", f"{ur} {clan[1]}"
        return en, ur

    def female(self) -> tuple[str, str]:
        return self.rnd.choice(FEMALE)


def _date_in_year(rnd: random.Random, year: int) -> date:
    return date(year, 1, 1) + timedelta(days=rnd.randrange(365))


def _death(rnd: random.Random, dob: date, mean: float, floor: float) -> date | None:
    age = max(floor, min(100.0, rnd.gauss(mean, 10.0)))
    dod = dob + timedelta(days=int(age * 365.25))
    return dod if dod <= AS_OF else None


def make_state_parties(world: World) -> None:
    """One party per custodian department (ids 1-7)."""
    for custodian in Custodian:
        en, ur = STATE_NAMES[custodian]
        party = Party(
            id=len(world.parties) + 1, kind="state", name=en, name_ur=ur, custodian=str(custodian)
        )
        world.parties.append(party)
        world.state_parties[str(custodian)] = party


def make_people(world: World, rnd: random.Random, mint: CnicMint) -> None:
    """Generates the families; appends registered persons to ``world.parties``.

    Unregistered persons (dead before :data:`REGISTER_FROM`) are appended after every
    registered one, so registered ids are contiguous; their ``cnic`` is None.
    """
    namer = _Namer(rnd)
    people: list[Party] = []

    def person(
        gender: str,
        name: tuple[str, str],
        relation: str,
        guardian: str,
        dob: date,
        dod: date | None,
        generation: int,
    ) -> Party:
        p = Party(
            id=0,
            kind="person",
            name=name[0],
            name_ur=name[1],
            gender=gender,
            guardian_relation=relation,
            guardian_name=guardian,
            dob=dob,
            dod=dod,
            generation=generation,
        )
        people.append(p)
        return p

    def children_of(
        father: Party,
        mother: Party,
        count: int,
        last_year: int,
        clan: tuple[str, str],
        generation: int,
    ) -> list[Party]:
        assert father.dob is not None and mother.dob is not None
        first = mother.dob + timedelta(days=int(18.5 * 365))
        last = min(mother.dob + timedelta(days=40 * 365), date(last_year, 12, 31))
        if father.dod is not None:  # no posthumous births: heirs are alive at a death
            last = min(last, father.dod - timedelta(days=1))
        if mother.dod is not None:
            last = min(last, mother.dod - timedelta(days=1))
        span = max(1, (last - first).days)
        births = sorted(first + timedelta(days=rnd.randrange(span)) for _ in range(count))
        kids = []
        used: list[str] = []
        for born in births:
            if rnd.random() < 0.5:
                for _ in range(5):
                    name = namer.male(born.year, clan)
                    if name[0] not in used:
                        break
                # generation-2 sons may die (they marry and have children); grandsons not
                dod = _death(rnd, born, 74.0, 50.0) if generation == 2 else None
                kid = person("male", name, "son_of", father.name, born, dod, generation)
            else:
                for _ in range(5):
                    name = namer.female()
                    if name[0] not in used:
                        break
                kid = person("female", name, "daughter_of", father.name, born, None, generation)
            used.append(kid.name)
            kids.append(kid)
        return kids

    def marry(husband: Party, max_gap: int, mean_death_age: float, generation: int) -> Party:
        """A wife for ``husband``, 1 to ``max_gap`` years younger, from outside the
        demo's families (heads' wives and sons' wives are drawn alike)."""
        assert husband.dob is not None
        dob = husband.dob + timedelta(days=rnd.randint(1, max_gap) * 365 + rnd.randrange(365))
        name = namer.female()  # before the death date: the order of draws is the seed's output
        death = _death(rnd, dob, mean_death_age, 50.0)
        wife = person("female", name, "wife_of", husband.name, dob, death, generation)
        husband.spouse_id, wife.spouse_id = id(wife), id(husband)
        return wife

    for _ in range(N_FAMILIES):
        clan = rnd.choice(CLANS)
        head_dob = _date_in_year(rnd, rnd.randint(1915, 1950))
        head = person(
            "male",
            namer.male(head_dob.year, clan),
            "son_of",
            rnd.choice(OLD_MALE)[0],
            head_dob,
            _death(rnd, head_dob, 72.0, 50.0),
            1,
        )
        wife = marry(head, 10, 75.0, 1)
        kids = children_of(
            head, wife, rnd.choices((2, 3, 4, 5, 6), (2, 3, 3, 2, 1))[0], 1990, clan, 2
        )
        for kid in kids:
            if kid.gender != "male" or kid.dob is None or kid.dob.year > 1982:
                continue
            bride = marry(kid, 8, 76.0, 2)
            grandkids = children_of(
                kid, bride, rnd.choices((1, 2, 3, 4, 5), (1, 3, 3, 2, 1))[0], 2008, clan, 3
            )
            kid.children = bride.children = [id(g) for g in grandkids]
        head.children = wife.children = [id(k) for k in kids]

    # ids: registered persons first (contiguous after the state parties), then the rest
    registered = [p for p in people if p.dod is None or p.dod >= REGISTER_FROM]
    others = [p for p in people if not (p.dod is None or p.dod >= REGISTER_FROM)]
    by_pyid: dict[int, Party] = {id(p): p for p in people}
    next_id = len(world.parties) + 1
    for p in registered + others:
        p.id = next_id
        next_id += 1
    for p in people:
        if p.spouse_id is not None:
            p.spouse_id = by_pyid[p.spouse_id].id
        p.children = [by_pyid[c].id for c in p.children]
    for p in registered:
        assert p.gender is not None
        p.cnic = mint.issue(p.gender)
    world.parties.extend(registered)
    world.parties.extend(others)
