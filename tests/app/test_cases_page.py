"""The Disputes page: the queue, the case page and an action through it (AppTest), the
case's own address, and its evidence in words and pictures."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from dashboard_support import Login, database_url, demo_login, sign_in_demo
from i18n_support import ARABIC_SCRIPT
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import data, imagery, panels
from app.views.cases import data as cases_data
from app.views.cases import evidence
from imagery.render import png_bytes
from landgov.config import load_settings
from landgov.disputes.rules import DETECTORS
from landgov.disputes.scan import scan
from tests.disputes.case_support import status_of
from tests.disputes.evidence_support import planted_encroachment

PointAt = Callable[[str], None]


@pytest.fixture
def scanned(demo_copy: Engine, point_app_at: PointAt) -> Engine:
    scan(demo_copy, actor=service_actor(demo_copy, "disputes"))
    point_app_at(database_url(demo_copy))
    return demo_copy


def _stand_in_imagery(
    url: str, mouza_id: int, bbox: imagery.Bounds, day: date, *, orthophoto: bool = True
) -> imagery.BaseImagery:
    """A base layer where the demo has no imagery, to see it drawn under the evidence."""
    grey = np.full((3, 2, 2), 128, dtype=np.uint8)
    png = png_bytes(grey, np.ones((2, 2), dtype=bool))
    return imagery.BaseImagery(pictures=[(imagery.IMAGERY_LAYER_ID, png, bbox)])


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def cases_page(engine: Engine, login: Login, case_id: int | None = None) -> AppTest:
    """The Disputes page signed in as ``login``; with ``case_id``, opened at that case's
    address (``?case=``)."""
    at = sign_in_demo(engine, login)
    if case_id is not None:
        at.query_params[cases_data.CASE_PARAM] = str(case_id)
    at.switch_page("views/cases/view.py").run()
    ok(at)
    return at


def markdown_text(at: AppTest) -> str:
    return "\n".join(el.value for el in at.markdown)


def deck_spec(at: AppTest) -> dict[str, Any]:
    (spec,) = [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]
    return dict(spec)


def test_the_queue_is_the_mouzas_or_the_officers_jurisdiction(
    scanned: Engine, demo_dir: Path
) -> None:
    at = cases_page(scanned, demo_login(scanned, demo_dir, "auditor"))
    assert [el.value for el in at.title] == ["Dispute cases"]
    mouza = at.sidebar.selectbox(key="mouza_id")
    mouza_name = mouza.format_func(mouza.value).split(" (hadbast")[0]
    (queue,) = [f.value for f in at.dataframe]
    assert list(queue.columns) == cases_data.QUEUE_COLUMNS
    assert set(queue["Mouza"]) == {mouza_name}
    assert queue["Risk"].tolist() == sorted(queue["Risk"], reverse=True)
    # rules by their titles from dispute_rule, never by their ids
    with scanned.connect() as conn:
        ids = set(conn.execute(text("SELECT id FROM dispute_rule")).scalars())
        titles = set(conn.execute(text("SELECT title_en FROM dispute_rule")).scalars())
    named = {t for cell in queue["Rules"] for t in cell.split("; ")}
    assert named and named <= titles and not named & ids

    at = cases_page(scanned, demo_login(scanned, demo_dir, "tehsildar", "Sheikhupura"))
    (everything,) = [f.value for f in at.dataframe]
    with scanned.connect() as conn:
        n_cases = conn.execute(text("SELECT count(*) FROM dispute_case")).scalar_one()
    assert len(everything) == n_cases > len(queue)  # the whole tehsil
    assert everything["Risk"].tolist() == sorted(everything["Risk"], reverse=True)

    at = cases_page(scanned, demo_login(scanned, demo_dir, "patwari", "Burj Karam Singh"))
    (circle,) = [f.value for f in at.dataframe]
    assert set(circle["Mouza"]) == {"Burj Karam Singh"}

    at.multiselect(key=cases_data.STATUS_KEY).set_value(["referred"]).run()
    ok(at)
    assert not at.dataframe and "No dispute case here" in at.info[0].value


def test_a_case_page_shows_the_breakdown_map_and_history(
    scanned: Engine, demo_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scanned.connect() as conn:
        overlap_case = conn.execute(
            text(
                "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                " ON f.id = cf.flag_id WHERE f.rule_id = 'overlap' ORDER BY cf.case_id LIMIT 1"
            )
        ).scalar_one()
    # the demo has no imagery: stand in a base layer to see it drawn under the evidence
    monkeypatch.setattr(imagery, "base_imagery", _stand_in_imagery)
    at = cases_page(scanned, demo_login(scanned, demo_dir, "tehsildar", "Sheikhupura"))
    at.selectbox(key=cases_data.CASE_KEY).set_value(overlap_case).run()
    ok(at)
    # the map first as a picture drawn on the server (no WebGL map), the switch above it
    assert not at.get("deck_gl_json_chart") and len(at.get("image")) == 1
    at.toggle(key=f"{panels.INTERACTIVE_MAPS_KEY}_cases").set_value(True).run()
    ok(at)
    assert at.header[0].value.startswith(f"Case {overlap_case}: khasra ")
    frames = [f.value for f in at.dataframe]
    breakdown = next(f for f in frames if list(f.columns) == cases_data.BREAKDOWN_COLUMNS)
    assert breakdown["Rule"].tolist() == ["Parcels overlap"]  # the title, not the id
    markdown = markdown_text(at)
    assert "Two live khasras overlap" in markdown  # the rule's explanation, in English only
    assert not ARABIC_SCRIPT.search(markdown)
    assert "overlap`" not in markdown and "`overlap" not in markdown  # no code name

    spec = deck_spec(at)
    layers = spec["layers"]
    assert [layer["id"] for layer in layers] == [
        "imagery",
        cases_data.PARCEL_LAYER_ID,
        f"{cases_data.PARCEL_LAYER_ID}-outline",
        cases_data.FLAG_LAYER_ID,
        f"{cases_data.FLAG_LAYER_ID}-outline",
        cases_data.FLAG_MARKER_LAYER_ID,
    ]
    by_id = {layer["id"]: layer for layer in layers}
    flags = by_id[cases_data.FLAG_LAYER_ID]["data"]
    red = cases_data.RULE_COLORS["overlap"]
    assert flags and all(row["rule"] == "overlap" for row in flags)
    assert all(row["fill_color"] == list(red) for row in flags)
    # outlined in the rule's own colour, FLAG_MIN_LINE_PX wide on screen at any zoom, as
    # straight segments (a LineLayer: deck.gl's paths cost seconds without a GPU)
    outline = by_id[f"{cases_data.FLAG_LAYER_ID}-outline"]
    assert outline["@@type"] == "LineLayer" and outline["widthUnits"] == "pixels"
    assert outline["getWidth"] == cases_data.FLAG_MIN_LINE_PX >= 2
    edges = outline["data"]
    assert edges and all(e["line_color"] == [*red[:3], 255] for e in edges)
    # every edge of every flag ring, each carrying its flag's tooltip
    rings = [ring for row in flags for ring in row["polygon"]]
    assert len(edges) == sum(len(ring) - 1 for ring in rings)
    assert {e["label"] for e in edges} == {"Parcels overlap"} and outline["pickable"] is True
    assert all(layer["@@type"] != "PathLayer" and not layer.get("stroked") for layer in layers
               if layer["@@type"] != "ScatterplotLayer")  # fmt: skip
    assert flags[0]["label"] == "Parcels overlap"
    assert "m² overlap" in flags[0]["detail"]  # the measure with its unit
    roles = {row["role"] for row in by_id[cases_data.PARCEL_LAYER_ID]["data"]}
    assert roles == {"subject", "flagged"}
    # a ring of fixed on-screen size on each flag, at a point inside the flag
    markers = by_id[cases_data.FLAG_MARKER_LAYER_ID]
    assert markers["@@type"] == "ScatterplotLayer"
    assert markers["radiusMinPixels"] == cases_data.FLAG_MARKER_PX >= 8
    with scanned.connect() as conn:
        flag_geoms = (
            conn.execute(
                text(
                    "SELECT ST_AsText(f.geom) FROM dispute_flag f JOIN dispute_case_flag cf"
                    " ON cf.flag_id = f.id WHERE cf.case_id = :c AND f.geom IS NOT NULL"
                ),
                {"c": overlap_case},
            )
            .scalars()
            .all()
        )
    geoms = [shapely.from_wkt(wkt) for wkt in flag_geoms]
    assert len(markers["data"]) == len(geoms) >= 1
    for marker in markers["data"]:
        assert any(g.buffer(1e-7).contains(shapely.Point(marker["position"])) for g in geoms)
    # the first view is on the flags (at least a killa's side across), not the case
    view = spec["initialViewState"]
    flagged = shapely.union_all(geoms).bounds
    fitted = data.fit_view(cases_data.at_least(flagged), height_px=480)
    # (the page reads the flags as GeoJSON of 7 decimals, 1 cm)
    assert (view["longitude"], view["latitude"]) == pytest.approx(
        (fitted.longitude, fitted.latitude), abs=1e-6
    )
    assert view["zoom"] == pytest.approx(fitted.zoom, abs=1e-3)

    # the evidence in words: the measure with its unit, labelled facts, no JSON
    assert "Measured: **" in markdown and " m² overlap (flagged above " in markdown
    assert "Share of each khasra" in markdown and "Mapping tolerance" in markdown
    assert '{"' not in markdown and "khasra_ids" not in markdown
    assert not any("Evidence" in f.columns for f in frames)
    history = next(f for f in frames if "Action" in f.columns)
    assert history["Action"].tolist() == ["open dispute case"]
    # buttons follow the status: an open case can be reviewed or dismissed only
    assert not at.button(key="case_review").disabled
    assert at.button(key="case_confirm").disabled and at.button(key="case_refer").disabled


def test_actions_through_the_page_change_the_status(scanned: Engine, demo_dir: Path) -> None:
    at = cases_page(scanned, demo_login(scanned, demo_dir, "patwari", "Burj Karam Singh"))
    (queue,) = [f.value for f in at.dataframe]
    case_id = int(queue["Case"].iloc[0])  # the riskiest case of the patwari's circle
    at.selectbox(key=cases_data.CASE_KEY).set_value(case_id).run()
    ok(at)
    # a patwari keeps the record in question: he reads the case, nothing to act with
    assert not [b for b in at.button if str(b.key).startswith("case_")]
    assert any("a patwari keeps the record in question" in el.value for el in at.caption)

    tehsildar = demo_login(scanned, demo_dir, "tehsildar", "Sheikhupura")
    at = cases_page(scanned, tehsildar)
    at.selectbox(key=cases_data.CASE_KEY).set_value(case_id).run()
    ok(at)
    # a step dated before the back-dating window: refused, the rule named, nothing written
    at.date_input(key="case_on").set_value(date.today() - timedelta(days=60))
    at.button(key="case_review").click().run()
    ok(at)
    (error,) = [el.value for el in at.error]
    assert "rule `backdate_window`" in error and "Nothing was written" in error
    assert status_of(scanned, case_id) == "open"

    at.date_input(key="case_on").set_value(date.today())
    at.button(key="case_review").click().run()
    ok(at)
    assert not at.error
    (success,) = [el.value for el in at.success]
    assert f"Case {case_id}: open → under review" in success
    assert status_of(scanned, case_id) == "under_review"
    assert not at.button(key="case_confirm").disabled  # the page shows the new status

    # a dismissal needs a reason
    at.button(key="case_dismiss").click().run()
    ok(at)
    assert "rule `reason_required`" in at.error[0].value
    at.text_input(key="case_reason").input("boundary already corrected")
    at.button(key="case_dismiss").click().run()
    ok(at)
    assert status_of(scanned, case_id) == "dismissed"
    # the dismissed case stays open on the page although the live queue no longer has it
    assert at.header[0].value.startswith(f"Case {case_id}:")
    history = next(f.value for f in at.dataframe if "Action" in f.value.columns)
    assert history["Action"].tolist()[-2:] == ["dispute case review", "dispute case dismiss"]
    assert history["Reason / note"].tolist()[-1] == "boundary already corrected"
    with scanned.connect() as conn:
        actors = (
            conn.execute(
                text(
                    "SELECT actor FROM audit_log WHERE action IN"
                    " ('dispute case review', 'dispute case dismiss') ORDER BY seq"
                )
            )
            .scalars()
            .all()
        )
    assert actors == [f"user:{tehsildar.username}"] * 2


def test_a_case_has_its_own_address_and_a_step_keeps_it_open_with_its_outcome(
    scanned: Engine, demo_dir: Path
) -> None:
    """``?case=`` opens the case; after a step that changes its status (and so its label
    in the picker) the case stays open, the outcome shown as a banner and a toast; a
    second click on the same step changes nothing and says so."""
    tehsildar = demo_login(scanned, demo_dir, "tehsildar", "Sheikhupura")
    at = cases_page(scanned, tehsildar)
    (queue,) = [f.value for f in at.dataframe]
    case_id = int(queue["Case"].iloc[-1])  # not the first: the address must pick it
    at = cases_page(scanned, tehsildar, case_id)
    assert at.header[0].value.startswith(f"Case {case_id}:")
    assert at.selectbox(key=cases_data.CASE_KEY).value == case_id
    assert any(f"/disputes?case={case_id}" in el.value for el in at.caption)

    at.button(key="case_review").click().run()
    ok(at)
    assert status_of(scanned, case_id) == "under_review"
    assert at.header[0].value.startswith(f"Case {case_id}:")  # still open
    assert at.query_params[cases_data.CASE_PARAM] == str(case_id)
    (banner,) = [el.value for el in at.success]
    assert f"Case {case_id}: open → under review" in banner and "Next: confirm" in banner
    assert [t.value for t in at.toast] == [f"**Case {case_id} under review**"]
    assert "under review" in at.selectbox(key=cases_data.CASE_KEY).format_func(case_id)

    at.button(key="case_confirm").click().run()  # a fresh code is not needed: signed in
    ok(at)
    assert status_of(scanned, case_id) == "confirmed"
    assert "under review → confirmed" in at.success[0].value
    at.run()  # the banner stays after a rerun (the toast does not repeat)
    assert "under review → confirmed" in at.success[0].value and not at.toast

    # another case's page does not show this outcome
    other = int(queue["Case"].iloc[0])
    at.selectbox(key=cases_data.CASE_KEY).set_value(other).run()
    ok(at)
    assert at.query_params[cases_data.CASE_PARAM] == str(other)
    assert at.header[0].value.startswith(f"Case {other}:") and not at.success


def test_an_address_naming_a_case_out_of_reach_says_so(scanned: Engine, demo_dir: Path) -> None:
    patwari = demo_login(scanned, demo_dir, "patwari", "Burj Karam Singh")
    with scanned.connect() as conn:
        elsewhere = conn.execute(
            text(
                "SELECT c.id FROM dispute_case c JOIN mouza m ON m.id = c.mouza_id"
                " WHERE m.name <> 'Burj Karam Singh' ORDER BY c.id LIMIT 1"
            )
        ).scalar_one()
    for case_id in (elsewhere, 999_999):
        at = cases_page(scanned, patwari, case_id)
        assert any(f"Case {case_id} (from the address)" in w.value for w in at.warning)
        assert not at.main.header  # no case page
        assert cases_data.CASE_PARAM not in at.query_params


def test_the_page_says_it_is_as_of_today(scanned: Engine, demo_dir: Path) -> None:
    at = cases_page(scanned, demo_login(scanned, demo_dir, "auditor"))
    assert any(el.value.startswith("As of today") for el in at.caption)
    at.sidebar.date_input(key="as_of").set_value(date(2015, 1, 1)).run()
    ok(at)
    (note,) = [el.value for el in at.info]
    assert "as of today" in note and "(1 Jan 2015) does not apply" in note


def test_an_encroachment_shows_its_before_and_after_images_and_its_area(
    demo_copy: Engine, demo_dir: Path, point_app_at: PointAt
) -> None:
    home = load_settings().home  # where the app looks for evidence files
    with planted_encroachment(demo_copy, home) as planted:
        scan(demo_copy, actor=service_actor(demo_copy, "disputes"))
        point_app_at(database_url(demo_copy))
        with demo_copy.connect() as conn:
            case_id, area = conn.execute(
                text(
                    "SELECT cf.case_id, f.measure FROM dispute_case_flag cf JOIN dispute_flag f"
                    " ON f.id = cf.flag_id WHERE f.rule_id = 'structure_on_state_land'"
                )
            ).one()
        at = cases_page(
            demo_copy, demo_login(demo_copy, demo_dir, "tehsildar", "Sheikhupura"), case_id
        )
        markdown = markdown_text(at)
        assert f"Measured: **{area:,.1f} m² encroached**" in markdown
        assert "road right-of-way" in markdown and "Detector's confidence" in markdown
        assert planted.after_chip not in markdown and "before_chip" not in markdown
        images = at.get("image")
        chips = [img for img in images if img.captions in (["Before"], ["After"])]
        assert [img.captions for img in chips] == [["Before"], ["After"]]
        assert len(images) == len(chips) + 1  # and the case map, drawn as a picture
        # served as images by the app, not written out as file paths
        assert all(len(img.value) == 1 and img.value[0] for img in images)


# --- the evidence in words (pure) ----------------------------------------------------------


def test_every_rule_with_a_detector_says_what_its_measure_is() -> None:
    unknown = set(DETECTORS) - set(evidence.MEASURES) - evidence.NO_MEASURE
    assert not unknown, f"say the unit of these rules' measure in evidence.MEASURES: {unknown}"


@pytest.mark.parametrize(
    ("rule", "measure", "threshold", "expected"),
    [
        ("structure_on_state_land", 51.125, None, "51.1 m² encroached"),
        ("overlap", 785.58, 1.0, "785.6 m² overlap (flagged above 1.0 m²)"),
        ("sliver", 0.42, 1.0, "0.42 m wide on average (flagged under 1.00 m)"),
        ("area_mismatch", 0.0719, 0.01, "record area 7.2 % off the map area (tolerance 1.0 %)"),
        ("under_declared_price", 0.2229, 1.0,
         "price declared at 22.3 % of the statutory value (flagged below 100.0 %)"),
        ("stale_pending_mutation", 3367, 365, "pending for 3,367 days (flagged after 365 days)"),
        ("share_total_not_one", 1.2, 1.0, "shares add up to 6/5 of the khewat (must be 1/1)"),
        ("omitted_heir", 0.125, 0.0, "1/8 of the estate withheld from the heirs left out"),
        ("same_day_sanction", 0, 1, "sanctioned on the day of entry (notice period 1 day)"),
        ("sanction_volume_spike", 14, 6, "14 sanctions by the officer that day (flagged from 6)"),
        ("orphan_khasra", None, None, ""),
        ("a_rule_added_later", 3.25, None, "measure 3.25"),
    ],
)  # fmt: skip
def test_a_measure_reads_with_its_unit(
    rule: str, measure: float | None, threshold: float | None, expected: str
) -> None:
    assert evidence.measure_text(rule, measure, threshold) == expected


def test_evidence_reads_as_labelled_facts_without_ids_or_cnics() -> None:
    facts = dict(
        evidence.facts(
            "omitted_heir",
            {
                "school": "hanafi",
                "deceased": "Maryam (35401-4803536-0)",
                "deceased_party_id": 539,
                "omitted": [{"heir": "Mehwish (35402-3944288-8)", "gender": "female",
                             "party_id": 540, "faraid_share": "1/8"}],
                "mutation_no": 1810,
                "female_heir_omitted": True,
                "khasra_ids": [4, 5],
            },
            ["12//3", "12//4"],
        )
    )  # fmt: skip
    assert facts == {
        "Khasras": "12//3, 12//4",
        "School of law": "Hanafi",
        "Deceased": "Maryam (35401-*******-0)",
        "Heirs left out": "Mehwish (35402-*******-8): gender female, faraid share 1/8",
        "Mutation": "1810",  # a record number, not 1,810
        "A female heir left out": "yes",
    }
    shares = dict(
        evidence.facts("shares_differ_from_register", {"stored": {"3273:ownership": "1/7"}})
    )
    assert shares == {"Shares stored": "party 3273, ownership: 1/7"}
    overlap = dict(evidence.facts("overlap", {"area_m2": [4855.395, 4009.904], "srid": 32643,
                                              "pct_of_each": [16.18, 19.591]}))  # fmt: skip
    assert overlap == {
        "Areas of the two khasras": "4,855.4 m², 4,009.9 m²",
        "Share of each khasra": "16.2 %, 19.6 %",
    }
    crop = dict(evidence.facts("girdawari_vs_satellite", {"recorded": None, "seen": "rice"}))
    assert crop == {"Crop recorded (girdawari)": "none", "Crop the satellite sees": "rice"}


def test_flag_evidence_finds_the_chips_under_the_home(tmp_path: Path) -> None:
    (tmp_path / "chips").mkdir()
    (tmp_path / "chips" / "after.png").write_bytes(b"png")
    flag = {
        "id": 7, "rule": "structure_on_state_land", "title_en": "New structure on state land",
        "severity": "high", "resolved": False, "measure": 51.125, "threshold": None,
        "khasra_no": None, "khewat_no": None, "mutation_no": None,
        "evidence": {"area_m2": 51.1, "category": "canal_row", "state_land_id": 2,
                     "before_chip": "chips/before.png", "after_chip": "chips/after.png"},
        "images": {"before": {"chip": "chips/before.png", "on": date(2024, 3, 1),
                              "sensor": "orthophoto"},
                   "after": {"chip": "chips/after.png", "on": None, "sensor": None}},
    }  # fmt: skip
    (shown,) = cases_data.flag_evidence({"flags": [flag], "parcels": []}, tmp_path)
    assert shown["measure"] == "51.1 m² encroached"
    assert shown["facts"] == [("Area", "51.1 m²"), ("State land", "canal right-of-way")]
    before, after = shown["images"]
    assert before["path"] is None and before["caption"] == "Before, 2024-03-01 (orthophoto)"
    assert after["path"] == (tmp_path / "chips" / "after.png").resolve()
    assert after["caption"] == "After"


def test_a_thin_flag_opens_in_view_with_a_marker() -> None:
    """A 2 m wide L-shaped gap (as on the real cadastre, docs/disputes.md): the map opens
    on it, wide enough to read at the default size, its marker on the strip itself."""
    lon0, lat0 = 73.94, 31.72
    m_lat = 1 / 111_320.0  # degrees per metre
    m_lon = m_lat / math.cos(math.radians(lat0))

    def rect(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
        return shapely.box(
            lon0 + x0 * m_lon, lat0 + y0 * m_lat, lon0 + x1 * m_lon, lat0 + y1 * m_lat
        )

    gap = shapely.union_all([rect(0, 0, 50, 2), rect(48, 0, 50, 30)])  # an L, 2 m wide
    field = rect(-400, -300, 400, 300)  # the case's parcel: 800 x 600 m

    def flag(geom: shapely.Geometry | None, resolved: bool = False) -> dict[str, Any]:
        return {
            "id": 1, "rule": "gap", "title_en": "Gap between parcels", "severity": "low",
            "resolved": resolved,
            "geojson": None if geom is None else shapely.geometry.mapping(geom),
        }  # fmt: skip

    parcel = {"geojson": shapely.geometry.mapping(field)}
    detail = {"flags": [flag(gap)], "parcels": [parcel]}
    view = cases_data.view_bounds(detail)
    assert view is not None
    x0, y0, x1, y1 = view
    assert (x1 - x0) / m_lon == pytest.approx(60.35, abs=0.01) and (
        y1 - y0
    ) / m_lat == pytest.approx(60.35, abs=0.01)
    assert shapely.box(*view).contains(gap)

    # at the fitted zoom (deck.gl: the world is 512 * 2^zoom px wide) the strip is at
    # least 5 px wide, five times as wide as fitted to the case's 800 m parcel
    def px_per_m(bounds: tuple[float, float, float, float]) -> float:
        zoom = data.fit_view(bounds, height_px=480).zoom
        return 512 * 2**zoom / (2 * math.pi * 6_378_137 * math.cos(math.radians(lat0)))

    assert 2 * px_per_m(view) >= 5 and px_per_m(view) > 5 * px_per_m(field.bounds)
    (marker,) = cases_data.flag_markers(detail["flags"]).to_dict("records")
    assert gap.buffer(1e-9).contains(shapely.Point(marker["position"]))  # on the L, not its corner
    assert marker["line_color"] == [*cases_data.RULE_COLORS["gap"][:3], 255]
    (polygon,) = cases_data.flag_polygons(detail["flags"]).to_dict("records")
    assert polygon["line_color"] == marker["line_color"]
    # a large flag keeps its own extent; a resolved one or none: the case's parcels
    big = rect(-100, -100, 100, 100)
    assert cases_data.view_bounds({"flags": [flag(big)], "parcels": [parcel]}) == big.bounds
    for flags in ([flag(gap, resolved=True)], [flag(None)], []):
        assert cases_data.view_bounds({"flags": flags, "parcels": [parcel]}) == field.bounds
        assert cases_data.flag_markers(flags).empty
    assert cases_data.view_bounds({"flags": [], "parcels": []}) is None
