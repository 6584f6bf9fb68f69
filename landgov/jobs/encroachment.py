"""Encroachment detection job: two catalogued orthophotos → cases on state land in PostGIS.

Steps (each a function of :mod:`models.encroachment`, :mod:`imagery` or
:mod:`landgov.storage.detections`; this module only wires them):

1. pick the latest orthophoto of the mouza taken on or before ``before`` and the latest
   taken after it and on or before ``after``;
2. stack each scene's band COGs (red, green, blue, nir) into one 4-band GeoTIFF, block by
   block (memory does not grow with the scene);
3. segment both with the registered U-Net by overlapping, blended sliding windows;
4. new structures = after AND NOT (dilated) before; polygons, cleaned (minimum area,
   simplified), each with its mean after-date probability as confidence;
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


def stack_bands(item: Any, home: Path, out: Path, block_rows: int = 512) -> Path:
    """The scene's red, green, blue, nir COGs as one 4-band uint8 GeoTIFF, in row blocks."""
    import rasterio
    from rasterio.windows import Window

    from imagery.catalog import asset_path

    missing = [b for b in ORTHO_BANDS if b not in item.assets]
    if missing:
        raise LandgovError(f"orthophoto {item.id} has no {', '.join(missing)} band")
    paths = [asset_path(home, item.assets[b].href) for b in ORTHO_BANDS]
    srcs = [rasterio.open(p) for p in paths]
    try:
        first = srcs[0]
        if any((s.shape, s.transform, s.crs) != (first.shape, first.transform, first.crs)
               for s in srcs):  # fmt: skip
            raise LandgovError(f"orthophoto {item.id}: its bands are not on one grid")
        profile = {"driver": "GTiff", "width": first.width, "height": first.height,
                   "count": 4, "dtype": "uint8", "crs": first.crs,
                   "transform": first.transform, "tiled": True, "compress": "deflate"}  # fmt: skip
        with rasterio.open(out, "w", **profile) as dst:
            for row in range(0, first.height, block_rows):
                win = Window(0, row, first.width, min(block_rows, first.height - row))
                for i, src in enumerate(srcs, start=1):
                    dst.write(src.read(1, window=win).astype("uint8"), i, window=win)
    finally:
        for s in srcs:
            s.close()
    return out


def _on_grid_of(prob_path: Path, like: Path) -> np.ndarray:
    """``prob_path`` resampled onto ``like``'s grid (identity when they match)."""
    import rasterio
    from rasterio.warp import Resampling, reproject

    with rasterio.open(prob_path) as src, rasterio.open(like) as ref:
        scale = 255.0 if src.dtypes[0] == "uint8" else 1.0
        values = src.read(1).astype(np.float32) / scale
        if (src.shape, src.transform, src.crs) == (ref.shape, ref.transform, ref.crs):
            return values
        out = np.zeros(ref.shape, np.float32)
        reproject(values, out, src_transform=src.transform, src_crs=src.crs,
                  dst_transform=ref.transform, dst_crs=ref.crs,
                  resampling=Resampling.bilinear)  # fmt: skip
        return out


def chip(image: Path, geom_utm: Any, out: Path, margin_m: float = CHIP_MARGIN_M) -> Path:
    """An RGB PNG of ``image`` around ``geom_utm`` (scene CRS) with its outline in yellow."""
    import rasterio
    from PIL import Image, ImageDraw
    from rasterio.windows import from_bounds

    with rasterio.open(image) as src:
        x0, y0, x1, y1 = geom_utm.bounds
        win = from_bounds(x0 - margin_m, y0 - margin_m, x1 + margin_m, y1 + margin_m,
                          src.transform).round_offsets().round_lengths()  # fmt: skip
        rgb = src.read([1, 2, 3], window=win, boundless=True, fill_value=0)
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

    from imagery.series import resolve_mouza
    from landgov.security import authorize, bind
    from landgov.storage import audit
    from landgov.storage import detections as store
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

    model, card = load_segmentation_model(model_name, card.version, home=home)
    run_dir = home / "detections" / "encroachment" / hashlib.sha1(run_key.encode()).hexdigest()[:12]
    run_dir.mkdir(parents=True, exist_ok=True)
    images = [stack_bands(it, home, run_dir / f"{tag}.tif")
              for it, tag in ((first, "before"), (second, "after"))]  # fmt: skip
    hp = card.hyperparameters
    tile, overlap = int(hp.get("tile", 256)), int(hp.get("overlap", 64))
    probs = [predict_scene(model, img, run_dir / f"prob_{tag}.tif", tile=tile, overlap=overlap,
                           device=device)
             for img, tag in zip(images, ("before", "after"), strict=True)]  # fmt: skip
    p_after = _on_grid_of(probs[1], probs[1])
    p_before = _on_grid_of(probs[0], probs[1])  # scenes of two flights need not share a grid
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
