"""Exact khewat shares (domain.md §2, §6.1)."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landgov.domain import (
    check_khewat_total,
    format_share,
    from_terms,
    is_over_allocated,
    parse_share,
    share_total,
    split_share,
    to_terms,
    validate_share,
)
from landgov.errors import InvalidShare

shares = st.fractions(min_value=0, max_value=1, max_denominator=10**6).filter(lambda f: f > 0)
weights = st.lists(st.integers(1, 10**6), min_size=1, max_size=30)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1/4", Fraction(1, 4)),
        ("7/24", Fraction(7, 24)),
        ("1", Fraction(1)),
        ("2/8", Fraction(1, 4)),
        (" 3 / 3 ", Fraction(1)),
    ],
)
def test_parse_share_accepts(text: str, expected: Fraction) -> None:
    assert parse_share(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("0", "more than 0"),
        ("0/5", "more than 0"),
        ("-1/4", "negative"),
        ("5/4", "more than the whole"),
        ("2", "more than the whole"),
        ("1/0", "zero denominator"),
        ("0.25", "decimal"),
        ("1.5/3", "decimal"),
        ("1/4/2", "whole numbers"),
        ("a/b", "whole numbers"),
        ("1/", "whole numbers"),
    ],
)
def test_parse_share_rejects_quoting_input(text: str, reason: str) -> None:
    with pytest.raises(InvalidShare) as exc:
        parse_share(text)
    assert repr(text) in str(exc.value)
    assert reason in str(exc.value)


def test_format_share() -> None:
    assert format_share(Fraction(7, 24)) == "7/24"
    assert format_share(Fraction(1)) == "1/1"
    assert format_share(Fraction(13, 12)) == "13/12"


@given(shares)
def test_parse_format_round_trip(share: Fraction) -> None:
    assert parse_share(format_share(share)) == share


@given(shares)
def test_terms_round_trip(share: Fraction) -> None:
    numerator, denominator = to_terms(share)
    assert from_terms(numerator, denominator) == share
    assert Fraction(numerator, denominator) == share


def test_to_terms_lowest() -> None:
    assert to_terms(Fraction(6, 24)) == (1, 4)


@pytest.mark.parametrize(("n", "d"), [(1, 0), (0, 4), (-1, -4), (5, 4)])
def test_from_terms_rejects(n: int, d: int) -> None:
    with pytest.raises(InvalidShare):
        from_terms(n, d)


def test_validate_share_rejects_float() -> None:
    with pytest.raises(InvalidShare, match="not a Fraction"):
        validate_share(0.25)  # type: ignore[arg-type]


def test_faraid_example_totals_one() -> None:
    # domain.md §5: wife, one son, one daughter.
    shares_ = [parse_share(t) for t in ("1/8", "7/12", "7/24")]
    assert share_total(shares_) == 1
    check_khewat_total(shares_)


def test_float_total_would_fail_but_fraction_does_not() -> None:
    tenths = [Fraction(1, 10)] * 10
    assert sum(float(f) for f in tenths) != 1.0  # the bug this module exists to avoid
    check_khewat_total(tenths)


def test_share_total_rejects_float() -> None:
    with pytest.raises(TypeError, match="float"):
        share_total([Fraction(1, 2), 0.5])  # type: ignore[list-item]


def test_check_khewat_total_over_allocated() -> None:
    total = [Fraction(1, 2), Fraction(7, 12)]
    assert is_over_allocated(share_total(total))
    with pytest.raises(InvalidShare, match=r"total 13/12.*over-allocated by 1/12"):
        check_khewat_total(total)


def test_check_khewat_total_under_allocated() -> None:
    assert not is_over_allocated(Fraction(3, 4))
    with pytest.raises(InvalidShare, match=r"total 3/4.*under-allocated by 1/4"):
        check_khewat_total([Fraction(1, 2), Fraction(1, 4)])
    with pytest.raises(InvalidShare, match="total 0/1"):
        check_khewat_total([])


@given(shares, weights)
def test_split_share_sums_exactly(share: Fraction, parts: list[int]) -> None:
    split = split_share(share, parts)
    assert len(split) == len(parts)
    assert sum(split, Fraction(0)) == share
    for piece, weight in zip(split, parts, strict=True):
        assert piece * sum(parts) == share * weight


def test_split_share_two_to_one() -> None:
    assert split_share(Fraction(7, 12), [2, 1]) == [Fraction(7, 18), Fraction(7, 36)]


@pytest.mark.parametrize("parts", [[], [0], [2, -1], [True]])
def test_split_share_rejects_bad_weights(parts: list[int]) -> None:
    with pytest.raises(InvalidShare):
        split_share(Fraction(1, 2), parts)


@given(st.lists(st.integers(1, 10**4), min_size=1, max_size=50))
def test_random_partition_totals_one(parts: list[int]) -> None:
    check_khewat_total(split_share(Fraction(1), parts))


@given(st.lists(st.integers(1, 10**4), min_size=1, max_size=20), st.data())
def test_nested_partitions_total_one(parts: list[int], data: st.DataObject) -> None:
    # Each owner's share is split again among heirs; the khewat still totals 1.
    nested = [
        piece
        for share in split_share(Fraction(1), parts)
        for piece in split_share(share, data.draw(weights))
    ]
    assert share_total(nested) == 1
