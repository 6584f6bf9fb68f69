"""The Disputes page: the queue, the case page and an action through it (AppTest)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from dashboard_support import DASHBOARD, database_url
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app import cases_data, imagery
from landgov.disputes.scan import scan
from tests.disputes.case_support import status_of

PointAt = Callable[[str], None]


@pytest.fixture
def scanned(demo_copy: Engine, point_app_at: PointAt) -> Engine:
    scan(demo_copy)
    point_app_at(database_url(demo_copy))
    return demo_copy


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def cases_page() -> AppTest:
    at = AppTest.from_file(str(DASHBOARD), default_timeout=90).run()
    at.switch_page("views/cases.py").run()
    ok(at)
    return at


def officer(engine: Engine, designation: str, unit: str) -> tuple[int, str]:
    """(id, CNIC) of an officer of ``designation`` posted to ``unit`` today."""
    with engine.connect() as conn:
        oid, cnic = conn.execute(
            text(
                "SELECT o.id, o.cnic FROM officer o JOIN officer_jurisdiction j"
                " ON j.officer_id = o.id JOIN admin_unit a ON a.id = j.admin_unit_id"
                " WHERE o.designation = :d AND a.name = :u AND j.valid_from <= :on"
                " AND (j.valid_to IS NULL OR j.valid_to > :on) ORDER BY o.id LIMIT 1"
            ),
            {"d": designation, "u": unit, "on": date.today()},
        ).one()
    return int(oid), str(cnic)


def deck_layers(at: AppTest) -> list[dict[str, Any]]:
    (spec,) = [json.loads(el.proto.json) for el in at.get("deck_gl_json_chart")]
    return list(spec["layers"])


def test_the_queue_lists_the_mouza_then_the_officers_jurisdiction(scanned: Engine) -> None:
    at = cases_page()
    assert [el.value for el in at.title] == ["Dispute cases"]
    mouza = at.sidebar.selectbox(key="mouza_id")
    mouza_name = mouza.format_func(mouza.value).split(" (hadbast")[0]
    (queue,) = [f.value for f in at.dataframe]
    assert list(queue.columns) == cases_data.QUEUE_COLUMNS
    assert set(queue["Mouza"]) == {mouza_name}
    assert queue["Risk"].tolist() == sorted(queue["Risk"], reverse=True)

    tehsildar_id, _ = officer(scanned, "tehsildar", "Sheikhupura")
    at.selectbox(key=cases_data.OFFICER_KEY).set_value(tehsildar_id).run()
    ok(at)
    (everything,) = [f.value for f in at.dataframe]
    with scanned.connect() as conn:
        n_cases = conn.execute(text("SELECT count(*) FROM dispute_case")).scalar_one()
    assert len(everything) == n_cases > len(queue)  # the whole tehsil
    assert everything["Risk"].tolist() == sorted(everything["Risk"], reverse=True)

    patwari_id, _ = officer(scanned, "patwari", "Burj Karam Singh")
    at.selectbox(key=cases_data.OFFICER_KEY).set_value(patwari_id).run()
    ok(at)
    (circle,) = [f.value for f in at.dataframe]
    assert set(circle["Mouza"]) == {"Burj Karam Singh"}

    at.multiselect(key=cases_data.STATUS_KEY).set_value(["referred"]).run()
    ok(at)
    assert not at.dataframe and "No dispute case here" in at.info[0].value


def test_a_case_page_shows_the_breakdown_map_and_history(
    scanned: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    with scanned.connect() as conn:
        overlap_case = conn.execute(
            text(
                "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                " ON f.id = cf.flag_id WHERE f.rule_id = 'overlap' ORDER BY cf.case_id LIMIT 1"
            )
        ).scalar_one()
    # the demo has no imagery: stand in a base layer to see it drawn under the evidence
    monkeypatch.setattr(
        imagery, "base_layer", lambda url, mouza_id, bbox, day: imagery.bitmap_layer("data:,", bbox)
    )
    tehsildar_id, _ = officer(scanned, "tehsildar", "Sheikhupura")
    at = cases_page()
    at.selectbox(key=cases_data.OFFICER_KEY).set_value(tehsildar_id).run()
    at.selectbox(key=cases_data.CASE_KEY).set_value(overlap_case).run()
    ok(at)
    assert at.header[0].value.startswith(f"Case {overlap_case}: khasra ")
    frames = [f.value for f in at.dataframe]
    breakdown = next(f for f in frames if list(f.columns)[:2] == ["Rule", "Severity"])
    assert breakdown["Rule"].tolist() == ["overlap"]
    markdown = "".join(el.value for el in at.markdown)
    assert 'dir="rtl"' in markdown and "خسرہ جات ایک دوسرے پر چڑھے ہوئے" in markdown
    assert "Two live khasras overlap" in markdown

    layers = deck_layers(at)
    assert [layer["id"] for layer in layers] == [
        "imagery",
        cases_data.PARCEL_LAYER_ID,
        cases_data.FLAG_LAYER_ID,
    ]
    flags = layers[2]["data"]
    assert flags and all(row["rule"] == "overlap" for row in flags)
    assert all(row["fill_color"] == list(cases_data.RULE_COLORS["overlap"]) for row in flags)
    assert "(overlap)" in flags[0]["label"]
    roles = {row["role"] for row in layers[1]["data"]}
    assert roles == {"subject", "flagged"}

    evidence = next(f for f in frames if "Evidence" in f.columns)
    assert evidence["Rule"].tolist() == ["overlap"]
    history = next(f for f in frames if "Action" in f.columns)
    assert history["Action"].tolist() == ["open dispute case"]
    # buttons follow the status: an open case can be reviewed or dismissed only
    assert not at.button(key="case_review").disabled
    assert at.button(key="case_confirm").disabled and at.button(key="case_refer").disabled


def test_actions_through_the_page_change_the_status(scanned: Engine) -> None:
    patwari_id, patwari_cnic = officer(scanned, "patwari", "Burj Karam Singh")
    tehsildar_id, tehsildar_cnic = officer(scanned, "tehsildar", "Sheikhupura")
    at = cases_page()
    at.selectbox(key=cases_data.OFFICER_KEY).set_value(patwari_id).run()
    (queue,) = [f.value for f in at.dataframe]
    case_id = int(queue["Case"].iloc[0])  # the riskiest case of the patwari's circle
    at.selectbox(key=cases_data.CASE_KEY).set_value(case_id).run()
    ok(at)

    # a patwari may not review: refused, shown as an error, nothing written
    at.button(key="case_review").click().run()
    ok(at)
    (error,) = [el.value for el in at.error]
    assert "rule `officer_designation`" in error and "Nothing was written" in error
    assert status_of(scanned, case_id) == "open"

    at.selectbox(key=cases_data.OFFICER_KEY).set_value(tehsildar_id).run()
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
    for cnic in (patwari_cnic, tehsildar_cnic):
        assert cnic not in str(at._tree)  # CNICs are masked on the page
