"""Importing khasra parcels from a GeoPackage, Shapefile or GeoJSON file.

File format
-----------
One feature per khasra, in a GeoPackage (``.gpkg``, one layer or ``layer=``), an ESRI
Shapefile (``.shp`` with its ``.dbf``/``.shx``/``.prj``, or all of them zipped in a
``.zip``) or GeoJSON (``.geojson``/``.json``). Field names are read case-insensitively;
``unit_syste`` (a Shapefile's 10-character cut of ``unit_system``) is understood. Other
fields are ignored.

================  ========  ==============================================================
field             required  meaning
================  ========  ==============================================================
``khasra_no``     yes       khasra number, e.g. ``123``, ``123/2``, ``45//12/1``; stored in
                            canonical form (``012`` is ``12``); unique in the file and new
                            to the mouza
``land_class``    yes       one of :class:`~landgov.domain.LandClass` (``nehri``, ``chahi``
                            ...); case, spaces and dashes are forgiven (``Ghair Mumkin``)
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
from dataclasses import dataclass
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
from landgov.errors import ImportRejected, InvalidArea, InvalidKhasraNumber, RowProblem
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
from landgov.storage.lookup import find_mouza

REQUIRED_FIELDS = ("khasra_no", "land_class")
OPTIONAL_FIELDS = ("area_kms", "unit_system", "source", "khewat_no", "assignment")
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


def import_parcels(
    engine: Engine,
    path: Path,
    *,
    mouza: str,
    layer: str | None = None,
    actor: Actor,
    progress: Progress | None = None,
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

    Raises:
        ImportRejected: the file cannot be read, is over a limit, or any feature is bad;
            every problem found is listed with its row (feature index + 1), field and
            reason.
        NotFound: no such mouza, or the reference is ambiguous.
        AccessDenied: the actor may not import into the mouza.
        AuthenticationFailed: the actor's session has ended.
        InputRejected: a limit's environment variable is not a number.
    """
    started = time.perf_counter()
    path = Path(path)
    check_import_role(actor)
    limits = import_limits()
    gdf, layer_name = _read(path, layer, limits)
    columns = _check_columns(path, gdf)
    _check_vertices(path, gdf, limits)
    try:
        geoms = gdf.to_crs(4326).geometry.array
    except (CRSError, ValueError, RuntimeError) as exc:
        reason = f"cannot reproject from {_crs_name(gdf.crs)} to EPSG:4326: {exc}"
        raise file_problem(path, reason) from exc
    digest = sha256_file(path)

    try:
        with engine.begin() as conn:
            bind(conn, actor)
            mouza_id = find_mouza(conn, mouza)
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
                _crs_name(gdf.crs),
                target,
                default_units,
                existing,
                _khewats(conn, mouza_id),
                "khewat_no" in columns,
            )
            rows = checker.check(gdf, columns, np.asarray(geoms, dtype=object), progress)
            if checker.problems:
                raise ImportRejected(str(path), clean_problems(checker.problems))
            for row in rows:
                row["mouza_id"] = mouza_id
                row["unassigned_since"] = None if row["khewat_id"] else today
            _insert(conn, rows, path, progress)
            attached = _attach(conn, rows, mouza_id, today)
            unassigned = len(rows) - attached
            write_audit(
                conn,
                actor=actor.label,
                action="import parcels",
                entity="mouza",
                entity_id=str(mouza_id),
                details={
                    "file": path.name,
                    "layer": layer_name,
                    "sha256": digest,
                    "count": len(rows),
                    "attached": attached,
                    "unassigned": unassigned,
                },
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
        target=target,
        details={
            "layer": layer_name,
            "sha256": digest,
            "attached": attached,
            "unassigned": unassigned,
        },
    )


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


def _not_utf8(path: Path, layer: str, count: int, exc: UnicodeDecodeError) -> ImportRejected:
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


def _check_columns(path: Path, gdf: gpd.GeoDataFrame) -> dict[str, str]:
    """Maps our field names to the file's columns; file-level problems are raised together.

    Checks: at least one feature, the required columns, a declared CRS.
    """
    problems: list[RowProblem] = []
    columns: dict[str, str] = {}
    for original in gdf.columns:
        if original == gdf.geometry.name:
            continue
        if has_control(str(original)):
            shown = printable(str(original))
            reason = f"the column name '{shown}' {control_problem(str(original))}"
            problems.append(RowProblem(None, None, reason))
            continue
        key = str(original).strip().lower()
        key = _ALIASES.get(key, key)
        if key in columns:
            problems.append(
                RowProblem(
                    None, key, f"columns '{columns[key]}' and '{original}' both mean '{key}'"
                )
            )
        columns[key] = str(original)
    if len(gdf) == 0:
        problems.append(RowProblem(None, None, "no features: the layer is empty"))
    found = ", ".join(printable(str(c)) for c in gdf.columns if c != gdf.geometry.name) or "none"
    expected = (
        f"expected columns: {', '.join(REQUIRED_FIELDS)} (required), "
        f"{', '.join(OPTIONAL_FIELDS)} (optional); the file has: {found}"
    )
    for name in REQUIRED_FIELDS:
        if name not in columns:
            problems.append(RowProblem(None, name, f"missing column '{name}'; {expected}"))
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
    return columns


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

    def __post_init__(self) -> None:
        self.problems: list[RowProblem] = []
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
            self.problem(row, "land_class", f"missing land class; expected one of: {allowed}")
            return
        land_class = _LAND_CLASSES.get("_".join(value.lower().replace("-", " ").split()))
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
