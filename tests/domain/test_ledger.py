"""The khewat ledger (pure): each mutation type's effect, each rule, and the replay."""

from __future__ import annotations

import itertools
import random
from datetime import date, timedelta
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from landgov.domain import ledger
from landgov.domain.ledger import Line, ReplayMutation, SharePeriod
from landgov.errors import InvalidHeirs, SanctionRefused

F = Fraction
OWN = "ownership"
MWP = "mortgage_with_possession"
A, B, C, D = 1, 2, 3, 4
K = 10
START = {(A, OWN): F(1, 2), (B, OWN): F(1, 4), (C, OWN): F(1, 4)}


def refuse(rule: str, holdings: dict[ledger.Key, Fraction], lines: list[Line], mtype: str) -> str:
    with pytest.raises(SanctionRefused) as info:
        ledger.apply_lines(holdings, lines, mutation_type=mtype, label="khewat 7")
    assert info.value.rule == rule
    return info.value.message


# --- apply_lines ------------------------------------------------------------------------------


@pytest.mark.parametrize("mtype", ["sale", "gift", "court_decree", "exchange", "inheritance"])
def test_transfer_moves_ownership(mtype: str) -> None:
    new = ledger.apply_lines(START, [Line(K, A, D, F(1, 4))], mutation_type=mtype)
    assert new == {(A, OWN): F(1, 4), (B, OWN): F(1, 4), (C, OWN): F(1, 4), (D, OWN): F(1, 4)}
    assert START[(A, OWN)] == F(1, 2)  # the input is not changed


def test_whole_share_leaves_no_zero_holding() -> None:
    new = ledger.apply_lines(START, [Line(K, B, C, F(1, 4))], mutation_type="sale")
    assert new == {(A, OWN): F(1, 2), (C, OWN): F(1, 2)}


def test_inheritance_divides_exactly() -> None:
    lines = [Line(K, A, B, F(1, 16)), Line(K, A, C, F(7, 24)), Line(K, A, D, F(7, 48))]
    new = ledger.apply_lines(START, lines, mutation_type="inheritance")
    assert new == {(B, OWN): F(5, 16), (C, OWN): F(13, 24), (D, OWN): F(7, 48)}
    assert sum(new.values()) == 1


def test_mortgage_and_redemption() -> None:
    mortgaged = ledger.apply_lines(START, [Line(K, A, D, F(1, 2), MWP)], mutation_type="mortgage")
    assert mortgaged == {**START, (D, MWP): F(1, 2)}
    redeemed = ledger.apply_lines(
        mortgaged, [Line(K, D, A, F(1, 2), MWP)], mutation_type="redemption"
    )
    assert redeemed == START


def test_lease_by_all_owners() -> None:
    lines = [Line(K, p, D, START[(p, OWN)], "lease") for p in (A, B, C)]
    assert ledger.apply_lines(START, lines, mutation_type="lease")[(D, "lease")] == 1


def test_partition_lines() -> None:
    new_khewat = ledger.apply_lines({}, [Line(11, None, A, F(1))], mutation_type="partition")
    assert new_khewat == {(A, OWN): F(1)}
    closing = [Line(K, p, None, s) for (p, _), s in START.items()]
    assert ledger.apply_lines(START, closing, mutation_type="partition") == {}


def test_transferor_must_hold_what_all_lines_give() -> None:
    msg = refuse("transferor_holds_share", START, [Line(K, B, D, F(1, 2))], "sale")
    assert "party 2 holds 1/4 ownership of khewat 7 but transfers 1/2" in msg
    refuse(
        "transferor_holds_share",
        START,
        [Line(K, B, D, F(1, 8)), Line(K, B, A, F(1, 8)), Line(K, B, C, F(1, 64))],
        "sale",
    )
    refuse("transferor_holds_share", START, [Line(K, D, A, F(1, 8))], "gift")


