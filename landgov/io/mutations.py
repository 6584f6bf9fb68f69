"""Importing a mutation (intiqal) register from CSV.

File format
-----------
UTF-8 CSV (a byte-order mark is allowed), comma-separated, one header row, then ONE ROW
PER MUTATION LINE. The header must name exactly the columns of :data:`COLUMNS`, in any
order (names are case-insensitive). Empty cells are empty values.

Mutation (header) fields, repeated on every line of a mutation and required to agree:

=====================  =================================================================
``mouza``              the mouza's name or hadbast number
``mutation_no``        the mutation's number in the mouza's register, a whole number > 0
``type``               a :class:`~landgov.domain.MutationType` (``sale``, ``inheritance``...)
``status``             a :class:`~landgov.domain.MutationStatus`: ``entered``,
                       ``verified``, ``sanctioned`` or ``rejected``
``entered_on``         date of entry, ``YYYY-MM-DD``; required
``verified_on``        required for ``verified``; empty for ``entered``; optional otherwise
``decided_on``         date of sanction or rejection: required for ``sanctioned`` and
                       ``rejected``, empty otherwise
``officer_cnic``       CNIC of the deciding officer (in the officer table); required for
                       ``sanctioned`` and ``rejected``
``rejection_reason``   required for ``rejected``, empty otherwise
``deed_number``        registered deed number; given together with ``deed_date``; a deed
                       is entered once (see Deeds and prices)
``deed_date``          ``YYYY-MM-DD``
``sub_registrar``      registering office, optional
``consideration_rs``   declared price, whole rupees >= 0 (``1,250,000`` allowed); required
                       and above zero for a ``sale``, optional otherwise
``statutory_value_rs`` statutory value, whole rupees >= 0, optional
``fees_rs``            fees paid, whole rupees >= 0, optional
=====================  =================================================================

Line fields:

=====================  =================================================================
``khewat_no``          the khewat transferred from, which must exist in the mouza
``line_no``            whole number > 0, unique within the mutation
``transferor``         CNIC of an existing person, or the custodian code of an existing
                       state party (``irrigation``, ``board_of_revenue``...), or empty
``transferee``         the same; at least one of the two is given, and they differ
``share``              the fraction of the WHOLE khewat transferred, ``n/d`` in (0, 1]
``right_type``         a :class:`~landgov.domain.RightType`; default ``ownership``
=====================  =================================================================

An optional column (the header may add it):

=====================  =================================================================
``verifier_cnic``      CNIC of the officer who verified (in the officer table); only
                       with ``verified_on``
=====================  =================================================================

Dates must be in order (entered <= verified <= decided) and none after today. Every rule
the database's CHECK constraints enforce is checked first, so each problem names its row
(data rows count from 1; the header is not a row) and field. Mutation numbers already in
the register of their mouza are refused. The importer records the register; it does not
apply sanctioned mutations to shares (the mutation engine does). Any problem rejects the
whole file; the write is one transaction with one audit_log row (and the database's own
audit row of the inserted mutations, which names the importing actor).

Deeds and prices
----------------
The register is held to the two entry rules of the mutation engine
(:mod:`landgov.records.entry`, issue 19), as refusals naming row and field:

- **a registered deed is entered once** (field ``deed_number``): a deed is its
  sub-registrar's office, the year of its date and its number, case and runs of spaces
  not counting, keyed by the same SQL as the engine and the unique index
  ``mutation_deed_once`` of sql/025 (:func:`landgov.records.entry.deed_key_sql`; the
  database keys the whole file in one query, so no second spelling rule exists to drift).
  A deed on two mutations of the file is refused on the later row, naming the earlier
  row; a deed of a mutation already in the register is refused naming that mutation's
  number and mouza. The engine's exceptions hold: a ``rejected`` mutation holds no deed
  (a mutation rejected because the parties did not appear is entered again on the same
  deed), nor does a ``court_decree`` (its "deed number" is the case number, and one
  decree may order several mutations). A deed entered elsewhere between the check and
  the write meets the index, and the file is refused saying so.
- **a sale needs its declared price** (field ``consideration_rs``, above zero; a
  transfer for no price is a gift), whatever the sale's status. A register is history,
  and the importer flags rather than refuses what a dispute rule must find (an officer
  outside jurisdiction, below); a sale without a price is not such a case. No dispute
  rule reads a missing price (``under_declared_price`` compares a declared price with
  the DC value and passes over a sale without one, domain.md §6.8), the valuation
  models set such a sale aside, and the adversarial planter
  (:mod:`landgov.disputes.adversary`) imports every sale with its price. Accepting one
  would put a sale beyond the under-declaration rule's reach and its taxes beyond
  computing, so it is refused like an entry, and the register is corrected at source.

Who may import
--------------
The importing :class:`~landgov.security.Actor` is bound to the transaction first; it
needs ``records.import`` in every mouza the register writes to (an officer posted over
the mouza today; the demo loader ``svc_demo`` anywhere), else
:class:`~landgov.errors.AccessDenied` names the rule and nothing is written.

Officers named in the register
------------------------------
A register's decisions get the same rank checks as the mutation engine, and the same
jurisdiction check, but the two are treated differently, on purpose:

- **rank is refused** (a :class:`~landgov.errors.RowProblem`, rule
  ``officer_designation``): the officer of a ``sanctioned`` or ``rejected`` row must be a
  naib tehsildar, tehsildar or assistant commissioner; a named verifier must not be a
  patwari; an unknown CNIC is refused; the verifier may not also be the deciding officer
  (``separation_of_duties``). A wrong rank is a mistake in the file, which can be fixed
  and imported again.
- **jurisdiction is flagged** (one ``mutation_flag`` row per mutation, rule
  ``imported_officer_unchecked``, its ``details.checks`` naming each step, officer, date
  and the check that failed): the deciding officer, and a named verifier, must be posted
  over the mouza on the date of the step (:func:`landgov.storage.officers.
  jurisdiction_mouzas`, the rule of the mutation engine). A register is the history of
  decisions already taken: a sanction by an officer without jurisdiction is exactly
  what the dispute scan must find (signal 7, ``officer_outside_jurisdiction``, which the
  demo district plants in its own register), so refusing the file would hide it rather
  than fix it. A verification with a date but no verifier named is flagged too
  (``no_verifier``): it cannot be checked. Nothing imported is silently trusted: the
  summary counts the mutations flagged for review.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Final, NamedTuple, TypeVar

from rich.progress import Progress
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from landgov.domain import (
    Custodian,
    MutationStatus,
    MutationType,
    RightType,
    parse_share,
    to_terms,
    validate_cnic,
)
from landgov.errors import DomainError, ImportRejected, RowProblem
from landgov.io._common import (
    Limits,
    authorize_import,
    check_import_role,
    check_readable,
    check_size,
    clean_problems,
    control_problem,
    file_problem,
    has_control,
    import_limits,
    printable,
    sha256_file,
    too_many_rows,
    write_audit,
)
from landgov.io.reports import ImportReport
from landgov.progress import track
from landgov.records.entry import deed_counts_sql, deed_key_sql
from landgov.security import Actor, bind
from landgov.storage.bulk import (
    MUTATION_COLUMNS,
    MUTATION_LINE_COLUMNS,
    copy_rows,
    database_reason,
)
from landgov.storage.lookup import NotFound, resolve_mouza
from landgov.storage.officers import REVENUE_OFFICERS, Officer

HEADER_FIELDS: Final = (
    "type",
    "status",
    "entered_on",
    "verified_on",
    "decided_on",
    "officer_cnic",
    "rejection_reason",
    "deed_number",
    "deed_date",
    "sub_registrar",
    "consideration_rs",
    "statutory_value_rs",
    "fees_rs",
)
"""Fields of the mutation itself: every line of one mutation repeats them identically."""

LINE_FIELDS: Final = ("khewat_no", "line_no", "transferor", "transferee", "share", "right_type")

COLUMNS: Final = ("mouza", "mutation_no", *HEADER_FIELDS, *LINE_FIELDS)
"""The exact columns of a mutation register CSV."""

OPTIONAL_COLUMNS: Final = ("verifier_cnic",)
"""Columns a register may add; a mutation field, repeated on every line like the others."""

FLAG_RULE: Final = "imported_officer_unchecked"
"""The ``mutation_flag`` rule of an imported step whose officer failed (or escaped) the
jurisdiction check (module notes)."""

_MUTATION_FIELDS: Final = (*HEADER_FIELDS, *OPTIONAL_COLUMNS)
_ALL_COLUMNS: Final = (*COLUMNS, *OPTIONAL_COLUMNS)
_INT4_MAX: Final = 2_147_483_647
_INT8_MAX: Final = 9_223_372_036_854_775_807
_MONEY_DIGITS: Final = {"consideration_rs": 16, "statutory_value_rs": 16, "fees_rs": 14}
_DATE_RE: Final = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_LONGEST_TERM: Final = 60  # digits of a share's term read at all (int8 has 19)
_DECIDED: Final = (MutationStatus.SANCTIONED, MutationStatus.REJECTED)
_DEED_ONCE: Final = "mutation_deed_once"  # the unique index of sql/025

E = TypeVar("E", bound=StrEnum)


class _Bad(Exception):
    """A cell that cannot be read; the message is the reason."""


class _PartyRef(NamedTuple):  # a NamedTuple hashes fast: looked up twice per line
    kind: str  # "cnic" or "custodian"
    key: str


@dataclass
class _Line:
    """One data row, its cells read; a field missing from ``values`` failed to read."""

    row: int
    values: dict[str, Any] = field(default_factory=dict)


class _Step(NamedTuple):
    """A step of an imported mutation whose officer's jurisdiction is checked."""

    key: tuple[int, int]
    row: int
    step: str  # "decision" or "verification"
    field: str  # the register column naming the officer
    officer: Officer
    on: date


