"""Mass appraisal: a LightGBM model per land class, trained on validated sales.

How a set of models is made (:func:`train`), for a valuation date ``as_of``:

1. The sales fit to learn from (:func:`~landgov.valuation.sales.validated_sales`:
   arm's length, one khewat, one dominant land class, declared at least the DC value).
2. Each sale's price per acre transferred, on a log scale, adjusted to ``as_of`` by the
   market's level that year (least squares of log price per acre on the sale
   year with a level per land class: :func:`time_index`, IAAO's "time adjustment",
   estimated from the sales themselves rather than from the DC table, which lags the
   market).
3. Per land class, sales beyond 3 × IQR of the adjusted log price per acre are set aside
   as outliers; a class with fewer than :data:`MIN_SALES` left gets no model, and its
   parcels keep their statutory value in a roll (the roll says so).
4. Features per sale: its parcels' features (:mod:`~landgov.valuation.features`),
   weighted by the area of each; mouza of the sale; crop of its largest parcel.
5. LightGBM (squared error on the log, small trees, road and canal distances constrained
   so value never rises away from them); the number of trees by 5-fold cross-validation,
   then out-of-fold estimates for every sale, so the stored ratio study (median ratio,
   COD, PRD, PRB, MKI with IAAO gates) measures the model on sales it did not see.
6. The set (one row per class, booster as LightGBM text) is stored in one transaction
   with a fingerprint of its inputs: training again on the same sales finds it.

A parcel's model value = exp(prediction) × its record area in acres, rounded to Rs 100.
Its explanation (:func:`explain`) is LightGBM's exact additive contributions (TreeSHAP,
``pred_contrib``) on the log scale: the base value times one factor per feature.

Everything is deterministic (fixed seeds, ``deterministic=True``, one thread), so the
same sales give the same boosters byte for byte.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Final, cast

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.domain.units import UnitSystem, sarsai_sqft
from landgov.errors import LandgovError
from landgov.valuation.features import (
    CATEGORICAL,
    CROP_CODES,
    FEATURES,
    MONOTONE,
    ParcelFeatures,
    parcel_features,
)
from landgov.valuation.sales import SalesScreen, ValidSale, validated_sales

if TYPE_CHECKING:
    import lightgbm as lgb

    from landgov.security import Actor

APPRAISAL_VERSION: Final = 1
"""Bumped when training changes, so a stored set is not mistaken for a new one."""
MIN_SALES: Final = 30
TOO_FEW_SALES: Final = "{n} validated sale(s), fewer than {minimum}"
"""Why a land class has no model (its ``no_model`` entry): kept as a format, so a reader
in another language can recognise it (the dashboard's Valuation page)."""
FOLDS: Final = 5
SEED: Final = 20261115
PARAMS: Final[Mapping[str, Any]] = {
    "objective": "regression",
    "learning_rate": 0.05,
    "num_leaves": 8,
    "min_data_in_leaf": 10,
    "feature_fraction": 1.0,
    "bagging_fraction": 1.0,
    "lambda_l2": 1.0,
    "cat_smooth": 10.0,
    "min_data_per_group": 10,
    "max_bin": 63,
    "deterministic": True,
    "force_row_wise": True,
    "num_threads": 1,
    "seed": SEED,
    "verbosity": -1,
}
MAX_ROUNDS: Final = 600
SQFT_PER_ACRE: Final = 43_560


class AppraisalError(LandgovError):
    """No model can be trained or used (e.g. too few validated sales)."""


@dataclass(frozen=True)
class ClassModel:
    """One land class's stored model."""

    id: int
    land_class: str
    booster_text: str
    trend_per_year: float
    n_sales: int
    metrics: dict[str, Any]

    def booster(self) -> lgb.Booster:
        return _booster(self.booster_text)


@dataclass
class AppraisalSet:
    """The models of one training run (one per land class with enough sales)."""

    fingerprint: str
    as_of: date
    models: dict[str, ClassModel]
    trend_per_year: float
    time_index: dict[int, float] = field(default_factory=dict)  # year -> log level vs as_of
    excluded: dict[str, int] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # class -> why no model
    reused: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "as_of": self.as_of.isoformat(),
            "trend_per_year": round(self.trend_per_year, 5),
            "time_index": {str(y): round(v, 5) for y, v in sorted(self.time_index.items())},
            "models": {
                c: {"model_id": m.id, "n_sales": m.n_sales, **m.metrics}
                for c, m in sorted(self.models.items())
            },
            "excluded_sales": dict(sorted(self.excluded.items())),
            "no_model": dict(sorted(self.skipped.items())),
            "reused": self.reused,
        }


