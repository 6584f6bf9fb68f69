"""``landgov models train crops --fields --series`` and ``evaluate --fields --series`` on a
slice of the real Central Asia survey (../shared/data/real, present in CI).

Data: Remelgado et al. (2020), *A crop type dataset for consistent land cover
classification in Central Asia*, Scientific Data 7, 250, CC BY 4.0.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from cli_support import use_database
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from landgov.cli.main import app

REAL = Path(__file__).resolve().parents[2].parent / "shared/data/real/crops_central_asia"


def _slice(tmp: Path) -> tuple[Path, Path]:
    """360 fields of Khorezm 2015 (cotton, wheat-rice, rice…), under their own names."""
    f = gpd.read_file(REAL / "fields.gpkg")
    f = f[(f["region"] == "Khorezm") & (f["year"] == 2015)].head(360)
    f = f.rename(columns={"field_id": "field_no", "crop": "label"})
    f[["field_no", "label", "year", "geometry"]].to_file(tmp / "fields.gpkg")
    s = pd.read_csv(REAL / "ndvi.csv")
    s = s[s["field_id"].isin(f["field_no"])].rename(columns={"field_id": "field_no"})
    s.to_csv(tmp / "series.csv", index=False)
    return tmp / "fields.gpkg", tmp / "series.csv"


@pytest.mark.skipif(not REAL.is_dir(), reason="real data not beside the checkout")
def test_train_and_evaluate_crops_from_real_files(
    demo_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_database(demo_engine, tmp_path / ".cli", monkeypatch, home=tmp_path, services=("models",))
    fields, series = _slice(tmp_path)
    run = CliRunner()
    args = ["--fields", str(fields), "--series", str(series), "--id-column", "field_no"]
    wrong = run.invoke(app, ["models", "train", "crops", *args, "--preset", "tiny"])
    assert wrong.exit_code == 1 and "no label column 'crop'" in wrong.output
    trained = run.invoke(app, ["models", "train", "crops", *args, "--label-column", "label",
                               "--preset", "tiny", "--folds", "3", "--block-m", "5000",
                               "--note", "CC BY 4.0, Remelgado et al. 2020", "--json"])  # fmt: skip
    assert trained.exit_code == 0, trained.output
    out = json.loads(trained.stdout)
    assert out["registered"] == "crop-type-fields:v1"
    cv = out["cross_validation"]
    assert cv["split"]["k"] == 3 and cv["scored"] + cv["refused"] == 360
    for side in ("model", "baseline"):
        assert 0.5 < cv[side]["oa"] <= 1 and set(cv[side]["per_class"]) >= {"cotton"}
        assert sum(map(sum, cv[side]["confusion"])) == cv["scored"]
        # the same held-out fields read as girdawari seasons: cotton is kharif, rabi fallow
        kharif, rabi = cv["seasons"]["kharif"][side], cv["seasons"]["rabi"][side]
        assert sum(map(sum, kharif["confusion"])) == cv["scored"]
        assert "cotton" in kharif["per_class"] and "cotton" not in rabi["per_class"]
        assert (
            kharif["per_class"]["cotton"]["support"] == cv[side]["per_class"]["cotton"]["support"]
        )
    card = json.loads((tmp_path / "models/crop-type-fields/v1/card.json").read_text())
    assert card["training_data"]["notes"] == ["CC BY 4.0, Remelgado et al. 2020"]
    assert card["coverage"]["grid"] == {"start": "01-01", "step_days": 16, "n_steps": 23}
    w, s, e, n = card["coverage"]["bbox_lonlat"]
    assert 60 < w < e < 62 and 41 < s < n < 42.5  # Khorezm
    assert card["metrics"]["oa"] == cv["model"]["oa"]
    scored = run.invoke(app, ["models", "evaluate", "crop-type-fields", *args,
                              "--label-column", "label", "--folds", "3"])  # fmt: skip
    assert scored.exit_code == 0, scored.output
    assert "gradient boosting (CV)" in scored.stdout and "IN-SAMPLE" in scored.stdout
    listed = {m["name"] for m in json.loads(run.invoke(app, ["models", "list", "--json"]).stdout)}
    assert {"crop-type-fields", "crop-type-tcnn"} <= listed
