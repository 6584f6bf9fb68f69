"""Clients, tokens, scopes and rate limits (issue 20, point 6); errors as RFC 9457 problem
details."""

from __future__ import annotations

import base64
import json

import pytest
from api_support import ApiDemo, bearer, problem
from fastapi.testclient import TestClient
from security_support import service_actor, staff_actor
from sqlalchemy import text

from landgov.errors import AccessDenied
from landgov.security.clients import ClientError, add_client, disable_client, rotate_secret


def test_a_token_carries_the_clients_scopes_and_expires(api: TestClient, api_demo: ApiDemo) -> None:
    client, secret = api_demo.new_client()
    r = api.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                 auth=(client.name, secret))  # fmt: skip
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 15 * 60
    assert body["scope"].split() == sorted(client.scopes)
    claims = api_demo.signer.verify(body["access_token"])
    assert claims.client_id == client.id and claims.expires_at - claims.issued_at == 900
    # the same through the form's client_id/client_secret
    form = {"grant_type": "client_credentials", "client_id": client.name,
            "client_secret": secret, "scope": "fard:read"}  # fmt: skip
    r = api.post("/v1/oauth/token", data=form)
    assert r.status_code == 200 and r.json()["scope"] == "fard:read"
    # a narrowed token cannot do what the client could
    narrow = {"Authorization": f"Bearer {r.json()['access_token']}"}
    refused = problem(api.get("/v1/khasras/1/value", headers=narrow), 403, "insufficient-scope")
    assert refused["scope"] == "valuation:read" and "issued without it" in refused["detail"]


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"grant_type": "password"}, True, 400, "unsupported_grant_type"),
        ({"grant_type": "client_credentials", "scope": "land:write"}, True, 400, "invalid_scope"),
        ({"grant_type": "client_credentials"}, False, 401, "invalid_client"),
    ],
)
def test_the_token_endpoint_refuses_with_oauth_errors_in_problem_details(
    api: TestClient, api_demo: ApiDemo, form: dict, auth: bool, status: int, error: str
) -> None:
    client, secret = api_demo.new_client(("fard:read",))
    r = api.post("/v1/oauth/token", data=form, auth=(client.name, secret) if auth else None)
    body = problem(r, status, "invalid-client" if status == 401 else "bad-request")
    assert body["error"] == error


def test_a_wrong_secret_and_the_wrong_method_get_the_same_answer(
    api: TestClient, api_demo: ApiDemo
) -> None:
    cc, cc_secret = api_demo.new_client(("parcels:read",))
    key, key_secret = api_demo.new_client(("parcels:read",), auth="api_key")
    tries = [
        api.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                 auth=(cc.name, cc_secret + "x")),
        api.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                 auth=(key.name, key_secret)),  # an API-key client buys no tokens
        api.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                 auth=(cc.name, key_secret)),  # another client's secret
    ]  # fmt: skip
    details = {problem(r, 401, "invalid-client")["detail"] for r in tries}
    assert len(details) == 1
    # and a client-credentials secret is not an API key
    r = api.get("/v1/collections/khasras/items", headers={"X-API-Key": cc_secret})
    problem(r, 401, "invalid-client")
    assert "Bearer" in r.headers["www-authenticate"]


def test_an_api_key_works_as_a_header_and_as_http_basic(api: TestClient, api_demo: ApiDemo) -> None:
    client, secret = api_demo.new_client(("parcels:read",), auth="api_key")
    for headers in (
        {"X-API-Key": secret},
        {"Authorization": "Basic " + base64.b64encode(f"{client.name}:{secret}".encode()).decode()},
    ):
        r = api.get("/v1/collections/mouzas/items", headers=headers)
        assert r.status_code == 200, r.text
        assert int(r.headers["ratelimit-limit"]) == client.rate_per_minute
    # Basic with another client's name and this secret: refused
    bad = base64.b64encode(f"someone-else:{secret}".encode()).decode()
    problem(api.get("/v1/collections/mouzas/items", headers={"Authorization": f"Basic {bad}"}),
            401, "invalid-client")  # fmt: skip


