"""Taxes on a stored sale, and the sales declared below their statutory value.

Why here and not in :mod:`~landgov.valuation.taxes`: this side reads the mutation, its
lines, the khewats' khasras and the rules from the database; the arithmetic stays pure.

How a sale is valued: on its valuation date (the deed's date when registered, else the
date the mutation was entered: the day the transfer is reported and the tax falls due),
each line transfers a fraction of a khewat; the khewat's khasras held on that date (and
the part of each it holds) are valued at the DC rate in force
(:func:`~landgov.valuation.rates.statutory_value`), times the fraction. The statutory
value is the exact sum, rounded half up once. Taxable value = max(declared, statutory)
(domain.md §7). When the declared price is below the statutory value, the revenue at
stake is the tax on the taxable value minus the tax on the declared price.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.errors import LandgovError
from landgov.storage.lookup import NotFound
from landgov.valuation.rates import (
    ParcelValue,
    RateTable,
    dc_rate_table,
    khasra_facts,
    round_half_up,
    statutory_value,
    value_khasra,
)
from landgov.valuation.taxes import TaxLine, TaxRule, total, transfer_taxes

TAXED_TYPES = ("sale",)
"""Mutation types taxed as transfers for consideration (gifts and exchanges follow
other, province-specific rules not yet in the tables)."""


class NotATransferForValue(LandgovError):
    """The mutation is not a sale, so no transfer tax on a price applies to it."""


@dataclass(frozen=True)
class TransferTax:
    """The taxes on one sale: values, the lines that make them, and what is at stake."""

    mutation_id: int
    mouza: str
    number: int
    status: str
    valuation_date: date
    declared_rs: int | None
    statutory_rs: int
    stored_statutory_rs: int | None
    taxable_rs: int
    taxes: list[TaxLine]
    taxes_on_declared: list[TaxLine]
    parcels: list[ParcelValue] = field(default_factory=list)

    @property
    def total_rs(self) -> int:
        return total(self.taxes)

    @property
    def under_declared(self) -> bool:
        return self.declared_rs is not None and self.declared_rs < self.statutory_rs

    @property
    def revenue_at_stake_rs(self) -> int:
        """Tax on the taxable value minus tax on the declared price (0 if not under)."""
        if not self.under_declared:
            return 0
        return self.total_rs - total(self.taxes_on_declared)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON (rupees as integers)."""
        return {
            "mutation_id": self.mutation_id,
            "mouza": self.mouza,
            "number": self.number,
            "status": self.status,
            "valuation_date": self.valuation_date.isoformat(),
            "declared_rs": self.declared_rs,
            "statutory_rs": self.statutory_rs,
            "stored_statutory_rs": self.stored_statutory_rs,
            "taxable_rs": self.taxable_rs,
            "taxes": [t.as_dict() for t in self.taxes],
            "total_tax_rs": self.total_rs,
            "under_declared": self.under_declared,
            "declared_ratio": (
                None
                if self.declared_rs is None or not self.statutory_rs
                else round(self.declared_rs / self.statutory_rs, 4)
            ),
            "revenue_at_stake_rs": self.revenue_at_stake_rs,
            "parcels": [p.as_dict() for p in self.parcels],
        }


_RULES = text(
    """
    WITH RECURSIVE up AS (
        SELECT a.id, a.level, a.name, a.parent_id FROM mouza m
          JOIN admin_unit a ON a.id = m.tehsil_id WHERE m.id = :mouza
        UNION ALL
        SELECT a.id, a.level, a.name, a.parent_id FROM admin_unit a JOIN up ON a.id = up.parent_id
    )
    SELECT r.* FROM tax_rule r
     WHERE r.level = 'federal'
        OR EXISTS (SELECT 1 FROM up WHERE up.level = r.level AND lower(up.name) = lower(r.area))
     ORDER BY r.id
    """
)


def rules_for_mouza(conn: Connection, mouza_id: int) -> list[TaxRule]:
    """Every stored tax rule that reaches a mouza: federal ones, and those of its
    province, district or tehsil (by name at that level), whatever their dates."""
    return [_rule(r) for r in conn.execute(_RULES, {"mouza": mouza_id}).mappings()]


