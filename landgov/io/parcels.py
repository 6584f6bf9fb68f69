"""Importing khasra parcels from a GeoPackage, Shapefile or GeoJSON file.

File format
-----------
One feature per khasra, in a GeoPackage (``.gpkg``, one layer or ``layer=``), an ESRI
Shapefile (``.shp`` with its ``.dbf``/``.shx``/``.prj``, or all of them zipped in a
``.zip``) or GeoJSON (``.geojson``/``.json``). Field names are read case-insensitively;
``unit_syste`` (a Shapefile's 10-character cut of ``unit_system``) is understood. Other
fields are ignored. A file with other names is read through a mapping (see "Vendor
files").

================  ========  ==============================================================
field             required  meaning
================  ========  ==============================================================
``khasra_no``     yes       khasra number, e.g. ``123``, ``123/2``, ``45//12/1``; stored in
                            canonical form (``012`` is ``12``); unique in the file and new
                            to the mouza
``land_class``    yes       one of :class:`~landgov.domain.LandClass` (``nehri``, ``chahi``
                            ...); case, spaces and dashes are forgiven (``Ghair Mumkin``);
                            may be left out given a default land class
``area_kms``      no        the record area as kanal-marla-sarsai text, e.g. ``4-7-3``;
                            when empty, the area of the geometry (UTM 42N/43N) rounded to
                            whole sarsai
``unit_system``   no        ``standard`` or ``urban``; default: the mouza's
``source``        no        provenance text; default ``import:<file name>``
``khewat_no``     no        the khewat of the mouza that holds the khasra, e.g. ``12``: the
                            khasra is attached to it, whole, from the import date (see
                            below); empty only with ``assignment`` ``unassigned``
``assignment``    no        ``unassigned`` (any case): import the khasra without a khewat;
                            empty: what ``khewat_no`` says
================  ========  ==============================================================

Vendor files: their own field names
-----------------------------------
Digitising vendors deliver their own names (``KHASRA_NO``, ``LC_TYPE``...). A
:class:`FieldMapping` says which column holds which field: ``--field
khasra_no=KHASRA_NO`` on the command line, or a mapping file (``--mapping vendor.toml``;
TOML, or YAML as ``.yaml``/``.yml``)::

    default_land_class = "barani"   # optional: rows without a land class
    [fields]
    khasra_no = "KHASRA_NO"
    land_class = "LC_TYPE"
    khewat_no = ""                  # empty: the file has no such field

- A mapped column is found by its name in any case (``objectid`` finds ``OBJECTID``);
  a name matching two columns that differ only in case is refused, as is a mapped
  column the file lacks (a problem of the file, naming the field).
- A field not mapped is read, as before mappings existed, from the column bearing its
  name, so a file with these names needs no mapping and imports as before (two columns
  meaning one field are refused; columns the import does not read may now share a name
  in different cases: they are not read).
- A field mapped twice (in one place, or on the command line and in the file), an
  unknown field, or a column feeding two fields is refused: a column mapped to one field
  whose own name means another field (``--field khasra_no=khewat_no``) is ambiguous, so
  the other field must be mapped elsewhere or said absent (``--field khewat_no=``).
- ``--default-land-class`` (or ``default_land_class``) gives the land class of the rows
  without one: every row of a file with no ``land_class`` column, the empty cells of one
  that has it. The report counts them; a cell holding an unknown class is still refused
  (a code to translate, not a gap).
- The columns the import does not read are listed, never refused.

Every rejection of a file whose features were read ends with a summary per field
(:class:`FieldProblems`): how many rows of the field cannot be imported, the first, and
what to do when the problems share a cause.

A khasra number keeps the domain's form (:func:`~landgov.domain.parse_khasra_number`:
``123``, ``123/2``, ``45//12/1``): digits, stored as numbers, sorted numerically and
split into tatimas by mutations. A vendor's parcel identifier such as the French
cadastre's ``91216000AB0037`` (commune, prefix, section, number) is not one and is
refused, with the remedy in the summary: map ``khasra_no`` to the column that holds the
khasra number. Numbers unique only within a section or map sheet (the same cadastre's
``numero``) repeat in the file and are refused as duplicates: import each section into
its own mouza (one file per section), or map a column unique in the file. There are no
mapping expressions: a number made up by a formula would be a khasra number no
register holds.

Dry run
-------
:func:`check_parcels` (``landgov import parcels --check``) reads and checks the file
against the mouza exactly as an import does, in a transaction that only reads and is
rolled back, and returns what would be imported (:class:`ParcelCheck`: features,
attached and unassigned, map and record area, CRS, bounds, where each field comes from)
with every problem instead of raising them. Nothing is written, not even an audit row.

Where a khasra belongs
----------------------
A parcel can be on the map before the record of rights holds it (a digitised aks-shajra, a
new survey). Each imported khasra is either

- *attached*: ``khewat_no`` names a khewat of the mouza. One ``khewat_khasra`` row gives
  that khewat the khasra's whole record area from the import date (the database's
  ``current_date``), open-ended, as the settlement and the partition engine write them. A
  number that is not a whole number, names no khewat of the mouza, names several
  (``12,14``: which part of the area each holds is not in the file) or names a closed
  khewat (it had owners and none holds a share today) is a problem of the row's
  ``khewat_no`` field; or
- *unassigned*: stored with ``khasra.unassigned_since`` = the import date, meaning "mapped,
  record of rights not yet attached". That is a state, not an anomaly: the dispute rule
  ``orphan_khasra`` does not flag it. It ends when any ``khewat_khasra`` row attaches the
  khasra (a database trigger clears it, whichever path writes the row) and can never be
  set again (``sql/023_khasra_assignment.sql``), so an orphan, a khasra whose holding was
  lost, cannot be hidden as unassigned.

A file without a ``khewat_no`` column says nothing about the record of rights: every
feature is imported unassigned. A file with one claims to say where its khasras belong, so
an empty cell there is more likely a gap than a decision, and since the unassigned state
silences the orphan signal it is never given by default: the row needs ``assignment``
``unassigned``, else its ``khewat_no`` is a problem ("missing khewat number"). A khewat
number together with ``assignment`` ``unassigned`` contradicts itself and is refused
(field ``assignment``), as is any other ``assignment`` value. The report
(:class:`~landgov.io.reports.ImportReport`) counts both: ``details["attached"]`` and
``details["unassigned"]``, and ``counts["khewat_khasra"]`` the rows written when any.

Geometry
--------
- The file must declare its coordinate reference system (any CRS; a Shapefile without a
  ``.prj`` is refused). Geometries are reprojected to EPSG:4326 and Z values dropped.
- After reprojection every coordinate must lie in longitude 60 to 78, latitude 23 to 38
  (Pakistan). This catches a wrong declared CRS, e.g. UTM metres declared as EPSG:4326.
- Polygons and MultiPolygons only; a Polygon is stored as a one-part MultiPolygon. A
  missing, empty or non-polygonal geometry is refused.

Repair rule for invalid geometries
----------------------------------
An invalid geometry (:func:`shapely.is_valid_reason`) is repaired with
``shapely.make_valid(method="structure", keep_collapsed=False)`` only when the repair
cannot change what the surveyor drew, which we judge by area:

- the repaired geometry is a non-empty Polygon or MultiPolygon (collapsed, zero-area
  parts such as a spike are dropped; they carry no area), and
- its area differs by less than 1 % (:data:`REPAIR_TOLERANCE`, the record-versus-map
  tolerance of domain.md §6.9) from the original's *absolute shoelace area*: GEOS's
  area of the invalid polygon, the shell's shoelace area less its holes'.

A self-intersecting ring adds its lobes with opposite signs in the shoelace sum, so a
small digitising overshoot at a corner (a loop of a fraction of a percent) passes and is
kept as drawn, while a true bow-tie (two lobes of similar size: shoelace area near 0) or a
hole outside its shell fails: the parcel's intended shape is unknowable, so the feature is
refused with its validity reason. Self-touching rings and spikes repair with the area
unchanged. Areas are compared in EPSG:4326 degrees, which at parcel scale preserves
their ratio.

Limits and text
---------------
Before anything else the file is held to the input limits of :mod:`landgov.io._common`
(bytes, a Shapefile with its sidecars and a zip unpacked; features; vertices per
feature, checked before any reprojection or repair). Text cells holding terminal
control or bidirectional override characters are refused, as are numbers too large for
their columns.

Who may import
--------------
The importing :class:`~landgov.security.Actor` is bound to the transaction first and
needs ``records.import`` in the mouza (an officer posted over it today; the demo loader
``svc_demo`` anywhere); else :class:`~landgov.errors.AccessDenied` names the rule.

Any problem rejects the whole file (:class:`~landgov.errors.ImportRejected` lists them
all, by row = feature index + 1); the write is one transaction with one audit_log row
(and the database's own audit rows of the inserted khasras and, when any is attached,
khewat_khasra rows, naming the same actor).
"""

