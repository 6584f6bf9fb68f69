"""Khasra numbers: ordinary, tatima and canal-colony forms (domain.md §2)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landgov.domain import KhasraNumber, parse_khasra_number
from landgov.errors import InvalidKhasraNumber

tatimas = st.lists(st.integers(1, 999), max_size=4).map(tuple)
khasras = st.one_of(
    st.builds(KhasraNumber, st.none(), st.integers(1, 99_999), tatimas),
    st.builds(KhasraNumber, st.integers(1, 9_999), st.integers(1, 25), tatimas),
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123", KhasraNumber(None, 123)),
        ("123/2", KhasraNumber(None, 123, (2,))),
        ("123/2/1", KhasraNumber(None, 123, (2, 1))),
        ("45//12", KhasraNumber(45, 12)),
        ("45//12/1", KhasraNumber(45, 12, (1,))),
        (" 45 // 12 / 1 ", KhasraNumber(45, 12, (1,))),
        ("45//25", KhasraNumber(45, 25)),
    ],
)
def test_parse(text: str, expected: KhasraNumber) -> None:
    assert parse_khasra_number(text) == expected


def test_canonical_str() -> None:
    assert str(parse_khasra_number("45//12/1")) == "45//12/1"
    assert str(parse_khasra_number("123/2/1")) == "123/2/1"
    assert str(parse_khasra_number("0123")) == "123"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("  ", "empty"),
        ("0", "0 is not allowed"),
        ("123/0", "0 is not allowed"),
        ("0//5", "murabba 0"),
        ("12a", "not a whole number"),
        ("123min", "not a whole number"),
        ("-5", "not a whole number"),
        ("1.5", "not a whole number"),
        ("123/", "dangling"),
        ("/123", "dangling"),
        ("45//", "dangling"),
        ("//12", "dangling"),
        ("1///2", "dangling"),
        ("1//2//3", "more than one"),
        ("45//26", "killa 26"),
        ("45//26/1", "25 killas"),
    ],
)
def test_parse_rejects_naming_input(text: str, reason: str) -> None:
    with pytest.raises(InvalidKhasraNumber) as exc:
        parse_khasra_number(text)
    assert repr(text) in str(exc.value)
    assert reason in str(exc.value)


@given(khasras)
def test_round_trip(k: KhasraNumber) -> None:
    assert parse_khasra_number(str(k)) == k


def test_tatima_parent_child() -> None:
    k = parse_khasra_number("123/2/1")
    assert k.is_tatima
    assert k.parent == parse_khasra_number("123/2")
    assert k.parent is not None and k.parent.parent == parse_khasra_number("123")
    root = parse_khasra_number("45//12")
    assert not root.is_tatima
    assert root.parent is None
    assert str(root.child(1)) == "45//12/1"
    with pytest.raises(InvalidKhasraNumber):
        root.child(0)


@given(khasras, st.integers(1, 99))
def test_child_parent_inverse(k: KhasraNumber, sub: int) -> None:
    assert k.child(sub).parent == k


def test_numeric_order() -> None:
    texts = ["10", "2", "2/10", "2/3", "1//10", "1//2", "10//1", "9//25/1"]
    ordered = sorted(parse_khasra_number(t) for t in texts)
    assert [str(k) for k in ordered] == [
        "2",
        "2/3",
        "2/10",
        "10",
        "1//2",
        "1//10",
        "9//25/1",
        "10//1",
    ]


@given(khasras, khasras)
def test_order_matches_sort_key(a: KhasraNumber, b: KhasraNumber) -> None:
    assert (a < b) == (a.sort_key < b.sort_key)
    assert (a <= b) == (a.sort_key <= b.sort_key)
    assert (a == b) == (a.sort_key == b.sort_key)


def test_frozen_and_hashable() -> None:
    k = parse_khasra_number("45//12/1")
    assert len({k, parse_khasra_number("45//12/1")}) == 1
    with pytest.raises(AttributeError):
        k.number = 3  # type: ignore[misc]
