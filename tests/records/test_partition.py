"""Partition (taqseem): tatima geometry, exact record areas, and the sanction's rows."""

from __future__ import annotations

import itertools
from datetime import date
from fractions import Fraction

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from records_support import (
    ALI,
    ESA,
    FARAH,
    GIRDAWAR,
    GUL,
    MOUZA,
    PATWARI,
    TEHSILDAR,
    World,
    build,
    draft,
    entered_and_verified,
    officer,
    open_shares,
    rectangle,
    snapshot,
)
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.domain import area_m2, areas_m2
from landgov.errors import SanctionRefused
from landgov.records import mutations as mut
from landgov.records.partition import apportion_sarsai, enter_partition, split_by_shares

ON = date(2024, 3, 1)
OWN = "ownership"


# --- pure geometry and areas -----------------------------------------------------------------


def _check_split(geom: shapely.Geometry, shares: list[Fraction]) -> None:
    pieces = split_by_shares(geom, shares)
    parent = area_m2(geom)
    got = areas_m2(pieces)
    assert abs(sum(got) - parent) <= 1e-6 * parent
    for share, a in zip(shares, got, strict=True):
        assert abs(a - parent * float(share)) <= 1e-6 * parent
    for p in pieces:
        assert p.is_valid and not p.is_empty and p.geom_type == "MultiPolygon"
    # the pieces tile the parent: they share their cuts exactly (no overlap), and cover
    # it up to the sub-millimetre difference between straight lines in degrees and in
    # UTM along its edges (see the partition module's notes)
    for a, b in itertools.pairwise(pieces):
        assert area_m2(shapely.intersection(a, b)) <= 1e-9 * parent
    assert area_m2(shapely.symmetric_difference(shapely.union_all(pieces), geom)) <= 1e-5 * parent


@pytest.mark.parametrize(
    "shares",
    [
        [Fraction(1, 2), Fraction(1, 2)],
        [Fraction(2, 3), Fraction(1, 3)],
        [Fraction(1, 8), Fraction(7, 12), Fraction(7, 24)],
        [Fraction(1, 7)] * 7,
    ],
)
def test_strips_have_the_shares_areas(shares: list[Fraction]) -> None:
    _check_split(rectangle(1), shares)


def test_irregular_concave_parcel() -> None:
    """An L-shaped, rotated parcel with a hole still splits exactly."""
    x, y = 73.98, 31.71
    outer = [(x, y), (x + 0.002, y + 0.0004), (x + 0.0017, y + 0.0012), (x + 0.001, y + 0.0008),
             (x + 0.0006, y + 0.0016), (x - 0.0002, y + 0.0011)]  # fmt: skip
    hole = [(x + 0.0003, y + 0.0004), (x + 0.0005, y + 0.0004), (x + 0.0005, y + 0.0006)]
    geom = shapely.MultiPolygon([shapely.Polygon(outer, [hole])])
    assert geom.is_valid
    _check_split(geom, [Fraction(3, 10), Fraction(1, 2), Fraction(1, 5)])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(1, 50), min_size=2, max_size=6), st.integers(1, 10**6))
def test_record_areas_are_apportioned_exactly(weights: list[int], total: int) -> None:
    whole = sum(weights)
    shares = [Fraction(w, whole) for w in weights]
    parts = apportion_sarsai(total, shares)
    assert sum(parts) == total
    for share, part in zip(shares, parts, strict=True):
        assert abs(part - total * share) < 1


def test_largest_remainder_breaks_ties_in_order() -> None:
    assert apportion_sarsai(1441, [Fraction(1, 2), Fraction(1, 2)]) == [721, 720]
    assert apportion_sarsai(10, [Fraction(1, 3)] * 3) == [4, 3, 3]


# --- on the database ---------------------------------------------------------------------------


def _partition(world: World, khewat_no: int, khasra_no: str) -> int:
    e = world.engine
    mid = enter_partition(
        e,
        mouza=MOUZA,
        khewat_no=khewat_no,
        khasra_no=khasra_no,
        entered_on=date(2024, 2, 1),
        actor=officer(e, PATWARI),
    )
    mut.verify(e, mid, actor=officer(e, GIRDAWAR), on=date(2024, 2, 5))
    return mid


