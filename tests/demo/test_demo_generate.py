"""The demo generator in memory: determinism, sizes, people and history rules."""

from __future__ import annotations

from collections import Counter
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest

from landgov.demo.anomalies import SIGNALS
from landgov.demo.files import write_files
from landgov.demo.generate import Demo, generate
from landgov.demo.inheritance import simple_hanafi
from landgov.demo.model import Party, World
from landgov.demo.spec import file_names
from landgov.domain import MutationType, cnic_gender, is_valid_cnic, parse_khasra_number


@pytest.fixture(scope="module")
def demo42() -> Demo:
    return generate(42)


@pytest.fixture(scope="module")
def demo42_again() -> Demo:
    return generate(42)


@pytest.fixture(scope="module")
def demo7() -> Demo:
    return generate(7)


def test_same_seed_gives_identical_rows(demo42: Demo, demo42_again: Demo) -> None:
    assert demo42.fingerprint == demo42_again.fingerprint
    for a, b in zip(demo42.tables, demo42_again.tables, strict=True):
        assert a.name == b.name
        assert a.rows == b.rows, a.name


def test_other_seed_gives_another_district(demo42: Demo, demo7: Demo) -> None:
    assert demo7.fingerprint != demo42.fingerprint
    assert demo7.table("party").rows != demo42.table("party").rows


def test_files_are_byte_identical_for_a_seed(
    demo42: Demo, demo42_again: Demo, tmp_path: Path
) -> None:
    write_files(demo42.world, tmp_path / "a", demo42.fingerprint)
    write_files(demo42_again.world, tmp_path / "b", demo42_again.fingerprint)
    names = file_names([m.slug for m in demo42.world.mouzas])
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == sorted(names)
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name


@pytest.mark.parametrize("name", ["demo42", "demo7"])
def test_sizes_and_history_span(name: str, request: pytest.FixtureRequest) -> None:
    demo: Demo = request.getfixturevalue(name)
    c = demo.counts()
    assert c["mouzas"] == 3
    assert 1_000 <= c["khasras"] <= 3_000
    assert 1_000 <= c["live_khasras"] <= 3_000
    assert c["last_year"] - c["first_year"] >= 20
    years: dict[str, list[int]] = {}
    for m in demo.world.mutations:
        years.setdefault(m.type, []).append(m.entered_on.year)
    assert set(years) == {str(t) for t in MutationType}
    for mtype, ys in years.items():
        assert len(ys) >= 3, mtype
        assert max(ys) - min(ys) >= 15, mtype  # every type occurs over most of the history
    statuses = Counter(m.status for m in demo.world.mutations)
    assert statuses["sanctioned"] > 0.9 * len(demo.world.mutations)
    assert statuses["rejected"] >= 5 and statuses["entered"] + statuses["verified"] >= 1


@pytest.mark.parametrize("name", ["demo42", "demo7"])
def test_every_anomaly_kind_is_planted_several_times(
    name: str, request: pytest.FixtureRequest
) -> None:
    demo: Demo = request.getfixturevalue(name)
    planted = Counter(
        a.kind for a in demo.world.anomalies if not a.details.startswith("implied by")
    )
    assert set(planted) == set(SIGNALS)
    for kind, n in planted.items():
        assert 3 <= n <= 8, (kind, n)
    ids = [a.anomaly_id for a in demo.world.anomalies]
    assert len(set(ids)) == len(ids)
    assert all(a.signal == SIGNALS[a.kind] for a in demo.world.anomalies)


def test_parties(demo42: Demo) -> None:
    persons = [p for p in demo42.world.parties if p.kind == "person" and p.cnic]
    cnics = [p.cnic for p in persons]
    assert len(set(cnics)) == len(cnics)
    officer_cnics = {o.cnic for o in demo42.world.officers}
    assert not officer_cnics & set(cnics)
    for p in persons:
        assert p.cnic is not None and is_valid_cnic(p.cnic)
        assert cnic_gender(p.cnic) == p.gender
        assert p.name and p.name_ur and p.guardian_name
        if p.gender == "male":
            assert p.guardian_relation == "son_of"
        else:
            assert p.guardian_relation in ("daughter_of", "wife_of")
        assert p.dob is not None and (p.dod is None or p.dod > p.dob)
    assert sum(1 for p in persons if p.dod is not None) > 100
    custodians = {p.custodian for p in demo42.world.parties if p.kind == "state"}
    assert {"irrigation", "highways", "forest", "village_proprietary_body"} <= custodians


def test_khasra_numbers_are_canonical(demo42: Demo) -> None:
    for k in demo42.world.khasras:
        assert parse_khasra_number(str(k.number)) == k.number
    numbers = [(k.mouza_id, str(k.number)) for k in demo42.world.khasras]
    assert len(set(numbers)) == len(numbers)
    tatimas = [k for k in demo42.world.khasras if k.number.tatima]
    assert len(tatimas) > 100


def test_simple_hanafi_worked_example() -> None:
    world = World(seed=0)
    day = date(2010, 1, 1)
    man = Party(
        1, "person", "A", None, gender="male", dob=date(1940, 1, 1), spouse_id=2, children=[3, 4]
    )
    wife = Party(2, "person", "B", None, gender="female", dob=date(1945, 1, 1), spouse_id=1)
    son = Party(3, "person", "C", None, gender="male", dob=date(1965, 1, 1))
    daughter = Party(4, "person", "D", None, gender="female", dob=date(1968, 1, 1))
    world.parties.extend([man, wife, son, daughter])
    assert simple_hanafi(world, man, day) == [
        (2, Fraction(1, 8)),
        (3, Fraction(7, 12)),
        (4, Fraction(7, 24)),
    ]
    son.dod = date(2005, 1, 1)  # a predeceased son is represented by his children
    grandson = Party(5, "person", "E", None, gender="male", dob=date(1990, 1, 1))
    son.children = [5]
    world.parties.append(grandson)
    assert simple_hanafi(world, man, day) == [
        (2, Fraction(1, 8)),
        (5, Fraction(7, 12)),
        (4, Fraction(7, 24)),
    ]


def test_natural_inheritance_follows_the_simple_case(demo42: Demo) -> None:
    world = demo42.world
    planted = {
        id(a.mutation)
        for a in world.anomalies
        if a.kind in ("wrong_inheritance_shares", "omitted_female_heir")
    }
    checked = 0
    for m in world.mutations:
        if m.type != "inheritance" or id(m) in planted:
            continue
        deceased = world.party(m.lines[0].transferor or 0)
        assert deceased.dod is not None and deceased.dod <= m.entered_on
        expected = dict(simple_hanafi(world, deceased, deceased.dod))
        by_khewat: dict[int, dict[int, Fraction]] = {}
        for line in m.lines:
            by_khewat.setdefault(line.khewat_id, {})[line.transferee or 0] = line.share
        for shares in by_khewat.values():
            total = sum(shares.values())
            assert {h: s / total for h, s in shares.items()} == expected
        checked += 1
    assert checked > 100


def test_natural_gifts_are_not_deathbed_gifts(demo42: Demo) -> None:
    world = demo42.world
    planted = {id(a.mutation) for a in world.anomalies if a.kind == "gift_before_death"}
    for m in world.mutations:
        if m.type == "gift" and id(m) not in planted:
            donor = world.party(m.lines[0].transferor or 0)
            assert donor.dod is None or (donor.dod - m.entered_on).days > 3 * 365
