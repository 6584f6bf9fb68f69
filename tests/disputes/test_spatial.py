"""Spatial detectors (landgov.disputes.spatial) on hand-made parcels and the demo district.

The hand-made parcels are seeded with the owner role (the record tables' row-level
security refuses the application role's writes without a bound officer); the detectors
read through the application role, as a scan does."""

from __future__ import annotations

import csv
from pathlib import Path

from pyproj import Transformer
from security_support import owner_engine
from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.disputes import spatial

X0, Y0 = 400_000.0, 3_507_000.0  # UTM 43N, near 73.95 E 31.69 N
TO_LL = Transformer.from_crs("EPSG:32643", "EPSG:4326", always_xy=True)
SARSAI_M2 = 30.25 * 0.3048**2


def _ll(poly: Polygon) -> str:
    def ring(coords: object) -> list[tuple[float, float]]:
        xs, ys = zip(*coords, strict=True)  # type: ignore[call-overload]
        return list(zip(*TO_LL.transform(list(xs), list(ys)), strict=True))

    holes = [ring(r.coords) for r in poly.interiors]
    return MultiPolygon([Polygon(ring(poly.exterior.coords), holes)]).wkt


def _setup(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
            " (1, 'province', 'Punjab', NULL), (2, 'district', 'Sheikhupura', 1),"
            " (3, 'tehsil', 'Sheikhupura', 2);"
            "INSERT INTO mouza (id, tehsil_id, name, hadbast_number) VALUES (1, 3, 'Kot Test', 17)"
        ))  # fmt: skip


def _khasra(
    engine: Engine,
    kid: int,
    poly: Polygon,
    *,
    record_factor: float = 1.0,
    parent: int | None = None,
    retired: bool = False,
    record_m2: float | None = None,
) -> None:
    rec = round((record_m2 if record_m2 is not None else poly.area * record_factor) / SARSAI_M2)
    with owner_engine(engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO khasra (id, mouza_id, number, main_number, land_class,"
                " record_area_sarsai, unit_system, geom_area_m2, geom, source, parent_khasra_id,"
                " retired_on) VALUES (:id, 1, :no, :id, 'nehri', :rec, 'standard', :area,"
                " ST_GeomFromText(:wkt, 4326), 'test', :parent, :retired)"
            ),
            {
                "id": kid,
                "no": str(kid),
                "rec": rec,
                "area": poly.area,
                "wkt": _ll(poly),
                "parent": parent,
                "retired": "2020-01-01" if retired else None,
            },
        )


def _cell(i: int, j: int, size: float = 50.0) -> Polygon:
    return box(X0 + size * i, Y0 + size * j, X0 + size * (i + 1), Y0 + size * (j + 1))


def _run(engine: Engine, fn: spatial.Detector, **th: float) -> list[dict]:
    with engine.connect() as conn:
        return fn(conn, mouza_ids=[1], thresholds=th)


def test_overlaps_each_pair_once_above_one_percent(engine: Engine) -> None:
    _setup(engine)
    _khasra(engine, 1, _cell(0, 0))
    # 2 reaches 2 m into 1: 100 m² = 4 % of 2500 m²
    _khasra(engine, 2, box(X0 + 48, Y0, X0 + 100, Y0 + 50))
    # 3 touches 2 only along an edge; 4 overlaps 3 by 0.2 m (10 m² = 0.4 %): too small
    _khasra(engine, 3, _cell(2, 0))
    _khasra(engine, 4, box(X0 + 149.8, Y0, X0 + 200, Y0 + 50))
    # a retired parcel lying over 1 is history, not an overlap
    _khasra(engine, 5, _cell(0, 0), retired=True)
    found = _run(engine, spatial.overlaps)
    assert [f["khasra_ids"] for f in found] == [[1, 2]]
    f = found[0]
    assert f["rule"] == "overlap" and f["mouza_id"] == 1 and f["threshold"] == 0.01
    assert abs(f["evidence"]["intersection_m2"] - 100) < 0.5
    assert abs(f["measure"] - 100 / 2500) < 2e-4
    assert f["geom_wkb"] is not None
    assert [g["khasra_ids"] for g in _run(engine, spatial.overlaps, overlap_fraction=0.003)] == [
        [1, 2],
        [3, 4],
    ]


def test_gaps_and_slivers(engine: Engine) -> None:
    _setup(engine)
    kid = 0
    for i in range(4):
        for j in range(3):
            kid += 1
            if (i, j) == (1, 1):
                # a 10 x 10 m hole in the middle of cell (1, 1), surrounded by the cell
                _khasra(
                    engine, kid, _cell(i, j).difference(box(X0 + 70, Y0 + 70, X0 + 80, Y0 + 80))
                )
            elif (i, j) == (2, 1):
                # drawn 0.4 m short of its east neighbour: a 50 m x 0.4 m sliver
                _khasra(engine, kid, box(X0 + 100, Y0 + 50, X0 + 149.6, Y0 + 100))
            else:
                _khasra(engine, kid, _cell(i, j))
    found = _run(engine, spatial.gaps)
    by_rule = {f["rule"]: f for f in found}
    assert sorted(by_rule) == ["gap", "sliver"] and len(found) == 2
    assert abs(by_rule["gap"]["measure"] - 100) < 0.5
    assert by_rule["gap"]["khasra_ids"] == [5]
    sl = by_rule["sliver"]
    assert abs(sl["evidence"]["area_m2"] - 20) < 0.2 and sl["measure"] < 0.5
    # the two parcels it lies between first (longest shared edges), then those at its ends
    assert set(sl["khasra_ids"][:2]) == {8, 11}, sl["khasra_ids"]
    assert set(sl["khasra_ids"]) <= {7, 8, 9, 10, 11, 12}
    assert abs(sl["evidence"]["perimeter_m"] - 100.8) < 0.1  # no zero-width spike counted
    # a larger minimum hides the hole; the sliver stays
    assert [f["rule"] for f in _run(engine, spatial.gaps, min_gap_m2=200)] == ["sliver"]


