"""Pakistani CNIC numbers (Computerised National Identity Card).

A CNIC is 13 digits written ``#####-#######-#`` (domain.md §2). The first five digits
encode the issuing locality (district/tehsil); the last digit is odd for a man and even
for a woman. The record stores the dashed form only, so one person has one spelling.
"""

from __future__ import annotations

import re
from typing import Final

from landgov.domain.records import Gender
from landgov.errors import InvalidCNIC

CNIC_PATTERN: Final = r"^\d{5}-\d{7}-\d$"
"""The stored form of a CNIC (domain.md §2); the database CHECK uses the same pattern."""

# re.ASCII: ``\d`` must not match Urdu or other non-ASCII digits. fullmatch: ``$`` alone
# would also accept a trailing newline.
_CNIC_RE: Final = re.compile(CNIC_PATTERN, re.ASCII)
_BARE_RE: Final = re.compile(r"[0-9]{13}")


def validate_cnic(text: str) -> str:
    """Returns a CNIC in its stored, dashed form.

    Surrounding whitespace is dropped and 13 bare digits (as typed on a phone or read
    from a spreadsheet) are given their dashes.

    Raises:
        InvalidCNIC: the text is neither ``#####-#######-#`` nor 13 digits; the message
            quotes the text.
    """
    stripped = text.strip()
    if _CNIC_RE.fullmatch(stripped):
        return stripped
    if _BARE_RE.fullmatch(stripped):
        return f"{stripped[:5]}-{stripped[5:12]}-{stripped[12]}"
    raise InvalidCNIC(f"CNIC {text!r} is not of the form #####-#######-# (13 digits)")


def is_valid_cnic(text: str) -> bool:
    """True when :func:`validate_cnic` would accept ``text``."""
    try:
        validate_cnic(text)
    except InvalidCNIC:
        return False
    return True


def mask_cnic(cnic: str) -> str:
    """Hides a CNIC for display, e.g. ``35202-*******-1``.

    The locality code and the gender digit stay visible: they help a clerk tell parties
    apart without exposing the number on screens and printed extracts.

    Raises:
        InvalidCNIC: ``cnic`` is not a valid CNIC.
    """
    dashed = validate_cnic(cnic)
    return f"{dashed[:5]}-*******-{dashed[-1]}"


def cnic_gender(cnic: str) -> Gender:
    """The gender a CNIC encodes: last digit odd is male, even is female.

    Raises:
        InvalidCNIC: ``cnic`` is not a valid CNIC.
    """
    return Gender.MALE if int(validate_cnic(cnic)[-1]) % 2 else Gender.FEMALE