from __future__ import annotations

import functools
import operator
import re
import time
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError
from rich.progress import Progress
from shapely.geometry.base import BaseGeometry
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError

from landgov.domain import (
    LandClass,
    UnitSystem,
    areas_m2,
    m2_to_sarsai,
    parse_khasra_number,
    parse_kms,
)
from landgov.errors import (
    ImportRejected,
    InputRejected,
    InvalidArea,
    InvalidKhasraNumber,
    RowProblem,
)
from landgov.io._common import (
    LIMIT_VARIABLES,
    Limits,
    authorize_import,
    cell_text,
    check_import_role,
    check_readable,
    check_size,
    clean_problems,
    control_problem,
    file_problem,
    has_control,
    import_limits,
    mouza_label,
    printable,
    sha256_file,
    too_many_rows,
    write_audit,
)
from landgov.io.reports import ImportReport
from landgov.progress import track
from landgov.security import Actor, bind
from landgov.storage.bulk import copy_rows, database_reason
from landgov.storage.lookup import resolve_mouza

REQUIRED_FIELDS = ("khasra_no", "land_class")
OPTIONAL_FIELDS = ("area_kms", "unit_system", "source", "khewat_no", "assignment")
TARGET_FIELDS = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
"""Every field a parcel file can hold, the names a mapping maps to."""
_ALIASES = {"unit_syste": "unit_system"}  # DBF field names are at most 10 characters
UNASSIGNED = "unassigned"
"""The one value of the ``assignment`` field (module notes, "Where a khasra belongs")."""

SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".zip")
DRIVERS = {"GPKG": "GeoPackage", "ESRI Shapefile": "Shapefile", "GeoJSON": "GeoJSON"}

PAKISTAN_BOUNDS = (60.0, 23.0, 78.0, 38.0)
"""min lon, min lat, max lon, max lat that every stored coordinate must lie within."""

REPAIR_TOLERANCE = 0.01
"""Largest relative area change an automatic geometry repair may make (see module doc)."""

_POLYGONAL = ("Polygon", "MultiPolygon")
_POLYGONAL_IDS = (3, 6)  # shapely.get_type_id of a Polygon, a MultiPolygon
_INT4_MAX = 2_147_483_647  # the database's integer columns
_INSERT_CHUNK = 2_000  # rows per step of the "Writing" progress bar

_COLUMNS = (
    "mouza_id",
    "number",
    "murabba",
    "main_number",
    "tatima",
    "land_class",
    "record_area_sarsai",
    "unit_system",
    "geom_area_m2",
    "geom",  # hex EWKB, SRID 4326
    "source",
    "unassigned_since",  # the import date, or None when attached to a khewat
)
"""The khasra columns an import writes, in COPY order."""

# Built once: the checks below run for every row of files with 100,000 features.
_LAND_CLASSES = {c.value: c.value for c in LandClass}
_LAND_CLASSES_ALLOWED = ", ".join(_LAND_CLASSES)
_UNIT_SYSTEMS = {u.value: u.value for u in UnitSystem}
_UNIT_SYSTEMS_ALLOWED = ", ".join(_UNIT_SYSTEMS)


class _Refused(Exception):
    """A feature's geometry cannot be stored; the message is the reason."""


_REFUSED = "\x00refused"  # stands in for a text cell refused for its control characters


def _cut(value: str, limit: int = 40) -> str:
    """A cell as a message repeats it: cut when long."""
    return value if len(value) <= limit else value[:limit] + "…"


@dataclass(frozen=True)
class FieldMapping:
    """Which column of a vendor's file holds each field (module notes, "Vendor files").

    Attributes:
        fields: field -> the file's column (matched case-insensitively), or None: the
            file has no such field (its column of that name, if any, is not read).
        default_land_class: the land class of rows without one (no ``land_class``
            column, or an empty cell), canonical (``ghair_mumkin``); None: required.
        origins: field (and ``default_land_class``) -> where the user said it
            (``--field``, ``vendor.toml``), for messages.
    """

    fields: Mapping[str, str | None] = dataclass_field(default_factory=dict)
    default_land_class: str | None = None
    origins: Mapping[str, str] = dataclass_field(default_factory=dict)

    @classmethod
    def build(
        cls,
        options: Sequence[str] = (),
        file: Path | None = None,
        default_land_class: str | None = None,
    ) -> FieldMapping:
        """The mapping of ``--field TARGET=COLUMN`` options, a mapping file and
        ``--default-land-class``, checked together.

        Raises:
            InputRejected: every problem of the options and the file at once: an unknown
                field, a field mapped twice (in one place or across both), an option not
                of the form TARGET=COLUMN, a mapping file that cannot be read or holds
                other keys, two different default land classes, an unknown land class.
        """
        problems: list[str] = []
        fields: dict[str, str | None] = {}
        origins: dict[str, str] = {}
        default = None
        if file is not None:
            found, default, file_problems = _read_mapping_file(Path(file))
            problems += file_problems
            for target, column in found:
                _add_field(fields, origins, target, column, Path(file).name, problems)
            if default is not None:
                origins["default_land_class"] = Path(file).name
        for option in options:
            target, sep, column = option.partition("=")
            if not sep or not target.strip():
                problems.append(
                    f"--field {printable(option)!r}: expected FIELD=COLUMN, e.g. "
                    "khasra_no=KHASRA_NO (FIELD= alone: the file has no such field)"
                )
                continue
            _add_field(fields, origins, target, column.strip() or None, "--field", problems)
        if default_land_class is not None:
            if default is not None and _land_class_key(default) != _land_class_key(
                default_land_class
            ):
                problems.append(
                    f"two default land classes: '{printable(default)}' "
                    f"({origins['default_land_class']}) and '{printable(default_land_class)}' "
                    "(--default-land-class): give one"
                )
            default = default_land_class
            origins.setdefault("default_land_class", "--default-land-class")
        canonical = None
        if default is not None:
            canonical = _LAND_CLASSES.get(_land_class_key(default))
            if canonical is None:
                problems.append(
                    f"default land class '{printable(_cut(default))}' is not a land class; "
                    f"expected one of: {_LAND_CLASSES_ALLOWED}"
                )
        if problems:
            raise InputRejected("field mapping refused:\n  " + "\n  ".join(problems))
        return cls(fields=fields, default_land_class=canonical, origins=origins)

    @property
    def is_empty(self) -> bool:
        """True when nothing is mapped and no default given: the canonical names rule."""
        return not self.fields and self.default_land_class is None


def _add_field(
    fields: dict[str, str | None],
    origins: dict[str, str],
    target: str,
    column: str | None,
    origin: str,
    problems: list[str],
) -> None:
    """Adds one FIELD=COLUMN pair, or the reason it is refused to ``problems``."""
    key = target.strip().lower()
    shown = f"{printable(target.strip())}={printable(column or '')}"
    if key not in TARGET_FIELDS:
        problems.append(
            f"unknown field '{printable(_cut(target.strip()))}' ({origin}: {shown}); the "
            f"fields are: {', '.join(TARGET_FIELDS)}"
        )
        return
    if key in fields:
        before = fields[key]
        problems.append(
            f"field {key} is mapped twice: to {_column_text(before)} ({origins[key]}) and to "
            f"{_column_text(column)} ({origin}); map each field once"
        )
        return
    if column is not None and has_control(column):
        problems.append(f"{origin} {shown}: the column name {control_problem(column)}")
        return
    fields[key] = column
    origins[key] = origin


