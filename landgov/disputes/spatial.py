"""Spatial dispute signals, computed in PostGIS (domain.md §6, signals 9 and 10).

Every detector is one SQL statement: candidate pairs come from ``&&`` joins on the GiST
indexed ``geom`` columns, and every area is measured in the mouza's UTM zone (EPSG:32642
or 32643, chosen from the centre of the mouza's boundary, or of its khasras when it has
none, exactly as :func:`landgov.storage.detections.mouza_utm_srid` does). A finding is a
dict with the keys ``rule``, ``khasra_ids``, ``mouza_id``, ``measure``, ``threshold``,
``evidence`` (JSON-able), ``geom_wkb`` (the offending area as EPSG:4326 WKB, or None) and,
for the graded rules, ``grade`` (in (0, 1], see :func:`overlap_grade`).

One notion of "beyond tolerance" serves every rule (issue 16): a piece of land (an
overlap, an encroachment, a gap, the record-vs-map difference) counts only when its part
wider than ``tolerance_m`` covers more than ``min_area_m2``. The part wider than the
tolerance is the piece's morphological opening (shrunk by half the tolerance, grown
back): a strip thinner than ``tolerance_m`` disappears whole, however long, and a real
encroachment keeps its area even where digitising noise runs along the rest of the shared
edge. :func:`wide_part_sql` is the SQL every detector uses, :func:`beyond_tolerance` its
Python twin. Both figures were measured on a real cadastre (``bench/spatial_tolerances.py``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy import Connection, text

from landgov.disputes import grades

Finding = dict[str, Any]
Detector = Callable[..., list[Finding]]

DEFAULTS: Mapping[str, Any] = {
    "tolerance_m": 0.1,
    "min_area_m2": 1.0,
    "min_gap_m2": 50.0,
    "sliver_width_m": 1.0,
    "area_tolerance": 0.01,
    "tatima_tolerance": 0.01,
    "buffer_scale": 1.0,
    "grade_m2": [[1.0, 0.25], [101.0, 1.0]],
    "grade_pct": [[1.0, 0.25], [10.0, 1.0]],
}
"""Default thresholds; any key can be overridden per call (``thresholds``).