def test_names_in_messages() -> None:
    with pytest.raises(SanctionRefused) as info:
        ledger.apply_lines(
            START, [Line(K, B, D, F(1, 2))], mutation_type="sale", names={B: "Bilal (35401-...)"}
        )
    assert "Bilal (35401-...) holds 1/4" in str(info.value)


def test_shares_must_sum_to_one() -> None:
    msg = refuse("khewat_sums_to_one", START, [Line(K, None, D, F(1, 4))], "court_decree")
    assert "5/4" in msg and "over-allocated" in msg
    msg = refuse("khewat_sums_to_one", START, [Line(K, A, None, F(1, 4))], "sale")
    assert "3/4" in msg and "under-allocated" in msg
    # a partition may close a khewat only entirely, with nothing else left open on it
    refuse("khewat_sums_to_one", START, [Line(K, A, None, F(1, 2))], "partition")
    with_lease = {**START, (D, "lease"): F(1, 4)}
    closing = [Line(K, p, None, s) for (p, _), s in START.items()]
    refuse("khewat_sums_to_one", with_lease, closing, "partition")


def test_a_broken_khewat_cannot_be_changed_until_corrected() -> None:
    broken = {(A, OWN): F(1, 2), (B, OWN): F(1, 3)}
    refuse("khewat_sums_to_one", broken, [Line(K, A, C, F(1, 2))], "sale")
    fixed = ledger.apply_lines(broken, [Line(K, None, C, F(1, 6))], mutation_type="court_decree")
    assert sum(fixed.values()) == 1


def test_mortgage_rules() -> None:
    msg = refuse("transferor_holds_share", START, [Line(K, B, D, F(1, 2), MWP)], "mortgage")
    assert "encumbers" in msg
    refuse("line_shape", START, [Line(K, A, D, F(1, 2))], "mortgage")  # an ownership line
    twice = ledger.apply_lines(START, [Line(K, A, D, F(1, 2), MWP)], mutation_type="mortgage")
    twice = ledger.apply_lines(twice, [Line(K, B, C, F(1, 4), MWP)], mutation_type="mortgage")
    refuse("encumbrance_exceeds_ownership", twice, [Line(K, A, B, F(1, 2), MWP)], "mortgage")
    refuse("transferor_holds_share", twice, [Line(K, D, A, F(3, 4), MWP)], "redemption")
    refuse("line_shape", twice, [Line(K, D, A, F(1, 4))], "redemption")


@pytest.mark.parametrize(
    "line",
    [
        Line(K, A, D, F(0)),
        Line(K, A, D, F(5, 4)),
        Line(K, None, None, F(1, 4)),
        Line(K, A, A, F(1, 4)),
        Line(K, A, D, F(1, 4), "tenancy"),
        Line(K, A, D, 0.25),  # type: ignore[arg-type]
    ],
)
def test_line_shape(line: Line) -> None:
    refuse("line_shape", START, [line], "sale")


def test_lease_lines_need_a_lease_right_and_both_parties() -> None:
    refuse("line_shape", START, [Line(K, A, D, F(1, 4), MWP)], "lease")
    refuse("line_shape", START, [Line(K, None, D, F(1, 4), "lease")], "lease")


# --- the other rules -------------------------------------------------------------------------


def test_transferor_alive_on_the_deed_date() -> None:
    died = {A: date(2020, 6, 1), B: None}
    lines = [Line(K, A, D, F(1, 4)), Line(K, B, D, F(1, 8))]
    kwargs = {"mutation_type": "sale", "entered_on": date(2020, 7, 1), "dates_of_death": died}
    ledger.check_alive(lines, deed_date=date(2020, 5, 31), **kwargs)  # type: ignore[arg-type]
    for deed in (date(2020, 6, 1), date(2020, 6, 2)):  # the day of death is refused too
        with pytest.raises(SanctionRefused) as info:
            ledger.check_alive(lines, deed_date=deed, **kwargs)  # type: ignore[arg-type]
        assert info.value.rule == "transferor_alive_on_deed_date"
        assert "died on 2020-06-01" in str(info.value)
    with pytest.raises(SanctionRefused, match="entry date"):
        ledger.check_alive(lines, deed_date=None, **kwargs)  # type: ignore[arg-type]
    ledger.check_alive(
        lines, mutation_type="inheritance", deed_date=None, entered_on=date(2021, 1, 1),
        dates_of_death=died,
    )  # fmt: skip


