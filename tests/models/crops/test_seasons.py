"""``models.crops.seasons``: a field's crop year read as its girdawari rabi and kharif."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from models.crops.grid import GriddedSeries, TimeGrid
from models.crops.seasons import (
    predict_season_crops,
    season_crops,
    season_of_year_label,
    season_probabilities,
)
from models.crops.series_model import SeriesConfig


@pytest.mark.parametrize(
    ("label", "rabi", "kharif"),
    [
        ("wheat", "wheat", "fallow"),  # harvested in spring, nothing after
        ("cotton", "fallow", "cotton"),
        ("rice", "fallow", "rice"),
        ("maize", "fallow", "maize"),  # no register word: kept, never compared
        ("wheat-rice", "wheat", "rice"),
        ("wheat-other", "wheat", "other"),
        ("wheat-maize", "wheat", "maize"),
        ("alfalfa", "fodder", "fodder"),  # the girdawari's word
        ("vineyard", "orchard", "orchard"),
        ("orchard", "orchard", "orchard"),
        ("fallow", "fallow", "fallow"),
        ("sugarcane", "sugarcane", "sugarcane"),
        ("other", "other", "other"),
        ("carrots", "other", "other"),  # unknown crops are other, never guessed
        ("a-b-c", "other", "other"),
    ],
)
def test_year_label_to_seasons(label: str, rabi: str, kharif: str) -> None:
    assert season_of_year_label(label, "rabi") == rabi
    assert season_of_year_label(label, "kharif") == kharif


def test_unknown_season_refused() -> None:
    with pytest.raises(ValueError, match="rabi or kharif"):
        season_of_year_label("wheat", "zaid")


def test_season_probabilities_sum_the_labels_of_one_season_crop() -> None:
    classes = ["cotton", "wheat", "wheat-other", "wheat-rice"]
    p = np.array([[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]])
    crops, rabi = season_probabilities(classes, p, "rabi")
    assert crops == ["fallow", "wheat"] == season_crops(classes, "rabi")
    np.testing.assert_allclose(rabi, [[0.1, 0.9], [0.7, 0.3]])
    crops, kharif = season_probabilities(classes, p, "kharif")
    assert crops == ["cotton", "fallow", "other", "rice"]
    np.testing.assert_allclose(kharif, [[0.1, 0.2, 0.3, 0.4], [0.7, 0.1, 0.1, 0.1]])
    np.testing.assert_allclose(kharif.sum(axis=1), 1.0)


@dataclass
class _FixedModel:
    """A year model whose probabilities are given (the rule under test is the mapping)."""

    p: np.ndarray
    classes: list[str]
    config: SeriesConfig = field(default_factory=SeriesConfig)

    def proba(self, x: GriddedSeries) -> np.ndarray:
        return self.p


def test_predict_season_crops_compares_only_what_both_can_say() -> None:
    classes = ["cotton", "maize", "wheat", "wheat-other", "wheat-rice"]
    p = np.array([
        [0.05, 0.05, 0.1, 0.35, 0.45],  # year: wheat-rice; rabi wheat for sure
        [0.9, 0.0, 0.1, 0.0, 0.0],      # cotton
        [0.1, 0.8, 0.1, 0.0, 0.0],      # maize: no register word
        [0.9, 0.0, 0.1, 0.0, 0.0],      # too few observations: refused
    ])  # fmt: skip
    grid = TimeGrid()
    values = np.full((4, 1, grid.n_steps), 0.3, dtype=np.float32)
    values[3, 0, 3:] = np.nan  # three observed periods
    x = GriddedSeries(np.array([11, 12, 13, 14]), ["ndvi"], values, grid)
    gird = pd.DataFrame({"khasra_id": [11, 12, 13, 14],
                         "girdawari_crop": ["rice", "sugarcane", "fodder", "rice"]})  # fmt: skip
    m = _FixedModel(p, classes)
    kharif = predict_season_crops(m, x, "kharif", gird).set_index("khasra_id")  # type: ignore[arg-type]
    assert kharif["crop"].tolist()[:3] == ["rice", "cotton", "maize"]
    assert kharif["model_class"].tolist()[:3] == ["wheat-rice", "cotton", "maize"]
    assert kharif.loc[11, "probability"] == pytest.approx(0.45)
    # rice vs rice agrees; the model cannot say sugarcane, nor the register maize: no flag
    assert not kharif["disagrees"].any()
    assert kharif.loc[11, "girdawari_probability"] == pytest.approx(0.45)
    assert np.isnan(kharif.loc[12, "girdawari_probability"])
    assert (
        pd.isna(kharif.loc[14, "crop"]) and "too few observed periods" in kharif.loc[14, "reason"]
    )
    assert kharif["n_valid"].tolist() == [23, 23, 23, 3]
    rabi = predict_season_crops(m, x, "rabi", gird.assign(girdawari_crop="wheat"))  # type: ignore[arg-type]
    assert rabi["crop"].tolist()[:3] == ["wheat", "fallow", "fallow"]
    assert rabi.loc[0, "probability"] == pytest.approx(0.9)
    assert rabi["disagrees"].tolist() == [False, True, True, False]