def _shown(text: str, limit: int = 40) -> str:
    """A cell as a message repeats it: cut when long."""
    return text if len(text) <= limit else text[:limit] + "…"


# --- reading cells -----------------------------------------------------------------


def _int(text: str | None, what: str) -> int | None:
    if text is None:
        return None
    if not text.isascii() or not text.isdigit():
        raise _Bad(f"{what} '{_shown(text)}' is not a whole number")
    if len(text.lstrip("0")) > len(str(_INT4_MAX)):
        raise _Bad(f"{what} {_shown(text)} is too large")
    value = int(text)
    if value <= 0:
        raise _Bad(f"{what} {value} must be 1 or more")
    if value > _INT4_MAX:
        raise _Bad(f"{what} {value} is too large")
    return value


def _money(text: str | None, name: str) -> int | None:
    if text is None:
        return None
    digits = text.replace(",", "")
    if not digits.isascii() or not digits.isdigit():
        raise _Bad(f"'{_shown(text)}' is not a whole number of rupees (>= 0, e.g. 1250000)")
    significant = digits.lstrip("0") or "0"
    if len(significant) > _MONEY_DIGITS[name]:
        raise _Bad(
            f"{_shown(significant)} rupees is more than {_MONEY_DIGITS[name]} digits "
            "(the largest amount the register stores)"
        )
    return int(significant)