def _rule(r: Any) -> TaxRule:
    return TaxRule(
        code=r["code"],
        rate=Decimal(r["rate"]),
        base=r["base"],
        payer=r["payer"],
        valid_from=r["valid_from"],
        valid_to=r["valid_to"],
        lower_rs=None if r["lower_rs"] is None else Decimal(r["lower_rs"]),
        upper_rs=None if r["upper_rs"] is None else Decimal(r["upper_rs"]),
        method=r["method"],
        taxpayer_status=r["taxpayer_status"],
        jurisdiction="federal" if r["area"] is None else f"{r['level']} {r['area']}",
        source=r["source"],
        id=int(r["id"]),
    )


@dataclass(frozen=True)
class PropertyTax:
    """The yearly urban property tax of one property from its annual rental value."""

    city: str
    locality: str
    category: str
    area_sq_ft: Fraction
    on: date
    annual_rental_value_rs: int
    taxes: list[TaxLine]

    @property
    def total_rs(self) -> int:
        return total(self.taxes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "city": self.city, "locality": self.locality, "category": self.category,
            "area_sq_ft": str(self.area_sq_ft), "on": self.on.isoformat(),
            "annual_rental_value_rs": self.annual_rental_value_rs,
            "taxes": [t.as_dict() for t in self.taxes], "total_tax_rs": self.total_rs,
        }  # fmt: skip


def urban_property_tax(
    conn: Connection,
    *,
    province: str,
    city: str,
    locality: str,
    category: str,
    area_sq_ft: Fraction,
    on: date,
) -> PropertyTax:
    """Annual rental value from the locality table in force on ``on`` (Rs per ft² a year
    × covered area), and the property tax rules of ``province`` on it (Punjab: 5 %).

    Raises:
        NoRateInForce: no rental value for the locality and category on the date.
    """
    from landgov.valuation.rates import annual_rental_value
    from landgov.valuation.taxes import property_tax

    arv = annual_rental_value(conn, city, locality, category, area_sq_ft, on)
    rules = [
        _rule(r)
        for r in conn.execute(
            text(
                "SELECT * FROM tax_rule WHERE code = 'property_tax' AND (level = 'federal'"
                " OR (level = 'province' AND lower(area) = lower(:p))) ORDER BY id"
            ),
            {"p": province},
        ).mappings()
    ]
    return PropertyTax(city, locality, category, area_sq_ft, on, arv, property_tax(arv, rules, on))


_SALES = text(
    "SELECT m.id, m.mouza_id, z.name AS mouza, m.number, m.type, m.status,"
    " m.entered_on, m.deed_date, m.consideration_rs, m.statutory_value_rs"
    " FROM mutation m JOIN mouza z ON z.id = m.mouza_id WHERE m.id = ANY(:ids)"
)
_LINES = text(
    "SELECT mutation_id, line_no, khewat_id, numerator, denominator FROM mutation_line"
    " WHERE mutation_id = ANY(:ids) AND right_type = 'ownership' ORDER BY mutation_id, line_no"
)
_HELD = text(  # the khasra columns are those of KHASRA_FACTS_COLUMNS (khasra_facts)
    "SELECT h.khewat_id, h.area_sarsai, h.valid_from, h.valid_to, k.id, k.mouza_id,"
    " k.number, k.land_class, k.record_area_sarsai, k.unit_system"
    " FROM khewat_khasra h JOIN khasra k ON k.id = h.khasra_id"
    " WHERE h.khewat_id = ANY(:khewats) ORDER BY h.khewat_id, h.khasra_id, h.valid_from"
)


def _not_taxed(m: Any) -> NotATransferForValue | None:
    if m.type in TAXED_TYPES:
        return None
    return NotATransferForValue(
        f"mutation {m.number} of {m.mouza} is a {m.type}, not a sale: no transfer tax"
        " on a price applies"
    )


def _no_lines(mutation_id: int) -> LandgovError:
    return LandgovError(f"mutation id {mutation_id} transfers no ownership share")


def _none_held(line: Any, on: date) -> LandgovError:
    return LandgovError(f"line {line.line_no}: khewat id {line.khewat_id} holds no khasra on {on}")


