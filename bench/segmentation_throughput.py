"""Benchmark: structure-model scene inference throughput vs. the arithmetic limit.

Times :func:`models.encroachment.predict_scene` (tiled, Hann-blended, strip-wise) with a
registered structure model (default: the newest ``encroachment-unet``, the shipped one)
over a seeded random scene with the model's bands, written to a temporary GeoTIFF, and
sets it beside the limit the hardware's matmul speed would allow:

* model FLOPs per tile, counted with ``torch.utils.flop_counter.FlopCounterMode`` on one
  forward pass (a multiply-add = 2 FLOPs), times the tiles needed per scene pixel (overlap
  makes each pixel be computed ~(tile/stride)² times);
* measured float32 FLOP/s of a large matmul (2·n³ FLOPs) in the same process, the best
  the BLAS/cuBLAS reaches on this machine.

``limit MP/s = matmul FLOP/s ÷ FLOPs per scene pixel``; efficiency = measured ÷ limit.
Convolutions with few channels (16–32 at full resolution) are memory-bound, so expect a
fraction of the limit on CPU. Each device present is measured (CPU, and CUDA when there).

    .venv/bin/python bench/segmentation_throughput.py [--model encroachment-unet:v1]
        [--size 1536] [--threads 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np


def matmul_flops(device: str, n: int = 2048, reps: int = 5) -> float:
    """Best-of-``reps`` float32 FLOP/s of an n×n matmul."""
    import torch

    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    best = float("inf")
    for _ in range(reps + 1):  # the first is a warm-up
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        (a @ b).sum().item()
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best


def model_and_hp(ref: str):
    """A registered structure model (``NAME[:VERSION]``) in eval mode, its card's settings."""
    import torch

    from models.encroachment import build_model
    from models.registry import load_model

    name, _, version = ref.partition(":")
    tensors, card = load_model(name, version or None)
    model = build_model(card.hyperparameters)
    model.load_state_dict(tensors)
    torch.manual_seed(0)
    return model.eval(), card.hyperparameters, f"{card.name}:{card.version}"


def tile_flops(model, tile: int) -> int:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from models.encroachment.infer import model_in_channels

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, model_in_channels(model), tile, tile))
    return int(counter.get_total_flops())


def write_scene(path: Path, size: int, bands: int) -> None:
    import rasterio
    from rasterio.transform import from_origin

    rng = np.random.default_rng(42)
    data = rng.integers(1, 255, (bands, size, size), dtype=np.uint8)
    with rasterio.open(
        path,
        "w",
        driver="GTiff",
        width=size,
        height=size,
        count=bands,
        dtype="uint8",
        crs="EPSG:32643",
        transform=from_origin(400_000, 3_500_000, 0.5, 0.5),
    ) as dst:
        dst.write(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=1536, help="scene side in pixels")
    ap.add_argument("--tile", type=int, default=256)
    ap.add_argument("--overlap", type=int, default=64)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2, help="CPU threads (torch)")
    ap.add_argument(
        "--model",
        default="encroachment-unet",
        help="registered structure model NAME[:VERSION] (default: the newest)",
    )
    args = ap.parse_args()

    import torch

    from models.encroachment import predict_scene
    from models.encroachment.infer import tile_origins

    torch.set_num_threads(args.threads)
    model, hp, ref = model_and_hp(args.model)
    bands = int(hp.get("in_channels", 4))
    res = float(hp.get("resolution_m", 0.5))
    params = sum(p.numel() for p in model.parameters())
    arch = hp.get("arch", "unet")
    arch += f" {hp.get('encoder')}" if arch == "smp-unet" else f" base={hp.get('base')}"
    per_tile = tile_flops(model, args.tile)
    stride = args.tile - args.overlap
    n_tiles = len(tile_origins(args.size, args.tile, stride)) ** 2
    per_px = per_tile * n_tiles / args.size**2  # FLOPs per *scene* pixel, overlap included

    print(f"model: {ref} ({arch}), {params / 1e6:.2f} M params, {bands} bands, trained weights")
    print(
        f"tile {args.tile} px, overlap {args.overlap}: {per_tile / args.tile**2 / 1e3:.1f} "
        f"kFLOP/px per tile, {n_tiles} tiles → {per_px / 1e3:.1f} kFLOP per scene px"
    )
    print(
        f"scene {args.size}×{args.size} px = {args.size**2 / 1e6:.2f} MP "
        f"({args.size * res / 1000:.2f} km side at {res:g} m); CPU threads {args.threads}\n"
    )

    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        scene = Path(tmp) / "scene.tif"
        write_scene(scene, args.size, bands)
        for dev in devices:
            flops = matmul_flops(dev)
            # warm-up on a small crop (allocator, cuDNN autotune), then time the full scene
            small = Path(tmp) / "small.tif"
            write_scene(small, args.tile, bands)
            opts = {"tile": args.tile, "overlap": args.overlap, "batch_size": args.batch_size,
                    "device": dev}  # fmt: skip
            predict_scene(model, small, Path(tmp) / "w.tif", **opts)
            t = time.perf_counter()
            predict_scene(model, scene, Path(tmp) / "p.tif", **opts)
            if dev == "cuda":
                torch.cuda.synchronize()
            secs = time.perf_counter() - t
            mps = args.size**2 / secs / 1e6
            limit = flops / per_px / 1e6
            rows.append((dev, secs, mps, flops / 1e9, limit, per_px * mps * 1e6 / 1e9))

    print(
        f"{'device':<7}{'seconds':>9}{'MP/s':>9}{'model GFLOP/s':>15}{'matmul GFLOP/s':>16}"
        f"{'limit MP/s':>12}{'of limit':>10}"
    )
    for dev, secs, mps, gflops, limit, achieved in rows:
        print(
            f"{dev:<7}{secs:>9.2f}{mps:>9.3f}{achieved:>15.1f}{gflops:>16.1f}"
            f"{limit:>12.3f}{mps / limit:>10.1%}"
        )
    one = rows[0]
    print(f"\n1.2 km orthophoto (5.76 MP) on {one[0]}: ~{5.76 / one[2]:.0f} s")


if __name__ == "__main__":
    main()
