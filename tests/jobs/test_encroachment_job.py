"""``landgov detect encroachment``: catalogued orthophotos → cases on state land, chips.

The network is the one part replaced here (by the ground-truth masks, an oracle), so the
test checks the job's own work against known answers: scene choice, band stacking, change,
polygons, the PostGIS overlay with zone widths, re-runs, chips and the CLI.
"""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import numpy as np
import pytest
import rasterio
from cli_support import use_database
from security_support import service_actor, staff_actor
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from imagery.ingest import ingest
from imagery.synthetic_ortho import synthesize_orthophotos
from landgov.cli.main import app
from landgov.errors import AccessDenied
from landgov.jobs import encroachment as job
from models.encroachment import SegConfig, build_model, hyperparameters
from models.registry import ModelCard, save_model


@pytest.fixture
def scene(demo_copy: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    home = tmp_path / "home"
    res = synthesize_orthophotos(demo_copy, tmp_path / "ortho", mouza=1, size_m=200)
    ingest(
        demo_copy,
        res.images,
        home=home,
        kind="orthophoto",
        actor=service_actor(demo_copy, "imagery"),
    )
    model = build_model(hyperparameters(SegConfig.tiny()))
    card = ModelCard(name="encroachment-unet", task="semantic-segmentation",
                     classes=["background", "structure"],
                     hyperparameters=hyperparameters(SegConfig.tiny()))  # fmt: skip
    save_model(card, model.state_dict(), root=home / "models")
    masks = {d: res.building_masks[i] for i, d in enumerate(res.dates)}

    def oracle(model, image, out, **kw):  # the ground-truth mask of the scene's date
        with rasterio.open(image) as src:
            first = src.read(1)
        with rasterio.open(out.parent / "before.tif") as b:
            is_before = np.array_equal(first, b.read(1))
        truth = masks[res.dates[0] if is_before else res.dates[-1]]
        with rasterio.open(truth) as src:
            profile = src.profile | {"dtype": "float32"}
            data = src.read(1).astype("float32")
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(data, 1)
        return out

    monkeypatch.setattr("models.encroachment.predict_scene", oracle)
    return home, res


def _expected(res) -> list[dict[str, str]]:
    with open(res.structures_csv) as fh:
        rows = list(csv.DictReader(fh))
    return [r for r in rows if r["on_state_land"] == "true"
            and date.fromisoformat(r["date_built"]) > res.dates[0]]  # fmt: skip


def test_new_structures_on_state_land_become_cases(demo_copy: Engine, scene) -> None:
    home, res = scene
    report = job.detect_encroachment(demo_copy, mouza=1, before=date(2024, 3, 1),
                                     after=date(2026, 3, 1), home=home,
                                     actor=service_actor(demo_copy, "models"))  # fmt: skip
    expected = _expected(res)
    assert expected, "the 200 m window has new structures on state land"
    cases = report.cases
    # every new structure on state land is found, as a case on its category's land
    from shapely import wkb

    polys = [(c["category"], wkb.loads(bytes(c["wkb"]))) for c in cases]
    from pyproj import Transformer

    to_ll = Transformer.from_crs("EPSG:32643", "EPSG:4326", always_xy=True)
    for s in expected:
        lon, lat = to_ll.transform(float(s["centroid_x"]), float(s["centroid_y"]))
        hit = [cat for cat, g in polys if g.buffer(1e-6).contains(Point(lon, lat))]
        assert s["state_land_category"] in hit, s
    # nothing that was there before is a case; the chips exist
    assert report.candidates >= len(expected)
    for c in cases:
        assert (home / c["before_chip"]).is_file() and (home / c["after_chip"]).is_file()
        assert c["first_seen"] == date(2026, 3, 1) and 0 < c["confidence"] <= 1


def test_rerun_replaces_and_bad_dates_are_clean_errors(demo_copy: Engine, scene) -> None:
    home, _ = scene
    args = {"mouza": 1, "before": date(2024, 3, 1), "after": date(2026, 3, 1), "home": home,
            "actor": service_actor(demo_copy, "models")}  # fmt: skip
    first = job.detect_encroachment(demo_copy, **args)
    again = job.detect_encroachment(demo_copy, **args)
    with demo_copy.connect() as conn:
        n = conn.execute(text("SELECT count(*) FROM encroachment_case")).scalar_one()
        runs = conn.execute(text("SELECT count(*) FROM detection_run")).scalar_one()
    assert n == len(again.cases) == len(first.cases) and runs == 1
    assert again.reused and not first.reused
    forced = job.detect_encroachment(demo_copy, **args, force=True)
    assert not forced.reused and len(forced.cases) == n
    with pytest.raises(job.LandgovError, match="no orthophoto"):
        job.detect_encroachment(demo_copy, **(args | {"before": date(2020, 1, 1)}))
    with pytest.raises(job.LandgovError, match="later than"):
        job.detect_encroachment(demo_copy, **(args | {"after": date(2024, 3, 1)}))
    with pytest.raises(AccessDenied, match="may not train models, predict and detect"):
        job.detect_encroachment(demo_copy, **(args | {"force": True,
                                "actor": staff_actor(demo_copy, "revenue_analyst")}))  # fmt: skip
    with demo_copy.connect() as conn:  # refused: the stored run and its cases are kept
        assert conn.execute(text("SELECT count(*) FROM encroachment_case")).scalar_one() == n


def test_cli_json(demo_copy: Engine, scene, monkeypatch: pytest.MonkeyPatch) -> None:
    home, res = scene
    use_database(demo_copy, home / ".cli", monkeypatch, home=home, services=("models",))
    result = CliRunner().invoke(app, ["detect", "encroachment", "--mouza", "Kot Pindi Das",
                                      "--before", "2024-03-01", "--after", "2026-03-01",
                                      "--json"])  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["model"] == "encroachment-unet:v1"
    with demo_copy.connect() as conn:  # the job ran as the models service
        actors = conn.execute(text(
            "SELECT actor FROM audit_log WHERE action = 'detect encroachment'"
            " AND entity_id = :r"), {"r": str(data["run_id"])}).scalars().all()  # fmt: skip
    assert actors == ["service:models"]
    assert {c["category"] for c in data["cases"]} >= {s["state_land_category"]
                                                      for s in _expected(res)}  # fmt: skip
    bad = CliRunner().invoke(app, ["detect", "encroachment", "--mouza", "1", "--before",
                                   "2024-13-01", "--after", "2026-03-01"])  # fmt: skip
    assert bad.exit_code != 0 and "not a date" in bad.output
    nomodel = CliRunner().invoke(app, ["detect", "encroachment", "--mouza", "1", "--before",
                                       "2024-03-01", "--after", "2026-03-01", "--model",
                                       "nope"])  # fmt: skip
    assert nomodel.exit_code != 0 and "no model 'nope'" in nomodel.output