def _column_text(column: str | None) -> str:
    return "no column" if column is None else f"column '{printable(_cut(column))}'"


def _land_class_key(value: str) -> str:
    """A land class as typed, normalised: case, spaces and dashes forgiven."""
    return "_".join(value.lower().replace("-", " ").split())


_MAPPING_MAX_BYTES = 64 * 1024  # a mapping names a handful of columns


def _read_mapping_file(path: Path) -> tuple[list[tuple[str, str | None]], str | None, list[str]]:
    """(field, column) pairs in file order, the default land class and the problems of a
    TOML (``.toml``) or YAML (``.yaml``/``.yml``) mapping file (module notes)."""
    name = path.name
    if not path.is_file():
        return [], None, [f"mapping file {printable(str(path))}: file not found"]
    if path.stat().st_size > _MAPPING_MAX_BYTES:
        return [], None, [f"mapping file {name}: larger than {_MAPPING_MAX_BYTES:,} bytes"]
    suffix = path.suffix.lower()
    try:
        raw = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [], None, [f"mapping file {name}: cannot be read as UTF-8 text ({exc})"]
    data: object
    try:
        if suffix == ".toml":
            data = tomllib.loads(raw)
        elif suffix in (".yaml", ".yml"):
            data = _load_yaml(raw)
        else:
            return [], None, [f"mapping file {name}: expected a .toml, .yaml or .yml file"]
    except (tomllib.TOMLDecodeError, ValueError) as exc:
        reason = " ".join(str(exc).split())
        return [], None, [f"mapping file {name}: not valid {suffix[1:].upper()}: {reason}"]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        return [], None, [f"mapping file {name}: expected a table with 'fields'"]
    problems: list[str] = []
    other = sorted(str(k) for k in data if k not in ("fields", "default_land_class"))
    if other:
        problems.append(
            f"mapping file {name}: unknown key(s) {', '.join(map(repr, other))}; expected "
            "'fields' (a table FIELD = COLUMN) and 'default_land_class'"
        )
    default = data.get("default_land_class")
    if default is not None and not isinstance(default, str):
        problems.append(f"mapping file {name}: default_land_class must be text")
        default = None
    table = data.get("fields", {})
    if table is None:
        table = {}
    if not isinstance(table, dict):
        problems.append(f"mapping file {name}: 'fields' must be a table of FIELD = COLUMN")
        table = {}
    pairs: list[tuple[str, str | None]] = []
    for target, column in table.items():
        if column is None or (isinstance(column, str) and not column.strip()):
            pairs.append((str(target), None))
        elif isinstance(column, str):
            pairs.append((str(target), column.strip()))
        else:
            problems.append(
                f"mapping file {name}: {target} = {column!r} is not a column name (text; "
                "quote a name that looks like a number)"
            )
    return pairs, default, problems


def _load_yaml(raw: str) -> object:
    """YAML with safe types only, refusing a key given twice (PyYAML keeps the last)."""
    import yaml  # PyYAML: read mapping files only, so imported on demand

    # PyYAML has no stubs in the locked environment, so its SafeLoader is Any to mypy
    class _Loader(yaml.SafeLoader):  # type: ignore[misc]
        pass

    def mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[object, object]:
        out: dict[object, object] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node)
            if key in out:
                raise ValueError(f"key {key!r} given twice (line {key_node.start_mark.line + 1})")
            out[key] = loader.construct_object(value_node)
        return out

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, mapping)
    try:
        return yaml.load(raw, Loader=_Loader)  # a SafeLoader: plain data only
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from exc


@dataclass(frozen=True)
class FieldUse:
    """Where one field's values come from in a file (the import's per-field report).

    Attributes:
        field: our field name (``khasra_no``...).
        column: the file's column, or None.
        how: ``mapped`` (named by the mapping), ``by name`` (the column bears the
            field's name), ``default`` (none in the file: the default land class),
            ``absent`` (not in the file: the field's own default applies) or ``none``
            (the mapping says the file has none).
        origin: where a mapping or default was given (``--field``, ``vendor.toml``).
        default: the default land class given, for ``land_class``.
        defaulted: rows given the default land class (empty cells, or every row).
    """

    field: str
    column: str | None
    how: str
    origin: str = ""
    default: str = ""
    defaulted: int = 0

    def describe(self) -> str:
        """One line, e.g. ``khasra_no: column 'OBJECTID' (mapped by vendor.toml)``."""
        if self.how in ("mapped", "by name"):
            via = f"mapped by {self.origin}" if self.how == "mapped" else "by its name"
            text_ = f"{self.field}: column '{printable(self.column or '')}' ({via})"
            if self.default:
                text_ += f"; {self.defaulted:,} empty cell(s) take the default '{self.default}'"
            return text_
        if self.how == "default":
            return f"{self.field}: no column; every row takes '{self.default}' ({self.origin})"
        meaning = _ABSENT.get(self.field, "not read")
        said = " (the mapping says the file has none)" if self.how == "none" else ""
        return f"{self.field}: not in the file{said}: {meaning}"


_ABSENT = {
    "area_kms": "record area from the geometry",
    "unit_system": "the mouza's unit system",
    "source": "source 'import:<file name>'",
    "khewat_no": "every khasra unassigned",
    "assignment": "not used",
}
"""What a missing optional field means (module notes)."""


@dataclass(frozen=True)
class FieldProblems:
    """The row problems of one field: how many rows, the first, and what to do.

    Attributes:
        field: the field (``khasra_no``...) or ``geometry``.
        column: the file's column it was read from, when one.
        rows: how many rows have a problem in it.
        total: rows in the file.
        first_row: the first such row.
        first_reason: its reason.
        hint: what a user can do, when the problems have a common cause.
    """

    field: str
    column: str | None
    rows: int
    total: int
    first_row: int
    first_reason: str
    hint: str = ""

    def __str__(self) -> str:
        column = f" (column '{printable(self.column)}')" if self.column else ""
        line = (
            f"{self.field}{column}: {self.rows:,} of {self.total:,} rows not importable, "
            f"first row {self.first_row}: {printable(self.first_reason)}"
        )
        return f"{line}. {self.hint}" if self.hint else line


class ParcelsRejected(ImportRejected):
    """A parcel file refused: :class:`~landgov.errors.ImportRejected` (the same
    ``problems``) whose message ends with the per-field summary (``by_field``)."""

    def __init__(self, path: str, problems: list[RowProblem], by_field: list[FieldProblems]):
        super().__init__(path, problems)
        self.by_field = by_field
        if by_field:
            lines = "\n".join(f"  by field: {s}" for s in by_field)
            self.args = (f"{self.args[0]}\n{lines}",)


@dataclass(frozen=True)
class ParcelCheck:
    """What :func:`check_parcels` found: what the import would write, and every problem.

    Attributes:
        path: the file.
        layer: the layer read.
        target: the mouza, e.g. ``mouza Kot Nau (hadbast 117)``.
        crs: the file's CRS (``EPSG:32643``).
        features: features in the layer.
        attached: rows that name a khewat of the mouza (would be attached).
        unassigned: rows that would be imported unassigned (rows whose khewat number or
            assignment is refused are neither).
        area_m2: map area of the features with a storable geometry, m² (each in its
            UTM zone, as stored).
        record_area_sarsai: the record areas of the rows that have one, summed.
        bounds: (min lon, min lat, max lon, max lat) once reprojected to EPSG:4326;
            None when no feature has a geometry.
        file_bounds: the same in the file's CRS.
        fields: where each field comes from (:class:`FieldUse`).
        ignored: the file's columns the import does not read.
        problems: every problem, as :class:`~landgov.errors.ImportRejected` lists them.
        by_field: the row problems summed up per field.
    """

    path: Path
    layer: str
    target: str
    crs: str
    features: int
    attached: int
    unassigned: int
    area_m2: float
    record_area_sarsai: int
    bounds: tuple[float, float, float, float] | None
    file_bounds: tuple[float, float, float, float] | None
    fields: list[FieldUse]
    ignored: list[str]
    problems: list[RowProblem]
    by_field: list[FieldProblems]

    @property
    def ok(self) -> bool:
        """True when the import would write every feature."""
        return not self.problems


