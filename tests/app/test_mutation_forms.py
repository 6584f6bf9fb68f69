"""The Mutations page: officers enter, verify, sanction and reject through the forms,
register a new buyer, and see a sale's price check; every action is confirmed the same
way (a banner and a toast, :mod:`app.shared.feedback`)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from dashboard_support import (
    TinyHistory,
    database_url,
    insert_tiny_history,
    open_shares,
    owner,
    sign_in,
)
from security_support import officer_actor, service_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.shared import i18n
from app.views.mutations import forms
from landgov.records.pricing import price_check

pytest.importorskip("landgov.records.mutations")

PointAt = Callable[[str], None]
TODAY = date.today()
DAY = i18n.long_date(TODAY, "en")  # how the page writes today in English


@pytest.fixture
def history(engine: Engine, point_app_at: PointAt) -> TinyHistory:
    tiny = insert_tiny_history(engine)
    point_app_at(database_url(engine))
    return tiny


def ok(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def mutations_page(engine: Engine, history: TinyHistory, designation: str) -> AppTest:
    """A new browser session signed in as the tiny mouza's officer of ``designation``, on
    the Mutations page."""
    at = sign_in(engine, officer_actor(engine, history.officers[designation]))
    at.switch_page("views/mutations/view.py").run()
    ok(at)
    assert [el.value for el in at.title] == ["Mutations (intiqal)"]
    return at


def enter_sale(
    at: AppTest,
    *,
    seller: str,
    buyer: str,
    share: str,
    on: date = TODAY,
    deed: str = "D-555",
    price: int | None = 2_000_000,
) -> AppTest:
    at.selectbox(key="enter_type").set_value("sale")
    at.date_input(key="enter_on").set_value(on)
    at.selectbox(key="line_0_khewat").set_value(5)
    at.text_input(key="line_0_from").input(seller)
    at.text_input(key="line_0_to").input(buyer)
    at.text_input(key="line_0_share").input(share)
    at.text_input(key="enter_deed_no").input(deed)
    at.date_input(key="enter_deed_date").set_value(on)
    at.number_input(key="enter_consideration").set_value(price)
    at.button(key="enter_submit").click().run()
    ok(at)
    return at


def mutation_count(engine: Engine) -> int:
    with owner(engine).connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM mutation")).scalar_one())


def decide(at: AppTest, decision: str, on: date = TODAY) -> AppTest:
    at.date_input(key=f"{decision}_on").set_value(on)
    at.button(key=f"{decision}_submit").click().run()
    ok(at)
    return at


def mutation_row(engine: Engine, number: int) -> tuple[str, date | None, date | None]:
    with owner(engine).connect() as conn:
        status, verified, decided = conn.execute(
            text("SELECT status, verified_on, decided_on FROM mutation WHERE number = :n"),
            {"n": number},
        ).one()
    return str(status), verified, decided


def share_rows(engine: Engine) -> list[tuple[object, ...]]:
    with owner(engine).connect() as conn:
        return [tuple(r) for r in conn.execute(text("SELECT * FROM share ORDER BY id")).all()]


def test_the_page_acts_as_the_signed_in_officer(history: TinyHistory, engine: Engine) -> None:
    at = mutations_page(engine, history, "patwari")
    assert not [w for w in at.selectbox if w.label == "Officer"]  # nobody to pick
    assert any(
        "Signed in as Shafqat Hussain (patwari): you may enter mutations" in el.value
        for el in at.caption
    )
    assert not at.button(key="enter_submit").disabled
    (pending,) = [f.value for f in at.dataframe]
    assert pending["Mutation"].tolist() == ["4"]
    assert pending["Transfers"].tolist() == [
        "Ahmad Khan s/o Bashir Khan → Bilal Ahmad s/o Rashid Ahmad 1/12"
    ]
    # a patwari decides nothing: no verify, sanction or reject form
    at.selectbox(key=forms.PENDING_KEY).set_value(4).run()
    ok(at)
    for step in ("verify", "sanction", "reject"):
        assert not [b for b in at.button if b.key == f"{step}_submit"]
    for cnic in (*history.mouza.cnics, history.buyer_cnic, *history.officers.values()):
        assert cnic not in str(at._tree)


def test_the_page_says_it_is_as_of_today(history: TinyHistory, engine: Engine) -> None:
    at = mutations_page(engine, history, "patwari")
    assert any(el.value.startswith("As of today") for el in at.caption)
    at.sidebar.date_input(key="as_of").set_value(date(2015, 1, 1)).run()
    ok(at)
    (note,) = [el.value for el in at.info if "as of today" in el.value]
    assert "1 Jan 2015" in note and "not here" in note


def test_only_the_mouzas_of_the_jurisdiction_are_offered(
    history: TinyHistory, engine: Engine
) -> None:
    with owner(engine).begin() as conn:  # a mouza in another tehsil: not his charge
        conn.execute(
            text(
                "INSERT INTO admin_unit (id, level, name, parent_id) VALUES"
                " (9, 'tehsil', 'Chunian', 2);"
                "INSERT INTO mouza (id, tehsil_id, name, hadbast_number)"
                " VALUES (2, 9, 'Aaa Elsewhere', 3)"
            )
        )
    at = mutations_page(engine, history, "tehsildar")
    mouza = at.sidebar.selectbox(key="mouza_id")
    assert mouza.options == [history.mouza.label]
    assert any("tehsil Raiwind (since 2000-01-01)" in el.value for el in at.sidebar.caption)
    # the Parcels page reads every mouza (reads are open); Mutations offers only his
    at.switch_page("views/parcels/view.py").run()
    ok(at)
    mouza = at.sidebar.selectbox(key="mouza_id")
    assert len(mouza.options) == 2
    mouza.set_value(2).run()  # a mouza he may read but not change
    ok(at)
    at.switch_page("views/mutations/view.py").run()
    ok(at)
    assert at.sidebar.selectbox(key="mouza_id").value == history.mouza.mouza_id
    assert any("Mouza Kot Test" in el.value for el in at.caption)


def test_enter_verify_sanction_changes_the_shares(history: TinyHistory, engine: Engine) -> None:
    seller, buyer = history.mouza.cnics[1], history.buyer_cnic  # Fatima 2/3 sells 1/3
    at = enter_sale(mutations_page(engine, history, "patwari"), seller=seller, buyer=buyer,
                    share="1/3")  # fmt: skip
    assert [el.value for el in at.error] == []
    (success,) = [el.value for el in at.success]
    assert f"Entered mutation No. 5 (sale) on {DAY}" in success
    assert mutation_row(engine, 5) == ("entered", None, None)
    assert (
        at.selectbox(key=forms.PENDING_KEY)
        .format_func(at.selectbox(key=forms.PENDING_KEY).value)
        .startswith("No. 5 · sale · pending (entered)")
    )

    at = mutations_page(engine, history, "girdawar")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    assert not [b for b in at.button if b.key in ("sanction_submit", "reject_submit")]
    at = decide(at, "verify")
    assert f"Mutation No. 5 verified on {DAY} by Nasir Ali (girdawar)." in [
        el.value for el in at.success
    ]
    assert mutation_row(engine, 5) == ("verified", TODAY, None)

    at = mutations_page(engine, history, "tehsildar")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    at = decide(at, "sanction")
    assert not at.error, [el.value for el in at.error]
    (success,) = [el.value for el in at.success]
    assert success.startswith(f"Mutation No. 5 sanctioned on {DAY} by Tariq Mehmood")
    assert mutation_row(engine, 5) == ("sanctioned", TODAY, TODAY)
    assert open_shares(engine, 5) == {
        "Ahmad Khan": Fraction(1, 6),
        "Fatima Bibi": Fraction(1, 3),
        "Bilal Ahmad": Fraction(1, 2),
    }
    # the new owners are shown with the success (in full to the mouza's tehsildar)
    (owners,) = [f.value for f in at.dataframe if "Share of khewat" in f.value.columns]
    assert dict(zip(owners["Name"], owners["Share of khewat"], strict=True)) == {
        "Ahmad Khan": "1/6",
        "Bilal Ahmad": "1/2",
        "Fatima Bibi": "1/3",
    }
    assert buyer in owners["CNIC"].tolist()
    # and the mutation left the pending list
    pending = next(f.value for f in at.dataframe if "Transfers" in f.value.columns)
    assert pending["Mutation"].tolist() == ["4"]
    # who did each step is the signed-in account, not a name typed on the page
    with owner(engine).connect() as conn:
        by = conn.execute(
            text(
                "SELECT e.username, v.username, d.username FROM mutation m"
                " JOIN app_user e ON e.id = m.entered_by_user"
                " JOIN app_user v ON v.id = m.verified_by_user"
                " JOIN app_user d ON d.id = m.decided_by_user WHERE m.number = 5"
            )
        ).one()
    officers = [officer_actor(engine, history.officers[d]).username
                for d in ("patwari", "girdawar", "tehsildar")]  # fmt: skip
    assert list(by) == officers


def test_refused_sanction_names_the_rule_and_writes_nothing(
    history: TinyHistory, engine: Engine
) -> None:
    seller, buyer = history.mouza.cnics[0], history.buyer_cnic  # Ahmad holds only 1/6
    enter_sale(mutations_page(engine, history, "patwari"), seller=seller, buyer=buyer, share="1/2")
    at = mutations_page(engine, history, "girdawar")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    decide(at, "verify")
    before = share_rows(engine)
    audit_before = _audit_count(engine)

    at = mutations_page(engine, history, "tehsildar")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    at = decide(at, "sanction")
    (error,) = [el.value for el in at.error]
    assert "transferor_holds_share" in error
    assert "Nothing was written" in error
    assert not at.success
    assert share_rows(engine) == before
    assert _audit_count(engine) == audit_before
    assert mutation_row(engine, 5) == ("verified", TODAY, None)


def test_who_verified_may_not_sanction_and_no_date_in_the_future(
    history: TinyHistory, engine: Engine
) -> None:
    enter_sale(mutations_page(engine, history, "patwari"), seller=history.mouza.cnics[1],
               buyer=history.buyer_cnic, share="1/3")  # fmt: skip
    at = mutations_page(engine, history, "tehsildar")  # he may verify, and does
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    at = decide(at, "verify")
    assert mutation_row(engine, 5) == ("verified", TODAY, None)

    at = decide(at, "sanction")  # the same officer: refused by separation of duties
    (error,) = [el.value for el in at.error]
    assert "rule `separation_of_duties`" in error and "Nothing was written" in error
    assert mutation_row(engine, 5)[0] == "verified"

    at.text_input(key="reject_reason").input("Parties did not appear")
    at = decide(at, "reject", TODAY + timedelta(days=1))
    (error,) = [el.value for el in at.error]
    assert "rule `future_date`" in error
    assert mutation_row(engine, 5) == ("verified", TODAY, None)


def test_reject_with_a_reason(history: TinyHistory, engine: Engine) -> None:
    at = mutations_page(engine, history, "tehsildar")
    at.selectbox(key=forms.PENDING_KEY).set_value(4).run()
    at.text_input(key="reject_reason").input("Parties did not appear")
    at = decide(at, "reject")
    (success,) = [el.value for el in at.success]
    assert f"Mutation No. 4 rejected on {DAY}" in success
    assert mutation_row(engine, 4) == ("rejected", None, TODAY)
    assert any("No pending mutation" in el.value for el in at.info)


def test_a_back_dated_rejection_beyond_the_window_is_refused(
    history: TinyHistory, engine: Engine
) -> None:
    at = mutations_page(engine, history, "tehsildar")
    at.selectbox(key=forms.PENDING_KEY).set_value(4).run()
    at.text_input(key="reject_reason").input("Parties did not appear")
    at = decide(at, "reject", TODAY - timedelta(days=30))
    (error,) = [el.value for el in at.error]
    assert "rule `backdate_window`" in error
    assert mutation_row(engine, 4) == ("entered", None, None)


def test_an_analyst_has_no_mutations_page(history: TinyHistory, engine: Engine) -> None:
    at = sign_in(engine, staff_actor(engine, "revenue_analyst"))
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("views/mutations/view.py")


def test_a_conflict_is_a_warning(
    history: TinyHistory, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from landgov.errors import SanctionConflict
    from landgov.records import mutations

    def busy(*_args: object, **_kwargs: object) -> None:
        raise SanctionConflict("khewat 5 is being changed by another sanction; nothing written")

    with owner(engine).begin() as conn:  # mutation 4 verified (as if by the girdawar)
        conn.execute(
            text("UPDATE mutation SET status = 'verified', verified_on = :d WHERE number = 4"),
            {"d": TODAY},
        )
    at = mutations_page(engine, history, "tehsildar")
    at.selectbox(key=forms.PENDING_KEY).set_value(4).run()
    monkeypatch.setattr(mutations, "sanction", busy)
    at = decide(at, "sanction")
    (warning,) = [el.value for el in at.warning]
    assert "khewat 5 is being changed by another sanction" in warning
    assert not at.error


def test_a_bad_share_is_an_error_before_any_write(history: TinyHistory, engine: Engine) -> None:
    at = enter_sale(mutations_page(engine, history, "patwari"), seller=history.mouza.cnics[1],
                    buyer=history.buyer_cnic, share="3/2")  # fmt: skip
    (error,) = [el.value for el in at.error]
    assert "3/2" in error
    with owner(engine).connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM mutation")).scalar_one() == 4


def _audit_count(engine: Engine) -> int:
    with owner(engine).connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def test_an_inheritance_is_computed_with_faraid(history: TinyHistory, engine: Engine) -> None:
    with owner(engine).begin() as conn:
        conn.execute(text("UPDATE party SET date_of_death = '2024-12-01' WHERE id = 1"))
    at = mutations_page(engine, history, "patwari")
    at.selectbox(key="enter_type").set_value("inheritance").run()
    at.number_input(key="enter_lines").set_value(2).run()
    ok(at)
    at.date_input(key="enter_on").set_value(TODAY)
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
    with owner(engine).connect() as conn:
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


# --- hard to get wrong (issue 19) -------------------------------------------------------------


def test_a_sale_needs_a_price_and_the_form_says_so(history: TinyHistory, engine: Engine) -> None:
    at = mutations_page(engine, history, "patwari")
    assert at.number_input(key="enter_consideration").label.startswith(
        "Declared price (Rs) — required for a sale"
    )
    at = enter_sale(at, seller=history.mouza.cnics[1], buyer=history.buyer_cnic, share="1/3",
                    price=None)  # fmt: skip
    (error,) = [el.value for el in at.error]
    assert "a sale needs its declared price" in error and "Nothing was written" in error
    assert mutation_count(engine) == 4
    # the typed values stay, to be corrected
    assert at.text_input(key="line_0_share").value == "1/3"


def test_the_form_empties_after_a_success_and_a_second_click_enters_nothing(
    history: TinyHistory, engine: Engine
) -> None:
    seller, buyer = history.mouza.cnics[1], history.buyer_cnic
    at = enter_sale(mutations_page(engine, history, "patwari"), seller=seller, buyer=buyer,
                    share="1/3", deed="SKP-2026-99998")  # fmt: skip
    (success,) = [el.value for el in at.success]
    assert "Entered mutation No. 5 (sale)" in success
    assert [t.value for t in at.toast] == ["**Mutation No. 5 entered**"]
    for key in ("line_0_from", "line_0_to", "line_0_share", "enter_deed_no"):
        assert at.text_input(key=key).value == "", key
    assert at.number_input(key="enter_consideration").value is None
    assert at.selectbox(key="enter_type").value == "sale"  # what stays: type and date
    # a click on the emptied form enters nothing and keeps the success
    at.button(key="enter_submit").click().run()
    ok(at)
    assert not at.error and "Entered mutation No. 5 (sale)" in at.success[0].value
    assert "The form is empty: nothing was entered." in [t.value for t in at.toast]
    # a second click carries the values the form had when it was clicked
    at = enter_sale(at, seller=seller, buyer=buyer, share="1/3", deed="SKP-2026-99998")
    assert not at.error, [el.value for el in at.error]
    (success,) = [el.value for el in at.success]
    assert "Entered mutation No. 5 (sale)" in success
    assert "A second click changed nothing" in success
    assert mutation_count(engine) == 5
    # the same deed with other lines is another entry of one deed: refused, naming No. 5
    at = enter_sale(at, seller=seller, buyer=buyer, share="1/6", deed=" skp-2026-99998")
    (error,) = [el.value for el in at.error]
    assert "deed skp-2026-99998 of" in error.lower()
    assert "already entered as mutation No. 5 of mouza Kot Test" in error
    assert mutation_count(engine) == 5


def test_a_new_buyer_is_registered_from_the_entry_tab(history: TinyHistory, engine: Engine) -> None:
    new_buyer = "35202-2222222-3"
    at = mutations_page(engine, history, "patwari")
    at.text_input(key="party_name").input("Imran  Ali")
    at.selectbox(key="party_relation").set_value("son_of")
    at.text_input(key="party_guardian").input("Akbar Ali")
    at.text_input(key="party_cnic").input("3520222222223")
    at.button(key="party_submit").click().run()
    ok(at)
    assert not at.error, [el.value for el in at.error]
    (success,) = [el.value for el in at.success]
    assert f"Registered Imran Ali s/o Akbar Ali, CNIC {new_buyer}, as a party" in success
    assert "filled in as the transferee of line 1" in success
    assert "**Party registered**" in [t.value for t in at.toast]
    assert at.text_input(key="line_0_to").value == new_buyer
    assert at.text_input(key="party_name").value == ""
    with owner(engine).connect() as conn:
        gender, audit = conn.execute(
            text(
                "SELECT p.gender, (SELECT count(*) FROM audit_log WHERE action = 'party.register'"
                " AND entity_id = p.id::text) FROM party p WHERE p.cnic = :c"
            ),
            {"c": new_buyer},
        ).one()
    assert (gender, audit) == ("male", 1)
    at = enter_sale(at, seller=history.mouza.cnics[1], buyer=new_buyer, share="1/3")
    assert "Entered mutation No. 5 (sale)" in at.success[0].value
    # registering a CNIC the record has: refused, naming whose it is
    at.text_input(key="party_name").input("Bilal")
    at.text_input(key="party_guardian").input("Rashid")
    at.text_input(key="party_cnic").input(history.buyer_cnic)
    at.button(key="party_submit").click().run()
    ok(at)
    (error,) = [el.value for el in at.error]
    assert (
        f"CNIC {history.buyer_cnic} is already in the records as Bilal Ahmad s/o Rashid Ahmad"
        in error
    )


def _load_dc_rates(engine: Engine, folder: Path) -> None:
    """DC rates for the tiny mouza's land classes (its only district's, from 2000)."""
    from landgov.valuation.rates import load_dc_rates

    path = folder / "dc.csv"
    path.write_text(
        "land_class,rs_per_acre,valid_from\n"
        "nehri,4000000,2000-01-01\nchahi,3000000,2000-01-01\nabadi,9000000,2000-01-01\n"
    )
    load_dc_rates(engine, path, actor=service_actor(engine, "demo"))


def test_an_under_declared_sale_is_shown_and_sanctioned_only_when_acknowledged(
    history: TinyHistory, engine: Engine, tmp_path: Path
) -> None:
    _load_dc_rates(engine, tmp_path)
    enter_sale(mutations_page(engine, history, "patwari"), seller=history.mouza.cnics[1],
               buyer=history.buyer_cnic, share="1/3", price=100_000)  # fmt: skip
    with engine.connect() as conn:
        check = price_check(conn, 5)
    assert check is not None and check.reasons == ("below_dc",) and check.statutory_rs
    assert {t.code for t in check.taxes} >= {"236K", "236C", "stamp_duty", "cvt"}

    at = mutations_page(engine, history, "girdawar")  # the verifier sees it
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    ok(at)
    page = " ".join(el.value for el in at.markdown)
    assert "Price check" in page and f"{check.statutory_rs:,}" in page
    assert f"{check.tax_at_stake_rs:,}" in page
    (warning,) = [el.value for el in at.warning]
    assert "Under-declared sale (declared below the DC (statutory) value)" in warning
    assert not [c for c in at.checkbox if c.key == "sanction_ack"]  # nothing to tick here
    decide(at, "verify")

    at = mutations_page(engine, history, "tehsildar")
    at.selectbox(key=forms.PENDING_KEY).set_value(5).run()
    ok(at)
    at = decide(at, "sanction")
    (error,) = [el.value for el in at.error]
    assert "rule `under_declared_price`" in error and "Nothing was written" in error
    assert f"against a DC value of Rs {check.statutory_rs:,}" in error
    assert mutation_row(engine, 5)[0] == "verified"
    at.checkbox(key="sanction_ack").check()
    at.text_input(key="sanction_note").input("taxes paid on the DC value")
    at = decide(at, "sanction")
    assert not at.error, [el.value for el in at.error]
    (success,) = [el.value for el in at.success]
    assert "The under-declared price was acknowledged." in success
    assert mutation_row(engine, 5)[0] == "sanctioned"
    with owner(engine).connect() as conn:
        ack = conn.execute(
            text(
                "SELECT a.note, u.username, a.statutory_rs FROM mutation_price_acknowledgement a"
                " JOIN app_user u ON u.id = a.acknowledged_by_user WHERE a.mutation_id = 5"
            )
        ).one()
    tehsildar = officer_actor(engine, history.officers["tehsildar"]).username
    assert tuple(ack) == ("taxes paid on the DC value", tehsildar, check.statutory_rs)
