"""Training on labelled areas held in memory: real orthophotos with footprints, or synthetic.

Why in memory: a training set of labelled orthophotos is small at the working resolution
(the two real towns shipped with the project are ~2.3 megapixels at 0.3 m; a district's own
labelled blocks are tens of megapixels), while every chip is drawn, rotated and recoloured
afresh at each step. Areas are the *training side* of a spatial split (see
:mod:`models.encroachment.split`): whole chips or blocks, never pixels mixed with the
held-out side.

Targets: channel 0 the structure mask, channel 1 the contact border between two buildings
(:func:`models.encroachment.labels.contact_border`), which lets
:func:`models.encroachment.instances.building_instances` separate touching roofs. Pixels
outside the image's valid data (nodata borders, padding, corners brought in by rotation)
carry no loss.

Loss: BCE + soft Dice on the structure channel (Dice optimises overlap, what IoU measures;
BCE keeps the probabilities calibrated for the threshold) plus ``border_weight`` × BCE on
the border channel, all masked by validity.

Determinism: the chip draws and augmentations come from one seeded ``torch.Generator`` on
the CPU, the network is initialised after ``seed_everything``, and data are produced in the
main process; two CPU runs with the same seed and data end with the same weights.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import lightning as L
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.data import DataLoader, IterableDataset

from models.encroachment.augment import AugmentConfig, geometric, radiometric
from models.encroachment.errors import EncroachmentError


@dataclass
class TrainingArea:
    """One labelled area on the working grid (a chip, or a block window of a large image).

    Attributes:
        image: uint8 ``(C, H, W)``, the model's bands in order.
        mask: bool ``(H, W)``, True on structures.
        border: bool ``(H, W)``, True on contact borders between two buildings.
        valid: bool ``(H, W)``, False on nodata (no loss there).
        name: where it comes from (file and window), for reports.
        group: ``"real"`` or ``"synthetic"``: chips are drawn from the groups in the shares
            of :attr:`FitConfig.synthetic_share`, whatever their sizes.
    """

    image: np.ndarray
    mask: np.ndarray
    border: np.ndarray
    valid: np.ndarray
    name: str = ""
    group: str = "real"

    def __post_init__(self) -> None:
        shape = self.image.shape[1:]
        for k in ("mask", "border", "valid"):
            if getattr(self, k).shape != shape:
                raise EncroachmentError(
                    f"{self.name}: {k} {getattr(self, k).shape} does not match image {shape}"
                )


@dataclass
class FitConfig:
    """Everything that shapes a training run (saved in the model card's hyperparameters).

    Attributes:
        arch: ``"unet"`` (the project's own U-Net) or ``"smp-unet"`` (a
            segmentation-models-pytorch U-Net with ``encoder``; random init, no download).
        base, depth: own U-Net width and down-samplings.
        encoder: smp encoder name when ``arch="smp-unet"``.
        bands: input bands in order; ``resolution_m``: working ground resolution.
        chip: training chip side in px; ``steps``: optimiser steps; ``batch_size``.
        lr, weight_decay: AdamW, one-cycle schedule.
        border_weight: weight of the border BCE; ``border_px``: border half-width.
        threshold, border_threshold, min_seed_px: instance extraction (see
            :func:`~models.encroachment.instances.building_instances`); a pixel seeds a
            building only where the border probability is under ``border_threshold`` (0.3,
            not 0.5: a faint border still separates two roofs), and seeds under
            ``min_seed_px`` (30 px = 2.7 m² at 0.3 m) are noise.
        tile, overlap: sliding-window inference.
        synthetic_share: share of chips drawn from ``group="synthetic"`` areas when there
            are any (the demo's 1.2 km synthetic scenes are ~20× the real data; drawn by
            area they would swamp it; at 0.25 the demo's new structures were found
            11 of 14 times, see docs/models_encroachment.md).
    """

    arch: str = "smp-unet"
    base: int = 16
    depth: int = 4
    encoder: str = "resnet18"
    bands: tuple[str, ...] = ("red", "green", "blue")
    resolution_m: float = 0.3
    chip: int = 128
    steps: int = 1500
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-4
    dice_weight: float = 1.0
    border_weight: float = 0.5
    border_px: int = 2
    threshold: float = 0.5
    border_threshold: float = 0.3
    min_seed_px: int = 30
    tile: int = 256
    overlap: int = 64
    synthetic_share: float = 0.4
    augment: AugmentConfig = field(default_factory=AugmentConfig)

    @classmethod
    def tiny(cls) -> FitConfig:
        """For CI: the project's own narrow U-Net, 64-px chips, a few dozen steps (seconds)."""
        return cls(
            arch="unet",
            base=8,
            depth=3,
            chip=64,
            steps=24,
            batch_size=8,
            lr=5e-3,
            tile=128,
            overlap=32,
            min_seed_px=4,
        )

    @classmethod
    def full(cls) -> FitConfig:
        """The shipped model: a ResNet-18 U-Net, 1500 steps of 16 chips (~25 min on 2 cores)."""
        return cls()

    def hyperparameters(self) -> dict[str, Any]:
        """Card hyperparameters: what :func:`build_network` needs plus the training setup."""
        hp = asdict(self)
        hp["bands"] = list(self.bands)
        hp.update(
            in_channels=len(self.bands),
            out_channels=2,
            input_scale="dn/255",
            output="logits: 0 structure, 1 contact border (sigmoid → probability)",
        )
        return hp


def build_network(hp: dict[str, Any]) -> nn.Module:
    """Rebuilds the (untrained) network from card hyperparameters; then load a state_dict."""
    arch = hp.get("arch", "unet")
    if arch == "unet":
        from models.encroachment.unet import build_unet

        return build_unet(hp)
    if arch == "smp-unet":
        import segmentation_models_pytorch as smp

        net: nn.Module = smp.Unet(  # smp ships no types
            str(hp.get("encoder", "resnet18")),
            encoder_weights=None,
            in_channels=int(hp["in_channels"]),
            classes=int(hp.get("out_channels", 2)),
        )
        return net
    raise EncroachmentError(f"unknown architecture {arch!r}; expected 'unet' or 'smp-unet'")


class _Chips(IterableDataset[tuple[Tensor, Tensor]]):
    """Batches of augmented chips, drawn with one seeded generator in the main process."""

    def __init__(self, areas: Sequence[TrainingArea], config: FitConfig, seed: int) -> None:
        self.areas, self.config = areas, config
        self.gen = torch.Generator().manual_seed(seed)
        weights = np.array([a.valid.sum() for a in areas], np.float64)
        if weights.sum() == 0:
            raise EncroachmentError("no valid labelled pixel to train on")
        synthetic = np.array([a.group == "synthetic" for a in areas])
        if synthetic.any() and not synthetic.all():
            share = config.synthetic_share
            weights[synthetic] *= share / weights[synthetic].sum()
            weights[~synthetic] *= (1 - share) / weights[~synthetic].sum()
        self.p = torch.from_numpy(weights / weights.sum())
        # a rotated chip must not see its own corners: cut ~√2 larger, rotate, keep the centre
        self.cut = math.ceil(config.chip * 1.45) if config.augment.rotate else config.chip

    def __len__(self) -> int:
        return self.config.steps

    def _crop(self, area: TrainingArea) -> tuple[Tensor, Tensor]:
        c, h, w = area.image.shape
        s = self.cut
        r0 = int(torch.randint(0, max(1, h - s + 1), (1,), generator=self.gen))
        c0 = int(torch.randint(0, max(1, w - s + 1), (1,), generator=self.gen))
        img = np.zeros((c, s, s), np.uint8)
        lab = np.zeros((3, s, s), np.float32)
        hh, ww = min(s, h - r0), min(s, w - c0)
        img[:, :hh, :ww] = area.image[:, r0 : r0 + hh, c0 : c0 + ww]
        for k, plane in enumerate((area.mask, area.border, area.valid)):
            lab[k, :hh, :ww] = plane[r0 : r0 + hh, c0 : c0 + ww]
        return torch.from_numpy(img).float().div_(255.0), torch.from_numpy(lab)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        cfg = self.config
        for _ in range(cfg.steps):
            idx = torch.multinomial(self.p, cfg.batch_size, replacement=True, generator=self.gen)
            pairs = [self._crop(self.areas[int(i)]) for i in idx]
            image = torch.stack([p[0] for p in pairs])
            labels = torch.stack([p[1] for p in pairs])
            if cfg.augment.rotate or cfg.augment.scale:
                image, labels = geometric(image, labels, cfg.augment, self.gen)
            o = (self.cut - cfg.chip) // 2
            image = image[..., o : o + cfg.chip, o : o + cfg.chip]
            labels = labels[..., o : o + cfg.chip, o : o + cfg.chip]
            yield radiometric(image, cfg.augment, self.gen), labels


def _masked_dice(logits: Tensor, target: Tensor, valid: Tensor, eps: float = 1.0) -> Tensor:
    p = torch.sigmoid(logits) * valid
    inter = (p * target).sum()
    return 1 - (2 * inter + eps) / (p.sum() + (target * valid).sum() + eps)


def segmentation_loss(logits: Tensor, labels: Tensor, config: FitConfig) -> Tensor:
    """Masked BCE + Dice on structure, plus weighted BCE on the contact border."""
    mask, border, valid = labels[:, 0:1], labels[:, 1:2], labels[:, 2:3]
    n = valid.sum().clamp(min=1.0)
    bce = F.binary_cross_entropy_with_logits(logits[:, 0:1], mask, reduction="none")
    loss = (bce * valid).sum() / n + config.dice_weight * _masked_dice(logits[:, 0:1], mask, valid)
    if logits.shape[1] > 1 and config.border_weight:
        bb = F.binary_cross_entropy_with_logits(
            logits[:, 1:2],
            border,
            reduction="none",
            pos_weight=torch.tensor(3.0, device=logits.device),
        )
        loss = loss + config.border_weight * (bb * valid).sum() / n
    return loss


class FitModule(L.LightningModule):
    """The network with its loss, optimiser and per-step loss history."""

    def __init__(self, config: FitConfig) -> None:
        super().__init__()
        self.config = config
        self.net = build_network(config.hyperparameters())
        self.history: list[float] = []

    def forward(self, x: Tensor) -> Tensor:
        logits: Tensor = self.net(x)
        return logits

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        image, labels = batch
        loss = segmentation_loss(self.net(image), labels, self.config)
        self.history.append(float(loss.detach()))
        return loss

    def configure_optimizers(self) -> Any:
        c = self.config
        opt = torch.optim.AdamW(self.net.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=c.lr, total_steps=c.steps, pct_start=0.1
        )
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class _Progress(L.Callback):
    def __init__(self, fn: Callable[[int, int, float], None], every: int) -> None:
        self.fn, self.every = fn, every

    def on_train_batch_end(
        self,
        trainer: L.Trainer,
        pl_module: L.LightningModule,
        outputs: Any,
        batch: Any,
        batch_idx: int,
    ) -> None:
        assert isinstance(pl_module, FitModule)
        step = batch_idx + 1
        if step % self.every == 0 or step == pl_module.config.steps:
            recent = pl_module.history[-self.every :]
            self.fn(step, pl_module.config.steps, sum(recent) / max(1, len(recent)))


@dataclass
class FitResult:
    """A trained network (eval mode, on CPU), its loss history and the wall time."""

    model: nn.Module
    history: list[float]
    seconds: float
    device: str


def fit(
    areas: Sequence[TrainingArea],
    *,
    config: FitConfig,
    seed: int,
    device: str | torch.device | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> FitResult:
    """Trains the structure + border network on ``areas``.

    Args:
        areas: labelled areas (the training side of the split) with ``len(config.bands)``
            bands each.
        config: see :class:`FitConfig`.
        seed: same seed and areas ⇒ same weights on a CPU.
        device: ``None`` → CUDA when available, else CPU.
        progress: ``progress(step, steps, mean recent loss)`` every ~2 % of the steps.
    """
    from models.encroachment.train import resolve_device

    if not areas:
        raise EncroachmentError("no labelled area to train on")
    bad = [a.name for a in areas if a.image.shape[0] != len(config.bands)]
    if bad:
        raise EncroachmentError(
            f"{bad[0]}: {len(config.bands)} band(s) expected ({', '.join(config.bands)})"
        )
    t0 = time.perf_counter()
    dev = resolve_device(device)
    L.seed_everything(seed, workers=True, verbose=False)
    torch.use_deterministic_algorithms(True, warn_only=True)
    module = FitModule(config)
    loader = DataLoader(_Chips(areas, config, seed), batch_size=None, num_workers=0)
    trainer = L.Trainer(
        accelerator="gpu" if dev.type == "cuda" else "cpu",
        devices=[dev.index or 0] if dev.type == "cuda" else 1,
        max_epochs=1,
        deterministic="warn",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[_Progress(progress, max(1, config.steps // 50))] if progress else [],
    )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*IterableDataset. has .__len__. defined")
        warnings.filterwarnings("ignore", message=".*treespec, LeafSpec.*")
        warnings.filterwarnings("ignore", message=".*does not have many workers.*")
        trainer.fit(module, train_dataloaders=loader)
    net = module.net.cpu().eval()
    return FitResult(net, list(module.history), time.perf_counter() - t0, str(dev))