def test_no_or_bad_credentials_are_refused_before_anything_is_read(
    api: TestClient, api_demo: ApiDemo
) -> None:
    client, secret = api_demo.new_client(("fard:read",))
    token = bearer(api, client.name, secret)["Authorization"].split()[1]
    head, payload, sig = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["scope"] = "fard:read holdings:read"  # a client granting itself more
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    none_alg = base64.urlsafe_b64encode(b'{"alg":"none","typ":"JWT"}').rstrip(b"=").decode()
    before = _reads_of(api_demo)
    for headers in (
        {},
        {"Authorization": "Bearer not-a-token"},
        {"Authorization": f"Bearer {head}.{forged}.{sig}"},
        {"Authorization": f"Bearer {none_alg}.{payload}."},
        {"Authorization": "Digest abc"},
    ):
        r = api.post("/v1/holdings", json={"cnic": api_demo.holder_cnic}, headers=headers)
        problem(r, 401, "unauthenticated")
        assert r.headers["www-authenticate"].startswith("Bearer")
    assert _reads_of(api_demo) == before


def _reads_of(api_demo: ApiDemo) -> int:
    with api_demo.engine.connect() as conn:
        sql = text("SELECT count(*) FROM access_log WHERE subject = :c")
        return int(conn.execute(sql, {"c": api_demo.holder_cnic}).scalar_one())


def test_an_expired_token_is_refused(api: TestClient, api_demo: ApiDemo) -> None:
    client, _ = api_demo.new_client(("fard:read",))
    token, _ = api_demo.signer.issue(client, {"fard:read"}, 15, now=0)  # expired in 1970
    r = api.get("/v1/fard/ABCD-EFGH-1234", headers={"Authorization": f"Bearer {token}"})
    assert "expired" in problem(r, 401, "unauthenticated")["detail"]


def test_each_scope_guards_its_endpoints(api: TestClient, api_demo: ApiDemo) -> None:
    with api_demo.engine.connect() as conn:
        sale = conn.execute(
            text("SELECT id FROM mutation WHERE type = 'sale' AND status = 'sanctioned'"
                 " AND consideration_rs IS NOT NULL AND deed_date >= '2025-07-01'"
                 " ORDER BY id LIMIT 1")
        ).scalar_one()  # fmt: skip
    mouza = api_demo.mouza_ids[0]
    calls = [
        ("parcels:read", "get", "/v1/collections/khasras/items?limit=1", None),
        ("parcels:read", "get", "/v1/collections/khasras/items/1", None),
        ("parcels:read", "get", "/v1/collections/state-land/items", None),
        ("fard:read", "get", f"/v1/fard/{api_demo.fards['today'].short_code}", None),
        ("valuation:read", "get", "/v1/khasras/1/value", None),
        ("valuation:read", "get", f"/v1/mutations/{sale}/transfer-tax", None),
        ("valuation:read", "get", f"/v1/mouzas/{mouza}/under-declared", None),
        ("holdings:read", "post", "/v1/holdings", {"cnic": api_demo.holder_cnic}),
    ]
    for scope in sorted({c[0] for c in calls}):
        client, secret = api_demo.new_client((scope,))
        headers = bearer(api, client.name, secret)
        for needed, method, path, body in calls:
            r = api.request(method, path, headers=headers, json=body)
            if needed == scope:
                assert r.status_code == 200, (scope, path, r.text)
            else:
                assert problem(r, 403, "insufficient-scope")["scope"] == needed
                assert f'scope="{needed}"' in r.headers["www-authenticate"]
    # what no record is in needs no credentials: OGC clients read it first
    for path in ("/v1/", "/v1/conformance", "/v1/collections", "/v1/openapi.json"):
        assert api.get(path).status_code == 200


