"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API answers is one JSON object: ``type`` (a URI naming the kind of
problem; ``GET`` it for a description), ``title`` (the kind, in words), ``status`` (the
HTTP status), ``detail`` (this occurrence: which field, which value, why) and
``instance`` (the request's path), plus members of its own kind: ``errors`` (each bad
parameter: where, which, why), ``scope`` (what a refused call needed), ``retry_after_s``.
The OAuth 2.0 token endpoint adds ``error`` (RFC 6749 §5.2) so OAuth libraries read it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from fastapi import Request
from fastapi.responses import JSONResponse

from landgov.errors import LandgovError

PROBLEM_JSON: Final = "application/problem+json"


@dataclass(frozen=True)
class Kind:
    status: int
    title: str
    description: str


KINDS: Final[dict[str, Kind]] = {
    "bad-request": Kind(
        400,
        "Bad request",
        "A parameter or the body is malformed or out of range; `errors` "
        "names each one (where, which, why). Nothing was read or written.",
    ),
    "unauthenticated": Kind(
        401,
        "Authentication required",
        "The call carries no valid credentials: an access "
        "token from /v1/oauth/token (Bearer), or the client's API key (X-API-Key or HTTP "
        "Basic), as the client was registered.",
    ),
    "invalid-client": Kind(
        401,
        "Client authentication failed",
        "Unknown client, wrong secret, or the client is "
        "disabled or registered for the other way of authenticating.",
    ),
    "insufficient-scope": Kind(
        403,
        "Scope not granted",
        "The client is not registered for the scope this call "
        "needs (`scope`). Ask the administrator of landgov to grant it.",
    ),
    "not-found": Kind(404, "Not found", "No such resource (khasra, mouza, mutation, person)."),
    "method-not-allowed": Kind(405, "Method not allowed", "This path does not take that method."),
    "not-acceptable": Kind(
        406, "Not acceptable", "The API answers JSON (GeoJSON for features) only."
    ),
    "cannot-value": Kind(
        422,
        "Cannot value",
        "The record exists but cannot be valued as asked (no DC rate in "
        "force, not a sale, no roll by that date).",
    ),
    "rate-limited": Kind(
        429,
        "Too many requests",
        "The client used up its calls for this minute (or looked "
        "up too many unknown fard codes); wait `retry_after_s` seconds (Retry-After).",
    ),
    "internal-error": Kind(
        500,
        "Internal error",
        "The server failed; the request id in X-Request-Id finds it in the server's log.",
    ),
}


class Problem(LandgovError):
    """An error to answer as problem details (what a route raises; landgov's own errors
    from the layers below are mapped to one by :func:`landgov.api.app._problem_of`).

    Args:
        kind: a key of :data:`KINDS`.
        detail: this occurrence, in words.
        headers: extra response headers (``WWW-Authenticate``, ``Retry-After``).
        extra: members of the kind (``errors``, ``scope``, ...).
    """

    def __init__(
        self,
        kind: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        if kind not in KINDS:
            raise ValueError(f"unknown problem kind {kind!r}")
        self.kind = kind
        self.detail = detail
        self.headers = dict(headers or {})
        self.extra = extra

    @property
    def status(self) -> int:
        return KINDS[self.kind].status


def problem_response(request: Request, problem: Problem) -> JSONResponse:
    kind = KINDS[problem.kind]
    body = {
        "type": str(request.url_for("problem_type", kind=problem.kind)),
        "title": kind.title,
        "status": kind.status,
        "detail": problem.detail,
        "instance": request.url.path,
        **problem.extra,
    }
    headers = dict(problem.headers)
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        headers["X-Request-Id"] = request_id
    return JSONResponse(body, status_code=kind.status, headers=headers, media_type=PROBLEM_JSON)
