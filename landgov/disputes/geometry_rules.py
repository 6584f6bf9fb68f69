"""Registers the spatial detectors of :mod:`landgov.disputes.spatial` as rules.

The detectors return plain dicts (they are SQL and test on their own); this module turns
them into :class:`~landgov.disputes.rules.Finding` objects. A finding's subject is its
first khasra (an overlap names both in its evidence and its key), so the case lands on a
parcel an officer can open.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection

from landgov.disputes import spatial
from landgov.disputes.rules import Finding, rule


def _adapt(rule_ids: tuple[str, ...], detector: Any) -> None:
    def run(
        conn: Connection, mouza_ids: list[int], since: date | None, thresholds: dict[str, Any]
    ) -> list[Finding]:
        out: list[Finding] = []
        for d in detector(conn, mouza_ids=mouza_ids, thresholds=thresholds):
            ids = sorted(int(k) for k in d["khasra_ids"])
            out.append(Finding(
                rule=d["rule"], mouza_id=int(d["mouza_id"]),
                khasra_id=ids[0] if ids else None, measure=d.get("measure"),
                threshold=d.get("threshold"),
                evidence=dict(d.get("evidence") or {}) | {"khasra_ids": ids},
                geom_wkb=d.get("geom_wkb"),
                key=f"khasras:{','.join(map(str, ids))}" + (
                    f":{round(d['measure'], 1)}" if d["rule"] in ("gap", "sliver") else ""),
            ))  # fmt: skip
        return out

    run.__doc__ = detector.__doc__
    for rule_id in rule_ids:  # one detector may report several rules: the scan runs it once
        rule(rule_id)(run)


for _rule_ids, _detector in (
    (("overlap",), spatial.overlaps),
    (("gap", "sliver"), spatial.gaps),
    (("area_mismatch",), spatial.area_mismatch),
    (("tatima_area_mismatch",), spatial.tatima_sum),
    (("private_on_state_land",), spatial.private_on_state_land),
):
    _adapt(_rule_ids, _detector)
