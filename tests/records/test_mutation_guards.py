"""Mutations that are hard to get wrong (issue 19), on the hand-made mouza of
records_support: a sale needs its price, a registered deed is entered once (the engine
names the earlier mutation; the database's unique index stands behind it, also for a
racing entry), a new party is registered with a checked CNIC, and an under-declared
sale is sanctioned only with the officer's acknowledgement, stored with who and when.

The world's DC rate for nehri land (:data:`DC_RS_PER_ACRE`) is loaded from a CSV as the
demo's service loads it; its sales are dated after the Finance Act 2025 rules seeded by
sql/014, so the federal transfer taxes (236K, 236C) apply.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from records_support import (
    ALI,
    BILAL,
    GIRDAWAR,
    GUL,
    MOUZA,
    PATWARI,
    RECORD_SARSAI,
    TEHSILDAR,
    World,
    draft,
    entered_and_verified,
    officer,
    owner_engine,
    point_cli_at,
    snapshot,
)
from records_support import sign_in as records_sign_in
from security_support import service_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from landgov.errors import AccessDenied, SanctionRefused
from landgov.records import mutations as mut
from landgov.valuation.appraisal import SQFT_PER_ACRE, fit_class
from landgov.valuation.features import FEATURES, parcel_features
from landgov.valuation.rates import load_dc_rates

ENTERED, DEED, VERIFIED, SANCTIONED = (
    date(2025, 9, 10), date(2025, 9, 8), date(2025, 9, 12), date(2025, 10, 1),
)  # fmt: skip
DC_RS_PER_ACRE = 2_000_000
NEW_BUYER = "35401-2000001-3"


def invalid(engine: Engine, call: object, *args: object, **kwargs: object) -> str:
    """Runs ``call``, expects a refusal of the draft or party, and that nothing was written."""
    before = snapshot(engine)
    with pytest.raises((mut.MutationInvalid, mut.PartyInvalid)) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    assert snapshot(engine) == before
    return str(info.value)


def dc_value(share: Fraction) -> int:
    """The DC value of ``share`` of a one-khasra khewat of this world (nehri)."""
    acres = Fraction(RECORD_SARSAI) * Fraction(121, 4) / 43_560
    exact = acres * DC_RS_PER_ACRE * share
    return int(Decimal(exact.numerator / exact.denominator).quantize(0, ROUND_HALF_UP))


@pytest.fixture
def rated(world: World, tmp_path: Path) -> World:
    """The world with a DC rate for nehri land (the only district's, from 2000)."""
    path = tmp_path / "dc.csv"
    path.write_text(f"land_class,rs_per_acre,valid_from\nnehri,{DC_RS_PER_ACRE},2000-01-01\n")
    load_dc_rates(world.engine, path, actor=service_actor(world.engine, "demo"))
    return world


def sale(price: int | None, *, share: str = "1/4", deed_no: str | None = None) -> mut.MutationDraft:
    d = draft("sale", [(1, ALI, GUL, share)], entered=ENTERED, deed=DEED, consideration_rs=price)
    if deed_no is not None:
        d = mut.MutationDraft(**{**d.__dict__, "deed_number": deed_no})
    return d


# --- a sale needs a price ------------------------------------------------------------------


@pytest.mark.parametrize("price", [None, 0])
def test_a_sale_without_a_price_is_refused_and_nothing_written(world: World, price: int) -> None:
    message = invalid(
        world.engine, mut.enter, world.engine, sale(price), actor=officer(world.engine, PATWARI)
    )
    assert "a sale needs its declared price" in message and "consideration" in message


def test_a_gift_needs_no_price(world: World) -> None:
    d = draft("gift", [(1, ALI, GUL, "1/4")], entered=ENTERED)
    assert mut.enter(world.engine, d, actor=officer(world.engine, PATWARI)) > 0


# --- one deed, one mutation ----------------------------------------------------------------


def _enter(world: World, d: mut.MutationDraft) -> int:
    return mut.enter(world.engine, d, actor=officer(world.engine, PATWARI))


def test_a_repeated_deed_is_refused_naming_the_earlier_mutation(world: World) -> None:
    office = "Sub-Registrar Sheikhupura"
    first = _enter(world, mut.MutationDraft(**{**sale(900_000, deed_no="SKP-2025-99998").__dict__,
                                               "sub_registrar": office}))  # fmt: skip
    # the same deed however it is spaced or cased, even on another khewat
    again = mut.MutationDraft(
        mouza=MOUZA, type="sale", entered_on=ENTERED, deed_number=" skp-2025-99998 ",
        deed_date=date(2025, 2, 1), sub_registrar="sub-registrar   sheikhupura",
        consideration_rs=500_000, lines=[mut.DraftLine(3, ALI, BILAL, Fraction(1, 2))],
    )  # fmt: skip
    before = snapshot(world.engine)
    with pytest.raises(mut.DuplicateDeed) as info:
        _enter(world, again)
    assert snapshot(world.engine) == before
    assert info.value.earlier_id == first and info.value.earlier_number == 1
    assert "already entered as mutation No. 1 of mouza Kot A (sale, entered 2025-09-10" in str(
        info.value
    )
    # the stored spelling is the clean one
    with world.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT deed_number, sub_registrar FROM mutation WHERE id = :i"), {"i": first}
        ).one()
    assert tuple(stored) == ("SKP-2025-99998", office)
    # another year, or another office, is another deed
    assert _enter(world, mut.MutationDraft(**{**again.__dict__, "deed_date": date(2024, 12, 30)}))
    assert _enter(world, mut.MutationDraft(**{**again.__dict__, "sub_registrar": "Muridke"}))


