"""Faraid applied person by person to a family tree."""

from __future__ import annotations

from fractions import Fraction

import pytest

from landgov.domain.succession import (
    Child,
    Family,
    NeedsWiderFamily,
    compare_to_record,
    shares_by_person,
)

F = Fraction


def test_widow_son_daughter() -> None:
    fam = Family("male", (Child(3, "male", True), Child(4, "female", True)), spouses=(2,))
    assert shares_by_person(fam) == [(2, F(1, 8)), (3, F(7, 12)), (4, F(7, 24))]


def test_parents_take_a_sixth_each_with_a_son() -> None:
    fam = Family("male", (Child(3, "male", True),), spouses=(2,), father=8, mother=9)
    got = dict(shares_by_person(fam))
    assert got == {2: F(1, 8), 8: F(1, 6), 9: F(1, 6), 3: F(13, 24)}
    assert sum(got.values()) == 1


def test_father_takes_the_residue_with_only_a_daughter() -> None:
    # daughter 1/2, mother 1/6, father 1/6 + residue 1/6
    fam = Family("female", (Child(3, "female", True),), father=8, mother=9)
    assert dict(shares_by_person(fam)) == {3: F(1, 2), 8: F(1, 3), 9: F(1, 6)}


def test_children_of_a_predeceased_son_take_his_place_in_order() -> None:
    kids = (
        Child(3, "male", False, ((5, "male"), (6, "female"))),
        Child(4, "female", True),
    )
    got = shares_by_person(Family("male", kids, spouses=(2,)))
    # the son's 7/12 split 2:1 between his son and daughter
    assert got == [(2, F(1, 8)), (5, F(7, 18)), (6, F(7, 36)), (4, F(7, 24))]


def test_two_widows_share_the_eighth() -> None:
    fam = Family("male", (Child(3, "male", True),), spouses=(1, 2))
    assert shares_by_person(fam) == [(1, F(1, 16)), (2, F(1, 16)), (3, F(7, 8))]


def test_no_descendant_needs_the_wider_family() -> None:
    with pytest.raises(NeedsWiderFamily):
        shares_by_person(Family("male", (Child(3, "male", False),), spouses=(2,)))


def test_compare_to_record_finds_omission_stranger_and_difference() -> None:
    expected = [(2, F(1, 8)), (3, F(7, 12)), (4, F(7, 24))]
    assert compare_to_record(expected, expected) == ([], [], [])
    omitted, strangers, different = compare_to_record(
        expected, [(2, F(1, 8)), (3, F(1, 2)), (3, F(1, 4)), (9, F(1, 8))]
    )
    assert omitted == [4] and strangers == [9] and different == [(3, F(7, 12), F(3, 4))]
