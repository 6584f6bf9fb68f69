"""The record of rights as of any date, and the jamabandi snapshot (issue 4); who may
read owners and generate a jamabandi, and the access log of those reads (issue 14).

Hand-made records (rights_support) for exact expectations; the demo district, read-only
or through a throwaway copy, for scale and for the demo's own jamabandi rows.
"""

from __future__ import annotations

import json
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from records_support import owner_engine, point_cli_at, sign_in, superuser_engine
from rights_support import (
    ASLAM,
    BUSHRA,
    KAMRAN,
    MOUZA,
    NOBODY,
    OTHER_MOUZA,
    PATWARI_CHAK,
    SALE_DAY,
    SETTLED,
    TEHSILDAR,
    backdate_sale,
    build,
)
from security_support import officer_actor, service_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from typer.testing import CliRunner

from landgov.cli import app
from landgov.domain import RightType, UnitSystem, mask_cnic, sarsai_to_m2
from landgov.errors import AccessDenied, AuthenticationFailed, InvalidCNIC
from landgov.records.jamabandi import (
    JamabandiChanged,
    SnapshotTampered,
    generate_jamabandi,
    mouza_snapshot,
    show_jamabandi,
)
from landgov.records.rights import (
    RecordsError,
    khewat_holding,
    mask_cnics,
    person_holdings,
    read_khewat,
    read_person,
)
from landgov.records.snapshot import canonical_json, snapshot_hash
from landgov.security import Actor, logout
from landgov.storage.lookup import NotFound, resolve_mouza

runner = CliRunner()


@pytest.fixture
def records(engine: Engine) -> Engine:
    build(engine)
    return engine


def tehsildar(engine: Engine) -> Actor:
    """Tariq Mehmood, tehsildar over both mouzas, signed in."""
    return officer_actor(engine, TEHSILDAR)


def access_rows(engine: Engine) -> list[tuple[str, str, str, str, dict[str, Any]]]:
    with engine.connect() as conn:
        return [
            (str(a), str(b), str(c), str(d), dict(e))
            for a, b, c, d, e in conn.execute(
                text(
                    "SELECT actor, action, subject_kind, subject, details FROM access_log"
                    " ORDER BY id"
                )
            )
        ]


def _owners(holding: Any) -> dict[tuple[str, str], Fraction]:
    return {(r.holder.cnic, r.right_type.value): r.share for r in holding.rights}


def _walk(value: Any) -> Any:
    """Every leaf of a JSON-able value."""
    if isinstance(value, dict):
        for v in value.values():
            yield from _walk(v)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v)
    else:
        yield value


# --- holdings ----------------------------------------------------------------------------


def test_khewat_holding_before_and_after_a_sale(records: Engine) -> None:
    with records.connect() as conn:
        before = khewat_holding(conn, 1, 5, date(2010, 4, 30))
        after = khewat_holding(conn, 1, 5, SALE_DAY)
        settled = khewat_holding(conn, 1, 5, SETTLED)
        earlier = khewat_holding(conn, 1, 5, date(2001, 1, 1))

    assert _owners(before) == {
        (ASLAM, "ownership"): Fraction(1, 2),
        (BUSHRA, "ownership"): Fraction(1, 2),
    }
    assert _owners(settled) == _owners(before)
    assert _owners(after) == {
        (ASLAM, "ownership"): Fraction(1, 4),
        (BUSHRA, "ownership"): Fraction(1, 2),
        (KAMRAN, "ownership"): Fraction(1, 4),
    }
    assert before.is_whole and after.is_whole
    assert after.ownership_total == 1
    kamran = next(r for r in after.rights if r.holder.cnic == KAMRAN)
    assert (kamran.since, kamran.mutation_no) == (SALE_DAY, 41)
    bushra = next(r for r in after.rights if r.holder.cnic == BUSHRA)
    assert (bushra.since, bushra.mutation_no) == (SETTLED, None)
    assert bushra.holder.label() == "Bushra Bibi d/o Ghulam Rasool"

    assert [k.number for k in after.khasras] == ["12//1", "12//2"]
    assert [str(k.area_kms) for k in after.khasras] == ["8-0-0", "5-0-0"]
    assert after.area_sarsai == 2340 and str(after.area_kms) == "13-0-0"
    assert after.area_m2 == sarsai_to_m2(2340, UnitSystem.STANDARD)

    # before the settlement the khewat held nothing: no rights, no khasras, not whole
    assert earlier.rights == () and earlier.khasras == ()
    assert earlier.ownership_total == 0 and not earlier.is_whole


