"""``landgov disputes``: scan the records for dispute and fraud signals."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from landgov.cli._shell import clean_errors, engine, out

app = typer.Typer(help="Dispute detection: rules, flags, cases.", no_args_is_help=True)


@app.command("scan")
@clean_errors
def scan_cmd(
    mouza: Annotated[str | None, typer.Option(help="Mouza id or name (default: all).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Incremental: only what changed on or after YYYY-MM-DD.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Run every enabled rule; store flags once per subject and open cases (no duplicates)."""
    from landgov.disputes.scan import scan

    try:
        since_d = date.fromisoformat(since) if since else None
    except ValueError as exc:
        raise typer.BadParameter(f"{since!r} is not a date", param_hint="--since") from exc
    report = scan(engine(), mouza=mouza, since=since_d)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=1))
        return
    out.print(
        f"scan {report.scan_id}: {sum(report.found.values())} finding(s) "
        f"({', '.join(f'{k} {v}' for k, v in report.found.items())}); "
        f"{report.new_flags} new flag(s), {report.resolved_flags} resolved, "
        f"{report.new_cases} new case(s), {report.cases_updated} case(s) updated",
        highlight=False,
    )
