"""The officers' frame and the Parcels page in Urdu and in English (issue 19, point 5).

Signed in through the form as a real officer, with ``?lang=ur`` in the address or the
sidebar's switch: the navigation, the identity panel, the pickers, the legend, refusals
and the Parcels page with a khasra selected (its facts, owners, mutation chain and fard)
show no word in another script than the page's language. The record's own data is
excepted by name (:data:`RECORD_DATA`: the tiny mouza's names, deed numbers and notes are
stored in Latin letters), never by a blanket filter.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest
from dashboard_support import (
    DASHBOARD,
    TinyHistory,
    database_url,
    fill_sign_in,
    insert_tiny_history,
    next_code,
)
from i18n_support import ARABIC_SCRIPT, LATIN, bare, untranslated, visible_texts
from security_support import PASSWORD, officer_actor, staff_actor
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import data, feedback, i18n, panels
from landgov.errors import AccessDenied, SanctionRefused
from landgov.security import Actor

PointAt = Callable[[str], None]

RECORD_DATA = (
    # parties and officers of insert_tiny_history, as the record stores their names
    "Ahmad Khan", "Bashir Khan", "Fatima Bibi", "Bilal Ahmad", "Rashid Ahmad",
    "Tariq Mehmood", "Nasir Ali", "Shafqat Hussain",
    # the mouza and its admin units
    "Kot Test", "Raiwind", "Lahore", "Punjab",
    # deed numbers and the officers' notes, written as entered
    "D-101", "D-404", "Donor did not appear", "Taqseem of khasra 12",
)  # fmt: skip


@pytest.fixture
def history(engine: Engine, point_app_at: PointAt) -> TinyHistory:
    tiny = insert_tiny_history(engine)
    point_app_at(database_url(engine))
    return tiny


@pytest.fixture
def patwari(engine: Engine, history: TinyHistory) -> Actor:
    """The patwari posted over the tiny mouza's tehsil: owners, fard, mutations."""
    return officer_actor(engine, history.officers["patwari"])


def open_signed_in(engine: Engine, actor: Actor, lang: str | None = None) -> AppTest:
    """A new session of the dashboard (``?lang=`` when given), signed in as ``actor``."""
    at = AppTest.from_file(str(DASHBOARD), default_timeout=90)
    if lang is not None:
        at.query_params["lang"] = lang
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    at = fill_sign_in(at, actor.username, PASSWORD, next_code(engine, actor.username))
    assert not at.exception, [e.value for e in at.exception]
    return at


def everything_shown(at: AppTest) -> list[str]:
    """:func:`i18n_support.visible_texts`, and what it leaves out that this page draws:
    the register's table (``st.table``), radio buttons and the download button."""
    shown = visible_texts(at)
    for table in at.table:
        shown += [str(c) for c in table.value.columns]
        shown += [str(v) for v in table.value.to_numpy().ravel()]
    for radio in at.radio:
        shown += [str(radio.label), *(str(o) for o in radio.options)]
    shown += [str(b.proto.label) for b in at.get("download_button")]
    return [t for t in shown if t.strip()]


def other_script(texts: Iterable[str], lang: str, record: Iterable[str] = ()) -> list[str]:
    """Texts with letters of another script than ``lang``'s once the ``record``'s own
    values (named one by one) are taken out."""
    script = LATIN if i18n.rtl(lang) else ARABIC_SCRIPT
    left = []
    for text in texts:
        rest = bare(text)
        for value in record:
            rest = rest.replace(value, "")
        if script.search(rest):
            left.append(text)
    return left


def page_titles(at: AppTest) -> set[str]:
    return {str(info.get("page_name")) for info in at._registered_pages.values()}


