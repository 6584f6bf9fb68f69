"""``landgov models predict``: stored series → crop and yield per parcel, in PostGIS."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from cli_support import use_database
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from imagery.ingest import ingest
from imagery.series import parcel_series
from landgov.cli.main import app
from landgov.demo.imagery_s2 import synthesize_s2
from landgov.jobs.crops import predict_mouza
from models.crops import CropConfig, crop_tensors, hyperparameters, train_crop_model
from models.features import load_training_table
from models.registry import ModelCard, save_model
from models.yields import train_yield_model, yield_hyperparameters, yield_tensors

SEASON = "rabi 2025-26"
INDICES = ("ndvi", "wdrvi", "ndmi")


@pytest.fixture
def stored(demo_copy: Engine, tmp_path: Path):
    """A 10-day rabi series of Kot Pindi Das, its zonal series, tiny registered models."""
    home = tmp_path / "home"
    days = [date(2025, 11, 1) + timedelta(days=10 * i) for i in range(18)]
    files = synthesize_s2(demo_copy, tmp_path / "s2", dates=days, mouza="Kot Pindi Das")
    ingest(
        demo_copy, files, home=home, kind="sentinel-2", actor=service_actor(demo_copy, "imagery")
    )
    for ix in INDICES:
        parcel_series(demo_copy, mouza=1, index=ix, home=home)
    truth = tmp_path / "s2" / "ground_truth.csv"
    x, lab = load_training_table(demo_copy, [1], truth, INDICES)
    cmodel, _ = train_crop_model(x, lab["girdawari_crop"], config=CropConfig.tiny(), seed=1)
    ymodel, _ = train_yield_model(x, lab["crop"], lab["yield_t_ha"], seed=1)
    save_model(ModelCard(name="crop-type-tcnn", task="crop type per parcel-season",
                         hyperparameters=hyperparameters(cmodel),
                         coverage={"bbox_lonlat": [73.9, 31.6, 74.1, 31.8]}),
               crop_tensors(cmodel), root=home / "models")  # fmt: skip
    save_model(ModelCard(name="yield-ridge", task="yield t/ha per parcel-season",
                         hyperparameters=yield_hyperparameters(ymodel)), yield_tensors(ymodel),
               root=home / "models")  # fmt: skip
    return home, pd.read_csv(truth)


def test_predictions_stored_rerun_replaces_missing_series_refused(
    demo_copy: Engine, stored, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, truth = stored
    report, table = predict_mouza(
        demo_copy,
        mouza="Kot Pindi Das",
        season=SEASON,
        home=home,
        actor=service_actor(demo_copy, "models"),
    )
    with demo_copy.connect() as conn:
        live = conn.execute(text(
            "SELECT count(*) FROM khasra WHERE mouza_id = 1 AND (created_on IS NULL OR"
            " created_on <= '2026-04-30') AND (retired_on IS NULL OR retired_on > '2026-04-30')"
        )).scalar_one()  # fmt: skip
        rows = pd.read_sql(text("SELECT * FROM crop_prediction"), conn)
        yields = pd.read_sql(text("SELECT * FROM yield_prediction"), conn)
    assert report.parcels == len(rows) == len(yields) == live
    # the girdawari compared is the record's, and a disagreement is exactly a differing crop
    t = truth[truth["season"] == SEASON].set_index("khasra_id")
    rows = rows.set_index("khasra_id")
    recorded = rows["girdawari_crop"].notna()  # no entry: nothing to compare (not "fallow")
    assert recorded.mean() > 0.5
    assert (rows.loc[recorded, "girdawari_crop"]
            == t.loc[rows.index[recorded], "girdawari_crop"]).all()  # fmt: skip
    assert not rows.loc[~recorded, "disagrees"].any()
    seen = rows[rows["crop"].notna() & recorded]
    assert (seen["disagrees"] == (seen["crop"] != seen["girdawari_crop"])).all()
    assert report.disagreements == int(rows["disagrees"].sum())
    # parcels without enough clear imagery get a reason, never a crop
    assert (rows["crop"].isna() == rows["reason"].notna()).all()
    assert (yields["yield_t_ha"].dropna() >= 0).all()
    assert set(table.columns) >= {"crop", "probability", "yield_t_ha", "lue_t_ha", "flag"}

    # through the CLI, twice: the second run replaces the first (one fixture: it is slow)
    with demo_copy.begin() as conn:
        conn.execute(text("DELETE FROM detection_run"))
    use_database(demo_copy, home / ".cli", monkeypatch, home=home, services=("models",))
    for _ in range(2):
        result = CliRunner().invoke(app, ["models", "predict", "--mouza", "1", "--season",
                                          SEASON, "--json"])  # fmt: skip
        assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["reused"] is True  # the second run found the first stored and up to date
    forced = CliRunner().invoke(app, ["models", "predict", "--mouza", "1", "--season", SEASON,
                                      "--force", "--json"])  # fmt: skip
    assert forced.exit_code == 0 and json.loads(forced.stdout)["reused"] is False
    with demo_copy.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM crop_prediction")).scalar_one()
        runs = conn.execute(text("SELECT count(*) FROM detection_run")).scalar_one()
    assert n == data["parcels"] and runs == 2  # one crops run and one yield run
    with demo_copy.connect() as conn:  # stored runs name who stored them: first the direct
        actors = conn.execute(text(   # call, then the CLI's first and forced runs
            "SELECT actor FROM audit_log WHERE action = 'predict crops and yields'"
            " ORDER BY seq")).scalars().all()  # fmt: skip
    assert actors == ["service:models"] * 3
    other = CliRunner().invoke(app, ["models", "predict", "--mouza", "2", "--season", SEASON])
    assert other.exit_code != 0 and "batch --mouza 2 --index ndvi" in " ".join(other.output.split())
