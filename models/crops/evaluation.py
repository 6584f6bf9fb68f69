"""Held-out-mouza evaluation of the crop-type and yield models (reproduces the figures of
``docs/models_crops_yield.md``).

Train on some mouzas, test on another (spatial hold-out: no parcel of the test mouza is
seen in training). Crop models are trained on girdawari labels and scored against both the
girdawari and the crop actually grown; yield models are trained on the grown crop and the
recorded yield, and scored per crop against the district-average, linear-trend, training-
mean and LUE baselines. The chosen CNN is saved to a temporary registry root and reloaded,
to check the tensor round trip on the real model.

Usage::

    .venv/bin/python -m models.crops.evaluation \\
        --url postgresql+psycopg://postgres@127.0.0.1:54329/landgov \\
        --truth .landgov/synthetic/sentinel-2/ground_truth.csv \\
        --district .landgov/synthetic/sentinel-2/district_yields.csv --train 1 2 --test 3
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from models.crops.model import (
    CropConfig,
    build_crop_model,
    crop_tensors,
    evaluate_crops,
    hyperparameters,
    predict_crops,
    predict_proba,
    train_crop_model,
)
from models.features import DEFAULT_INDICES, load_training_table
from models.yields.model import evaluate_yield, predict_yield, train_yield_model

__all__ = ["cloud_stress", "run_evaluation"]


def run_evaluation(
    engine: Any,
    truth_csv: str | Path,
    district_csv: str | Path,
    *,
    train: Sequence[int | str],
    test: Sequence[int | str],
    indices: Sequence[str] = DEFAULT_INDICES,
    seed: int = 0,
    config: CropConfig | None = None,
    stress: Sequence[float] = (),
) -> dict[str, Any]:
    """Train on ``train`` mouzas, evaluate on ``test``; returns a JSON-able report.

    ``stress``: shares of the test mouza's acquisition dates to blank out in addition to
    the real clouds (see :func:`cloud_stress`); empty for none.
    """
    from models.registry import ModelCard, load_model, save_model

    t0 = time.perf_counter()
    xtr, ltr = load_training_table(engine, train, truth_csv, indices)
    xte, lte = load_training_table(engine, test, truth_csv, indices)
    out: dict[str, Any] = {
        "indices": list(indices),
        "train_rows": len(xtr),
        "test_rows": len(xte),
        "load_s": round(time.perf_counter() - t0, 1),
    }
    crops: dict[str, Any] = {}
    models = {}
    for kind in ("tcnn", "hgb"):
        cfg = config if (config and config.kind == kind) else CropConfig(kind=kind)
        t = time.perf_counter()
        model, rep = train_crop_model(xtr, ltr["girdawari_crop"], config=cfg, seed=seed)
        rep["train_s"] = round(time.perf_counter() - t, 1)
        pred = predict_crops(model, xte, lte)
        res = evaluate_crops(pred, lte)
        res["train_report"] = rep
        crops[kind] = res
        models[kind] = (model, pred)
    out["crops"] = crops
    cnn = models["tcnn"][0]
    with tempfile.TemporaryDirectory() as tmp:
        card = ModelCard(
            name="crop-type-tcnn",
            task="crop type per parcel-season",
            classes=cnn.classes,
            seed=seed,
            hyperparameters=hyperparameters(cnn),
        )
        save_model(card, crop_tensors(cnn), root=Path(tmp) / "models")
        tensors, card2 = load_model("crop-type-tcnn", home=Path(tmp))  # $home/models first
        rebuilt = build_crop_model(card2.hyperparameters, tensors)
        out["tcnn_round_trip_max_abs_diff"] = float(
            np.abs(predict_proba(rebuilt, xte) - predict_proba(cnn, xte)).max()
        )
    flags = models["tcnn"][1]
    f = flags[flags["disagrees"]]
    out["tcnn_flag_probability"] = {
        "median_model_probability": float(f["probability"].median()) if len(f) else None,
        "median_girdawari_probability": float(f["girdawari_probability"].median())
        if len(f)
        else None,
    }
    ymodel, yrep = train_yield_model(xtr, ltr["crop"], ltr["yield_t_ha"], seed=seed)
    ypred = predict_yield(ymodel, xte, lte["crop"].to_numpy(dtype=object))
    out["yield_train_report"] = yrep
    out["yield_given_true_crop"] = evaluate_yield(ypred, lte, district_csv, ltr)
    e2e = predict_yield(ymodel, xte, models["tcnn"][1])
    out["yield_end_to_end"] = evaluate_yield(e2e, lte, district_csv, ltr)
    out["yield_clamped_or_flagged"] = int((ypred["flag"] != "").sum())
    if stress:
        out["cloud_stress"] = cloud_stress(
            engine, truth_csv, {k: m for k, (m, _) in models.items()}, test, indices, stress
        )
    out["total_s"] = round(time.perf_counter() - t0, 1)
    return out


def cloud_stress(
    engine: Any,
    truth_csv: str | Path,
    models: dict[str, Any],
    test: Sequence[int | str],
    indices: Sequence[str],
    drops: Sequence[float],
    *,
    seed: int = 0,
    min_valid: int = 4,
) -> list[dict[str, Any]]:
    """Crop accuracy when a further share ``drop`` of each parcel's acquisitions is lost
    (the same dates for every index, as a cloud would), models trained on normal data.

    ``min_valid`` is lowered to 4 so that the models, not the refusal rule, are compared.
    """
    from imagery.series import mouza_khasras, read_series
    from landgov.storage.lookup import resolve_mouza
    from models.features import concat, features_from_datasets

    truth = pd.read_csv(truth_csv)
    seasons = sorted(truth["season"].unique())
    rows = []
    for drop in drops:
        parts = []
        for mouza in test:
            with engine.connect() as conn:
                parcels = mouza_khasras(conn, resolve_mouza(conn, mouza))
            ds = {i: read_series(engine, parcels, index=i) for i in indices}
            rng = np.random.default_rng(seed)
            kill = rng.random(ds[indices[0]]["mean"].shape) < drop
            ds = {i: v.assign(valid_fraction=v["valid_fraction"].where(~kill, 0.0))
                  for i, v in ds.items()}  # fmt: skip
            parts.append(features_from_datasets(ds, seasons))
        x = concat(parts)
        lab = x.frame().merge(truth, on=["khasra_id", "season"])
        for kind, model in models.items():
            r = evaluate_crops(predict_crops(model, x, lab, min_valid=min_valid), lab)
            rows.append({
                "drop": drop, "model": kind, "median_clear_obs": float(np.median(x.min_valid())),
                "refused": r["refused"], "oa_vs_truth": round(r["oa_vs_truth"], 4),
                "oa_vs_girdawari": round(r["oa_vs_girdawari"], 4),
                "flag_precision": round(float(r["flag_precision"]), 3),
                "flag_recall": round(float(r["flag_recall"]), 3),
            })  # fmt: skip
    return rows


def _json(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    raise TypeError(type(o))


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True, help="SQLAlchemy database URL (read only)")
    ap.add_argument("--truth", required=True)
    ap.add_argument("--district", required=True)
    ap.add_argument("--train", nargs="+", default=["1", "2"])
    ap.add_argument("--test", nargs="+", default=["3"])
    ap.add_argument("--indices", default=",".join(DEFAULT_INDICES))
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--stress", default="", help="e.g. 0.5,0.75,0.85: extra cloud test")
    a = ap.parse_args(argv)
    from sqlalchemy import create_engine

    torch.set_num_threads(a.threads)
    eng = create_engine(a.url)
    as_id = [int(m) if str(m).isdigit() else m for m in a.train]
    test = [int(m) if str(m).isdigit() else m for m in a.test]
    res = run_evaluation(eng, a.truth, a.district, train=as_id, test=test,
                         indices=tuple(a.indices.split(",")), seed=a.seed,
                         stress=[float(v) for v in a.stress.split(",") if v])  # fmt: skip
    print(json.dumps(res, indent=1, default=_json))


if __name__ == "__main__":
    main()
