"""A farmer on a 400 px phone, in headless Chromium: opens the dashboard in Urdu, goes to
"Farmer sign-in", signs in with the SMS code, reads this season's advice and last
season's (marked old), then switches to English. Checks what a reader sees: no sidebar,
right-to-left text in Noto Nastaliq Urdu served by the dashboard itself, nothing wider
than the screen, the charts drawn. Screenshots in
``$LANDGOV_HOME/test-artifacts/farmer-phone-*.png``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_support import artifacts, dashboard_page
from dashboard_support import database_url
from sqlalchemy.engine import Engine
from test_farmer_page import latest_code, seed_farmer

from app.shared import i18n, style

pytestmark = pytest.mark.browser

PHONE = {"width": 400, "height": 860}


def _settled(page: Any) -> None:
    """Waits until Streamlit has finished the run (no spinner, no stale elements)."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
        " && !document.querySelector('[data-stale=\"true\"]')",
        timeout=60_000,
    )
    page.wait_for_timeout(400)


def _shoot(page: Any, name: str) -> None:
    """A screenshot of the whole page at phone width: the window made as tall as the
    content for the picture (Streamlit scrolls inside its own container, which a
    full-page screenshot does not unroll), then back to the phone's height."""
    tall = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": max(PHONE["height"], tall)})
    page.wait_for_timeout(500)
    page.screenshot(path=str(artifacts() / name), full_page=True)
    page.set_viewport_size(PHONE)


def _fits(page: Any) -> None:
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= PHONE["width"], f"the page is {wide} px wide on a {PHONE['width']} px phone"


def test_a_farmer_reads_urdu_advice_on_a_phone(engine: Engine, tmp_path: Path) -> None:
    farmer = seed_farmer(engine)
    _ = i18n.Words("ur")
    fetched: list[tuple[str, int]] = []  # fonts, and failures
    with dashboard_page(
        database_url(engine),
        tmp_path,
        viewport=(PHONE["width"], PHONE["height"]),
        is_mobile=True,
        has_touch=True,
        device_scale_factor=2,
    ) as (base, page, errors):
        page.on("response", lambda r: fetched.append((r.url, r.status))
                if r.url.endswith(".ttf") or r.status >= 400 else None)  # fmt: skip
        # the dashboard's address in Urdu, then "Farmer sign-in" from the sign-in page
        page.goto(f"{base}/?lang=ur", wait_until="domcontentloaded")
        page.get_by_role("heading", name=_("signin.title")).wait_for(timeout=60_000)
        _settled(page)
        _fits(page)
        _shoot(page, "farmer-phone-ur-landing.png")
        page.locator('[data-testid="stMain"]').get_by_role(
            "link", name=_("signin.farmer_nav")
        ).click()
        page.get_by_role("heading", name=_("farmer.title")).wait_for(timeout=60_000)
        _settled(page)
        assert "lang=ur" in page.url and "/farmer" in page.url
        # no officer sidebar, nor the button that would open it
        for testid in ("stSidebar", "stExpandSidebarButton", "stSidebarCollapsedControl"):
            assert not page.locator(f'[data-testid="{testid}"]').is_visible(), testid
        # the language switch is there and on top (nothing covers it)
        switch = page.get_by_role("radiogroup", name=_("lang.switch"))
        assert switch.is_visible()
        assert switch.evaluate(
            "e => { const r = e.getBoundingClientRect();"
            " return e.contains(document.elementFromPoint(r.x + r.width / 2,"
            " r.y + r.height / 2)); }"
        ), "the language switch is covered"
        _fits(page)
        _shoot(page, "farmer-phone-ur-signin.png")

        page.get_by_role("textbox", name=_("farmer.cnic")).fill(farmer.cnic)
        page.get_by_role("button", name=_("farmer.send_code")).click()
        page.get_by_text(_("farmer.code_sent")).wait_for(timeout=30_000)
        page.get_by_role("textbox", name=_("farmer.code")).fill(
            i18n.digits(latest_code(engine, farmer.party_id), "ur")  # as the SMS reads
        )
        page.get_by_role("button", name=_("farmer.open")).click()
        page.get_by_role("heading", name=farmer.name_ur).wait_for(timeout=60_000)
        _settled(page)
        page.locator('[data-testid="stVegaLiteChart"] svg text').first.wait_for(timeout=30_000)
        advice = page.get_by_text(farmer.fresh_text_ur[:40]).first
        assert advice.is_visible()
        look = advice.evaluate(
            "e => [getComputedStyle(e).direction, getComputedStyle(e).fontFamily,"
            " document.fonts.check('16px \"Noto Nastaliq Urdu\"', e.textContent),"
            " [...document.fonts].filter(f => f.family.includes('Nastaliq'))"
            ".map(f => f.status)]"
        )
        direction, family, covered, faces = look
        assert direction == "rtl"
        assert family.startswith(f'"{style.URDU_FONT}"'), family
        assert covered and "loaded" in faces, (covered, faces)
        assert any(u.endswith(style.FONT_URL) and c == 200 for u, c in fetched), fetched
        # a right-to-left paragraph starts at the right edge of its column
        box, column = advice.evaluate(
            "e => [e.getBoundingClientRect().right,"
            " e.closest('[data-testid=\"stVerticalBlock\"]').getBoundingClientRect().right]"
        )
        assert column - box < 40, (box, column)
        date_line = i18n.long_date(farmer.today, "ur")
        assert page.get_by_text(date_line).first.is_visible()
        # the charts' labels are Urdu, drawn as SVG text in the page's font
        labels = page.locator('[data-testid="stVegaLiteChart"] svg text').all_text_contents()
        assert _("farmer.chart.ndmi") in labels and _("farmer.chart.this_parcel") in labels
        assert not page.get_by_text("پرانا مشورہ").count()  # this season's: not old
        _fits(page)
        _shoot(page, "farmer-phone-ur-advice.png")

        # last season's advice on khasra 12: marked old
        page.get_by_role("combobox", name=_("farmer.parcel")).click()
        page.get_by_role("option").filter(has_text="۱۲").first.click()
        page.get_by_text("پرانا مشورہ").first.wait_for(timeout=30_000)
        _settled(page)
        _fits(page)
        _shoot(page, "farmer-phone-ur-old-advice.png")

        # the switch: the whole page in English, the address without ?lang
        page.get_by_role("radiogroup", name=_("lang.switch")).get_by_role(
            "radio", name="English"
        ).click()
        page.get_by_role("heading", name="Ahmad Khan").wait_for(timeout=60_000)
        _settled(page)
        assert "lang=" not in page.url
        assert page.get_by_text("Old advice").first.is_visible()
        body = page.locator('[data-testid="stMain"]').inner_text()
        assert "پرانا" not in body and "خسرہ" not in body
        _fits(page)
        _shoot(page, "farmer-phone-en-old-advice.png")
    assert not errors, errors
    assert [(u, st) for u, st in fetched if st >= 400] == []  # nothing the page asked failed
