"""Reads of parcels, mouza boundaries and state land as GeoJSON features, for the API's
OGC API - Features collections (:mod:`landgov.api.features`).

Why not :func:`landgov.storage.read.mouza_parcels`: a GIS client asks by bounding box
across mouzas, a page at a time, and wants GeoJSON; building it in PostGIS
(``ST_AsGeoJSON``) and paging in SQL keeps a page's cost proportional to the page, not
to the mouza (``bench/api_load.py`` measures both paths).

The record on a date: a khasra is live on ``d`` when ``created_on <= d < retired_on``
(NULL: since settlement / still live), as everywhere in :mod:`landgov.storage.read`. A
period ``[start, end]`` selects the khasras live on some day of it; each is described as
of the last such day (``end``, or the day before it was retired).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection

BBox = tuple[float, float, float, float]
"""(min lon, min lat, max lon, max lat), WGS 84 (OGC CRS84)."""


@dataclass(frozen=True)
class FeaturePage:
    """One page of features and how many match in all.

    ``raw`` holds each feature as GeoJSON text: the geometry comes from PostGIS as text
    and is never parsed in Python (a mouza's page of 1,000 parcels costs 5 ms this way,
    against 60 ms parsed and dumped again; ``bench/api_load.py``).
    """

    raw: list[str]
    matched: int

    @property
    def features(self) -> list[dict[str, Any]]:
        """The features as dicts (parsed on demand)."""
        return [json.loads(f) for f in self.raw]


def _bbox_sql(column: str) -> str:
    return (
        f"(CAST(:x0 AS double precision) IS NULL OR ({column} && ST_MakeEnvelope(:x0, :y0, :x1,"
        f" :y1, 4326) AND ST_Intersects({column}, ST_MakeEnvelope(:x0, :y0, :x1, :y1, 4326))))"
    )


def _bbox_params(bbox: BBox | None) -> dict[str, float | None]:
    x0, y0, x1, y1 = bbox if bbox is not None else (None, None, None, None)
    return {"x0": x0, "y0": y0, "x1": x1, "y1": y1}


def _feature(fid: int, geometry: str | None, properties: dict[str, Any]) -> str:
    """A GeoJSON ``Feature`` as text, the geometry's text spliced in as PostGIS wrote it."""
    props = json.dumps(properties, ensure_ascii=False, separators=(",", ":"))
    return (
        f'{{"type":"Feature","id":{int(fid)},"geometry":{geometry or "null"},"properties":{props}}}'
    )


# --- khasras -------------------------------------------------------------------------------

_KHASRA_WHERE: Final = (
    " (k.created_on IS NULL OR k.created_on <= :end)"
    " AND (k.retired_on IS NULL OR CAST(:start AS date) IS NULL OR k.retired_on > :start)"
    " AND (CAST(:mouza AS bigint) IS NULL OR k.mouza_id = :mouza)"
    " AND (CAST(:one AS bigint) IS NULL OR k.id = :one)"
    f" AND {_bbox_sql('k.geom')}"
)