def _assess(
    m: Any,
    when: date,
    parcels: list[ParcelValue],
    rules: Sequence[TaxRule],
    taxpayer_status: str,
) -> TransferTax:
    """The sale's figures from its valued parcels and the rules reaching its mouza: the
    statutory value (exact sum, rounded once), the taxable value and both tax lists.
    Shared by :func:`transfer_tax` and :func:`transfer_taxes_of`."""
    statutory = round_half_up(sum((p.value for p in parcels), Fraction(0)))
    declared = None if m.consideration_rs is None else int(m.consideration_rs)
    taxable = max(declared or 0, statutory)
    return TransferTax(
        mutation_id=int(m.id),
        mouza=m.mouza,
        number=int(m.number),
        status=m.status,
        valuation_date=when,
        declared_rs=declared,
        statutory_rs=statutory,
        stored_statutory_rs=None if m.statutory_value_rs is None else int(m.statutory_value_rs),
        taxable_rs=taxable,
        taxes=transfer_taxes(taxable, rules, when, taxpayer_status=taxpayer_status),
        taxes_on_declared=transfer_taxes(
            declared or 0, rules, when, taxpayer_status=taxpayer_status
        ),
        parcels=parcels,
    )


def _statutory(conn: Connection, mutation_id: int, on: date) -> list[ParcelValue]:
    lines = conn.execute(_LINES, {"ids": [mutation_id]}).all()
    if not lines:
        raise _no_lines(mutation_id)
    parcels = []
    for line in lines:
        held = conn.execute(
            text(
                "SELECT khasra_id, area_sarsai FROM khewat_khasra WHERE khewat_id = :k"
                " AND valid_from <= :on AND (valid_to IS NULL OR :on < valid_to)"
                " ORDER BY khasra_id"
            ),
            {"k": line.khewat_id, "on": on},
        ).all()
        if not held:
            raise _none_held(line, on)
        share = Fraction(line.numerator, line.denominator)
        for kh in held:
            parcels.append(
                statutory_value(conn, kh.khasra_id, on, share, area_sarsai=kh.area_sarsai)
            )
    return parcels


def transfer_tax(
    conn: Connection,
    mutation_id: int,
    *,
    on: date | None = None,
    taxpayer_status: str = "active",
) -> TransferTax:
    """The statutory value, taxable value, taxes and revenue at stake of one sale.

    For one sale (the price check at sanction, ``landgov tax transfer``): it reads what
    that sale needs, line by line. For many, :func:`transfer_taxes_of` gives the same
    figures from a handful of statements.

    Args:
        on: the valuation date; by default the deed date, else the entry date.
        taxpayer_status: whose rates apply (``active`` taxpayers by default).

    Raises:
        NotFound: no such mutation.
        NotATransferForValue: the mutation is not a sale.
        NoRateInForce: a transferred khasra has no DC rate on the date.
    """
    m = conn.execute(_SALES, {"ids": [mutation_id]}).first()
    if m is None:
        raise NotFound(f"no mutation with id {mutation_id}")
    refused = _not_taxed(m)
    if refused is not None:
        raise refused
    when = on or m.deed_date or m.entered_on
    parcels = _statutory(conn, mutation_id, when)
    return _assess(m, when, parcels, rules_for_mouza(conn, m.mouza_id), taxpayer_status)


