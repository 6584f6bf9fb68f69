"""SMS segment counting (3GPP TS 23.038 / 23.040)."""

from __future__ import annotations

import pytest

from landgov.domain.sms import Encoding, encoding_of, sms_size


@pytest.mark.parametrize(
    ("text", "encoding", "units", "segments"),
    [
        ("", Encoding.GSM7, 0, 1),
        ("a" * 160, Encoding.GSM7, 160, 1),
        ("a" * 161, Encoding.GSM7, 161, 2),
        ("a" * 306, Encoding.GSM7, 306, 2),  # 2 × 153
        ("a" * 307, Encoding.GSM7, 307, 3),
        ("€" * 80, Encoding.GSM7, 160, 1),  # extension: two septets each
        ("€" * 81, Encoding.GSM7, 162, 2),
        ("پ" * 70, Encoding.UCS2, 70, 1),
        ("پ" * 71, Encoding.UCS2, 71, 2),
        ("پ" * 134, Encoding.UCS2, 134, 2),  # 2 × 67
        ("پ" * 135, Encoding.UCS2, 135, 3),
        ("a" * 159 + "ü", Encoding.GSM7, 160, 1),  # ü is in the default alphabet
        ("a" * 10 + "ç", Encoding.UCS2, 11, 1),  # ç (lower case) is not
    ],
)
def test_sizes(text: str, encoding: Encoding, units: int, segments: int) -> None:
    size = sms_size(text)
    assert (size.encoding, size.units, size.segments) == (encoding, units, segments)


def test_an_escape_pair_never_straddles_segments() -> None:
    # 152 plain septets, then a two-septet character: it cannot start at septet 153
    size = sms_size("a" * 152 + "€" + "a" * 10)
    assert size.units == 164 and size.segments == 2
    assert sms_size("a" * 152 + "€" + "a" * 152).segments == 3


def test_surrogate_pairs_count_twice() -> None:
    assert sms_size("🌾" * 35).units == 70 and sms_size("🌾" * 36).segments == 2
    assert encoding_of("Khasra 45//12: irrigate") is Encoding.GSM7
