"""Real imagery in, as users hold it: any georeferenced raster onto a model's working grid.

A revenue department's orthophoto is rarely what a model was trained on: 3 bands (RGB) or
4 (RGBN), 8 or 16 bit, 0.05–1 m pixels, a GeoTIFF or a JPEG/PNG with a world file or a
``.aux.xml``, in a local UTM zone, lon/lat or Web Mercator. This module turns any of them
into what the models read: uint8 DN, the bands the model's card names in that order, on a
grid in metres at the card's ``resolution_m``.

- **Bands** are picked by name (:func:`band_names`, shared with the catalog's ingest), never
  by position, so an RGB photo given to an RGBN model fails with :class:`MissingBands`
  naming the file instead of feeding alpha or nothing as "nir".
- **Grid**: a projected CRS in metres is kept (no resampling of the data's own geometry).
  Geographic CRSs and Mercator ones (Web Mercator above all) go to the WGS 84 / UTM zone of
  the image centre: their units are not ground metres (a Web Mercator "metre" is
  1/cos(latitude) ground metres, 1.13 at 27.6°N), so a pixel size there is not a ground
  resolution and areas in m² would be wrong. Pixels are exactly ``resolution_m`` on a side,
  the grid starts at the image's top-left bound. When the source already is on such a grid
  at that resolution nothing is resampled at all (bit-identical pixels).
- **Resampling** through :class:`rasterio.vrt.WarpedVRT`: ``average`` when the source is
  more than 1.25× finer (a 0.13 m drone image at 0.5 m: averaging 14 pixels per output
  pixel is what a 0.5 m sensor would see; bilinear would alias roof texture), bilinear
  otherwise (up-sampling or near-equal sizes, where averaging has nothing to average).
- **Radiometry**: uint8 is kept as is. Anything else (uint16, other integers, floats) is
  stretched to 0–255 by ONE linear stretch for all bands together, from the 0.2 and 99.8
  percentiles of the valid pixels of a decimated read (overviews when the file has them).
  Joint, not per band: a per-band stretch sets every band's range to 0–255 on its own and
  so changes the colour balance (a green vegetated scene turns grey, a red roofed one
  loses its red), while the models learned the colour relations of 8-bit imagery. The
  percentiles, not the min/max, keep a few saturated or dead pixels from flattening the
  rest.
- **Validity**: pixels are invalid where the source has its nodata value, an alpha of 0,
  an internal mask, or lies outside the source footprint after warping; and, for 8-bit
  sources, where every band is 0: most deliveries fill the collar outside the flight with
  black and declare no nodata (the Kampala tiles do), and a pixel black in all bands
  carries no roof anyway. Such pixels are neither trained on nor scored.

:func:`read_working_image` returns the result in memory (small images, tests,
evaluation chips); :func:`prepare_image` streams it in row blocks to a tiled GeoTIFF, so
memory does not grow with the scene. Both share one plan and one block reader.

Band naming, the ``.prj`` sidecar and the VRT writer live in :mod:`imagery.georef`
(re-exported here where public): the catalog must name bands exactly as the models do,
and ingest must not import the network stack (torch, Lightning) to do it.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.io import DatasetReader, MemoryFile
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds
from rasterio.windows import Window

from imagery.georef import (
    BAND_ALIASES,
    GEOREF_HINT,
    VrtBand,
    band_names,
    georeference,
    mask_source,
    vrt_xml,
)
from models.encroachment.errors import BadImagery, MissingBands, NotGeoreferenced

__all__ = [
    "DEFAULT_RESOLUTION_M",
    "WorkingImage",
    "band_names",
    "check_georeference",
    "prepare_image",
    "read_working_image",
    "source_resolution_m",
    "working_grid",
]

DEFAULT_RESOLUTION_M = 0.5
"""Working resolution of cards that do not state ``resolution_m`` (the synthetic 0.5 m)."""

STRETCH_PERCENTILES = (0.2, 99.8)
AVERAGE_ABOVE = 1.25
"""Source this many times finer than the working resolution (or more) → ``average``."""

_STRETCH_SAMPLE_PX = 1 << 20  # pixels per band of the decimated read for the stretch
_WEB_MERCATOR_EPSG = {3857, 3785, 900913, 102100, 102113}


@dataclass
class WorkingImage:
    """An image on a model's working grid.

    Attributes:
        path: the source file.
        array: uint8 ``(C, H, W)``, bands in the requested order; 0 where not ``valid``.
        valid: bool ``(H, W)``: False at nodata, alpha 0, masked, or outside the source.
        crs, transform: the working grid (metres; see the module doc).
        source_resolution_m: the source's ground pixel size in metres (geometric mean of
            the two sides, measured at the image centre).
        bands: the band names of ``array``.
    """

    path: Path
    array: np.ndarray
    valid: np.ndarray
    crs: CRS
    transform: Affine
    source_resolution_m: float
    bands: tuple[str, ...] = ()


def check_georeference(path: str | Path, src: DatasetReader) -> CRS:
    """The CRS of ``src`` (its own, or a ``.prj`` sidecar's); raises if it has none.

    GDAL reads a world file (``.jgw/.pgw/.tfw/.wld``) and a ``.aux.xml`` for a JPEG or PNG
    by itself; a ``.prj`` beside a world file is read here (see
    :func:`imagery.georef.sidecar_crs`).

    Raises:
        NotGeoreferenced: no CRS, or no geotransform (GDAL reports the identity).
    """
    crs, transform = georeference(Path(path), src)
    if crs is None or transform is None:
        missing = "no geotransform" if transform is None else "no CRS"
        raise NotGeoreferenced(f"{path}: not georeferenced ({missing}); {GEOREF_HINT}")
    return crs


def _keeps_crs(crs: CRS) -> bool:
    """A projected CRS whose unit is the ground metre (not geographic, not Mercator)."""
    if not crs.is_projected or (crs.linear_units or "").lower() not in ("metre", "meter", "m"):
        return False
    if crs.to_epsg() in _WEB_MERCATOR_EPSG:
        return False
    return "+proj=merc" not in (crs.to_proj4() or "")


def _centre_lonlat(src: DatasetReader, crs: CRS) -> tuple[float, float]:
    x, y = src.transform * (src.width / 2, src.height / 2)
    lon, lat = warp_transform(crs, "EPSG:4326", [x], [y])
    return float(lon[0]), float(lat[0])


def _utm(lon: float, lat: float) -> CRS:
    """WGS 84 / UTM zone of a point (the standard 6° zones; no Norway/Svalbard exceptions)."""
    zone = min(60, max(1, math.floor((lon + 180.0) / 6.0) + 1))
    return CRS.from_epsg((32600 if lat >= 0 else 32700) + zone)


def source_resolution_m(src: DatasetReader, crs: CRS, ground_crs: CRS) -> float:
    """Ground pixel size of ``src`` (in ``crs``) measured in the metric ``ground_crs``.

    The centre pixel's two sides are projected into ``ground_crs``; the result is their
    geometric mean (√ of the pixel's ground area), which for a square metric grid is its
    pixel size exactly.
    """
    t = src.transform
    c, r = src.width / 2, src.height / 2
    pts = [t * (c, r), t * (c + 1, r), t * (c, r + 1)]
    xs, ys = warp_transform(crs, ground_crs, [p[0] for p in pts], [p[1] for p in pts])
    dx = math.hypot(xs[1] - xs[0], ys[1] - ys[0])
    dy = math.hypot(xs[2] - xs[0], ys[2] - ys[0])
    return math.sqrt(dx * dy)


def _on_resolution(t: Affine, resolution_m: float) -> bool:
    """A north-up grid with square pixels of ``resolution_m`` (to 1 ppm)."""
    tol = 1e-6 * resolution_m
    return (
        t.b == 0 and t.d == 0 and abs(t.a - resolution_m) <= tol and abs(-t.e - resolution_m) <= tol
    )


def working_grid(
    src: DatasetReader, resolution_m: float, *, src_crs: CRS | None = None
) -> tuple[CRS, Affine, int, int]:
    """``(crs, transform, width, height)`` of the working grid for ``src``.

    The CRS is ``src``'s when it is projected in metres and not Mercator, else the UTM zone
    of the image centre (see the module doc). Pixels are ``resolution_m`` square, the grid
    starts at the top-left of the image's bounds in that CRS and covers them. A source
    already on such a grid keeps its own grid (transform and shape).

    Args:
        src: an open raster.
        resolution_m: working pixel size in metres.
        src_crs: ``src``'s CRS when the file itself has none (a ``.prj`` sidecar's).
    """
    if resolution_m <= 0:
        raise BadImagery(f"{src.name}: working resolution {resolution_m} m must be positive")
    crs = src_crs or src.crs
    if crs is None:
        raise NotGeoreferenced(f"{src.name}: not georeferenced (no CRS); {GEOREF_HINT}")
    dst = crs if _keeps_crs(crs) else _utm(*_centre_lonlat(src, crs))
    if dst == crs and _on_resolution(src.transform, resolution_m):
        return dst, src.transform, src.width, src.height
    t, w, h = src.transform, src.width, src.height
    corners = [t * (0, 0), t * (w, 0), t * (0, h), t * (w, h)]
    xs, ys = [p[0] for p in corners], [p[1] for p in corners]
    left, bottom, right, top = transform_bounds(
        crs, dst, min(xs), min(ys), max(xs), max(ys), densify_pts=21
    )
    width = max(1, math.ceil((right - left) / resolution_m - 1e-6))
    height = max(1, math.ceil((top - bottom) / resolution_m - 1e-6))
    return dst, Affine(resolution_m, 0.0, left, 0.0, -resolution_m, top), width, height


@dataclass
class _Plan:
    """Everything decided before the first pixel is read.

    ``view`` is a VRT of the source's wanted bands, in order, with the CRS (a ``.prj``'s
    too), per-band nodata and the alpha or internal mask as a dataset mask: from there on
    every source looks alike, and no 4th band that GDAL takes for alpha can mask pixels.
    """

    path: Path
    bands: tuple[str, ...]
    view: str
    crs: CRS
    transform: Affine
    width: int
    height: int
    warp: bool
    resampling: Resampling
    source_resolution_m: float


def _band_indexes(path: Path, names: list[str], bands: Sequence[str]) -> list[int]:
    wanted = [BAND_ALIASES.get(b.strip().lower(), b.strip().lower()) for b in bands]
    missing = [b for b in wanted if b not in names]
    if missing or not wanted:
        have = ", ".join(n for n in names if n != "alpha")
        raise MissingBands(
            f"{path} has bands {have}; the model needs {', '.join(wanted)}"
            f" (no {', '.join(missing)})"
        )
    return [names.index(b) + 1 for b in wanted]


def _plan(path: Path, src: DatasetReader, bands: Sequence[str], resolution_m: float) -> _Plan:
    src_crs = check_georeference(path, src)
    names = band_names(src)
    indexes = _band_indexes(path, names, bands)
    crs, transform, width, height = working_grid(src, resolution_m, src_crs=src_crs)
    src_res = source_resolution_m(src, src_crs, crs)
    spec = mask_source(src, names)
    view = vrt_xml(
        [VrtBand(path, i, names[i - 1], src.dtypes[i - 1],
                 None if spec is not None else src.nodatavals[i - 1]) for i in indexes],
        width=src.width, height=src.height, crs=src_crs, transform=src.transform,
        mask=(path, spec) if spec is not None else None,
    )  # fmt: skip
    return _Plan(
        path=path,
        bands=tuple(names[i - 1] for i in indexes),
        view=view,
        crs=crs,
        transform=transform,
        width=width,
        height=height,
        warp=not (crs == src_crs and transform == src.transform and (height, width) == src.shape),
        resampling=Resampling.average
        if src_res * AVERAGE_ABOVE < resolution_m
        else Resampling.bilinear,
        source_resolution_m=src_res,
    )


def _stretch(path: Path, view: DatasetReader) -> tuple[float, float] | None:
    """``(lo, hi)`` of the joint percentile stretch, or None for uint8 (kept as is)."""
    if all(dt == "uint8" for dt in view.dtypes):
        return None
    k = max(1, math.ceil(math.sqrt(view.width * view.height / _STRETCH_SAMPLE_PX)))
    shape = (view.count, max(1, view.height // k), max(1, view.width // k))
    sample = view.read(out_shape=shape, masked=True, resampling=Resampling.nearest)
    values = np.ma.compressed(sample).astype(np.float64)
    values = values[np.isfinite(values)]
    if values.size == 0:
        raise BadImagery(f"{path}: no valid pixels (all nodata or masked)")
    lo, hi = (float(v) for v in np.percentile(values, STRETCH_PERCENTILES))
    return lo, max(hi, lo + 1e-6)


@contextmanager
def _open(path: str | Path) -> Iterator[DatasetReader]:
    p = Path(path)
    if not p.is_file():
        raise BadImagery(f"{p}: no such image")
    try:
        with warnings.catch_warnings():
            # a world-file-less JPEG warns before check_georeference explains what to do
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            src = rasterio.open(p)
    except RasterioIOError as exc:
        raise BadImagery(f"{p}: not a readable raster: {exc}") from exc
    with src:
        yield src


@dataclass
class _Blocks:
    """The open view (and warper) of a plan; ``stretch`` from the view's valid pixels."""

    plan: _Plan
    view: DatasetReader
    reader: DatasetReader | WarpedVRT
    stretch: tuple[float, float] | None

    def blocks(self, block_rows: int) -> Iterator[tuple[Window, np.ndarray, np.ndarray]]:
        """``(window, uint8 (C, n, W), valid (n, W))`` per block of ``block_rows`` rows."""
        plan, c = self.plan, len(self.plan.bands)
        for row in range(0, plan.height, block_rows):
            win = Window(0, row, plan.width, min(block_rows, plan.height - row))
            if plan.warp:  # the warper's alpha: source validity and footprint together
                # (one read of data and alpha: the warper then warps each chunk once)
                both = self.reader.read(list(range(1, c + 2)), window=win)
                data, valid = both[:c], both[c] > 0
            else:
                data = self.reader.read(list(range(1, c + 1)), window=win)
                valid = self.view.dataset_mask(window=win) > 0
            if self.stretch is None:
                out = data.astype(np.uint8, copy=False)
                valid &= out.any(axis=0)  # a black (0, 0, …) collar is fill, not ground
            else:
                valid &= np.isfinite(data).all(axis=0)
                lo, hi = self.stretch
                scaled = (np.nan_to_num(data.astype(np.float32)) - lo) * (255.0 / (hi - lo))
                out = np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
            out[:, ~valid] = 0
            yield win, out, valid


