"""The band vocabulary landgov knows, and recognition of band files by their names.

Sentinel-2 L2A (``T43RCQ_20250115T054211_B04_10m.jp2``, ``..._B04.tif``), Landsat 8/9
Collection 2 Level-2 (``LC09_L2SP_149038_20250110_20250111_02_T1_SR_B4.TIF``) and
orthophotos (3 or 4 band GeoTIFFs whose bands are described red/green/blue/nir).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Final


@dataclass(frozen=True)
class Band:
    """One band: its name, nominal resolution (m), and STAC ``common_name``."""

    name: str
    resolution_m: float | None
    common_name: str | None = None
    description: str = ""


def _table(*bands: Band) -> dict[str, Band]:
    return {b.name: b for b in bands}


SENTINEL2: Final = _table(
    Band("B01", 60, "coastal", "coastal aerosol"),
    Band("B02", 10, "blue", "blue"),
    Band("B03", 10, "green", "green"),
    Band("B04", 10, "red", "red"),
    Band("B05", 20, "rededge071", "red edge 1"),
    Band("B06", 20, "rededge075", "red edge 2"),
    Band("B07", 20, "rededge078", "red edge 3"),
    Band("B08", 10, "nir", "near infrared"),
    Band("B8A", 20, "nir08", "narrow near infrared"),
    Band("B09", 60, "nir09", "water vapour"),
    Band("B11", 20, "swir16", "short-wave infrared 1.6"),
    Band("B12", 20, "swir22", "short-wave infrared 2.2"),
    Band("SCL", 20, None, "scene classification"),
)
"""Sentinel-2 L2A bands (B10, cirrus, is not in L2A products)."""

LANDSAT: Final = _table(
    Band("SR_B1", 30, "coastal", "coastal aerosol"),
    Band("SR_B2", 30, "blue", "blue"),
    Band("SR_B3", 30, "green", "green"),
    Band("SR_B4", 30, "red", "red"),
    Band("SR_B5", 30, "nir08", "near infrared"),
    Band("SR_B6", 30, "swir16", "short-wave infrared 1"),
    Band("SR_B7", 30, "swir22", "short-wave infrared 2"),
    Band("QA_PIXEL", 30, None, "pixel quality"),
)
"""Landsat 8/9 Collection 2 Level-2 surface reflectance bands and the pixel QA band."""

ORTHOPHOTO: Final = _table(
    Band("red", None, "red", "red"),
    Band("green", None, "green", "green"),
    Band("blue", None, "blue", "blue"),
    Band("nir", None, "nir", "near infrared"),
)
"""Orthophoto bands; their resolution is the raster's own."""

ORTHO_ALIASES: Final = {
    "red": "red", "r": "red", "green": "green", "g": "green", "blue": "blue", "b": "blue",
    "nir": "nir", "near infrared": "nir", "near-infrared": "nir", "infrared": "nir",
}  # fmt: skip

S2_CLOUD_CLASSES: Final = (8, 9, 10)
"""SCL classes counted as cloud: medium and high probability cloud, thin cirrus."""

_S2 = re.compile(
    r"(?:^|_)T(?P<tile>\d{2}[A-Z]{3})_(?P<dt>\d{8}T\d{6})_(?P<band>[A-Za-z0-9]+?)"
    r"(?:_(?P<res>\d{2})m)?$",
    re.IGNORECASE,
)
_LANDSAT = re.compile(
    r"^(?P<product>(?P<sat>L[COT]0[89])_L2SP_(?P<pathrow>\d{6})_(?P<date>\d{8})_\d{8}_\d{2}_"
    r"(?:T1|T2|RT))_(?P<band>[A-Za-z0-9_]+)$",
    re.IGNORECASE,
)
SUFFIXES: Final = (".tif", ".tiff", ".jp2")


@dataclass(frozen=True)
class Recognized:
    """What a file's name says: which scene (``key``) and which band it holds."""

    kind: str  # "sentinel-2" | "landsat"
    key: str  # scene id
    band: str  # the token in the name, upper-cased; may be unknown to the vocabulary
    sensor: str
    collection: str
    datetime: datetime
    resolution_m: float | None
    tile: str


def recognize(path: Path) -> Recognized | None:
    """Reads a Sentinel-2 L2A or Landsat band file name; None when it is neither."""
    stem = path.name
    for suffix in SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    m = _S2.search(stem)
    if m is not None:
        when = datetime.strptime(m["dt"].upper(), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
        tile = m["tile"].upper()
        return Recognized(
            kind="sentinel-2",
            key=f"S2_T{tile}_{m['dt'].upper()}_L2A",
            band=m["band"].upper(),
            sensor="sentinel-2",
            collection="sentinel-2-l2a",
            datetime=when,
            resolution_m=float(m["res"]) if m["res"] else None,
            tile=tile,
        )
    m = _LANDSAT.match(stem)
    if m is not None:
        sat = m["sat"].upper()
        when = datetime.strptime(m["date"], "%Y%m%d").replace(tzinfo=UTC)
        return Recognized(
            kind="landsat",
            key=m["product"].upper(),
            band=m["band"].upper(),
            sensor="landsat-9" if sat.endswith("9") else "landsat-8",
            collection="landsat-c2-l2",
            datetime=when,
            resolution_m=None,
            tile=m["pathrow"],
        )
    return None


def vocabulary(kind: str) -> dict[str, Band]:
    return {"sentinel-2": SENTINEL2, "landsat": LANDSAT, "orthophoto": ORTHOPHOTO}[kind]