@dataclass
class _Opened:
    """A file read and held to the file-level rules, before any database work."""

    gdf: gpd.GeoDataFrame
    layer: str
    columns: dict[str, str]  # field -> the file's column
    fields: list[FieldUse]
    ignored: list[str]
    geoms: np.ndarray  # EPSG:4326, as read (before the checks and repairs)
    crs: str


def _open(path: Path, layer: str | None, mapping: FieldMapping) -> _Opened:
    """Reads ``path`` and resolves its columns; file-level problems raise together."""
    limits = import_limits()
    gdf, layer_name = _read(path, layer, limits)
    columns, fields, ignored = _check_columns(path, gdf, mapping)
    _check_vertices(path, gdf, limits)
    try:
        geoms = gdf.to_crs(4326).geometry.array
    except (CRSError, ValueError, RuntimeError) as exc:
        reason = f"cannot reproject from {_crs_name(gdf.crs)} to EPSG:4326: {exc}"
        raise file_problem(path, reason) from exc
    return _Opened(
        gdf, layer_name, columns, fields, ignored, np.asarray(geoms, dtype=object),
        _crs_name(gdf.crs),
    )  # fmt: skip


@dataclass
class _Checked:
    """A file checked against its mouza: the rows to write and the problems."""

    mouza_id: int
    target: str
    today: date
    rows: list[dict[str, Any]]
    checker: _Checker


def _check_against(
    conn: Connection,
    path: Path,
    opened: _Opened,
    mouza: str,
    actor: Actor,
    mapping: FieldMapping,
    progress: Progress | None,
) -> _Checked:
    """Binds ``actor``, checks the mouza and every feature (no write)."""
    bind(conn, actor)
    mouza_id = resolve_mouza(conn, mouza)
    authorize_import(conn, actor, [mouza_id])
    target = mouza_label(conn, mouza_id)
    default_units = UnitSystem(
        conn.execute(
            text("SELECT unit_system FROM mouza WHERE id = :id"), {"id": mouza_id}
        ).scalar_one()
    )
    existing = set(
        conn.execute(
            text("SELECT number FROM khasra WHERE mouza_id = :id"), {"id": mouza_id}
        ).scalars()
    )
    today: date = conn.execute(text("SELECT current_date")).scalar_one()
    checker = _Checker(
        path,
        opened.crs,
        target,
        default_units,
        existing,
        _khewats(conn, mouza_id),
        "khewat_no" in opened.columns,
        mapping.default_land_class,
    )
    rows = checker.check(opened.gdf, opened.columns, opened.geoms, progress)
    return _Checked(mouza_id, target, today, rows, checker)


def import_parcels(
    engine: Engine,
    path: Path,
    *,
    mouza: str,
    layer: str | None = None,
    actor: Actor,
    progress: Progress | None = None,
    mapping: FieldMapping | None = None,
) -> ImportReport:
    """Imports every feature of ``path`` as a khasra of ``mouza``, or nothing.

    Args:
        engine: the database.
        path: a GeoPackage, Shapefile (or zipped Shapefile) or GeoJSON file; see the
            module documentation for its fields and geometry rules.
        mouza: the mouza's name or hadbast number.
        layer: the layer to read; needed only for a file with several layers.
        actor: who imports: bound to the transaction, named by the audit rows; needs
            ``records.import`` in the mouza (module notes).
        progress: a rich progress bar to advance, or None.
        mapping: the file's own field names and a default land class (module notes,
            "Vendor files"); None: the canonical names.

    Raises:
        ImportRejected: the file cannot be read, is over a limit, or any feature is bad;
            every problem found is listed with its row (feature index + 1), field and
            reason (a :class:`ParcelsRejected` with the per-field summary once the
            features were read).
        NotFound: no such mouza, or the reference is ambiguous.
        AccessDenied: the actor may not import into the mouza.
        AuthenticationFailed: the actor's session has ended.
        InputRejected: a limit's environment variable is not a number.
    """
    started = time.perf_counter()
    path = Path(path)
    mapping = mapping or FieldMapping()
    check_import_role(actor)
    opened = _open(path, layer, mapping)
    digest = sha256_file(path)

    try:
        with engine.begin() as conn:
            checked = _check_against(conn, path, opened, mouza, actor, mapping, progress)
            rows, checker, mouza_id, today = (
                checked.rows, checked.checker, checked.mouza_id, checked.today
            )  # fmt: skip
            if checker.problems:
                problems = clean_problems(checker.problems)
                raise ParcelsRejected(str(path), problems, _by_field(checker, opened))
            for row in rows:
                row["mouza_id"] = mouza_id
                row["unassigned_since"] = None if row["khewat_id"] else today
            _insert(conn, rows, path, progress)
            attached = _attach(conn, rows, mouza_id, today)
            unassigned = len(rows) - attached
            details: dict[str, object] = {
                "file": path.name,
                "layer": opened.layer,
                "sha256": digest,
                "count": len(rows),
                "attached": attached,
                "unassigned": unassigned,
            }
            if not mapping.is_empty:  # how the vendor's columns were read, for the record
                details["fields"] = {
                    u.field: u.column if u.column is not None else u.how
                    for u in opened.fields
                    if u.how != "absent"
                }
                if mapping.default_land_class is not None:
                    details["default_land_class"] = mapping.default_land_class
                    details["defaulted"] = checker.defaulted
            write_audit(
                conn,
                actor=actor.label,
                action="import parcels",
                entity="mouza",
                entity_id=str(mouza_id),
                details=details,
            )
    except DBAPIError as exc:
        raise ImportRejected(
            str(path), [RowProblem(None, None, f"the database refused it: {database_reason(exc)}")]
        ) from exc
    counts = {"khasra": len(rows)}
    if attached:
        counts["khewat_khasra"] = attached
    return ImportReport(
        path=path,
        counts=counts,
        seconds=time.perf_counter() - started,
        target=checked.target,
        details={
            "layer": opened.layer,
            "sha256": digest,
            "attached": attached,
            "unassigned": unassigned,
            "fields": _fields_with_counts(opened.fields, mapping, checker.defaulted),
            "ignored": opened.ignored,
        },
    )


def check_parcels(
    engine: Engine,
    path: Path,
    *,
    mouza: str,
    layer: str | None = None,
    actor: Actor,
    progress: Progress | None = None,
    mapping: FieldMapping | None = None,
) -> ParcelCheck:
    """A dry run of :func:`import_parcels`: every check, nothing written.

    The file is read and checked against the mouza exactly as an import would (the
    same code, in a transaction that only reads and is rolled back): no khasra, no
    khewat_khasra row, no audit row. Row problems are returned, not raised, so that a
    user sees what would be imported beside everything to fix.

    Args: as :func:`import_parcels`.

    Raises:
        ImportRejected: the file itself cannot be imported (unreadable, over a limit, a
            required or mapped column missing, no CRS): the problems that stop the
            features being read at all.
        NotFound, AccessDenied, AuthenticationFailed, InputRejected: as
            :func:`import_parcels`.
    """
    path = Path(path)
    mapping = mapping or FieldMapping()
    check_import_role(actor)
    opened = _open(path, layer, mapping)
    with engine.connect() as conn:
        try:
            checked = _check_against(conn, path, opened, mouza, actor, mapping, progress)
        finally:
            conn.rollback()
    rows, checker = checked.rows, checked.checker
    stored = [r for r in rows if "geom_area_m2" in r]
    attached = sum(1 for r in rows if r.get("khewat_id"))
    # a row whose khewat number or assignment is refused is neither attached nor unassigned
    undecided = {
        p.row for p in checker.problems if p.field in ("khewat_no", "assignment") and p.row
    }
    present = opened.geoms[~(shapely.is_missing(opened.geoms) | shapely.is_empty(opened.geoms))]
    bounds = _bounds(shapely.total_bounds(present)) if len(present) else None
    file_bounds = _bounds(opened.gdf.total_bounds) if len(present) else None
    return ParcelCheck(
        path=path,
        layer=opened.layer,
        target=checked.target,
        crs=opened.crs,
        features=len(rows),
        attached=attached,
        unassigned=len(rows) - attached - len(undecided),
        area_m2=float(sum(r["geom_area_m2"] for r in stored)),
        record_area_sarsai=int(sum(r.get("record_area_sarsai") or 0 for r in rows)),
        bounds=bounds,
        file_bounds=file_bounds,
        fields=_fields_with_counts(opened.fields, mapping, checker.defaulted),
        ignored=opened.ignored,
        problems=clean_problems(checker.problems),
        by_field=_by_field(checker, opened),
    )


