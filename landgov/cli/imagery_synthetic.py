"""``landgov imagery synthesize``: deterministic synthetic Sentinel-2-like scenes."""

from __future__ import annotations

from typing import Annotated

import typer

from landgov.cli._shell import clean_errors, out
from landgov.cli._shell import engine as _engine
from landgov.cli.imagery import app


@app.command("synthesize")
@clean_errors
def synthesize_cmd(
    mouza: Annotated[
        str | None, typer.Option(help="Mouza name or id (default: the first mouza).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    do_ingest: Annotated[
        bool, typer.Option("--ingest/--no-ingest", help="Catalog the scenes after writing.")
    ] = True,
    orthophotos: Annotated[
        bool,
        typer.Option(
            "--orthophotos/--no-orthophotos",
            help="Also write 0.5 m RGBN orthophotos at two dates with building masks.",
        ),
    ] = False,
) -> None:
    """Write a kharif 2025 + rabi 2025-26 Sentinel-2-like series under $LANDGOV_HOME/synthetic/."""
    from imagery.synthetic import synthesize_s2
    from landgov.config import load_settings

    home = load_settings().home
    eng = _engine()
    target = home / "synthetic" / "sentinel-2"
    files = synthesize_s2(eng, target, seed=seed, mouza=mouza)
    out.print(f"wrote {len(files)} band files and ground_truth.csv under {target}")
    if do_ingest:
        from imagery.ingest import ingest

        report = ingest(eng, files, home=home, kind="sentinel-2", actor="cli")
        out.print(report.summary())
    if orthophotos:
        from imagery.synthetic_ortho import synthesize_orthophotos

        otarget = home / "synthetic" / "orthophotos"
        res = synthesize_orthophotos(eng, otarget, seed=seed, mouza=mouza)
        out.print(
            f"wrote {len(res.images)} orthophotos, building masks and structures.csv"
            f" under {otarget}"
        )
        if do_ingest:
            from imagery.ingest import ingest

            report = ingest(eng, res.images, home=home, kind="orthophoto", actor="cli")
            out.print(report.summary())
