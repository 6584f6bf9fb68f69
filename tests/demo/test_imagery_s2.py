"""Synthetic Sentinel-2-like scenes of the demo district."""

from __future__ import annotations

import csv
import hashlib
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.features import rasterize
from security_support import service_actor
from sqlalchemy import text

from imagery.indices import L2A_OFFSET_PB0400, L2A_SCALE, ndvi
from landgov.demo import imagery_s2 as syn

RABI_DATES = [date(2025, 12, 1), date(2026, 1, 10), date(2026, 2, 19), date(2026, 3, 11),
              date(2026, 4, 10), date(2026, 4, 30)]  # fmt: skip
WINDOW = 800.0


@pytest.fixture(scope="module")
def scenes(demo_engine, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("syn")
    syn.synthesize_s2(demo_engine, out, dates=RABI_DATES, window_m=WINDOW)
    return out


def _digest(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_deterministic(demo_engine, scenes, tmp_path):
    syn.synthesize_s2(demo_engine, tmp_path, dates=RABI_DATES, window_m=WINDOW)
    assert _digest(tmp_path) == _digest(scenes)
    assert len(list(scenes.glob("*.tif"))) == 7 * len(RABI_DATES)


def test_ingest_as_sentinel2(engine, scenes, tmp_path):
    from imagery.ingest import ingest

    files = sorted(scenes.glob("T43RCQ_20260219*.tif"))
    report = ingest(
        engine, files, home=tmp_path, kind="sentinel-2", actor=service_actor(engine, "imagery")
    )
    assert len(report.ingested) == 1
    with engine.connect() as conn:
        row = conn.execute(text("SELECT * FROM imagery_scene")).mappings().one()
    assert row["sensor"] == "sentinel-2"
    assets = (tmp_path / "imagery").rglob("*.tif")
    assert len(list(assets)) == 7


def _truth(folder: Path) -> list[dict[str, str]]:
    with open(folder / "ground_truth.csv") as fh:
        return list(csv.DictReader(fh))


def _ndvi_series(folder: Path, geom) -> list[float]:
    out = []
    for d in RABI_DATES:
        stamp = f"T43RCQ_{d:%Y%m%d}T055641"
        with rasterio.open(folder / f"{stamp}_B04_10m.tif") as src:
            red, transform, shape = src.read(1), src.transform, src.shape
        with rasterio.open(folder / f"{stamp}_B08_10m.tif") as src:
            nir = src.read(1)
        with rasterio.open(folder / f"{stamp}_SCL_20m.tif") as src:
            scl = np.repeat(np.repeat(src.read(1), 2, 0), 2, 1)
        inside = rasterize([(geom.buffer(-7.1), 1)], out_shape=shape, transform=transform) == 1
        clear = inside & ~np.isin(scl, (3, 8, 9, 10))
        v = ndvi(nir, red, scale=L2A_SCALE, offset=L2A_OFFSET_PB0400)
        out.append(float(v[clear].mean()) if clear.sum() >= 1 else float("nan"))
    return out


def test_wheat_ndvi_peaks_feb_march_and_scales_with_yield(demo_engine, scenes):
    with open(scenes / "advisory_truth.csv") as fh:
        late = {int(r["khasra_id"]) for r in csv.DictReader(fh) if r["plant"] == "late_sowing"}
    # the parcels planted as late-sown for the advisories peak a month later, by design
    truth = [r for r in _truth(scenes) if r["crop"] == "wheat" and int(r["khasra_id"]) not in late]
    with demo_engine.connect() as conn:
        ids = [m for m, _ in syn.resolve_mouzas(conn, None)]
        parcels = {p.khasra_id: p for p in syn.load_parcels(conn, ids, max(RABI_DATES))}
    series = {}
    for r in truth:
        geom = parcels[int(r["khasra_id"])].geom
        s = _ndvi_series(scenes, geom)
        if not np.isnan(s[2:4]).all():  # seen clear in February or March
            series[int(r["khasra_id"])] = (float(r["yield_t_ha"]), s)
    assert len(series) >= 5
    for _, s in series.values():
        assert RABI_DATES[int(np.nanargmax(s))].month in (2, 3)
    by_yield = sorted(series.values())
    lo, hi = by_yield[0], by_yield[-1]
    assert hi[0] > lo[0] + 0.5
    assert np.nanmax(hi[1]) > np.nanmax(lo[1])


def test_clouds_match_documented_fraction(scenes):
    with open(scenes / "scenes.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == len(RABI_DATES)
    for r in rows:
        d = date.fromisoformat(r["date"])
        with rasterio.open(scenes / f"T43RCQ_{d:%Y%m%d}T055641_SCL_20m.tif") as src:
            scl = src.read(1)
        pct = 100.0 * np.isin(scl, (8, 9, 10)).mean()
        assert pct == pytest.approx(float(r["cloud_pct"]), abs=0.01)
    assert any(float(r["cloud_pct"]) > 0 for r in rows)


def test_ground_truth_matches_girdawari(demo_engine, scenes):
    truth = _truth(scenes)
    assert truth and {r["season"] for r in truth} == {"rabi 2025-26"}
    with demo_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT khasra_id, crop FROM girdawari WHERE season = 'rabi' AND year = 2026")
        ).all()
    gird: dict[int, set[str]] = {}
    for r in rows:
        gird.setdefault(int(r.khasra_id), set()).add(r.crop)
    for r in truth:
        crops = gird.get(int(r["khasra_id"]), {"fallow"})
        assert r["girdawari_crop"] in crops
        lo, hi = syn.YIELD_RANGE[r["crop"]]
        assert lo <= float(r["yield_t_ha"]) <= hi


def test_default_covers_every_mouza_of_the_district(demo_engine, tmp_path):
    one = [date(2026, 2, 19)]
    files = syn.synthesize_s2(demo_engine, tmp_path, dates=one)
    truth = _truth(tmp_path)
    with demo_engine.connect() as conn:
        mouzas = {str(r.name) for r in conn.execute(text("SELECT name FROM mouza"))}
        live = conn.execute(
            text(
                "SELECT count(*) FROM khasra WHERE (created_on IS NULL OR created_on <= :d)"
                " AND (retired_on IS NULL OR retired_on > :d)"
            ),
            {"d": one[0]},
        ).scalar_one()
    assert {r["mouza"] for r in truth} == mouzas
    # every live khasra is covered and has exactly one ground-truth row for the season
    assert len({r["khasra_id"] for r in truth}) == len(truth) == live
    b04 = next(f for f in files if f.name.endswith("_B04_10m.tif"))
    with rasterio.open(b04) as src:
        bounds = src.bounds
    with demo_engine.connect() as conn:
        inside = conn.execute(
            text(
                "SELECT bool_and(ST_Covers(ST_MakeEnvelope(:l, :b, :r, :t, 32643),"
                " ST_Transform(geom, 32643))) FROM khasra"
                " WHERE (created_on IS NULL OR created_on <= :d)"
                " AND (retired_on IS NULL OR retired_on > :d)"
            ),
            {"l": bounds.left, "b": bounds.bottom, "r": bounds.right, "t": bounds.top, "d": one[0]},
        ).scalar_one()
    assert inside


def test_mouza_option_restricts_to_that_mouza(demo_engine, tmp_path):
    syn.synthesize_s2(demo_engine, tmp_path, dates=[date(2026, 2, 19)], mouza="Chak Mehr Wala")
    assert {r["mouza"] for r in _truth(tmp_path)} == {"Chak Mehr Wala"}


def test_misreported_girdawari_and_district_yield_history(scenes):
    truth = _truth(scenes)
    wrong = [r for r in truth if r["crop"] != r["girdawari_crop"]]
    # about 3 % of parcel-seasons, each grown crop one of the season's
    assert 0 < len(wrong) < 0.08 * len(truth)
    assert all(r["crop"] in syn.SEASON_CROPS["rabi"] for r in wrong)
    with open(scenes / "district_yields.csv") as fh:
        hist = [r for r in csv.DictReader(fh) if r["crop"] == "wheat"]
    years = [int(r["year"]) for r in hist]
    assert years == list(range(2016, 2026))
    means = [float(r["mean_yield_t_ha"]) for r in hist]
    assert means == sorted(means) and means[-1] > means[0]
    # the published district mean agrees with the parcels' drawn yields
    wheat = [float(r["yield_t_ha"]) for r in truth if r["crop"] == "wheat"]
    assert np.mean(wheat) == pytest.approx(syn.district_mean_yield("wheat", 2026), rel=0.08)


@pytest.mark.parametrize("year", [2010, 2021, 2026, 2030, 2040])
def test_district_mean_yield_is_the_mean_of_the_draws(year):
    draws = [syn.draw_yield(7, k, "wheat", "rabi", year) for k in range(20000)]
    assert np.mean(draws) == pytest.approx(syn.district_mean_yield("wheat", year), abs=0.03)


def test_advisory_plants_are_distinct_wheat_parcels_per_mouza(scenes):
    with open(scenes / "advisory_truth.csv") as fh:
        plants = list(csv.DictReader(fh))
    wheat = {(int(r["khasra_id"]), r["season"]) for r in _truth(scenes) if r["crop"] == "wheat"}
    by_mouza: dict[str, list[str]] = {}
    for r in plants:
        assert (int(r["khasra_id"]), r["season"]) in wheat
        by_mouza.setdefault(r["mouza_id"], []).append(r["plant"])
    assert len({r["khasra_id"] for r in plants}) == len(plants)
    for kinds in by_mouza.values():
        assert sorted(kinds) == ["cloudy_season", "late_sowing", "water_stress"]
