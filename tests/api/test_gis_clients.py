"""Other agencies' GIS tools against the running service (issue 20, point 2): QGIS's own
"WFS / OGC API - Features" provider lists, reads and draws the collections; OWSLib's OGC
API client reads them with an OAuth 2.0 token.

QGIS runs as a subprocess in Debian's ``python3-qgis`` (the system Python), headless
(``QT_QPA_PLATFORM=offscreen``), against the API served by uvicorn on 127.0.0.1. Its map
is saved as ``$LANDGOV_HOME/test-artifacts/qgis-khasras.png``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest
from api_support import ApiDemo
from owslib.ogcapi.features import Features

from landgov.config import load_settings
from landgov.storage.read import mouza_parcels

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = Path(__file__).with_name("qgis_probe.py")


def _live_count(live_api: str, headers: dict[str, str], cid: str) -> int:
    r = httpx.get(f"{live_api}/collections/{cid}/items?limit=1", headers=headers)
    assert r.status_code == 200, r.text
    return int(r.json()["numberMatched"])


def test_qgis_lists_reads_and_draws_the_collections(
    live_api: str, api_demo: ApiDemo, tmp_path: Path
) -> None:
    has_qgis = subprocess.run([SYSTEM_PYTHON, "-c", "import qgis.core"], capture_output=True)
    assert has_qgis.returncode == 0, (
        "QGIS's Python is needed: apt-get install python3-qgis (make test installs it)"
    )
    client, secret = api_demo.new_client(("parcels:read",), auth="api_key", prefix="qgis")
    out = load_settings().home / "test-artifacts" / "qgis-khasras.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path),
           "HOME": str(tmp_path)}  # fmt: skip
    done = subprocess.run(
        [SYSTEM_PYTHON, str(PROBE), live_api, client.name, secret, str(out)],
        capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["listed"] == ["khasras", "mouzas", "state-land"]
    headers = {"X-API-Key": secret}
    for cid, layer in result["layers"].items():
        assert layer["valid"], (cid, layer["error"])
        assert layer["features"] == _live_count(live_api, headers, cid) > 0, cid
        assert layer["geometry_type"] == 2  # polygons
        assert layer["crs"] in ("EPSG:4326", "OGC:CRS84")
    khasras = result["layers"]["khasras"]
    assert {"khasra", "mouza", "land_class", "area_kms", "khewats"} <= set(khasras["fields"])
    # what QGIS read is the record of today, khasra for khasra
    with api_demo.engine.connect() as conn:
        today = {
            (m, str(k))
            for m in api_demo.mouza_ids
            for k in mouza_parcels(conn, m, api_demo.today).khasra_no
        }
    assert today <= {tuple(k) for k in khasras["keys"]}
    # and it drew them: most of the map is parcels, not the white background
    assert result["drawn_samples"] > 0.3 * result["samples"]
    assert out.stat().st_size > 10_000


def test_owslib_reads_the_collections_with_an_oauth_token(live_api: str, api_demo: ApiDemo) -> None:
    client, secret = api_demo.new_client(("parcels:read",), prefix="owslib")
    token = httpx.post(
        f"{live_api}/oauth/token", data={"grant_type": "client_credentials"},
        auth=(client.name, secret),
    ).json()["access_token"]  # fmt: skip
    api = Features(live_api, headers={"Authorization": f"Bearer {token}"})
    assert (
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"
        in (api.conformance()["conformsTo"])
    )
    assert [c["id"] for c in api.collections()["collections"]] == [
        "khasras", "mouzas", "state-land",
    ]  # fmt: skip
    x0, y0, x1, y1 = api.collection("khasras")["extent"]["spatial"]["bbox"][0]
    window = [x0, y0, (x0 + x1) / 2, (y0 + y1) / 2]
    page = api.collection_items("khasras", bbox=window, limit=50)
    assert page["numberReturned"] == len(page["features"]) == min(50, page["numberMatched"])
    one = page["features"][0]
    assert api.collection_item("khasras", str(one["id"]))["properties"] == one["properties"]
    # without the token: a problem, not data (checked with httpx: OWSLib 0.35 keeps the
    # headers of one Features() in a module-level dict, so a second one would send them)
    bare = httpx.get(f"{live_api}/collections/khasras/items?limit=1")
    assert bare.status_code == 401 and bare.json()["title"] == "Authentication required"


@pytest.mark.browser
def test_the_interactive_docs_render_in_chromium_without_the_network(live_api: str) -> None:
    """Swagger UI, served by the API itself, reads the OpenAPI 3.1 document and lists every
    operation, with nothing fetched from elsewhere (Swagger UI 4 cannot read 3.1: it
    showed "Unable to render this definition" before swagger-ui-py's 5)."""
    from browser_support import launch
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 1400})
            elsewhere: list[str] = []
            page.on("request", lambda r: None if r.url.startswith(live_api.rsplit("/v1", 1)[0])
                    else elsewhere.append(r.url))  # fmt: skip
            page.goto(f"{live_api}/docs")
            page.wait_for_selector(".opblock", timeout=30_000)
            paths = page.locator(".opblock-summary-path").all_inner_texts()
            assert "/v1/fard/{code}" in paths and "/v1/collections/{collection_id}/items" in paths
            assert page.locator(".btn.authorize").count() == 1  # the ways in are declared
            out = load_settings().home / "test-artifacts" / "api-docs.png"
            out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out))
        finally:
            browser.close()
    assert elsewhere == []