def test_a_deed_may_be_entered_again_once_its_mutation_is_rejected(world: World) -> None:
    first = _enter(world, sale(900_000, deed_no="SKP-2025-00777"))
    with pytest.raises(mut.DuplicateDeed):
        _enter(world, sale(900_000, deed_no="SKP-2025-00777"))
    mut.reject(world.engine, first, actor=officer(world.engine, TEHSILDAR), on=VERIFIED,
               reason="parties did not appear")  # fmt: skip
    assert _enter(world, sale(900_000, deed_no="SKP-2025-00777")) != first


def test_court_decrees_may_share_a_case_number(world: World) -> None:
    def decree(khewat: int, to: str) -> mut.MutationDraft:
        return draft("court_decree", [(khewat, ALI, to, "1/4")], entered=ENTERED, deed=DEED)

    a = mut.MutationDraft(**{**decree(1, GUL).__dict__, "deed_number": "Decree CS-12/2025"})
    b = mut.MutationDraft(**{**decree(3, BILAL).__dict__, "deed_number": "Decree CS-12/2025"})
    assert _enter(world, a) != _enter(world, b)


def test_the_database_refuses_a_repeated_deed_written_behind_the_engine(world: World) -> None:
    _enter(world, sale(900_000, deed_no="SKP-2025-31337"))
    with (
        pytest.raises(IntegrityError, match="mutation_deed_once"),
        owner_engine(world.engine).begin() as conn,
    ):
        conn.execute(
            text(
                "INSERT INTO mutation (mouza_id, number, type, status, entered_on,"
                " deed_number, deed_date) VALUES (1, 99, 'gift', 'entered', :d,"
                " 'skp-2025-31337', :d)"
            ),
            {"d": ENTERED},
        )


def test_a_deed_entered_while_the_engine_checks_is_named_too(world: World) -> None:
    """The race the unique index closes: another writer's uncommitted row with the same
    deed. The engine's check cannot see it; its insert waits on the index, fails when
    the other commits, and the engine names the mutation that won."""
    owner = owner_engine(world.engine)
    actor = officer(world.engine, PATWARI)
    outcome: list[BaseException | int] = []
    with owner.connect() as other:
        other.begin()
        winner = other.execute(
            text(
                "INSERT INTO mutation (mouza_id, number, type, status, entered_on, deed_number,"
                " deed_date, consideration_rs) VALUES (1, 50, 'sale', 'entered', :d,"
                " 'SKP-2025-04242', :d, 1) RETURNING id"
            ),
            {"d": ENTERED},
        ).scalar_one()

        def enter() -> None:
            try:
                outcome.append(mut.enter(world.engine, sale(700_000, deed_no="SKP-2025-04242"),
                                         actor=actor))  # fmt: skip
            except BaseException as exc:  # handed to the test's thread
                outcome.append(exc)

        thread = threading.Thread(target=enter)
        thread.start()
        thread.join(timeout=3)
        assert thread.is_alive(), f"the entry did not wait on the index: {outcome}"
        other.commit()
        thread.join(timeout=30)
    (result,) = outcome
    assert isinstance(result, mut.DuplicateDeed), result
    assert result.earlier_id == winner and result.earlier_number == 50


