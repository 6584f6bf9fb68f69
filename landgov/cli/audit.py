"""``landgov audit``: the hash-chained audit log."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Annotated

import typer

from landgov.cli._shell import clean_errors, engine, err, out

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
@clean_errors
def verify_cmd() -> None:
    """Check the whole hash chain; name the first tampered, deleted or reordered row.

    Exits 0 when the chain is intact, 2 when it is broken.
    """
    from rich.markup import escape

    from landgov.storage import audit

    report = audit.verify(engine())
    if report.ok:
        out.print(report.summary(), highlight=False, soft_wrap=True)
        return
    err.print(
        f"[bold red]{escape(report.summary())}[/]", markup=True, highlight=False, soft_wrap=True
    )
    err.print(
        f"{report.rows - 1} row(s) before it verified; last good: seq {report.last_seq}, "
        f"hash {report.last_hash}",
        highlight=False,
        soft_wrap=True,
    )
    raise typer.Exit(2)


@app.command("show")
@clean_errors
def show_cmd(
    entity: Annotated[
        str | None, typer.Option(help="Only rows about this entity (e.g. mouza, mutation).")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many of the newest rows.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """The newest audit rows, oldest first, with their chain hashes."""
    from sqlalchemy import text

    where = "WHERE entity = :entity" if entity is not None else ""
    with engine().connect() as conn:
        rows = (
            conn.execute(
                text(
                    "SELECT * FROM (SELECT seq, id, at, actor, action, entity, entity_id,"
                    f" details, prev_hash, row_hash FROM audit_log {where}"
                    " ORDER BY seq DESC LIMIT :limit) newest ORDER BY seq"
                ),
                {"entity": entity, "limit": limit},
            )
            .mappings()
            .all()
        )
    if as_json:
        typer.echo(
            json.dumps([{**row, "at": row["at"].isoformat()} for row in rows], ensure_ascii=False)
        )
        return
    if not rows:
        out.print(
            "no audit rows" + (f" about '{entity}'" if entity else ""),
            highlight=False,
            soft_wrap=True,
        )
        return
    from rich.table import Table

    table = Table("seq", "at (UTC)", "actor", "action", "entity", "details", "row_hash")
    for row in rows:
        at = row["at"].astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        target = row["entity"] + (f" {row['entity_id']}" if row["entity_id"] else "")
        table.add_row(
            str(row["seq"]),
            at,
            row["actor"],
            row["action"],
            target,
            json.dumps(row["details"], ensure_ascii=False),
            row["row_hash"][:16] + "…",
        )
    out.print(table)
