"""Fard verification for banks and holdings by CNIC (issue 20, points 3 and 5): what each
answers, what it refuses, and the access log of every read of personal data."""

from __future__ import annotations

from typing import Any

from api_support import ApiDemo, bearer, problem
from fastapi.testclient import TestClient
from security_support import superuser_engine
from sqlalchemy import text

from landgov.domain import mask_cnic
from landgov.records.rights import person_holdings

CNIC_DIGITS = 13


def _access(api_demo: ApiDemo, client_id: int) -> list[Any]:
    with api_demo.engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT actor, user_id, action, subject_kind, subject, details FROM access_log"
                    " WHERE api_client_id = :c ORDER BY id"
                ),
                {"c": client_id},
            )
        )


def _cnics_in(value: Any) -> set[str]:
    import re

    return set(re.findall(r"\d{5}-\d{7}-\d", str(value)))


def test_a_bank_verifies_a_fard_and_learns_only_what_it_printed(
    api: TestClient, api_demo: ApiDemo
) -> None:
    client, secret = api_demo.new_client(("fard:read",), prefix="bank")
    fard = api_demo.fards["today"]
    r = api.get(f"/v1/fard/{fard.short_code}", headers=bearer(api, client.name, secret))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "valid" and body["full_code"] == fard.code
    assert body["changed_since_issue"] is False and body["differences"] == []
    issued = body["issued"]
    assert issued["record"] == "khewat" and issued["as_of"] == api_demo.today.isoformat()
    owners = [h for h in issued["rights"] if h["right_type"] == "ownership"]
    assert len(owners) >= 2 and all("/" in h["share"] for h in owners)
    # co-owners' CNICs are masked as on the printed fard: no full CNIC leaves
    assert all(mask_cnic(c) == c for c in _cnics_in(body))
    # the read is in the access log, naming the client and whose holding it was
    rows = _access(api_demo, client.id)
    assert [(r.actor, r.user_id, r.action, r.subject_kind) for r in rows] == [
        (f"client:{client.name}", None, "fard.verify", "khewat")
    ]
    assert rows[0].details["code"] == fard.short_code
    assert rows[0].details["request_id"] == r.headers["x-request-id"]


def test_a_fard_whose_holding_changed_since_is_superseded(
    api: TestClient, api_demo: ApiDemo
) -> None:
    client, secret = api_demo.new_client(("fard:read",), prefix="bank")
    body = api.get(
        f"/v1/fard/{api_demo.fards['past'].code}", headers=bearer(api, client.name, secret)
    ).json()
    assert body["status"] == "superseded" and body["changed_since_issue"] is True
    assert body["differences"] == []  # the record of 2012 still says what it printed
    assert any(d.startswith("rights: was") for d in body["changes_since_issue"])
    assert body["checked_on"] == api_demo.today.isoformat()


def test_an_altered_register_entry_is_reported(api: TestClient, api_demo: ApiDemo) -> None:
    fard = api_demo.fards["altered"]
    with superuser_engine(api_demo.engine).begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # past the trigger
        conn.execute(
            text("UPDATE fard_issue SET issued_by = 'user:someone.else' WHERE code = :c"),
            {"c": fard.code},
        )
    client, secret = api_demo.new_client(("fard:read",), prefix="bank")
    body = api.get(f"/v1/fard/{fard.code}", headers=bearer(api, client.name, secret)).json()
    assert body["status"] == "altered"
    assert "altered after issue" in " ".join(body["differences"])


def test_a_person_fard_shows_its_persons_cnic(api: TestClient, api_demo: ApiDemo) -> None:
    client, secret = api_demo.new_client(("fard:read",), prefix="bank")
    fard = api_demo.fards["person"]
    body = api.get(f"/v1/fard/{fard.short_code}", headers=bearer(api, client.name, secret)).json()
    assert body["status"] == "valid" and body["subject_kind"] == "person"
    assert body["issued"]["person"]["party"] == api_demo.holder_cnic
    assert _access(api_demo, client.id)[0].subject == api_demo.holder_cnic


def test_unknown_codes_are_answered_then_limited(api: TestClient, api_demo: ApiDemo) -> None:
    client, secret = api_demo.new_client(("fard:read",), prefix="guesser")
    headers = bearer(api, client.name, secret)
    answers = [api.get(f"/v1/fard/0000-0000-{i:04d}", headers=headers) for i in range(20)]
    assert all(r.status_code == 200 and r.json()["status"] == "unknown" for r in answers)
    assert all(r.json()["issued"] is None for r in answers)
    blocked = api.get(f"/v1/fard/{api_demo.fards['today'].short_code}", headers=headers)
    body = problem(blocked, 429, "rate-limited")
    assert "unknown fard codes" in body["detail"] and int(blocked.headers["retry-after"]) >= 1
    assert _access(api_demo, client.id) == []  # nothing was read
    # a malformed code is a 400 naming why (and counts as a miss)
    other, other_secret = api_demo.new_client(("fard:read",), prefix="bank")
    r = api.get("/v1/fard/not-a-code!", headers=bearer(api, other.name, other_secret))
    assert "not a verification code" in problem(r, 400, "bad-request")["detail"]


def test_an_agency_reads_a_persons_holdings_and_the_read_is_logged(
    api: TestClient, api_demo: ApiDemo
) -> None:
    client, secret = api_demo.new_client(("holdings:read",), prefix="agency")
    headers = bearer(api, client.name, secret)
    digits = api_demo.holder_cnic.replace("-", "")
    r = api.post("/v1/holdings", json={"cnic": digits}, headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    with api_demo.engine.connect() as conn:
        expected = person_holdings(conn, api_demo.holder_cnic, api_demo.today).snapshot()
    assert body == expected
    assert body["person"]["party"] == api_demo.holder_cnic and body["holdings"]
    on = api.post("/v1/holdings", json={"cnic": digits, "as_of": "2012-01-01"}, headers=headers)
    assert on.status_code == 200 and on.json()["as_of"] == "2012-01-01"
    rows = _access(api_demo, client.id)
    assert [(r.action, r.subject_kind, r.subject) for r in rows] == [
        ("ror.person", "party", api_demo.holder_cnic)
    ] * 2
    assert rows[0].details["agency"] == client.agency
    assert rows[0].details["request_id"] == r.headers["x-request-id"]


def test_bad_holdings_queries_write_nothing(api: TestClient, api_demo: ApiDemo) -> None:
    client, secret = api_demo.new_client(("holdings:read",), prefix="agency")
    headers = bearer(api, client.name, secret)
    cases = [
        ({"cnic": "12345"}, 400, "bad-request"),
        ({"cnic": api_demo.holder_cnic, "as_of": "31/12/2020"}, 400, "bad-request"),
        ({}, 400, "bad-request"),
        ({"cnic": "11111-1111111-1"}, 404, "not-found"),
    ]
    for body, status, kind in cases:
        found = problem(api.post("/v1/holdings", json=body, headers=headers), status, kind)
        if status == 400 and "errors" in found:
            assert found["errors"][0]["in"] == "body"
    assert _access(api_demo, client.id) == []
    # a CNIC never goes in a URL: there is no GET of holdings
    problem(api.get(f"/v1/holdings?cnic={api_demo.holder_cnic}", headers=headers), 405,
            "method-not-allowed")  # fmt: skip