def test_the_frame_and_a_selected_khasra_speak_urdu(
    engine: Engine, history: TinyHistory, patwari: Actor
) -> None:
    at = open_signed_in(engine, patwari, "ur")
    ur = i18n.Words("ur")
    # the navigation, by the catalogue's titles; the address keeps the language
    assert {ur("nav.parcels"), ur("nav.mutations")} <= page_titles(at)
    assert not {"Parcels", "Mutations", "Disputes"} & page_titles(at)
    assert at.query_params["lang"] == "ur"
    # right to left in the served Nastaliq, the sidebar too
    styles = " ".join(str(h.proto.body) for h in at.get("html"))
    assert "direction:rtl" in styles and "Noto Nastaliq Urdu" in styles
    assert '[data-testid="stSidebar"]' in styles
    # the identity panel and the pickers
    sidebar = " ".join(str(m.value) for m in at.sidebar.markdown)
    assert ur("frame.signed_in", name=patwari.full_name) in sidebar
    assert ur("role.patwari") in sidebar
    captions = [str(c.value) for c in at.sidebar.caption]
    assert any(c.startswith(ur("frame.posted_over", postings="")) for c in captions), captions
    assert any("۲۰۰۰-۰۱-۰۱" in bare(c) for c in captions)  # since, in Urdu digits
    assert at.sidebar.button(key="sign_out").label == ur("frame.sign_out")
    mouza = at.sidebar.selectbox(key="mouza_id")
    assert mouza.label == ur("frame.mouza")
    assert bare(mouza.format_func(mouza.value)) == "Kot Test (حدبست ۷، Raiwind)"
    assert at.sidebar.date_input(key="as_of").label == ur("frame.as_of")

    at = at.selectbox(key="khasra_1").select("11").run()
    assert not at.exception, [e.value for e in at.exception]
    assert [bare(s.value) for s in at.subheader][:1] == ["خسرہ ۱۱"]
    legend = " ".join(str(m.value) for m in at.sidebar.markdown)
    assert ur("frame.land_class") in legend and ur("land_class.nehri") in legend
    # owners: Urdu headings, the names as stored, shares in Urdu digits
    (owners,) = [f.value for f in at.dataframe]
    assert list(owners.columns) == [ur(k) for k in data.OWNER_HEADINGS.values()]
    by_name = owners.set_index(ur("register.name"))
    assert bare(by_name.loc["Ahmad Khan", ur("register.share")]) == "۱/۶"
    assert by_name.loc["Ahmad Khan", ur("register.guardian")] == "ولد Bashir Khan"
    assert by_name.loc["Ahmad Khan", ur("register.right")] == "ملکیت"
    # the mutation chain: its register in Urdu, the sale and the rejected gift
    (chain,) = [t.value for t in at.table]
    assert list(chain.columns)[:4] == [ur("register.date"), ur("register.mutation"),
                                       ur("register.type"), ur("register.status")]  # fmt: skip
    rows = chain.set_index(ur("register.mutation"))
    assert rows.loc["۱", ur("register.type")] == "بیع"
    assert rows.loc["۱", ur("register.status")] == "منظور شدہ"
    assert bare(rows.loc["۱", ur("register.deed")]) == "D-101 مورخہ ۲۰۲۱-۰۱-۲۸، ۱٬۵۰۰٬۰۰۰ روپے"
    assert rows.loc["۱", ur("register.officer")] == "Tariq Mehmood (تحصیلدار)"
    assert rows.loc["۲", ur("register.status")] == "نامنظور"
    # the fard: the patwari may issue one here
    (download,) = at.get("download_button")
    assert download.proto.label == ur("parcels.fard.download")

    left = other_script(everything_shown(at), "ur", (*RECORD_DATA, patwari.username))
    assert left == [], left
    # and without the exceptions, only the record's data is what is left
    assert all(
        any(v in bare(t) for v in (*RECORD_DATA, patwari.username)) for t in untranslated(at, "ur")
    )


