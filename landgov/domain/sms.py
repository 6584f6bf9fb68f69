"""How many SMS segments a text takes (3GPP TS 23.038 / 23.040).

A message goes as GSM 7-bit when every character is in the GSM default alphabet (or its
extension table, whose characters take two septets: an escape and the character), else as
UCS-2 (UTF-16: Urdu always is). One segment holds 160 septets or 70 UCS-2 units; a
concatenated message loses room to its user data header: 153 septets or 67 units per
segment. Characters outside the Basic Multilingual Plane take two UCS-2 units, and a
segment boundary never splits an escape pair or a surrogate pair.

Pure: no I/O. The advisory templates use it to keep the SMS version in one segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

GSM_BASIC: Final = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
"""The GSM 03.38 default alphabet (the escape, 0x1B, is part of it)."""
GSM_EXTENSION: Final = frozenset("\f^{}\\[~]|€")
"""Characters of the extension table: two septets each."""

SINGLE: Final = {"gsm7": 160, "ucs2": 70}
MULTI: Final = {"gsm7": 153, "ucs2": 67}


class Encoding(StrEnum):
    GSM7 = "gsm7"
    UCS2 = "ucs2"


@dataclass(frozen=True)
class SmsSize:
    """A text's encoding, its length in that encoding's units, and its segments."""

    encoding: Encoding
    units: int
    segments: int

    @property
    def single(self) -> bool:
        return self.segments <= 1


def encoding_of(text: str) -> Encoding:
    """GSM 7-bit if every character is in the default alphabet or its extension."""
    ok = all(c in GSM_BASIC or c in GSM_EXTENSION for c in text)
    return Encoding.GSM7 if ok else Encoding.UCS2


def _units(c: str, enc: Encoding) -> int:
    if enc is Encoding.GSM7:
        return 2 if c in GSM_EXTENSION else 1
    return 2 if ord(c) > 0xFFFF else 1


def sms_size(text: str) -> SmsSize:
    """Encoding, units and segments of ``text`` (an empty text is one empty segment)."""
    enc = encoding_of(text)
    units = [_units(c, enc) for c in text]
    total = sum(units)
    if total <= SINGLE[enc.value]:
        return SmsSize(enc, total, 1)
    room, segments, used = MULTI[enc.value], 1, 0
    for u in units:  # a pair never straddles two segments
        if used + u > room:
            segments, used = segments + 1, 0
        used += u
    return SmsSize(enc, total, segments)