def test_rights_other_than_ownership_and_rows_of_one_right_merge(records: Engine) -> None:
    with records.connect() as conn:
        h = khewat_holding(conn, 2, 3, date(2020, 1, 1))
    assert _owners(h) == {
        (ASLAM, "ownership"): Fraction(1),
        (KAMRAN, "mortgage_with_possession"): Fraction(1, 3),
        # two lease rows of 1/4 from one mutation on one day are one right of 1/2
        (BUSHRA, "lease"): Fraction(1, 2),
    }
    assert h.rights[0].right_type is RightType.OWNERSHIP  # ownership is listed first
    assert h.is_whole  # mortgages and leases are not part of the ownership total


def test_person_holdings_across_khewats_and_mouzas(records: Engine) -> None:
    with records.connect() as conn:
        aslam = person_holdings(conn, ASLAM, date(2016, 1, 1))
        kamran = person_holdings(conn, KAMRAN.replace("-", ""), date(2016, 1, 1))
        nobody = person_holdings(conn, NOBODY, date(2016, 1, 1))
        aslam_2005 = person_holdings(conn, ASLAM, date(2005, 1, 1))

    assert [(s.khewat.mouza.name, s.khewat.khewat_no, s.right.share) for s in aslam.shares] == [
        ("Chak Do", 3, Fraction(1)),
        ("Kot Test", 5, Fraction(1, 4)),
    ]
    # 1/4 of 2340 sarsai plus all of 720
    assert aslam.owned_sarsai == 585 + 720
    assert str(aslam.owned_kms) == "7-5-0"
    assert aslam.owned_m2 == sarsai_to_m2(1305, UnitSystem.STANDARD)
    assert aslam_2005.owned_sarsai == 1170 + 720

    assert kamran.person.cnic == KAMRAN
    rights = {(s.khewat.khewat_no, s.right.right_type.value): s.right.share for s in kamran.shares}
    assert rights == {
        (5, "ownership"): Fraction(1, 4),
        (3, "mortgage_with_possession"): Fraction(1, 3),
    }
    assert kamran.owned_sarsai == 585  # a mortgage is not owned land
    mortgage = next(s for s in kamran.shares if s.right.right_type is not RightType.OWNERSHIP)
    assert mortgage.area_sarsai == Fraction(720, 3)
    assert [k.number for k in mortgage.khewat.khasras] == ["7"]

    assert nobody.shares == () and nobody.owned_sarsai == 0


def test_unknown_subjects_are_clear_errors(records: Engine) -> None:
    with records.connect() as conn:
        with pytest.raises(NotFound, match="no khewat 77 in mouza Kot Test"):
            khewat_holding(conn, 1, 77, date(2020, 1, 1))
        with pytest.raises(NotFound, match="no person with CNIC 35401-9999999-9"):
            person_holdings(conn, "35401-9999999-9", date(2020, 1, 1))
        with pytest.raises(InvalidCNIC):
            person_holdings(conn, "12345", date(2020, 1, 1))


# --- reading as an actor: checked, logged, masked ----------------------------------------


