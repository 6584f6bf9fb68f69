"""What the mass-appraisal model knows about a parcel: records, geometry and model outputs.

One SQL query gives every feature of the parcels asked for, so the roll's dask tasks, the
training set and the per-parcel explanation all read the same numbers:

- records: ``mouza`` (the location premium; categorical);
- geometry: ``log_acres`` (ln of the parcel's area in acres: small plots sell dearer per
  acre), ``compactness`` (4πA/P², 0.78 for a killa: awkward shapes sell cheaper),
  ``road_m`` and ``canal_m`` (metres to the nearest road or canal right-of-way in the
  state-land register, capped at :data:`FAR_M`: frontage and assured water);
- models (issue 5's outputs, NULL where imagery or predictions are missing; LightGBM
  treats a missing value as its own branch): ``crop`` (the crop model's latest crop,
  categorical), ``yield_rel`` (mean predicted yield relative to that season's mean for
  the same crop: land quality), ``ndvi_peak`` (highest parcel-mean NDVI in the year before
  the date: green cover; built-up or barren land stays low).

How distances are measured: the nearest right-of-way is picked by KNN (``<->``, the GiST
index on degrees), and the metres are the length on the sphere of the shortest line
between the two in degrees. That line is not exactly the shortest on the ground (a
degree of longitude is shorter than one of latitude), but the error is second order (well
under 1 % at these distances), and it costs a tenth of a geography ``ST_Distance``
between polygons, which dominated a 1,000,000-parcel roll. JIT is off for the query: it
compiles for longer than the query runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Final

import numpy as np
from sqlalchemy import text
from sqlalchemy.engine import Connection

FEATURES: Final = (
    "mouza", "log_acres", "compactness", "road_m", "canal_m", "crop", "yield_rel", "ndvi_peak",
)  # fmt: skip
"""Feature names in model column order."""
CATEGORICAL: Final = ("mouza", "crop")
CROP_CODES: Final = (
    "wheat", "rice", "cotton", "sugarcane", "maize", "fodder", "orchard", "fallow", "other",
)  # fmt: skip
"""Integer code of a crop = its position here (LightGBM categoricals are integers)."""
FAR_M: Final = 5000.0
MONOTONE: Final = {"road_m": -1, "canal_m": -1}
"""Value never rises with distance from road or canal: a constraint a valuer can defend."""
SQ_M_PER_ACRE: Final = 4046.8564224

_PARCELS: Final = """
WITH p AS (
    SELECT k.id, k.mouza_id, k.land_class, k.record_area_sarsai, k.unit_system,
           k.geom_area_m2, k.geom
      FROM khasra k
     WHERE {where}
),
crop_latest AS (  -- the newest season the crop model labelled, per parcel
    SELECT DISTINCT ON (c.khasra_id) c.khasra_id, c.crop
      FROM crop_prediction c JOIN p ON p.id = c.khasra_id
     WHERE c.crop IS NOT NULL AND make_date(c.year, 1, 1) <= :d
     ORDER BY c.khasra_id, c.year DESC, (c.season = 'kharif') DESC, c.run_id DESC
),
yield_mean AS (  -- per crop and season, so a parcel is compared with its peers
    SELECT y.crop, y.season, y.year, avg(y.yield_t_ha) AS mean_t_ha
      FROM yield_prediction y
     WHERE y.yield_t_ha > 0 AND make_date(y.year, 1, 1) <= :d
     GROUP BY 1, 2, 3
),
yield_rel AS (
    SELECT y.khasra_id, avg(y.yield_t_ha / m.mean_t_ha) AS rel
      FROM yield_prediction y JOIN p ON p.id = y.khasra_id
      JOIN yield_mean m USING (crop, season, year)
     WHERE y.yield_t_ha > 0
     GROUP BY 1
),
ndvi AS (
    SELECT z.khasra_id, max(z.mean) AS peak
      FROM parcel_zonal z JOIN p ON p.id = z.khasra_id
      JOIN imagery_scene s ON s.id = z.scene_id
     WHERE z.index = 'ndvi' AND z.valid_fraction >= 0.5
       AND s.datetime::date > :d - 365 AND s.datetime::date <= :d
     GROUP BY 1
)
SELECT p.id, p.mouza_id, p.land_class, p.record_area_sarsai, p.unit_system,
       ln(p.geom_area_m2 / {acre}) AS log_acres,
       4 * pi() * p.geom_area_m2 / power(ST_Perimeter(p.geom::geography, false), 2)
           AS compactness,
       least(road.m, {far}) AS road_m,
       least(canal.m, {far}) AS canal_m,
       cl.crop, yr.rel AS yield_rel, nd.peak AS ndvi_peak
  FROM p
  LEFT JOIN LATERAL (
      SELECT ST_Length(ST_ShortestLine(s.geom, p.geom)::geography, false) AS m
        FROM state_land s WHERE s.category = 'road_row'
       ORDER BY s.geom <-> p.geom LIMIT 1) road ON true
  LEFT JOIN LATERAL (
      SELECT ST_Length(ST_ShortestLine(s.geom, p.geom)::geography, false) AS m
        FROM state_land s WHERE s.category = 'canal_row'
       ORDER BY s.geom <-> p.geom LIMIT 1) canal ON true
  LEFT JOIN crop_latest cl ON cl.khasra_id = p.id
  LEFT JOIN yield_rel yr ON yr.khasra_id = p.id
  LEFT JOIN ndvi nd ON nd.khasra_id = p.id
 ORDER BY p.id
