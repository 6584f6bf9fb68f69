"""Land area units: exact conversions and the patwari's K-M-S notation (domain.md §3)."""

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landgov.domain import (
    FOOT_M,
    SARSAI_PER_ACRE,
    SARSAI_PER_KANAL,
    SARSAI_PER_MURABBA,
    KanalMarlaSarsai,
    UnitSystem,
    acres_to_sarsai,
    format_area,
    format_kms,
    kms_in_words,
    kms_to_m2,
    m2_to_sarsai,
    parse_kms,
    sarsai_sqft,
    sarsai_to_m2,
    sarsai_to_sqft,
    sqft_to_sarsai,
)
from landgov.errors import InvalidArea

STD = UnitSystem.STANDARD
URBAN = UnitSystem.URBAN

kms_values = st.builds(
    KanalMarlaSarsai,
    kanal=st.integers(0, 10**6),
    marla=st.integers(0, 19),
    sarsai=st.integers(0, 8),
)
systems = st.sampled_from(list(UnitSystem))


def test_worked_example_4_7_3() -> None:
    kms = parse_kms("4-7-3")
    assert kms == KanalMarlaSarsai(4, 7, 3)
    assert kms.total_sarsai == 4 * 180 + 7 * 9 + 3 == 786


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4-7", KanalMarlaSarsai(4, 7, 0)),
        ("0-12-0", KanalMarlaSarsai(0, 12, 0)),
        (" 4 - 7 - 3 ", KanalMarlaSarsai(4, 7, 3)),
        ("\t12-19-8\n", KanalMarlaSarsai(12, 19, 8)),
        ("0-0", KanalMarlaSarsai(0, 0, 0)),
    ],
)
def test_parse_kms_accepts(text: str, expected: KanalMarlaSarsai) -> None:
    assert parse_kms(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("-4-7-3", "kanal-marla-sarsai"),
        ("4--7-3", "kanal-marla-sarsai"),
        ("4-x-3", "kanal-marla-sarsai"),
        ("4.5-7-3", "kanal-marla-sarsai"),
        ("4", "kanal-marla-sarsai"),
        ("4-7-3-1", "kanal-marla-sarsai"),
        ("4-7-", "kanal-marla-sarsai"),
        ("۴-۷-۳", "kanal-marla-sarsai"),
        ("4-20-0", "marla 20"),
        ("4-7-9", "sarsai 9"),
    ],
)
def test_parse_kms_rejects_quoting_input(text: str, reason: str) -> None:
    with pytest.raises(InvalidArea) as exc:
        parse_kms(text)
    assert repr(text) in str(exc.value)
    assert reason in str(exc.value)


@given(kms_values)
def test_parse_format_round_trip(kms: KanalMarlaSarsai) -> None:
    assert parse_kms(format_kms(kms)) == kms


@given(st.integers(0, 10**9))
def test_from_sarsai_round_trip(n: int) -> None:
    assert KanalMarlaSarsai.from_sarsai(n).total_sarsai == n


@given(kms_values, kms_values)
def test_kms_order_is_area_order(a: KanalMarlaSarsai, b: KanalMarlaSarsai) -> None:
    assert (a < b) == (a.total_sarsai < b.total_sarsai)


@pytest.mark.parametrize(("k", "m", "s"), [(-1, 0, 0), (0, 20, 0), (0, 0, 9), (0, -1, 0)])
def test_kms_rejects_unnormalised(k: int, m: int, s: int) -> None:
    with pytest.raises(InvalidArea):
        KanalMarlaSarsai(k, m, s)


def test_from_sarsai_rejects_negative() -> None:
    with pytest.raises(InvalidArea, match="negative"):
        KanalMarlaSarsai.from_sarsai(-1)


def test_format() -> None:
    assert format_kms(KanalMarlaSarsai(4, 7, 0)) == "4-7-0"
    assert str(KanalMarlaSarsai(4, 7, 3)) == "4-7-3"
    assert kms_in_words(KanalMarlaSarsai(4, 7, 3)) == "4 kanal 7 marla 3 sarsai"