def test_a_client_over_its_rate_waits_for_the_next_minute(
    api: TestClient, api_demo: ApiDemo
) -> None:
    _, secret = api_demo.new_client(("parcels:read",), auth="api_key", rate=3)
    answers = [api.get("/v1/collections/mouzas/items", headers={"X-API-Key": secret})
               for _ in range(4)]  # fmt: skip
    assert [r.status_code for r in answers[:3]] == [200, 200, 200]
    assert [r.headers["ratelimit-remaining"] for r in answers[:3]] == ["2", "1", "0"]
    body = problem(answers[3], 429, "rate-limited")
    assert 1 <= int(answers[3].headers["retry-after"]) <= 60
    assert body["retry_after_s"] == int(answers[3].headers["retry-after"])
    # another client is not held back by this one
    _, other_secret = api_demo.new_client(("parcels:read",), auth="api_key", rate=3)
    ok = api.get("/v1/collections/mouzas/items", headers={"X-API-Key": other_secret})
    assert ok.status_code == 200


def test_disabling_or_rotating_stops_a_client_at_once(api: TestClient, api_demo: ApiDemo) -> None:
    demo = service_actor(api_demo.engine, "demo")
    client, secret = api_demo.new_client(("parcels:read",))
    headers = bearer(api, client.name, secret)
    assert api.get("/v1/collections/mouzas/items", headers=headers).status_code == 200
    _, new_secret = rotate_secret(api_demo.engine, demo, client.name)
    problem(api.post("/v1/oauth/token", data={"grant_type": "client_credentials"},
                     auth=(client.name, secret)), 401, "invalid-client")  # fmt: skip
    assert bearer(api, client.name, new_secret)
    disable_client(api_demo.engine, demo, client.name)
    r = api.get("/v1/collections/mouzas/items", headers=headers)  # a token issued before
    assert "disabled" in problem(r, 401, "unauthenticated")["detail"]


def test_only_an_administrator_or_the_demo_service_registers_clients(api_demo: ApiDemo) -> None:
    engine = api_demo.engine
    with pytest.raises(AccessDenied, match="register API clients"):
        add_client(engine, staff_actor(engine, "revenue_analyst"), name="x-bank",
                   agency="X", scopes="fard:read")  # fmt: skip
    admin = staff_actor(engine, "administrator")
    client, secret = add_client(engine, admin, name="admin-made", agency="A Bank",
                                scopes="fard:read, parcels:read", rate_per_minute=60)  # fmt: skip
    assert client.scopes == {"fard:read", "parcels:read"} and secret.startswith("lgk_")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT secret_hash, created_by FROM api_client WHERE name = 'admin-made'")
        ).one()
        audit = conn.execute(
            text("SELECT count(*) FROM audit_log WHERE action = 'api_client.add'"
                 " AND details->>'name' = 'admin-made'")
        ).scalar_one()  # fmt: skip
    assert secret not in row.secret_hash and len(row.secret_hash) == 64
    assert row.created_by == admin.label and audit == 1
    for bad, why in [
        ({"name": "Bad Name"}, "client name"),
        ({"scopes": "fard:write"}, "unknown scope"),
        ({"scopes": ""}, "at least one scope"),
        ({"auth_method": "password"}, "auth method"),
        ({"rate_per_minute": 0}, "rate limit"),
        ({"name": "admin-made"}, "already exists"),
    ]:
        args = {"name": "good-name", "agency": "A", "scopes": "fard:read", **bad}
        with pytest.raises(ClientError, match=why):
            add_client(engine, admin, **args)  # type: ignore[arg-type]


def test_unknown_paths_and_methods_are_problems_too(api: TestClient) -> None:
    problem(api.get("/v1/no-such-thing"), 404, "not-found")
    problem(api.delete("/v1/collections"), 405, "method-not-allowed")
    kind = api.get("/v1/problems/rate-limited")
    assert kind.status_code == 200 and kind.json()["status"] == 429
