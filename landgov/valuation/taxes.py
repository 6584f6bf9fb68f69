"""Transfer taxes from effective-dated, banded rules: the arithmetic, with no database.

Why pure: the rules are data (``tax_rule``, loaded by :mod:`landgov.valuation.rates`), and
the arithmetic must be checkable by hand against the statute, so it lives apart from
storage and takes the rules as plain values.

Banding. A rule covers bases in ``(lower_rs, upper_rs]`` (``None``: open). Two methods:

- ``whole_value`` (the default, and how FBR applies 236K and 236C): the rate of the band
  the base falls in applies to the *whole* base. Rs 60 m under 236K pays 2 % of Rs 60 m
  (Rs 1,200,000), not 1.5 % of the first 50 m plus 2 % of the next 10 m. The tax thus
  jumps at a band's edge, as the law has it.
- ``marginal``: each band's rate applies to the part of the base inside that band
  (progressive slabs, as in income tax), for rules notified that way.

Amounts are rounded to whole rupees, half up, once per tax line.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

Method = Literal["whole_value", "marginal"]
TAXPAYER_STATUSES = ("active", "late_filer", "inactive")


@dataclass(frozen=True)
class TaxRule:
    """One band of one tax, as stored in ``tax_rule``.

    Attributes:
        code: ``236K``, ``236C``, ``stamp_duty``, ``cvt``, ``town_fee``, ``property_tax``.
        rate: a fraction (0.015 for 1.5 %).
        lower_rs, upper_rs: the band ``(lower, upper]``; ``None`` is open.
        method: ``whole_value`` or ``marginal`` (module docstring).
        base: ``taxable_value`` (transfers) or ``annual_rental_value`` (property tax).
        payer: ``buyer``, ``seller`` or ``owner``.
        valid_from, valid_to: the rule is in force on ``[valid_from, valid_to)``.
        taxpayer_status: ``any``, or whom the rule is for (``active`` taxpayers...).
        jurisdiction: ``federal`` or ``district Lahore``-style text, for display.
        source: the statute or notification.
        id: the stored row, when it came from the database.
    """

    code: str
    rate: Decimal
    base: str
    payer: str
    valid_from: date
    valid_to: date | None = None
    lower_rs: Decimal | None = None
    upper_rs: Decimal | None = None
    method: Method = "whole_value"
    taxpayer_status: str = "any"
    jurisdiction: str = "federal"
    source: str = ""
    id: int | None = None

    def in_force(self, on: date) -> bool:
        """Whether the rule applies on ``on`` (``valid_from`` inclusive, ``valid_to`` not)."""
        return self.valid_from <= on and (self.valid_to is None or on < self.valid_to)

    def contains(self, value: Decimal) -> bool:
        """Whether ``value`` falls in this band ``(lower, upper]``."""
        above = self.lower_rs is None or value > self.lower_rs
        below = self.upper_rs is None or value <= self.upper_rs
        return above and below

    def band(self) -> str:
        """The band as people write it: ``up to Rs 50,000,000``, ``above Rs 100,000,000``."""
        if self.lower_rs is None and self.upper_rs is None:
            return "all values"
        if self.lower_rs is None:
            return f"up to Rs {self.upper_rs:,.0f}"
        if self.upper_rs is None:
            return f"above Rs {self.lower_rs:,.0f}"
        return f"above Rs {self.lower_rs:,.0f} to Rs {self.upper_rs:,.0f}"


@dataclass(frozen=True)
class TaxLine:
    """One tax due on a transfer: who pays how much, on what base, by which band(s).

    ``rate`` is the effective rate (amount / base) for a marginal tax, the band's rate for
    a whole-value one; ``rule_ids`` name the stored rules used.
    """

    code: str
    payer: str
    base: Decimal
    rate: Decimal
    amount: int
    band: str
    method: str
    source: str
    rule_ids: tuple[int, ...] = ()

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON (rupees as integers, rate as a decimal string)."""
        return {
            "code": self.code,
            "payer": self.payer,
            "base_rs": int(self.base),
            "rate": str(self.rate.normalize()),
            "amount_rs": self.amount,
            "band": self.band,
            "method": self.method,
            "source": self.source,
            "rule_ids": list(self.rule_ids),
        }


