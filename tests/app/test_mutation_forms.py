"""The Mutations page: officers enter, verify, sanction and reject through the forms."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from fractions import Fraction

import pytest
from dashboard_support import (
    DASHBOARD,
    TinyHistory,
    database_url,
    insert_tiny_history,
    open_shares,
)
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app import forms

pytest.importorskip("landgov.records.mutations")

PointAt = Callable[[str], None]
OFFICER_IDS = {"tehsildar": 1, "girdawar": 2, "patwari": 3}


@pytest.fixture
def history(engine: Engine, point_app_at: PointAt) -> TinyHistory:
    tiny = insert_tiny_history(engine)
    point_app_at(database_url(engine))
    return tiny


def mutations_page() -> AppTest:
    at = AppTest.from_file(str(DASHBOARD), default_timeout=60).run()
    at.switch_page("views/mutations.py").run()
    ok(at)
    return at


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def act_as(at: AppTest, designation: str) -> AppTest:
    at.selectbox(key=forms.OFFICER_KEY).set_value(OFFICER_IDS[designation]).run()
    ok(at)
    return at


def enter_sale(
    at: AppTest, *, seller: str, buyer: str, share: str, on: date, deed: str = "D-555"
) -> AppTest:
    at.selectbox(key="enter_type").set_value("sale")
    at.date_input(key="enter_on").set_value(on)
    at.selectbox(key="line_0_khewat").set_value(5)
    at.text_input(key="line_0_from").input(seller)
    at.text_input(key="line_0_to").input(buyer)
    at.text_input(key="line_0_share").input(share)
    at.text_input(key="enter_deed_no").input(deed)
    at.date_input(key="enter_deed_date").set_value(on)
    at.number_input(key="enter_consideration").set_value(2_000_000)
    at.button(key="enter_submit").click().run()
    ok(at)
    return at


def decide(at: AppTest, decision: str, on: date) -> AppTest:
    at.date_input(key=f"{decision}_on").set_value(on)
    at.button(key=f"{decision}_submit").click().run()
    ok(at)
    return at


def mutation_row(engine: Engine, number: int) -> tuple[str, date | None, date | None]:
    with engine.connect() as conn:
        status, verified, decided = conn.execute(
            text("SELECT status, verified_on, decided_on FROM mutation WHERE number = :n"),
            {"n": number},
        ).one()
    return str(status), verified, decided


def share_rows(engine: Engine) -> list[tuple[object, ...]]:
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM share ORDER BY id")).all()]


def test_officers_and_pending_mutations_are_listed(history: TinyHistory) -> None:
    at = mutations_page()
    assert [el.value for el in at.title] == ["Mutations (intiqal)"]
    picker = at.selectbox(key=forms.OFFICER_KEY)
    assert "Tariq Mehmood — tehsildar (35202-*******-5)" in picker.options
    assert picker.value is None
    assert at.button(key="enter_submit").disabled  # who acts must be known first
    (pending,) = [f.value for f in at.dataframe]
    assert pending["Mutation"].tolist() == ["4"]
    assert pending["Transfers"].tolist() == [
        "Ahmad Khan s/o Bashir Khan → Bilal Ahmad s/o Rashid Ahmad 1/12"
    ]
    for cnic in (*history.mouza.cnics, history.buyer_cnic, *history.officers.values()):
        assert cnic not in str(at._tree)


def test_enter_verify_sanction_changes_the_shares(history: TinyHistory, engine: Engine) -> None:
    seller, buyer = history.mouza.cnics[1], history.buyer_cnic  # Fatima 2/3 sells 1/3
    at = act_as(mutations_page(), "patwari")
    at = enter_sale(at, seller=seller, buyer=buyer, share="1/3", on=date(2025, 1, 10))
    assert [el.value for el in at.error] == []
    (success,) = [el.value for el in at.success]
    assert "Entered mutation No. 5 (sale) on 2025-01-10" in success
    assert mutation_row(engine, 5) == ("entered", None, None)
    assert (
        at.selectbox(key=forms.PENDING_KEY)
        .format_func(at.selectbox(key=forms.PENDING_KEY).value)
        .startswith("No. 5 · sale · pending (entered)")
    )

    at = decide(act_as(at, "girdawar"), "verify", date(2025, 1, 12))
    assert "Mutation No. 5 verified on 2025-01-12 by Nasir Ali (girdawar)." in [
        el.value for el in at.success
    ]
    assert mutation_row(engine, 5) == ("verified", date(2025, 1, 12), None)

    at = decide(act_as(at, "tehsildar"), "sanction", date(2025, 2, 1))
    assert not at.error, [el.value for el in at.error]
    (success,) = [el.value for el in at.success]
    assert success.startswith("Mutation No. 5 sanctioned on 2025-02-01 by Tariq Mehmood")
    assert mutation_row(engine, 5) == ("sanctioned", date(2025, 1, 12), date(2025, 2, 1))
    assert open_shares(engine, 5) == {
        "Ahmad Khan": Fraction(1, 6),
        "Fatima Bibi": Fraction(1, 3),
        "Bilal Ahmad": Fraction(1, 2),
    }
    # the new owners are shown with the success
    (owners,) = [f.value for f in at.dataframe if "Share of khewat" in f.value.columns]
    assert dict(zip(owners["Name"], owners["Share of khewat"], strict=True)) == {
        "Ahmad Khan": "1/6",
        "Bilal Ahmad": "1/2",
        "Fatima Bibi": "1/3",
    }
    # and the mutation left the pending list
    pending = next(f.value for f in at.dataframe if "Transfers" in f.value.columns)
    assert pending["Mutation"].tolist() == ["4"]


def test_refused_sanction_names_the_rule_and_writes_nothing(
    history: TinyHistory, engine: Engine
) -> None:
    seller, buyer = history.mouza.cnics[0], history.buyer_cnic  # Ahmad holds only 1/6
    at = act_as(mutations_page(), "patwari")
    at = enter_sale(at, seller=seller, buyer=buyer, share="1/2", on=date(2025, 1, 10))
    at = decide(act_as(at, "girdawar"), "verify", date(2025, 1, 12))
    before = share_rows(engine)
    audit_before = _audit_count(engine)

    at = decide(act_as(at, "tehsildar"), "sanction", date(2025, 2, 1))
    (error,) = [el.value for el in at.error]
    assert "transferor_holds_share" in error
    assert "Nothing was written" in error
    assert not at.success
    assert share_rows(engine) == before
    assert _audit_count(engine) == audit_before
    assert mutation_row(engine, 5) == ("verified", date(2025, 1, 12), None)


def test_a_patwari_may_not_sanction(history: TinyHistory, engine: Engine) -> None:
    at = act_as(mutations_page(), "patwari")
    at = enter_sale(
        at, seller=history.mouza.cnics[1], buyer=history.buyer_cnic, share="1/3",
        on=date(2025, 1, 10),
    )  # fmt: skip
    at = decide(act_as(at, "girdawar"), "verify", date(2025, 1, 12))
    at = decide(act_as(at, "patwari"), "sanction", date(2025, 2, 1))
    (error,) = [el.value for el in at.error]
    assert "officer_designation" in error
    assert mutation_row(engine, 5)[0] == "verified"


def test_reject_with_a_reason(history: TinyHistory, engine: Engine) -> None:
    at = act_as(mutations_page(), "tehsildar")
    at.selectbox(key=forms.PENDING_KEY).set_value(4).run()
    at.text_input(key="reject_reason").input("Parties did not appear")
    at = decide(at, "reject", date(2024, 7, 1))
    (success,) = [el.value for el in at.success]
    assert "Mutation No. 4 rejected on 2024-07-01" in success
    assert mutation_row(engine, 4) == ("rejected", None, date(2024, 7, 1))
    assert any("No pending mutation" in el.value for el in at.info)


def test_a_conflict_is_a_warning(
    history: TinyHistory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from landgov.errors import SanctionConflict
    from landgov.records import mutations

    def busy(*_args: object, **_kwargs: object) -> None:
        raise SanctionConflict("khewat 5 is being changed by another sanction; nothing written")

    at = act_as(mutations_page(), "patwari")
    at = enter_sale(
        at, seller=history.mouza.cnics[1], buyer=history.buyer_cnic, share="1/3",
        on=date(2025, 1, 10),
    )  # fmt: skip
    at = decide(act_as(at, "girdawar"), "verify", date(2025, 1, 12))
    monkeypatch.setattr(mutations, "sanction", busy)
    at = decide(act_as(at, "tehsildar"), "sanction", date(2025, 2, 1))
    (warning,) = [el.value for el in at.warning]
    assert "khewat 5 is being changed by another sanction" in warning
    assert not at.error


def test_a_bad_share_is_an_error_before_any_write(history: TinyHistory, engine: Engine) -> None:
    at = act_as(mutations_page(), "patwari")
    at = enter_sale(
        at, seller=history.mouza.cnics[1], buyer=history.buyer_cnic, share="3/2",
        on=date(2025, 1, 10),
    )  # fmt: skip
    (error,) = [el.value for el in at.error]
    assert "3/2" in error
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mutation")).scalar_one() == 4


def _audit_count(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def test_an_inheritance_is_computed_with_faraid(history: TinyHistory, engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE party SET date_of_death = '2024-12-01' WHERE id = 1"))
    at = act_as(mutations_page(), "patwari")
    at.selectbox(key="enter_type").set_value("inheritance").run()
    at.number_input(key="enter_lines").set_value(2).run()
    ok(at)
    at.date_input(key="enter_on").set_value(date(2025, 1, 10))
    at.text_input(key="inh_deceased").input(history.mouza.cnics[0])  # Ahmad Khan, 1/6
    at.selectbox(key="inh_khewat").set_value(5)
    at.text_input(key="heir_0_cnic").input(history.mouza.cnics[1])
    at.selectbox(key="heir_0_kind").set_value("wife")
    at.text_input(key="heir_1_cnic").input(history.buyer_cnic)
    at.selectbox(key="heir_1_kind").set_value("son")
    at.button(key="enter_submit").click().run()
    ok(at)
    assert not at.error, [el.value for el in at.error]
    assert "Entered mutation No. 5 (inheritance)" in at.success[0].value
    with engine.connect() as conn:
        lines = conn.execute(
            text(
                "SELECT p.name, l.numerator, l.denominator FROM mutation_line l"
                " JOIN mutation m ON m.id = l.mutation_id JOIN party p"
                " ON p.id = l.transferee_party_id WHERE m.number = 5 ORDER BY p.name"
            )
        ).all()
    # wife 1/8 and son 7/8 of Ahmad's 1/6
    assert [(n, Fraction(a, b)) for n, a, b in lines] == [
        ("Bilal Ahmad", Fraction(7, 48)),
        ("Fatima Bibi", Fraction(1, 48)),
    ]
