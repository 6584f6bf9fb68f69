"""Benchmark: a valuation roll of N parcels with the ratio study, and its peers.

Loads N parcels (the quadrilateral grid of bench/overlaps.py, 100 mouzas of 10,000, land
classes drawn at random) into a scratch database with one district-wide DC rate per land
class, then times:

- ours: :func:`landgov.valuation.roll.run_roll` (parcels read, valued exactly on a dask
  LocalCluster of 2 processes, published in one transaction by COPY), and the ratio study
  (:func:`landgov.domain.ratio_study.study`, 1000 bootstrap resamples) of the roll's
  values against ``--sales`` synthetic sale prices (value × a log-normal market premium);
- peer 1: one SQL statement valuing every parcel in PostgreSQL (numeric arithmetic,
  INSERT … SELECT into a table): the set-based way without Python;
- peer 2: :func:`landgov.valuation.rates.statutory_value` parcel by parcel (the path
  ``landgov tax transfer`` uses) on ``--peer-n`` parcels, extrapolated;
- the model roll: a road and a canal right-of-way are drawn across the grid, a LightGBM
  model per land class is fitted (:func:`landgov.valuation.appraisal.fit_class`, 5-fold
  CV) on ``--sales`` parcels whose synthetic prices follow a known market (road and
  canal premiums, plot size, mouza, log-normal noise), stored, and the roll is run with
  ``method="model"`` (features read per dask task, LightGBM scoring, publish); then the
  ratio study of the model's values against those sales' prices.

    .venv/bin/python bench/valuation_roll.py [--n 1000000] [--sales 20000] [--peer-n 2000]
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

CLASSES = ("nehri", "chahi", "barani", "banjar", "abadi")
RS_PER_ACRE = (9_000_000, 8_000_000, 5_000_000, 2_000_000, 60_000_000)
AS_OF = date(2026, 11, 15)


def load(engine: object, n: int, seed: int = 42) -> float:
    """The overlap benchmark's parcels with random land classes, and one district-wide DC
    rate per class."""
    from overlaps import load as load_parcels
    from overlaps import make
    from sqlalchemy import text

    t0 = time.perf_counter()
    polys, mouza, _, _ = make(n, seed)
    rng = np.random.default_rng(seed)
    drawn = rng.choice(len(CLASSES), size=n, p=[0.35, 0.25, 0.2, 0.1, 0.1])
    load_parcels(engine, polys, mouza, [CLASSES[i] for i in drawn])
    with engine.begin() as conn:  # type: ignore[attr-defined]
        for c, rate in zip(CLASSES, RS_PER_ACRE, strict=True):
            conn.execute(text(
                "INSERT INTO dc_rate (admin_unit_id, land_class, rs_per_unit, unit, valid_from)"
                " VALUES (2, :c, :r, 'acre', '2026-07-01')"), {"c": c, "r": rate})  # fmt: skip
    return time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--sales", type=int, default=20_000)
    ap.add_argument("--peer-n", type=int, default=2_000)
    args = ap.parse_args()

    from overlaps import scratch_database, service_actor
    from sqlalchemy import text

    from landgov.domain import ratio_study
    from landgov.valuation.rates import statutory_value
    from landgov.valuation.roll import run_roll

    with scratch_database("landgov_bench_roll") as engine:
        valuer = service_actor(engine, "valuation")
        print(f"loaded {args.n} parcels in {load(engine, args.n):.1f} s")
        t0 = time.perf_counter()
        roll = run_roll(engine, AS_OF, actor=valuer)
        t_roll = time.perf_counter() - t0
        print(f"roll {roll.id}: {roll.parcels} valued, {roll.unvalued} unvalued, "
              f"Rs {roll.total_value_rs:,}; stages {roll.summary['seconds']}")  # fmt: skip
        t0 = time.perf_counter()
        assert run_roll(engine, AS_OF, actor=valuer).reused
        t_again = time.perf_counter() - t0
        rng = np.random.default_rng(7)
        with engine.connect() as conn:
            values = np.array(conn.execute(text(
                "SELECT value_rs FROM valuation_current ORDER BY random() LIMIT :k"),
                {"k": args.sales}).scalars().all(), dtype=float)  # fmt: skip
        prices = values * rng.lognormal(np.log(1.6), 0.25, len(values))
        t0 = time.perf_counter()
        result = ratio_study.study(values, prices, n_boot=1000, seed=0)
        t_study = time.perf_counter() - t0
        print(f"ratio study on {len(values)} sales: median {result.median_ratio:.3f}, "
              f"COD {result.cod:.1f}, PRD {result.prd:.3f}, PRB {result.prb:.4f}, "
              f"MKI {result.mki:.3f}")  # fmt: skip

        with engine.begin() as conn:  # peer 1: one SQL statement
            t0 = time.perf_counter()
            conn.execute(text(
                "CREATE TABLE peer_roll AS SELECT k.id AS khasra_id,"
                " round(k.record_area_sarsai * 30.25 / 43560.0 * r.rs_per_unit) AS value_rs,"
                " r.id AS rate_id FROM khasra k JOIN dc_rate r ON r.land_class = k.land_class"
                " AND r.admin_unit_id = 2 AND r.valid_from <= :d"
                " AND (r.valid_to IS NULL OR r.valid_to > :d)"), {"d": AS_OF})  # fmt: skip
            t_sql = time.perf_counter() - t0
            same = conn.execute(text(
                "SELECT count(*) FROM peer_roll p JOIN valuation_current v USING (khasra_id)"
                " WHERE abs(p.value_rs - v.value_rs) <= 1")).scalar_one()  # fmt: skip
        with engine.connect() as conn:  # peer 2: parcel by parcel
            ids = range(1, min(args.peer_n, args.n) + 1)
            t0 = time.perf_counter()
            for kid in ids:
                statutory_value(conn, kid, AS_OF)
            t_each = (time.perf_counter() - t0) / len(ids)
        print(f"{'method':44} {'parcels':>9} {'seconds':>9}")
        rows = [
            ("ours: run_roll (dask, exact, one-transaction publish)", args.n, t_roll),
            ("ours: run_roll again (same inputs: stored roll)", args.n, t_again),
            ("ours: ratio study, 1000 bootstrap resamples", len(values), t_study),
            ("ours: roll + ratio study", args.n, t_roll + t_study),
            ("peer: one SQL statement (float rounding)", args.n, t_sql),
            ("peer: statutory_value() per parcel, extrapolated", args.n, t_each * args.n),
        ]
        for label, n, dt in rows:
            print(f"{label:44} {n:>9} {dt:>9.2f}")
        print(f"SQL peer agrees within Rs 1 on {same} of {roll.parcels} parcels")
        model_roll(engine, args.n, args.sales)


def model_roll(engine: object, n: int, n_sales: int) -> None:
    """Train models on synthetic sales with a known market, then time the model roll."""
    import json

    from overlaps import service_actor
    from sqlalchemy import text

    from landgov.domain import ratio_study
    from landgov.valuation.appraisal import AppraisalSet, ClassModel, acres, fit_class
    from landgov.valuation.features import FEATURES, parcel_features
    from landgov.valuation.roll import run_roll

    with engine.begin() as conn:  # type: ignore[attr-defined]
        x0, y0, x1, y1 = conn.execute(text(
            "SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)"
            " FROM (SELECT ST_Extent(geom) AS e FROM khasra) s")).one()  # fmt: skip
        for cat, cust, frac, width in (("road_row", "highways", 0.5, 2e-4),
                                       ("canal_row", "irrigation", 0.25, 3e-4)):  # fmt: skip
            yc = y0 + frac * (y1 - y0)
            conn.execute(text(
                "INSERT INTO state_land (category, custodian, name, geom) VALUES (:c, :u, :c,"
                " ST_Multi(ST_MakeEnvelope(:x0, :ya, :x1, :yb, 4326)))"),
                {"c": cat, "u": cust, "x0": x0, "x1": x1, "ya": yc, "yb": yc + width})  # fmt: skip
        conn.execute(text("ANALYZE state_land"))
    rng = np.random.default_rng(11)
    sample = np.sort(rng.choice(np.arange(1, n + 1), size=n_sales, replace=False))
    t0 = time.perf_counter()
    with engine.connect() as conn:  # type: ignore[attr-defined]
        feats = parcel_features(conn, AS_OF, ids=sample.tolist())
    t_feat = time.perf_counter() - t0
    m = feats.matrix
    col = {f: m[:, i] for i, f in enumerate(FEATURES)}
    base = dict(zip(CLASSES, RS_PER_ACRE, strict=True))
    log_ppa = (
        np.log([base[c] for c in feats.land_class]) + 0.2
        + 0.8 * np.exp(-col["road_m"] / 300) + 0.3 * np.exp(-col["canal_m"] / 250)
        - 0.15 * col["log_acres"] + 0.1 * np.sin(col["mouza"])
        + rng.normal(0, 0.1, len(feats))
    )  # fmt: skip
    pairs = zip(feats.record_area_sarsai, feats.unit_system, strict=True)
    area = np.array([acres(float(a), u) for a, u in pairs])
    models: dict[str, ClassModel] = {}
    t0 = time.perf_counter()
    study_e, study_p = [], []
    for cls in CLASSES:
        idx = np.flatnonzero(np.array(feats.land_class) == cls)
        booster, oof, trees = fit_class(m[idx], log_ppa[idx])
        study_e.append(np.exp(oof) * area[idx])
        study_p.append(np.exp(log_ppa[idx]) * area[idx])
        with engine.begin() as conn:  # type: ignore[attr-defined]
            mid = conn.execute(text(
                "INSERT INTO appraisal_model (set_fingerprint, as_of, land_class, booster,"
                " features, trend_per_year, n_sales, metrics) VALUES (:f, :d, :c, :b,"
                " CAST(:j AS jsonb), 0, :n, '{}') RETURNING id"),
                {"f": "b" * 64, "d": AS_OF, "c": cls, "b": booster,
                 "j": json.dumps(list(FEATURES)), "n": int(idx.size)}).scalar_one()  # fmt: skip
        models[cls] = ClassModel(int(mid), cls, booster, 0.0, int(idx.size), {"trees": trees})
    t_train = time.perf_counter() - t0
    aset = AppraisalSet("b" * 64, AS_OF, models, 0.0)
    t0 = time.perf_counter()
    roll = run_roll(
        engine, AS_OF, method="model", appraisal=aset, actor=service_actor(engine, "valuation")
    )
    t_roll = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = ratio_study.study(np.concatenate(study_e), np.concatenate(study_p), n_boot=1000)
    t_study = time.perf_counter() - t0
    print(f"model roll {roll.id}: {roll.parcels} valued ({roll.summary['valued_by']}), "
          f"Rs {roll.total_value_rs:,}; stages {roll.summary['seconds']}")  # fmt: skip
    print(f"features of {len(feats)} sales {t_feat:.2f} s; 5 class models trained "
          f"(5-fold CV + out-of-fold) {t_train:.1f} s; out-of-fold ratio study: median "
          f"{result.median_ratio:.3f}, COD {result.cod:.1f}, PRD {result.prd:.3f}")  # fmt: skip
    print(f"{'ours: model roll (features, LightGBM, publish)':44} {n:>9} {t_roll:>9.2f}")
    print(f"{'ours: ratio study, 1000 bootstrap resamples':44} {n_sales:>9} {t_study:>9.2f}")
    print(f"{'ours: model roll + ratio study':44} {n:>9} {t_roll + t_study:>9.2f}")


if __name__ == "__main__":
    main()
