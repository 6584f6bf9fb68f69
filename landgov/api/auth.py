"""Who calls: the client behind a request, its scope for the call, its rate limit.

Credentials, tried in this order:

- ``Authorization: Bearer <token>``: an access token from ``/v1/oauth/token``
  (:class:`~landgov.security.clients.TokenSigner`); the call may use the scopes the token
  names that the client still holds;
- ``X-API-Key: <secret>`` or ``Authorization: Basic <name:secret>``: a client registered
  for ``api_key``.

:func:`require` makes the dependency an endpoint declares: it authenticates, counts the
call against the client's limit (refused calls count too: a client hammering with a
missing scope is limited like any other), then checks the scope.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import APIKeyHeader, HTTPBasic, HTTPBasicCredentials, OAuth2
from sqlalchemy.engine import Engine

from landgov.api.problems import Problem
from landgov.errors import AuthenticationFailed
from landgov.security import clients, policy
from landgov.security.clients import ApiClient, RateLimited, TokenSigner

CHALLENGE = 'Bearer realm="landgov", Basic realm="landgov"'


@dataclass(frozen=True)
class ApiState:
    """What every request shares: the database and the token key."""

    engine: Engine
    signer: TokenSigner


def state_of(request: Request) -> ApiState:
    state: ApiState = request.app.state.landgov
    return state


def _unauthenticated(detail: str, kind: str = "unauthenticated") -> Problem:
    return Problem(kind, detail, headers={"WWW-Authenticate": CHALLENGE})


def rate_limited(exc: RateLimited) -> Problem:
    """A refused call's problem, with ``Retry-After`` and the ``RateLimit-*`` headers."""
    wait = str(exc.retry_after_s)
    return Problem(
        "rate-limited", str(exc), retry_after_s=exc.retry_after_s,
        headers={"Retry-After": wait, "RateLimit-Limit": str(exc.limit),
                 "RateLimit-Remaining": "0", "RateLimit-Reset": wait},
    )  # fmt: skip


def basic_credentials(header: str) -> tuple[str, str]:
    """(name, secret) of an ``Authorization: Basic`` value.

    Raises:
        Problem: ``unauthenticated``, the value is not base64 of ``name:secret``.
    """
    try:
        decoded = base64.b64decode(header.split(None, 1)[1], validate=True).decode("utf-8")
        name, secret = decoded.split(":", 1)
    except (IndexError, ValueError, binascii.Error, UnicodeDecodeError):
        raise _unauthenticated("the Basic credentials are not base64 of name:secret") from None
    return name, secret


def authenticate(state: ApiState, request: Request) -> tuple[ApiClient, frozenset[str]]:
    """The calling client and the scopes this call may use, with the call counted against
    the client's limit (one statement; ``request.state.rate`` keeps where it stands).

    Raises:
        Problem: ``unauthenticated`` (no or a bad token), ``invalid-client`` (a bad key)
            or ``rate-limited``.
    """
    header = request.headers.get("authorization", "")
    scheme = header.split(None, 1)[0].lower() if header else ""
    key = request.headers.get("x-api-key")
    try:
        if scheme == "bearer":
            token = header.split(None, 1)[1] if " " in header.strip() else ""
            claims = state.signer.verify(token)
            with state.engine.begin() as conn:
                client, rate = clients.call_by_id(conn, claims.client_id)
            usable = claims.scopes & client.scopes
        elif key is not None or scheme == "basic":
            name = None
            if key is None:
                name, key = basic_credentials(header)
            with state.engine.begin() as conn:
                client, rate = clients.call_by_key(conn, key, name)
            usable = client.scopes
        elif header:
            raise _unauthenticated(f"unsupported authorization scheme {scheme!r}: use Bearer")
        else:
            raise _unauthenticated(
                "no credentials: send an access token (Authorization: Bearer) or the "
                "client's API key (X-API-Key, or HTTP Basic)"
            )
    except AuthenticationFailed as exc:
        kind = "unauthenticated" if scheme == "bearer" else "invalid-client"
        raise _unauthenticated(str(exc), kind) from None
    except RateLimited as exc:
        raise rate_limited(exc) from None
    request.state.client = client
    request.state.rate = rate  # RateLimit-* headers: added by app.RequestLog
    return client, usable


# Declared so that the OpenAPI document names the ways in (and Swagger UI shows its
# Authorize button); they read nothing themselves: authenticate() reads the headers.
OAUTH2 = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/v1/oauth/token", scopes=dict(policy.API_SCOPES)
        )
    ),
    scheme_name="oauth2",
    description="OAuth 2.0 client credentials: a client registered with --auth "
    "client_credentials buys a 15-minute token with its id and secret.",
    auto_error=False,
)
API_KEY = APIKeyHeader(
    name="X-API-Key",
    scheme_name="apiKey",
    description="The secret of a client registered with --auth api_key.",
    auto_error=False,
)
BASIC = HTTPBasic(
    scheme_name="basic",
    description="Client id and secret of an api_key client (what QGIS sends).",
    auto_error=False,
)


_API_KEY_SCHEME = Security(API_KEY)
_BASIC_SCHEME = Security(BASIC)


def require(scope: str) -> Callable[..., ApiClient]:
    """The dependency of an endpoint that needs ``scope``: the calling client. Refused
    calls count too: a client hammering with a missing scope is limited like any other."""

    token_scheme = Security(OAUTH2, scopes=[scope])

    def dependency(
        request: Request,
        # defaults, not Annotated: the annotations are strings here (PEP 563) and
        # ``scope`` lives in this closure, where FastAPI could not resolve it
        _token: str | None = token_scheme,
        _key: str | None = _API_KEY_SCHEME,
        _basic: HTTPBasicCredentials | None = _BASIC_SCHEME,
    ) -> ApiClient:
        client, usable = authenticate(state_of(request), request)
        if scope not in usable:
            held = "the client holds it but this token was issued without it"
            raise Problem(
                "insufficient-scope",
                f"client {client.name} may not call this: it needs the scope {scope}"
                + (f" ({held})" if scope in client.scopes else ""),
                scope=scope,
                headers={
                    "WWW-Authenticate": f'Bearer realm="landgov", error="insufficient_scope",'
                    f' scope="{scope}"'
                },
            )
        return client

    dependency.__name__ = f"require_{scope.replace(':', '_')}"
    return dependency


ParcelsReader = Annotated[ApiClient, Depends(require("parcels:read"))]
FardReader = Annotated[ApiClient, Depends(require("fard:read"))]
ValuationReader = Annotated[ApiClient, Depends(require("valuation:read"))]
HoldingsReader = Annotated[ApiClient, Depends(require("holdings:read"))]
