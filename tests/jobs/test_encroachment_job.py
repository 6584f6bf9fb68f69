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
import torch
from cli_support import use_database
from security_support import service_actor, staff_actor
from shapely.geometry import Point
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from imagery.ingest import ingest
from landgov.cli.main import app
from landgov.demo.imagery_ortho import synthesize_orthophotos
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


# --- a user's RGB orthophotos (16-bit lon/lat GeoTIFF, JPEG + .aux.xml), an RGB model ---


def _rgb_copies(res, folder: Path) -> list[Path]:
    """The synthetic scenes as a user might hold them, without their nir band: the earlier
    as a 16-bit GeoTIFF in lon/lat, the later as a JPEG georeferenced by a .aux.xml."""
    import warnings
    from xml.sax.saxutils import escape

    from rasterio.errors import NotGeoreferencedWarning
    from rasterio.warp import Resampling, calculate_default_transform, reproject

    folder.mkdir(parents=True, exist_ok=True)
    with rasterio.open(res.images[0]) as src:
        rgb = src.read([1, 2, 3]).astype("uint16") * 100
        t, w, h = calculate_default_transform(src.crs, "EPSG:4326", src.width, src.height,
                                              *src.bounds)  # fmt: skip
        ll = np.zeros((3, h, w), "uint16")
        reproject(rgb, ll, src_transform=src.transform, src_crs=src.crs, dst_transform=t,
                  dst_crs="EPSG:4326", resampling=Resampling.nearest, dst_nodata=0)  # fmt: skip
    before = folder / "before_ll16.tif"
    with rasterio.open(before, "w", driver="GTiff", width=w, height=h, count=3, dtype="uint16",
                       crs="EPSG:4326", transform=t, nodata=0) as dst:  # fmt: skip
        dst.write(ll)
    after = folder / "after.jpg"
    with rasterio.open(res.images[-1]) as src:
        data, crs, t = src.read([1, 2, 3]), src.crs, src.transform
    with warnings.catch_warnings():  # georeferenced by the .aux.xml below
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(after, "w", driver="JPEG", width=data.shape[2],
                           height=data.shape[1], count=3, dtype="uint8") as dst:  # fmt: skip
            dst.write(data)
    gt = ", ".join(repr(v) for v in t.to_gdal())
    (folder / "after.jpg.aux.xml").write_text(
        f"<PAMDataset><SRS>{escape(crs.to_wkt())}</SRS><GeoTransform>{gt}</GeoTransform>"
        "</PAMDataset>"
    )
    return [before, after]


@pytest.fixture
def rgb_scene(demo_copy: Engine, tmp_path: Path):
    from datetime import UTC, datetime

    from models.encroachment import UNet

    home = tmp_path / "home"
    res = synthesize_orthophotos(demo_copy, tmp_path / "ortho", mouza=1, size_m=200)
    for path, day in zip(_rgb_copies(res, tmp_path / "user"), (res.dates[0], res.dates[-1]),
                         strict=True):  # fmt: skip
        ingest(demo_copy, [path], home=home, kind="orthophoto",
               acquired=datetime(day.year, day.month, day.day, 6, tzinfo=UTC),
               actor=service_actor(demo_copy, "imagery"))  # fmt: skip
    hp = {"arch": "unet", "in_channels": 3, "base": 8, "depth": 3, "out_channels": 1,
          "bands": ["red", "green", "blue"], "resolution_m": 0.5, "tile": 64,
          "overlap": 16}  # fmt: skip
    card = ModelCard(name="rgb-unet", task="semantic-segmentation",
                     classes=["background", "structure"], hyperparameters=hp)  # fmt: skip
    torch.manual_seed(0)
    save_model(card, UNet(3, 8, 3).state_dict(), root=home / "models")
    old = ModelCard(name="encroachment-unet", task="semantic-segmentation",
                    classes=["background", "structure"],
                    hyperparameters=hyperparameters(SegConfig.tiny()))  # fmt: skip
    save_model(old, build_model(old.hyperparameters).state_dict(), root=home / "models")
    return home, res


def test_rgb_orthophotos_and_an_rgb_model(
    demo_copy: Engine, rgb_scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    from rasterio.warp import Resampling, reproject

    home, res = rgb_scene
    masks = {"before": res.building_masks[0], "after": res.building_masks[-1]}
    seen: list[tuple[tuple[str, ...], str, int | None]] = []

    def oracle(model, image, out, **kw):  # the truth of the scene's date, on its grid
        with rasterio.open(image) as src:
            seen.append((src.descriptions, src.dtypes[0], kw.get("bands")))
            profile = src.profile | {"count": 1, "dtype": "float32"}
            prob = np.zeros(src.shape, "float32")
            with rasterio.open(masks[Path(image).stem]) as truth:
                reproject(truth.read(1).astype("float32"), prob, src_transform=truth.transform,
                          src_crs=truth.crs, dst_transform=src.transform, dst_crs=src.crs,
                          resampling=Resampling.nearest)  # fmt: skip
        with rasterio.open(out, "w", **profile) as dst:
            dst.write(prob, 1)
        return out

    monkeypatch.setattr("models.encroachment.predict_scene", oracle)
    args = {"mouza": 1, "before": date(2024, 3, 1), "after": date(2026, 3, 1), "home": home,
            "actor": service_actor(demo_copy, "models")}  # fmt: skip
    report = job.detect_encroachment(demo_copy, model_name="rgb-unet", **args)
    # both scenes reached the model as 3-band uint8 in the card's band order, at 0.5 m in UTM
    assert seen == [(("red", "green", "blue"), "uint8", 3)] * 2
    assert report.run_dir is not None
    for tag in ("before", "after"):
        with rasterio.open(report.run_dir / f"{tag}.tif") as src:
            assert src.crs.to_epsg() == 32643 and src.res == (0.5, 0.5)
    expected = _expected(res)
    assert expected and report.model == "rgb-unet:v1"
    assert {c["category"] for c in report.cases} >= {s["state_land_category"] for s in expected}
    from PIL import Image

    for c in report.cases:
        with Image.open(home / c["after_chip"]) as im:
            assert im.mode == "RGB" and im.size[0] > 0
    # the RGBN model cannot run on these scenes: the error names the scene and the band
    with pytest.raises(job.LandgovError, match=r"orthophoto ortho_before_ll16_\w+ has no nir"):
        job.detect_encroachment(demo_copy, **args)


def test_rgb_model_runs_end_to_end(demo_copy: Engine, rgb_scene) -> None:
    """The real (untrained) 3-band network, no oracle: the wiring from catalog to cases."""
    home, _ = rgb_scene
    actor = service_actor(demo_copy, "models")
    report = job.detect_encroachment(demo_copy, mouza=1, before=date(2024, 3, 1),
                                     after=date(2026, 3, 1), home=home, model_name="rgb-unet",
                                     device="cpu", actor=actor)  # fmt: skip
    assert report.model == "rgb-unet:v1" and report.run_dir is not None
    run = report.run_dir
    with rasterio.open(run / "prob_after.tif") as p, rasterio.open(run / "after.tif") as a:
        assert p.count == 1 and (p.shape, p.transform, p.crs) == (a.shape, a.transform, a.crs)
        prob = p.read(1)
        assert 0.0 <= prob.min() <= prob.max() <= 1.0
