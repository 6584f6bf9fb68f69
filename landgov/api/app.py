"""The API application: routes, the token endpoint, docs served locally, errors.

:func:`create_app` builds it over an engine and a token key; ``landgov serve api`` runs it
on uvicorn. Every route reads through landgov's own functions (storage, records,
valuation); this module holds no SQL.
"""

from __future__ import annotations

import importlib.util
import logging
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from landgov.api import features, records, valuation
from landgov.api.auth import ApiState, basic_credentials, rate_limited, state_of
from landgov.api.problems import KINDS, PROBLEM_JSON, Problem, problem_response
from landgov.errors import (
    AccessDenied,
    AuthenticationFailed,
    LandgovError,
    NoRateInForce,
)
from landgov.security import clients, policy
from landgov.security.clients import RateLimited, TokenSigner
from landgov.security.sessions import setting
from landgov.storage.lookup import NotFound

log = logging.getLogger("landgov.api")
access = logging.getLogger("landgov.api.access")

API_VERSION = "1.0"


class RequestLog:
    """Pure ASGI middleware: a request id for every call (``X-Request-Id``, echoed when
    the caller sends a sane one), the client's ``RateLimit-*`` headers on every answer
    (an endpoint that returns its own response object would drop headers set by a
    dependency), and one access line per call (client, method, path, status,
    milliseconds). Paths carry no CNIC (holdings are asked by POST)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if given.isalnum() and len(given) <= 64 else secrets.token_hex(8)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                headers = [(k, v) for k, v in message["headers"] if k != b"x-request-id"]
                headers.append((b"x-request-id", request_id.encode()))
                rate = scope["state"].get("rate")
                if rate is not None:
                    headers += [
                        (b"ratelimit-limit", str(rate.limit).encode()),
                        (b"ratelimit-remaining", str(rate.remaining).encode()),
                        (b"ratelimit-reset", str(rate.reset_s).encode()),
                    ]
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            client = scope["state"].get("client")
            access.info(
                "%s %s %s %s %d %.1fms", request_id,
                client.name if client is not None else "-", scope["method"], scope["path"],
                status, (time.perf_counter() - started) * 1000,
            )  # fmt: skip


def _problem_of(exc: LandgovError) -> Problem:
    """landgov's own errors as problem details."""
    if isinstance(exc, RateLimited):
        return rate_limited(exc)
    if isinstance(exc, NotFound):
        return Problem("not-found", str(exc))
    if isinstance(exc, AuthenticationFailed):
        return Problem("unauthenticated", str(exc), headers={"WWW-Authenticate": "Bearer"})
    if isinstance(exc, AccessDenied):
        return Problem("insufficient-scope", str(exc))
    if isinstance(exc, NoRateInForce):
        return Problem("cannot-value", str(exc))
    # DomainError (a bad CNIC), FardError (not a code) and the rest: the caller's input
    return Problem("bad-request", str(exc))


def _where(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "request"
    name = ".".join(str(p) for p in loc[1:]) or where
    return where, name


def create_app(engine: Engine, signer: TokenSigner, *, threads: int | None = None) -> FastAPI:
    """The API over ``engine`` (the application role), signing tokens with ``signer``;
    ``threads``: how many calls a process works on at once (AnyIO's default, 40, if None)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if threads is not None:
            import anyio.to_thread

            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        yield

    app = FastAPI(
        lifespan=lifespan,
        title="landgov API",
        version=API_VERSION,
        description=(
            "Land records for other agencies: parcels for GIS (OGC API - Features), fard "
            "verification, values and transfer taxes, holdings by CNIC. Authenticate with "
            "OAuth 2.0 client credentials (POST /v1/oauth/token) or an API key; errors are "
            "RFC 9457 problem details."
        ),
        openapi_url="/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
    )
    app.state.landgov = ApiState(engine=engine, signer=signer)
    app.add_middleware(RequestLog)
    app.include_router(features.router)
    app.include_router(records.router)
    app.include_router(valuation.router)
    _docs(app)
    _token_endpoint(app)
    _handlers(app)
    return app


def _swagger_static() -> Path:
    """Swagger UI's files as the ``swagger-ui-py`` package ships them, found without
    importing the package (its ``__init__`` wires web frameworks we do not use)."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed: run make setup")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def _docs(app: FastAPI) -> None:
    app.mount("/v1/docs/static", StaticFiles(directory=_swagger_static()), name="swagger_static")

    @app.get("/v1/docs", include_in_schema=False, name="swagger_ui")
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/v1/openapi.json",
            title="landgov API",
            swagger_js_url="/v1/docs/static/swagger-ui-bundle.js",
            swagger_css_url="/v1/docs/static/swagger-ui.css",
            swagger_favicon_url="/v1/docs/static/favicon-32x32.png",
        )

    @app.get("/v1/problems/{kind}", name="problem_type", summary="What a problem type means",
             tags=["Errors"])  # fmt: skip
    def problem_type(kind: str) -> dict[str, Any]:
        if kind not in KINDS:
            raise Problem("not-found", f"no problem type {kind!r}")
        k = KINDS[kind]
        return {"type": kind, "title": k.title, "status": k.status, "description": k.description}


