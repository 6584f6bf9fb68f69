"""Land area units of the Punjab revenue record, converted exactly.

Patwaris record areas as kanal-marla-sarsai (``4-7-3``); maps give square metres. Every
conversion here is exact (:class:`fractions.Fraction`), because the unit definitions are
exact decimals and an area that drifts by a float rounding error no longer matches the
register. Only :func:`m2_to_sarsai` rounds, once, to the nearest whole sarsai, since a
sarsai is the smallest unit a register holds.

Definitions (domain.md §3): 1 ft = 0.3048 m (the international foot); karam = 5.5 ft;
sarsai = 1 square karam = 30.25 ft²; marla = 9 sarsai = 272.25 ft²; kanal = 20 marla =
5,445 ft²; acre = killa = 8 kanal = 43,560 ft²; murabba = 25 acres.

Lahore and many urban housing schemes use a 225 ft² marla (kanal 4,500 ft²), so every
area names its :class:`UnitSystem`. The urban sarsai is taken as marla / 9 = 25 ft², so
that ``K-M-S`` arithmetic (9 sarsai to the marla, 20 marla to the kanal) is the same in
both systems and only the size of the sarsai differs.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from enum import StrEnum
from fractions import Fraction
from types import MappingProxyType
from typing import Final

from landgov.errors import InvalidArea


class UnitSystem(StrEnum):
    """Which marla an area is measured in (domain.md §3)."""

    STANDARD = "standard"  # marla 272.25 ft²: rural Punjab, the revenue record
    URBAN = "urban"  # marla 225 ft²: Lahore and many housing schemes


FOOT_M: Final = Fraction("0.3048")
"""Metres in an international foot; exact by definition (domain.md §3)."""

KARAM_FT: Final = Fraction("5.5")
"""Feet in a karam, the patwari's measuring rod (domain.md §3)."""

SARSAI_PER_MARLA: Final = 9
MARLA_PER_KANAL: Final = 20
KANAL_PER_ACRE: Final = 8
"""Kanals in an acre (killa) in the standard system (domain.md §3)."""
ACRES_PER_MURABBA: Final = 25
"""Acres (killas) in a murabba, the canal-colony square (domain.md §3)."""

SARSAI_PER_KANAL: Final = SARSAI_PER_MARLA * MARLA_PER_KANAL  # 180
SARSAI_PER_ACRE: Final = SARSAI_PER_KANAL * KANAL_PER_ACRE  # 1,440 (standard system)
SARSAI_PER_MURABBA: Final = SARSAI_PER_ACRE * ACRES_PER_MURABBA  # 36,000 (standard)

ACRE_SQFT: Final = Fraction(43_560)
"""Square feet in a statute acre, in either system (domain.md §3)."""

MARLA_SQFT: Final = MappingProxyType(
    {
        UnitSystem.STANDARD: KARAM_FT**2 * SARSAI_PER_MARLA,  # 272.25 ft² (domain.md §3)
        UnitSystem.URBAN: Fraction(225),  # Lahore / housing schemes (domain.md §3)
    }
)
"""Square feet in a marla, per unit system."""

_KMS_RE: Final = re.compile(r"([0-9]+)\s*-\s*([0-9]+)(?:\s*-\s*([0-9]+))?")


@dataclass(frozen=True, order=True)
class KanalMarlaSarsai:
    """An area as a patwari writes it, always normalised.

    Normalised means ``0 <= marla < 20`` and ``0 <= sarsai < 9``, so each area has one
    spelling and the field-wise order equals the order of the areas.

    Attributes:
        kanal: whole kanals, >= 0.
        marla: marlas beyond the kanals, 0-19.
        sarsai: sarsais beyond the marlas, 0-8.

    Raises:
        InvalidArea: a field is negative or not normalised.
    """

    kanal: int
    marla: int
    sarsai: int

    def __post_init__(self) -> None:
        if min(self.kanal, self.marla, self.sarsai) < 0:
            raise InvalidArea(f"negative area {self.kanal}-{self.marla}-{self.sarsai}")
        if self.marla >= MARLA_PER_KANAL:
            raise InvalidArea(
                f"marla {self.marla} in {self.kanal}-{self.marla}-{self.sarsai} "
                f"must be 0-19 ({MARLA_PER_KANAL} marla make a kanal)"
            )
        if self.sarsai >= SARSAI_PER_MARLA:
            raise InvalidArea(
                f"sarsai {self.sarsai} in {self.kanal}-{self.marla}-{self.sarsai} "
                f"must be 0-8 ({SARSAI_PER_MARLA} sarsai make a marla)"
            )

    @property
    def total_sarsai(self) -> int:
        """The whole area in sarsai, the unit used for arithmetic and storage."""
        return self.kanal * SARSAI_PER_KANAL + self.marla * SARSAI_PER_MARLA + self.sarsai

    @classmethod
    def from_sarsai(cls, n: int) -> KanalMarlaSarsai:
        """Normalises a count of sarsai into kanal, marla and sarsai.

        Raises:
            InvalidArea: ``n`` is negative.
        """
        _check_non_negative(n, "sarsai")
        kanal, rest = divmod(n, SARSAI_PER_KANAL)
        marla, sarsai = divmod(rest, SARSAI_PER_MARLA)
        return cls(kanal, marla, sarsai)

    def __str__(self) -> str:
        return format_kms(self)