@functools.lru_cache(maxsize=32)
def _booster(model_text: str) -> lgb.Booster:
    import lightgbm as lgb

    return lgb.Booster(model_str=model_text)


# ------------------------------------------------------------------ pure pieces


def acres(area_sarsai: float, unit_system: str) -> float:
    """Acres in ``area_sarsai`` sarsai of a unit system (standard 30.25 ft², urban 25 ft²)."""
    return float(area_sarsai * sarsai_sqft(UnitSystem(unit_system)) / SQFT_PER_ACRE)


def time_index(
    log_price: np.ndarray, years: Sequence[int], groups: Sequence[str], as_of_year: int
) -> tuple[dict[int, float], float]:
    """The market's log price level by calendar year relative to ``as_of_year``, and
    its average yearly change.

    Least squares of ``log_price ~ level[group] + index[year]`` (a hedonic time index
    with a level per land class; IAAO's time adjustment estimated from the sales
    themselves). A year without sales takes the straight line between its neighbours;
    years after the last one with sales (up to ``as_of_year``) continue at the average
    change, the slope of the index over the years. A sale of year ``y`` is brought to
    the valuation date by subtracting ``index[y]``. Why yearly levels and not one
    trend: prices move in steps (DC revisions, harvests, credit), and a straight line
    lets those steps add up to errors of 10 % and more over a decade.
    """
    y = np.asarray(log_price, dtype=float)
    yrs = np.asarray(years, dtype=int)
    span = sorted(set(yrs.tolist()))
    if y.size < 3 or len(span) < 2:
        return ({int(v): 0.0 for v in span} | {as_of_year: 0.0}), 0.0
    names = sorted(set(groups))
    x = np.zeros((y.size, len(names) + len(span) - 1))
    gi = {g: i for i, g in enumerate(names)}
    yi = {v: len(names) + i - 1 for i, v in enumerate(span)}  # first year is the base
    for row, (g, v) in enumerate(zip(groups, yrs.tolist(), strict=True)):
        x[row, gi[g]] = 1.0
        if v != span[0]:
            x[row, yi[v]] = 1.0
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    level = {span[0]: 0.0} | {v: float(coef[yi[v]]) for v in span[1:]}
    slope = float(np.polyfit(np.array(span, dtype=float), [level[v] for v in span], 1)[0])
    full: dict[int, float] = {}
    for v in range(span[0], max(span[-1], as_of_year) + 1):
        if v in level:
            full[v] = level[v]
        elif v > span[-1]:
            full[v] = level[span[-1]] + slope * (v - span[-1])
        else:
            lo = max(u for u in span if u < v)
            hi = min(u for u in span if u > v)
            full[v] = level[lo] + (level[hi] - level[lo]) * (v - lo) / (hi - lo)
    ref = full[as_of_year]
    return {v: lv - ref for v, lv in full.items()}, slope


def iqr_keep(values: np.ndarray, k: float = 3.0) -> np.ndarray:
    """Mask of values within ``k`` × IQR of the quartiles (IAAO's outlier fence)."""
    q1, q3 = np.percentile(values, [25, 75])
    spread = q3 - q1
    keep: np.ndarray = (values >= q1 - k * spread) & (values <= q3 + k * spread)
    return keep


