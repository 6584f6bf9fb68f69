"""The ``landgov`` command (typer), a thin shell over the library."""

from landgov.cli.main import app

__all__ = ["app"]
