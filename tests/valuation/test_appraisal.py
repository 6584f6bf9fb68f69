"""Mass appraisal: validated sales, time index, LightGBM per land class, explanations,
model rolls and under-declaration against the model, scored on the demo's market truth."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.config import Settings
from landgov.valuation.appraisal import (
    AppraisalError,
    AppraisalSet,
    explain,
    explain_roll_value,
    iqr_keep,
    latest_set,
    per_acre_values,
    time_index,
    train,
)
from landgov.valuation.features import FEATURES, parcel_features
from landgov.valuation.rates import load_dc_rates
from landgov.valuation.roll import run_roll
from landgov.valuation.sales import validated_sales
from landgov.valuation.transfer import under_declared

AS_OF = date(2026, 11, 15)


@pytest.fixture(scope="module")
def trained(
    settings: Settings, demo_engine: Engine, demo_dir: Path
) -> Iterator[tuple[Engine, AppraisalSet]]:
    """A demo copy with DC rates and one trained set of models (shared by the module:
    tests only read it, or write what they remove)."""
    from database_support import _copy_demo, _drop

    eng = _copy_demo(settings, demo_engine)
    load_dc_rates(eng, demo_dir / "dc_rates.csv", actor=service_actor(eng, "demo"))
    yield eng, train(eng, AS_OF, actor=service_actor(eng, "valuation"))
    eng.dispose()
    _drop(settings, str(eng.url.database))


def _truth(engine: Engine, demo_dir: Path) -> dict[int, dict[str, str]]:
    """The demo's market truth by mutation id."""
    with engine.connect() as conn:
        ids = {
            (m, int(n)): int(i)
            for i, m, n in conn.execute(
                text(
                    "SELECT t.id, z.name, t.number FROM mutation t"
                    " JOIN mouza z ON z.id = t.mouza_id"
                )
            )
        }
    with (demo_dir / "market_truth.csv").open(encoding="utf-8") as f:
        return {ids[(r["mouza"], int(r["mutation_no"]))]: r for r in csv.DictReader(f)}


# ------------------------------------------------------------------ pure pieces


def test_time_index_recovers_yearly_levels_and_fills_gaps() -> None:
    rng = np.random.default_rng(1)
    truth = {2018: 0.0, 2019: 0.10, 2020: 0.05, 2022: 0.30, 2023: 0.42}  # no 2021 sales
    years = rng.choice(list(truth), size=600)
    groups = rng.choice(["nehri", "chahi"], size=600).tolist()
    level = np.array([0.5 if g == "chahi" else 0.0 for g in groups])
    y = 13.0 + level + np.array([truth[v] for v in years]) + rng.normal(0, 0.02, 600)
    index, slope = time_index(y, years.tolist(), groups, 2024)
    # relative to the valuation year (2024: after the last sales, continued at the slope)
    assert index[2024] == 0.0
    assert index[2023] - index[2018] == pytest.approx(0.42, abs=0.01)
    assert index[2020] - index[2019] == pytest.approx(-0.05, abs=0.01)
    assert index[2021] == pytest.approx((index[2020] + index[2022]) / 2)
    assert -index[2023] == pytest.approx(slope, abs=1e-9)
    assert slope == pytest.approx(0.08, abs=0.03)


def test_time_index_without_spread_is_flat() -> None:
    index, slope = time_index(np.array([1.0, 2.0, 3.0]), [2020] * 3, ["a"] * 3, 2020)
    assert index == {2020: 0.0} and slope == 0.0


def test_iqr_fence() -> None:
    values = np.array([1.0, 1.1, 0.9, 1.05, 0.95, 9.0])
    assert iqr_keep(values).tolist() == [True] * 5 + [False]


# ------------------------------------------------------------------ the demo


