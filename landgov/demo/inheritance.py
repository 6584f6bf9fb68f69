"""Inheritance shares for the demo: the deceased's family tree through the faraid engine.

The demo's genealogy (spouse, children, their children, parents) is turned into a
:class:`landgov.domain.succession.Family` on the date of death and divided by the Hanafi
rules of :mod:`landgov.domain.faraid` (domain.md §5): the widow 1/8 (a widower 1/4) with
children, each surviving parent 1/6 (the father also the residue when only daughters
survive), the residue to the children, a son twice a daughter, and the children of a
child who died first in that child's place (MFLO 1961 s.4). Example: wife, one son, one
daughter -> 1/8, 7/12, 7/24.

A deceased without a descendant would need siblings and remoter relatives, which the
demo does not model: :class:`NotSimpleCase`, and the estate waits.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from typing import cast

from landgov.demo.model import Party, World
from landgov.domain.succession import Child, Family, Gender, NeedsWiderFamily, shares_by_person
from landgov.errors import LandgovError


class NotSimpleCase(LandgovError):
    """The deceased leaves no child or grandchild: outside the demo's simple case."""


def _gender(p: Party) -> Gender:
    return cast(Gender, p.gender)


def family_on(world: World, deceased: Party, on: date, exclude: tuple[int, ...] = ()) -> Family:
    """The deceased's family surviving on ``on`` (``exclude``: persons left out)."""
    children: list[Child] = []
    for child_id in deceased.children:
        child = world.party(child_id)
        if child.id in exclude or (child.dob is not None and child.dob > on):
            continue
        if child.alive_on(on):
            children.append(Child(child.id, _gender(child), True))
            continue
        grandchildren = tuple(
            (g.id, _gender(g))
            for g in (world.party(i) for i in child.children)
            if g.alive_on(on) and g.id not in exclude
        )
        children.append(Child(child.id, _gender(child), False, grandchildren))
    spouses: tuple[int, ...] = ()
    spouse = deceased.spouse_id
    if spouse is not None and spouse not in exclude and world.party(spouse).alive_on(on):
        spouses = (spouse,)
    father = mother = None
    for p in world.parties:
        if deceased.id in p.children and p.id not in exclude and p.alive_on(on):
            if p.gender == "male":
                father = p.id
            else:
                mother = p.id
    return Family(_gender(deceased), tuple(children), spouses, father, mother)


def simple_hanafi(
    world: World, deceased: Party, on: date, exclude: tuple[int, ...] = ()
) -> list[tuple[int, Fraction]]:
    """Heirs of ``deceased`` (who died on ``on``) and their fractions of the estate.

    ``exclude`` leaves heirs out, as a wrong mutation would (used to plant anomalies).
    The fractions always sum to exactly 1; spouse first, then parents, then children in
    birth order.

    Raises:
        NotSimpleCase: no child or grandchild survives the deceased.
    """
    try:
        return shares_by_person(family_on(world, deceased, on, exclude))
    except NeedsWiderFamily as exc:
        raise NotSimpleCase(f"{deceased.name} leaves no child or grandchild") from exc
