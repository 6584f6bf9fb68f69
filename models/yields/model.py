"""Yield (t/ha) per parcel and season: a learned per-crop ridge regression, a light-use-
efficiency (LUE) physical baseline, and the statistical baselines any model must beat.

Learned model
    One ridge regression per crop on the standardised summary features of
    :mod:`models.features` (peak, integral, slopes, monthly means of NDVI/WDRVI/NDMI …).
    Why ridge and not a network: a few hundred labelled parcels per crop, yield close to
    linear in seasonal greenness (the LUE argument below), and a closed form that is
    deterministic and trivially saved as tensors (weights, biases, standardisation). The
    penalty is picked per crop by 5-fold cross-validation on the training rows only.
    Fallow is 0 by definition.

LUE baseline (:func:`lue_yield`, Monteith 1977; domain.md §8)
    ``yield = HI × ε × Σ_t fAPAR(t) × PAR(t)`` with ``fAPAR ≈ 1.1638·NDVI − 0.1426``
    (clipped to [0, 1]) and ``PAR ≈ 0.48 × global radiation``. ε (g dry matter per MJ
    absorbed PAR) and HI per crop are literature-typical values, not fitted:

    ========= ===== ===== =====================================================
    crop      ε     HI    note
    ========= ===== ===== =====================================================
    wheat     2.75  0.42  domain.md §8 (ε 2.5–3.0, HI 0.40–0.45); grain
    rice      2.2   0.45  paddy; ε of irrigated rice ≈ 2.0–2.4 g/MJ
    cotton    1.7   0.35  seed cotton; ε ≈ 1.5–1.9, HI of seed cotton ≈ 0.3–0.4
    sugarcane 3.5   2.5   C4; "HI" = fresh cane per dry biomass (0.75 stalk / 0.30 DM)
    fodder    2.5   5.0   green fodder: whole shoot at ≈ 20 % dry matter
    ========= ===== ===== =====================================================

    Orchard fruit yield is not light-limited in a season-tractable way: no LUE value.
    The sum runs over the season's 5-day grid (each point stands for 5 days).

    Radiation assumption (documented, not measured here): monthly means of daily global
    horizontal irradiation for central Punjab (Faisalabad/Lahore, ~31.5° N), MJ m⁻² d⁻¹:
    Jan 10.5, Feb 13.5, Mar 17.5, Apr 21.5, May 24, Jun 24, Jul 21 (monsoon cloud), Aug 20,
    Sep 19, Oct 16, Nov 12.5, Dec 10. These are rounded values of the order given by the
    NASA POWER climatology (parameter ALLSKY_SFC_SW_DWN, https://power.larc.nasa.gov) and
    the World Bank/ESMAP Pakistan solar resource maps (https://globalsolaratlas.info);
    they could not be re-checked offline and are good to about ±10 %. PAR = 0.48 × that
    (domain.md §8). Note that bare soil has NDVI ≈ 0.2, i.e. fAPAR ≈ 0.1 by the linear
    formula, so the LUE sum accumulates some "soil light" outside the crop's cycle: a known
    upward bias of this simple baseline, left as is (nothing is calibrated on test data).

Plausibility ranges
    domain.md §8: predictions outside 0.5–7 t/ha are errors — that rule is for grain and
    fibre (wheat, rice paddy, seed cotton). Sugarcane (fresh cane 20–150 t/ha), green
    fodder (5–100 t/ha) and orchard fruit (2–50 t/ha) get wider, crop-specific ranges
    (engineering choices around Punjab figures). Out-of-range predictions are clamped and
    flagged.

Baselines (:func:`district_baselines`)
    The previous year's district mean and a least-squares linear trend over the district
    history (``district_yields.csv``) extrapolated to the season's year.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch

from landgov.errors import LandgovError
from models.features import STEP_DAYS, SeasonFeatures, parse_season, season_grid

MONTHLY_GLOBAL_RADIATION: Final = (10.5, 13.5, 17.5, 21.5, 24.0, 24.0, 21.0, 20.0, 19.0, 16.0,
                                   12.5, 10.0)  # fmt: skip
"""Daily global radiation, MJ m⁻² d⁻¹, Jan…Dec, central Punjab (see module docstring)."""
PAR_FRACTION: Final = 0.48
LUE_PARAMS: Final = {
    "wheat": (2.75, 0.42),
    "rice": (2.2, 0.45),
    "cotton": (1.7, 0.35),
    "sugarcane": (3.5, 2.5),
    "fodder": (2.5, 5.0),
}
"""(ε g/MJ APAR, harvest index or fresh-product factor) per crop."""
GRAIN_RANGE: Final = (0.5, 7.0)
YIELD_RANGES: Final = {
    "wheat": GRAIN_RANGE,
    "rice": GRAIN_RANGE,
    "cotton": GRAIN_RANGE,
    "sugarcane": (20.0, 150.0),
    "fodder": (5.0, 100.0),
    "orchard": (2.0, 50.0),
}
"""Plausible t/ha per crop: 0.5–7 (domain.md §8) is the grain/fibre rule only."""
CROPS: Final = ("cotton", "fodder", "orchard", "rice", "sugarcane", "wheat")
ZERO_CROPS: Final = ("fallow",)


class YieldModelError(LandgovError, ValueError):
    """Bad input to a yield model."""


# -- physics baseline -----------------------------------------------------------------------


def fapar_from_ndvi(ndvi: Any) -> np.ndarray:
    """fAPAR ≈ 1.1638·NDVI − 0.1426 (domain.md §8), clipped to [0, 1]."""
    return np.clip(1.1638 * np.asarray(ndvi, dtype=np.float64) - 0.1426, 0.0, 1.0)


def lue_yield(
    ndvi: Any,
    par: Any,
    *,
    epsilon: float,
    harvest_index: float,
    days_per_step: float = STEP_DAYS,
) -> np.ndarray:
    """Light-use-efficiency yield (t/ha) from NDVI and PAR on the same time steps.

    ``yield = HI × ε × Σ_t fAPAR(t) × PAR(t) × Δt`` (Monteith 1977; domain.md §8), with
    fAPAR = clip(1.1638·NDVI − 0.1426, 0, 1), PAR in MJ m⁻² d⁻¹, Δt days per step, ε in
    g MJ⁻¹ → g m⁻² of dry matter; × HI → harvested product; g m⁻² × 0.01 = t ha⁻¹.

    Args:
        ndvi: ``[..., T]`` NDVI per step.
        par: ``[T]`` (or broadcastable) PAR per step, MJ m⁻² d⁻¹.
        epsilon: light-use efficiency ε, g per MJ of absorbed PAR.
        harvest_index: harvested share of dry matter (or fresh-product factor).
        days_per_step: days each step stands for.
    """
    if epsilon <= 0 or harvest_index <= 0 or days_per_step <= 0:
        raise YieldModelError("epsilon, harvest_index and days_per_step must be positive")
    # numpy's stubs type axis reductions as Any
    apar: npt.NDArray[np.float64] = (fapar_from_ndvi(ndvi) * np.asarray(par, dtype=np.float64)).sum(
        axis=-1
    )
    return harvest_index * epsilon * apar * days_per_step * 0.01


def _par_grid(season: str) -> np.ndarray:
    months = season_grid(season).astype("datetime64[M]").astype(int) % 12
    radiation: npt.NDArray[np.float64] = np.asarray(MONTHLY_GLOBAL_RADIATION)[months]
    return PAR_FRACTION * radiation


def lue_yield_series(x: SeasonFeatures, crops: npt.ArrayLike) -> np.ndarray:
    """:func:`lue_yield` for every row of ``x`` (needs an ``ndvi`` index), NaN where the crop
    has no LUE parameters (orchard, unknown) and 0 for fallow."""
    out = np.full(len(x), np.nan)
    if "ndvi" not in x.indices:
        return out
    ndvi = x.series[:, x.indices.index("ndvi")]
    row_crops = np.asarray(crops, dtype=object)
    for season in np.unique(x.season.astype(str)):
        par = _par_grid(season)
        for crop, (eps, hi) in LUE_PARAMS.items():
            m = (x.season == season) & (row_crops == crop)
            if m.any():
                out[m] = lue_yield(ndvi[m], par, epsilon=eps, harvest_index=hi)
    out[np.isin(row_crops, ZERO_CROPS)] = 0.0
    return out


def clamp_yields(crops: Iterable[Any], values: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Clamp to :data:`YIELD_RANGES`; returns (clamped values, clamped?, flag text)."""
    v = np.asarray(values, dtype=np.float64).copy()
    clamped = np.zeros(v.shape, dtype=bool)
    flag = np.full(v.shape, "", dtype=object)
    for i, c in enumerate(crops):
        rng = YIELD_RANGES.get(c)
        if rng is None or not np.isfinite(v[i]):
            continue
        lo, hi = rng
        if v[i] < lo:
            flag[i] = f"below plausible range {lo}-{hi} t/ha for {c} ({v[i]:.2f}); clamped"
            v[i], clamped[i] = lo, True
        elif v[i] > hi:
            flag[i] = f"above plausible range {lo}-{hi} t/ha for {c} ({v[i]:.2f}); clamped"
            v[i], clamped[i] = hi, True
    return v, clamped, flag


