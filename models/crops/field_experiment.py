"""Train and score crop models on labelled field files: spatial cross-validation, the
gradient-boosting baseline in the same run, and a registered model with its card.

Scores are **pooled out-of-fold**: every field is predicted once, by the model trained on
the other folds (with the buffer of :mod:`models.crops.split` left out), and OA, macro-F1,
per-class precision/recall/F1 and the confusion matrix are computed over all of them. That
uses every labelled field as held-out evidence, where one held-out fold would leave a class
such as rice (126 fields, most in one region) with a handful of test fields. The registered
weights are then fitted on every field with the same recipe; its card carries the
cross-validated scores of that recipe and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from models.crops.field_files import FieldData
from models.crops.scores import classification_scores
from models.crops.series_model import (
    SeriesConfig,
    group_labels,
    series_hyperparameters,
    series_tensors,
    train_gb_baseline,
    train_series_model,
)
from models.crops.split import spatial_folds

__all__ = ["cross_validate", "register_series_model", "score_model"]

Progress = Callable[[str, int, int], None]


def _noop(stage: str, done: int, total: int) -> None:
    return None


def cross_validate(
    data: FieldData,
    *,
    config: SeriesConfig | None = None,
    k: int = 5,
    block_m: float = 10_000.0,
    buffer_m: float = 1_000.0,
    seed: int = 0,
    min_support: int = 50,
    device: str | None = None,
    progress: Progress = _noop,
) -> dict[str, Any]:
    """Spatial k-fold scores of the series model and the gradient-boosting baseline.

    Returns:
        JSON-able report: ``split``, ``class_map``, ``refused`` (fields with too few
        observed periods, never scored), ``model`` and ``baseline`` (pooled scores from
        :func:`~models.crops.scores.classification_scores`), ``per_fold`` (OA and macro-F1
        per fold and model) and timings.
    """
    config = config or SeriesConfig()
    x, labels = data.series, np.asarray(data.labels, dtype=object)
    folds = spatial_folds(data.fields.geometry, k=k, block_m=block_m, buffer_m=buffer_m,
                          seed=seed)  # fmt: skip
    ok = x.enough(config.min_observed)
    truth, mapping = group_labels(labels[ok].tolist(), merge=config.merge,
                                  min_class_fields=config.min_class_fields)  # fmt: skip
    truth_all = np.array([mapping.get(str(v)) for v in labels], dtype=object)
    support = {c: int((truth_all[ok] == c).sum()) for c in set(truth)}
    pred = {"model": np.full(len(x), None, dtype=object),
            "baseline": np.full(len(x), None, dtype=object)}  # fmt: skip
    classes = sorted(support)
    proba = {name: np.zeros((len(x), len(classes))) for name in pred}
    per_fold: list[dict[str, Any]] = []
    timing = {"model_s": 0.0, "baseline_s": 0.0}
    for f in range(k):
        progress("spatial folds", f, k)
        tr, te = folds.train_rows(f) & ok, folds.test_rows(f) & ok
        if tr.sum() < 2 or te.sum() == 0:
            continue
        fixed = [mapping[str(v)] for v in labels[tr]]
        row: dict[str, Any] = {"fold": f, "train_fields": int(tr.sum()),
                               "test_fields": int(te.sum())}  # fmt: skip
        for name, fit in (("model", train_series_model), ("baseline", train_gb_baseline)):
            t0 = time.perf_counter()
            kw: dict[str, Any] = {"device": device} if name == "model" else {}
            m, _ = fit(x.subset(tr), fixed, config=_fixed(config), seed=seed, **kw)
            crop, _, _ = m.predict(x.subset(te))
            p = m.proba(x.subset(te))
            timing[f"{name}_s"] += time.perf_counter() - t0
            pred[name][te] = crop
            for j, c in enumerate(m.classes):  # a fold may lack a class: place by name
                proba[name][np.flatnonzero(te), classes.index(c)] = p[:, j]
            s = classification_scores(truth_all[te].tolist(), crop.tolist(),
                                      labels=sorted(support), support=support,
                                      min_support=min_support)  # fmt: skip
            row[name] = {"oa": s["oa"], "macro_f1": s["macro_f1"]}
        per_fold.append(row)
    progress("spatial folds", k, k)
    done = ok & np.array([p is not None for p in pred["model"]])
    scores = {
        name: classification_scores(
            truth_all[done].tolist(),
            p[done].tolist(),
            labels=sorted(support),
            support=support,
            min_support=min_support,
        )
        for name, p in pred.items()
    }
    seasons = {
        season: {name: _season_scores(classes, proba[name][done], truth_all[done], season,
                                      min_support)
                 for name in proba}
        for season in ("rabi", "kharif")
    }  # fmt: skip
    return {
        "seasons": seasons,
        "split": folds.describe(),
        "class_map": mapping,
        "fields": len(x),
        "refused": int((~ok).sum()),
        "scored": int(done.sum()),
        "model": scores["model"],
        "baseline": scores["baseline"],
        "per_fold": per_fold,
        "grid": x.grid.as_dict(),
        "indices": list(x.indices),
        "config": {k_: v for k_, v in vars(config).items()},
        "seed": seed,
        "train_s": {k_: round(v, 1) for k_, v in timing.items()},
    }


def _season_scores(
    classes: list[str], proba: np.ndarray, truth: np.ndarray, season: str, min_support: int
) -> dict[str, Any]:
    """Scores of the held-out predictions read as one girdawari season's crop
    (:mod:`models.crops.seasons`): what ``landgov models predict`` stores for a mouza."""
    from models.crops.seasons import season_of_year_label, season_probabilities

    crops, ps = season_probabilities(classes, proba, season)
    pred = np.array(crops, dtype=object)[ps.argmax(axis=1)] if len(ps) else []
    true = [season_of_year_label(str(c), season) for c in truth]
    support = {c: true.count(c) for c in sorted(set(true) | set(crops))}
    return classification_scores(true, list(pred), labels=sorted(support), support=support,
                                 min_support=min_support)  # fmt: skip


def _fixed(config: SeriesConfig) -> SeriesConfig:
    """The config with grouping disabled: labels passed in are already grouped."""
    from dataclasses import replace

    return replace(config, merge={}, min_class_fields=1)


def score_model(model: Any, data: FieldData, *, min_support: int = 50) -> dict[str, Any]:
    """Scores of a trained (or registered) model on labelled fields, its own classes."""
    x = data.series.select(model.indices)
    if x.grid != model.grid:
        raise ValueError("series grid differs from the model's")
    ok = x.enough(model.config.min_observed)
    truth = np.array([model.class_map.get(str(v), "other") for v in data.labels], dtype=object)
    crop, _, _ = model.predict(x)
    support = {c: int((truth[ok] == c).sum()) for c in model.classes}
    s = classification_scores(truth[ok].tolist(), crop[ok].tolist(),
                              labels=sorted(set(model.classes) | set(truth[ok])),
                              support=support, min_support=min_support)  # fmt: skip
    s["refused"] = int((~ok).sum())
    return s


def register_series_model(
    data: FieldData,
    report: dict[str, Any],
    *,
    name: str,
    config: SeriesConfig,
    seed: int,
    notes: Sequence[str] = (),
    root: Path | None = None,
    device: str | None = None,
) -> tuple[Path, Any, dict[str, Any]]:
    """Fit the recipe on every field and register it with the cross-validated scores."""
    import shapely

    from models.registry import ModelCard, data_fingerprint, save_model

    model, rep = train_series_model(data.series, data.labels, config=config, seed=seed,
                                    device=device)  # fmt: skip
    ll = data.fields.geometry.to_crs(4326)
    bounds = [round(float(v), 4) for v in shapely.total_bounds(ll.to_numpy())]
    years = sorted({int(y) for y in data.fields["year"]}) if "year" in data.fields else []
    metrics: dict[str, Any] = {
        "oa": report["model"]["oa"],
        "macro_f1": report["model"]["macro_f1"],
        "baseline_oa": report["baseline"]["oa"],
        "baseline_macro_f1": report["baseline"]["macro_f1"],
    }
    for c, v in report["model"]["per_class"].items():
        for key in ("precision", "recall", "f1", "support"):
            metrics[f"{c}.{key}"] = v[key]
    card = ModelCard(
        name=name,
        task="crop type per field-year from an index series",
        classes=list(model.classes),
        seed=seed,
        hyperparameters=series_hyperparameters(model),
        training_data={
            "files": [str(p) for p in data.sources],
            "fingerprint": data_fingerprint(data.sources),
            "fields": len(data.series),
            "fields_used": rep["fields"],
            "class_counts": rep["class_counts"],
            "class_map": rep["class_map"],
            "rare_classes": (
                f"merged {config.merge}; classes under {config.min_class_fields} fields →"
                f" 'other'; loss weight count^-{config.class_weight_power}"
            ),
            "split": report["split"],
            "scores_are": "pooled out-of-fold over spatial blocks (each field predicted by a"
            " model that never saw its block or any field within the buffer); the registered"
            " weights were then fitted on every field with the same recipe",
            "notes": list(notes),
        },
        metrics=metrics,
        coverage={
            "bbox_lonlat": bounds,
            "years": years,
            "grid": model.grid.as_dict(),
            "indices": list(model.indices),
            "series": "field index series",
        },
        description=(
            f"Temporal CNN ({config.members} member(s)) over {'/'.join(model.indices)} on"
            f" {model.grid.n_steps} periods of {model.grid.step_days} days from"
            f" {model.grid.start}; baseline: gradient boosting on the same grid."
        ),
    )
    path = save_model(card, series_tensors(model), root=root)
    return path, card, {"cross_validation": report, "final_fit": rep}
