"""Encroachment detection job: two catalogued orthophotos → cases on state land in PostGIS.

Steps (each a function of :mod:`models.encroachment`, :mod:`imagery` or
:mod:`landgov.storage.detections`; this module only wires them):

1. pick the latest orthophoto of the mouza taken on or before ``before`` and the latest
   taken after it and on or before ``after``;
2. take from each scene the band COGs the model's card names (``bands``, in order;
   red, green, blue, nir for cards that predate the field) and put them, block by
   block, onto the model's working grid (``resolution_m``, 0.5 m when absent) as uint8
   (:func:`models.encroachment.imagery.prepare_image`: any CRS, resolution and bit depth
   the catalog holds; memory does not grow with the scene);
3. segment both with the registered network by overlapping, blended sliding windows;
4. new structures = after AND NOT (dilated) before, only where both images saw the
   ground (a place the earlier flight did not cover has no "before" to be new against);
   polygons, cleaned (minimum area, simplified), each with its mean after-date
   probability as confidence;
5. in one transaction: replace any earlier run with the same inputs, intersect the
   polygons with the state land grown by ``encroachment_zone`` widths (in SQL, indexed),
   store the cases and their before/after image chips (PNG, under ``$LANDGOV_HOME``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine, text

from landgov.errors import LandgovError

if TYPE_CHECKING:
    from landgov.security import Actor

ORTHO_BANDS = ("red", "green", "blue", "nir")
"""Bands of cards written before ``bands`` was recorded (the synthetic RGBN model)."""
DEFAULT_RESOLUTION_M = 0.5
"""Working resolution of cards written before ``resolution_m`` was recorded."""
DEFAULT_MODEL = "encroachment-unet"
CHIP_MARGIN_M = 15.0


@dataclass
class EncroachmentReport:
    run_id: int
    mouza_id: int
    before_scene: str
    after_scene: str
    model: str
    candidates: int
    cases: list[dict[str, Any]] = field(default_factory=list)
    run_dir: Path | None = None
    reused: bool = False

    def as_json(self) -> dict[str, Any]:
        cases = [{k: (v.isoformat() if isinstance(v, date) else v) for k, v in c.items()
                  if k != "wkb"} for c in self.cases]  # fmt: skip
        return {
            "run_id": self.run_id,
            "mouza_id": self.mouza_id,
            "before_scene": self.before_scene,
            "after_scene": self.after_scene,
            "model": self.model,
            "new_structures": self.candidates,
            "reused_stored_run": self.reused,
            "cases": cases,
        }


def _scene_on_or_before(
    engine: Engine, mouza_id: int, day: date, after: datetime | None = None
) -> Any:
    from imagery.catalog import search

    with engine.connect() as conn:
        area = conn.execute(
            text("SELECT ST_AsText(boundary) FROM mouza WHERE id = :m"), {"m": mouza_id}
        ).scalar_one()
    start = (after + timedelta(seconds=1)) if after is not None else None
    found = search(engine, bbox_or_geometry=area, sensor="orthophoto", start=start, end=day)
    if not found:
        since = f" after {after.date()}" if after is not None else ""
        raise LandgovError(
            f"no orthophoto of mouza {mouza_id} taken{since} on or before {day}:"
            " ingest one with 'landgov imagery ingest --kind orthophoto'"
        )
    return found[-1]


def scene_image(
    item: Any,
    home: Path,
    out: Path,
    *,
    bands: tuple[str, ...] | list[str] = ORTHO_BANDS,
    resolution_m: float = DEFAULT_RESOLUTION_M,
) -> Path:
    """The scene's ``bands`` on the model's working grid as one uint8 GeoTIFF ``out``.

    The band COGs are stacked by a VRT beside ``out`` (no pixel copy; it names the bands
    and carries the COGs' nodata or internal mask), which
    :func:`~models.encroachment.imagery.prepare_image` warps and converts.

    Raises:
        LandgovError: the scene lacks a band the model needs, or its bands are not on one
            grid.
    """
    import rasterio

    from imagery.catalog import asset_path
    from imagery.georef import VrtBand, mask_source, vrt_xml
    from models.encroachment.imagery import prepare_image

    missing = [b for b in bands if b not in item.assets]
    if missing:
        have = ", ".join(sorted(item.assets))
        raise LandgovError(
            f"orthophoto {item.id} has no {', '.join(missing)} band (it has {have}); the"
            f" model needs {', '.join(bands)}"
        )
    paths = [asset_path(home, item.assets[b].href) for b in bands]
    layers: list[VrtBand] = []
    first: tuple[Any, Any, Any] | None = None  # (shape, transform, crs) of the first band
    spec: str | None = None
    for band, path in zip(bands, paths, strict=True):
        with rasterio.open(path) as src:
            grid = (src.shape, src.transform, src.crs)
            if first is None:
                first, spec = grid, mask_source(src, [band])
            elif grid != first:
                raise LandgovError(f"orthophoto {item.id}: its bands are not on one grid")
            nodata = None if spec is not None else src.nodata
            layers.append(VrtBand(path, 1, band, src.dtypes[0], nodata))
    assert first is not None
    (height, width), transform, crs = first
    vrt = out.with_name(f"{out.stem}_source.vrt")
    vrt.write_text(vrt_xml(layers, width=width, height=height, crs=crs, transform=transform,
                           mask=(paths[0], spec) if spec is not None else None),
                   encoding="utf-8")  # fmt: skip
    return prepare_image(vrt, out, bands=list(bands), resolution_m=resolution_m)


def _valid(image: Path, like: Path) -> np.ndarray:
    """Where ``image`` saw the ground (its dataset mask), on ``like``'s grid; False outside."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    with rasterio.open(image) as src, rasterio.open(like) as ref:
        mask: np.ndarray = src.dataset_mask()
        if (src.shape, src.transform, src.crs) == (ref.shape, ref.transform, ref.crs):
            return mask > 0
        out = np.zeros(ref.shape, np.uint8)
        reproject(mask, out, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=ref.transform, dst_crs=ref.crs,
                  resampling=Resampling.nearest)  # fmt: skip
        return out > 0


def chip(image: Path, geom_utm: Any, out: Path, margin_m: float = CHIP_MARGIN_M) -> Path:
    """An RGB PNG of ``image`` around ``geom_utm`` (image CRS) with its outline in yellow.

    The red, green and blue bands are found by their descriptions (a prepared image has
    the model's bands in the card's order), else bands 1–3.
    """
    import rasterio
    from PIL import Image, ImageDraw
    from rasterio.windows import from_bounds

    with rasterio.open(image) as src:
        x0, y0, x1, y1 = geom_utm.bounds
        win = from_bounds(x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m,
                          src.transform).round_offsets().round_lengths()  # fmt: skip
        names = [(d or "").lower() for d in src.descriptions]
        rgb_idx = ([names.index(b) + 1 for b in ("red", "green", "blue")]
                   if {"red", "green", "blue"} <= set(names) else [1, 2, 3])  # fmt: skip
        rgb = src.read(rgb_idx, window=win, boundless=True, fill_value=0)
        wt = src.window_transform(win)
    img = Image.fromarray(np.moveaxis(rgb, 0, -1)).resize(
        (rgb.shape[2] * 4, rgb.shape[1] * 4), Image.Resampling.NEAREST
    )
    draw = ImageDraw.Draw(img)
    inv = ~wt
    polys = getattr(geom_utm, "geoms", [geom_utm])
    for p in polys:
        pts = [tuple(c * 4 for c in inv * (x, y)) for x, y in p.exterior.coords]
        draw.line(pts, fill=(255, 230, 0), width=2)
    out.parent.mkdir(parents=True, exist_ok=True)
    img.save(out)
    return out


def load_segmentation_model(name: str, version: str | None, *, home: Path) -> tuple[Any, Any]:
    """(U-Net in eval mode, its card) from the registry; no network."""
    from models.encroachment import build_model
    from models.registry import load_model

    tensors, card = load_model(name, version, home=home)
    if card.task != "semantic-segmentation":
        raise LandgovError(f"model {name}:{card.version} is a {card.task} model, not segmentation")
    model = build_model(card.hyperparameters)
    model.load_state_dict(tensors)
    return model.eval(), card


def _reproject(geom: Any, src: Any, dst: Any) -> Any:
    import shapely
    from pyproj import Transformer

    t = Transformer.from_crs(src, dst, always_xy=True)
    return shapely.transform(geom, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def detect_encroachment(
    engine: Engine,
    *,
    mouza: int | str,
    before: date,
    after: date,
    home: Path,
    model_name: str = DEFAULT_MODEL,
    model_version: str | None = None,
    threshold: float = 0.5,
    min_area_m2: float = 4.0,
    min_confidence: float = 0.0,
    device: str | None = None,
    force: bool = False,
    actor: Actor,
) -> EncroachmentReport:
    """Runs the job described in the module doc; returns what it stored.

    A run with the same inputs (scenes, model version, thresholds) already stored is
    returned as it is, unless ``force``: the same inputs give the same cases.
    ``min_confidence`` drops candidate structures whose mean probability is lower.
    ``actor`` must hold ``models.write`` (the models or demo service); the storing
    transaction is bound to it and its audit row names it.

    Raises:
        AccessDenied: the actor may not store detections.
        LandgovError: the dates or scenes do not allow a comparison.
    """
    import rasterio
    from shapely import wkb as shp_wkb

    from landgov.security import authorize, bind
    from landgov.storage import audit
    from landgov.storage import detections as store
    from landgov.storage.lookup import resolve_mouza
    from models.registry import read_card

    if after <= before:
        raise LandgovError(f"--after {after} must be later than --before {before}")
    with engine.connect() as conn:
        authorize(conn, actor, "models.write")
        mouza_id = resolve_mouza(conn, mouza)
    first = _scene_on_or_before(engine, mouza_id, before)
    second = _scene_on_or_before(engine, mouza_id, after, after=first.datetime)
    card = read_card(model_name, model_version, home=home)  # no torch yet: maybe stored
    run_key = (f"mouza={mouza_id};before={first.id};after={second.id};model={card.name}:"
               f"{card.version};threshold={threshold};min_area={min_area_m2};"
               f"min_confidence={min_confidence}")  # fmt: skip
    if not force:
        with engine.connect() as conn:
            stored = store.find_run(conn, "encroachment", run_key)
            if stored is not None:
                cases = store.run_cases(conn, int(stored["id"]))
                return EncroachmentReport(
                    int(stored["id"]), mouza_id, first.id, second.id,
                    f"{card.name}:{card.version}",
                    int(stored["summary"].get("new_structures", 0)), cases, None, reused=True,
                )  # fmt: skip
    # the network stack (torch, torchgeo, Lightning) takes seconds to import: only now
    from models.encroachment import change_mask, polygonize, predict_scene
    from models.encroachment.infer import probability_on_grid

    model, card = load_segmentation_model(model_name, card.version, home=home)
    run_dir = home / "detections" / "encroachment" / hashlib.sha1(run_key.encode()).hexdigest()[:12]
    run_dir.mkdir(parents=True, exist_ok=True)
    hp = card.hyperparameters
    bands = tuple(hp.get("bands") or ORTHO_BANDS)
    resolution_m = float(hp.get("resolution_m") or DEFAULT_RESOLUTION_M)
    images = [scene_image(it, home, run_dir / f"{tag}.tif", bands=bands,
                          resolution_m=resolution_m)
              for it, tag in ((first, "before"), (second, "after"))]  # fmt: skip
    tile, overlap = int(hp.get("tile", 256)), int(hp.get("overlap", 64))
    probs = [predict_scene(model, img, run_dir / f"prob_{tag}.tif", tile=tile, overlap=overlap,
                           device=device, bands=len(bands))
             for img, tag in zip(images, ("before", "after"), strict=True)]  # fmt: skip
    p_after = probability_on_grid(probs[1], probs[1])
    # scenes of two flights need not share a grid
    p_before = probability_on_grid(probs[0], probs[1])
    seen = _valid(images[1], images[1]) & _valid(images[0], images[1])
    p_after = np.where(seen, p_after, 0.0).astype(np.float32)
    new = change_mask(p_before, p_after, threshold=threshold)
    with rasterio.open(images[1]) as src:
        transform, crs = src.transform, src.crs
    polys = [(g, c) for g, c in polygonize(new, transform, prob=p_after, min_area_m2=min_area_m2)
             if c >= min_confidence]  # fmt: skip
    candidates = [store.Candidate(_reproject(g, crs, "EPSG:4326").wkb, float(conf))
                  for g, conf in polys]  # fmt: skip
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "models.write")
        run_id = store.replace_run(
            conn, kind="encroachment", mouza_id=mouza_id, run_key=run_key,
            model_name=card.name, model_version=card.version,
            params={"before": first.id, "after": second.id, "threshold": threshold,
                    "min_area_m2": min_area_m2},
        )  # fmt: skip
        cases = store.write_encroachment_cases(
            conn, run_id, mouza_id, candidates, seen_on=second.datetime.date(),
            before_scene_id=first.id, after_scene_id=second.id,
        )  # fmt: skip
        for case in cases:
            geom = _reproject(shp_wkb.loads(bytes(case["wkb"])), "EPSG:4326", crs)
            paths = [chip(img, geom, run_dir / "chips" / f"case_{case['id']}_{tag}.png")
                     for img, tag in zip(images, ("before", "after"), strict=True)]  # fmt: skip
            rel = [str(p.relative_to(home)) for p in paths]
            store.set_case_chips(conn, int(case["id"]), rel[0], rel[1])
            case["before_chip"], case["after_chip"] = rel
        store.set_summary(conn, run_id, {"new_structures": len(candidates), "cases": len(cases)})
        audit.append(conn, actor=actor.label, action="detect encroachment",
                     entity="detection_run", entity_id=str(run_id),
                     details={"mouza_id": mouza_id, "before": first.id, "after": second.id,
                              "model": f"{card.name}:{card.version}",
                              "new_structures": len(candidates),
                              "cases": [int(c["id"]) for c in cases]})  # fmt: skip
    return EncroachmentReport(run_id, mouza_id, first.id, second.id,
                              f"{card.name}:{card.version}", len(candidates), cases,
                              run_dir)  # fmt: skip
