"""Building-level matching (SpaceNet: IoU ≥ 0.5, one-to-one) on hand-built label rasters."""

from __future__ import annotations

import numpy as np
import pytest

from models.encroachment.buildings import BuildingCounts, label_instances, match_buildings
from models.encroachment.errors import EncroachmentError, GridMismatch


def raster(*boxes: tuple[int, int, int, int, int], shape=(40, 60)) -> np.ndarray:
    """Instance raster from ``(id, r0, r1, c0, c1)`` boxes (later boxes overwrite)."""
    out = np.zeros(shape, np.int32)
    for i, r0, r1, c0, c1 in boxes:
        out[r0:r1, c0:c1] = i
    return out


def test_exact_match_with_arbitrary_ids():
    truth = raster((1, 0, 10, 0, 10), (2, 20, 30, 20, 35), (3, 5, 8, 50, 58))
    pred = raster((17, 0, 10, 0, 10), (5, 20, 30, 20, 35), (900, 5, 8, 50, 58))
    c = match_buildings(pred, truth)
    assert c == BuildingCounts(tp=3, fp=0, fn=0)
    assert c.scores() == {"precision": 1.0, "recall": 1.0, "f1": 1.0}


def test_half_overlap_is_iou_one_third_and_no_match():
    truth = raster((1, 0, 10, 0, 10))
    pred = raster((1, 0, 10, 5, 15))  # 50 shared of 150 → IoU 1/3
    assert match_buildings(pred, truth) == BuildingCounts(tp=0, fp=1, fn=1)
    assert match_buildings(pred, truth, iou_threshold=0.33) == BuildingCounts(1, 0, 0)
    assert match_buildings(pred, truth, iou_threshold=0.34) == BuildingCounts(0, 1, 1)


def test_two_touching_buildings_predicted_as_one_blob():
    unequal = raster((1, 0, 10, 0, 12), (2, 0, 10, 12, 20))  # 120 + 80 px
    blob = raster((1, 0, 10, 0, 20))
    # IoU with the larger one is 120/200 = 0.6: one match, the smaller one missed
    assert match_buildings(blob, unequal) == BuildingCounts(tp=1, fp=0, fn=1)
    equal = raster((1, 0, 10, 0, 10), (2, 0, 10, 10, 20))  # IoU exactly 0.5 with both
    assert match_buildings(blob, equal) == BuildingCounts(tp=1, fp=0, fn=1)  # used once
    three = raster((1, 0, 10, 0, 7), (2, 0, 10, 7, 14), (3, 0, 10, 14, 20))
    assert match_buildings(blob, three) == BuildingCounts(tp=0, fp=1, fn=3)
    # the reverse: one building predicted as two halves (each IoU 0.5): one match, one spurious
    assert match_buildings(equal, blob) == BuildingCounts(tp=1, fp=1, fn=0)


def test_min_area_drops_small_instances_on_both_sides():
    truth = raster((1, 0, 10, 0, 10), (2, 30, 32, 50, 52))  # 100 px and a 4 px speck
    pred = raster((1, 0, 10, 0, 10), (2, 20, 22, 20, 21))  # and a 2 px speck
    assert match_buildings(pred, truth) == BuildingCounts(tp=1, fp=1, fn=1)
    assert match_buildings(pred, truth, min_area_px=5) == BuildingCounts(tp=1, fp=0, fn=0)
    assert match_buildings(pred, truth, min_area_px=101) == BuildingCounts(0, 0, 0)


def test_ignore_mask_scores_buildings_on_their_visible_part():
    truth = raster((1, 0, 10, 0, 20))
    pred = raster((1, 0, 10, 0, 9))  # found only the part left of the nodata edge
    assert match_buildings(pred, truth) == BuildingCounts(tp=0, fp=1, fn=1)
    nodata = np.zeros(truth.shape, bool)
    nodata[:, 9:] = True
    assert match_buildings(pred, truth, ignore=nodata) == BuildingCounts(tp=1, fp=0, fn=0)


