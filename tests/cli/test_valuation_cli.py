"""``valuation ratio-study`` through typer's runner (the app is not registered in main)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from landgov.cli import valuation
from landgov.domain import ratio_study as rs

runner = CliRunner()

PRICES = [100.0, 200.0, 400.0, 500.0, 1000.0, 250.0, 300.0, 350.0, 450.0, 600.0]
ESTIMATES = [120.0, 220.0, 400.0, 450.0, 800.0, 240.0, 310.0, 330.0, 470.0, 3000.0]
# the last sale's ratio is 5: an outlier the trimmed figures must drop


@pytest.fixture
def sales_csv(tmp_path: Path) -> Path:
    path = tmp_path / "sales.csv"
    lines = ["estimate,sale_price,mouza"] + [
        f"{e},{p},{'Kot' if i % 2 else 'Pind'}"
        for i, (e, p) in enumerate(zip(ESTIMATES, PRICES, strict=True))
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_json_contract(sales_csv: Path) -> None:
    result = runner.invoke(valuation.app, ["ratio-study", str(sales_csv), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data)[:6] == ["n", "median_ratio", "cod", "prd", "prb", "mki"]
    assert data["n"] == 10
    assert data["median_ratio"] == pytest.approx(rs.median_ratio(ESTIMATES, PRICES))
    assert data["cod"] == pytest.approx(rs.cod(ESTIMATES, PRICES))
    assert data["prd"] == pytest.approx(rs.prd(ESTIMATES, PRICES))
    assert data["prb"] == pytest.approx(rs.prb(ESTIMATES, PRICES))
    assert data["mki"] == pytest.approx(rs.mki(ESTIMATES, PRICES))
    assert data["property_class"] == "other"
    assert set(data["gates"]) == set(rs.STATISTICS)
    assert set(data["ci"]) == set(rs.STATISTICS)

    trimmed = data["trimmed"]
    assert trimmed["n"] == 9 and trimmed["dropped"] == 1
    assert trimmed["cod"] == pytest.approx(rs.cod(ESTIMATES[:-1], PRICES[:-1]))
    assert trimmed["mki"] == pytest.approx(rs.mki(ESTIMATES[:-1], PRICES[:-1]))
    assert set(trimmed) >= {"n", "median_ratio", "cod", "prd", "prb", "mki", "gates", "ci"}


def test_seed_and_bootstrap_options(sales_csv: Path) -> None:
    args = ["ratio-study", str(sales_csv), "--json", "--bootstrap", "200", "--seed", "4"]
    first = json.loads(runner.invoke(valuation.app, args).output)
    again = json.loads(runner.invoke(valuation.app, args).output)
    assert first["ci"] == again["ci"] and first["n_boot"] == 200
    none = runner.invoke(
        valuation.app, ["ratio-study", str(sales_csv), "--json", "--bootstrap", "0"]
    )
    assert json.loads(none.output)["ci"] == {}


def test_property_class_sets_the_cod_gate(sales_csv: Path) -> None:
    base = ["ratio-study", str(sales_csv), "--json", "--bootstrap", "0"]
    res = json.loads(runner.invoke(valuation.app, [*base, "--class", "residential"]).output)
    vac = json.loads(runner.invoke(valuation.app, [*base, "--class", "vacant"]).output)
    assert res["limits"]["cod"] == [0.0, 15.0] and vac["limits"]["cod"] == [0.0, 25.0]
    bad = runner.invoke(valuation.app, [*base, "--class", "palace"])
    assert bad.exit_code != 0


def test_stratum_run(sales_csv: Path) -> None:
    result = runner.invoke(
        valuation.app,
        ["ratio-study", str(sales_csv), "--json", "--stratum", "mouza", "--bootstrap", "0"],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert list(data) == ["Kot", "Pind"]
    assert data["Pind"]["n"] == 5
    assert data["Pind"]["cod"] == pytest.approx(rs.cod(ESTIMATES[0::2], PRICES[0::2]))
    assert data["Kot"]["trimmed"]["n"] <= 5


def test_readable_table_marks_gates(sales_csv: Path) -> None:
    result = runner.invoke(
        valuation.app, ["ratio-study", str(sales_csv), "--bootstrap", "50"], terminal_width=160
    )
    assert result.exit_code == 0, result.output
    assert "COD" in result.output and "MKI" in result.output
    assert "FAIL" in result.output and "pass" in result.output
    assert "1 trimmed" in result.output


def test_bad_rows_exit_1_naming_row_and_field(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("estimate,sale_price\n100,120\n\n90,abc\n-5,100\n110,\n", encoding="utf-8")
    result = runner.invoke(valuation.app, ["ratio-study", str(path), "--json"])
    assert result.exit_code == 1
    message = " ".join(result.output.split())
    assert str(path.name) in message
    assert "row 3, field 'sale_price': not a number: 'abc'" in message
    assert "row 4, field 'estimate': must be positive" in message
    assert "row 5, field 'sale_price': empty" in message


@pytest.mark.parametrize(
    ("text", "args", "expected"),
    [
        ("price,estimate\n1,2\n", [], "missing column 'sale_price'"),
        ("estimate,sale_price\n", [], "no sales"),
        ("", [], "empty file"),
        ("estimate,sale_price\n1,2\n2,3\n3,5\n", ["--stratum", "mouza"], "missing column 'mouza'"),
        ("estimate,sale_price\n1,2\n2,3\n", [], "needs at least 3 sales"),
    ],
)
def test_bad_files_exit_1(tmp_path: Path, text: str, args: list[str], expected: str) -> None:
    path = tmp_path / "f.csv"
    path.write_text(text, encoding="utf-8")
    result = runner.invoke(valuation.app, ["ratio-study", str(path), *args])
    assert result.exit_code == 1
    assert expected in " ".join(result.output.split())


def test_missing_file_exit_1(tmp_path: Path) -> None:
    result = runner.invoke(valuation.app, ["ratio-study", str(tmp_path / "nope.csv")])
    assert result.exit_code == 1
    assert "no such file" in result.output