def test_reads_of_owners_are_checked_and_logged(records: Engine) -> None:
    reader = tehsildar(records)
    holding = read_khewat(records, actor=reader, mouza=MOUZA, khewat_no=5, as_of=SALE_DAY)
    assert _owners(holding)[(KAMRAN, "ownership")] == Fraction(1, 4)
    person = read_person(records, actor=reader, cnic=ASLAM, as_of=date(2016, 1, 1), unmasked=True)
    assert person.owned_sarsai == 585 + 720
    rows = access_rows(records)
    assert [(a, b, c, d) for a, b, c, d, _ in rows] == [
        (reader.label, "ror.khewat", "khewat", "1:5"),
        (reader.label, "ror.person", "party", ASLAM),
    ]
    assert rows[0][4] == {"as_of": SALE_DAY.isoformat(), "unmasked": False, "holders": 3}
    assert rows[1][4]["unmasked"] is True and rows[1][4]["mouzas"] == [1, 2]
    # an analyst reads owners, masked: not in full
    analyst = staff_actor(records, "revenue_analyst")
    read_khewat(records, actor=analyst, mouza=MOUZA, khewat_no=5, as_of=SALE_DAY)
    with pytest.raises(AccessDenied) as info:
        read_khewat(records, actor=analyst, mouza=MOUZA, khewat_no=5, as_of=SALE_DAY,
                    unmasked=True)  # fmt: skip
    assert info.value.rule == "role"
    # the patwari of Chak Do sees his own mouza in full, not Kot Test, nor Aslam's whole
    # holding (which is partly in Kot Test)
    patwari = officer_actor(records, PATWARI_CHAK)
    read_khewat(records, actor=patwari, mouza=OTHER_MOUZA, khewat_no=3, as_of=SALE_DAY,
                unmasked=True)  # fmt: skip
    for call in (
        lambda: read_khewat(records, actor=patwari, mouza=MOUZA, khewat_no=5, as_of=SALE_DAY,
                            unmasked=True),
        lambda: read_person(records, actor=patwari, cnic=ASLAM, as_of=SALE_DAY, unmasked=True),
    ):  # fmt: skip
        with pytest.raises(AccessDenied) as info:
            call()
        assert info.value.rule == "jurisdiction" and "Kot Test" in str(info.value)
    # an auditor reads; a batch service does not read owners at all
    read_person(records, actor=staff_actor(records, "auditor"), cnic=BUSHRA, as_of=SALE_DAY)
    with pytest.raises(AccessDenied) as info:
        read_person(records, actor=service_actor(records, "valuation"), cnic=BUSHRA,
                    as_of=SALE_DAY)  # fmt: skip
    assert info.value.rule == "role"
    logged = [(a, b, d, e["unmasked"]) for a, b, _, d, e in access_rows(records)]
    assert logged[2:] == [
        (analyst.label, "ror.khewat", "1:5", False),
        (patwari.label, "ror.khewat", "2:3", True),
        (staff_actor(records, "auditor").label, "ror.person", BUSHRA, False),
    ]  # refused reads are not logged: nothing was read


def test_a_read_needs_a_live_session(records: Engine) -> None:
    reader = tehsildar(records)
    logout(records, reader.token)
    with pytest.raises(AuthenticationFailed):
        read_khewat(records, actor=reader, mouza=MOUZA, khewat_no=5, as_of=SALE_DAY)
    assert access_rows(records) == []


def test_mask_cnics_masks_every_cnic_in_text_and_snapshots(records: Engine) -> None:
    with records.connect() as conn:
        snap = khewat_holding(conn, 1, 5, SALE_DAY).snapshot()
    masked = mask_cnics(snap)
    leaves = [str(leaf) for leaf in _walk(masked)]
    for cnic in (ASLAM, BUSHRA, KAMRAN):
        assert cnic not in json.dumps(masked) and mask_cnic(cnic) in leaves
    assert mask_cnics(f"sold by {ASLAM} to {KAMRAN}.") == (
        f"sold by {mask_cnic(ASLAM)} to {mask_cnic(KAMRAN)}."
    )
    assert mask_cnics({"n": 3, "x": None}) == {"n": 3, "x": None}


