"""Read queries shared by the exporter, the dashboard and the CLI.

The record of rights on a date is a query over periods: a khasra is live on ``d`` when
``created_on <= d < retired_on``, a khewat holds it when its ``khewat_khasra`` period
covers ``d``, and a party owns a share when its ``share`` period covers ``d``. A NULL
start means "since settlement" and a NULL end "still current".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import geopandas as gpd
import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection


def _covers(alias: str, start: str = "valid_from", end: str = "valid_to") -> str:
    """SQL: the period of ``alias`` covers the bound date ``:as_of``."""
    return (
        f"({alias}.{start} IS NULL OR {alias}.{start} <= :as_of) AND "
        f"({alias}.{end} IS NULL OR {alias}.{end} > :as_of)"
    )


@dataclass(frozen=True)
class MouzaSummary:
    id: int
    name: str
    name_ur: str | None
    hadbast_number: int
    tehsil: str
    district: str | None
    unit_system: str
    khasra_count: int


def list_mouzas(conn: Connection) -> list[MouzaSummary]:
    rows = conn.execute(
        text(
            "SELECT m.id, m.name, m.name_ur, m.hadbast_number, t.name, d.name, m.unit_system,"
            " (SELECT count(*) FROM khasra k WHERE k.mouza_id = m.id AND k.retired_on IS NULL)"
            " FROM mouza m JOIN admin_unit t ON t.id = m.tehsil_id"
            " LEFT JOIN admin_unit d ON d.id = t.parent_id AND d.level = 'district'"
            " ORDER BY m.name"
        )
    ).all()
    return [MouzaSummary(*row) for row in rows]


def mouza_parcels(conn: Connection, mouza_id: int, as_of: date) -> gpd.GeoDataFrame:
    """Khasras of a mouza live on ``as_of``, with the khewat number(s) holding each."""
    sql = text(
        "SELECT k.id AS khasra_id, k.number AS khasra_no, k.murabba, k.main_number,"
        " k.land_class, k.record_area_sarsai, k.unit_system, k.geom_area_m2, k.source,"
        " (SELECT string_agg(w.number::text, ',' ORDER BY w.number)"
        "    FROM khewat_khasra kk JOIN khewat w ON w.id = kk.khewat_id"
        f"  WHERE kk.khasra_id = k.id AND {_covers('kk')}) AS khewat_no,"
        " k.geom"
        " FROM khasra k WHERE k.mouza_id = :mouza"
        f" AND {_covers('k', 'created_on', 'retired_on')}"
        " ORDER BY k.murabba NULLS FIRST, k.main_number, k.tatima"
    )
    return gpd.read_postgis(sql, conn, geom_col="geom", params={"mouza": mouza_id, "as_of": as_of})


def owners_as_of(
    conn: Connection,
    as_of: date,
    *,
    mouza_id: int | None = None,
    khasra_ids: list[int] | None = None,
) -> pd.DataFrame:
    """One row per (khasra, khewat, party, right) in force on ``as_of``.

    Filter by a mouza, by khasra ids, or both. Shares are fractions of the whole khewat,
    as integer ``numerator``/``denominator`` (never floats).
    """
    if mouza_id is None and khasra_ids is None:
        raise ValueError("owners_as_of needs mouza_id or khasra_ids")
    where = [_covers("kk"), _covers("s")]
    params: dict[str, object] = {"as_of": as_of}
    if mouza_id is not None:
        where.append("k.mouza_id = :mouza")
        params["mouza"] = mouza_id
    if khasra_ids is not None:
        where.append("k.id = ANY(:ids)")
        params["ids"] = list(khasra_ids)
    sql = text(
        "SELECT k.id AS khasra_id, k.number AS khasra_no, w.id AS khewat_id,"
        " w.number AS khewat_no, p.id AS party_id, p.kind, p.name, p.name_ur,"
        " p.guardian_relation, p.guardian_name, p.cnic, p.custodian, p.gender,"
        " p.date_of_death, s.numerator, s.denominator, s.right_type, s.valid_from,"
        " s.created_by_mutation_id"
        " FROM khasra k"
        " JOIN khewat_khasra kk ON kk.khasra_id = k.id"
        " JOIN khewat w ON w.id = kk.khewat_id"
        " JOIN share s ON s.khewat_id = w.id"
        " JOIN party p ON p.id = s.party_id"
        f" WHERE {' AND '.join(where)}"
        " ORDER BY k.id, w.number, s.right_type, p.name, p.id"
    )
    return pd.read_sql_query(sql, conn, params=params)


def khewat_areas(conn: Connection, khewat_ids: list[int], as_of: date) -> dict[int, int]:
    """Area in whole sarsai each khewat holds on ``as_of``: the sum of its khasra parts.

    Only khasras live on ``as_of`` count. A khewat holding nothing then is left out.
    """
    rows = conn.execute(
        text(
            "SELECT kk.khewat_id, sum(kk.area_sarsai)"
            " FROM khewat_khasra kk JOIN khasra k ON k.id = kk.khasra_id"
            f" WHERE kk.khewat_id = ANY(:ids) AND {_covers('kk')}"
            f" AND {_covers('k', 'created_on', 'retired_on')}"
            " GROUP BY kk.khewat_id"
        ),
        {"ids": list(khewat_ids), "as_of": as_of},
    ).all()
    return {int(khewat_id): int(total) for khewat_id, total in rows}
