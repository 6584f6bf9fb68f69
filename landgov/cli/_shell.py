"""What every ``landgov`` command shares: consoles, clean errors, the engine.

Every command imports this module, so it imports nothing a command without a database
does not need: SQLAlchemy and psycopg (about 0.4 s, more where Python cannot cache
bytecode) are imported by the functions that use them, and :func:`clean_errors` asks
for their exception classes only once they are loaded, as an exception of theirs can
exist only then.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, ParamSpec, TypeVar

from rich.console import Console
from rich.markup import escape

from landgov.config import load_settings
from landgov.errors import AuthenticationFailed, LandgovError

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from landgov.security import Actor

P = ParamSpec("P")
R = TypeVar("R")

out = Console()
err = Console(stderr=True)


def clean_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Report landgov's own errors as a message and exit 1, never a traceback."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except LandgovError as exc:
            # no hard line breaks: a message stays one greppable line in logs
            err.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True, highlight=False,
                      soft_wrap=True)  # fmt: skip
            sys.exit(1)
        except Exception as exc:
            if not _database_error(exc):
                raise
            sys.exit(1)

    return wrapper


def _database_error(exc: Exception) -> bool:
    """Reports ``exc`` and returns True when it is the database's (unreachable, or a
    schema without the migrations); False for anything else, to be re-raised."""
    sa_exc = sys.modules.get("sqlalchemy.exc")
    if sa_exc is None:  # SQLAlchemy never loaded: no exception can be one of its
        return False
    if isinstance(exc, sa_exc.OperationalError):  # server down, wrong URL or credentials
        reason = str(exc.orig).strip() if exc.orig else str(exc)
        err.print(
            f"[bold red]error:[/] cannot reach the database: {reason}\n"
            "Start it with 'landgov db up' or check LANDGOV_DATABASE_URL.",
            markup=True,
            highlight=False,
        )
        return True
    if isinstance(exc, sa_exc.ProgrammingError):
        from psycopg import errors as pg_errors

        # a table or column the code expects is missing: migrations not applied
        if not isinstance(exc.orig, pg_errors.UndefinedTable | pg_errors.UndefinedColumn):
            return False
        err.print(
            f"[bold red]error:[/] the database schema is out of date ({exc.orig}).\n"
            "Run 'landgov db migrate'.",
            markup=True,
            highlight=False,
        )
        return True
    return False


def engine() -> Engine:
    """The engine of the configured database."""
    from landgov.storage import get_engine

    return get_engine(load_settings())


class BadOption(LandgovError):
    """An option's value cannot be read."""


def option_date(value: str | None, what: str) -> date | None:
    """``value`` (YYYY-MM-DD) as a date, None when not given.

    Raises:
        BadOption: not a date, naming the option ``what``.
    """
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise BadOption(f"{what} {value!r} is not a date YYYY-MM-DD") from None


# --- who acts ----------------------------------------------------------------------------
#
# A person signs in with `landgov login`; the session token goes to a file readable only
# by the OS user (0600 in a 0700 directory) and is checked by the database on every use.
# Batch jobs sign in as their service with the key under $LANDGOV_HOME/secrets/services
# (provisioned by `landgov db migrate`), so running one needs the OS rights on that folder.


def session_file() -> Path:
    """Where ``landgov login`` keeps this OS user's token for this ``$LANDGOV_HOME``.

    ``LANDGOV_SESSION_FILE`` overrides it. One file per landgov home (and so per
    database), under the user's own state directory.
    """
    import hashlib

    override = os.environ.get("LANDGOV_SESSION_FILE")
    if override:
        return Path(override)
    base = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state")
    home = str(load_settings().home)
    return base / "landgov" / f"session-{hashlib.sha256(home.encode()).hexdigest()[:16]}.json"


def save_session(token: str, username: str) -> Path:
    """Writes the token file (0600; never widened)."""
    from landgov.storage.cluster import write_private

    path = session_file()
    write_private(path, json.dumps({"token": token, "username": username}))
    return path