def test_status_transitions() -> None:
    for current, target in [("entered", "verified"), ("verified", "sanctioned"),
                            ("entered", "rejected"), ("verified", "rejected")]:  # fmt: skip
        ledger.check_transition(current, target)
    for current, target in [("entered", "sanctioned"), ("sanctioned", "rejected"),
                            ("rejected", "verified"), ("verified", "verified")]:  # fmt: skip
        with pytest.raises(SanctionRefused) as info:
            ledger.check_transition(current, target, label="mutation 5")
        assert info.value.rule == "status_transition"
        assert "mutation 5 is" in str(info.value)


def test_decision_dates() -> None:
    day = date(2024, 2, 1)
    ledger.check_decision_date(
        day, entered_on=day, verified_on=day, latest_change=day.replace(day=1) - timedelta(days=1)
    )
    for kwargs in (
        {"entered_on": day + timedelta(days=1)},
        {"entered_on": day, "verified_on": day + timedelta(days=1)},
        {"entered_on": day, "latest_change": day},
        {"entered_on": day, "latest_change": day + timedelta(days=3)},
    ):
        with pytest.raises(SanctionRefused) as info:
            ledger.check_decision_date(day, **kwargs)  # type: ignore[arg-type]
        assert info.value.rule == "sanction_date_order"


# --- inheritance helpers ------------------------------------------------------------------


def test_heirs_from_kinds_and_faraid_expected() -> None:
    heirs, pre = ledger.heirs_from_kinds(["wife", "son", "daughter", "daughter"])
    assert (heirs.wife, heirs.son, heirs.daughter, pre) == (1, 1, 2, [])
    expected = ledger.faraid_expected({K: F(1, 2), 11: F(1)}, {A: "wife", B: "son", C: "daughter"})
    assert expected == {
        (K, A): F(1, 16), (K, B): F(7, 24), (K, C): F(7, 48),
        (11, A): F(1, 8), (11, B): F(7, 12), (11, C): F(7, 24),
    }  # fmt: skip
    # an excluded heir gets nothing
    assert (K, D) not in ledger.faraid_expected({K: F(1)}, {B: "son", D: "full_brother"})


def test_predeceased_children_by_kind() -> None:
    kinds = {A: "wife", B: "daughter", C: "predeceased_son_1.son", D: "predeceased_son_1.daughter"}
    expected = ledger.faraid_expected({K: F(1)}, kinds)
    assert sum(expected.values()) == 1
    assert expected[(K, C)] == 2 * expected[(K, D)]
    with pytest.raises(InvalidHeirs, match="numbered"):
        ledger.heirs_from_kinds(["predeceased_son_2.son"])
    with pytest.raises(InvalidHeirs, match="predeceased"):
        ledger.heirs_from_kinds(["predeceased_uncle_1.son"])


def test_bait_ul_mal_needs_a_state_party() -> None:
    with pytest.raises(InvalidHeirs, match="bait-ul-mal"):
        ledger.faraid_expected({K: F(1)}, {A: "wife"}, school="jafari")
    got = ledger.faraid_expected({K: F(1)}, {A: "wife"}, school="jafari", bait_ul_mal_party=99)
    assert got == {(K, A): F(1, 4), (K, 99): F(3, 4)}


# --- rebuild -----------------------------------------------------------------------------------

SETTLED = date(2002, 1, 1)