@contextmanager
def _blocks(plan: _Plan) -> Iterator[_Blocks]:
    """Opens the plan's view, and a WarpedVRT onto the working grid when one is needed."""
    with MemoryFile(plan.view.encode(), ext=".vrt") as mem, mem.open() as view:
        stretch = _stretch(plan.path, view)
        if not plan.warp:
            yield _Blocks(plan, view, view, stretch)
            return
        with WarpedVRT(
            view,
            crs=plan.crs,
            transform=plan.transform,
            width=plan.width,
            height=plan.height,
            resampling=plan.resampling,
            add_alpha=True,
        ) as vrt:
            yield _Blocks(plan, view, vrt, stretch)


def read_working_image(
    path: str | Path, *, bands: Sequence[str], resolution_m: float = DEFAULT_RESOLUTION_M
) -> WorkingImage:
    """``path`` on its working grid, in memory (see the module doc).

    Args:
        path: any raster GDAL reads (GeoTIFF, JPEG/PNG with a world file or ``.aux.xml``,
            a VRT).
        bands: band names in the order the model takes them (``card.hyperparameters
            ["bands"]``), e.g. ``["red", "green", "blue"]``.
        resolution_m: working pixel size in metres (``card.hyperparameters
            ["resolution_m"]``).

    Raises:
        BadImagery: no such file or not a raster; NotGeoreferenced, MissingBands (both
            BadImagery) as their names say.
    """
    p = Path(path)
    with _open(p) as src:
        plan = _plan(p, src, bands, resolution_m)
    array = np.zeros((len(plan.bands), plan.height, plan.width), np.uint8)
    valid = np.zeros((plan.height, plan.width), bool)
    with _blocks(plan) as b:
        for win, block, ok in b.blocks(1024):
            rows = slice(win.row_off, win.row_off + win.height)
            array[:, rows] = block
            valid[rows] = ok
    return WorkingImage(p, array, valid, plan.crs, plan.transform, plan.source_resolution_m,
                        plan.bands)  # fmt: skip


