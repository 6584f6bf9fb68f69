"""A demo District Collector (DC) rate table: rupees per acre by land class and year.

Real DC tables are notified per mouza or locality and land class (domain.md §7); the
demo uses one table for its three mouzas. Rates grow by 6-18 % a year from 2002, with a
little spread between classes. A sale's statutory value is the rate of the year it was
entered times the area it transfers.
"""

from __future__ import annotations

import random

from landgov.demo.model import AS_OF, SETTLEMENT_YEAR, World

BASE_2002 = {  # Rs per acre
    "nehri": 400_000,
    "chahi": 350_000,
    "barani": 200_000,
    "banjar": 90_000,
    "ghair_mumkin": 150_000,
    "abadi": 3_000_000,
    "shamlat": 150_000,
    "forest": 120_000,
}
SARSAI_PER_ACRE = 1440


def make_dc_rates(world: World, rnd: random.Random) -> None:
    rates = {cls: float(v) for cls, v in BASE_2002.items()}
    for year in range(SETTLEMENT_YEAR, AS_OF.year + 1):
        if year > SETTLEMENT_YEAR:
            growth = rnd.uniform(0.06, 0.18)
            for cls in rates:
                rates[cls] *= 1 + growth + rnd.uniform(-0.02, 0.02)
        for cls, value in rates.items():
            world.dc_rates[(year, cls)] = int(round(value, -3))


def statutory_value(
    world: World, year: int, parcels: list[tuple[str, int]], fraction: float
) -> int:
    """DC value of ``fraction`` of parcels given as (land class, area in sarsai)."""
    total = sum(world.dc_rates[(year, cls)] * area / SARSAI_PER_ACRE for cls, area in parcels)
    return round(total * fraction)