# --- registering a party -----------------------------------------------------------------------


def test_a_new_buyer_is_registered_then_named_by_a_sale(world: World) -> None:
    e = world.engine
    patwari = officer(e, PATWARI)
    new = mut.NewParty(" Bilal  Ahmad ", "son_of", "Rashid Ahmad", "3540120000013")  # bare digits
    party = mut.register_party(e, new, mouza=MOUZA, actor=patwari)
    assert (party.cnic, party.name, party.gender) == (NEW_BUYER, "Bilal Ahmad", "male")
    assert party.label == "Bilal Ahmad s/o Rashid Ahmad"
    with e.connect() as conn:
        actor, details = conn.execute(
            text(
                "SELECT actor, details FROM audit_log WHERE action = 'party.register'"
                " AND entity = 'party' AND entity_id = :i"
            ),
            {"i": str(party.id)},
        ).one()
    assert actor == patwari.label
    assert details["cnic"] == NEW_BUYER and details["officer"] == "Pervaiz (patwari)"
    mid = entered_and_verified(e, draft("sale", [(1, ALI, NEW_BUYER, "1/4")]))
    assert mid > 0


@pytest.mark.parametrize(
    ("new", "field", "words"),
    [
        (mut.NewParty("Ali Again", "son_of", "Someone", ALI), "cnic",
         f"CNIC {ALI} is already in the records as Ali (party"),
        (mut.NewParty("Bilal", "son_of", "Rashid", "35401-200000-3"), "cnic",
         "is not of the form #####-#######-#"),
        (mut.NewParty("Bilal", "daughter_of", "Rashid", NEW_BUYER), "guardian_relation",
         "ends in 3 (odd: a man's CNIC) but the relation is d/o"),
        (mut.NewParty("Bilal", "uncle_of", "Rashid", NEW_BUYER), "guardian_relation",
         "unknown relation 'uncle_of'"),
        (mut.NewParty("Bilal 2", "son_of", "Rashid", NEW_BUYER), "name", "holds a digit"),
        (mut.NewParty("Bilal", "son_of", "  ", NEW_BUYER), "guardian_name",
         "give the father's or husband's name"),
    ],
)  # fmt: skip
def test_a_party_that_cannot_be_registered_is_refused_naming_the_field(
    world: World, new: mut.NewParty, field: str, words: str
) -> None:
    before = snapshot(world.engine)
    with pytest.raises(mut.PartyInvalid) as info:
        mut.register_party(world.engine, new, mouza=MOUZA, actor=officer(world.engine, PATWARI))
    assert snapshot(world.engine) == before
    assert info.value.field == field and words in str(info.value), str(info.value)


def test_only_the_patwari_registers_parties(world: World) -> None:
    new = mut.NewParty("Bilal", "son_of", "Rashid", NEW_BUYER)
    before = snapshot(world.engine)
    with pytest.raises(AccessDenied) as info:
        mut.register_party(world.engine, new, mouza=MOUZA, actor=officer(world.engine, GIRDAWAR))
    assert info.value.rule == "role" and snapshot(world.engine) == before


# --- the price check and the acknowledgement -----------------------------------------------


def _verified_sale(world: World, price: int, share: str = "1/4") -> int:
    return entered_and_verified(world.engine, sale(price, share=share), verified=VERIFIED)


def test_a_sale_at_or_above_its_dc_value_is_sanctioned_with_its_figures_audited(
    rated: World,
) -> None:
    e = rated.engine
    dc = dc_value(Fraction(1, 4))
    mid = _verified_sale(rated, dc + 1000)
    with e.connect() as conn:
        check = mut.price_check(conn, mid)
    assert check is not None and check.statutory_rs == dc and check.reasons == ()
    assert check.model_rs is None and "no appraisal model" in (check.model_note or "")
    assert {t.code for t in check.taxes} == {"236K", "236C"} and check.tax_at_stake_rs == 0
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=SANCTIONED)
    with e.connect() as conn:
        details = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'mutation.sanction'")
        ).scalar_one()
        acks = conn.execute(text("SELECT count(*) FROM mutation_price_acknowledgement")).scalar()
    assert details["price_check"]["statutory_rs"] == dc and "price_acknowledged" not in details
    assert acks == 0


