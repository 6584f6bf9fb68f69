"""Validated sales: the arm's-length market evidence a mass-appraisal model learns from.

Every sale stays in the report; the ones set aside say why (IAAO Standard on Verification
and Adjustment of Sales: a sale is market evidence only if buyer and seller acted at arm's
length, for the whole of what was transferred, at a price in money):

- ``not_sanctioned``: rejected or still pending: not a completed transfer;
- ``no_price``: no declared consideration;
- ``several_khewats``: one price for several accounts cannot be split per parcel;
- ``no_parcels``: the khewat held no khasra on the date;
- ``mixed_land_classes``: no land class holds 80 % of the area, so no per-class model
  can use it;
- ``co_owner_buyer``: a buyer already held a share of the khewat (a family buy-out,
  typically at a token price);
- ``related_parties``: buyer and seller are parent, child or spouse in NADRA's family
  registration (``party_relation``);
- ``below_statutory``: declared below the DC value: an under-declaration, not a price;
- ``outside_window``: older than the window of years asked for, or after the date;
- ``outlier``: (set by the trainer) more than 3 × IQR from the class's median of
  time-adjusted log price per acre.

Gifts, inheritances and exchanges are not sales and never enter.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

DOMINANT_SHARE: Final = 0.8

_SALES: Final = text(
    """
    WITH s AS (
        SELECT m.id, m.mouza_id, m.status, m.consideration_rs, m.statutory_value_rs,
               coalesce(m.deed_date, m.entered_on) AS d
          FROM mutation m
         WHERE m.type = 'sale' AND coalesce(m.deed_date, m.entered_on) <= :asof
    ),
    lines AS (
        SELECT l.mutation_id, count(DISTINCT l.khewat_id) AS khewats, min(l.khewat_id) AS khewat_id,
               sum(l.numerator::numeric / l.denominator) AS fraction,
               bool_and(EXISTS (
                   SELECT 1 FROM share sh
                    WHERE sh.khewat_id = l.khewat_id AND sh.party_id = l.transferee_party_id
                      AND sh.right_type = 'ownership'
                      AND sh.created_by_mutation_id IS DISTINCT FROM l.mutation_id
                      AND sh.valid_from <= s.d
                      AND (sh.valid_to IS NULL OR sh.valid_to > s.d
                           OR sh.ended_by_mutation_id = l.mutation_id)
               )) AS co_owner,
               bool_or(EXISTS (
                   SELECT 1 FROM party_relation r
                    WHERE (r.party_id = l.transferor_party_id
                           AND r.relative_id = l.transferee_party_id)
                       OR (r.party_id = l.transferee_party_id
                           AND r.relative_id = l.transferor_party_id)
               )) AS related
          FROM mutation_line l JOIN s ON s.id = l.mutation_id
         WHERE l.right_type = 'ownership'
         GROUP BY l.mutation_id
    )
    SELECT s.id, s.mouza_id, s.status, s.consideration_rs, s.statutory_value_rs, s.d,
           l.khewats, l.khewat_id, l.fraction, l.co_owner, l.related, p.parcels
      FROM s LEFT JOIN lines l ON l.mutation_id = s.id
      -- the khewat's khasras on the date, read with the sale (one query, not one a sale)
      LEFT JOIN LATERAL (
          SELECT json_agg(json_build_array(kk.khasra_id, k.land_class, kk.area_sarsai,
                                           k.unit_system) ORDER BY kk.khasra_id) AS parcels
            FROM khewat_khasra kk JOIN khasra k ON k.id = kk.khasra_id
           WHERE l.khewats = 1 AND kk.khewat_id = l.khewat_id AND kk.valid_from <= s.d
             AND (kk.valid_to IS NULL OR kk.valid_to > s.d)
      ) p ON true
     ORDER BY s.id
    """
)


@dataclass(frozen=True)
class ValidSale:
    """One arm's-length sale: its price and the parcels (and areas) it transferred."""

    mutation_id: int
    mouza_id: int
    on: date
    price_rs: int
    statutory_rs: int | None
    land_class: str
    fraction: float  # of the khewat
    parcels: tuple[tuple[int, float], ...]  # (khasra id, sarsai of it held by the khewat)
    unit_system: str

    @property
    def area_sarsai(self) -> float:
        """Sarsai transferred: the fraction of the khewat's area."""
        return self.fraction * sum(a for _, a in self.parcels)


@dataclass
class SalesScreen:
    """The validated sales and a count of the rest by reason."""

    valid: list[ValidSale] = field(default_factory=list)
    excluded: Counter[str] = field(default_factory=Counter)
    excluded_ids: dict[int, str] = field(default_factory=dict)

    def exclude(self, mutation_id: int, reason: str) -> None:
        self.excluded[reason] += 1
        self.excluded_ids[mutation_id] = reason


def validated_sales(conn: Connection, as_of: date, *, years: int | None = None) -> SalesScreen:
    """The sales on or before ``as_of`` fit to train on (module docstring), oldest first.

    Args:
        conn: The database.
        as_of: Sales valued after this date are ignored.
        years: Only sales within this many years before ``as_of`` (None: all).
    """
    screen = SalesScreen()
    since = None if years is None else date(as_of.year - years, as_of.month, min(as_of.day, 28))
    for r in conn.execute(_SALES, {"asof": as_of}).mappings():
        mid = int(r["id"])
        if r["status"] != "sanctioned":
            screen.exclude(mid, "not_sanctioned")
        elif r["consideration_rs"] is None or r["consideration_rs"] <= 0:
            screen.exclude(mid, "no_price")
        elif since is not None and r["d"] < since:
            screen.exclude(mid, "outside_window")
        elif r["khewats"] is None or r["khewats"] != 1:
            screen.exclude(mid, "several_khewats")
        elif r["co_owner"]:
            screen.exclude(mid, "co_owner_buyer")
        elif r["related"]:
            screen.exclude(mid, "related_parties")
        elif (dc := r["statutory_value_rs"]) is not None and r["consideration_rs"] < dc:
            screen.exclude(mid, "below_statutory")
        else:
            rows = r["parcels"] or []
            if not rows:
                screen.exclude(mid, "no_parcels")
                continue
            by_class: Counter[str] = Counter()
            for _, cls, area, _ in rows:
                by_class[str(cls)] += int(area)
            cls, top = by_class.most_common(1)[0]
            if top < DOMINANT_SHARE * sum(by_class.values()):
                screen.exclude(mid, "mixed_land_classes")
                continue
            screen.valid.append(
                ValidSale(
                    mutation_id=mid,
                    mouza_id=int(r["mouza_id"]),
                    on=r["d"],
                    price_rs=int(r["consideration_rs"]),
                    statutory_rs=None
                    if r["statutory_value_rs"] is None
                    else int(r["statutory_value_rs"]),
                    land_class=cls,
                    fraction=float(r["fraction"]),
                    parcels=tuple((int(k), float(a)) for k, _, a, _ in rows),
                    unit_system=str(rows[0][3]),
                )
            )
    screen.valid.sort(key=lambda s: (s.on, s.mutation_id))
    return screen
