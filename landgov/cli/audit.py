"""``landgov audit``: the hash-chained audit log."""

from __future__ import annotations

import typer

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)
