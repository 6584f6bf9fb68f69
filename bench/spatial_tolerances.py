"""Measurement: digitising noise between real neighbouring parcels, and the spatial
rules' tolerance chosen from it (issue 16).

Reads the real cadastre of Épinay-sur-Orge (4,241 parcels, GeoJSON in CRS84, from
``shared/data/real/cadastre_epinay_sur_orge``; Source : DGFiP / Etalab — cadastre (PCI
Vecteur), millésime 2022-01-01, cadastre.data.gouv.fr, Licence Ouverte 2.0), projects it
to its UTM zone (EPSG:32631, the zone the detectors pick for it) and measures, between
neighbouring parcels:

- overlaps: every pair whose interiors meet; its intersection's area and mean width
  (2 × area / perimeter, the width of a strip of that area and perimeter). An official
  cadastre's parcels may not overlap, so every overlap between them is noise;
- gaps: the holes in the union of the parcels (what the gap rule sees in a mouza without
  a boundary), and the distances between neighbours that do not touch (within 1 m);
- record against map: the legal area (``contenance``) against the polygon's area, as a
  share and as the width of a strip along the boundary (difference / perimeter).

From the overlaps it chooses the shared tolerance of every spatial rule: ``tolerance_m``,
the smallest of 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, ... metres at least ``--safety`` (5)
times the widest overlap measured or the spacing of the file's coordinates (1e-7°),
whichever is larger; and ``min_area_m2``, the smallest of that series at least
``--safety`` times the largest overlap. Then it loads the parcels into a scratch database
(created and dropped here) as one mouza and runs the real detectors
(:mod:`landgov.disputes.spatial`) at those figures, with every parcel of at least
``--state-ha`` hectares also entered as a state land polygon (unowned: the state land's
own khasra), and prints how many real parcels or pairs each rule flags, beside what the
old rules (overlap > 1 % of the smaller parcel; sliver area/perimeter < 0.5 m and area >
1 m²; record area > 1 % off) flag in the same data.

    .venv/bin/python bench/spatial_tolerances.py [--safety 5] [--state-ha 1] [--no-db]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared/data/real/cadastre_epinay_sur_orge/cadastre-91216-parcelles.json"
UTM = "EPSG:32631"
QUANTUM_DEG = 1e-7  # the file's coordinates have 7 decimals
SERIES = [m * 10.0**e for e in range(-3, 4) for m in (1, 2, 5)]
PCTS = (0, 50, 90, 99, 100)


def load(path: Path) -> tuple[list[Any], list[dict[str, Any]], list[Any]]:
    """The parcels in UTM (shapely), their properties, and in lon/lat."""
    import shapely
    from pyproj import Transformer

    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    to_utm = Transformer.from_crs("EPSG:4326", UTM, always_xy=True)
    ll = [shapely.geometry.shape(f["geometry"]) for f in features]
    utm = [
        shapely.transform(g, lambda c: np.column_stack(to_utm.transform(c[:, 0], c[:, 1])))
        for g in ll
    ]
    return utm, [f["properties"] for f in features], ll


def ceil_series(x: float) -> float:
    """The smallest value of the 1-2-5 series at least ``x``."""
    return next(s for s in SERIES if s >= x - 1e-12)


def quantum_m(lat: float) -> float:
    """Metres between two neighbouring coordinates 1e-7° apart (the larger, north-south)."""
    return max(QUANTUM_DEG * 111_320 * math.cos(math.radians(lat)), QUANTUM_DEG * 110_574)


def pct_row(label: str, values: np.ndarray, unit: str) -> str:
    if len(values) == 0:
        return f"{label:44} {'n=0':>8}"
    q = np.percentile(values, PCTS)
    return f"{label:44} {len(values):>8} " + " ".join(f"{v:>10.4f}" for v in q) + f"  {unit}"


def measure(polys: list[Any], props: list[dict[str, Any]]) -> dict[str, Any]:
    import shapely

    arr = np.array(polys, dtype=object)
    tree = shapely.STRtree(arr)
    a, b = tree.query(arr, predicate="dwithin", distance=1.0)
    keep = a < b
    a, b = a[keep], b[keep]
    dist = shapely.distance(arr[a], arr[b])
    touching = dist == 0
    inter = shapely.intersection(arr[a[touching]], arr[b[touching]])
    polygonal = [shapely.get_parts(g) for g in inter]
    pieces = [
        shapely.union_all([p for p in parts if p.geom_type == "Polygon"])
        if any(p.geom_type == "Polygon" for p in parts)
        else None
        for parts in polygonal
    ]
    ov = [(i, p) for i, p in enumerate(pieces) if p is not None and p.area > 0]
    ov_area = np.array([p.area for _, p in ov])
    ov_width = np.array([2 * p.area / p.length for _, p in ov])
    smaller = np.array([min(arr[a[touching][i]].area, arr[b[touching][i]].area) for i, _ in ov])
    union = shapely.union_all(arr)
    holes = [shapely.Polygon(r) for part in shapely.get_parts(union) for r in part.interiors]
    hole_area = np.array([h.area for h in holes])
    hole_width = np.array([2 * h.area / h.length for h in holes])
    area = np.array([p.area for p in polys])
    perim = np.array([p.length for p in polys])
    contenance = np.array([p.get("contenance") or np.nan for p in props], dtype=float)
    has = ~np.isnan(contenance)
    return {
        "pairs_within_1m": len(a),
        "pairs_touching": int(touching.sum()),
        "overlaps": [p for _, p in ov],
        "overlap_area": ov_area,
        "overlap_width": ov_width,
        "overlap_pct_smaller": 100 * ov_area / smaller if len(ov) else np.array([]),
        "apart_m": dist[~touching],
        "holes": holes,
        "hole_area": hole_area,
        "hole_width": hole_width,
        "record_off": np.abs(contenance[has] / area[has] - 1),
        "record_shift_m": np.abs(contenance[has] - area[has]) / perim[has],
        "record_diff_m2": np.abs(contenance[has] - area[has]),
        "with_record": int(has.sum()),
    }


def print_measurement(m: dict[str, Any], lat: float) -> None:
    print(f"neighbour pairs within 1 m: {m['pairs_within_1m']}, touching or overlapping: "
          f"{m['pairs_touching']}, overlapping (area > 0): {len(m['overlaps'])}")  # fmt: skip
    head = " ".join(f"{'p' + str(q):>10}" for q in PCTS)
    print(f"{'':44} {'n':>8} {head}")
    print(pct_row("overlap area (pairs overlapping)", m["overlap_area"], "m²"))
    print(pct_row("overlap mean width 2A/P", m["overlap_width"], "m"))
    print(pct_row("overlap % of the smaller parcel", m["overlap_pct_smaller"], "%"))
    print(pct_row("hole in the parcel cover: area", m["hole_area"], "m²"))
    print(pct_row("hole in the parcel cover: mean width 2A/P", m["hole_width"], "m"))
    print(pct_row("distance between neighbours apart (< 1 m)", m["apart_m"], "m"))
    print(pct_row("record (contenance) vs map: |off|", 100 * m["record_off"], "%"))
    print(pct_row("record vs map as a boundary shift", m["record_shift_m"], "m"))
    print(f"coordinate spacing (1e-7° at {lat:.2f}° N): {quantum_m(lat):.4f} m")


def choose(m: dict[str, Any], lat: float, safety: float) -> dict[str, float]:
    widest = float(m["overlap_width"].max()) if len(m["overlap_width"]) else 0.0
    largest = float(m["overlap_area"].max()) if len(m["overlap_area"]) else 0.0
    tol = ceil_series(safety * max(widest, quantum_m(lat)))
    area = ceil_series(safety * largest)
    print(f"chosen: tolerance_m = {tol:g} (>= {safety:g} x max(widest overlap {widest:.4f} m, "
          f"coordinate spacing {quantum_m(lat):.4f} m)); min_area_m2 = {area:g} "
          f"(>= {safety:g} x largest overlap {largest:.4f} m²)")  # fmt: skip
    return {"tolerance_m": tol, "min_area_m2": area}


def python_counts(m: dict[str, Any], t: dict[str, float]) -> None:
    """The shared notion applied in Python (landgov.disputes.spatial.beyond_tolerance)."""
    from landgov.disputes import spatial

    th = {**spatial.DEFAULTS, **t}
    beyond_ov = sum(spatial.beyond_tolerance(p, th) for p in m["overlaps"])
    beyond_holes = [h for h in m["holes"] if spatial.beyond_tolerance(h, th)]
    old_ov = int((m["overlap_pct_smaller"] > 1).sum())
    print(
        f"in Python: overlapping pairs beyond tolerance {beyond_ov} (old rule > 1 %: "
        f"{old_ov}); holes beyond tolerance {len(beyond_holes)} of {len(m['holes'])}"
    )
    areas = (0.01, 0.1, 1.0)
    print("sensitivity, overlapping pairs / holes beyond tolerance, by min_area_m2:")
    print(f"  {'tolerance_m':>11} " + " ".join(f"{a:>8g}" for a in areas))
    for tol in (0.0, 0.002, 0.005, 0.01, 0.1, 1.0):
        cells = []
        for area in areas:
            th2 = {**th, "tolerance_m": tol, "min_area_m2": area}
            n_ov = sum(spatial.beyond_tolerance(p, th2) for p in m["overlaps"])
            n_h = sum(spatial.beyond_tolerance(h, th2) for h in m["holes"])
            cells.append(f"{n_ov} / {n_h}")
        print(f"  {tol:>11g} " + " ".join(f"{c:>8}" for c in cells))


def database_counts(
    polys_ll: list[Any], polys: list[Any], props: list[dict[str, Any]], t: dict[str, float],
    state_ha: float,
) -> None:  # fmt: skip
    """The real detectors on the real parcels in a scratch database."""
    import io

    import shapely
    from sqlalchemy import text

    sys.path.insert(0, str(ROOT / "bench"))
    from overlaps import scratch_database  # type: ignore[import-not-found]

    from landgov.disputes import spatial

    sarsai = spatial.SARSAI_M2["urban"]
    with scratch_database("landgov_bench_spatial_tolerances") as engine:
        with engine.begin() as conn:
            conn.execute(text(
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (1, 'province', 'Bench', NULL), (2, 'district', 'Bench', 1),"
                " (3, 'tehsil', 'Bench', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (1, 3, 'Epinay-sur-Orge', 1)"
            ))  # fmt: skip
            buf = io.StringIO()
            for q, (ll, g, p) in enumerate(zip(polys_ll, polys, props, strict=True)):
                rec_m2 = p.get("contenance") or g.area  # one parcel has no legal area
                rec = max(1, round(rec_m2 / sarsai))
                h = shapely.to_wkb(shapely.set_srid(shapely.MultiPolygon([ll]), 4326),
                                   hex=True, include_srid=True)  # fmt: skip
                buf.write(f"{q + 1}\t1\t{q + 1}\t{q + 1}\tbarani\t{rec}\turban\t{g.area}\t{h}"
                          "\tetalab\n")  # fmt: skip
            raw = conn.connection.driver_connection
            with raw.cursor().copy(
                "COPY khasra (id, mouza_id, number, main_number, land_class,"
                " record_area_sarsai, unit_system, geom_area_m2, geom, source) FROM STDIN"
            ) as cp:
                cp.write(buf.getvalue())
            n_state = conn.execute(
                text(
                    "INSERT INTO state_land (mouza_id, category, custodian, geom)"
                    " SELECT 1, 'shamlat', 'village_proprietary_body', geom FROM khasra"
                    " WHERE geom_area_m2 >= :m2"
                ),
                {"m2": state_ha * 10_000},
            ).rowcount
            conn.execute(text("ANALYZE khasra; ANALYZE state_land"))
            n_touch = conn.execute(
                text(
                    "SELECT count(DISTINCT k.id) FROM khasra k JOIN state_land s"
                    " ON s.geom && k.geom AND ST_Intersects(s.geom, k.geom)"
                    " WHERE NOT ST_Equals(s.geom, k.geom)"
                )
            ).scalar_one()
        th = {**t, "buffer_scale": 0}
        with engine.connect() as conn:
            ov = spatial.overlaps(conn, thresholds=th)
            ov0 = spatial.overlaps(conn, thresholds={**th, "tolerance_m": 0, "min_area_m2": 0})
            gaps = spatial.gaps(conn, thresholds=th)
            old_gaps = spatial.gaps(conn, thresholds={**th, "tolerance_m": 0, "min_area_m2": 1})
            psl = spatial.private_on_state_land(conn, thresholds=th)
            psl0 = spatial.private_on_state_land(
                conn, thresholds={**th, "tolerance_m": 0, "min_area_m2": 0}
            )
            am = spatial.area_mismatch(conn, thresholds=th)
            am3 = spatial.area_mismatch(conn, thresholds={**th, "area_tolerance": 0.03})
            old_am = spatial.area_mismatch(conn, thresholds={**th, "tolerance_m": 0,
                                                             "min_area_m2": 0})  # fmt: skip
        n = len(polys)
        rows = [
            ("overlap (pairs)", len(ov), f"{len(ov0)} pairs with any overlap"),
            ("gap", sum(f["rule"] == "gap" for f in gaps),
             f"{sum(f['rule'] == 'gap' for f in old_gaps)} with no tolerance"),
            ("sliver", sum(f["rule"] == "sliver" for f in gaps),
             f"{sum(f['rule'] == 'sliver' for f in old_gaps)} with no tolerance (min 1 m²)"),
            (f"private_on_state_land ({n_state} parcels >= {state_ha:g} ha as state land)",
             len(psl), f"{len(psl0)} with no tolerance; {n_touch} parcels touch them"),
            ("area_mismatch (record = contenance), 1 %", len(am),
             f"{len(old_am)} by the old rule (1 %, no tolerance)"),
            ("area_mismatch at 3 % (digitised maps)", len(am3), ""),
        ]  # fmt: skip
        print(f"the detectors in PostGIS on the {n} real parcels at tolerance_m "
              f"{t['tolerance_m']:g}, min_area_m2 {t['min_area_m2']:g}:")  # fmt: skip
        for label, found, note in rows:
            print(f"  {label:66} {found:>5}   ({note})")
        for f in gaps:
            ev = f["evidence"]
            print(f"  {f['rule']}: {ev['area_m2']} m², mean width {ev['width_m']} m, "
                  f"at {ev['point']}")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--safety", type=float, default=5.0)
    ap.add_argument("--state-ha", type=float, default=1.0)
    ap.add_argument("--no-db", action="store_true", help="measure only (no scratch database)")
    args = ap.parse_args()
    polys, props, ll = load(args.data)
    lat = float(np.mean([g.centroid.y for g in ll]))
    print(f"{len(polys)} parcels from {args.data.name}, measured in {UTM}")
    m = measure(polys, props)
    print_measurement(m, lat)
    t = choose(m, lat, args.safety)
    python_counts(m, t)
    if not args.no_db:
        database_counts(ll, polys, props, t, args.state_ha)


if __name__ == "__main__":
    main()
