"""Urdu advisories rendered to PNG once, in headless Chromium with the Noto Nastaliq Urdu
font: the font covers every character, letters join (shaped text is narrower than the
same letters set apart), the lines run right to left, and the picture is not blank. The
PNG is kept as ``$LANDGOV_HOME/test-artifacts/urdu-advisories.png`` for a human look."""

from __future__ import annotations

import html
from pathlib import Path

import pytest

from landgov.advisories.texts import render
from landgov.config import load_settings
from tests.advisories.test_texts import cases

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
FONT = "Noto Nastaliq Urdu"

pytestmark = pytest.mark.browser


def test_urdu_sms_and_dashboard_texts_render() -> None:
    from PIL import Image
    from playwright.sync_api import sync_playwright

    texts = []
    for advisory, _ in cases():
        t = render(advisory, "123//25/12", "wheat", "ur")
        texts += [t.sms, t.long]
    body = "".join(f'<p dir="rtl" lang="ur">{html.escape(t)}</p>' for t in texts)
    page_html = (
        f"<html><body style=\"font-family:'{FONT}';font-size:20px;width:900px;"
        f'background:#fff;color:#000">{body}</body></html>'
    )
    out = load_settings().home / "test-artifacts"
    out.mkdir(parents=True, exist_ok=True)
    shot = out / "urdu-advisories.png"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page()
            page.set_content(page_html)
            page.evaluate("document.fonts.ready")
            covered = page.evaluate(
                '([font, t]) => document.fonts.check(`20px "${font}"`, t)', [FONT, "".join(texts)]
            )
            joined, apart = page.evaluate(
                """(font) => {
                    const c = document.createElement('canvas').getContext('2d');
                    c.font = `20px "${font}"`;
                    const word = 'پانی کی کمی';
                    const apart = [...word].reduce((w, ch) => w + c.measureText(ch).width, 0);
                    return [c.measureText(word).width, apart];
                }""",
                FONT,
            )
            direction = page.evaluate("getComputedStyle(document.querySelector('p')).direction")
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert covered, f"{FONT} does not cover the advisory texts"
    assert joined < 0.9 * apart, (joined, apart)  # contextual forms: the letters joined
    assert direction == "rtl"
    import numpy as np

    image = Image.open(Path(shot)).convert("L")
    dark = int((np.asarray(image) < 128).sum())
    assert image.width >= 900 and dark > 5000  # text was drawn, not tofu-less blank
