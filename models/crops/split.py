"""Spatial folds for field-level crop models: whole blocks of ground per fold, with a buffer.

Neighbouring fields share a farmer, a canal turn, a sowing week and often the same crop
rotation; a random split puts one of two look-alike neighbours in training and the other in
testing and scores the model's memory of the place. Here fields are grouped by the square
block of ``block_m`` metres that holds their centroid (in a Lambert azimuthal equal-area
projection centred on the data, so blocks are square on the ground wherever the fields lie,
even across UTM zones), blocks are dealt to ``k`` folds, and when a fold is held out every
training field within ``buffer_m`` of one of its fields is left out of that training run:
two fields on either side of a block edge are never on both sides.

Dealing is longest-block-first to the fold with the fewest fields so far (ties broken by a
seeded shuffle), so folds are of similar size even where a few dense blocks hold most
fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from models.crops.grid import GridError

__all__ = ["SpatialFolds", "spatial_folds"]


@dataclass
class SpatialFolds:
    """Fold of every field and the training rows of each fold.

    Attributes:
        fold: ``[N]`` fold number of each field (0 … k-1).
        block: ``[N]`` block key ``"ix_iy"`` of each field.
        k: number of folds.
        block_m: block side in metres.
        buffer_m: training fields this close to a held-out field are left out.
        near: ``[N]`` for each field, the folds (bit mask) with a field within ``buffer_m``.
    """

    fold: npt.NDArray[np.int64]
    block: npt.NDArray[np.str_]
    k: int
    block_m: float
    buffer_m: float
    near: npt.NDArray[np.int64]

    def train_rows(self, held_out: int) -> npt.NDArray[np.bool_]:
        """``[N]`` bool: fields outside the held-out fold and farther than the buffer."""
        # numpy's stubs type ``==``/``!=`` on arrays as Any (object's signature)
        rows: npt.NDArray[np.bool_] = (self.fold != held_out) & ((self.near >> held_out) & 1 == 0)
        return rows

    def test_rows(self, held_out: int) -> npt.NDArray[np.bool_]:
        rows: npt.NDArray[np.bool_] = self.fold == held_out
        return rows

    def describe(self) -> dict[str, object]:
        return {
            "method": "spatial blocks",
            "k": self.k,
            "block_m": self.block_m,
            "buffer_m": self.buffer_m,
            "blocks": len(np.unique(self.block)),
            "fields_per_fold": np.bincount(self.fold, minlength=self.k).tolist(),
            "left_out_by_buffer": [
                int(((self.fold != f) & ~self.train_rows(f)).sum()) for f in range(self.k)
            ],
        }


def spatial_folds(
    geometry: object, *, k: int = 5, block_m: float = 10_000.0, buffer_m: float = 1_000.0,
    seed: int = 0,
) -> SpatialFolds:  # fmt: skip
    """Deal fields (a GeoSeries of polygons with a CRS) to ``k`` spatial folds.

    Args:
        geometry: the fields' polygons (``geopandas.GeoSeries``, any CRS).
        k: folds (≥ 2).
        block_m: block side in metres.
        buffer_m: training fields within this distance of a held-out field are not used.
        seed: breaks ties between blocks of equal size.
    """
    import geopandas as gpd
    import shapely

    if k < 2:
        raise GridError(f"{k} fold(s): a spatial split needs at least 2")
    if block_m <= 0 or buffer_m < 0:
        raise GridError("block_m must be > 0 and buffer_m ≥ 0")
    g = gpd.GeoSeries(geometry)
    if g.crs is None:
        raise GridError("the fields have no CRS: a spatial split needs to know where they are")
    w, s_, e, n = g.to_crs(4326).total_bounds  # the centre of the bounds: invalid
    lon, lat = (w + e) / 2, (s_ + n) / 2  # surveyed polygons cannot be unioned
    laea = g.to_crs(f"+proj=laea +lat_0={lat:.4f} +lon_0={lon:.4f} +datum=WGS84 +units=m")
    geoms = laea.make_valid().to_numpy()
    c = shapely.centroid(geoms)
    ix = np.floor(shapely.get_x(c) / block_m).astype(np.int64)
    iy = np.floor(shapely.get_y(c) / block_m).astype(np.int64)
    block = np.char.add(np.char.add(ix.astype(str), "_"), iy.astype(str))
    keys, inverse, sizes = np.unique(block, return_inverse=True, return_counts=True)
    rng = np.random.default_rng(seed)
    order = sorted(range(len(keys)), key=lambda b: (-sizes[b], rng.random()))
    fill = np.zeros(k, dtype=np.int64)
    fold_of_block = np.zeros(len(keys), dtype=np.int64)
    for b in order:
        f = int(np.argmin(fill))
        fold_of_block[b] = f
        fill[f] += sizes[b]
    fold = fold_of_block[inverse]
    near = np.zeros(len(geoms), dtype=np.int64)
    if buffer_m > 0 and len(geoms):
        tree = shapely.STRtree(geoms)
        a, b = tree.query(geoms, predicate="dwithin", distance=buffer_m)
        other = fold[b] != fold[a]
        np.bitwise_or.at(near, a[other], 1 << fold[b[other]])
    return SpatialFolds(fold, block, k, float(block_m), float(buffer_m), near)