# Each feature is made whole in PostGIS (json_build_object): 1,000 features cost ~4 ms
# there against ~13 ms of Python dicts and json.dumps (bench/api_load.py). The recorded
# area in kanal-marla-sarsai is 180 sarsai a kanal and 9 a marla, in both unit systems
# (landgov.domain.units.KanalMarlaSarsai; tests/api/test_features.py checks every one).
_KHASRA_PAGE: Final = text(
    "WITH sel AS (SELECT k.id, CASE WHEN k.retired_on IS NOT NULL AND k.retired_on <= :end"
    "   THEN k.retired_on - 1 ELSE CAST(:end AS date) END AS on_day"
    f" FROM khasra k WHERE {_KHASRA_WHERE} ORDER BY k.id LIMIT :limit OFFSET :offset)"
    " SELECT CAST(json_build_object('type', 'Feature', 'id', k.id,"
    "  'geometry', CAST(ST_AsGeoJSON(k.geom, 7) AS json),"
    "  'properties', json_build_object("
    "   'khasra', k.number, 'mouza_id', k.mouza_id, 'mouza', m.name,"
    "   'hadbast', m.hadbast_number, 'land_class', k.land_class,"
    "   'area_kms', format('%s-%s-%s', k.record_area_sarsai / 180,"
    "                      (k.record_area_sarsai % 180) / 9, k.record_area_sarsai % 9),"
    "   'area_sarsai', k.record_area_sarsai, 'unit_system', k.unit_system,"
    "   'area_m2', round(CAST(k.geom_area_m2 AS numeric), 1),"
    "   'khewats', to_json(ARRAY(SELECT w.number FROM khewat_khasra kk JOIN khewat w"
    "     ON w.id = kk.khewat_id WHERE kk.khasra_id = k.id AND kk.valid_from <= sel.on_day"
    "     AND (kk.valid_to IS NULL OR kk.valid_to > sel.on_day) ORDER BY w.number)),"
    "   'created_on', k.created_on, 'retired_on', k.retired_on, 'as_of', sel.on_day))"
    " AS text) AS feature"
    " FROM sel JOIN khasra k ON k.id = sel.id JOIN mouza m ON m.id = k.mouza_id ORDER BY k.id"
)
_KHASRA_COUNT: Final = text(f"SELECT count(*) FROM khasra k WHERE {_KHASRA_WHERE}")


