"""Augmentation for what varies between orthophotos in the field.

A structure model trained on two towns must still work on a district's own flight: other
sensors, sun and season, haze, JPEG-compressed deliveries, 0.1–0.75 m ground resolution
resampled to the model's working grid, any orientation. Each transform below imitates one
of those, drawn independently per chip with a seeded generator:

- **geometry** – rotation by any angle (buildings are not axis-aligned, and nadir imagery has
  no "up"), mirror, and a scale jitter of ±20 % (roof sizes vary, and a source resolution
  off the working one leaves residual scale). Labels are resampled with nearest neighbour
  so instance ids and the border class stay crisp.
- **resolution** – down-sample by 1–2.5× and back (bilinear): what a 0.5–0.75 m source looks
  like after up-sampling to the working grid.
- **blur and sharpness** – Gaussian blur (σ up to 1.2 px; motion, defocus, resampling) or an
  unsharp mask (vendors sharpen deliveries).
- **colour and brightness** – per-band gain, offset, contrast around the chip mean,
  saturation and gamma (white balance, exposure, season, sensor).
- **haze** – a blend towards a bright bluish-grey veil (thin cloud, smog, aerosol).
- **noise** – Gaussian sensor noise.

Everything works on float tensors in [0, 1] on the CPU, so a GPU and a CPU run draw the same
augmentations from the same seed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor


@dataclass(frozen=True)
class AugmentConfig:
    """Probabilities and ranges of each augmentation (saved on the model card)."""

    rotate: bool = True
    scale: float = 0.2
    p_resolution: float = 0.25
    max_downsample: float = 2.5
    p_blur: float = 0.15
    max_blur_sigma: float = 1.2
    p_sharpen: float = 0.1
    p_colour: float = 0.7
    p_haze: float = 0.1
    max_haze: float = 0.35
    p_noise: float = 0.15
    noise_sigma: float = 0.02


def geometric(
    image: Tensor, labels: Tensor, cfg: AugmentConfig, gen: torch.Generator
) -> tuple[Tensor, Tensor]:
    """Random rotation, mirror and scale of a batch, the same for image and labels.

    Args:
        image: float ``(B, C, H, W)``.
        labels: float ``(B, K, H, W)`` label planes (mask, border, valid…), resampled with
            nearest neighbour; pixels brought in from outside the chip get label planes 0, so
            a "valid" plane marks them as not to be scored.
    """
    b = image.shape[0]
    angle = torch.rand(b, generator=gen) * 2 * math.pi if cfg.rotate else torch.zeros(b)
    scale = 1 + (torch.rand(b, generator=gen) * 2 - 1) * cfg.scale
    flip = torch.where(torch.rand(b, generator=gen) < 0.5, -1.0, 1.0)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.zeros(b, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1] = cos * flip, -sin
    theta[:, 1, 0], theta[:, 1, 1] = sin * flip, cos
    grid = F.affine_grid(theta, list(image.shape), align_corners=False)
    image = F.grid_sample(
        image, grid, mode="bilinear", padding_mode="reflection", align_corners=False
    )
    labels = F.grid_sample(labels, grid, mode="nearest", padding_mode="zeros", align_corners=False)
    return image, labels


def _gaussian_blur(x: Tensor, sigma: float) -> Tensor:
    r = max(1, math.ceil(2.5 * sigma))
    k = torch.exp(-0.5 * (torch.arange(-r, r + 1, dtype=x.dtype) / sigma) ** 2)
    k = k / k.sum()
    c = x.shape[1]
    x = F.pad(x, (r, r, r, r), mode="reflect")
    x = F.conv2d(x, k.view(1, 1, 1, -1).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(x, k.view(1, 1, -1, 1).repeat(c, 1, 1, 1), groups=c)


def radiometric(image: Tensor, cfg: AugmentConfig, gen: torch.Generator) -> Tensor:
    """Resolution, blur/sharpen, colour, haze and noise, drawn per chip; returns [0, 1]."""
    out = []
    for x in torch.split(image, 1):  # Tensor.split is untyped; torch.split calls it
        u = torch.rand(8, generator=gen)
        h, w = x.shape[-2:]
        if u[0] < cfg.p_resolution:
            f = 1 + float(torch.rand(1, generator=gen)) * (cfg.max_downsample - 1)
            small = F.interpolate(x, size=(max(8, round(h / f)), max(8, round(w / f))), mode="area")
            x = F.interpolate(small, size=(h, w), mode="bilinear", align_corners=False)
        if u[1] < cfg.p_blur:
            sigma = 0.4 + float(torch.rand(1, generator=gen)) * (cfg.max_blur_sigma - 0.4)
            x = _gaussian_blur(x, sigma)
        elif u[2] < cfg.p_sharpen:
            amount = 0.3 + float(torch.rand(1, generator=gen)) * 0.9
            x = x + amount * (x - _gaussian_blur(x, 1.0))
        if u[3] < cfg.p_colour:
            r = torch.rand(4, x.shape[1], generator=gen)
            gain = 0.8 + 0.4 * r[0]  # per band: white balance
            x = x * gain.view(1, -1, 1, 1) + (r[1].view(1, -1, 1, 1) - 0.5) * 0.1
            mean = x.mean(dim=(1, 2, 3), keepdim=True)
            x = (x - mean) * (0.7 + 0.6 * float(r[2, 0])) + mean  # contrast
            grey = x[:, :3].mean(dim=1, keepdim=True)
            sat = 0.6 + 0.8 * float(r[3, 0])
            x = torch.cat([(x[:, :3] - grey) * sat + grey, x[:, 3:]], dim=1)
            x = x.clamp(0, 1) ** (0.7 + 0.6 * float(r[2, -1]))  # gamma
        if u[4] < cfg.p_haze:
            a = float(torch.rand(1, generator=gen)) * cfg.max_haze
            veil = torch.tensor([0.80, 0.83, 0.88, 0.8][: x.shape[1]]).view(1, -1, 1, 1)
            x = x * (1 - a) + veil * a
        if u[5] < cfg.p_noise:
            x = x + torch.randn(x.shape, generator=gen) * cfg.noise_sigma
        out.append(x.clamp(0, 1))
    return torch.cat(out)
