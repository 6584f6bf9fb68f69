"""A non-deep baseline for structure segmentation: per-pixel LightGBM on hand-made features.

The deep model's scores mean little without a cheap baseline measured on the same held-out
ground in the same run: if gradient-boosted trees on colour and local texture came close,
the network would not be earning its cost. The features are what a photo-interpreter
looks at, computed with numpy/scipy only:

* colour: R, G, B; value and saturation (roofs of tin and concrete are bright and grey,
  vegetation saturated); chromatic excess green and excess red (vegetation, brick and
  clay roofs), and NDVI when a fourth (near-infrared) band is present;
* local brightness mean and standard deviation over 5, 15 and 31 px windows (a roof is
  locally uniform; foliage and rubble are not);
* Sobel gradient magnitude and its 15 px mean (edge density: roof outlines);
* white and black top-hat of brightness (15 px): bright or dark objects smaller than the
  window, i.e. roofs and their shadows against the ground;
* 15 px mean of excess green (is this pixel inside a field or a garden?).

Window sizes are in pixels, so the baseline is meant for images already resampled to the
model's working resolution, like the deep model.

Features are computed in horizontal stripes with a halo wider than every filter's reach,
so memory is bounded for large orthophotos and the result equals a whole-image pass.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np
from scipy.ndimage import grey_closing, grey_opening, sobel, uniform_filter

from models.encroachment.errors import BadImagery

WINDOWS = (5, 15, 31)
"""Local statistics windows (px)."""
TOPHAT = 15
"""Top-hat structuring element (px, square)."""
HALO = max(max(WINDOWS) // 2, 1 + 15 // 2, 2 * (TOPHAT // 2)) + 2
"""Rows of context each stripe needs: the widest reach of any filter (the top-hat's opening
is an erosion then a dilation, so it reaches twice its radius), plus a margin."""

RGB_FEATURES = (
    "red",
    "green",
    "blue",
    "value",
    "saturation",
    "excess_green",
    "excess_red",
    *(f"{s}_{w}" for w in WINDOWS for s in ("mean", "std")),
    "gradient",
    "gradient_mean_15",
    "tophat_white",
    "tophat_black",
    "excess_green_mean_15",
)


def feature_names(n_bands: int) -> tuple[str, ...]:
    """Names of the features computed for an image of ``n_bands`` (NDVI from 4 bands on)."""
    return (*RGB_FEATURES, "ndvi") if n_bands >= 4 else RGB_FEATURES


def _check_image(image: np.ndarray, where: str) -> np.ndarray:
    a = np.asarray(image)
    if a.ndim != 3 or a.shape[0] < 3:
        raise BadImagery(f"{where}: need a (bands ≥ 3, H, W) image, got shape {a.shape}")
    if a.dtype != np.uint8:
        raise BadImagery(f"{where}: need uint8 pixels, got {a.dtype}")
    return a


def pixel_features(image: np.ndarray) -> np.ndarray:
    """Features of every pixel of a uint8 ``(C, H, W)`` image (C ≥ 3: R, G, B[, NIR]).

    Returns:
        float32 ``(F, H, W)`` in the order of :func:`feature_names`.
    """
    a = _check_image(image, "pixel_features")
    eps = 1e-6
    r, g, b = (a[i].astype(np.float32) / 255 for i in range(3))
    total = r + g + b
    bright = total / 3
    vmax = np.maximum(np.maximum(r, g), b)
    vmin = np.minimum(np.minimum(r, g), b)
    sat = np.where(vmax > 0, (vmax - vmin) / (vmax + eps), 0)
    rn, gn, bn = r / (total + eps), g / (total + eps), b / (total + eps)
    exg = 2 * gn - rn - bn
    exr = 1.4 * rn - gn
    out = [r, g, b, vmax, sat, exg, exr]
    sq = bright * bright
    for w in WINDOWS:
        m = uniform_filter(bright, w)
        out += [m, np.sqrt(np.maximum(uniform_filter(sq, w) - m * m, 0))]
    grad = np.hypot(sobel(bright, 0), sobel(bright, 1))
    out += [grad, uniform_filter(grad, 15)]
    out += [bright - grey_opening(bright, TOPHAT), grey_closing(bright, TOPHAT) - bright]
    out.append(uniform_filter(exg, 15))
    if a.shape[0] >= 4:
        nir = a[3].astype(np.float32) / 255
        out.append((nir - r) / (nir + r + eps))
    return np.stack(out).astype(np.float32, copy=False)


def _feature_stripes(image: np.ndarray, rows: int) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(r0, r1, features of rows r0:r1)`` stripe by stripe, each computed with a halo."""
    h = image.shape[-2]
    for r0 in range(0, h, rows):
        r1 = min(h, r0 + rows)
        lo, hi = max(0, r0 - HALO), min(h, r1 + HALO)
        yield r0, r1, pixel_features(image[:, lo:hi])[:, r0 - lo : r1 - lo]


