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


def mouza_ids(conn: Connection) -> list[int]:
    """Every mouza's id, ascending (what a job over "every mouza" walks)."""
    return [int(i) for i in conn.execute(text("SELECT id FROM mouza ORDER BY id")).scalars()]


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
    params: dict[str, date | int | list[int]] = {"as_of": as_of}
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


# --- mutations: the chain of a khasra, pending work, officers -------------------------

_PARTY_COLUMNS = (
    "{p}.id AS {r}_id, {p}.name AS {r}_name, {p}.guardian_relation AS {r}_guardian_relation,"
    " {p}.guardian_name AS {r}_guardian_name, {p}.cnic AS {r}_cnic,"
    " {p}.custodian AS {r}_custodian"
)
"""SQL: a party's identifying columns, prefixed ``transferor_`` / ``transferee_``."""

_LINEAGE = (
    "WITH RECURSIVE lineage AS ("
    "  SELECT k.id, k.number, k.parent_khasra_id, k.created_on, k.retired_on, 0 AS depth"
    "  FROM khasra k WHERE k.id = :khasra"
    "  UNION ALL"
    "  SELECT p.id, p.number, p.parent_khasra_id, p.created_on, p.retired_on, l.depth + 1"
    "  FROM khasra p JOIN lineage l ON p.id = l.parent_khasra_id"
    "  WHERE l.depth < 64"  # a parent cycle would be a data error; never loop forever
    "), holding AS ("
    "  SELECT l.id AS khasra_id, l.number AS khasra_no, l.depth, kk.khewat_id,"
    "   w.number AS khewat_no, kk.area_sarsai, kk.valid_from, kk.valid_to"
    "  FROM lineage l JOIN khewat_khasra kk ON kk.khasra_id = l.id"
    "  JOIN khewat w ON w.id = kk.khewat_id"
    ")"
)
"""SQL: ``lineage`` (the khasra and its partition parents, ``depth`` 0 = itself) and
``holding`` (every khewat_khasra period of any of them)."""


def _line_columns(where: str) -> str:
    """SQL: the columns of :attr:`MutationChain.lines`, ``where`` naming the line's
    ``line_no, khewat_id, khewat_no, via_khasra_no``; needs ``m``, ``o``, ``ml``, ``tf``,
    ``te`` (:data:`_LINE_JOINS`)."""
    return (
        "m.id AS mutation_id, m.number, m.type, m.status, m.entered_on,"
        " m.verified_on, m.decided_on, coalesce(m.decided_on, m.entered_on) AS event_date,"
        " m.rejection_reason, m.deed_number, m.deed_date, m.consideration_rs, m.remarks,"
        " o.name AS officer_name, o.designation AS officer_designation, "
        + where
        + ", ml.numerator, ml.denominator, ml.right_type, "
        + _PARTY_COLUMNS.format(p="tf", r="transferor")
        + ", "
        + _PARTY_COLUMNS.format(p="te", r="transferee")
    )


_LINE_JOINS = (
    " LEFT JOIN officer o ON o.id = m.officer_id"
    " LEFT JOIN party tf ON tf.id = ml.transferor_party_id"
    " LEFT JOIN party te ON te.id = ml.transferee_party_id"
)


@dataclass(frozen=True)
class MutationChain:
    """The history of a khasra's rights, from settlement to the pending mutations.

    Attributes:
        lineage: the khasra (``depth`` 0) and its partition parents (1, 2...): ``khasra_id,
            khasra_no, parent_khasra_id, created_on, retired_on, depth``.
        holdings: one row per khewat period of the khasra or of a partition parent:
            ``khasra_id, khasra_no, depth`` (0 = the khasra itself, 1 = its parent...),
            ``khewat_id, khewat_no, area_sarsai, valid_from, valid_to``; oldest first.
        settlement: the first recorded owners: share rows no mutation created
            (``created_by_mutation_id`` NULL) on those khewats during those periods, with
            ``khewat_id, khewat_no, via_khasra_no`` (the lineage khasra it held), the
            party (``party_id, name, guardian_relation, guardian_name, cnic,
            custodian``) and ``numerator, denominator, right_type, valid_from,
            valid_to``.
        lines: one row per mutation line on those khewats whose date (decided on, or
            entered on while pending) falls in a holding period: the mutation (``mutation_id,
            number, type, status, entered_on, verified_on, decided_on, rejection_reason,
            deed_number, deed_date, consideration_rs, remarks, officer_name,
            officer_designation``), ``event_date``, the line (``line_no, khewat_id,
            khewat_no, via_khasra_no, numerator, denominator, right_type``) and both parties
            (``transferor_*`` and ``transferee_*``: id, name, guardian_relation,
            guardian_name, cnic, custodian; NULL where the line has no such party).
            Ordered by event date, mutation number and line.
    """

    lineage: pd.DataFrame
    holdings: pd.DataFrame
    settlement: pd.DataFrame
    lines: pd.DataFrame


