"""Scene inference: overlapping tiles, cosine-window blending, bounded memory.

A scene (2400 × 2400 px for 1.2 km at 0.5 m, far more for a tehsil mosaic) is cut into
``tile``-px windows that overlap by ``overlap`` px. Predictions near a tile's border see
little context and are worst there, so each tile's probabilities are weighted by a 2-D
Hann-like window ``w(i, j) = s(i)·s(j)``, ``s(i) = sin²(π (i + ½) / tile)``, accumulated
with the weights, and divided by the summed weights. ``s`` never reaches 0, so pixels on
the scene border, covered by one tile only, are still defined (the ratio is exact for any
positive weight).

Memory does not grow with the scene: tiles are processed one horizontal row of tiles at a
time; only the accumulators of the rows still open (``tile`` rows × scene width)
are held, and every row that no later tile can reach is written to the output GeoTIFF
through a rasterio window and dropped. Input rows are likewise read per strip.
Tiles are run in batches of ``batch_size`` on the chosen device (CUDA when present).

Bands and outputs follow the model, not a fixed layout: the input takes as many leading
bands as the network's first convolution has input channels (3 for an RGB model, 4 for
the RGBN one; :func:`models.encroachment.imagery.prepare_image` puts them in the card's
order), and every one of the model's ``C`` output logits becomes a probability band of
the output (band 1 = structure; a 2-output model adds e.g. the contact-border
probability as band 2). The number of outputs is learnt from the first forward pass, so
any ``model(x) -> (B, C, H, W)`` works.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import numpy as np
import rasterio
import torch
from rasterio.errors import NotGeoreferencedWarning
from rasterio.windows import Window
from torch import nn

from models.encroachment.data import check_image
from models.encroachment.errors import EncroachmentError
from models.encroachment.train import resolve_device


def hann_window(tile: int) -> np.ndarray:
    """The 2-D blending weight of a tile, strictly positive, peak 1 at the centre."""
    s = np.sin(np.pi * (np.arange(tile) + 0.5) / tile) ** 2
    return np.outer(s, s).astype(np.float32)


def tile_origins(length: int, tile: int, stride: int) -> list[int]:
    """Tile starts covering ``[0, length)``; the last tile is flush with the end."""
    if length <= tile:
        return [0]
    starts = list(range(0, length - tile, stride))
    starts.append(length - tile)
    return starts


def _forward(model: nn.Module, batch: np.ndarray, device: torch.device) -> np.ndarray:
    """Sigmoid probabilities ``(B, C, t, t)`` of a uint8 batch ``(B, bands, t, t)``."""
    x = torch.from_numpy(batch).to(device).float().div_(255.0)
    with torch.inference_mode():
        return torch.sigmoid(model(x)).float().cpu().numpy()


def model_in_channels(model: nn.Module) -> int:
    """Input bands of ``model``: its ``in_channels`` attribute, else its first conv's."""
    n = getattr(model, "in_channels", None)
    if isinstance(n, int) and n > 0:
        return n
    for m in model.modules():
        if isinstance(m, nn.Conv1d | nn.Conv2d | nn.Conv3d) and m.in_channels:
            return int(m.in_channels)
    raise EncroachmentError(
        f"cannot tell how many input bands {type(model).__name__} takes: pass bands="
    )


def predict_array(
    model: nn.Module,
    image: np.ndarray,
    *,
    tile: int = 256,
    overlap: int = 64,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    all_bands: bool = False,
) -> np.ndarray:
    """Probabilities for an in-memory uint8 ``(bands, H, W)`` image.

    Same tiling and blending as :func:`predict_scene` (which it calls through a
    :class:`rasterio.MemoryFile`), for small images and tests. Returns the structure
    probability ``(H, W)`` float32, or with ``all_bands`` every output ``(C, H, W)``.
    """
    c, h, w = image.shape
    try:  # the model's input bands are the first ones of the image
        n_in = model_in_channels(model)
    except EncroachmentError:
        n_in = c
    profile = {"driver": "GTiff", "width": w, "height": h, "count": c, "dtype": image.dtype.name}
    # an in-memory array has no georeference; rasterio warns about that, harmlessly here
    with (
        warnings.catch_warnings(),
        rasterio.MemoryFile() as src_mem,
        rasterio.MemoryFile() as out_mem,
    ):
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with src_mem.open(**profile) as dst:
            dst.write(image)
        predict_scene(
            model,
            src_mem.name,
            out_mem.name,
            tile=tile,
            overlap=overlap,
            batch_size=batch_size,
            device=device,
            bands=n_in,
        )
        with out_mem.open() as out:
            probability: np.ndarray = out.read() if all_bands else out.read(1)
            return probability