def transfer_taxes_of(
    conn: Connection,
    mutation_ids: Sequence[int],
    *,
    taxpayer_status: str = "active",
) -> tuple[list[TransferTax], list[tuple[int, str]]]:
    """:func:`transfer_tax` of many sales (each on its own valuation date), set-based.

    Why: a mouza's ratio study and its under-declaration check value every sale, and one
    :func:`transfer_tax` per sale costs a dozen statements each (some 6,000 for a Valuation
    page view of the demo). Here a fixed number of statements reads everything at once
    (the sales, their lines, every holding period of their khewats with the khasras'
    facts, the DC rows reaching their mouzas, and the tax rules of each mouza), and the
    figures come from the same pure code as :func:`transfer_tax`
    (:func:`~landgov.valuation.rates.value_khasra`, then ``_assess``), so they are equal
    to the rupee (``tests/valuation/test_transfer_batch.py``).

    Returns:
        (valued sales, in the order of ``mutation_ids``; (mutation id, why) for each sale
        that could not be valued: not found, not a sale, no ownership line, a khewat
        holding nothing on the date, no DC rate in force), the reasons worded as
        :func:`transfer_tax` raises them.
    """
    ids = [int(i) for i in mutation_ids]
    if not ids:
        return [], []
    sales = {int(m.id): m for m in conn.execute(_SALES, {"ids": ids})}
    lines: dict[int, list[Any]] = {}
    for line in conn.execute(_LINES, {"ids": sorted(sales)}):
        lines.setdefault(int(line.mutation_id), []).append(line)
    held: dict[int, list[Any]] = {}
    khewats = sorted({int(line.khewat_id) for ls in lines.values() for line in ls})
    for h in conn.execute(_HELD, {"khewats": khewats}) if khewats else ():
        held.setdefault(int(h.khewat_id), []).append(h)
    rates = dc_rate_table(conn, {int(h.mouza_id) for hs in held.values() for h in hs})
    rules = {
        mz: rules_for_mouza(conn, mz) for mz in sorted({int(m.mouza_id) for m in sales.values()})
    }
    valued: list[TransferTax] = []
    unvalued: list[tuple[int, str]] = []
    for mid in ids:
        m = sales.get(mid)
        try:
            if m is None:
                raise NotFound(f"no mutation with id {mid}")
            refused = _not_taxed(m)
            if refused is not None:
                raise refused
            when = m.deed_date or m.entered_on
            valued.append(
                _assess(m, when, _parcels(lines.get(mid, []), held, rates, when, mid),
                        rules[int(m.mouza_id)], taxpayer_status)
            )  # fmt: skip
        except LandgovError as exc:
            unvalued.append((mid, str(exc)))
    return valued, unvalued


def _parcels(
    lines: list[Any],
    held: dict[int, list[Any]],
    rates: RateTable,
    on: date,
    mutation_id: int,
) -> list[ParcelValue]:
    """The valued parcels of one sale from the batch's reads (as :func:`_statutory` reads
    them one by one): each line's khewat's khasras held on ``on``, by khasra id."""
    if not lines:
        raise _no_lines(mutation_id)
    parcels = []
    for line in lines:
        now = [
            h
            for h in held.get(int(line.khewat_id), [])
            if h.valid_from <= on and (h.valid_to is None or on < h.valid_to)
        ]
        if not now:
            raise _none_held(line, on)
        share = Fraction(line.numerator, line.denominator)
        for h in now:
            khasra = khasra_facts(h)
            parcels.append(
                value_khasra(
                    khasra, rates[khasra.mouza_id], on, share, area_sarsai=int(h.area_sarsai)
                )
            )
    return parcels


@dataclass
class UnderDeclaredReport:
    """Sales declared below statutory value, those far below the model value, and the
    sales that could not be valued."""

    sales: list[TransferTax]
    unvalued: list[tuple[int, str]]  # (mutation id, why)
    below_model: list[BelowModel] = field(default_factory=list)
    model_threshold: float | None = None
    model_set: str | None = None  # fingerprint of the appraisal models used, if any

    @property
    def revenue_at_stake_rs(self) -> int:
        return sum(s.revenue_at_stake_rs for s in self.sales)

    def as_dict(self) -> dict[str, Any]:
        """Plain values for JSON; each sale without its parcels, for brevity."""
        keep = (
            "mutation_id", "mouza", "number", "status", "valuation_date", "declared_rs",
            "statutory_rs", "taxable_rs", "declared_ratio", "total_tax_rs",
            "revenue_at_stake_rs",
        )  # fmt: skip
        return {
            "count": len(self.sales),
            "revenue_at_stake_rs": self.revenue_at_stake_rs,
            "declared_rs": sum(s.declared_rs or 0 for s in self.sales),
            "statutory_rs": sum(s.statutory_rs for s in self.sales),
            "sales": [{k: s.as_dict()[k] for k in keep} for s in self.sales],
            "unvalued": [{"mutation_id": i, "reason": r} for i, r in self.unvalued],
            "below_model": {
                "threshold": self.model_threshold,
                "model_set": self.model_set,
                "count": len(self.below_model),
                "revenue_if_assessed_at_model_rs": sum(
                    b.revenue_if_model_rs for b in self.below_model
                ),
                "sales": [b.as_dict() for b in self.below_model],
            },
        }


