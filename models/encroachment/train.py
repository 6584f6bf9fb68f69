"""Training: a LightningModule around :class:`~models.encroachment.unet.UNet`.

Why Lightning: it gives the device placement (``accelerator="auto"`` uses a GPU when
present), the epoch loop and ``deterministic`` mode for free, and the CLI can hand it a
progress callback. It is configured to write nothing (no logger, no checkpoints, no
progress bar): the trained weights go to the registry through the caller.

Determinism: :func:`train` seeds Python, NumPy and torch (``seed_everything``), asks for
deterministic algorithms (``warn_only`` so an op without a deterministic kernel on some
GPU warns instead of failing), draws chips with a seeded sampler and augments with the
seeded global torch RNG, and loads data in the main process. Two CPU runs with the same
seed and files therefore end with identical weights.

Loss: BCE + soft Dice on the structure logit. BCE alone under-weights the rare structure
class (a few % of pixels in fields, ~30 % in an abadi); Dice directly optimises overlap,
which is what IoU/F1 measure. Augmentation: random flips and 90° rotations (nadir imagery
has no up; shadows always fall the same way, but flips are harmless and help small data).
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import Tensor, nn

from models.encroachment.data import PathList, make_dataset, normalize, pair_files, train_loader
from models.encroachment.unet import UNet
from models.registry import data_fingerprint


@dataclass
class SegConfig:
    """Everything that shapes a training run (saved in the model card's hyperparameters).

    Attributes:
        base: U-Net channels at full resolution.
        depth: U-Net down-samplings.
        chip: training chip side in pixels (multiple of ``2**depth``).
        chips_per_epoch: chips drawn by the random sampler per epoch.
        epochs: training epochs.
        batch_size: chips per optimiser step.
        lr: Adam learning rate (cosine-annealed to 5 % over the run).
        weight_decay: Adam weight decay.
        dice_weight: weight of the Dice term beside BCE.
        keep_empty: share of structure-free random chips kept (see ``StructureBiasedChips``).
        threshold: probability above which a pixel is a structure.
        tile, overlap: sliding-window inference tile and overlap in pixels.
    """

    base: int = 16
    depth: int = 4
    chip: int = 128
    chips_per_epoch: int = 400
    epochs: int = 12
    batch_size: int = 16
    lr: float = 2e-3
    weight_decay: float = 1e-5
    dice_weight: float = 1.0
    keep_empty: float = 0.2
    threshold: float = 0.5
    tile: int = 256
    overlap: int = 64
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def tiny(cls) -> SegConfig:
        """For CI: a narrow net on 64-px chips, a few seconds on a 200 m window.

        ``keep_empty=1``: no chip rejection, so no extra reads on the sparse test window.
        """
        return cls(
            keep_empty=1.0,
            base=8,
            depth=3,
            chip=64,
            chips_per_epoch=32,
            epochs=3,
            batch_size=8,
            lr=5e-3,
            tile=128,
            overlap=32,
        )

    @classmethod
    def full(cls) -> SegConfig:
        """The shipped model: mouza 1's 1.2 km orthophotos, both dates (~20 min on 2 CPU cores)."""
        return cls()


@dataclass
class TrainResult:
    """A trained model (eval mode, on CPU), per-epoch mean loss, and the data fingerprint."""

    model: UNet
    history: list[float]
    data_fingerprint: str
    seconds: float = 0.0


def hyperparameters(config: SegConfig) -> dict[str, Any]:
    """Card hyperparameters: architecture (for :func:`build_model`) plus the training setup."""
    hp = asdict(config)
    hp.update(
        arch="unet",
        in_channels=4,
        input_scale="dn/255",
        bands=["red", "green", "blue", "nir"],
        output="logit of structure (sigmoid → probability)",
    )
    return hp


def build_model(hp: dict[str, Any]) -> nn.Module:
    """Rebuilds the (untrained) network of any structure card; then load a state_dict.

    Cards of the project's own U-Net (``arch="unet"``, this module's synthetic-imagery
    training) and of :mod:`models.encroachment.fit` (``"smp-unet"`` too) alike.
    """
    from models.encroachment.fit import build_network

    return build_network(hp)


def _dice_loss(logits: Tensor, target: Tensor, eps: float = 1.0) -> Tensor:
    p = torch.sigmoid(logits)
    inter = (p * target).sum()
    return 1 - (2 * inter + eps) / (p.sum() + target.sum() + eps)


def _augment(image: Tensor, mask: Tensor) -> tuple[Tensor, Tensor]:
    """Per-chip random rot90 (0–3) and horizontal flip, identical for image and mask."""
    k = torch.randint(0, 4, (image.shape[0],))
    f = torch.randint(0, 2, (image.shape[0],))
    imgs, msks = [], []
    for i in range(image.shape[0]):
        im, m = (
            torch.rot90(image[i], int(k[i]), (-2, -1)),
            torch.rot90(mask[i], int(k[i]), (-2, -1)),
        )
        if f[i]:
            im, m = im.flip(-1), m.flip(-1)
        imgs.append(im)
        msks.append(m)
    return torch.stack(imgs), torch.stack(msks)


class SegModule(L.LightningModule):
    """Wraps the U-Net with loss, augmentation, optimiser and per-epoch loss history."""

    def __init__(self, config: SegConfig) -> None:
        super().__init__()
        self.config = config
        self.net = UNet(4, config.base, config.depth)
        self.history: list[float] = []
        self._losses: list[float] = []

    def forward(self, x: Tensor) -> Tensor:
        logits: Tensor = self.net(x)
        return logits

    def training_step(self, batch: dict[str, Any], batch_idx: int) -> Tensor:
        # augment on CPU with the global RNG so GPU and CPU runs draw the same augmentations
        image, mask = _augment(batch["image"].cpu(), batch["mask"].cpu())
        x = normalize(image).to(self.device)
        y = (mask > 0).float().unsqueeze(1).to(self.device)
        logits = self.net(x)
        loss = F.binary_cross_entropy_with_logits(logits, y)
        loss = loss + self.config.dice_weight * _dice_loss(logits, y)
        self._losses.append(float(loss.detach()))
        return loss

    def epoch_loss(self) -> float:
        """Mean training loss of the epoch so far."""
        return sum(self._losses) / max(1, len(self._losses))

    def on_train_epoch_end(self) -> None:
        self.history.append(self.epoch_loss())
        self._losses = []

    def configure_optimizers(self) -> Any:
        c = self.config
        opt = torch.optim.Adam(self.net.parameters(), lr=c.lr, weight_decay=c.weight_decay)
        steps = max(1, c.epochs * -(-c.chips_per_epoch // c.batch_size))
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps, eta_min=c.lr * 0.05)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}


class _Progress(L.Callback):
    def __init__(self, fn: Callable[[int, int, float], None]) -> None:
        self.fn = fn

    def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        assert isinstance(pl_module, SegModule)
        # callbacks run before the module's own hook, so take the mean here
        self.fn(trainer.current_epoch + 1, trainer.max_epochs or 0, pl_module.epoch_loss())


def resolve_device(device: str | torch.device | None) -> torch.device:
    """``None`` → CUDA when available, else CPU."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def train(
    images: PathList,
    masks: PathList,
    *,
    config: SegConfig,
    seed: int,
    device: str | torch.device | None = None,
    progress: Callable[[int, int, float], None] | None = None,
) -> TrainResult:
    """Trains a U-Net on ``images`` (``ortho_<date>.tif``) with their ``buildings_<date>.tif``.

    Args:
        images: orthophoto paths; each needs its mask beside it (same folder and date).
        masks: mask paths.
        config: see :class:`SegConfig` (``SegConfig.tiny()`` / ``SegConfig.full()``).
        seed: seeds everything; same seed and files ⇒ same weights on CPU.
        device: ``"cpu"``, ``"cuda"``…; ``None`` picks CUDA when available.
        progress: called ``progress(epoch, epochs, mean_loss)`` after each epoch.

    Raises:
        BadImagery / GridMismatch: unusable or misaligned files.
    """
    t0 = time.perf_counter()
    dev = resolve_device(device)
    pairs = pair_files(images, masks)
    L.seed_everything(seed, workers=True, verbose=False)
    torch.use_deterministic_algorithms(True, warn_only=True)
    ds = make_dataset([i for i, _ in pairs], [m for _, m in pairs])
    loader = train_loader(
        ds,
        size=config.chip,
        length=config.chips_per_epoch,
        batch_size=config.batch_size,
        seed=seed,
        keep_empty=config.keep_empty,
    )
    module = SegModule(config)
    trainer = L.Trainer(
        accelerator="gpu" if dev.type == "cuda" else "cpu",
        devices=[dev.index or 0] if dev.type == "cuda" else 1,
        max_epochs=config.epochs,
        deterministic="warn",
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
        callbacks=[_Progress(progress)] if progress else [],
    )
    with warnings.catch_warnings():
        # the chip stream defines __len__ for Lightning's epoch length; it runs in-process, so
        # the multi-worker caveat Lightning warns about does not apply
        warnings.filterwarnings("ignore", message=".*IterableDataset. has .__len__. defined")
        warnings.filterwarnings("ignore", message=".*treespec, LeafSpec.*")
        trainer.fit(module, train_dataloaders=loader)
    net = module.net.cpu().eval()
    files: list[Path] = [p for pair in pairs for p in pair]
    return TrainResult(net, list(module.history), data_fingerprint(files), time.perf_counter() - t0)
