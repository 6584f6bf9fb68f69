"""Taxes on the demo's sales after loading the demo's own DC rate table."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from cli_support import sign_in, use_database
from security_support import service_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine
from typer.testing import CliRunner

from landgov.cli.tax import app
from landgov.errors import ImportRejected
from landgov.storage import engine as engine_module
from landgov.valuation.rates import load_dc_rates, load_tax_rules
from landgov.valuation.transfer import NotATransferForValue, transfer_tax, under_declared

runner = CliRunner()


@pytest.fixture
def rated(demo_copy: Engine, demo_dir: Path) -> Engine:
    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    return demo_copy


@pytest.fixture
def on_db(rated: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    use_database(rated, tmp_path, monkeypatch, services=("demo",))
    yield rated
    engine_module._engine_for.cache_clear()


def test_demo_sales_reproduce_stored_statutory_values(rated: Engine) -> None:
    with rated.connect() as conn:
        sales = conn.execute(
            text("SELECT id, entered_on, deed_date, statutory_value_rs FROM mutation"
                 " WHERE type = 'sale' ORDER BY id")
        ).all()  # fmt: skip
        assert len(sales) > 100
        for s in sales:
            # the demo values a sale at the DC rate of the year it was entered; the deed
            # date (the default valuation date) falls in the year before for a few
            result = transfer_tax(conn, s.id, on=s.entered_on)
            exact = sum(p.value for p in result.parcels)
            # equal to the rupee except at an exact half, which the demo's float arithmetic
            # and round() send either way; landgov rounds the exact value half up
            half = exact.denominator == 2
            assert abs(result.statutory_rs - s.statutory_value_rs) <= half, s.id
            assert result.taxable_rs == max(result.declared_rs or 0, result.statutory_rs)
        moved = [s for s in sales if s.deed_date and s.deed_date.year != s.entered_on.year]
        assert moved
        assert transfer_tax(conn, moved[0].id).valuation_date == moved[0].deed_date


def test_federal_taxes_apply_from_finance_act_2025(rated: Engine) -> None:
    with rated.connect() as conn:
        recent = conn.execute(
            text("SELECT id FROM mutation WHERE type = 'sale' AND deed_date >= '2025-07-01'"
                 " ORDER BY id LIMIT 1")
        ).scalar_one()  # fmt: skip
        old = conn.execute(
            text("SELECT id FROM mutation WHERE type = 'sale' AND deed_date < '2025-01-01'"
                 " ORDER BY id LIMIT 1")
        ).scalar_one()  # fmt: skip
        now = transfer_tax(conn, recent)
        before = transfer_tax(conn, old)
        gift = conn.execute(text("SELECT id FROM mutation WHERE type = 'gift' LIMIT 1")).scalar()
        with pytest.raises(NotATransferForValue):
            transfer_tax(conn, gift)
    assert {t.code for t in now.taxes} == {"236K", "236C"}  # Lahore's stamp is not here
    k = next(t for t in now.taxes if t.code == "236K")
    assert k.amount == round(now.taxable_rs * 0.015)  # demo sales are below Rs 50 m
    assert before.taxes == []


def test_under_declared_sales_and_revenue_at_stake(rated: Engine, tmp_path: Path) -> None:
    # a Sheikhupura stamp duty so that older sales carry a tax too
    path = tmp_path / "tax.csv"
    path.write_text(
        "code,level,area,rate,base,payer,valid_from,source\n"
        "stamp_duty,district,Sheikhupura,1%,taxable_value,buyer,2002-01-01,test\n"
    )
    load_tax_rules(rated, path, actor=service_actor(rated, "demo"))
    with rated.connect() as conn:
        report = under_declared(conn)
    assert report.sales, "the demo plants under-declared sales"
    assert report.unvalued == []
    for s in report.sales:
        assert s.declared_rs is not None and s.declared_rs < s.statutory_rs
        assert s.revenue_at_stake_rs == s.total_rs - sum(t.amount for t in s.taxes_on_declared)
        assert s.revenue_at_stake_rs > 0
    assert report.revenue_at_stake_rs == sum(s.revenue_at_stake_rs for s in report.sales)


def test_cli_transfer_json_and_under_declared(on_db: Engine) -> None:
    with on_db.connect() as conn:
        m = conn.execute(
            text("SELECT m.id, m.number, z.name FROM mutation m JOIN mouza z ON z.id ="
                 " m.mouza_id WHERE m.type = 'sale' AND m.deed_date >= '2025-07-01' LIMIT 1")
        ).one()  # fmt: skip
    res = runner.invoke(app, ["transfer", "--mutation", str(m.number), "--mouza", m.name, "--json"])
    assert res.exit_code == 0, res.output
    shown = json.loads(res.stdout)
    assert shown["mutation_id"] == m.id
    assert shown["taxable_rs"] == max(shown["declared_rs"], shown["statutory_rs"])
    assert {t["code"] for t in shown["taxes"]} == {"236K", "236C"}
    by_id = runner.invoke(app, ["transfer", "--mutation", str(m.id)])
    assert by_id.exit_code == 0 and "total tax Rs" in by_id.stdout
    res = runner.invoke(app, ["under-declared", "--json", "--as-of", "2026-11-15"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["count"] >= 1
    missing = runner.invoke(app, ["transfer", "--mutation", "99999", "--mouza", m.name])
    assert missing.exit_code == 1 and "no mutation 99999" in missing.output


def test_cli_load_rejects_bad_rows_and_stores_nothing(on_db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "dc.csv"
    path.write_text(
        "year,land_class,rs_per_acre\n2030,nehri,500000\n2030,paddy,400000\n2031,chahi,-1\n"
    )
    res = runner.invoke(app, ["rates", "load", "dc", str(path)])
    assert res.exit_code == 1
    assert "row 2, field 'land_class'" in res.output
    assert "row 3, field 'rs_per_acre'" in res.output
    with on_db.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dc_rate WHERE valid_from >= '2030-01-01'")
                            ).scalar_one() == 0  # fmt: skip


def test_same_table_again_is_a_no_op_another_overlapping_one_is_refused(
    rated: Engine, demo_dir: Path, tmp_path: Path
) -> None:
    with rated.connect() as conn:
        before = conn.execute(text("SELECT count(*) FROM dc_rate")).scalar_one()
    # make demo loads it on every run
    again = load_dc_rates(rated, demo_dir / "dc_rates.csv", actor=service_actor(rated, "demo"))
    assert again.already_loaded and again.rows == 0
    edited = tmp_path / "dc_rates.csv"  # the same periods with other figures
    edited.write_text((demo_dir / "dc_rates.csv").read_text(encoding="utf-8") + "\n",
                      encoding="utf-8")  # fmt: skip
    with pytest.raises(ImportRejected) as info:
        load_dc_rates(rated, edited, actor=service_actor(rated, "demo"))
    assert all(p.field == "valid_from" and "overlaps" in p.reason for p in info.value.problems)
    assert info.value.problems[0].row == 1
    with rated.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM dc_rate")).scalar_one() == before


def test_cli_rates_load_acts_as_the_signed_in_administrator(
    rated: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "tax.csv"
    path.write_text(
        "code,level,rate,base,payer,valid_from,valid_to,upper_rs\n"
        "236K,federal,3%,taxable_value,buyer,2030-07-01,2031-07-01,50000000\n",
        encoding="utf-8",
    )
    use_database(rated, tmp_path, monkeypatch)  # no service key: only a person may
    sign_in(rated, staff_actor(rated, "revenue_analyst").username)
    refused = runner.invoke(app, ["rates", "load", "tax", str(path)])
    assert refused.exit_code == 1
    said = " ".join(refused.output.split())
    assert "refused by rule role" in said and "may not load rate tables" in said
    admin = staff_actor(rated, "administrator")
    sign_in(rated, admin.username)
    done = runner.invoke(app, ["rates", "load", "tax", str(path)])
    assert done.exit_code == 0, done.output
    assert " ".join(done.output.split()).endswith(f"as {admin.label}")
    with rated.connect() as conn:
        actors = (
            conn.execute(text("SELECT actor FROM audit_log WHERE action = 'load_tax_rules'"))
            .scalars()
            .all()
        )
        rules = conn.execute(
            text("SELECT count(*) FROM tax_rule WHERE valid_from = '2030-07-01'")
        ).scalar_one()
    assert actors == [admin.label] and rules == 1