# -- learned model --------------------------------------------------------------------------


class YieldConfig:
    """Ridge settings: candidate penalties, CV folds, minimum rows per crop."""

    def __init__(
        self,
        alphas: Sequence[float] = (0.1, 1.0, 10.0, 100.0),
        folds: int = 5,
        min_rows: int = 8,
    ) -> None:
        self.alphas = tuple(float(a) for a in alphas)
        self.folds = int(folds)
        self.min_rows = int(min_rows)

    def to_dict(self) -> dict[str, Any]:
        return {"alphas": list(self.alphas), "folds": self.folds, "min_rows": self.min_rows}


class YieldModel:
    """Per-crop ridge: ``y = bias_c + Σ_f weight_cf · (x_f − mean_cf) / std_cf``."""

    def __init__(
        self,
        crops: Sequence[str],
        feature_names: Sequence[str],
        indices: Sequence[str],
        mean: torch.Tensor,
        std: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        alphas: Sequence[float],
        config: YieldConfig,
    ) -> None:
        self.crops, self.feature_names, self.indices = (
            list(crops),
            list(feature_names),
            list(indices),
        )
        self.mean, self.std, self.weight, self.bias = mean, std, weight, bias
        self.alphas = [float(a) for a in alphas]
        self.config = config

    def predict(self, x: SeasonFeatures, crops: npt.ArrayLike) -> np.ndarray:
        if list(x.summary_names) != self.feature_names:
            raise YieldModelError("features differ from those the yield model was trained on")
        f = torch.from_numpy(x.summary.astype(np.float64))
        out = np.full(len(x), np.nan)
        row_crops = np.asarray(crops, dtype=object)
        for k, c in enumerate(self.crops):
            m = row_crops == c
            if m.any():
                z = (f[m] - self.mean[k]) / self.std[k]
                out[m] = (z @ self.weight[k] + self.bias[k]).numpy()
        out[np.isin(row_crops, ZERO_CROPS)] = 0.0
        return out


