"""Per-pixel LightGBM baseline: features, stripes, fitting, prediction, errors."""

from __future__ import annotations

import numpy as np
import pytest

from models.encroachment.baseline import (
    HALO,
    _feature_stripes,
    feature_names,
    fit_pixel_baseline,
    pixel_features,
)
from models.encroachment.errors import BadImagery
from models.encroachment.metrics import pixel_metrics


def scene(seed: int, size: int = 96, nir: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Textured green/brown ground with uniform grey or red roofs and a shadow to the south."""
    rng = np.random.default_rng(seed)
    img = np.empty((4 if nir else 3, size, size), np.float32)
    img[0] = rng.normal(90, 25, (size, size))
    img[1] = rng.normal(120, 25, (size, size))
    img[2] = rng.normal(60, 20, (size, size))
    if nir:
        img[3] = rng.normal(170, 25, (size, size))
    mask = np.zeros((size, size), np.uint8)
    for _ in range(8):
        h, w = rng.integers(8, 18, 2)
        r, c = rng.integers(0, size - h - 3), rng.integers(0, size - w)
        colour = (200, 200, 205) if rng.random() < 0.6 else (175, 70, 55)
        img[:3, r + h : r + h + 3, c : c + w] = 35  # shadow
        if nir:
            img[3, r + h : r + h + 3, c : c + w] = 35
            img[3, r : r + h, c : c + w] = colour[0] * 0.8
        for k in range(3):
            img[k, r : r + h, c : c + w] = colour[k] + rng.normal(0, 4, (h, w))
        mask[r : r + h, c : c + w] = 1
    return np.clip(img, 0, 255).astype(np.uint8), mask


def samples(seeds, nir=False):
    out = []
    for s in seeds:
        img, mask = scene(s, nir=nir)
        out.append((img, mask, np.ones(mask.shape, bool)))
    return out


@pytest.fixture(scope="module")
def fitted():
    return fit_pixel_baseline(samples([1, 2]), seed=0, max_pixels=6000, n_trees=40, num_threads=1)


def test_baseline_finds_roofs_on_an_unseen_scene(fitted):
    img, mask = scene(3)
    prob = fitted.predict_proba(img)
    assert prob.dtype == np.float32 and prob.shape == mask.shape
    assert prob.min() >= 0 and prob.max() <= 1
    iou = pixel_metrics(prob >= 0.5, mask)["iou"]
    assert iou > 0.8, iou


def test_sample_is_balanced_and_prior_recorded(fitted):
    masks = [m for _, m, _ in samples([1, 2])]
    prior = sum(int(m.sum()) for m in masks) / sum(m.size for m in masks)
    assert fitted.prior == pytest.approx(prior)
    assert fitted.train_pixels <= 6000
    positives = sum(int(m.sum()) for m in masks)
    assert positives < 3000  # so every structure pixel is taken, and background fills the rest
    assert fitted.train_positive == positives and abs(fitted.train_pixels - 6000) <= 2
    assert fitted.n_bands == 3 and fitted.features == feature_names(3)


def test_fitting_is_deterministic_for_a_seed(fitted):
    img, _ = scene(3)
    again = fit_pixel_baseline(samples([1, 2]), seed=0, max_pixels=6000, n_trees=40, num_threads=1)
    np.testing.assert_array_equal(again.predict_proba(img), fitted.predict_proba(img))
    other = fit_pixel_baseline(samples([1, 2]), seed=1, max_pixels=6000, n_trees=40, num_threads=1)
    assert not np.array_equal(other.predict_proba(img), fitted.predict_proba(img))


def test_stripes_equal_a_whole_image_pass(fitted):
    img, _ = scene(4, size=80)
    whole = pixel_features(img)
    for rows in (7, HALO, 33):
        for r0, r1, f in _feature_stripes(img, rows):
            np.testing.assert_allclose(f, whole[:, r0:r1], atol=1e-5)
    np.testing.assert_allclose(
        fitted.predict_proba(img, rows_per_stripe=9), fitted.predict_proba(img), atol=1e-6
    )


def test_valid_mask_zeroes_probabilities(fitted):
    img, _ = scene(3)
    valid = np.ones(img.shape[1:], bool)
    valid[:, :10] = False
    prob = fitted.predict_proba(img, valid=valid)
    assert not prob[:, :10].any() and prob[:, 10:].any()


def test_rgbn_adds_ndvi_and_needs_four_bands_at_prediction():
    model = fit_pixel_baseline(
        samples([1, 2], nir=True), seed=0, max_pixels=4000, n_trees=20, num_threads=1
    )
    assert model.n_bands == 4 and model.features[-1] == "ndvi"
    assert pixel_features(scene(3, nir=True)[0]).shape[0] == len(feature_names(4))
    assert model.predict_proba(scene(3, nir=True)[0]).shape == (96, 96)
    with pytest.raises(BadImagery, match="4 bands"):
        model.predict_proba(scene(3)[0])
    # an RGB model takes the RGB of an RGBN image
    rgb = fit_pixel_baseline(samples([1]), seed=0, max_pixels=2000, n_trees=10, num_threads=1)
    assert rgb.predict_proba(scene(3, nir=True)[0]).shape == (96, 96)


def test_bad_inputs_raise_bad_imagery():
    img, mask = scene(1)
    valid = np.ones(mask.shape, bool)
    with pytest.raises(BadImagery, match="uint8"):
        fit_pixel_baseline([(img.astype(np.uint16), mask, valid)], seed=0)
    with pytest.raises(BadImagery, match="bands"):
        fit_pixel_baseline([(img[:2], mask, valid)], seed=0)
    with pytest.raises(BadImagery, match="share"):
        fit_pixel_baseline([(img, mask[:-1], valid)], seed=0)
    with pytest.raises(BadImagery, match="structure and background"):
        fit_pixel_baseline([(img, np.zeros_like(mask), valid)], seed=0)
    with pytest.raises(BadImagery, match="no training"):
        fit_pixel_baseline([], seed=0)