"""

LIVE: Final = (
    "(k.created_on IS NULL OR k.created_on <= :d) AND (k.retired_on IS NULL OR k.retired_on > :d)"
)


class ParcelFeatures:
    """Features of a set of parcels, column-wise.

    Attributes:
        ids, mouza_ids, record_area_sarsai: int64 arrays.
        land_class, unit_system: lists of str.
        matrix: float64 array (n, len(FEATURES)), NaN where unknown.
    """

    def __init__(self, rows: Sequence[Any]) -> None:
        n = len(rows)
        self.ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
        self.mouza_ids = np.fromiter((r[1] for r in rows), dtype=np.int64, count=n)
        self.land_class = [str(r[2]) for r in rows]
        self.record_area_sarsai = np.fromiter((r[3] for r in rows), dtype=np.int64, count=n)
        self.unit_system = [str(r[4]) for r in rows]
        crop_code = {c: i for i, c in enumerate(CROP_CODES)}
        m = np.full((n, len(FEATURES)), np.nan)
        for i, r in enumerate(rows):
            m[i, 0] = r[1]
            m[i, 1:5] = [np.nan if v is None else float(v) for v in r[5:9]]
            if r[9] is not None:
                m[i, 5] = crop_code.get(str(r[9]), crop_code["other"])
            m[i, 6] = np.nan if r[10] is None else float(r[10])
            m[i, 7] = np.nan if r[11] is None else float(r[11])
        self.matrix = m

    def __len__(self) -> int:
        return len(self.ids)


def parcel_features(
    conn: Connection,
    on: date,
    *,
    id_range: tuple[int, int] | None = None,
    ids: Sequence[int] | None = None,
    live_only: bool = True,
) -> ParcelFeatures:
    """Features of parcels on ``on``: the live ones with ids in ``id_range`` [lo, hi), or
    the given ``ids`` (live or not: a sale's parcels may since have been partitioned)."""
    clauses: list[str] = []
    params: dict[str, object] = {"d": on}
    if live_only:
        clauses.append(LIVE)
    if id_range is not None:
        clauses.append("k.id >= :lo AND k.id < :hi")
        params.update(lo=id_range[0], hi=id_range[1])
    if ids is not None:
        clauses.append("k.id = ANY(:ids)")
        params["ids"] = [int(i) for i in ids]
    sql = _PARCELS.format(where=" AND ".join(clauses) or "true", acre=SQ_M_PER_ACRE, far=FAR_M)
    conn.execute(text("SET LOCAL jit = off"))
    return ParcelFeatures(conn.execute(text(sql), params).all())