def test_validated_sales_keep_arms_length_only(
    trained: tuple[Engine, AppraisalSet], demo_dir: Path
) -> None:
    eng, _ = trained
    truth = _truth(eng, demo_dir)
    with eng.connect() as conn:
        screen = validated_sales(conn, AS_OF)
    kinds = {truth[s.mutation_id]["kind"] for s in screen.valid}
    # family buy-outs never train the model; under-declarations below DC neither
    assert "co_owner" not in kinds and "set_by_anomaly" not in kinds
    assert screen.excluded["co_owner_buyer"] >= 100
    assert all(s.price_rs >= (s.statutory_rs or 0) for s in screen.valid)
    # the class a sale trains holds >= 80 % of its area (read here, not by the screen)
    with eng.connect() as conn:
        classes = dict(conn.execute(text("SELECT id, land_class FROM khasra")).all())
    for s in screen.valid:
        area = sum(a for _, a in s.parcels)
        mine = sum(a for k, a in s.parcels if classes[k] == s.land_class)
        assert mine >= 0.8 * area, s.mutation_id
    assert screen.excluded["mixed_land_classes"] > 0
    assert set(screen.excluded_ids).isdisjoint(s.mutation_id for s in screen.valid)


def test_features_of_demo_parcels(trained: tuple[Engine, AppraisalSet]) -> None:
    eng, _ = trained
    with eng.connect() as conn:
        feats = parcel_features(conn, AS_OF)
        road_parcels = (
            conn.execute(
                text(
                    "SELECT k.id FROM khasra k JOIN state_land s ON s.category = 'road_row'"
                    " AND ST_Intersects(ST_Buffer(k.geom::geography, 5)::geometry, s.geom)"
                    " WHERE k.retired_on IS NULL AND k.land_class = 'nehri' LIMIT 5"
                )
            )
            .scalars()
            .all()
        )
    m = feats.matrix
    road = m[:, FEATURES.index("road_m")]
    assert np.isfinite(road).all() and (road >= 0).all() and road.max() > 1000
    row = {int(k): i for i, k in enumerate(feats.ids)}
    assert road_parcels and all(road[row[k]] < 5 for k in road_parcels)
    killas = [i for i, c in enumerate(feats.land_class) if c == "nehri"]
    compact = np.median(m[killas, FEATURES.index("compactness")])
    assert compact == pytest.approx(math.pi * 198 * 220 / (198 + 220) ** 2, abs=0.02)
    acres = np.exp(np.median(m[killas, FEATURES.index("log_acres")]))
    assert acres == pytest.approx(1.0, abs=0.02)  # a killa is an acre


def test_models_beat_the_dc_table_out_of_fold(trained: tuple[Engine, AppraisalSet]) -> None:
    _, aset = trained
    assert {"nehri", "chahi"} <= set(aset.models)
    assert "banjar" in aset.skipped  # too few sales: keeps its DC value
    for cls, m in aset.models.items():
        oof = m.metrics["ratio_study"].get("trimmed", m.metrics["ratio_study"])
        dc = m.metrics["statutory_ratio_study"].get("trimmed", m.metrics["statutory_ratio_study"])
        assert 0.95 <= oof["median_ratio"] <= 1.05, cls
        assert oof["cod"] < dc["cod"], cls  # more uniform than the DC table
        assert dc["median_ratio"] < 0.85, cls  # the DC table lags the market
    nehri = aset.models["nehri"].metrics["ratio_study"]["trimmed"]
    assert nehri["gates"]["median_ratio"] and nehri["gates"]["cod"]


def test_training_again_finds_the_stored_set(trained: tuple[Engine, AppraisalSet]) -> None:
    eng, aset = trained
    again = train(eng, AS_OF, actor=service_actor(eng, "valuation"))
    assert again.reused and again.fingerprint == aset.fingerprint
    assert {c: m.id for c, m in again.models.items()} == {c: m.id for c, m in aset.models.items()}
    assert again.models["nehri"].booster_text == aset.models["nehri"].booster_text
    with eng.connect() as conn:
        n = conn.execute(
            text("SELECT count(*) FROM appraisal_sale WHERE model_id = :m"),
            {"m": aset.models["nehri"].id},
        ).scalar_one()
        assert latest_set(conn).fingerprint == aset.fingerprint  # type: ignore[union-attr]
    assert n == aset.models["nehri"].n_sales