def test_snapshots_are_canonical_exact_and_stable(records: Engine) -> None:
    with records.connect() as conn:
        one = khewat_holding(conn, 1, 5, date(2012, 1, 1)).snapshot()
        two = khewat_holding(conn, 1, 5, date(2012, 1, 1)).snapshot()
        person = person_holdings(conn, KAMRAN, date(2016, 1, 1)).snapshot()
    assert canonical_json(one) == canonical_json(two)
    assert snapshot_hash(one) == snapshot_hash(two)
    assert json.loads(canonical_json(one)) == one  # round-trips through JSON (and jsonb)
    for snap in (one, person):
        assert not any(isinstance(leaf, float) for leaf in _walk(snap))
    # by right type, then name: Bushra Bibi, Kamran Aslam, Muhammad Aslam
    assert [r["share"] for r in one["rights"]] == ["1/2", "1/4", "1/4"]
    assert one["ownership_total"] == "1/1" and one["sums_to_one"] is True
    assert one["as_of"] == "2012-01-01"
    assert {h["area_sarsai"] for h in person["holdings"]} == {"585/1", "240/1"}
    # a different date with the same rights is a different snapshot (the date is in it)
    with records.connect() as conn:
        other_day = khewat_holding(conn, 1, 5, date(2012, 1, 2)).snapshot()
    assert snapshot_hash(other_day) != snapshot_hash(one)


def test_holdings_are_consistent_on_the_demo(demo_engine: Engine) -> None:
    """Read-only: every khewat of a demo mouza, and a person seen from both sides."""
    on = date(2020, 1, 1)
    with demo_engine.connect() as conn:
        mouza_id = resolve_mouza(conn, "Kot Pindi Das")
        snap = mouza_snapshot(conn, mouza_id, 2020, on)
        assert snapshot_hash(snap) == snapshot_hash(mouza_snapshot(conn, mouza_id, 2020, on))
        assert len(snap["khewats"]) > 100
        whole = sum(k["sums_to_one"] for k in snap["khewats"])
        assert whole / len(snap["khewats"]) > 0.9  # a few planted anomalies at most
        first = next(  # the first khewat with a person in it (khewat 1 is shamlat)
            k for k in snap["khewats"] if any(r["kind"] == "person" for r in k["rights"])
        )
        assert khewat_holding(conn, mouza_id, first["khewat"], on).body() == first
        cnic = next(r["party"] for r in first["rights"] if r["kind"] == "person")
        person = person_holdings(conn, cnic, on)
    assert any(s.khewat.khewat_no == first["khewat"] for s in person.shares)


# --- jamabandi ----------------------------------------------------------------------------


def test_jamabandi_is_generated_once_and_reproduced_exactly(records: Engine) -> None:
    first = generate_jamabandi(records, MOUZA, 2006, actor=tehsildar(records))
    assert first.outcome == "generated"
    assert first.as_of == date(2006, 7, 1)  # the attestation day
    assert [k["khewat"] for k in first.khewats] == [5]  # Chak Do's khewat is elsewhere
    assert {r["party"]: r["share"] for r in first.khewats[0]["rights"]} == {
        ASLAM: "1/2",
        BUSHRA: "1/2",
    }
    assert first.sha256 == snapshot_hash(first.snapshot)
    assert first.attested_by == "Tariq Mehmood"

    again = generate_jamabandi(records, "17", 2006, actor=tehsildar(records))
    assert again.outcome == "reproduced"
    assert again.sha256 == first.sha256 and again.snapshot == first.snapshot
    assert "reproduced exactly (sha256 " + first.sha256 in again.summary()

    shown = show_jamabandi(records, MOUZA, 2006)
    assert shown.sha256 == first.sha256 and shown.generated_by == tehsildar(records).label
    with records.connect() as conn:
        actions = (
            conn.execute(
                text("SELECT action FROM audit_log WHERE entity = 'jamabandi' ORDER BY id")
            )
            .scalars()
            .all()
        )
    assert actions == ["jamabandi generated", "jamabandi reproduced"]