@dataclass
class PixelBaseline:
    """A fitted per-pixel LightGBM structure classifier.

    Attributes:
        booster: the LightGBM model.
        n_bands: bands it was fitted on (3, or 4 with NDVI); extra bands of an image are
            ignored at prediction.
        features: feature names in order.
        train_pixels: pixels in the training sample; ``train_positive``: how many were
            structure.
        prior: fraction of structure pixels among all valid training pixels. The sample
            is class-balanced, and the trees' probabilities are corrected back to this
            prior, so 0.5 stays a sensible threshold.
        num_threads: LightGBM threads used for prediction.
        params: LightGBM parameters and sampling settings, for the model card.
    """

    booster: lgb.Booster
    n_bands: int
    features: tuple[str, ...]
    train_pixels: int
    train_positive: int
    prior: float
    num_threads: int = 2
    params: dict[str, Any] = field(default_factory=dict)

    def predict_proba(
        self, image: np.ndarray, *, valid: np.ndarray | None = None, rows_per_stripe: int = 512
    ) -> np.ndarray:
        """Structure probability of every pixel of a uint8 ``(C, H, W)`` image.

        Args:
            image: at least as many bands as the model was fitted on.
            valid: optional bool ``(H, W)``; invalid pixels get probability 0.
            rows_per_stripe: stripe height; bounds memory (about 80 bytes × width per row).

        Returns:
            float32 ``(H, W)`` in [0, 1].
        """
        a = _check_image(image, "PixelBaseline.predict_proba")
        if a.shape[0] < self.n_bands:
            raise BadImagery(
                f"PixelBaseline.predict_proba: fitted on {self.n_bands} bands, image has "
                f"{a.shape[0]}"
            )
        a = a[: self.n_bands]
        h, w = a.shape[1:]
        out = np.zeros((h, w), np.float32)
        for r0, r1, f in _feature_stripes(a, max(1, rows_per_stripe)):
            raw = np.asarray(
                self.booster.predict(
                    f.reshape(f.shape[0], -1).T, raw_score=True, num_threads=self.num_threads
                )
            )
            out[r0:r1] = self._calibrate(raw).reshape(r1 - r0, w)
        if valid is not None:
            out[~np.asarray(valid, bool)] = 0
        return out

    def _calibrate(self, raw: np.ndarray) -> np.ndarray:
        """Sample-balanced log-odds → probability at the training prior (Bayes shift)."""
        pos = self.train_positive / self.train_pixels
        shift = np.log(self.prior / (1 - self.prior)) - np.log(pos / (1 - pos))
        return np.asarray(1 / (1 + np.exp(-(raw + shift))), np.float32)


