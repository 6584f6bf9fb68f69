"""The loaded demo district (seed 42): record invariants and every planted anomaly.

Each planted anomaly in ground_truth.csv is checked by a direct query, and for most kinds
the query that finds the signal returns exactly the planted cases, so nothing in the
natural history trips a detector by chance.
"""

from __future__ import annotations

import csv
import re
from datetime import date, timedelta
from fractions import Fraction
from math import gcd
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from landgov.demo.files import GROUND_TRUTH_COLUMNS, MUTATION_COLUMNS
from landgov.demo.model import AS_OF, DEED_REQUIRED_FROM
from landgov.demo.spec import file_names

SARSAI_M2 = 30.25 * 0.3048**2
UTM = 32643


@pytest.fixture(scope="module")
def conn(demo_engine: Engine) -> Any:
    with demo_engine.connect() as c:
        yield c


@pytest.fixture(scope="module")
def gt(demo_engine: Engine, demo_dir: Path) -> list[dict[str, str]]:
    with (demo_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class Ids:
    """Resolves the ground truth's references (names and numbers) to database ids."""

    def __init__(self, conn: Connection) -> None:
        self.mouza = {n: i for i, n in conn.execute(text("SELECT id, name FROM mouza"))}
        self.khewat = {
            (m, n): i for i, m, n in conn.execute(text("SELECT id, mouza_id, number FROM khewat"))
        }
        self.mutation = {
            (m, n): i for i, m, n in conn.execute(text("SELECT id, mouza_id, number FROM mutation"))
        }
        self.khasra = {
            (m, n): i for i, m, n in conn.execute(text("SELECT id, mouza_id, number FROM khasra"))
        }
        self.party = {
            c: i for i, c in conn.execute(text("SELECT id, cnic FROM party WHERE cnic IS NOT NULL"))
        }

    def of(self, row: dict[str, str], what: str) -> int:
        m = self.mouza[row["mouza"]]
        if what == "khewat":
            return self.khewat[(m, int(row["khewat_no"]))]
        if what == "mutation":
            return self.mutation[(m, int(row["mutation_no"]))]
        if what == "party":
            return self.party[row["party_cnic"]]
        raise ValueError(what)

    def khasras(self, row: dict[str, str]) -> list[int]:
        m = self.mouza[row["mouza"]]
        return [self.khasra[(m, n)] for n in row["khasra_no"].split(";")]


@pytest.fixture(scope="module")
def ids(conn: Connection) -> Ids:
    return Ids(conn)


def rows_of(
    gt: list[dict[str, str]], kind: str, planted_only: bool = False
) -> list[dict[str, str]]:
    found = [
        r
        for r in gt
        if r["kind"] == kind and not (planted_only and r["details"].startswith("implied by"))
    ]
    assert len(found) >= 3, kind
    return found


def scalar_set(conn: Connection, sql: str, **params: Any) -> set[Any]:
    return {r[0] for r in conn.execute(text(sql), params)}


# -- files and counts ------------------------------------------------------------------
def test_files(demo_dir: Path, conn: Connection) -> None:
    names = {p.name for p in demo_dir.iterdir()}
    slugs = conn.execute(text("SELECT name FROM mouza ORDER BY id")).scalars().all()
    generated = set(file_names([n.lower().replace(" ", "-") for n in slugs]))
    assert names == generated | {"accounts.txt", "accounts.json"}  # the login accounts
    gpkgs = sorted(demo_dir.glob("parcels_*.gpkg"))
    assert len(gpkgs) == 3
    live = conn.execute(text("SELECT count(*) FROM khasra WHERE retired_on IS NULL")).scalar()
    features = 0
    for path in gpkgs:
        info = pyogrio.read_info(path)
        assert list(info["fields"]) == ["khasra_no", "land_class", "area_kms"]
        assert info["crs"] == "EPSG:4326" and info["geometry_type"] == "MultiPolygon"
        features += info["features"]
    assert features == live
    assert (
        pyogrio.read_info(demo_dir / "state_land.gpkg")["features"]
        == conn.execute(text("SELECT count(*) FROM state_land")).scalar()
    )
    with (demo_dir / "mutations.csv").open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        assert tuple(reader.fieldnames or ()) == MUTATION_COLUMNS
        assert (
            sum(1 for _ in reader)
            == conn.execute(text("SELECT count(*) FROM mutation_line")).scalar()
        )
    with (demo_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        assert tuple(csv.DictReader(fh).fieldnames or ()) == GROUND_TRUTH_COLUMNS
    rates = (demo_dir / "dc_rates.csv").read_text(encoding="utf-8").splitlines()
    assert rates[0] == "year,land_class,rs_per_acre" and len(rates) == 1 + 25 * 8
    assert "ground_truth.csv" in (demo_dir / "README.md").read_text(encoding="utf-8")


def test_hierarchy_and_counts(conn: Connection) -> None:
    levels = (
        conn.execute(
            text(
                "WITH RECURSIVE up(id, level, parent_id) AS ("
                " SELECT u.id, u.level, u.parent_id FROM admin_unit u"
                "  JOIN mouza m ON m.patwar_circle_id = u.id WHERE m.name = 'Kot Pindi Das'"
                " UNION ALL SELECT a.id, a.level, a.parent_id FROM admin_unit a JOIN up"
                "  ON a.id = up.parent_id) SELECT level FROM up"
            )
        )
        .scalars()
        .all()
    )
    assert levels == [
        "patwar_circle",
        "qanungo_halqa",
        "tehsil",
        "district",
        "division",
        "province",
    ]
    mouzas = conn.execute(
        text(
            "SELECT name, name_ur, hadbast_number, unit_system,"
            " ST_X(ST_Centroid(boundary)), ST_Y(ST_Centroid(boundary)) FROM mouza"
        )
    ).all()
    assert len(mouzas) == 3
    for _, name_ur, hadbast, unit_system, lon, lat in mouzas:
        assert name_ur and hadbast > 0 and unit_system == "standard"
        assert 73.9 < lon < 74.06 and 31.65 < lat < 31.77  # near Sheikhupura, UTM 43N
    n = conn.execute(text("SELECT count(*) FROM khasra")).scalar_one()
    assert 1_000 <= n <= 3_000
    audit = conn.execute(text("SELECT details FROM audit_log WHERE action = 'demo build'")).all()
    assert len(audit) == 1 and audit[0][0]["seed"] == 42 and len(audit[0][0]["fingerprint"]) == 64
    designations = scalar_set(conn, "SELECT designation FROM officer")
    assert designations == {
        "patwari",
        "girdawar",
        "tehsildar",
        "naib_tehsildar",
        "assistant_commissioner",
    }


# -- shares ----------------------------------------------------------------------------
def _totals(conn: Connection, days: list[date]) -> dict[tuple[int, date], Fraction]:
    """Ownership total of every khewat that holds a khasra, on each day."""
    periods: dict[int, list[tuple[date, date | None]]] = {}
    for k, f, t in conn.execute(text("SELECT khewat_id, valid_from, valid_to FROM khewat_khasra")):
        periods.setdefault(k, []).append((f, t))
    shares: dict[int, list[tuple[Fraction, date, date | None]]] = {}
    for k, n, d, f, t in conn.execute(
        text(
            "SELECT khewat_id, numerator, denominator, valid_from, valid_to FROM share"
            " WHERE right_type = 'ownership'"
        )
    ):
        shares.setdefault(k, []).append((Fraction(n, d), f, t))
    totals = {}
    for day in days:
        for k, ps in periods.items():
            if any(f <= day and (t is None or day < t) for f, t in ps):
                totals[(k, day)] = sum(
                    (s for s, f, t in shares.get(k, []) if f <= day and (t is None or day < t)),
                    Fraction(0),
                )
    return totals


def test_shares_sum_to_one_on_every_date_except_planted(
    conn: Connection, ids: Ids, gt: list[dict[str, str]]
) -> None:
    days = [date(y, m, 1) for y in range(2002, 2027) for m in (1, 4, 7, 10)] + [AS_OF]
    days += [
        d + timedelta(days=1)
        for d in scalar_set(conn, "SELECT decided_on FROM mutation WHERE status = 'sanctioned'")
    ]
    totals = _totals(conn, sorted(days))
    excused = {ids.of(r, "khewat") for r in gt if r["signal"] in ("1", "2", "3")}
    wrong = {k for (k, _), total in totals.items() if total != 1}
    assert wrong <= excused
    assert len({k for (k, _) in totals}) > 500
    # every planted over- or under-allocation really is off, in its direction
    for kind, sign in (("over_allocation", 1), ("under_allocation", -1)):
        for r in rows_of(gt, kind):
            k = ids.of(r, "khewat")
            assert any((t - 1) * sign > 0 for (kk, _), t in totals.items() if kk == k), r


def test_shares_are_in_lowest_terms_and_follow_mutations(conn: Connection) -> None:
    for table in ("share", "mutation_line"):
        for n, d in conn.execute(text(f"SELECT numerator, denominator FROM {table}")):
            assert gcd(n, d) == 1 and 0 < n <= d
    bad = conn.execute(
        text(
            "SELECT count(*) FROM share s"
            " LEFT JOIN mutation c ON c.id = s.created_by_mutation_id"
            " LEFT JOIN mutation e ON e.id = s.ended_by_mutation_id"
            " WHERE (c.id IS NOT NULL"
            "        AND (c.decided_on <> s.valid_from OR c.status <> 'sanctioned'))"
            "    OR (e.id IS NOT NULL"
            "        AND (e.decided_on <> s.valid_to OR e.status <> 'sanctioned'))"
        )
    ).scalar()
    assert bad == 0
    settled = conn.execute(
        text(
            "SELECT count(*), count(DISTINCT valid_from) FROM share"
            " WHERE created_by_mutation_id IS NULL"
        )
    ).one()
    assert settled[0] > 500 and settled[1] == 3  # one settlement date per mouza
    mortgages = conn.execute(
        text("SELECT count(*), count(valid_to) FROM share WHERE right_type LIKE 'mortgage%'")
    ).one()
    assert mortgages[0] > 10 and 0 < mortgages[1] < mortgages[0]


# -- geometry --------------------------------------------------------------------------
def test_geometries_valid_and_areas_in_utm_43n(conn: Connection) -> None:
    for table, col in (("khasra", "geom"), ("state_land", "geom"), ("mouza", "boundary")):
        bad = conn.execute(
            text(
                f"SELECT count(*) FROM {table} WHERE NOT ST_IsValid({col})"
                f" OR ST_SRID({col}) <> 4326"
                f" OR GeometryType({col}) <> 'MULTIPOLYGON'"
            )
        ).scalar()
        assert bad == 0, table
    worst = conn.execute(
        text(f"SELECT max(abs(ST_Area(ST_Transform(geom, {UTM})) / geom_area_m2 - 1)) FROM khasra")
    ).scalar()
    assert worst < 1e-6
    # killas are about an acre
    acre = conn.execute(
        text(
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY geom_area_m2) FROM khasra"
            " WHERE murabba IS NOT NULL AND tatima = '{}'"
        )
    ).scalar()
    assert abs(acre - 4046.86) < 20
    # the mouzas tile: every live khasra lies in its mouza
    outside = conn.execute(
        text(
            "SELECT count(*) FROM khasra k JOIN mouza m ON m.id = k.mouza_id"
            " WHERE ST_Area(ST_Difference(k.geom, m.boundary)::geography) > 1"
        )
    ).scalar()
    assert outside == 0


def test_overlaps_are_exactly_the_planted_ones(
    conn: Connection, ids: Ids, gt: list[dict[str, str]]
) -> None:
    found = conn.execute(
        text(
            f"SELECT a.id, b.id, ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), {UTM}))"
            "  / least(a.geom_area_m2, b.geom_area_m2)"
            " FROM khasra a JOIN khasra b ON a.id < b.id AND ST_Intersects(a.geom, b.geom)"
            " WHERE a.retired_on IS NULL AND b.retired_on IS NULL"
            f" AND ST_Area(ST_Transform(ST_Intersection(a.geom, b.geom), {UTM}))"
            "  > 1e-4 * least(a.geom_area_m2, b.geom_area_m2)"
        )
    ).all()
    planted = {tuple(sorted(ids.khasras(r))) for r in rows_of(gt, "overlap")}
    assert {(a, b) for a, b, _ in found} == planted
    assert all(share > 0.01 for _, _, share in found)


def test_record_areas_match_the_map_except_planted(
    conn: Connection, ids: Ids, gt: list[dict[str, str]]
) -> None:
    off = scalar_set(
        conn,
        "SELECT id FROM khasra WHERE abs(record_area_sarsai * :s / geom_area_m2 - 1) > 0.01",
        s=SARSAI_M2,
    )
    planted = {ids.khasras(r)[0] for r in rows_of(gt, "area_mismatch")}
    assert off == planted
    small = conn.execute(
        text("SELECT count(*) FROM khasra WHERE record_area_sarsai * :s <> geom_area_m2"),
        {"s": SARSAI_M2},
    ).scalar()
    assert small > 1000  # realistic small discrepancies everywhere


def test_tatima_children_sum_to_their_parent_except_planted(
    conn: Connection, ids: Ids, gt: list[dict[str, str]]
) -> None:
    sums = conn.execute(
        text(
            "SELECT p.id, p.record_area_sarsai, sum(c.record_area_sarsai), p.geom_area_m2,"
            " sum(c.geom_area_m2), count(*) FROM khasra p"
            " JOIN khasra c ON c.parent_khasra_id = p.id"
            " GROUP BY p.id"
        )
    ).all()
    assert len(sums) > 100
    planted = {ids.khasras(r)[0] for r in rows_of(gt, "tatima_area_mismatch")}
    for pid, rec, child_rec, area, child_area, n in sums:
        assert n >= 2
        if pid in planted:
            assert child_rec < 0.99 * rec and child_area < 0.99 * area
        else:
            assert child_rec == rec and abs(child_area - area) < 1e-3
    # children of a partition replace their parent on the decision date
    bad = conn.execute(
        text(
            "SELECT count(*) FROM khasra c JOIN khasra p ON p.id = c.parent_khasra_id"
            " LEFT JOIN mutation m ON m.id = c.created_by_mutation_id"
            " WHERE c.created_on IS DISTINCT FROM p.retired_on"
            "  OR c.created_by_mutation_id IS DISTINCT FROM p.retired_by_mutation_id"
            "  OR (m.id IS NOT NULL AND (m.type <> 'partition' OR m.decided_on <> c.created_on))"
        )
    ).scalar()
    assert bad == 0
    partitions = conn.execute(
        text("SELECT count(*) FROM mutation WHERE type = 'partition' AND status = 'sanctioned'")
    ).scalar()
    retired = conn.execute(
        text("SELECT count(*) FROM khasra WHERE retired_by_mutation_id IS NOT NULL")
    ).scalar()
    assert partitions == retired > 10
    # the retired khasra leaves its khewat and the children enter new ones on that date
    gaps = conn.execute(
        text(
            "SELECT count(*) FROM khasra k WHERE k.retired_by_mutation_id IS NOT NULL AND"
            " NOT EXISTS (SELECT 1 FROM khewat_khasra kk WHERE kk.khasra_id = k.id"
            "  AND kk.valid_to = k.retired_on)"
        )
    ).scalar()
    assert gaps == 0


def test_encroachments_on_rights_of_way_are_exactly_the_planted_ones(
    conn: Connection, ids: Ids, gt: list[dict[str, str]]
) -> None:
    found = scalar_set(
        conn,
        (
            f"SELECT k.id FROM khasra k JOIN state_land s ON ST_Intersects(k.geom, s.geom)"
            " WHERE k.retired_on IS NULL AND s.category IN ('canal_row', 'road_row')"
            " AND k.land_class <> 'ghair_mumkin'"
            f" AND ST_Area(ST_Transform(ST_Intersection(k.geom, s.geom), {UTM})) > 1"
        ),
    )
    assert found == {ids.khasras(r)[0] for r in rows_of(gt, "row_encroachment")}
    custodians = conn.execute(
        text(
            "SELECT DISTINCT s.category, p.custodian FROM khasra k"
            " JOIN khewat_khasra kk ON kk.khasra_id = k.id AND kk.valid_to IS NULL"
            " JOIN share sh ON sh.khewat_id = kk.khewat_id AND sh.valid_to IS NULL"
            " JOIN party p ON p.id = sh.party_id"
            " JOIN state_land s ON s.mouza_id = k.mouza_id AND ST_Within(ST_PointOnSurface(k.geom),"
            "  s.geom)"
        )
    ).all()
    assert set(custodians) == {
        ("canal_row", "irrigation"),
        ("road_row", "highways"),
        ("shamlat", "village_proprietary_body"),
        ("forest", "forest"),
    }


# -- mutations -------------------------------------------------------------------------
def test_mutation_register_rules(conn: Connection) -> None:
    rows = conn.execute(
        text(
            "SELECT m.status, m.entered_on, m.verified_on, m.decided_on, m.type, m.deed_number"
            " FROM mutation m"
        )
    ).all()
    for status, entered, verified, decided, _, _ in rows:
        assert entered <= AS_OF
        if status in ("sanctioned", "rejected"):
            assert verified is not None and entered <= verified <= decided <= AS_OF
    numbers = conn.execute(
        text(
            "SELECT mouza_id, array_agg(number ORDER BY entered_on, number) FROM mutation"
            " GROUP BY mouza_id"
        )
    ).all()
    for _, nums in numbers:
        assert nums == sorted(nums) and nums == list(range(nums[0], nums[0] + len(nums)))
    rejected = conn.execute(
        text("SELECT count(*) FROM mutation WHERE status = 'rejected'")
    ).scalar()
    assert rejected >= 5


def test_sanction_anomalies(conn: Connection, ids: Ids, gt: list[dict[str, str]]) -> None:
    same_day = scalar_set(
        conn, "SELECT id FROM mutation WHERE status = 'sanctioned' AND decided_on = entered_on"
    )
    assert same_day == {ids.of(r, "mutation") for r in rows_of(gt, "same_day_sanction")}
    outside = scalar_set(
        conn,
        (
            "WITH RECURSIVE up(mouza_id, unit_id) AS ("
            " SELECT id, patwar_circle_id FROM mouza UNION"
            " SELECT up.mouza_id, u.parent_id FROM up JOIN admin_unit u ON u.id = up.unit_id"
            "  WHERE u.parent_id IS NOT NULL)"
            " SELECT m.id FROM mutation m WHERE m.officer_id IS NOT NULL AND NOT EXISTS ("
            "  SELECT 1 FROM officer_jurisdiction j JOIN up ON up.unit_id = j.admin_unit_id"
            "  WHERE up.mouza_id = m.mouza_id AND j.officer_id = m.officer_id"
            "  AND j.valid_from <= m.decided_on"
            "  AND (j.valid_to IS NULL OR m.decided_on < j.valid_to))"
        ),
    )
    assert outside == {ids.of(r, "mutation") for r in rows_of(gt, "officer_outside_jurisdiction")}


def test_price_and_deed_anomalies(conn: Connection, ids: Ids, gt: list[dict[str, str]]) -> None:
    under = scalar_set(
        conn,
        "SELECT id FROM mutation WHERE type = 'sale' AND consideration_rs < statutory_value_rs",
    )
    assert under == {ids.of(r, "mutation") for r in rows_of(gt, "under_declared_price")}
    for m in under:
        price, value = conn.execute(
            text("SELECT consideration_rs, statutory_value_rs FROM mutation WHERE id = :m"),
            {"m": m},
        ).one()
        assert price * 10 < 4 * value
    no_deed = scalar_set(
        conn,
        "SELECT id FROM mutation WHERE type <> 'inheritance'"
        " AND status = 'sanctioned' AND deed_number IS NULL"
        " AND decided_on >= :cutoff",
        cutoff=DEED_REQUIRED_FROM,
    )
    assert no_deed == {ids.of(r, "mutation") for r in rows_of(gt, "transfer_without_deed")}
    deeds = conn.execute(
        text(
            "SELECT count(*) FROM mutation WHERE deed_number IS NOT NULL AND type = 'sale'"
            " AND decided_on < :cutoff"
        ),
        {"cutoff": DEED_REQUIRED_FROM},
    ).scalar()
    assert deeds > 100


def _holding(conn: Connection, khewat: int, party: int, before: date) -> Fraction:
    """A party's ownership of a khewat on the day before ``before``."""
    day = before - timedelta(days=1)
    return sum(
        (
            Fraction(n, d)
            for n, d in conn.execute(
                text(
                    "SELECT numerator, denominator FROM share"
                    " WHERE khewat_id = :k AND party_id = :p"
                    " AND right_type = 'ownership' AND valid_from <= :d"
                    " AND (valid_to IS NULL OR valid_to > :d)"
                ),
                {"k": khewat, "p": party, "d": day},
            )
        ),
        Fraction(0),
    )


def test_transfers_beyond_holding_are_exactly_the_planted_ones(
    conn: Connection, ids: Ids, gt: list[dict[str, str]]
) -> None:
    lines = conn.execute(
        text(
            "SELECT m.id, l.khewat_id, l.transferor_party_id, l.numerator, l.denominator,"
            " m.decided_on FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
            " WHERE m.status = 'sanctioned' AND l.right_type = 'ownership'"
            " AND l.transferor_party_id IS NOT NULL"
        )
    ).all()
    sent: dict[tuple[int, int, int], Fraction] = {}
    when = {}
    for m, k, p, n, d, decided in lines:
        sent[(m, k, p)] = sent.get((m, k, p), Fraction(0)) + Fraction(n, d)
        when[m] = decided
    beyond = {m for (m, k, p), s in sent.items() if s > _holding(conn, k, p, when[m])}
    assert beyond == {ids.of(r, "mutation") for r in rows_of(gt, "transfer_exceeds_holding")}


def test_double_sales_and_deeds_close_together(
    conn: Connection, ids: Ids, gt: list[dict[str, str]]
) -> None:
    for r in rows_of(gt, "double_sale"):
        k, seller, second = ids.of(r, "khewat"), ids.of(r, "party"), ids.of(r, "mutation")
        sales = conn.execute(
            text(
                "SELECT m.id, m.decided_on, l.numerator, l.denominator"
                " FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
                " WHERE m.type = 'sale' AND m.status = 'sanctioned' AND l.khewat_id = :k"
                " AND l.transferor_party_id = :p ORDER BY m.decided_on"
            ),
            {"k": k, "p": seller},
        ).all()
        assert second in [s[0] for s in sales] and len({s[0] for s in sales}) >= 2
        held = _holding(conn, k, seller, sales[0][1])
        assert sum(Fraction(n, d) for _, _, n, d in sales) > held
    close = scalar_set(
        conn,
        (
            "SELECT DISTINCT l1.khewat_id FROM mutation m1"
            " JOIN mutation_line l1 ON l1.mutation_id = m1.id"
            " JOIN mutation_line l2 ON l2.khewat_id = l1.khewat_id"
            " JOIN mutation m2 ON m2.id = l2.mutation_id AND m2.id <> m1.id"
            " WHERE abs(m1.deed_date - m2.deed_date) <= 90"
        ),
    )
    planted = {
        ids.of(r, "khewat") for r in gt if r["kind"] in ("double_sale", "deeds_short_window")
    }
    assert close == planted
    for r in rows_of(gt, "deeds_short_window"):
        assert r["khasra_no"]  # the land both deeds name


def test_death_related_anomalies(conn: Connection, ids: Ids, gt: list[dict[str, str]]) -> None:
    after = scalar_set(
        conn,
        (
            "SELECT DISTINCT m.id FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
            " JOIN party p ON p.id = l.transferor_party_id WHERE m.type <> 'inheritance'"
            " AND m.status = 'sanctioned' AND m.decided_on > p.date_of_death"
        ),
    )
    assert after == {ids.of(r, "mutation") for r in rows_of(gt, "sale_after_death")}
    deathbed = scalar_set(
        conn,
        (
            "SELECT DISTINCT m.id FROM mutation m JOIN mutation_line l ON l.mutation_id = m.id"
            " JOIN party p ON p.id = l.transferor_party_id WHERE m.type = 'gift'"
            " AND m.status = 'sanctioned' AND p.date_of_death - m.decided_on BETWEEN 0 AND 365"
        ),
    )
    planted = {ids.of(r, "mutation") for r in rows_of(gt, "gift_before_death")}
    assert deathbed == planted
    for m in planted:
        donor_age, genders = conn.execute(
            text(
                "SELECT extract(year FROM age(m.decided_on, d.date_of_birth)),"
                " array_agg(DISTINCT t.gender) FROM mutation m"
                " JOIN mutation_line l ON l.mutation_id = m.id"
                " JOIN party d ON d.id = l.transferor_party_id"
                " JOIN party t ON t.id = l.transferee_party_id WHERE m.id = :m"
                " GROUP BY d.date_of_birth, m.decided_on"
            ),
            {"m": m},
        ).one()
        assert donor_age >= 70 and genders == ["male"]


def _lines_by_heir(conn: Connection, mutation: int) -> dict[str, Fraction]:
    """The heirs' fractions of the estate, from the first khewat of an inheritance."""
    rows = conn.execute(
        text(
            "SELECT l.khewat_id, p.cnic, l.numerator, l.denominator FROM mutation_line l"
            " JOIN party p ON p.id = l.transferee_party_id WHERE l.mutation_id = :m"
            " ORDER BY l.line_no"
        ),
        {"m": mutation},
    ).all()
    first = rows[0][0]
    shares = {cnic: Fraction(n, d) for k, cnic, n, d in rows if k == first}
    total = sum(shares.values())
    return {c: s / total for c, s in shares.items()}


def _listed(details: str, label: str) -> dict[str, Fraction]:
    body = re.search(label + r" \[([^]]*)\]", details)
    assert body is not None
    return {c: Fraction(f) for c, f in (item.split("=") for item in body[1].split(", "))}


def test_inheritance_anomalies(conn: Connection, ids: Ids, gt: list[dict[str, str]]) -> None:
    for r in rows_of(gt, "wrong_inheritance_shares"):
        m = ids.of(r, "mutation")
        expected, recorded = _listed(r["details"], "expected"), _listed(r["details"], "recorded")
        assert sum(expected.values()) == 1 and expected != recorded
        assert _lines_by_heir(conn, m) == recorded
        assert (
            conn.execute(text("SELECT type FROM mutation WHERE id = :m"), {"m": m}).scalar()
            == "inheritance"
        )
    for r in rows_of(gt, "omitted_female_heir"):
        m = ids.of(r, "mutation")
        heir = r["party_cnic"]
        recorded = _lines_by_heir(conn, m)
        assert heir not in recorded and heir in _listed(r["details"], "expected")
        gender, relation, guardian, dod = conn.execute(
            text(
                "SELECT gender, guardian_relation, guardian_name, date_of_death FROM party"
                " WHERE cnic = :c"
            ),
            {"c": heir},
        ).one()
        deceased, husband, died = conn.execute(
            text(
                "SELECT p.name, p.guardian_name, p.date_of_death FROM mutation_line l"
                " JOIN party p ON p.id = l.transferor_party_id WHERE l.mutation_id = :m LIMIT 1"
            ),
            {"m": m},
        ).one()
        assert gender == "female" and relation == "daughter_of"
        assert guardian in (deceased, husband)  # a daughter is named after her father
        assert dod is None or dod > died


def test_record_quality_anomalies(conn: Connection, ids: Ids, gt: list[dict[str, str]]) -> None:
    unattested = {
        (m, y)
        for m, y in conn.execute(
            text("SELECT mouza_id, year FROM jamabandi WHERE attested_by IS NULL")
        )
    }
    planted = set()
    for r in rows_of(gt, "unattested_jamabandi"):
        year = re.search(r"year=(\d{4})", r["details"])
        assert year is not None
        planted.add((ids.mouza[r["mouza"]], int(year[1])))
    assert unattested == planted
    orphans = scalar_set(
        conn,
        "SELECT k.id FROM khasra k WHERE k.retired_on IS NULL AND"
        " NOT EXISTS (SELECT 1 FROM khewat_khasra kk WHERE kk.khasra_id = k.id)",
    )
    assert orphans == {ids.khasras(r)[0] for r in rows_of(gt, "orphan_khasra")}
    stale = scalar_set(
        conn,
        "SELECT id FROM mutation WHERE status IN ('entered', 'verified') AND entered_on < :d",
        d=AS_OF - timedelta(days=180),
    )
    assert stale == {ids.of(r, "mutation") for r in rows_of(gt, "stale_pending_mutation")}


# -- other registers -------------------------------------------------------------------
def test_jamabandi_every_four_years(conn: Connection) -> None:
    years = conn.execute(
        text("SELECT mouza_id, array_agg(year ORDER BY year) FROM jamabandi GROUP BY mouza_id")
    ).all()
    assert len(years) == 3
    for _, ys in years:
        assert ys == list(range(2002, 2027, 4))


def test_girdawari(conn: Connection) -> None:
    seasons = conn.execute(
        text(
            "SELECT year, season, min(inspected_on), max(inspected_on), count(*) FROM girdawari"
            " GROUP BY year, season ORDER BY year, season"
        )
    ).all()
    assert [(y, s) for y, s, *_ in seasons] == [
        (y, s) for y in (2024, 2025, 2026) for s in ("kharif", "rabi")
    ]
    for year, season, first, last, n in seasons:
        month = 3 if season == "rabi" else 10
        assert first >= date(year, month, 1) and last < date(year, month, 28) and n > 1000
    wrong = conn.execute(
        text(
            "SELECT count(*) FROM girdawari g JOIN khasra k ON k.id = g.khasra_id WHERE"
            " k.land_class NOT IN ('nehri', 'chahi', 'barani', 'banjar')"
            " OR (g.season = 'rabi' AND g.crop IN ('rice', 'cotton'))"
            " OR (g.season = 'kharif' AND g.crop = 'wheat')"
            " OR (g.crop = 'fallow') <> (g.irrigation_source = 'none')"
            " OR (k.land_class = 'chahi' AND g.crop <> 'fallow'"
            "     AND g.irrigation_source <> 'tubewell')"
            " OR g.area_sown_sarsai > k.record_area_sarsai"
            " OR NOT (g.inspected_on >= coalesce(k.created_on, g.inspected_on)"
            "  AND g.inspected_on < coalesce(k.retired_on, 'infinity'))"
        )
    ).scalar()
    assert wrong == 0
    tenants = conn.execute(
        text("SELECT count(*) FROM khatauni WHERE tenancy <> 'self_cultivation'")
    ).scalar()
    assert tenants > 50
