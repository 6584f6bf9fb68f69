"""Helpers shared by the importers and the exporter.

Input limits
------------
Every import checks its file against three limits before anything is read into the
database; a file over one is refused (:class:`~landgov.errors.ImportRejected`, naming the
file, the row and the limit) and nothing is written. Each is set by an environment
variable holding a whole number greater than 0:

===============================  ===============  =====================================
variable                         default          what it bounds
===============================  ===============  =====================================
``LANDGOV_IMPORT_MAX_BYTES``     536870912        bytes of one file (512 MiB); a
                                 (512 MiB)        Shapefile's .shp with its sidecars,
                                                  a .zip both packed and unpacked
``LANDGOV_IMPORT_MAX_ROWS``      2000000          data rows of a register, features of
                                                  a parcel layer
``LANDGOV_IMPORT_MAX_VERTICES``  100000           vertices of one parcel (all its parts)
===============================  ===============  =====================================

A variable that is set but is not such a number is refused
(:class:`~landgov.errors.InputRejected`) rather than silently ignored.

Text that cannot hurt the next reader
-------------------------------------
Text cells may not hold terminal control characters: C0 controls other than tab and
newline (so also ESC, which starts terminal escape sequences, and carriage return, which
overwrites a line), DEL, the C1 controls U+0080-U+009F, nor the bidirectional embedding,
override and isolate characters U+202A-U+202E and U+2066-U+2069 (they make a name or a
number display as something else: "Trojan Source"). Each such cell is a
:class:`~landgov.errors.RowProblem`; messages that repeat text from a file show these
characters as ``<U+001B>`` (:func:`printable`), never raw.
"""

from __future__ import annotations

import functools
import hashlib
import math
import os
import re
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import pandas as pd
from sqlalchemy import text
from sqlalchemy.engine import Connection

from landgov.errors import ImportRejected, InputRejected, RowProblem
from landgov.security import Actor, authorize, policy
from landgov.storage.audit import append as append_audit

# --- input limits ----------------------------------------------------------------------

LIMIT_VARIABLES: Final = {
    "max_bytes": ("LANDGOV_IMPORT_MAX_BYTES", 512 * 1024 * 1024),
    "max_rows": ("LANDGOV_IMPORT_MAX_ROWS", 2_000_000),
    "max_vertices": ("LANDGOV_IMPORT_MAX_VERTICES", 100_000),
}
"""Limit -> (environment variable, default)."""


@dataclass(frozen=True)
class Limits:
    """The input limits in force (module notes)."""

    max_bytes: int
    max_rows: int
    max_vertices: int


def import_limits() -> Limits:
    """The limits from the environment, read at each import (module notes).

    Raises:
        InputRejected: a variable is set to something other than a whole number > 0.
    """
    values: dict[str, int] = {}
    for name, (variable, default) in LIMIT_VARIABLES.items():
        raw = os.environ.get(variable, "").strip()
        if not raw:
            values[name] = default
            continue
        digits = raw.replace("_", "").replace(",", "")
        if not (digits.isascii() and digits.isdigit() and len(digits) <= 18 and int(digits) > 0):
            raise InputRejected(
                f"{variable}={printable(raw)!r} is not a whole number greater than 0 "
                f"(the default is {default:,})"
            )
        values[name] = int(digits)
    return Limits(**values)


def _size_text(n: int) -> str:
    for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f} {unit} ({n:,} bytes)"
    return f"{n:,} bytes"


def check_size(path: Path, limits: Limits, files: Iterable[Path] = ()) -> None:
    """Refuses a file (with ``files``, its sidecars) larger than ``limits.max_bytes``; a
    zip archive also when its members unpack to more (a zip bomb)."""
    size = sum(f.stat().st_size for f in {path, *files})
    limit = limits.max_bytes
    variable = LIMIT_VARIABLES["max_bytes"][0]
    if size > limit:
        raise file_problem(
            path,
            f"the file is {_size_text(size)}, more than the limit of {_size_text(limit)} "
            f"set by {variable}",
        )
    if path.suffix.lower() == ".zip" and zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as archive:
                unpacked = sum(info.file_size for info in archive.infolist())
        except (zipfile.BadZipFile, OSError) as exc:
            raise file_problem(path, f"a damaged zip archive: {exc}") from exc
        if unpacked > limit:
            raise file_problem(
                path,
                f"the archive unpacks to {_size_text(unpacked)}, more than the limit of "
                f"{_size_text(limit)} set by {variable}",
            )


def too_many_rows(path: Path, limits: Limits, found: str = "") -> ImportRejected:
    """The rejection of a file with more data rows than ``limits.max_rows``: row
    ``max_rows + 1`` is the first one over the limit."""
    limit = limits.max_rows
    variable = LIMIT_VARIABLES["max_rows"][0]
    return ImportRejected(
        str(path),
        [
            RowProblem(
                limit + 1,
                None,
                f"{found or 'the file has'} more than {limit:,} rows, the limit set by "
                f"{variable}: row {limit + 1:,} is the first over it; split the file",
            )
        ],
    )


# --- text that cannot hurt the next reader --------------------------------------------------

