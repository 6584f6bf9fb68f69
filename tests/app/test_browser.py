"""The dashboard served by `streamlit run` and drawn by headless Chromium (offline).

An anonymous visitor gets only the sign-in page; the other checks sign in first, with
the demo's own accounts (``accounts.json`` of ``landgov demo``: password and a TOTP
code), as a person would.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest
from browser_support import (
    LOCAL_HOSTS,
    dashboard_page,
    fill_sign_in,
    map_shown,
    open_dispute_case,
)
from browser_support import artifacts as _artifacts
from browser_support import wait_until_idle as _wait_until_idle
from dashboard_support import Login, browser_sign_in, database_url, demo_login, owner
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app.shared import style
from landgov.security.sessions import FAILED
from landgov.storage import read

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser


def _pixels(image: Image.Image) -> list[tuple[int, int, int]]:
    small = image.convert("RGB").resize((300, 300), Image.Resampling.NEAREST)
    return list(small.get_flattened_data())  # type: ignore[arg-type]


def _land_classes_seen(image: Image.Image, min_share: float = 0.0005) -> set[str]:
    """Land classes whose map colour (fill blended over the white page) is on the image."""
    pixels = _pixels(image)
    alpha = style.FILL_ALPHA / 255
    seen = set()
    for land_class, rgb in style.LAND_CLASS_COLORS.items():
        blended = [c * alpha + 255 * (1 - alpha) for c in rgb]
        hits = sum(
            1 for p in pixels if all(abs(a - b) <= 12 for a, b in zip(p, blended, strict=True))
        )
        if hits >= min_share * len(pixels):
            seen.add(str(land_class))
    return seen


def _field(page: Page, label: str) -> Any:
    """The sign-in form's text field labelled ``label``."""
    return page.get_by_role("textbox", name=label, exact=True)


def _sidebar_links(page: Page) -> list[str]:
    """The titles of the navigation's links (each link also holds its icon)."""
    nav = page.locator('[data-testid="stSidebarNav"] a')
    return [t.strip().splitlines()[-1].strip() for t in nav.all_inner_texts()]


def test_an_anonymous_visitor_sees_only_the_sign_in_page(
    demo_engine: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    """No map, no mouza, no record before sign-in; a wrong password reads like any
    failure. Screenshots ``signin.png`` and ``signin-failed.png``."""
    with demo_engine.connect() as conn:
        mouza_names = [m.name for m in read.list_mouzas(conn)]
    analyst = demo_login(demo_engine, demo_dir, "revenue_analyst")
    artifacts = _artifacts()
    with dashboard_page(database_url(demo_engine), tmp_path) as (base, page, errors):
        page.goto(base, wait_until="domcontentloaded")
        page.get_by_text("Sign in to landgov").first.wait_for(timeout=60_000)
        _wait_until_idle(page)
        page.screenshot(path=str(artifacts / "signin.png"), full_page=True)
        assert page.locator('[data-testid="stDeckGlJsonChart"]').count() == 0
        assert page.locator("canvas").count() == 0
        assert page.locator('[data-testid="stDataFrame"]').count() == 0
        body = page.locator("body").inner_text()
        for name in mouza_names:
            assert name not in body, f"mouza {name} shown before sign-in"
        assert sorted(_sidebar_links(page)) == ["Farmer sign-in", "Sign in"]
        assert page.get_by_role("link", name="Farmer sign-in").count() >= 1
        assert _field(page, "Authenticator code").count() == 1  # always asked

        # a page that needs sign-in, asked by its address: still only the sign-in page
        page.goto(f"{base}/mutations", wait_until="domcontentloaded")
        page.get_by_text("Sign in to landgov").first.wait_for(timeout=60_000)
        _wait_until_idle(page)
        page.screenshot(path=str(artifacts / "signin-unknown-page.png"), full_page=True)
        assert page.get_by_text("Mutations (intiqal)").count() == 0
        assert page.locator('[data-testid="stDeckGlJsonChart"]').count() == 0
        dialog = page.get_by_role("dialog")
        if dialog.count():  # Streamlit's "Page not found" notice over the sign-in page
            page.keyboard.press("Escape")
            dialog.first.wait_for(state="hidden", timeout=10_000)

        # a wrong password: the one generic answer, and the form is empty again
        fill_sign_in(page, analyst.username, analyst.password + "x", "123456")
        page.get_by_role("button", name="Sign in").click()
        failure = FAILED[0].upper() + FAILED[1:]
        page.get_by_text(failure).first.wait_for(timeout=30_000)
        _wait_until_idle(page)
        assert _field(page, "Password").input_value() == ""
        assert page.get_by_text("Signed in:").count() == 0
        page.screenshot(path=str(artifacts / "signin-failed.png"), full_page=True)
    assert not errors, errors


@pytest.fixture
def demo_with_another_tehsil(demo_copy: Engine) -> Engine:
    """The demo plus a mouza in Muridke tehsil, where the demo's Sheikhupura officers
    are not posted (a place the Mutations page must not offer them)."""
    with owner(demo_copy).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO mouza (tehsil_id, name, hadbast_number) SELECT id,"
                " 'Nangal Sahdan', 301 FROM admin_unit WHERE level = 'tehsil'"
                " AND name = 'Muridke'"
            )
        )
    return demo_copy


