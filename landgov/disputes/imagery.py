"""Rules over what the models saw (domain.md §6.10, §6.12): stored model runs, not pixels.

They read the latest run of each kind per mouza (``landgov detect encroachment``,
``landgov models predict``), so a scan costs no inference; re-running a model and then
the scan updates the flags.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, text

from landgov.disputes.rules import Finding, rule


@rule("girdawari_vs_satellite")
def girdawari_vs_satellite(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.12: the crop model, at least ``min_probability`` sure on clear imagery, sees
    another crop than the girdawari entry, or a crop where the girdawari records no
    cultivation at all (latest crops run per mouza and season)."""
    rows = conn.execute(
        text(
            "WITH latest AS (SELECT DISTINCT ON (mouza_id, params->>'season') id, mouza_id,"
            "  model_name, model_version FROM detection_run WHERE kind = 'crops'"
            "  AND mouza_id = ANY(:m) ORDER BY mouza_id, params->>'season', created_at DESC)"
            " SELECT p.khasra_id, l.mouza_id, p.season, p.year, p.crop, p.probability,"
            " p.girdawari_crop, p.girdawari_probability, l.model_name, l.model_version"
            " FROM crop_prediction p JOIN latest l ON l.id = p.run_id"
            " WHERE (p.disagrees OR (p.girdawari_crop IS NULL AND p.crop <> 'fallow'))"
            " AND p.probability >= :p ORDER BY p.khasra_id, p.year, p.season"
        ),
        {"m": mouza_ids, "p": float(thresholds.get("min_probability", 0.9))},
    ).all()
    return [
        Finding(rule="girdawari_vs_satellite", mouza_id=int(r.mouza_id),
                khasra_id=int(r.khasra_id), measure=float(r.probability),
                threshold=float(thresholds.get("min_probability", 0.9)),
                evidence={"season": r.season, "year": r.year, "seen": r.crop,
                          "recorded": r.girdawari_crop,
                          "probability_recorded": r.girdawari_probability,
                          "model": f"{r.model_name}:{r.model_version}"},
                key=f"khasra:{r.khasra_id}:{r.season}:{r.year}")
        for r in rows
    ]  # fmt: skip


@rule("structure_on_state_land")
def structure_on_state_land(
    conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
) -> list[Finding]:
    """§6.10: an encroachment case (a new structure on state land or in a right-of-way) of
    the mouza's latest detection run with confidence at least ``min_confidence``."""
    rows = conn.execute(
        text(
            "WITH latest AS (SELECT DISTINCT ON (mouza_id) id FROM detection_run"
            "  WHERE kind = 'encroachment' AND mouza_id = ANY(:m)"
            "  ORDER BY mouza_id, created_at DESC)"
            " SELECT e.id, e.mouza_id, e.state_land_id, e.category, e.area_m2, e.overlap_m2,"
            " e.confidence, e.first_seen, e.before_chip, e.after_chip, ST_AsBinary(e.geom) AS g,"
            " round(ST_X(ST_Centroid(e.geom))::numeric, 4) AS x,"
            " round(ST_Y(ST_Centroid(e.geom))::numeric, 4) AS y"
            " FROM encroachment_case e JOIN latest l ON l.id = e.run_id"
            " WHERE e.confidence >= :c ORDER BY e.id"
        ),
        {"m": mouza_ids, "c": float(thresholds.get("min_confidence", 0.8))},
    ).all()
    return [
        Finding(rule="structure_on_state_land", mouza_id=int(r.mouza_id),
                measure=float(r.overlap_m2), threshold=None,
                evidence={"state_land_id": r.state_land_id, "category": r.category,
                          "area_m2": round(r.area_m2, 1), "confidence": round(r.confidence, 3),
                          "first_seen": r.first_seen.isoformat(), "before_chip": r.before_chip,
                          "after_chip": r.after_chip, "encroachment_case_id": r.id},
                geom_wkb=bytes(r.g), subject=("state_land", int(r.state_land_id)),
                # the same structure seen by another run or model: same place, same flag
                key=f"state_land:{r.state_land_id}:{r.x}:{r.y}")
        for r in rows
    ]  # fmt: skip
