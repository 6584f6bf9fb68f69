"""Encroachment models: datasets, training, tiled inference, change, polygons, metrics.

Everything runs on CPU on 200 m synthetic orthophotos (400 × 400 px) of the demo district.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
import torch
import torch.nn.functional as F
from affine import Affine
from rasterio.windows import from_bounds
from shapely.geometry import box
from torch import nn

from landgov.demo import imagery_ortho as so
from models import registry
from models.encroachment import (
    BadImagery,
    Confusion,
    GridMismatch,
    SegConfig,
    build_model,
    change_mask,
    evaluate,
    grid_loader,
    hann_window,
    hyperparameters,
    make_dataset,
    object_recall,
    pixel_metrics,
    polygonize,
    predict_array,
    predict_scene,
    read_probability,
    train,
    train_loader,
)
from models.encroachment.infer import tile_origins

SIZE = 200


@pytest.fixture(scope="module")
def ortho(demo_engine, tmp_path_factory) -> so.OrthoResult:
    return so.synthesize_orthophotos(demo_engine, tmp_path_factory.mktemp("enc"), size_m=SIZE)


@pytest.fixture(scope="module")
def tiny(ortho):
    torch.set_num_threads(2)
    return train(ortho.images, ortho.building_masks, config=SegConfig.tiny(), seed=7, device="cpu")


def _read(path: Path, window=None) -> np.ndarray:
    with rasterio.open(path) as src:  # boundless: edge chips of the grid sampler are 0-padded
        return src.read(window=window, boundless=window is not None, fill_value=0)


# ---------------------------------------------------------------- data


def test_random_chips_have_the_right_shapes(ortho):
    ds = make_dataset(ortho.images, ortho.building_masks)
    batch = next(iter(train_loader(ds, size=64, length=8, batch_size=4, seed=0)))
    assert batch["image"].shape == (4, 4, 64, 64) and batch["image"].dtype == torch.float32
    assert batch["mask"].shape == (4, 64, 64) and batch["mask"].dtype == torch.int64
    assert set(batch["mask"].unique().tolist()) <= {0, 1}


def test_grid_chips_align_with_their_own_date(ortho):
    """Each chip's image and mask equal the files of the same date read at the same window."""
    ds = make_dataset(ortho.images, ortho.building_masks)
    n = 0
    for batch in grid_loader(ds, size=128, batch_size=4):
        for i, q in enumerate(batch["bounds"]):
            x, y, t = q
            day = t.start.date()
            img_path = next(p for p in ortho.images if day.isoformat() in p.name)
            msk_path = next(p for p in ortho.building_masks if day.isoformat() in p.name)
            with rasterio.open(img_path) as src:
                win = from_bounds(x.start, y.start, x.stop, y.stop, src.transform).round_offsets()
            win = win.round_lengths()
            assert np.array_equal(
                batch["image"][i].numpy(), _read(img_path, win).astype(np.float32)
            )
            assert np.array_equal(batch["mask"][i].numpy(), _read(msk_path, win)[0])
            n += 1
    assert n == 2 * 16  # two dates × ceil(400 / 128)² chips


def test_bad_inputs_raise(ortho, tmp_path):
    with rasterio.open(ortho.images[0]) as src:
        profile = src.profile | {"count": 3}
        rgb = src.read([1, 2, 3])
    bad = tmp_path / "ortho_2024-03-01.tif"
    with rasterio.open(bad, "w", **profile) as dst:
        dst.write(rgb)
    with pytest.raises(BadImagery, match="3 band"):
        make_dataset([bad], ortho.building_masks)
    with pytest.raises(BadImagery, match="no mask"):
        make_dataset([ortho.images[0]], [])
    shifted = tmp_path / "x" / ortho.images[0].name
    shifted.parent.mkdir()
    with rasterio.open(ortho.images[0]) as src:
        profile = src.profile | {"transform": src.transform * Affine.translation(1, 0)}
        data = src.read()
    with rasterio.open(shifted, "w", **profile) as dst:
        dst.write(data)
    mask = shifted.parent / ortho.building_masks[0].name
    mask.write_bytes(ortho.building_masks[0].read_bytes())
    with pytest.raises(GridMismatch):
        make_dataset([shifted], [mask])


# ---------------------------------------------------------------- training


def test_training_is_deterministic_and_learns(ortho, tiny):
    again = train(ortho.images, ortho.building_masks, config=SegConfig.tiny(), seed=7, device="cpu")
    a, b = tiny.model.state_dict(), again.model.state_dict()
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert len(tiny.history) == SegConfig.tiny().epochs
    # learning: on fixed held-in chips the trained net's loss beats a fresh random one's
    ds = make_dataset(ortho.images, ortho.building_masks)
    batch = next(iter(grid_loader(ds, size=128, batch_size=8)))
    x, y = batch["image"] / 255, (batch["mask"] > 0).float()[:, None]
    torch.manual_seed(0)
    fresh = build_model(hyperparameters(SegConfig.tiny())).eval()
    with torch.no_grad():
        trained_loss = F.binary_cross_entropy_with_logits(tiny.model.eval()(x), y)
        fresh_loss = F.binary_cross_entropy_with_logits(fresh(x), y)
    assert trained_loss < fresh_loss
    assert tiny.history[-1] < tiny.history[0]
    assert tiny.data_fingerprint == again.data_fingerprint


