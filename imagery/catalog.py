"""Reading the imagery catalog: STAC items by place, time, sensor and cloud cover.

Asset hrefs in the catalog are relative to ``$LANDGOV_HOME/imagery``; :func:`asset_path`
turns one into a file path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any, Final

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


# --- which scene a map shows ------------------------------------------------------------


@dataclass(frozen=True)
class SceneSummary:
    """What choosing a scene needs of it, without parsing its STAC item: the id, sensor,
    acquisition time, the provider's cloud cover (percent of the tile; None: unknown) and
    the footprint's bounds (min lon, min lat, max lon, max lat)."""

    id: str
    sensor: str
    when: datetime
    cloud_cover: float | None
    bounds: tuple[float, float, float, float]


def scene_summaries(
    engine: Engine, *, bbox_or_geometry: Any, sensor: str | None = None
) -> list[SceneSummary]:
    """The scenes of :func:`search` (same area and sensor rules), oldest first, read as
    :class:`SceneSummary` rows: a map choosing its base layer reads dozens of scenes on
    every new mouza, and building their STAC items cost more than the query."""
    params: dict[str, object] = {}
    where = [f"ST_Intersects(footprint, {_geometry_sql(bbox_or_geometry, params)})"]
    if sensor == "landsat":
        where.append("sensor IN ('landsat-8', 'landsat-9')")
    elif sensor is not None:
        where.append("sensor = :sensor")
        params["sensor"] = sensor
    sql = (
        "SELECT id, sensor, datetime, cloud_cover, ST_XMin(footprint), ST_YMin(footprint),"
        " ST_XMax(footprint), ST_YMax(footprint) FROM imagery_scene WHERE "
        + " AND ".join(where)
        + " ORDER BY datetime, id"
    )
    with engine.connect() as conn:
        rows = conn.execute(text(sql), params).all()
    return [
        SceneSummary(
            id=str(r[0]),
            sensor=str(r[1]),
            when=r[2],
            cloud_cover=None if r[3] is None else float(r[3]),
            bounds=(float(r[4]), float(r[5]), float(r[6]), float(r[7])),
        )
        for r in rows
    ]


def clear_fractions(engine: Engine, mouza_id: int, index: str = "ndvi") -> dict[str, float]:
    """Per scene, the mean clear fraction (``parcel_zonal.valid_fraction``) of the mouza's
    khasras that the zonal batch measured in it: how much of *this* mouza the scene
    sees, where its cloud cover speaks for the whole 100 km tile. Scenes without zonal
    rows for the mouza are left out."""
    sql = text(
        "SELECT z.scene_id, avg(z.valid_fraction) FROM parcel_zonal z"
        " JOIN khasra k ON k.id = z.khasra_id"
        " WHERE k.mouza_id = :m AND z.index = :ix AND z.valid_fraction IS NOT NULL"
        " GROUP BY z.scene_id"
    )
    with engine.connect() as conn:
        rows = conn.execute(sql, {"m": mouza_id, "ix": index.lower()}).all()
    return {str(scene): float(fraction) for scene, fraction in rows}


CLEAR_ENOUGH: Final = 0.9
"""A scene at least this clear over the mouza is drawn in preference to a nearer one."""
WINDOW_DAYS: Final = 60
"""How far from the date a clearer scene may be taken instead of the nearest: about two
Sentinel-2 months, so a rabi map never shows kharif fields."""


@dataclass(frozen=True)
class SceneChoice:
    """The scene a map draws and why. ``clear``: the fraction of the mouza it sees clear
    (from the parcels' zonal rows, else 1 − cloud cover; None when neither is known);
    ``rule``: ``nearest_clear`` (the nearest scene at least :data:`CLEAR_ENOUGH` clear
    within :data:`WINDOW_DAYS`), ``clearest`` (none so clear: the clearest in the
    window), or ``nearest`` (no scene in the window). ``passed_over``: the nearer,
    cloudier scene that was not chosen, if any."""

    scene: SceneSummary
    clear: float | None
    rule: str
    passed_over: SceneSummary | None = None
    passed_over_clear: float | None = None


def clarity(scene: SceneSummary, fractions: Mapping[str, float]) -> float | None:
    """How clear ``scene`` is over the mouza: the parcels' mean clear fraction where the
    zonal batch measured it, else 1 − the tile's cloud cover, else None (unknown)."""
    if scene.id in fractions:
        return fractions[scene.id]
    if scene.cloud_cover is not None:
        return 1.0 - scene.cloud_cover / 100.0
    return None


def choose_scene(
    scenes: Sequence[SceneSummary],
    day: date,
    fractions: Mapping[str, float] | None = None,
    *,
    clear_enough: float = CLEAR_ENOUGH,
    window_days: int = WINDOW_DAYS,
) -> SceneChoice | None:
    """The scene a map of ``day`` should draw (None when there is none).

    The nearest scene at least ``clear_enough`` clear within ``window_days`` of the day;
    failing that, the clearest in the window (the nearer on a tie); failing that, the
    nearest. A scene of unknown clarity counts as clear enough only when nothing better
    is known: the chooser never prefers a guess to a measurement. Ties in distance go to
    the earlier scene (the record as it stood).
    """
    if not scenes:
        return None
    known = fractions or {}

    def distance(s: SceneSummary) -> tuple[int, datetime]:
        return abs((s.when.date() - day).days), s.when

    by_distance = sorted(scenes, key=distance)
    nearest = by_distance[0]
    window = [s for s in by_distance if distance(s)[0] <= window_days]
    if not window:
        return SceneChoice(nearest, clarity(nearest, known), "nearest")
    measured = [(s, clarity(s, known)) for s in window]
    clear = [(s, c) for s, c in measured if c is not None and c >= clear_enough]
    if not clear and all(c is None for _, c in measured):
        return SceneChoice(nearest, None, "nearest")
    if clear:
        scene, fraction = clear[0]
        rule = "nearest_clear"
    else:
        scene, fraction = max(
            ((s, c) for s, c in measured if c is not None),
            key=lambda sc: (sc[1], -distance(sc[0])[0]),
        )
        rule = "clearest"
    passed = None if scene.id == window[0].id else window[0]
    return SceneChoice(
        scene,
        fraction,
        rule,
        passed_over=passed,
        passed_over_clear=None if passed is None else clarity(passed, known),
    )
