"""Benchmark: per-parcel crop type + yield prediction for 100,000 parcel-seasons.

Simulates index series (NDVI, WDRVI, NDMI; 37 dates of a rabi and a kharif season, 30 %
cloudy dates) with :func:`landgov.demo.parcel_series.simulate_series`, trains the temporal CNN, the
gradient-boosting peer and the per-crop ridge on a few thousand other simulated parcels
(training not timed), then times, in one process and on the same input:

* feature extraction (mask, gap-fill, resample, Savitzky–Golay, summaries),
* crop type with the temporal CNN and with the gradient-boosting peer,
* yield (ridge + LUE baseline, clamping/flags),

and prints parcels/s per phase, end to end per crop model, and the peak RSS after each phase
(``resource.getrusage``; monotone, so each value is the peak so far).

    .venv/bin/python bench/crop_yield.py [--parcels 100000] [--threads 1]
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

RABI, KHARIF = "rabi 2025-26", "kharif 2025"
MIX = {
    RABI: {"wheat": 0.6, "fodder": 0.15, "fallow": 0.15, "sugarcane": 0.06, "orchard": 0.04},
    KHARIF: {"rice": 0.4, "cotton": 0.1, "fodder": 0.2, "fallow": 0.2, "sugarcane": 0.06,
             "orchard": 0.04},
}  # fmt: skip


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def simulate(n: int, seed: int):
    from landgov.demo.parcel_series import simulate_series
    from models.features import concat, features_from_arrays

    rng = np.random.default_rng(seed)
    raw, crops = [], []
    for k, season in enumerate((RABI, KHARIF)):
        names, p = zip(*MIX[season].items(), strict=True)
        c = rng.choice(names, size=n // 2 if k == 0 else n - n // 2, p=p)
        d, v, y = simulate_series(list(c), season, seed=seed + k)
        raw.append((season, d, v, y))
        crops.append(c)
    return raw, np.concatenate(crops), (concat, features_from_arrays)


def features(raw, helpers):
    concat, from_arrays = helpers
    parts, start = [], 0
    for season, d, v, _ in raw:
        ids = np.arange(start, start + v.shape[0])
        parts.append(from_arrays(ids, d, v, season=season, indices=("ndvi", "wdrvi", "ndmi")))
        start += v.shape[0]
    return concat(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--train", type=int, default=3_000)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    import torch

    from models.crops import CropConfig, predict_crops, train_crop_model
    from models.yields import predict_yield, train_yield_model

    torch.set_num_threads(a.threads)
    print(f"torch {torch.__version__}, threads {a.threads}, parcels {a.parcels:,}")
    raw, crops, h = simulate(a.train, seed=1)
    xtr = features(raw, h)
    ytr = np.concatenate([r[3] for r in raw])
    t = time.perf_counter()
    cnn, _ = train_crop_model(xtr, crops, config=CropConfig(epochs=30), seed=0)
    hgb, _ = train_crop_model(xtr, crops, config=CropConfig(kind="hgb"), seed=0)
    ridge, _ = train_yield_model(xtr, crops, ytr, seed=0)
    print(f"training (not timed below): {time.perf_counter() - t:.1f} s; rss {rss_mb():.0f} MB")

    raw, crops, h = simulate(a.parcels, seed=2)
    print(f"simulated input; rss {rss_mb():.0f} MB")
    times: dict[str, float] = {}

    def timed(name, fn):
        t0 = time.perf_counter()
        out = fn()
        times[name] = time.perf_counter() - t0
        print(f"{name:<22} {times[name]:7.2f} s  {a.parcels / times[name]:>10,.0f} parcels/s"
              f"  peak rss {rss_mb():.0f} MB")  # fmt: skip
        return out

    x = timed("features", lambda: features(raw, h))
    pc = timed("crop tcnn", lambda: predict_crops(cnn, x))
    ph = timed("crop hgb (peer)", lambda: predict_crops(hgb, x))
    timed("yield ridge+lue", lambda: predict_yield(ridge, x, pc))
    for name, crop in (("tcnn", "crop tcnn"), ("hgb", "crop hgb (peer)")):
        total = times["features"] + times[crop] + times["yield ridge+lue"]
        print(f"end to end with {name:<6} {total:7.2f} s  {a.parcels / total:>10,.0f} parcels/s")
    acc_c = float((pc["crop"].to_numpy() == crops).mean())
    acc_h = float((ph["crop"].to_numpy() == crops).mean())
    print(f"accuracy on the simulated parcels: tcnn {acc_c:.4f}, hgb {acc_h:.4f}")


if __name__ == "__main__":
    main()
