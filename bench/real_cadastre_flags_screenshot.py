"""Screenshot: the real cadastre's remaining flags on the officers' dashboard (issue 17).

Reproduces docs/img/real_cadastre_flags.png and the command output quoted in
docs/disputes.md ("The real cadastre through the import"), against a scratch database,
never the dev ``landgov`` database:

1. creates the database ``landgov_scratch_real_cadastre`` in the configured cluster
   (127.0.0.1:54329) and migrates it with ``landgov db migrate``, pointed at it by
   ``LANDGOV_DATABASE_URL`` and ``LANDGOV_OWNER_DATABASE_URL``, with a temporary
   ``LANDGOV_HOME`` (migrate provisions service keys there, so the dev ones are untouched);
2. seeds Punjab > Sheikhupura > Ferozewala > mouza Epinay (hadbast 917, no boundary), a
   patwari and a tehsildar posted over the tehsil, each with an account (password and
   TOTP secret of this run);
3. writes the real cadastre of Épinay-sur-Orge, moved into the demo frame, as a vendor
   GeoPackage (tests/disputes/test_real_cadastre.py's ``write_vendor_cadastre``) and a
   mapping file, signs the patwari in with ``landgov login`` and runs ``landgov import
   parcels ... --check``; gives the rows it reports (parcels under one sarsai) the least
   record area, checks again, imports; then ``landgov disputes scan`` (the disputes
   service);
4. serves the dashboard (``streamlit run app/dashboard.py``) on a free local port, signs
   the tehsildar in through the form in headless Chromium, opens Disputes and the gap's
   case, and saves the page down to the case map, as the officer first sees it (no
   zooming); then counts the pixels of the flag's rule colour on the map and fails if
   the flag is not plainly visible (issue 17: at the case's former zoom, fitted to its
   parcels, the 2 m wide gap was a dark strip that read as a boundary line);
5. drops the database (also after a failure) and stops the server.

    .venv/bin/python bench/real_cadastre_flags_screenshot.py [--out FILE.png]

Source : DGFiP / Etalab — cadastre (PCI Vecteur), millésime 2022-01-01,
cadastre.data.gouv.fr (Licence Ouverte / Open Licence 2.0).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the repository first: tests/app would shadow the dashboard's package app
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "tests" / "disputes")]

from browser_support import (  # noqa: E402
    launch,
    open_dispute_case,
    page_errors,
    serve_dashboard,
    sign_in,
    wait_until_idle,
)

DATABASE = "landgov_scratch_real_cadastre"
PASSWORD = "real cadastre screenshot 17"
PATWARI = ("35401-5555555-1", "Muhammad Akram", "patwari", "patwari.epinay")
TEHSILDAR = ("35401-9999999-1", "Naveed Akhtar", "tehsildar", "tehsildar.epinay")


def landgov(env: dict[str, str], *args: str, stdin: str | None = None, ok: bool = True) -> str:
    """Runs ``landgov ARGS`` as a user would; echoes and returns its output."""
    exe = Path(sys.executable).with_name("landgov")
    print(f"$ landgov {' '.join(args)}", flush=True)
    done = subprocess.run(
        [str(exe), *args], env=env, input=stdin, capture_output=True, text=True, cwd=ROOT,
        check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    print(output, flush=True)
    if ok and done.returncode != 0:
        raise SystemExit(f"landgov {args[0]} {args[1]} failed ({done.returncode})")
    return output


def seed(owner_url: str) -> dict[str, str]:
    """The admin units, the mouza, the two officers and their accounts; returns each
    account's TOTP secret by username."""
    from sqlalchemy import create_engine, text

    from landgov.security.accounts import create_person, new_totp_secret

    engine = create_engine(owner_url)
    secrets: dict[str, str] = {}
    try:
        with engine.begin() as conn:

            def one(sql: str, **params: object) -> int:
                return int(conn.execute(text(sql + " RETURNING id"), params).scalar_one())

            unit = "INSERT INTO admin_unit (level, name, parent_id) VALUES (:l, :n, :p)"
            province = one(unit, l="province", n="Punjab", p=None)
            district = one(unit, l="district", n="Sheikhupura", p=province)
            tehsil = one(unit, l="tehsil", n="Ferozewala", p=district)
            one("INSERT INTO mouza (tehsil_id, name, hadbast_number) VALUES (:t, 'Epinay', 917)",
                t=tehsil)  # fmt: skip
            for cnic, name, designation, username in (PATWARI, TEHSILDAR):
                officer = one(
                    "INSERT INTO officer (name, designation, cnic) VALUES (:n, :d, :c)",
                    n=name, d=designation, c=cnic,
                )  # fmt: skip
                conn.execute(
                    text("INSERT INTO officer_jurisdiction (officer_id, admin_unit_id,"
                         " valid_from) VALUES (:o, :u, '2000-01-01')"),
                    {"o": officer, "u": tehsil},
                )  # fmt: skip
                secrets[username] = new_totp_secret()
                create_person(conn, username=username, full_name=name, officer_cnic=cnic,
                              password=PASSWORD, totp_secret=secrets[username])  # fmt: skip
    finally:
        engine.dispose()
    return secrets


def code(secret: str) -> str:
    from landgov.domain import totp

    return totp.totp(secret, time.time())


def prepare_import(env: dict[str, str], work: Path) -> None:
    """The vendor file, the dry run, the fix it asks for, the import and the scan."""
    from test_real_cadastre import MAPPING, write_vendor_cadastre  # type: ignore[import-not-found]

    vendor = write_vendor_cadastre(work / "epinay_vendor.gpkg")
    mapping = work / "vendor.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    args = ["import", "parcels", str(vendor.path), "--mouza", "Epinay", "--mapping", str(mapping)]
    found = landgov(env, *args, "--check", ok=False)
    rows = [int(r) for r in re.findall(r"row (\d+), field 'area_kms'", found)]
    # as the problems say: give the parcels under one sarsai the least record area
    write_vendor_cadastre(vendor.path, dict.fromkeys(rows, "0-0-1"))
    landgov(env, *args, "--check")
    landgov(env, *args)
    landgov(env, "disputes", "scan", "--mouza", "Epinay")


