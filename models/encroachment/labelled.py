"""The user's own orthophotos and footprints: load, split by area, score any model.

This is what ``landgov models train encroachment --images … --labels …`` and ``landgov
models evaluate NAME --images … --labels …`` run (through :mod:`landgov.jobs.training`):

1. :func:`load_labelled` reads every image onto the model's working grid
   (:func:`~models.encroachment.imagery.read_working_image`: bands by name, any CRS, any
   resolution, 8/16-bit) and rasterises the footprints (any CRS) onto it;
2. :func:`~models.encroachment.split.spatial_split` cuts the images into blocks of ground
   and holds whole blocks out; :func:`training_areas` turns the training side into
   :class:`~models.encroachment.fit.TrainingArea` s;
3. :func:`score` measures a predictor on the held-out windows (or on whole images):
   pixel IoU/precision/recall/F1 of the structure class (valid pixels only) and the
   SpaceNet building precision/recall/F1 (one-to-one matches at IoU ≥ 0.5, buildings
   under ``min_area_m2`` ignored on both sides), per image and overall (micro-averaged:
   counts summed before the ratios).

A predictor is a function ``image → (structure, border or None)`` on the image's working
grid, so the new network, an older registered model with other bands and resolution
(:func:`registered_predictor`) and the non-deep baseline are scored on exactly the same
pixels and the same truth.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.encroachment.buildings import BuildingCounts, match_buildings
from models.encroachment.errors import EncroachmentError
from models.encroachment.fit import TrainingArea
from models.encroachment.instances import building_instances
from models.encroachment.labels import LabelledImage, label_image, read_footprints
from models.encroachment.metrics import Confusion
from models.encroachment.split import Window

Predictor = Callable[[LabelledImage], tuple[np.ndarray, np.ndarray | None]]
"""``labelled image → (structure probability, border probability or None)``, (H, W) each."""

MIN_BUILDING_M2 = 4.0
"""Smaller footprints (a water tank, a kiosk's awning) are ignored by the building metric."""


def load_labelled(
    images: Sequence[str | Path],
    labels: Sequence[str | Path],
    *,
    bands: Sequence[str],
    resolution_m: float,
    border_px: int = 2,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[LabelledImage]:
    """Every image on the working grid with the footprints of all ``labels`` files on it.

    Raises:
        BadImagery, MissingBands, NotGeoreferenced: an image cannot be used (names it).
        BadLabels: a footprint file cannot be used (names it).
        EncroachmentError: no image, or no footprint falls on any image.
    """
    import geopandas as gpd
    import pandas as pd

    from models.encroachment.imagery import read_working_image

    if not images:
        raise EncroachmentError("no image given (--images)")
    if not labels:
        raise EncroachmentError("no footprint file given (--labels)")
    frames = [read_footprints(p).to_crs("EPSG:4326") for p in labels]
    footprints = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), crs="EPSG:4326")
    out = []
    for i, path in enumerate(images):
        if progress:
            progress(i, len(images), Path(path).name)
        wi = read_working_image(path, bands=bands, resolution_m=resolution_m)
        out.append(label_image(wi, footprints, border_px=border_px))
    if progress:
        progress(len(images), len(images), "")
    if not any(li.mask.any() for li in out):
        raise EncroachmentError(
            f"none of the {len(frames)} footprint file(s) ({', '.join(map(str, labels))}) has a"
            f" building on any of the {len(out)} image(s): check that they cover the same ground"
        )
    return out


def whole_windows(labelled: Sequence[LabelledImage]) -> list[Window]:
    """One window per image covering all of it (to score on images held out as a whole).

    Each is its own block ``("whole", i, 0)``: no spatial block holds a whole image.
    """
    return [
        Window(i, slice(0, li.mask.shape[0]), slice(0, li.mask.shape[1]), ("whole", i, 0))
        for i, li in enumerate(labelled)
    ]