def _initial(holdings: dict[int, dict[ledger.Key, Fraction]]) -> list[SharePeriod]:
    return [
        SharePeriod(k, p, r, s.numerator, s.denominator, SETTLED, None, None, None)
        for k, h in holdings.items()
        for (p, r), s in h.items()
    ]


def test_rebuild_writes_rows_as_the_share_table_holds_them() -> None:
    muts = [
        ReplayMutation(1, date(2010, 1, 1), "sale", [Line(K, A, D, F(1, 4))]),
        ReplayMutation(2, date(2011, 1, 1), "mortgage", [Line(K, B, A, F(1, 4), MWP)]),
        ReplayMutation(3, date(2012, 1, 1), "redemption", [Line(K, A, B, F(1, 4), MWP)]),
    ]
    result = ledger.rebuild(_initial({K: START}), muts)
    assert result.issues == []
    assert sorted(result.periods) == sorted([
        SharePeriod(K, A, OWN, 1, 2, SETTLED, date(2010, 1, 1), None, 1),
        SharePeriod(K, A, OWN, 1, 4, date(2010, 1, 1), None, 1, None),
        SharePeriod(K, D, OWN, 1, 4, date(2010, 1, 1), None, 1, None),
        SharePeriod(K, B, OWN, 1, 4, SETTLED, None, None, None),
        SharePeriod(K, C, OWN, 1, 4, SETTLED, None, None, None),
        SharePeriod(K, A, MWP, 1, 4, date(2011, 1, 1), date(2012, 1, 1), 2, 3),
    ])  # fmt: skip


def test_rebuild_is_lenient_and_reports_what_a_sanction_would_refuse() -> None:
    muts = [
        ReplayMutation(1, date(2010, 1, 1), "sale", [Line(K, B, D, F(1, 2))]),
        ReplayMutation(2, date(2010, 1, 1), "sale", [Line(K, A, C, F(1, 8))]),
    ]
    result = ledger.rebuild(_initial({K: START}), muts)
    rules = [(i.mutation_id, i.rule) for i in result.issues]
    assert (1, "transferor_holds_share") in rules and (1, "khewat_sums_to_one") in rules
    assert (2, "sanction_date_order") in rules
    final = {(p.party_id, p.right_type): p.share for p in result.periods if p.valid_to is None}
    # as the demo records it: the seller stops at 0, the buyer gets what the line says
    assert final == {(A, OWN): F(3, 8), (C, OWN): F(3, 8), (D, OWN): F(1, 2)}
    # a row opened and closed on one day is not a period
    assert all(p.valid_from < p.valid_to for p in result.periods if p.valid_to is not None)