def _token_endpoint(app: FastAPI) -> None:
    @app.post(
        "/v1/oauth/token",
        name="token",
        summary="OAuth 2.0 client credentials: an access token",
        tags=["Authentication"],
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/x-www-form-urlencoded": {
                        "schema": {
                            "type": "object",
                            "required": ["grant_type"],
                            "properties": {
                                "grant_type": {"type": "string", "enum": ["client_credentials"]},
                                "scope": {"type": "string"},
                                "client_id": {"type": "string"},
                                "client_secret": {"type": "string"},
                            },
                        }
                    }
                }
            }
        },
    )
    async def token(request: Request) -> JSONResponse:
        """RFC 6749 §4.4: the client authenticates with HTTP Basic (client id and secret)
        or ``client_id``/``client_secret`` in the form; ``scope`` (space-separated)
        narrows the token to part of what the client holds."""
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise _oauth("invalid_request", "send the form as application/x-www-form-urlencoded")
        body = (await request.body())[:8192].decode("utf-8", "replace")
        form = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
        if form.get("grant_type") != "client_credentials":
            raise _oauth(
                "unsupported_grant_type",
                f"grant_type {form.get('grant_type')!r}: only client_credentials is served",
            )
        header = request.headers.get("authorization", "")
        if header.lower().startswith("basic "):
            name, secret = basic_credentials(header)
        else:
            name, secret = form.get("client_id", ""), form.get("client_secret", "")
        state = state_of(request)
        return await run_in_threadpool(_issue_token, state, request, name, secret, form)


def _oauth(error: str, detail: str, status_kind: str = "bad-request") -> Problem:
    headers = {"Cache-Control": "no-store"}
    if error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="landgov"'
    return Problem(status_kind, detail, headers=headers, error=error)


def _issue_token(
    state: ApiState, request: Request, name: str, secret: str, form: dict[str, str]
) -> JSONResponse:
    if not name or not secret:
        raise _oauth("invalid_client", "give client_id and client_secret", "invalid-client")
    try:
        with state.engine.begin() as conn:
            client = clients.client_by_secret(conn, secret, name=name, method="client_credentials")
            request.state.client = client
            clients.count_call(conn, client)
            minutes = setting(conn, "api_token_minutes")
            clients.forget_old_windows(conn)
    except AuthenticationFailed as exc:
        raise _oauth("invalid_client", str(exc), "invalid-client") from None
    wanted = client.scopes
    if form.get("scope", "").strip():
        try:
            wanted = policy.parse_scopes(form["scope"])
        except ValueError as exc:
            raise _oauth("invalid_scope", str(exc)) from None
        if not wanted <= client.scopes:
            raise _oauth(
                "invalid_scope",
                f"client {client.name} holds {', '.join(sorted(client.scopes))}; not "
                + ", ".join(sorted(wanted - client.scopes)),
            )
    token, claims = state.signer.issue(client, wanted, minutes)
    return JSONResponse(
        {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": claims.expires_at - claims.issued_at,
            "scope": " ".join(sorted(claims.scopes)),
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def _handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def on_problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = []
        for e in exc.errors():
            where, name = _where(tuple(e.get("loc", ())))
            errors.append({"in": where, "name": name, "reason": str(e.get("msg"))})
        detail = "; ".join(f"{e['name']}: {e['reason']}" for e in errors)
        return problem_response(request, Problem("bad-request", detail, errors=errors))

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        kind = {404: "not-found", 405: "method-not-allowed", 406: "not-acceptable"}.get(
            exc.status_code, "bad-request"
        )
        detail = f"no such path {request.url.path}" if exc.status_code == 404 else str(exc.detail)
        return problem_response(request, Problem(kind, detail))

    @app.exception_handler(LandgovError)
    async def on_landgov(request: Request, exc: LandgovError) -> JSONResponse:
        return problem_response(request, _problem_of(exc))

    @app.exception_handler(Exception)
    async def on_crash(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request %s failed", getattr(request.state, "request_id", "?"))
        return problem_response(
            request, Problem("internal-error", "the server failed while answering this call")
        )


__all__ = ["API_VERSION", "PROBLEM_JSON", "create_app"]
