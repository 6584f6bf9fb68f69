"""Two officer journeys of issue 19 in headless Chromium, on the demo served by
``streamlit run``: a tehsildar decides a case opened from its address, and an analyst
values a parcel. Screenshots go to ``$LANDGOV_HOME/test-artifacts/``: ``decide-case.png``
(the evidence), ``decide-case-confirmed.png`` (the confirmation after the step),
``decide-case-reloaded.png`` and ``value-parcel.png``.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from browser_support import CHROMIUM, CHROMIUM_ARGS, streamlit_server, wait_until_idle
from browser_support import artifacts as artifacts_folder
from dashboard_support import browser_sign_in, database_url, demo_login
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.config import load_settings
from landgov.disputes.scan import scan
from landgov.valuation.rates import load_dc_rates
from landgov.valuation.roll import run_roll
from tests.disputes.case_support import status_of
from tests.disputes.evidence_support import planted_encroachment

pytestmark = pytest.mark.browser
ROLL_DATE = date(2026, 11, 15)  # as the Valuation page's AppTest values the demo
TARGETS = (("COD", "≤ 25"), ("PRD", "0.98 to 1.03"), ("PRB", "−0.05 to 0.05"),
           ("MKI", "0.95 to 1.05"))  # fmt: skip

# a text that overflows its box is cut with "…" by CSS: what the issue saw ("Rs 7,168,74…")
_CUT_OFF = """els => els.flatMap(e => [e, ...e.querySelectorAll('*')])
    .filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)"""


@pytest.fixture(autouse=True)
def _no_reload_on_edit(monkeypatch: pytest.MonkeyPatch) -> None:
    """The served dashboard does not watch its files: an edit elsewhere in the checkout
    would put up Streamlit's "File change" notice and the page would never look idle."""
    monkeypatch.setenv("STREAMLIT_SERVER_FILE_WATCHER_TYPE", "none")


def test_an_officer_decides_a_case_opened_from_its_address(
    demo_copy: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    home = load_settings().home
    artifacts = artifacts_folder()
    tehsildar = demo_login(demo_copy, demo_dir, "tehsildar", "Sheikhupura")
    with planted_encroachment(demo_copy, home):
        scan(demo_copy, actor=service_actor(demo_copy, "disputes"))
        with demo_copy.connect() as conn:
            case_id = conn.execute(
                text(
                    "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                    " ON f.id = cf.flag_id WHERE f.rule_id = 'structure_on_state_land'"
                )
            ).scalar_one()
        with (
            streamlit_server(database_url(demo_copy), tmp_path / "streamlit.log") as base,
            sync_playwright() as pw,
        ):
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 3600})
                errors: list[str] = []
                page.on("pageerror", lambda exc: errors.append(str(exc)))
                # the old address of the page, before sign-in: the sign-in page, no
                # "page not found"; after it, the case at the page's own address
                page.goto(f"{base}/cases?case={case_id}", wait_until="domcontentloaded")
                browser_sign_in(page, demo_copy, tehsildar)
                header = page.get_by_role("heading", name=re.compile(rf"^Case {case_id}:"))
                header.wait_for(timeout=60_000)
                wait_until_idle(page)
                assert page.get_by_text("Page not found").count() == 0
                assert page.url == f"{base}/disputes?case={case_id}"

                # evidence in words and pictures, rules by their titles
                page.get_by_text("Measured:").first.wait_for(timeout=60_000)
                assert page.get_by_text(re.compile(r"Measured: [\d.,]+ m² encroached")).count()
                assert page.get_by_text("New structure on state land or a right-of-way").count()
                body = page.locator("body").inner_text()
                assert "structure_on_state_land" not in body and '{"' not in body
                # the before/after chips (the case map above them is a picture too)
                chips = (
                    page.locator('[data-testid="stImage"]')
                    .filter(has_text=re.compile(r"^(Before|After)$"))
                    .locator("img")
                )
                chips.nth(1).wait_for(timeout=60_000)  # the page draws top to bottom
                wait_until_idle(page, 1.0)
                assert chips.count() == 2
                assert page.locator('[data-testid="stImage"] img').count() == 3
                loaded = chips.evaluate_all("els => els.map(e => e.complete && e.naturalWidth)")
                assert all(w and w > 0 for w in loaded), loaded
                page.screenshot(path=str(artifacts / "decide-case.png"), full_page=True)

                # review, then confirm: each step confirmed where the officer looks
                for step, banner in (
                    ("Review", "open → under review"),
                    ("Confirm", "under review → confirmed"),
                ):
                    page.get_by_role("button", name=step, exact=True).click()
                    page.get_by_text(re.compile(f"Case {case_id}: {banner}")).first.wait_for(
                        timeout=60_000
                    )
                    wait_until_idle(page, 1.0)
                    assert header.count() == 1  # the case is still open
                assert status_of(demo_copy, case_id) == "confirmed"
                assert page.locator('[data-testid="stToast"]').count() >= 1
                assert page.url == f"{base}/disputes?case={case_id}"
                page.screenshot(path=str(artifacts / "decide-case-confirmed.png"))

                # a reload is a new session: sign in again, and the case is there again
                page.reload(wait_until="domcontentloaded")
                browser_sign_in(page, demo_copy, tehsildar)
                header.wait_for(timeout=60_000)
                wait_until_idle(page)
                assert page.url == f"{base}/disputes?case={case_id}"
                status = page.locator('[data-testid="stMetric"]').filter(has_text="Status")
                assert "confirmed" in status.first.inner_text()
                page.screenshot(path=str(artifacts / "decide-case-reloaded.png"))
            finally:
                browser.close()
        assert not errors, errors


