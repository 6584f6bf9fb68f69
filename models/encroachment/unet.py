"""A small U-Net for binary segmentation of structures on 0.5 m RGBN imagery.

Why our own and this small: no pretrained weights may be downloaded, the imagery has four
bands (ImageNet encoders expect three), and a roof at 0.5 m is a few to a few tens of pixels
across, so a shallow, narrow network (base 16 channels, 4 down-samplings, receptive field
~ 140 px) has ample capacity while training on two CPU cores. With the defaults it has
~1.9 M parameters (~7.5 MB of float32 weights). Everything needed to rebuild it is in
:func:`hyperparameters`, so a registry card plus a safetensors state_dict round-trips.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn


def _block(cin: int, cout: int) -> nn.Sequential:
    # conv-BN-ReLU twice; no bias before BatchNorm (it would be cancelled anyway)
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net: ``depth`` max-pool down-samplings, channels ``base·2^level``.

    Input: float ``(B, in_channels, H, W)`` scaled to [0, 1] with H and W multiples of
    ``2**depth``. Output: logits ``(B, out_channels, H, W)`` (``sigmoid`` for
    probabilities): channel 0 structure, channel 1 (when present) contact border.
    """

    def __init__(
        self, in_channels: int = 4, base: int = 16, depth: int = 4, out_channels: int = 1
    ) -> None:
        super().__init__()
        self.in_channels, self.base, self.depth = in_channels, base, depth
        self.out_channels = out_channels
        ch = [base * 2**i for i in range(depth + 1)]
        self.down = nn.ModuleList([_block(in_channels, ch[0])])
        self.down.extend(_block(ch[i], ch[i + 1]) for i in range(depth))
        self.pool = nn.MaxPool2d(2)
        self.up = nn.ModuleList(
            nn.ConvTranspose2d(ch[i + 1], ch[i], 2, stride=2) for i in reversed(range(depth))
        )
        self.dec = nn.ModuleList(_block(2 * ch[i], ch[i]) for i in reversed(range(depth)))
        self.head = nn.Conv2d(ch[0], out_channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        skips = []
        for i, blk in enumerate(self.down):
            x = blk(x if i == 0 else self.pool(x))
            skips.append(x)
        x = skips.pop()
        for up, dec in zip(self.up, self.dec, strict=True):
            x = dec(torch.cat([up(x), skips.pop()], dim=1))
        logits: Tensor = self.head(x)
        return logits

    @property
    def multiple(self) -> int:
        """Tile sides must be multiples of this."""
        multiple: int = 2**self.depth  # int ** int is typed Any (a negative power is a float)
        return multiple


def model_hyperparameters(model: UNet) -> dict[str, Any]:
    """What :func:`build_unet` needs to rebuild ``model``'s architecture."""
    return {
        "arch": "unet",
        "in_channels": model.in_channels,
        "base": model.base,
        "depth": model.depth,
        "out_channels": model.out_channels,
    }


def build_unet(hp: dict[str, Any]) -> UNet:
    """Rebuilds the architecture from :func:`model_hyperparameters` (extra keys ignored)."""
    arch = hp.get("arch", "unet")
    if arch != "unet":
        from models.encroachment.errors import EncroachmentError

        raise EncroachmentError(f"unknown architecture {arch!r}; expected 'unet'")
    return UNet(
        int(hp.get("in_channels", 4)),
        int(hp.get("base", 16)),
        int(hp.get("depth", 4)),
        int(hp.get("out_channels", 1)),
    )
