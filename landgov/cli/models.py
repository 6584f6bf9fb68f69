"""``landgov models``: train, evaluate, list and run the project's own models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

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
    "crop": ("oa_vs_truth", "oa_vs_girdawari", "flag_precision", "flag_recall", "oa",
             "macro_f1", "baseline_oa", "baseline_macro_f1"),
    "yield": ("wheat.model_rmse", "wheat.model_r2", "wheat.trend_rmse"),
}  # fmt: skip
"""Metrics shown by ``models list``, by the first word of the card's task."""


_TARGETS = ("encroachment", "crops")


_RASTER_SUFFIXES = {".tif", ".tiff", ".jpg", ".jpeg", ".png", ".jp2", ".vrt", ".img"}


def expand_images(values: list[str]) -> list[Path]:
    """``--images`` values: files, folders (their rasters) or quoted glob patterns."""
    import glob

    found: list[Path] = []
    for v in values:
        p = Path(v)
        if p.is_dir():
            found += sorted(f for f in p.iterdir() if f.suffix.lower() in _RASTER_SUFFIXES)
        elif any(ch in v for ch in "*?["):
            found += sorted(Path(f) for f in glob.glob(v))
        elif p.is_file():
            found.append(p)
        else:
            raise typer.BadParameter(f"{v}: no such file or folder", param_hint="--images")
    if not found:
        raise typer.BadParameter("no raster found in " + ", ".join(values), param_hint="--images")
    return found


def _stage_bar(progress: Any) -> Any:
    """``progress(stage, done, total, text)`` onto one rich task per stage."""
    tasks: dict[str, Any] = {}

    def tick(stage: str, done: int, total: int, text: str = "") -> None:
        key = stage.split(" (")[0]
        if key not in tasks:
            tasks[key] = progress.add_task(stage, total=total)
        progress.update(tasks[key], completed=done, total=total,
                        description=stage + (f" · {text}" if text else ""))  # fmt: skip

    return tick