def prepare_image(
    path: str | Path,
    out_path: str | Path,
    *,
    bands: Sequence[str],
    resolution_m: float = DEFAULT_RESOLUTION_M,
    block_rows: int = 1024,
) -> Path:
    """Writes ``path`` on its working grid to ``out_path``, streamed in row blocks.

    The output is a tiled, deflate-compressed uint8 GeoTIFF: band ``i`` is ``bands[i-1]``
    (also its band description). Invalid pixels are 0 in every band AND outside the
    GeoTIFF's internal dataset mask: the zeros make the file safe for readers that ignore
    masks (a model sees black, as on an orthophoto's collar), the mask keeps "invalid"
    apart from a genuinely black valid pixel without sacrificing a DN as nodata. Tags
    record the source, the stretch and the resampling used.

    Memory holds ``block_rows`` rows of the working grid (plus GDAL's warp buffers) and
    the decimated stretch sample, whatever the scene's size.

    Args, Raises: as :func:`read_working_image`; ``block_rows`` rows per block.

    Returns:
        ``out_path``.
    """
    p, out = Path(path), Path(out_path)
    with _open(p) as src:
        plan = _plan(p, src, bands, resolution_m)
    profile = {
        "driver": "GTiff", "width": plan.width, "height": plan.height,
        "count": len(plan.bands), "dtype": "uint8", "crs": plan.crs,
        "transform": plan.transform, "tiled": True, "blockxsize": 256,
        "blockysize": 256, "compress": "deflate", "predictor": 2, "BIGTIFF": "IF_SAFER",
    }  # fmt: skip
    with (
        _blocks(plan) as b,
        rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True),
        rasterio.open(out, "w", **profile) as dst,
    ):
        for i, name in enumerate(plan.bands, start=1):
            dst.set_band_description(i, name)
        dst.update_tags(
            LANDGOV_SOURCE=str(p),
            LANDGOV_SOURCE_RESOLUTION_M=f"{plan.source_resolution_m:.6g}",
            LANDGOV_STRETCH="none" if b.stretch is None else
            f"{b.stretch[0]:.6g} {b.stretch[1]:.6g}",
            LANDGOV_RESAMPLING=plan.resampling.name if plan.warp else "none",
        )  # fmt: skip
        for win, block, ok in b.blocks(block_rows):
            dst.write(block, window=win)
            dst.write_mask(ok.astype(np.uint8) * 255, window=win)
    return out
