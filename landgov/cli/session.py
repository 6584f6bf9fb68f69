"""``landgov login`` / ``logout`` / ``whoami``: the CLI acts as a signed-in person.

``login`` signs in with password and, for the roles that need one, an authenticator
(TOTP) code, and keeps the session token in a file only the OS user can read
(:func:`landgov.cli._shell.save_session`; ``LANDGOV_SESSION_FILE`` moves it). The token
lives ``cli_token_minutes`` (``security_setting``) at most. Every changing command reads
it and the database checks it again; ``logout`` ends it server-side and deletes the file.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from typing import Annotated, Any

import typer

from landgov.cli._shell import (
    clean_errors,
    current_actor,
    engine,
    forget_session,
    out,
    read_session_unchecked,
    save_session,
    session_file,
)
from landgov.errors import AuthenticationFailed


def _secret_lines() -> list[str]:
    """Lines of stdin (password, then optionally the code), without their line ends."""
    return sys.stdin.read().splitlines()


@clean_errors
def login_cmd(
    username: Annotated[
        str | None, typer.Option("--username", "-u", help="Account name (prompted if not given).")
    ] = None,
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the password from the first line of stdin (the code from the second,"
            " unless --code gives it), e.g. from a secrets manager; never as an argument.",
        ),
    ] = False,
    code: Annotated[
        str | None,
        typer.Option("--code", help="The authenticator's 6-digit code (prompted if not given)."),
    ] = None,
) -> None:
    """Sign in (password + authenticator code); the token goes to a file only you can read."""
    from landgov.security import login, logout
    from landgov.security.sessions import expires_at, setting

    if username is None:
        username = typer.prompt("Username")
    if password_stdin:
        lines = _secret_lines()
        if not lines or not lines[0]:
            raise AuthenticationFailed("--password-stdin: no password on stdin")
        password = lines[0]
        if code is None and len(lines) > 1 and lines[1].strip():
            code = lines[1]
    else:
        password = typer.prompt("Password", hide_input=True)
        if code is None:
            code = typer.prompt(
                "Authenticator code (leave empty if your account has none)",
                default="", show_default=False, hide_input=True,
            )  # fmt: skip
    eng = engine()
    previous = read_session_unchecked()
    with eng.connect() as conn:
        minutes = setting(conn, "cli_token_minutes")
    actor = login(
        eng, username, password, (code or "").strip() or None, channel="cli", minutes=minutes
    )
    if previous is not None:  # one live CLI session per file: end the one it replaces
        logout(eng, previous["token"])
    path = save_session(actor.token, actor.username)
    until = expires_at(eng, actor)
    out.print(
        f"signed in as {actor.username} ({actor.display}); the session ends by "
        f"{until:%Y-%m-%d %H:%M %Z} at the latest (token in {path}, readable by you only)",
        highlight=False,
        soft_wrap=True,
    )


@clean_errors
def logout_cmd() -> None:
    """End the session: revoked in the database and the token file deleted."""
    from landgov.security import logout

    saved = read_session_unchecked()
    path = session_file()
    if saved is None:
        forget_session()
        out.print("not signed in: nothing to end", highlight=False, soft_wrap=True)
        return
    logout(engine(), saved["token"])
    forget_session()
    out.print(f"signed out {saved['username']}; the session is ended and {path} deleted",
              highlight=False, soft_wrap=True)  # fmt: skip


@clean_errors
def whoami_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Who is signed in: account, roles, postings today and when the session ends."""
    from landgov.security.sessions import expires_at

    actor = current_actor()
    eng = engine()
    until = expires_at(eng, actor)
    postings, mouzas = _postings_today(actor.officer_id)
    info: dict[str, Any] = {
        "username": actor.username,
        "kind": actor.kind,
        "full_name": actor.full_name,
        "roles": sorted(actor.roles),
        "designation": actor.designation,
        "postings": postings,
        "mouzas_today": mouzas,
        "second_factor": actor.second_factor,
        "session_ends": until.isoformat(),
    }
    if as_json:
        typer.echo(json.dumps(info))
        return
    out.print(
        f"{actor.full_name} ({actor.username}, {actor.kind})", highlight=False, soft_wrap=True
    )
    out.print("roles: " + (", ".join(r.replace("_", " ") for r in info["roles"]) or "none"),
              highlight=False, soft_wrap=True)  # fmt: skip
    if actor.officer_id is not None:
        if postings:
            for p in postings:
                till = f" until {p['valid_to']}" if p["valid_to"] else ""
                out.print(f"posted over {p['level'].replace('_', ' ')} {p['name']} since "
                          f"{p['valid_from']}{till}", highlight=False, soft_wrap=True)  # fmt: skip
            out.print(f"acts today in {mouzas} mouza(s)", highlight=False, soft_wrap=True)
        else:
            out.print(
                f"no posting today ({date.today()}): acts nowhere", highlight=False, soft_wrap=True
            )
    out.print(
        f"session {'with' if actor.second_factor else 'without'} authenticator code, ends by "
        f"{until:%Y-%m-%d %H:%M %Z} at the latest",
        highlight=False,
        soft_wrap=True,
    )


def _postings_today(officer_id: int | None) -> tuple[list[dict[str, Any]], int]:
    """The officer's postings valid today and how many mouzas they cover together."""
    if officer_id is None:
        return [], 0
    from landgov.security.queries import postings_today

    with engine().connect() as conn:
        postings, mouzas = postings_today(conn, officer_id)
    return [
        {
            "level": p.level,
            "name": p.name,
            "valid_from": p.valid_from.isoformat(),
            "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        }
        for p in postings
    ], mouzas


@clean_errors
def password_cmd(
    password_stdin: Annotated[
        bool,
        typer.Option(
            "--password-stdin",
            help="Read the current password (line 1) and the new one (line 2) from stdin.",
        ),
    ] = False,
) -> None:
    """Change your own password (the current one first); your other sessions end."""
    from landgov.security.accounts import change_password

    actor = current_actor()
    if password_stdin:
        lines = _secret_lines()
        if len(lines) < 2:
            raise typer.BadParameter("give the current and the new password on two lines")
        current, new = lines[0], lines[1]
    else:
        current = typer.prompt("Current password", hide_input=True)
        new = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
    change_password(engine(), actor, current, new)
    out.print(f"password of {actor.username} changed; other sessions ended", highlight=False)