@app.command("train")
@clean_errors
def train_cmd(
    target: Annotated[str, typer.Argument(help="encroachment (U-Net) or crops (crop + yield).")],
    preset: Annotated[str, typer.Option(help="tiny (seconds, for CI) or full.")] = "full",
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same weights.")] = 42,
    ship: Annotated[
        bool, typer.Option("--ship", help="Register in models/weights (shipped in the repo).")
    ] = False,
    images: Annotated[
        list[str] | None,
        typer.Option(
            "--images",
            help="Orthophoto file, folder or quoted glob; repeat. Trains"
            " on these with --labels instead of the demo's synthetic imagery.",
        ),
    ] = None,
    labels: Annotated[
        list[Path] | None,
        typer.Option(
            "--labels", help="Building footprints (.gpkg/.geojson/.shp, any CRS); repeat."
        ),
    ] = None,
    block_m: Annotated[
        float | None,
        typer.Option(
            help="Side of the blocks of ground the split holds out whole, in metres"
            " (default 100 for --images, 10000 for --fields)."
        ),
    ] = None,
    fields: Annotated[
        Path | None,
        typer.Option(
            "--fields", help="Labelled field polygons (.gpkg/.geojson/.shp, any CRS): crops."
        ),
    ] = None,
    series: Annotated[
        Path | None,
        typer.Option("--series", help="Field index series CSV: field_id,date,<index>..."),
    ] = None,
    label_column: Annotated[str, typer.Option(help="Crop label column of --fields.")] = "crop",
    id_column: Annotated[str, typer.Option(help="Field id column (both files).")] = "field_id",
    year_column: Annotated[
        str, typer.Option(help="Year column of --fields (else the series' median year).")
    ] = "year",
    index: Annotated[
        list[str] | None,
        typer.Option("--index", help="Index column(s) of --series to use; repeat (default: all)."),
    ] = None,
    folds: Annotated[int, typer.Option(help="Spatial folds for --fields.")] = 5,
    buffer_m: Annotated[
        float, typer.Option(help="Training fields this close to a held-out one are left out.")
    ] = 1000.0,
    holdout: Annotated[float, typer.Option(help="Share of pixels held out for scoring.")] = 0.25,
    with_synthetic: Annotated[
        bool,
        typer.Option(
            "--with-synthetic",
            help="Add the demo's synthetic orthophotos (mouza 1, both dates) to the training side.",
        ),
    ] = False,
    score_synthetic: Annotated[
        bool,
        typer.Option(
            "--score-synthetic/--no-score-synthetic",
            help="Also score on the"
            " demo's synthetic orthophotos of held-out mouza 3 (needs the demo"
            " district in the database).",
        ),
    ] = True,
    compare: Annotated[
        list[str] | None,
        typer.Option(
            help="Registered model scored on the same held-out"
            " blocks; repeat (default: encroachment-unet:v1)."
        ),
    ] = None,
    note: Annotated[
        list[str] | None,
        typer.Option(help="Data source, licence, attribution for the card; repeat."),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            help="Registered name (default encroachment-unet with --images,"
            " crop-type-fields with --fields)."
        ),
    ] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda… (default: CUDA if present).")] = (
        None
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Output the scores as JSON.")] = False,
) -> None:
    """Train on your own orthophotos and footprints (--images/--labels: split by blocks of
    ground, scored on the held-out blocks beside a baseline), or on the demo district's
    synthetic imagery (held-out mouza). Registers the model (runs as the models service)."""
    from landgov.cli._shell import engine, job_actor
    from landgov.config import load_settings
    from landgov.jobs import structure_models, training
    from landgov.progress import progress_bar
    from models.registry import REPO_WEIGHTS

    if target not in _TARGETS:
        raise typer.BadParameter(f"choose one of {', '.join(_TARGETS)}", param_hint="TARGET")
    if fields or series:
        if target != "crops":
            raise typer.BadParameter("--fields/--series train the crop model only")
        if not (fields and series):
            raise typer.BadParameter("give both --fields and --series", param_hint="--series")
        _train_crops_on_files(
            fields, series, label_column=label_column, id_column=id_column,
            year_column=year_column, indices=index, preset=preset, seed=seed, ship=ship,
            k=folds, block_m=block_m or 10_000.0, buffer_m=buffer_m,
            name=name or "crop-type-fields", notes=note or [], device=device, as_json=as_json,
        )  # fmt: skip
        return
    if (images or labels) and target != "encroachment":
        raise typer.BadParameter("--images/--labels train the encroachment model only")
    if bool(images) != bool(labels):
        raise typer.BadParameter("give both --images and --labels", param_hint="--labels")
    job_actor("models", "models.write")
    home = load_settings().home
    root = REPO_WEIGHTS if ship else None
    if images and labels:
        files = expand_images(images)
        synthetic = None
        if with_synthetic:
            eng = engine()
            folder = training._orthophotos(eng, home, 1, 200.0 if preset == "tiny" else 1200.0,
                                           seed)  # fmt: skip
            synthetic = list(zip(sorted(folder.glob("ortho_*.tif")),
                                 sorted(folder.glob("buildings_*.tif")), strict=True))  # fmt: skip
        synthetic_test = None
        if score_synthetic:
            synthetic_test = training._orthophotos(
                engine(), home, 3, 200.0 if preset == "tiny" else 1200.0, seed
            )
        with progress_bar(stderr=as_json) as progress:
            path, card, report = structure_models.train_encroachment_on_labels(
                files, list(labels), preset=preset, seed=seed, name=name or "encroachment-unet",
                block_m=block_m or 100.0,
                holdout=holdout, synthetic=synthetic, synthetic_test=synthetic_test,
                compare=compare, data_notes=note,
                device=device, root=root, home=home, progress=_stage_bar(progress),
            )  # fmt: skip
        if as_json:
            typer.echo(json.dumps({"registered": f"{card.name}:{card.version}", "path": str(path),
                                   **report}, indent=1))  # fmt: skip
            return
        out.print(f"registered {card.name}:{card.version} → {path}", highlight=False)
        _print_scores({k: v["overall"] for k, v in report.items() if "overall" in v},
                      "held-out blocks")  # fmt: skip
        if "held_out_synthetic" in report:
            syn = report["held_out_synthetic"]
            out.print(f"synthetic held-out mouza: pixel IoU {syn.get('pixel.iou', 0):.3f},"
                      " recall of new structures on state land"
                      f" {syn.get('change.object_recall_state_land.recall', float('nan')):.3f}",
                      highlight=False)  # fmt: skip
        return
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