@dataclass(frozen=True)
class BelowModel:
    """A sale declared at or above its DC value but far below the appraisal model's value
    of what it transferred: not a tax shortfall in law (the taxable value is the higher
    of declared and DC), but the under-declaration an audit looks for."""

    tax: TransferTax
    model_value_rs: int
    revenue_if_model_rs: int  # tax on the model value minus tax on the taxable value

    @property
    def ratio(self) -> float:
        return (self.tax.declared_rs or 0) / self.model_value_rs

    def as_dict(self) -> dict[str, Any]:
        t = self.tax
        return {
            "mutation_id": t.mutation_id, "mouza": t.mouza, "number": t.number,
            "status": t.status, "valuation_date": t.valuation_date.isoformat(),
            "declared_rs": t.declared_rs, "statutory_rs": t.statutory_rs,
            "model_value_rs": self.model_value_rs,
            "declared_to_model": round(self.ratio, 4),
            "revenue_if_assessed_at_model_rs": self.revenue_if_model_rs,
        }  # fmt: skip


MODEL_BELOW = 0.7
"""A sale is far below the model value when declared < this × model value. Measured on
the demo (``tests/valuation/test_appraisal.py``): no arm's-length sale falls that far
below the model (its out-of-fold COD is 10-15), while 85 % of the sales declared below
70 % of their true market value do."""


def under_declared(
    conn: Connection,
    mouza_id: int | None = None,
    as_of: date | None = None,
    *,
    taxpayer_status: str = "active",
    model_below: float | None = MODEL_BELOW,
) -> UnderDeclaredReport:
    """Every sale (not rejected) whose declared price is below its statutory value, and
    (with a trained appraisal model, ``model_below`` not None) every other one declared
    below ``model_below`` × the model value of what it transferred on its date.

    Only sales with a declared price and a valuation date on or before ``as_of`` count;
    those no DC rate covers are listed as unvalued rather than silently dropped. Sorted
    by revenue at stake, then declared/statutory ratio (lowest first); the model list by
    declared/model ratio.
    """
    from landgov.valuation.appraisal import latest_set, per_acre_values, sale_model_value

    ids = (
        conn.execute(
            text(
                "SELECT id FROM mutation WHERE type = 'sale' AND status <> 'rejected'"
                " AND consideration_rs IS NOT NULL"
                " AND (CAST(:m AS bigint) IS NULL OR mouza_id = :m)"
                " AND (CAST(:d AS date) IS NULL OR coalesce(deed_date, entered_on) <= :d)"
                " ORDER BY mouza_id, number"
            ),
            {"m": mouza_id, "d": as_of},
        )
        .scalars()
        .all()
    )
    # no rate in force, no khasra held on the date...: listed as unvalued, with why
    valued, unvalued = transfer_taxes_of(conn, ids, taxpayer_status=taxpayer_status)
    found = [t for t in valued if t.under_declared]
    found.sort(
        key=lambda t: (-t.revenue_at_stake_rs, (t.declared_rs or 0) / max(t.statutory_rs, 1))
    )
    report = UnderDeclaredReport(found, unvalued)
    aset = None if model_below is None else latest_set(conn, as_of)
    if aset is None:
        return report
    report.model_threshold, report.model_set = model_below, aset.fingerprint
    per_acre = per_acre_values(aset, conn, sorted({p.khasra_id for t in valued for p in t.parcels}))
    rules = rules_for_mouza(conn, mouza_id) if mouza_id is not None else None
    for t in valued:
        if t.under_declared or t.declared_rs is None:
            continue
        value = sale_model_value(
            aset, per_acre,
            [(p.khasra_id, float(p.area_sarsai * p.share), p.unit_system.value)
             for p in t.parcels],
            1.0, t.valuation_date,
        )  # fmt: skip
        if value is None or value <= 0 or t.declared_rs >= (model_below or 0) * value:
            continue
        these = rules if rules is not None else rules_for_mouza(
            conn, int(conn.execute(text("SELECT mouza_id FROM mutation WHERE id = :m"),
                                   {"m": t.mutation_id}).scalar_one()))  # fmt: skip
        on_model = total(transfer_taxes(value, these, t.valuation_date,
                                        taxpayer_status=taxpayer_status))  # fmt: skip
        report.below_model.append(BelowModel(t, value, max(0, on_model - t.total_rs)))
    report.below_model.sort(key=lambda b: b.ratio)
    return report