def test_registry_round_trip(tiny, tmp_path):
    cfg = SegConfig.tiny()
    card = registry.ModelCard(
        name="encroachment-test",
        task="segmentation",
        classes=["background", "structure"],
        seed=7,
        hyperparameters=hyperparameters(cfg),
    )
    registry.save_model(card, tiny.model.state_dict(), root=tmp_path / "models")
    tensors, card2 = registry.load_model("encroachment-test", home=tmp_path)
    model = build_model(card2.hyperparameters)
    model.load_state_dict(tensors)
    x = torch.rand(1, 4, 64, 64)
    with torch.no_grad():
        assert torch.equal(model.eval()(x), tiny.model.eval()(x))


# ---------------------------------------------------------------- inference


class _Pointwise(nn.Module):
    """A fixed 1×1 convolution: its output at a pixel depends on that pixel only."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 1, 1)
        with torch.no_grad():
            self.conv.weight.copy_(torch.tensor([1.5, -2.0, 0.5, 1.0]).view(1, 4, 1, 1))
            self.conv.bias.fill_(-0.3)

    def forward(self, x):
        return self.conv(x)


class _Context(nn.Module):
    """A fixed 5×5 box filter: tile borders change its output, so blending matters."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 1, 5, padding=2)
        with torch.no_grad():
            self.conv.weight.fill_(0.05)
            self.conv.bias.fill_(-2.0)

    def forward(self, x):
        return self.conv(x)


def test_blending_reproduces_direct_forward(ortho):
    image = _read(ortho.images[1])
    direct = torch.sigmoid(_Pointwise()(torch.from_numpy(image).float()[None] / 255))[0, 0]
    tiled = predict_array(_Pointwise(), image, tile=96, overlap=32, batch_size=3, device="cpu")
    np.testing.assert_allclose(tiled, direct.detach().numpy(), atol=1e-6)


def test_scene_output_is_on_the_input_grid(ortho, tmp_path):
    out = predict_scene(_Pointwise(), ortho.images[0], tmp_path / "p.tif", tile=128, overlap=32)
    with rasterio.open(ortho.images[0]) as a, rasterio.open(out) as b:
        assert (a.crs, a.transform, a.shape) == (b.crs, b.transform, b.shape)
        assert b.count == 1 and b.dtypes[0] == "float32"
    u8 = predict_scene(_Pointwise(), ortho.images[0], tmp_path / "u.tif", dtype="uint8")
    np.testing.assert_allclose(read_probability(u8), read_probability(out), atol=1 / 255)


def _reference_blend(model: nn.Module, image: np.ndarray, tile: int, overlap: int) -> np.ndarray:
    """Whole-scene accumulation (no strips) of the same tiles and weights."""
    _, h, w = image.shape
    acc, wsum = np.zeros((h, w), np.float64), np.zeros((h, w), np.float64)
    win = hann_window(tile)
    for r in tile_origins(h, tile, tile - overlap):
        for c in tile_origins(w, tile, tile - overlap):
            x = torch.from_numpy(image[:, r : r + tile, c : c + tile]).float()[None] / 255
            with torch.no_grad():
                p = torch.sigmoid(model(x))[0, 0].numpy()
            acc[r : r + tile, c : c + tile] += p * win
            wsum[r : r + tile, c : c + tile] += win
    return (acc / wsum).astype(np.float32)


def test_strips_equal_one_pass_and_memory_is_bounded(ortho, tmp_path):
    image = _read(ortho.images[1])
    strips: list[tuple[int, int]] = []
    out = predict_scene(
        _Context(),
        ortho.images[1],
        tmp_path / "s.tif",
        tile=96,
        overlap=24,
        progress=lambda done, total: strips.append((done, total)),
    )
    ref = _reference_blend(_Context(), image, 96, 24)
    np.testing.assert_allclose(read_probability(out), ref, atol=1e-5)
    # several strips written, each at most one tile high: memory ∝ tile × width, not scene
    assert len(strips) == len(tile_origins(400, 96, 72)) > 1
    heights = np.diff([0] + [d for d, _ in strips])
    assert heights.max() <= 96 and strips[-1][0] == 400
    # and a scene smaller than one tile is padded, not refused
    small = predict_array(_Pointwise(), image[:, :50, :70], tile=96, overlap=24)
    assert small.shape == (50, 70)


# ---------------------------------------------------------------- change, polygons, metrics