def _bounds(values: Any) -> tuple[float, float, float, float]:
    minx, miny, maxx, maxy = (float(v) for v in values)
    return (minx, miny, maxx, maxy)


def _fields_with_counts(
    fields: list[FieldUse], mapping: FieldMapping, defaulted: int
) -> list[FieldUse]:
    """The per-field report with the default land class and the rows given it."""
    if mapping.default_land_class is None:
        return fields
    default = mapping.default_land_class
    return [
        replace(u, default=default, defaulted=defaulted) if u.field == "land_class" else u
        for u in fields
    ]


_HINTS = (
    # (field, a reason contains, the hint)
    (
        "khasra_no",
        ("is not a whole number", "is too large"),
        "A khasra number is digits, '/' before a tatima and '//' between murabba and "
        "killa (123, 123/2, 45//12/1); a vendor's parcel id such as 91216000AB0037 is not "
        "one: map khasra_no to the column holding the khasra number (--field "
        "khasra_no=COLUMN)",
    ),
    (
        "khasra_no",
        ("appears twice in the file",),
        "Khasra numbers are unique in a mouza: if the file numbers its parcels within "
        "sections or sheets, import each section into its own mouza (one file per "
        "section), or map khasra_no to a column unique in the file",
    ),
    (
        "land_class",
        ("unknown land class",),
        "Translate the file's codes to land classes before importing, or leave those "
        "cells empty and give --default-land-class",
    ),
    (
        "land_class",
        ("missing land class",),
        "Give --default-land-class for the rows without one",
    ),
    (
        "area_kms",
        ("is less than one sarsai",),
        "A record area is at least one sarsai: give these parcels their record area in "
        "an area_kms column (0-0-1 at least; other rows may stay empty)",
    ),
)


def _by_field(checker: _Checker, opened: _Opened) -> list[FieldProblems]:
    """The row problems summed up per field, in field order, with a hint where the
    problems share a cause a user can fix (module notes, "Vendor files")."""
    rows: dict[str, set[int]] = {}
    first: dict[str, RowProblem] = {}
    reasons: dict[str, list[str]] = {}
    for p in checker.problems:
        if p.row is None or p.field is None:
            continue
        rows.setdefault(p.field, set()).add(p.row)
        first.setdefault(p.field, p)
        reasons.setdefault(p.field, []).append(p.reason)
    order = {name: i for i, name in enumerate((*TARGET_FIELDS, "geometry"))}
    out = []
    for name in sorted(rows, key=lambda n: order.get(n, len(order))):
        hint = next(
            (
                h
                for f, needles, h in _HINTS
                if f == name
                and sum(any(n in r for n in needles) for r in reasons[name])
                > len(reasons[name]) / 2
            ),
            "",
        )
        out.append(
            FieldProblems(
                field=name,
                column=opened.columns.get(name),
                rows=len(rows[name]),
                total=len(opened.gdf),
                first_row=int(first[name].row or 0),
                first_reason=first[name].reason,
                hint=hint,
            )
        )
    return out


def _insert(conn: Connection, rows: list[dict[str, Any]], path: Path, progress: Any) -> None:
    """Writes the khasras with one COPY (much faster than INSERTs), advancing the
    progress bar per chunk of rows."""
    chunks = [rows[i : i + _INSERT_CHUNK] for i in range(0, len(rows), _INSERT_CHUNK)]
    tracked = track(chunks, f"Writing {path.name}", progress, total=len(chunks))
    values = operator.itemgetter(*_COLUMNS)
    copy_rows(conn, "khasra", _COLUMNS, (values(row) for chunk in tracked for row in chunk))


def _khewats(conn: Connection, mouza_id: int) -> dict[int, tuple[int, bool]]:
    """The mouza's khewats: number -> (id, closed), closed when the khewat had ownership
    shares and none is open today (its owners partitioned or consolidated it away)."""
    rows = conn.execute(
        text(
            "SELECT w.id, w.number,"
            " EXISTS (SELECT 1 FROM share s WHERE s.khewat_id = w.id"
            "         AND s.right_type = 'ownership')"
            " AND NOT EXISTS (SELECT 1 FROM share s WHERE s.khewat_id = w.id"
            "         AND s.right_type = 'ownership'"
            "         AND (s.valid_to IS NULL OR s.valid_to > current_date)) AS closed"
            " FROM khewat w WHERE w.mouza_id = :m"
        ),
        {"m": mouza_id},
    ).all()
    return {int(r.number): (int(r.id), bool(r.closed)) for r in rows}


def _attach(conn: Connection, rows: list[dict[str, Any]], mouza_id: int, today: date) -> int:
    """Gives each khasra imported with a khewat number to its khewat, whole, from
    ``today`` (one statement: the khasras' ids are found by their numbers); returns how
    many were attached."""
    pairs = [(row["number"], row["khewat_id"]) for row in rows if row["khewat_id"]]
    if not pairs:
        return 0
    numbers, khewat_ids = zip(*pairs, strict=True)
    written = conn.execute(
        text(
            "INSERT INTO khewat_khasra (khewat_id, khasra_id, mouza_id, area_sarsai, valid_from)"
            " SELECT f.khewat_id, k.id, k.mouza_id, k.record_area_sarsai, :on"
            " FROM unnest(CAST(:numbers AS text[]), CAST(:khewats AS bigint[]))"
            "  AS f(number, khewat_id)"
            " JOIN khasra k ON k.mouza_id = :m AND k.number = f.number"
        ),
        {"numbers": list(numbers), "khewats": list(khewat_ids), "m": mouza_id, "on": today},
    ).rowcount
    if written != len(pairs):  # cannot happen: every number was just inserted
        raise RuntimeError(f"attached {written} of {len(pairs)} khasras to their khewats")
    return len(pairs)


# --- reading -------------------------------------------------------------------------


def _sidecars(path: Path) -> list[Path]:
    """A Shapefile's other files (.dbf, .shx, .prj, .cpg...), which GDAL reads with it."""
    if path.suffix.lower() != ".shp":
        return []
    return [p for p in path.parent.glob(path.stem + ".*") if p != path and p.is_file()]


def _read(path: Path, layer: str | None, limits: Limits) -> tuple[gpd.GeoDataFrame, str]:
    """Opens the file and its layer; every failure becomes a file-level rejection, as
    does a file over the byte or feature limits (checked before the features are read)."""
    check_readable(path)
    if path.suffix.lower() not in SUFFIXES:
        raise file_problem(
            path,
            f"unsupported file type '{path.suffix}': expected a GeoPackage (.gpkg), "
            "Shapefile (.shp or .zip) or GeoJSON (.geojson, .json)",
        )
    if path.stat().st_size == 0:
        raise file_problem(path, "the file is empty (0 bytes)")
    check_size(path, limits, _sidecars(path))
    try:
        names = [str(row[0]) for row in pyogrio.list_layers(path)]
        if layer is None:
            if len(names) != 1:
                listed = ", ".join(printable(n) for n in names) or "none"
                raise file_problem(
                    path, f"has {len(names)} layers ({listed}); name the one to import"
                )
            layer = names[0]
        elif layer not in names:
            listed = ", ".join(printable(n) for n in names)
            raise file_problem(path, f"has no layer '{printable(layer)}'; its layers: {listed}")
        info = pyogrio.read_info(path, layer=layer)
        driver = info["driver"]
        if driver not in DRIVERS:
            raise file_problem(
                path,
                f"is a {driver} file, not a GeoPackage, Shapefile or GeoJSON (wrong format)",
            )
        if int(info["features"]) > limits.max_rows:  # -1 when the driver cannot count
            raise too_many_rows(path, limits, f"the layer has {int(info['features']):,} features,")
        data = pyogrio.read_dataframe(path, layer=layer)
    except UnicodeDecodeError as exc:
        raise _not_utf8(path, layer, int(info["features"]), exc) from exc
    except (RuntimeError, OSError, ValueError) as exc:  # pyogrio's errors are RuntimeErrors
        raise file_problem(path, _gdal_reason(exc)) from exc
    if not isinstance(data, gpd.GeoDataFrame):
        raise file_problem(path, f"layer '{printable(layer)}' has no geometry column")
    if len(data) > limits.max_rows:
        raise too_many_rows(path, limits, f"the layer has {len(data):,} features,")
    return data, layer


