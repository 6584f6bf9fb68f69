"""The parcel page's history: the mutation chain, owners on two dates, the fard."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date

import pandas as pd
import pytest
from dashboard_support import TinyHistory, database_url, insert_tiny_history, owner, sign_in
from security_support import officer_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from app.views.parcels import data
from landgov.security import Actor
from landgov.storage import read

PointAt = Callable[[str], None]


@pytest.fixture
def history(engine: Engine, point_app_at: PointAt) -> TinyHistory:
    tiny = insert_tiny_history(engine)
    point_app_at(database_url(engine))
    return tiny


@pytest.fixture
def analyst(engine: Engine, history: TinyHistory) -> Actor:
    return staff_actor(engine, "revenue_analyst")


@pytest.fixture
def patwari(engine: Engine, history: TinyHistory) -> Actor:
    """The patwari posted over the tiny mouza's tehsil (since 2000)."""
    return officer_actor(engine, history.officers["patwari"])


def page_text(at: AppTest) -> str:
    """Every text on the page, tables and data frames included."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "info", "warning", "error"):
        parts.extend(str(el.value) for el in at.get(kind))
    parts.extend(el.value.to_csv(index=False) for el in at.dataframe)
    parts.extend(el.value.to_csv(index=False) for el in at.table)
    return "\n".join(parts)


def open_khasra(at: AppTest, khasra_no: str, as_of: date | None = None) -> AppTest:
    """Picks ``khasra_no`` (on ``as_of``: default today) in a signed-in session."""
    at.sidebar.date_input(key="as_of").set_value(as_of or date.today())
    if as_of is not None:
        at.sidebar.date_input(key="as_of").set_value(as_of)
    at = at.selectbox(key="khasra_1").select(khasra_no).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def timeline(at: AppTest) -> pd.DataFrame:
    (table,) = [t.value for t in at.table]
    assert list(table.columns) == data.TIMELINE_COLUMNS
    return table


def test_mutation_chain_follows_khewats_and_partition_parents(
    history: TinyHistory, engine: Engine
) -> None:
    with engine.connect() as conn:
        ids = dict(conn.execute(text("SELECT number, id FROM khasra")).all())
        child = read.mutation_chain(conn, ids["12/1"])
        whole = read.mutation_chain(conn, ids["11"])
    # 12/1 was cut from 12 (mutation 3): khewat 5's history until then, khewat 6's after
    assert child.lineage["khasra_no"].tolist() == ["12/1", "12"]
    assert [(r.khewat_no, r.khasra_no) for r in child.holdings.itertuples()] == [
        (5, "12"),
        (6, "12/1"),
    ]
    assert child.settlement["name"].tolist() == ["Ahmad Khan", "Fatima Bibi"]
    assert child.settlement["via_khasra_no"].tolist() == ["12", "12"]
    assert child.lines["number"].tolist() == [1, 2, 3]  # not 4: entered after the cut
    assert child.lines["via_khasra_no"].tolist() == ["12", "12", "12/1"]
    # 11 stayed in khewat 5: its sale, the rejected gift and the pending sale
    assert whole.lineage["khasra_no"].tolist() == ["11"]
    assert whole.lines["number"].tolist() == [1, 2, 4]
    assert whole.lines["status"].tolist() == ["sanctioned", "rejected", "entered"]
    sale = whole.lines.iloc[0]
    assert (sale.transferor_name, sale.transferee_name) == ("Ahmad Khan", "Bilal Ahmad")
    assert (sale.numerator, sale.denominator) == (1, 6)
    assert sale.officer_name == "Tariq Mehmood"


def test_timeline_shows_the_settlement_owner_and_a_later_sale(
    history: TinyHistory, engine: Engine, analyst: Actor
) -> None:
    at = open_khasra(sign_in(engine, analyst), "11")
    assert "#### Mutation chain of khasra 11" in [el.value for el in at.markdown]
    table = timeline(at)
    first = table.iloc[0]
    assert (first["Date"], first["Type"], first["Mutation"]) == ("2020-01-01", "settlement", "—")
    assert first["Transfers"] == (
        "first recorded owners: Ahmad Khan s/o Bashir Khan 1/3; Fatima Bibi d/o Bashir Khan 2/3"
    )
    rows = table.set_index("Mutation")
    sale = rows.loc["1"]
    assert (sale["Date"], sale["Type"], sale["Status"]) == ("2021-03-01", "sale", "sanctioned")
    assert sale["Transfers"] == "Ahmad Khan s/o Bashir Khan → Bilal Ahmad s/o Rashid Ahmad 1/6"
    assert sale["Deed"] == "D-101 of 2021-01-28, Rs 1,500,000"
    assert sale["Officer"] == "Tariq Mehmood (tehsildar)"
    assert rows.loc["2", "Status"] == "rejected"
    assert rows.loc["2", "Note"] == "Donor did not appear"
    assert rows.loc["4", "Status"] == "pending (entered)"
    assert table["Mutation"].tolist() == ["—", "1", "2", "4"]  # oldest first

    (chart,) = at.get("vega_lite_chart")
    spec = json.loads(chart.proto.spec)
    marks = [layer["mark"]["type"] for layer in spec["layer"]]
    assert marks == ["bar", "point", "text", "text"]  # periods, events, numbers above/below
    assert spec["layer"][1]["encoding"]["y"]["sort"] == ["khewat 5 · khasra 11"]
    # full CNICs never reach the page
    everything = page_text(at) + chart.proto.spec
    for cnic in (*history.mouza.cnics, history.buyer_cnic):
        assert cnic not in everything


def test_partitioned_khasra_shows_its_parents_history(
    history: TinyHistory, engine: Engine, analyst: Actor
) -> None:
    at = open_khasra(sign_in(engine, analyst), "12/1")
    assert "khasra 12/1 was cut from khasra 12 on 2023-05-01" in page_text(at).replace(
        "Khasra 12/1", "khasra 12/1"
    )
    table = timeline(at)
    assert table["Mutation"].tolist() == ["—", "1", "2", "3"]
    partition = table.set_index("Mutation").loc["3"]
    assert partition["Type"] == "partition"
    assert partition["Transfers"] == "— → Fatima Bibi d/o Bashir Khan 1/1"
    assert partition["Khewat"] == "6"


def _owner_tables(at: AppTest) -> list[dict[str, str]]:
    return [
        dict(zip(f.value["Name"], f.value["Share of khewat"], strict=True)) for f in at.dataframe
    ]


def test_as_of_date_changes_the_owners(
    history: TinyHistory, engine: Engine, analyst: Actor
) -> None:
    at = sign_in(engine, analyst)
    before_sale = open_khasra(at, "11", as_of=date(2020, 6, 30))
    headings = [el.value for el in before_sale.markdown if el.value.startswith("#### Owners")]
    assert headings == ["#### Owners on 2020-06-30", f"#### Owners today ({date.today()})"]
    on_date, today = _owner_tables(before_sale)
    assert on_date == {"Ahmad Khan": "1/3", "Fatima Bibi": "2/3"}
    assert today == {"Ahmad Khan": "1/6", "Bilal Ahmad": "1/6", "Fatima Bibi": "2/3"}
    assert any("No. 1 (sale, 2021-03-01)" in el.value for el in before_sale.caption)

    after_sale = open_khasra(at, "11", as_of=date(2021, 3, 1))
    (on_date, _today) = _owner_tables(after_sale)
    assert on_date == {"Ahmad Khan": "1/6", "Bilal Ahmad": "1/6", "Fatima Bibi": "2/3"}

    now = open_khasra(at, "11")  # today: one table, no "today" twice
    assert len(now.dataframe) == 1
    # each owner list shown is logged once: on 2020-06-30, today, on 2021-03-01
    with owner(engine).connect() as conn:
        logged = conn.execute(
            text("SELECT actor, details->>'on' FROM access_log ORDER BY id")
        ).all()
    assert [tuple(r) for r in logged] == [
        (analyst.label, "2020-06-30"),
        (analyst.label, date.today().isoformat()),
        (analyst.label, "2021-03-01"),
    ]


def test_an_analyst_gets_no_fard_and_masked_cnics(
    history: TinyHistory, engine: Engine, analyst: Actor
) -> None:
    at = open_khasra(sign_in(engine, analyst), "11", as_of=date(2022, 1, 1))
    assert not at.get("download_button")
    assert any("rule `role`" in el.value and "may not issue a fard" in el.value
               for el in at.caption)  # fmt: skip
    for cnic in (*history.mouza.cnics, history.buyer_cnic):
        assert cnic not in page_text(at)


def test_the_patwari_of_the_mouza_sees_cnics_and_issues_a_fard(
    history: TinyHistory, engine: Engine, patwari: Actor
) -> None:
    pytest.importorskip("landgov.records.fard")
    at = open_khasra(sign_in(engine, patwari), "11", as_of=date(2022, 1, 1))
    # posted over the mouza today: owners' CNICs in full (personal.unmask), logged as such
    owners = next(f.value for f in at.dataframe if "CNIC" in f.value.columns)
    assert set(owners["CNIC"]) == set(history.mouza.cnics) | {history.buyer_cnic}
    with owner(engine).connect() as conn:
        unmasked = (
            conn.execute(text("SELECT DISTINCT (details->>'unmasked')::boolean FROM access_log"))
            .scalars()
            .all()
        )
    assert unmasked == [True]
    (button,) = at.get("download_button")
    assert button.proto.label == "Download fard (PDF)"
    assert at.selectbox(key="fard_khewat_1").value == 5
    # what the button calls when clicked (deferred): the fard of khewat 5 on that date
    for language in ("en", "ur"):
        pdf = data.fard_pdf(engine, "Kot Test", 5, date(2022, 1, 1), language, actor=patwari)
        assert pdf.startswith(b"%PDF")
    with owner(engine).connect() as conn:
        actors = (
            conn.execute(text("SELECT actor FROM audit_log WHERE action ILIKE '%fard%'"))
            .scalars()
            .all()
        )
    assert actors and set(actors) == {patwari.label}