def test_who_may_generate_a_jamabandi(records: Engine) -> None:
    with pytest.raises(AccessDenied) as info:
        generate_jamabandi(records, MOUZA, 2006, actor=staff_actor(records, "revenue_analyst"))
    assert info.value.rule == "role"
    with records.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM audit_log WHERE entity = 'jamabandi'")
            ).scalar_one()
            == 0
        )
        assert (
            conn.execute(
                text("SELECT count(*) FROM jamabandi WHERE snapshot IS NOT NULL")
            ).scalar_one()
            == 0
        )
    done = generate_jamabandi(records, MOUZA, 2006, actor=officer_actor(records, PATWARI_CHAK))
    assert done.generated_by == officer_actor(records, PATWARI_CHAK).label


def test_unattested_and_new_years_use_1_october(records: Engine) -> None:
    unattested = generate_jamabandi(records, MOUZA, 2010, actor=tehsildar(records))
    assert unattested.as_of == date(2010, 10, 1) and unattested.attested_on is None
    shares = {r["party"]: r["share"] for r in unattested.khewats[0]["rights"]}
    assert shares == {ASLAM: "1/4", BUSHRA: "1/2", KAMRAN: "1/4"}  # the sale of 2010-05-01

    new = generate_jamabandi(records, MOUZA, 2018, actor=tehsildar(records))  # no row for 2018 yet
    assert new.as_of == date(2018, 10, 1) and new.outcome == "generated"
    with records.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jamabandi")).scalar_one() == 4

    with pytest.raises(RecordsError, match="after today"):
        generate_jamabandi(records, MOUZA, date.today().year + 1, actor=tehsildar(records))
    with pytest.raises(NotFound, match="has not been generated"):
        show_jamabandi(records, MOUZA, 2014)


def _refused(engine: Engine, sql: str) -> str:
    """What the database answers ``sql`` with (the application's role unless given)."""
    with pytest.raises(DBAPIError) as info, engine.begin() as conn:
        conn.execute(text(sql))
    return str(info.value.orig)


def test_the_database_keeps_a_generated_jamabandi_immutable(records: Engine) -> None:
    generate_jamabandi(records, MOUZA, 2010, actor=tehsildar(records))
    where = " WHERE mouza_id = 1 AND year = 2010"
    assert "immutable" in _refused(records, "UPDATE jamabandi SET snapshot = '{}'" + where)
    assert "immutable" in _refused(
        records, "UPDATE jamabandi SET snapshot_sha256 = repeat('0', 64)" + where
    )
    assert "immutable" in _refused(records, "UPDATE jamabandi SET as_of = '2010-01-01'" + where)
    assert "immutable" in _refused(records, "UPDATE jamabandi SET year = 2011" + where)
    assert "immutable" in _refused(records, "DELETE FROM jamabandi" + where)
    assert "permission denied" in _refused(records, "TRUNCATE jamabandi CASCADE")
    assert "TRUNCATE refused" in _refused(owner_engine(records), "TRUNCATE jamabandi CASCADE")
    # attesting it later is allowed, and does not move its date
    with records.begin() as conn:
        conn.execute(
            text("UPDATE jamabandi SET attested_by = 1, attested_on = '2010-08-01'" + where)
        )
        # a jamabandi not generated can still be removed
        conn.execute(text("DELETE FROM jamabandi WHERE mouza_id = 1 AND year = 2014"))
    again = generate_jamabandi(records, MOUZA, 2010, actor=tehsildar(records))
    assert again.outcome == "reproduced" and again.as_of == date(2010, 10, 1)
    assert again.attested_on == date(2010, 8, 1)
    # snapshot columns come all together or not at all
    assert "jamabandi_snapshot_complete" in _refused(
        records,
        "INSERT INTO jamabandi (mouza_id, year, snapshot) VALUES (1, 2030, '{}')",
    )


