"""Training and scoring on the user's own orthophotos and footprints.

The fixtures are drawn by :mod:`town_support` (an RGB town in UTM or EPSG:4326 and its
footprints in EPSG:4326).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from town_support import UTM, roofs, town_scene

from models.encroachment import labelled as lab
from models.encroachment.augment import AugmentConfig, geometric, radiometric
from models.encroachment.fit import FitConfig, TrainingArea, build_network, fit
from models.encroachment.instances import building_instances
from models.encroachment.split import spatial_split


def test_footprints_in_another_crs_land_on_the_roofs(tmp_path: Path) -> None:
    for crs in (UTM, "EPSG:4326"):
        image, labels = town_scene(tmp_path, 1, crs)
        [li] = lab.load_labelled([image], [labels], bands=["red", "green", "blue"],
                                 resolution_m=0.3)  # fmt: skip
        ground = np.array([95, 110, 80])[:, None, None]
        roof = np.abs(li.image.array.astype(int) - ground).sum(axis=0) > 80
        agree = (roof == (li.mask > 0))[li.image.valid].mean()
        # resampled twice (UTM → lon/lat → UTM), roof edges blur; a 1 m shift would cost ~25 %
        assert agree > (0.97 if crs == UTM else 0.94), crs
        assert len(np.unique(li.instances)) - 1 == len(roofs(1))
        assert li.border.any()  # the touching walls


def test_split_scores_and_a_perfect_predictor(tmp_path: Path) -> None:
    images, labels = zip(*(town_scene(tmp_path, s) for s in range(3)), strict=True)
    labelled = lab.load_labelled(list(images), [labels[0], labels[1], labels[2]],
                                 bands=["red", "green", "blue"], resolution_m=0.3)  # fmt: skip
    train, test = spatial_split([li.image for li in labelled], block_m=48, holdout=0.25, seed=1)
    assert {w.block for w in train}.isdisjoint({w.block for w in test})

    # the truth itself, with its contact border: every held-out building is found
    def oracle(li):
        return li.mask.astype(np.float32), li.border.astype(np.float32)

    perfect = lab.score(oracle, labelled, test).as_dict()["overall"]
    assert perfect["pixel"]["iou"] == 1.0
    assert perfect["building"]["f1"] == 1.0
    # without the border, touching roofs merge: fewer buildings match
    merged = lab.score(lambda li: (li.mask.astype(np.float32), None), labelled, test)
    assert merged.as_dict()["overall"]["building"]["recall"] < 0.8
    # nothing predicted: nothing found
    empty = lab.score(lambda li: (np.zeros(li.mask.shape, np.float32), None), labelled, test)
    assert empty.as_dict()["overall"]["building"]["tp"] == 0
    assert empty.as_dict()["overall"]["pixel"]["recall"] == 0.0


def test_instances_split_touching_roofs_along_the_border() -> None:
    structure = np.zeros((12, 24), np.float32)
    structure[2:10, 2:20] = 1
    border = np.zeros_like(structure)
    border[:, 10:12] = 1
    labels = building_instances(structure, border)
    assert len(np.unique(labels)) == 3  # background + two roofs
    assert (labels > 0).sum() == (structure > 0).sum()  # the border pixels are given back
    assert labels[5, 3] != labels[5, 18]
    assert len(np.unique(building_instances(structure, None))) == 2


def test_augmentation_keeps_labels_on_the_image_and_is_seeded() -> None:
    img = torch.zeros(2, 3, 64, 64)
    img[:, 0, 20:40, 10:30] = 1.0  # a red roof
    lab_ = torch.zeros(2, 3, 64, 64)
    lab_[:, 0, 20:40, 10:30] = 1.0
    lab_[:, 2] = 1.0
    cfg = AugmentConfig()
    a = geometric(img, lab_, cfg, torch.Generator().manual_seed(3))
    b = geometric(img, lab_, cfg, torch.Generator().manual_seed(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    red, mask = a[0][:, 0] > 0.5, a[1][:, 0] > 0.5
    assert (red == mask).float().mean() > 0.98  # the roof moved with its label
    assert set(torch.unique(a[1]).tolist()) <= {0.0, 1.0}  # nearest: labels stay labels
    out = radiometric(a[0], cfg, torch.Generator().manual_seed(4))
    assert out.shape == a[0].shape and float(out.min()) >= 0 and float(out.max()) <= 1


def test_fit_is_deterministic_and_round_trips_its_card(tmp_path: Path) -> None:
    image, labels = town_scene(tmp_path, 2)
    [li] = lab.load_labelled([image], [labels], bands=["red", "green", "blue"], resolution_m=0.3)
    areas = lab.training_areas([li], lab.whole_windows([li]))
    cfg = FitConfig(arch="unet", base=4, depth=2, chip=32, steps=4, batch_size=2, tile=64,
                    overlap=16)  # fmt: skip
    one = fit(areas, config=cfg, seed=5, device="cpu")
    two = fit(areas, config=cfg, seed=5, device="cpu")
    for k, v in one.model.state_dict().items():
        assert torch.equal(v, two.model.state_dict()[k]), k
    net = build_network(json.loads(json.dumps(cfg.hyperparameters())))
    net.load_state_dict(one.model.state_dict())
    with pytest.raises(Exception, match="3 band"):
        fit([TrainingArea(np.zeros((4, 40, 40), np.uint8), *(np.zeros((40, 40), bool),) * 2,
                          np.ones((40, 40), bool), "four.tif")], config=cfg, seed=1)  # fmt: skip
