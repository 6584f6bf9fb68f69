"""The mutation engine on a real database: every type's effect on shares, every refusal
rule (and that a refusal writes nothing), the lifecycle with its audit rows, the inheritance
flag, and the register replay (also over the demo district). Who may act (accounts, roles,
postings, separation of duties, dates, the second factor, row-level security) is in
test_who_acts.py."""

from __future__ import annotations

import csv
import json
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
import records_support
from records_support import (
    AC,
    ALI,
    BILAL,
    CHAND,
    DAUGHTER,
    DEAD,
    ESA,
    FARAH,
    FORMER,
    GIRDAWAR,
    GUL,
    HINA,
    MOUZA,
    NAIB,
    OUTSIDER,
    PATWARI,
    SON,
    TEHSILDAR,
    WIFE,
    World,
    draft,
    entered_and_verified,
    officer,
    open_shares,
    owner_engine,
    point_cli_at,
    snapshot,
)
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.errors import AccessDenied, InvalidHeirs, SanctionRefused
from landgov.records import mutations as mut
from landgov.storage.lookup import NotFound

ON = date(2024, 2, 1)
OWN = "ownership"


def refused(engine: Engine, rule: str, call: object, *args: object, **kwargs: object) -> str:
    """Runs ``call``, expects SanctionRefused(rule) (a rule of the record) or
    AccessDenied(rule) (who acts), and that nothing was written."""
    before = snapshot(engine)
    with pytest.raises((SanctionRefused, AccessDenied)) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert info.value.rule == rule, info.value
    assert snapshot(engine) == before
    assert rule in str(info.value)
    return str(info.value)


def audit_rows(engine: Engine, mutation_id: int) -> list[tuple[str, str, dict[str, object]]]:
    with engine.connect() as conn:
        return [
            (str(a), str(b), dict(c))
            for a, b, c in conn.execute(
                text(
                    "SELECT actor, action, details FROM audit_log WHERE entity = 'mutation'"
                    " AND entity_id = :m AND action LIKE 'mutation.%' ORDER BY id"
                ),
                {"m": str(mutation_id)},
            )
        ]


# --- the effect of each type -------------------------------------------------------------


@pytest.mark.parametrize("mtype", ["sale", "gift", "court_decree"])
def test_transfer_moves_the_share_and_keeps_other_rows_open(world: World, mtype: str) -> None:
    e, p, k = world.engine, world.party, world.khewat[1]
    mid = entered_and_verified(e, draft(mtype, [(1, ALI, GUL, "1/4")], deed=date(2024, 1, 5)))
    with e.connect() as conn:
        untouched = conn.execute(
            text("SELECT id FROM share WHERE khewat_id = :k AND party_id IN (:b, :c)"),
            {"k": k, "b": p[BILAL], "c": p[CHAND]},
        ).all()
    result = mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    assert (result.closed, result.opened) == (1, 2)
    assert open_shares(e, k) == {
        (p[ALI], OWN): Fraction(1, 4),
        (p[BILAL], OWN): Fraction(1, 4),
        (p[CHAND], OWN): Fraction(1, 4),
        (p[GUL], OWN): Fraction(1, 4),
    }
    with e.connect() as conn:
        closed = conn.execute(
            text(
                "SELECT valid_to, ended_by_mutation_id FROM share"
                " WHERE khewat_id = :k AND party_id = :a AND valid_to IS NOT NULL"
            ),
            {"k": k, "a": p[ALI]},
        ).one()
        assert tuple(closed) == (ON, mid)
        new = conn.execute(
            text(
                "SELECT valid_from, created_by_mutation_id FROM share"
                " WHERE khewat_id = :k AND valid_to IS NULL AND party_id IN (:a, :g)"
            ),
            {"k": k, "a": p[ALI], "g": p[GUL]},
        ).all()
        assert {tuple(r) for r in new} == {(ON, mid)}
        still = conn.execute(
            text("SELECT id FROM share WHERE id = ANY(:ids) AND valid_to IS NULL"),
            {"ids": [r[0] for r in untouched]},
        ).all()
        assert len(still) == 2
        m = conn.execute(
            text("SELECT status, decided_on, officer_id FROM mutation WHERE id = :m"), {"m": mid}
        ).one()
        assert tuple(m) == ("sanctioned", ON, world.officer[TEHSILDAR])


def test_whole_share_sale_closes_the_seller(world: World) -> None:
    e, p = world.engine, world.party
    mid = entered_and_verified(e, draft("sale", [(1, BILAL, CHAND, "1/4")]))
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    assert open_shares(e, world.khewat[1]) == {
        (p[ALI], OWN): Fraction(1, 2),
        (p[CHAND], OWN): Fraction(1, 2),
    }