_CONTROL: Final = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_CONTROL_NAMES: Final = {
    "\x00": "NUL",
    "\x07": "BEL, the bell",
    "\x08": "BS, backspace",
    "\x0b": "VT, vertical tab",
    "\x0c": "FF, form feed",
    "\x0d": "CR, carriage return",
    "\x1b": "ESC, which starts a terminal escape sequence",
    "\x7f": "DEL",
    "\x9b": "CSI, a terminal control sequence",
}


def has_control(value: str) -> bool:
    """Whether ``value`` holds a character :func:`control_problem` refuses."""
    return _CONTROL.search(value) is not None


def _describe(char: str) -> str:
    code = f"U+{ord(char):04X}"
    name = _CONTROL_NAMES.get(char) or unicodedata.name(char, "").lower()
    if not name:
        name = "a C1 control character" if ord(char) >= 0x80 else "a control character"
    return f"{code} ({name})"


def control_problem(value: str) -> str | None:
    """Why ``value`` is refused as text, or None: the first terminal control or
    bidirectional override character it holds (module notes)."""
    found = _CONTROL.search(value)
    if found is None:
        return None
    return (
        f"contains {_describe(found.group())} at character {found.start() + 1}: terminal "
        "control characters and bidirectional overrides are not allowed in text"
    )


def printable(value: str) -> str:
    """``value`` with each refused control character written ``<U+001B>``, for messages
    that repeat text read from a file."""
    return _CONTROL.sub(lambda m: f"<U+{ord(m.group()):04X}>", value)


def clean_problems(problems: Iterable[RowProblem]) -> list[RowProblem]:
    """The problems with any control characters in their fields and reasons made
    printable (a reason may quote a cell)."""
    return [
        RowProblem(p.row, None if p.field is None else printable(p.field), printable(p.reason))
        for p in problems
    ]


# --- who imports ------------------------------------------------------------------------


def check_import_role(actor: Actor) -> None:
    """Refuses, before any file is read, an actor whose roles cannot import at all.

    Raises:
        AccessDenied: rule ``role``.
    """
    if not actor.has("records.load_demo"):
        policy.check_role(actor.roles, "records.import", actor.display)


def authorize_import(conn: Connection, actor: Actor, mouza_ids: Iterable[int]) -> None:
    """Checks ``actor`` may write imported records into each of ``mouza_ids``.

    The demo loader (``svc_demo``) writes anywhere, as row-level security allows it;
    everyone else needs ``records.import``: an officer posted over the mouza today.
    The actor must already be bound to ``conn`` (:func:`landgov.security.bind`).

    Raises:
        AccessDenied: with the rule that refuses (``role``, ``jurisdiction``).
    """
    if actor.has("records.load_demo"):
        authorize(conn, actor, "records.load_demo")
        return
    for mouza_id in sorted(set(mouza_ids)):
        authorize(conn, actor, "records.import", mouza_id=mouza_id)


def file_problem(path: Path, reason: str, field: str | None = None) -> ImportRejected:
    """An ImportRejected for a problem with the whole file (no row)."""
    return ImportRejected(str(path), [RowProblem(None, field, reason)])


def check_readable(path: Path) -> None:
    """Rejects a path that is not an existing, readable regular file."""
    if not path.exists():
        raise file_problem(path, "file not found")
    if not path.is_file():
        raise file_problem(path, "not a file")
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise file_problem(path, f"cannot be read: {exc.strerror or exc}") from exc


def sha256_file(path: Path) -> str:
    """SHA-256 of a file; for a Shapefile, of the .shp and its sidecars together.

    A Shapefile's attributes and CRS live in sidecar files (.dbf, .shx, .prj, .cpg), so
    hashing the .shp alone would let two different imports share one fingerprint.
    """
    files = [path]
    if path.suffix.lower() == ".shp":
        files += sorted(
            p
            for p in path.parent.glob(path.stem + ".*")
            if p.suffix.lower() in {".dbf", ".shx", ".prj", ".cpg"}
        )
    digest = hashlib.sha256()
    for file in files:
        with file.open("rb") as fh:
            for chunk in iter(functools.partial(fh.read, 1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def mouza_label(conn: Connection, mouza_id: int) -> str:
    """``mouza Kot Nau (hadbast 117)``."""
    name, hadbast = conn.execute(
        text("SELECT name, hadbast_number FROM mouza WHERE id = :id"), {"id": mouza_id}
    ).one()
    return f"mouza {name} (hadbast {hadbast})"


def write_audit(
    conn: Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: str | None,
    details: Mapping[str, object],
) -> None:
    """One audit row, chained by :func:`landgov.storage.audit.append`."""
    append_audit(
        conn, actor=actor, action=action, entity=entity, entity_id=entity_id, details=details
    )


def cell_text(value: object) -> str | None:
    """A cell as stripped text; None for a missing value or blank text.

    Numbers read from typed columns come back as the text a person would type: an
    integral float ``12.0`` is ``"12"``.
    """
    if value is None:
        return None
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return str(int(value))
        return repr(value)
    if value is pd.NA or value is pd.NaT:
        return None
    stripped = str(value).strip()
    return stripped or None