def test_partition_of_the_only_khasra_closes_the_joint_khewat(world: World) -> None:
    e, p = world.engine, world.party
    mid = _partition(world, 4, "4")
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    with e.connect() as conn:
        parent = conn.execute(
            text(
                "SELECT retired_on, retired_by_mutation_id, geom_area_m2, record_area_sarsai"
                " FROM khasra WHERE number = '4'"
            )
        ).one()
        assert (parent.retired_on, parent.retired_by_mutation_id) == (ON, mid)
        children = conn.execute(
            text(
                "SELECT k.number, k.record_area_sarsai, k.geom_area_m2, k.parent_khasra_id,"
                " k.created_on, k.created_by_mutation_id, w.number AS khewat_no,"
                " w.previous_number, kk.area_sarsai, kk.valid_from,"
                " ST_Area(ST_Transform(k.geom, 32643)) AS postgis_m2"
                " FROM khasra k JOIN khewat_khasra kk ON kk.khasra_id = k.id"
                " JOIN khewat w ON w.id = kk.khewat_id"
                " WHERE k.parent_khasra_id IS NOT NULL ORDER BY k.number"
            )
        ).all()
        kk = conn.execute(
            text(
                "SELECT valid_to FROM khewat_khasra kk JOIN khasra k ON k.id = kk.khasra_id"
                " WHERE k.number = '4'"
            )
        ).scalar_one()
    assert kk == ON
    assert [c.number for c in children] == ["4/1", "4/2"]
    assert sum(c.record_area_sarsai for c in children) == parent.record_area_sarsai
    assert [c.record_area_sarsai for c in children] == [721, 720]
    total = sum(c.geom_area_m2 for c in children)
    assert abs(total - parent.geom_area_m2) <= 1e-6 * parent.geom_area_m2
    assert abs(sum(c.postgis_m2 for c in children) - parent.geom_area_m2) <= 1e-6 * total
    assert all(c.created_on == ON and c.created_by_mutation_id == mid for c in children)
    assert all(c.previous_number == 4 and c.valid_from == ON for c in children)
    assert [c.area_sarsai for c in children] == [c.record_area_sarsai for c in children]
    # each co-owner holds 1/1 of a new khewat; the old khewat's shares are closed
    with e.connect() as conn:
        new = dict(
            conn.execute(text("SELECT number, id FROM khewat WHERE previous_number = 4")).all()
        )
    owners = [open_shares(e, new[c.khewat_no]) for c in children]
    assert sorted(owners, key=str) == sorted(
        [{(p[ESA], OWN): Fraction(1)}, {(p[FARAH], OWN): Fraction(1)}], key=str
    )
    assert open_shares(e, world.khewat[4]) == {}
    assert mut.replay_mouza(e, MOUZA).equal
    shown = mut.show(e, mid)
    assert shown["partition"] == {"khewat_no": 4, "khasra_no": "4"}


def test_partition_in_unequal_shares_keeps_the_old_khewat_for_its_other_khasra(
    world: World,
) -> None:
    e, p = world.engine, world.party
    mid = _partition(world, 5, "6")
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    assert open_shares(e, world.khewat[5]) == {
        (p[ESA], OWN): Fraction(2, 3),
        (p[FARAH], OWN): Fraction(1, 3),
    }
    with e.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT k.number, k.record_area_sarsai, k.geom_area_m2 FROM khasra k"
                " WHERE k.parent_khasra_id IS NOT NULL ORDER BY k.number"
            )
        ).all()
        parent_m2 = conn.execute(
            text("SELECT geom_area_m2 FROM khasra WHERE number = '6'")
        ).scalar()
    assert [r.number for r in rows] == ["6/1", "6/2"]
    # Esa (2/3) and Farah (1/3), in party order: 1441 * 2/3 = 960.67, 1441 / 3 = 480.33
    assert [r.record_area_sarsai for r in rows] == [961, 480]
    assert abs(rows[0].geom_area_m2 / parent_m2 - 2 / 3) < 1e-6
    assert abs(sum(r.geom_area_m2 for r in rows) - parent_m2) <= 1e-6 * parent_m2
    assert mut.replay_mouza(e, MOUZA).equal