def test_dashboard_draws_the_demo_mouza(
    demo_with_another_tehsil: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    engine = demo_with_another_tehsil
    naib = demo_login(engine, demo_dir, "naib_tehsildar", "Sheikhupura")
    with engine.connect() as conn:
        (officer_id,) = conn.execute(
            text("SELECT officer_id FROM app_user WHERE username = :u"), {"u": naib.username}
        ).one()
        from landgov.storage.officers import jurisdiction_mouzas

        mine = jurisdiction_mouzas(conn, int(officer_id), date.today())
        jurisdiction = sorted(m.name for m in read.list_mouzas(conn) if m.id in mine)
    assert jurisdiction and "Nangal Sahdan" not in jurisdiction
    check_dashboard_in_browser(
        database_url(engine),
        tmp_path,
        "dashboard",
        login=(engine, naib),
        timeline_khasra=_khasra_with_a_long_history(engine),
        jurisdiction=jurisdiction,
    )


def test_an_analyst_does_not_see_the_mutations_page(
    demo_engine: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    """Screenshot ``analyst.png``: Parcels and Valuation only."""
    analyst = demo_login(demo_engine, demo_dir, "revenue_analyst")
    with dashboard_page(database_url(demo_engine), tmp_path) as (base, page, errors):
        page.goto(base, wait_until="domcontentloaded")
        browser_sign_in(page, demo_engine, analyst)
        page.locator('[data-testid="stDeckGlJsonChart"] canvas').first.wait_for(
            state="visible", timeout=60_000
        )
        _wait_until_idle(page)
        assert sorted(_sidebar_links(page)) == ["Parcels", "Valuation"]
        assert page.get_by_text("revenue analyst").count() >= 1
        page.screenshot(path=str(_artifacts() / "analyst.png"), full_page=True)
        page.goto(f"{base}/mutations", wait_until="domcontentloaded")
        _wait_until_idle(page, 3)
        assert page.get_by_text("Mutations (intiqal)").count() == 0
        assert page.get_by_role("button", name="Verify").count() == 0
        assert page.get_by_role("button", name="Enter mutation").count() == 0
    assert not errors, errors


def _khasra_with_a_long_history(engine: Engine) -> str:
    """A live tatima khasra of the first mouza the dashboard shows, with most mutations."""
    with engine.connect() as conn:
        first = read.list_mouzas(conn)[0]
        return str(
            conn.execute(
                text(
                    "SELECT k.number FROM khasra k"
                    " JOIN khewat_khasra kk ON kk.khasra_id IN (k.id, k.parent_khasra_id)"
                    " JOIN mutation_line ml ON ml.khewat_id = kk.khewat_id"
                    " WHERE k.mouza_id = :m AND k.retired_on IS NULL"
                    " AND k.parent_khasra_id IS NOT NULL"
                    " GROUP BY k.id, k.number"
                    " ORDER BY count(DISTINCT ml.mutation_id) DESC, k.number LIMIT 1"
                ),
                {"m": first.id},
            ).scalar_one()
        )


def check_dashboard_in_browser(
    db_url: str,
    tmp_path: Path,
    name: str,
    *,
    login: tuple[Engine, Login],
    timeline_khasra: str | None = None,
    jurisdiction: list[str] | None = None,
) -> None:
    """Serves the dashboard, signs in with ``login``, draws it in Chromium, clicks a
    parcel, checks the pictures.

    Screenshots go to ``$LANDGOV_HOME/test-artifacts/<name>.png`` (and
    ``<name>-selected.png`` after the click). With ``timeline_khasra``, that khasra is
    then picked and its page, mutation timeline included, saved as
    ``parcel-timeline.png``; and the Mutations page is opened, where the sidebar offers
    exactly the mouzas ``jurisdiction`` (``mutations.png``).
    """
    from playwright.sync_api import Request, Route

    artifacts = _artifacts()
    shot = artifacts / f"{name}.png"
    shot.unlink(missing_ok=True)
    outside: list[str] = []

    def offline_only(route: Route, request: Request) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:  # a basemap, CDN or telemetry request: the dashboard must not need one
            outside.append(request.url)
            route.abort()

    with dashboard_page(db_url, tmp_path) as (base, page, errors):
        page.route("**/*", offline_only)
        page.goto(base, wait_until="domcontentloaded")
        browser_sign_in(page, *login)
        chart = page.locator('[data-testid="stDeckGlJsonChart"]')
        chart.locator("canvas").first.wait_for(state="visible", timeout=60_000)
        page.get_by_text("khasras on", exact=False).first.wait_for(timeout=60_000)
        _wait_until_idle(page)

        assert page.locator('[data-testid="stException"]').count() == 0
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0
        page.screenshot(path=str(shot), full_page=True)
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 300

        # a click on the map selects the parcel under it (st.pydeck_chart selection)
        # (as a user does: hover, then click; deck.gl picks what is under the pointer)
        centre = (box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.mouse.move(*centre)
        page.wait_for_timeout(500)
        page.mouse.click(*centre)
        page.get_by_text("Owners on", exact=False).first.wait_for(timeout=30_000)
        assert page.locator("h3", has_text="Khasra ").count() == 1  # its panel
        _wait_until_idle(page)
        assert page.locator('[data-testid="stException"]').count() == 0
        page.screenshot(path=str(artifacts / f"{name}-selected.png"), full_page=True)
        if timeline_khasra is not None:
            _check_timeline_and_mutations(page, timeline_khasra, artifacts, jurisdiction)

    assert not outside, f"the dashboard fetched from outside: {outside[:5]}"
    assert not errors, errors
    with Image.open(shot) as image:
        assert image.width >= 1000 and image.height >= 800
        left, top = int(box["x"]), int(box["y"])
        map_area = image.crop((left, top, left + int(box["width"]), top + int(box["height"])))
        # not a blank or single-colour box: parcels drawn in their land-class colours
        assert len(set(_pixels(map_area))) >= 20
        seen = _land_classes_seen(map_area)
        assert len(seen) >= 5, f"land-class colours on the map: {sorted(seen)}"


def _check_timeline_and_mutations(
    page: Page, khasra_no: str, artifacts: Path, jurisdiction: list[str] | None
) -> None:
    """Picks ``khasra_no``, waits for its timeline chart, saves the page; opens Mutations
    and checks its mouzas are those of ``jurisdiction``."""
    timeline_shot = artifacts / "parcel-timeline.png"
    timeline_shot.unlink(missing_ok=True)
    picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Khasra").first
    picker.click()
    page.keyboard.type(khasra_no)
    page.get_by_role("option", name=khasra_no, exact=True).first.click()
    page.get_by_text(f"Mutation chain of khasra {khasra_no}").wait_for(timeout=30_000)
    chart = page.locator('[data-testid="stVegaLiteChart"]').first
    chart.wait_for(state="visible", timeout=30_000)
    _wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("first recorded owners:", exact=False).count() >= 1
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 150
    # Streamlit scrolls inside its own container, so a tall window shows the whole page
    page.set_viewport_size({"width": 1400, "height": 2400})
    _wait_until_idle(page)
    box = chart.bounding_box()
    assert box is not None
    page.screenshot(path=str(timeline_shot), full_page=True)
    with Image.open(timeline_shot) as image:
        drawn = image.crop(
            (
                int(box["x"]),
                int(box["y"]),
                int(box["x"] + box["width"]),
                int(box["y"] + box["height"]),
            )
        )
        assert len(set(_pixels(drawn))) >= 8  # bars and coloured points, not a blank box

    page.get_by_role("link", name="Mutations").first.click()
    page.get_by_text("Mutations (intiqal)").first.wait_for(timeout=30_000)
    _wait_until_idle(page)
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Signed in as", exact=False).count() >= 1  # no officer picker
    assert page.locator('[data-testid="stSelectbox"]').filter(has_text="Officer").count() == 0
    page.screenshot(path=str(artifacts / "mutations.png"), full_page=True)
    if jurisdiction is not None:
        mouza_box = page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
            has_text="Mouza"
        )
        mouza_box.first.click()
        options = page.get_by_role("option")
        options.first.wait_for(timeout=30_000)
        offered = sorted(t.split(" (hadbast")[0].strip() for t in options.all_inner_texts())
        page.keyboard.press("Escape")
        assert offered == jurisdiction


def test_disputes_page_opens_a_case_with_its_map(
    scanned_demo: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    """The Disputes page in Chromium: the queue, then an overlap case with its evidence
    map: first the picture drawn on the server, then, switched on, the interactive map
    (saved as ``$LANDGOV_HOME/test-artifacts/dispute-case.png`` and
    ``dispute-case-interactive.png``). Both show the red overlap."""

    with scanned_demo.connect() as conn:  # an overlap case in the mouza the page opens on
        first = read.list_mouzas(conn)[0]
        case_id = conn.execute(
            text(
                "SELECT c.id FROM dispute_case c JOIN dispute_case_flag cf ON cf.case_id = c.id"
                " JOIN dispute_flag f ON f.id = cf.flag_id WHERE f.rule_id = 'overlap'"
                " AND c.mouza_id = :m ORDER BY c.id LIMIT 1"
            ),
            {"m": first.id},
        ).scalar_one()

    tehsildar = demo_login(scanned_demo, demo_dir, "tehsildar", "Sheikhupura")
    artifacts = _artifacts()
    shots = [artifacts / "dispute-case.png", artifacts / "dispute-case-interactive.png"]
    boxes = []
    served = dashboard_page(database_url(scanned_demo), tmp_path, viewport=(1400, 2400))
    with served as (base, page, errors):
        page.goto(base, wait_until="domcontentloaded")
        browser_sign_in(page, scanned_demo, tehsildar)
        for shot, interactive in zip(shots, (False, True), strict=True):
            shot.unlink(missing_ok=True)
            if interactive:
                shown = map_shown(page, interactive=True)
            else:
                shown = open_dispute_case(page, case_id)
                assert page.locator('[data-testid="stDeckGlJsonChart"]').count() == 0
            _wait_until_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Evidence on the map").count() >= 1
            assert page.get_by_text("Parcels overlap").count() >= 1  # the rule's title
            box = shown.first.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 200
            boxes.append(box)
            page.screenshot(path=str(shot), full_page=True)
    assert not errors, errors
    for shot, box in zip(shots, boxes, strict=True):
        with Image.open(shot) as image:
            drawn = image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]),
                                int(box["y"] + box["height"])))  # fmt: skip
            colours = set(_pixels(drawn))
        assert len(colours) >= 8, shot  # parcels and the overlap polygon, not a blank box
        assert any(r > 200 and g < 120 and b < 120 for r, g, b in colours), shot  # red
