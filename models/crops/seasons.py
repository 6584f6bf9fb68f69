"""From a field's crop year to its girdawari seasons.

A year model (:mod:`models.crops.series_model`) names what a field grew over one calendar
year: ``cotton``, ``wheat``, or a double crop ``A-B`` (A, then B, on the same field). The
girdawari records a crop per season: rabi (sown in autumn, harvested by April; girdawari
year = harvest year) and kharif (sown from May, harvested by November). So the year ``Y``
of a field gives both seasons of girdawari year ``Y``: rabi ``Y-1``–``Y`` (its harvest in
the first half of ``Y``) and kharif ``Y``.

The rule, per part of a label (the whole label if it is a single crop):

* a winter crop (wheat, barley, mustard, …) is the **rabi** crop; a single one leaves
  kharif ``fallow`` (nothing was grown after the harvest);
* a summer crop (cotton, rice, maize, …) is the **kharif** crop; a single one leaves rabi
  ``fallow``;
* a crop that stands through the year (orchard, vineyard, alfalfa, sugarcane, fallow)
  fills both seasons;
* ``A-B`` gives rabi A and kharif B.

Names are put into the girdawari's words where it has one (alfalfa → fodder, vineyard →
orchard). Anything the register has no word for stays what it is (``maize``) and anything
unknown becomes ``other``: it is stored, never compared with the girdawari.

A season's probabilities are the year model's summed over the labels that give the same
season crop (``wheat``, ``wheat-rice`` and ``wheat-other`` all give rabi wheat), so a
model unsure between wheat-rice and wheat-other can still be sure of the rabi wheat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from models.crops.grid import GriddedSeries
    from models.crops.series_model import SeriesCropModel

__all__ = [
    "GIRDAWARI_CROPS",
    "OTHER",
    "predict_season_crops",
    "season_crops",
    "season_of_year_label",
    "season_probabilities",
]

OTHER: Final = "other"
GIRDAWARI_CROPS: Final = frozenset(
    {"wheat", "cotton", "rice", "sugarcane", "fodder", "orchard", "fallow"}
)
"""The crops a girdawari entry may hold (``sql/004``)."""
_WINTER: Final = frozenset({"wheat", "barley", "oats", "mustard", "gram", "rapeseed"})
_SUMMER: Final = frozenset({"cotton", "rice", "maize", "sorghum", "millet", "sunflower"})
_STANDING: Final = frozenset({"orchard", "fodder", "sugarcane", "fallow"})
_GIRDAWARI_WORD: Final = {"alfalfa": "fodder", "vineyard": "orchard", "lucerne": "fodder"}

_NONE: Final = np.array(None, dtype=object)
"""``None`` as a 0-d object array: what ``np.where`` makes of a bare ``None`` anyway, in the
form numpy's stubs accept as an array."""


def _word(crop: str) -> str:
    c = crop.strip().lower()
    c = _GIRDAWARI_WORD.get(c, c)
    return c if c in _WINTER | _SUMMER | _STANDING else OTHER


def season_of_year_label(label: str, season: str) -> str:
    """The ``season`` ("rabi" or "kharif") crop of a year label.

    >>> season_of_year_label("wheat-rice", "kharif")
    'rice'
    >>> season_of_year_label("cotton", "rabi")
    'fallow'
    >>> season_of_year_label("alfalfa", "rabi")
    'fodder'
    """
    if season not in ("rabi", "kharif"):
        raise ValueError(f"season {season!r}: rabi or kharif")
    parts = [p for p in str(label).split("-") if p.strip()]
    if len(parts) == 2:
        return _word(parts[0] if season == "rabi" else parts[1])
    if len(parts) != 1:
        return OTHER
    crop = _word(parts[0])
    if crop in _WINTER:
        return crop if season == "rabi" else "fallow"
    if crop in _SUMMER:
        return crop if season == "kharif" else "fallow"
    return crop  # standing crops and other fill both seasons


def season_crops(classes: Sequence[str], season: str) -> list[str]:
    """The distinct season crops a year model with ``classes`` can report, sorted."""
    return sorted({season_of_year_label(c, season) for c in classes})


def season_probabilities(
    classes: Sequence[str], proba: np.ndarray, season: str
) -> tuple[list[str], np.ndarray]:
    """(season crops, ``[N, S]`` probabilities): ``proba`` ``[N, C]`` summed per season crop."""
    crops = season_crops(classes, season)
    col = {c: i for i, c in enumerate(crops)}
    to = np.zeros((len(classes), len(crops)))
    for j, c in enumerate(classes):
        to[j, col[season_of_year_label(c, season)]] = 1.0
    return crops, np.asarray(proba, dtype=np.float64) @ to


def predict_season_crops(
    model: SeriesCropModel,
    x: GriddedSeries,
    season: str,
    girdawari: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """A year model's crop for one girdawari season of each field of ``x``.

    The frame has the columns of :func:`models.crops.predict_crops` (``khasra_id`` = the
    series' field ids) plus ``model_class``, the year label the model found likeliest.
    A disagreement is only claimed where the model's season crop and the girdawari entry
    are both girdawari crops the model can report: a model without sugarcane cannot
    dispute a sugarcane entry, and ``maize`` or ``other`` has no register word to be
    compared with (maize is often entered as fodder).

    Args:
        model: a year model (:class:`~models.crops.series_model.SeriesCropModel`).
        x: the fields' series on the model's grid.
        season: ``rabi`` or ``kharif``.
        girdawari: columns ``khasra_id``, ``girdawari_crop`` (the season's entries).
    """
    p = model.proba(x)
    crops, ps = season_probabilities(model.classes, p, season)
    ok = x.enough(model.config.min_observed)
    n = len(x)
    k = ps.argmax(axis=1) if n else np.zeros(0, dtype=int)
    kc = p.argmax(axis=1) if n else np.zeros(0, dtype=int)
    out = pd.DataFrame({"khasra_id": x.field_ids, "season": season})
    out["crop"] = np.where(ok, np.array(crops, dtype=object)[k], _NONE)
    out["probability"] = np.where(ok, ps[np.arange(n), k], np.nan)
    out["model_class"] = np.where(ok, np.array(model.classes, dtype=object)[kc], _NONE)
    g = (
        out[["khasra_id"]].merge(girdawari[["khasra_id", "girdawari_crop"]]
                                 .drop_duplicates("khasra_id"), on="khasra_id", how="left")
        if girdawari is not None
        else pd.DataFrame({"girdawari_crop": [None] * n})
    )  # fmt: skip
    gcrop = g["girdawari_crop"].to_numpy(dtype=object)
    out["girdawari_crop"] = [v if isinstance(v, str) else None for v in gcrop]
    comparable = {c for c in crops if c in GIRDAWARI_CROPS}
    known = np.array([v in comparable for v in out["girdawari_crop"]], dtype=bool)
    gp = np.full(n, np.nan)
    if known.any():
        gi = np.array([crops.index(v) for v in out["girdawari_crop"][known]])
        gp[known] = ps[np.flatnonzero(known), gi]
    mine = np.array([c in comparable for c in out["crop"]], dtype=bool)
    out["disagrees"] = ok & known & mine & (out["crop"].to_numpy(dtype=object) != gcrop)
    out["girdawari_probability"] = np.where(ok, gp, np.nan)
    out["n_valid"] = x.n_observed()
    out["reason"] = np.where(
        ok, _NONE,
        f"too few observed periods (< {model.config.min_observed} of {x.grid.n_steps}"
        " in the year)",
    )  # fmt: skip
    return out
