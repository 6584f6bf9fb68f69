"""Building-level precision, recall and F1: the SpaceNet rule on instance rasters.

Pixel IoU rewards a model that paints a whole terrace as one blob; a revenue officer needs
to count *buildings*. Following SpaceNet, a predicted building and a true building match
when their intersection over union is at least 0.5, each used at most once. Matched pairs
are true positives, unmatched predictions false positives, unmatched true buildings false
negatives. Counts add up across images (micro-average) before the ratios are taken.

Instances are rasters of ids (0 background) on one grid: the truth from
:func:`models.encroachment.labels.rasterize_footprints`, the prediction from a thresholded
probability map via :func:`label_instances` (or a model's own instance output).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import label

from models.encroachment.errors import EncroachmentError, GridMismatch


@dataclass
class BuildingCounts:
    """Matched (tp), spurious (fp) and missed (fn) buildings; add them across images."""

    tp: int = 0
    fp: int = 0
    fn: int = 0

    def __add__(self, other: BuildingCounts) -> BuildingCounts:
        return BuildingCounts(self.tp + other.tp, self.fp + other.fp, self.fn + other.fn)

    def scores(self) -> dict[str, float]:
        """Precision, recall and F1.

        Empty cases follow :class:`~models.encroachment.metrics.Confusion`: precision is 1.0
        when nothing was predicted, recall 1.0 when there was nothing to find, and F1 is
        1.0 only when both are empty (nothing to find and nothing found). F1 is computed as
        ``2 tp / (2 tp + fp + fn)``, equal to ``2PR / (P + R)`` whenever that is defined.
        """
        tp, fp, fn = self.tp, self.fp, self.fn
        return {
            "precision": tp / (tp + fp) if tp + fp else 1.0,
            "recall": tp / (tp + fn) if tp + fn else 1.0,
            "f1": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
        }


def label_instances(mask: np.ndarray) -> np.ndarray:
    """Connected regions (8-connected) of a boolean mask as int32 instance ids.

    8-connectivity, as :func:`models.encroachment.polygons.polygonize` uses, so the buildings
    counted here are the polygons a user would get.
    """
    ids, _ = label(np.asarray(mask, bool), structure=np.ones((3, 3), int))
    return np.asarray(ids, np.int32)


def _compact(ids: np.ndarray, min_area_px: int) -> tuple[np.ndarray, np.ndarray]:
    """Renumber ids to 0..n (0 background) dropping instances below ``min_area_px``.

    Returns the renumbered raster (flat) and the area of each id (index 0 = background).
    """
    uniq, inv = np.unique(ids.ravel(), return_inverse=True)
    inv = inv.ravel()
    if uniq[0] != 0:  # no background pixel: shift so that id 0 stays "background"
        uniq = np.concatenate([[0], uniq])
        inv = inv + 1
    area = np.bincount(inv, minlength=uniq.size)
    keep = area >= min_area_px
    keep[0] = True
    if not keep.all():
        new_id = np.cumsum(keep) - 1  # kept ids renumbered in order; dropped → background
        new_id[~keep] = 0
        inv = new_id[inv]
        area = np.bincount(inv, minlength=int(keep.sum()))
    return inv, area


def match_buildings(
    pred: np.ndarray,
    truth: np.ndarray,
    *,
    iou_threshold: float = 0.5,
    min_area_px: int = 0,
    ignore: np.ndarray | None = None,
) -> BuildingCounts:
    """Count matched, spurious and missed buildings between two instance rasters.

    All pairwise overlaps come from one :func:`numpy.unique` over the paired ids of the
    pixels where both rasters have a building, and the areas from :func:`numpy.bincount`:
    one pass over the image whatever the number of buildings. Pairs at or above the
    threshold are matched greedily by descending IoU, each building used at most once.
    Above 0.5 the greediness does not matter: IoU > 0.5 means the intersection covers more
    than half of each building, and the buildings of one raster are disjoint, so a building
    has at most one such partner and the matches are unique. Exactly at 0.5 a building can
    tie with two halves of itself, and the greedy pass keeps one.

    Args:
        pred: int ``(H, W)`` predicted instance ids (0 background); for a plain mask use
            :func:`label_instances` first.
        truth: int ``(H, W)`` true instance ids on the same grid.
        iou_threshold: minimum IoU of a match (SpaceNet: 0.5).
        min_area_px: instances with fewer pixels are dropped on both sides before matching
            (specks of noise, and slivers of footprints cut by the image edge).
        ignore: optional bool ``(H, W)``; these pixels (nodata edges) are removed from both
            rasters first, so a building cut by the edge is scored on its visible part.

    Returns:
        The counts for this image; add them across images.
    """
    p, t = np.asarray(pred), np.asarray(truth)
    if p.shape != t.shape or p.ndim != 2:
        raise GridMismatch(f"prediction {p.shape} and truth {t.shape} must be the same 2-D grid")
    if not 0 < iou_threshold <= 1:
        raise EncroachmentError(f"iou_threshold must be in (0, 1], got {iou_threshold}")
    if ignore is not None:
        ign = np.asarray(ignore, bool)
        if ign.shape != p.shape:
            raise GridMismatch(f"ignore {ign.shape} and prediction {p.shape} differ")
        p, t = np.where(ign, 0, p), np.where(ign, 0, t)
    pf, p_area = _compact(p, min_area_px)
    tf, t_area = _compact(t, min_area_px)
    n_pred, n_true = p_area.size - 1, t_area.size - 1
    both = (pf > 0) & (tf > 0)
    pairs, inter = np.unique(
        pf[both].astype(np.int64) * (n_true + 1) + tf[both], return_counts=True
    )
    pi, ti = pairs // (n_true + 1), pairs % (n_true + 1)
    iou = inter / (p_area[pi] + t_area[ti] - inter)
    ok = iou >= iou_threshold
    pi, ti, iou = pi[ok], ti[ok], iou[ok]
    used_p: set[int] = set()
    used_t: set[int] = set()
    for k in np.argsort(-iou, kind="stable"):  # only candidate pairs, not pixels
        a, b = int(pi[k]), int(ti[k])
        if a not in used_p and b not in used_t:
            used_p.add(a)
            used_t.add(b)
    tp = len(used_p)
    return BuildingCounts(tp=tp, fp=n_pred - tp, fn=n_true - tp)