def test_exchange_is_two_way_across_two_khewats(world: World) -> None:
    e, p = world.engine, world.party
    d = draft("exchange", [(3, ALI, BILAL, "1"), (1, BILAL, ALI, "1/4")])
    mid = entered_and_verified(e, d)
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    assert open_shares(e, world.khewat[3]) == {(p[BILAL], OWN): Fraction(1)}
    assert open_shares(e, world.khewat[1]) == {
        (p[ALI], OWN): Fraction(3, 4),
        (p[CHAND], OWN): Fraction(1, 4),
    }
    details = audit_rows(e, mid)[-1][2]
    assert set(details["shares"]) == {"khewat 1", "khewat 3"}  # type: ignore[arg-type]


def test_exchange_refused_as_a_whole_when_one_side_fails(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("exchange", [(3, ALI, BILAL, "1"), (1, BILAL, ALI, "1/2")]))
    msg = refused(
        e, "transferor_holds_share", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=ON
    )
    assert "Bilal" in msg and "khewat 1" in msg


def test_mortgage_creates_a_right_without_changing_ownership_and_redemption_ends_it(
    world: World,
) -> None:
    e, p, k = world.engine, world.party, world.khewat[1]
    right = "mortgage_with_possession"
    m1 = entered_and_verified(e, draft("mortgage", [(1, ALI, GUL, "1/2")], right=right))
    mut.sanction(e, m1, actor=officer(e, TEHSILDAR), on=ON)
    held = open_shares(e, k)
    assert held[(p[GUL], right)] == Fraction(1, 2)
    assert held[(p[ALI], OWN)] == Fraction(1, 2)
    assert sum(v for (_, r), v in held.items() if r == OWN) == 1
    m2 = entered_and_verified(
        e,
        draft("redemption", [(1, GUL, ALI, "1/2")], right=right, entered=date(2025, 3, 1)),
    )
    mut.sanction(e, m2, actor=officer(e, TEHSILDAR), on=date(2025, 4, 1))
    assert (p[GUL], right) not in open_shares(e, k)
    with e.connect() as conn:
        row = conn.execute(
            text("SELECT valid_from, valid_to FROM share WHERE party_id = :g AND right_type = :r"),
            {"g": p[GUL], "r": right},
        ).one()
    assert tuple(row) == (ON, date(2025, 4, 1))


