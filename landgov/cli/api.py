"""``landgov serve api`` and ``landgov api-clients``: the HTTP API and who may call it.

Registering a client acts as the signed-in administrator (with the authenticator code) or,
with no one signed in, as the demo service with its key file (``make demo``'s clients).
The secret is shown once, or written to a credentials file readable only by its owner
(0600); the database keeps its SHA-256.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from landgov.cli._shell import clean_errors, engine, err, job_actor, out

if TYPE_CHECKING:
    from landgov.security.clients import ApiClient

serve_app = typer.Typer(help="Serve landgov over HTTP.", no_args_is_help=True)
clients_app = typer.Typer(
    help="API clients: other agencies' systems, their scopes and secrets.", no_args_is_help=True
)

DEFAULT_PORT = 8600


@serve_app.command("api")
@clean_errors
def serve_api(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = DEFAULT_PORT,
    workers: Annotated[int, typer.Option(help="Worker processes (rate limits are shared).")] = 1,
    threads: Annotated[
        int,
        typer.Option(
            help="Calls a worker works on at once, each with a database connection "
            "(4 served the most on two cores: docs/benchmarks.md; 0: AnyIO's 40)."
        ),
    ] = 4,
) -> None:
    """Serve the API (OpenAPI at /v1/openapi.json, docs at /v1/docs) until stopped."""
    import logging

    import uvicorn

    from landgov.api import build_app

    if threads:
        os.environ["LANDGOV_API_THREADS"] = str(threads)  # read by each worker's build_app
    build_app()  # fails here, with a clean message, if the database or key is unusable
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    out.print(f"landgov API on http://{host}:{port}/v1 (docs: http://{host}:{port}/v1/docs)",
              highlight=False, markup=False)  # fmt: skip
    uvicorn.run(
        "landgov.api:build_app", factory=True, host=host, port=port, workers=workers,
        access_log=False, log_level="warning", server_header=False,
    )  # fmt: skip


def _credentials(client: ApiClient, secret: str, api_url: str) -> str:
    return json.dumps(
        {
            "client_id": client.name,
            "client_secret": secret,
            "auth_method": client.auth_method,
            "scopes": sorted(client.scopes),
            "api_url": api_url.rstrip("/"),
            "token_url": api_url.rstrip("/") + "/oauth/token",
        },
        indent=2,
    )


def _hand_over(client: ApiClient, secret: str, credentials: Path | None, api_url: str) -> None:
    from landgov.storage.cluster import write_private

    if credentials is not None:
        write_private(credentials, _credentials(client, secret, api_url) + "\n")
        out.print(f"credentials of {client.name} in {credentials} (0600)", highlight=False,
                  markup=False)  # fmt: skip
        return
    out.print(f"client {client.name} ({client.auth_method}; {', '.join(sorted(client.scopes))})."
              " Its secret, shown only now:", highlight=False, markup=False)  # fmt: skip
    out.print(f"  {secret}", highlight=False, markup=False, soft_wrap=True)


def _still_valid(client_name: str, credentials: Path) -> bool:
    """Whether ``credentials`` holds the live secret of ``client_name``."""
    from landgov.errors import AuthenticationFailed
    from landgov.security.clients import client_by_secret

    try:
        saved = json.loads(credentials.read_text(encoding="utf-8"))
        with engine().connect() as conn:
            client_by_secret(conn, str(saved["client_secret"]), name=client_name)
        return True
    except (OSError, ValueError, KeyError, TypeError, AuthenticationFailed):
        return False


ApiUrl = Annotated[
    str, typer.Option("--api-url", help="The API's address, written to credentials files.")
]
Credentials = Annotated[
    Path | None,
    typer.Option("--credentials", help="Write the secret to this JSON file (0600), not stdout."),
]


@clients_app.command("add")
@clean_errors
def add_cmd(
    name: Annotated[str, typer.Argument(help="The client id: a-z, 0-9, . _ -.")],
    agency: Annotated[str, typer.Option(help="The institution it belongs to.")],
    scopes: Annotated[
        str,
        typer.Option(
            help="Comma-separated: fard:read, parcels:read, valuation:read, holdings:read."
        ),
    ],
    auth: Annotated[
        str, typer.Option(help="client_credentials (OAuth2 tokens) or api_key.")
    ] = "client_credentials",
    rate: Annotated[int, typer.Option(help="Calls allowed a minute.")] = 600,
    credentials: Credentials = None,
    api_url: ApiUrl = f"http://127.0.0.1:{DEFAULT_PORT}/v1",
    reuse: Annotated[
        bool,
        typer.Option(
            help="If the client exists: keep the credentials file when it still "
            "holds the live secret, else rotate the secret into it."
        ),
    ] = False,
) -> None:
    """Register an API client with its scopes; its secret is shown (or written) once."""
    from landgov.security.clients import ClientError, add_client, rotate_secret

    actor = job_actor("demo", "api_clients.manage")
    try:
        client, secret = add_client(
            engine(), actor, name=name, agency=agency, scopes=scopes, auth_method=auth,
            rate_per_minute=rate,
        )  # fmt: skip
    except ClientError as exc:
        if not (reuse and credentials is not None and "already exists" in str(exc)):
            raise
        if _still_valid(name, credentials):
            out.print(f"client {name} exists; {credentials} still holds its secret",
                      highlight=False, markup=False)  # fmt: skip
            return
        client, secret = rotate_secret(engine(), actor, name)
    _hand_over(client, secret, credentials, api_url)


@clients_app.command("rotate")
@clean_errors
def rotate_cmd(
    name: Annotated[str, typer.Argument(help="The client id.")],
    credentials: Credentials = None,
    api_url: ApiUrl = f"http://127.0.0.1:{DEFAULT_PORT}/v1",
) -> None:
    """Give a client a new secret; the old one stops working at once."""
    from landgov.security.clients import rotate_secret

    client, secret = rotate_secret(engine(), job_actor("demo", "api_clients.manage"), name)
    _hand_over(client, secret, credentials, api_url)


@clients_app.command("disable")
@clean_errors
def disable_cmd(name: Annotated[str, typer.Argument(help="The client id.")]) -> None:
    """Refuse every further call of a client, whatever tokens it holds."""
    from landgov.security.clients import disable_client

    client = disable_client(engine(), job_actor("demo", "api_clients.manage"), name)
    out.print(f"client {client.name} disabled", highlight=False, markup=False)


@clients_app.command("list")
@clean_errors
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every client with its scopes, method, limit and state (administrators, auditors)."""
    from landgov.cli._shell import current_actor
    from landgov.security.clients import list_clients

    rows = list_clients(engine(), current_actor())
    if as_json:
        print(json.dumps([
            {"name": r.name, "agency": r.agency, "scopes": sorted(r.scopes),
             "auth_method": r.auth_method, "rate_per_minute": r.rate_per_minute,
             "created_by": r.created_by, "created_at": r.created_at,
             "disabled_at": r.disabled_at} for r in rows
        ], default=str, indent=2))  # fmt: skip
        return
    table = Table("client", "agency", "scopes", "auth", "per minute", "state")
    for r in rows:
        state = "disabled" if r.disabled_at else "active"
        scopes = ", ".join(sorted(r.scopes))
        table.add_row(r.name, r.agency, scopes, r.auth_method, str(r.rate_per_minute), state)
    if not rows:
        err.print("no API clients yet: landgov api-clients add ...", highlight=False)
    out.print(table)