def sale_rows(sales: Sequence[ValidSale], parcels: ParcelFeatures) -> np.ndarray:
    """Feature matrix of sales: each sale's parcels weighted by the area it held of each
    (NaNs ignored), its mouza, and the crop of its largest parcel."""
    row_of = {int(k): i for i, k in enumerate(parcels.ids)}
    out = np.full((len(sales), len(FEATURES)), np.nan)
    cats = [FEATURES.index(c) for c in CATEGORICAL]
    crop = FEATURES.index("crop")
    for i, s in enumerate(sales):
        idx = [row_of[k] for k, _ in s.parcels]
        w = np.array([a for _, a in s.parcels], dtype=float)
        block = parcels.matrix[idx]
        for j in range(len(FEATURES)):
            if j in cats:
                continue
            col = block[:, j]
            ok = ~np.isnan(col)
            if ok.any():
                out[i, j] = float(np.average(col[ok], weights=w[ok]))
        out[i, FEATURES.index("mouza")] = s.mouza_id
        out[i, crop] = block[int(np.argmax(w)), crop]
    return out


def _dataset(x: np.ndarray, y: np.ndarray | None = None) -> lgb.Dataset:
    import lightgbm as lgb

    return lgb.Dataset(
        x,
        label=y,
        feature_name=list(FEATURES),
        categorical_feature=list(CATEGORICAL),
        free_raw_data=False,
        params={"max_bin": PARAMS["max_bin"], "verbosity": -1},
    )


def _params() -> dict[str, Any]:
    params = dict(PARAMS)
    params["monotone_constraints"] = [MONOTONE.get(f, 0) for f in FEATURES]
    return params