def _not_utf8(path: Path, layer: str | None, count: int, exc: UnicodeDecodeError) -> ImportRejected:
    """The rejection of a layer whose text is not UTF-8, naming the first feature that
    holds such text (found by halving the features read, attributes only)."""
    lo, hi = 0, count  # a bad feature lies in [lo, hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        try:
            pyogrio.read_dataframe(
                path, layer=layer, read_geometry=False, skip_features=lo, max_features=mid - lo
            )
        except UnicodeDecodeError:
            hi = mid
        else:
            lo = mid
    byte = exc.object[exc.start] if isinstance(exc.object, bytes | bytearray) else None
    shown = f"byte 0x{byte:02x}" if byte is not None else "a byte"
    reason = (
        f"not UTF-8 text: a text field holds {shown} (at byte {exc.start} of the field), "
        "which is not UTF-8; save the file as UTF-8 (a Shapefile: declare its encoding in "
        "a .cpg file)"
    )
    return ImportRejected(str(path), [RowProblem(lo + 1 if count > 0 else None, None, reason)])


def _check_vertices(path: Path, gdf: gpd.GeoDataFrame, limits: Limits) -> None:
    """Refuses features with more vertices than ``limits.max_vertices`` (all parts
    together), before any reprojection or repair spends time on them."""
    counts = shapely.get_num_coordinates(np.asarray(gdf.geometry.array, dtype=object))
    over = np.flatnonzero(counts > limits.max_vertices)
    if len(over) == 0:
        return
    variable = LIMIT_VARIABLES["max_vertices"][0]
    raise ImportRejected(
        str(path),
        [
            RowProblem(
                int(i) + 1,
                "geometry",
                f"{int(counts[i]):,} vertices, more than the limit of "
                f"{limits.max_vertices:,} per parcel set by {variable}",
            )
            for i in over.tolist()
        ],
    )


def _gdal_reason(exc: BaseException) -> str:
    """A reader-friendly reason for a file GDAL could not read."""
    message = " ".join(str(exc).split())
    if "not recognized as" in message:
        return (
            "not a GeoPackage, Shapefile or GeoJSON: its format is not recognised "
            "(wrong format, or a damaged file)"
        )
    lowered = message.lower()
    if any(s in lowered for s in ("malformed", "not a database", "truncat", "corrupt")):
        detail = message.split("; ")[-1]
        return f"the file is damaged or truncated and cannot be read ({detail})"
    return f"cannot be read: {message}"


def _check_columns(
    path: Path, gdf: gpd.GeoDataFrame, mapping: FieldMapping
) -> tuple[dict[str, str], list[FieldUse], list[str]]:
    """Finds the file's column of each field; file-level problems are raised together.

    Returns (field -> the file's column, the per-field report, the columns not read).
    A field the mapping names is read from that column (its name matched
    case-insensitively); any other field from the column bearing its name, as before
    mappings existed. Checks: column names without control characters, no name matching
    two columns, every mapped column present, no column feeding two fields, at least one
    feature, the required fields (``land_class`` may come from the default), a declared
    CRS (module notes, "Vendor files").
    """
    problems: list[RowProblem] = []
    by_key: dict[str, list[str]] = {}  # lower-cased name -> the file's columns
    for original in gdf.columns:
        if original == gdf.geometry.name:
            continue
        if has_control(str(original)):
            shown = printable(str(original))
            reason = f"the column name '{shown}' {control_problem(str(original))}"
            problems.append(RowProblem(None, None, reason))
            continue
        by_key.setdefault(str(original).strip().lower(), []).append(str(original))
    found = ", ".join(printable(str(c)) for c in gdf.columns if c != gdf.geometry.name) or "none"
    columns: dict[str, str] = {}
    uses: dict[str, FieldUse] = {}
    fed: dict[str, str] = {}  # the file's column -> the field it feeds
    for name, source in mapping.fields.items():
        origin = mapping.origins.get(name, "the mapping")
        if source is None:
            uses[name] = FieldUse(name, None, "none", origin)
            continue
        matches = by_key.get(source.strip().lower(), [])
        if not matches:
            problems.append(
                RowProblem(
                    None,
                    name,
                    f"mapped to column '{printable(source)}' ({origin}), which the file "
                    f"does not have; the file has: {found}",
                )
            )
            continue
        if len(matches) > 1:
            listed = " and ".join(f"'{printable(c)}'" for c in matches)
            problems.append(
                RowProblem(
                    None,
                    name,
                    f"mapped to column '{printable(source)}' ({origin}), which matches the "
                    f"columns {listed}: they differ only in case; rename one",
                )
            )
            continue
        (column,) = matches
        if column in fed:
            problems.append(
                RowProblem(
                    None,
                    name,
                    f"column '{printable(column)}' is mapped to both {fed[column]} and {name} "
                    f"({origin}): a column feeds one field",
                )
            )
            continue
        fed[column] = name
        columns[name] = column
        uses[name] = FieldUse(name, column, "mapped", origin)
    # the other fields: the column bearing the field's name (or its Shapefile cut)
    named: dict[str, list[str]] = {}
    for key, originals in by_key.items():
        named.setdefault(_ALIASES.get(key, key), []).extend(originals)
    for name in TARGET_FIELDS:
        if name in mapping.fields:
            continue
        matches = named.get(name, [])
        if len(matches) > 1:
            first, second = matches[:2]
            problems.append(RowProblem(None, name, f"columns '{first}' and '{second}' both "
                                                   f"mean '{name}'"))  # fmt: skip
            continue
        if not matches:
            continue
        (column,) = matches
        if column in fed:
            problems.append(
                RowProblem(
                    None,
                    name,
                    f"column '{printable(column)}' is mapped to {fed[column]} "
                    f"({mapping.origins.get(fed[column], 'the mapping')}) and its name "
                    f"also means {name}: map {name} to another column, or write "
                    f"--field {name}= if the file has none",
                )
            )
            continue
        fed[column] = name
        columns[name] = column
        uses[name] = FieldUse(name, column, "by name")
    if len(gdf) == 0:
        problems.append(RowProblem(None, None, "no features: the layer is empty"))
    expected = (
        f"expected columns: {', '.join(REQUIRED_FIELDS)} (required), "
        f"{', '.join(OPTIONAL_FIELDS)} (optional); the file has: {found}"
    )
    for name in REQUIRED_FIELDS:
        if name in columns or (name == "land_class" and mapping.default_land_class):
            continue
        if name in mapping.fields and mapping.fields[name] is not None:
            continue  # its mapped column is missing: said above
        remedy = f"map it to the file's column with --field {name}=COLUMN"
        if name == "land_class":
            remedy += " or give --default-land-class"
        problems.append(RowProblem(None, name, f"missing column '{name}'; {expected}; {remedy}"))
    if gdf.crs is None:
        problems.append(
            RowProblem(
                None,
                "geometry",
                "no coordinate reference system: declare the file's CRS "
                "(a Shapefile needs its .prj), e.g. EPSG:32643 for UTM 43N",
            )
        )
    if problems:
        raise ImportRejected(str(path), problems)
    report = []
    for name in TARGET_FIELDS:
        use = uses.get(name) or FieldUse(name, None, "absent")
        if name == "land_class" and name not in columns:  # a default was given (see above)
            use = FieldUse(name, None, "default", mapping.origins["default_land_class"])
        report.append(use)
    used = set(columns.values())
    ignored = [str(c) for c in gdf.columns if c != gdf.geometry.name and str(c) not in used]
    return columns, report, ignored