def test_the_same_frame_and_khasra_in_english_have_no_urdu(
    engine: Engine, history: TinyHistory, patwari: Actor
) -> None:
    at = open_signed_in(engine, patwari)
    assert {"Parcels", "Mutations"} <= page_titles(at)
    assert "lang" not in at.query_params  # English, the default, leaves the address clean
    styles = " ".join(str(h.proto.body) for h in at.get("html"))
    assert "direction:rtl" not in styles
    at = at.selectbox(key="khasra_1").select("11").run()
    assert not at.exception, [e.value for e in at.exception]
    assert "Khasra 11" in [s.value for s in at.subheader]
    assert other_script(everything_shown(at), "en") == []


def test_the_switch_changes_the_language_and_keeps_it_on_the_next_page(
    engine: Engine, history: TinyHistory, patwari: Actor
) -> None:
    at = open_signed_in(engine, patwari)
    assert at.sidebar.header[0].value == "Record"
    (switch,) = at.sidebar.button_group
    switch.set_value("ur").run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["lang"] == "ur"
    assert at.sidebar.header[0].value == i18n.t("frame.record", "ur")
    assert i18n.t("nav.parcels", "ur") in page_titles(at)

    at.switch_page("views/mutations/view.py").run()  # another page: still Urdu
    assert not at.exception, [e.value for e in at.exception]
    assert at.query_params["lang"] == "ur"
    assert at.sidebar.header[0].value == i18n.t("frame.record", "ur")
    assert at.sidebar.button(key="sign_out").label == i18n.t("frame.sign_out", "ur")
    assert other_script(visible_texts(at.sidebar), "ur", (*RECORD_DATA, patwari.username)) == []

    (switch,) = at.sidebar.button_group
    switch.set_value("en").run()
    assert "lang" not in at.query_params
    assert at.sidebar.header[0].value == "Record"


def test_a_refused_page_names_its_rule_in_urdu(engine: Engine, history: TinyHistory) -> None:
    """Reached anyway, a page the actor may not see refuses in the page's language: the
    rule's name and explanation from the catalogue, nothing in English."""
    from datetime import date

    from app.shared.context import Context
    from landgov.storage import read

    analyst = staff_actor(engine, "revenue_analyst")
    with engine.connect() as conn:
        (mouza,) = read.list_mouzas(conn)
    page = AppTest.from_file(
        str(DASHBOARD.parent / "views" / "mutations" / "view.py"), default_timeout=30
    )
    page.query_params["lang"] = "ur"
    page.session_state["_landgov_context"] = Context(
        database_url(engine), mouza, date.today(), analyst, lang="ur"
    )
    page.run()
    assert not page.exception, [e.value for e in page.exception]
    ur = i18n.Words("ur")
    expected = ur("refusal.banner", rule=ur("rule.role"), reason=ur("rule_reason.role"))
    assert [e.value for e in page.error] == [expected]
    assert untranslated(page, "ur") == []


# --- the frame's words without a page ------------------------------------------------


def test_a_refusal_reads_in_english_as_the_service_said_it_and_in_urdu_by_its_rule() -> None:
    said = "Nasir Ali is not posted over Kot Test today (2026-03-01)"
    english = panels.rule_text("jurisdiction", said, "en")
    assert (english.rule, english.reason, english.as_recorded) == ("jurisdiction", said, None)
    urdu = panels.rule_text("jurisdiction", said, "ur")
    assert (urdu.rule, urdu.reason, urdu.as_recorded) == (
        i18n.t("rule.jurisdiction", "ur"),
        i18n.t("rule_reason.jurisdiction", "ur"),
        None,
    )
    # a rule the catalogue does not name keeps the service's words, said to be theirs
    odd = feedback.from_error(SanctionRefused("a_new_rule", "a khewat must add up"))
    assert odd.banner == (
        "**Refused — rule `a_new_rule`**: a khewat must add up. Nothing was written."
    )
    assert not re.search(LATIN, odd.banner_in("ur").replace("a_new_rule", ""))
    assert odd.as_recorded("ur") == "a khewat must add up"
    assert odd.as_recorded("en") is None
    assert odd.headline("ur") == i18n.t("feedback.refused_title", "ur")
    denied = feedback.from_error(AccessDenied("role", "x may not sanction"), what="Sanction")
    assert denied.headline("en") == "Sanction: refused" == denied.title


