"""Structure models on the user's own orthophotos and footprints (``landgov models train
encroachment --images … --labels …`` and ``landgov models evaluate NAME --images …``).

Wiring only: reading, splitting, training and scoring are :mod:`models.encroachment`'s
(:mod:`~models.encroachment.labelled`, :mod:`~models.encroachment.split`,
:mod:`~models.encroachment.fit`, :mod:`~models.encroachment.baseline`); this module runs them in
order, compares with the baseline and earlier models on the same held-out blocks, and
registers the result with its card.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from landgov.errors import LandgovError
from landgov.jobs.training import _quiet_lightning, _scalars

REAL_PRESETS = ("tiny", "full")
PREVIOUS_MODEL = "encroachment-unet:v1"
"""The synthetic-only RGBN model the real-data model is compared with, in the same run."""
NIR_STAND_IN = {"nir": "green"}
"""How the RGBN model is run on RGB imagery for that comparison (said on the card)."""


def _notify(progress: Any, stage: str, done: int, total: int, text: str = "") -> None:
    if progress is not None:
        progress(stage, done, total, text)


def train_encroachment_on_labels(
    images: list[Path],
    labels: list[Path],
    *,
    preset: str = "full",
    seed: int = 42,
    name: str = "encroachment-unet",
    block_m: float = 100.0,
    holdout: float = 0.25,
    synthetic: list[tuple[Path, Path]] | None = None,
    synthetic_test: Path | None = None,
    compare: list[str] | None = None,
    data_notes: list[str] | None = None,
    device: str | None = None,
    root: Path | None = None,
    home: Path | None = None,
    progress: Any = None,
) -> tuple[Path, Any, dict[str, Any]]:
    """Train the structure network on labelled orthophotos, score it, register it.

    The images are split by blocks of ``block_m`` metres of ground; whole blocks holding at
    least ``holdout`` of the pixels are kept out of training and scored. In the same run,
    on the same held-out pixels: the per-pixel LightGBM baseline (fitted on the same
    training side) and each registered model named in ``compare`` (default: the previous
    synthetic-only model, its NIR band stood in for by green on RGB imagery).

    ``synthetic`` adds (orthophoto, mask) pairs to the training side only;
    ``synthetic_test`` is a folder of synthetic orthophotos of a held-out mouza
    (:func:`landgov.demo.imagery_ortho.synthesize_orthophotos`) scored apart from the real
    imagery, with the two-date change metrics (recall of planted new structures).
    ``progress(stage, done, total, text)`` is called as the stages advance.

    Returns:
        (model folder, card, report) — the report holds every score, per image too.
    """
    import json

    import numpy as np

    from models.encroachment import labelled as lab
    from models.encroachment.baseline import fit_pixel_baseline
    from models.encroachment.fit import FitConfig, fit
    from models.encroachment.split import spatial_split, split_summary
    from models.registry import ModelCard, data_fingerprint, save_model

    if preset not in REAL_PRESETS:
        raise LandgovError(f"preset {preset!r}: choose one of {', '.join(REAL_PRESETS)}")
    _quiet_lightning()
    config = FitConfig.tiny() if preset == "tiny" else FitConfig.full()
    bands, res = list(config.bands), config.resolution_m
    labelled = lab.load_labelled(
        images,
        labels,
        bands=bands,
        resolution_m=res,
        border_px=config.border_px,
        progress=lambda d, t, s: _notify(progress, "reading images", d, t, s),
    )
    train_w, test_w = spatial_split(
        labelled_images(labelled), block_m=block_m, holdout=holdout, seed=seed
    )
    if not test_w or not train_w:
        raise LandgovError(
            f"the images cover too little ground to hold out {holdout:.0%} by {block_m:g} m"
            " blocks and still train: give more images or a smaller --block-m"
        )
    areas = lab.training_areas(labelled, train_w)
    syn_labelled = [
        lab.labelled_from_mask(i, m, bands=bands, resolution_m=res, border_px=config.border_px)
        for i, m in (synthetic or [])
    ]
    areas += lab.training_areas(syn_labelled, lab.whole_windows(syn_labelled), "synthetic")
    result = fit(
        areas,
        config=config,
        seed=seed,
        device=device,
        progress=lambda s, n, loss: _notify(progress, f"training (loss {loss:.3f})", s, n),
    )
    # shipped weights are stored as float16 (half the size in git); score what is stored
    state = {
        k: v.half() if v.is_floating_point() else v for k, v in result.model.state_dict().items()
    }
    result.model.load_state_dict(state)
    hp = config.hyperparameters() | {"weights_dtype": "float16"}

    def scored(label: str, predictor: Any) -> dict[str, Any]:
        return lab.score(
            predictor,
            labelled,
            test_w,
            threshold=config.threshold,
            border_threshold=config.border_threshold,
            min_seed_px=config.min_seed_px,
            progress=lambda d, t, s: _notify(progress, f"scoring {label}", d, t, s),
        ).as_dict()

    report: dict[str, Any] = {
        "model": scored("model", lab.network_predictor(result.model, hp, device=device))
    }
    _notify(progress, "fitting the LightGBM baseline", 0, 1)
    baseline = fit_pixel_baseline(
        [(a.image, a.mask.astype(np.uint8), a.valid) for a in areas if a.group == "real"],
        seed=seed,
        max_pixels=20_000 if preset == "tiny" else 400_000,
        n_trees=20 if preset == "tiny" else 200,
    )
    _notify(progress, "fitting the LightGBM baseline", 1, 1)
    report["baseline_lightgbm"] = scored("baseline", lab.baseline_predictor(baseline))
    for ref in compare if compare is not None else [PREVIOUS_MODEL]:
        model, card = _load_network(ref, home)
        fill = NIR_STAND_IN if "nir" in card.hyperparameters.get("bands", ["nir"]) else None
        report[f"{card.name}:{card.version}"] = scored(
            ref, lab.registered_predictor(model, card.hyperparameters, fill=fill, device=device)
        )
    if synthetic_test is not None:
        _notify(progress, "scoring on synthetic imagery", 0, 1)
        report["held_out_synthetic"] = _synthetic_scores(result.model, hp, synthetic_test, device)
        _notify(progress, "scoring on synthetic imagery", 1, 1)
    split = split_summary(train_w, test_w, labelled_images(labelled)) | {
        "block_m": block_m,
        "holdout": holdout,
        "seed": seed,
        "rule": "blocks of ground on a block_m grid of each image's working CRS; whole blocks"
        " held out (seeded) until ≥ holdout of the pixels; never pixels of one block on"
        " both sides",
    }
    files = [Path(p) for p in images] + [Path(p) for p in labels]
    card = ModelCard(
        name=name,
        task="semantic-segmentation",
        classes=["background", "structure", "contact border"],
        seed=seed,
        hyperparameters=hp,
        training_data={
            "fingerprint": data_fingerprint(files),
            "images": len(images),
            "labels": [Path(p).name for p in labels],
            "image_folders": sorted({str(Path(p).parent) for p in images}),
            "synthetic_pairs": [f"{i.parent.name}/{i.name}" for i, _ in (synthetic or [])],
            "notes": list(data_notes or []),
            "split": split,
            "preset": preset,
            "device": result.device,
        },
        metrics={
            "held_out_real": _scalars(report["model"]["overall"]),
            "baseline_lightgbm": _scalars(report["baseline_lightgbm"]["overall"]),
            **{
                f"previous {k}": _scalars(v["overall"])
                for k, v in report.items()
                if k not in ("model", "baseline_lightgbm", "held_out_synthetic")
            },
            **(
                {"held_out_synthetic": report["held_out_synthetic"]}
                if "held_out_synthetic" in report
                else {}
            ),
            "train_seconds": round(result.seconds, 1),
        },
        description=(
            "Structure + contact-border segmentation on RGB orthophotos at"
            f" {res:g} m; buildings separated by seeded growth; change = after AND NOT dilated"
            " before."
        ),
    )
    folder = save_model(card, state, root=root)
    (folder / "evaluation.json").write_text(
        json.dumps(report, indent=1, sort_keys=True), encoding="utf-8"
    )
    return folder, card, report


def _synthetic_scores(model: Any, hp: dict[str, Any], folder: Path, device: str | None) -> Any:
    """Pixel and change scores on a synthetic mouza's orthophotos (both dates)."""
    from models.encroachment.evaluate import evaluate

    metrics = evaluate(
        model,
        sorted(folder.glob("ortho_*.tif")),
        sorted(folder.glob("buildings_*.tif")),
        new_structures=folder / "new_structures.tif",
        structures_csv=folder / "structures.csv",
        threshold=float(hp["threshold"]),
        tile=int(hp["tile"]),
        overlap=int(hp["overlap"]),
        device=device,
        bands=list(hp["bands"]),
        resolution_m=float(hp["resolution_m"]),
    )
    return _scalars({k: v for k, v in metrics.items() if k != "per_image"})


