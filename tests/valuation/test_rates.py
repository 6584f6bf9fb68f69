"""Loading rate tables (validated, all or nothing, audited) and the rate in force."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pytest
from security_support import service_actor, staff_actor
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.errors import AccessDenied, ImportRejected, NoRateInForce, RowProblem
from landgov.valuation.rates import (
    dc_rate_on,
    load_dc_rates,
    load_fbr_values,
    load_tax_rules,
    statutory_value,
    unit_sq_ft,
)


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "rates.csv"
    path.write_text(body, encoding="utf-8")
    return path


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_units_convert_exactly() -> None:
    assert unit_sq_ft("acre") == 8 * unit_sq_ft("kanal") == 43_560
    assert unit_sq_ft("marla") == Fraction(27225, 100)
    assert unit_sq_ft("sq_yd") == 9


def test_fbr_bad_rows_name_row_and_field_and_store_nothing(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "city,locality,category,rs_per_sq_yd,valid_from,valid_to,sro\n"
        "Lahore,DHA Phase 5,residential,25000,2024-07-01,,SRO 1\n"
        "Lahore,Gulberg,villa,30000,2024-07-01,,SRO 1\n"
        "Lahore,Johar Town,residential,-5,2024-07-01,,SRO 1\n"
        "Lahore,Model Town,residential,20000,2024-13-01,,SRO 1\n",
    )
    with pytest.raises(ImportRejected) as info:
        load_fbr_values(engine, path, actor=service_actor(engine, "demo"))
    problems = info.value.problems
    assert [(p.row, p.field) for p in problems] == [
        (2, "category"), (3, "rs_per_sq_yd"), (4, "valid_from"),
    ]  # fmt: skip
    assert str(path) in str(info.value)
    assert count(engine, "fbr_value") == 0


def test_overlapping_periods_refused(engine: Engine, tmp_path: Path) -> None:
    ok = write(
        tmp_path,
        "city,locality,category,rs_per_sq_yd,valid_from,valid_to\n"
        "Lahore,DHA,residential,25000,2024-07-01,2025-07-01\n"
        "Lahore,DHA,residential,28000,2025-07-01,\n",
    )
    assert load_fbr_values(engine, ok, actor=service_actor(engine, "demo")).rows == 2
    clash = write(
        tmp_path,
        "city,locality,category,rs_per_sq_yd,valid_from\n"
        "Lahore,Gulberg,residential,30000,2024-07-01\n"
        "lahore, dha ,residential,26000,2025-01-01\n",
    )
    with pytest.raises(ImportRejected) as info:
        load_fbr_values(engine, clash, actor=service_actor(engine, "demo"))
    (problem,) = info.value.problems
    assert (problem.row, problem.field) == (2, "valid_from")
    assert "overlaps" in problem.reason
    assert count(engine, "fbr_value") == 2  # Gulberg (row 1) rolled back too


def test_overlap_within_one_file_refused(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "code,level,rate,base,payer,valid_from,valid_to\n"
        "stamp_duty,federal,1%,taxable_value,buyer,2020-01-01,2022-01-01\n"
        "stamp_duty,federal,0.02,taxable_value,buyer,2021-06-01,\n",
    )
    before = count(engine, "tax_rule")
    with pytest.raises(ImportRejected) as info:
        load_tax_rules(engine, path, actor=service_actor(engine, "demo"))
    assert [(p.row, p.field) for p in info.value.problems] == [(2, "valid_from")]
    assert count(engine, "tax_rule") == before


def test_tax_rules_load_and_are_audited(engine: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "code,level,area,rate,base,payer,valid_from,lower_rs,upper_rs,source\n"
        "236K,federal,,3%,taxable_value,buyer,2024-07-01,,50000000,Finance Act 2024\n"
        "236K,federal,,1.5,taxable_value,buyer,2024-07-01,50000000,,typo\n"
        "cvt,district,Lahore,0.02,taxable_value,buyer,2024-07-01,,,x\n",
    )
    seeded = count(engine, "tax_rule")
    with pytest.raises(ImportRejected) as info:
        load_tax_rules(engine, path, actor=service_actor(engine, "demo"))
    assert info.value.problems == [
        RowProblem(2, "rate", "1.5 is not a fraction in 0-1 (write 0.015 or 1.5% for 1.5 %)"),
        RowProblem(3, "area", "no single district named 'Lahore'"),
    ]
    path.write_text(
        "code,level,rate,base,payer,valid_from,valid_to,upper_rs\n"
        "236K,federal,3%,taxable_value,buyer,2024-07-01,2025-07-01,50000000\n"
    )
    with pytest.raises(AccessDenied, match="may not load rate tables"):  # an analyst may not
        load_tax_rules(engine, path, actor=staff_actor(engine, "revenue_analyst"))
    assert count(engine, "tax_rule") == seeded
    admin = staff_actor(engine, "administrator")
    report = load_tax_rules(engine, path, actor=admin)
    assert report.rows == 1
    with engine.connect() as conn:
        rate = conn.execute(text("SELECT rate FROM tax_rule WHERE upper_rs = 50000000 AND "
                                 "valid_to = '2025-07-01'")).scalar_one()  # fmt: skip
        action, actor = conn.execute(
            text("SELECT action, actor FROM audit_log WHERE seq = :s"), {"s": report.audit_seq}
        ).one()
    assert rate == Decimal("0.03")
    assert action == "load_tax_rules" and actor == admin.label


def test_missing_file_and_empty_file_rejected(engine: Engine, tmp_path: Path) -> None:
    with pytest.raises(ImportRejected):
        load_fbr_values(engine, tmp_path / "nope.csv", actor=service_actor(engine, "demo"))
    with pytest.raises(ImportRejected, match="no data rows"):
        load_fbr_values(
            engine,
            write(tmp_path, "city,locality,category,rs_per_sq_yd,valid_from\n"),
            actor=service_actor(engine, "demo"),
        )


def test_dc_rates_mouza_row_wins_over_district(demo_copy: Engine, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mouza,admin_level,admin_unit,land_class,rs_per_unit,unit,valid_from,valid_to\n"
        ",district,Sheikhupura,nehri,1440000,acre,2020-01-01,\n"
        "Kot Pindi Das,,,nehri,100,marla,2020-01-01,2021-01-01\n",
    )
    assert load_dc_rates(demo_copy, path, actor=service_actor(demo_copy, "demo")).rows == 2
    with demo_copy.connect() as conn:
        assert conn.execute(text("SELECT name FROM mouza WHERE id = 1")).scalar() == "Kot Pindi Das"
        own = dc_rate_on(conn, 1, "nehri", date(2020, 6, 1))
        later = dc_rate_on(conn, 1, "nehri", date(2021, 1, 1))
        other = dc_rate_on(conn, 2, "nehri", date(2020, 6, 1))
        none = dc_rate_on(conn, 2, "chahi", date(2020, 6, 1))
        khasra = conn.execute(
            text("SELECT id, record_area_sarsai FROM khasra WHERE mouza_id = 2"
                 " AND land_class = 'nehri' LIMIT 1")
        ).one()  # fmt: skip
        value = statutory_value(conn, khasra.id, date(2022, 1, 1), Fraction(1, 2))
        with pytest.raises(NoRateInForce, match="chahi"):
            chahi = conn.execute(
                text("SELECT id FROM khasra WHERE mouza_id = 2 AND land_class = 'chahi' LIMIT 1")
            ).scalar_one()
            statutory_value(conn, chahi, date(2022, 1, 1))
    assert own is not None and own.place.startswith("mouza") and own.unit == "marla"
    assert later is not None and later.place == "district Sheikhupura"
    assert other is not None and other.rs_per_unit == 1_440_000
    assert none is None
    # Rs 1,440,000 per acre is Rs 1,000 per standard sarsai
    assert value.value == Fraction(khasra.record_area_sarsai * 1000, 2)
    assert value.rate.id == other.id


def test_urban_property_tax_from_the_rental_table(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    from cli_support import use_database
    from typer.testing import CliRunner

    from landgov.cli.main import app
    from landgov.storage import engine as engine_module
    from landgov.valuation.rates import load_rental_values
    from landgov.valuation.transfer import urban_property_tax

    path = write(tmp_path, (
        "city,locality,category,rs_per_sq_ft_per_year,valid_from,valid_to,notification\n"
        "Lahore,Gulberg,residential,36.50,2025-07-01,,PVT 2025 (demo)\n"
    ))  # fmt: skip
    load_rental_values(engine, path, actor=service_actor(engine, "demo"))
    with engine.connect() as conn:
        result = urban_property_tax(
            conn, province="Punjab", city="lahore", locality="Gulberg", category="residential",
            area_sq_ft=Fraction(2250), on=date(2026, 1, 1),
        )  # fmt: skip
        with pytest.raises(NoRateInForce, match="no rental value in force on 2025-01-01"):
            urban_property_tax(
                conn, province="Punjab", city="Lahore", locality="Gulberg",
                category="residential", area_sq_ft=Fraction(2250), on=date(2025, 1, 1),
            )  # fmt: skip
    assert result.annual_rental_value_rs == 82_125  # 2,250 ft² × Rs 36.50
    assert [t.code for t in result.taxes] == ["property_tax"]
    assert result.total_rs == 4_106  # 5 % (seeded Punjab rule), rounded half up

    use_database(engine, tmp_path, monkeypatch)  # a read: no session, no service key
    try:
        args = ["tax", "property", "--city", "Lahore", "--locality", "Gulberg",
                "--area-sq-ft", "2250", "--on", "2026-01-01"]  # fmt: skip
        res = CliRunner().invoke(app, [*args, "--json"])
        assert res.exit_code == 0, res.output
        assert json.loads(res.output)["total_tax_rs"] == 4_106
        bad = CliRunner().invoke(app, [*args, "--category", "palace"])
        assert bad.exit_code == 1 and "'palace' is not one of" in bad.output
        none = CliRunner().invoke(app, [*args[:5], "Model Town", *args[6:]])
        assert none.exit_code == 1 and "no rental value in force" in none.output
    finally:
        engine_module._engine_for.cache_clear()