def test_a_retroactive_change_is_detected_and_nothing_overwritten(records: Engine) -> None:
    stored = generate_jamabandi(records, MOUZA, 2006, actor=tehsildar(records))
    backdate_sale(records)
    with pytest.raises(JamabandiChanged) as info:
        generate_jamabandi(records, MOUZA, 2006, actor=tehsildar(records))
    assert info.value.differences == ["khewat 5: rights differ"]
    assert "changed retroactively" in str(info.value)
    assert stored.sha256 in str(info.value)
    kept = show_jamabandi(records, MOUZA, 2006)
    assert kept.sha256 == stored.sha256 and kept.snapshot == stored.snapshot


def test_a_stored_snapshot_altered_behind_the_triggers_is_caught(records: Engine) -> None:
    generate_jamabandi(records, MOUZA, 2006, actor=tehsildar(records))
    with superuser_engine(records).begin() as conn:  # a superuser bypassing the trigger
        conn.execute(text("ALTER TABLE jamabandi DISABLE TRIGGER jamabandi_snapshot_immutable"))
        conn.execute(
            text(
                "UPDATE jamabandi SET snapshot = jsonb_set(snapshot, '{year}', '2007')"
                " WHERE year = 2006"
            )
        )
        conn.execute(text("ALTER TABLE jamabandi ENABLE TRIGGER jamabandi_snapshot_immutable"))
    with pytest.raises(SnapshotTampered, match="altered outside landgov"):
        show_jamabandi(records, MOUZA, 2006)
    with pytest.raises(SnapshotTampered):
        generate_jamabandi(records, MOUZA, 2006, actor=tehsildar(records))


def test_demo_jamabandi_rows_get_their_snapshot_on_first_generation(demo_copy: Engine) -> None:
    copy = demo_copy
    with copy.connect() as conn:
        row = conn.execute(
            text(
                "SELECT m.name, j.year, j.attested_on FROM jamabandi j"
                " JOIN mouza m ON m.id = j.mouza_id WHERE j.year = 2018 ORDER BY m.id LIMIT 1"
            )
        ).one()
    demo = service_actor(copy, "demo")
    first = generate_jamabandi(copy, row.name, 2018, actor=demo)
    assert first.outcome == "generated" and first.generated_by == "service:demo"
    assert first.as_of == (row.attested_on or date(2018, 10, 1))
    assert len(first.khewats) > 100
    again = generate_jamabandi(copy, row.name, 2018, actor=demo)
    assert again.outcome == "reproduced" and again.sha256 == first.sha256


# --- CLI -----------------------------------------------------------------------------------


