"""The Disputes page in Urdu and in English (AppTest), and its catalogue: every rule of
``dispute_rule`` has its title and explanation in every language (the English the table's
own), and the evidence's English is the service's (``landgov disputes show``)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from dashboard_support import database_url, demo_login, sign_in_demo
from i18n_support import bare, untranslated
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import i18n
from app.views.cases import data as cases_data
from app.views.cases import evidence
from landgov.disputes import evidence as service
from landgov.disputes.scan import scan

LATIN_RUN = re.compile(r"[A-Za-z][A-Za-z .'\-]*")


@pytest.fixture
def scanned(demo_copy: Engine, point_app_at: Callable[[str], None]) -> Engine:
    scan(demo_copy, actor=service_actor(demo_copy, "disputes"))
    point_app_at(database_url(demo_copy))
    return demo_copy


def _open(engine: Engine, demo_dir: Path, lang: str, case_id: int) -> AppTest:
    at = sign_in_demo(engine, demo_login(engine, demo_dir, "tehsildar", "Sheikhupura"))
    at.query_params["lang"] = lang
    at.query_params[cases_data.CASE_PARAM] = str(case_id)
    at.switch_page("views/cases/view.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def record_data(engine: Engine) -> set[str]:
    """What the record holds in Latin letters only, shown as stored on an Urdu page: the
    demo's party and officer names, mouza and admin unit names, deed numbers, user names,
    the audit log's actor labels; and the case's own address (a URL)."""
    queries = (
        "SELECT name FROM party", "SELECT guardian_name FROM party",
        "SELECT name FROM officer", "SELECT full_name FROM app_user",
        "SELECT name FROM mouza", "SELECT name FROM admin_unit",
        "SELECT deed_number FROM mutation", "SELECT username FROM app_user",
        "SELECT DISTINCT actor FROM audit_log",
    )  # fmt: skip
    found: set[str] = set()
    with engine.connect() as conn:
        for sql in queries:
            found |= {str(v) for v in conn.execute(text(sql)).scalars() if v}
    return found


def latin_left(shown: list[str], data: set[str]) -> list[str]:
    """The Latin words of ``shown`` that are none of the record's ``data`` (longest
    first, so a full name is taken out before a part of it)."""
    left = []
    ordered = sorted(data, key=len, reverse=True)
    for item in shown:
        rest = bare(item)
        rest = re.sub(r"`/disputes\?case=\d+`", " ", rest)  # the case's address
        for value in ordered:
            if value in rest:
                rest = rest.replace(value, " ")
        rest = re.sub(r"\d{5}-\s*\*+\s*-\d", " ", rest)  # a masked CNIC
        left += [w.strip() for w in LATIN_RUN.findall(rest) if w.strip(" .-'")]
    return left


def _case_of(engine: Engine, rule: str) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT min(cf.case_id) FROM dispute_case_flag cf JOIN dispute_flag f"
                    " ON f.id = cf.flag_id JOIN dispute_case c ON c.id = cf.case_id"
                    " JOIN mouza m ON m.id = c.mouza_id WHERE f.rule_id = :r"
                ),
                {"r": rule},
            ).scalar_one()
        )


@pytest.mark.parametrize("rule", ["overlap", "omitted_heir"])
def test_a_case_reads_in_urdu_but_for_the_records_own_data(
    scanned: Engine, demo_dir: Path, rule: str
) -> None:
    case_id = _case_of(scanned, rule)
    at = _open(scanned, demo_dir, "ur", case_id)
    assert at.query_params["lang"] == "ur"
    (title,) = [el.value for el in at.title]
    assert title == "تنازعات کے مقدمات"
    shown = untranslated(at, "ur")
    # a checkbox cell (overdue, a flagged chain line) reads True/False to AppTest and is
    # drawn as a tick: not a word
    shown = [t for t in shown if t not in ("True", "False")]
    assert latin_left(shown, record_data(scanned)) == []
    markdown = "\n".join(el.value for el in at.markdown)
    assert i18n.t(cases_data.RULE_TEXTS[rule][0], "ur") in markdown  # the rule, in Urdu
    assert "پیمائش:" in markdown  # the measure, with its unit in Urdu
    # buttons in Urdu, and the steps still follow the status
    assert at.button(key="case_review").label == "جانچ کے لیے لیں"


def test_the_same_case_in_english_has_no_urdu(scanned: Engine, demo_dir: Path) -> None:
    at = _open(scanned, demo_dir, "en", _case_of(scanned, "omitted_heir"))
    assert untranslated(at, "en") == []


def test_every_rule_of_the_table_has_its_title_and_explanation_in_every_language(
    demo_copy: Engine,
) -> None:
    with demo_copy.connect() as conn:
        rows = conn.execute(text("SELECT id, title_en, explain_en FROM dispute_rule")).all()
    assert rows
    missing = sorted({r.id for r in rows} - set(cases_data.RULE_TEXTS))
    assert missing == [], f"give these rules a title and explanation in the catalogue: {missing}"
    for rule, title_en, explain_en in rows:
        assert cases_data.rule_text(rule, "en") == (title_en, explain_en), rule
        title_ur, explain_ur = cases_data.rule_text(rule, "ur")
        assert title_ur and explain_ur and not re.search("[A-Za-z]", title_ur + explain_ur)
    assert cases_data.rule_text("a_rule_added_later", "ur") == ("a_rule_added_later", "")


def test_the_pages_english_evidence_is_the_services_own_words() -> None:
    """``landgov disputes show`` and the page word each idea the same way."""
    assert evidence.phrasebook("en").measures == service.ENGLISH.measures
    for field in ("measures", "limits", "labels", "rule_labels", "words", "units", "phrases"):
        assert dict(getattr(evidence.phrasebook("en"), field)) == dict(
            getattr(service.ENGLISH, field)
        ), field


@pytest.mark.parametrize(
    ("rule", "measure", "threshold", "expected"),
    [
        ("overlap", 785.58, 1.0,
         "۷۸۵٫۶ مربع میٹر رقبہ ایک دوسرے پر چڑھا ہوا (حد ۱٫۰ مربع میٹر سے زیادہ پر نشاندہی)"),
        ("stale_pending_mutation", 3367, 365, "۳٬۳۶۷ دن سے زیر التوا (۳۶۵ دن کے بعد نشاندہی)"),
        ("under_declared_price", 0.2229, 1.0,
         "ظاہر کردہ قیمت سرکاری قیمت کا ۲۲٫۳% (۱۰۰٫۰% سے کم پر نشاندہی)"),
        ("same_day_sanction", 0, 1, "اندراج کے دن ہی منظور (نوٹس کی مدت ۱ دن)"),
    ],
)  # fmt: skip
def test_a_measure_reads_with_its_unit_in_urdu(
    rule: str, measure: float, threshold: float, expected: str
) -> None:
    assert bare(evidence.measure_text(rule, measure, threshold, "ur")) == expected


def test_urdu_evidence_translates_code_words_and_keeps_names() -> None:
    facts = dict(
        evidence.facts(
            "officer_outside_jurisdiction",
            {"officer": "Muhammad Sharif (naib_tehsildar)", "problems": ["jurisdiction"],
             "mutation_no": 941, "sanctioned_on": "2010-01-07", "officer_id": 40},
            lang="ur",
        )
    )  # fmt: skip
    assert facts == {
        "افسر": "Muhammad Sharif (نائب تحصیلدار)",
        "خامیاں": "موضع پر تعیناتی نہیں",
        "انتقال": i18n.record_number("941", "ur"),
        "تاریخ منظوری": "۷ جنوری، ۲۰۱۰",
    }
    (number,) = evidence.facts("area_mismatch", {"number": "13//2"}, lang="ur")
    assert number == ("خسرہ", i18n.record_number("13//2", "ur"))


def test_the_khasra_selected_elsewhere_is_outlined_only_when_in_the_case() -> None:
    from app.shared.selection import SelectedKhasra

    square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]]}
    parcels = [
        {"id": 7, "kind": "khasra", "label": "khasra 12//3", "role": "subject", "geojson": square},
        {"id": 8, "kind": "khasra", "label": "khasra 12//4", "role": "flagged", "geojson": square},
    ]
    (row,) = cases_data.selected_polygons(parcels, SelectedKhasra(1, 8, "12//4"), "ur").to_dict(
        "records"
    )
    assert row["line_color"] == list(cases_data.SELECTED_OUTLINE)
    assert row["label"] == f"خسرہ {i18n.record_number('12//4', 'ur')}"
    assert cases_data.selected_polygons(parcels, SelectedKhasra(1, 99, "5"), "en").empty
    assert cases_data.selected_polygons(parcels, None, "en").empty