def test_change_mask_ignores_jitter_of_old_roofs():
    before = np.zeros((40, 40), np.float32)
    before[5:15, 5:15] = 0.9
    after = np.zeros_like(before)
    after[6:16, 6:16] = 0.9  # the old roof, shifted one pixel
    after[25:32, 20:30] = 0.8  # a new structure
    new = change_mask(before, after, threshold=0.5, dilate_px=2)
    expected = np.zeros_like(new)
    expected[25:32, 20:30] = True
    assert np.array_equal(new, expected)
    assert change_mask(before, after, dilate_px=0)[15, 6:16].all()  # jitter without margin
    with pytest.raises(GridMismatch):
        change_mask(before, after[:-1])


def test_polygonize_drops_small_and_simplifies():
    t = Affine(0.5, 0, 1000.0, 0, -0.5, 2000.0)
    prob = np.zeros((60, 60), np.float32)
    prob[10:30, 10:30] = 0.8  # 10 × 10 m
    prob[40:43, 40:43] = 0.9  # 2.25 m² < 4 m²
    stairs = np.zeros((60, 60), bool)
    for i in range(20):  # a 1-pixel staircase edge
        stairs[35 + i // 2 : 58, 5 + i : 6 + i] = True
    polys = polygonize(prob, t)
    assert len(polys) == 1
    poly, conf = polys[0]
    assert poly.equals(box(1005.0, 1985.0, 1015.0, 1995.0)) and conf == pytest.approx(0.8)
    raw = polygonize(stairs, t, simplify_m=0.0)[0][0]
    simple = polygonize(stairs, t, simplify_m=0.5)[0][0]
    assert len(simple.exterior.coords) < len(raw.exterior.coords) / 3
    assert abs(simple.area - raw.area) / raw.area < 0.1
    assert polygonize(np.zeros((5, 5), bool), t) == []


def test_pixel_metrics_known_values():
    truth = np.zeros((4, 4), bool)
    truth[0, :4] = True
    pred = np.zeros((4, 4), bool)
    pred[0, 2:] = True
    pred[1, :2] = True
    m = pixel_metrics(pred, truth)
    assert m["iou"] == pytest.approx(2 / 6)
    assert m["precision"] == m["recall"] == m["f1"] == pytest.approx(0.5)
    total = Confusion().add(pred, truth).add(truth, truth)
    assert total.scores()["iou"] == pytest.approx(6 / 10)  # counts add up: tp 6, fp 2, fn 2
    assert pixel_metrics(np.zeros((2, 2)), np.zeros((2, 2)))["iou"] == 1.0


def test_object_recall_counts_footprints_covered_by_half():
    t = Affine(0.5, 0, 0.0, 0, -0.5, 20.0)
    truth = np.zeros((40, 40), bool)
    truth[2:8, 2:8] = truth[20:26, 20:26] = truth[30:36, 2:8] = True
    change = np.zeros_like(truth)
    change[2:8, 2:6] = True  # 4/6 of the first
    change[20:22, 20:26] = True  # 2/6 of the second
    change[30:40, 30:40] = True  # a false alarm
    rows = [
        {
            "id": 1,
            "date_built": date(2025, 1, 1),
            "on_state_land": True,
            "centroid_x": 2.5,
            "centroid_y": 17.5,
        },
        {
            "id": 2,
            "date_built": date(2025, 1, 1),
            "on_state_land": True,
            "centroid_x": 11.5,
            "centroid_y": 8.5,
        },
        {
            "id": 3,
            "date_built": date(2025, 1, 1),
            "on_state_land": False,
            "centroid_x": 2.5,
            "centroid_y": 3.5,
        },
        {
            "id": 4,
            "date_built": date(2020, 1, 1),
            "on_state_land": True,
            "centroid_x": 2.5,
            "centroid_y": 3.5,
        },
    ]
    r = object_recall(change, truth, t, rows, first_date=date(2024, 3, 1))
    assert (r["found"], r["total"], r["missed_ids"], r["false_alarms"]) == (1, 2, [2], 1)
    r_all = object_recall(
        change, truth, t, rows, first_date=date(2024, 3, 1), state_land_only=False
    )
    assert (r_all["found"], r_all["total"]) == (1, 3)


def test_evaluate_end_to_end(ortho, tiny):
    res = evaluate(
        tiny.model,
        ortho.images,
        ortho.building_masks,
        new_structures=ortho.new_structures,
        structures_csv=ortho.structures_csv,
        tile=128,
        overlap=32,
    )
    assert set(res["pixel"]) == {"iou", "precision", "recall", "f1"}
    assert len(res["per_image"]) == 2
    ch = res["change"]
    assert ch["object_recall_state_land"]["total"] >= 1
    assert 0.0 <= ch["object_recall_all"]["recall"] <= 1.0
    assert ch["polygons"]["conf_0.8"] <= ch["polygons"]["all"]