def mutation_chain(conn: Connection, khasra_id: int) -> MutationChain:
    """Every mutation that touched khasra ``khasra_id``, back to the settlement owners.

    Follows the khasra's ``khewat_khasra`` periods and those of its partition parents
    (``parent_khasra_id``, recursively): a mutation on a khewat counts when the khewat
    held the khasra (or the parent it was cut from) on the mutation's date. Rejected and
    pending mutations are included; their lines changed no share.
    """
    params = {"khasra": khasra_id}
    lineage = pd.read_sql_query(
        text(
            f"{_LINEAGE} SELECT id AS khasra_id, number AS khasra_no, parent_khasra_id,"
            " created_on, retired_on, depth FROM lineage ORDER BY depth"
        ),
        conn,
        params=params,
    )
    holdings = pd.read_sql_query(
        text(
            f"{_LINEAGE} SELECT khasra_id, khasra_no, depth, khewat_id, khewat_no,"
            " area_sarsai, valid_from, valid_to FROM holding"
            " ORDER BY valid_from, depth DESC, khewat_no"
        ),
        conn,
        params=params,
    )
    settlement = pd.read_sql_query(
        text(
            f"{_LINEAGE} SELECT * FROM ("
            " SELECT DISTINCT ON (s.id) s.id AS share_id, h.khewat_id, h.khewat_no,"
            " h.khasra_no AS via_khasra_no, p.id AS party_id, p.name, p.guardian_relation,"
            " p.guardian_name, p.cnic, p.custodian, s.numerator, s.denominator,"
            " s.right_type, s.valid_from, s.valid_to"
            " FROM holding h JOIN share s ON s.khewat_id = h.khewat_id"
            " JOIN party p ON p.id = s.party_id"
            " WHERE s.created_by_mutation_id IS NULL"
            " AND (h.valid_to IS NULL OR s.valid_from < h.valid_to)"
            " AND (s.valid_to IS NULL OR s.valid_to > h.valid_from)"
            " ORDER BY s.id, h.depth) first_owners"
            " ORDER BY valid_from, khewat_no, right_type, name, share_id"
        ),
        conn,
        params=params,
    )
    lines = pd.read_sql_query(
        text(
            f"{_LINEAGE}, hit AS ("
            " SELECT DISTINCT ON (ml.mutation_id, ml.line_no)"
            "  ml.mutation_id, ml.line_no, h.khewat_id, h.khewat_no,"
            "  h.khasra_no AS via_khasra_no"
            " FROM holding h JOIN mutation_line ml ON ml.khewat_id = h.khewat_id"
            " JOIN mutation m ON m.id = ml.mutation_id"
            " WHERE coalesce(m.decided_on, m.entered_on) >= h.valid_from"
            "  AND (h.valid_to IS NULL OR coalesce(m.decided_on, m.entered_on) <= h.valid_to)"
            " ORDER BY ml.mutation_id, ml.line_no, h.depth"
            ")"
            " SELECT "
            + _line_columns("hit.line_no, hit.khewat_id, hit.khewat_no, hit.via_khasra_no")
            + " FROM hit JOIN mutation m ON m.id = hit.mutation_id"
            " JOIN mutation_line ml ON ml.mutation_id = hit.mutation_id"
            "  AND ml.line_no = hit.line_no"
            + _LINE_JOINS
            + " ORDER BY event_date, m.number, hit.line_no"
        ),
        conn,
        params=params,
    )
    return MutationChain(lineage=lineage, holdings=holdings, settlement=settlement, lines=lines)