def test_mortgage_cannot_exceed_the_mortgagors_ownership(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(
        e, draft("mortgage", [(1, BILAL, GUL, "1/2")], right="mortgage_without_possession")
    )
    msg = refused(
        e, "transferor_holds_share", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=ON
    )
    assert "1/4 ownership" in msg


def test_redemption_of_more_than_the_mortgage_is_refused(world: World) -> None:
    e = world.engine
    right = "mortgage_with_possession"
    m1 = entered_and_verified(e, draft("mortgage", [(1, ALI, GUL, "1/4")], right=right))
    mut.sanction(e, m1, actor=officer(e, TEHSILDAR), on=ON)
    m2 = entered_and_verified(
        e, draft("redemption", [(1, GUL, ALI, "1/2")], right=right, entered=date(2025, 3, 1))
    )
    refused(
        e, "transferor_holds_share", mut.sanction, e, m2, actor=officer(e, TEHSILDAR),
        on=date(2025, 4, 1),
    )  # fmt: skip


def test_lease_by_every_owner_and_a_second_lease_exceeds_ownership(world: World) -> None:
    e, p, k = world.engine, world.party, world.khewat[1]
    lines = [(1, ALI, HINA, "1/2"), (1, BILAL, HINA, "1/4"), (1, CHAND, HINA, "1/4")]
    m1 = entered_and_verified(e, draft("lease", lines, right="lease"))
    mut.sanction(e, m1, actor=officer(e, TEHSILDAR), on=ON)
    assert open_shares(e, k)[(p[HINA], "lease")] == 1
    m2 = entered_and_verified(
        e, draft("lease", [(1, ALI, GUL, "1/4")], right="lease", entered=date(2024, 3, 1))
    )
    refused(
        e, "encumbrance_exceeds_ownership", mut.sanction, e, m2, actor=officer(e, TEHSILDAR),
        on=date(2024, 4, 1),
    )  # fmt: skip


# --- inheritance ---------------------------------------------------------------------------


def test_inheritance_computed_with_faraid_and_sanctioned(world: World) -> None:
    e, p = world.engine, world.party
    mid = mut.enter_inheritance(
        e,
        mouza=MOUZA,
        deceased_cnic=DEAD,
        heirs={WIFE: "wife", SON: "son", DAUGHTER: "daughter"},
        entered_on=date(2020, 9, 1),
        actor=officer(e, PATWARI),
    )
    assert mut.check_inheritance(e, mid) == []
    shown = mut.show(e, mid)
    assert {(x["transferee"], x["share"]) for x in shown["lines"]} == {
        (WIFE, "1/8"),
        (SON, "7/12"),
        (DAUGHTER, "7/24"),
    }
    assert shown["flags"] == []
    assert shown["inheritance"]["heirs"] == {WIFE: "wife", SON: "son", DAUGHTER: "daughter"}
    mut.verify(e, mid, actor=officer(e, GIRDAWAR), on=date(2020, 9, 5))
    mut.sanction(e, mid, actor=officer(e, NAIB), on=date(2020, 10, 1))
    assert open_shares(e, world.khewat[2]) == {
        (p[WIFE], OWN): Fraction(1, 8),
        (p[SON], OWN): Fraction(7, 12),
        (p[DAUGHTER], OWN): Fraction(7, 24),
    }
    # sanctioned, it still agrees: the estate is what the deceased held just before it
    # (issue 16: measured on the day of the check, it was nothing, and this looked wrong)
    assert mut.check_inheritance(e, mid) == []


def test_inheritance_of_a_share_multiplies_exactly(world: World) -> None:
    """Ali (who is alive) cannot be inherited from; Dilawar's share of a joint khewat can."""
    e, p = world.engine, world.party
    sale = entered_and_verified(
        e, draft("sale", [(1, ALI, DEAD, "1/3")], entered=date(2019, 1, 10), deed=date(2019, 1, 9))
    )
    mut.sanction(e, sale, actor=officer(e, TEHSILDAR), on=date(2019, 2, 1))
    mid = mut.enter_inheritance(
        e,
        mouza=MOUZA,
        deceased_cnic=DEAD,
        heirs={WIFE: "wife", SON: "son", DAUGHTER: "daughter", GUL: "full_brother"},
        khewat_no=1,
        entered_on=date(2020, 9, 1),
        actor=officer(e, PATWARI),
    )
    shown = mut.show(e, mid)
    assert {(x["transferee"], x["share"]) for x in shown["lines"]} == {
        (WIFE, "1/24"),  # 1/3 x 1/8
        (SON, "7/36"),  # 1/3 x 7/12
        (DAUGHTER, "7/72"),  # 1/3 x 7/24
    }  # the brother is excluded by the son: named, but no line
    assert shown["inheritance"]["heirs"][GUL] == "full_brother"
    mut.verify(e, mid, actor=officer(e, GIRDAWAR), on=date(2020, 9, 5))
    mut.sanction(e, mid, actor=officer(e, NAIB), on=date(2020, 10, 1))
    held = open_shares(e, world.khewat[1])
    assert sum(held.values()) == 1
    assert (p[DEAD], OWN) not in held


def test_inheritance_with_wrong_shares_is_flagged_and_refused(world: World) -> None:
    e = world.engine
    equal = "1/3"
    d = draft(
        "inheritance",
        [(2, DEAD, WIFE, equal), (2, DEAD, SON, equal), (2, DEAD, DAUGHTER, equal)],
        entered=date(2020, 9, 1),
        inheritance=mut.InheritanceFacts(DEAD, {WIFE: "wife", SON: "son", DAUGHTER: "daughter"}),
    )
    mid = entered_and_verified(e, d)
    diffs = mut.check_inheritance(e, mid)
    assert {(x.party, x.expected, x.recorded) for x in diffs} == {
        (WIFE, Fraction(1, 8), Fraction(1, 3)),
        (SON, Fraction(7, 12), Fraction(1, 3)),
        (DAUGHTER, Fraction(7, 24), Fraction(1, 3)),
    }
    shown = mut.show(e, mid)
    assert [f["rule"] for f in shown["flags"]] == ["faraid_shares"]
    assert "faraid_shares" in audit_rows(e, mid)[0][2]["flags"]  # type: ignore[operator]
    msg = refused(
        e, "faraid_shares", mut.sanction, e, mid, actor=officer(e, NAIB), on=date(2020, 10, 1)
    )
    assert "should receive 1/8" in msg


def test_inheritance_that_omits_an_heir_is_flagged(world: World) -> None:
    """The daughter is named as an heir but given no line (domain.md §6.5)."""
    e = world.engine
    d = draft(
        "inheritance",
        [(2, DEAD, WIFE, "1/8"), (2, DEAD, SON, "7/8")],
        entered=date(2020, 9, 1),
        inheritance=mut.InheritanceFacts(DEAD, {WIFE: "wife", SON: "son", DAUGHTER: "daughter"}),
    )
    mid = mut.enter(e, d, actor=officer(e, PATWARI))
    diffs = mut.check_inheritance(e, mid)
    assert any(x.party == DAUGHTER and x.recorded == 0 for x in diffs)


def test_inheritance_needs_a_recorded_death_and_known_heir_kinds(world: World) -> None:
    e = world.engine
    with pytest.raises(mut.MutationInvalid, match="no date of death"):
        mut.enter_inheritance(
            e, mouza=MOUZA, deceased_cnic=ALI, heirs={SON: "son"}, entered_on=date(2024, 1, 1),
            actor=officer(e, PATWARI),
        )  # fmt: skip
    with pytest.raises(InvalidHeirs, match="unknown heir"):
        mut.enter_inheritance(
            e, mouza=MOUZA, deceased_cnic=DEAD, heirs={SON: "nephew"},
            entered_on=date(2021, 1, 1), actor=officer(e, PATWARI),
        )  # fmt: skip


def test_jafari_and_mflo_predeceased_children(world: World) -> None:
    """A predeceased son's children take his share (MFLO s.4) under the Jafari school."""
    e = world.engine
    mid = mut.enter_inheritance(
        e,
        mouza=MOUZA,
        deceased_cnic=DEAD,
        heirs={
            WIFE: "wife",
            DAUGHTER: "daughter",
            SON: "predeceased_son_1.son",
            GUL: "predeceased_son_1.son",
        },
        school="jafari",
        entered_on=date(2020, 9, 1),
        actor=officer(e, PATWARI),
    )
    lines = {x["transferee"]: Fraction(x["share"]) for x in mut.show(e, mid)["lines"]}
    assert sum(lines.values()) == 1
    assert lines[SON] == lines[GUL]
    assert lines[WIFE] == Fraction(1, 8)
    assert mut.check_inheritance(e, mid) == []


# --- refusals: each rule, nothing written ---------------------------------------------------


def test_transferor_must_hold_the_share(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("sale", [(1, BILAL, GUL, "1/2")]))
    msg = refused(
        e, "transferor_holds_share", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=ON
    )
    assert "holds 1/4" in msg and "transfers 1/2" in msg


def test_two_lines_of_one_transferor_are_summed(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("sale", [(1, BILAL, GUL, "1/8"), (1, BILAL, HINA, "1/4")]))
    refused(e, "transferor_holds_share", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=ON)


def test_shares_must_sum_to_one_afterwards(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("court_decree", [(1, None, GUL, "1/4")]))
    msg = refused(e, "khewat_sums_to_one", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=ON)
    assert "5/4" in msg and "over-allocated" in msg


def test_transferor_must_be_alive_on_the_deed_date(world: World) -> None:
    e = world.engine
    d = draft("sale", [(2, DEAD, GUL, "1")], entered=date(2020, 7, 1), deed=date(2020, 6, 20))
    mid = entered_and_verified(e, d)
    msg = refused(
        e, "transferor_alive_on_deed_date", mut.sanction, e, mid, actor=officer(e, TEHSILDAR),
        on=date(2020, 8, 1),
    )  # fmt: skip
    assert "died on 2020-06-01" in msg


def test_without_a_deed_the_entry_date_counts(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("gift", [(2, DEAD, GUL, "1")], entered=date(2020, 7, 1)))
    refused(
        e, "transferor_alive_on_deed_date", mut.sanction, e, mid, actor=officer(e, TEHSILDAR),
        on=date(2020, 8, 1),
    )  # fmt: skip


def test_a_deed_before_death_may_be_sanctioned_after_it(world: World) -> None:
    e, p = world.engine, world.party
    d = draft("sale", [(2, DEAD, GUL, "1")], entered=date(2020, 5, 10), deed=date(2020, 5, 1))
    mid = entered_and_verified(e, d)
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=date(2020, 7, 1))
    assert open_shares(e, world.khewat[2]) == {(p[GUL], OWN): Fraction(1)}