def test_model_values_track_the_true_market(
    trained: tuple[Engine, AppraisalSet], demo_dir: Path
) -> None:
    """Arm's-length sales of the last five years: the model's value of what each sold,
    against what the demo's market says it was worth (not what was declared)."""
    from landgov.valuation.appraisal import sale_model_value
    from landgov.valuation.transfer import transfer_tax

    eng, aset = trained
    truth = _truth(eng, demo_dir)
    errors = []
    with eng.connect() as conn:
        recent = [i for i, r in truth.items() if r["kind"] == "arms_length"]
        taxes = [transfer_tax(conn, i) for i in recent]
        taxes = [
            t for t in taxes if t.valuation_date.year >= AS_OF.year - 5 and t.status == "sanctioned"
        ]
        per_acre = per_acre_values(
            aset, conn, sorted({p.khasra_id for t in taxes for p in t.parcels})
        )
        for t in taxes:
            v = sale_model_value(
                aset,
                per_acre,
                [
                    (p.khasra_id, float(p.area_sarsai * p.share), p.unit_system.value)
                    for p in t.parcels
                ],
                1.0,
                t.valuation_date,
            )
            if v:
                errors.append(math.log(v / int(truth[t.mutation_id]["market_value_rs"])))
    err = np.abs(np.array(errors))
    assert len(err) >= 100
    assert np.median(err) < 0.12 and abs(np.median(errors)) < 0.08


def test_explanation_is_exact(trained: tuple[Engine, AppraisalSet]) -> None:
    eng, aset = trained
    model = aset.models["nehri"]
    with eng.connect() as conn:
        kid = conn.execute(
            text("SELECT min(id) FROM khasra WHERE land_class = 'nehri' AND retired_on IS NULL")
        ).scalar_one()
        ex = explain(conn, kid, model, AS_OF)
        per_acre = per_acre_values(aset, conn, [kid])[kid]
        with pytest.raises(AppraisalError, match="values nehri land"):
            other = conn.execute(
                text("SELECT min(id) FROM khasra WHERE land_class = 'chahi'")
            ).scalar_one()
            explain(conn, other, model, AS_OF)
    assert per_acre is not None
    assert ex.rs_per_acre == pytest.approx(per_acre, rel=1e-9)
    names = {c.feature for c in ex.contributions}
    assert {"road_m", "canal_m", "acres", "mouza"} <= names
    road = next(c for c in ex.contributions if c.feature == "road_m")
    assert isinstance(road.value, float)


def test_model_roll_uses_models_and_keeps_dc_for_the_rest(
    trained: tuple[Engine, AppraisalSet],
) -> None:
    eng, aset = trained
    statutory = run_roll(eng, AS_OF, actor=service_actor(eng, "valuation"))
    roll = run_roll(eng, AS_OF, method="model", actor=service_actor(eng, "valuation"))
    assert roll.method == "model" and roll.fingerprint != statutory.fingerprint
    by = roll.summary["valued_by"]
    assert by["model"] > 1500 and by["statutory"] > 0 and roll.unvalued == 0
    assert roll.summary["models"] == {c: m.id for c, m in aset.models.items()}
    with eng.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT k.land_class, v.model_id IS NOT NULL, count(*) FROM valuation_current v"
                " JOIN khasra k ON k.id = v.khasra_id GROUP BY 1, 2"
            )
        ).all()
        for cls, by_model, _ in rows:
            assert by_model == (cls in aset.models), cls
        kid, value = conn.execute(
            text(
                "SELECT khasra_id, value_rs FROM valuation_current WHERE model_id IS NOT NULL"
                " ORDER BY khasra_id LIMIT 1"
            )
        ).one()
        ex, roll_id, stored = explain_roll_value(conn, kid)
        assert roll_id == roll.id and stored == value
        assert abs(ex.value_rs - value) <= 100
        banjar = conn.execute(
            text(
                "SELECT khasra_id FROM valuation_current v JOIN khasra k ON k.id = v.khasra_id"
                " WHERE k.land_class = 'banjar' LIMIT 1"
            )
        ).scalar_one()
        with pytest.raises(AppraisalError, match="DC rate"):
            explain_roll_value(conn, banjar)
        with pytest.raises(AppraisalError, match="the roll is statutory"):
            explain_roll_value(conn, kid, statutory.id)
    assert run_roll(eng, AS_OF, method="model", actor=service_actor(eng, "valuation")).reused