def mutation_lines(
    conn: Connection,
    mouza_id: int,
    *,
    statuses: tuple[str, ...] = ("entered", "verified"),
) -> pd.DataFrame:
    """The lines of a mouza's mutations in ``statuses`` (by default the pending ones).

    One row per line, with the columns of :attr:`MutationChain.lines` (``via_khasra_no``
    is NULL here), ordered by mutation number and line.
    """
    sql = text(
        "SELECT "
        + _line_columns(
            "ml.line_no, ml.khewat_id, w.number AS khewat_no, NULL::text AS via_khasra_no"
        )
        + " FROM mutation m JOIN mutation_line ml ON ml.mutation_id = m.id"
        " JOIN khewat w ON w.id = ml.khewat_id"
        + _LINE_JOINS
        + " WHERE m.mouza_id = :mouza AND m.status = ANY(:statuses)"
        " ORDER BY m.number, ml.line_no"
    )
    return pd.read_sql_query(sql, conn, params={"mouza": mouza_id, "statuses": list(statuses)})


def mouza_khewats(conn: Connection, mouza_id: int, as_of: date) -> list[int]:
    """Numbers of the mouza's khewats holding a share or a khasra on ``as_of``."""
    rows = conn.execute(
        text(
            "SELECT w.number FROM khewat w WHERE w.mouza_id = :mouza AND ("
            f" EXISTS (SELECT 1 FROM share s WHERE s.khewat_id = w.id AND {_covers('s')})"
            " OR EXISTS (SELECT 1 FROM khewat_khasra kk WHERE kk.khewat_id = w.id"
            f"  AND {_covers('kk')})) ORDER BY w.number"
        ),
        {"mouza": mouza_id, "as_of": as_of},
    ).all()
    return [int(n) for (n,) in rows]


def khewat_owners(
    conn: Connection, mouza_id: int, khewat_numbers: list[int], as_of: date
) -> pd.DataFrame:
    """One row per (khewat, party, right) in force on ``as_of`` in those khewats of a mouza.

    The columns of :func:`owners_as_of` without the khasra ones.
    """
    sql = text(
        "SELECT w.id AS khewat_id, w.number AS khewat_no, p.id AS party_id, p.kind, p.name,"
        " p.name_ur, p.guardian_relation, p.guardian_name, p.cnic, p.custodian, p.gender,"
        " p.date_of_death, s.numerator, s.denominator, s.right_type, s.valid_from,"
        " s.created_by_mutation_id"
        " FROM khewat w JOIN share s ON s.khewat_id = w.id JOIN party p ON p.id = s.party_id"
        f" WHERE w.mouza_id = :mouza AND w.number = ANY(:numbers) AND {_covers('s')}"
        " ORDER BY w.number, s.right_type, p.name, p.id"
    )
    return pd.read_sql_query(
        sql,
        conn,
        params={"mouza": mouza_id, "numbers": [int(n) for n in khewat_numbers], "as_of": as_of},
    )


def mutation_number(conn: Connection, mutation_id: int) -> int | None:
    """The register number of mutation ``mutation_id`` in its mouza (None: no such id)."""
    number = conn.execute(
        text("SELECT number FROM mutation WHERE id = :id"), {"id": mutation_id}
    ).scalar()
    return None if number is None else int(number)


# --- record of rights: khewat and person holdings, jamabandi, fard ---------------------


@dataclass(frozen=True)
class MouzaHeader:
    """A mouza with the names of its tehsil and district, for a certificate's header."""

    id: int
    name: str
    name_ur: str | None
    hadbast_number: int
    unit_system: str
    tehsil: str
    tehsil_ur: str | None
    district: str | None
    district_ur: str | None


def mouza_headers(conn: Connection, mouza_ids: list[int]) -> dict[int, MouzaHeader]:
    """The header of each mouza in ``mouza_ids``, by id (unknown ids are left out)."""
    rows = conn.execute(
        text(
            "SELECT m.id, m.name, m.name_ur, m.hadbast_number, m.unit_system,"
            " t.name, t.name_ur, d.name, d.name_ur"
            " FROM mouza m JOIN admin_unit t ON t.id = m.tehsil_id"
            " LEFT JOIN admin_unit d ON d.id = t.parent_id AND d.level = 'district'"
            " WHERE m.id = ANY(:ids)"
        ),
        {"ids": [int(i) for i in mouza_ids]},
    ).all()
    return {int(row[0]): MouzaHeader(*row) for row in rows}