@pytest.mark.parametrize(
    ("cnic", "on", "rule"),
    [
        (OUTSIDER, ON, "jurisdiction"),  # posted to the other tehsil
        (FORMER, ON, "jurisdiction"),  # posting ended in 2010
        (FORMER, date(2009, 12, 31), "jurisdiction"),  # not even for a day he was posted
        (PATWARI, ON, "role"),  # a patwari may not sanction
        (GIRDAWAR, ON, "role"),
    ],
)
def test_only_an_officer_in_jurisdiction_may_sanction(
    world: World, cnic: str, on: date, rule: str
) -> None:
    e = world.engine
    d = draft("sale", [(1, ALI, GUL, "1/4")], entered=min(on, date(2024, 1, 10)).replace(day=1))
    mid = entered_and_verified(e, d, verified=d.entered_on.replace(day=2))
    refused(e, rule, mut.sanction, e, mid, actor=officer(e, cnic), on=on)


def test_jurisdiction_over_an_ancestor_unit_counts(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    mut.sanction(e, mid, actor=officer(e, AC), on=ON)  # posted to the district


def test_status_transitions(world: World) -> None:
    e = world.engine
    mid = mut.enter(e, draft("sale", [(1, ALI, GUL, "1/4")]), actor=officer(e, PATWARI))
    refused(e, "status_transition", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=ON)
    refused(e, "role", mut.verify, e, mid, actor=officer(e, PATWARI), on=ON)
    mut.verify(e, mid, actor=officer(e, GIRDAWAR), on=date(2024, 1, 12))
    refused(e, "status_transition", mut.verify, e, mid, actor=officer(e, GIRDAWAR), on=ON)
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=ON)
    refused(e, "status_transition", mut.sanction, e, mid, actor=officer(e, TEHSILDAR), on=ON)
    refused(
        e,
        "status_transition",
        mut.reject,
        e,
        mid,
        actor=officer(e, TEHSILDAR),
        on=ON,
        reason="late",
    )