def _date(text: str | None) -> date | None:
    if text is None:
        return None
    if not _DATE_RE.fullmatch(text):
        raise _Bad(f"'{_shown(text)}' is not a date written YYYY-MM-DD")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise _Bad(f"'{text}' is not a date: {exc}") from None


def _enum(kind: type[E], what: str) -> Callable[[str | None], E | None]:
    members = {m.value: m for m in kind}
    allowed = ", ".join(members)

    def read(text: str | None) -> E | None:
        if text is None:
            return None
        member = members.get(text.lower())
        if member is None:
            raise _Bad(f"unknown {what} '{_shown(text)}'; expected one of: {allowed}")
        return member

    return read


def _cnic(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return validate_cnic(text)
    except DomainError as exc:
        raise _Bad(str(exc)) from None


_CUSTODIANS: Final = frozenset(c.value for c in Custodian)


def _party(text: str | None) -> _PartyRef | None:
    if text is None:
        return None
    custodian = text.lower()
    if custodian in _CUSTODIANS:
        return _PartyRef("custodian", custodian)
    try:
        return _PartyRef("cnic", validate_cnic(text))
    except DomainError:
        codes = ", ".join(c.value for c in Custodian)
        raise _Bad(
            f"'{_shown(text)}' is neither a CNIC (#####-#######-#) nor a custodian code ({codes})"
        ) from None


def _share(text: str | None) -> tuple[int, int]:
    """The share's (numerator, denominator) in lowest terms."""
    if text is None:
        raise _Bad("missing share; write the fraction of the whole khewat, e.g. '1/4'")
    longest = max((len(run) for run in re.findall(r"[0-9]+", text)), default=0)
    if longest > _LONGEST_TERM:
        raise _Bad(
            f"share '{_shown(text)}': a term of {longest:,} digits is too large to store "
            "(at most 19 digits once in lowest terms)"
        )
    try:
        terms = to_terms(parse_share(text))
    except DomainError as exc:
        raise _Bad(str(exc)) from None
    if terms[1] > _INT8_MAX:
        raise _Bad(f"share '{text}': its denominator is too large to store")
    return terms


def _text(text: str | None) -> str | None:
    return text


def _required(reader: Callable[[str | None], Any], what: str) -> Callable[[str | None], Any]:
    def read(text: str | None) -> Any:
        if text is None:
            raise _Bad(f"missing {what}")
        return reader(text)

    return read


_READERS: Final[dict[str, Callable[[str | None], Any]]] = {
    "mouza": _required(_text, "mouza (name or hadbast number)"),
    "mutation_no": _required(lambda t: _int(t, "mutation number"), "mutation number"),
    "type": _required(_enum(MutationType, "mutation type"), "mutation type"),
    "status": _required(_enum(MutationStatus, "status"), "status"),
    "entered_on": _required(_date, "date of entry (YYYY-MM-DD)"),
    "verified_on": _date,
    "decided_on": _date,
    "officer_cnic": _cnic,
    "verifier_cnic": _cnic,
    "rejection_reason": _text,
    "deed_number": _text,
    "deed_date": _date,
    "sub_registrar": _text,
    "consideration_rs": lambda t: _money(t, "consideration_rs"),
    "statutory_value_rs": lambda t: _money(t, "statutory_value_rs"),
    "fees_rs": lambda t: _money(t, "fees_rs"),
    "khewat_no": _required(lambda t: _int(t, "khewat number"), "khewat number"),
    "line_no": _required(lambda t: _int(t, "line number"), "line number"),
    "transferor": _party,
    "transferee": _party,
    "share": _share,
    "right_type": lambda t: _enum(RightType, "right type")(t) or RightType.OWNERSHIP,
}


# --- the importer ------------------------------------------------------------------


def import_mutations(
    engine: Engine,
    path: Path,
    *,
    actor: Actor,
    progress: Progress | None = None,
) -> ImportReport:
    """Imports a mutation register CSV (see the module documentation), all or nothing.

    Args:
        engine: the database (the application role).
        path: the CSV file, one row per mutation line.
        actor: who imports: bound to the transaction, named by the audit rows; needs
            ``records.import`` in every mouza of the register (module notes).
        progress: a rich progress bar to advance, or None.

    Raises:
        ImportRejected: the file cannot be read, is over a limit
            (:mod:`landgov.io._common`) or any row is bad; every problem found is listed
            with its row, field and reason, and nothing is written.
        AccessDenied: the actor may not import into a mouza of the register.
        AuthenticationFailed: the actor's session has ended.
        InputRejected: a limit's environment variable is not a number.
    """
    started = time.perf_counter()
    path = Path(path)
    check_import_role(actor)
    check_readable(path)
    lines, problems, columns = _read(path, import_limits(), progress)
    digest = sha256_file(path)
    try:
        with engine.begin() as conn:
            bind(conn, actor)
            resolver = _Resolver(conn, lines)
            authorize_import(
                conn, actor, (m for m in resolver.mouzas.values() if isinstance(m, int))
            )
            mutations, mutation_lines, flags = _check(resolver, lines, problems, progress)
            if problems:
                problems.sort(key=lambda p: -1 if p.row is None else p.row)
                raise ImportRejected(str(path), clean_problems(problems))
            ids = _insert(conn, mutations, mutation_lines, progress)
            _flag(conn, flags, ids, path)
            mouza_ids = sorted({m["mouza_id"] for m in mutations})
            write_audit(
                conn,
                actor=actor.label,
                action="import mutations",
                entity="mouza",
                entity_id=str(mouza_ids[0]) if len(mouza_ids) == 1 else None,
                details={
                    "file": path.name,
                    "sha256": digest,
                    "count": len(mutations),
                    "lines": len(mutation_lines),
                    "mouza_ids": mouza_ids,
                    "columns": list(columns),
                    "flagged": {FLAG_RULE: len(flags)} if flags else {},
                },
            )
    except DBAPIError as exc:
        if getattr(getattr(exc.orig, "diag", None), "constraint_name", None) == _DEED_ONCE:
            # entered elsewhere between the check and the write (module notes)
            raise ImportRejected(
                str(path),
                [
                    RowProblem(
                        None,
                        "deed_number",
                        "a deed of this file was entered in the register while the file was "
                        f"being imported ({database_reason(exc)}); import the file again to "
                        "see which row",
                    )
                ],
            ) from exc
        raise ImportRejected(
            str(path), [RowProblem(None, None, f"the database refused it: {database_reason(exc)}")]
        ) from exc
    several = f"{len(mouza_ids)} mouzas"
    target = resolver.labels[mouza_ids[0]] if len(mouza_ids) == 1 else several
    counts = {"mutation": len(mutations), "mutation_line": len(mutation_lines)}
    if flags:
        counts["mutation_flag"] = len(flags)
    return ImportReport(
        path=path,
        counts=counts,
        seconds=time.perf_counter() - started,
        target=target,
        details={
            "sha256": digest,
            "mouza_ids": mouza_ids,
            "flagged": {key: [c["check"] for c in checks] for key, checks in sorted(flags.items())},
        },
    )


def _decode(path: Path, data: bytes) -> str:
    """The file's text; a byte that is not UTF-8 is refused naming its row, line and
    byte offset."""
    start = len(codecs.BOM_UTF8) if data.startswith(codecs.BOM_UTF8) else 0
    try:
        return data[start:].decode("utf-8")
    except UnicodeDecodeError as exc:
        offset = start + exc.start
        prefix = data[start:offset].decode("utf-8")
        line = prefix.count("\n") + 1
        # the CSV record the byte falls in (a quoted cell may span lines): count the
        # records of the good text before it, plus a stand-in for the bad byte
        record = sum(1 for _ in csv.reader(io.StringIO(prefix + "x"))) - 1
        where = "the header" if record == 0 else f"data row {record:,}"
        raise ImportRejected(
            str(path),
            [
                RowProblem(
                    record or None,
                    None,
                    f"not UTF-8 text (byte 0x{data[offset]:02x} at byte offset {offset:,}, "
                    f"line {line:,}, {where}); expected a CSV mutation register saved as "
                    "UTF-8",
                )
            ],
        ) from exc


def _read(
    path: Path, limits: Limits, progress: Progress | None
) -> tuple[list[_Line], list[RowProblem], tuple[str, ...]]:
    """Reads the CSV and every cell; raises at once only for file-level problems.

    Returns the lines read, the problems found and the columns the file has.
    """
    check_size(path, limits)
    content = _decode(path, path.read_bytes())
    records: list[list[str]] = []
    try:
        for record in csv.reader(io.StringIO(content, newline=""), strict=True):
            records.append(record)
            if len(records) > limits.max_rows + 1:  # the header is not a row
                raise too_many_rows(path, limits)
    except csv.Error as exc:
        raise file_problem(path, f"not a readable CSV file: {printable(str(exc))}") from exc
    controls = has_control(content)  # check each cell only when the file has any
    del content
    optional = f" (and optionally {', '.join(OPTIONAL_COLUMNS)})"
    expected = f"expected exactly these columns: {', '.join(COLUMNS)}{optional}"
    if not records or not any(cell.strip() for cell in records[0]):
        raise file_problem(path, f"the file is empty: no header row; {expected}")
    header = [cell.strip().lower() for cell in records[0]]
    if controls:
        bad = [
            RowProblem(None, None, f"column {i} of the header {control_problem(name)}")
            for i, name in enumerate(header, start=1)
            if has_control(name)
        ]
        if bad:
            raise ImportRejected(str(path), bad)
    problems = [
        RowProblem(None, name, f"column '{name}' appears {header.count(name)} times")
        for name in dict.fromkeys(header)
        if header.count(name) > 1
    ]
    problems += [
        RowProblem(None, name, f"missing column '{name}'; {expected}")
        for name in COLUMNS
        if name not in header
    ]
    problems += [
        RowProblem(None, name or None, f"unknown column '{_shown(name)}'; {expected}")
        for name in header
        if name not in _ALL_COLUMNS
    ]
    if problems:
        raise ImportRejected(str(path), problems)
    columns = tuple(name for name in _ALL_COLUMNS if name in header)
    index = {name: header.index(name) for name in columns}

    lines: list[_Line] = []
    memo: dict[tuple[str, str | None], Any] = {}
    data = records[1:]
    del records
    for row, record in track(
        enumerate(data, start=1), f"Reading {path.name}", progress, total=len(data)
    ):
        cells = [cell.strip() for cell in record]
        if not any(cells):
            continue  # a blank line
        if len(cells) != len(header):
            problems.append(
                RowProblem(row, None, f"has {len(cells)} fields but the header has {len(header)}")
            )
            continue
        line = _Line(row)
        for name in columns:
            cell = cells[index[name]] or None
            if controls and cell is not None and has_control(cell):
                problems.append(RowProblem(row, name, str(control_problem(cell))))
                continue
            # registers repeat values (dates, CNICs, types): read each distinct one once
            value = memo.get((name, cell), memo)
            if value is memo:
                try:
                    value = _READERS[name](cell)
                except _Bad as exc:
                    value = exc
                memo[(name, cell)] = value
            if isinstance(value, _Bad):
                problems.append(RowProblem(row, name, str(value)))
            else:
                line.values[name] = value
        lines.append(line)
    if not lines and not problems:
        raise file_problem(path, "no mutation lines: the file has a header but no data rows")
    return lines, problems, columns


class _Resolver:
    """Looks up, once per distinct reference, what the rows refer to in the database."""

    def __init__(self, conn: Connection, lines: list[_Line]) -> None:
        self.conn = conn
        self.today: date = conn.execute(text("SELECT current_date")).scalar_one()
        self.mouzas: dict[str, int | str] = {}  # reference -> id, or the reason it failed
        for line in lines:
            ref = line.values.get("mouza")
            if ref is not None and ref.lower() not in self.mouzas:
                try:
                    self.mouzas[ref.lower()] = resolve_mouza(conn, ref)
                except NotFound as exc:
                    self.mouzas[ref.lower()] = str(exc)
        ids = sorted({v for v in self.mouzas.values() if isinstance(v, int)})
        self.labels = {
            int(i): f"mouza {n} (hadbast {h})"
            for i, n, h in self._rows("SELECT id, name, hadbast_number FROM mouza", "id", ids)
        }
        self.khewats = {
            (int(m), int(n)): int(i)
            for m, n, i in self._rows("SELECT mouza_id, number, id FROM khewat", "mouza_id", ids)
        }
        self.existing = {
            (int(m), int(n))
            for m, n in self._rows("SELECT mouza_id, number FROM mutation", "mouza_id", ids)
        }
        officers = sorted(
            {
                c
                for line in lines
                for name in ("officer_cnic", "verifier_cnic")
                if (c := line.values.get(name))
            }
        )
        select = "SELECT cnic, id, name, designation FROM officer"
        self.officers = {
            str(c): Officer(int(i), str(n), str(d), str(c))
            for c, i, n, d in self._rows(select, "cnic", officers)
        }
        refs: set[_PartyRef] = {
            ref
            for line in lines
            for name in ("transferor", "transferee")
            if (ref := line.values.get(name)) is not None
        }
        self.parties: dict[_PartyRef, int] = {}
        for kind in ("cnic", "custodian"):
            keys = sorted(r.key for r in refs if r.kind == kind)
            for key, party_id in self._rows(f"SELECT {kind}, id FROM party", kind, keys):
                self.parties[_PartyRef(kind, str(key))] = int(party_id)

    def _rows(self, select: str, column: str, values: list[Any]) -> list[Any]:
        """Rows of ``select`` whose ``column`` is one of ``values`` (ints or texts)."""
        if not values:
            return []
        kind = "bigint[]" if isinstance(values[0], int) else "text[]"
        sql = text(f"{select} WHERE {column} = ANY(CAST(:values AS {kind}))")
        return list(self.conn.execute(sql, {"values": values}))

    def party(self, ref: _PartyRef) -> int | None:
        return self.parties.get(ref)

    def posted(self, steps: list[_Step]) -> set[tuple[int, int, date]]:
        """The (officer, mouza, date) of ``steps`` where the officer was posted over the
        mouza on the date, in one query (a register names thousands of such steps)."""
        triples = sorted({(s.officer.id, s.key[0], s.on) for s in steps})
        if not triples:
            return set()
        officers, mouzas, days = (list(column) for column in zip(*triples, strict=True))
        rows = self.conn.execute(
            _POSTED_SQL, {"officers": officers, "mouzas": mouzas, "days": days}
        )
        return {(int(o), int(m), d) for o, m, d in rows}


# The rule of landgov.storage.officers.jurisdiction_mouzas (a posting valid on the day over
# the mouza's tehsil or patwar circle, or a unit above them), for many (officer, mouza,
# day) at once; tests/io check that the two agree.
_POSTED_SQL: Final = text(
    "WITH RECURSIVE asked AS ("
    "  SELECT DISTINCT * FROM unnest(CAST(:officers AS bigint[]), CAST(:mouzas AS bigint[]),"
    "   CAST(:days AS date[])) AS t(officer_id, mouza_id, on_day)),"
    " up(mouza_id, unit_id) AS ("
    "  SELECT m.id, u.unit_id FROM mouza m"
    "  CROSS JOIN LATERAL (VALUES (m.tehsil_id), (m.patwar_circle_id)) u(unit_id)"
    "  WHERE u.unit_id IS NOT NULL AND m.id IN (SELECT mouza_id FROM asked)"
    "  UNION SELECT up.mouza_id, a.parent_id FROM up JOIN admin_unit a ON a.id = up.unit_id"
    "  WHERE a.parent_id IS NOT NULL)"
    " SELECT DISTINCT a.officer_id, a.mouza_id, a.on_day FROM asked a"
    " JOIN up ON up.mouza_id = a.mouza_id"
    " JOIN officer_jurisdiction j ON j.admin_unit_id = up.unit_id"
    "  AND j.officer_id = a.officer_id AND j.valid_from <= a.on_day"
    "  AND (j.valid_to IS NULL OR j.valid_to > a.on_day)"
)


Flags = dict[tuple[int, int], list[dict[str, Any]]]
"""(mouza id, mutation number) -> the checks its flag lists."""


def _check(
    resolver: _Resolver,
    lines: list[_Line],
    problems: list[RowProblem],
    progress: Progress | None,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Flags]:
    """Cross-checks the rows with each other and the database; builds the rows to insert
    and the flags to raise."""
    mutations: dict[tuple[int, int], dict[str, Any]] = {}
    first_row: dict[tuple[int, int], _Line] = {}
    line_rows: dict[tuple[int, int, int], int] = {}
    out_lines: list[dict[str, Any]] = []
    steps: list[_Step] = []
    flags: Flags = {}

    def problem(row: int, name: str | None, reason: str) -> None:
        problems.append(RowProblem(row, name, reason))

    for line in track(lines, "Checking mutations", progress, total=len(lines)):
        v, row = line.values, line.row
        mouza_id: int | None = None
        if "mouza" in v:
            found = resolver.mouzas[v["mouza"].lower()]
            if isinstance(found, int):
                mouza_id = found
            else:
                problem(row, "mouza", found)
        number = v.get("mutation_no")
        key = (mouza_id, number) if mouza_id is not None and number is not None else None

        if key is not None and key not in first_row:
            first_row[key] = line
            label = resolver.labels[key[0]]
            if key in resolver.existing:
                problem(row, "mutation_no", f"mutation {number} already exists in {label}")
            mutations[key] = _mutation_row(resolver, line, key, problem, steps, flags)
        elif key is not None:
            head = first_row[key]
            for name in _MUTATION_FIELDS:
                if name in v and name in head.values and v[name] != head.values[name]:
                    problem(
                        row,
                        name,
                        f"mutation {number} has {_show(v[name])} here but "
                        f"{_show(head.values[name])} on row {head.row}; every line of a "
                        "mutation repeats the same mutation fields",
                    )

        # the line itself
        khewat_id = None
        if mouza_id is not None and v.get("khewat_no") is not None:
            khewat_id = resolver.khewats.get((mouza_id, v["khewat_no"]))
            if khewat_id is None:
                problem(
                    row,
                    "khewat_no",
                    f"khewat {v['khewat_no']} does not exist in {resolver.labels[mouza_id]}",
                )
        line_no = v.get("line_no")
        if key is not None and line_no is not None:
            seen = line_rows.setdefault((*key, line_no), row)
            if seen != row:
                problem(
                    row,
                    "line_no",
                    f"line {line_no} of mutation {number} is already on row {seen}",
                )
        parties: dict[str, int | None] = {}
        for name in ("transferor", "transferee"):
            if name not in v:
                continue
            ref = v[name]
            parties[name] = None if ref is None else resolver.party(ref)
            if ref is not None and parties[name] is None:
                what = "party with CNIC" if ref.kind == "cnic" else "state party for custodian"
                problem(row, name, f"no {what} {ref.key}")
        if "transferor" in v and "transferee" in v:
            if v["transferor"] is None and v["transferee"] is None:
                problem(row, "transferor", "a line needs a transferor, a transferee or both")
            elif v["transferor"] == v["transferee"]:
                same = v["transferor"].key
                problem(row, "transferee", f"transferor and transferee are both {same}")
        if key is not None and khewat_id is not None and "share" in v:
            numerator, denominator = v["share"]
            out_lines.append(
                {
                    "mutation": key,
                    "line_no": line_no,
                    "khewat_id": khewat_id,
                    "transferor_party_id": parties.get("transferor"),
                    "transferee_party_id": parties.get("transferee"),
                    "numerator": numerator,
                    "denominator": denominator,
                    "right_type": v.get("right_type", RightType.OWNERSHIP).value,
                }
            )
    posted = resolver.posted(steps)
    for s in steps:
        if (s.officer.id, s.key[0], s.on) not in posted:
            flags.setdefault(s.key, []).append(
                {
                    "row": s.row,
                    "step": s.step,
                    "field": s.field,
                    "officer_cnic": s.officer.cnic,
                    "on": s.on.isoformat(),
                    "check": "officer_jurisdiction",
                    "message": f"{s.officer.label} was not posted over "
                    f"{resolver.labels[s.key[0]]} on {s.on.isoformat()}, the date of the "
                    f"{s.step}",
                }
            )
    for checks in flags.values():
        checks.sort(key=lambda c: (c["row"], c["step"] != "verification"))
    _repeated_deeds(resolver, mutations, first_row, problem)
    return list(mutations.values()), out_lines, flags


def _repeated_deeds(
    resolver: _Resolver,
    mutations: dict[tuple[int, int], dict[str, Any]],
    first_row: dict[tuple[int, int], _Line],
    problem: Callable[[int, str | None, str], None],
) -> None:
    """Refuses a registered deed named twice: by two mutations of the file (the later
    row names the earlier), or by a mutation of the file and one already in the register
    (named by number and mouza). A deed is entered once, keyed as the mutation engine and
    the unique index ``mutation_deed_once`` key it (:func:`landgov.records.entry.
    deed_key_sql`: office, year and number, case and spaces not counting), with their
    exceptions: a rejected mutation and a court decree hold no deed.

    One query for the whole file: the database computes every key (so the file is keyed
    exactly as the index keys it, not by a Python copy of its rules), groups the file's
    deeds and looks each up in the index.
    """
    held = [
        (first_row[key].row, m)
        for key, m in mutations.items()
        if m["deed_number"] is not None
        and m["deed_date"] is not None
        and m["type"] not in (None, MutationType.COURT_DECREE.value)
        and m["status"] not in (None, MutationStatus.REJECTED.value)
    ]
    if not held:
        return
    office, year, number = deed_key_sql("f.num", "f.dated", "f.office")
    stored = deed_key_sql("m.deed_number", "m.deed_date", "m.sub_registrar")
    same = " AND ".join(f"{a} = k.{b}" for a, b in zip(stored, ("k1", "k2", "k3"), strict=True))
    found = resolver.conn.execute(
        text(
            f"WITH k AS (SELECT f.r, {office} AS k1, {year} AS k2, {number} AS k3"
            " FROM unnest(CAST(:rows AS int[]), CAST(:nums AS text[]), CAST(:days AS date[]),"
            " CAST(:offices AS text[])) AS f(r, num, dated, office))"
            " SELECT k.r, min(k.r) OVER (PARTITION BY k.k1, k.k2, k.k3) AS first_r,"
            " e.number, e.mouza, e.type, e.status, e.entered_on FROM k"
            " LEFT JOIN LATERAL (SELECT m.number, z.name AS mouza, m.type, m.status,"
            " m.entered_on FROM mutation m JOIN mouza z ON z.id = m.mouza_id"
            f" WHERE {deed_counts_sql('m')} AND {same} ORDER BY m.id LIMIT 1) e ON true"
        ),
        {
            "rows": [r for r, _ in held],
            "nums": [m["deed_number"] for _, m in held],
            "days": [m["deed_date"] for _, m in held],
            "offices": [m["sub_registrar"] for _, m in held],
        },
    ).all()
    by_row = {r: m for r, m in held}
    for r in sorted(found, key=lambda f: f.r):
        m = by_row[r.r]
        at = f" at {_shown(m['sub_registrar'])}" if m["sub_registrar"] else ""
        deed = f"deed {_shown(m['deed_number'])} of {m['deed_date'].year}{at}"
        if r.number is not None:
            problem(
                r.r,
                "deed_number",
                f"{deed} is already entered as mutation No. {r.number} of mouza {r.mouza} "
                f"({r.type.replace('_', ' ')}, entered {r.entered_on.isoformat()}, "
                f"{r.status}); a registered deed is entered once",
            )
        if r.first_r != r.r:
            first = by_row[r.first_r]
            problem(
                r.r,
                "deed_number",
                f"{deed} is already the deed of mutation {first['number']} of "
                f"{resolver.labels[first['mouza_id']]} on row {r.first_r}; a registered deed "
                "is entered once (office, year and number name one deed, whatever the case "
                "and spaces)",
            )


def _show(value: object) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, date):
        return value.isoformat()
    return f"'{_shown(str(value))}'"


