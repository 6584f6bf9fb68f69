"""``landgov audit``: the hash-chained audit log and its signed checkpoints.

Reading and verifying the log is an auditor's (capability ``audit.read``, the person
signed in with ``landgov login``); signing a checkpoint of its head is an auditor's, a
deciding officer's or a batch service's (``audit.checkpoint``: the signed-in person when
they may, else the ``audit`` service with its key file).
"""

from __future__ import annotations

import json
from datetime import UTC
from typing import Annotated

import typer

from landgov.cli._shell import clean_errors, current_actor, engine, err, job_actor, out

app = typer.Typer(help="The append-only, hash-chained audit log.", no_args_is_help=True)


@app.command("verify")
@clean_errors
def verify_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Check the whole hash chain and every signed checkpoint of this database.

    Names the first tampered, deleted, reordered or unchained row, and every checkpoint
    the log disagrees with: truncated (newest rows cut off), rewritten (hashes
    recomputed after an edit), forged (a line not signed by the audit key). The
    checkpoint file and key: $LANDGOV_AUDIT_CHECKPOINTS, $LANDGOV_AUDIT_KEY (defaults
    under $LANDGOV_HOME). Exits 0 when all holds, 2 when anything is wrong.
    """
    from rich.markup import escape

    from landgov.storage import audit

    current_actor("audit.read")
    report = audit.verify(engine())
    if as_json:
        typer.echo(json.dumps(report.to_dict(), ensure_ascii=False))
        if not report.ok:
            raise typer.Exit(2)
        return
    if report.ok:
        out.print(report.summary(), highlight=False, soft_wrap=True)
        if report.checkpoints == 0:
            out.print(
                "no signed checkpoints of this database yet: a rewrite of the whole chain or "
                "a cut of its newest rows would not show ('landgov audit checkpoint')",
                highlight=False,
                soft_wrap=True,
            )
        return
    head, *rest = report.summary().splitlines()
    err.print(f"[bold red]{escape(head)}[/]", markup=True, highlight=False, soft_wrap=True)
    for line in rest:
        err.print(f"[red]{escape(line)}[/]", markup=True, highlight=False, soft_wrap=True)
    if report.problem is not None:
        err.print(
            f"{report.rows - 1} row(s) before it verified; last good: seq {report.last_seq}, "
            f"hash {report.last_hash}",
            highlight=False,
            soft_wrap=True,
        )
    raise typer.Exit(2)


@app.command("checkpoint")
@clean_errors
def checkpoint_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print the checkpoint as JSON.")] = False,
) -> None:
    """Sign the verified head of the chain (Ed25519) and append it to the checkpoint file.

    The key and the file live outside the database ($LANDGOV_HOME/secrets/audit-signing.key,
    $LANDGOV_HOME/audit/checkpoints.jsonl); a broken chain is never signed (exit 1).
    """
    from landgov.storage import audit, checkpoints

    actor = job_actor("audit", "audit.checkpoint")
    checkpoint = audit.write_checkpoint(engine(), actor_label=actor.label)
    if as_json:
        typer.echo(json.dumps({**checkpoint.to_dict(), "line": checkpoint.line}))
        return
    out.print(
        f"signed checkpoint of {checkpoint.database}: seq {checkpoint.seq}, hash "
        f"{checkpoint.row_hash}, at {checkpoint.at}, key {checkpoint.key[:16]}… "
        f"({checkpoints.default_checkpoints_path()} line {checkpoint.line}; by {actor.label})",
        highlight=False,
        soft_wrap=True,
    )


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
    from landgov.storage.audit import newest

    current_actor("audit.read")
    with engine().connect() as conn:
        rows = newest(conn, entity=entity, limit=limit)
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
