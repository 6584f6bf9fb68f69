"""``landgov imagery series`` / ``batch`` / ``phenology``: per-parcel index time series."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from landgov.cli._shell import checkpoint_after_job, clean_errors, engine, job_actor, out
from landgov.cli.imagery import app
from landgov.errors import LandgovError


@app.command("series")
@clean_errors
def series_cmd(
    mouza: Annotated[str, typer.Option(help="Mouza id or name.")],
    index: Annotated[str, typer.Option(help="ndvi, evi, ndmi, wdrvi or ndbi.")] = "ndvi",
    start: Annotated[str | None, typer.Option(help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD).")] = None,
    scheduler: Annotated[
        str | None, typer.Option(help="dask scheduler address (tcp://host:port) for the batch.")
    ] = None,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Write the series to FILE.nc or FILE.csv.")
    ] = None,
) -> None:
    """Compute (incrementally) per-parcel zonal statistics per scene and show or save them
    (what is missing is computed and stored: runs as the imagery service)."""
    from imagery.series import parcel_series
    from landgov.config import load_settings
    from landgov.progress import progress_bar

    job_actor("imagery", "imagery.write")
    home = load_settings().home
    eng = engine()
    with progress_bar() as progress:
        if scheduler is not None:
            from imagery.batch import run_batch

            run_batch(eng, [mouza], index=index, home=home, start=start, end=end,
                      scheduler=scheduler, progress=progress)  # fmt: skip
        ds = parcel_series(
            eng, mouza=mouza, index=index, start=start, end=end, home=home, progress=progress
        )
    frame = ds.to_dataframe().reset_index()
    if out_file is None:
        out.print(frame.to_string(index=False), highlight=False, markup=False)
        return
    try:
        if out_file.suffix.lower() == ".nc":
            ds.to_netcdf(out_file)
        elif out_file.suffix.lower() == ".csv":
            _safe(frame).to_csv(out_file, index=False)
        else:
            raise LandgovError("--out must end in .nc or .csv")
    except OSError as exc:
        raise LandgovError(f"cannot write {out_file}: {exc}") from exc
    out.print(
        f"{ds.sizes['parcel']} parcel(s) × {ds.sizes['time']} date(s) → {out_file}",
        highlight=False,
        markup=False,
    )


@app.command("batch")
@clean_errors
def batch_cmd(
    mouza: Annotated[
        list[str] | None,
        typer.Option(help="Mouza id or name; repeat for several (default: every mouza)."),
    ] = None,
    index: Annotated[
        list[str] | None, typer.Option(help="Index to compute; repeat (default: ndvi).")
    ] = None,
    start: Annotated[str | None, typer.Option(help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD).")] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="dask scheduler address (tcp://host:port); default a LocalCluster."),
    ] = None,
) -> None:
    """Zonal statistics of every pending (scene, mouza) through dask.distributed; idempotent.
    Runs as the imagery service."""
    from imagery.batch import run_batch
    from landgov.config import load_settings
    from landgov.progress import progress_bar

    actor = job_actor("imagery", "imagery.write")
    eng = engine()
    if not mouza:
        from landgov.storage.read import mouza_ids

        with eng.connect() as conn:
            mouza = [str(i) for i in mouza_ids(conn)]
        if not mouza:
            raise LandgovError("there is no mouza in the database")
    for ix in index or ["ndvi"]:
        with progress_bar() as progress:
            report = run_batch(eng, mouza, index=ix, home=load_settings().home, start=start,
                               end=end, scheduler=scheduler, progress=progress)  # fmt: skip
        out.print(f"{ix}: {report.summary()}", highlight=False, markup=False)
    checkpoint_after_job(actor)


@app.command("phenology")
@clean_errors
def phenology_cmd(
    mouza: Annotated[str, typer.Option(help="Mouza id or name.")],
    index: Annotated[str, typer.Option(help="Index of the series.")] = "ndvi",
    start: Annotated[str | None, typer.Option(help="First date (YYYY-MM-DD).")] = None,
    end: Annotated[str | None, typer.Option(help="Last date (YYYY-MM-DD).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Output JSON.")] = False,
) -> None:
    """Start, peak and end of season per parcel (Savitzky–Golay smoothed mean series;
    missing statistics are computed and stored: runs as the imagery service)."""
    from imagery.series import parcel_phenology, parcel_series
    from landgov.config import load_settings

    job_actor("imagery", "imagery.write")
    ds = parcel_series(
        engine(), mouza=mouza, index=index, start=start, end=end, home=load_settings().home
    )
    frame = parcel_phenology(ds)
    if as_json:
        records = [
            {k: (None if v is None or v != v else str(v) if k in ("start", "peak", "end") else v)
             for k, v in row.items()}
            for row in frame.to_dict("records")
        ]  # fmt: skip
        typer.echo(json.dumps(records, indent=1, default=str))
        return
    out.print(frame.to_string(index=False), highlight=False, markup=False)


def _safe(frame: Any) -> Any:
    """The frame with text cells that a spreadsheet would run neutralised (OWASP)."""
    from landgov.io.safe_csv import neutralise_frame  # imported late: pulls in geopandas

    return neutralise_frame(frame)