def _crs_name(crs: CRS) -> str:
    """``EPSG:32643`` where the CRS has an EPSG code, else its name."""
    code = crs.to_epsg()
    return f"EPSG:{code}" if code is not None else f"'{crs.name}'"


def _validity_reason(geom: BaseGeometry) -> str:
    """GEOS's reason, ``Self-intersection[73.9 31.7]`` written ``Self-intersection at
    (73.9, 31.7)`` (square brackets would read as markup in the CLI's messages)."""
    reason = str(shapely.is_valid_reason(geom))
    match = re.fullmatch(r"(.*)\[(\S+) (\S+)\]", reason)
    if match is None:
        return reason
    try:
        x, y = float(match[2]), float(match[3])
    except ValueError:
        return reason
    return f"{match[1]} at ({x:.6f}, {y:.6f})"


def _texts(gdf: gpd.GeoDataFrame, columns: dict[str, str], name: str) -> list[str | None]:
    """A field's cells as text (see cell_text); all None when the file lacks the field."""
    if name not in columns:
        return [None] * len(gdf)
    return [cell_text(value) for value in gdf[columns[name]].to_numpy(dtype=object)]


@functools.lru_cache(maxsize=4096)
def _total_sarsai(kms: str) -> int:
    """parse_kms's total, cached: a file repeats few distinct kanal-marla-sarsai values
    many times (a failure raises InvalidArea, and is not cached)."""
    return parse_kms(kms).total_sarsai


def _array_text(values: tuple[int, ...]) -> str:
    """``{1,2}``: an integer[] as PostgreSQL's array text, which COPY reads directly
    (cheaper than having psycopg adapt a list for every row)."""
    return "{" + ",".join(map(str, values)) + "}"


def _repair(geom: BaseGeometry) -> BaseGeometry:
    """Repairs an invalid polygon when the module's repair rule allows it.

    Raises:
        _Refused: the repair would change what was drawn; the reason says how.
    """
    reason = _validity_reason(geom)
    drawn = float(shapely.area(geom))  # the absolute shoelace area of the invalid rings
    repaired = shapely.make_valid(geom, method="structure", keep_collapsed=False)
    if repaired.geom_type == "GeometryCollection":
        parts = [g for g in repaired.geoms if g.geom_type in _POLYGONAL]
        repaired = shapely.union_all(parts) if parts else shapely.Polygon()
    fixed = float(shapely.area(repaired))
    if repaired.is_empty or repaired.geom_type not in _POLYGONAL or fixed <= 0:
        raise _Refused(f"invalid geometry ({reason}) that cannot be repaired")
    change = abs(fixed - drawn) / fixed
    if change >= REPAIR_TOLERANCE:
        raise _Refused(
            f"invalid geometry ({reason}); repairing it would change its area by "
            f"{change:.1%} (more than {REPAIR_TOLERANCE:.0%}), so its intended shape is "
            "unclear: fix it in the GIS"
        )
    return repaired


def _as_multipolygons(geoms: np.ndarray) -> np.ndarray:
    """Each Polygon as a one-part MultiPolygon (the khasra.geom type), in one GEOS call."""
    result = geoms.copy()
    polygons = shapely.get_type_id(geoms) == _POLYGONAL_IDS[0]
    result[polygons] = shapely.multipolygons(geoms[polygons].reshape(-1, 1))  # 1 part each
    return result


# --- checking ------------------------------------------------------------------------