def _mutation_row(
    resolver: _Resolver,
    line: _Line,
    key: tuple[int, int],
    problem: Callable[[int, str | None, str], None],
    steps: list[_Step],
    flags: Flags,
) -> dict[str, Any]:
    """Checks the mutation fields of a mutation's first row as the database and the
    mutation engine would; notes the steps whose officers' postings are checked."""
    v, row = line.values, line.row
    status = v.get("status")
    entered, verified, decided = v.get("entered_on"), v.get("verified_on"), v.get("decided_on")
    officer_cnic, reason = v.get("officer_cnic"), v.get("rejection_reason")
    verifier_cnic = v.get("verifier_cnic")

    if "verified_on" in v and status == MutationStatus.ENTERED and verified is not None:
        problem(row, "verified_on", "an entered mutation is not verified yet: leave it empty")
    if "verified_on" in v and status == MutationStatus.VERIFIED and verified is None:
        problem(row, "verified_on", "a verified mutation needs its date of verification")
    undecided = status in (MutationStatus.ENTERED, MutationStatus.VERIFIED)
    if undecided and decided is not None:
        problem(row, "decided_on", f"a mutation still {status} is not decided: leave it empty")
    if status in _DECIDED:
        if "decided_on" in v and decided is None:
            problem(row, "decided_on", f"a {status} mutation needs the date it was {status}")
        if "officer_cnic" in v and officer_cnic is None:
            problem(row, "officer_cnic", f"a {status} mutation needs the CNIC of the officer")
    if status == MutationStatus.REJECTED and "rejection_reason" in v and reason is None:
        problem(row, "rejection_reason", "a rejected mutation needs the reason")
    if status is not None and status != MutationStatus.REJECTED and reason is not None:
        problem(row, "rejection_reason", f"only a rejected mutation has a reason; this is {status}")
    if entered is not None and verified is not None and verified < entered:
        problem(row, "verified_on", f"verified on {verified} before it was entered ({entered})")
    if entered is not None and decided is not None and decided < entered:
        problem(row, "decided_on", f"decided on {decided} before it was entered ({entered})")
    if verified is not None and decided is not None and decided < verified:
        problem(row, "decided_on", f"decided on {decided} before it was verified ({verified})")
    today = resolver.today
    for name, day in (("entered_on", entered), ("verified_on", verified), ("decided_on", decided)):
        if day is not None and day > today:
            problem(
                row,
                name,
                f"{day.isoformat()} is after today ({today.isoformat()}): no step of a "
                "mutation is dated in the future (rule future_date)",
            )
    if "deed_number" in v and "deed_date" in v:
        if v["deed_number"] is not None and v["deed_date"] is None:
            problem(row, "deed_date", "a deed number needs its deed date")
        if v["deed_number"] is None and v["deed_date"] is not None:
            problem(row, "deed_number", "a deed date needs its deed number")
    if v.get("type") is MutationType.SALE and "consideration_rs" in v and not v["consideration_rs"]:
        problem(
            row,
            "consideration_rs",
            "a sale needs its declared price (Rs, above zero); a transfer for no price is a "
            "gift (hiba)",
        )

    officer = None
    if officer_cnic is not None:
        officer = resolver.officers.get(officer_cnic)
        if officer is None:
            problem(row, "officer_cnic", f"no officer with CNIC {officer_cnic}")
        elif status in _DECIDED and officer.designation not in REVENUE_OFFICERS:
            verb = "sanction" if status == MutationStatus.SANCTIONED else "reject"
            problem(
                row,
                "officer_cnic",
                f"{officer.label} cannot {verb} a mutation: only a naib tehsildar, "
                "tehsildar or assistant commissioner decides one (rule officer_designation)",
            )
        elif status in _DECIDED and decided is not None:
            steps.append(_Step(key, row, "decision", "officer_cnic", officer, decided))
    verifier = None
    if verifier_cnic is not None:
        verifier = resolver.officers.get(verifier_cnic)
        if status == MutationStatus.ENTERED:
            problem(row, "verifier_cnic", "an entered mutation is not verified yet: leave it empty")
        elif "verified_on" in v and verified is None:
            problem(
                row,
                "verifier_cnic",
                "a verifier is named only with the date of verification (verified_on)",
            )
        if verifier is None:
            problem(row, "verifier_cnic", f"no officer with CNIC {verifier_cnic}")
        elif verifier.designation == "patwari":
            problem(
                row,
                "verifier_cnic",
                f"{verifier.label} cannot verify a mutation: a patwari enters mutations, a "
                "girdawar or a revenue officer verifies them (rule officer_designation)",
            )
        elif officer is not None and officer.id == verifier.id and status in _DECIDED:
            verb = "sanction" if status == MutationStatus.SANCTIONED else "reject"
            problem(
                row,
                "officer_cnic",
                f"{officer.label} verified this mutation and cannot also {verb} it "
                "(rule separation_of_duties)",
            )
        elif verified is not None and status != MutationStatus.ENTERED:
            steps.append(_Step(key, row, "verification", "verifier_cnic", verifier, verified))
    elif verified is not None and status != MutationStatus.ENTERED:
        flags.setdefault(key, []).append(
            {
                "row": row,
                "step": "verification",
                "field": "verifier_cnic",
                "officer_cnic": None,
                "on": verified.isoformat(),
                "check": "no_verifier",
                "message": f"verified on {verified.isoformat()} by an officer the register "
                "does not name (verifier_cnic): who verified cannot be checked",
            }
        )
    return {
        "mouza_id": key[0],
        "number": key[1],
        "type": v["type"].value if v.get("type") else None,
        "status": status.value if status else None,
        "entered_on": entered,
        "verified_on": verified,
        "decided_on": decided,
        "rejection_reason": reason,
        "officer_id": None if officer is None else officer.id,
        "verified_by": None if verifier is None else verifier.id,
        "deed_number": v.get("deed_number"),
        "sub_registrar": v.get("sub_registrar"),
        "deed_date": v.get("deed_date"),
        "consideration_rs": v.get("consideration_rs"),
        "statutory_value_rs": v.get("statutory_value_rs"),
        "fees_rs": v.get("fees_rs"),
    }