def _train_crops_on_files(
    fields: Path,
    series: Path,
    *,
    label_column: str,
    id_column: str,
    year_column: str,
    indices: list[str] | None,
    preset: str,
    seed: int,
    ship: bool,
    k: int,
    block_m: float,
    buffer_m: float,
    name: str,
    notes: list[str],
    device: str | None,
    as_json: bool,
) -> None:
    """Spatial CV of the series model and the boosting baseline, then register the model."""
    from landgov.cli._shell import job_actor
    from landgov.progress import progress_bar
    from models.crops.field_experiment import cross_validate, register_series_model
    from models.crops.field_files import load_field_data
    from models.crops.scores import format_scores
    from models.crops.series_model import SeriesConfig
    from models.registry import REPO_WEIGHTS

    if preset not in ("tiny", "full"):
        raise typer.BadParameter("choose tiny or full", param_hint="--preset")
    job_actor("models", "models.write")
    data = load_field_data(fields, series, indices=indices, id_column=id_column,
                           label_column=label_column, year_column=year_column)  # fmt: skip
    config = SeriesConfig.tiny() if preset == "tiny" else SeriesConfig()
    with progress_bar(stderr=as_json) as progress:
        task = progress.add_task("spatial folds", total=k)

        def tick(stage: str, done: int, total: int) -> None:
            progress.update(task, completed=done, total=total, description=stage)

        report = cross_validate(data, config=config, k=k, block_m=block_m, buffer_m=buffer_m,
                                seed=seed, device=device, progress=tick)  # fmt: skip
    path, card, full = register_series_model(
        data, report, name=name, config=config, seed=seed, notes=notes,
        root=REPO_WEIGHTS if ship else None, device=device,
    )  # fmt: skip
    if as_json:
        typer.echo(json.dumps({"registered": f"{card.name}:{card.version}", "path": str(path),
                               **full}, indent=1, default=str))  # fmt: skip
        return
    out.print(f"registered {card.name}:{card.version} → {path}", highlight=False)
    out.print(f"{report['fields']} fields, {report['refused']} refused (too few observed"
              f" periods); {k} spatial folds of {block_m:g} m blocks, {buffer_m:g} m buffer;"
              " scores pooled over the held-out folds", highlight=False)  # fmt: skip
    typer.echo(format_scores({card.name: report["model"],
                              "gradient boosting": report["baseline"]}))  # fmt: skip
    _print_season_scores(report)


def _print_season_scores(report: dict[str, Any]) -> None:
    """The same held-out predictions read as girdawari season crops (what predict stores)."""
    typer.echo("")
    typer.echo("read as girdawari seasons (held out; macro-F1 over crops with >= 50 fields):")
    for season, sides in report.get("seasons", {}).items():
        cells = ", ".join(f"{name} OA {s['oa']:.3f} macro-F1 {s['macro_f1']:.3f}"
                          for name, s in sides.items())  # fmt: skip
        typer.echo(f"  {season:7} {cells}")


def _evaluate_crops_on_files(
    model: str,
    version: str | None,
    fields: Path,
    series: Path,
    label_column: str,
    id_column: str,
    folds: int,
    device: str | None,
    as_json: bool,
) -> None:
    """A registered series model on labelled files: its weights as they are, and its
    recipe and the boosting baseline under spatial cross-validation, in one run."""
    from dataclasses import replace

    from models.crops.field_experiment import cross_validate, score_model
    from models.crops.field_files import load_field_data
    from models.crops.grid import TimeGrid
    from models.crops.scores import format_scores
    from models.crops.series_model import build_series_model
    from models.registry import data_fingerprint, load_model

    tensors, card = load_model(model, version)
    built = build_series_model(card.hyperparameters, tensors)
    data = load_field_data(fields, series, indices=built.indices, id_column=id_column,
                           label_column=label_column,
                           grid=TimeGrid.from_dict(card.hyperparameters["grid"]))  # fmt: skip
    seen = data_fingerprint(data.sources) == card.training_data.get("fingerprint")
    weights = score_model(built, data)
    cv = cross_validate(data, config=replace(built.config), k=folds, seed=card.seed,
                        block_m=float(card.training_data.get("split", {}).get("block_m", 1e4)),
                        buffer_m=float(card.training_data.get("split", {}).get("buffer_m", 1e3)),
                        device=device)  # fmt: skip
    label = "registered weights" + (" (IN-SAMPLE: trained on these files)" if seen else "")
    result = {"model": f"{card.name}:{card.version}", "weights_trained_on_these_files": seen,
              "registered_weights": weights, "recipe_cross_validated": cv["model"],
              "baseline_cross_validated": cv["baseline"], "seasons": cv["seasons"],
              "split": cv["split"],
              "refused": cv["refused"]}  # fmt: skip
    if as_json:
        typer.echo(json.dumps(result, indent=1, default=str))
        return
    out.print(f"{result['model']} on {fields.name}: {cv['fields']} fields, {cv['refused']}"
              " refused; cross-validated over spatial blocks (pooled held-out folds)",
              highlight=False)  # fmt: skip
    typer.echo(format_scores({"recipe (spatial CV)": cv["model"],
                              "gradient boosting (CV)": cv["baseline"]}))  # fmt: skip
    _print_season_scores(cv)
    typer.echo("")
    typer.echo(f"{label}: OA {weights['oa']:.3f}, macro-F1 {weights['macro_f1']:.3f}")


