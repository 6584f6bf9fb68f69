"""API clients: other agencies' systems, their secrets, scopes, tokens and rate limits.

An API client is an institution's system, not a person: a bank verifying fards, the tax
office reading values, a GIS unit drawing parcels. An administrator registers it
(:func:`add_client`) with the scopes it needs (:data:`~landgov.security.policy.API_SCOPES`)
and a rate limit; the secret is shown once and kept only as its SHA-256.

How a client proves who it is
    - ``client_credentials`` (OAuth 2.0, RFC 6749 §4.4): the secret buys an access token
      at ``/v1/oauth/token``; the token is a JWT (RFC 7519) signed with HMAC-SHA-256 by a
      key kept outside the database (``$LANDGOV_HOME/secrets/api/token_signing.key``,
      0600), naming the client and its scopes and expiring after ``api_token_minutes``.
      The secret itself travels only to the token endpoint.
    - ``api_key``: the secret goes with every call (``X-API-Key``, or HTTP Basic with the
      client's name, for tools such as QGIS that send nothing else).

Either way every call looks the client up again and counts itself against the client's
limit, in one statement (:func:`call_by_id`, :func:`call_by_key`): a disabled client or a
withdrawn scope stops at once, whatever tokens it still holds, and the counts, kept per
client and minute in the database, hold across every process serving the API.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final, Literal

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from landgov.errors import AuthenticationFailed, LandgovError
from landgov.security import policy
from landgov.security.actor import Actor
from landgov.security.authz import authorize
from landgov.security.sessions import bind

AuthMethod = Literal["client_credentials", "api_key"]
AUTH_METHODS: Final = ("client_credentials", "api_key")
NAME_RE: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
SECRET_PREFIX: Final = "lgk_"
DEFAULT_RATE_PER_MINUTE: Final = 600
TOKEN_ISSUER: Final = "landgov"
TOKEN_AUDIENCE: Final = "landgov-api"
BAD_CLIENT: Final = "client authentication failed: unknown client, wrong secret or disabled"
"""The one answer to every failed client authentication (as :data:`sessions.FAILED`)."""


class ClientError(LandgovError):
    """An API client cannot be registered or changed as asked."""


class RateLimited(LandgovError):
    """A client has used up its calls (or its failed fard lookups) for this minute."""

    def __init__(self, message: str, *, limit: int, retry_after_s: int) -> None:
        super().__init__(message)
        self.limit = limit
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class ApiClient:
    """A registered client as the database holds it (never its secret).

    Attributes:
        id: ``api_client.id``.
        name: the client id it authenticates with (``demo-bank``).
        agency: the institution it belongs to.
        scopes: what it may read.
        auth_method: ``client_credentials`` or ``api_key``.
        rate_per_minute: calls allowed per minute.
    """

    id: int
    name: str
    agency: str
    scopes: frozenset[str]
    auth_method: AuthMethod
    rate_per_minute: int

    @property
    def label(self) -> str:
        """How audit and access rows name the client: ``client:NAME``."""
        return f"client:{self.name}"

    @property
    def user_id(self) -> None:
        """No ``app_user``: the access log names the client instead."""
        return None


@dataclass(frozen=True)
class ClientRow(ApiClient):
    """A client with its history, as ``landgov api-clients list`` shows it."""

    created_by: str = ""
    created_at: datetime | None = None
    secret_rotated_at: datetime | None = None
    disabled_at: datetime | None = None


@dataclass(frozen=True)
class RateState:
    """Where a client stands in the current minute (for ``RateLimit-*`` headers)."""

    limit: int
    remaining: int
    reset_s: int


def new_secret() -> str:
    """A client secret: ``lgk_`` and 256 random bits (URL-safe base64)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.strip().encode("utf-8")).hexdigest()


_COLUMNS: Final = "id, name, agency, scopes, auth_method, rate_per_minute"


def _client(row: Any) -> ApiClient:
    return ApiClient(
        id=int(row.id),
        name=str(row.name),
        agency=str(row.agency),
        scopes=frozenset(row.scopes),
        auth_method=row.auth_method,
        rate_per_minute=int(row.rate_per_minute),
    )


