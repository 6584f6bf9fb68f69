"""Khasra (parcel) numbers, ordinary and canal-colony.

Two forms occur (domain.md §2):

- ordinary: ``123``, with tatima sub-numbers for split parcels: ``123/2``, ``123/2/1``;
- canal colony: murabba (square) ``//`` killa (acre), e.g. ``45//12``, optionally with
  tatima: ``45//12/1``. A murabba is 25 acres (domain.md §3), laid out as 25 killas, so a
  killa number is 1-25.

Numbers compare numerically, not as text, so ``2`` sorts before ``10``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import total_ordering
from typing import Final

from landgov.errors import InvalidKhasraNumber

KILLAS_PER_MURABBA: Final = 25
"""A murabba is 25 acres, each a killa (domain.md §3), so killas are numbered 1-25."""

_DIGITS_RE: Final = re.compile(r"[0-9]+")


@total_ordering
@dataclass(frozen=True)
class KhasraNumber:
    """A parsed khasra number.

    Attributes:
        murabba: the murabba (square) number in a canal colony, or None for an ordinary
            number.
        number: the khasra number, or the killa (1-25) within the murabba.
        tatima: tatima sub-numbers from the outermost split inwards; empty for an
            unsplit parcel.

    Raises:
        InvalidKhasraNumber: a part is not a positive integer, or a killa exceeds 25.
    """

    murabba: int | None
    number: int
    tatima: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if self.murabba is not None and self.murabba < 1:
            raise InvalidKhasraNumber(f"murabba {self.murabba} must be 1 or more")
        if self.number < 1:
            raise InvalidKhasraNumber(f"khasra number {self.number} must be 1 or more")
        if self.murabba is not None and self.number > KILLAS_PER_MURABBA:
            raise InvalidKhasraNumber(
                f"killa {self.number} in murabba {self.murabba} is more than "
                f"{KILLAS_PER_MURABBA} (a murabba has {KILLAS_PER_MURABBA} killas)"
            )
        for sub in self.tatima:
            if sub < 1:
                raise InvalidKhasraNumber(f"tatima {sub} must be 1 or more")

    def __str__(self) -> str:
        head = str(self.number) if self.murabba is None else f"{self.murabba}//{self.number}"
        return head + "".join(f"/{sub}" for sub in self.tatima)

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, KhasraNumber):
            return NotImplemented
        return self.sort_key < other.sort_key

    @property
    def sort_key(self) -> tuple[int, int, int, tuple[int, ...]]:
        """Numeric order: ordinary numbers first, then by murabba, number, tatima."""
        if self.murabba is None:
            return (0, 0, self.number, self.tatima)
        return (1, self.murabba, self.number, self.tatima)

    @property
    def is_tatima(self) -> bool:
        """True for a sub-number created by splitting a parcel."""
        return bool(self.tatima)

    @property
    def parent(self) -> KhasraNumber | None:
        """The parcel this one was split from, or None for an unsplit number."""
        if not self.tatima:
            return None
        return replace(self, tatima=self.tatima[:-1])

    def child(self, sub: int) -> KhasraNumber:
        """The tatima ``sub`` of this parcel, e.g. ``123/2`` -> ``123/2/1``.

        Raises:
            InvalidKhasraNumber: ``sub`` is less than 1.
        """
        return replace(self, tatima=(*self.tatima, sub))


def parse_khasra_number(text: str) -> KhasraNumber:
    """Reads ``123``, ``123/2/1``, ``45//12`` or ``45//12/1``; spaces are ignored.

    Leading zeros are read as numbers (``012`` is 12), so the canonical ``str()`` may
    differ from the input.

    Raises:
        InvalidKhasraNumber: the text is empty, has a non-digit, a zero, a dangling or
            doubled slash, or a killa above 25; the message quotes the text.
    """
    compact = "".join(text.split())
    try:
        return _parse(compact)
    except InvalidKhasraNumber as exc:
        raise InvalidKhasraNumber(f"khasra number {text!r}: {exc}") from None


def _parse(compact: str) -> KhasraNumber:
    """Parses a khasra number with all whitespace removed."""
    if not compact:
        raise InvalidKhasraNumber("empty")
    halves = compact.split("//")
    if len(halves) > 2:
        raise InvalidKhasraNumber("more than one '//'")
    murabba = _number(halves[0], "murabba") if len(halves) == 2 else None
    numbers = [_number(part, "number") for part in halves[-1].split("/")]
    return KhasraNumber(murabba, numbers[0], tuple(numbers[1:]))


def _number(part: str, what: str) -> int:
    """Reads one positive number between slashes."""
    if not part:
        raise InvalidKhasraNumber(f"dangling '/' (a {what} is missing)")
    if not _DIGITS_RE.fullmatch(part):
        raise InvalidKhasraNumber(f"{part!r} is not a whole number")
    value = int(part)
    if value == 0:
        raise InvalidKhasraNumber(f"{what} 0 is not allowed; numbering starts at 1")
    return value
