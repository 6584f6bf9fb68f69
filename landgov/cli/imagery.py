"""``landgov imagery``: the raster catalog, ingest and per-parcel analysis."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Satellite imagery: catalog, ingest, zonal statistics.", no_args_is_help=True
)


# --- catalog: ingest, list, show ------------------------------------------------------
# (imports local to this block so other commands in this module stay independent)
import json as _json  # noqa: E402
from pathlib import Path as _Path  # noqa: E402
from typing import Annotated as _Annotated  # noqa: E402

from rich.table import Table as _Table  # noqa: E402

from landgov.cli._shell import clean_errors as _clean_errors  # noqa: E402
from landgov.cli._shell import engine as _engine  # noqa: E402
from landgov.cli._shell import out as _out  # noqa: E402


@app.command("ingest")
@_clean_errors
def ingest_cmd(
    paths: _Annotated[
        list[_Path],
        typer.Argument(
            help="GeoTIFF/COG/JP2 band files; orthophotos also as JPEG/PNG with a world file"
            " (+ .prj) or .aux.xml."
        ),
    ],
    kind: _Annotated[
        str | None, typer.Option(help="sentinel-2, landsat or orthophoto (default: guess).")
    ] = None,
    acquired: _Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Acquisition date (YYYY-MM-DD or ISO time, UTC) of single-file orthophotos"
            " whose files carry none (else the TIFF/EXIF time stamp, else the file's time).",
        ),
    ] = None,
) -> None:
    """Validate raster files, store them as COGs and catalog each scene as a STAC item
    (runs as the imagery service)."""
    from datetime import datetime

    from imagery.ingest import ingest
    from landgov.cli._shell import checkpoint_after_job, job_actor
    from landgov.config import load_settings

    when = None
    if acquired is not None:
        try:
            when = datetime.fromisoformat(acquired)
        except ValueError as exc:
            msg = f"{acquired!r} is not a date (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS)"
            raise typer.BadParameter(msg, param_hint="--date") from exc
    actor = job_actor("imagery", "imagery.write")
    report = ingest(
        _engine(), paths, home=load_settings().home, kind=kind, actor=actor, acquired=when
    )
    _out.print(report.summary(), highlight=False, markup=False)
    checkpoint_after_job(actor)


@app.command("list")
@_clean_errors
def list_cmd(
    sensor: _Annotated[str | None, typer.Option(help="Only scenes of this sensor.")] = None,
    as_json: _Annotated[bool, typer.Option("--json", help="STAC items as JSON.")] = False,
) -> None:
    """List catalogued scenes, oldest first."""
    from imagery.catalog import search

    items = search(_engine(), sensor=sensor)
    if as_json:
        typer.echo(_json.dumps([i.to_dict(include_self_link=False) for i in items], indent=1))
        return
    table = _Table("id", "sensor", "datetime (UTC)", "cloud %", "bands")
    for item in items:
        cloud = item.properties.get("eo:cloud_cover")
        table.add_row(
            item.id,
            str(item.properties.get("landgov:sensor", "")),
            item.datetime.isoformat() if item.datetime else "",
            "" if cloud is None else f"{cloud:g}",
            " ".join(item.assets),
        )
    _out.print(table)
    _out.print(f"{len(items)} scene(s)", highlight=False)


@app.command("show")
@_clean_errors
def show_cmd(scene_id: _Annotated[str, typer.Argument(help="Scene (STAC item) id.")]) -> None:
    """Print one scene's STAC item as JSON."""
    from imagery.catalog import get_item
    from landgov.errors import LandgovError

    item = get_item(_engine(), scene_id)
    if item is None:
        raise LandgovError(f"no scene {scene_id!r} in the catalog")
    typer.echo(_json.dumps(item.to_dict(include_self_link=False), indent=2))