# --- the administrator's commands ---------------------------------------------------------


def _check_new(name: str, agency: str, auth_method: str, rate_per_minute: int) -> None:
    if not NAME_RE.fullmatch(name):
        raise ClientError(
            f"client name {name!r}: 2-63 characters of a-z, 0-9, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    if not agency.strip():
        raise ClientError("give the agency the client belongs to (--agency)")
    if auth_method not in AUTH_METHODS:
        raise ClientError(f"auth method {auth_method!r}: choose {' or '.join(AUTH_METHODS)}")
    if not 1 <= rate_per_minute <= 1_000_000:
        raise ClientError(f"rate limit {rate_per_minute}: give 1 to 1000000 calls a minute")


def add_client(
    engine: Engine,
    actor: Actor,
    *,
    name: str,
    agency: str,
    scopes: Iterable[str] | str,
    auth_method: str = "client_credentials",
    rate_per_minute: int = DEFAULT_RATE_PER_MINUTE,
) -> tuple[ApiClient, str]:
    """Registers a client; returns it and its secret (shown once, stored as SHA-256).

    Raises:
        AccessDenied: the actor may not manage API clients (an administrator signed in
            with TOTP, or the demo service).
        ClientError: a bad name, agency, method, scope or rate, or the name is taken.
    """
    name = name.strip().lower()
    _check_new(name, agency, auth_method, rate_per_minute)
    try:
        granted = policy.parse_scopes(scopes)
    except ValueError as exc:
        raise ClientError(str(exc)) from None
    secret = new_secret()
    from landgov.storage.audit import append as audit_append

    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "api_clients.manage")
        try:
            with conn.begin_nested():
                row = conn.execute(
                    text(
                        "INSERT INTO api_client (name, agency, scopes, auth_method, secret_hash,"
                        " rate_per_minute, created_by) VALUES (:n, :a, :s, :m, :h, :r, :by)"
                        f" RETURNING {_COLUMNS}"
                    ),
                    {"n": name, "a": agency.strip(), "s": sorted(granted), "m": auth_method,
                     "h": secret_hash(secret), "r": rate_per_minute, "by": actor.label},
                ).one()  # fmt: skip
        except IntegrityError:
            raise ClientError(f"an API client named {name!r} already exists") from None
        client = _client(row)
        audit_append(
            conn, actor=actor.label, action="api_client.add", entity="api_client",
            entity_id=str(client.id),
            details={"name": name, "agency": client.agency, "scopes": sorted(granted),
                     "auth_method": auth_method, "rate_per_minute": rate_per_minute},
        )  # fmt: skip
    return client, secret


def _change(
    engine: Engine, actor: Actor, name: str, action: str, sql: str
) -> tuple[ApiClient, str]:
    """Applies ``sql`` (an UPDATE of the client, given ``:h``, a new secret's hash) to
    client ``name`` as ``actor``, audited as ``action``; returns the client and the new
    secret (stored only when ``sql`` sets ``secret_hash``)."""
    from landgov.storage.audit import append as audit_append

    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "api_clients.manage")
        secret = new_secret()
        row = conn.execute(
            text(sql + f" WHERE name = :n RETURNING {_COLUMNS}"),
            {"n": name.strip().lower(), "h": secret_hash(secret)},
        ).one_or_none()
        if row is None:
            raise ClientError(f"no API client named {name!r}")
        audit_append(conn, actor=actor.label, action=action, entity="api_client",
                     entity_id=str(row.id), details={"name": row.name})  # fmt: skip
    return _client(row), secret


def rotate_secret(engine: Engine, actor: Actor, name: str) -> tuple[ApiClient, str]:
    """A new secret for client ``name`` (the old one stops at once; tokens bought with it
    run out within ``api_token_minutes``). Returns the client and the new secret.

    Raises:
        AccessDenied, ClientError: as :func:`add_client`; no such client.
    """
    return _change(
        engine, actor, name, "api_client.rotate",
        "UPDATE api_client SET secret_hash = :h, secret_rotated_at = clock_timestamp()",
    )  # fmt: skip


