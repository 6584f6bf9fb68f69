"""Per-mouza crop model: the coverage default, ``landgov models assign`` / ``unassign`` /
``serving``, and the real-trained year model serving real NDVI series stored for a mouza.

The series are real: fields of the Central Asia survey (Remelgado et al. 2020, *A crop type
dataset for consistent land cover classification in Central Asia*, Scientific Data 7, 250,
CC BY 4.0; ../shared/data/real, present in CI), their dates moved to 2026 (same day of
year) and stored as parcel_zonal rows of demo khasras, as ``landgov imagery batch`` stores
a Landsat NDVI series.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from cli_support import use_database
from security_support import owner_engine, service_actor
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

import imagery.series
from landgov.cli.main import app
from landgov.errors import AccessDenied
from landgov.jobs.crops import predict_mouza
from landgov.jobs.model_choice import NoModelForMouza, assign_model, choose_crop_model, serving
from landgov.storage import model_choice as store
from landgov.storage.lookup import resolve_mouzas
from models.crops import build_series_model, to_grid
from models.crops.seasons import season_probabilities
from models.registry import ModelCard, load_model, save_model

REAL = Path(__file__).resolve().parents[2].parent / "shared/data/real/crops_central_asia"
MOUZA = 2
YEAR = 2026
FIELDS = 60


def _store_real_series(engine: Engine) -> tuple[pd.DataFrame, pd.DataFrame]:
    """60 real fields (2018) as the 2026 NDVI series of the first 60 khasras of mouza 2.

    Returns:
        (fields with their khasra_id, the fields' real series rows).
    """
    import geopandas as gpd

    f = gpd.read_file(REAL / "fields.gpkg", ignore_geometry=True)
    f = f[f["year"] == 2018].sample(FIELDS, random_state=3).reset_index(drop=True)
    s = pd.read_csv(REAL / "ndvi.csv")
    s = s[s["field_id"].isin(f["field_id"])]
    with engine.begin() as conn:
        kids = conn.execute(text(
            "SELECT id FROM khasra WHERE mouza_id = :m AND retired_on IS NULL ORDER BY id"
            " LIMIT :n"), {"m": MOUZA, "n": FIELDS}).scalars().all()  # fmt: skip
        f["khasra_id"] = kids
        doys = sorted({pd.Timestamp(d).day_of_year for d in s["date"]})
        for doy in doys:
            when = pd.Timestamp(YEAR, 1, 1) + pd.Timedelta(days=doy - 1, hours=5)
            sid = f"test-landsat-ndvi-{YEAR}-{doy:03d}"
            conn.execute(text(
                "INSERT INTO imagery_scene (id, collection, sensor, datetime, footprint,"
                " cloud_cover, crs, item, content_sha256) SELECT :id, 'test-real-ndvi',"
                " 'landsat-8', :t, ST_Multi(ST_Envelope(ST_Collect(geom))), 0, 'EPSG:4326',"
                " '{}'::jsonb, :sha FROM khasra WHERE mouza_id = :m"
            ), {"id": sid, "t": when.to_pydatetime(), "m": MOUZA,
                "sha": hashlib.sha256(sid.encode()).hexdigest()})  # fmt: skip
        rows = s.merge(f[["field_id", "khasra_id"]], on="field_id")
        rows["doy"] = pd.to_datetime(rows["date"]).dt.day_of_year
        conn.execute(
            text(
                "INSERT INTO parcel_zonal (khasra_id, scene_id, index, mean, median, std,"
                " count, valid_fraction) VALUES (:k, :s, 'ndvi', :v, :v, 0.02, 30, :vf)"
            ),
            [
                {"k": int(r.khasra_id), "s": f"test-landsat-ndvi-{YEAR}-{int(r.doy):03d}",
                 "v": None if np.isnan(r.ndvi) else float(r.ndvi),
                 "vf": 0.0 if np.isnan(r.ndvi) else 1.0}
                for r in rows.itertuples()
            ],
        )  # fmt: skip
    return f, s


@pytest.mark.skipif(not REAL.is_dir(), reason="real data not beside the checkout")
def test_real_year_model_serves_an_assigned_mouza(
    demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fields, series = _store_real_series(demo_copy)
    home = use_database(demo_copy, tmp_path / ".cli", monkeypatch, home=tmp_path / "home",
                        services=("models",))  # fmt: skip
    run = CliRunner()

    # by default the synthetic-trained season model serves the demo: its card covers it
    assert choose_crop_model(demo_copy, MOUZA, home=home).name == "crop-type-tcnn"
    out = run.invoke(app, ["models", "serving", "--json"])
    assert out.exit_code == 0, out.output
    assert {r["how"] for r in json.loads(out.stdout)} == {"coverage"}

    # a service without models.assign may not choose, and nothing is stored
    with pytest.raises(AccessDenied):
        assign_model(demo_copy, mouza=MOUZA, model="crop-type-central-asia",
                     actor=service_actor(demo_copy, "disputes"), home=home)  # fmt: skip
    bad = run.invoke(app, ["models", "assign", "yield-ridge", "--mouza", str(MOUZA)])
    assert bad.exit_code == 1 and "not a crop-type model" in bad.output
    with demo_copy.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mouza_model")).scalar_one() == 0

    assigned = run.invoke(app, ["models", "assign", "crop-type-central-asia", "--mouza",
                                str(MOUZA), "--note", "pilot: real Landsat NDVI"])  # fmt: skip
    assert assigned.exit_code == 0, assigned.output
    # said, not hidden: the card's box is the Aral Sea Basin, not this mouza
    assert "does not cover mouza 2" in " ".join(assigned.output.split())
    choice = choose_crop_model(demo_copy, MOUZA, home=home)
    assert (choice.name, choice.how) == ("crop-type-central-asia", "assigned")
    assert "pilot: real Landsat NDVI" in choice.detail
    assert choose_crop_model(demo_copy, 1, home=home).name == "crop-type-tcnn"

    for season, part in (("kharif 2026", "kharif"), ("rabi 2025-26", "rabi")):
        done = run.invoke(app, ["models", "predict", "--mouza", str(MOUZA), "--season", season,
                                "--json"])  # fmt: skip
        assert done.exit_code == 0, done.output
        assert json.loads(done.stdout)["models"]["crops"] == "crop-type-central-asia:v1"
        with demo_copy.connect() as conn:
            stored = pd.read_sql(text(
                "SELECT p.*, r.model_name FROM crop_prediction p JOIN detection_run r"
                " ON r.id = p.run_id WHERE r.mouza_id = :m AND p.season = :s AND p.year = :y"
            ), conn, params={"m": MOUZA, "s": part, "y": YEAR})  # fmt: skip
            yields = pd.read_sql(text(
                "SELECT y.* FROM yield_prediction y JOIN detection_run r ON r.id = y.run_id"
                " WHERE r.mouza_id = :m AND y.season = :s AND y.year = :y"
            ), conn, params={"m": MOUZA, "s": part, "y": YEAR})  # fmt: skip
        assert set(stored["model_name"]) == {"crop-type-central-asia"}
        # khasras without a stored series get a reason, never a crop
        seen = stored[stored["khasra_id"].isin(fields["khasra_id"])].set_index("khasra_id")
        unseen = stored[~stored["khasra_id"].isin(fields["khasra_id"])]
        assert len(seen) == FIELDS and len(unseen) > 0
        assert unseen["crop"].isna().all()
        assert unseen["reason"].str.contains("too few observed periods").all()
        # the yield model needs WDRVI and NDMI, which this mouza does not have: flagged
        assert yields["yield_t_ha"].isna().all()
        assert yields["flag"].str.contains("no stored wdrvi, ndmi series").all()

        # served exactly as the model classifies the same fields from the survey's files
        tensors, card = load_model("crop-type-central-asia", home=home)
        model = build_series_model(card.hyperparameters, tensors)
        g = to_grid(series, fields.set_index("field_id")["year"], model.indices, model.grid)
        p = model.proba(g)
        crops, ps = season_probabilities(model.classes, p, part)
        ok = g.enough(model.config.min_observed)
        kid = fields["khasra_id"].to_numpy()
        assert (seen.loc[kid[ok], "crop"].to_numpy()
                == np.array(crops, dtype=object)[ps.argmax(1)][ok]).all()  # fmt: skip
        assert (seen.loc[kid[ok], "model_class"].to_numpy()
                == np.array(model.classes, dtype=object)[p.argmax(1)][ok]).all()  # fmt: skip
        assert seen.loc[kid[~ok], "crop"].isna().all()
        # in-sample (these fields trained it): a sanity check, not a score
        from models.crops.seasons import season_of_year_label

        truth = [season_of_year_label(c, part) for c in fields["crop"]]
        agree = np.mean(seen.loc[kid[ok], "crop"].to_numpy() == np.array(truth)[ok])
        assert agree > 0.8, agree

    with demo_copy.connect() as conn:
        actors = (
            conn.execute(text("SELECT actor FROM audit_log WHERE action = 'assign model'"))
            .scalars()
            .all()
        )
    assert actors == ["service:models"]
    gone = run.invoke(app, ["models", "unassign", "--mouza", str(MOUZA)])
    assert gone.exit_code == 0 and "no longer assigned" in gone.output
    assert choose_crop_model(demo_copy, MOUZA, home=home).how == "coverage"


def test_no_covering_model_is_refused_with_the_boxes_tried(
    demo_copy: Engine, tmp_path: Path
) -> None:
    """A model trained here whose card has no coverage shadows the shipped one: predicting
    refuses rather than serve it on ground it does not claim."""
    home = tmp_path / "home"
    save_model(ModelCard(name="crop-type-tcnn", task="crop type per parcel-season"),
               {"w": __import__("torch").zeros(1)}, root=home / "models")  # fmt: skip
    with pytest.raises(NoModelForMouza) as err:
        choose_crop_model(demo_copy, 1, home=home)
    msg = str(err.value)
    assert "crop-type-tcnn:v1 no coverage box" in msg
    assert "crop-type-central-asia:v1 [60.2013" in msg
    assert "landgov models assign MODEL --mouza 1" in msg


@pytest.mark.skipif(not REAL.is_dir(), reason="real data not beside the checkout")
def test_year_model_refuses_a_mouza_never_observed_but_not_an_unobserved_year(
    demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No stored NDVI at all: refused with the command that stores it. NDVI stored for
    other years only: served, every khasra with its reason (nothing to classify that year)."""
    fields, _ = _store_real_series(demo_copy)
    use_database(demo_copy, tmp_path / ".cli", monkeypatch, home=tmp_path / "home",
                 services=("models",))  # fmt: skip
    run = CliRunner()
    for mouza in (MOUZA, 3):
        done = run.invoke(app, ["models", "assign", "crop-type-central-asia", "--mouza",
                                str(mouza)])  # fmt: skip
        assert done.exit_code == 0, done.output

    never = run.invoke(app, ["models", "predict", "--mouza", "3", "--season", "kharif 2026"])
    assert never.exit_code == 1
    said = " ".join(never.output.split())
    assert "no stored ndvi series for mouza" in said
    assert "landgov imagery batch --mouza 3 --index ndvi" in said

    later = run.invoke(app, ["models", "predict", "--mouza", str(MOUZA), "--season",
                             "kharif 2030", "--json"])  # fmt: skip
    assert later.exit_code == 0, later.output
    with demo_copy.connect() as conn:
        stored = pd.read_sql(text(
            "SELECT p.crop, p.reason FROM crop_prediction p JOIN detection_run r"
            " ON r.id = p.run_id WHERE r.mouza_id = :m AND p.year = 2030"
        ), conn, params={"m": MOUZA})  # fmt: skip
    assert len(stored) >= len(fields)
    assert stored["crop"].isna().all()
    assert stored["reason"].str.contains("too few observed periods").all()


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every SQL statement ``engine`` sends while the block runs (SQLAlchemy's
    ``before_cursor_execute``: the statements as the database gets them)."""
    sent: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_serving_reads_every_mouzas_extent_in_one_statement(
    demo_copy: Engine, tmp_path: Path
) -> None:
    """The grouped read gives each mouza the extent the one-mouza query gives (a mouza
    with no mapped khasra: none), and ``serving`` issues it once for all mouzas."""
    with owner_engine(demo_copy).begin() as conn:  # a mouza not yet mapped
        conn.execute(text(
            "INSERT INTO mouza (tehsil_id, name, hadbast_number) SELECT tehsil_id,"
            " 'Nangal Sahdan', 301 FROM mouza ORDER BY id LIMIT 1"
        ))  # fmt: skip
    with demo_copy.connect() as conn:
        ids = [mid for mid, _ in resolve_mouzas(conn, None)]
        one_by_one = {mid: store.mouza_extent(conn, mid) for mid in ids}
        grouped = store.mouza_extents(conn, ids)
    assert len(ids) >= 4 and sum(e is None for e in one_by_one.values()) == 1
    assert grouped == {mid: e for mid, e in one_by_one.items() if e is not None}

    with statements(demo_copy) as sent:
        rows = serving(demo_copy, home=tmp_path / "home")
    assert sum("ST_Extent" in s for s in sent) == 1, sent
    assert len(sent) < len(ids), sent  # the mouzas, the choices, the extents: none a mouza
    served = {r["mouza_id"]: r for r in rows}
    assert set(served) == set(ids)
    for mid, extent in one_by_one.items():
        if extent is None:
            assert served[mid]["how"] == "none" and "no mapped khasra" in served[mid]["detail"]
        else:
            assert tuple(served[mid]["extent"]) == extent


@pytest.mark.skipif(not REAL.is_dir(), reason="real data not beside the checkout")
def test_year_model_reads_its_crop_series_once(
    demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The year model's series is read once, for its year (``_year_series`` tells "not
    observed this year" itself), not a second time whole to check that something is
    stored; the yield model then reads its own indices. Counted at the one read of
    stored series, :func:`imagery.series.read_zonal`, on the real database."""
    _store_real_series(demo_copy)
    home = tmp_path / "home"
    models = service_actor(demo_copy, "models")
    assign_model(demo_copy, mouza=MOUZA, model="crop-type-central-asia", actor=models,
                 home=home)  # fmt: skip
    reads: list[tuple[str, bool]] = []  # (indices, bounded in time)
    read_zonal: Callable[..., pd.DataFrame] = imagery.series.read_zonal

    def counted(conn: Any, **kw: Any) -> pd.DataFrame:
        reads.append((",".join(kw["indices"]), kw.get("start") is not None))
        return read_zonal(conn, **kw)

    monkeypatch.setattr(imagery.series, "read_zonal", counted)
    report, table = predict_mouza(demo_copy, mouza=MOUZA, season=f"kharif {YEAR}", home=home,
                                  force=True, actor=models)  # fmt: skip
    assert report.models["crops"] == "crop-type-central-asia:v1"
    assert table is not None and table["crop"].notna().any()  # the series was used
    # ndvi once for the year's grid; then the yield model's indices, each once, whole
    assert reads == [("ndvi", True), ("ndvi", False), ("wdrvi", False), ("ndmi", False)], reads