def test_all_building_no_background_and_empty_rasters():
    full = np.full((5, 5), 3, np.int32)
    assert match_buildings(full, full) == BuildingCounts(1, 0, 0)
    empty = np.zeros((5, 5), np.int32)
    assert match_buildings(empty, empty) == BuildingCounts(0, 0, 0)
    assert match_buildings(empty, full) == BuildingCounts(0, 0, 1)
    assert match_buildings(full, empty) == BuildingCounts(0, 1, 0)


def test_counts_add_up_and_scores_define_empty_cases():
    total = BuildingCounts(3, 1, 0) + BuildingCounts(1, 1, 4)
    assert total == BuildingCounts(4, 2, 4)
    s = total.scores()
    assert s["precision"] == pytest.approx(4 / 6) and s["recall"] == pytest.approx(4 / 8)
    assert s["f1"] == pytest.approx(2 * (4 / 6) * 0.5 / (4 / 6 + 0.5))
    assert BuildingCounts().scores() == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert BuildingCounts(0, 0, 5).scores() == {"precision": 1.0, "recall": 0.0, "f1": 0.0}
    assert BuildingCounts(0, 5, 0).scores() == {"precision": 0.0, "recall": 1.0, "f1": 0.0}


def _reference(pred: np.ndarray, truth: np.ndarray, thr: float) -> BuildingCounts:
    """Per-instance loops: every pair's IoU, greedy by descending IoU."""
    pids, tids = [i for i in np.unique(pred) if i], [i for i in np.unique(truth) if i]
    pairs = []
    for a in pids:
        for b in tids:
            inter = np.count_nonzero((pred == a) & (truth == b))
            union = np.count_nonzero((pred == a) | (truth == b))
            if inter and inter / union >= thr:
                pairs.append((inter / union, a, b))
    used_a, used_b = set(), set()
    for _, a, b in sorted(pairs, key=lambda p: -p[0]):
        if a not in used_a and b not in used_b:
            used_a.add(a)
            used_b.add(b)
    return BuildingCounts(len(used_a), len(pids) - len(used_a), len(tids) - len(used_b))


def test_matches_a_per_instance_reference_on_random_scenes():
    rng = np.random.default_rng(11)
    for _ in range(20):
        boxes_t, boxes_p = [], []
        for i in range(1, 9):
            r, c = rng.integers(0, 30), rng.integers(0, 50)
            h, w = rng.integers(2, 10), rng.integers(2, 10)
            boxes_t.append((i, r, r + h, c, c + w))
            dr, dc = rng.integers(-2, 3, 2)
            boxes_p.append((i + 100, r + dr, r + dr + h, c + dc, c + w))
        truth, pred = (
            raster(*boxes_t),
            raster(*[(i, max(0, a), b, max(0, c), d) for i, a, b, c, d in boxes_p]),
        )
        for thr in (0.3, 0.5, 0.75):
            assert match_buildings(pred, truth, iou_threshold=thr) == _reference(pred, truth, thr)


def test_label_instances_is_eight_connected():
    mask = np.zeros((6, 6), bool)
    mask[0, 0] = mask[1, 1] = True  # diagonal neighbours: one building
    mask[4:6, 4:6] = True
    ids = label_instances(mask)
    assert ids.dtype == np.int32 and ids.max() == 2 and ids[0, 0] == ids[1, 1]


def test_bad_inputs():
    with pytest.raises(GridMismatch):
        match_buildings(np.zeros((4, 4), int), np.zeros((4, 5), int))
    with pytest.raises(GridMismatch):
        match_buildings(np.zeros((4, 4), int), np.zeros((4, 4), int), ignore=np.zeros((3, 3), bool))
    with pytest.raises(EncroachmentError):
        match_buildings(np.zeros((4, 4), int), np.zeros((4, 4), int), iou_threshold=0)
