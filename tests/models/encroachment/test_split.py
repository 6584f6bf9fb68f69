"""Spatial hold-out: windows tile images exactly, blocks never straddle the split."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from affine import Affine
from rasterio.crs import CRS
from rasterio.transform import from_origin

from models.encroachment.errors import EncroachmentError
from models.encroachment.split import (
    SplitError,
    crs_key,
    image_windows,
    spatial_split,
    split_summary,
)

UTM = CRS.from_epsg(32643)


def image(x0: float, y0: float, res: float, h: int, w: int, crs: CRS = UTM) -> SimpleNamespace:
    """A WorkingImage-like object: only crs, transform, array (and valid) matter."""
    return SimpleNamespace(
        crs=crs,
        transform=from_origin(x0, y0, res, res),
        array=np.zeros((3, h, w), np.uint8),
        valid=np.ones((h, w), bool),
    )


@pytest.fixture
def mosaic() -> list[SimpleNamespace]:
    """A 3 × 2 mosaic of adjacent 60 m chips at 0.5 m (origin off the block grid) + a far one."""
    chips = [
        image(500_003.0 + 60 * i, 3_300_007.0 - 60 * j, 0.5, 120, 120)
        for i in range(3)
        for j in range(2)
    ]
    return [*chips, image(700_000.0, 3_000_000.0, 0.3, 100, 150)]


def side_maps(images, train, test) -> list[np.ndarray]:
    """Per image: 0 = train, 1 = test, -1 = not covered; asserts no pixel is covered twice."""
    maps = [np.full(im.array.shape[1:], -1, np.int8) for im in images]
    for s, windows in enumerate((train, test)):
        for w in windows:
            assert (maps[w.image_index][w.rows, w.cols] == -1).all(), "pixel in two windows"
            maps[w.image_index][w.rows, w.cols] = s
    return maps


def test_windows_tile_each_image_and_blocks_stay_on_one_side(mosaic):
    train, test = spatial_split(mosaic, block_m=25, holdout=0.3, seed=1)
    for m in side_maps(mosaic, train, test):
        assert (m >= 0).all(), "pixel lost"
    assert not {w.block for w in train} & {w.block for w in test}
    s = split_summary(train, test, mosaic)
    total = sum(im.array.shape[1] * im.array.shape[2] for im in mosaic)
    assert s["train"]["pixels"] + s["test"]["pixels"] == total
    assert s["test_fraction"] >= 0.3
    assert s["test"]["windows"] == len(test) and s["train"]["windows"] == len(train)
    assert s["test"]["blocks"] == len({w.block for w in test})
    assert s["train"]["valid_pixels"] == s["train"]["pixels"]


def test_windows_follow_the_block_grid_anchored_on_the_crs():
    im = image(500_003.0, 3_300_007.0, 0.5, 120, 120)  # x 500003..500063, y 3299947..3300007
    windows = image_windows(im, 0, 25.0)
    # x breaks at 500025, 500050 (cols 44, 94); y at 3300000, 3299975, 3299950 (rows 14, 64, 114)
    assert sorted({(w.cols.start, w.cols.stop) for w in windows}) == [(0, 44), (44, 94), (94, 120)]
    assert sorted({(w.rows.start, w.rows.stop) for w in windows}) == [
        (0, 14),
        (14, 64),
        (64, 114),
        (114, 120),
    ]
    w0 = next(w for w in windows if w.rows.start == 0 and w.cols.start == 0)
    assert w0.block == ("EPSG:32643", 500_000 // 25, 3_300_000 // 25)
    assert w0.pixels == 14 * 44


def test_same_seed_same_split_other_seed_other_split(mosaic):
    a = spatial_split(mosaic, block_m=25, holdout=0.25, seed=7)
    assert a == spatial_split(mosaic, block_m=25, holdout=0.25, seed=7)
    others = {
        frozenset(w.block for w in spatial_split(mosaic, block_m=25, holdout=0.25, seed=s)[1])
        for s in range(5)
    }
    assert len(others) > 1


def test_image_order_does_not_change_which_ground_is_held_out(mosaic):
    _, test_a = spatial_split(mosaic, block_m=25, holdout=0.25, seed=3)
    _, test_b = spatial_split(mosaic[::-1], block_m=25, holdout=0.25, seed=3)
    assert {w.block for w in test_a} == {w.block for w in test_b}


def test_overlapping_images_put_the_same_ground_on_the_same_side():
    """Like Kampala's zoom levels: one coarse image and a finer one over part of it."""
    coarse = image(500_000.0, 3_300_100.0, 0.6, 250, 250)  # 150 m square
    fine = image(500_031.0, 3_300_069.0, 0.15, 600, 600)  # 90 m square inside it
    images = [coarse, fine]
    mixed = 0
    for seed in range(4):
        train, test = spatial_split(images, block_m=20, holdout=0.4, seed=seed)
        maps = side_maps(images, train, test)
        mixed += 0 < maps[1].mean() < 1  # the fine image itself straddles the split
        rng = np.random.default_rng(seed)
        xs = rng.uniform(500_031.0, 500_121.0, 500)
        ys = rng.uniform(3_299_979.0, 3_300_069.0, 500)
        for x, y in zip(xs, ys, strict=True):
            if min(x % 20, -x % 20, y % 20, -y % 20) < 0.6:
                continue  # within a coarse pixel of a block edge: its centre may be across
            sides = []
            for k, im in enumerate(images):
                col, row = ~im.transform * (x, y)
                sides.append(maps[k][int(row), int(col)])
            assert sides[0] == sides[1], (x, y)
    assert mixed