def test_under_declared_against_the_model(
    trained: tuple[Engine, AppraisalSet], demo_dir: Path
) -> None:
    """The flags 'far below the model value' against the truth 'declared below 70 % of
    the market value' (sales at or above the DC value: the ones the DC check misses)."""
    eng, aset = trained
    truth = _truth(eng, demo_dir)
    with eng.connect() as conn:
        report = under_declared(conn, as_of=AS_OF)
        below_dc = {t.mutation_id for t in report.sales}
        statuses = dict(
            conn.execute(text("SELECT id, status FROM mutation WHERE type = 'sale'")).all()
        )
    flagged = {b.tax.mutation_id for b in report.below_model}
    assert report.model_set == aset.fingerprint and flagged.isdisjoint(below_dc)
    actual = {
        i
        for i, r in truth.items()
        if statuses[i] != "rejected"
        and i not in below_dc
        and int(r["declared_rs"]) < 0.7 * int(r["market_value_rs"])
    }
    hits = flagged & actual
    assert len(actual) >= 20
    assert len(hits) / len(actual) >= 0.8  # recall
    assert len(hits) / len(flagged) >= 0.9  # precision
    arms_length = {i for i, r in truth.items() if r["kind"] == "arms_length"}
    assert not flagged & arms_length
    assert all(0.7 * b.model_value_rs > (b.tax.declared_rs or 0) for b in report.below_model)
    data = report.as_dict()["below_model"]
    assert data["count"] == len(flagged) and data["threshold"] == 0.7


def test_cli_train_run_explain(
    trained: tuple[Engine, AppraisalSet],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import json

    from cli_support import use_database
    from typer.testing import CliRunner

    from landgov.cli.main import app
    from landgov.storage import engine as engine_module

    eng, aset = trained
    use_database(eng, tmp_path, monkeypatch, services=("valuation",))
    try:
        res = CliRunner().invoke(app, ["valuation", "train", "--as-of", "2026-11-15", "--json"])
        assert res.exit_code == 0, res.output
        data = json.loads(res.stdout)
        assert data["reused"] and data["fingerprint"] == aset.fingerprint
        assert data["models"]["nehri"]["ratio_study"]["n"] == aset.models["nehri"].n_sales
        text_out = CliRunner().invoke(app, ["valuation", "train", "--as-of", "2026-11-15"])
        assert "nehri: model" in text_out.output and "banjar: no model" in text_out.output

        res = CliRunner().invoke(
            app, ["valuation", "run", "--as-of", "2026-11-15", "--method", "model", "--json"]
        )
        assert res.exit_code == 0, res.output
        roll = json.loads(res.stdout)
        assert roll["method"] == "model" and roll["summary"]["valued_by"]["model"] > 0
        with eng.connect() as conn:
            mouza, number = conn.execute(
                text(
                    "SELECT z.name, k.number FROM valuation_roll_value v"
                    " JOIN khasra k ON k.id = v.khasra_id JOIN mouza z ON z.id = k.mouza_id"
                    " WHERE v.roll_id = :r AND v.model_id IS NOT NULL ORDER BY k.id LIMIT 1"
                ),
                {"r": roll["roll"]},
            ).one()
        args = ["valuation", "explain", "--mouza", mouza, "--khasra", number]
        res = CliRunner().invoke(app, [*args, "--json"])
        assert res.exit_code == 0, res.output
        ex = json.loads(res.stdout)
        assert ex["roll"] == roll["roll"] and abs(ex["value_rs"] - ex["roll_value_rs"]) <= 100
        factors = math.prod(c["factor"] for c in ex["contributions"])
        assert ex["base_rs_per_acre"] * factors == pytest.approx(ex["rs_per_acre"], rel=1e-3)
        readable = CliRunner().invoke(app, args)
        assert "base value" in readable.output and "× " in readable.output

        missing = CliRunner().invoke(app, ["valuation", "explain", "--mouza", mouza,
                                           "--khasra", "999//99"])  # fmt: skip
        assert missing.exit_code == 1 and "no khasra '999//99'" in missing.output
        bad = CliRunner().invoke(app, ["valuation", "run", "--as-of", "2026-11-15",
                                       "--method", "guess"])  # fmt: skip
        assert bad.exit_code != 0 and "one of statutory, model" in bad.output
    finally:
        engine_module._engine_for.cache_clear()


def test_training_without_sales_says_so(engine: Engine) -> None:
    with pytest.raises(AppraisalError, match="no validated sales"):
        train(engine, AS_OF, actor=service_actor(engine, "valuation"))