@dataclass(frozen=True)
class KhewatRef:
    id: int
    mouza_id: int
    number: int
    previous_number: int | None


def khewat_refs(
    conn: Connection,
    *,
    ids: list[int] | None = None,
    mouza_id: int | None = None,
    numbers: list[int] | None = None,
) -> list[KhewatRef]:
    """Khewats by id, or by number within a mouza; ordered by mouza and number."""
    params: dict[str, int | list[int]]
    if ids is not None:
        where, params = "id = ANY(:ids)", {"ids": [int(i) for i in ids]}
    elif mouza_id is not None and numbers is not None:
        where = "mouza_id = :mouza AND number = ANY(:numbers)"
        params = {"mouza": mouza_id, "numbers": [int(n) for n in numbers]}
    else:
        raise ValueError("khewat_refs needs ids, or mouza_id and numbers")
    rows = conn.execute(
        text(
            "SELECT id, mouza_id, number, previous_number FROM khewat"
            f" WHERE {where} ORDER BY mouza_id, number"
        ),
        params,
    ).all()
    return [KhewatRef(*row) for row in rows]


@dataclass(frozen=True)
class KhasraPart:
    """The part of a khasra a khewat holds on a date (``khewat_khasra``)."""

    khewat_id: int
    khasra_id: int
    khasra_no: str
    murabba: int | None
    main_number: int
    tatima: tuple[int, ...]
    land_class: str
    unit_system: str
    area_sarsai: int  # the khewat's part
    record_area_sarsai: int  # the whole khasra
    valid_from: date


