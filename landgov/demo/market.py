"""The demo's land market: what a buyer at arm's length pays, so mass appraisal has a signal.

Until generator 3 every demo price was its DC value times uniform noise, which no model
can learn from. Now a parcel's market value per acre is its DC rate times a premium that
follows what valuers in Punjab's canal colonies report:

- frontage on a metalled road is worth most (shops, tube-well access, future
  conversion): ``+0.8·exp(-d_road / 300 m)`` in log terms;
- nearness to the canal distributary (assured water at the tail): ``+0.3·exp(-d / 250 m)``;
- small plots sell dearer per acre (more buyers can afford them): ``-0.15·ln(acres)``;
- awkward shapes (the tatimas cut at an angle) sell cheaper:
  ``+0.5·(compactness - 0.78)``, compactness ``4πA/P²`` (0.78 for a killa);
- villages differ (:data:`MOUZA_PREMIUM`), and a base premium of 0.20 (about 1.2 × DC)
  because DC tables lag the market.

A sale's market value is the DC value of what it transfers, parcel by parcel times each
parcel's premium, times log-normal noise (σ = :data:`NOISE_SIGMA`). What is declared:

- at arm's length: the market value, or the DC value if that is higher (the tax is on
  the higher of the two anyway);
- to a co-owner of the khewat (usually kin buying out kin): 1.00-1.15 × DC;
- by :data:`DECLARE_AT_DC_RATE` of arm's-length sellers: the DC value (1.00-1.05 ×) though
  the market pays far more: the under-declaration only a market model can see.

Every sale's true market value goes to ``market_truth.csv`` so an appraisal model and
its under-declaration flags can be scored. The draws come from their own random stream,
so the rest of the demo (records, anomalies, dispute scores) is what generator 2 made.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import shapely

from landgov.demo.model import Khasra, Mutation, World

MOUZA_PREMIUM = (0.0, 0.15, -0.10)  # by mouza order
BASE_PREMIUM = 0.20
NOISE_SIGMA = 0.10
DECLARE_AT_DC_RATE = 0.06
ROAD_M, CANAL_M = 300.0, 250.0
SQ_M_PER_ACRE = 4046.8564224


@dataclass(eq=False)
class MarketSale:
    """One sale with what the market would have paid and what was declared."""

    mutation: Mutation
    kind: str  # arms_length | co_owner | declared_at_dc | set_by_anomaly
    market_value_rs: int
    declared_rs: int


class Market:
    """Premiums per parcel (cached) and the declared price of each sale."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.rnd = random.Random(f"landgov-demo-market-{world.seed}")
        self._premium: dict[int, float] = {}
        roads = [s.local for s in world.state_land if s.category == "road_row"]
        canals = [s.local for s in world.state_land if s.category == "canal_row"]
        self._road = shapely.union_all(roads) if roads else None
        self._canal = shapely.union_all(canals) if canals else None

    def log_premium(self, k: Khasra) -> float:
        """The parcel's log market premium over its DC rate (no noise)."""
        cached = self._premium.get(k.id)
        if cached is not None:
            return cached
        poly = k.local
        acres: float = max(poly.area / SQ_M_PER_ACRE, 0.05)
        compact: float = 4 * math.pi * poly.area / poly.length**2
        value = BASE_PREMIUM + MOUZA_PREMIUM[(k.mouza_id - 1) % len(MOUZA_PREMIUM)]
        if self._road is not None:
            value += 0.8 * math.exp(-poly.distance(self._road) / ROAD_M)
        if self._canal is not None:
            value += 0.3 * math.exp(-poly.distance(self._canal) / CANAL_M)
        value += -0.15 * math.log(acres) + 0.5 * (compact - 0.78)
        self._premium[k.id] = value
        return value

    def price(
        self,
        parcels: Sequence[tuple[Khasra, float]],
        statutory: int,
        *,
        co_owner: bool,
    ) -> tuple[int, int, str]:
        """(declared price, market value, kind) of a sale.

        Args:
            parcels: each parcel transferred with its DC value in the sale.
            statutory: the sale's DC value.
            co_owner: every buyer already holds a share of the khewat.
        """
        rnd = self.rnd
        market = sum(v * math.exp(self.log_premium(k)) for k, v in parcels)
        market *= math.exp(rnd.gauss(0.0, NOISE_SIGMA))
        if co_owner:
            declared, kind = statutory * rnd.uniform(1.0, 1.15), "co_owner"
        elif rnd.random() < DECLARE_AT_DC_RATE and market > 1.5 * statutory:
            declared, kind = statutory * rnd.uniform(1.0, 1.05), "declared_at_dc"
        else:
            declared, kind = max(market, float(statutory)), "arms_length"
        # declared prices are rounded up to Rs 1,000
        return 1000 * math.ceil(declared / 1000), round(market), kind