def test_a_second_partition_numbers_its_tatimas_below_the_first(engine: Engine) -> None:
    world = build(engine, khewats={1: {ESA: Fraction(1, 2), FARAH: Fraction(1, 4),
                                       GUL: Fraction(1, 4)}})  # fmt: skip
    e = world.engine
    mut.sanction(e, _partition(world, 1, "1"), actor=officer(e, TEHSILDAR), on=ON)
    with e.connect() as conn:
        numbers = [n for (n,) in conn.execute(text("SELECT number FROM khasra ORDER BY id"))]
        esa_khewat = conn.execute(
            text(
                "SELECT w.number FROM khewat w JOIN share s ON s.khewat_id = w.id"
                " WHERE s.party_id = :p AND s.valid_to IS NULL"
            ),
            {"p": world.party[ESA]},
        ).scalar_one()
    assert numbers == ["1", "1/1", "1/2", "1/3"]
    # Esa sells half his new khewat to Ali, then the two partition tatima 1/1 again
    sale = entered_and_verified(
        e, draft("sale", [(esa_khewat, ESA, ALI, "1/2")], entered=date(2024, 4, 1))
    )
    mut.sanction(e, sale, actor=officer(e, TEHSILDAR), on=date(2024, 5, 1))
    mid = enter_partition(
        e, mouza=MOUZA, khewat_no=esa_khewat, khasra_no="1/1", entered_on=date(2024, 6, 1),
        actor=officer(e, PATWARI),
    )  # fmt: skip
    mut.verify(e, mid, actor=officer(e, GIRDAWAR), on=date(2024, 6, 2))
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=date(2024, 7, 1))
    with e.connect() as conn:
        kids = conn.execute(
            text("SELECT number FROM khasra WHERE number LIKE '1/1/%' ORDER BY number")
        ).all()
    assert [k for (k,) in kids] == ["1/1/1", "1/1/2"]
    assert mut.replay_mouza(e, MOUZA).equal


def test_partition_refused_when_the_owners_changed_since_entry(world: World) -> None:
    e = world.engine
    mid = _partition(world, 4, "4")
    sale = entered_and_verified(e, draft("sale", [(4, FARAH, GUL, "1/2")]))
    mut.sanction(e, sale, actor=officer(e, TEHSILDAR), on=date(2024, 2, 20))
    before = snapshot(e)
    with pytest.raises(SanctionRefused) as info:
        mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    # Farah's closing line now transfers what she no longer holds
    assert info.value.rule in ("partition_owners", "transferor_holds_share")
    assert snapshot(e) == before


def test_partition_refused_while_mortgaged(world: World) -> None:
    e = world.engine
    mid = _partition(world, 5, "6")
    mortgage = entered_and_verified(
        e, draft("mortgage", [(5, ESA, GUL, "1/3")], right="mortgage_with_possession")
    )
    mut.sanction(e, mortgage, actor=officer(e, TEHSILDAR), on=date(2024, 2, 20))
    before = snapshot(e)
    with pytest.raises(SanctionRefused) as info:
        mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    assert info.value.rule == "partition_encumbered"
    assert snapshot(e) == before


def test_partition_entry_needs_a_joint_khewat_and_its_khasra(world: World) -> None:
    e = world.engine
    with pytest.raises(mut.MutationInvalid, match="1 owner"):
        enter_partition(
            e, mouza=MOUZA, khewat_no=3, khasra_no="3", entered_on=ON, actor=officer(e, PATWARI)
        )
    with pytest.raises(mut.MutationInvalid, match="not held by khewat 4"):
        enter_partition(
            e, mouza=MOUZA, khewat_no=4, khasra_no="5", entered_on=ON, actor=officer(e, PATWARI)
        )
