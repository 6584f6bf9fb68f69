"""Effective-dated rate tables: loading them from CSV, and the rate in force on a date.

Why tables, not code: DC rates, FBR values, rental values and tax rates change by
notification every year or two (domain.md §7), so they are data with a validity period
``[valid_from, valid_to)``; the database refuses two overlapping periods for the same key,
so a date always finds one row or none.

Loading: every row is checked (each problem names the file, row, field and reason), the
whole file goes in one transaction with one audit row, and any problem refuses the file
with nothing stored (:class:`~landgov.errors.ImportRejected`).

CSV formats (header names, any order; blank cells are empty):

- DC rates: ``land_class``; the rate as ``rs_per_unit`` with ``unit`` (acre, kanal,
  marla, sq_ft, sq_yd) or as ``rs_per_acre``; the period as ``valid_from`` [``valid_to``]
  or as ``year`` (the calendar year); the place as ``mouza`` (name or hadbast) or
  ``admin_level`` with ``admin_unit`` (e.g. ``district``, ``Sheikhupura``); optional
  ``unit_system`` (which marla a kanal/marla rate means) and ``notification``. Rows that
  name no place apply to ``scope``, by default the database's only district. The demo's
  ``dc_rates.csv`` (``year, land_class, rs_per_acre``) is this format.
- FBR values: ``city, locality, category, rs_per_sq_yd, valid_from[, valid_to, sro]``.
- Tax rules: ``code, level, area, rate, base, payer, valid_from`` and optional
  ``taxpayer_status, lower_rs, upper_rs, method, valid_to, source``; ``rate`` is a fraction
  (0.015) or a percentage written with ``%`` (``1.5%``).
- Rental values: ``city, locality, category, rs_per_sq_ft_per_year, valid_from[,
  valid_to, notification]``.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from landgov.domain.units import ACRE_SQFT, MARLA_SQFT, UnitSystem, sarsai_sqft
from landgov.errors import ImportRejected, NoRateInForce, RowProblem
from landgov.storage import audit
from landgov.storage.bulk import database_reason
from landgov.storage.lookup import NotFound, resolve_mouza

if TYPE_CHECKING:
    from landgov.security import Actor

LAND_CLASSES: Final = (
    "nehri", "chahi", "barani", "banjar", "ghair_mumkin", "abadi", "shamlat", "forest",
)  # fmt: skip
UNITS: Final = ("acre", "kanal", "marla", "sq_ft", "sq_yd")
ADMIN_LEVELS: Final = ("province", "division", "district", "tehsil")
FBR_CATEGORIES: Final = ("residential", "commercial", "agricultural", "industrial", "constructed")
RENTAL_CATEGORIES: Final = ("residential", "commercial", "industrial")
TAX_CODES: Final = ("236K", "236C", "stamp_duty", "cvt", "town_fee", "property_tax")
TAX_LEVELS: Final = ("federal", "province", "district", "tehsil")


def unit_sq_ft(unit: str, system: UnitSystem = UnitSystem.STANDARD) -> Fraction:
    """Square feet in one rate unit, exactly; kanal and marla depend on the unit system."""
    sizes = {
        "acre": ACRE_SQFT,
        "kanal": 20 * MARLA_SQFT[system],
        "marla": MARLA_SQFT[system],
        "sq_ft": Fraction(1),
        "sq_yd": Fraction(9),
    }
    return sizes[unit]


# ---------------------------------------------------------------- reading and checking


class _Bad(Exception):
    """One cell's problem while a row is read (becomes a RowProblem)."""

    def __init__(self, field: str, reason: str) -> None:
        self.field = field
        self.reason = reason