def test_sanction_dates_must_follow_entry_verification_and_the_last_change(world: World) -> None:
    e = world.engine
    m1 = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    msg = refused(
        e,
        "sanction_date_order",
        mut.sanction,
        e,
        m1,
        actor=officer(e, TEHSILDAR),
        on=date(2024, 1, 11),
    )
    assert "verified" in msg
    mut.sanction(e, m1, actor=officer(e, TEHSILDAR), on=ON)
    m2 = entered_and_verified(e, draft("sale", [(1, BILAL, HINA, "1/4")]))
    msg = refused(e, "sanction_date_order", mut.sanction, e, m2, actor=officer(e, TEHSILDAR), on=ON)
    assert "latest share change" in msg
    mut.sanction(e, m2, actor=officer(e, TEHSILDAR), on=date(2024, 2, 2))


def test_entry_checks(world: World) -> None:
    e = world.engine
    before = snapshot(e)
    with pytest.raises(NotFound, match="khewat 99"):
        mut.enter(e, draft("sale", [(99, ALI, GUL, "1/4")]), actor=officer(e, PATWARI))
    with pytest.raises(NotFound, match="CNIC"):
        mut.enter(e, draft("sale", [(1, ALI, "35401-9999999-1", "1/4")]), actor=officer(e, PATWARI))
    with pytest.raises(mut.MutationInvalid, match="more than the whole"):
        mut.enter(e, draft("sale", [(1, ALI, GUL, "5/4")]), actor=officer(e, PATWARI))
    with pytest.raises(mut.MutationInvalid, match="mortgage right"):
        mut.enter(e, draft("mortgage", [(1, ALI, GUL, "1/4")]), actor=officer(e, PATWARI))
    with pytest.raises(mut.MutationInvalid, match="both sides"):
        mut.enter(e, draft("sale", [(1, ALI, ALI, "1/4")]), actor=officer(e, PATWARI))
    with pytest.raises(mut.MutationInvalid, match="unknown mutation type"):
        mut.enter(e, draft("theft", [(1, ALI, GUL, "1/4")]), actor=officer(e, PATWARI))
    with pytest.raises(mut.MutationInvalid, match="after the entry date"):
        mut.enter(
            e,
            draft("sale", [(1, ALI, GUL, "1/4")], deed=date(2025, 1, 1)),
            actor=officer(e, PATWARI),
        )
    with pytest.raises(mut.MutationInvalid, match="enter_partition"):
        mut.enter(e, draft("partition", [(4, ESA, None, "1/2")]), actor=officer(e, PATWARI))
    assert snapshot(e) == before


# --- lifecycle and audit -------------------------------------------------------------------


def test_numbers_run_per_mouza_and_every_transition_is_audited(world: World) -> None:
    e = world.engine
    m1 = entered_and_verified(e, draft("sale", [(1, ALI, GUL, "1/4")]))
    m2 = mut.enter(e, draft("gift", [(4, ESA, FARAH, "1/2")]), actor=officer(e, PATWARI))
    assert mut.find_mutation(e, MOUZA, 1) == m1
    assert mut.find_mutation(e, "17", 2) == m2
    mut.sanction(e, m1, actor=officer(e, TEHSILDAR), on=ON)
    mut.reject(e, m2, actor=officer(e, NAIB), on=ON, reason="  Donor did not appear  ")
    patwari, girdawar = officer(e, PATWARI).label, officer(e, GIRDAWAR).label
    tehsildar, naib = officer(e, TEHSILDAR).label, officer(e, NAIB).label
    assert patwari.startswith("user:officer.")
    rows = audit_rows(e, m1)
    assert [(a, b) for a, b, _ in rows] == [
        (patwari, "mutation.enter"),
        (girdawar, "mutation.verify"),
        (tehsildar, "mutation.sanction"),
    ]
    # the officer's name and designation stay in the details, beside the account
    assert [d["officer"] for _, _, d in rows] == [
        "Pervaiz (patwari)",
        "Ghulam (girdawar)",
        "Tariq (tehsildar)",
    ]
    sanctioned = rows[-1][2]
    assert sanctioned["from"] == "verified" and sanctioned["to"] == "sanctioned"
    assert sanctioned["on"] == ON.isoformat()
    assert sanctioned["shares"] == {
        "khewat 1": {
            "before": {f"{ALI} ownership": "1/2", f"{BILAL} ownership": "1/4",
                       f"{CHAND} ownership": "1/4"},
            "after": {f"{ALI} ownership": "1/4", f"{BILAL} ownership": "1/4",
                      f"{CHAND} ownership": "1/4", f"{GUL} ownership": "1/4"},
        }
    }  # fmt: skip
    rejected = audit_rows(e, m2)
    assert [(a, b) for a, b, _ in rejected] == [
        (patwari, "mutation.enter"),
        (naib, "mutation.reject"),
    ]
    assert rejected[-1][2]["reason"] == "Donor did not appear"
    shown = mut.show(e, m2)
    assert (shown["status"], shown["rejection_reason"]) == ("rejected", "Donor did not appear")
    with pytest.raises(mut.MutationInvalid, match="reason"):
        mut.reject(e, m1, actor=officer(e, NAIB), on=ON, reason=" ")


