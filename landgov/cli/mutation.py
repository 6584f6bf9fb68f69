"""``landgov mutation``: enter, verify, sanction and reject mutations (intiqal)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Mutations (intiqal): enter, verify, sanction, reject.", no_args_is_help=True
)