def disable_client(engine: Engine, actor: Actor, name: str) -> ApiClient:
    """Disables client ``name``: every call, with any token, is refused from now on.

    Raises:
        AccessDenied, ClientError: as :func:`add_client`; no such client.
    """
    client, _ = _change(
        engine, actor, name, "api_client.disable",
        "UPDATE api_client SET disabled_at = coalesce(disabled_at, clock_timestamp())",
    )  # fmt: skip
    return client


def list_clients(engine: Engine, actor: Actor) -> list[ClientRow]:
    """Every client, by name (administrators and auditors).

    Raises:
        AccessDenied: the actor is neither.
    """
    if not actor.has("audit.read"):
        policy.check_role(actor.roles, "api_clients.manage", actor.display)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                f"SELECT {_COLUMNS}, created_by, created_at, secret_rotated_at, disabled_at"
                " FROM api_client ORDER BY name"
            )
        ).all()
    return [
        ClientRow(
            **_client(r).__dict__,
            created_by=r.created_by,
            created_at=r.created_at,
            secret_rotated_at=r.secret_rotated_at,
            disabled_at=r.disabled_at,
        )
        for r in rows
    ]


# --- who is calling ------------------------------------------------------------------------


def client_by_secret(
    conn: Connection, secret: str, *, name: str | None = None, method: AuthMethod | None = None
) -> ApiClient:
    """The active client whose secret is ``secret`` (and, when given, named ``name`` and
    registered for ``method``).

    Raises:
        AuthenticationFailed: :data:`BAD_CLIENT`, whatever did not match.
    """
    row = conn.execute(
        text(f"SELECT {_COLUMNS}, disabled_at FROM api_client WHERE secret_hash = :h"),
        {"h": secret_hash(secret)},
    ).one_or_none()
    if (
        row is None
        or row.disabled_at is not None
        or (name is not None and not hmac.compare_digest(str(row.name), name.strip().lower()))
        or (method is not None and row.auth_method != method)
    ):
        raise AuthenticationFailed(BAD_CLIENT)
    return _client(row)


_COUNT: Final = text(
    "INSERT INTO api_rate_window AS w (client_id, bucket, window_start, calls)"
    " VALUES (:c, :b, date_trunc('minute', clock_timestamp()), :n)"
    " ON CONFLICT (client_id, bucket, window_start) DO UPDATE SET calls = w.calls + :n"
    " RETURNING w.calls,"
    " ceil(extract(epoch FROM w.window_start + interval '1 minute' - clock_timestamp()))"
)


def _window(conn: Connection, client: ApiClient, bucket: str, n: int) -> tuple[int, int]:
    calls, reset = conn.execute(_COUNT, {"c": client.id, "b": bucket, "n": n}).one()
    return int(calls), max(1, int(reset))


def count_call(conn: Connection, client: ApiClient) -> RateState:
    """Counts one call of ``client`` in this minute.

    Raises:
        RateLimited: the client's ``rate_per_minute`` is used up (the call is refused).
    """
    calls, reset = _window(conn, client, "calls", 1)
    return _within_rate(client, calls, reset)


def _within_rate(client: ApiClient, calls: int, reset: int) -> RateState:
    """Where ``client`` stands after ``calls`` this minute.

    Raises:
        RateLimited: more than its ``rate_per_minute``.
    """
    if calls > client.rate_per_minute:
        raise RateLimited(
            f"client {client.name} made more than {client.rate_per_minute} calls this "
            f"minute; try again in {reset} s",
            limit=client.rate_per_minute,
            retry_after_s=reset,
        )
    return RateState(client.rate_per_minute, client.rate_per_minute - calls, reset)