def test_rejection_rules(world: World) -> None:
    e = world.engine
    mid = mut.enter(e, draft("sale", [(1, ALI, GUL, "1/4")]), actor=officer(e, PATWARI))
    refused(e, "role", mut.reject, e, mid, actor=officer(e, GIRDAWAR), on=ON, reason="x")
    refused(e, "jurisdiction", mut.reject, e, mid, actor=officer(e, OUTSIDER), on=ON, reason="x")
    refused(
        e, "sanction_date_order", mut.reject, e, mid, actor=officer(e, NAIB), on=date(2024, 1, 1),
        reason="x",
    )  # fmt: skip
    mut.reject(e, mid, actor=officer(e, NAIB), on=ON, reason="Seller did not appear")


def test_unknown_mutation(world: World) -> None:
    e = world.engine
    with pytest.raises(NotFound, match="mutation"):
        mut.sanction(e, 9999, actor=officer(e, TEHSILDAR), on=ON)
    with pytest.raises(NotFound, match="no mutation 7"):
        mut.find_mutation(e, MOUZA, 7)


# --- replay ----------------------------------------------------------------------------------


def test_replay_of_the_register_equals_the_stored_shares(world: World) -> None:
    e = world.engine
    steps = [
        (draft("sale", [(1, ALI, GUL, "1/4")]), date(2024, 2, 1)),
        (draft("mortgage", [(1, GUL, HINA, "1/4")], right="mortgage_with_possession",
               entered=date(2024, 3, 1)), date(2024, 4, 1)),
        (draft("exchange", [(3, ALI, BILAL, "1"), (1, BILAL, ALI, "1/4")],
               entered=date(2024, 5, 1)), date(2024, 6, 1)),
        (draft("lease", [(4, ESA, HINA, "1/2"), (4, FARAH, HINA, "1/2")], right="lease",
               entered=date(2024, 5, 1)), date(2024, 6, 1)),
        (draft("redemption", [(1, HINA, GUL, "1/4")], right="mortgage_with_possession",
               entered=date(2024, 7, 1)), date(2024, 8, 1)),
    ]  # fmt: skip
    for d, on in steps:
        mut.sanction(e, entered_and_verified(e, d), actor=officer(e, TEHSILDAR), on=on)
    report = mut.replay_mouza(e, MOUZA)
    assert report.equal, report.differences
    assert report.issues == []
    assert report.mutations == len(steps)
    # a share row a mutation wrote, changed by hand (the owner, outside the engine), shows
    with owner_engine(e).begin() as conn:
        conn.execute(
            text(
                "UPDATE share SET numerator = 1, denominator = 2 WHERE khewat_id = :k"
                " AND party_id = :p AND valid_to IS NULL"
            ),
            {"k": world.khewat[3], "p": world.party[BILAL]},
        )
    assert mut.replay_mouza(e, MOUZA).differences == {3: date(2024, 6, 1)}


def _ground_truth(demo_dir: Path) -> list[dict[str, str]]:
    with (demo_dir / "ground_truth.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_replay_of_the_demo_register_equals_its_shares_except_planted_anomalies(
    demo_engine: Engine, demo_dir: Path
) -> None:
    """Read-only. The planted over- and under-allocations record shares that differ from
    their own mutation lines; every other khewat replays exactly."""
    truth = _ground_truth(demo_dir)
    misrecorded = {
        (row["mouza"], int(row["khewat_no"]))
        for row in truth
        if row["kind"] in ("over_allocation", "under_allocation")
        and row["mutation_no"]
        and "implied by" not in row["details"]
    }
    assert misrecorded
    with demo_engine.connect() as conn:
        mouzas = [str(n) for (n,) in conn.execute(text("SELECT name FROM mouza ORDER BY id"))]
    found: set[tuple[str, int]] = set()
    rules: set[str] = set()
    total = 0
    for name in mouzas:
        report = mut.replay_mouza(demo_engine, name)
        total += report.mutations
        found |= {(name, k) for k in report.differences}
        rules |= {rule for *_, rule, _ in report.issues}
    assert total > 1000
    assert found == misrecorded
    # the register's own planted faults are reported by the replay with their rule ids
    assert {"transferor_holds_share", "khewat_sums_to_one"} <= rules


def test_show_is_json_ready(world: World) -> None:
    e = world.engine
    mid = entered_and_verified(
        e, draft("sale", [(1, ALI, GUL, "1/4")], deed=date(2024, 1, 5), consideration_rs=1500000)
    )
    shown = mut.show(e, mid)
    text_ = json.dumps(shown)
    assert '"consideration_rs": 1500000' in text_
    assert shown["verified_by"] == GIRDAWAR
    assert (shown["entered_by_account"], shown["verified_by_account"]) == (
        officer(e, PATWARI).username,
        officer(e, GIRDAWAR).username,
    )
    assert shown["decided_by_account"] is None and shown["recorded_at"] is not None
    assert shown["lines"] == [
        {"line_no": 1, "khewat_no": 1, "transferor": ALI, "transferee": GUL, "share": "1/4",
         "right_type": "ownership"}
    ]  # fmt: skip


# --- the command line ----------------------------------------------------------------------


