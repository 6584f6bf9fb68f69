"""Crop type per parcel and season (temporal CNN; gradient-boosting peer for comparison).

See :mod:`models.crops.model` and ``docs/models_crops_yield.md``.
"""

from models.crops.model import (
    MIN_VALID_OBS,
    SEASON_CLASSES,
    CNNCropModel,
    CropConfig,
    CropModelError,
    GBCropModel,
    TemporalCNN,
    build_crop_model,
    crop_tensors,
    evaluate_crops,
    hyperparameters,
    predict_crops,
    predict_proba,
    train_crop_model,
)

__all__ = [
    "MIN_VALID_OBS",
    "SEASON_CLASSES",
    "CNNCropModel",
    "CropConfig",
    "CropModelError",
    "GBCropModel",
    "TemporalCNN",
    "build_crop_model",
    "crop_tensors",
    "evaluate_crops",
    "hyperparameters",
    "predict_crops",
    "predict_proba",
    "train_crop_model",
]