def khewat_khasra_parts(conn: Connection, khewat_ids: list[int], as_of: date) -> list[KhasraPart]:
    """The live khasras each khewat holds on ``as_of``, with the area of its part.

    As in :func:`khewat_areas`, only khasras live on ``as_of`` count. Ordered by khewat,
    then khasra number (murabba, number, tatima).
    """
    rows = conn.execute(
        text(
            "SELECT kk.khewat_id, k.id, k.number, k.murabba, k.main_number, k.tatima,"
            " k.land_class, k.unit_system, kk.area_sarsai, k.record_area_sarsai, kk.valid_from"
            " FROM khewat_khasra kk JOIN khasra k ON k.id = kk.khasra_id"
            f" WHERE kk.khewat_id = ANY(:ids) AND {_covers('kk')}"
            f" AND {_covers('k', 'created_on', 'retired_on')}"
            " ORDER BY kk.khewat_id, k.murabba NULLS FIRST, k.main_number, k.tatima, k.id"
        ),
        {"ids": [int(i) for i in khewat_ids], "as_of": as_of},
    ).all()
    return [
        KhasraPart(
            int(row[0]),
            int(row[1]),
            row[2],
            row[3],
            int(row[4]),
            tuple(row[5] or ()),
            row[6],
            row[7],
            int(row[8]),
            int(row[9]),
            row[10],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class PartyRow:
    id: int
    kind: str
    cnic: str | None
    custodian: str | None
    name: str
    name_ur: str | None
    guardian_relation: str | None
    guardian_name: str | None
    gender: str | None
    date_of_death: date | None


_PARTY_ROW = (
    "p.id, p.kind, p.cnic, p.custodian, p.name, p.name_ur, p.guardian_relation,"
    " p.guardian_name, p.gender, p.date_of_death"
)


def party_by_cnic(conn: Connection, cnic: str) -> PartyRow | None:
    """The person with this CNIC (stored, dashed form), or None."""
    row = conn.execute(
        text(f"SELECT {_PARTY_ROW} FROM party p WHERE p.cnic = :cnic"), {"cnic": cnic}
    ).one_or_none()
    return None if row is None else PartyRow(*row)


@dataclass(frozen=True)
class RightRow:
    """One share row in force on a date, with its holder and the mutation that made it."""

    share_id: int
    khewat_id: int
    party: PartyRow
    numerator: int
    denominator: int
    right_type: str
    valid_from: date
    mutation_no: int | None  # None: from the settlement


def rights_in_force(
    conn: Connection,
    as_of: date,
    *,
    khewat_ids: list[int] | None = None,
    party_id: int | None = None,
) -> list[RightRow]:
    """Share rows in force on ``as_of`` in those khewats, or held by that party.

    Every right type (ownership, mortgages, lease); one row per share row, so a party
    with two open rows of one right appears twice. Ordered by khewat and share id.
    """
    if khewat_ids is None and party_id is None:
        raise ValueError("rights_in_force needs khewat_ids or party_id")
    where = [_covers("s")]
    params: dict[str, object] = {"as_of": as_of}
    if khewat_ids is not None:
        where.append("s.khewat_id = ANY(:ids)")
        params["ids"] = [int(i) for i in khewat_ids]
    if party_id is not None:
        where.append("s.party_id = :party")
        params["party"] = party_id
    rows = conn.execute(
        text(
            f"SELECT s.id, s.khewat_id, {_PARTY_ROW}, s.numerator, s.denominator,"
            " s.right_type, s.valid_from, m.number"
            " FROM share s JOIN party p ON p.id = s.party_id"
            " LEFT JOIN mutation m ON m.id = s.created_by_mutation_id"
            f" WHERE {' AND '.join(where)} ORDER BY s.khewat_id, s.id"
        ),
        params,
    ).all()
    return [RightRow(row[0], row[1], PartyRow(*row[2:12]), *row[12:]) for row in rows]


def urdu_spellings(conn: Connection, names: list[str]) -> dict[str, str]:
    """The Urdu spelling the record gives each name, where it gives exactly one.

    A guardian is recorded by name only (``party.guardian_name``), without an Urdu form;
    the parties bearing the same name show how the record writes it in Urdu.
    """
    rows = conn.execute(
        text(
            "SELECT name, min(name_ur) FROM party"
            " WHERE name = ANY(:names) AND name_ur IS NOT NULL"
            " GROUP BY name HAVING count(DISTINCT name_ur) = 1"
        ),
        {"names": sorted(set(names))},
    ).all()
    return {str(name): str(name_ur) for name, name_ur in rows}


def girdawari_crops(
    conn: Connection, khasra_ids: list[int], season: str, year: int
) -> pd.DataFrame:
    """The recorded crop per khasra for a season (the first entry where there are
    several), as columns khasra_id, girdawari_crop."""
    rows = conn.execute(
        text(
            "SELECT DISTINCT ON (khasra_id) khasra_id, crop FROM girdawari"
            " WHERE khasra_id = ANY(:ids) AND season = :s AND year = :y"
            " ORDER BY khasra_id, id"
        ),
        {"ids": khasra_ids, "s": season, "y": year},
    ).all()
    return pd.DataFrame(
        [(int(r.khasra_id), str(r.crop)) for r in rows], columns=["khasra_id", "girdawari_crop"]
    )


# --- what a mouza map draws besides its khasras ------------------------------------------


def mouza_boundary(conn: Connection, mouza_id: int) -> gpd.GeoSeries:
    """The mouza's boundary (``mouza.boundary``, EPSG:4326) as a one-row GeoSeries; empty
    when the mouza has none recorded (an imported mouza may come without one)."""
    sql = text("SELECT boundary AS geom FROM mouza WHERE id = :m AND boundary IS NOT NULL")
    found = gpd.read_postgis(sql, conn, geom_col="geom", params={"m": mouza_id})
    return found.geometry


def mouza_state_land(conn: Connection, mouza_id: int) -> gpd.GeoDataFrame:
    """The state land of a mouza: its own rows, and rows of no mouza that reach into its
    boundary (a canal's right-of-way notified for the whole tehsil). Columns
    ``state_land_id, category, custodian, name, notification, geom``, ordered by id."""
    sql = text(
        "SELECT s.id AS state_land_id, s.category, s.custodian, s.name, s.notification,"
        " s.geom FROM state_land s"
        " WHERE s.mouza_id = :m OR (s.mouza_id IS NULL AND ST_Intersects(s.geom,"
        "  (SELECT boundary FROM mouza WHERE id = :m)))"
        " ORDER BY s.id"
    )
    return gpd.read_postgis(sql, conn, geom_col="geom", params={"m": mouza_id})


def database_today(conn: Connection) -> date:
    """The database's today (``current_date``): the date every record rule uses for
    "now", so a reader and the checks it meets agree on the day."""
    return conn.execute(text("SELECT current_date")).scalar_one()  # type: ignore[no-any-return]