def test_an_under_declared_sale_needs_the_sanctioning_officers_acknowledgement(
    rated: World,
) -> None:
    e = rated.engine
    dc = dc_value(Fraction(1, 4))
    declared = dc * 48 // 100  # the sale at 48 % of its statutory value
    mid = _verified_sale(rated, declared)
    with e.connect() as conn:
        check = mut.price_check(conn, mid)
    assert check is not None and check.reasons == ("below_dc",)
    taxable = {t.code: t.amount for t in check.taxes}
    assert taxable["236K"] == round(dc * 0.015) and taxable["236C"] == round(dc * 0.045)
    on_declared = round(declared * 0.015) + round(declared * 0.045)
    assert check.tax_at_stake_rs == check.tax_rs - on_declared > 0
    assert check.valuation_date == DEED and f"({declared / dc:.0%})" in check.summary()

    tehsildar = officer(e, TEHSILDAR)
    before = snapshot(e)
    with pytest.raises(SanctionRefused) as info:
        mut.sanction(e, mid, actor=tehsildar, on=SANCTIONED)
    assert info.value.rule == "under_declared_price" and snapshot(e) == before
    assert f"declared Rs {declared:,} against a DC value of Rs {dc:,} (48%)" in info.value.message
    assert f"Rs {check.tax_at_stake_rs:,} of tax at stake" in info.value.message

    mut.sanction(e, mid, actor=tehsildar, on=SANCTIONED, acknowledge_price=True,
                 price_note="  stamp duty  paid on the DC value ")  # fmt: skip
    with e.connect() as conn:
        ack = conn.execute(
            text(
                "SELECT a.reasons, a.declared_rs, a.statutory_rs, a.tax_at_stake_rs, a.note,"
                " a.valuation_date, u.username, o.name, a.acknowledged_at"
                " FROM mutation_price_acknowledgement a"
                " JOIN app_user u ON u.id = a.acknowledged_by_user"
                " JOIN officer o ON o.id = a.acknowledged_by WHERE a.mutation_id = :m"
            ),
            {"m": mid},
        ).one()
        details = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'mutation.sanction'")
        ).scalar_one()
        status = conn.execute(text("SELECT status FROM mutation WHERE id = :m"), {"m": mid})
        assert status.scalar_one() == "sanctioned"
    assert list(ack[:6]) == [["below_dc"], declared, dc, check.tax_at_stake_rs,
                             "stamp duty paid on the DC value", DEED]  # fmt: skip
    assert (ack.username, ack.name) == (tehsildar.username, "Tariq")
    assert details["price_acknowledged"]["by"] == "Tariq (tehsildar)"
    assert details["price_acknowledged"]["reasons"] == ["below_dc"]
    assert details["price_check"]["tax_at_stake_rs"] == check.tax_at_stake_rs


def test_the_application_role_cannot_change_an_acknowledgement(rated: World) -> None:
    e = rated.engine
    mid = _verified_sale(rated, 1000)
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=SANCTIONED, acknowledge_price=True)
    with e.begin() as conn:  # no bound actor, and no policy to update or delete at all
        assert (
            conn.execute(text("UPDATE mutation_price_acknowledgement SET note = 'x'")).rowcount == 0
        )
        assert conn.execute(text("DELETE FROM mutation_price_acknowledgement")).rowcount == 0


def test_a_sale_no_dc_rate_covers_is_not_judged(world: World) -> None:
    e = world.engine
    mid = _verified_sale(world, 1000)
    with e.connect() as conn:
        check = mut.price_check(conn, mid)
    assert check is not None and check.statutory_rs is None and check.reasons == ()
    assert "rate" in (check.unvalued or ""), check.unvalued
    assert "not checked" in check.summary()
    mut.sanction(e, mid, actor=officer(e, TEHSILDAR), on=SANCTIONED)


def test_only_sales_are_priced(world: World) -> None:
    mid = entered_and_verified(world.engine, draft("gift", [(1, ALI, GUL, "1/4")]))
    with world.engine.connect() as conn:
        assert mut.price_check(conn, mid) is None


# --- the command line ------------------------------------------------------------------------


