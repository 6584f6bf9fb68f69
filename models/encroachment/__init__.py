"""Encroachment: structures on orthophotos as users hold them, and change between dates.

Two training paths share one inference and change pipeline (``docs/models_encroachment.md``):

- **Real imagery** (the shipped default): the user's orthophotos (any CRS, resolution, 8/16
  bit, GeoTIFF or JPEG/PNG with a world file) onto the model's working grid
  (:func:`read_working_image` / :func:`prepare_image`) → footprints rasterised onto it
  (:func:`label_image`: mask, instances, contact border) → a spatial split by blocks of
  ground (:func:`spatial_split`) → a structure + contact-border network trained with field
  augmentation (:func:`fit`) → buildings separated by seeded growth
  (:func:`building_instances`) → pixel and SpaceNet building scores
  (:mod:`~models.encroachment.labelled`), beside a per-pixel LightGBM baseline
  (:func:`fit_pixel_baseline`).
- **Synthetic imagery** of the demo district: torchgeo datasets/samplers over
  ``ortho_<date>.tif`` + ``buildings_<date>.tif`` → the project's own U-Net (:func:`train`).

Then tiled, blended, bounded-memory scene inference (:func:`predict_scene`) →
post-classification change (:func:`change_mask`) → polygons with confidence
(:func:`polygonize`) → metrics (:func:`evaluate`).

Registry round-trip: ``card.hyperparameters = config.hyperparameters()``; later
``model = build_model(card.hyperparameters); model.load_state_dict(tensors)`` (any
structure card: the card's ``arch`` picks the network).
"""

from __future__ import annotations

from models.encroachment.augment import AugmentConfig
from models.encroachment.baseline import PixelBaseline, fit_pixel_baseline
from models.encroachment.buildings import BuildingCounts, match_buildings
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
from models.encroachment.errors import (
    BadImagery,
    EncroachmentError,
    GridMismatch,
    MissingBands,
    NotGeoreferenced,
)
from models.encroachment.evaluate import evaluate
from models.encroachment.fit import FitConfig, FitResult, TrainingArea, build_network, fit
from models.encroachment.imagery import WorkingImage, prepare_image, read_working_image
from models.encroachment.infer import (
    hann_window,
    predict_array,
    predict_scene,
    read_probabilities,
    read_probability,
)
from models.encroachment.instances import building_instances
from models.encroachment.labels import (
    BadLabels,
    LabelledImage,
    contact_border,
    label_image,
    rasterize_footprints,
    read_footprints,
)
from models.encroachment.metrics import Confusion, object_recall, pixel_metrics, read_structures
from models.encroachment.polygons import polygonize
from models.encroachment.split import Window, spatial_split
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
    "AugmentConfig",
    "BadImagery",
    "BadLabels",
    "BuildingCounts",
    "BuildingMasks",
    "Confusion",
    "EncroachmentError",
    "FitConfig",
    "FitResult",
    "GridMismatch",
    "LabelledImage",
    "MissingBands",
    "NotGeoreferenced",
    "Orthophotos",
    "PixelBaseline",
    "SegConfig",
    "SegModule",
    "StructureBiasedChips",
    "TrainResult",
    "TrainingArea",
    "UNet",
    "Window",
    "WorkingImage",
    "build_model",
    "build_network",
    "building_instances",
    "change_mask",
    "contact_border",
    "evaluate",
    "fit",
    "fit_pixel_baseline",
    "grid_loader",
    "hann_window",
    "hyperparameters",
    "label_image",
    "make_dataset",
    "match_buildings",
    "normalize",
    "object_recall",
    "pixel_metrics",
    "polygonize",
    "predict_array",
    "predict_scene",
    "prepare_image",
    "rasterize_footprints",
    "read_footprints",
    "read_probabilities",
    "read_probability",
    "read_structures",
    "read_working_image",
    "resolve_device",
    "spatial_split",
    "train",
    "train_loader",
]
