"""The full training run and its held-out evaluation, as one reproducible command.

Trains :meth:`SegConfig.full` on mouza 1's 1.2 km orthophotos (both dates) and evaluates on
orthophotos of mouza 3, which the model never saw (another abadi, canal and road), then
writes ``<out>.safetensors`` (the state_dict) and ``<out>.json`` (hyperparameters, metrics,
loss history, data fingerprint, timings) for registration::

    .venv/bin/python -m models.encroachment.experiment \\
        --train .landgov/encroachment_data/mouza1 --test .landgov/encroachment_data/mouza3 \\
        --out .landgov/encroachment_full

The folders come from :func:`landgov.demo.imagery_ortho.synthesize_orthophotos`
(``mouza=1`` and ``mouza=3``, default size and seed) on a database holding the demo district.
``--eval-only`` re-evaluates saved weights.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import torch

from models.encroachment.evaluate import evaluate
from models.encroachment.train import SegConfig, build_model, hyperparameters, train


def _files(folder: Path) -> tuple[list[Path], list[Path]]:
    return sorted(folder.glob("ortho_*.tif")), sorted(folder.glob("buildings_*.tif"))


def run_evaluation(model: torch.nn.Module, test_dir: Path, config: SegConfig) -> dict[str, Any]:
    """Held-out metrics on the orthophotos in ``test_dir`` (see :func:`evaluate`)."""
    images, masks = _files(test_dir)
    return evaluate(
        model,
        images,
        masks,
        new_structures=test_dir / "new_structures.tif",
        structures_csv=test_dir / "structures.csv",
        threshold=config.threshold,
        tile=config.tile,
        overlap=config.overlap,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    ap = argparse.ArgumentParser(description="Train and evaluate the encroachment U-Net.")
    ap.add_argument("--train", type=Path, required=True, help="folder of training orthophotos")
    ap.add_argument("--test", type=Path, required=True, help="folder of held-out orthophotos")
    ap.add_argument("--out", type=Path, required=True, help="output path without suffix")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--eval-only", action="store_true")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    from safetensors.torch import load_file, save_file

    weights, meta_path = args.out.with_suffix(".safetensors"), args.out.with_suffix(".json")
    config = SegConfig.full()
    meta: dict[str, Any]
    if args.eval_only:
        meta = json.loads(meta_path.read_text())
        model = build_model(meta["hyperparameters"])
        model.load_state_dict(load_file(str(weights)))
        model.eval()
    else:
        images, masks = _files(args.train)
        result = train(
            images,
            masks,
            config=config,
            seed=args.seed,
            progress=lambda e, n, loss: print(f"epoch {e}/{n} loss {loss:.4f}", flush=True),
        )
        model = result.model
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(weights))
        meta = {
            "hyperparameters": hyperparameters(config),
            "seed": args.seed,
            "history": result.history,
            "train_seconds": result.seconds,
            "data_fingerprint": result.data_fingerprint,
            "training_data": [str(p) for p in images],
        }
    t = time.perf_counter()
    meta["metrics"] = run_evaluation(model, args.test, config)
    meta["eval_seconds"] = time.perf_counter() - t
    meta["test_data"] = str(args.test)
    meta_path.write_text(json.dumps(meta, indent=1, default=str))
    m = meta["metrics"]
    print(json.dumps({"pixel": m["pixel"], "change": m.get("change")}, indent=1, default=str))
    return meta


if __name__ == "__main__":
    main()