def fit_class(x: np.ndarray, y: np.ndarray, *, folds: int = FOLDS) -> tuple[str, np.ndarray, int]:
    """(booster text, out-of-fold predictions, trees) for one land class.

    The number of trees is chosen by ``folds``-fold cross-validation (early stopping on
    the mean held-out error); out-of-fold predictions then come from ``folds`` models
    with that many trees, each scoring the fold it never saw. Folds are a fixed
    permutation (seeded), so results repeat."""
    import lightgbm as lgb

    n = y.size
    folds = max(2, min(folds, n // 5))
    order = np.random.default_rng(SEED).permutation(n)
    fold_of = np.empty(n, dtype=np.int64)
    fold_of[order] = np.arange(n) % folds
    splits = [(np.flatnonzero(fold_of != f), np.flatnonzero(fold_of == f)) for f in range(folds)]
    params = _params()
    cv = lgb.cv(
        params,
        _dataset(x, y),
        num_boost_round=MAX_ROUNDS,
        folds=splits,
        callbacks=[lgb.early_stopping(30, verbose=False)],
    )
    # without return_cvbooster every value of lgb.cv's result is a metric's per-round list
    rounds = max(1, len(cast(list[float], next(iter(cv.values())))))
    oof = np.empty(n)
    for train_idx, test_idx in splits:
        b = lgb.train(params, _dataset(x[train_idx], y[train_idx]), num_boost_round=rounds)
        oof[test_idx] = b.predict(x[test_idx])
    final = lgb.train(params, _dataset(x, y), num_boost_round=rounds)
    return final.model_to_string(), oof, rounds


def _fingerprint(as_of: date, years: int | None, sales: Sequence[ValidSale], x: np.ndarray) -> str:
    h = hashlib.sha256(
        json.dumps(
            {"v": APPRAISAL_VERSION, "as_of": as_of.isoformat(), "years": years,
             "params": dict(PARAMS), "min_sales": MIN_SALES, "folds": FOLDS},
            sort_keys=True,
        ).encode()
    )  # fmt: skip
    for s in sales:
        h.update(f"{s.mutation_id}|{s.on}|{s.price_rs}|{s.land_class}|{s.parcels}\n".encode())
    h.update(np.round(np.nan_to_num(x, nan=-1e9), 6).tobytes())
    return h.hexdigest()


# ------------------------------------------------------------------ storage


def _load_set(conn: Connection, fp: str) -> AppraisalSet | None:
    rows = (
        conn.execute(
            text(
                "SELECT id, as_of, land_class, booster, trend_per_year, n_sales, metrics"
                " FROM appraisal_model WHERE set_fingerprint = :f ORDER BY land_class"
            ),
            {"f": fp},
        )
        .mappings()
        .all()
    )
    if not rows:
        return None
    models = {
        r["land_class"]: ClassModel(
            int(r["id"]),
            r["land_class"],
            r["booster"],
            float(r["trend_per_year"]),
            int(r["n_sales"]),
            dict(r["metrics"]),
        )
        for r in rows
    }
    first = rows[0]
    meta = dict(first["metrics"]).get("set", {})
    return AppraisalSet(
        fp, first["as_of"], models, float(first["trend_per_year"]),
        {int(y): float(v) for y, v in meta.get("time_index", {}).items()},
        dict(meta.get("excluded", {})), dict(meta.get("skipped", {})), reused=True,
    )  # fmt: skip


def latest_set(conn: Connection, on: date | None = None) -> AppraisalSet | None:
    """The set trained last (for a valuation date on or before ``on``), or None."""
    fp = conn.execute(
        text(
            "SELECT set_fingerprint FROM appraisal_model"
            " WHERE CAST(:d AS date) IS NULL OR as_of <= :d"
            " ORDER BY created_at DESC, id DESC LIMIT 1"
        ),
        {"d": on},
    ).scalar()
    return None if fp is None else _load_set(conn, str(fp))


def model_set(conn: Connection, model_id: int) -> AppraisalSet:
    """The set a stored model belongs to."""
    fp = conn.execute(
        text("SELECT set_fingerprint FROM appraisal_model WHERE id = :i"), {"i": model_id}
    ).scalar()
    found = None if fp is None else _load_set(conn, str(fp))
    if found is None:
        raise AppraisalError(f"no appraisal model {model_id}")
    return found


# ------------------------------------------------------------------ training


def _study(estimates: np.ndarray, prices: np.ndarray, land_class: str) -> dict[str, Any]:
    from landgov.domain.ratio_study import RatioStudyError, property_class_of_land, study

    try:
        result = study(
            estimates, prices, property_class=property_class_of_land(land_class),
            n_boot=200, seed=0,
        )  # fmt: skip
    except RatioStudyError as exc:
        return {"error": str(exc)}
    return result.as_json()


def train(
    engine: Engine,
    as_of: date,
    *,
    years: int | None = None,
    min_sales: int = MIN_SALES,
    actor: Actor,
) -> AppraisalSet:
    """Trains (or finds) the set of models for ``as_of`` (module docstring).

    ``actor`` must hold ``valuation.run`` (an analyst or the valuation service); the
    audit row of a new set names it.

    Raises:
        AccessDenied: the actor may not train valuation models.
        AppraisalError: not one land class has ``min_sales`` validated sales.
    """
    from landgov.security import authorize, bind
    from landgov.storage import audit

    with engine.connect() as conn:
        authorize(conn, actor, "valuation.run")  # before the work, not only at the end
        screen: SalesScreen = validated_sales(conn, as_of, years=years)
        if not screen.valid:
            raise AppraisalError(
                f"no validated sales on or before {as_of}: nothing to learn from "
                f"(set aside: {dict(screen.excluded) or 'none'})"
            )
        khasra_ids = sorted({k for s in screen.valid for k, _ in s.parcels})
        feats = parcel_features(conn, as_of, ids=khasra_ids, live_only=False)
    sales = screen.valid
    x_all = sale_rows(sales, feats)
    transferred = np.array([acres(s.area_sarsai, s.unit_system) for s in sales])
    log_ppa = np.log(np.array([s.price_rs for s in sales], dtype=float) / transferred)
    classes = [s.land_class for s in sales]
    index, trend = time_index(log_ppa, [s.on.year for s in sales], classes, as_of.year)
    adjusted = log_ppa - np.array([index[s.on.year] for s in sales])
    fp = _fingerprint(as_of, years, sales, x_all)
    with engine.connect() as conn:
        found = _load_set(conn, fp)
    if found is not None:
        return found

    excluded = dict(screen.excluded)
    skipped: dict[str, str] = {}
    fitted: dict[str, tuple[str, np.ndarray, np.ndarray, int, dict[str, Any]]] = {}
    for cls in sorted(set(classes)):
        idx = np.flatnonzero(np.array(classes) == cls)
        keep = iqr_keep(adjusted[idx]) if idx.size >= 4 else np.ones(idx.size, dtype=bool)
        excluded["outlier"] = excluded.get("outlier", 0) + int((~keep).sum())
        idx = idx[keep]
        if idx.size < min_sales:
            skipped[cls] = TOO_FEW_SALES.format(n=idx.size, minimum=min_sales)
            continue
        booster, oof, rounds = fit_class(x_all[idx], adjusted[idx])
        est = np.exp(oof) * transferred[idx]
        price = np.exp(adjusted[idx]) * transferred[idx]
        stat = np.array([s.statutory_rs or 0 for s in (sales[i] for i in idx)], dtype=float)
        metrics = {
            "trees": rounds,
            "ratio_study": _study(est, price, cls),
            # the DC value against the raw declared price, same sales: what the model beats
            "statutory_ratio_study": _study(
                stat[stat > 0], np.exp(log_ppa[idx])[stat > 0] * transferred[idx][stat > 0], cls
            ) if (stat > 0).sum() >= 3 else {"error": "no statutory values"},
            "features": list(FEATURES),
            "categorical": list(CATEGORICAL),
            "crop_codes": list(CROP_CODES),
            "params": dict(PARAMS),
        }  # fmt: skip
        fitted[cls] = (booster, idx, est, rounds, metrics)
    if not fitted:
        raise AppraisalError(
            f"no land class has {min_sales} validated sales on or before {as_of}: "
            + "; ".join(f"{c}: {why}" for c, why in sorted(skipped.items()))
        )
    set_meta = {"excluded": excluded, "skipped": skipped, "version": APPRAISAL_VERSION,
                "time_index": {str(y): v for y, v in sorted(index.items())}}  # fmt: skip
    models: dict[str, ClassModel] = {}
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "valuation.run")
        again = _load_set(conn, fp)  # a concurrent run may have stored it meanwhile
        if again is not None:
            return again
        for cls, (booster, idx, est, _rounds, metrics) in fitted.items():
            metrics = {**metrics, "set": set_meta}
            mid = int(
                conn.execute(
                    text(
                        "INSERT INTO appraisal_model (set_fingerprint, as_of, land_class,"
                        " booster, features, trend_per_year, n_sales, metrics) VALUES"
                        " (:f, :d, :c, :b, CAST(:feat AS jsonb), :g, :n, CAST(:m AS jsonb))"
                        " RETURNING id"
                    ),
                    {"f": fp, "d": as_of, "c": cls, "b": booster,
                     "feat": json.dumps({"names": list(FEATURES),
                                         "categorical": list(CATEGORICAL),
                                         "crop_codes": list(CROP_CODES)}),
                     "g": trend, "n": int(idx.size), "m": json.dumps(metrics)},
                ).scalar_one()
            )  # fmt: skip
            conn.execute(
                text(
                    "INSERT INTO appraisal_sale (model_id, mutation_id, adjusted_price_rs,"
                    " estimate_rs) VALUES (:m, :s, :p, :e)"
                ),
                [
                    {"m": mid, "s": sales[i].mutation_id,
                     "p": max(1, round(math.exp(adjusted[i]) * transferred[i])),
                     "e": max(1, round(float(e)))}
                    for i, e in zip(idx, est, strict=True)
                ],
            )  # fmt: skip
            models[cls] = ClassModel(mid, cls, booster, trend, int(idx.size), metrics)
        audit.append(conn, actor=actor.label, action="train appraisal models",
                     entity="appraisal_model", entity_id=fp[:16],
                     details={"as_of": as_of.isoformat(),
                              "classes": {c: m.id for c, m in models.items()},
                              "excluded": excluded, "skipped": skipped})  # fmt: skip
    return AppraisalSet(fp, as_of, models, trend, index, excluded, skipped)


# ------------------------------------------------------------------ scoring and explaining


def predict_values(
    models: Mapping[str, Any], feats: ParcelFeatures
) -> tuple[np.ndarray, np.ndarray]:
    """(value in Rs or -1, model id or 0) per parcel; ``models`` maps a land class to
    (model id, booster). Value = exp(prediction) × record acres, rounded to Rs 100."""
    values = np.full(len(feats), -1, dtype=np.int64)
    ids = np.zeros(len(feats), dtype=np.int64)
    classes = np.array(feats.land_class, dtype=object)
    for cls, (model_id, booster) in models.items():
        idx = np.flatnonzero(classes == cls)
        if idx.size == 0:
            continue
        pred = booster.predict(feats.matrix[idx])
        area = np.array([acres(float(feats.record_area_sarsai[i]), feats.unit_system[i])
                         for i in idx])  # fmt: skip
        values[idx] = np.round(np.exp(pred) * area / 100.0).astype(np.int64) * 100
        ids[idx] = model_id
    return values, ids


@dataclass(frozen=True)
class Contribution:
    """One feature's part in a parcel's model value."""

    feature: str
    value: float | str | None
    log_contribution: float

    @property
    def factor(self) -> float:
        """Multiplies the value per acre by this much (exp of the log contribution)."""
        return math.exp(self.log_contribution)


@dataclass(frozen=True)
class Explanation:
    """Why a parcel is worth what the model says: base × Π factors = value per acre."""

    khasra_id: int
    land_class: str
    model_id: int
    as_of: date
    acres: float
    base_rs_per_acre: float
    contributions: list[Contribution]

    @property
    def rs_per_acre(self) -> float:
        return self.base_rs_per_acre * math.prod(c.factor for c in self.contributions)

    @property
    def value_rs(self) -> int:
        return round(self.rs_per_acre * self.acres / 100.0) * 100

    def as_json(self) -> dict[str, Any]:
        return {
            "khasra_id": self.khasra_id, "land_class": self.land_class,
            "model_id": self.model_id, "as_of": self.as_of.isoformat(),
            "acres": round(self.acres, 4), "base_rs_per_acre": round(self.base_rs_per_acre),
            "rs_per_acre": round(self.rs_per_acre), "value_rs": self.value_rs,
            "contributions": [
                {"feature": c.feature, "value": c.value,
                 "log_contribution": round(c.log_contribution, 5),
                 "factor": round(c.factor, 4)}
                for c in sorted(self.contributions, key=lambda c: -abs(c.log_contribution))
            ],
        }  # fmt: skip


def _shown(feature: str, raw: float) -> float | str | None:
    if math.isnan(raw):
        return None
    if feature == "crop":
        return CROP_CODES[int(raw)] if 0 <= int(raw) < len(CROP_CODES) else str(int(raw))
    if feature == "mouza":
        return int(raw)
    if feature == "log_acres":
        return round(math.exp(raw), 4)  # shown as acres
    return round(raw, 4)


def explain(conn: Connection, khasra_id: int, model: ClassModel, as_of: date) -> Explanation:
    """The additive (TreeSHAP) contributions of each feature to one parcel's log value
    per acre under ``model`` on ``as_of``; exact: base × Π factors is the model's value."""
    feats = parcel_features(conn, as_of, ids=[khasra_id], live_only=False)
    if len(feats) == 0:
        raise AppraisalError(f"no khasra {khasra_id}")
    if feats.land_class[0] != model.land_class:
        raise AppraisalError(
            f"khasra {khasra_id} is {feats.land_class[0]}; model {model.id} values "
            f"{model.land_class} land"
        )
    contrib = model.booster().predict(feats.matrix, pred_contrib=True)[0]
    names = [("acres" if f == "log_acres" else f) for f in FEATURES]
    return Explanation(
        khasra_id=khasra_id,
        land_class=model.land_class,
        model_id=model.id,
        as_of=as_of,
        acres=acres(float(feats.record_area_sarsai[0]), feats.unit_system[0]),
        base_rs_per_acre=math.exp(float(contrib[-1])),
        contributions=[
            Contribution(name, _shown(f, float(feats.matrix[0, j])), float(contrib[j]))
            for j, (f, name) in enumerate(zip(FEATURES, names, strict=True))
        ],
    )


def per_acre_values(
    aset: AppraisalSet, conn: Connection, khasra_ids: Sequence[int]
) -> dict[int, float | None]:
    """Model value per acre on the set's date of each khasra (None: its land class has
    no model), read and scored in one go."""
    feats = parcel_features(conn, aset.as_of, ids=khasra_ids, live_only=False)
    out: dict[int, float | None] = {int(k): None for k in feats.ids}
    classes = np.array(feats.land_class, dtype=object)
    for cls, m in aset.models.items():
        idx = np.flatnonzero(classes == cls)
        if idx.size:
            for i, p in zip(idx, m.booster().predict(feats.matrix[idx]), strict=True):
                out[int(feats.ids[i])] = math.exp(float(p))
    return out


def sale_model_value(
    aset: AppraisalSet,
    per_acre: Mapping[int, float | None],
    parcels: Sequence[tuple[int, float, str]],
    fraction: Fraction | float,
    on: date,
) -> int | None:
    """The model value on ``on`` of ``fraction`` of a khewat holding ``parcels`` (khasra,
    sarsai held, unit system): each parcel at its model value per acre on the set's date
    (:func:`per_acre_values`), brought back to ``on`` by the market's level that year
    (its time index; before the first year with sales, the average trend). None if a
    parcel has no model value."""
    total = 0.0
    for k, held, system in parcels:
        rate = per_acre.get(k)
        if rate is None:
            return None
        total += rate * acres(held, system)
    level = aset.time_index.get(on.year)
    if level is None:
        first = min(aset.time_index, default=aset.as_of.year)
        level = aset.time_index.get(first, 0.0) + aset.trend_per_year * (on.year - first)
    return round(total * float(fraction) * math.exp(level))


def explain_roll_value(
    conn: Connection, khasra_id: int, roll_id: int | None = None
) -> tuple[Explanation, int, int]:
    """The explanation of a parcel's value in a roll (default: the current one), with the
    roll id and the stored value.

    Raises:
        AppraisalError: no roll, the parcel is not in it, or it was valued at its
            statutory rate (no model for its land class, or a statutory roll).
    """
    row = (
        conn.execute(
            text(
                "SELECT v.roll_id, v.value_rs, v.model_id, r.as_of, r.method, k.land_class"
                " FROM valuation_roll_value v JOIN valuation_roll r ON r.id = v.roll_id"
                " JOIN khasra k ON k.id = v.khasra_id"
                " WHERE v.khasra_id = :k AND v.roll_id = coalesce(CAST(:r AS bigint),"
                " (SELECT id FROM valuation_roll ORDER BY created_at DESC, id DESC LIMIT 1))"
            ),
            {"k": khasra_id, "r": roll_id},
        )
        .mappings()
        .first()
    )
    if row is None:
        raise AppraisalError(
            f"khasra {khasra_id} has no value in "
            + (f"roll {roll_id}" if roll_id else "the current roll (run `landgov valuation run`)")
        )
    if row["model_id"] is None:
        why = ("the roll is statutory" if row["method"] == "statutory"
               else f"no model for {row['land_class']} land (too few sales)")  # fmt: skip
        raise AppraisalError(
            f"khasra {khasra_id} is valued at its DC rate in roll {row['roll_id']} ({why}): "
            "the value is area × rate, nothing to explain"
        )
    aset = model_set(conn, int(row["model_id"]))
    model = next(m for m in aset.models.values() if m.id == int(row["model_id"]))
    return explain(conn, khasra_id, model, row["as_of"]), int(row["roll_id"]), int(row["value_rs"])
