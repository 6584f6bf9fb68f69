"""An officer's journey through a sale, in headless Chromium on the demo district (issue 19,
"Done when"): the patwari registers a buyer the record does not know and enters the sale
at under half its DC value; the girdawar sees the price check and verifies it; the
tehsildar is refused the sanction until he acknowledges the under-declaration, and then
sanctions it. Each signs in with the demo's own account (password and TOTP code) in a
browser session of their own; every step's confirmation is waited for on the page, and
the record is checked afterwards.

The demo copy gets its DC rates (``dc_rates.csv`` of ``landgov demo``) and a trained
appraisal model, as ``make demo`` gives it, so the price check shows the model value.
Screenshots: ``$LANDGOV_HOME/test-artifacts/mutation-journey-*.png``.
"""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import pytest
from dashboard_support import Login, database_url, demo_login, owner
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from test_browser import CHROMIUM, CHROMIUM_ARGS, LOCAL_HOSTS, sign_in, streamlit_server

from landgov.config import load_settings
from landgov.domain.shares import format_share
from landgov.valuation.rates import load_dc_rates, round_half_up, statutory_value

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

pytestmark = pytest.mark.browser

MOUZA = "Burj Karam Singh"  # its patwar circle's patwari acts there alone
BUYER = ("Imran Ali", "Akbar Ali", "35404-7654321-7")
SHARE_OF_DC = Fraction(48, 100)  # the sale at 48 % of its statutory value
TRAINED_ON = date(2026, 11, 15)


def _artifacts() -> Path:
    folder = load_settings().home / "test-artifacts"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _sale_to_make(engine: Engine, deed_day: date) -> dict[str, Any]:
    """A khewat of the mouza whose only ownership holder is alive, with no mutation
    pending on it and no change since before the deed: its number, the seller's CNIC and
    share, and the DC value of that share on the deed's date."""
    with owner(engine).connect() as conn:
        row = conn.execute(
            text(
                "SELECT w.id, w.number, p.cnic, s.numerator, s.denominator FROM khewat w"
                " JOIN mouza m ON m.id = w.mouza_id"
                " JOIN share s ON s.khewat_id = w.id AND s.valid_to IS NULL"
                "  AND s.right_type = 'ownership'"
                " JOIN party p ON p.id = s.party_id AND p.kind = 'person'"
                "  AND p.date_of_death IS NULL"
                " WHERE m.name = :m"
                " AND (SELECT count(*) FROM share x WHERE x.khewat_id = w.id"
                "      AND x.valid_to IS NULL) = 1"
                " AND NOT EXISTS (SELECT 1 FROM mutation_line l JOIN mutation u"
                "      ON u.id = l.mutation_id WHERE l.khewat_id = w.id"
                "      AND u.status IN ('entered', 'verified'))"
                " AND (SELECT max(greatest(valid_from, valid_to)) FROM share y"
                "      WHERE y.khewat_id = w.id) < :d"
                " AND EXISTS (SELECT 1 FROM khewat_khasra kk WHERE kk.khewat_id = w.id"
                "      AND kk.valid_to IS NULL)"
                " ORDER BY w.number LIMIT 1"
            ),
            {"m": MOUZA, "d": deed_day},
        ).one()
        share = Fraction(row.numerator, row.denominator)
        held = conn.execute(
            text(
                "SELECT khasra_id, area_sarsai FROM khewat_khasra WHERE khewat_id = :k"
                " AND valid_from <= :d AND (valid_to IS NULL OR :d < valid_to)"
            ),
            {"k": row.id, "d": deed_day},
        ).all()
        values = [
            statutory_value(conn, h.khasra_id, deed_day, share, area_sarsai=h.area_sarsai).value
            for h in held
        ]
        dc = round_half_up(sum(values, Fraction(0)))
    return {"khewat": int(row.number), "seller": str(row.cnic), "share": share, "dc": dc}