def training_areas(
    labelled: Sequence[LabelledImage], windows: Sequence[Window], group: str = "real"
) -> list[TrainingArea]:
    """The windows as in-memory training areas (image, mask, border, valid), of ``group``."""
    out = []
    for w in windows:
        li = labelled[w.image_index]
        wi = li.image
        out.append(
            TrainingArea(
                image=np.ascontiguousarray(wi.array[:, w.rows, w.cols]),
                mask=li.mask[w.rows, w.cols] > 0,
                border=li.border[w.rows, w.cols],
                valid=wi.valid[w.rows, w.cols],
                name=f"{li.name}[{w.rows.start}:{w.rows.stop}, {w.cols.start}:{w.cols.stop}]",
                group=group,
            )
        )
    return out


@dataclass
class Scores:
    """Pixel and building counts per image and overall; :meth:`as_dict` gives the ratios."""

    pixels: dict[str, Confusion] = field(default_factory=dict)
    buildings: dict[str, BuildingCounts] = field(default_factory=dict)

    def add(self, name: str, confusion: Confusion, counts: BuildingCounts) -> None:
        self.pixels[name] = self.pixels.get(name, Confusion()) + confusion
        self.buildings[name] = self.buildings.get(name, BuildingCounts()) + counts

    def overall(self) -> dict[str, Any]:
        return _entry(
            sum(self.pixels.values(), Confusion()),
            sum(self.buildings.values(), BuildingCounts()),
        )

    def as_dict(self) -> dict[str, Any]:
        """``{"overall": {...}, "images": {name: {...}}}`` with pixel and building scores."""
        return {
            "overall": self.overall(),
            "images": {n: _entry(self.pixels[n], self.buildings[n]) for n in sorted(self.pixels)},
        }


def _entry(c: Confusion, b: BuildingCounts) -> dict[str, Any]:
    return {
        "pixel": {k: round(v, 4) for k, v in c.scores().items()}
        | {"tp": c.tp, "fp": c.fp, "fn": c.fn},
        "building": {k: round(v, 4) for k, v in b.scores().items()}
        | {"tp": b.tp, "fp": b.fp, "fn": b.fn},
        "pixels_scored": c.tp + c.fp + c.fn + c.tn,
    }


def score(
    predictor: Predictor,
    labelled: Sequence[LabelledImage],
    windows: Sequence[Window],
    *,
    threshold: float = 0.5,
    border_threshold: float = 0.5,
    min_seed_px: int = 4,
    min_area_m2: float = MIN_BUILDING_M2,
    progress: Callable[[int, int, str], None] | None = None,
) -> Scores:
    """Scores ``predictor`` on ``windows`` of ``labelled`` (see the module doc).

    Each image is predicted once, whole (its windows keep their context), then every window
    is scored on its own: a building cut by a window's edge is cut the same way in the
    prediction and in the truth, so it is still one building on each side.
    """
    scores = Scores()
    by_image: dict[int, list[Window]] = {}
    for w in windows:
        by_image.setdefault(w.image_index, []).append(w)
    for k, (i, ws) in enumerate(sorted(by_image.items())):
        li = labelled[i]
        if progress:
            progress(k, len(by_image), li.name)
        structure, border = predictor(li)
        res = abs(li.image.transform.a)
        min_px = max(1, round(min_area_m2 / (res * res)))
        for w in ws:
            valid = li.image.valid[w.rows, w.cols]
            truth = li.mask[w.rows, w.cols] > 0
            prob = structure[w.rows, w.cols]
            conf = Confusion().add((prob >= threshold)[valid], truth[valid])
            pred_inst = building_instances(
                prob,
                None if border is None else border[w.rows, w.cols],
                threshold=threshold,
                border_threshold=border_threshold,
                min_seed_px=min_seed_px,
            )
            counts = match_buildings(
                pred_inst, li.instances[w.rows, w.cols], min_area_px=min_px, ignore=~valid
            )
            scores.add(li.name, conf, counts)
    if progress:
        progress(len(by_image), len(by_image), "")
    return scores