class _Row:
    """One CSV row with typed getters that raise :class:`_Bad` naming the field."""

    def __init__(self, cells: Mapping[str, str | None]) -> None:
        self.cells = {k.strip().lower(): (v or "").strip() for k, v in cells.items() if k}

    def has(self, name: str) -> bool:
        return bool(self.cells.get(name))

    def text(self, name: str, *, required: bool = True) -> str | None:
        value = self.cells.get(name) or None
        if value is None and required:
            raise _Bad(name, "missing")
        return value

    def choice(self, name: str, allowed: tuple[str, ...], *, default: str | None = None) -> str:
        value = self.text(name, required=default is None) or default
        assert value is not None
        if value not in allowed:
            raise _Bad(name, f"{value!r} is not one of {', '.join(allowed)}")
        return value

    def day(self, name: str, *, required: bool = True) -> date | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise _Bad(name, f"{value!r} is not a date YYYY-MM-DD") from None

    def money(self, name: str, *, required: bool = True, positive: bool = True) -> Decimal | None:
        value = self.text(name, required=required)
        if value is None:
            return None
        try:
            amount = Decimal(value.replace(",", ""))
        except InvalidOperation:
            raise _Bad(name, f"{value!r} is not a number") from None
        if not amount.is_finite() or amount < 0 or (positive and amount == 0):
            raise _Bad(name, f"{value} must be {'positive' if positive else 'zero or more'}")
        return amount


def _period(row: _Row) -> tuple[date, date | None]:
    if row.has("year") and not row.has("valid_from"):
        raw = row.text("year") or ""
        if not raw.isdigit() or not 1900 <= int(raw) <= 2200:
            raise _Bad("year", f"{raw!r} is not a year (1900-2200)")
        return date(int(raw), 1, 1), date(int(raw) + 1, 1, 1)
    start = row.day("valid_from")
    assert start is not None
    end = row.day("valid_to", required=False)
    if end is not None and end <= start:
        raise _Bad("valid_to", f"{end} is not after valid_from {start}")
    return start, end


@dataclass(frozen=True)
class _Spec:
    table: str
    action: str
    parse: Callable[[Connection, _Row, dict[str, Any]], dict[str, Any]]


def _admin_unit(conn: Connection, level: str, name: str) -> int | None:
    ids = (
        conn.execute(
            text("SELECT id FROM admin_unit WHERE level = :l AND lower(name) = lower(:n)"),
            {"l": level, "n": name},
        )
        .scalars()
        .all()
    )
    return int(ids[0]) if len(ids) == 1 else None


def _default_scope(conn: Connection, scope: str | None) -> dict[str, Any]:
    """The place of DC rows that name none: ``scope`` as ``LEVEL:NAME`` or ``mouza:REF``,
    else the only district (None when there is not exactly one: such rows are refused)."""
    if scope is None:
        ids = conn.execute(text("SELECT id FROM admin_unit WHERE level = 'district'")).all()
        return {"admin_unit_id": int(ids[0][0])} if len(ids) == 1 else {}
    level, _, name = scope.partition(":")
    level, name = level.strip().lower(), name.strip()
    if level == "mouza":
        return {"mouza_id": resolve_mouza(conn, name)}
    if level not in ADMIN_LEVELS or not name:
        raise NotFound(f"scope {scope!r}: write LEVEL:NAME (e.g. district:Sheikhupura)")
    unit_id = _admin_unit(conn, level, name)
    if unit_id is None:
        raise NotFound(f"scope {scope!r}: no single {level} named {name!r}")
    return {"admin_unit_id": unit_id}


def _parse_dc(conn: Connection, row: _Row, ctx: dict[str, Any]) -> dict[str, Any]:
    place: dict[str, Any]
    if row.has("mouza"):
        ref = row.text("mouza") or ""
        try:
            place = {"mouza_id": resolve_mouza(conn, ref), "admin_unit_id": None}
        except NotFound as exc:
            raise _Bad("mouza", str(exc)) from None
    elif row.has("admin_unit"):
        level = row.choice("admin_level", ADMIN_LEVELS)
        name = row.text("admin_unit") or ""
        unit_id = _admin_unit(conn, level, name)
        if unit_id is None:
            raise _Bad("admin_unit", f"no single {level} named {name!r}")
        place = {"mouza_id": None, "admin_unit_id": unit_id}
    elif ctx["scope"]:
        place = {"mouza_id": None, "admin_unit_id": None, **ctx["scope"]}
    else:
        raise _Bad("mouza", "the row names no mouza or admin_unit, and no scope was given")
    if row.has("rs_per_acre") and not row.has("rs_per_unit"):
        rate, unit = row.money("rs_per_acre"), "acre"
    else:
        rate, unit = row.money("rs_per_unit"), row.choice("unit", UNITS)
    start, end = _period(row)
    return {
        **place,
        "land_class": row.choice("land_class", LAND_CLASSES),
        "rs_per_unit": rate,
        "unit": unit,
        "unit_system": row.choice("unit_system", ("standard", "urban"), default="standard"),
        "valid_from": start,
        "valid_to": end,
        "notification": row.text("notification", required=False),
    }


