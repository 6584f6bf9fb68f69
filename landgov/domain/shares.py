"""Exact shares of a khewat (ownership account).

A share is one owner's fraction of a khewat, a :class:`fractions.Fraction` in (0, 1]
here and a pair of integers (numerator, denominator) in the database (domain.md §2).

Floats are banned. Shares such as 7/24 or 1/3 have no exact binary form, so a float total
of a valid khewat can come out as 0.9999999999999999 and a check "total == 1" fails for
correct records; an open-source land system carried exactly that false failure for years
(domain.md §2). With fractions the total of a valid khewat is exactly 1, and a total
above 1 is a real over-allocation, the most serious fraud signal (domain.md §6.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import Final

from landgov.errors import InvalidShare

WHOLE: Final = Fraction(1)
"""The whole khewat; the shares of every khewat must total exactly this."""

_SHARE_RE: Final = re.compile(r"([0-9]+)(?:\s*/\s*([0-9]+))?")


def parse_share(text: str) -> Fraction:
    """Reads a share such as ``7/24``, ``2/8`` (returned as 1/4) or ``1`` (the whole).

    Only whole, non-negative ASCII numbers are read: a decimal such as ``0.25`` is
    refused, because a register writes fractions and a decimal hints at a float that
    already lost precision.

    Raises:
        InvalidShare: the text is empty, decimal, signed, has a zero denominator, or is
            not in (0, 1]; the message quotes the text.
    """
    stripped = text.strip()
    match = _SHARE_RE.fullmatch(stripped)
    if match is None:
        raise InvalidShare(f"share {text!r}: {_why_unreadable(stripped)}")
    numerator = int(match.group(1))
    denominator = int(match.group(2)) if match.group(2) is not None else 1
    if denominator == 0:
        raise InvalidShare(f"share {text!r} has a zero denominator")
    try:
        return validate_share(Fraction(numerator, denominator))
    except InvalidShare as exc:
        raise InvalidShare(f"share {text!r}: {exc}") from None


def _why_unreadable(stripped: str) -> str:
    """Names the commonest reason a share string cannot be read."""
    if not stripped:
        return "empty; expected a fraction such as '7/24'"
    if stripped.startswith("-"):
        return "a share cannot be negative"
    if "." in stripped:
        return "decimals are not allowed; write a fraction of whole numbers such as '1/4'"
    return "expected a fraction of whole numbers such as '7/24', or '1' for the whole"


def validate_share(share: Fraction) -> Fraction:
    """Checks that a share lies in (0, 1] and returns it.

    Raises:
        InvalidShare: the share is 0, negative or more than the whole.
    """
    if not isinstance(share, Fraction):
        raise InvalidShare(f"share {share!r} is not a Fraction (floats are not exact)")
    if share <= 0:
        raise InvalidShare(f"share {format_share(share)} must be more than 0")
    if share > WHOLE:
        raise InvalidShare(f"share {format_share(share)} is more than the whole (1/1)")
    return share


def format_share(share: Fraction | int) -> str:
    """Writes a fraction in lowest terms as ``numerator/denominator``, e.g. ``7/24``.

    The whole is written ``1/1``, not ``1``, so every share in a register column has the
    same form; :func:`parse_share` reads both. Any fraction is accepted (totals such as
    ``13/12`` appear in messages).
    """
    value = Fraction(share)
    return f"{value.numerator}/{value.denominator}"


def share_total(shares: Iterable[Fraction]) -> Fraction:
    """Adds shares exactly; the total of no shares is 0.

    Raises:
        TypeError: an item is not a Fraction or int (a float would make the sum inexact).
    """
    total = Fraction(0)
    for share in shares:
        if not isinstance(share, Fraction | int):
            raise TypeError(f"share {share!r} is a {type(share).__name__}, not a Fraction")
        total += share
    return total


def is_over_allocated(total: Fraction) -> bool:
    """True when a khewat's shares total more than the whole (critical, domain.md §6.1)."""
    return total > WHOLE


def check_khewat_total(shares: Iterable[Fraction]) -> None:
    """Checks that the shares of one khewat on one date total exactly 1 (domain.md §6.1).

    Raises:
        InvalidShare: the total is not exactly 1; the message gives the total and says
            whether the khewat is over- or under-allocated.
    """
    total = share_total(shares)
    if total == WHOLE:
        return
    kind = "over-allocated" if is_over_allocated(total) else "under-allocated"
    raise InvalidShare(
        f"khewat shares total {format_share(total)}, not 1/1: {kind} by "
        f"{format_share(abs(total - WHOLE))}"
    )


def split_share(share: Fraction, parts: Sequence[int]) -> list[Fraction]:
    """Splits a share in proportion to whole-number weights, exactly.

    For example ``split_share(Fraction(7, 12), [2, 1])`` gives a son twice a daughter:
    ``[7/18, 7/36]``. The parts always sum exactly to ``share``.

    Args:
        share: the share to divide, in (0, 1].
        parts: one positive weight per recipient.

    Raises:
        InvalidShare: the share is not in (0, 1], there are no parts, or a weight is
            not a positive integer.
    """
    validate_share(share)
    if not parts:
        raise InvalidShare(f"cannot split share {format_share(share)} into no parts")
    for weight in parts:
        if isinstance(weight, bool) or not isinstance(weight, int) or weight <= 0:
            raise InvalidShare(f"split weight {weight!r} must be a positive whole number")
    weight_total = sum(parts)
    return [share * Fraction(weight, weight_total) for weight in parts]


def to_terms(share: Fraction) -> tuple[int, int]:
    """Gives (numerator, denominator) in lowest terms, as the database stores a share.

    Raises:
        InvalidShare: the share is not in (0, 1].
    """
    validate_share(share)
    return share.numerator, share.denominator


def from_terms(numerator: int, denominator: int) -> Fraction:
    """Rebuilds a share from its database terms (which need not be in lowest terms).

    Raises:
        InvalidShare: a term is not positive, or the share is more than the whole.
    """
    if numerator <= 0 or denominator <= 0:
        raise InvalidShare(f"share {numerator}/{denominator}: both terms must be positive")
    return validate_share(Fraction(numerator, denominator))
