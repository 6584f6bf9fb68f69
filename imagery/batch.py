"""Batch zonal runs over many mouzas through dask.distributed, and per-mouza datacubes.

:func:`run_batch` submits one task per (scene, mouza) to a ``dask.distributed.Client``:
a ``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` by default, or an
existing scheduler when ``scheduler="tcp://host:port"`` is given (to scale out; workers
must see the same ``$LANDGOV_HOME/imagery`` files). Workers only read rasters and compute
(:func:`imagery.series.scene_zonal`); the driver writes results to PostGIS, one
transaction per scene once all of its mouza tasks are back. Scenes already stored for a
mouza are not submitted, so a re-run is idempotent.

:func:`mouza_datacube` opens a mouza's scenes lazily with rioxarray (dask chunks),
clipped to the mouza bounds and stacked along time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np
import xarray as xr
from sqlalchemy.engine import Engine

from imagery.series import pending, radiometry, scene_band_paths, scene_zonal, write_scene
from landgov.errors import LandgovError
from landgov.parallel import dask_client


@dataclass
class BatchReport:
    tasks: int = 0
    rows: int = 0
    scenes_written: list[str] = field(default_factory=list)
    skipped_mouzas: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"{self.tasks} task(s), {len(self.scenes_written)} scene(s) written, {self.rows} row(s)"
        )


def run_batch(
    engine: Engine,
    mouzas: Iterable[int | str],
    *,
    index: str = "ndvi",
    home: Path | None = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    scheduler: Any = None,
    progress: Any = None,
) -> BatchReport:
    """Compute and store zonal statistics of ``index`` for the mouzas' pending scenes.

    ``scheduler``: None (a local cluster), an address ``"tcp://host:port"``, or an
    existing ``Client``/``LocalCluster``. ``progress``: a rich Progress (optional).
    """
    from dask.distributed import as_completed

    if home is None:
        from landgov.config import load_settings

        home = load_settings().home
    index = index.lower()
    jobs: list[tuple[Any, Any, Any]] = []  # (STAC item, band paths, parcels)
    report = BatchReport()
    for m in mouzas:
        mid, parcels, todo = pending(engine, m, index=index, start=start, end=end)
        if not todo:
            report.skipped_mouzas.append(mid)
        for item in todo:
            jobs.append((item, scene_band_paths(item, Path(home)), parcels))
    report.tasks = len(jobs)
    if not jobs:
        return report
    client, owned = dask_client(scheduler)
    try:
        futures: dict[Any, str] = {}
        remaining: dict[str, int] = defaultdict(int)
        for item, paths, parcels in jobs:
            scale, offset = radiometry(item)
            fut = client.submit(
                scene_zonal, paths, parcels, index, scale=scale, offset=offset, pure=False
            )
            scene_id = item.id
            futures[fut] = scene_id
            remaining[scene_id] += 1
        results: dict[str, list[Any]] = defaultdict(list)
        task = None
        if progress is not None:
            task = progress.add_task(f"zonal {index}", total=len(jobs))
        # distributed is unannotated (no stubs either), as in landgov.parallel
        for fut in as_completed(list(futures)):  # type: ignore[no-untyped-call]
            scene_id = futures[fut]
            results[scene_id].append(fut.result())
            remaining[scene_id] -= 1
            if remaining[scene_id] == 0:
                with engine.begin() as conn:
                    for frame in results.pop(scene_id):
                        report.rows += write_scene(conn, scene_id, index, frame)
                report.scenes_written.append(scene_id)
            if task is not None:
                progress.advance(task)
    finally:
        for thing in owned:
            thing.close()
    return report


def mouza_datacube(
    engine: Engine,
    mouza: int | str,
    *,
    home: Path,
    chunks: Any = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    bands: Iterable[str] = ("B02", "B03", "B04", "B08"),
) -> xr.Dataset:
    """Lazily open the mouza's Sentinel-2 scenes (10 m bands) clipped to its bounds.

    Each band is opened with ``rioxarray.open_rasterio(path, chunks=chunks)`` (dask),
    clipped to the mouza's bounding box in the scene CRS, and the scenes are stacked
    along ``time``. Only scenes in the CRS of the first scene are stacked (one UTM zone).
    """
    import rioxarray
    from pyproj import Transformer

    chunks = chunks if chunks is not None else {"x": 512, "y": 512}
    _, parcels, _ = pending(engine, mouza, index="ndvi", start=start, end=end)
    from imagery.catalog import search

    x0, y0, x1, y1 = (float(v) for v in parcels.total_bounds)
    items = search(engine, bbox_or_geometry=(x0, y0, x1, y1), start=start, end=end,
                   sensor="sentinel-2")  # fmt: skip
    if not items:
        raise LandgovError("no Sentinel-2 scenes intersect the mouza in that range")
    slices = []
    times = []
    crs0 = None
    for item in items:
        paths = scene_band_paths(item, Path(home))
        vars_: dict[str, xr.DataArray] = {}
        for b in bands:
            if b not in paths:
                continue
            # a single-band GeoTIFF opens as one DataArray (Dataset/list: multi-subdataset files)
            opened = cast(xr.DataArray, rioxarray.open_rasterio(paths[b], chunks=chunks))
            da = opened.squeeze("band", drop=True)
            crs = da.rio.crs
            if crs0 is None:
                crs0 = crs
            if crs != crs0:
                vars_ = {}
                break
            tf = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
            xs, ys = tf.transform([x0, x1, x0, x1], [y0, y0, y1, y1])
            da = da.rio.clip_box(min(xs), min(ys), max(xs), max(ys))
            vars_[b] = da.astype("float32")
        if vars_:
            slices.append(xr.Dataset(vars_))
            when = item.datetime
            assert when is not None  # imagery_scene.datetime is NOT NULL
            times.append(np.datetime64(when.replace(tzinfo=None), "ns"))
    if not slices:
        raise LandgovError("no scene of the mouza has the requested bands")
    cube = xr.concat(slices, dim="time", join="outer", coords="minimal", compat="override")
    cube = cube.assign_coords(time=np.array(times, dtype="datetime64[ns]"))
    if "B08" in cube and "B04" in cube:
        cube["ndvi"] = (cube["B08"] - cube["B04"]) / (cube["B08"] + cube["B04"])
    cube.attrs["crs"] = str(crs0)
    return cube
