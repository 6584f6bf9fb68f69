"""A drawn town for structure-model tests: an RGB orthophoto and its footprints.

A 96 m square of "town" (grey-green ground, reddish, pale and grey roofs, some sharing a
wall) written as an RGB GeoTIFF in UTM 43N at 0.3 m (or warped into another CRS), with the
roofs' footprints as GeoJSON in EPSG:4326 — another CRS than the image. Scenes of different
seeds lie side by side, 24 m apart.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import rasterio
from rasterio.transform import from_origin
from shapely.geometry import box

UTM = "EPSG:32643"
X0, Y0, RES, SIDE = 300_000.0, 3_500_000.0, 0.3, 320


def roofs(seed: int) -> list:
    """Boxes in UTM: a grid of roofs, every other pair touching (a shared wall)."""
    rng = np.random.default_rng(seed)
    out = []
    x0 = X0 + 120 * seed  # scenes of different seeds lie side by side, 24 m apart
    for i in range(5):
        for j in range(5):
            x, y = x0 + 6 + i * 18 + rng.uniform(0, 3), Y0 - 8 - j * 18 - rng.uniform(0, 3)
            w, h = rng.uniform(6, 9), rng.uniform(6, 9)
            out.append(box(x, y - h, x + w, y))
            if (i + j) % 2 == 0:  # a neighbour sharing the east wall
                out.append(box(x + w, y - h, x + w + rng.uniform(4, 6), y))
    return out


def town_scene(tmp: Path, seed: int = 0, crs: str = UTM) -> tuple[Path, Path]:
    """An RGB GeoTIFF (``crs``) and its footprints (GeoJSON, EPSG:4326)."""
    tmp.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    footprints = roofs(seed)
    img = np.empty((3, SIDE, SIDE), np.uint8)
    base = np.array([95, 110, 80])[:, None, None] + rng.normal(0, 8, (3, SIDE, SIDE))
    transform = from_origin(X0 + 120 * seed, Y0, RES, RES)
    from rasterio.features import rasterize

    ids = rasterize([(g, k + 1) for k, g in enumerate(footprints)], out_shape=(SIDE, SIDE),
                    transform=transform, dtype="int32")  # fmt: skip
    colours = np.array([[185, 90, 70], [210, 205, 195], [150, 150, 160]])
    col = colours[ids % 3].transpose(2, 0, 1)
    img[:] = np.clip(np.where(ids > 0, col + rng.normal(0, 6, (3, SIDE, SIDE)), base), 0, 255)
    path = tmp / f"town_{seed}_utm.tif"
    profile = {"driver": "GTiff", "width": SIDE, "height": SIDE, "count": 3, "dtype": "uint8",
               "crs": UTM, "transform": transform}  # fmt: skip
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(img)
    if crs != UTM:  # the same image delivered in another CRS
        from rasterio.vrt import WarpedVRT

        with rasterio.open(path) as src, WarpedVRT(src, crs=crs) as vrt:
            data, prof = vrt.read(), vrt.profile
        prof.update(driver="GTiff")
        path.unlink()  # only the delivered file stays in the folder
        path = path.with_name(f"town_{seed}_{crs.split(':')[1]}.tif")
        with rasterio.open(path, "w", **prof) as dst:
            dst.write(data)
    labels = tmp / f"roofs_{seed}.geojson"
    gpd.GeoDataFrame(geometry=footprints, crs=UTM).to_crs("EPSG:4326").to_file(labels)
    return path, labels