def network_predictor(model: Any, hp: dict[str, Any], *, device: str | None = None) -> Predictor:
    """A network whose bands and resolution are those the images were loaded with."""
    from models.encroachment.infer import predict_array

    def run(li: LabelledImage) -> tuple[np.ndarray, np.ndarray | None]:
        p = predict_array(
            model,
            li.image.array,
            tile=int(hp.get("tile", 256)),
            overlap=int(hp.get("overlap", 64)),
            device=device,
            all_bands=True,
        )
        p = p * li.image.valid
        return p[0], (p[1] if p.shape[0] > 1 else None)

    return run


def registered_predictor(
    model: Any,
    hp: dict[str, Any],
    *,
    fill: dict[str, str] | None = None,
    device: str | None = None,
) -> Predictor:
    """A registered model with its own bands and working resolution, scored on another grid.

    The image file is read again with the model's bands and at the model's resolution, the
    probabilities are predicted there and warped (bilinear) onto the labelled image's grid.
    ``fill`` names a stand-in for a band the file lacks, e.g. ``{"nir": "green"}`` to run the
    old RGBN model on RGB imagery (said wherever its score is reported).
    """
    from rasterio.warp import Resampling, reproject

    from models.encroachment.imagery import read_working_image
    from models.encroachment.infer import predict_array

    bands = list(hp.get("bands", ["red", "green", "blue", "nir"]))
    fill = fill or {}
    res = float(hp.get("resolution_m", 0.5))

    def run(li: LabelledImage) -> tuple[np.ndarray, np.ndarray | None]:
        # a stand-in band is read twice when it is also one of the model's own bands
        wi = read_working_image(
            li.image.path, bands=[fill.get(b, b) for b in bands], resolution_m=res
        )
        p = predict_array(
            model,
            wi.array,
            tile=int(hp.get("tile", 256)),
            overlap=int(hp.get("overlap", 64)),
            device=device,
            all_bands=True,
        )
        out = np.zeros((p.shape[0], *li.mask.shape), np.float32)
        for k in range(p.shape[0]):
            reproject(
                p[k] * wi.valid,
                out[k],
                src_transform=wi.transform,
                src_crs=wi.crs,
                dst_transform=li.image.transform,
                dst_crs=li.image.crs,
                resampling=Resampling.bilinear,
            )
        out *= li.image.valid
        return out[0], (out[1] if out.shape[0] > 1 else None)

    return run


def baseline_predictor(baseline: Any) -> Predictor:
    """The per-pixel LightGBM baseline (no border channel: instances are its blobs)."""

    def run(li: LabelledImage) -> tuple[np.ndarray, np.ndarray | None]:
        return baseline.predict_proba(li.image.array, valid=li.image.valid), None

    return run


def labelled_from_mask(
    image: str | Path,
    mask: str | Path,
    *,
    bands: Sequence[str],
    resolution_m: float,
    border_px: int = 2,
) -> LabelledImage:
    """An image with a raster structure mask (the synthetic orthophotos) as a labelled image.

    The mask is warped onto the working grid by nearest neighbour; buildings are its
    8-connected regions (the synthetic generator keeps structures ≥ 1 m apart, so each region
    is one structure).
    """
    import rasterio
    from rasterio.warp import Resampling, reproject

    from models.encroachment.buildings import label_instances
    from models.encroachment.imagery import read_working_image
    from models.encroachment.labels import contact_border

    wi = read_working_image(image, bands=bands, resolution_m=resolution_m)
    truth = np.zeros(wi.valid.shape, np.uint8)
    with rasterio.open(mask) as src:
        reproject(
            rasterio.band(src, 1),
            truth,
            dst_transform=wi.transform,
            dst_crs=wi.crs,
            resampling=Resampling.nearest,
        )
    instances = label_instances(truth > 0).astype(np.int32)
    return LabelledImage(
        wi,
        instances,
        (instances > 0).astype(np.uint8),
        contact_border(instances, border_px),
        Path(image).stem,
    )
