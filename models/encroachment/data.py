"""torchgeo datasets and samplers over the 0.5 m RGBN orthophotos and building masks.

The orthophotos (``ortho_<date>.tif``) and ground-truth masks (``buildings_<date>.tif``)
are indexed by two :class:`~torchgeo.datasets.RasterDataset` subclasses whose filename
regex captures the date, so each file gets a one-day time interval. Joining them with
``&`` (an :class:`~torchgeo.datasets.IntersectionDataset`) pairs every image with the mask
of the *same* place and date: the intersection is spatio-temporal, so the 2024 image never
meets the 2026 mask even though they cover the same ground. Several folders (mouzas) can be
given at once; they are simply more entries in the spatial index.

Training draws chips with a seeded :class:`~torchgeo.samplers.RandomGeoSampler` (sizes in
pixels); evaluation walks a :class:`~torchgeo.samplers.GridGeoSampler`. Samples are
batched with :func:`~torchgeo.datasets.stack_samples`: ``image`` is float32 ``(B, 4, H, W)``
in DN (0–255; divide by 255 with :func:`normalize`), ``mask`` is int64 ``(B, H, W)``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import rasterio
import torch
from torch import Tensor
from torch.utils.data import DataLoader, IterableDataset
from torchgeo.datasets import IntersectionDataset, RasterDataset, stack_samples
from torchgeo.samplers import GridGeoSampler, RandomGeoSampler, Units

from models.encroachment.errors import BadImagery, GridMismatch

BANDS = ("red", "green", "blue", "nir")
"""Band order the models expect."""

PathList = Sequence[str | Path]


class Orthophotos(RasterDataset):
    """4-band (red, green, blue, nir) uint8 orthophotos named ``ortho_<YYYY-MM-DD>.tif``."""

    filename_glob = "ortho_*.tif"
    filename_regex = r"^ortho_(?P<date>\d{4}-\d{2}-\d{2})\.tif$"
    date_format = "%Y-%m-%d"
    is_image = True
    separate_files = False
    all_bands = BANDS
    rgb_bands = ("red", "green", "blue")


class BuildingMasks(RasterDataset):
    """Single-band masks (1 = structure) named ``buildings_<YYYY-MM-DD>.tif``."""

    filename_glob = "buildings_*.tif"
    filename_regex = r"^buildings_(?P<date>\d{4}-\d{2}-\d{2})\.tif$"
    date_format = "%Y-%m-%d"
    is_image = False
    separate_files = False


def normalize(image: Tensor) -> Tensor:
    """uint8 DN → float in [0, 1] (the only input scaling the models use)."""
    return image.float() / 255.0


def check_image(path: str | Path, bands: int = 4) -> None:
    """Raises :class:`BadImagery` unless ``path`` is a readable raster with ≥ ``bands``
    uint8 bands (a model reads the first ``bands``; see
    :func:`models.encroachment.imagery.prepare_image` for any other imagery)."""
    p = Path(path)
    if not p.is_file():
        raise BadImagery(f"{p}: no such image")
    with rasterio.open(p) as src:
        if src.count < bands:
            names = ", ".join(BANDS) if bands == len(BANDS) else f"{bands} bands"
            raise BadImagery(f"{p}: {src.count} band(s); need {bands} ({names})")
        if any(src.dtypes[i] != "uint8" for i in range(bands)):
            raise BadImagery(f"{p}: dtype {src.dtypes[0]}; need uint8 DN")


def check_same_grid(a: str | Path, b: str | Path) -> None:
    """Raises :class:`GridMismatch` unless ``a`` and ``b`` share CRS, transform and shape."""
    with rasterio.open(a) as ra, rasterio.open(b) as rb:
        ga = (ra.crs, tuple(ra.transform)[:6], ra.shape)
        gb = (rb.crs, tuple(rb.transform)[:6], rb.shape)
    if ga != gb:
        raise GridMismatch(f"{a} and {b} are not on the same grid: {ga} vs {gb}")


def pair_files(images: PathList, masks: PathList) -> list[tuple[Path, Path]]:
    """Pairs each image with its mask (same folder and date), checking bands and grids."""
    if not images:
        raise BadImagery("no images given")
    by_key = {(Path(m).parent, Path(m).name.removeprefix("buildings_")): Path(m) for m in masks}
    pairs = []
    for im in map(Path, images):
        check_image(im)
        key = (im.parent, im.name.removeprefix("ortho_"))
        if key not in by_key:
            raise BadImagery(f"{im}: no mask buildings_{key[1]} beside it")
        check_same_grid(im, by_key[key])
        pairs.append((im, by_key[key]))
    return pairs


def make_dataset(images: PathList, masks: PathList) -> IntersectionDataset:
    """``Orthophotos & BuildingMasks`` over the given files (validated first)."""
    pairs = pair_files(images, masks)
    imgs = Orthophotos(paths=[str(i) for i, _ in pairs])
    msks = BuildingMasks(paths=[str(m) for _, m in pairs])
    return imgs & msks


class StructureBiasedChips(IterableDataset[dict[str, Tensor]]):
    """Random chips, keeping structure-free ones only with probability ``keep_empty``.

    Why: structures cover ~2 % of a 1.2 km window of fields, so most random chips hold no
    structure at all and teach only "background". Rejecting most empty chips (reading a
    chip costs far less than a training step on it) concentrates the steps on roofs and
    their edges while still showing fields, roads and water. ``keep_empty=1`` gives plain
    random sampling. Each epoch yields exactly ``length`` chips.
    """

    def __init__(
        self,
        dataset: IntersectionDataset,
        *,
        size: int,
        length: int,
        seed: int,
        keep_empty: float = 1.0,
    ) -> None:
        self.dataset, self.size, self.length, self.keep_empty = dataset, size, length, keep_empty
        self.gen = torch.Generator().manual_seed(seed)
        self.sampler = RandomGeoSampler(
            dataset, size=size, length=1 << 30, units=Units.PIXELS, generator=self.gen
        )

    def __len__(self) -> int:
        return self.length

    def __iter__(self) -> Iterator[dict[str, Tensor]]:
        queries = iter(self.sampler)
        kept = 0
        while kept < self.length:
            sample = self.dataset[next(queries)]
            empty = not bool(sample["mask"].any())
            if empty and float(torch.rand(1, generator=self.gen)) >= self.keep_empty:
                continue
            kept += 1
            yield {"image": sample["image"], "mask": sample["mask"]}


def train_loader(
    dataset: IntersectionDataset,
    *,
    size: int,
    length: int,
    batch_size: int,
    seed: int,
    keep_empty: float = 1.0,
) -> DataLoader[dict[str, Tensor]]:
    """Random chips of ``size`` px; ``length`` chips per epoch; seeded (see
    :class:`StructureBiasedChips`).

    The sampler's own generator picks positions inside a tile; which tile is drawn uses the
    global torch RNG (``torch.multinomial`` in torchgeo), so callers seed that too.
    """
    chips = StructureBiasedChips(
        dataset, size=size, length=length, seed=seed, keep_empty=keep_empty
    )
    return DataLoader(chips, batch_size=batch_size, collate_fn=stack_samples, num_workers=0)


def grid_loader(
    dataset: IntersectionDataset, *, size: int, batch_size: int
) -> DataLoader[dict[str, Any]]:
    """Non-overlapping chips of ``size`` px covering every file (for evaluation/validation)."""
    sampler = GridGeoSampler(dataset, size=size, stride=size, units=Units.PIXELS)
    return DataLoader(
        dataset, batch_size=batch_size, sampler=sampler, collate_fn=stack_samples, num_workers=0
    )
