"""The Farmer page as a farmer uses it (AppTest, real PostGIS): sign in with the SMS code,
read the advice in Urdu with its date, evidence sentence and chart, old advice marked,
no officer navigation; and every visible word in the reader's language.

The farmer is the tiny mouza's Ahmad Khan (``dashboard_support.insert_tiny_mouza``) with
an Urdu name, an Urdu SMS registration and advice on two khasras: this season's (today's
run) on khasra 11 and last season's on khasra 12, with a season of zonal NDVI and NDMI
looks for the charts (:func:`seed_farmer`). Dates are relative to today, so "this season"
and "last season" hold on any day the tests run.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import streamlit as st
from dashboard_support import DASHBOARD, database_url, insert_tiny_mouza, owner
from i18n_support import bare, chart_words, untranslated, visible_texts
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import i18n
from app.shared.navigation import view_path
from landgov.advisories.rules import Advisory, Kind, Level
from landgov.advisories.texts import render
from landgov.domain.calendar import season_of, season_window

PHONE = "+923001112233"


@dataclass(frozen=True)
class SeededFarmer:
    cnic: str
    other_cnic: str
    party_id: int
    name_ur: str
    mouza_ur: str
    fresh_text_ur: str  # this season's water-stress advice on khasra 11, in Urdu
    fresh_text_en: str
    old_text_ur: str  # last season's advice on khasra 12
    today: date
    last_season: tuple[str, int]


def _advice(kind: Kind, level: Level, status: str, evidence: dict[str, Any]) -> Advisory:
    return Advisory(kind=kind, level=level, confidence=0.8, evidence=evidence, status=status)


def seed_farmer(engine: Engine, language: str = "ur") -> SeededFarmer:
    """The tiny mouza, its first owner registered for SMS in ``language`` with Urdu
    names, advisories rendered by the service's own templates, and zonal looks."""
    tiny = insert_tiny_mouza(engine)
    today = date.today()
    season, year = season_of(today)
    start, _ = season_window(season, year)
    past = season_of(start - timedelta(days=1))
    past_start, past_end = season_window(*past)
    looked = today - timedelta(days=2) if today - timedelta(days=2) >= start else today
    fresh = [
        (
            1,
            _advice(
                Kind.WATER,
                Level.WARNING,
                "stressed",
                {
                    "date": looked.isoformat(),
                    "ndmi_now": 0.08,
                    "ndmi_expected": 0.31,
                    "peers": 40,
                },
            ),
        ),
        (
            1,
            _advice(
                Kind.YIELD,
                Level.INFO,
                "near",
                {
                    "maunds_per_acre": 38.4,
                    "district_maunds_per_acre": 39.5,
                    "t_ha": 3.79,
                },
            ),
        ),
    ]
    old_look = past_end - timedelta(days=50)
    old = [
        (
            2,
            _advice(
                Kind.HEALTH,
                Level.INFO,
                "normal",
                {
                    "date": old_look.isoformat(),
                    "ndvi": 0.66,
                    "peers_median_ndvi": 0.7,
                    "peers": 25,
                },
            ),
        ),
    ]
    texts: dict[tuple[int, str], dict[str, str]] = {}
    with owner(engine).begin() as conn:
        conn.execute(
            text(
                "UPDATE party SET name_ur = 'احمد خان' WHERE id = 1;"
                "UPDATE mouza SET name_ur = 'کوٹ ٹیسٹ' WHERE id = 1"
            )
        )
        conn.execute(
            text("INSERT INTO farmer_contact (party_id, phone, language) VALUES (1, :p, :l)"),
            {"p": PHONE, "l": language},
        )
        for (season_, year_), as_of, items in (
            ((season, year), today, fresh),
            (past, old_look + timedelta(days=3), old),
        ):
            run = conn.execute(
                text(
                    "INSERT INTO advisory_run (as_of, season, year) VALUES (:d, :s, :y)"
                    " RETURNING id"
                ),
                {"d": as_of, "s": season_, "y": year_},
            ).scalar_one()
            for khasra_id, a in items:
                number = "11" if khasra_id == 1 else "12"
                ur, en = render(a, number, "wheat", "ur"), render(a, number, "wheat", "en")
                texts[(khasra_id, a.kind.value)] = {"ur": ur.long, "en": en.long}
                conn.execute(
                    text(
                        "INSERT INTO advisory (run_id, khasra_id, season, year, kind, status,"
                        " level, confidence, crop, as_of, evidence, sms_en, sms_ur, text_en,"
                        " text_ur) VALUES (:r, :k, :s, :y, :kind, :st, :lv, :c, 'wheat', :d,"
                        " CAST(:e AS jsonb), :se, :su, :te, :tu)"
                    ),
                    {"r": run, "k": khasra_id, "s": season_, "y": year_, "kind": a.kind.value,
                     "st": a.status, "lv": a.level.value, "c": a.confidence, "d": as_of,
                     "e": json.dumps(a.evidence), "se": en.sms, "su": ur.sms,
                     "te": en.long, "tu": ur.long},
                )  # fmt: skip
        _seed_looks(conn, start, today, khasras=(1,))
        _seed_looks(conn, past_start, past_end, khasras=(2,))
    return SeededFarmer(
        cnic=tiny.cnics[0],
        other_cnic=tiny.cnics[1],
        party_id=1,
        name_ur="احمد خان",
        mouza_ur="کوٹ ٹیسٹ",
        fresh_text_ur=texts[(1, Kind.WATER.value)]["ur"],
        fresh_text_en=texts[(1, Kind.WATER.value)]["en"],
        old_text_ur=texts[(2, Kind.HEALTH.value)]["ur"],
        today=today,
        last_season=past,
    )