``tolerance_m`` and ``min_area_m2`` are the shared tolerance: the width of noise every
rule ignores and the least area beyond it that counts (bench/spatial_tolerances.py
measured the noise between the neighbours of a real cadastre: at most 3 mm wide and
0.13 m², and its coordinates, 7 decimals of a degree, lie 1.1 cm apart). ``sliver_width_m``: a
gap thinner than this on average (2 × area / perimeter) is a sliver, a wider one a gap
when above ``min_gap_m2``. ``grade_m2`` and ``grade_pct``: the ramps of
:func:`overlap_grade`."""

SQFT_M2 = 0.3048**2
SARSAI_M2 = {"standard": 30.25 * SQFT_M2, "urban": 25.0 * SQFT_M2}
"""Square metres in one sarsai per unit system (domain.md §3)."""

# the UTM zone of each selected mouza (north: 326zz, south: 327zz)
_MOUZA_SRID = """
mz AS MATERIALIZED (  -- computed once: inlined, it re-collects every parcel per row
    SELECT m.id AS mouza_id,
           CASE WHEN ST_Y(c) >= 0 THEN 32600 ELSE 32700 END
             + least(floor((ST_X(c) + 180) / 6)::int + 1, 60) AS srid
    FROM mouza m
    CROSS JOIN LATERAL (
        SELECT ST_Centroid(coalesce(m.boundary,
               (SELECT ST_Collect(k.geom) FROM khasra k WHERE k.mouza_id = m.id))) AS c
        OFFSET 0  -- a fence: pulled up, the collect ran once per use of c (three times)
    ) s
    WHERE s.c IS NOT NULL
      AND (CAST(:ids AS bigint[]) IS NULL OR m.id = ANY(CAST(:ids AS bigint[])))
)"""

_SARSAI_SQL = (
    f"CASE k.unit_system WHEN 'urban' THEN {SARSAI_M2['urban']!r}"
    f" ELSE {SARSAI_M2['standard']!r} END"
)

_HALF_TOL = "(CAST(:tolerance_m AS double precision) / 2)"


def wide_part_sql(geom: str) -> str:
    """SQL: the part of the polygonal geometry ``geom`` (in metres: a UTM zone) wider
    than ``:tolerance_m``, its opening by that width (mitred joins keep a rectangle's
    corners), clipped to ``geom``. The shared tolerance of every spatial rule: a piece
    counts when ``ST_Area`` of this exceeds ``:min_area_m2`` (:func:`tolerance_params`)."""
    return (
        f"ST_CollectionExtract(ST_Intersection({geom}, ST_Buffer(ST_Buffer({geom},"
        f" -{_HALF_TOL}, 'join=mitre'), {_HALF_TOL}, 'join=mitre')), 3)"
    )


def strip_beyond_sql(area: str, length: str) -> str:
    """SQL: whether an area ``area`` (m²) spread as a strip along a line of ``length``
    metres is beyond tolerance, i.e. wider than ``:tolerance_m`` (``area / length``) and
    larger than ``:min_area_m2``: the same test as :func:`wide_part_sql` for a difference
    that has no shape of its own (record area against map area, along the boundary)."""
    return f"({area} > :min_area_m2 AND {area} / nullif({length}, 0) > :tolerance_m)"


def tolerance_params(t: Mapping[str, Any]) -> dict[str, float]:
    """The bind parameters of :func:`wide_part_sql` and :func:`strip_beyond_sql`."""
    return {"tolerance_m": float(t["tolerance_m"]), "min_area_m2": float(t["min_area_m2"])}


def wide_part(geom: Any, tolerance_m: float) -> Any:
    """Python twin of :func:`wide_part_sql` on a shapely geometry in metres (GEOS, the
    library PostGIS uses, so both give the same figures)."""
    import shapely

    h = tolerance_m / 2
    opened = geom.buffer(-h, join_style="mitre").buffer(h, join_style="mitre")
    return shapely.intersection(geom, opened)


def beyond_tolerance(geom: Any, thresholds: Mapping[str, Any] | None = None) -> bool:
    """Whether a piece of land (shapely, metres) counts for a spatial rule: its part wider
    than ``tolerance_m`` covers more than ``min_area_m2`` (:data:`DEFAULTS` unless given)."""
    t = _thresholds(thresholds)
    return bool(wide_part(geom, float(t["tolerance_m"])).area > float(t["min_area_m2"]))


def mean_width(area_m2: float, perimeter_m: float) -> float:
    """2 × area / perimeter: the width of a long strip of that area and perimeter."""
    return 2.0 * area_m2 / perimeter_m if perimeter_m > 0 else 0.0


def overlap_grade(area_m2: float, pct: float, thresholds: Mapping[str, Any]) -> float:
    """Grade of an overlap or encroachment: the larger of two monotone ramps (defaults in
    :data:`DEFAULTS`), over its area in m² (``grade_m2``: 0.25 at 1 m², full at 101 m²,
    one karam of 5.5 ft along a killa's 198 ft side) and over the larger of the shares
    it takes of the parcels involved, in % (``grade_pct``: 0.25 at 1 %, the old rule's
    threshold, full at 10 %). Monotone in both: more land, or a larger part of either
    parcel, never weighs less. Always in [0.25, 1] with the default ramps."""
    for name in ("grade_m2", "grade_pct"):
        grades.check_spec({"factors": [{"evidence": name, "points": thresholds[name]}]})
    g = max(grades.ramp(area_m2, thresholds["grade_m2"]), grades.ramp(pct, thresholds["grade_pct"]))
    return round(min(1.0, max(0.0, g)), 4)


def _thresholds(given: Mapping[str, Any] | None) -> dict[str, Any]:
    merged = dict(DEFAULTS)
    merged.update(given or {})
    return merged


def _params(mouza_ids: list[int] | None) -> dict[str, Any]:
    return {"ids": None if mouza_ids is None else [int(i) for i in mouza_ids]}


def _wkb(value: Any) -> bytes | None:
    return None if value is None else bytes(value)


def overlaps(
    conn: Connection,
    *,
    mouza_ids: list[int] | None = None,
    thresholds: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Pairs of live khasras drawn over each other (domain.md §6, signal 9).

    Rule ``overlap``: two live khasras (``retired_on IS NULL``) whose interiors meet and
    whose intersection, measured in the first parcel's mouza UTM zone, is beyond the
    shared tolerance: its part wider than ``tolerance_m`` covers more than
    ``min_area_m2`` (:func:`wide_part_sql`), whatever share of either parcel that is.
    Each pair is reported once (lower id first); ``measure`` is the intersection in m².
    ``evidence`` gives the intersection (m², its mean width, the part beyond tolerance)
    and the share it takes of each parcel (%); ``grade`` is :func:`overlap_grade` of the
    intersection's m² and the larger of the two shares. Pairs across a mouza boundary are
    found when either mouza is selected.

    Args:
        conn: An open connection.
        mouza_ids: Mouzas to check (None: all).
        thresholds: Overrides of :data:`DEFAULTS` (``tolerance_m``, ``min_area_m2``,
            ``grade_m2``, ``grade_pct``).

    Returns:
        One finding per overlapping pair, ordered by khasra ids.
    """
    t = _thresholds(thresholds)
    sql = f"""
    WITH {_MOUZA_SRID},
    pairs AS MATERIALIZED (
        -- driven from the selected mouzas' parcels (s), so a subset costs its share: a
        -- pair inside the selection is taken once (lower id first), one reaching outside
        -- from its selected side
        SELECT least(s.id, o.id) AS a_id, greatest(s.id, o.id) AS b_id,
               CASE WHEN s.id < o.id THEN s.mouza_id ELSE o.mouza_id END AS mouza_id,
               CASE WHEN s.id < o.id THEN s.geom ELSE o.geom END AS ga,
               CASE WHEN s.id < o.id THEN o.geom ELSE s.geom END AS gb
        FROM khasra s
        JOIN khasra o ON s.geom && o.geom AND s.id <> o.id
        WHERE s.retired_on IS NULL AND o.retired_on IS NULL
          AND (CAST(:ids AS bigint[]) IS NULL OR s.mouza_id = ANY(CAST(:ids AS bigint[])))
          AND (s.id < o.id OR (CAST(:ids AS bigint[]) IS NOT NULL
                               AND o.mouza_id <> ALL(CAST(:ids AS bigint[]))))
          AND ST_Relate(s.geom, o.geom, 'T********')
    ),
    measured AS (
        SELECT p.*, ST_CollectionExtract(ST_Intersection(p.ga, p.gb), 3) AS inter, s.srid
        FROM pairs p
        JOIN LATERAL (
            SELECT coalesce((SELECT srid FROM mz WHERE mz.mouza_id = p.mouza_id),
                   (SELECT 32600 + least(floor((ST_X(ST_Centroid(p.ga)) + 180) / 6)::int + 1,
                                         60))) AS srid
        ) s ON true
    ),
    areas AS (
        SELECT m.*, ST_Area(u.iu) AS inter_m2, ST_Perimeter(u.iu) AS inter_perim_m,
               ST_Area(ST_Transform(m.ga, m.srid)) AS a_m2,
               ST_Area(ST_Transform(m.gb, m.srid)) AS b_m2, u.iu
        FROM measured m CROSS JOIN LATERAL (SELECT ST_Transform(m.inter, m.srid) AS iu) u
    ),
    wide AS (
        SELECT a.*, CASE WHEN a.inter_m2 > :min_area_m2
                         THEN ST_Area({wide_part_sql("a.iu")}) ELSE 0 END AS wide_m2
        FROM areas a
    )
    SELECT a_id, b_id, mouza_id, srid, inter_m2, inter_perim_m, wide_m2, a_m2, b_m2,
           ST_AsBinary(inter) AS wkb
    FROM wide
    WHERE wide_m2 > :min_area_m2
    ORDER BY a_id, b_id
    """
    rows = conn.execute(text(sql), {**_params(mouza_ids), **tolerance_params(t)})
    out: list[Finding] = []
    for r in rows:
        inter, a_m2, b_m2 = float(r.inter_m2), float(r.a_m2), float(r.b_m2)
        pct = [100 * inter / a_m2, 100 * inter / b_m2]
        out.append(
            {
                "rule": "overlap",
                "khasra_ids": [int(r.a_id), int(r.b_id)],
                "mouza_id": int(r.mouza_id),
                "measure": inter,
                "threshold": float(t["min_area_m2"]),
                "grade": overlap_grade(inter, max(pct), t),
                "evidence": {
                    "intersection_m2": round(inter, 3),
                    "area_m2": [round(a_m2, 3), round(b_m2, 3)],
                    "pct_of_each": [round(p, 3) for p in pct],
                    "larger_pct": round(max(pct), 3),
                    "width_m": round(mean_width(inter, float(r.inter_perim_m)), 3),
                    "beyond_tolerance_m2": round(float(r.wide_m2), 3),
                    "tolerance_m": float(t["tolerance_m"]),
                    "srid": int(r.srid),
                },
                "geom_wkb": _wkb(r.wkb),
            }
        )
    return out


def gaps(
    conn: Connection,
    *,
    mouza_ids: list[int] | None = None,
    thresholds: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Holes in a mouza's parcel map, and slivers (domain.md §6, signal 9).

    The cover of a mouza is the union of its live khasras (abadi deh is a khasra with
    land class ``abadi``) and its state land polygons. Where the mouza has a boundary
    (hadbast), a gap is a piece of the boundary not covered, so a parcel drawn short at
    the mouza's edge is found too; without one, a gap is an interior ring of the cover,
    less any cover lying inside it (an island parcel), and land outside the cover's outer
    rings is never a gap. Areas and perimeters are in the mouza's UTM zone.

    Rules (each gap is reported under one of them), for a gap beyond the shared
    tolerance (its part wider than ``tolerance_m`` covers more than ``min_area_m2``,
    :func:`wide_part_sql`; a thinner crack between digitised neighbours is noise):

    * ``sliver``: a thin gap, mean width ``2 × area / perimeter < sliver_width_m``
      (default 1 m, as left by digitising neighbours apart); ``measure`` is the width.
    * ``gap``: any other gap with ``area > min_gap_m2`` (default 50); ``measure`` is the
      area in m².

    ``khasra_ids`` are the live khasras touching the gap (within 0.1 m: digitised
    neighbours rarely share an edge exactly), the one sharing the longest edge first.

    Args:
        conn: An open connection.
        mouza_ids: Mouzas to check (None: all).
        thresholds: Overrides of :data:`DEFAULTS` (``tolerance_m``, ``min_area_m2``,
            ``min_gap_m2``, ``sliver_width_m``).

    Returns:
        One finding per gap or sliver, ordered by mouza and area (largest first).
    """
    t = _thresholds(thresholds)
    sql = f"""
    WITH {_MOUZA_SRID},
    cover AS (
        SELECT mz.mouza_id, mz.srid, ST_Union(c.geom) AS u
        FROM mz
        JOIN LATERAL (
            SELECT k.geom FROM khasra k WHERE k.mouza_id = mz.mouza_id AND k.retired_on IS NULL
            UNION ALL
            SELECT s.geom FROM state_land s WHERE s.mouza_id = mz.mouza_id
        ) c ON true
        GROUP BY mz.mouza_id, mz.srid
    ),
    bounded AS (
        SELECT c.mouza_id, c.srid, d.geom AS g
        FROM cover c
        JOIN mouza mo ON mo.id = c.mouza_id AND mo.boundary IS NOT NULL
        CROSS JOIN LATERAL ST_Dump(ST_Difference(mo.boundary, c.u)) d
    ),
    holes AS (
        SELECT c.mouza_id, c.srid, r.geom AS ring
        FROM cover c
        JOIN mouza mo ON mo.id = c.mouza_id AND mo.boundary IS NULL
        CROSS JOIN LATERAL ST_Dump(c.u) d
        CROSS JOIN LATERAL ST_DumpRings(d.geom) r
        WHERE r.path[1] > 0
    ),
    gapgeom AS (
        SELECT h.mouza_id, h.srid,
               ST_CollectionExtract(coalesce(ST_Difference(h.ring, isl.u), h.ring), 3) AS g
        FROM holes h
        LEFT JOIN LATERAL (
            SELECT ST_Union(x.geom) AS u FROM (
                SELECT k.geom FROM khasra k
                WHERE k.geom && h.ring AND k.retired_on IS NULL
                  AND ST_Relate(k.geom, h.ring, 'T********')
                UNION ALL
                SELECT s.geom FROM state_land s
                WHERE s.geom && h.ring AND ST_Relate(s.geom, h.ring, 'T********')
            ) x
        ) isl ON true
        UNION ALL
        SELECT mouza_id, srid, g FROM bounded
    ),
    candidates AS (
        SELECT g.* FROM gapgeom g
        WHERE NOT ST_IsEmpty(g.g)
          AND ST_Area(ST_Transform(g.g, g.srid)) > :min_area_m2
    ),
    measured AS (
        -- an opening by ~1 mm removes the zero-width spikes a union of digitised parcels
        -- leaves along shared edges: they add no area but inflate the perimeter and reach
        -- parcels the gap does not touch
        SELECT c.mouza_id, c.srid, o.g, ST_Area(u.gu) AS area_m2,
               ST_Perimeter(u.gu) AS perimeter_m,
               ST_Area({wide_part_sql("u.gu")}) AS wide_m2
        FROM candidates c
        CROSS JOIN LATERAL (SELECT ST_CollectionExtract(ST_Buffer(ST_Buffer(c.g, -1e-8,
            'join=mitre'), 1e-8, 'join=mitre'), 3) AS g) o
        CROSS JOIN LATERAL (SELECT ST_Transform(o.g, c.srid) AS gu) u
        WHERE NOT ST_IsEmpty(o.g)
    )
    SELECT m.mouza_id, m.srid, m.area_m2, m.perimeter_m, m.wide_m2, ST_AsBinary(m.g) AS wkb,
           ST_X(ST_PointOnSurface(m.g)) AS lon, ST_Y(ST_PointOnSurface(m.g)) AS lat,
           ARRAY(SELECT k.id FROM khasra k
                 WHERE k.mouza_id = m.mouza_id AND k.retired_on IS NULL
                   AND ST_DWithin(k.geom, m.g, 1e-6)  -- 0.1 m: shared edges are not exact
                 ORDER BY ST_Length(ST_Intersection(ST_Boundary(k.geom),
                                                    ST_Buffer(m.g, 1e-6))) DESC, k.id
           ) AS neighbours
    FROM measured m
    WHERE m.wide_m2 > :min_area_m2
      AND (2 * m.area_m2 / m.perimeter_m < :sliver_width OR m.area_m2 > :min_gap)
    ORDER BY m.mouza_id, m.area_m2 DESC
    """
    params = {
        **_params(mouza_ids),
        **tolerance_params(t),
        "sliver_width": float(t["sliver_width_m"]),
        "min_gap": float(t["min_gap_m2"]),
    }
    out: list[Finding] = []
    for r in conn.execute(text(sql), params):
        width = mean_width(float(r.area_m2), float(r.perimeter_m))
        thin = width < float(t["sliver_width_m"])
        out.append(
            {
                "rule": "sliver" if thin else "gap",
                "khasra_ids": [int(i) for i in r.neighbours],
                "mouza_id": int(r.mouza_id),
                "measure": width if thin else float(r.area_m2),
                "threshold": float(t["sliver_width_m"] if thin else t["min_gap_m2"]),
                "evidence": {
                    "area_m2": round(float(r.area_m2), 3),
                    "perimeter_m": round(float(r.perimeter_m), 3),
                    "width_m": round(width, 4),
                    "beyond_tolerance_m2": round(float(r.wide_m2), 3),
                    "tolerance_m": float(t["tolerance_m"]),
                    "point": [round(float(r.lon), 7), round(float(r.lat), 7)],
                    "srid": int(r.srid),
                },
                "geom_wkb": _wkb(r.wkb),
            }
        )
    return out


def area_mismatch(
    conn: Connection,
    *,
    mouza_ids: list[int] | None = None,
    thresholds: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Record area against map area (domain.md §6, signal 9).

    Rule ``area_mismatch``: a live khasra whose record area (``record_area_sarsai`` in its
    unit system, 1 sarsai = 30.25 ft² standard or 25 ft² urban) differs from the area of
    its geometry in the mouza's UTM zone by more than ``area_tolerance`` (default 0.01)
    of the geometric area, by more than the shared tolerance (the difference, spread as a
    strip along the parcel's boundary, is wider than ``tolerance_m`` and larger than
    ``min_area_m2``, :func:`strip_beyond_sql`), and by more than half a sarsai of the
    khasra's unit system (1.41 m² standard, 1.16 m² urban).

    The last test is not a threshold but the record's resolution: a record area held in
    whole sarsai cannot be more exact than half a sarsai, and a map area rounded to whole
    sarsai (what an import stores when a file gives no area, or a patwari writes) is off
    by up to that much. Without it, a parcel of a few m² is flagged for the rounding
    alone: around so small a parcel 1.4 m² is both over 1 % and a "boundary shift" over
    0.1 m (8 parcels of the real Épinay cadastre, docs/disputes.md). It is not
    overridable, so a run "with no tolerance" (``tolerance_m`` and ``min_area_m2`` 0)
    still does not count the rounding as a mismatch.

    ``measure`` is ``|record / geometric - 1|``; ``evidence`` gives the difference in m²,
    as that strip's width (``boundary_shift_m``: how far the whole boundary would have
    to move) and the half sarsai it had to exceed (``rounding_m2``). Digitised village
    maps need a looser tolerance (domain.md §6.9): the caller passes it, e.g.
    ``{"area_tolerance": 0.03}``, for the mouzas whose maps are digitised.

    Args:
        conn: An open connection.
        mouza_ids: Mouzas to check (None: all).
        thresholds: Overrides of :data:`DEFAULTS` (``area_tolerance``, ``tolerance_m``,
            ``min_area_m2``).

    Returns:
        One finding per khasra, ordered by id.
    """
    t = _thresholds(thresholds)
    sql = f"""
    WITH {_MOUZA_SRID},
    a AS (
        SELECT k.id, k.mouza_id, k.number, mz.srid, k.record_area_sarsai, k.unit_system,
               k.record_area_sarsai * {_SARSAI_SQL} AS record_m2,
               0.5 * {_SARSAI_SQL} AS rounding_m2,
               ST_Area(u.g) AS geom_m2, ST_Perimeter(u.g) AS perimeter_m
        FROM khasra k JOIN mz ON mz.mouza_id = k.mouza_id
        CROSS JOIN LATERAL (SELECT ST_Transform(k.geom, mz.srid) AS g) u
        WHERE k.retired_on IS NULL
    )
    SELECT *, abs(record_m2 / geom_m2 - 1) AS off FROM a
    WHERE abs(record_m2 / geom_m2 - 1) > :tol
      AND {strip_beyond_sql("abs(record_m2 - geom_m2)", "perimeter_m")}
      -- the record's resolution: whole sarsai, so up to half a sarsai off by rounding
      AND abs(record_m2 - geom_m2) > rounding_m2
    ORDER BY id
    """
    params = {**_params(mouza_ids), **tolerance_params(t), "tol": float(t["area_tolerance"])}
    out: list[Finding] = []
    for r in conn.execute(text(sql), params):
        diff = abs(float(r.record_m2) - float(r.geom_m2))
        out.append(
            {
                "rule": "area_mismatch",
                "khasra_ids": [int(r.id)],
                "mouza_id": int(r.mouza_id),
                "measure": float(r.off),
                "threshold": float(t["area_tolerance"]),
                "evidence": {
                    "number": r.number,
                    "record_area_sarsai": int(r.record_area_sarsai),
                    "unit_system": r.unit_system,
                    "record_area_m2": round(float(r.record_m2), 3),
                    "geom_area_m2": round(float(r.geom_m2), 3),
                    "difference_m2": round(diff, 3),
                    "boundary_shift_m": round(diff / float(r.perimeter_m), 3),
                    "rounding_m2": round(float(r.rounding_m2), 3),
                    "srid": int(r.srid),
                },
                "geom_wkb": None,
            }
        )
    return out


def tatima_sum(
    conn: Connection,
    *,
    mouza_ids: list[int] | None = None,
    thresholds: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Tatima (partition) children that do not add up to their parent (domain.md §6.9).

    Rule ``tatima_area_mismatch``: for a khasra with children (``parent_khasra_id``), the
    children's record areas (in m², by unit system) or geometric areas (UTM zone) sum to
    more than ``tatima_tolerance`` (default 0.01) away from the parent's. ``measure`` is
    the larger of ``|sum record / parent record - 1|`` and ``|sum geometric / parent
    geometric - 1|``. ``geom_wkb`` is the part of the parent its children leave uncovered
    (None when they cover it). ``khasra_ids`` is the parent first, then the children.

    Args:
        conn: An open connection.
        mouza_ids: Mouzas to check (None: all).
        thresholds: Overrides of :data:`DEFAULTS` (``tatima_tolerance``).

    Returns:
        One finding per parent, ordered by parent id.
    """
    t = _thresholds(thresholds)
    sql = f"""
    WITH {_MOUZA_SRID},
    fam AS (
        SELECT p.id, p.mouza_id, p.number, mz.srid,
               p.record_area_sarsai * CASE p.unit_system WHEN 'urban'
                   THEN {SARSAI_M2["urban"]!r} ELSE {SARSAI_M2["standard"]!r} END AS p_rec,
               ST_Area(ST_Transform(p.geom, mz.srid)) AS p_geo, p.geom,
               sum(k.record_area_sarsai * {_SARSAI_SQL}) AS c_rec,
               sum(ST_Area(ST_Transform(k.geom, mz.srid))) AS c_geo,
               array_agg(k.id ORDER BY k.id) AS children,
               ST_Union(k.geom) AS c_union
        FROM khasra p
        JOIN mz ON mz.mouza_id = p.mouza_id
        JOIN khasra k ON k.parent_khasra_id = p.id
        GROUP BY p.id, mz.srid
    ),
    m AS (
        SELECT *, greatest(abs(c_rec / p_rec - 1), abs(c_geo / p_geo - 1)) AS off FROM fam
    )
    SELECT id, mouza_id, number, srid, p_rec, p_geo, c_rec, c_geo, children, off,
           ST_AsBinary(nullif(ST_CollectionExtract(ST_Difference(geom, c_union), 3),
                              'MULTIPOLYGON EMPTY'::geometry)) AS wkb
    FROM m WHERE off > :tol ORDER BY id
    """
    rows = conn.execute(text(sql), {**_params(mouza_ids), "tol": t["tatima_tolerance"]})
    out: list[Finding] = []
    for r in rows:
        wkb = _wkb(r.wkb)
        out.append(
            {
                "rule": "tatima_area_mismatch",
                "khasra_ids": [int(r.id), *(int(c) for c in r.children)],
                "mouza_id": int(r.mouza_id),
                "measure": float(r.off),
                "threshold": t["tatima_tolerance"],
                "evidence": {
                    "number": r.number,
                    "parent_record_m2": round(float(r.p_rec), 3),
                    "children_record_m2": round(float(r.c_rec), 3),
                    "parent_geom_m2": round(float(r.p_geo), 3),
                    "children_geom_m2": round(float(r.c_geo), 3),
                    "srid": int(r.srid),
                },
                "geom_wkb": wkb if wkb else None,
            }
        )
    return out


_STATE_OWNED_SQL = """
    -- owned only by the state: current ownership shares, every one a state party's
    EXISTS (SELECT 1 FROM khewat_khasra kk
            JOIN share sh ON sh.khewat_id = kk.khewat_id AND sh.valid_to IS NULL
                         AND sh.right_type = 'ownership'
            WHERE kk.khasra_id = k.id AND kk.valid_to IS NULL)
    AND NOT EXISTS (SELECT 1 FROM khewat_khasra kk
            JOIN share sh ON sh.khewat_id = kk.khewat_id AND sh.valid_to IS NULL
                         AND sh.right_type = 'ownership'
            JOIN party pa ON pa.id = sh.party_id
            WHERE kk.khasra_id = k.id AND kk.valid_to IS NULL AND pa.kind <> 'state')"""

_PRIVATELY_OWNED_SQL = """
    EXISTS (SELECT 1 FROM khewat_khasra kk
            JOIN share sh ON sh.khewat_id = kk.khewat_id AND sh.valid_to IS NULL
                         AND sh.right_type = 'ownership'
            JOIN party pa ON pa.id = sh.party_id
            WHERE kk.khasra_id = k.id AND kk.valid_to IS NULL AND pa.kind <> 'state')"""


def private_on_state_land(
    conn: Connection,
    *,
    mouza_ids: list[int] | None = None,
    thresholds: Mapping[str, Any] | None = None,
) -> list[Finding]:
    """Private parcels drawn into state land or a right-of-way buffer (domain.md §6.10).

    Rule ``private_on_state_land``: a live khasra that is not itself state land overlaps
    a state land polygon grown by its category's ``encroachment_zone.buffer_m`` (times
    ``buffer_scale``, default 1) beyond the shared tolerance (the overlap's part wider
    than ``tolerance_m`` covers more than ``min_area_m2``, :func:`wide_part_sql`),
    whatever share of the khasra that is: a khasra lying 65 % or 99 % on shamlat is
    flagged like one reaching 5 m into a road.

    A khasra is itself state land, and exempt, only when no private party owns any of it
    and either its current owners (ownership shares of its current khewats) are all state
    parties, or it is the same ground as a state land polygon (their symmetric difference
    is within the tolerance): the state land's own khasra, not yet on a khewat. A khasra
    any person owns is never exempt, however much of it lies in state land; one with
    no owner that is not the same ground as a state land polygon is not exempt either.

    ``measure`` is the overlap in m² (UTM; with the buffer when positive); ``evidence``
    gives the intersection with the state land polygon itself (m², % of the khasra, % of
    the state land polygon), the category and buffer; ``grade`` is :func:`overlap_grade`
    of the overlap's m² and the larger of the two shares. Note that with a positive
    buffer, a parcel merely abutting a right-of-way overlaps its buffer strip; pass
    ``{"buffer_scale": 0}`` (the rule's setting) to compare with the state land polygons
    only.

    Args:
        conn: An open connection.
        mouza_ids: Mouzas to check (None: all).
        thresholds: Overrides of :data:`DEFAULTS` (``buffer_scale``, ``tolerance_m``,
            ``min_area_m2``, ``grade_m2``, ``grade_pct``).

    Returns:
        One finding per (khasra, state land polygon), ordered by khasra and state land id.
    """
    t = _thresholds(thresholds)
    reach = "(SELECT coalesce(max(buffer_m), 0) * :scale / 50000.0 FROM encroachment_zone)"
    sql = f"""
    WITH {_MOUZA_SRID},
    k AS MATERIALIZED (  -- live khasras near state land that the state alone does not own
        SELECT k.id, k.mouza_id, mz.srid, k.geom, ST_Transform(k.geom, mz.srid) AS kg,
               {_PRIVATELY_OWNED_SQL} AS private
        FROM khasra k
        JOIN mz ON mz.mouza_id = k.mouza_id
        WHERE k.retired_on IS NULL
          AND EXISTS (SELECT 1 FROM state_land s WHERE s.geom && ST_Expand(k.geom, {reach}))
          AND NOT ({_STATE_OWNED_SQL})
    ),
    near AS (
        SELECT k.id AS khasra_id, k.mouza_id, k.srid, k.kg, k.private, s.id AS state_land_id,
               s.category, z.buffer_m * :scale AS buffer_m, sg.g AS sg,
               ST_Area(k.kg) AS k_m2, ST_Area(sg.g) AS s_m2,
               ST_CollectionExtract(ST_Intersection(k.kg, sg.g), 3) AS inside
        FROM k
        JOIN state_land s ON s.geom && ST_Expand(k.geom, {reach})
        JOIN encroachment_zone z ON z.category = s.category
        CROSS JOIN LATERAL (SELECT ST_Transform(s.geom, k.srid) AS g) sg
        WHERE ST_DWithin(k.kg, sg.g, z.buffer_m * :scale)
    ),
    same AS (  -- unowned khasras that are the same ground as a state land polygon
        SELECT DISTINCT n.khasra_id FROM near n
        WHERE NOT n.private
          AND ST_Area(n.inside) > 0.5 * greatest(n.k_m2, n.s_m2)
          AND ST_Area({wide_part_sql("ST_CollectionExtract(ST_SymDifference(n.kg, n.sg), 3)")})
              <= :min_area_m2
    ),
    ov AS (
        SELECT n.*, ST_Area(n.inside) AS inside_m2, o.g AS ov, ST_Area(o.g) AS ov_m2,
               ST_Perimeter(o.g) AS ov_perim_m
        FROM near n
        CROSS JOIN LATERAL (SELECT CASE WHEN n.buffer_m > 0
            THEN ST_CollectionExtract(ST_Intersection(n.kg, ST_Buffer(n.sg, n.buffer_m)), 3)
            ELSE n.inside END AS g) o
        WHERE n.khasra_id NOT IN (SELECT khasra_id FROM same)
    ),
    wide AS (
        SELECT o.*, CASE WHEN o.ov_m2 > :min_area_m2
                         THEN ST_Area({wide_part_sql("o.ov")}) ELSE 0 END AS wide_m2
        FROM ov o
    )
    SELECT khasra_id, mouza_id, srid, state_land_id, category, buffer_m, private, k_m2, s_m2,
           inside_m2, ov_m2, ov_perim_m, wide_m2, ST_AsBinary(ST_Transform(ov, 4326)) AS wkb
    FROM wide
    WHERE wide_m2 > :min_area_m2
    ORDER BY khasra_id, state_land_id
    """
    params = {**_params(mouza_ids), **tolerance_params(t), "scale": float(t["buffer_scale"])}
    out: list[Finding] = []
    for r in conn.execute(text(sql), params):
        inside, ov = float(r.inside_m2), float(r.ov_m2)
        pct_k, pct_s = 100 * inside / float(r.k_m2), 100 * inside / float(r.s_m2)
        out.append(
            {
                "rule": "private_on_state_land",
                "khasra_ids": [int(r.khasra_id)],
                "mouza_id": int(r.mouza_id),
                "measure": ov,
                "threshold": float(t["min_area_m2"]),
                "grade": overlap_grade(ov, max(pct_k, pct_s, 100 * ov / float(r.k_m2)), t),
                "evidence": {
                    "state_land_id": int(r.state_land_id),
                    "category": r.category,
                    "buffer_m": float(r.buffer_m),
                    "intersection_m2": round(inside, 3),
                    "pct_of_khasra": round(pct_k, 3),
                    "pct_of_state_land": round(pct_s, 3),
                    "encroached_m2": round(ov, 3),
                    "width_m": round(mean_width(ov, float(r.ov_perim_m)), 3),
                    "beyond_tolerance_m2": round(float(r.wide_m2), 3),
                    "tolerance_m": float(t["tolerance_m"]),
                    "khasra_area_m2": round(float(r.k_m2), 3),
                    "state_land_area_m2": round(float(r.s_m2), 3),
                    "owner": "private" if r.private else "none",
                    "srid": int(r.srid),
                },
                "geom_wkb": _wkb(r.wkb),
            }
        )
    return out


DETECTORS: Mapping[str, Detector] = {
    "overlap": overlaps,
    "gap": gaps,
    "area_mismatch": area_mismatch,
    "tatima_area_mismatch": tatima_sum,
    "private_on_state_land": private_on_state_land,
}
"""Every spatial detector by the rule (or rule family) it reports."""


def workers_for(n_mouzas: int) -> int:
    """How many connections :func:`run_partitioned` uses: ``LANDGOV_SPATIAL_WORKERS`` or
    the CPU count, and only when there are at least two mouzas per worker (a small
    district is not worth the extra connections)."""
    wanted = int(os.environ.get("LANDGOV_SPATIAL_WORKERS", os.cpu_count() or 1))
    return max(1, min(wanted, n_mouzas // 2))


def run_partitioned(
    conn: Connection,
    detector: Detector,
    *,
    mouza_ids: list[int] | None = None,
    thresholds: Mapping[str, Any] | None = None,
    workers: int | None = None,
) -> list[Finding]:
    """Runs ``detector`` over groups of mouzas on several connections at once.

    A PostgreSQL backend uses one core; a detector over a district of many mouzas is
    split into ``workers`` groups, each run on its own connection. Every worker imports
    the snapshot of ``conn``'s transaction (``pg_export_snapshot``), so all of them read
    exactly what ``conn`` reads, as one statement would. A pair across two groups' mouzas
    (an overlap at a mouza boundary) is found by both and reported once. With one worker
    it is ``detector(conn, ...)``.

    Args:
        conn: The caller's connection (its transaction is the snapshot read).
        detector: One of this module's detectors.
        mouza_ids: Mouzas to check (None: all).
        thresholds: As for the detector.
        workers: Connections to use (default :func:`workers_for`).
    """
    ids = (
        [int(i) for i in mouza_ids]
        if mouza_ids is not None
        else [int(i) for i in conn.execute(text("SELECT id FROM mouza ORDER BY id")).scalars()]
    )
    n = workers if workers is not None else workers_for(len(ids))
    n = max(1, min(n, len(ids)))
    if n == 1:
        return detector(conn, mouza_ids=mouza_ids, thresholds=thresholds)
    snapshot = str(conn.execute(text("SELECT pg_export_snapshot()")).scalar_one())
    engine = conn.engine
    groups = [ids[i::n] for i in range(n)]

    def work(group: list[int]) -> list[Finding]:
        with engine.connect().execution_options(isolation_level="REPEATABLE READ") as c:
            c.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
            # the workers already share the cores: parallel query on top oversubscribes
            c.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
            found = detector(c, mouza_ids=group, thresholds=thresholds)
            c.rollback()
            return found

    with ThreadPoolExecutor(max_workers=n) as pool:
        parts = list(pool.map(work, groups))
    seen: set[tuple[str, tuple[int, ...], str]] = set()
    out: list[Finding] = []
    for f in sorted((f for part in parts for f in part), key=lambda f: f["mouza_id"]):
        key = (f["rule"], tuple(f["khasra_ids"]), repr(f.get("measure")))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
