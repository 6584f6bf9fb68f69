"""Spatial train/test split: whole blocks of ground on one side, never random pixels.

Neighbouring pixels of one roof are nearly the same sample; a random pixel (or random
small-chip) split puts one half of a building in training and the other in testing and
reports the model's memory, not its generalisation. Here the ground is cut into square
blocks of ``block_m`` metres on a grid anchored at multiples of ``block_m`` in each
image's working CRS, and every block goes wholly to one side.

Anchoring the grid on the CRS, not on each image, is what makes the split hold across
files: adjacent chips of one mosaic share the blocks along their common edge, and tiles of
several zoom levels (Kampala ships the same roofs at z19, z20 and z21) put the same ground
in the same block, hence on the same side. Images in different CRSs never share a block
(the key includes the CRS); images of the same ground in two CRSs are the one case this
cannot catch, so keep one working CRS per area.

A pixel belongs to the block that contains its centre, so the windows of an image tile it
exactly. A block larger than every image gives whole-image (whole-chip) hold-out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from models.encroachment.errors import EncroachmentError

BlockKey = tuple[str, int, int]
"""``(crs, ix, iy)``: block ``ix`` spans x in ``[ix * block_m, (ix + 1) * block_m)``."""


class SplitError(EncroachmentError, ValueError):
    """A split cannot be made: bad parameters, an image without a north-up metric grid."""


@dataclass(frozen=True)
class Window:
    """The part of one image that lies in one block.

    Attributes:
        image_index: position of the image in the sequence given to :func:`spatial_split`.
        rows: pixel rows of the window (``array[..., rows, cols]``).
        cols: pixel columns.
        block: the key of the block it belongs to.
    """

    image_index: int
    rows: slice
    cols: slice
    block: BlockKey

    @property
    def pixels(self) -> int:
        """Number of pixels in the window."""
        return int((self.rows.stop - self.rows.start) * (self.cols.stop - self.cols.start))


def crs_key(crs: Any) -> str:
    """A stable string for a CRS: ``EPSG:n`` when it has a code, else its WKT.

    Why not ``str(crs)``: the same CRS read from two files may print as an EPSG code from
    one and as WKT from the other, which would put the same ground in two blocks.
    """
    if crs is None:
        raise SplitError("an image has no CRS; the split needs georeferenced images")
    to_epsg = getattr(crs, "to_epsg", None)
    epsg = to_epsg() if to_epsg is not None else None
    if epsg:
        return f"EPSG:{epsg}"
    to_wkt = getattr(crs, "to_wkt", None)
    return to_wkt() if to_wkt is not None else str(crs)


def _runs(centres: np.ndarray, block_m: float) -> list[tuple[slice, int]]:
    """Contiguous runs of pixels (along one axis) whose centres fall in the same block."""
    idx = np.floor(centres / block_m).astype(np.int64)
    cuts = np.flatnonzero(np.diff(idx)) + 1
    starts = np.concatenate([[0], cuts])
    stops = np.concatenate([cuts, [idx.size]])
    return [(slice(int(a), int(b)), int(idx[a])) for a, b in zip(starts, stops, strict=True)]


def image_windows(image: Any, image_index: int, block_m: float) -> list[Window]:
    """Cut one image into one window per block it touches (rows then columns)."""
    t = image.transform
    if abs(t.b) > 1e-12 * abs(t.a) or abs(t.d) > 1e-12 * abs(t.e):
        raise SplitError(
            f"{_name(image, image_index)}: rotated pixel grid; resample to a north-up grid first"
        )
    h, w = (int(n) for n in np.asarray(image.array).shape[-2:])
    key = crs_key(image.crs)
    xs = t.c + t.a * (np.arange(w) + 0.5)
    ys = t.f + t.e * (np.arange(h) + 0.5)
    return [
        Window(image_index, rows, cols, (key, ix, iy))
        for rows, iy in _runs(ys, block_m)
        for cols, ix in _runs(xs, block_m)
    ]


def _name(image: Any, index: int) -> str:
    path = getattr(image, "path", None)
    return str(path) if path is not None else f"image {index}"


def spatial_split(
    images: Sequence[Any], *, block_m: float, holdout: float, seed: int
) -> tuple[list[Window], list[Window]]:
    """Split images into train and test windows by blocks of ground.

    Blocks are visited in a seeded shuffle of their sorted keys and moved to the test side
    until it holds at least ``holdout`` of all pixels. Sorting first makes the split depend
    only on the seed and the set of blocks, not on the order the images were listed in.

    Args:
        images: working images (anything with ``crs``, a north-up ``transform`` in metres,
            and ``array`` of shape ``(..., H, W)``).
        block_m: block size in CRS units (metres for a working image). Larger than the
            images, it holds out whole images.
        holdout: fraction of pixels wanted on the test side, in ``[0, 1)``.
        seed: shuffle seed; the same seed and images give the same split.

    Returns:
        ``(train, test)`` windows, each in image then row then column order.

    Raises:
        SplitError: bad ``block_m``/``holdout``, an image without CRS or with a rotated grid,
            or too few blocks to leave anything for training.
    """
    if not (block_m > 0 and math.isfinite(block_m)):
        raise SplitError(f"block_m must be a positive number of metres, got {block_m}")
    if not 0 <= holdout < 1:
        raise SplitError(f"holdout must be in [0, 1), got {holdout}")
    windows = [w for i, im in enumerate(images) for w in image_windows(im, i, block_m)]
    if not windows:
        raise SplitError("no images to split")
    pixels: dict[BlockKey, int] = {}
    for w in windows:
        pixels[w.block] = pixels.get(w.block, 0) + w.pixels
    total = sum(pixels.values())
    keys = sorted(pixels)
    order = np.random.default_rng(seed).permutation(len(keys))
    test_blocks: set[BlockKey] = set()
    held = 0
    for k in order:
        if held >= holdout * total:
            break
        test_blocks.add(keys[k])
        held += pixels[keys[k]]
    if held == total and holdout > 0:
        raise SplitError(
            f"only {len(keys)} block(s) of {block_m:g} m over the images: the test side "
            f"would take everything; use a smaller block_m"
        )
    train = [w for w in windows if w.block not in test_blocks]
    test = [w for w in windows if w.block in test_blocks]
    return train, test


def split_summary(
    train: Sequence[Window], test: Sequence[Window], images: Sequence[Any]
) -> dict[str, Any]:
    """Sizes of both sides, for the model card and the training log.

    Pixels are counted over windows; ``valid_pixels`` also counts only pixels marked valid
    in each image's ``valid`` mask (nodata edges), when the images have one.

    Returns:
        ``{"train": {...}, "test": {...}, "test_fraction": float}``; each side has
        ``windows``, ``blocks``, ``images`` (touched), ``pixels`` and ``valid_pixels``.
    """

    def side(ws: Sequence[Window]) -> dict[str, int]:
        valid = 0
        for w in ws:
            mask = getattr(images[w.image_index], "valid", None)
            valid += w.pixels if mask is None else int(np.count_nonzero(mask[w.rows, w.cols]))
        return {
            "windows": len(ws),
            "blocks": len({w.block for w in ws}),
            "images": len({w.image_index for w in ws}),
            "pixels": sum(w.pixels for w in ws),
            "valid_pixels": valid,
        }

    tr, te = side(train), side(test)
    total = tr["pixels"] + te["pixels"]
    return {"train": tr, "test": te, "test_fraction": te["pixels"] / total if total else 0.0}