def parse_kms(text: str) -> KanalMarlaSarsai:
    """Reads a patwari's ``kanal-marla-sarsai`` such as ``4-7-3`` or ``4-7``.

    Spaces around the numbers and dashes are ignored; a missing sarsai is 0. Only ASCII
    digits are read. Marla and sarsai must already be normalised, because ``4-25-0`` is
    more likely a typing error than a deliberate 5 kanal 5 marla.

    Raises:
        InvalidArea: the text is empty, has a sign or non-digit, or marla >= 20 or
            sarsai >= 9; the message quotes the text.
    """
    stripped = text.strip()
    if not stripped:
        raise InvalidArea(f"empty area {text!r}: expected kanal-marla-sarsai such as '4-7-3'")
    match = _KMS_RE.fullmatch(stripped)
    if match is None:
        raise InvalidArea(
            f"area {text!r} is not kanal-marla-sarsai: expected whole numbers >= 0 "
            "joined by '-', such as '4-7-3' or '4-7'"
        )
    kanal, marla, sarsai = (int(g) if g is not None else 0 for g in match.groups())
    try:
        return KanalMarlaSarsai(kanal, marla, sarsai)
    except InvalidArea as exc:
        raise InvalidArea(f"area {text!r}: {exc}") from None


def format_kms(kms: KanalMarlaSarsai) -> str:
    """Writes an area as the register does: ``4-7-3``, sarsai always shown."""
    return f"{kms.kanal}-{kms.marla}-{kms.sarsai}"


def kms_in_words(kms: KanalMarlaSarsai) -> str:
    """Spells an area out for a certificate: ``4 kanal 7 marla 3 sarsai``."""
    return f"{kms.kanal} kanal {kms.marla} marla {kms.sarsai} sarsai"


def sarsai_sqft(system: UnitSystem) -> Fraction:
    """Square feet in one sarsai: 30.25 (standard) or 25 (urban); a marla / 9."""
    return MARLA_SQFT[system] / SARSAI_PER_MARLA


def sarsai_to_sqft(n: int, system: UnitSystem) -> Fraction:
    """Converts whole sarsai to square feet, exactly.

    Raises:
        InvalidArea: ``n`` is negative.
    """
    _check_non_negative(n, "sarsai")
    return n * sarsai_sqft(system)


def sarsai_to_m2(n: int, system: UnitSystem) -> Fraction:
    """Converts whole sarsai to square metres, exactly (1 ft = 0.3048 m).

    Raises:
        InvalidArea: ``n`` is negative.
    """
    return sarsai_to_sqft(n, system) * FOOT_M**2


def kms_to_m2(kms: KanalMarlaSarsai, system: UnitSystem) -> Fraction:
    """Converts a register area to square metres, exactly."""
    return sarsai_to_m2(kms.total_sarsai, system)


def sqft_to_sarsai(sqft: int | Fraction, system: UnitSystem) -> Fraction:
    """Converts square feet to sarsai, exactly; round the result if whole sarsai are needed.

    Raises:
        InvalidArea: ``sqft`` is negative.
    """
    _check_non_negative(sqft, "square feet")
    return Fraction(sqft) / sarsai_sqft(system)


def acres_to_sarsai(acres: int | Fraction, system: UnitSystem) -> Fraction:
    """Converts statute acres (43,560 ft²) to sarsai, exactly.

    In the standard system an acre is 8 kanal = 1,440 sarsai; in the urban system it is
    the same ground but 1,742.4 smaller sarsai, hence a Fraction.

    Raises:
        InvalidArea: ``acres`` is negative.
    """
    _check_non_negative(acres, "acres")
    return sqft_to_sarsai(Fraction(acres) * ACRE_SQFT, system)


def m2_to_sarsai(m2: float | Fraction, system: UnitSystem) -> int:
    """Converts square metres (e.g. a map area) to the nearest whole sarsai.

    A float is taken at its exact binary value, then rounded once, half to even, so the
    result never depends on the order of float operations.

    Raises:
        InvalidArea: ``m2`` is negative, NaN or infinite.
    """
    if isinstance(m2, float) and not math.isfinite(m2):
        raise InvalidArea(f"area {m2!r} m² is not a finite number")
    _check_non_negative(m2, "m²")
    return round(Fraction(m2) / sarsai_to_m2(1, system))


def format_area(m2: float | Fraction, system: UnitSystem) -> str:
    """Writes a metric area as the patwari's ``K-M-S`` (``4-7-3``), to the nearest sarsai.

    Raises:
        InvalidArea: ``m2`` is negative, NaN or infinite.
    """
    return format_kms(KanalMarlaSarsai.from_sarsai(m2_to_sarsai(m2, system)))


def _check_non_negative(value: float | Fraction, what: str) -> None:
    """Rejects a negative area: a holding or parcel never has one."""
    if value < 0:
        raise InvalidArea(f"negative area {value} {what}")
