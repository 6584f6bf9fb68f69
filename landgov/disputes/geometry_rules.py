"""Registers the spatial detectors of :mod:`landgov.disputes.spatial` as rules.

The detectors return plain dicts (they are SQL and test on their own); this module turns
them into :class:`~landgov.disputes.rules.Finding` objects. A finding's subject is the
first khasra the detector names (an overlap names both in its evidence and its key; a gap
names first the parcel sharing its longest edge), so the case lands on a parcel an
officer can open. A detector's ``grade`` (overlaps and encroachments: how much land, and
how large a part of either side, :func:`landgov.disputes.spatial.overlap_grade`) becomes
the finding's grade; the others grade 1.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from landgov.disputes import spatial
from landgov.disputes.rules import Finding, rule


def _adapt(rule_ids: tuple[str, ...], detector: Any, partitioned: bool) -> None:
    def run(
        conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
    ) -> list[Finding]:
        out: list[Finding] = []
        found = (
            spatial.run_partitioned(conn, detector, mouza_ids=mouza_ids, thresholds=thresholds)
            if partitioned
            else detector(conn, mouza_ids=mouza_ids, thresholds=thresholds)
        )
        for d in found:
            named = [int(k) for k in d["khasra_ids"]]  # the detector's order: main first
            ids = sorted(named)
            out.append(Finding(
                rule=d["rule"], mouza_id=int(d["mouza_id"]),
                khasra_id=named[0] if named else None, measure=d.get("measure"),
                threshold=d.get("threshold"), grade=float(d.get("grade", 1.0)),
                evidence=dict(d.get("evidence") or {}) | {"khasra_ids": ids},
                geom_wkb=d.get("geom_wkb"),
                key=f"khasras:{','.join(map(str, ids))}" + (
                    f":{round(d['measure'], 1)}" if d["rule"] in ("gap", "sliver") else ""),
            ))  # fmt: skip
        return out

    run.__doc__ = detector.__doc__
    for rule_id in rule_ids:  # one detector may report several rules: the scan runs it once
        rule(rule_id)(run)


# partitioned: run on several connections (spatial.run_partitioned). Only the gap search
# gains: its per-mouza union cannot use PostgreSQL's parallel query, while the overlap
# join already does (bench/overlaps.py measures both ways).
for _rule_ids, _detector, _partitioned in (
    (("overlap",), spatial.overlaps, False),
    (("gap", "sliver"), spatial.gaps, True),
    (("area_mismatch",), spatial.area_mismatch, False),
    (("tatima_area_mismatch",), spatial.tatima_sum, False),
    (("private_on_state_land",), spatial.private_on_state_land, False),
):
    _adapt(_rule_ids, _detector, _partitioned)
