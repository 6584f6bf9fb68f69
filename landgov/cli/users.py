"""``landgov users``: an administrator's accounts (add, list, disable, reset, roles).

Every command acts as the signed-in administrator (``landgov login`` with the
authenticator code) through :mod:`landgov.security.accounts`, one audited transaction
each. A new account's one-time password and TOTP secret are printed once and never
stored in clear. ``bootstrap-admin`` makes the first administrator with the database
owner's credentials (the deployer's), and only while there is none.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from landgov.cli._shell import clean_errors, current_actor, engine, option_date, out

if TYPE_CHECKING:
    from landgov.security.accounts import NewAccount

app = typer.Typer(help="Accounts and roles (administrators).", no_args_is_help=True)

RoleOpt = Annotated[
    list[str] | None,
    typer.Option("--role", help="revenue_analyst, auditor or administrator; repeatable."),
]


def _hand_over(made: NewAccount, what: str) -> None:
    """Prints the one-time password (and TOTP secret) of a new or reset account."""
    from landgov.domain.totp import provisioning_uri

    username = made.username
    out.print(f"{what} {username}. Hand these over in person; they are shown only now:",
              highlight=False)  # fmt: skip
    out.print(
        f"  one-time password: {made.password}", highlight=False, markup=False, soft_wrap=True
    )
    secret = made.totp_secret
    if secret is not None:
        out.print(f"  TOTP secret: {secret}", highlight=False, markup=False, soft_wrap=True)
        out.print(f"  authenticator URI: {provisioning_uri(secret, username)}",
                  highlight=False, markup=False, soft_wrap=True)  # fmt: skip


@app.command("add")
@clean_errors
def add_cmd(
    username: Annotated[str, typer.Argument(help="Account name: a-z, digits, . _ -.")],
    name: Annotated[str, typer.Option("--name", help="The person's full name.")],
    cnic: Annotated[str | None, typer.Option(help="The person's CNIC.")] = None,
    officer: Annotated[
        str | None,
        typer.Option(
            "--officer",
            help="CNIC of the officer in the records this account is (designation and"
            " postings come from there).",
        ),
    ] = None,
    role: RoleOpt = None,
    totp: Annotated[
        bool, typer.Option("--totp", help="Enrol an authenticator even if the roles need none.")
    ] = False,
) -> None:
    """Create an account bound to a person (and an officer's postings, or staff roles)."""
    from landgov.security.accounts import add_user

    actor = current_actor("accounts.manage")
    made = add_user(
        engine(), actor, username=username, full_name=name, cnic=cnic, officer_cnic=officer,
        roles=list(role or []), totp=totp,
    )  # fmt: skip
    _hand_over(made, "created")


@app.command("list")
@clean_errors
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """Every account with its roles today (administrators and auditors)."""
    from landgov.security.accounts import list_users

    rows = list_users(engine(), current_actor())
    if as_json:
        typer.echo(json.dumps([
            {"username": r.username, "kind": r.kind, "full_name": r.full_name,
             "roles": list(r.roles), "officer": r.officer, "second_factor": r.second_factor,
             "disabled": r.disabled,
             "locked_until": r.locked_until.isoformat() if r.locked_until else None}  # type: ignore[attr-defined]
            for r in rows
        ]))  # fmt: skip
        return
    table = Table("username", "kind", "name", "roles", "officer", "TOTP", "state")
    for r in rows:
        state = "disabled" if r.disabled else ("locked" if r.locked_until else "active")
        table.add_row(r.username, r.kind, r.full_name, ", ".join(r.roles), r.officer or "",
                      "yes" if r.second_factor else "", state)  # fmt: skip
    out.print(table)
    out.print(f"{len(rows)} account(s)", highlight=False)


@app.command("disable")
@clean_errors
def disable_cmd(username: Annotated[str, typer.Argument(help="The account.")]) -> None:
    """Disable an account; its sessions end at once."""
    from landgov.security.accounts import disable

    disable(engine(), current_actor("accounts.manage"), username)
    out.print(f"disabled {username}; its sessions are ended", highlight=False)


@app.command("reset-password")
@clean_errors
def reset_password_cmd(
    username: Annotated[str, typer.Argument(help="The account.")],
    totp: Annotated[
        bool, typer.Option("--totp", help="Also enrol a new authenticator (a lost phone).")
    ] = False,
) -> None:
    """A new one-time password (and TOTP secret with --totp); unlocks the account and ends
    its sessions."""
    from landgov.security.accounts import reset_password

    made = reset_password(engine(), current_actor("accounts.manage"), username, totp=totp)
    _hand_over(made, "reset")


@app.command("roles")
@clean_errors
def roles_cmd(
    username: Annotated[str, typer.Argument(help="The account.")],
    grant: Annotated[
        list[str] | None, typer.Option("--grant", help="Role to grant; repeatable.")
    ] = None,
    end: Annotated[list[str] | None, typer.Option("--end", help="Role to end; repeatable.")] = None,
    on: Annotated[
        str | None, typer.Option("--on", help="From/on this date; default today.")
    ] = None,
) -> None:
    """Grant or end staff roles (from --on, default today); officer roles come from the
    officer's postings in the records."""
    from landgov.errors import LandgovError
    from landgov.security.accounts import set_roles

    if not grant and not end:
        raise LandgovError("nothing to do: give --grant ROLE and/or --end ROLE")
    actor = current_actor("accounts.manage")
    set_roles(engine(), actor, username, grant=list(grant or []), end=list(end or []),
              on=option_date(on, "--on"))  # fmt: skip
    done = [f"granted {', '.join(grant)}" if grant else "",
            f"ended {', '.join(end)}" if end else ""]  # fmt: skip
    out.print(f"{username}: " + "; ".join(d for d in done if d), highlight=False)


@app.command("bootstrap-admin")
@clean_errors
def bootstrap_admin_cmd(
    username: Annotated[str, typer.Argument(help="The first administrator's account name.")],
    name: Annotated[str, typer.Option("--name", help="The person's full name.")],
    cnic: Annotated[str | None, typer.Option(help="The person's CNIC.")] = None,
) -> None:
    """Create the first administrator with the database owner's credentials (refused when
    an administrator exists: then an administrator uses 'landgov users add')."""
    from landgov.config import load_settings
    from landgov.security.accounts import bootstrap_administrator
    from landgov.storage import get_engine

    owner = get_engine(load_settings(), role="owner")
    made = bootstrap_administrator(owner, username=username, full_name=name, cnic=cnic)
    _hand_over(made, "created the administrator")


@app.command("link-oidc")
@clean_errors
def link_oidc_cmd(
    username: Annotated[str, typer.Argument(help="The account.")],
    subject: Annotated[
        str | None,
        typer.Option(
            "--subject",
            help="'<issuer>#<sub>' of the identity provider (or a verified e-mail);"
            " leave out to unlink.",
        ),
    ] = None,
) -> None:
    """Link an account to an OpenID Connect identity (dashboard with LANDGOV_AUTH=oidc)."""
    from landgov.security.accounts import link_oidc

    link_oidc(engine(), current_actor("accounts.manage"), username, subject)
    out.print(f"{username}: " + (f"linked to {subject}" if subject else "unlinked"),
              highlight=False, markup=False)  # fmt: skip
