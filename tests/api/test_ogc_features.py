"""Parcels for GIS by the standard: OGC API - Features - Part 1 (issue 20, point 2).

Each test names the requirement of OGC 17-069r4 it checks (/req/core/..., /req/geojson/...).
The counts a query should match come from the dashboard's own reads
(:func:`landgov.storage.read.mouza_parcels`) and shapely, not from the API's SQL.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
import shapely
from api_support import ApiDemo, bearer, problem
from fastapi.testclient import TestClient
from shapely.geometry import box, shape
from sqlalchemy import text

from landgov.api.features import CONFORMANCE, MAX_LIMIT
from landgov.domain.units import KanalMarlaSarsai, format_kms
from landgov.storage.read import mouza_parcels, mouza_state_land

GEOJSON = "application/geo+json"


@pytest.fixture
def gis(api: TestClient, api_demo: ApiDemo) -> dict[str, str]:
    client, secret = api_demo.new_client(("parcels:read",), prefix="gis")
    return bearer(api, client.name, secret)


def _all(api: TestClient, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    """Every feature of a query, following ``next`` links (/req/core/fc-links)."""
    found: list[dict[str, Any]] = []
    while url:
        r = api.get(url, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert page["numberReturned"] == len(page["features"])
        found += page["features"]
        nxt = [link["href"] for link in page["links"] if link["rel"] == "next"]
        url = nxt[0].replace("http://testserver", "") if nxt else ""
    return found


def test_landing_page_links_the_api_definition_conformance_and_data(api: TestClient) -> None:
    # /req/core/root-op, /req/core/root-success: no credentials needed to discover
    r = api.get("/v1/")
    assert r.status_code == 200
    rels = {link["rel"]: link for link in r.json()["links"]}
    assert {"self", "service-desc", "service-doc", "conformance", "data"} <= rels.keys()
    definition = api.get(rels["service-desc"]["href"]).json()
    assert definition["openapi"].startswith("3.1")
    schemes = definition["components"]["securitySchemes"]
    flow = schemes["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/v1/oauth/token" and set(flow["scopes"]) == {
        "parcels:read", "fard:read", "valuation:read", "holdings:read"
    }  # fmt: skip
    assert schemes["apiKey"] == {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                 "description": schemes["apiKey"]["description"]}  # fmt: skip
    fard = definition["paths"]["/v1/fard/{code}"]["get"]
    assert {"oauth2": ["fard:read"]} in fard["security"]
    docs = api.get(rels["service-doc"]["href"])
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    # the docs are served from the API itself: no CDN
    assert "cdn" not in docs.text.lower() and "https://" not in docs.text
    assert api.get("/v1/docs/static/swagger-ui-bundle.js").status_code == 200


def test_conformance_declares_core_and_geojson(api: TestClient) -> None:
    # /req/core/conformance-op, /req/core/conformance-success
    r = api.get("/v1/conformance")
    assert r.status_code == 200
    assert set(r.json()["conformsTo"]) == set(CONFORMANCE)
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in CONFORMANCE


def test_collections_describe_extent_crs_and_items_links(api: TestClient) -> None:
    # /req/core/fc-md-op, /req/core/fc-md-success, /req/core/fc-md-links, /req/core/fc-md-extent
    body = api.get("/v1/collections").json()
    assert [c["id"] for c in body["collections"]] == ["khasras", "mouzas", "state-land"]
    for c in body["collections"]:
        one = api.get(f"/v1/collections/{c['id']}").json()
        assert one == c
        items = [link for link in c["links"] if link["rel"] == "items"]
        assert items and items[0]["type"] == GEOJSON
        (x0, y0, x1, y1) = c["extent"]["spatial"]["bbox"][0]
        assert 60 < x0 < x1 < 80 and 23 < y0 < y1 < 38  # Pakistan, lon/lat
        assert c["crs"] == ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"]
    problem(api.get("/v1/collections/owners"), 404, "not-found")


def test_items_are_geojson_with_counts_and_links(
    api: TestClient, api_demo: ApiDemo, gis: dict[str, str]
) -> None:
    # /req/geojson/content, /req/core/fc-response, /req/core/fc-links, /req/core/fc-limit-response-1
    r = api.get("/v1/collections/khasras/items?limit=7", headers=gis)
    assert r.status_code == 200 and r.headers["content-type"] == GEOJSON
    page = r.json()
    assert page["type"] == "FeatureCollection" and page["numberReturned"] == 7
    assert page["timeStamp"].endswith("Z")
    f = page["features"][0]
    assert f["type"] == "Feature" and f["geometry"]["type"] == "MultiPolygon"
    props = f["properties"]
    assert {"khasra", "mouza", "hadbast", "land_class", "area_kms", "khewats", "as_of"} <= set(
        props
    )
    # no personal data in parcels:read
    assert not {"owners", "cnic", "name", "holders"} & set(props)
    rels = {link["rel"] for link in page["links"]}
    assert {"self", "next", "collection"} <= rels and "prev" not in rels
    second = api.get(
        next(link["href"] for link in page["links"] if link["rel"] == "next"), headers=gis
    ).json()
    assert "prev" in {link["rel"] for link in second["links"]}
    assert {f["id"] for f in second["features"]}.isdisjoint({f["id"] for f in page["features"]})
    # a limit above the maximum is served as the maximum (/per/core/limit-response)
    big = api.get(f"/v1/collections/khasras/items?limit={MAX_LIMIT * 5}", headers=gis).json()
    assert big["numberReturned"] == min(MAX_LIMIT, big["numberMatched"])
    # the recorded area, written in kanal-marla-sarsai as the domain writes it
    for feature in big["features"]:
        p = feature["properties"]
        assert p["area_kms"] == format_kms(KanalMarlaSarsai.from_sarsai(p["area_sarsai"]))


def test_a_mouzas_parcels_page_through_to_what_the_dashboard_reads(
    api: TestClient, api_demo: ApiDemo, gis: dict[str, str]
) -> None:
    mouza = api_demo.mouza_ids[0]
    with api_demo.engine.connect() as conn:
        expected = mouza_parcels(conn, mouza, api_demo.today)
    got = _all(api, gis, f"/v1/collections/khasras/items?mouza={mouza}&limit=250")
    assert [f["id"] for f in got] == sorted(expected.khasra_id.tolist())
    by_id = expected.set_index("khasra_id")
    for f in got[:50]:
        row = by_id.loc[f["id"]]
        assert f["properties"]["khasra"] == row.khasra_no
        assert ",".join(map(str, f["properties"]["khewats"])) == (row.khewat_no or "")
        assert shape(f["geometry"]).equals_exact(row.geom, 1e-6)


def test_bbox_selects_the_parcels_that_intersect_it(
    api: TestClient, api_demo: ApiDemo, gis: dict[str, str]
) -> None:
    # /req/core/fc-bbox-definition, /req/core/fc-bbox-response
    mouza = api_demo.mouza_ids[0]
    with api_demo.engine.connect() as conn:
        parcels = mouza_parcels(conn, mouza, api_demo.today)
    x0, y0, x1, y1 = parcels.total_bounds
    window = box(x0 + (x1 - x0) * 0.3, y0 + (y1 - y0) * 0.3, x0 + (x1 - x0) * 0.6, y1)
    expected = sorted(parcels.khasra_id[shapely.intersects(parcels.geometry.values, window)])
    bbox = ",".join(f"{v:.7f}" for v in window.bounds)
    got = _all(api, gis, f"/v1/collections/khasras/items?bbox={bbox}&limit=100")
    inside = sorted(f["id"] for f in got if f["properties"]["mouza_id"] == mouza)
    assert inside == expected and len(expected) > 10
    assert all(shape(f["geometry"]).intersects(window) for f in got)
    matched = api.get(f"/v1/collections/khasras/items?bbox={bbox}&limit=1", headers=gis).json()
    assert matched["numberMatched"] == len(got)


def test_datetime_gives_the_record_of_that_date(
    api: TestClient, api_demo: ApiDemo, gis: dict[str, str]
) -> None:
    # /req/core/fc-time-definition, /req/core/fc-time-response
    with api_demo.engine.connect() as conn:
        retired = conn.execute(
            text(
                "SELECT id, created_on, retired_on, mouza_id FROM khasra"
                " WHERE retired_on IS NOT NULL ORDER BY retired_on LIMIT 1"
            )
        ).one()
    before = retired.retired_on.replace(day=1) if retired.retired_on.day > 1 else (
        date(retired.retired_on.year - 1, 12, 31)
    )  # fmt: skip
    url = f"/v1/collections/khasras/items?mouza={retired.mouza_id}&limit=1000"
    then = {f["id"]: f for f in _all(api, gis, f"{url}&datetime={before.isoformat()}")}
    now = {f["id"] for f in _all(api, gis, url)}
    assert retired.id in then and retired.id not in now
    assert then[retired.id]["properties"]["as_of"] == before.isoformat()
    with api_demo.engine.connect() as conn:
        assert len(then) == len(mouza_parcels(conn, retired.mouza_id, before))
    # a date-time in UTC is the day in Pakistan
    late = api.get(f"{url}&datetime={before.isoformat()}T20:00:00Z", headers=gis).json()
    assert late["features"][0]["properties"]["as_of"] > before.isoformat()
    # a period: every khasra live on some day of it, each as of its last day then
    period = _all(api, gis, f"{url}&datetime={before.isoformat()}/..")
    ids = {f["id"] for f in period}
    assert ids == set(then) | now
    gone = next(f for f in period if f["id"] == retired.id)
    assert gone["properties"]["as_of"] < retired.retired_on.isoformat()
    # one feature by id, as of a date
    one = api.get(f"/v1/collections/khasras/items/{retired.id}?datetime={before}", headers=gis)
    assert one.status_code == 200 and one.json()["properties"]["retired_on"]
    problem(api.get("/v1/collections/khasras/items/999999999", headers=gis), 404, "not-found")


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=74,32,73,31", "bbox"),
        ("bbox=74,95,75,96", "bbox"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2020-01-01/2019-01-01", "datetime"),
        ("limit=0", "limit"),
        ("limit=ten", "limit"),
        ("offset=-1", "offset"),
        ("owner=35202", "owner"),
        ("f=html", "f"),
    ],
)
def test_bad_parameters_are_400_problems_naming_the_parameter(
    api: TestClient, gis: dict[str, str], query: str, name: str
) -> None:
    # /req/core/query-param-invalid, /req/core/query-param-unknown
    r = api.get(f"/v1/collections/khasras/items?{query}", headers=gis)
    body = problem(r, 400, "bad-request")
    assert [e["name"] for e in body["errors"]] == [name]
    assert body["errors"][0]["in"] == "query" and body["errors"][0]["reason"]


def test_mouza_boundaries_and_state_land(
    api: TestClient, api_demo: ApiDemo, gis: dict[str, str]
) -> None:
    mouzas = _all(api, gis, "/v1/collections/mouzas/items")
    assert {f["id"] for f in mouzas} >= set(api_demo.mouza_ids)
    assert all(f["properties"]["hadbast"] and f["properties"]["name_ur"] for f in mouzas)
    state = _all(api, gis, "/v1/collections/state-land/items?limit=3")
    with api_demo.engine.connect() as conn:
        of_first = mouza_state_land(conn, api_demo.mouza_ids[0])
    assert set(of_first.state_land_id) <= {f["id"] for f in state}
    one = api.get(f"/v1/collections/state-land/items/{state[0]['id']}", headers=gis).json()
    assert one["properties"]["custodian"] == state[0]["properties"]["custodian"]