def _parse_fbr(conn: Connection, row: _Row, ctx: dict[str, Any]) -> dict[str, Any]:
    start, end = _period(row)
    return {
        "city": row.text("city"),
        "locality": row.text("locality"),
        "category": row.choice("category", FBR_CATEGORIES),
        "rs_per_sq_yd": row.money("rs_per_sq_yd"),
        "valid_from": start,
        "valid_to": end,
        "sro": row.text("sro", required=False),
    }


def _parse_rental(conn: Connection, row: _Row, ctx: dict[str, Any]) -> dict[str, Any]:
    start, end = _period(row)
    return {
        "city": row.text("city"),
        "locality": row.text("locality"),
        "category": row.choice("category", RENTAL_CATEGORIES),
        "rs_per_sq_ft_per_year": row.money("rs_per_sq_ft_per_year"),
        "valid_from": start,
        "valid_to": end,
        "notification": row.text("notification", required=False),
    }


def _rate(row: _Row) -> Decimal:
    raw = row.text("rate") or ""
    pct = raw.endswith("%")
    try:
        value = Decimal(raw.rstrip("%").strip())
    except InvalidOperation:
        raise _Bad("rate", f"{raw!r} is not a number") from None
    if pct:
        value /= 100
    if not value.is_finite() or not 0 <= value <= 1:
        raise _Bad("rate", f"{raw} is not a fraction in 0-1 (write 0.015 or 1.5% for 1.5 %)")
    return value


def _parse_tax(conn: Connection, row: _Row, ctx: dict[str, Any]) -> dict[str, Any]:
    level = row.choice("level", TAX_LEVELS)
    area = row.text("area", required=level != "federal")
    if level == "federal" and area is not None:
        raise _Bad("area", "a federal rule names no area")
    if area is not None and _admin_unit(conn, level, area) is None:
        raise _Bad("area", f"no single {level} named {area!r}")
    lower = row.money("lower_rs", required=False, positive=False)
    upper = row.money("upper_rs", required=False)
    if lower is not None and upper is not None and upper <= lower:
        raise _Bad("upper_rs", f"{upper} is not above lower_rs {lower}")
    start, end = _period(row)
    return {
        "code": row.choice("code", TAX_CODES),
        "level": level,
        "area": area,
        "taxpayer_status": row.choice(
            "taxpayer_status", ("any", "active", "late_filer", "inactive"), default="any"
        ),
        "lower_rs": lower,
        "upper_rs": upper,
        "rate": _rate(row),
        "method": row.choice("method", ("whole_value", "marginal"), default="whole_value"),
        "base": row.choice("base", ("taxable_value", "annual_rental_value")),
        "payer": row.choice("payer", ("buyer", "seller", "owner")),
        "valid_from": start,
        "valid_to": end,
        "source": row.text("source", required=False) or "loaded from CSV",
    }


_SPECS: Final = {
    "dc": _Spec("dc_rate", "load_dc_rates", _parse_dc),
    "fbr": _Spec("fbr_value", "load_fbr_values", _parse_fbr),
    "tax": _Spec("tax_rule", "load_tax_rules", _parse_tax),
    "rental": _Spec("rental_value", "load_rental_values", _parse_rental),
}
KINDS: Final = tuple(_SPECS)
"""What :func:`load_rates` loads: ``dc``, ``fbr``, ``tax``, ``rental``."""


@dataclass(frozen=True)
class LoadReport:
    """What a load stored: the table, how many rows, the file's SHA-256, the audit seq."""

    table: str
    rows: int
    sha256: str
    audit_seq: int
    already_loaded: bool = False  # the same file (and scope) was loaded before: no change


