"""Held-out evaluation: pixel metrics per date and new-structure recall between dates."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import rasterio
import torch
from affine import Affine
from shapely import STRtree
from torch import nn

from models.encroachment.change import change_mask
from models.encroachment.data import PathList, check_same_grid, pair_files
from models.encroachment.imagery import prepare_image
from models.encroachment.infer import predict_scene, probability_on_grid
from models.encroachment.metrics import Confusion, object_recall, read_structures
from models.encroachment.polygons import polygonize

_DATE = re.compile(r"(\d{4}-\d{2}-\d{2})")


def _date_of(path: Path) -> date:
    m = _DATE.search(path.name)
    return date.fromisoformat(m.group(1)) if m else date.min


def _polygon_stats(
    change: np.ndarray, truth_new: np.ndarray, transform: Affine, prob_after: np.ndarray
) -> dict[str, int]:
    """Cleaned change polygons, all and with confidence ≥ 0.8, and how many touch no truth."""
    truth = polygonize(truth_new, transform, min_area_m2=0.0, simplify_m=0.0)
    tree = STRtree([p for p, _ in truth])
    out: dict[str, int] = {}
    for key, cut in (("all", 0.0), ("conf_0.8", 0.8)):
        polys = polygonize(change, transform, prob=prob_after, min_confidence=cut)
        false = sum(1 for p, _ in polys if len(tree.query(p, predicate="intersects")) == 0)
        out[key], out[f"{key}_false"] = len(polys), false
    return out


def evaluate(
    model: nn.Module,
    image_paths: PathList,
    mask_paths: PathList,
    *,
    new_structures: str | Path | None = None,
    structures_csv: str | Path | None = None,
    first_date: date | None = None,
    threshold: float = 0.5,
    dilate_px: int = 2,
    tile: int = 256,
    overlap: int = 64,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    work_dir: str | Path | None = None,
    bands: Sequence[str] | None = None,
    resolution_m: float | None = None,
) -> dict[str, Any]:
    """Runs scene inference on every image and scores it against its mask.

    Args:
        model: the trained network.
        image_paths, mask_paths: ``ortho_<date>.tif`` files and their ``buildings_<date>.tif``.
        new_structures: ``new_structures.tif`` of one folder; with ``structures_csv`` this
            adds change metrics, comparing the earliest and latest image of that folder.
        structures_csv: ``structures.csv`` beside it.
        first_date: the "before" date for "new" structures (default: earliest image date).
        threshold, dilate_px: see :func:`~models.encroachment.change.change_mask`.
        tile, overlap, batch_size, device: see :func:`~models.encroachment.infer.predict_scene`.
        work_dir: where probability rasters are kept (default: a temporary folder, deleted).
        bands, resolution_m: the model's input bands and working resolution (its card's);
            when given, each image is first brought onto that grid
            (:func:`~models.encroachment.imagery.prepare_image`) and the probabilities are
            warped back onto the mask's grid, so a 0.3 m RGB model is scored on 0.5 m RGBN
            orthophotos against their own masks.

    Returns:
        ``{"pixel": {iou, precision, recall, f1}, "per_image": {name: {...}}, "change": {...}}``;
        ``change`` (only with ``new_structures``) holds pixel metrics of the change mask,
        ``object_recall_state_land`` and ``object_recall_all`` (see
        :func:`~models.encroachment.metrics.object_recall`) and ``polygons`` (count of
        cleaned new-structure polygons, all and with confidence ≥ 0.8, each with the
        number touching no true new structure).
    """
    pairs = pair_files(image_paths, mask_paths)
    total = Confusion()
    per_image: dict[str, dict[str, float]] = {}
    probs: dict[Path, np.ndarray] = {}
    with tempfile.TemporaryDirectory() as tmp:
        out_dir = Path(work_dir) if work_dir else Path(tmp)
        out_dir.mkdir(parents=True, exist_ok=True)
        for img, msk in pairs:
            out = out_dir / f"{img.parent.name}_{img.stem}_prob.tif"
            src_img = img
            if bands is not None and resolution_m is not None:
                src_img = prepare_image(img, out_dir / f"{img.parent.name}_{img.stem}_in.tif",
                                        bands=bands, resolution_m=resolution_m)  # fmt: skip
            predict_scene(
                model,
                src_img,
                out,
                tile=tile,
                overlap=overlap,
                batch_size=batch_size,
                device=device,
            )
            p = probability_on_grid(out, msk)
            with rasterio.open(msk) as src:
                truth = src.read(1) > 0
            per_image[f"{img.parent.name}/{img.name}"] = (
                Confusion().add(p >= threshold, truth).scores()
            )
            total.add(p >= threshold, truth)
            probs[img] = p
    result: dict[str, Any] = {"pixel": total.scores(), "per_image": per_image}
    if new_structures is not None and structures_csv is not None:
        ns = Path(new_structures)
        same = sorted((i for i in probs if i.parent == ns.parent), key=_date_of)
        if len(same) >= 2:
            check_same_grid(same[0], ns)
            with rasterio.open(ns) as src:
                truth_new, transform = src.read(1) > 0, src.transform
            first = first_date or _date_of(same[0])
            change = change_mask(probs[same[0]], probs[same[-1]], threshold, dilate_px)
            rows = read_structures(structures_csv)
            result["change"] = {
                "before": same[0].name,
                "after": same[-1].name,
                "pixel": Confusion().add(change, truth_new).scores(),
                "object_recall_state_land": object_recall(
                    change, truth_new, transform, rows, first_date=first
                ),
                "object_recall_all": object_recall(
                    change, truth_new, transform, rows, first_date=first, state_land_only=False
                ),
                "polygons": _polygon_stats(change, truth_new, transform, probs[same[-1]]),
            }
    return result
