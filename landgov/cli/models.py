"""``landgov models``: train, evaluate, list and run the project's own models."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from landgov.cli._shell import clean_errors, out

app = typer.Typer(
    help="Models: encroachment segmentation, crop type, yield; registry.", no_args_is_help=True
)


@app.command("list")
@clean_errors
def list_cmd(as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False) -> None:
    """Every registered model version: trained here first, then those shipped in the repo."""
    from models.registry import REPO_WEIGHTS, list_models

    found = list_models()
    if as_json:
        typer.echo(json.dumps(
            [{"name": c.name, "version": c.version, "task": c.task, "created": c.created,
              "metrics": c.metrics, "shipped": str(p).startswith(str(REPO_WEIGHTS)),
              "path": str(p)} for c, p in found],
            indent=1, default=str))  # fmt: skip
        return
    if not found:
        out.print("No model is registered yet: train one with 'landgov models train'.")
        return
    table = Table("model", "task", "held-out metrics", "created", "where")
    for card, path in found:
        keys = [k for k in _HEADLINE.get(card.task.split()[0], ()) if k in card.metrics]
        keys = keys or [k for k, v in card.metrics.items() if isinstance(v, int | float)][:3]
        headline = "\n".join(f"{k} {card.metrics[k]:.3f}" for k in keys)
        where = "shipped" if str(path).startswith(str(REPO_WEIGHTS)) else "trained here"
        table.add_row(f"{card.name}:{card.version}", card.task, headline, card.created[:10],
                      where)  # fmt: skip
    out.print(table)


_HEADLINE = {
    "semantic-segmentation": ("pixel.iou", "pixel.f1",
                              "change.object_recall_state_land.recall"),
    "crop": ("oa_vs_truth", "oa_vs_girdawari", "flag_precision", "flag_recall"),
    "yield": ("wheat.model_rmse", "wheat.model_r2", "wheat.trend_rmse"),
}  # fmt: skip
"""Metrics shown by ``models list``, by the first word of the card's task."""


_TARGETS = ("encroachment", "crops")


@app.command("train")
@clean_errors
def train_cmd(
    target: Annotated[str, typer.Argument(help="encroachment (U-Net) or crops (crop + yield).")],
    preset: Annotated[str, typer.Option(help="tiny (seconds, for CI) or full.")] = "full",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same weights.")] = 42,
    ship: Annotated[
        bool, typer.Option("--ship", help="Register in models/weights (shipped in the repo).")
    ] = False,
) -> None:
    """Train on the demo district's synthetic imagery, score on a held-out mouza, register
    (runs as the models service)."""
    from landgov.cli._shell import engine, job_actor
    from landgov.config import load_settings
    from landgov.jobs import training
    from landgov.progress import progress_bar
    from models.registry import REPO_WEIGHTS

    if target not in _TARGETS:
        raise typer.BadParameter(f"choose one of {', '.join(_TARGETS)}", param_hint="TARGET")
    job_actor("models", "models.write")
    home = load_settings().home
    root = REPO_WEIGHTS if ship else None
    if target == "encroachment":
        with progress_bar() as progress:
            task = progress.add_task("training U-Net", total=None)

            def tick(epoch: int, total: int, loss: float) -> None:
                progress.update(task, completed=epoch, total=total,
                                description=f"training U-Net (loss {loss:.3f})")  # fmt: skip

            done = [training.train_encroachment(engine(), home=home, preset=preset, seed=seed,
                                                root=root, progress=tick)]  # fmt: skip
    else:
        done = training.train_crops_and_yield(engine(), home=home, preset=preset, seed=seed,
                                              root=root)  # fmt: skip
    for path, card in done:
        shown = {k: v for k, v in card.metrics.items() if isinstance(v, int | float)}
        out.print(f"registered {card.name}:{card.version} → {path}", highlight=False)
        out.print(json.dumps(dict(list(shown.items())[:12]), indent=1), highlight=False)


@app.command("show")
@clean_errors
def show_cmd(
    name: Annotated[str, typer.Argument(help="Model NAME or NAME:VERSION.")],
) -> None:
    """The model card (task, classes, data fingerprint, seed, metrics, code version, date)."""
    from models.registry import find_model

    model, _, version = name.partition(":")
    folder = find_model(model, version or None)
    typer.echo((folder / "card.json").read_text(encoding="utf-8"))


@app.command("predict")
@clean_errors
def predict_cmd(
    season: Annotated[
        list[str], typer.Option(help='Season label, e.g. "rabi 2025-26"; repeat for several.')
    ],
    mouza: Annotated[
        list[str] | None, typer.Option(help="Mouza id or name; repeat (default: every mouza).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Predict again even if stored and up to date.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Crop type and yield of every parcel of the mouzas for the seasons; stored as runs
    (runs as the models service)."""
    from sqlalchemy import text

    from landgov.cli._shell import checkpoint_after_job, engine, job_actor
    from landgov.config import load_settings
    from landgov.jobs.crops import predict_mouza

    actor = job_actor("models", "models.write")
    eng = engine()
    if not mouza:
        with eng.connect() as conn:
            ids = conn.execute(text("SELECT id FROM mouza ORDER BY id")).scalars()
            mouza = [str(i) for i in ids]
    reports = [predict_mouza(eng, mouza=m, season=s, home=load_settings().home, force=force,
                             actor=actor)[0]
               for m in mouza for s in season]  # fmt: skip
    checkpoint_after_job(actor)
    if as_json:
        typer.echo(json.dumps([r.as_json() for r in reports] if len(reports) > 1
                              else reports[0].as_json(), indent=1))  # fmt: skip
        return
    for report in reports:
        out.print(
            ("stored and up to date (--force predicts again): " if report.reused else "")
            + f"{report.parcels} parcel(s) of mouza {report.mouza_id}, {report.season}:"
            f" {report.disagreements} disagree with the girdawari, {report.no_imagery} without"
            f" enough clear imagery, {report.flagged_yields} yield(s) flagged"
            f" ({report.models['crops']}, {report.models['yield']})",
            highlight=False,
        )


@app.command("evaluate")
@clean_errors
def evaluate_cmd(
    name: Annotated[str, typer.Argument(help="Model NAME or NAME:VERSION.")],
    test_mouza: Annotated[str, typer.Option(help="Held-out mouza id or name.")] = "3",
) -> None:
    """Score a registered model on the held-out mouza; prints JSON metrics."""
    from landgov.cli._shell import engine
    from landgov.config import load_settings
    from landgov.jobs.training import evaluate_registered

    model, _, version = name.partition(":")
    metrics = evaluate_registered(engine(), home=load_settings().home, name=model,
                                  version=version or None, test_mouza=test_mouza)  # fmt: skip
    typer.echo(json.dumps(metrics, indent=1, default=str))