def _overlap_reason(exc: IntegrityError) -> str:
    reason = database_reason(exc)
    if "no_overlap" in reason:
        return (
            "its period overlaps a rate already stored (or earlier in this file) for the same key"
        )
    return reason


def load_rates(
    engine: Engine,
    kind: str,
    path: str | Path,
    *,
    actor: Actor,
    scope: str | None = None,
) -> LoadReport:
    """Loads a rate table of ``kind`` (``dc``, ``fbr``, ``tax``, ``rental``) from CSV.

    ``actor`` must hold ``rates.change`` (an administrator signed in with TOTP, or the
    demo service); it is bound to the transaction and named by the audit row.

    All or nothing: every row is read and checked, each row is inserted under a savepoint
    so an overlap with a stored period (or an earlier row) names its row, and any problem
    rolls the whole file back. One audit row records the file and its hash; loading the
    same file again with the same scope changes nothing (``already_loaded``), while a
    different file overlapping stored periods is refused.

    Raises:
        AccessDenied: the actor may not change rate tables.
        ImportRejected: the file is missing, unreadable, empty, or any row is bad.
        NotFound: ``scope`` names no place.
    """
    from landgov.security import authorize, bind

    if kind not in _SPECS:
        raise ValueError(f"unknown rate table {kind!r}: one of {', '.join(KINDS)}")
    spec = _SPECS[kind]
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportRejected(str(path), [RowProblem(None, None, f"cannot be read: {exc}")]) from exc
    try:
        lines = raw.decode("utf-8-sig").splitlines()
    except UnicodeDecodeError:
        raise ImportRejected(str(path), [RowProblem(None, None, "not UTF-8 text")]) from None
    reader = csv.DictReader(lines)
    problems: list[RowProblem] = []
    stored = 0
    digest = hashlib.sha256(raw).hexdigest()
    with engine.begin() as conn:
        bind(conn, actor)
        authorize(conn, actor, "rates.change")
        # the same file loaded before with the same scope: nothing to do (make demo reruns)
        done = conn.execute(
            text(
                "SELECT seq, details FROM audit_log WHERE action = :a AND entity = :t"
                " AND details ->> 'sha256' = :h ORDER BY seq DESC"
            ),
            {"a": spec.action, "t": spec.table, "h": digest},
        ).all()
        for seq, details in done:
            if details.get("scope") == scope:
                return LoadReport(spec.table, 0, digest, int(seq), already_loaded=True)
        ctx = {"scope": _default_scope(conn, scope) if kind == "dc" else {}}
        for number, cells in enumerate(reader, start=1):
            if None in cells:
                problems.append(RowProblem(number, None, "more cells than header columns"))
                continue
            try:
                values = spec.parse(conn, _Row(cells), ctx)
            except _Bad as bad:
                problems.append(RowProblem(number, bad.field, bad.reason))
                continue
            cols = ", ".join(values)
            params = ", ".join(f":{c}" for c in values)
            try:
                with conn.begin_nested():
                    conn.execute(
                        text(f"INSERT INTO {spec.table} ({cols}) VALUES ({params})"), values
                    )
            except IntegrityError as exc:
                problems.append(RowProblem(number, "valid_from", _overlap_reason(exc)))
                continue
            stored += 1
        if reader.fieldnames is None or (stored == 0 and not problems):
            problems.append(RowProblem(None, None, "no data rows"))
        if problems:  # leaving the block by an exception rolls everything back
            raise ImportRejected(str(path), problems)
        seq = audit.append(
            conn,
            actor=actor.label,
            action=spec.action,
            entity=spec.table,
            details={"file": str(path), "sha256": digest, "rows": stored, "scope": scope},
        )
    return LoadReport(spec.table, stored, digest, seq)


def load_dc_rates(
    engine: Engine, path: str | Path, *, actor: Actor, scope: str | None = None
) -> LoadReport:
    """Loads District Collector rates (module docstring for the columns)."""
    return load_rates(engine, "dc", path, actor=actor, scope=scope)