def fit_pixel_baseline(
    samples: Sequence[tuple[np.ndarray, np.ndarray, np.ndarray]],
    *,
    seed: int,
    max_pixels: int = 400_000,
    n_trees: int = 200,
    num_threads: int = 2,
    rows_per_stripe: int = 512,
) -> PixelBaseline:
    """Fit the baseline on a seeded, class-balanced sample of valid pixels.

    At most half the sample is structure pixels (all of them if there are fewer), the rest
    background; each image contributes to each class in proportion to how many it has.
    Balancing keeps the trees from spending their splits on easy background; the
    probabilities are shifted back to the true structure prior afterwards
    (:attr:`PixelBaseline.prior`).

    Args:
        samples: ``(image uint8 (C, H, W), mask (H, W) 1 = structure, valid bool (H, W))``
            triples, e.g. the training windows of :func:`~models.encroachment.split.spatial_split`.
            With mixed band counts only the bands all images have are used.
        seed: seeds the pixel sample and LightGBM (fitting is deterministic).
        max_pixels: size of the training sample.
        n_trees: boosting rounds.
        num_threads: LightGBM threads, for fitting and prediction. Not more than the free
            cores: OpenMP threads spin at each barrier, so two threads on a core another
            process keeps busy run many times slower than one (measured 30× on the shared
            2-core development machine).
        rows_per_stripe: stripe height for feature computation (memory bound).

    Returns:
        The fitted :class:`PixelBaseline`.

    Raises:
        BadImagery: no samples, wrong shapes or dtypes, or no structure / no background pixel.
    """
    if not samples:
        raise BadImagery("fit_pixel_baseline: no training images")
    checked = []
    for i, (image, mask, valid) in enumerate(samples):
        a = _check_image(image, f"training image {i}")
        m, v = np.asarray(mask).astype(bool), np.asarray(valid, bool)
        if m.shape != a.shape[1:] or v.shape != a.shape[1:]:
            raise BadImagery(
                f"training image {i}: image {a.shape}, mask {m.shape} and valid {v.shape} "
                "must share H, W"
            )
        checked.append((a, m & v, ~m & v))
    n_bands = min(4, min(a.shape[0] for a, _, _ in checked))
    n_pos_all = sum(int(p.sum()) for _, p, _ in checked)
    n_neg_all = sum(int(n.sum()) for _, _, n in checked)
    if n_pos_all == 0 or n_neg_all == 0:
        raise BadImagery(
            f"fit_pixel_baseline: need both structure and background pixels "
            f"(got {n_pos_all} and {n_neg_all})"
        )
    want_pos = min(n_pos_all, max_pixels // 2)
    want_neg = min(n_neg_all, max_pixels - want_pos)
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for a, pos, neg in checked:
        picks = []
        for cls, want, have in ((pos, want_pos, n_pos_all), (neg, want_neg, n_neg_all)):
            idx = np.flatnonzero(cls)
            k = min(idx.size, round(want * idx.size / have))
            picks.append(rng.choice(idx, k, replace=False) if k < idx.size else idx)
        label = np.concatenate([np.ones(picks[0].size), np.zeros(picks[1].size)]).astype(np.float32)
        flat = np.concatenate(picks)
        order = np.argsort(flat, kind="stable")
        flat, label = flat[order], label[order]
        w = a.shape[2]
        rows = flat // w
        for r0, r1, f in _feature_stripes(a[:n_bands], rows_per_stripe):
            sel = (rows >= r0) & (rows < r1)
            local = flat[sel] - r0 * w
            xs.append(f.reshape(f.shape[0], -1)[:, local].T)
            ys.append(label[sel])
    x, y = np.concatenate(xs), np.concatenate(ys)
    params = {
        "objective": "binary",
        "learning_rate": 0.1,
        "num_leaves": 63,
        "min_data_in_leaf": 50,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "num_threads": num_threads,
        "deterministic": True,
        "force_col_wise": True,
        "seed": seed,
        "verbosity": -1,
    }
    names = feature_names(n_bands)
    booster = lgb.train(
        params, lgb.Dataset(x, label=y, feature_name=list(names)), num_boost_round=n_trees
    )
    n_valid = n_pos_all + n_neg_all
    return PixelBaseline(
        booster=booster,
        n_bands=n_bands,
        features=names,
        train_pixels=int(y.size),
        train_positive=int(y.sum()),
        prior=n_pos_all / n_valid,
        num_threads=num_threads,
        params={**params, "num_boost_round": n_trees, "max_pixels": max_pixels},
    )