def _print_scores(rows: dict[str, dict[str, Any]], title: str) -> None:
    """One row per model or image: pixel IoU/F1 and building P/R/F1 at IoU ≥ 0.5.

    Pixel precision and recall are in ``--json``; the names never wrap (an image name cut in
    two is unreadable), the figures do.
    """
    table = Table(title_justify="left", caption="building: one-to-one match at IoU ≥ 0.5")
    table.add_column(title, no_wrap=True)
    for head in ("px IoU", "px F1", "bldg P", "bldg R", "bldg F1", "TP/FP/FN"):
        table.add_column(head, justify="right")
    for key, s in rows.items():
        px, b = s["pixel"], s["building"]
        table.add_row(
            key,
            *(f"{px[k]:.3f}" for k in ("iou", "f1")),
            *(f"{b[k]:.3f}" for k in ("precision", "recall", "f1")),
            f"{b['tp']}/{b['fp']}/{b['fn']}",
        )
    out.print(table)


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
    from landgov.cli._shell import checkpoint_after_job, engine, job_actor
    from landgov.config import load_settings
    from landgov.jobs.crops import predict_mouza
    from landgov.storage.read import mouza_ids

    actor = job_actor("models", "models.write")
    eng = engine()
    if not mouza:
        with eng.connect() as conn:
            mouza = [str(i) for i in mouza_ids(conn)]
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