def _rupees(value: Decimal) -> int:
    return int(value.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def applicable(
    rules: Iterable[TaxRule], on: date, *, base: str, taxpayer_status: str = "active"
) -> list[TaxRule]:
    """The rules in force on ``on`` for ``base`` and the taxpayer's status.

    A rule for ``any`` status applies to everyone; one for ``active`` only to active
    taxpayers, and so on. Why filter here: a rule not yet (or no longer) in force must
    never be applied, whatever the caller loaded.
    """
    return [
        r
        for r in rules
        if r.base == base and r.in_force(on) and r.taxpayer_status in ("any", taxpayer_status)
    ]


def _one_tax(value: Decimal, bands: Sequence[TaxRule]) -> TaxLine | None:
    first = bands[0]
    if first.method == "marginal":
        amount = Decimal(0)
        used: list[TaxRule] = []
        for r in sorted(bands, key=lambda r: r.lower_rs or Decimal(0)):
            lo = r.lower_rs or Decimal(0)
            hi = value if r.upper_rs is None else min(value, r.upper_rs)
            if hi > lo:
                amount += (hi - lo) * r.rate
                used.append(r)
        if not used:
            return None
        rate = amount / value if value else Decimal(0)
        band = "; ".join(f"{r.rate * 100:g} % {r.band()}" for r in used)
        return TaxLine(
            first.code, first.payer, value, rate, _rupees(amount), band, "marginal",
            first.source, tuple(r.id for r in used if r.id is not None),
        )  # fmt: skip
    hits = [r for r in bands if r.contains(value)]
    if not hits:
        return None
    r = hits[0]
    return TaxLine(
        r.code, r.payer, value, r.rate, _rupees(value * r.rate), r.band(), "whole_value",
        r.source, (r.id,) if r.id is not None else (),
    )  # fmt: skip


def compute(
    value: int | Decimal,
    rules: Iterable[TaxRule],
    on: date,
    *,
    base: str,
    taxpayer_status: str = "active",
) -> list[TaxLine]:
    """Every tax on ``value`` under the rules in force on ``on``, one line per tax code
    and jurisdiction, in the order the rules come (then by code).

    Raises:
        ValueError: ``value`` is negative, or the bands of one tax mix methods.
    """
    value = Decimal(value)
    if value < 0:
        raise ValueError(f"a tax base cannot be negative: {value}")
    groups: dict[tuple[str, str, str], list[TaxRule]] = {}
    for r in applicable(rules, on, base=base, taxpayer_status=taxpayer_status):
        groups.setdefault((r.code, r.jurisdiction, r.payer), []).append(r)
    lines = []
    for (code, where, _), bands in groups.items():
        if len({b.method for b in bands}) > 1:
            raise ValueError(f"tax {code} ({where}) mixes banding methods on {on}")
        line = _one_tax(value, bands)
        if line is not None:
            lines.append(line)
    return lines


def transfer_taxes(
    taxable_value: int | Decimal,
    rules: Iterable[TaxRule],
    on: date,
    *,
    taxpayer_status: str = "active",
) -> list[TaxLine]:
    """The taxes on a transfer of ``taxable_value`` (max of declared and statutory) on
    ``on``: 236K, 236C, stamp duty, CVT, fees, whichever rules are in force.

    Only rules whose base is the taxable value count; property tax (on the annual rental
    value) is :func:`property_tax`.
    """
    return compute(taxable_value, rules, on, base="taxable_value", taxpayer_status=taxpayer_status)


def property_tax(
    annual_rental_value: int | Decimal, rules: Iterable[TaxRule], on: date
) -> list[TaxLine]:
    """The yearly urban immovable property tax on an annual rental value (Punjab: 5 %)."""
    return compute(annual_rental_value, rules, on, base="annual_rental_value")


def total(lines: Iterable[TaxLine]) -> int:
    """Sum of the lines' amounts, in rupees."""
    return sum(line.amount for line in lines)
