"""The demo district's fixed facts: its mouzas and the files a build writes.

Kept free of heavy imports, so that a build which finds the demo already loaded can
answer without loading the generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class MouzaSpec:
    name: str
    name_ur: str
    slug: str
    hadbast: int
    cols: int  # murabba columns (west to east); every mouza has 6 murabba rows
    circle: int  # index into PATWAR_CIRCLES
    forest: bool = False


MOUZAS = (
    MouzaSpec("Kot Pindi Das", "کوٹ پنڈی داس", "kot-pindi-das", 112, 5, 0),
    MouzaSpec("Chak Mehr Wala", "چک مہر والا", "chak-mehr-wala", 113, 4, 0),
    MouzaSpec("Burj Karam Singh", "برج کرم سنگھ", "burj-karam-singh", 127, 5, 1, forest=True),
)
PATWAR_CIRCLES = (("Kot Pindi Das", "کوٹ پنڈی داس"), ("Burj Karam Singh", "برج کرم سنگھ"))


def file_names(slugs: Sequence[str] | None = None) -> list[str]:
    """Names of the files a build writes for mouzas with these slugs (default: the demo's)."""
    slugs = [m.slug for m in MOUZAS] if slugs is None else slugs
    return [
        *(f"parcels_{s}.gpkg" for s in slugs),
        "state_land.gpkg",
        "mutations.csv",
        "dc_rates.csv",
        "ground_truth.csv",
        "market_truth.csv",
        "farmer_contacts.csv",
        "README.md",
    ]
