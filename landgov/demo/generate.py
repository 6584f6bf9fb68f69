"""Generates the whole demo district for a seed, in memory (no files, no database).

Randomness comes only from ``random.Random(seed)`` and ``numpy.random.default_rng(seed)``:
each stage draws from its own stream split off the first, so the output is a pure
function of the seed, and changing one stage leaves the others' draws alone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import shapely

from landgov.demo.admin import make_hierarchy, make_officers
from landgov.demo.anomalies import finish, plan_counts, plant_spatial
from landgov.demo.areas import assign_record_areas
from landgov.demo.history import History
from landgov.demo.layout import make_layout, to_lonlat
from landgov.demo.model import Mouza, World
from landgov.demo.people import CnicMint, make_people, make_state_parties
from landgov.demo.records import make_girdawaris, make_jamabandis
from landgov.demo.settlement import make_settlement
from landgov.demo.spec import MOUZAS
from landgov.demo.tables import Table, fingerprint, tables
from landgov.demo.valuation import make_dc_rates
from landgov.domain import areas_m2
from landgov.progress import track

STAGES = (
    "plan",
    "admin",
    "layout",
    "anomalies",
    "areas",
    "people",
    "rates",
    "settlement",
    "history",
    "records",
)


@dataclass
class Demo:
    """A generated district: the objects, their table rows and the rows' fingerprint."""

    world: World
    tables: list[Table]
    fingerprint: str

    def table(self, name: str) -> Table:
        return next(t for t in self.tables if t.name == name)

    def counts(self) -> dict[str, int]:
        w = self.world
        years = [m.entered_on.year for m in w.mutations]
        return {
            "mouzas": len(w.mouzas),
            "khasras": len(w.khasras),
            "live_khasras": sum(1 for k in w.khasras if k.retired_on is None),
            "khewats": len(w.khewats),
            "parties": len(self.table("party").rows),
            "officers": len(w.officers),
            "mutations": len(w.mutations),
            "mutation_lines": len(self.table("mutation_line").rows),
            "shares": len(w.shares),
            "girdawari": len(w.girdawaris),
            "first_year": min(years),
            "last_year": max(years),
        }


def generate(seed: int = 42, progress: Any = None) -> Demo:
    """The demo district of ``seed``; the same seed always gives the same result."""
    master = random.Random(seed)
    nprng = np.random.default_rng(seed)
    streams = {name: random.Random(master.getrandbits(64)) for name in STAGES}
    world = World(seed)
    targets = plan_counts(streams["plan"])
    mint = CnicMint(streams["people"])
    steps = ("layout", "people", "settlement", "history", "records", "rows")
    for step in track(steps, "Generating the demo district", progress):
        if step == "layout":
            hier = make_hierarchy(world)
            make_officers(world, hier, streams["admin"], mint)
            for i, spec in enumerate(MOUZAS, start=1):
                settled = date(2002, 3, 1) + timedelta(days=streams["admin"].randrange(200))
                world.mouzas.append(
                    Mouza(
                        i,
                        spec.name,
                        spec.name_ur,
                        spec.slug,
                        spec.hadbast,
                        hier.tehsil.id,
                        hier.circles[spec.circle].id,
                        settled,
                        shapely.Polygon(),
                    )
                )
            grid = make_layout(world, streams["layout"], nprng)
            own_area = plant_spatial(world, grid, streams["anomalies"], targets)
            assign_record_areas(world, streams["areas"], own_area)
        elif step == "people":
            make_state_parties(world)
            make_people(world, streams["people"], mint)
            make_dc_rates(world, streams["rates"])
        elif step == "settlement":
            states, reg = make_settlement(world, streams["settlement"], targets)
        elif step == "history":
            History(world, hier, states, reg, streams["history"], targets).run()
            to_lonlat(world)
            for k, area in zip(
                world.khasras, areas_m2([k.geom for k in world.khasras]), strict=True
            ):
                k.geom_area_m2 = float(area)
        elif step == "records":
            make_jamabandis(world, hier, streams["records"], targets["unattested_jamabandi"])
            make_girdawaris(world, streams["records"])
            finish(world)
        else:
            geoms = (
                [k.geom for k in world.khasras]
                + [s.geom for s in world.state_land]
                + [m.boundary for m in world.mouzas]
            )
            invalid = [
                str(r)
                for g, r in zip(geoms, shapely.is_valid_reason(geoms), strict=True)
                if not shapely.is_valid(g)
            ]
            if invalid:
                raise RuntimeError(f"demo generated invalid geometries: {invalid[:3]}")
            tabs = tables(world)
    return Demo(world, tabs, fingerprint(tabs))
