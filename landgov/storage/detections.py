"""Model outputs in PostGIS: detection runs, encroachment cases, crop and yield predictions.

A run is identified by its kind and a ``run_key`` built from its inputs (mouza, scenes or
season, model name and version, thresholds). Writing a run deletes an earlier run with the
same key (its rows cascade) and inserts the new one in the caller's transaction, so a
re-run replaces rather than duplicates, and a failure leaves the earlier results intact.

Encroachment cases are made here, in SQL, because the spatial work belongs next to the
index: candidate structure polygons are intersected with each piece of state land grown by
its category's ``encroachment_zone.buffer_m`` (in metres, in the parcels' UTM zone), and a
case is kept when the overlap reaches ``min_overlap_m2``. A structure straddling two pieces
of state land makes two cases, one per custodian.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from landgov.storage.bulk import copy_rows


@dataclass(frozen=True)
class Candidate:
    """A detected new structure: polygon as WKB in EPSG:4326 and its confidence."""

    wkb: bytes
    confidence: float


def replace_run(
    conn: Connection,
    *,
    kind: str,
    mouza_id: int,
    run_key: str,
    model_name: str,
    model_version: str,
    params: dict[str, Any],
) -> int:
    """Deletes the earlier run with this key (and its rows) and opens a new one; its id."""
    conn.execute(
        text("DELETE FROM detection_run WHERE kind = :k AND run_key = :r"),
        {"k": kind, "r": run_key},
    )
    values = {"k": kind, "m": mouza_id, "r": run_key, "n": model_name, "v": model_version,
              "p": json.dumps(params, sort_keys=True, default=str)}  # fmt: skip
    return int(
        conn.execute(
            text(
                "INSERT INTO detection_run (kind, mouza_id, run_key, model_name, model_version,"
                " params) VALUES (:k, :m, :r, :n, :v, CAST(:p AS jsonb)) RETURNING id"
            ),
            values,
        ).scalar_one()
    )


def find_run(conn: Connection, kind: str, run_key: str) -> dict[str, Any] | None:
    """The stored run with this key (id, summary, created_at), or None."""
    row = (
        conn.execute(
            text(
                "SELECT id, summary, created_at FROM detection_run WHERE kind = :k AND run_key = :r"
            ),
            {"k": kind, "r": run_key},
        )
        .mappings()
        .first()
    )
    return dict(row) if row is not None else None


def run_cases(conn: Connection, run_id: int) -> list[dict[str, Any]]:
    """The encroachment cases of a run, as :func:`write_encroachment_cases` returns them."""
    return [
        dict(r)
        for r in conn.execute(
            text(
                "SELECT id, state_land_id, category, area_m2, overlap_m2, confidence, first_seen,"
                " before_chip, after_chip, ST_AsBinary(geom) AS wkb FROM encroachment_case"
                " WHERE run_id = :r ORDER BY id"
            ),
            {"r": run_id},
        ).mappings()
    ]


def set_summary(conn: Connection, run_id: int, summary: dict[str, Any]) -> None:
    conn.execute(
        text("UPDATE detection_run SET summary = CAST(:s AS jsonb) WHERE id = :id"),
        {"s": json.dumps(summary, sort_keys=True, default=str), "id": run_id},
    )


def mouza_utm_srid(conn: Connection, mouza_id: int) -> int:
    """EPSG code of the UTM zone of the mouza's centre (32642 or 32643 in Punjab)."""
    from landgov.domain.geometry import utm_epsg_for

    row = conn.execute(
        text(
            "SELECT ST_X(c) AS lon, ST_Y(c) AS lat FROM (SELECT ST_Centroid(coalesce(boundary,"
            " (SELECT ST_Collect(geom) FROM khasra WHERE mouza_id = :m))) AS c"
            " FROM mouza WHERE id = :m) s"
        ),
        {"m": mouza_id},
    ).one()
    return utm_epsg_for(float(row.lon), float(row.lat))


def write_encroachment_cases(
    conn: Connection,
    run_id: int,
    mouza_id: int,
    candidates: Sequence[Candidate],
    *,
    seen_on: date,
    before_scene_id: str | None,
    after_scene_id: str | None,
) -> list[dict[str, Any]]:
    """Cases where candidates overlap the mouza's state land zones; returns them as dicts.

    ``first_seen`` is ``seen_on`` unless a case of an earlier run of this mouza on the same
    state land overlaps the structure: then that case's ``first_seen`` carries over, so a
    structure seen again keeps the date it was first seen.
    """
    srid = mouza_utm_srid(conn, mouza_id)
    conn.execute(
        text(
            "CREATE TEMP TABLE IF NOT EXISTS _candidate (n integer, geom geometry,"
            " confidence double precision) ON COMMIT DROP"
        )
    )
    conn.execute(text("DELETE FROM _candidate"))
    copy_rows(
        conn,
        "_candidate",
        ("n", "geom", "confidence"),
        ((i, "SRID=4326;" + c.wkb.hex(), c.confidence) for i, c in enumerate(candidates)),
    )
    values = {"m": mouza_id, "run": run_id, "seen": seen_on, "before": before_scene_id,
              "after": after_scene_id}  # fmt: skip
    rows = (
        conn.execute(
            text(
                f"""
            WITH zone AS (
                SELECT s.id, s.category, z.min_overlap_m2,
                       ST_Buffer(ST_Transform(s.geom, {srid}), z.buffer_m) AS g
                FROM state_land s
                JOIN encroachment_zone z ON z.category = s.category
                JOIN mouza m ON m.id = :m
                WHERE s.mouza_id = :m
                   OR (s.mouza_id IS NULL AND ST_Intersects(s.geom, m.boundary))
            ), hit AS (
                SELECT c.n, c.confidence, z.id AS state_land_id, z.category,
                       ST_Multi(ST_MakeValid(c.geom)) AS geom,
                       ST_Area(ST_Transform(c.geom, {srid})) AS area_m2,
                       ST_Area(ST_Intersection(ST_Transform(c.geom, {srid}), z.g)) AS overlap_m2
                FROM _candidate c
                JOIN zone z ON ST_Intersects(ST_Transform(c.geom, {srid}), z.g)
            )
            INSERT INTO encroachment_case (run_id, mouza_id, state_land_id, category, geom,
                area_m2, overlap_m2, confidence, first_seen, before_scene_id, after_scene_id)
            SELECT :run, :m, h.state_land_id, h.category, h.geom, h.area_m2, h.overlap_m2,
                   h.confidence,
                   LEAST(:seen, coalesce((
                       SELECT min(e.first_seen) FROM encroachment_case e
                       WHERE e.mouza_id = :m AND e.run_id <> :run
                         AND e.state_land_id = h.state_land_id
                         AND ST_Intersects(e.geom, h.geom)), :seen)),
                   :before, :after
            FROM hit h JOIN zone z ON z.id = h.state_land_id
            WHERE h.overlap_m2 >= z.min_overlap_m2
            ORDER BY h.n, h.state_land_id
            RETURNING id, state_land_id, category, area_m2, overlap_m2, confidence, first_seen,
                      ST_AsBinary(geom) AS wkb
            """
            ),
            values,
        )
        .mappings()
        .all()
    )
    return [dict(r) for r in rows]


def set_case_chips(conn: Connection, case_id: int, before: str | None, after: str | None) -> None:
    conn.execute(
        text("UPDATE encroachment_case SET before_chip = :b, after_chip = :a WHERE id = :id"),
        {"b": before, "a": after, "id": case_id},
    )
