"""Banded transfer taxes by hand: the pure arithmetic of :mod:`landgov.valuation.taxes`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from landgov.valuation.taxes import TaxRule, property_tax, total, transfer_taxes

FA2025 = date(2025, 7, 1)
M = 1_000_000


def bands(code: str, payer: str, rates: tuple[str, str, str], **kw: object) -> list[TaxRule]:
    """The three Finance Act 2025 bands: up to 50 m, to 100 m, above."""
    edges = [(None, 50 * M), (50 * M, 100 * M), (100 * M, None)]
    return [
        TaxRule(
            code=code,
            rate=Decimal(rate),
            base="taxable_value",
            payer=payer,
            valid_from=FA2025,
            lower_rs=None if lo is None else Decimal(lo),
            upper_rs=None if hi is None else Decimal(hi),
            taxpayer_status="active",
            **kw,  # type: ignore[arg-type]
        )
        for (lo, hi), rate in zip(edges, rates, strict=True)
    ]


RULES = bands("236K", "buyer", ("0.015", "0.02", "0.025")) + bands(
    "236C", "seller", ("0.045", "0.05", "0.055")
)


def amounts(value: int, on: date = date(2025, 9, 1), **kw: str) -> dict[str, int]:
    return {t.code: t.amount for t in transfer_taxes(value, RULES, on, **kw)}


def test_rs_40m_pays_the_first_band() -> None:
    assert amounts(40 * M) == {"236K": 600_000, "236C": 1_800_000}


def test_rs_60m_pays_the_second_band_on_the_whole_value() -> None:
    # FBR applies the band's rate to the whole value, not slab by slab
    assert amounts(60 * M) == {"236K": 1_200_000, "236C": 3_000_000}


def test_band_edges_are_upper_inclusive() -> None:
    assert amounts(50 * M) == {"236K": 750_000, "236C": 2_250_000}
    assert amounts(100 * M) == {"236K": 2_000_000, "236C": 5_000_000}
    assert amounts(100 * M + 1)["236K"] == round((100 * M + 1) * 0.025)


def test_rule_not_yet_in_force_is_not_applied() -> None:
    assert amounts(40 * M, on=date(2025, 6, 30)) == {}


def test_rule_no_longer_in_force_is_not_applied() -> None:
    old = TaxRule("stamp_duty", Decimal("0.01"), "taxable_value", "buyer", date(2020, 1, 1),
                  valid_to=FA2025)  # fmt: skip
    assert transfer_taxes(10 * M, [old], date(2025, 6, 30))[0].amount == 100_000
    assert transfer_taxes(10 * M, [old], FA2025) == []


def test_active_only_rules_skip_other_taxpayers() -> None:
    assert amounts(40 * M, taxpayer_status="inactive") == {}


def test_marginal_bands_are_progressive() -> None:
    slabs = [
        TaxRule("cvt", Decimal("0.01"), "taxable_value", "buyer", FA2025,
                upper_rs=Decimal(50 * M), method="marginal"),
        TaxRule("cvt", Decimal("0.02"), "taxable_value", "buyer", FA2025,
                lower_rs=Decimal(50 * M), method="marginal"),
    ]  # fmt: skip
    (line,) = transfer_taxes(60 * M, slabs, FA2025)
    assert line.amount == 500_000 + 200_000
    assert line.method == "marginal"


def test_line_says_band_payer_and_rate() -> None:
    lines = transfer_taxes(60 * M, RULES, FA2025)
    k = next(t for t in lines if t.code == "236K")
    assert (k.payer, k.rate, k.band) == (
        "buyer",
        Decimal("0.02"),
        "above Rs 50,000,000 to Rs 100,000,000",
    )
    assert total(lines) == 4_200_000


def test_property_tax_is_five_percent_of_arv() -> None:
    rule = TaxRule("property_tax", Decimal("0.05"), "annual_rental_value", "owner", FA2025)
    assert property_tax(240_000, [rule], FA2025)[0].amount == 12_000
    assert transfer_taxes(240_000, [rule], FA2025) == []  # not a transfer tax


def test_negative_base_refused() -> None:
    with pytest.raises(ValueError):
        transfer_taxes(-1, RULES, FA2025)
