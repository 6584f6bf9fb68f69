"""Exceptions raised by landgov, so callers can catch precisely.

Every error a user can cause derives from :class:`LandgovError`; the CLI prints its
message and exits non-zero instead of showing a traceback.
"""

from __future__ import annotations


class LandgovError(Exception):
    """Base class of every error landgov raises on purpose."""


class DomainError(LandgovError, ValueError):
    """A value breaks a rule of the land-records domain (bad CNIC, share, unit...)."""


class InvalidCNIC(DomainError):
    """A CNIC is not of the form ``#####-#######-#``."""


class InvalidShare(DomainError):
    """A share is not a fraction in (0, 1] with positive integer terms."""


class InvalidArea(DomainError):
    """An area string or value cannot be read (e.g. a malformed ``K-M-S``)."""


class InvalidKhasraNumber(DomainError):
    """A khasra number cannot be parsed (e.g. ``45//`` or ``abc``)."""


class StorageError(LandgovError):
    """The database cannot be reached, started or migrated."""


class MigrationError(StorageError):
    """A migration failed, or an applied migration was edited afterwards."""


class ImportRejected(LandgovError):
    """A file was refused; nothing was written.

    Attributes:
        path: the file that was refused.
        problems: every problem found, each naming row/feature, field and reason.
    """

    def __init__(self, path: str, problems: list[RowProblem]) -> None:
        self.path = path
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(
            f"{path}: rejected, nothing imported ({len(problems)} problem(s)):\n{shown}{more}"
        )


class RowProblem:
    """One problem in one row (or feature) of an input file.

    ``row`` counts data rows from 1 as a spreadsheet user sees them (the header is not a
    row); ``None`` means the problem concerns the whole file.
    """

    __slots__ = ("field", "reason", "row")

    def __init__(self, row: int | None, field: str | None, reason: str) -> None:
        self.row = row
        self.field = field
        self.reason = reason

    def __str__(self) -> str:
        where = "file" if self.row is None else f"row {self.row}"
        if self.field:
            where += f", field '{self.field}'"
        return f"{where}: {self.reason}"

    def __repr__(self) -> str:
        return f"RowProblem({self.row!r}, {self.field!r}, {self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RowProblem) and (self.row, self.field, self.reason) == (
            other.row,
            other.field,
            other.reason,
        )

    def __hash__(self) -> int:
        return hash((self.row, self.field, self.reason))


class InvalidHeirs(DomainError):
    """A set of heirs is invalid, or is a case the faraid calculator does not cover.

    Raised for an unknown heir name, a bad count, a husband and a wife together, more
    than four wives, or an unsupported combination (the message says which).
    """


class SanctionRefused(LandgovError):
    """A mutation cannot be sanctioned (or verified, rejected) because a rule forbids it.

    Nothing was written. ``rule`` is a stable identifier such as
    ``transferor_holds_share`` or ``khewat_sums_to_one`` (see
    :mod:`landgov.domain.ledger`), so callers and tests can tell the rules apart.
    """

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.message = message
        super().__init__(f"refused by rule {rule}: {message}")


class SanctionConflict(LandgovError):
    """Another transaction is changing the same mutation or khewat right now.

    Nothing was written; the caller may try again once the other sanction has finished
    (it will then see the other sanction's effect and may be refused by a rule).
    """


class CaseActionRefused(LandgovError):
    """A dispute case step (review, confirm, dismiss, refer) is not allowed.

    Nothing was written, not even an audit row. ``rule`` is a stable identifier such as
    ``case_status``, ``officer_designation``, ``officer_jurisdiction``,
    ``reason_required`` or ``case_date`` (see :mod:`landgov.disputes.cases`), so callers
    and tests can tell the refusals apart.
    """

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.message = message
        super().__init__(f"refused by rule {rule}: {message}")


class NoRateInForce(LandgovError):
    """No statutory rate (DC rate, FBR value, rental value) is in force for a parcel or
    place on the date asked, so its value cannot be computed; nothing was written."""


class AuthenticationFailed(LandgovError):
    """A sign-in failed, or a session (token) is missing, expired or revoked.

    The message never says which of username, password or code was wrong, nor whether
    the account exists: the same words for all, so guessing learns nothing.
    """


class AccessDenied(LandgovError):
    """The acting user may not do this (role, jurisdiction on the day, separation of
    duties, date rules). Nothing was written.

    ``rule`` is a stable identifier such as ``role``, ``jurisdiction``,
    ``separation_of_duties``, ``future_date``, ``backdate_window`` or
    ``posting_then_and_now`` (see :mod:`landgov.security.policy`), so callers and tests
    can tell the refusals apart.
    """

    def __init__(self, rule: str, message: str) -> None:
        self.rule = rule
        self.message = message
        super().__init__(f"refused by rule {rule}: {message}")


class InputRejected(LandgovError):
    """An input file or value is too large, not UTF-8, or holds characters that could
    hurt the next person reading it; nothing was written."""