def labelled_images(labelled: list[Any]) -> list[Any]:
    """The working images of labelled images (what the spatial split cuts)."""
    return [li.image for li in labelled]


def _load_network(ref: str, home: Path | None) -> tuple[Any, Any]:
    from models.encroachment.fit import build_network
    from models.registry import load_model

    model_name, _, version = ref.partition(":")
    tensors, card = load_model(model_name, version or None, home=home)
    if card.task != "semantic-segmentation":
        raise LandgovError(f"model {ref} is a {card.task} model, not structure segmentation")
    net = build_network(card.hyperparameters)
    net.load_state_dict(tensors)
    return net.eval(), card


def evaluate_on_labels(
    ref: str,
    images: list[Path],
    labels: list[Path],
    *,
    home: Path | None = None,
    held_out: bool = False,
    fill: dict[str, str] | None = None,
    device: str | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """Scores a registered structure model on labelled orthophotos, per image and overall.

    ``held_out``: score only the blocks the model's card held out (same images, same split
    parameters ⇒ same blocks); otherwise every pixel of every image. ``fill`` stands in for
    bands the images lack (e.g. ``{"nir": "green"}``).
    """
    from models.encroachment import labelled as lab
    from models.encroachment.split import spatial_split

    model, card = _load_network(ref, home)
    hp = card.hyperparameters
    bands = [(fill or {}).get(b, b) for b in hp.get("bands", ["red", "green", "blue", "nir"])]
    res = float(hp.get("resolution_m", 0.5))
    labelled = lab.load_labelled(
        images,
        labels,
        bands=bands,
        resolution_m=res,
        border_px=int(hp.get("border_px", 2)),
        progress=lambda d, t, s: _notify(progress, "reading images", d, t, s),
    )
    if held_out:
        split = card.training_data.get("split") or {}
        if not split:
            raise LandgovError(f"model {ref} records no split on its card: drop --held-out")
        _, windows = spatial_split(
            labelled_images(labelled),
            block_m=float(split["block_m"]),
            holdout=float(split["holdout"]),
            seed=int(split["seed"]),
        )
    else:
        windows = lab.whole_windows(labelled)
    scores = lab.score(
        lab.network_predictor(model, hp, device=device),
        labelled,
        windows,
        threshold=float(hp.get("threshold", 0.5)),
        border_threshold=float(hp.get("border_threshold", 0.5)),
        min_seed_px=int(hp.get("min_seed_px", 4)),
        progress=lambda d, t, s: _notify(progress, "scoring", d, t, s),
    )
    return {
        "model": f"{card.name}:{card.version}",
        "resolution_m": res,
        "bands": bands,
        "windows": "held-out blocks" if held_out else "whole images",
        **scores.as_dict(),
    }
