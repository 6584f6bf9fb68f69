"""Reading the imagery catalog: STAC items by place, time, sensor and cloud cover.

Asset hrefs in the catalog are relative to ``$LANDGOV_HOME/imagery``; :func:`asset_path`
turns one into a file path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import pystac
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.errors import LandgovError

IMAGERY_DIR = "imagery"


def asset_path(home: Path, href: str) -> Path:
    """The file of an asset href (relative to ``home/imagery``); refuses escapes."""
    root = (Path(home) / IMAGERY_DIR).resolve()
    path = (root / href).resolve()
    if not path.is_relative_to(root):
        raise LandgovError(f"asset href {href!r} points outside the imagery directory")
    return path


def _when(value: date | datetime | str | None, *, end: bool) -> datetime | str | None:
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time.max if end else time.min)
    return value


def _geometry_sql(value: Any, params: dict[str, object]) -> str:
    if isinstance(value, Sequence) and not isinstance(value, str) and len(value) == 4:
        params.update(zip(("x0", "y0", "x1", "y1"), (float(v) for v in value), strict=True))
        return "ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326)"
    if hasattr(value, "__geo_interface__"):
        value = value.__geo_interface__
    if isinstance(value, Mapping):
        params["geom"] = json.dumps(value.get("geometry", value))
        return "ST_SetSRID(ST_GeomFromGeoJSON(:geom), 4326)"
    if isinstance(value, str):
        params["geom"] = value
        return "ST_GeomFromText(:geom, 4326)"
    raise LandgovError("bbox_or_geometry: give (minx, miny, maxx, maxy), GeoJSON or WKT")


def search(
    engine: Engine,
    *,
    bbox_or_geometry: Any = None,
    start: date | datetime | str | None = None,
    end: date | datetime | str | None = None,
    sensor: str | None = None,
    max_cloud: float | None = None,
) -> list[pystac.Item]:
    """Scenes whose footprint intersects the area, taken in [start, end], of the sensor,
    with cloud cover at most ``max_cloud`` (scenes of unknown cover are kept), oldest
    first. Dates given without a time cover the whole day (UTC)."""
    where: list[str] = []
    params: dict[str, object] = {}
    if bbox_or_geometry is not None:
        where.append(f"ST_Intersects(footprint, {_geometry_sql(bbox_or_geometry, params)})")
    if start is not None:
        where.append("datetime >= CAST(:start AS timestamptz)")
        params["start"] = _when(start, end=False)
    if end is not None:
        where.append("datetime <= CAST(:end AS timestamptz)")
        params["end"] = _when(end, end=True)
    if sensor is not None:
        if sensor == "landsat":
            where.append("sensor IN ('landsat-8', 'landsat-9')")
        else:
            where.append("sensor = :sensor")
            params["sensor"] = sensor
    if max_cloud is not None:
        where.append("(cloud_cover IS NULL OR cloud_cover <= :cloud)")
        params["cloud"] = max_cloud
    sql = "SELECT item FROM imagery_scene"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY datetime, id"
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).scalars().all()
    return [pystac.Item.from_dict(row, preserve_dict=False) for row in rows]


def get_item(engine: Engine, id: str) -> pystac.Item | None:
    """The STAC item of scene ``id``, or None when there is no such scene."""
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT item FROM imagery_scene WHERE id = :id"), {"id": id}
        ).scalar_one_or_none()
    return None if row is None else pystac.Item.from_dict(row, preserve_dict=False)


def assets(engine: Engine, id: str) -> list[dict[str, object]]:
    """The asset rows of scene ``id`` (key, band, href, resolution_m, dtype, nodata)."""
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT key, band, href, resolution_m, dtype, nodata FROM imagery_asset"
                " WHERE scene_id = :id ORDER BY key"
            ),
            {"id": id},
        ).mappings()
        return [dict(r) for r in rows]
