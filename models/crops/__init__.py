"""Crop type: per parcel and season from the project's Sentinel-2 series
(:mod:`models.crops.model`), and per field and year from any real index series on a
model's own grid (:mod:`models.crops.series_model`, :mod:`models.crops.grid`), trained and
scored from files over spatial folds (:mod:`models.crops.field_experiment`). Gradient-
boosting peers for comparison. See ``docs/models_crops_yield.md``.
"""

from models.crops.grid import GriddedSeries, TimeGrid, to_grid
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
from models.crops.seasons import (
    predict_season_crops,
    season_of_year_label,
    season_probabilities,
)
from models.crops.series_model import (
    SeriesConfig,
    SeriesCropModel,
    build_series_model,
    train_series_model,
)

__all__ = [
    "MIN_VALID_OBS",
    "SEASON_CLASSES",
    "CNNCropModel",
    "CropConfig",
    "CropModelError",
    "GBCropModel",
    "GriddedSeries",
    "SeriesConfig",
    "SeriesCropModel",
    "TemporalCNN",
    "TimeGrid",
    "build_crop_model",
    "build_series_model",
    "crop_tensors",
    "evaluate_crops",
    "hyperparameters",
    "predict_crops",
    "predict_proba",
    "predict_season_crops",
    "season_of_year_label",
    "season_probabilities",
    "to_grid",
    "train_crop_model",
    "train_series_model",
]
