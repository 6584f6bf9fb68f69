"""Statutory values and transfer taxes (issue 7), from effective-dated rate tables.

- :mod:`~landgov.valuation.rates`: loading DC rates, FBR values, tax rules and rental
  values from CSV (validated, all or nothing, audited); the rate in force on a date; the
  statutory value of a khasra.
- :mod:`~landgov.valuation.taxes`: the pure arithmetic of banded taxes.
- :mod:`~landgov.valuation.transfer`: the taxes on a stored sale (or on many at once,
  set-based), and under-declared sales with the revenue at stake.
"""

from landgov.valuation.rates import (
    dc_rate_on,
    load_dc_rates,
    load_fbr_values,
    load_rates,
    load_rental_values,
    load_tax_rules,
    statutory_value,
)
from landgov.valuation.taxes import TaxLine, TaxRule, transfer_taxes
from landgov.valuation.transfer import transfer_tax, transfer_taxes_of, under_declared

__all__ = [
    "TaxLine",
    "TaxRule",
    "dc_rate_on",
    "load_dc_rates",
    "load_fbr_values",
    "load_rates",
    "load_rental_values",
    "load_tax_rules",
    "statutory_value",
    "transfer_tax",
    "transfer_taxes",
    "transfer_taxes_of",
    "under_declared",
]
