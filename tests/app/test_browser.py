"""The dashboard served by `streamlit run` and drawn by headless Chromium (offline)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest
from dashboard_support import DASHBOARD, ROOT, database_url
from PIL import Image
from sqlalchemy import text
from sqlalchemy.engine import Engine

from app import style
from landgov.config import load_settings
from landgov.storage import read

if TYPE_CHECKING:
    from playwright.sync_api import Page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def streamlit_server(db_url: str, log: Path) -> Iterator[str]:
    """Runs the dashboard on a free local port; yields its URL; always stops it."""
    port = _free_port()
    streamlit = Path(sys.executable).with_name("streamlit")
    cmd = [
        str(streamlit), "run", str(DASHBOARD),
        "--server.headless", "true",
        "--server.port", str(port),
        "--server.address", "127.0.0.1",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "LANDGOV_DATABASE_URL": db_url}
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                if proc.poll() is not None:
                    pytest.fail(f"streamlit exited ({proc.returncode}):\n{log.read_text()}")
                try:
                    with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"streamlit not healthy after 60 s:\n{log.read_text()}")
                time.sleep(0.3)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


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


def test_dashboard_draws_the_demo_mouza(demo_engine: Engine, tmp_path: Path) -> None:
    check_dashboard_in_browser(
        database_url(demo_engine),
        tmp_path,
        "dashboard",
        timeline_khasra=_khasra_with_a_long_history(demo_engine),
    )


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
    db_url: str, tmp_path: Path, name: str, *, timeline_khasra: str | None = None
) -> None:
    """Serves the dashboard, draws it in Chromium, clicks a parcel, checks the pictures.

    Screenshots go to ``$LANDGOV_HOME/test-artifacts/<name>.png`` (and
    ``<name>-selected.png`` after the click). With ``timeline_khasra``, that khasra is
    then picked and its page, mutation timeline included, saved as
    ``parcel-timeline.png``; and the Mutations page is opened.
    """
    from playwright.sync_api import Request, Route, sync_playwright

    artifacts = load_settings().home / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
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

    with (
        streamlit_server(db_url, tmp_path / "streamlit.log") as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1300})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.route("**/*", offline_only)
            page.goto(base, wait_until="domcontentloaded")
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
                _check_timeline_and_mutations(page, timeline_khasra, artifacts)
        finally:
            browser.close()

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


def _check_timeline_and_mutations(page: Page, khasra_no: str, artifacts: Path) -> None:
    """Picks ``khasra_no``, waits for its timeline chart, saves the page; opens Mutations."""
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
    assert page.get_by_text("Officer").count() >= 1
    page.screenshot(path=str(artifacts / "mutations.png"), full_page=True)


def _wait_until_idle(page: Page, settle_s: float = 1.5) -> None:
    """Waits until Streamlit has finished its run and the map had time to draw."""
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')",
        timeout=60_000,
    )
    page.wait_for_timeout(int(settle_s * 1000))


def test_disputes_page_opens_a_case_with_its_map(scanned_demo: Engine, tmp_path: Path) -> None:
    """The Disputes page in Chromium: the queue, then an overlap case with its evidence
    map drawn (saved as ``$LANDGOV_HOME/test-artifacts/dispute-case.png``)."""
    import re

    from playwright.sync_api import sync_playwright

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

    artifacts = load_settings().home / "test-artifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    shot = artifacts / "dispute-case.png"
    shot.unlink(missing_ok=True)
    with (
        streamlit_server(database_url(scanned_demo), tmp_path / "streamlit.log") as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 2400})
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(base, wait_until="domcontentloaded")
            page.get_by_role("link", name="Disputes").first.click()
            page.get_by_text("Dispute cases").first.wait_for(timeout=60_000)
            _wait_until_idle(page)
            picker = page.locator('[data-testid="stSelectbox"]').filter(has_text="Case").last
            picker.click()
            page.keyboard.type(f"No. {case_id} ")
            page.get_by_role("option", name=re.compile(rf"^No\. {case_id} ")).first.click()
            page.get_by_text("Why this case is risky").first.wait_for(timeout=30_000)
            chart = page.locator('[data-testid="stDeckGlJsonChart"]')
            chart.locator("canvas").first.wait_for(state="visible", timeout=60_000)
            _wait_until_idle(page)
            assert page.locator('[data-testid="stException"]').count() == 0
            assert page.get_by_text("Evidence on the map").count() >= 1
            assert page.get_by_text("Parcels overlap").count() >= 1  # the rule's title
            box = chart.first.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 200
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    with Image.open(shot) as image:
        drawn = image.crop((int(box["x"]), int(box["y"]), int(box["x"] + box["width"]),
                            int(box["y"] + box["height"])))  # fmt: skip
        colours = set(_pixels(drawn))
        assert len(colours) >= 8  # parcels and the overlap polygon, not a blank box
        assert any(r > 200 and g < 120 and b < 120 for r, g, b in colours)  # the red overlap
