"""A mutation as the patwari writes it, before the record has checked anything.

These are plain values shared by every part of the mutation engine
(:mod:`landgov.records.mutations` has the map): :mod:`~landgov.records.entry` checks and
stores them, :mod:`~landgov.records.partition` builds them for a taqseem, the CLI and the
dashboard fill them from what an officer types. They hold references as people write
them (a khewat's number, a party's CNIC or custodian code), never database ids, so a
draft can be written before anything is looked up.

:class:`MutationInvalid` is the one error for a draft (or a stored mutation) that cannot
be taken as given. It lives here, below every module that raises it, so that none of
them imports another just for the error.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction

from landgov.domain.faraid import School
from landgov.domain.records import MutationType, RightType
from landgov.errors import LandgovError

__all__ = ["DraftLine", "DuplicateDeed", "InheritanceFacts", "MutationDraft", "MutationInvalid"]


class MutationInvalid(LandgovError):
    """A mutation cannot be entered as given (unknown khewat, bad line...); nothing written."""


class DuplicateDeed(MutationInvalid):
    """The registered deed is already entered, as mutation ``earlier_id`` (number
    ``earlier_number`` of mouza ``earlier_mouza``): a deed is entered once (nothing
    written). A caller that has just entered that mutation itself (a double click) can
    tell it is the same one by the id."""

    def __init__(
        self, message: str, *, earlier_id: int, earlier_number: int, earlier_mouza: str
    ) -> None:
        self.earlier_id = earlier_id
        self.earlier_number = earlier_number
        self.earlier_mouza = earlier_mouza
        super().__init__(message)


@dataclass(frozen=True)
class DraftLine:
    """One line as the patwari writes it.

    ``transferor``/``transferee`` are a CNIC or a state custodian's code
    (``board_of_revenue``...); either may be None (creation or extinction of a right).
    ``share`` is the fraction of the WHOLE khewat.
    """

    khewat_no: int
    transferor: str | None
    transferee: str | None
    share: Fraction
    right_type: str = RightType.OWNERSHIP.value


@dataclass(frozen=True)
class InheritanceFacts:
    """The deceased (CNIC), the school of law, and each heir's kind by CNIC."""

    deceased: str
    heirs: Mapping[str, str]
    school: School | str = School.HANAFI


@dataclass(frozen=True)
class MutationDraft:
    """A mutation to enter. ``mouza`` is a name or hadbast number.

    A sale needs its declared price (``consideration_rs``, above zero); a registered deed
    (``deed_number`` with ``deed_date``, and its ``sub_registrar``) is entered once
    (:mod:`landgov.records.entry`).
    """

    mouza: str
    type: MutationType | str
    entered_on: date
    lines: Sequence[DraftLine]
    deed_number: str | None = None
    deed_date: date | None = None
    sub_registrar: str | None = None
    consideration_rs: int | None = None
    statutory_value_rs: int | None = None
    fees_rs: int | None = None
    remarks: str | None = None
    inheritance: InheritanceFacts | None = None