def test_standard_unit_constants() -> None:
    assert sarsai_sqft(STD) == Fraction("30.25") == Fraction("5.5") ** 2
    assert sarsai_to_sqft(9, STD) == Fraction("272.25")  # marla
    assert sarsai_to_sqft(SARSAI_PER_KANAL, STD) == 5445  # kanal
    assert sarsai_to_sqft(SARSAI_PER_ACRE, STD) == 43_560  # acre = killa = 8 kanal
    assert sarsai_to_sqft(SARSAI_PER_MURABBA, STD) == 25 * 43_560
    assert sarsai_to_m2(SARSAI_PER_ACRE, STD) == Fraction("4046.8564224")
    assert acres_to_sarsai(1, STD) == SARSAI_PER_ACRE


def test_urban_unit_constants() -> None:
    assert sarsai_sqft(URBAN) == 25
    assert sarsai_to_sqft(9, URBAN) == 225  # marla
    assert sarsai_to_sqft(SARSAI_PER_KANAL, URBAN) == 4500  # kanal
    assert acres_to_sarsai(1, URBAN) == Fraction(43_560, 25)  # the same statute acre


def test_conversions_are_exact_fractions() -> None:
    assert isinstance(sarsai_to_m2(1, STD), Fraction)
    assert sarsai_to_m2(1, STD) == Fraction("30.25") * Fraction("0.3048") ** 2
    assert Fraction(3048, 10_000) == FOOT_M


@given(st.integers(0, 10**9), systems)
def test_sarsai_m2_round_trip_exact(n: int, system: UnitSystem) -> None:
    m2 = sarsai_to_m2(n, system)
    assert m2_to_sarsai(m2, system) == n
    assert sqft_to_sarsai(sarsai_to_sqft(n, system), system) == n


@given(st.integers(0, 10**7), systems)
def test_m2_float_round_trip(n: int, system: UnitSystem) -> None:
    assert m2_to_sarsai(float(sarsai_to_m2(n, system)), system) == n


@given(st.fractions(min_value=0, max_value=10**6), systems)
def test_m2_to_sarsai_is_nearest(m2: Fraction, system: UnitSystem) -> None:
    n = m2_to_sarsai(m2, system)
    assert abs(sarsai_to_m2(n, system) - m2) <= sarsai_to_m2(1, system) / 2


def test_m2_to_sarsai_rounds_half_to_even() -> None:
    one = sarsai_to_m2(1, STD)
    assert m2_to_sarsai(one / 2, STD) == 0
    assert m2_to_sarsai(one * Fraction(3, 2), STD) == 2
    assert m2_to_sarsai(one * Fraction(5, 2), STD) == 2


@pytest.mark.parametrize("bad", [-1.0, float("nan"), float("inf"), Fraction(-1, 2)])
def test_m2_to_sarsai_rejects(bad: float | Fraction) -> None:
    with pytest.raises(InvalidArea):
        m2_to_sarsai(bad, STD)


def test_negative_conversions_rejected() -> None:
    with pytest.raises(InvalidArea):
        sarsai_to_m2(-1, STD)
    with pytest.raises(InvalidArea):
        acres_to_sarsai(-1, STD)


def test_kms_to_m2_and_format_area() -> None:
    kms = KanalMarlaSarsai(4, 7, 3)
    assert kms_to_m2(kms, STD) == sarsai_to_m2(786, STD)
    assert format_area(kms_to_m2(kms, STD), STD) == "4-7-3"
    assert format_area(4046.8564224, STD) == "8-0-0"
    assert format_area(0.0, URBAN) == "0-0-0"


def test_same_ground_more_urban_marlas() -> None:
    one_kanal_m2 = kms_to_m2(KanalMarlaSarsai(1, 0, 0), STD)
    # 5,445 ft² is 1 kanal 4 marla 1.8 sarsai of 225 ft² marlas.
    assert format_area(one_kanal_m2, URBAN) == "1-4-2"
