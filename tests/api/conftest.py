"""The API over a copy of the demo district: valued (DC and model rolls), three fards
issued by a tehsildar, and API clients registered by the demo service. Built once per
session; tests that change it (rate counts, access log, a disabled client) make their
own clients, so no test depends on another's leftovers.

``api`` is Starlette's in-process client; ``live_api`` serves the same application on
127.0.0.1 with uvicorn, for clients that only speak HTTP (QGIS, OWSLib, the browser).
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import PAST, ApiDemo, khewat_with_holders, mouza_name, tehsildar_in_charge
from database_support import _copy_demo, _drop
from fastapi.testclient import TestClient
from security_support import officer_actor, service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.api.app import create_app
from landgov.config import Settings
from landgov.demo.model import AS_OF
from landgov.records.fard import issue_fard
from landgov.security.clients import TokenSigner
from landgov.valuation.rates import load_dc_rates
from landgov.valuation.roll import run_roll


@pytest.fixture(scope="session")
def api_demo(
    settings: Settings,
    demo_engine: Engine,
    demo_dir: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[ApiDemo]:
    eng = _copy_demo(settings, demo_engine)
    load_dc_rates(eng, demo_dir / "dc_rates.csv", actor=service_actor(eng, "demo"))
    run_roll(eng, AS_OF, actor=service_actor(eng, "valuation"))
    run_roll(eng, AS_OF, method="model", actor=service_actor(eng, "valuation"))
    with eng.connect() as conn:
        today = conn.execute(text("SELECT current_date")).scalar_one()
        cnic, _, mouzas = tehsildar_in_charge(conn, today)
        now_m, now_k = khewat_with_holders(conn, mouzas, changed_after=None)
        old_m, old_k = khewat_with_holders(conn, mouzas, changed_after=PAST)
        now_name, old_name = mouza_name(conn, now_m), mouza_name(conn, old_m)
        # a person fard names every mouza the person holds land in, and its issuer must be
        # posted over each: a holder of the khewat whose land all lies in the charge
        holder = conn.execute(
            text(
                "SELECT p.cnic FROM khewat w JOIN share s ON s.khewat_id = w.id"
                " JOIN party p ON p.id = s.party_id WHERE w.mouza_id = :m AND w.number = :k"
                " AND s.valid_to IS NULL AND p.cnic IS NOT NULL AND NOT EXISTS ("
                "  SELECT 1 FROM share s2 JOIN khewat w2 ON w2.id = s2.khewat_id"
                "  WHERE s2.party_id = p.id AND s2.valid_to IS NULL"
                "  AND NOT w2.mouza_id = ANY(:all)) ORDER BY p.id LIMIT 1"
            ),
            {"m": now_m, "k": now_k, "all": mouzas},
        ).scalar_one()
    demo = ApiDemo(eng, TokenSigner(secrets.token_bytes(32)), today, cnic, mouzas)
    issuer = officer_actor(eng, cnic)
    out = tmp_path_factory.mktemp("fards")
    demo.holder_cnic = str(holder)
    demo.fards["today"] = issue_fard(
        eng, khewat=(now_name, now_k), as_of=today, out=out / "today.pdf", actor=issuer,
        purpose="mortgage",
    )  # fmt: skip
    demo.fards["past"] = issue_fard(
        eng, khewat=(old_name, old_k), as_of=PAST, out=out / "past.pdf", actor=issuer
    )
    demo.fards["altered"] = issue_fard(
        eng, khewat=(now_name, now_k), as_of=today, out=out / "altered.pdf", actor=issuer,
        purpose="to be tampered with",
    )  # fmt: skip
    demo.fards["person"] = issue_fard(
        eng, cnic=demo.holder_cnic, as_of=today, out=out / "person.pdf", actor=issuer
    )
    yield demo
    eng.dispose()
    _drop(settings, str(eng.url.database))


@pytest.fixture(scope="session")
def api_app(api_demo: ApiDemo):  # type: ignore[no-untyped-def]
    return create_app(api_demo.engine, api_demo.signer)


@pytest.fixture
def api(api_app) -> TestClient:  # type: ignore[no-untyped-def]
    return TestClient(api_app)


@pytest.fixture(scope="session")
def live_api(api_app) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """The API served by uvicorn on a free port of 127.0.0.1; yields its /v1 URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(api_app, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=10)