def test_the_register_words_stay_as_they_were_in_english() -> None:
    """English is unchanged by the catalogue (the other pages' tests compare it)."""
    assert data.role_label("naib_tehsildar") == "naib tehsildar"
    assert data.status_label("entered") == "pending (entered)"
    assert data.status_label("entered", "ur") == "زیر التوا (درج)"
    assert data.coded(data.RIGHTS, "a_new_right", "ur") == "a new right"  # never an error
    assert i18n.t("feedback.repeat", "en") == feedback.REPEAT_NOTE
    assert i18n.t("frame.posting", "en", level="tehsil", name="Raiwind", since="2024-03-01") == (
        "tehsil Raiwind (since 2024-03-01)"
    )


# --- in Chromium ----------------------------------------------------------------------


@pytest.mark.browser
def test_the_parcels_page_in_urdu_in_chromium(
    engine: Engine, history: TinyHistory, patwari: Actor, tmp_path: Path
) -> None:
    """Signed in, the sidebar's switch turns the page to Urdu: right to left, in the
    served Nastaliq, a khasra's owners and chain drawn. Saves
    ``$LANDGOV_HOME/test-artifacts/parcels-ur.png``."""
    from browser_support import artifacts, launch, page_errors, sign_in, streamlit_server
    from playwright.sync_api import sync_playwright

    ur = i18n.Words("ur")
    shot = artifacts() / "parcels-ur.png"
    shot.unlink(missing_ok=True)
    with (
        streamlit_server(database_url(engine), tmp_path / "streamlit.log") as base,
        sync_playwright() as pw,
    ):
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2200})
            errors = page_errors(page)
            page.goto(base, wait_until="domcontentloaded")
            sign_in(page, patwari.username, PASSWORD, next_code(engine, patwari.username))
            page.locator('[data-testid="stSidebar"] [data-testid="stButtonGroup"] button').filter(
                has_text=i18n.language("ur").name
            ).click()
            page.get_by_text(ur("frame.record"), exact=True).first.wait_for(timeout=60_000)
            assert "lang=ur" in page.url
            picker = page.locator('[data-testid="stSelectbox"]').filter(
                has_text=ur("parcels.khasra")
            )
            picker.first.click()
            page.keyboard.type("۱۱")  # the picker's options read in Urdu digits
            eleven = i18n.record_number("11", "ur")
            page.get_by_role("option", name=eleven, exact=True).first.click()
            heading = ur("parcels.chain.heading", khasra=i18n.record_number("11", "ur"))
            page.get_by_text(heading, exact=False).first.wait_for(timeout=60_000)
            page.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=30_000)
            page.wait_for_function(
                "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
                timeout=60_000,
            )
            page.wait_for_timeout(2000)
            page.screenshot(path=str(shot), full_page=True)
            direction = page.evaluate(
                "() => ['[data-testid=stMain]', '[data-testid=stSidebar]',"
                " '[data-testid=stDateInputField]'].map("
                "q => getComputedStyle(document.querySelector(q)).direction)"
            )
            nastaliq = page.evaluate(
                "async () => { await document.fonts.ready;"
                " return document.fonts.check('20px \"Noto Nastaliq Urdu\"', 'خسرہ'); }"
            )
            assert page.locator('[data-testid="stException"]').count() == 0
        finally:
            browser.close()
    assert direction == ["rtl", "rtl", "ltr"]  # the date is typed as the register writes it
    assert nastaliq, "the served Nastaliq font was not loaded"
    assert not errors, errors
