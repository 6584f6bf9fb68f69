"""The ``landgov`` command's top level: database, demo, import and export commands.

Each concern's commands live in a module of their own (``landgov.cli.<concern>``) and
are registered here; all share :mod:`landgov.cli._shell` (clean errors, the engine).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from landgov.cli import (
    advisories,
    api,
    audit,
    detect,
    disputes,
    imagery,
    imagery_series,  # noqa: F401  (registers commands)
    imagery_synthetic,  # noqa: F401  (registers commands)
    imagery_zonal,  # noqa: F401  (registers commands)
    io,
    models,
    mutation,
    records,
    session,
    tax,
    users,
    valuation,
)
from landgov.cli._shell import checkpoint_after_job, clean_errors, engine, err, job_actor, out
from landgov.config import load_settings

app = typer.Typer(
    help="landgov: land records, imagery and models for revenue departments.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(
    help="The PostGIS database: private cluster and migrations.", no_args_is_help=True
)
app.add_typer(db_app, name="db")
app.add_typer(io.import_app, name="import")
app.command("export")(io.export_cmd)
app.add_typer(mutation.app, name="mutation")
app.add_typer(records.ror_app, name="ror")
app.add_typer(records.jamabandi_app, name="jamabandi")
app.add_typer(records.fard_app, name="fard")
app.add_typer(audit.app, name="audit")
app.add_typer(imagery.app, name="imagery")
app.add_typer(models.app, name="models")
app.add_typer(detect.app, name="detect")
app.add_typer(disputes.app, name="disputes")
app.add_typer(tax.app, name="tax")
app.add_typer(valuation.app, name="valuation")
app.add_typer(advisories.app, name="advisories")
app.add_typer(users.app, name="users")
app.add_typer(api.serve_app, name="serve")
app.add_typer(api.clients_app, name="api-clients")
app.command("login")(session.login_cmd)
app.command("logout")(session.logout_cmd)
app.command("whoami")(session.whoami_cmd)
app.command("password")(session.password_cmd)


@db_app.command("up")
@clean_errors
def db_up() -> None:
    """Initialise (once) and start the private PostGIS cluster in $LANDGOV_HOME."""
    from landgov.storage import cluster

    settings = load_settings()
    if not settings.uses_private_cluster:
        cluster.ensure_database(settings, "landgov")
        out.print("LANDGOV_DATABASE_URL is set: using that server, no private cluster.")
        return
    status = cluster.up(settings)
    out.print(f"PostGIS running on 127.0.0.1:{status.port} (data: {status.pgdata})")


@db_app.command("down")
@clean_errors
def db_down() -> None:
    """Stop the private PostGIS cluster (its data stays)."""
    from landgov.storage import cluster

    settings = load_settings()
    if not settings.uses_private_cluster:
        out.print("LANDGOV_DATABASE_URL is set: nothing of ours to stop.")
        return
    cluster.down(settings)
    out.print("PostGIS stopped.")


@db_app.command("status")
@clean_errors
def db_status() -> None:
    """Show the cluster's state and which migrations are applied or pending."""
    from landgov.storage import cluster, migrate

    settings = load_settings()
    if settings.uses_private_cluster:
        st = cluster.status(settings)
        state = "running" if st.running else ("stopped" if st.initialised else "not initialised")
        out.print(f"private cluster: {state} (port {st.port}, data {st.pgdata})")
        if not st.running:
            raise typer.Exit(3)
    else:
        out.print("server: LANDGOV_DATABASE_URL")
    eng = engine()
    done = migrate.applied(eng)
    todo = migrate.pending(eng)
    out.print(f"migrations applied: {len(done)}, pending: {len(todo)}")
    for m in todo:
        out.print(f"  pending {m.path.name}")


@db_app.command("migrate")
@clean_errors
def db_migrate() -> None:
    """Apply pending migrations from sql/ (each in its own transaction), as the owner role;
    then provision the batch services' accounts and key files that are missing."""
    from landgov.security.accounts import provision_services
    from landgov.storage import get_engine, migrate

    settings = load_settings()
    owner = get_engine(settings, role="owner")
    ran = migrate.migrate(owner)
    for m in ran:
        out.print(f"applied {m.path.name}")
    out.print(f"{len(ran)} migration(s) applied; schema up to date.")
    made = provision_services(owner, settings.secrets_dir)
    if made:
        out.print(
            f"service accounts provisioned: {', '.join(made)} "
            f"(keys in {settings.secrets_dir / 'services'}, mode 0600)"
        )