def _seed_looks(conn: Any, first: date, last: date, khasras: tuple[int, ...]) -> None:
    """A Sentinel-2 look every 5 days from ``first`` to ``last`` with NDVI rising and
    NDMI falling, every third look cloudy (left out of the charts)."""
    day, i = first, 0
    while day <= last:
        scene = f"S2_TEST_{day:%Y%m%d}"
        conn.execute(
            text(
                "INSERT INTO imagery_scene (id, collection, sensor, datetime, footprint, crs,"
                " item, content_sha256) VALUES (:i, 'sentinel-2-l2a', 'sentinel-2',"
                " CAST(:d AS timestamptz), ST_Multi(ST_MakeEnvelope(74.2, 31.4, 74.4, 31.6,"
                " 4326)), 'EPSG:32643', '{}'::jsonb, :h) ON CONFLICT (id) DO NOTHING"
            ),
            {"i": scene, "d": f"{day.isoformat()} 05:50:00+00",
             "h": hashlib.sha256(scene.encode()).hexdigest()},
        )  # fmt: skip
        clear = 1.0 if i % 3 else 0.2
        for k in khasras:
            # NDMI falls as a crop runs short of water (to the stress the advice reports)
            for index, value in (("ndvi", 0.2 + 0.03 * i), ("ndmi", max(0.35 - 0.04 * i, 0.08))):
                conn.execute(
                    text(
                        "INSERT INTO parcel_zonal (khasra_id, scene_id, index, mean, count,"
                        " valid_fraction) VALUES (:k, :s, :ix, :m, 40, :v)"
                    ),
                    {"k": k, "s": scene, "ix": index, "m": min(value, 0.85), "v": clear},
                )
        day, i = day + timedelta(days=5), i + 1


def latest_code(engine: Engine, party_id: int) -> str:
    """The six digits of the newest one-time code SMS to ``party_id`` (Urdu digits read)."""
    with owner(engine).connect() as conn:
        body = conn.execute(
            text(
                "SELECT body FROM sms_outbox WHERE party_id = :p AND purpose = 'otp'"
                " ORDER BY id DESC LIMIT 1"
            ),
            {"p": party_id},
        ).scalar_one()
    found = re.search(r"\d{6}", i18n.ascii_digits(body))
    assert found is not None, body
    return found.group()