def load_fbr_values(engine: Engine, path: str | Path, *, actor: Actor) -> LoadReport:
    """Loads FBR valuation table values per square yard."""
    return load_rates(engine, "fbr", path, actor=actor)


def load_tax_rules(engine: Engine, path: str | Path, *, actor: Actor) -> LoadReport:
    """Loads tax rules (bands of 236K, 236C, stamp duty, CVT, fees, property tax)."""
    return load_rates(engine, "tax", path, actor=actor)


def load_rental_values(engine: Engine, path: str | Path, *, actor: Actor) -> LoadReport:
    """Loads annual rental values per square foot (for the urban property tax)."""
    return load_rates(engine, "rental", path, actor=actor)


# ---------------------------------------------------------------- lookups


@dataclass(frozen=True)
class DcRate:
    """The DC rate row in force: which one, for which place, how much per which unit."""

    id: int
    place: str  # "mouza 3" or "district Sheikhupura"
    land_class: str
    rs_per_unit: Decimal
    unit: str
    unit_system: UnitSystem
    valid_from: date
    valid_to: date | None
    notification: str | None

    def rs_per_sq_ft(self) -> Fraction:
        """The rate per square foot, exactly."""
        return Fraction(self.rs_per_unit) / unit_sq_ft(self.unit, self.unit_system)

    def in_force(self, on: date) -> bool:
        """Whether the row covers ``on`` (``valid_from`` inclusive, ``valid_to`` not)."""
        return self.valid_from <= on and (self.valid_to is None or on < self.valid_to)


_DC_ROWS = """
    WITH RECURSIVE up AS (
        SELECT m.id AS mouza_id, a.id, a.level, a.name, a.parent_id, 1 AS depth
          FROM mouza m JOIN admin_unit a ON a.id = m.tehsil_id WHERE m.id = {mouzas}
        UNION ALL
        SELECT up.mouza_id, a.id, a.level, a.name, a.parent_id, up.depth + 1
          FROM admin_unit a JOIN up ON a.id = up.parent_id
    )
    SELECT r.mouza_id AS for_mouza, r.id, 'mouza ' || m.name AS place, 0 AS depth,
           r.land_class, r.rs_per_unit, r.unit, r.unit_system, r.valid_from, r.valid_to,
           r.notification
      FROM dc_rate r JOIN mouza m ON m.id = r.mouza_id
     WHERE r.mouza_id = {mouzas} AND {narrow}
    UNION ALL
    SELECT up.mouza_id, r.id, up.level || ' ' || up.name, up.depth, r.land_class,
           r.rs_per_unit, r.unit, r.unit_system, r.valid_from, r.valid_to, r.notification
      FROM dc_rate r JOIN up ON up.id = r.admin_unit_id
     WHERE {narrow}
    ORDER BY for_mouza, depth, id
    """
_ON_DAY = "r.land_class = :cls AND r.valid_from <= :on AND (r.valid_to IS NULL OR :on < r.valid_to)"

_DC_ROWS_ALL = text(_DC_ROWS.format(mouzas="ANY(:mouzas)", narrow="TRUE"))
# one mouza, class and day (a single lookup): plain scalar predicates, planned as cheaply
# as a one-row query
_DC_ROWS_ON = text(_DC_ROWS.format(mouzas="CAST(:mouza AS bigint)", narrow=_ON_DAY))

RateTable = Mapping[int, Sequence[DcRate]]
"""Every DC rate row that can reach each mouza, whatever its class and dates: the mouza's
own rows first, then those of the admin units above it, nearest first
(:func:`dc_rate_table`, read by :func:`rate_in_force`)."""


