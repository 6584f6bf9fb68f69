"""The HTTP API other agencies build on (``landgov serve api``): FastAPI on uvicorn,
versioned under ``/v1``.

- :mod:`~landgov.api.app`: the application, the OAuth 2.0 token endpoint, local docs,
  errors as RFC 9457 problem details (:mod:`~landgov.api.problems`);
- :mod:`~landgov.api.auth`: the calling client, its scopes and rate limit;
- :mod:`~landgov.api.features`: parcels, mouza boundaries and state land as OGC API -
  Features collections;
- :mod:`~landgov.api.records`: fard verification, holdings by CNIC;
- :mod:`~landgov.api.valuation`: values, transfer taxes, under-declared sales.

Clients, secrets and tokens themselves are :mod:`landgov.security.clients`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

    from landgov.config import Settings

POOL_SIZE = 20
"""Database connections the API keeps: as many as requests it serves at once from its
thread pool (40) that touch the database at the same moment, measured by bench/api_load.py."""


def build_app(settings: Settings | None = None) -> FastAPI:
    """The API over the configured database (application role), with the token key
    under ``$LANDGOV_HOME/secrets/api`` (made on first use). ``LANDGOV_API_THREADS``
    (``landgov serve api --threads``) bounds the calls a process works on at once, and
    its database connections with them."""
    from sqlalchemy import create_engine

    from landgov.api.app import create_app
    from landgov.config import load_settings
    from landgov.security.clients import TokenSigner, token_key_path

    settings = settings or load_settings()
    threads = int(os.environ.get("LANDGOV_API_THREADS", "0")) or None
    engine = create_engine(
        settings.url(None, "app"),
        pool_size=threads or POOL_SIZE,
        max_overflow=10,
        # no ping before each use (two round trips a call): a connection the server
        # dropped fails one call, and SQLAlchemy then renews the whole pool
        pool_pre_ping=False,
        pool_recycle=600,
    )
    signer = TokenSigner.from_file(token_key_path(settings.secrets_dir))
    return create_app(engine, signer, threads=threads)


__all__ = ["build_app"]