def _run(*args: str) -> tuple[int, str]:
    from typer.testing import CliRunner

    from landgov.cli import app

    result = CliRunner().invoke(app, ["mutation", *args])
    return result.exit_code, result.output


def test_cli_registers_a_buyer_and_sanctions_an_under_declared_sale_once_acknowledged(
    rated: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    e = rated.engine
    point_cli_at(e, monkeypatch, tmp_path)
    records_sign_in(e, PATWARI)
    new = ("--mouza", MOUZA, "--name", "Bilal Ahmad", "--relation", "son_of",
           "--guardian", "Rashid Ahmad")  # fmt: skip
    code, output = _run("register-party", *new, "--cnic", NEW_BUYER)
    assert code == 0, output
    assert f"registered Bilal Ahmad s/o Rashid Ahmad, CNIC {NEW_BUYER} (male)" in output
    code, output = _run("register-party", *new, "--cnic", NEW_BUYER)
    assert code == 1 and "is already in the records as Bilal Ahmad s/o Rashid Ahmad" in output
    code, output = _run(
        "enter", "--type", "sale", "--mouza", MOUZA, "--khewat", "1",
        "--line", f"{ALI}:{NEW_BUYER}:1/4", "--entered-on", ENTERED.isoformat(),
        "--deed-number", "SKP-2025-5", "--deed-date", DEED.isoformat(),
    )  # fmt: skip
    assert code == 1 and "a sale needs its declared price" in output
    code, output = _run(
        "enter", "--type", "sale", "--mouza", MOUZA, "--khewat", "1",
        "--line", f"{ALI}:{NEW_BUYER}:1/4", "--entered-on", ENTERED.isoformat(),
        "--deed-number", "SKP-2025-5", "--deed-date", DEED.isoformat(), "--consideration", "1000",
    )  # fmt: skip
    assert code == 0, output
    records_sign_in(e, GIRDAWAR)
    assert _run("verify", "1", "--mouza", MOUZA, "--on", VERIFIED.isoformat())[0] == 0
    code, output = _run("price", "1", "--mouza", MOUZA)
    assert code == 0 and "declared Rs 1,000 against a DC value of Rs" in output
    assert "236C (seller)" in output and "--acknowledge-price" in output
    records_sign_in(e, TEHSILDAR)
    code, output = _run("sanction", "1", "--mouza", MOUZA, "--on", SANCTIONED.isoformat())
    assert code == 1 and "refused by rule under_declared_price" in output
    code, output = _run("sanction", "1", "--mouza", MOUZA, "--on", SANCTIONED.isoformat(),
                        "--acknowledge-price", "--price-note", "seen")  # fmt: skip
    assert code == 0, output
    with e.connect() as conn:
        note = conn.execute(text("SELECT note FROM mutation_price_acknowledgement")).scalar_one()
    assert note == "seen"


# --- the appraisal model is loaded only when it values the sale ----------------------------

MODEL_AS_OF = date(2025, 9, 30)
_SANCTION_IN_A_NEW_PROCESS = """
import atexit, sys
atexit.register(lambda: print("lightgbm imported:", "lightgbm" in sys.modules))
from landgov.cli import app
app(["mutation", *sys.argv[1:]], prog_name="landgov")
"""


def _store_model(world: World, land_class: str) -> str:
    """A LightGBM model of ``land_class`` stored as ``landgov valuation run`` stores one,
    fitted by the appraisal's own :func:`fit_class` on made-up parcels of this mouza
    (about Rs 2.5 M an acre, less far from the road): this world has too few sales to
    learn from. Returns the booster's text."""
    rng = np.random.default_rng(7)
    n = 80
    columns = {
        "mouza": np.full(n, world.mouza_id), "log_acres": rng.normal(0, 0.5, n),
        "compactness": rng.uniform(0.5, 1, n), "road_m": rng.uniform(0, 3000, n),
        "canal_m": rng.uniform(0, 3000, n), "crop": rng.integers(0, 9, n),
        "yield_rel": rng.normal(1, 0.1, n), "ndvi_peak": rng.uniform(0.3, 0.8, n),
    }  # fmt: skip
    x = np.column_stack([columns[f] for f in FEATURES]).astype(float)
    y = np.log(2_500_000) - columns["road_m"] / 6000 + rng.normal(0, 0.05, n)
    booster, _, _ = fit_class(x, y)
    with owner_engine(world.engine).begin() as conn:
        conn.execute(
            text(
                "INSERT INTO appraisal_model (set_fingerprint, as_of, land_class, booster,"
                " features, trend_per_year, n_sales, metrics) VALUES (:f, :d, :c, :b,"
                " CAST(:feat AS jsonb), 0, :n, '{}'::jsonb)"
            ),
            {"f": "ab" * 32, "d": MODEL_AS_OF, "c": land_class, "b": booster,
             "feat": json.dumps({"names": list(FEATURES)}), "n": n},
        )  # fmt: skip
    return booster


def _sanction_in_a_new_process(*args: str) -> tuple[int, str, bool]:
    """``landgov mutation sanction ARGS`` in a fresh interpreter (as an officer's command
    runs): its exit code, its output, and whether LightGBM was imported by its end."""
    done = subprocess.run(
        [sys.executable, "-c", _SANCTION_IN_A_NEW_PROCESS, "sanction", *args],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    output = done.stdout + done.stderr
    found = re.search(r"lightgbm imported: (True|False)", output)
    assert found, output
    return done.returncode, output, found.group(1) == "True"


@pytest.mark.parametrize(
    ("fixture", "model_class"),
    [("world", "nehri"), ("rated", "chahi")],
    ids=["no DC rate", "no model for its land class"],
)
def test_a_sanction_the_model_cannot_value_does_not_load_it(
    fixture: str,
    model_class: str,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A model is trained, but it cannot change the sale's check: no DC rate covers the
    sale (nothing is judged), or the model knows only another land class than the sale's
    nehri khasra. The sanction runs without importing LightGBM (about 1.4 s of a
    command's time)."""
    world: World = request.getfixturevalue(fixture)
    e = world.engine
    _store_model(world, model_class)
    mid = _verified_sale(world, dc_value(Fraction(1, 4)) + 1000)
    with e.connect() as conn:
        check = mut.price_check(conn, mid)
    assert check is not None and check.model_rs is None and check.reasons == ()
    point_cli_at(e, monkeypatch, tmp_path)
    records_sign_in(e, TEHSILDAR)
    number = _number(e, mid)
    code, output, lightgbm = _sanction_in_a_new_process(
        number, "--mouza", MOUZA, "--on", SANCTIONED.isoformat()
    )
    assert code == 0 and f"mutation {number} sanctioned" in output, output
    assert not lightgbm, output


def test_a_sanction_the_model_values_loads_it_and_keeps_its_figures(
    rated: World, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Where the model values the sale it is loaded, and the model value is the one the
    stored booster gives for the parcel, on the set's date, for the share sold."""
    import lightgbm as lgb

    e = rated.engine
    booster = _store_model(rated, "nehri")
    khasra = rated.khasra[1]
    with e.connect() as conn:
        feats = parcel_features(conn, MODEL_AS_OF, ids=[khasra], live_only=False)
    per_acre = float(np.exp(lgb.Booster(model_str=booster).predict(feats.matrix)[0]))
    expected = round(per_acre * RECORD_SARSAI / 4 * 30.25 / SQFT_PER_ACRE)  # standard units
    mid = _verified_sale(rated, dc_value(Fraction(1, 4)) + 1000)
    with e.connect() as conn:
        check = mut.price_check(conn, mid)
    assert check is not None and check.model_rs == expected and check.model_set == "ab" * 32

    point_cli_at(e, monkeypatch, tmp_path)
    records_sign_in(e, TEHSILDAR)
    code, output, lightgbm = _sanction_in_a_new_process(
        _number(e, mid), "--mouza", MOUZA, "--on", SANCTIONED.isoformat(), "--acknowledge-price"
    )
    assert code == 0 and lightgbm, output
    with e.connect() as conn:
        details = conn.execute(
            text("SELECT details FROM audit_log WHERE action = 'mutation.sanction'")
        ).scalar_one()
    assert details["price_check"] == check.as_dict()
    assert details["price_check"]["model_rs"] == expected


def _number(engine: Engine, mutation_id: int) -> str:
    with engine.connect() as conn:
        return str(
            conn.execute(
                text("SELECT number FROM mutation WHERE id = :m"), {"m": mutation_id}
            ).scalar_one()
        )