def khasra_features(
    conn: Connection,
    *,
    start: date | None,
    end: date,
    bbox: BBox | None = None,
    mouza_id: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> FeaturePage:
    """Khasras live on some day of ``[start, end]`` (``start`` None: any time up to
    ``end``; ``start == end``: the record on that day) within ``bbox`` and mouza
    ``mouza_id``, by id, ``limit`` from ``offset``.

    Properties: ``khasra`` (number), ``mouza_id``, ``mouza``, ``hadbast``, ``land_class``,
    ``area_kms`` / ``area_sarsai`` / ``unit_system`` (the recorded area), ``area_m2`` (of
    the geometry), ``khewats`` (numbers holding it on ``as_of``), ``created_on``,
    ``retired_on``, ``as_of``. No owners: who holds a khewat is personal data.
    """
    params = {
        "start": start, "end": end, "mouza": mouza_id, "one": None,
        "limit": limit, "offset": offset, **_bbox_params(bbox),
    }  # fmt: skip
    return _page(conn, _KHASRA_PAGE, _KHASRA_COUNT, params, lambda r: str(r.feature))


def khasra_feature(conn: Connection, khasra_id: int, on: date) -> str | None:
    """One khasra as a feature (GeoJSON text), described as of ``on`` (or the day before
    it was retired, when earlier); None when there is no such khasra or it was created
    after ``on``."""
    params = {
        "start": None, "end": on, "mouza": None, "one": khasra_id,
        "limit": 1, "offset": 0, **_bbox_params(None),
    }  # fmt: skip
    found = conn.execute(_KHASRA_PAGE, params).scalar_one_or_none()
    return None if found is None else str(found)


# --- mouza boundaries and state land -----------------------------------------------------

_MOUZA_WHERE: Final = (
    "m.boundary IS NOT NULL AND (CAST(:one AS bigint) IS NULL OR m.id = :one)"
    f" AND {_bbox_sql('m.boundary')}"
)
_MOUZA_PAGE: Final = text(
    "SELECT m.id, m.name, m.name_ur, m.hadbast_number, t.name AS tehsil, d.name AS district,"
    " m.unit_system, ST_AsGeoJSON(m.boundary, 7) AS geometry"
    " FROM mouza m JOIN admin_unit t ON t.id = m.tehsil_id"
    " LEFT JOIN admin_unit d ON d.id = t.parent_id AND d.level = 'district'"
    f" WHERE {_MOUZA_WHERE} ORDER BY m.id LIMIT :limit OFFSET :offset"
)
_MOUZA_COUNT: Final = text(f"SELECT count(*) FROM mouza m WHERE {_MOUZA_WHERE}")

_STATE_WHERE: Final = f"(CAST(:one AS bigint) IS NULL OR s.id = :one) AND {_bbox_sql('s.geom')}"
_STATE_PAGE: Final = text(
    "SELECT s.id, s.category, s.custodian, s.name, s.notification, s.mouza_id,"
    " ST_AsGeoJSON(s.geom, 7) AS geometry FROM state_land s"
    f" WHERE {_STATE_WHERE} ORDER BY s.id LIMIT :limit OFFSET :offset"
)
_STATE_COUNT: Final = text(f"SELECT count(*) FROM state_land s WHERE {_STATE_WHERE}")


def _page(
    conn: Connection, page: Any, count: Any, params: dict[str, Any], shape: Any
) -> FeaturePage:
    """A page of ``page``'s rows made features by ``shape``; the count of all only when the
    page does not tell it (a first page shorter than the limit holds them all)."""
    rows = conn.execute(page, params).all()
    if params["offset"] == 0 and len(rows) < params["limit"]:
        matched = len(rows)
    else:
        matched = int(conn.execute(count, params).scalar_one())
    return FeaturePage([shape(r) for r in rows], matched)


def _mouza_feature(r: Any) -> str:
    props = {
        "name": r.name, "name_ur": r.name_ur, "hadbast": int(r.hadbast_number),
        "tehsil": r.tehsil, "district": r.district, "unit_system": r.unit_system,
    }  # fmt: skip
    return _feature(int(r.id), r.geometry, props)


def _state_feature(r: Any) -> str:
    props = {
        "category": r.category, "custodian": r.custodian, "name": r.name,
        "notification": r.notification,
        "mouza_id": None if r.mouza_id is None else int(r.mouza_id),
    }  # fmt: skip
    return _feature(int(r.id), r.geometry, props)


def mouza_features(
    conn: Connection,
    *,
    bbox: BBox | None = None,
    one: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> FeaturePage:
    """Mouza boundaries (mouzas recorded without one are left out), by id."""
    params = {"one": one, "limit": limit, "offset": offset, **_bbox_params(bbox)}
    return _page(conn, _MOUZA_PAGE, _MOUZA_COUNT, params, _mouza_feature)


def state_land_features(
    conn: Connection,
    *,
    bbox: BBox | None = None,
    one: int | None = None,
    limit: int = 100,
    offset: int = 0,
) -> FeaturePage:
    """Notified state land (shamlat, forest, auqaf, evacuee, canal and road rights of
    way), by id."""
    params = {"one": one, "limit": limit, "offset": offset, **_bbox_params(bbox)}
    return _page(conn, _STATE_PAGE, _STATE_COUNT, params, _state_feature)


@dataclass(frozen=True)
class Extents:
    """The spatial extent of each collection, and the khasras' first creation date."""

    khasras: BBox | None
    mouzas: BBox | None
    state_land: BBox | None
    first_khasra_created: date | None


def extents(conn: Connection) -> Extents:
    """Each collection's bounding box (None: empty)."""
    row = conn.execute(
        text(
            "SELECT (SELECT ST_Extent(geom) FROM khasra) AS k,"
            " (SELECT ST_Extent(boundary) FROM mouza) AS m,"
            " (SELECT ST_Extent(geom) FROM state_land) AS s,"
            " (SELECT min(created_on) FROM khasra) AS first"
        )
    ).one()

    def box(value: Any) -> BBox | None:
        if value is None:
            return None
        # 'BOX(x0 y0,x1 y1)'
        inner = str(value)[4:-1].replace(",", " ").split()
        x0, y0, x1, y1 = (float(v) for v in inner)
        return (x0, y0, x1, y1)

    return Extents(box(row.k), box(row.m), box(row.s), row.first)
