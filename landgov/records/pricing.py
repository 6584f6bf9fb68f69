"""The price check of a sale: what the verifying and sanctioning officers are shown, and
what a sanction must have acknowledged.

Issue 19: a sale at 48 % of its statutory value was sanctioned without a word and
surfaced only later on the Valuation page. The check puts the figures in front of the
officer at the step where they can still act, from the valuation services that the
Valuation page and ``landgov tax`` use (so the three never disagree):

* the declared price (``consideration_rs``) against the DC (statutory) value of what the
  sale transfers on its valuation date (the deed's date, else the entry date), with the
  taxes on the taxable value (max of declared and DC, domain.md §7) and the tax at stake
  (:func:`landgov.valuation.transfer.transfer_tax`);
* the appraisal model's value of the same parcels on that date, when a model is trained
  (:func:`landgov.valuation.appraisal.sale_model_value`, the value the under-declared
  report compares with), and the tax had it been assessed at that value.

Reasons that need the sanctioning officer's acknowledgement (:attr:`PriceCheck.reasons`):

* ``below_dc``: declared below the DC value: an under-declaration in law, the taxable
  value is the DC value and the difference is tax at stake;
* ``below_model``: declared below :data:`~landgov.valuation.transfer.MODEL_BELOW` × the
  model value: no tax shortfall in law, but the under-declaration an audit looks for;
* ``no_price``: a sale stored with no declared price at all (entry now refuses one;
  older or imported rows may have none).

A sale no DC rate covers cannot be checked (:attr:`PriceCheck.unvalued` says why): it
has no reasons, so it is not refused for want of a rate table, and the panel says the
price was not checked. Only sales are checked (the transfer taxes on a price apply to
sales, :data:`~landgov.valuation.transfer.TAXED_TYPES`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.errors import LandgovError
from landgov.records.rows import mouza_of_mutation
from landgov.valuation.taxes import TaxLine, total, transfer_taxes
from landgov.valuation.transfer import (
    MODEL_BELOW,
    NotATransferForValue,
    TransferTax,
    rules_for_mouza,
    transfer_tax,
)

__all__ = ["REASON_TEXT", "PriceCheck", "price_check"]

REASON_TEXT: Final = {
    "below_dc": "declared below the DC (statutory) value",
    "below_model": "declared far below the model value",
    "no_price": "no declared price",
}


@dataclass(frozen=True)
class PriceCheck:
    """The figures of one sale's price check (module notes). Rupees are whole."""

    mutation_id: int
    number: int
    mouza: str
    valuation_date: date
    declared_rs: int | None
    statutory_rs: int | None = None
    taxable_rs: int | None = None
    taxes: list[TaxLine] = field(default_factory=list)
    tax_on_declared_rs: int | None = None
    tax_at_stake_rs: int = 0
    model_rs: int | None = None
    model_set: str | None = None
    tax_if_model_rs: int = 0  # tax on the model value minus tax on the taxable value
    model_note: str | None = None  # why there is no model value
    unvalued: str | None = None  # why there is no DC value (then nothing is judged)
    reasons: tuple[str, ...] = ()

    @property
    def tax_rs(self) -> int:
        """The taxes on the taxable value (what the parties owe)."""
        return total(self.taxes)

    @property
    def needs_acknowledgement(self) -> bool:
        return bool(self.reasons)

    @property
    def declared_to_dc(self) -> float | None:
        if self.declared_rs is None or not self.statutory_rs:
            return None
        return self.declared_rs / self.statutory_rs

    @property
    def declared_to_model(self) -> float | None:
        if self.declared_rs is None or not self.model_rs:
            return None
        return self.declared_rs / self.model_rs

    def summary(self) -> str:
        """One sentence: the declared price against the values, and the tax at stake."""
        declared = "no declared price" if self.declared_rs is None else (
            f"declared Rs {self.declared_rs:,}"
        )  # fmt: skip
        if self.statutory_rs is None:
            return f"{declared}; not checked: {self.unvalued}"
        parts = [f"{declared} against a DC value of Rs {self.statutory_rs:,}"]
        if self.declared_to_dc is not None:
            parts[0] += f" ({self.declared_to_dc:.0%})"
        parts[0] += f" on {self.valuation_date.isoformat()}"
        if self.model_rs is not None:
            ratio = self.declared_to_model
            parts.append(f"model value Rs {self.model_rs:,}" + (f" ({ratio:.0%})" if ratio else ""))
        if self.tax_at_stake_rs:
            parts.append(f"Rs {self.tax_at_stake_rs:,} of tax at stake")
        if self.tax_if_model_rs:
            parts.append(f"Rs {self.tax_if_model_rs:,} more if assessed at the model value")
        return "; ".join(parts)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON (the sanction's audit row keeps them)."""
        return {
            "valuation_date": self.valuation_date.isoformat(),
            "declared_rs": self.declared_rs,
            "statutory_rs": self.statutory_rs,
            "taxable_rs": self.taxable_rs,
            "tax_rs": self.tax_rs,
            "tax_on_declared_rs": self.tax_on_declared_rs,
            "tax_at_stake_rs": self.tax_at_stake_rs,
            "model_rs": self.model_rs,
            "model_set": self.model_set,
            "tax_if_model_rs": self.tax_if_model_rs,
            "model_note": self.model_note,
            "unvalued": self.unvalued,
            "reasons": list(self.reasons),
        }


def _model_value(conn: Connection, tax: TransferTax) -> tuple[int | None, str | None, str | None]:
    """(model value, model set, why none) of what ``tax``'s sale transfers, on its date.

    The newest trained set is used whatever its date: :func:`sale_model_value` brings its
    values back (or forward) to the sale's date by the market's time index.

    Called only once a DC rate values the sale, and the model itself (LightGBM, whose
    import costs a CLI command about 1.4 s) is loaded only when the set has a model for
    one of the sale's land classes: reading the set and the parcels' features needs
    neither. tests/records/test_mutation_guards.py checks both in a fresh process."""
    from landgov.valuation.appraisal import latest_set, per_acre_values, sale_model_value

    aset = latest_set(conn)
    if aset is None:
        return None, None, "no appraisal model is trained (landgov valuation run)"
    per_acre = per_acre_values(aset, conn, sorted({p.khasra_id for p in tax.parcels}))
    value = sale_model_value(
        aset, per_acre,
        [(p.khasra_id, float(p.area_sarsai * p.share), p.unit_system.value) for p in tax.parcels],
        1.0, tax.valuation_date,
    )  # fmt: skip
    if value is None or value <= 0:
        classes = sorted({p.land_class for p in tax.parcels if per_acre.get(p.khasra_id) is None})
        return None, aset.fingerprint, (
            "the model has no value for land class " + ", ".join(classes)
            if classes else "the model gives no value for these parcels"
        )  # fmt: skip
    return int(value), aset.fingerprint, None


def price_check(
    conn: Connection, mutation_id: int, *, model_below: float = MODEL_BELOW
) -> PriceCheck | None:
    """The price check of a sale (module notes); None when the mutation is not a sale.

    Read-only, in the caller's transaction (a sanction runs it inside its own, so the
    figures acknowledged are those the sanction was judged by).

    Raises:
        NotFound: no such mutation.
    """
    try:
        tax = transfer_tax(conn, mutation_id)
    except NotATransferForValue:
        return None
    except LandgovError as exc:  # no DC rate in force, no khasra held on the date...
        m = conn.execute(
            text(
                "SELECT m.number, z.name, m.type, coalesce(m.deed_date, m.entered_on) AS d,"
                " m.consideration_rs FROM mutation m JOIN mouza z ON z.id = m.mouza_id"
                " WHERE m.id = :id"
            ),
            {"id": mutation_id},
        ).one()
        return PriceCheck(
            mutation_id, int(m.number), str(m.name), m.d,
            None if m.consideration_rs is None else int(m.consideration_rs),
            unvalued=str(exc),
        )  # fmt: skip
    try:
        model_rs, model_set, model_note = _model_value(conn, tax)
    except LandgovError as exc:  # the model cannot value these parcels: say so, judge by DC
        model_rs, model_set, model_note = None, None, f"no model value: {exc}"
    tax_if_model = 0
    if model_rs is not None and model_rs > tax.taxable_rs:
        rules = rules_for_mouza(conn, mouza_of_mutation(conn, mutation_id))
        on_model = total(transfer_taxes(model_rs, rules, tax.valuation_date))
        tax_if_model = max(0, on_model - tax.total_rs)
    reasons: list[str] = []
    if tax.declared_rs is None:
        reasons.append("no_price")
    else:
        if tax.under_declared:
            reasons.append("below_dc")
        if model_rs is not None and tax.declared_rs < model_below * model_rs:
            reasons.append("below_model")
    return PriceCheck(
        mutation_id=tax.mutation_id,
        number=tax.number,
        mouza=tax.mouza,
        valuation_date=tax.valuation_date,
        declared_rs=tax.declared_rs,
        statutory_rs=tax.statutory_rs,
        taxable_rs=tax.taxable_rs,
        taxes=tax.taxes,
        tax_on_declared_rs=None if tax.declared_rs is None else total(tax.taxes_on_declared),
        # with no price at all, every rupee of tax rests on the DC value
        tax_at_stake_rs=tax.total_rs if tax.declared_rs is None else tax.revenue_at_stake_rs,
        model_rs=model_rs,
        model_set=model_set,
        tax_if_model_rs=tax_if_model,
        model_note=model_note,
        reasons=tuple(reasons),
    )
