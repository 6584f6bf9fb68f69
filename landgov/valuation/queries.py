"""Reads of stored valuations and of the sales they are checked against, for the
dashboard's Valuation page.

The dashboard shell runs no SQL: it calls these functions (and
:mod:`landgov.valuation.roll`, :mod:`~landgov.valuation.transfer`,
:mod:`~landgov.valuation.appraisal`) and shapes the results for its tables and map.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
from sqlalchemy import text
from sqlalchemy.engine import Connection

_ROLL_VALUES_SQL = text(
    "SELECT k.id AS khasra_id, k.number AS khasra_no, k.land_class,"
    " k.record_area_sarsai, k.unit_system, v.value_rs, v.rate_id, v.model_id, k.geom"
    " FROM valuation_roll_value v JOIN khasra k ON k.id = v.khasra_id"
    " WHERE v.roll_id = :roll AND k.mouza_id = :mouza"
    " ORDER BY k.murabba NULLS FIRST, k.main_number, k.tatima, k.id"
)


def roll_values(conn: Connection, roll_id: int, mouza_id: int) -> gpd.GeoDataFrame:
    """The value roll ``roll_id`` gives each parcel of mouza ``mouza_id``.

    Returns:
        GeoDataFrame (geometry ``geom``, EPSG:4326) with ``khasra_id``, ``khasra_no``,
        ``land_class``, ``record_area_sarsai``, ``unit_system``, ``value_rs``,
        ``rate_id`` (the DC rate that made the value, or None) and ``model_id`` (the
        appraisal model, or None); in register order (murabba, main number, tatima).
        Parcels the roll does not value are absent.
    """
    return gpd.read_postgis(
        _ROLL_VALUES_SQL, conn, geom_col="geom", params={"roll": roll_id, "mouza": mouza_id}
    )


def priced_sale_ids(conn: Connection, mouza_id: int, as_of: date) -> list[int]:
    """Ids of the sanctioned sales of mouza ``mouza_id`` with a declared price
    (``consideration_rs > 0``) valued on or before ``as_of`` (the deed's date, else the
    date entered: the valuation date :mod:`landgov.valuation.transfer` uses), by number.

    These are the sales a ratio study sets statutory values against.
    """
    ids = (
        conn.execute(
            text(
                "SELECT id FROM mutation WHERE mouza_id = :m AND type = 'sale'"
                " AND status = 'sanctioned' AND consideration_rs > 0"
                " AND coalesce(deed_date, entered_on) <= :d ORDER BY number"
            ),
            {"m": mouza_id, "d": as_of},
        )
        .scalars()
        .all()
    )
    return [int(i) for i in ids]
