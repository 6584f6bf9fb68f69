"""CNIC validation, masking and the gender digit (domain.md §2)."""

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from landgov.domain import (
    CNIC_PATTERN,
    Gender,
    cnic_gender,
    is_valid_cnic,
    mask_cnic,
    validate_cnic,
)
from landgov.errors import InvalidCNIC

digits13 = st.text(alphabet="0123456789", min_size=13, max_size=13)


def dashed(d: str) -> str:
    return f"{d[:5]}-{d[5:12]}-{d[12]}"


@given(digits13)
def test_round_trip(d: str) -> None:
    cnic = dashed(d)
    assert validate_cnic(cnic) == cnic
    assert validate_cnic(d) == cnic
    assert validate_cnic(f"  {cnic}\n") == cnic
    assert re.match(CNIC_PATTERN, validate_cnic(d))
    assert is_valid_cnic(d)


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "35202-1234567",
        "35202-1234567-12",
        "3520-21234567-1",
        "35202 1234567 1",
        "3520212345671x",
        "352021234567",
        "35202-1234567-1\nX",
        "٣٥٢٠٢-١٢٣٤٥٦٧-١",
        "35202_1234567_1",
    ],
)
def test_rejects_quoting_input(bad: str) -> None:
    with pytest.raises(InvalidCNIC) as exc:
        validate_cnic(bad)
    assert repr(bad) in str(exc.value)
    assert not is_valid_cnic(bad)


def test_mask() -> None:
    assert mask_cnic("35202-1234567-1") == "35202-*******-1"
    assert mask_cnic("3520212345678") == "35202-*******-8"
    with pytest.raises(InvalidCNIC):
        mask_cnic("nope")


@given(digits13)
def test_mask_hides_middle(d: str) -> None:
    masked = mask_cnic(d)
    assert masked[:5] == d[:5] and masked[-1] == d[-1]
    assert masked[6:13] == "*" * 7


@given(digits13)
def test_gender_digit(d: str) -> None:
    expected = Gender.MALE if int(d[-1]) % 2 == 1 else Gender.FEMALE
    assert cnic_gender(dashed(d)) == expected


def test_gender_examples() -> None:
    assert cnic_gender("35202-1234567-1") is Gender.MALE
    assert cnic_gender("35202-1234567-2") is Gender.FEMALE
    assert cnic_gender("35202-1234567-0") is Gender.FEMALE
