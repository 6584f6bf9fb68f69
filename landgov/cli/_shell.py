"""What every ``landgov`` command shares: consoles, clean errors, the engine."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from datetime import date
from typing import ParamSpec, TypeVar

from psycopg import errors as pg_errors
from rich.console import Console
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError, ProgrammingError

from landgov.config import load_settings
from landgov.errors import LandgovError

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
            err.print(f"[bold red]error:[/] {exc}", markup=True, highlight=False)
            sys.exit(1)
        except OperationalError as exc:  # server down, wrong URL or credentials
            reason = str(exc.orig).strip() if exc.orig else str(exc)
            err.print(
                f"[bold red]error:[/] cannot reach the database: {reason}\n"
                "Start it with 'landgov db up' or check LANDGOV_DATABASE_URL.",
                markup=True,
                highlight=False,
            )
            sys.exit(1)
        except ProgrammingError as exc:
            # a table or column the code expects is missing: migrations not applied
            if not isinstance(exc.orig, pg_errors.UndefinedTable | pg_errors.UndefinedColumn):
                raise
            err.print(
                f"[bold red]error:[/] the database schema is out of date ({exc.orig}).\n"
                "Run 'landgov db migrate'.",
                markup=True,
                highlight=False,
            )
            sys.exit(1)

    return wrapper


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