@pytest.fixture
def cli(world: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> World:
    """The CLI on the world's database, nobody signed in yet (:func:`sign_in`)."""
    point_cli_at(world.engine, monkeypatch, tmp_path)
    return world


def sign_in(world: World, cnic: str) -> None:
    """``landgov login`` as the officer with ``cnic``."""
    records_support.sign_in(world.engine, cnic)


def _run(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from landgov.cli import app

    result = CliRunner().invoke(app, ["mutation", *args])
    return result.exit_code, result.output


def test_cli_lifecycle(cli: World) -> None:
    sign_in(cli, PATWARI)
    code, output = _run(
        "enter", "--type", "sale", "--mouza", MOUZA, "--khewat", "1",
        "--line", f"{ALI}:{GUL}:1/4", "--line", f"{BILAL}:{GUL}:1/8",
        "--entered-on", "2024-01-10", "--deed-number", "SKP-2024-1", "--deed-date", "2024-01-09",
        "--consideration", "2500000",
    )  # fmt: skip
    assert code == 0, output
    assert "entered mutation 1 (sale) in mouza Kot A with 2 line(s)" in output
    code, output = _run("verify", "1", "--mouza", MOUZA, "--on", "2024-01-12")
    assert code == 1 and "refused by rule role" in output  # the patwari may not verify
    sign_in(cli, GIRDAWAR)
    code, output = _run("verify", "1", "--mouza", MOUZA, "--on", "2024-01-12")
    assert code == 0, output
    sign_in(cli, OUTSIDER)
    code, output = _run("sanction", "1", "--mouza", "17", "--on", "2024-02-01")
    assert code == 1
    assert "refused by rule jurisdiction" in output and "Traceback" not in output
    sign_in(cli, TEHSILDAR)
    code, output = _run("sanction", "1", "--mouza", MOUZA, "--on", "2024-02-01")
    assert code == 0, output
    assert "2 share row(s) closed, 3 opened" in output
    assert "Tariq (tehsildar)" in output
    code, output = _run("show", "1", "--mouza", MOUZA, "--json")
    assert code == 0, output
    shown = json.loads(output)
    assert (shown["status"], len(shown["lines"])) == ("sanctioned", 2)
    assert shown["officer_cnic"] == "35202-*******-1"  # masked unless asked
    assert shown["lines"][0]["transferor"] == f"{ALI[:5]}-*******-{ALI[-1]}"
    assert shown["decided_by_account"] == officer(cli.engine, TEHSILDAR).username
    code, output = _run("show", "1", "--mouza", MOUZA, "--json", "--unmasked")
    assert code == 0, output
    assert json.loads(output)["officer_cnic"] == TEHSILDAR
    code, output = _run("show", "1", "--mouza", MOUZA)
    assert "line 2: khewat 1" in output and "sanctioned" in output
    assert ALI not in output
    with cli.engine.connect() as conn:
        logged = conn.execute(
            text(
                "SELECT actor, action, subject, details ->> 'unmasked' FROM access_log ORDER BY id"
            )
        ).all()
    tehsildar = officer(cli.engine, TEHSILDAR).label
    assert [tuple(r) for r in logged] == [
        (tehsildar, "mutation.show", "1", unmasked) for unmasked in ("false", "true", "false")
    ]
    code, output = _run("rebuild", "--mouza", MOUZA)
    assert code == 0, output
    assert "stored shares equal the replay of the register" in output
    code, output = _run("rebuild", "--mouza", MOUZA, "--json")
    assert json.loads(output)["equal"] is True
    code, output = _run("sanction", "1", "--mouza", MOUZA, "--on", "2024-03-01")
    assert code == 1 and "status_transition" in output
    code, output = _run("sanction", "9", "--mouza", MOUZA, "--on", "2024-03-01")
    assert code == 1 and "no mutation 9" in output


def test_cli_sanction_writes_a_signed_checkpoint_when_available(cli: World, tmp_path: Path) -> None:
    from landgov.storage import audit

    mid = entered_and_verified(cli.engine, draft("sale", [(1, ALI, GUL, "1/4")]))
    sign_in(cli, NAIB)
    code, output = _run("sanction", "1", "--mouza", MOUZA, "--on", "2024-02-01")
    assert code == 0, output
    with cli.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM mutation WHERE id = :m"), {"m": mid})
        assert status.scalar_one() == "sanctioned"
    if not hasattr(audit, "write_checkpoint"):  # signed checkpoints not in this landgov
        return
    lines = (tmp_path / "checkpoints.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1
    with cli.engine.connect() as conn:
        actor = conn.execute(
            text("SELECT actor FROM audit_log WHERE action = 'audit.checkpoint'")
        ).scalar_one()
    assert actor == officer(cli.engine, NAIB).label


def test_cli_changes_nothing_without_a_signed_in_person(cli: World) -> None:
    mid = entered_and_verified(cli.engine, draft("sale", [(1, ALI, GUL, "1/4")]))
    before = snapshot(cli.engine)
    for args in (
        ("sanction", "1", "--mouza", MOUZA, "--on", "2024-02-01"),
        ("reject", "1", "--mouza", MOUZA, "--reason", "x"),
        ("verify", "1", "--mouza", MOUZA),
        ("enter", "--type", "sale", "--mouza", MOUZA, "--line", f"{ALI}:{GUL}:1/4@1"),
        ("show", "1", "--mouza", MOUZA),
    ):
        code, output = _run(*args)
        assert code == 1, (args, output)
        assert "not signed in: run 'landgov login' first" in output, output
        assert "Traceback" not in output
    assert snapshot(cli.engine) == before
    # the free-text options are gone: identity only from the session
    for option in ("--officer", "--actor"):
        code, output = _run("sanction", "1", "--mouza", MOUZA, "--on", "2024-02-01", option, "x")
        assert code == 2 and "No such option" in output, output
    with cli.engine.connect() as conn:
        status = conn.execute(text("SELECT status FROM mutation WHERE id = :m"), {"m": mid})
        assert status.scalar_one() == "verified"


def test_cli_refuses_a_session_that_has_ended(cli: World) -> None:
    from landgov.security import logout

    entered_and_verified(cli.engine, draft("sale", [(1, ALI, GUL, "1/4")]))
    sign_in(cli, TEHSILDAR)
    logout(cli.engine, officer(cli.engine, TEHSILDAR).token)
    code, output = _run("sanction", "1", "--mouza", MOUZA, "--on", "2024-02-01")
    assert code == 1 and "session has ended" in output and "Traceback" not in output


def test_cli_inheritance_partition_and_reject(cli: World) -> None:
    sign_in(cli, PATWARI)
    code, output = _run(
        "enter", "--type", "inheritance", "--mouza", MOUZA, "--khewat", "2",
        "--line", f"{DEAD}:{WIFE}:1/2", "--line", f"{DEAD}:{SON}:1/2",
        "--deceased", DEAD, "--heir", f"{WIFE}=wife", "--heir", f"{SON}=son",
        "--entered-on", "2020-09-01",
    )  # fmt: skip
    assert code == 0, output
    assert "flagged (faraid_shares)" in output and "should receive 1/8" in output
    code, output = _run("check-inheritance", "1", "--mouza", MOUZA)
    assert code == 1 and "differs from faraid" in output
    assert WIFE not in output and f"{WIFE[:5]}-*******-{WIFE[-1]}" in output
    sign_in(cli, NAIB)
    code, output = _run(
        "reject", "1", "--mouza", MOUZA, "--on", "2020-09-10",
        "--reason", "Shares differ from faraid",
    )  # fmt: skip
    assert code == 0, output
    sign_in(cli, PATWARI)
    code, output = _run(
        "enter-inheritance", "--mouza", MOUZA, "--deceased", DEAD, "--heir", f"{WIFE}=wife",
        "--heir", f"{SON}=son", "--entered-on", "2020-09-11",
    )  # fmt: skip
    assert code == 0, output
    code, output = _run("check-inheritance", "2", "--mouza", MOUZA)
    assert code == 0 and "agrees with faraid" in output
    code, output = _run(
        "enter-partition", "--mouza", MOUZA, "--khewat", "4", "--khasra", "4",
        "--entered-on", "2024-02-01",
    )  # fmt: skip
    assert code == 0, output
    assert "(partition)" in output
    for cnic, args in (
        (GIRDAWAR, ("verify", "3", "--mouza", MOUZA, "--on", "2024-02-02")),
        (TEHSILDAR, ("sanction", "3", "--mouza", MOUZA, "--on", "2024-03-01")),
    ):
        sign_in(cli, cnic)
        code, output = _run(*args)
        assert code == 0, output
    sign_in(cli, PATWARI)
    code, output = _run("enter", "--type", "sale", "--mouza", MOUZA, "--line", "a:b")
    assert code == 1 and "FROM:TO:SHARE" in output
    code, output = _run("enter", "--type", "sale", "--mouza", MOUZA, "--line", f"{ALI}:{GUL}:0.5@1")
    assert code == 1 and "decimals are not allowed" in output


def test_an_imported_inheritance_without_heirs_cannot_be_sanctioned(world: World) -> None:
    """A register import records no heir kinds: faraid cannot be checked, so no sanction."""
    e = world.engine
    with owner_engine(e).begin() as conn:
        mid = conn.execute(
            text(
                "INSERT INTO mutation (mouza_id, number, type, status, entered_on, verified_on)"
                " VALUES (1, 50, 'inheritance', 'verified', '2020-09-01', '2020-09-02')"
                " RETURNING id"
            )
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO mutation_line (mutation_id, line_no, khewat_id,"
                " transferor_party_id, transferee_party_id, numerator, denominator)"
                " VALUES (:m, 1, :k, :d, :s, 1, 1)"
            ),
            {"m": mid, "k": world.khewat[2], "d": world.party[DEAD], "s": world.party[SON]},
        )
    msg = refused(e, "faraid_shares", mut.sanction, e, mid, actor=officer(e, NAIB), on=ON)
    assert "no inheritance facts" in msg