def test_an_analyst_values_a_parcel(demo_copy: Engine, demo_dir: Path, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    run_roll(demo_copy, ROLL_DATE, method="model", actor=service_actor(demo_copy, "valuation"))
    analyst = demo_login(demo_copy, demo_dir, "revenue_analyst")
    shot = artifacts_folder() / "value-parcel.png"
    with (
        streamlit_server(database_url(demo_copy), tmp_path / "streamlit.log") as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            # a laptop's width, where five metrics in a row cut the total off before
            page = browser.new_page(viewport={"width": 1280, "height": 4200})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(f"{base}/valuation", wait_until="domcontentloaded")
            browser_sign_in(page, demo_copy, analyst)
            page.get_by_text("Why this value?").first.wait_for(timeout=90_000)
            page.get_by_text("What the statistics say").first.wait_for(timeout=90_000)
            wait_until_idle(page, 2.5)
            assert page.url == f"{base}/valuation"
            values = page.locator('[data-testid="stMetricValue"]')
            assert values.count() >= 6  # the roll's three, the explained parcel's three
            assert values.evaluate_all(_CUT_OFF) == []  # every headline fits
            total = page.locator('[data-testid="stMetric"]').filter(has_text="Total value")
            assert re.search(r"Rs [\d.,]+ (crore|lakh)", total.first.inner_text())

            guide = page.locator('[data-testid="stTable"]').first.inner_text()
            for statistic, target in TARGETS:
                assert re.search(rf"{statistic}\s.*?{re.escape(target)}", guide, re.S), statistic
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert not errors, errors


def test_an_officer_reviews_a_case_in_urdu(
    demo_copy: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    """The same case in Urdu: signed in, the officer switches the language; the page reads
    right to left, the rule, the measure and the steps in Urdu, and a review is confirmed
    in Urdu. Screenshots ``decide-case-ur.png`` and ``decide-case-ur-reviewed.png``."""
    from playwright.sync_api import sync_playwright

    home = load_settings().home
    artifacts = artifacts_folder()
    tehsildar = demo_login(demo_copy, demo_dir, "tehsildar", "Sheikhupura")
    with planted_encroachment(demo_copy, home):
        scan(demo_copy, actor=service_actor(demo_copy, "disputes"))
        with demo_copy.connect() as conn:
            case_id = conn.execute(
                text(
                    "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                    " ON f.id = cf.flag_id WHERE f.rule_id = 'structure_on_state_land'"
                )
            ).scalar_one()
        with (
            streamlit_server(database_url(demo_copy), tmp_path / "streamlit.log") as base,
            sync_playwright() as pw,
        ):
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 3600})
                page.goto(f"{base}/disputes?case={case_id}", wait_until="domcontentloaded")
                browser_sign_in(page, demo_copy, tehsildar)
                page.get_by_role("heading", name=re.compile(rf"^Case {case_id}:")).wait_for(
                    timeout=60_000
                )
                wait_until_idle(page)
                page.get_by_text("اردو", exact=True).first.click()
                header = page.get_by_role("heading", name=re.compile(r"^مقدمہ "))
                header.wait_for(timeout=60_000)
                page.get_by_text("پیمائش:").first.wait_for(timeout=60_000)
                wait_until_idle(page, 1.0)
                assert "lang=ur" in page.url and f"case={case_id}" in page.url
                assert page.get_by_text("سرکاری زمین یا راستے کی حد میں نئی تعمیر").count()
                assert page.get_by_text(re.compile(r"مربع میٹر پر تجاوزات")).count()
                page.screenshot(path=str(artifacts / "decide-case-ur.png"), full_page=True)

                page.get_by_role("button", name="جانچ کے لیے لیں", exact=True).click()
                page.get_by_text(re.compile("کھلا ← زیر جانچ")).first.wait_for(timeout=60_000)
                wait_until_idle(page, 1.0)
                assert status_of(demo_copy, case_id) == "under_review"
                page.screenshot(path=str(artifacts / "decide-case-ur-reviewed.png"))
            finally:
                browser.close()