def test_area_mismatch(engine: Engine) -> None:
    _setup(engine)
    _khasra(engine, 1, _cell(0, 0))
    _khasra(engine, 2, _cell(1, 0), record_factor=1.03)
    _khasra(engine, 3, _cell(2, 0), record_factor=0.995)
    found = _run(engine, spatial.area_mismatch)
    assert [f["khasra_ids"] for f in found] == [[2]]
    assert abs(found[0]["measure"] - 0.03) < 1e-3
    assert _run(engine, spatial.area_mismatch, area_tolerance=0.05) == []


def test_tatima_children_must_sum_to_parent(engine: Engine) -> None:
    _setup(engine)
    _khasra(engine, 1, _cell(0, 0), retired=True)
    _khasra(engine, 2, box(X0, Y0, X0 + 20, Y0 + 50), parent=1)
    _khasra(engine, 3, box(X0 + 20, Y0, X0 + 50, Y0 + 50), parent=1)
    _khasra(engine, 4, _cell(1, 0), retired=True)
    _khasra(engine, 5, box(X0 + 50, Y0, X0 + 70, Y0 + 50), parent=4)
    _khasra(engine, 6, box(X0 + 70, Y0, X0 + 97, Y0 + 50), parent=4)  # 3 m short: 6 %
    found = _run(engine, spatial.tatima_sum)
    assert [f["khasra_ids"] for f in found] == [[4, 5, 6]]
    assert abs(found[0]["measure"] - 0.06) < 2e-3
    assert found[0]["geom_wkb"] is not None


def test_private_parcel_on_right_of_way(engine: Engine) -> None:
    _setup(engine)
    road = box(X0, Y0 + 50, X0 + 200, Y0 + 60)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO state_land (id, mouza_id, category, custodian, geom) VALUES"
                " (1, 1, 'road_row', 'highways', ST_GeomFromText(:wkt, 4326))"
            ),
            {"wkt": _ll(road)},
        )
    _khasra(engine, 1, _cell(0, 0))  # abuts the road
    _khasra(engine, 2, box(X0 + 50, Y0, X0 + 100, Y0 + 55))  # 5 m into it
    _khasra(engine, 3, _cell(0, 2, size=30))  # 30 m away (y 60..90), abuts the far side
    _khasra(engine, 4, box(X0 + 100, Y0 + 50, X0 + 200, Y0 + 60))  # the road's own khasra
    strict = _run(engine, spatial.private_on_state_land, buffer_scale=0)
    assert [f["khasra_ids"] for f in strict] == [[2]]
    assert abs(strict[0]["measure"] - 250) < 1
    assert strict[0]["evidence"]["category"] == "road_row"
    # with the 3 m building-line margin every abutting parcel is inside the buffer strip
    buffered = _run(engine, spatial.private_on_state_land)
    assert [f["khasra_ids"] for f in buffered] == [[1], [2], [3]]
    assert abs(buffered[1]["measure"] - 50 * 8) < 1


def _truth(demo_dir: Path) -> list[dict[str, str]]:
    with (demo_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_demo_recall(demo_engine: Engine, demo_dir: Path) -> None:
    gt = _truth(demo_dir)
    with demo_engine.connect() as conn:
        ids = {
            (m, n): i
            for i, m, n in conn.execute(
                text(
                    "SELECT k.id, z.name, k.number FROM khasra k JOIN mouza z ON z.id = k.mouza_id"
                )
            )
        }
        found = {
            "overlap": spatial.overlaps(conn),
            "area_mismatch": spatial.area_mismatch(conn),
            "tatima_area_mismatch": spatial.tatima_sum(conn),
            "row_encroachment": spatial.private_on_state_land(conn, thresholds={"buffer_scale": 0}),
        }
        buffered = spatial.private_on_state_land(conn)
        holes = spatial.gaps(conn)
    planted: dict[str, set[tuple[int, ...]]] = {k: set() for k in found}
    for row in gt:
        if row["kind"] in planted:
            ks = tuple(sorted(ids[(row["mouza"], n)] for n in row["khasra_no"].split(";")))
            planted[row["kind"]].add(ks)
    report = {}
    for kind, fs in found.items():
        keys = {
            tuple(sorted(f["khasra_ids"])) if kind == "overlap" else (f["khasra_ids"][0],)
            for f in fs
        }
        assert planted[kind] and planted[kind] <= keys, kind
        report[kind] = (len(planted[kind]), len(keys - planted[kind]))
    row_planted = {k[0] for k in planted["row_encroachment"]}
    report["row_encroachment_buffered"] = (
        len(row_planted),
        len({f["khasra_ids"][0] for f in buffered} - row_planted),
    )
    report["gaps"] = (0, len(holes))
    print("demo (planted, false positives):", report)


def test_partitioned_run_equals_the_serial_run(
    demo_engine: Engine,
) -> None:
    def key(found: list[dict]) -> list[tuple]:
        return sorted((f["rule"], tuple(f["khasra_ids"]), round(f["measure"], 6)) for f in found)

    with demo_engine.connect() as conn:
        for detector in (spatial.overlaps, spatial.gaps, spatial.tatima_sum):
            serial = detector(conn)
            parallel = spatial.run_partitioned(conn, detector, workers=2)
            assert serial and key(parallel) == key(serial), detector.__name__
        assert spatial.workers_for(3) == 1 and spatial.workers_for(100) >= 1