def predict_scene(
    model: nn.Module,
    image_path: str | Path,
    out_path: str | Path,
    *,
    tile: int = 256,
    overlap: int = 64,
    batch_size: int = 8,
    device: str | torch.device | None = None,
    dtype: str = "float32",
    progress: Callable[[int, int], None] | None = None,
    bands: int | None = None,
) -> Path:
    """Writes the probabilities of every pixel of ``image_path`` to ``out_path``.

    Args:
        model: maps ``(B, bands, t, t)`` float in [0, 1] to logits ``(B, C, t, t)``, C ≥ 1;
            put in eval mode here. Tile sides must suit it (multiples of 16 for the
            default U-Net).
        image_path: a uint8 raster with at least ``bands`` bands, in the model's order
            (see :func:`models.encroachment.imagery.prepare_image`).
        out_path: a C-band GeoTIFF on the same grid (CRS, transform, shape), band 1 the
            structure probability: float32 probabilities, or ``dtype="uint8"`` for
            round(prob × 255).
        tile, overlap: window side and overlap in pixels (``overlap < tile``).
        batch_size: tiles per forward pass.
        device: ``None`` → CUDA when available, else CPU.
        progress: called ``progress(rows_done, rows_total)`` after each written strip.
        bands: input bands the model takes; None → :func:`model_in_channels`.

    Returns:
        ``out_path``.
    """
    if not 0 <= overlap < tile:
        raise EncroachmentError(f"overlap {overlap} must be in [0, tile={tile})")
    if dtype not in ("float32", "uint8"):
        raise EncroachmentError(f"dtype {dtype!r}: use 'float32' or 'uint8'")
    n_in = bands if bands is not None else model_in_channels(model)
    if not str(image_path).startswith("/vsimem/"):
        check_image(image_path, bands=n_in)
    dev = resolve_device(device)
    model = model.to(dev).eval()
    stride = tile - overlap
    weight = hann_window(tile)
    with rasterio.open(image_path) as src:
        if src.count < n_in:
            raise EncroachmentError(f"{image_path}: {src.count} band(s); the model needs {n_in}")
        h, w = src.height, src.width
        th, tw = (
            min(tile, h),
            min(tile, w),
        )  # tiles are padded up to ``tile`` when the scene is small
        rows, cols = tile_origins(h, tile, stride), tile_origins(w, tile, stride)
        profile = {
            "driver": "GTiff",
            "width": w,
            "height": h,
            "dtype": dtype,
            "crs": src.crs,
            "transform": src.transform,
            "compress": "deflate",
        }
        if src.crs is None:
            profile.pop("crs")
        indexes = list(range(1, n_in + 1))
        # accumulators cover image rows [top, top + buf_h); their band count C is only
        # known after the first forward pass, so they and the output open lazily
        top = 0
        buf_h = th  # each tile row starts at ``top`` once the rows above are flushed
        acc = np.zeros((0, buf_h, w), np.float32)
        wsum = np.zeros((buf_h, w), np.float32)
        dst = None
        try:
            for k, r0 in enumerate(rows):
                strip = src.read(indexes=indexes, window=Window(0, r0, w, th))
                tiles = [_pad(strip[:, :, c0 : c0 + tw], tile) for c0 in cols]
                probs: list[np.ndarray] = []
                for i in range(0, len(tiles), batch_size):
                    probs.extend(_forward(model, np.stack(tiles[i : i + batch_size]), dev))
                if dst is None:
                    n_out = probs[0].shape[0]
                    acc = np.zeros((n_out, buf_h, w), np.float32)
                    dst = rasterio.open(out_path, "w", **profile, count=n_out)
                for c0, p in zip(cols, probs, strict=True):
                    sl = (slice(r0 - top, r0 - top + th), slice(c0, c0 + tw))
                    acc[(slice(None), *sl)] += p[:, :th, :tw] * weight[:th, :tw]
                    wsum[sl] += weight[:th, :tw]
                # rows before the next tile row's start are final
                done = rows[k + 1] if k + 1 < len(rows) else h
                n = done - top
                if n > 0:
                    out = acc[:, :n] / wsum[:n]
                    if dtype == "uint8":
                        out = np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
                    dst.write(out, window=Window(0, top, w, n))
                    acc = np.concatenate([acc[:, n:], np.zeros((acc.shape[0], n, w), np.float32)],
                                         axis=1)  # fmt: skip
                    wsum = np.concatenate([wsum[n:], np.zeros((n, w), np.float32)])
                    top = done
                    if progress:
                        progress(top, h)
        finally:
            if dst is not None:
                dst.close()
    return Path(out_path)


def _pad(chip: np.ndarray, tile: int) -> np.ndarray:
    """Reflect-pads a chip smaller than ``tile`` (only when the scene is smaller than a tile)."""
    _, h, w = chip.shape
    if h == tile and w == tile:
        return chip
    mode: Literal["reflect", "edge"] = "reflect" if h > 1 and w > 1 else "edge"
    return np.pad(chip, ((0, 0), (0, tile - h), (0, tile - w)), mode=mode)


def read_probability(path: str | Path) -> np.ndarray:
    """The structure probability (band 1) of a :func:`predict_scene` output, float32 in [0, 1]."""
    with rasterio.open(path) as src:
        a: np.ndarray = src.read(1)
    return a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)


def read_probabilities(path: str | Path) -> np.ndarray:
    """Every probability band ``(C, H, W)`` of a :func:`predict_scene` output, float32."""
    with rasterio.open(path) as src:
        a: np.ndarray = src.read()
    return a.astype(np.float32) / 255.0 if a.dtype == np.uint8 else a.astype(np.float32)


def strip_rows(tile: int) -> int:
    """Rows of accumulator held at once (the memory bound, per scene column): one tile."""
    return tile


def probability_on_grid(prob_path: str | Path, like: str | Path) -> np.ndarray:
    """Band 1 of a probability raster resampled (bilinear) onto ``like``'s grid.

    Identity when the grids match; otherwise the model ran on its own working grid (another
    resolution or CRS) and its probabilities are brought back to the grid being scored.
    """
    from rasterio.warp import Resampling, reproject

    p = read_probability(prob_path)
    with rasterio.open(prob_path) as src, rasterio.open(like) as ref:
        if (src.shape, src.transform, src.crs) == (ref.shape, ref.transform, ref.crs):
            return p
        out = np.zeros(ref.shape, np.float32)
        reproject(p, out, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=ref.transform, dst_crs=ref.crs,
                  resampling=Resampling.bilinear)  # fmt: skip
        return out