def rule_pixels(shot: Path, box: dict[str, float], rgb: tuple[int, int, int]) -> int:
    """How many pixels of the map ``box`` in the screenshot ``shot`` are of the hue of
    ``rgb`` (within 20°, saturation over 0.3): the flag's polygon, outline and marker in
    its rule's colour, however the canvas blends the translucent fill (the parcels'
    outlines are orange and yellow, the page white)."""
    import colorsys

    import numpy as np
    from PIL import Image

    with Image.open(shot) as image:
        hsv = np.asarray(image.convert("RGB").convert("HSV"), dtype=float)  # 0-255 each
    x0, y0 = int(box["x"]), int(box["y"])
    area = hsv[y0 : y0 + int(box["height"]), x0 : x0 + int(box["width"])]
    hue = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))[0] * 255
    turn = np.abs(area[..., 0] - hue)
    near = (np.minimum(turn, 255 - turn) < 20 / 360 * 255) & (area[..., 1] > 0.3 * 255)
    return int(near.sum())


def shoot(base: str, secret: str, gap_case: int, out: Path) -> int:
    """Signs the tehsildar in, opens Disputes and the gap's case, saves the page as it
    first shows; returns how many pixels of the map are in the gap rule's colour."""
    from playwright.sync_api import sync_playwright

    from app.views.cases.data import RULE_COLORS

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            # Streamlit scrolls inside its own container: a tall window shows the case map
            page = browser.new_page(viewport={"width": 1400, "height": 2800})
            errors = page_errors(page)
            page.goto(base, wait_until="domcontentloaded")
            sign_in(page, TEHSILDAR[3], PASSWORD, code(secret), timeout_ms=90_000)
            chart = open_dispute_case(page, gap_case, timeout_ms=90_000)
            wait_until_idle(page, 3.0, timeout_ms=90_000)
            if page.locator('[data-testid="stException"]').count():
                raise SystemExit("the dashboard raised an exception")
            box = chart.first.bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 200
            out.parent.mkdir(parents=True, exist_ok=True)
            # from the top to the legend under the case map (the tables below are text)
            bottom = min(2800, box["y"] + box["height"] + 70)
            page.screenshot(path=str(out), clip={"x": 0, "y": 0, "width": 1400,
                                                 "height": bottom})  # fmt: skip
        finally:
            browser.close()
    if errors:
        raise SystemExit(f"errors in the page: {errors}")
    return rule_pixels(out, box, RULE_COLORS["gap"][:3])


def gap_case_id(app_url: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(app_url)
    try:
        with engine.connect() as conn:
            return int(
                conn.execute(
                    text(
                        "SELECT cf.case_id FROM dispute_case_flag cf JOIN dispute_flag f"
                        " ON f.id = cf.flag_id WHERE f.rule_id = 'gap' ORDER BY cf.case_id"
                        " LIMIT 1"
                    )
                ).scalar_one()
            )
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "real_cadastre_flags.png")
    ap.add_argument("--min-pixels", type=int, default=2_000,
                    help="least pixels of the gap's colour on the map, else an error")  # fmt: skip
    args = ap.parse_args()

    from landgov.config import load_settings
    from landgov.storage import cluster

    settings = load_settings()  # the dev cluster's: its passwords, never its database
    if settings.uses_private_cluster:
        cluster.up(settings)
    app_url = settings.url(DATABASE, "app").replace("+psycopg", "")
    owner_url = settings.url(DATABASE, "owner").replace("+psycopg", "")
    cluster.drop_database(settings, DATABASE)
    cluster.ensure_database(settings, DATABASE)
    try:
        with tempfile.TemporaryDirectory(prefix="landgov-real-cadastre-") as tmp:
            work = Path(tmp)
            env = {
                **os.environ,
                "LANDGOV_HOME": str(work / "home"),
                "LANDGOV_DATABASE_URL": app_url,
                "LANDGOV_OWNER_DATABASE_URL": owner_url,
                "LANDGOV_SESSION_FILE": str(work / "session.json"),
                "LANDGOV_AUDIT_KEY": str(work / "audit" / "signing.key"),
                "LANDGOV_AUDIT_CHECKPOINTS": str(work / "audit" / "checkpoints.jsonl"),
                "COLUMNS": "200",
            }
            landgov(env, "db", "migrate")
            secrets = seed(owner_url.replace("postgresql://", "postgresql+psycopg://", 1))
            username = PATWARI[3]
            landgov(env, "login", "--username", username, "--password-stdin",
                    "--code", code(secrets[username]), stdin=PASSWORD + "\n")  # fmt: skip
            prepare_import(env, work)
            case_id = gap_case_id(app_url.replace("postgresql://", "postgresql+psycopg://", 1))
            with serve_dashboard(work / "streamlit.log", env=env, timeout_s=90) as server:
                seen = shoot(server.url, secrets[TEHSILDAR[3]], case_id, args.out)
            print(f"saved {args.out} (the gap's case: No. {case_id}); {seen} pixels of the "
                  "map in the gap's colour at the default zoom")  # fmt: skip
            if seen < args.min_pixels:
                raise SystemExit(f"the gap is hardly visible: {seen} < {args.min_pixels} pixels")
    finally:
        cluster.drop_database(settings, DATABASE)
        print(f"dropped the scratch database {DATABASE}")


if __name__ == "__main__":
    main()