def dc_rate_table(
    conn: Connection,
    mouza_ids: Iterable[int],
    *,
    on_day: tuple[str, date] | None = None,
) -> dict[int, list[DcRate]]:
    """The :data:`RateTable` of ``mouza_ids``, in one statement; with ``on_day`` (a land
    class and a date, for one mouza), only the rows of that class in force that day.

    Why all classes and dates by default: a DC table has a few rows per class and year,
    so reading them whole for a mouza's sales costs less than one round trip per parcel.
    A single lookup narrows the read instead (as fast as the one-row query it replaced),
    and either way the choice of the row in force stays in one place
    (:func:`rate_in_force`). A mouza no row reaches maps to an empty list.

    Raises:
        ValueError: ``on_day`` with several mouzas.
    """
    ids = sorted({int(m) for m in mouza_ids})
    table: dict[int, list[DcRate]] = {m: [] for m in ids}
    if not ids:
        return table
    if on_day is None:
        rows = conn.execute(_DC_ROWS_ALL, {"mouzas": ids})
    elif len(ids) == 1:
        rows = conn.execute(_DC_ROWS_ON, {"mouza": ids[0], "cls": on_day[0], "on": on_day[1]})
    else:
        raise ValueError("on_day narrows the read for one mouza only")
    for row in rows:
        table[int(row.for_mouza)].append(
            DcRate(
                id=int(row.id),
                place=str(row.place),
                land_class=row.land_class,
                rs_per_unit=Decimal(row.rs_per_unit),
                unit=row.unit,
                unit_system=UnitSystem(row.unit_system),
                valid_from=row.valid_from,
                valid_to=row.valid_to,
                notification=row.notification,
            )
        )
    return table


def rate_in_force(rates: Sequence[DcRate], land_class: str, on: date) -> DcRate | None:
    """The first of a mouza's ``rates`` (:data:`RateTable` order) for ``land_class`` in
    force on ``on``, or None.

    The mouza's own row wins; failing it, the nearest admin unit above (tehsil, then
    district...), because DC tables are notified per mouza where they exist and per
    tehsil or district otherwise. The database refuses overlapping periods for one place
    and class, so at most one row per place is in force on a date.
    """
    return next((r for r in rates if r.land_class == land_class and r.in_force(on)), None)


def dc_rate_on(conn: Connection, mouza_id: int, land_class: str, on: date) -> DcRate | None:
    """The DC rate in force on ``on`` for a land class in a mouza, or None
    (:func:`rate_in_force` of the mouza's :func:`dc_rate_table`)."""
    rows = dc_rate_table(conn, [mouza_id], on_day=(land_class, on))[mouza_id]
    return rate_in_force(rows, land_class, on)


@dataclass(frozen=True)
class ParcelValue:
    """The statutory value of (a share of) one khasra, with the rate row used.

    ``value`` is exact (a Fraction of rupees); :attr:`rupees` rounds it half up.
    """

    khasra_id: int
    khasra_number: str
    land_class: str
    area_sarsai: int
    unit_system: UnitSystem
    area_sq_ft: Fraction
    share: Fraction
    rate: DcRate
    value: Fraction

    @property
    def rupees(self) -> int:
        return round_half_up(self.value)

    def as_dict(self) -> dict[str, object]:
        """Plain values for JSON."""
        return {
            "khasra_id": self.khasra_id,
            "khasra": self.khasra_number,
            "land_class": self.land_class,
            "area_sarsai": self.area_sarsai,
            "unit_system": self.unit_system.value,
            "area_sq_ft": str(self.area_sq_ft),
            "share": str(self.share),
            "rate_id": self.rate.id,
            "rate": f"Rs {self.rate.rs_per_unit:,} per {self.rate.unit}",
            "rate_place": self.rate.place,
            "rate_valid_from": self.rate.valid_from.isoformat(),
            "value_rs": self.rupees,
        }


