"""Record areas: the map area in whole sarsai, with the small errors of a real register.

A patwari's area (``record_area_sarsai``) differs from the digitised map's by well under
1 % (rounding and measuring): the demo draws the error uniformly within ±0.4 %, and keeps
the total below 0.9 % after rounding. Tatima parcels share out their parent's record area
exactly (largest remainder), so children always sum to the parent, except where an
anomaly is planted. ``record_factor`` plants mismatches of more than 1 %.
"""

from __future__ import annotations

import random

from landgov.demo.history import apportion
from landgov.demo.model import World
from landgov.domain import UnitSystem, m2_to_sarsai

MAX_ERROR = 0.004


def record_area(area_m2: float, factor: float, rnd: random.Random) -> int:
    exact = m2_to_sarsai(area_m2, UnitSystem.STANDARD)
    if factor != 1.0:
        return m2_to_sarsai(area_m2 * factor, UnitSystem.STANDARD)
    rec = m2_to_sarsai(area_m2 * (1 + rnd.uniform(-MAX_ERROR, MAX_ERROR)), UnitSystem.STANDARD)
    return rec if abs(rec - exact) < 0.009 * exact else exact


def assign_record_areas(world: World, rnd: random.Random, own_area_parents: set[int]) -> None:
    """Fills ``record_area_sarsai`` of every khasra drawn so far (the settlement map)."""
    children: dict[int, list[int]] = {}
    for k in world.khasras:
        if k.parent_id is not None and k.parent_id not in own_area_parents:
            children.setdefault(k.parent_id, []).append(k.id)
            continue
        k.record_area_sarsai = record_area(k.local.area, k.record_factor, rnd)
    for parent_id, kids in children.items():
        parent = world.khasra(parent_id)
        parts = apportion(parent.record_area_sarsai, [world.khasra(c).local.area for c in kids])
        for c, part in zip(kids, parts, strict=True):
            world.khasra(c).record_area_sarsai = part