# --- the page ------------------------------------------------------------------------------


@pytest.fixture
def farmer(engine: Engine, point_app_at: Callable[[str], None]) -> Iterator[SeededFarmer]:
    seeded = seed_farmer(engine)
    point_app_at(database_url(engine))
    yield seeded
    st.cache_data.clear()


def open_farmer_page(lang: str | None = None) -> AppTest:
    """An anonymous visitor's dashboard, on "Farmer sign-in" (``?lang=`` when given)."""
    at = AppTest.from_file(str(DASHBOARD), default_timeout=90)
    if lang is not None:
        at.query_params["lang"] = lang
    at.run()
    at.switch_page("views/farmer/view.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def sign_in_farmer(at: AppTest, engine: Engine, farmer: SeededFarmer) -> AppTest:
    at.text_input(key="farmer_cnic").input(farmer.cnic).run()
    at.button(key="farmer_send").click().run()
    at.text_input(key="farmer_code").input(latest_code(engine, farmer.party_id)).run()
    at.button(key="farmer_open").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _registered_pages(at: AppTest) -> list[str]:
    """The scripts of the pages the navigation offers in this session."""
    return sorted(str(info.get("script_path")) for info in at._registered_pages.values())


def test_the_sign_in_half_speaks_urdu_and_hides_the_sidebar(farmer: SeededFarmer) -> None:
    at = open_farmer_page("ur")
    assert [t.value for t in at.title] == [i18n.t("farmer.title", "ur")]
    assert at.text_input(key="farmer_cnic").label == "شناختی کارڈ نمبر"
    assert at.text_input(key="farmer_cnic").placeholder == "۳۵۴۰۱-۱۲۳۴۵۶۷-۱"
    assert untranslated(at, "ur") == []
    styles = " ".join(str(h.proto.body) for h in at.get("html"))
    assert '[data-testid="stSidebar"]' in styles and "display:none" in styles  # no sidebar
    assert "direction:rtl" in styles and "Noto Nastaliq Urdu" in styles
    assert at.query_params["lang"] == "ur"  # kept in the address
    # a malformed CNIC is answered in Urdu, with Urdu digits
    at.text_input(key="farmer_cnic").input("3540-12").run()
    at.button(key="farmer_send").click().run()
    assert [e.value for e in at.error] == [
        i18n.t("farmer.cnic_format", "ur", example="۳۵۴۰۱-۱۲۳۴۵۶۷-۱")
    ]
    # the service's answer, in Urdu
    at.text_input(key="farmer_cnic").input(farmer.cnic).run()
    at.button(key="farmer_send").click().run()
    assert [i.value for i in at.info] == [i18n.t("farmer.code_sent", "ur")]
    at.text_input(key="farmer_code").input("۱۲۳").run()  # Urdu digits are read as digits
    at.button(key="farmer_open").click().run()
    assert [e.value for e in at.error] == [i18n.t("farmer.code_format", "ur")]


def test_a_farmer_reads_their_advice_in_urdu(engine: Engine, farmer: SeededFarmer) -> None:
    at = sign_in_farmer(open_farmer_page("ur"), engine, farmer)
    # only their own page: the navigation holds the Farmer page alone, hidden
    assert _registered_pages(at) == [str(view_path("farmer"))]
    assert [s.value for s in at.subheader] == [farmer.name_ur]
    shown = " ".join(visible_texts(at))
    assert farmer.fresh_text_ur in shown and farmer.other_cnic not in shown
    # the advice's date in Urdu digits and month, and no ASCII digit anywhere
    today = i18n.long_date(farmer.today, "ur")
    assert any(today in c.value for c in at.caption), [c.value for c in at.caption]
    assert not re.search(r"[0-9]", shown), re.findall(r".{20}[0-9].{20}", shown)
    # evidence: a sentence and a chart per advisory (water stress: moisture; yield: bars)
    assert "کیا ناپا گیا" in shown
    specs = [chart_words(c.proto.spec) for c in at.get("vega_lite_chart")]
    assert len(specs) == 2
    assert "نمی کا اشاریہ" in specs[0] and "من فی ایکڑ" in specs[1]
    assert at.warning == [] or all("پرانا" not in w.value for w in at.warning)  # fresh
    assert untranslated(at, "ur") == []

    # khasra 12 holds last season's advice only: marked old, with the season's end
    options = [bare(o) for o in at.selectbox(key="farmer_parcel_ur").options]
    assert options == ["⚠️ خسرہ ۱۱، کوٹ ٹیسٹ", "خسرہ ۱۲، کوٹ ٹیسٹ"]  # a warning first
    picker = at.selectbox(key="farmer_parcel_ur")
    picker.select(2).run()  # khasra 12 (id 2)
    assert not at.exception, [e.value for e in at.exception]
    warnings = [w.value for w in at.warning]
    ended = i18n.long_date(season_window(*farmer.last_season)[1], "ur")
    assert len(warnings) == 1 and warnings[0].startswith("پرانا مشورہ") and ended in warnings[0]
    assert any("نیچے دیا گیا مشورہ پچھلے موسم کا ہے" in i.value for i in at.info)
    assert farmer.old_text_ur in " ".join(visible_texts(at))
    assert untranslated(at, "ur") == []

    # the whole table, folded, in Urdu too
    table = at.dataframe[0].value
    assert list(table.columns)[:2] == ["موضع", "خسرہ"]
    assert sorted(table["خسرہ"]) == ["۱۱", "۱۲"]

    at.button(key="farmer_signout").click().run()
    assert at.text_input(key="farmer_cnic") is not None and not at.dataframe


def test_the_same_page_in_english_has_no_urdu_left(engine: Engine, farmer: SeededFarmer) -> None:
    at = sign_in_farmer(open_farmer_page("en"), engine, farmer)  # chosen in the address
    assert [s.value for s in at.subheader] == ["Ahmad Khan"]
    shown = " ".join(visible_texts(at))
    assert farmer.fresh_text_en in shown
    assert untranslated(at, "en") == []
    assert "lang" not in at.query_params  # English, the default, leaves it clean


def test_the_registered_language_opens_first_and_the_switch_changes_it(
    engine: Engine, farmer: SeededFarmer
) -> None:
    """No language chosen: the farmer's SMS language (Urdu) after sign-in; the switch
    turns the whole page to English and writes it to the address."""
    at = open_farmer_page()
    assert at.title[0].value == "Farmer"  # English before anyone is known
    at = sign_in_farmer(at, engine, farmer)
    assert [s.value for s in at.subheader] == [farmer.name_ur]
    assert at.query_params["lang"] == "ur"
    (switch,) = at.button_group
    switch.set_value("en").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [s.value for s in at.subheader] == ["Ahmad Khan"]
    assert "lang" not in at.query_params
    assert untranslated(at, "en") == []


def test_the_sign_in_page_speaks_urdu(engine: Engine, point_app_at: Callable[[str], None]) -> None:
    """The page a farmer lands on first: every word Urdu, the pages' titles too, and a
    failed sign-in answered in Urdu (the one answer for every failure)."""
    point_app_at(database_url(engine))
    at = AppTest.from_file(str(DASHBOARD), default_timeout=90)
    at.query_params["lang"] = "ur"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [i18n.t("signin.title", "ur")]
    titles = {str(info.get("page_name")) for info in at._registered_pages.values()}
    assert {i18n.t("signin.nav", "ur"), i18n.t("signin.farmer_nav", "ur")} <= titles
    assert untranslated(at, "ur") == []
    at.text_input(key="signin_username").input("nobody.here")
    at.text_input(key="signin_password").input("not the password")
    at.text_input(key="signin_code").input("۱۲۳۴۵۶")
    at.button(key="signin_submit").click().run()
    assert [e.value for e in at.error] == [i18n.t("signin.failed", "ur")]