def test_rebuild_rescales_denominators_exactly() -> None:
    muts = [
        ReplayMutation(i, date(2010, 1, 1) + timedelta(days=i), "sale",
                       [Line(K, A, B, F(1, 2 * 3**i) - F(1, 2 * 3 ** (i + 1)))])
        for i in range(1, 30)
    ]  # fmt: skip
    result = ledger.rebuild(_initial({K: {(A, OWN): F(1, 2), (B, OWN): F(1, 2)}}), muts)
    assert result.issues == []
    final = {p.party_id: p.share for p in result.periods if p.valid_to is None}
    assert final[A] + final[B] == 1
    assert final[A] == F(1, 2) - sum(F(1, 2 * 3**i) - F(1, 2 * 3 ** (i + 1)) for i in range(1, 30))
    for p in result.periods:
        assert F(p.numerator, p.denominator).denominator == p.denominator  # lowest terms


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 2**32))
def test_rebuild_agrees_with_apply_lines(seed: int) -> None:
    """Random valid mutations over a few khewats: the replay's open rows equal the
    holdings that apply_lines computes step by step, and its periods tile time."""
    rnd = random.Random(seed)
    state = {k: {(p, OWN): F(1, 4) for p in range(4)} for k in range(3)}
    initial = _initial(state)
    muts = []
    day = date(2005, 1, 1)
    for mid in range(1, 40):
        day += timedelta(days=rnd.randint(1, 30))
        k = rnd.randrange(3)
        held = state[k]
        mtype = rnd.choice(["sale", "gift", "mortgage", "redemption", "lease", "exchange"])
        owners = [p for (p, r) in held if r == OWN]
        src = rnd.choice(owners)
        dst = rnd.choice([p for p in range(6) if p != src])
        own = held[(src, OWN)]
        if mtype == "mortgage":
            lines = [Line(k, src, dst, own * F(1, rnd.randint(1, 3)), MWP)]
        elif mtype == "lease":
            lines = [
                Line(k, p, dst, s, "lease") for (p, r), s in held.items() if r == OWN and p != dst
            ]
        elif mtype == "redemption":
            rights = [(p, s) for (p, r), s in held.items() if r == MWP]
            if not rights:
                continue
            holder, s = rnd.choice(rights)
            lines = [Line(k, holder, src, s * F(1, rnd.randint(1, 2)), MWP)]
        elif mtype == "exchange":
            k2 = (k + 1) % 3
            other = rnd.choice([p for (p, r) in state[k2] if r == OWN])
            if other == src:
                continue
            lines = [Line(k, src, other, own), Line(k2, other, src, state[k2][(other, OWN)])]
        else:
            lines = [Line(k, src, dst, own * F(rnd.randint(1, 3), 3))]
        try:
            new = {
                kid: ledger.apply_lines(state[kid], [ln for ln in lines if ln.khewat_id == kid],
                                        mutation_type=mtype)
                for kid in {ln.khewat_id for ln in lines}
            }  # fmt: skip
        except SanctionRefused:
            continue
        state.update(new)
        muts.append(ReplayMutation(mid, day, mtype, lines))
    result = ledger.rebuild(initial, muts)
    assert result.issues == []
    final: dict[int, dict[ledger.Key, Fraction]] = {}
    for p in result.periods:
        if p.valid_to is None:
            final.setdefault(p.khewat_id, {})[(p.party_id, p.right_type)] = p.share
    assert {k: v for k, v in state.items() if v} == final
    # the periods of each holding do not overlap
    spans: dict[tuple[int, int, str], list[tuple[date, date]]] = {}
    for p in result.periods:
        spans.setdefault((p.khewat_id, p.party_id, p.right_type), []).append(
            (p.valid_from, p.valid_to or date.max)
        )
    for rows in spans.values():
        rows.sort()
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(rows))


def test_timeline_and_compare_ignore_how_rows_are_split() -> None:
    one = [SharePeriod(K, D, "lease", 1, 1, date(2010, 1, 1), None, 5, None)]
    split = [
        SharePeriod(K, D, "lease", 1, 2, date(2010, 1, 1), None, 5, None),
        SharePeriod(K, D, "lease", 1, 4, date(2010, 1, 1), None, 5, None),
        SharePeriod(K, D, "lease", 1, 4, date(2010, 1, 1), None, 5, None),
    ]
    assert ledger.compare_periods(one, split) == {}
    later = [SharePeriod(K, D, "lease", 1, 1, date(2010, 2, 1), None, 5, None)]
    assert ledger.compare_periods(one, later) == {K: date(2010, 1, 1)}
    assert ledger.compare_periods(one, []) == {K: None}
    closed = [
        SharePeriod(K, D, "lease", 1, 1, date(2010, 1, 1), date(2011, 1, 1), 5, 6),
    ]
    assert ledger.compare_periods(one, closed) == {K: date(2011, 1, 1)}


def test_holdings_from_rows_adds_rows_of_one_holding() -> None:
    rows = [(D, "lease", 1, 2), (D, "lease", 1, 4), (A, OWN, 2, 4)]
    assert ledger.holdings_from_rows(rows) == {(D, "lease"): F(3, 4), (A, OWN): F(1, 2)}