@pytest.fixture
def priced_demo(demo_copy: Engine, demo_dir: Path) -> Engine:
    """The demo copy with its DC rates and a trained appraisal model."""
    from landgov.valuation.appraisal import train

    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    train(demo_copy, TRAINED_ON, actor=service_actor(demo_copy, "valuation"))
    return demo_copy


def _new_page(browser: Browser) -> Page:
    """A fresh browser session (a new Streamlit session: signed out), offline only."""
    context = browser.new_context(viewport={"width": 1400, "height": 1800})
    outside: list[str] = []

    def offline_only(route: Any, request: Any) -> None:
        host = urlparse(request.url).hostname
        if request.url.startswith(("data:", "blob:")) or host in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(request.url)
            route.abort()

    context.route("**/*", offline_only)
    return context.new_page()


def _settle(page: Page) -> None:
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000
    )
    page.wait_for_timeout(800)


def _open_mutations(page: Page, base: str, engine: Engine, login: Login) -> None:
    page.goto(base, wait_until="domcontentloaded")
    sign_in(page, engine, login)
    page.get_by_role("link", name="Mutations").first.click()
    page.get_by_text("Mutations (intiqal)").first.wait_for(timeout=60_000)
    _settle(page)


def _pick(page: Page, label: str, option: str) -> None:
    """Chooses ``option`` (its text starts so) in the selectbox labelled ``label``."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    box.click()
    page.keyboard.type(option)
    page.get_by_role("option").filter(has_text=option).first.click()
    _settle(page)


def _date(page: Page, label: str, day: date) -> None:
    """Types ``day`` into a date field (year, month and day segments, in that order)."""
    field = page.get_by_label(label, exact=True)
    field.get_by_role("spinbutton").first.click()
    page.keyboard.type(day.strftime("%Y%m%d"))
    page.keyboard.press("Tab")


def _shot(page: Page, name: str) -> Path:
    path = _artifacts() / f"mutation-journey-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _no_exception(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


def test_a_sale_to_a_new_buyer_at_48_percent_of_its_dc_value(
    priced_demo: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    from playwright.sync_api import sync_playwright

    engine = priced_demo
    today = date.today()
    deed_day = today  # registered today, entered today
    sale = _sale_to_make(engine, deed_day)
    price = int(sale["dc"] * SHARE_OF_DC)
    deed_no = f"SKP-{deed_day.year}-99998"
    patwari = demo_login(engine, demo_dir, "patwari", MOUZA)
    girdawar = demo_login(engine, demo_dir, "girdawar", "Kot Rehmat")
    tehsildar = demo_login(engine, demo_dir, "tehsildar", "Sheikhupura")
    name, father, cnic = BUYER
    shots: list[Path] = []

    with (
        streamlit_server(database_url(engine), tmp_path / "streamlit.log") as base,
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = _new_page(browser)
        try:
            # 1. the patwari registers the buyer, then enters the sale
            _open_mutations(page, base, engine, patwari)
            page.get_by_role("tab", name="Enter a mutation").click()
            page.get_by_text("New party: register a buyer not yet in the records").click()
            page.get_by_label("Name", exact=True).fill(name)
            page.get_by_label("Father's or husband's name", exact=True).fill(father)
            page.get_by_label("CNIC", exact=True).fill(cnic)
            page.get_by_role("button", name="Register party").click()
            page.get_by_text(f"Registered {name} s/o {father}, CNIC {cnic}").first.wait_for(
                timeout=60_000
            )
            _settle(page)
            _no_exception(page)
            shots.append(_shot(page, "1-party-registered"))
            assert page.get_by_label("Transferee CNIC").first.input_value() == cnic
            assert page.get_by_label("CNIC", exact=True).input_value() == ""  # emptied

            _pick(page, "Khewat · line 1", str(sale["khewat"]))
            page.get_by_label("Transferor CNIC").first.fill(sale["seller"])
            page.get_by_label("Share n/d").first.fill(format_share(sale["share"]))
            page.get_by_label("Deed number", exact=True).fill(deed_no)
            _date(page, "Deed date", deed_day)
            page.get_by_label("Sub-registrar", exact=True).fill("Sub-Registrar Sheikhupura")
            page.get_by_label("Declared price (Rs) — required for a sale", exact=True).fill(
                str(price)
            )
            page.get_by_role("button", name="Enter mutation").click()
            page.get_by_text("Entered mutation No.").first.wait_for(timeout=60_000)
            _settle(page)
            _no_exception(page)
            shots.append(_shot(page, "2-entered"))
            assert page.get_by_label("Deed number", exact=True).input_value() == ""  # emptied
            with owner(engine).connect() as conn:
                mid, number = conn.execute(
                    text("SELECT id, number FROM mutation WHERE deed_number = :d"), {"d": deed_no}
                ).one()
            page.context.close()

            # 2. the girdawar sees the price check, and verifies
            page = _new_page(browser)
            _open_mutations(page, base, engine, girdawar)
            _pick(page, "Mutation to decide", f"No. {number} ")
            page.get_by_text("Price check").first.wait_for(timeout=60_000)
            page.get_by_text("Under-declared sale").first.wait_for(timeout=30_000)
            page.get_by_role("button", name="Verify").wait_for(timeout=30_000)
            _settle(page)
            assert f"{sale['dc']:,}" in page.content()
            shots.append(_shot(page, "3-price-check"))
            page.get_by_role("button", name="Verify").click()
            page.get_by_text(f"Mutation No. {number} verified on").first.wait_for(timeout=60_000)
            _settle(page)
            _no_exception(page)
            page.context.close()

            # 3. the tehsildar: refused until he acknowledges, then sanctions
            page = _new_page(browser)
            _open_mutations(page, base, engine, tehsildar)
            _pick(page, "Mutation to decide", f"No. {number} ")
            page.get_by_text("Price check").first.wait_for(timeout=60_000)
            page.get_by_role("button", name="Sanction").click()
            page.get_by_text("under_declared_price").first.wait_for(timeout=60_000)
            _settle(page)
            shots.append(_shot(page, "4-sanction-refused"))
            page.get_by_text("I have seen the price check").click()
            page.get_by_label("Why (kept with the acknowledgement)").fill(
                "seller and buyer heard; taxes collected on the DC value"
            )
            page.get_by_role("button", name="Sanction").click()
            page.get_by_text(f"Mutation No. {number} sanctioned on").first.wait_for(timeout=60_000)
            _settle(page)
            _no_exception(page)
            shots.append(_shot(page, "5-sanctioned"))
            page.context.close()
        except Exception:
            _shot(page, "failed")  # what the page showed when the step failed
            raise
        finally:
            browser.close()

    with owner(engine).connect() as conn:
        status = conn.execute(
            text("SELECT status FROM mutation WHERE id = :m"), {"m": mid}
        ).scalar_one()
        ack = conn.execute(
            text(
                "SELECT a.reasons, a.declared_rs, a.statutory_rs, a.model_rs, a.note, u.username"
                " FROM mutation_price_acknowledgement a"
                " JOIN app_user u ON u.id = a.acknowledged_by_user WHERE a.mutation_id = :m"
            ),
            {"m": mid},
        ).one()
        buyer_share = conn.execute(
            text(
                "SELECT s.numerator, s.denominator FROM share s JOIN party p ON p.id = s.party_id"
                " WHERE p.cnic = :c AND s.valid_to IS NULL"
            ),
            {"c": cnic},
        ).one()
    assert status == "sanctioned"
    assert "below_dc" in ack.reasons and (ack.declared_rs, ack.statutory_rs) == (price, sale["dc"])
    assert ack.model_rs is not None and ack.username == tehsildar.username
    assert Fraction(*buyer_share) == sale["share"]
    for shot in shots:
        assert shot.stat().st_size > 20_000, shot