@dataclass
class _Checker:
    path: Path
    crs: str
    target: str
    default_units: UnitSystem
    existing: set[str]
    khewats: dict[int, tuple[int, bool]]  # khewat number -> (id, closed)
    has_khewat_column: bool  # the file has a khewat_no column (module notes)
    default_land_class: str | None = None  # for rows without one (module notes)

    def __post_init__(self) -> None:
        self.problems: list[RowProblem] = []
        self.defaulted = 0  # rows given the default land class
        self.seen: dict[str, int] = {}  # canonical khasra number -> first row
        self.all_outside = False  # every feature outside Pakistan: one file-level problem

    def problem(self, row: int | None, field: str | None, reason: str) -> None:
        self.problems.append(RowProblem(row, field, reason))

    def check(
        self,
        gdf: gpd.GeoDataFrame,
        columns: dict[str, str],
        geoms: np.ndarray,
        progress: Progress | None,
    ) -> list[dict[str, Any]]:
        """Checks every feature; returns the rows to insert (meaningful when no problems).

        Geometries are checked all at once, with shapely's vectorised functions; their
        problems are reported in the row loop so that a row's problems keep field order.
        """
        names = (*REQUIRED_FIELDS, *OPTIONAL_FIELDS)
        cells = [self._refuse_controls(name, _texts(gdf, columns, name)) for name in names]
        final, refused = self._geometries(geoms, self._outside_bounds(geoms))
        rows: list[dict[str, Any]] = []
        features = track(
            zip(*cells, strict=True), f"Checking {self.path.name}", progress, total=len(gdf)
        )
        for i, cell in enumerate(features):
            khasra_no, land_class, area_kms, unit_system, source, khewat_no, assignment = cell
            row = i + 1
            record: dict[str, Any] = {}
            self._khasra_no(row, khasra_no, record)
            self._land_class(row, land_class, record)
            self._unit_system(row, unit_system, record)
            self._area(row, area_kms, record)
            if source is not _REFUSED:
                record["source"] = source or f"import:{self.path.name}"
            self._assignment(row, khewat_no, assignment, record)
            if i in refused:
                self.problem(row, "geometry", refused[i])
            rows.append(record)
        self._areas(rows, final)
        return rows

    def _refuse_controls(self, name: str, values: list[str | None]) -> list[str | None]:
        """``values`` with each cell holding a control character replaced by
        :data:`_REFUSED` and reported (one search of the whole column first: a column
        without any, nearly always, costs no per-cell check)."""
        if not has_control("\n".join(v for v in values if v is not None)):
            return values
        cleaned: list[str | None] = []
        for i, value in enumerate(values):
            reason = None if value is None else control_problem(value)
            if reason is None:
                cleaned.append(value)
            else:
                self.problem(i + 1, name, reason)
                cleaned.append(_REFUSED)
        return cleaned

    def _khasra_no(self, row: int, value: str | None, record: dict[str, Any]) -> None:
        if value is _REFUSED:
            return
        if value is None:
            self.problem(row, "khasra_no", "missing khasra number")
            return
        try:
            number = parse_khasra_number(value)
        except InvalidKhasraNumber as exc:
            self.problem(row, "khasra_no", str(exc))
            return
        except ValueError:  # a number of thousands of digits
            self.problem(row, "khasra_no", f"khasra number '{_cut(value)}' is too large")
            return
        if max(number.murabba or 0, number.number, *number.tatima) > _INT4_MAX:
            self.problem(row, "khasra_no", f"khasra number '{value}' is too large")
            return
        canonical = str(number)
        if canonical in self.seen:
            self.problem(
                row,
                "khasra_no",
                f"khasra {canonical} appears twice in the file (also on row "
                f"{self.seen[canonical]})",
            )
        else:
            self.seen[canonical] = row
        if canonical in self.existing:
            self.problem(row, "khasra_no", f"khasra {canonical} already exists in {self.target}")
        record.update(
            number=canonical,
            murabba=number.murabba,
            main_number=number.number,
            tatima=_array_text(number.tatima),
        )

    def _land_class(self, row: int, value: str | None, record: dict[str, Any]) -> None:
        allowed = _LAND_CLASSES_ALLOWED
        if value is _REFUSED:
            return
        if value is None:
            if self.default_land_class is not None:
                record["land_class"] = self.default_land_class
                self.defaulted += 1
                return
            self.problem(row, "land_class", f"missing land class; expected one of: {allowed}")
            return
        land_class = _LAND_CLASSES.get(_land_class_key(value))
        if land_class is None:
            self.problem(
                row,
                "land_class",
                f"unknown land class '{_cut(value)}'; expected one of: {allowed}",
            )
            return
        record["land_class"] = land_class

    def _unit_system(self, row: int, value: str | None, record: dict[str, Any]) -> None:
        if value is _REFUSED:
            return
        if value is None:
            record["unit_system"] = self.default_units.value
            return
        unit_system = _UNIT_SYSTEMS.get(value.lower())
        if unit_system is None:
            allowed = _UNIT_SYSTEMS_ALLOWED
            self.problem(
                row,
                "unit_system",
                f"unknown unit system '{_cut(value)}'; expected one of: {allowed}",
            )
            return
        record["unit_system"] = unit_system

    def _assignment(
        self, row: int, khewat_no: str | None, assignment: str | None, record: dict[str, Any]
    ) -> None:
        """Where the khasra belongs: ``record["khewat_id"]``, None when unassigned (the
        module's "Where a khasra belongs")."""
        record["khewat_id"] = None
        if khewat_no is _REFUSED or assignment is _REFUSED:
            return
        unassigned = False
        if assignment is not None:
            if assignment.lower() != UNASSIGNED:
                self.problem(
                    row,
                    "assignment",
                    f"unknown assignment '{_cut(assignment)}'; expected '{UNASSIGNED}' (a "
                    "khasra mapped before the record of rights holds it), or leave it empty",
                )
                return
            unassigned = True
        if khewat_no is None:
            if self.has_khewat_column and not unassigned:
                self.problem(
                    row,
                    "khewat_no",
                    "missing khewat number: give the khewat that holds the khasra, or write "
                    f"'{UNASSIGNED}' in the assignment field to import it without one",
                )
            return
        if unassigned:
            self.problem(
                row,
                "assignment",
                f"'{UNASSIGNED}' but the row names khewat {_cut(khewat_no)}: leave one of "
                "them empty",
            )
            return
        if re.fullmatch(r"\d+(\s*[,;/&]\s*\d+)+", khewat_no):
            self.problem(
                row,
                "khewat_no",
                f"'{_cut(khewat_no)}' names several khewats; an import attaches a khasra to "
                "one (which part of its area each would hold is not in the file): import "
                f"it with assignment '{UNASSIGNED}'",
            )
            return
        if not (khewat_no.isascii() and khewat_no.isdigit()):
            self.problem(
                row,
                "khewat_no",
                f"khewat number '{_cut(khewat_no)}' is not a whole number (to import the "
                f"khasra without a khewat, leave it empty and write '{UNASSIGNED}' in the "
                "assignment field)",
            )
            return
        number = int(khewat_no)
        found = self.khewats.get(number)
        if found is None:
            self.problem(row, "khewat_no", f"no khewat {number} in {self.target}")
            return
        khewat_id, closed = found
        if closed:
            self.problem(
                row,
                "khewat_no",
                f"khewat {number} of {self.target} is closed (no owner holds a share of it "
                "today); a khasra cannot be attached to a closed account",
            )
            return
        record["khewat_id"] = khewat_id

    def _area(self, row: int, value: str | None, record: dict[str, Any]) -> None:
        if value is _REFUSED:
            return
        if value is None:
            record["record_area_sarsai"] = None  # from the geometry, once it is known
            return
        try:
            sarsai = _total_sarsai(value)
        except InvalidArea as exc:
            self.problem(row, "area_kms", str(exc))
            return
        except ValueError:  # a number of thousands of digits
            self.problem(row, "area_kms", f"area '{_cut(value)}' is too large")
            return
        if sarsai == 0:
            self.problem(row, "area_kms", f"area '{value}' must be more than 0-0-0")
            return
        if sarsai > _INT4_MAX:
            self.problem(row, "area_kms", f"area '{value}' is too large")
            return
        record["record_area_sarsai"] = sarsai

    def _outside_bounds(self, geoms: np.ndarray) -> np.ndarray:
        """Per feature: does it have coordinates outside Pakistan? One file-level problem
        replaces the per-row ones when every feature does (a wrong declared CRS)."""
        present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        bounds = np.full((len(geoms), 4), np.nan)
        if present.any():
            bounds[present] = shapely.bounds(geoms[present])
        min_lon, min_lat, max_lon, max_lat = PAKISTAN_BOUNDS
        with np.errstate(invalid="ignore"):
            inside = (
                (bounds[:, 0] >= min_lon)
                & (bounds[:, 1] >= min_lat)
                & (bounds[:, 2] <= max_lon)
                & (bounds[:, 3] <= max_lat)
            )
        outside: np.ndarray = present & ~inside
        if present.any() and outside[present].all():
            first = int(np.flatnonzero(outside)[0])
            x, y = bounds[first, 0], bounds[first, 1]
            self.problem(
                None,
                "geometry",
                f"every feature lies outside Pakistan (longitude 60 to 78, latitude 23 to 38) "
                f"once reprojected from {self.crs} to EPSG:4326, e.g. row {first + 1} at "
                f"({x:.6g}, {y:.6g}): the declared CRS is wrong (projected coordinates "
                "declared as degrees?)",
            )
            self.all_outside = True
        return outside

    def _geometries(
        self, geoms: np.ndarray, outside: np.ndarray
    ) -> tuple[np.ndarray, dict[int, str]]:
        """The geometries to store (valid MultiPolygons in EPSG:4326, None where refused)
        and the reason for each refused one, by index.

        Whole-array GEOS calls do the common case; per-feature Python runs only for the
        few features refused (:meth:`_refusal`) or invalid (:func:`_repair`).
        """
        final = np.full(len(geoms), None, dtype=object)
        refused: dict[int, str] = {}
        polygonal = np.isin(shapely.get_type_id(geoms), _POLYGONAL_IDS) & ~shapely.is_empty(geoms)
        for i in np.flatnonzero(~polygonal | outside).tolist():
            reason = self._refusal(geoms[i], bool(outside[i]))
            if reason is not None:
                refused[i] = reason
        kept = np.flatnonzero(polygonal & ~outside)
        flat = shapely.force_2d(geoms[kept])
        for k in np.flatnonzero(~shapely.is_valid(flat)).tolist():
            try:
                flat[k] = _repair(flat[k])
            except _Refused as exc:
                refused[int(kept[k])] = str(exc)
                flat[k] = None
        final[kept] = _as_multipolygons(flat)
        return final, refused

    def _refusal(self, geom: BaseGeometry | None, outside: bool) -> str | None:
        """Why a missing, empty, non-polygonal or outside geometry is refused (None when
        the file-level problem of :meth:`_outside_bounds` already says it)."""
        if geom is None:
            return "missing geometry"
        if geom.is_empty:
            return "empty geometry"
        if geom.geom_type not in _POLYGONAL:
            return f"a {geom.geom_type}; a khasra must be a Polygon or MultiPolygon"
        assert outside
        if self.all_outside:
            return None
        minx, miny, maxx, maxy = geom.bounds
        return (
            f"coordinates ({minx:.6g}, {miny:.6g}) to ({maxx:.6g}, {maxy:.6g}) lie "
            f"outside Pakistan (longitude 60 to 78, latitude 23 to 38) once "
            f"reprojected from {self.crs} to EPSG:4326"
        )

    def _areas(self, rows: list[dict[str, Any]], geoms: np.ndarray) -> None:
        """Fills geometry (as hex EWKB for COPY), metric area and (where not given) the
        record area."""
        ok = np.flatnonzero(~shapely.is_missing(geoms))
        metres = areas_m2(geoms[ok])
        ewkb = shapely.to_wkb(shapely.set_srid(geoms[ok], 4326), include_srid=True)
        for i, m2, geom in zip(ok.tolist(), metres.tolist(), ewkb.tolist(), strict=True):
            record, row = rows[i], i + 1
            if not m2 > 0:
                self.problem(row, "geometry", "the geometry has no area")
                continue
            record["geom_area_m2"] = m2
            record["geom"] = geom.hex()  # 4x faster than GEOS's hex output
            derive = "record_area_sarsai" in record and record["record_area_sarsai"] is None
            if derive and "unit_system" in record:
                sarsai = m2_to_sarsai(float(m2), UnitSystem(record["unit_system"]))
                if sarsai == 0:
                    self.problem(
                        row,
                        "area_kms",
                        f"no area given and the geometry's {m2:.2f} m² is less than one sarsai",
                    )
                record["record_area_sarsai"] = sarsai
        self.problems.sort(key=lambda p: -1 if p.row is None else p.row)
