"""New structures between two dates from two single-date predictions.

``new = (p_after ≥ t) AND NOT dilate(p_before ≥ t, dilate_px)``.

Why post-classification differencing rather than a change network: it reuses the
single-date structure model (no change labels are needed, and the same model serves the
building inventory), and it is robust to what differs between two acquisitions that is not
change: illumination, crop stage, and small mis-registration. Dilating the *before* mask by
a pixel or two absorbs sub-metre shifts and edge jitter of existing roofs, which would
otherwise appear as thin slivers of "new" structure around every old building. The price:
an extension of a building by less than ``dilate_px`` pixels (0.5–1 m) is not reported.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import binary_dilation

from models.encroachment.errors import GridMismatch


def change_mask(
    prob_before: np.ndarray,
    prob_after: np.ndarray,
    threshold: float = 0.5,
    dilate_px: int = 2,
) -> np.ndarray:
    """Boolean mask of structures present after and absent (with a margin) before.

    Args:
        prob_before, prob_after: probabilities (or 0/1 masks) on the same grid.
        threshold: probability at or above which a pixel is a structure.
        dilate_px: margin (pixels, square structuring element) grown around the before mask.
    """
    if prob_before.shape != prob_after.shape:
        raise GridMismatch(f"before {prob_before.shape} and after {prob_after.shape} differ")
    before = np.asarray(prob_before) >= threshold
    after = np.asarray(prob_after) >= threshold
    if dilate_px > 0:
        before = binary_dilation(before, structure=np.ones((3, 3), bool), iterations=dilate_px)
    return after & ~before