@app.command("demo")
@clean_errors
def demo(
    seed: Annotated[
        int, typer.Option(help="Seed of the generator: same seed, same district.")
    ] = 42,
    accounts: Annotated[
        bool,
        typer.Option(
            "--accounts",
            help="Only print how to sign in to the demo (accounts file and usernames).",
        ),
    ] = False,
) -> None:
    """Build the demo district (mouzas near Sheikhupura) and load it; idempotent.

    Files (parcels, state land, mutation register, DC rates, ground truth of the planted
    anomalies) go to $LANDGOV_HOME/demo, and the demo's login accounts (officers, an
    administrator, an analyst, an auditor) with their one-time passwords and TOTP secrets
    to $LANDGOV_HOME/demo/accounts.txt (readable by you only). Runs as the 'demo' batch
    service. A second run with the same seed returns at once.
    """
    settings = load_settings()
    if accounts:
        _how_to_sign_in(settings.demo_dir)
        return
    from landgov.demo import build_demo
    from landgov.progress import progress_bar

    actor = job_actor("demo", "records.load_demo")
    with progress_bar() as progress:
        report = build_demo(engine(), settings.demo_dir, seed=seed, progress=progress, actor=actor)
    out.print(report.summary())
    _how_to_sign_in(settings.demo_dir)
    checkpoint_after_job(actor)


def _demo_usernames(demo_dir: Path) -> list[tuple[str, str, bool]]:
    """(username, roles, posted today) of the demo accounts, from accounts.json (which
    holds their secrets too: only these three fields are read out)."""
    try:
        data = json.loads((demo_dir / "accounts.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    rows = data.get("accounts", []) if isinstance(data, dict) else data
    found: list[tuple[str, str, bool]] = []
    for row in rows if isinstance(rows, list) else []:
        if isinstance(row, dict) and row.get("username"):
            roles = row.get("roles", [])
            shown = ", ".join(map(str, roles)) if isinstance(roles, list) else str(roles)
            found.append((str(row["username"]), shown, bool(row.get("posted_today", True))))
    return found


def _how_to_sign_in(demo_dir: Path) -> None:
    """Where the demo accounts are and who they are; never their passwords or secrets."""
    text_file, json_file = demo_dir / "accounts.txt", demo_dir / "accounts.json"
    if not text_file.exists() and not json_file.exists():
        out.print(f"no demo accounts file in {demo_dir} yet: run 'landgov demo' first",
                  highlight=False, soft_wrap=True)  # fmt: skip
        return
    accounts = _demo_usernames(demo_dir)
    where = text_file if text_file.exists() else json_file
    out.print(f"How to sign in: the demo accounts' passwords and TOTP secrets are in {where} "
              "(readable by you only; not printed here).",
              highlight=False, soft_wrap=True)  # fmt: skip
    if not accounts:
        return
    active = [(u, r) for u, r, today in accounts if today]
    out.print("  accounts acting today: " + "; ".join(f"{u} ({r})" for u, r in active),
              highlight=False, soft_wrap=True)  # fmt: skip
    if len(active) < len(accounts):
        out.print(f"  and {len(accounts) - len(active)} more whose postings have ended "
                  "(listed in the file)", highlight=False, soft_wrap=True)  # fmt: skip
    deciding = ("naib_tehsildar", "tehsildar", "assistant_commissioner")
    example = next((u for u, r in active if any(d in r.split(", ") for d in deciding)),
                   (active or [(accounts[0][0], "")])[0][0])  # fmt: skip
    out.print(
        f"  dashboard: sign in as e.g. {example} with its password and the code of an "
        "authenticator app given its TOTP secret (or otpauth URI);\n"
        f"  command line: landgov login --username {example}",
        highlight=False,
        soft_wrap=True,
    )


@app.command("inheritance")
@clean_errors
def inheritance_cmd(
    heirs: Annotated[str, typer.Option(help="Surviving heirs, e.g. wife=1,son=2,daughter=1.")],
    school: Annotated[str, typer.Option(help="hanafi (default) or jafari.")] = "hanafi",
    predeceased: Annotated[
        list[str] | None,
        typer.Option(
            help="A child who died before the deceased, with its children (MFLO 1961 s.4),"
            " e.g. son:sons=1,daughters=2. Repeatable."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Exact faraid shares of an estate for a set of heirs."""
    from landgov.domain import compute_shares, format_share, parse_heirs, parse_predeceased
    from landgov.domain.faraid import School

    try:
        chosen = School(school.strip().lower())
    except ValueError:
        err.print(f"[bold red]error:[/] unknown school '{school}': use hanafi or jafari")
        raise typer.Exit(1) from None
    children = [parse_predeceased(text) for text in predeceased or []]
    shares = compute_shares(parse_heirs(heirs), school=chosen, predeceased=children)
    rows = [
        {
            "heir": s.heir,
            "count": s.count,
            "share": format_share(s.share) if s.share else "0",
            "share_each": format_share(s.share_each) if s.share_each else "0",
        }
        for s in shares
    ]
    if as_json:  # the documented contract: exactly these four keys per heir class
        typer.echo(json.dumps(rows))
        return
    for r, s in zip(rows, shares, strict=True):
        out.print(
            f"{r['heir']:<28} ×{r['count']:<2} {r['share']:>8}  each {r['share_each']:>8}"
            f"  ({s.basis})",
            highlight=False,
        )


if __name__ == "__main__":
    app()
