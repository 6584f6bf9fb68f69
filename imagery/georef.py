"""User rasters as GDAL sees them: band names, georeference sidecars, VRT stacks.

Shared by the catalog's ingest (:mod:`imagery.ingest`) and the models' reader
(:mod:`models.encroachment.imagery`), so both name bands the same way and neither has to
import the other's stack (ingest must not load torch). A band is named from its
description (``red``, ``NIR``, ``near-infrared``…), else its colour interpretation; an
undescribed 4th band is alpha only when it looks like a mask (almost all 0 or maximum),
because GDAL marks the 4th band of any 4-band 8-bit GeoTIFF as alpha by default. A
JPEG/PNG is georeferenced by its world file plus a ``.prj`` (which GDAL does not read) or
by a ``.aux.xml``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from xml.etree import ElementTree as ET

import numpy as np
import rasterio
import rasterio.shutil
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import ColorInterp, MaskFlags
from rasterio.errors import CRSError

from imagery import bands as vocab

GEOREF_HINT = "add a world file (.jgw/.pgw/.tfw/.wld) plus a .prj, or a .aux.xml with the CRS"
"""How to georeference a plain JPEG/PNG/TIFF; GDAL reads these sidecars by itself."""

BAND_ALIASES: dict[str, str] = {
    **vocab.ORTHO_ALIASES,
    "nir1": "nir", "nir 1": "nir", "near_infrared": "nir", "nearir": "nir",
    "alpha": "alpha", "a": "alpha", "transparency": "alpha",
}  # fmt: skip
"""Band descriptions (lower-cased, stripped) that name an orthophoto band."""

ORTHO_BANDS = ("red", "green", "blue", "nir")
_RGB = ["red", "green", "blue"]
_COLOR_INTERP = {
    ColorInterp.red: "red",
    ColorInterp.green: "green",
    ColorInterp.blue: "blue",
    ColorInterp.alpha: "alpha",
}


_GENERIC_DESCRIPTION = re.compile(r"^\s*(band|layer|b)[\s_-]*\d+\s*$", re.IGNORECASE)


def band_alias(description: str | None) -> str | None:
    return BAND_ALIASES.get(description.strip().lower()) if description else None


def is_unnamed(description: str | None) -> bool:
    """No description, or a generic one ("Band 1", "Layer_2") that names nothing."""
    return not description or bool(_GENERIC_DESCRIPTION.match(description))


def _alpha_like(src: rasterio.DatasetReader, bidx: int) -> bool:
    """Whether band ``bidx`` holds alpha values: (almost) only fully opaque or transparent.

    Why look at the pixels: GDAL marks the 4th band of every 4-band 8-bit GeoTIFF it
    writes as alpha unless told ``PHOTOMETRIC=MINISBLACK``, so an RGBN orthophoto exported
    without band descriptions claims an alpha band that is really near-infrared. A real
    alpha band is 0 or its maximum almost everywhere (a decimated read suffices).
    """
    dtype = np.dtype(src.dtypes[bidx - 1])
    top = np.iinfo(dtype).max if dtype.kind in "ui" else 1.0
    k = max(1, int(np.ceil(max(src.width, src.height) / 256)))
    sample = src.read(bidx, out_shape=(max(1, src.height // k), max(1, src.width // k)))
    return bool(np.isin(sample, (0, top)).mean() >= 0.98)


def band_names(src: rasterio.DatasetReader) -> list[str]:
    """Names each band of ``src``: red, green, blue, nir, alpha or ``band<i>``.

    A band description (``Red``, ``NIR``, ``near-infrared``...) wins; a description that
    names something else (``thermal``) makes the band ``band<i>``. An undescribed band
    takes its colour interpretation (red/green/blue/alpha; "alpha" only if its pixels
    look like alpha, see :func:`_alpha_like`). A file whose bands carry no description is
    named by its layout, because that is how orthophotos are delivered: 3 bands are red,
    green, blue (in the colour interpretation's order when it names all three); 4 bands
    are red, green, blue, nir unless the 4th is an alpha band (an RGBA PNG). A file
    whose first three bands are red, green, blue and whose 4th is unnamed gets nir too.
    Anything else is ``band<i>`` (1-based), which no model needs.
    """
    names: list[str | None] = []
    for i, (desc, ci) in enumerate(zip(src.descriptions, src.colorinterp, strict=True), 1):
        if not is_unnamed(desc):
            names.append(band_alias(desc))
        elif ci == ColorInterp.alpha:
            names.append("alpha" if _alpha_like(src, i) else None)
        else:
            names.append(_COLOR_INTERP.get(ci))
    n = src.count
    described = any(not is_unnamed(d) for d in src.descriptions)
    if not described and n in (3, 4):
        if sorted(str(x) for x in names[:3]) != sorted(_RGB):
            names[:3] = _RGB
        if n == 4 and names[3] != "alpha":
            names[3] = "nir"
    elif n == 4 and sorted(str(x) for x in names[:3]) == sorted(_RGB) and names[3] is None:
        names[3] = "nir" if is_unnamed(src.descriptions[3]) else None
    return [name or f"band{i}" for i, name in enumerate(names, start=1)]


def sidecar_crs(path: Path) -> CRS | None:
    """The CRS of ``<stem>.prj`` or ``<name>.prj`` beside ``path`` (ESRI or OGC WKT).

    Why here: GDAL reads a world file's geotransform for JPEG/PNG by itself, and the CRS
    of a ``.aux.xml``, but not a ``.prj``, which is how ArcGIS and QGIS ship the CRS of
    a world-file image.
    """
    for prj in (path.with_suffix(".prj"), path.with_name(path.name + ".prj")):
        if prj.is_file():
            try:
                return CRS.from_wkt(prj.read_text(encoding="utf-8", errors="replace").strip())
            except CRSError:  # an unreadable .prj is "no CRS"
                return None
    return None


def georeference(path: Path, src: rasterio.DatasetReader) -> tuple[CRS | None, Affine | None]:
    """``(crs, transform)`` of ``src``; either is None when missing.

    The CRS is the file's own, else that of a ``.prj`` sidecar; the transform is None when
    GDAL found none (it then reports the identity).
    """
    crs = src.crs if src.crs is not None else sidecar_crs(path)
    transform = None if src.transform == Affine.identity() else src.transform
    return crs, transform


def mask_source(src: rasterio.DatasetReader, names: list[str] | None = None) -> str | None:
    """Which source band carries ``src``'s validity mask, in VRT ``SourceBand`` syntax.

    ``"<i>"`` for the band :func:`band_names` calls alpha, ``"mask,1"`` for a
    per-dataset (internal or ``.msk``) mask, None when validity is all-valid or given by
    a nodata value. A mask GDAL derives from a colour-interpretation "alpha" that is
    really data (see :func:`_alpha_like`) is not a mask.
    """
    names = names if names is not None else band_names(src)
    if "alpha" in names:
        return str(names.index("alpha") + 1)
    flags = src.mask_flag_enums[0]
    if MaskFlags.per_dataset in flags and not {MaskFlags.alpha, MaskFlags.nodata} & set(flags):
        return "mask,1"
    return None


_GDAL_TYPES = {
    "uint8": "Byte", "int8": "Int8", "uint16": "UInt16", "int16": "Int16",
    "uint32": "UInt32", "int32": "Int32", "uint64": "UInt64", "int64": "Int64",
    "float32": "Float32", "float64": "Float64",
}  # fmt: skip


@dataclass(frozen=True)
class VrtBand:
    """One band of :func:`vrt_xml`: band ``band`` of ``path``, named ``description``."""

    path: Path
    band: int
    description: str
    dtype: str
    nodata: float | None = None


def vrt_xml(
    bands: list[VrtBand],
    *,
    width: int,
    height: int,
    crs: CRS,
    transform: Affine,
    mask: tuple[Path, str] | None = None,
) -> str:
    """A GDAL VRT document that stacks ``bands`` (same grid) with ``crs``/``transform``.

    Why a VRT: it costs no pixel copy, names the bands (descriptions, and no colour
    interpretation that GDAL could take for alpha), supplies a CRS that only a sidecar
    ``.prj`` holds, and carries a dataset mask (``mask`` = (file, ``SourceBand`` spec from
    :func:`mask_source`)), which GDAL's COG writer and warper both honour. Open it with
    ``rasterio.MemoryFile(xml.encode(), ext=".vrt")`` or write it to a ``.vrt`` file.
    """

    def source(parent: ET.Element, path: Path, band: str) -> None:
        src = ET.SubElement(parent, "SimpleSource")
        ET.SubElement(src, "SourceFilename", relativeToVRT="0").text = str(path.resolve())
        ET.SubElement(src, "SourceBand").text = band

    root = ET.Element("VRTDataset", rasterXSize=str(width), rasterYSize=str(height))
    ET.SubElement(root, "SRS").text = crs.to_wkt()
    gt = transform.to_gdal()
    ET.SubElement(root, "GeoTransform").text = ", ".join(repr(float(v)) for v in gt)
    for i, b in enumerate(bands, start=1):
        el = ET.SubElement(root, "VRTRasterBand", dataType=_GDAL_TYPES[b.dtype], band=str(i))
        ET.SubElement(el, "Description").text = b.description
        if b.nodata is not None:
            ET.SubElement(el, "NoDataValue").text = repr(float(b.nodata))
        source(el, b.path, str(b.band))
    if mask is not None:
        el = ET.SubElement(ET.SubElement(root, "MaskBand"), "VRTRasterBand", dataType="Byte")
        source(el, mask[0], mask[1])
    return ET.tostring(root, encoding="unicode")
