"""Inheritance shares for the demo: the simple Hanafi case only, not a faraid engine.

The demo's families are built so that every person who dies leaves children, and the
only heirs it needs are a surviving spouse and the children (domain.md §5):

- the widow takes 1/8 (a widower 1/4) when there are children;
- the residue goes to the children as residuaries, a son taking twice a daughter;
- a child who died before the deceased is represented by his or her own children, who
  take the share the child would have taken (Muslim Family Laws Ordinance 1961, s. 4),
  again sons twice daughters.

Parents, siblings, hajb, awl and radd are out of scope here: the full faraid engine is a
separate piece of work. Example: wife, one son, one daughter -> 1/8, 7/12, 7/24.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction

from landgov.demo.model import Party, World


class NotSimpleCase(Exception):
    """The deceased leaves no child or grandchild: outside the demo's simple case."""


def _by_sex(parties: list[Party]) -> list[tuple[Party, Fraction]]:
    weights = [2 if p.gender == "male" else 1 for p in parties]
    total = sum(weights)
    return [(p, Fraction(w, total)) for p, w in zip(parties, weights, strict=True)]


def simple_hanafi(
    world: World, deceased: Party, on: date, exclude: tuple[int, ...] = ()
) -> list[tuple[int, Fraction]]:
    """Heirs of ``deceased`` (who died on ``on``) and their fractions of the estate.

    ``exclude`` leaves heirs out, as a wrong mutation would (used to plant anomalies).
    The fractions always sum to exactly 1; spouse first, then children in birth order.

    Raises:
        NotSimpleCase: no child or grandchild survives the deceased.
    """
    stocks: list[tuple[Party, list[tuple[int, Fraction]]]] = []
    for child_id in deceased.children:
        child = world.party(child_id)
        if child.id in exclude or (child.dob is not None and child.dob > on):
            continue
        if child.alive_on(on):
            stocks.append((child, [(child.id, Fraction(1))]))
            continue
        grandchildren = [
            world.party(g)
            for g in child.children
            if world.party(g).alive_on(on) and g not in exclude
        ]
        if grandchildren:
            stocks.append((child, [(g.id, f) for g, f in _by_sex(grandchildren)]))
    if not stocks:
        raise NotSimpleCase(f"{deceased.name} leaves no child or grandchild")
    heirs: list[tuple[int, Fraction]] = []
    residue = Fraction(1)
    if deceased.spouse_id is not None and deceased.spouse_id not in exclude:
        spouse = world.party(deceased.spouse_id)
        if spouse.alive_on(on):
            spouse_share = Fraction(1, 8) if deceased.gender == "male" else Fraction(1, 4)
            heirs.append((spouse.id, spouse_share))
            residue -= spouse_share
    for child, fraction in _by_sex([c for c, _ in stocks]):
        for heir_id, inner in dict((c.id, parts) for c, parts in stocks)[child.id]:
            heirs.append((heir_id, residue * fraction * inner))
    assert sum(f for _, f in heirs) == 1
    return heirs
