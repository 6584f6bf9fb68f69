"""Encroachment: structure segmentation on 0.5 m RGBN orthophotos and change between dates.

Pipeline (see ``docs/models_encroachment.md``): torchgeo datasets/samplers over
``ortho_<date>.tif`` + ``buildings_<date>.tif`` → a small U-Net trained with Lightning
(:func:`train`) → tiled, blended, bounded-memory scene inference (:func:`predict_scene`) →
post-classification change (:func:`change_mask`) → polygons with confidence
(:func:`polygonize`) → metrics (:func:`evaluate`).

Registry round-trip: ``card.hyperparameters = hyperparameters(config)``; later
``model = build_model(card.hyperparameters); model.load_state_dict(tensors)``.
"""

from __future__ import annotations

from models.encroachment.change import change_mask
from models.encroachment.data import (
    BuildingMasks,
    Orthophotos,
    StructureBiasedChips,
    grid_loader,
    make_dataset,
    normalize,
    train_loader,
)
from models.encroachment.errors import BadImagery, EncroachmentError, GridMismatch
from models.encroachment.evaluate import evaluate
from models.encroachment.infer import hann_window, predict_array, predict_scene, read_probability
from models.encroachment.metrics import Confusion, object_recall, pixel_metrics, read_structures
from models.encroachment.polygons import polygonize
from models.encroachment.train import (
    SegConfig,
    SegModule,
    TrainResult,
    build_model,
    hyperparameters,
    resolve_device,
    train,
)
from models.encroachment.unet import UNet

__all__ = [
    "BadImagery",
    "BuildingMasks",
    "Confusion",
    "EncroachmentError",
    "GridMismatch",
    "Orthophotos",
    "SegConfig",
    "SegModule",
    "StructureBiasedChips",
    "TrainResult",
    "UNet",
    "build_model",
    "change_mask",
    "evaluate",
    "grid_loader",
    "hann_window",
    "hyperparameters",
    "make_dataset",
    "normalize",
    "object_recall",
    "pixel_metrics",
    "polygonize",
    "predict_array",
    "predict_scene",
    "read_probability",
    "read_structures",
    "resolve_device",
    "train",
    "train_loader",
]
