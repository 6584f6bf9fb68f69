"""``landgov detect``: run the registered models over imagery and store what they find."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from landgov.cli._shell import checkpoint_after_job, clean_errors, engine, job_actor, out

app = typer.Typer(help="Detections from imagery: encroachment on state land.", no_args_is_help=True)


def _date(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        msg = f"{value!r} is not a date (YYYY-MM-DD)"
        raise typer.BadParameter(msg, param_hint=option) from exc


@app.command("encroachment")
@clean_errors
def encroachment_cmd(
    mouza: Annotated[str, typer.Option(help="Mouza id or name.")],
    before: Annotated[str, typer.Option(help="Date of the earlier orthophoto (on or before).")],
    after: Annotated[str, typer.Option(help="Date of the later orthophoto (on or before).")],
    model: Annotated[
        str, typer.Option(help="Registered model NAME or NAME:VERSION.")
    ] = "encroachment-unet",
    threshold: Annotated[float, typer.Option(min=0.05, max=0.95, help="Probability cut.")] = 0.5,
    min_area: Annotated[
        float, typer.Option("--min-area", min=0.0, help="Smallest structure kept, m².")
    ] = 4.0,
    min_confidence: Annotated[
        float,
        typer.Option(
            "--min-confidence",
            min=0.0,
            max=1.0,
            help="Drop structures whose mean probability is lower.",
        ),
    ] = 0.8,
    force: Annotated[
        bool, typer.Option("--force", help="Run again even if these inputs are stored.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """New structures between two orthophotos that stand on state land or a right-of-way
    (runs as the models service). The orthophotos may be RGB or RGBN, 8- or 16-bit, at
    any resolution and in any CRS: each is read with the bands the model's card names and
    resampled to its working resolution."""
    from landgov.config import load_settings
    from landgov.jobs.encroachment import detect_encroachment

    actor = job_actor("models", "models.write")
    name, _, version = model.partition(":")
    report = detect_encroachment(
        engine(),
        mouza=mouza,
        before=_date(before, "--before"),
        after=_date(after, "--after"),
        home=load_settings().home,
        model_name=name,
        model_version=version or None,
        threshold=threshold,
        min_area_m2=min_area,
        min_confidence=min_confidence,
        force=force,
        actor=actor,
    )
    checkpoint_after_job(actor)
    if as_json:
        typer.echo(json.dumps(report.as_json(), indent=1, default=str))
        return
    out.print(
        ("stored run (--force runs again): " if report.reused else "")
        + f"{report.candidates} new structure(s) between {report.before_scene} and"
        f" {report.after_scene} ({report.model}); {len(report.cases)} on state land:",
        highlight=False,
    )
    table = Table("case", "state land", "category", "area m²", "on it m²", "confidence",
                  "first seen", "chips")  # fmt: skip
    for c in report.cases:
        table.add_row(str(c["id"]), str(c["state_land_id"]), c["category"],
                      f"{c['area_m2']:.1f}", f"{c['overlap_m2']:.1f}", f"{c['confidence']:.2f}",
                      str(c["first_seen"]), str(c.get("after_chip") or ""))  # fmt: skip
    out.print(table)
