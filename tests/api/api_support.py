"""What the API tests share: the session's demo (:class:`ApiDemo`), tokens, problems."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.records.fard import FardIssue
from landgov.security.clients import ApiClient, TokenSigner, add_client
from landgov.storage.officers import jurisdiction_mouzas

PROBLEM = "application/problem+json"
ALL_SCOPES = ("fard:read", "holdings:read", "parcels:read", "valuation:read")
PAST = date(2012, 1, 1)


@dataclass
class ApiDemo:
    """The session's API database and what the fixtures put in it."""

    engine: Engine
    signer: TokenSigner
    today: date
    officer_cnic: str
    mouza_ids: list[int]
    fards: dict[str, FardIssue] = field(default_factory=dict)
    holder_cnic: str = ""
    secrets: dict[str, str] = field(default_factory=dict)
    clients: dict[str, ApiClient] = field(default_factory=dict)

    def new_client(
        self,
        scopes: tuple[str, ...] = ALL_SCOPES,
        *,
        auth: str = "client_credentials",
        rate: int = 10_000,
        prefix: str = "test",
    ) -> tuple[ApiClient, str]:
        """A client of its own for one test (registered by the demo service)."""
        name = f"{prefix}-{secrets.token_hex(4)}"
        client, secret = add_client(
            self.engine, service_actor(self.engine, "demo"), name=name, agency=f"{prefix} agency",
            scopes=scopes, auth_method=auth, rate_per_minute=rate,
        )  # fmt: skip
        self.clients[name], self.secrets[name] = client, secret
        return client, secret


def tehsildar_in_charge(conn: object, today: date) -> tuple[str, int, list[int]]:
    row = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT o.cnic, o.id FROM officer o JOIN officer_jurisdiction j ON j.officer_id = o.id"
            " WHERE o.designation = 'tehsildar' AND j.valid_from <= :d"
            " AND (j.valid_to IS NULL OR j.valid_to > :d) ORDER BY o.id LIMIT 1"
        ),
        {"d": today},
    ).one()
    return str(row.cnic), int(row.id), sorted(jurisdiction_mouzas(conn, int(row.id), today))  # type: ignore[arg-type]


def khewat_with_holders(
    conn: object, mouza_ids: list[int], *, changed_after: date | None
) -> tuple[int, int]:
    """(mouza id, khewat no) of a khewat with two or more living CNIC holders today;
    ``changed_after``: one whose shares changed after that date (held before it too)."""
    row = conn.execute(  # type: ignore[attr-defined]
        text(
            "SELECT w.mouza_id, w.number FROM khewat w JOIN share s ON s.khewat_id = w.id"
            " JOIN party p ON p.id = s.party_id WHERE w.mouza_id = ANY(:m)"
            " AND p.cnic IS NOT NULL AND s.right_type = 'ownership'"
            " GROUP BY w.mouza_id, w.number HAVING"
            " count(DISTINCT p.id) FILTER (WHERE s.valid_to IS NULL) >= 2"
            " AND (CAST(:after AS date) IS NULL OR (bool_or(s.valid_from > :after)"
            "      AND bool_or(s.valid_from <= :after)))"
            " ORDER BY w.mouza_id, w.number LIMIT 1"
        ),
        {"m": mouza_ids, "after": changed_after},
    ).one()
    return int(row.mouza_id), int(row.number)


def mouza_name(conn: object, mouza_id: int) -> str:
    return str(
        conn.execute(text("SELECT name FROM mouza WHERE id = :m"), {"m": mouza_id}).scalar_one()
    )  # type: ignore[attr-defined]


def bearer(api: TestClient, name: str, secret: str, scope: str | None = None) -> dict[str, str]:
    """The Authorization header of a fresh access token of client ``name``."""
    form = {"grant_type": "client_credentials"}
    if scope is not None:
        form["scope"] = scope
    r = api.post("/v1/oauth/token", data=form, auth=(name, secret))
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def problem(r: Any, status: int, kind: str) -> dict[str, Any]:
    """The body of a problem-details answer, checked for RFC 9457's members."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body: dict[str, Any] = r.json()
    assert body["type"].endswith(f"/v1/problems/{kind}")
    assert body["status"] == status and body["title"] and body["detail"]
    assert body["instance"].startswith("/v1/")
    assert r.headers["x-request-id"]
    return body