def round_half_up(value: Fraction) -> int:
    """Whole rupees, halves up (not Python's round-half-even)."""
    return int((value * 2 + 1) // 2)


@dataclass(frozen=True)
class KhasraFacts:
    """What valuing a khasra needs of its record: where, which class, how big, in what
    unit system (a ``khasra`` row's columns)."""

    id: int
    mouza_id: int
    number: str
    land_class: str
    record_area_sarsai: int
    unit_system: UnitSystem


KHASRA_FACTS_COLUMNS: Final = "id, mouza_id, number, land_class, record_area_sarsai, unit_system"
"""The ``khasra`` columns :func:`khasra_facts` reads (callers select them by this list)."""


def khasra_facts(row: Any) -> KhasraFacts:
    """A :class:`KhasraFacts` from a row holding :data:`KHASRA_FACTS_COLUMNS`."""
    return KhasraFacts(
        id=int(row.id),
        mouza_id=int(row.mouza_id),
        number=str(row.number),
        land_class=str(row.land_class),
        record_area_sarsai=int(row.record_area_sarsai),
        unit_system=UnitSystem(row.unit_system),
    )


def value_khasra(
    khasra: KhasraFacts,
    rates: Sequence[DcRate],
    on: date,
    share: Fraction | int = 1,
    *,
    area_sarsai: int | None = None,
) -> ParcelValue:
    """The statutory value, with no database: area × the rate in force × share.

    The one place the formula lives; :func:`statutory_value` (one khasra) and
    :func:`landgov.valuation.transfer.transfer_taxes_of` (a mouza's sales at once) differ
    only in how they read ``khasra`` and ``rates`` (the mouza's :data:`RateTable` entry).

    Raises:
        NoRateInForce: no DC rate covers the khasra's land class on ``on``.
    """
    rate = rate_in_force(rates, khasra.land_class, on)
    if rate is None:
        raise NoRateInForce(
            f"no DC rate in force on {on} for land class {khasra.land_class} in mouza"
            f" {khasra.mouza_id} (khasra {khasra.number}); load one with"
            " 'landgov tax rates load dc'"
        )
    area = khasra.record_area_sarsai if area_sarsai is None else area_sarsai
    sq_ft = area * sarsai_sqft(khasra.unit_system)
    share = Fraction(share)
    return ParcelValue(
        khasra_id=khasra.id,
        khasra_number=khasra.number,
        land_class=khasra.land_class,
        area_sarsai=area,
        unit_system=khasra.unit_system,
        area_sq_ft=sq_ft,
        share=share,
        rate=rate,
        value=sq_ft * rate.rs_per_sq_ft() * share,
    )


def statutory_value(
    conn: Connection,
    khasra_id: int,
    on: date,
    share: Fraction | int = 1,
    *,
    area_sarsai: int | None = None,
) -> ParcelValue:
    """The DC value on ``on`` of ``share`` of a khasra: area × the rate in force
    (:func:`value_khasra`, after reading the khasra and its mouza's DC rows).

    The area is converted exactly: whole sarsai in the khasra's unit system to square
    feet, divided by the rate unit's square feet. ``area_sarsai`` values only part of the
    khasra (the part a khewat holds); by default its whole recorded area.

    Raises:
        NotFound: no such khasra.
        NoRateInForce: no DC rate covers the khasra's mouza and land class on ``on``.
    """
    row = conn.execute(
        text(f"SELECT {KHASRA_FACTS_COLUMNS} FROM khasra WHERE id = :id"), {"id": khasra_id}
    ).first()
    if row is None:
        raise NotFound(f"no khasra with id {khasra_id}")
    khasra = khasra_facts(row)
    rates = dc_rate_table(conn, [khasra.mouza_id], on_day=(khasra.land_class, on))
    return value_khasra(khasra, rates[khasra.mouza_id], on, share, area_sarsai=area_sarsai)


def annual_rental_value(
    conn: Connection, city: str, locality: str, category: str, area_sq_ft: Fraction, on: date
) -> int:
    """The annual rental value (Rs) of ``area_sq_ft`` from the locality table on ``on``.

    Raises:
        NoRateInForce: no rental value is in force for the locality and category.
    """
    rate = conn.execute(
        text(
            "SELECT rs_per_sq_ft_per_year FROM rental_value"
            " WHERE lower(btrim(city)) = lower(btrim(:c))"
            " AND lower(btrim(locality)) = lower(btrim(:l)) AND category = :k"
            " AND valid_from <= :on AND (valid_to IS NULL OR :on < valid_to)"
        ),
        {"c": city, "l": locality, "k": category, "on": on},
    ).scalar()
    if rate is None:
        raise NoRateInForce(
            f"no rental value in force on {on} for {category} in {locality}, {city}"
        )
    return round_half_up(Fraction(area_sq_ft) * Fraction(rate))
