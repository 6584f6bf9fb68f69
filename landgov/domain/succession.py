"""Who inherits what, person by person: faraid applied to a family tree (domain.md §5).

:func:`landgov.domain.faraid.compute_shares` works on kinds of heir ("two sons, a wife").
A wirasat mutation and the dispute rule that checks one need each *person's* fraction, so
this module describes the deceased's family as a family registration certificate (NADRA
FRC) shows it on the date of death and maps the kinds back to the people.

Scope: a deceased who leaves a descendant (a child, or a child of a predeceased child
under MFLO 1961 s.4), with a surviving spouse or spouses and parents. Without a
descendant, siblings and remoter relatives inherit, whom an FRC does not list:
:class:`NeedsWiderFamily` says so rather than guessing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Literal

from landgov.domain.faraid import Heirs, PredeceasedChild, School, compute_shares
from landgov.errors import DomainError

Gender = Literal["male", "female"]


class NeedsWiderFamily(DomainError):
    """The deceased left no descendant: the heirs are beyond the immediate family."""


@dataclass(frozen=True)
class Child:
    """A child of the deceased: surviving, or predeceased with his or her own children."""

    party_id: int
    gender: Gender
    survived: bool
    children: tuple[tuple[int, Gender], ...] = ()  # used only when not ``survived``


@dataclass(frozen=True)
class Family:
    """The deceased's immediate family on the date of death (survivors only, except the
    predeceased children whose children represent them)."""

    deceased_gender: Gender
    children: tuple[Child, ...]
    spouses: tuple[int, ...] = ()
    father: int | None = None
    mother: int | None = None
    school: School = field(default=School.HANAFI)


def shares_by_person(family: Family) -> list[tuple[int, Fraction]]:
    """Each heir's fraction of the estate, in the order spouse(s), father, mother, then the
    children in the order given (a predeceased child's children in his or her place).

    Persons who take nothing (e.g. a predeceased child without children) are left out; the
    fractions sum to exactly 1.

    Raises:
        NeedsWiderFamily: no surviving child and no child of a predeceased child.
    """
    living_sons = [c.party_id for c in family.children if c.survived and c.gender == "male"]
    living_daughters = [c.party_id for c in family.children if c.survived and c.gender == "female"]
    stocks = [c for c in family.children if not c.survived and c.children]
    if not living_sons and not living_daughters and not stocks:
        raise NeedsWiderFamily("the deceased left no child or child of a predeceased child")
    spouse_kind = "wife" if family.deceased_gender == "male" else "husband"
    heirs = Heirs.from_mapping(
        {
            spouse_kind: len(family.spouses),
            "son": len(living_sons),
            "daughter": len(living_daughters),
            "father": int(family.father is not None),
            "mother": int(family.mother is not None),
        }
    )
    predeceased = [
        PredeceasedChild(
            "son" if c.gender == "male" else "daughter",
            sons=sum(g == "male" for _, g in c.children),
            daughters=sum(g == "female" for _, g in c.children),
        )
        for c in stocks
    ]
    each = {line.heir: line.share_each for line in compute_shares(
        heirs, school=family.school, predeceased=predeceased
    )}  # fmt: skip
    out: list[tuple[int, Fraction]] = [(s, each[spouse_kind]) for s in family.spouses]
    for kind, pid in (("father", family.father), ("mother", family.mother)):
        if pid is not None and each.get(kind):
            out.append((pid, each[kind]))
    numbers = {"male": 0, "female": 0}
    for c in family.children:
        if c.survived:
            share = each.get("son" if c.gender == "male" else "daughter", Fraction(0))
            if share:
                out.append((c.party_id, share))
        elif c.children:
            numbers[c.gender] += 1
            stock = f"predeceased_{'son' if c.gender == 'male' else 'daughter'}_{numbers[c.gender]}"
            for gid, g in c.children:
                share = each.get(f"{stock}.{'son' if g == 'male' else 'daughter'}", Fraction(0))
                if share:
                    out.append((gid, share))
    return out


def compare_to_record(
    expected: Sequence[tuple[int, Fraction]], recorded: Sequence[tuple[int, Fraction]]
) -> tuple[list[int], list[int], list[tuple[int, Fraction, Fraction]]]:
    """How a mutation's recorded division differs from faraid.

    Returns:
        (omitted, strangers, different): heirs faraid gives a share who got nothing;
        persons who got a share faraid does not give them; and ``(party, expected,
        recorded)`` for heirs whose fraction differs.
    """
    want = dict(expected)
    got: dict[int, Fraction] = {}
    for pid, frac in recorded:
        got[pid] = got.get(pid, Fraction(0)) + frac
    omitted = [p for p in want if p not in got]
    strangers = [p for p in got if p not in want]
    different = [(p, want[p], got[p]) for p in want if p in got and got[p] != want[p]]
    return omitted, strangers, different
