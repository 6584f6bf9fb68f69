"""Training jobs: train on the demo district's synthetic imagery, score on a held-out
mouza, and register the model with its card (``landgov models train``).

Held out means another mouza, never other pixels of the same scenes: the encroachment
U-Net trains on orthophotos around mouza 1's abadi and is scored on mouza 3's; the crop
and yield models train on mouzas 1 and 2 and are scored on mouza 3. ``tiny`` presets make
CI runs take seconds; ``full`` is what ships in ``models/weights``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from landgov.errors import LandgovError

PRESETS = ("tiny", "full")


def _orthophotos(engine: Engine, home: Path, mouza: int | str, size_m: float, seed: int) -> Path:
    """Synthetic orthophotos around ``mouza`` (written once per mouza, size and seed)."""
    from landgov.demo.imagery_ortho import synthesize_orthophotos

    folder = home / "synthetic" / f"orthophotos-mouza{mouza}-{int(size_m)}m-seed{seed}"
    if not (folder / "structures.csv").is_file():
        synthesize_orthophotos(engine, folder, seed=seed, mouza=mouza, size_m=size_m)
    return folder


def train_encroachment(
    engine: Engine,
    *,
    home: Path,
    preset: str = "full",
    seed: int = 42,
    train_mouza: int | str = 1,
    test_mouza: int | str = 3,
    root: Path | None = None,
    progress: Any = None,
) -> tuple[Path, Any]:
    """Train the structure U-Net, score it on the held-out mouza, register it."""
    from models.encroachment import SegConfig, evaluate, hyperparameters, train
    from models.registry import ModelCard, save_model

    if preset not in PRESETS:
        raise LandgovError(f"preset {preset!r}: choose one of {', '.join(PRESETS)}")
    _quiet_lightning()
    config = SegConfig.tiny() if preset == "tiny" else SegConfig.full()
    size = 200.0 if preset == "tiny" else 1200.0
    tr = _orthophotos(engine, home, train_mouza, size, seed)
    te = _orthophotos(engine, home, test_mouza, size, seed)
    images, masks = sorted(tr.glob("ortho_*.tif")), sorted(tr.glob("buildings_*.tif"))
    result = train(images, masks, config=config, seed=seed, progress=progress)
    metrics = evaluate(
        result.model, sorted(te.glob("ortho_*.tif")), sorted(te.glob("buildings_*.tif")),
        new_structures=te / "new_structures.tif", structures_csv=te / "structures.csv",
        threshold=config.threshold, tile=config.tile, overlap=config.overlap,
    )  # fmt: skip
    card = ModelCard(
        name="encroachment-unet",
        task="semantic-segmentation",
        classes=["background", "structure"],
        seed=seed,
        hyperparameters=hyperparameters(config),
        training_data={
            "fingerprint": result.data_fingerprint,
            "source": f"synthetic 0.5 m RGBN orthophotos around mouza {train_mouza}, both dates",
            "held_out": f"synthetic orthophotos around mouza {test_mouza}",
            "preset": preset,
        },
        metrics=_scalars(metrics) | {"train_seconds": round(result.seconds, 1)},
        description="Structure segmentation U-Net; change = after AND NOT dilated before.",
    )
    return save_model(card, result.model.state_dict(), root=root), card


def train_crops_and_yield(
    engine: Engine,
    *,
    home: Path,
    preset: str = "full",
    seed: int = 42,
    train_mouzas: tuple[int | str, ...] = (1, 2),
    test_mouza: int | str = 3,
    root: Path | None = None,
) -> list[tuple[Path, Any]]:
    """Train the crop-type CNN and the per-crop yield ridge; score; register both."""
    from models.crops import (
        CropConfig,
        crop_tensors,
        evaluate_crops,
        hyperparameters,
        predict_crops,
        train_crop_model,
    )
    from models.features import DEFAULT_INDICES, load_training_table
    from models.registry import ModelCard, data_fingerprint, save_model
    from models.yields import (
        evaluate_yield,
        predict_yield,
        train_yield_model,
        yield_hyperparameters,
        yield_tensors,
    )

    if preset not in PRESETS:
        raise LandgovError(f"preset {preset!r}: choose one of {', '.join(PRESETS)}")
    folder = home / "synthetic" / "sentinel-2"
    truth, district = folder / "ground_truth.csv", folder / "district_yields.csv"
    if not truth.is_file():
        raise LandgovError(
            f"no {truth}: run 'landgov imagery synthesize' and 'landgov imagery batch"
            + "".join(f" --index {ix}" for ix in DEFAULT_INDICES)
            + "' first"
        )
    xtr, ltr = load_training_table(engine, list(train_mouzas), truth, DEFAULT_INDICES)
    xte, lte = load_training_table(engine, [test_mouza], truth, DEFAULT_INDICES)
    config = CropConfig.tiny() if preset == "tiny" else CropConfig()
    cmodel, crep = train_crop_model(xtr, ltr["girdawari_crop"], config=config, seed=seed)
    cpred = predict_crops(cmodel, xte, lte)
    cm = evaluate_crops(cpred, lte)
    ymodel, yrep = train_yield_model(xtr, ltr["crop"], ltr["yield_t_ha"], seed=seed)
    ym = evaluate_yield(predict_yield(ymodel, xte, cpred), lte, district, ltr)
    fingerprint = data_fingerprint([truth, district])
    data = {"truth_fingerprint": fingerprint, "train_mouzas": list(train_mouzas),
            "held_out_mouza": test_mouza, "train_rows": len(xtr), "test_rows": len(xte),
            "labels": "girdawari entries (3 % misreported)", "preset": preset}  # fmt: skip
    ccard = ModelCard(
        name="crop-type-tcnn", task="crop type per parcel-season", classes=list(cmodel.classes),
        seed=seed, hyperparameters=hyperparameters(cmodel), training_data=data,
        metrics=_scalars(cm), description="Temporal CNN over 5-day NDVI/WDRVI/NDMI series.",
        coverage=_imagery_coverage(engine, [*train_mouzas, test_mouza], DEFAULT_INDICES),
    )  # fmt: skip
    ycard = ModelCard(
        name="yield-ridge", task="yield t/ha per parcel-season", classes=list(ymodel.crops),
        seed=seed, hyperparameters=yield_hyperparameters(ymodel),
        training_data=data | {"labels": "crop-cut yields (synthetic ground truth)"},
        metrics=_scalars(ym), description="Per-crop ridge on season summary features.",
    )  # fmt: skip
    del crep, yrep
    return [
        (save_model(ccard, crop_tensors(cmodel), root=root), ccard),
        (save_model(ycard, yield_tensors(ymodel), root=root), ycard),
    ]


def _imagery_coverage(
    engine: Engine, mouzas: list[int | str], indices: tuple[str, ...]
) -> dict[str, Any]:
    """The season model's ``coverage``: the box of the Sentinel-2 scenes over the mouzas it
    learnt and was scored on, rounded out by 0.001° (about 100 m), so it serves only the
    ground whose imagery it knows (:mod:`landgov.jobs.model_choice`)."""
    import math

    from sqlalchemy import text

    from landgov.storage.lookup import resolve_mouza

    with engine.connect() as conn:
        ids = [resolve_mouza(conn, m) for m in mouzas]
        box = conn.execute(text(
            "SELECT ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b) FROM (SELECT"
            " ST_Extent(s.footprint) AS b FROM imagery_scene s WHERE s.sensor = 'sentinel-2'"
            " AND EXISTS (SELECT 1 FROM khasra k WHERE k.mouza_id = ANY(:m)"
            " AND ST_Intersects(k.geom, s.footprint))) e"
        ), {"m": ids}).one()  # fmt: skip
    if box[0] is None:
        raise LandgovError("no Sentinel-2 scene covers the training mouzas")
    w, so, e, n = (float(v) for v in box)
    out = [math.floor(w * 1000 - 1) / 1000, math.floor(so * 1000 - 1) / 1000,
           math.ceil(e * 1000 + 1) / 1000, math.ceil(n * 1000 + 1) / 1000]  # fmt: skip
    return {
        "bbox_lonlat": out,
        "series": "synthetic Sentinel-2 L2A scenes of the training mouzas"
        " (landgov.demo.imagery_s2),"
        " rabi and kharif seasons on a 5-day grid",
        "indices": list(indices),
    }


def _quiet_lightning() -> None:
    """Lightning's banners (GPU available, tips) are noise on a command line."""
    import logging

    for name in ("lightning", "lightning.pytorch", "lightning.fabric"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _scalars(metrics: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Flattens nested metric dicts to ``a.b`` keys, keeping numbers and short lists."""
    out: dict[str, Any] = {}
    for k, v in metrics.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out |= _scalars(v, key + ".")
        elif isinstance(v, int | float | str | bool) or v is None:
            out[key] = v
    return out


def evaluate_registered(
    engine: Engine, *, home: Path, name: str, version: str | None = None,
    test_mouza: int | str = 3,
) -> dict[str, Any]:  # fmt: skip
    """Scores a registered model on the held-out mouza again (same data as at training)."""
    from models.registry import load_model

    tensors, card = load_model(name, version, home=home)
    preset = str(card.training_data.get("preset", "full"))
    seed = card.seed
    if card.task == "semantic-segmentation":
        from models.encroachment import build_model, evaluate

        model = build_model(card.hyperparameters)
        model.load_state_dict(tensors)
        te = _orthophotos(engine, home, test_mouza, 200.0 if preset == "tiny" else 1200.0, seed)
        hp = card.hyperparameters
        metrics = evaluate(
            model.eval(), sorted(te.glob("ortho_*.tif")), sorted(te.glob("buildings_*.tif")),
            new_structures=te / "new_structures.tif", structures_csv=te / "structures.csv",
            threshold=float(hp.get("threshold", 0.5)), tile=int(hp.get("tile", 256)),
            overlap=int(hp.get("overlap", 64)), bands=hp.get("bands"),
            resolution_m=hp.get("resolution_m"),
        )  # fmt: skip
        return {"model": f"{card.name}:{card.version}", **_scalars(metrics)}
    from models.crops import build_crop_model, evaluate_crops, predict_crops
    from models.features import load_training_table
    from models.yields import build_yield_model, evaluate_yield, predict_yield

    folder = home / "synthetic" / "sentinel-2"
    truth, district = folder / "ground_truth.csv", folder / "district_yields.csv"
    if card.task.startswith("crop type"):
        cmodel = build_crop_model(card.hyperparameters, tensors)
        xte, lte = load_training_table(engine, [test_mouza], truth, cmodel.indices)
        return {"model": f"{card.name}:{card.version}",
                **_scalars(evaluate_crops(predict_crops(cmodel, xte, lte), lte))}  # fmt: skip
    if card.task.startswith("yield"):
        ymodel = build_yield_model(card.hyperparameters, tensors)
        xte, lte = load_training_table(engine, [test_mouza], truth, ymodel.indices)
        pred = predict_yield(ymodel, xte, lte["crop"].to_numpy(dtype=object))
        return {"model": f"{card.name}:{card.version}", "given": "the crop grown",
                **_scalars(evaluate_yield(pred, lte, district))}  # fmt: skip
    raise LandgovError(f"no evaluation for task {card.task!r}")
