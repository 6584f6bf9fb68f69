"""The real-series crop model: grid rule, spatial folds, scores, files, training round trip."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from models.crops.field_files import FieldFileError, load_field_data, read_series
from models.crops.grid import GridError, TimeGrid, fill_gaps, to_grid
from models.crops.scores import classification_scores, format_scores
from models.crops.series_model import (
    OTHER,
    SeriesConfig,
    build_series_model,
    group_labels,
    series_hyperparameters,
    series_tensors,
    train_gb_baseline,
    train_series_model,
)
from models.crops.split import spatial_folds


def test_fill_gaps_is_linear_inside_and_nearest_at_the_ends() -> None:
    v = np.array([[np.nan, 1.0, np.nan, np.nan, 4.0, np.nan], [np.nan] * 6])
    out = fill_gaps(v)
    assert out[0].tolist() == [1.0, 1.0, 2.0, 3.0, 4.0, 4.0]
    assert out[1].tolist() == [0.0] * 6  # nothing observed: nothing invented but a zero


def test_any_cadence_goes_onto_the_grid_by_one_rule() -> None:
    grid = TimeGrid()  # 23 periods of 16 days from 1 January
    days5 = pd.date_range("2020-01-01", "2020-12-31", freq="5D")
    monthly = pd.date_range("2020-01-15", "2020-12-15", freq="MS") + pd.Timedelta(days=14)
    rows = [("a", d, d.day_of_year / 1000) for d in days5]
    rows += [("b", d, 0.5) for d in monthly]
    rows += [("b", pd.Timestamp("2021-03-01"), 0.9)]  # outside b's year: not used
    s = pd.DataFrame(rows, columns=["field_id", "date", "ndvi"])
    g = to_grid(s, pd.Series({"a": 2020, "b": 2020}), ["ndvi"], grid)
    assert g.values.shape == (2, 1, 23) and g.unused == 1
    # period 0 (1–16 Jan) of a holds the 5-day looks of 1, 6, 11, 16 Jan: their mean
    assert g.values[0, 0, 0] == pytest.approx(np.mean([1, 6, 11, 16]) / 1000)
    assert g.observed[0].all()
    # one look a month fills about every other 16-day period; the rest are unobserved
    assert 10 <= g.observed[1].sum() <= 12 and not g.observed[1, 0, 0]
    assert g.n_observed().tolist() == [23, g.observed[1].sum()]
    with pytest.raises(GridError, match="MM-DD"):
        TimeGrid(start="31-31")
    with pytest.raises(GridError, match="evi"):
        to_grid(s, pd.Series({"a": 2020}), ["ndvi", "evi"], grid)


def test_scores_follow_the_confusion_matrix() -> None:
    truth = ["a"] * 6 + ["b"] * 3 + ["c"]
    pred = ["a"] * 5 + ["b"] + ["b", "b", "a"] + ["c"]
    s = classification_scores(truth, pred, min_support=3)
    assert s["confusion"] == [[5, 1, 0], [1, 2, 0], [0, 0, 1]]
    assert s["oa"] == pytest.approx(0.8)
    assert s["per_class"]["a"]["precision"] == pytest.approx(5 / 6, abs=1e-4)
    assert s["per_class"]["b"]["recall"] == pytest.approx(2 / 3, abs=1e-4)
    # c has one field: reported, but not in the macro mean
    assert s["macro_f1_classes"] == ["a", "b"]
    assert s["macro_f1"] == pytest.approx((5 / 6 + 2 / 3) / 2, abs=1e-4)
    assert "* not in macro-F1" in format_scores({"m": s})


def test_rare_classes_are_merged_then_grouped() -> None:
    labels = ["cotton"] * 5 + ["vineyard"] * 2 + ["orchard"] * 2 + ["carrots"]
    grouped, mapping = group_labels(labels, merge={"vineyard": "orchard"}, min_class_fields=3)
    assert mapping == {"carrots": OTHER, "cotton": "cotton", "orchard": "orchard",
                       "vineyard": "orchard"}  # fmt: skip
    assert grouped.count("orchard") == 4


def _fields(n_per_cluster: int, gap_m: float) -> gpd.GeoSeries:
    """Two clusters of 50 m squares 40 km apart; within a cluster, squares ``gap_m`` apart."""
    polys = []
    for cx in (0.0, 40_000.0):
        for i in range(n_per_cluster):
            x = cx + i * (50 + gap_m)
            polys.append(shapely.box(x, 0, x + 50, 50))
    return gpd.GeoSeries(polys, crs="EPSG:32643")


def test_spatial_folds_keep_blocks_whole_and_buffer_neighbours() -> None:
    g = _fields(20, 10.0)
    folds = spatial_folds(g, k=2, block_m=10_000, buffer_m=0)
    # each cluster lies in one 10 km block, so each is one fold
    assert len(set(folds.fold[:20])) == 1 and len(set(folds.fold[20:])) == 1
    assert folds.fold[0] != folds.fold[20]
    # small blocks cut a cluster; the buffer removes training fields beside the test ones
    fine = spatial_folds(g, k=2, block_m=200, buffer_m=30)
    for f in range(2):
        train, test = fine.train_rows(f), fine.test_rows(f)
        d = shapely.distance(g.to_numpy()[train][:, None], g.to_numpy()[test][None, :])
        assert d.size == 0 or d.min() > 30
    assert sum(fine.describe()["left_out_by_buffer"]) > 0
    with pytest.raises(GridError):
        spatial_folds(g.set_crs(None, allow_override=True), k=2)


def _synthetic_files(tmp: Path, n: int = 160, seed: int = 0) -> tuple[Path, Path]:
    """Fields of two crops that peak at different times, 5-day looks with random gaps."""
    rng = np.random.default_rng(seed)
    ids = np.arange(n)
    crop = np.where(ids % 2 == 0, "wheat", "cotton")
    x0, y0 = 70 + (ids % 40) * 0.01, 30 + (ids // 40) * 0.01
    boxes = shapely.box(x0, y0, x0 + 0.005, y0 + 0.005)
    gpd.GeoDataFrame({"field_id": ids, "crop": crop, "year": 2021}, geometry=boxes,
                     crs="EPSG:4326").to_file(tmp / "fields.gpkg")  # fmt: skip
    dates = pd.date_range("2021-01-01", "2021-12-31", freq="5D")
    rows = []
    for i, c in zip(ids, crop, strict=True):
        peak = 80 if c == "wheat" else 230
        for d in dates:
            v = 0.15 + 0.6 * np.exp(-(((d.day_of_year - peak) / 35) ** 2)) + rng.normal(0, 0.03)
            rows.append((i, d.strftime("%Y-%m-%d"), "" if rng.random() < 0.3 else f"{v:.4f}"))
    pd.DataFrame(rows, columns=["field_id", "date", "ndvi"]).to_csv(tmp / "s.csv", index=False)
    return tmp / "fields.gpkg", tmp / "s.csv"


def test_series_model_learns_round_trips_and_refuses_bare_series(tmp_path: Path) -> None:
    fields, series = _synthetic_files(tmp_path)
    data = load_field_data(fields, series)
    assert len(data.series) == 160 and data.series.indices == ["ndvi"]
    cfg = SeriesConfig.tiny()
    model, report = train_series_model(data.series, data.labels, config=cfg, seed=1)
    crop, prob, reason = model.predict(data.series)
    assert (crop == np.array(data.labels)).mean() > 0.9
    assert report["class_counts"] == {"cotton": 80, "wheat": 80}
    rebuilt = build_series_model(series_hyperparameters(model), series_tensors(model))
    assert np.abs(rebuilt.proba(data.series) - model.proba(data.series)).max() < 1e-6
    bare = data.series.subset(np.arange(2))
    bare.values[:, :, 3:] = np.nan  # three observed periods left
    crop, prob, reason = model.predict(bare)
    assert crop.tolist() == [None, None] and np.isnan(prob).all()
    assert "too few observed periods" in reason[0]
    base, _ = train_gb_baseline(data.series, data.labels, config=cfg, seed=1)
    assert base.proba(data.series).shape == (160, 2)


def test_field_files_name_the_row_and_column(tmp_path: Path) -> None:
    fields, series = _synthetic_files(tmp_path, n=8)
    text = series.read_text().splitlines()
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([text[0], text[1], text[2].replace("2021-01-06", "06/01/2021")]))
    with pytest.raises(FieldFileError, match=r"rows 2: column date: '06/01/2021'"):
        read_series(bad)
    bad.write_text("\n".join([text[0], text[1].rsplit(",", 1)[0] + ",high"]))
    with pytest.raises(FieldFileError, match=r"rows 1: column ndvi: 'high' is not a number"):
        read_series(bad)
    bad.write_text("\n".join([text[0], "99" + text[1][1:]]))
    with pytest.raises(FieldFileError, match="'99' is not a field"):
        load_field_data(fields, bad)
    with pytest.raises(FieldFileError, match="no label column 'kind'"):
        load_field_data(fields, series, label_column="kind")
    with pytest.raises(FieldFileError, match="no column 'evi'"):
        read_series(series, ["evi"])