_MUTATION_COLUMNS: Final = (*(c for c in MUTATION_COLUMNS if c != "remarks"), "verified_by")
"""What the register fills (it has no remarks column; the verifier is optional)."""


def _insert(
    conn: Connection,
    mutations: list[dict[str, Any]],
    lines: list[dict[str, Any]],
    progress: Progress | None,
) -> dict[tuple[int, int], int]:
    """Inserts by COPY inside the transaction, with mutation ids taken from the sequence
    up front so that the lines can name them; returns the id of each mutation."""
    ids = conn.execute(
        text(
            "SELECT nextval(pg_get_serial_sequence('mutation', 'id')) FROM generate_series(1, :n)"
        ),
        {"n": len(mutations)},
    ).scalars()
    by_key: dict[tuple[int, int], int] = {}
    for mutation, new_id in zip(mutations, ids, strict=True):
        mutation["id"] = int(new_id)
        by_key[(mutation["mouza_id"], mutation["number"])] = int(new_id)
    for line in lines:
        line["mutation_id"] = by_key[line.pop("mutation")]
    for table, columns, rows in (
        ("mutation", _MUTATION_COLUMNS, mutations),
        ("mutation_line", MUTATION_LINE_COLUMNS, lines),
    ):
        tracked = track(rows, f"Writing {table}s", progress, total=len(rows))
        copy_rows(conn, table, columns, (tuple(row[c] for c in columns) for row in tracked))
    return by_key


def _flag(conn: Connection, flags: Flags, ids: dict[tuple[int, int], int], path: Path) -> None:
    """One ``mutation_flag`` row per flagged mutation (module notes)."""
    copy_rows(
        conn,
        "mutation_flag",
        ("mutation_id", "rule", "details"),
        (
            (ids[key], FLAG_RULE, json.dumps({"source": f"import:{path.name}", "checks": checks}))
            for key, checks in sorted(flags.items())
        ),
    )
