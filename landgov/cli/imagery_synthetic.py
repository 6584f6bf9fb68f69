"""``landgov imagery synthesize``: deterministic synthetic Sentinel-2-like scenes."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from landgov.cli._shell import checkpoint_after_job, clean_errors, job_actor, out
from landgov.cli._shell import engine as _engine
from landgov.cli.imagery import app


@app.command("synthesize")
@clean_errors
def synthesize_cmd(
    mouza: Annotated[
        str | None,
        typer.Option(
            help="Mouza name or id (default: every mouza for Sentinel-2, the first mouza"
            " for orthophotos)."
        ),
    ] = None,
    step_days: Annotated[
        int, typer.Option(min=1, max=60, help="Days between Sentinel-2 acquisitions.")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    do_ingest: Annotated[
        bool, typer.Option("--ingest/--no-ingest", help="Catalog the scenes after writing.")
    ] = True,
    force: Annotated[
        bool, typer.Option("--force", help="Rewrite even if the same files already exist.")
    ] = False,
    orthophotos: Annotated[
        bool,
        typer.Option(
            "--orthophotos/--no-orthophotos",
            help="Also write 0.5 m RGBN orthophotos at two dates with building masks.",
        ),
    ] = False,
) -> None:
    """Write a kharif 2025 + rabi 2025-26 Sentinel-2-like series of the district (every
    mouza, or --mouza) under $LANDGOV_HOME/synthetic/; skipped when already up to date.
    Runs as the imagery service."""
    from landgov.config import load_settings
    from landgov.demo.imagery_s2 import DEFAULT_SEASONS, season_dates, synthesize_s2

    actor = job_actor("imagery", "imagery.write")
    home = load_settings().home
    eng = _engine()
    target = home / "synthetic" / "sentinel-2"
    params = {"seed": seed, "mouza": mouza, "step_days": step_days,
              "generator": _generator_version()}  # fmt: skip
    files = None if force else _up_to_date(target, params)
    rewritten = files is None
    if files is not None:
        out.print(f"{len(files)} band files under {target} are up to date (--force rewrites)")
    else:
        dates = season_dates(DEFAULT_SEASONS, step_days)
        files = synthesize_s2(eng, target, seed=seed, mouza=mouza, dates=dates)
        _record(target, params, files)
        out.print(f"wrote {len(files)} band files and ground_truth.csv under {target}")
    if do_ingest:
        from imagery.ingest import ingest

        # regenerated synthetic scenes keep their ids: replace what an older generator wrote
        report = ingest(eng, files, home=home, kind="sentinel-2", actor=actor, replace=rewritten)
        out.print(report.summary())
    if orthophotos:
        from landgov.demo.imagery_ortho import synthesize_orthophotos

        otarget = home / "synthetic" / "orthophotos"
        images = None if force else _up_to_date(otarget, params)
        rewritten = images is None
        if images is not None:
            out.print(f"orthophotos under {otarget} are up to date")
        else:
            res = synthesize_orthophotos(eng, otarget, seed=seed, mouza=mouza)
            images = res.images
            _record(otarget, params, [*res.images, *res.building_masks, res.new_structures])
            out.print(
                f"wrote {len(res.images)} orthophotos, building masks and structures.csv"
                f" under {otarget}"
            )
        if do_ingest:
            from imagery.ingest import ingest

            ortho = [p for p in images if p.name.startswith("ortho_")]
            report = ingest(eng, ortho, home=home, kind="orthophoto", actor=actor,
                            replace=rewritten)  # fmt: skip
            out.print(report.summary())
    if do_ingest:
        checkpoint_after_job(actor)


_MANIFEST = "synthesized.json"


def _generator_version() -> str:
    """Digest of the generators' source: a changed generator invalidates old files."""
    import hashlib

    import landgov.demo.imagery_ortho
    import landgov.demo.imagery_s2

    h = hashlib.sha256()
    for mod in (landgov.demo.imagery_s2, landgov.demo.imagery_ortho):
        h.update(Path(str(mod.__file__)).read_bytes())
    return h.hexdigest()[:16]


def _up_to_date(folder: Path, params: Mapping[str, object]) -> list[Path] | None:
    """The files a previous run with the same parameters wrote, if all still exist.

    The database content is not part of the key: the demo district is deterministic, and
    ``--force`` covers a database changed by hand.
    """
    import json

    try:
        manifest = json.loads((folder / _MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("params") != params:
        return None
    files = [folder / name for name in manifest.get("files", [])]
    return files if files and all(p.is_file() for p in files) else None


def _record(folder: Path, params: Mapping[str, object], files: list[Path]) -> None:
    import json

    (folder / _MANIFEST).write_text(
        json.dumps({"params": params, "files": [p.name for p in files]}, indent=1),
        encoding="utf-8",
    )