_CALL: Final = (
    "WITH c AS (SELECT " + _COLUMNS + " FROM api_client WHERE disabled_at IS NULL AND {where}),"
    " w AS (INSERT INTO api_rate_window AS w (client_id, bucket, window_start, calls)"
    "  SELECT id, 'calls', date_trunc('minute', clock_timestamp()), 1 FROM c"
    "  ON CONFLICT (client_id, bucket, window_start) DO UPDATE SET calls = w.calls + 1"
    "  RETURNING w.calls, ceil(extract(epoch FROM"
    "   w.window_start + interval '1 minute' - clock_timestamp())) AS reset)"
    " SELECT c.*, w.calls, w.reset FROM c, w"
)
_CALL_BY_ID: Final = text(_CALL.format(where="id = :i"))
_CALL_BY_SECRET: Final = text(
    _CALL.format(
        where="secret_hash = :h AND auth_method = 'api_key'"
        " AND (CAST(:n AS text) IS NULL OR name = :n)"
    )
)


def _counted(row: Any) -> tuple[ApiClient, RateState]:
    if row is None:
        raise AuthenticationFailed(BAD_CLIENT)
    client = _client(row)
    return client, _within_rate(client, int(row.calls), max(1, int(row.reset)))


def call_by_id(conn: Connection, client_id: int) -> tuple[ApiClient, RateState]:
    """The active client ``client_id`` (a token's) as it is now (scopes withdrawn since the
    token was issued are gone), with this call counted: one statement, as every call
    makes it.

    Raises:
        AuthenticationFailed: no such client, or disabled. RateLimited: over its limit.
    """
    try:
        return _counted(conn.execute(_CALL_BY_ID, {"i": client_id}).one_or_none())
    except AuthenticationFailed:
        raise AuthenticationFailed("the API client of this token is disabled or unknown") from None


def call_by_key(
    conn: Connection, secret: str, name: str | None = None
) -> tuple[ApiClient, RateState]:
    """The active ``api_key`` client whose secret is ``secret`` (named ``name``, for HTTP
    Basic), with this call counted, in one statement.

    Raises:
        AuthenticationFailed: :data:`BAD_CLIENT`. RateLimited: over its limit.
    """
    name = None if name is None else name.strip().lower()
    return _counted(
        conn.execute(_CALL_BY_SECRET, {"h": secret_hash(secret), "n": name}).one_or_none()
    )


def check_fard_misses(conn: Connection, client: ApiClient) -> None:
    """Refuses a fard lookup once ``client`` has looked up ``api_fard_misses_per_minute``
    unknown codes this minute (guessing codes costs a minute per handful).

    Raises:
        RateLimited: too many unknown codes this minute.
    """
    row = conn.execute(
        text(
            "SELECT s.value AS lim, w.calls, ceil(extract(epoch FROM"
            " date_trunc('minute', clock_timestamp()) + interval '1 minute'"
            " - clock_timestamp())) AS reset"
            " FROM security_setting s LEFT JOIN api_rate_window w ON w.client_id = :c"
            " AND w.bucket = 'fard_misses'"
            " AND w.window_start = date_trunc('minute', clock_timestamp())"
            " WHERE s.name = 'api_fard_misses_per_minute'"
        ),
        {"c": client.id},
    ).one()
    limit, misses, reset = int(row.lim), int(row.calls or 0), max(1, int(row.reset))
    if misses >= limit:
        raise RateLimited(
            f"client {client.name} looked up {misses} unknown fard codes this minute; "
            f"try again in {reset} s",
            limit=limit,
            retry_after_s=reset,
        )


def count_fard_miss(conn: Connection, client: ApiClient) -> None:
    """Counts one fard code ``client`` looked up in vain."""
    _window(conn, client, "fard_misses", 1)


def forget_old_windows(conn: Connection) -> None:
    """Drops the counts of minutes more than an hour old."""
    conn.execute(
        text(
            "DELETE FROM api_rate_window WHERE window_start < clock_timestamp() - interval '1 hour'"
        )
    )


# --- signed access tokens (JWT, HS256) -----------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


@dataclass(frozen=True)
class TokenClaims:
    """What a valid access token says."""

    client_id: int
    client_name: str
    scopes: frozenset[str]
    issued_at: int
    expires_at: int
    token_id: str