def read_session() -> dict[str, str] | None:
    """The saved session, or None; refuses a file other OS users could read."""
    path = session_file()
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        raise AuthenticationFailed(
            f"{path} can be read by other users or is not yours: refusing it; "
            "delete it and run 'landgov login' again"
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return {"token": str(data["token"]), "username": str(data["username"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


def forget_session() -> None:
    session_file().unlink(missing_ok=True)


def current_actor(capability: str | None = None) -> Actor:
    """The signed-in person (``landgov login``); checks the role for ``capability``.

    Raises:
        AuthenticationFailed: not signed in, or the session has ended.
        AccessDenied: the person's roles lack ``capability``.
    """
    from landgov.security import authenticate, policy

    saved = read_session()
    if saved is None:
        raise AuthenticationFailed(
            "not signed in: run 'landgov login' first (changing commands act as a person)"
        )
    actor = authenticate(engine(), saved["token"])
    if capability is not None:
        policy.check_role(actor.roles, capability, actor.display)
    return actor


def job_actor(service: str, capability: str) -> Actor:
    """Who runs a batch job: the signed-in person when one is and may (``capability``),
    else the job's service account with its key file.

    Raises:
        AuthenticationFailed: neither a session nor a readable service key.
        AccessDenied: the signed-in person may not, and no service key is readable.
    """
    from landgov.errors import AccessDenied
    from landgov.security import authenticate, policy, service_login
    from landgov.security.accounts import service_key_path

    refusal: AccessDenied | None = None
    saved = read_session()
    if saved is not None:
        try:
            actor = authenticate(engine(), saved["token"])
            policy.check_role(actor.roles, capability, actor.display)
            return actor
        except AccessDenied as exc:
            refusal = exc
        except AuthenticationFailed:
            pass
    path = service_key_path(load_settings().secrets_dir, service)
    try:
        key = path.read_text(encoding="utf-8")
    except OSError:
        if refusal is not None:
            raise refusal from None
        raise AuthenticationFailed(
            f"this job runs as the '{service}' service, whose key {path} is not readable "
            "here (run 'landgov db migrate' as the deployer), or as a signed-in person who "
            f"may {policy.capability(capability).what} ('landgov login')"
        ) from None
    actor = service_login(engine(), service, key)
    policy.check_role(actor.roles, capability, actor.display)
    return actor


def read_session_unchecked() -> dict[str, str] | None:
    """The saved token even from a file others could read (only to revoke it at logout:
    a token that may have leaked must end server-side all the more)."""
    try:
        data = json.loads(session_file().read_text(encoding="utf-8"))
        return {"token": str(data["token"]), "username": str(data["username"])}
    except (OSError, ValueError, KeyError, TypeError):
        return None


# --- after a batch job -------------------------------------------------------------------
#
# Every batch job (and every sanction day) ends with a signed checkpoint of the audit
# chain's head, written outside the database (landgov.storage.audit.write_checkpoint), so
# a later rewrite or truncation of the newest rows shows. Best effort: a job that did its
# work is not failed because the checkpoint could not be signed; the note says why.


def checkpoint_after_job(actor: Actor) -> bool:
    """Writes a signed audit checkpoint after a job; returns whether one was written.

    Skipped with a one-line note on stderr when this landgov has no signed checkpoints,
    the signing key cannot be read or made, or the chain cannot be checkpointed.
    """
    from landgov.storage import audit

    write = getattr(audit, "write_checkpoint", None)
    if write is None:
        err.print("note: audit checkpoint skipped (signed checkpoints not available)",
                  highlight=False, markup=False)  # fmt: skip
        return False
    try:
        write(engine(), actor_label=actor.label)
    except (LandgovError, OSError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        err.print(f"note: audit checkpoint skipped: {first}", highlight=False, markup=False)
        return False
    return True
