"""Vector building footprints → per-pixel training targets on an image's grid.

A user's labels are footprints in a GeoPackage, GeoJSON or shapefile, in any CRS. They
become three rasters on each (working) image's pixel grid:

* ``instances`` (int32): one id per building, 0 for background. Instances, not just a
  mask, because building-level metrics (:mod:`models.encroachment.buildings`) and the
  contact border need to know where one building ends and the next begins.
* ``mask`` (uint8): ``instances > 0``, the segmentation target.
* ``border`` (bool): pixels within a few pixels of two or more *different* buildings: the
  narrow gaps between close roofs and the shared edges of touching ones. A network
  trained only on the mask merges a terrace of houses into one blob; weighting (or
  predicting) this border teaches it to keep them apart, which is what building F1
  rewards.

Footprints are burnt with ``all_touched=False`` (a pixel is a building when its centre is
inside the polygon), so a footprint's raster area is unbiased; ``all_touched=True`` would
grow every building by half a pixel all round and close the gaps the border is about.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import geopandas as gpd
import numpy as np
import shapely
from affine import Affine
from rasterio.features import rasterize
from rasterio.warp import transform_bounds
from scipy.ndimage import grey_dilation, grey_erosion

from models.encroachment.errors import EncroachmentError

log = logging.getLogger(__name__)

FOOTPRINT_SUFFIXES = (".gpkg", ".geojson", ".json", ".shp")
"""File types :func:`read_footprints` accepts (anything OGR reads works; these are promised)."""


class BadLabels(EncroachmentError, ValueError):
    """A footprints file cannot be used: unreadable, no CRS, no polygons."""


class GridImage(Protocol):
    """What labelling needs of an image: its grid (a :class:`WorkingImage` satisfies it)."""

    crs: Any
    transform: Affine
    array: np.ndarray


def read_footprints(path: str | Path, *, layer: str | None = None) -> gpd.GeoDataFrame:
    """Read building footprints, repaired and reduced to one polygon per row.

    Invalid polygons (self-intersections, bow-ties: common in hand-digitised labels) are
    repaired with :func:`shapely.make_valid` rather than rejected, keeping only the polygonal
    part of the result. Points and lines are ignored (a layer of building centroids or
    outlines cannot be rasterised as area). Multi-part features are exploded into one row
    per polygon: predicted buildings are connected regions, so a two-part "building" could
    never be matched as one at IoU ≥ 0.5.

    The counts of what was repaired and ignored are logged and kept in
    ``gdf.attrs["footprints_report"]`` (keys ``features``, ``repaired``, ``ignored_empty``,
    ``ignored_not_polygon``, ``polygons``) so the CLI and the model card can show them.

    Args:
        path: ``.gpkg``, ``.geojson``/``.json`` or ``.shp`` (any CRS; GeoJSON is CRS84 by
            definition).
        layer: layer name for a multi-layer GeoPackage (default: the first layer).

    Returns:
        Polygons in the file's CRS with the file's attribute columns, index 0..n-1.

    Raises:
        BadLabels: the file is missing or unreadable, has no CRS (a shapefile without its
            ``.prj``), or holds no polygon.
    """
    p = Path(path)
    if not p.exists():
        raise BadLabels(f"{p}: footprints file not found")
    try:
        gdf = gpd.read_file(p, layer=layer)
    except Exception as exc:  # OGR raises several unrelated types; all mean "unreadable"
        raise BadLabels(f"{p}: cannot read footprints ({exc})") from exc
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise BadLabels(f"{p}: no geometry column; expected building polygons")
    if gdf.crs is None:
        raise BadLabels(
            f"{p}: footprints have no CRS; add one (e.g. the shapefile's .prj, or "
            "`ogr2ogr -a_srs EPSG:32643 out.gpkg in.shp`) so they can be placed on the images"
        )
    n_features = len(gdf)
    if n_features == 0:
        raise BadLabels(f"{p}: no features; expected building polygons")

    geoms = np.asarray(gdf.geometry.values, dtype=object)
    empty = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    gdf = gdf.loc[~empty].copy()
    geoms = shapely.force_2d(np.asarray(gdf.geometry.values, dtype=object))
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = [_polygonal(g) for g in shapely.make_valid(geoms[invalid])]
    gdf = gdf.set_geometry(gpd.GeoSeries(geoms, index=gdf.index, crs=gdf.crs))
    polygonal = gdf.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy() & ~(
        gdf.geometry.is_empty.to_numpy()
    )
    n_not_polygon = int((~polygonal).sum())
    gdf = gdf.loc[polygonal]
    if len(gdf) == 0:
        raise BadLabels(
            f"{p}: no polygon geometries among {n_features} features "
            f"({n_not_polygon} points/lines ignored); expected building footprints"
        )
    gdf = gdf.explode(index_parts=False, ignore_index=True)
    report = {
        "features": n_features,
        "repaired": int(invalid.sum()),
        "ignored_empty": int(empty.sum()),
        "ignored_not_polygon": n_not_polygon,
        "polygons": len(gdf),
    }
    gdf.attrs["footprints_report"] = report
    log.info("%s: %s", p, report)
    return gdf


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal part of a repaired geometry (make_valid may add slivers as lines)."""
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in shapely.get_parts(geom) if g.geom_type in ("Polygon", "MultiPolygon")]
    if not parts:
        return shapely.Polygon()
    return shapely.union_all(parts)


def grid_corners(transform: Affine, shape: tuple[int, int]) -> tuple[float, ...]:
    """Bounds ``(left, bottom, right, top)`` of a grid, from its four corners (any rotation)."""
    h, w = shape
    xs, ys = zip(*(transform * (c, r) for c, r in ((0, 0), (w, 0), (0, h), (w, h))), strict=True)
    return min(xs), min(ys), max(xs), max(ys)