def _ridge(z: torch.Tensor, y: torch.Tensor, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Closed-form ridge on standardised z (intercept unpenalised = mean of y)."""
    b = y.mean()
    a = z.T @ z + alpha * torch.eye(z.shape[1], dtype=z.dtype)
    return torch.linalg.solve(a, z.T @ (y - b)), b


def train_yield_model(
    x: SeasonFeatures,
    crops: npt.ArrayLike,
    yields: npt.ArrayLike,
    *,
    config: YieldConfig | None = None,
    seed: int = 0,
) -> tuple[YieldModel, dict[str, Any]]:
    """Fit one ridge per crop (fallow excluded) on rows with a finite yield.

    ``crops`` should be the crop harvested (crop-cut experiments record it), not the
    girdawari entry. The penalty is chosen per crop by K-fold CV (folds from ``seed``);
    a crop with fewer than ``config.min_rows`` rows gets its mean (zero weights).
    """
    config = config or YieldConfig()
    row_crops = np.asarray(crops, dtype=object)
    y = np.asarray(yields, dtype=np.float64)
    if len(row_crops) != len(x) or len(y) != len(x):
        raise YieldModelError(f"{len(x)} feature rows, {len(row_crops)} crops, {len(y)} yields")
    f = torch.from_numpy(x.summary.astype(np.float64))
    nf = f.shape[1]
    rng = np.random.default_rng(seed)
    means, stds, weights, biases, alphas, report = [], [], [], [], [], {}
    for c in CROPS:
        m = (row_crops == c) & np.isfinite(y)
        fc, yc = f[m], torch.from_numpy(y[m])
        if m.sum() < config.min_rows:
            means.append(torch.zeros(nf, dtype=torch.float64))
            stds.append(torch.ones(nf, dtype=torch.float64))
            weights.append(torch.zeros(nf, dtype=torch.float64))
            biases.append(yc.mean() if m.any() else torch.tensor(float("nan"), dtype=torch.float64))
            alphas.append(float("nan"))
            report[c] = {"rows": int(m.sum()), "note": "too few rows: mean only"}
            continue
        mu, sd = fc.mean(0), fc.std(0).clamp_min(1e-6)
        z = (fc - mu) / sd
        fold = rng.permutation(len(yc)) % config.folds
        best, best_err = config.alphas[0], float("inf")
        for a in config.alphas:
            err = 0.0
            for k in range(config.folds):
                tr, te = torch.from_numpy(fold != k), torch.from_numpy(fold == k)
                w, b = _ridge(z[tr], yc[tr], a)
                err += float(((z[te] @ w + b - yc[te]) ** 2).sum())
            if err < best_err - 1e-12:
                best, best_err = a, err
        w, b = _ridge(z, yc, best)
        means.append(mu)
        stds.append(sd)
        weights.append(w)
        biases.append(b)
        alphas.append(best)
        report[c] = {"rows": int(m.sum()), "alpha": best,
                     "cv_rmse": float(np.sqrt(best_err / len(yc)))}  # fmt: skip
    model = YieldModel(
        CROPS, x.summary_names, x.indices, torch.stack(means), torch.stack(stds),
        torch.stack(weights), torch.stack(biases), alphas, config,
    )  # fmt: skip
    return model, report


def predict_yield(
    model: YieldModel, x: SeasonFeatures, crops: npt.ArrayLike | pd.DataFrame
) -> pd.DataFrame:
    """Yield per parcel-season for given crops (e.g. :func:`models.crops.predict_crops`).

    Args:
        crops: crop per row (aligned with ``x``), or a DataFrame with a ``crop`` column
            aligned with ``x`` (None = refused by the crop model).

    Returns:
        DataFrame(khasra_id, season, crop, yield_t_ha, lue_t_ha, clamped, flag): the
        learned yield clamped to the crop's plausible range, the LUE baseline, whether it
        was clamped, and a flag text (out of range, no model, no crop).
    """
    c = (
        crops["crop"].to_numpy(dtype=object)
        if isinstance(crops, pd.DataFrame)
        else np.asarray(crops, dtype=object)
    )
    if len(c) != len(x):
        raise YieldModelError(f"{len(x)} feature rows but {len(c)} crops")
    raw = model.predict(x, c)
    val, clamped, flag = clamp_yields(c, raw)
    for i, ci in enumerate(c):
        if ci is None or (isinstance(ci, float) and np.isnan(ci)):
            flag[i] = "no crop (not enough clear imagery)"
        elif ci not in model.crops and ci not in ZERO_CROPS:
            flag[i] = f"no yield model for crop {ci!r}"
    out = x.frame()
    out["crop"] = c
    out["yield_t_ha"] = val
    out["lue_t_ha"] = lue_yield_series(x, c)
    out["clamped"] = clamped
    out["flag"] = flag
    return out


# -- baselines and evaluation --------------------------------------------------------------


def district_baselines(
    district_csv: str | Path | pd.DataFrame, crop: str, season: str
) -> dict[str, float]:
    """Previous-year district mean and linear-trend extrapolation for a crop and season.

    Uses rows of ``district_yields.csv`` (crop, season, year, mean_yield_t_ha) with the
    season's kind and years before the season's girdawari year; when the crop has no rows
    for that kind (sugarcane, orchard are published once a year), any season's rows.
    """
    d = district_csv if isinstance(district_csv, pd.DataFrame) else pd.read_csv(district_csv)
    kind, year = parse_season(season)
    rows = d[(d["crop"] == crop) & (d["year"] < year)]
    if (rows["season"] == kind).any():
        rows = rows[rows["season"] == kind]
    rows = rows.drop_duplicates("year").sort_values("year")
    if rows.empty:
        return {"previous_year": float("nan"), "trend": float("nan")}
    prev = float(rows["mean_yield_t_ha"].iloc[-1])
    if len(rows) >= 2:
        slope, icept = np.polyfit(rows["year"].to_numpy(float), rows["mean_yield_t_ha"], 1)
        trend = float(slope * year + icept)
    else:
        trend = prev
    return {"previous_year": prev, "trend": trend}


def _rmse_r2(y: np.ndarray, p: np.ndarray) -> tuple[float, float]:
    if y.size == 0:
        return float("nan"), float("nan")
    rmse = float(np.sqrt(np.mean((p - y) ** 2)))
    ss = float(((y - y.mean()) ** 2).sum())
    return rmse, (1.0 - float(((p - y) ** 2).sum()) / ss) if ss > 0 else float("nan")


def evaluate_yield(
    pred: pd.DataFrame,
    truth: pd.DataFrame,
    district_csv: str | Path | pd.DataFrame,
    train_truth: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """RMSE and R² per crop of the learned model, the LUE baseline, the previous-year
    district mean, the linear trend and (given ``train_truth``) the training mouzas' mean.

    ``pred`` rows are matched to ``truth`` (khasra_id, season, crop, yield_t_ha) and only
    kept where the predicted crop is the crop grown, so yield error is not mixed with
    crop-type error.
    """
    t = truth[["khasra_id", "season", "crop", "yield_t_ha"]].rename(
        columns={"crop": "true_crop", "yield_t_ha": "true_yield"}
    )
    m = pred.merge(t, on=["khasra_id", "season"], how="inner")
    m = m[m["crop"] == m["true_crop"]]
    res: dict[str, Any] = {}
    for crop in CROPS:
        g = m[m["crop"] == crop]
        if g.empty:
            continue
        y = g["true_yield"].to_numpy(float)
        row: dict[str, Any] = {"n": len(g)}
        row["model_rmse"], row["model_r2"] = _rmse_r2(y, g["yield_t_ha"].to_numpy(float))
        lue = g["lue_t_ha"].to_numpy(float)
        if np.isfinite(lue).all():
            row["lue_rmse"], row["lue_r2"] = _rmse_r2(y, lue)
            row["lue_bias"] = float(np.mean(lue - y))  # mean error: + = overestimate
            row["lue_corr"] = float(np.corrcoef(lue, y)[0, 1]) if y.std() > 0 else float("nan")
        prev = np.array([district_baselines(district_csv, crop, s)["previous_year"]
                         for s in g["season"]])  # fmt: skip
        trend = np.array([district_baselines(district_csv, crop, s)["trend"]
                          for s in g["season"]])  # fmt: skip
        row["district_prev_rmse"], row["district_prev_r2"] = _rmse_r2(y, prev)
        row["trend_rmse"], row["trend_r2"] = _rmse_r2(y, trend)
        if train_truth is not None:
            tr = train_truth[train_truth["crop"] == crop]
            means = tr.groupby("season")["yield_t_ha"].mean()
            p = np.array([means.get(s, tr["yield_t_ha"].mean()) for s in g["season"]])
            row["train_mean_rmse"], row["train_mean_r2"] = _rmse_r2(y, p)
        row["clamped"] = int(g["clamped"].sum())
        res[crop] = {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}
    return res


# -- registry round trip ---------------------------------------------------------------------


def yield_hyperparameters(model: YieldModel) -> dict[str, Any]:
    """JSON-able settings that, with :func:`yield_tensors`, rebuild the model."""
    return {
        "kind": "ridge_per_crop",
        "crops": model.crops,
        "feature_names": model.feature_names,
        "indices": model.indices,
        "alphas": [a if np.isfinite(a) else None for a in model.alphas],
        "config": model.config.to_dict(),
        "ranges": {k: list(v) for k, v in YIELD_RANGES.items()},
    }


def yield_tensors(model: YieldModel) -> dict[str, torch.Tensor]:
    return {"mean": model.mean, "std": model.std, "weight": model.weight, "bias": model.bias}


def build_yield_model(hp: Mapping[str, Any], tensors: Mapping[str, torch.Tensor]) -> YieldModel:
    """Rebuild a :class:`YieldModel` from its hyperparameters and tensors."""
    if hp.get("kind") != "ridge_per_crop":
        raise YieldModelError(f"cannot build yield model kind {hp.get('kind')!r}")
    k, f = len(hp["crops"]), len(hp["feature_names"])
    for name in ("mean", "std", "weight"):
        if name not in tensors or tuple(tensors[name].shape) != (k, f):
            raise YieldModelError(f"tensor {name!r} missing or not of shape ({k}, {f})")
    cfg = YieldConfig(**hp.get("config", {}))
    alphas = [float("nan") if a is None else a for a in hp.get("alphas", [None] * k)]
    return YieldModel(
        hp["crops"], hp["feature_names"], hp["indices"], tensors["mean"].double(),
        tensors["std"].double(), tensors["weight"].double(), tensors["bias"].double(), alphas, cfg,
    )  # fmt: skip