class TokenSigner:
    """Signs and checks access tokens with one HMAC-SHA-256 key.

    Why HMAC and not a public-key signature: only landgov itself checks its tokens, so
    one shared secret is enough, and checking costs microseconds on every call. Only
    ``HS256`` is accepted (a token naming another algorithm, ``none`` included, is
    refused before anything else is read).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("an API token key needs at least 256 bits")
        self._key = key
        self.key_id = hashlib.sha256(key).hexdigest()[:16]

    @classmethod
    def from_file(cls, path: Path) -> TokenSigner:
        """The key in ``path``, made (0600, in a 0700 folder) when there is none yet."""
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            st = path.stat()
            if st.st_mode & 0o077:
                raise AuthenticationFailed(
                    f"{path} can be read by other users: refusing the API token key"
                ) from None
        else:
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(secrets.token_hex(32) + "\n")
        return cls(bytes.fromhex(path.read_text(encoding="ascii").strip()))

    def _sign(self, signing_input: str) -> str:
        return _b64(hmac.new(self._key, signing_input.encode("ascii"), hashlib.sha256).digest())

    def issue(
        self, client: ApiClient, scopes: Iterable[str], minutes: int, *, now: float | None = None
    ) -> tuple[str, TokenClaims]:
        """A token for ``client`` carrying ``scopes`` (which it must hold), valid
        ``minutes``."""
        wanted = frozenset(scopes)
        if not wanted <= client.scopes:
            raise AuthenticationFailed(f"client {client.name} does not hold {sorted(wanted)}")
        issued = int(time.time() if now is None else now)
        claims = TokenClaims(
            client.id, client.name, wanted, issued, issued + minutes * 60, secrets.token_hex(8)
        )
        header = {"alg": "HS256", "typ": "at+jwt", "kid": self.key_id}
        payload = {
            "iss": TOKEN_ISSUER,
            "aud": TOKEN_AUDIENCE,
            "sub": client.name,
            "client_id": client.id,
            "scope": " ".join(sorted(wanted)),
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "jti": claims.token_id,
        }
        signing_input = ".".join(
            _b64(json.dumps(p, separators=(",", ":")).encode()) for p in (header, payload)
        )
        return f"{signing_input}.{self._sign(signing_input)}", claims

    def verify(self, token: str, *, now: float | None = None) -> TokenClaims:
        """The claims of a token this key signed, not expired.

        Raises:
            AuthenticationFailed: malformed, another algorithm or key, a bad signature,
                another issuer or audience, or expired.
        """
        bad = AuthenticationFailed("the access token is not valid: get a new one")
        parts = token.strip().split(".")
        if len(parts) != 3:
            raise bad
        try:
            header = json.loads(_unb64(parts[0]))
            if header.get("alg") != "HS256" or header.get("kid") != self.key_id:
                raise bad
            expected = self._sign(f"{parts[0]}.{parts[1]}")
            if not hmac.compare_digest(expected, parts[2]):
                raise bad
            payload = json.loads(_unb64(parts[1]))
            claims = TokenClaims(
                client_id=int(payload["client_id"]),
                client_name=str(payload["sub"]),
                scopes=frozenset(str(payload["scope"]).split()),
                issued_at=int(payload["iat"]),
                expires_at=int(payload["exp"]),
                token_id=str(payload["jti"]),
            )
            if payload.get("iss") != TOKEN_ISSUER or payload.get("aud") != TOKEN_AUDIENCE:
                raise bad
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
            raise bad from None
        if claims.expires_at <= (time.time() if now is None else now):
            raise AuthenticationFailed("the access token has expired: get a new one")
        return claims


def token_key_path(secrets_dir: Path) -> Path:
    return secrets_dir / "api" / "token_signing.key"


__all__ = [
    "AUTH_METHODS",
    "BAD_CLIENT",
    "ApiClient",
    "AuthMethod",
    "ClientError",
    "ClientRow",
    "RateLimited",
    "RateState",
    "TokenClaims",
    "TokenSigner",
    "add_client",
    "call_by_id",
    "call_by_key",
    "check_fard_misses",
    "client_by_secret",
    "count_call",
    "count_fard_miss",
    "disable_client",
    "forget_old_windows",
    "list_clients",
    "new_secret",
    "rotate_secret",
    "secret_hash",
    "token_key_path",
]
