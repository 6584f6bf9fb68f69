"""``landgov ror``, ``jamabandi`` and ``fard``: the record of rights and its extracts."""

from __future__ import annotations

import typer

ror_app = typer.Typer(help="Record of rights: holdings as of any date.", no_args_is_help=True)
jamabandi_app = typer.Typer(
    help="Jamabandi: immutable record-of-rights snapshots.", no_args_is_help=True
)
fard_app = typer.Typer(
    help="Fard: certified ownership extracts (PDF, English and Urdu).", no_args_is_help=True
)