def test_crs_key_is_the_same_for_epsg_and_wkt():
    assert crs_key(CRS.from_wkt(UTM.to_wkt())) == crs_key(UTM) == "EPSG:32643"
    with pytest.raises(SplitError, match="no CRS"):
        crs_key(None)


def test_images_in_different_crs_never_share_a_block():
    a = image(500_000.0, 3_300_000.0, 1.0, 50, 50)
    b = image(500_000.0, 3_300_000.0, 1.0, 50, 50, crs=CRS.from_epsg(32642))
    train, test = spatial_split([a, b], block_m=100, holdout=0.5, seed=0)
    assert len(train) == len(test) == 1 and train[0].block[0] != test[0].block[0]


def test_block_larger_than_images_holds_out_whole_images():
    chips = [image(500_000.0 + 1000 * i + 100, 3_300_900.0, 1.0, 64, 64) for i in range(5)]
    train, test = spatial_split(chips, block_m=1000, holdout=0.2, seed=0)
    assert len(train) + len(test) == 5
    assert all(w.rows == slice(0, 64) and w.cols == slice(0, 64) for w in train + test)
    assert len(test) == 1


def test_bad_parameters_and_grids_are_refused():
    chips = [image(500_000.0, 3_300_000.0, 1.0, 10, 10)]
    for kwargs in ({"block_m": 0, "holdout": 0.2}, {"block_m": 10, "holdout": 1.0}):
        with pytest.raises(SplitError):
            spatial_split(chips, seed=0, **kwargs)
    with pytest.raises(SplitError, match="block"):  # one block: nothing left to train on
        spatial_split(chips, block_m=1000, holdout=0.2, seed=0)
    rotated = image(500_000.0, 3_300_000.0, 1.0, 10, 10)
    rotated.transform = Affine(1.0, 0.2, 500_000.0, 0.2, -1.0, 3_300_000.0)
    with pytest.raises(SplitError, match="rotated") as err:
        spatial_split([rotated], block_m=5, holdout=0.2, seed=0)
    assert isinstance(err.value, EncroachmentError)
    train, test = spatial_split(chips, block_m=5, holdout=0.0, seed=0)
    assert test == [] and len(train) == 4
