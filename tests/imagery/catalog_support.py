"""Helpers for the imagery catalog tests: tiny rasters near Sheikhupura (73.98E 31.71N)."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin
from rasterio.warp import transform as warp_transform
from sqlalchemy import text
from sqlalchemy.engine import Engine

LON, LAT = 73.98, 31.71
S2_BANDS_10 = ("B02", "B03", "B04", "B08")
S2_BANDS_20 = ("B8A", "B11", "SCL")


def origin(crs: str = "EPSG:32643") -> tuple[float, float]:
    xs, ys = warp_transform("EPSG:4326", crs, [LON], [LAT])
    return xs[0], ys[0]


def write_raster(
    path: Path,
    *,
    count: int = 1,
    size: int = 20,
    res: float = 10.0,
    crs: str | None = "EPSG:32643",
    dtype: str = "uint16",
    data: np.ndarray | None = None,
    descriptions: Sequence[str] | None = None,
    georef: bool = True,
    driver: str = "GTiff",
) -> Path:
    x, y = origin(crs) if crs else (0.0, 0.0)
    profile: dict[str, object] = {
        "driver": driver, "width": size, "height": size, "count": count, "dtype": dtype,
    }  # fmt: skip
    if georef:
        profile.update(
            crs=CRS.from_string(crs or "EPSG:32643"), transform=from_origin(x, y, res, res)
        )
    if data is None:
        rng = np.random.default_rng(zlib.crc32(path.name.encode()))
        data = rng.integers(1, 3000, size=(count, size, size)).astype(dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)
        if descriptions:
            for i, d in enumerate(descriptions, start=1):
                dst.set_band_description(i, d)
    return path


def s2_scene(folder: Path, *, stamp: str = "20250115T054211", tile: str = "43RCQ") -> list[Path]:
    """B02, B03, B04, B08 at 10 m; B8A, B11, SCL at 20 m (SCL: a quarter cloud)."""
    paths = [write_raster(folder / f"T{tile}_{stamp}_{b}_10m.tif") for b in S2_BANDS_10]
    for b in S2_BANDS_20:
        data = None
        if b == "SCL":
            scl = np.full((1, 10, 10), 4, dtype="uint8")
            scl[0, :5, :5] = 9
            data = scl
        paths.append(
            write_raster(
                folder / f"T{tile}_{stamp}_{b}_20m.tif",
                size=10,
                res=20.0,
                dtype="uint8" if b == "SCL" else "uint16",
                data=data,
            )
        )
    return paths


LANDSAT_ID = "LC09_L2SP_149038_20250110_20250111_02_T1"


def landsat_scene(folder: Path) -> list[Path]:
    names = ["SR_B2", "SR_B3", "SR_B4", "SR_B5", "QA_PIXEL"]
    return [write_raster(folder / f"{LANDSAT_ID}_{n}.TIF", res=30.0, size=8) for n in names]


def counts(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as conn:
        return tuple(  # type: ignore[return-value]
            conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()
            for t in ("imagery_scene", "imagery_asset", "audit_log")
        )


def files_under(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*")) if root.exists() else []


def use_db(
    engine: Engine, home: Path, monkeypatch: pytest.MonkeyPatch, *, service: bool = True
) -> None:
    """The CLI on ``engine``'s database with ``home``; the imagery service's key readable
    there unless ``service`` is False."""
    from cli_support import use_database

    use_database(engine, home / ".cli", monkeypatch, home=home,
                 services=("imagery",) if service else ())  # fmt: skip
