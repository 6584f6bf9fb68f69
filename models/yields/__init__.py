"""Yield (t/ha) per parcel and season: per-crop ridge, LUE baseline, district baselines.

See :mod:`models.yields.model` and ``docs/models_crops_yield.md``.
"""

from models.yields.model import (
    LUE_PARAMS,
    MONTHLY_GLOBAL_RADIATION,
    PAR_FRACTION,
    YIELD_RANGES,
    YieldConfig,
    YieldModel,
    YieldModelError,
    build_yield_model,
    clamp_yields,
    district_baselines,
    evaluate_yield,
    fapar_from_ndvi,
    lue_yield,
    lue_yield_series,
    predict_yield,
    train_yield_model,
    yield_hyperparameters,
    yield_tensors,
)

__all__ = [
    "LUE_PARAMS",
    "MONTHLY_GLOBAL_RADIATION",
    "PAR_FRACTION",
    "YIELD_RANGES",
    "YieldConfig",
    "YieldModel",
    "YieldModelError",
    "build_yield_model",
    "clamp_yields",
    "district_baselines",
    "evaluate_yield",
    "fapar_from_ndvi",
    "lue_yield",
    "lue_yield_series",
    "predict_yield",
    "train_yield_model",
    "yield_hyperparameters",
    "yield_tensors",
]
