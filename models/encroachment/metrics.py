"""Accuracy of structure segmentation and of new-structure detection.

Pixel metrics are for the structure class only (background is ~95 % of pixels and would
make overall accuracy meaningless): IoU = TP / (TP + FP + FN), precision, recall and
F1 = 2PR / (P + R). Counts are summed over all images before the ratios are taken
(micro-average), so a large scene weighs more than a small one.

Object recall of new structures on state land: the ground-truth footprint of a structure
is the connected region (8-connected) of ``new_structures.tif`` that contains its centroid
from ``structures.csv`` (the synthetic structures are convex rectangles kept ≥ 1 m apart,
so the region is exactly the structure). A structure counts as *found* when the predicted
change mask covers at least ``min_cover`` (default 50 %) of its footprint. Why coverage and
not "centroid hit": a prediction that only grazes a corner should not count, and 50 % still
tolerates the lost edge pixels of a small 7-pixel-wide kiosk.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from affine import Affine
from rasterio.transform import rowcol
from scipy.ndimage import label

from models.encroachment.errors import GridMismatch


@dataclass
class Confusion:
    """Pixel counts for the structure class; add them up across images."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, pred: np.ndarray, truth: np.ndarray) -> Confusion:
        if pred.shape != truth.shape:
            raise GridMismatch(f"prediction {pred.shape} and truth {truth.shape} differ")
        p, t = np.asarray(pred, bool), np.asarray(truth, bool)
        self.tp += int(np.count_nonzero(p & t))
        self.fp += int(np.count_nonzero(p & ~t))
        self.fn += int(np.count_nonzero(~p & t))
        self.tn += int(np.count_nonzero(~p & ~t))
        return self

    def __add__(self, other: Confusion) -> Confusion:
        """Counts of two sets of images together (what micro-averaging sums)."""
        return Confusion(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn,
                         self.tn + other.tn)  # fmt: skip

    def scores(self) -> dict[str, float]:
        """IoU, precision, recall, F1 (1.0 when there is nothing to find and nothing found)."""
        tp, fp, fn = self.tp, self.fp, self.fn
        iou = tp / (tp + fp + fn) if tp + fp + fn else 1.0
        precision = tp / (tp + fp) if tp + fp else 1.0
        recall = tp / (tp + fn) if tp + fn else 1.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {"iou": iou, "precision": precision, "recall": recall, "f1": f1}


def pixel_metrics(pred: np.ndarray, truth: np.ndarray) -> dict[str, float]:
    """IoU, precision, recall, F1 of the structure class for one pair of masks."""
    return Confusion().add(pred, truth).scores()


def read_structures(path: str | Path) -> list[dict[str, Any]]:
    """Rows of ``structures.csv`` with parsed types."""
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    for r in rows:
        r["id"] = int(r["id"])
        r["date_built"] = date.fromisoformat(r["date_built"])
        r["on_state_land"] = r["on_state_land"].strip().lower() == "true"
        r["area_m2"] = float(r["area_m2"])
        r["centroid_x"], r["centroid_y"] = float(r["centroid_x"]), float(r["centroid_y"])
    return rows


def object_recall(
    change: np.ndarray,
    new_truth: np.ndarray,
    transform: Affine,
    structures: list[dict[str, Any]],
    *,
    first_date: date,
    state_land_only: bool = True,
    min_cover: float = 0.5,
) -> dict[str, Any]:
    """Share of new structures (built after ``first_date``) whose footprint is found.

    Args:
        change: predicted new-structure mask.
        new_truth: ground-truth new-structure mask (``new_structures.tif``).
        transform: their common affine transform.
        structures: rows from :func:`read_structures`.
        first_date: the earlier image date; structures built after it are "new".
        state_land_only: only structures with ``on_state_land`` true (encroachments).
        min_cover: share of the footprint the prediction must cover.

    Returns:
        ``{"recall", "found", "total", "missed_ids"}`` plus, for context, ``false_alarms``:
        predicted change regions (≥ 16 px) that touch no new structure.
    """
    if change.shape != new_truth.shape:
        raise GridMismatch(f"change {change.shape} and truth {new_truth.shape} differ")
    change = np.asarray(change, bool)
    regions, _ = label(np.asarray(new_truth, bool), structure=np.ones((3, 3), int))
    found, total, missed = 0, 0, []
    for s in structures:
        if s["date_built"] <= first_date or (state_land_only and not s["on_state_land"]):
            continue
        r, c = rowcol(transform, s["centroid_x"], s["centroid_y"])
        r, c = int(r), int(c)
        if not (0 <= r < regions.shape[0] and 0 <= c < regions.shape[1]) or not regions[r, c]:
            continue  # outside this window
        total += 1
        foot = regions == regions[r, c]
        if change[foot].mean() >= min_cover:
            found += 1
        else:
            missed.append(s["id"])
    pred_regions, n = label(change, structure=np.ones((3, 3), int))
    touched = set(np.unique(pred_regions[np.asarray(new_truth, bool)]).tolist()) - {0}
    sizes = np.bincount(pred_regions.ravel(), minlength=n + 1)
    false_alarms = sum(1 for i in range(1, n + 1) if i not in touched and sizes[i] >= 16)
    return {
        "recall": found / total if total else 1.0,
        "found": found,
        "total": total,
        "missed_ids": missed,
        "false_alarms": false_alarms,
    }