def rasterize_footprints(
    footprints: gpd.GeoDataFrame, crs: Any, transform: Affine, shape: tuple[int, int]
) -> np.ndarray:
    """Burn footprints as instance ids onto a pixel grid.

    Only footprints that intersect the grid's bounds are burnt; they get ids 1..n in file
    order, renumbered afterwards so that the ids present are exactly 1..n (a footprint too
    small or thin to cover any pixel centre leaves no gap). Where footprints overlap the
    *later* one wins (rasterio burns in order): overlaps are digitising errors of a few
    pixels, and any consistent rule keeps every pixel in exactly one instance.

    The grid's bounds are taken to the footprints' CRS first (densified edges) to pick the
    candidates with the spatial index, so only the few footprints near an image are
    reprojected, not the whole layer once per image chip.

    Args:
        footprints: polygons from :func:`read_footprints` (any CRS).
        crs: the grid's CRS (anything :meth:`GeoDataFrame.to_crs` accepts).
        transform: the grid's affine transform.
        shape: ``(height, width)`` in pixels.

    Returns:
        int32 ``(H, W)`` instance ids, 0 for background.
    """
    h, w = int(shape[0]), int(shape[1])
    out = np.zeros((h, w), np.int32)
    if footprints.crs is None:
        raise BadLabels("footprints have no CRS; cannot place them on the image grid")
    if len(footprints) == 0 or h == 0 or w == 0:
        return out
    bounds = grid_corners(transform, (h, w))
    try:
        coarse = transform_bounds(crs, footprints.crs, *bounds, densify_pts=21)
        near = footprints.iloc[np.sort(footprints.sindex.query(shapely.box(*coarse)))]
    except Exception:  # e.g. bounds outside the footprints CRS's area of use
        near = footprints
    if len(near) == 0:
        return out
    geoms = near.to_crs(crs).geometry.values
    geoms = geoms[shapely.intersects(geoms, shapely.box(*bounds))]
    if len(geoms) == 0:
        return out
    burnt = rasterize(
        zip(geoms, range(1, len(geoms) + 1), strict=True),
        out_shape=(h, w),
        transform=transform,
        fill=0,
        all_touched=False,
        dtype="int32",
    )
    ids, inverse = np.unique(burnt, return_inverse=True)
    if ids[0] != 0:  # every pixel is a building: keep ids starting at 1
        inverse = inverse + 1
    return inverse.reshape(h, w).astype(np.int32)


def contact_border(instances: np.ndarray, width_px: int = 2) -> np.ndarray:
    """Pixels within ``width_px`` of two or more different buildings.

    Computed with two grey-level filters over a disc of radius ``width_px``: the largest id
    in each pixel's neighbourhood (dilation) and the smallest *non-zero* id (erosion with
    background set to +inf). They differ exactly where the neighbourhood holds at least two
    distinct buildings. This catches both the middle of background gaps narrower than
    ``2 * width_px`` pixels between close buildings and ``width_px`` pixels either side of the
    shared edge of touching ones, in two passes over the image whatever the number of
    buildings.

    Args:
        instances: int ``(H, W)`` instance ids, 0 background.
        width_px: neighbourhood radius in pixels (Euclidean); 0 gives an empty border.

    Returns:
        bool ``(H, W)``.
    """
    inst = np.asarray(instances)
    if inst.ndim != 2:
        raise EncroachmentError(f"instances must be 2-D, got shape {inst.shape}")
    if width_px <= 0 or inst.size == 0:
        return np.zeros(inst.shape, bool)
    r = int(width_px)
    yy, xx = np.mgrid[-r : r + 1, -r : r + 1]
    disc = yy * yy + xx * xx <= r * r
    # int32 with an int32 sentinel: scipy passes cval as a float, and int64's maximum
    # does not survive the round trip (it comes back negative).
    big = np.iinfo(np.int32).max
    if inst.size and (inst.min() < 0 or inst.max() >= big):
        raise EncroachmentError(f"instance ids must be in 0..{big - 1}")
    inst = inst.astype(np.int32, copy=False)
    hi = grey_dilation(inst, footprint=disc, mode="constant", cval=0)
    lo = grey_erosion(np.where(inst > 0, inst, big), footprint=disc, mode="constant", cval=big)
    return np.asarray((hi > 0) & (lo != hi), bool)


@dataclass
class LabelledImage:
    """An image with its rasterised footprints on the same grid.

    Attributes:
        image: the :class:`WorkingImage` (or anything with ``crs``, ``transform``, ``array``).
        instances: int32 ``(H, W)`` building ids, 0 background.
        mask: uint8 ``(H, W)``, 1 where a building is.
        border: bool ``(H, W)``, the contact border between buildings.
        name: short name for reports (the image file's stem).
    """

    image: Any
    instances: np.ndarray
    mask: np.ndarray
    border: np.ndarray
    name: str


def label_image(
    working_image: GridImage, footprints: gpd.GeoDataFrame, border_px: int = 2
) -> LabelledImage:
    """Rasterise footprints onto one image's grid (instances, mask and contact border)."""
    shape = tuple(np.asarray(working_image.array).shape[-2:])
    instances = rasterize_footprints(footprints, working_image.crs, working_image.transform, shape)
    path = getattr(working_image, "path", None)
    return LabelledImage(
        image=working_image,
        instances=instances,
        mask=(instances > 0).astype(np.uint8),
        border=contact_border(instances, border_px),
        name=Path(path).stem if path is not None else "image",
    )