@app.command("assign")
@clean_errors
def assign_cmd(
    model: Annotated[
        str, typer.Argument(help="Crop model NAME (newest version serves) or NAME:VERSION.")
    ],
    mouza: Annotated[list[str], typer.Option(help="Mouza id or name; repeat.")],
    note: Annotated[str, typer.Option(help="Why (kept with the choice and audited).")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Serve these mouzas with MODEL in 'models predict', overriding the coverage default
    (an administrator, or the models service)."""
    from landgov.cli._shell import checkpoint_after_job, engine, job_actor
    from landgov.config import load_settings
    from landgov.jobs.model_choice import assign_model

    actor = job_actor("models", "models.assign")
    eng, home = engine(), load_settings().home
    done = [assign_model(eng, mouza=m, model=model, note=note, actor=actor, home=home)
            for m in mouza]  # fmt: skip
    checkpoint_after_job(actor)
    if as_json:
        typer.echo(json.dumps([c.as_json() | {"replaced": b.as_json() if b else None}
                               for c, b in done], indent=1, default=str))  # fmt: skip
        return
    for choice, before in done:
        was = (
            f" (was {before.model_name}" + (f":{before.model_version}" if before.model_version
                                            else "") + ")" if before else ""
        )  # fmt: skip
        out.print(f"mouza {choice.mouza_id}: {choice.name}:{choice.version}{was}",
                  highlight=False)  # fmt: skip
        for w in choice.warnings:
            out.print(f"  warning: {w}", highlight=False)


@app.command("unassign")
@clean_errors
def unassign_cmd(
    mouza: Annotated[list[str], typer.Option(help="Mouza id or name; repeat.")],
) -> None:
    """Remove the mouzas' model choice: they go back to the model whose card covers them."""
    from landgov.cli._shell import checkpoint_after_job, engine, job_actor
    from landgov.jobs.model_choice import unassign_model

    actor = job_actor("models", "models.assign")
    eng = engine()
    removed = [(m, unassign_model(eng, mouza=m, actor=actor)) for m in mouza]
    checkpoint_after_job(actor)
    for m, before in removed:
        out.print(f"mouza {m}: " + (f"{before.model_name} no longer assigned" if before
                                    else "had no assigned model"), highlight=False)  # fmt: skip


@app.command("serving")
@clean_errors
def serving_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Which crop model 'models predict' uses for every mouza, and why."""
    from landgov.cli._shell import engine
    from landgov.config import load_settings
    from landgov.jobs.model_choice import serving

    rows = serving(engine(), home=load_settings().home)
    if as_json:
        typer.echo(json.dumps(rows, indent=1, default=str))
        return
    table = Table("mouza", "crop model", "why")
    for r in rows:
        why = r["detail"] + "".join(f"\nwarning: {w}" for w in r.get("warnings", []))
        table.add_row(f"{r['mouza_id']} {r['mouza']}",
                      f"{r['name']}:{r['version']}" if r["name"] else "none", why)  # fmt: skip
    out.print(table)


@app.command("evaluate")
@clean_errors
def evaluate_cmd(
    name: Annotated[str, typer.Argument(help="Model NAME or NAME:VERSION.")],
    test_mouza: Annotated[str, typer.Option(help="Held-out mouza id or name.")] = "3",
    images: Annotated[
        list[str] | None,
        typer.Option(
            "--images",
            help="Orthophoto file, folder or quoted glob; repeat. Scores"
            " a structure model on these against --labels.",
        ),
    ] = None,
    labels: Annotated[
        list[Path] | None, typer.Option("--labels", help="Building footprints; repeat.")
    ] = None,
    fields: Annotated[
        Path | None, typer.Option("--fields", help="Labelled field polygons (crop models).")
    ] = None,
    series: Annotated[
        Path | None, typer.Option("--series", help="Field index series CSV (crop models).")
    ] = None,
    label_column: Annotated[str, typer.Option(help="Crop label column of --fields.")] = "crop",
    id_column: Annotated[str, typer.Option(help="Field id column (both files).")] = "field_id",
    folds: Annotated[int, typer.Option(help="Spatial folds for the recipe's scores.")] = 5,
    held_out: Annotated[
        bool,
        typer.Option(
            "--held-out",
            help="Only the blocks the model's card held out (the same images it was trained with).",
        ),
    ] = False,
    fill: Annotated[
        list[str] | None,
        typer.Option(help="Stand-in for a band the images lack, e.g. nir=green; repeat."),
    ] = None,
    device: Annotated[str | None, typer.Option(help="cpu, cuda… (default: CUDA if present).")] = (
        None
    ),
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Score a registered model: a structure model on your orthophotos and footprints
    (--images/--labels: pixel and building scores per image and overall), or any model on
    the demo's held-out mouza (JSON)."""
    from landgov.config import load_settings

    model, _, version = name.partition(":")
    home = load_settings().home
    if fields or series:
        if not (fields and series):
            raise typer.BadParameter("give both --fields and --series", param_hint="--series")
        _evaluate_crops_on_files(model, version or None, fields, series, label_column,
                                 id_column, folds, device, as_json)  # fmt: skip
        return
    if images or labels:
        from landgov.jobs.structure_models import evaluate_on_labels
        from landgov.progress import progress_bar

        if not (images and labels):
            raise typer.BadParameter("give both --images and --labels", param_hint="--labels")
        stand_in = {}
        for f in fill or []:
            band, sep, other = f.partition("=")
            if not sep or not band or not other:
                raise typer.BadParameter(f"{f!r}: write BAND=STAND_IN, e.g. nir=green",
                                         param_hint="--fill")  # fmt: skip
            stand_in[band.strip().lower()] = other.strip().lower()
        with progress_bar(stderr=as_json) as progress:
            result = evaluate_on_labels(name, expand_images(images), list(labels), home=home,
                                        held_out=held_out, fill=stand_in, device=device,
                                        progress=_stage_bar(progress))  # fmt: skip
        if as_json:
            typer.echo(json.dumps(result, indent=1))
            return
        out.print(f"{result['model']} on {result['windows']} at {result['resolution_m']:g} m"
                  f" ({', '.join(result['bands'])})", highlight=False)  # fmt: skip
        _print_scores(result["images"] | {"OVERALL": result["overall"]}, "image")
        return
    from landgov.cli._shell import engine
    from landgov.jobs.training import evaluate_registered

    metrics = evaluate_registered(engine(), home=home, name=model,
                                  version=version or None, test_mouza=test_mouza)  # fmt: skip
    typer.echo(json.dumps(metrics, indent=1, default=str))