@pytest.fixture
def on_records(records: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Engine:
    """The CLI on the records, signed in as the tehsildar (session file in tmp_path)."""
    point_cli_at(records, monkeypatch, tmp_path)
    sign_in(records, TEHSILDAR)
    return records


def test_cli_ror_and_jamabandi(on_records: Engine) -> None:
    result = runner.invoke(
        app, ["ror", "khewat", "--mouza", MOUZA, "--khewat", "5", "--as-of", "2012-01-01"]
    )
    assert result.exit_code == 0, result.output
    assert "1/4" in result.output and "sums to 1" in result.output
    assert "Kamran Aslam s/o Muhammad Aslam" in result.output
    assert KAMRAN not in result.output and mask_cnic(KAMRAN) in result.output

    result = runner.invoke(
        app, ["ror", "khewat", "--mouza", "17", "--khewat", "5", "--as-of", "2012-01-01", "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["ownership_total"] == "1/1" and data["sha256"] is None  # masked: no hash
    assert {r["party"] for r in data["rights"]} == {mask_cnic(c) for c in (ASLAM, BUSHRA, KAMRAN)}
    result = runner.invoke(
        app,
        ["ror", "khewat", "--mouza", "17", "--khewat", "5", "--as-of", "2012-01-01", "--json",
         "--unmasked"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert KAMRAN in {r["party"] for r in data["rights"]} and len(data["sha256"]) == 64

    result = runner.invoke(app, ["ror", "person", "--cnic", ASLAM, "--as-of", "2016-01-01"])
    assert result.exit_code == 0, result.output
    assert "Chak Do" in result.output and "Kot Test" in result.output
    assert "owned area 7-5-0" in result.output and ASLAM not in result.output
    result = runner.invoke(app, ["ror", "person", "--cnic", ASLAM, "--json"])
    assert json.loads(result.output)["person"]["party"] == mask_cnic(ASLAM)
    result = runner.invoke(app, ["ror", "person", "--cnic", ASLAM, "--json", "--unmasked"])
    assert json.loads(result.output)["person"]["party"] == ASLAM
    assert [(b, d, e["unmasked"]) for _, b, _, d, e in access_rows(on_records)] == [
        ("ror.khewat", "1:5", False),
        ("ror.khewat", "1:5", False),
        ("ror.khewat", "1:5", True),
        ("ror.person", ASLAM, False),
        ("ror.person", ASLAM, False),
        ("ror.person", ASLAM, True),
    ]

    result = runner.invoke(app, ["jamabandi", "generate", "--mouza", MOUZA, "--year", "2006"])
    assert result.exit_code == 0, result.output
    assert "generated and stored" in result.output
    result = runner.invoke(app, ["jamabandi", "generate", "--mouza", MOUZA, "--year", "2006"])
    assert result.exit_code == 0 and "reproduced exactly" in result.output
    result = runner.invoke(app, ["jamabandi", "show", "--mouza", MOUZA, "--year", "2006"])
    assert result.exit_code == 0 and "attested by Tariq Mehmood" in result.output
    assert f"by {tehsildar(on_records).label}" in result.output
    result = runner.invoke(app, ["jamabandi", "show", "--mouza", MOUZA, "--year", "2006", "--json"])
    shown = json.loads(result.output)
    assert shown["as_of"] == "2006-07-01" and shown["snapshot"]["khewats"][0]["khewat"] == 5
    assert ASLAM not in result.output

    backdate_sale(on_records)
    result = runner.invoke(app, ["jamabandi", "generate", "--mouza", MOUZA, "--year", "2006"])
    assert result.exit_code == 1
    assert "does NOT reproduce" in result.output and "khewat 5" in result.output
    assert "Traceback" not in result.output


def test_cli_errors_are_clean(on_records: Engine) -> None:
    cases = [
        (["ror", "khewat", "--mouza", "Nowhere", "--khewat", "5"], "no mouza 'Nowhere'"),
        (["ror", "khewat", "--mouza", MOUZA, "--khewat", "77"], "no khewat 77"),
        (["ror", "person", "--cnic", "123"], "is not of the form"),
        (["jamabandi", "show", "--mouza", MOUZA, "--year", "2014"], "has not been generated"),
    ]
    for args, message in cases:
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert message in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["ror", "person", "--cnic", ASLAM, "--as-of", "2020-13-01"])
    assert result.exit_code == 2 and "not a date" in result.output


def test_cli_reads_and_generates_only_for_a_signed_in_person(
    on_records: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from landgov.cli._shell import save_session

    monkeypatch.setenv("LANDGOV_SESSION_FILE", str(tmp_path / "nobody.json"))
    for args in (
        ["ror", "khewat", "--mouza", MOUZA, "--khewat", "5"],
        ["ror", "person", "--cnic", ASLAM],
        ["jamabandi", "generate", "--mouza", MOUZA, "--year", "2006"],
        ["jamabandi", "show", "--mouza", MOUZA, "--year", "2006"],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, (args, result.output)
        assert "not signed in" in result.output and "Traceback" not in result.output
    # the patwari of Chak Do may not see Kot Test's CNICs in full
    patwari = officer_actor(on_records, PATWARI_CHAK)
    save_session(patwari.token, patwari.username)
    result = runner.invoke(app, ["ror", "khewat", "--mouza", MOUZA, "--khewat", "5", "--unmasked"])
    assert result.exit_code == 1 and "refused by rule jurisdiction" in result.output
    assert access_rows(on_records) == []
    with on_records.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM audit_log WHERE entity = 'jamabandi'")
            ).scalar_one()
            == 0
        )
