"""Exporting a mouza's record of rights on a date to a GeoPackage.

Layers
------
``khasra`` (MultiPolygon, EPSG:4326), one feature per khasra live on the date:

- ``khasra_no``: canonical number, e.g. ``45//12/1``;
- ``land_class``; ``unit_system``;
- ``area_kms``: the record area as kanal-marla-sarsai, e.g. ``4-7-3``;
- ``area_m2``: the geometry's area in its UTM zone;
- ``khewat_no``: the khewat(s) holding it, e.g. ``12`` or ``12,14``;
- ``owners``: a readable summary, e.g. ``Muhammad Aslam s/o Ghulam Rasool (1/4); ...``,
  grouped per khewat (``khewat 12: ... | khewat 14: ...``) when there are several, a
  right other than ownership named after the share (``(1/2 mortgage with possession)``).

``ownership`` (attributes only), one row per khasra x khewat x owner x right:
``khasra_no``, ``khewat_no``, ``name``, ``guardian_relation``, ``guardian_name``,
``cnic``, ``custodian`` (state parties), ``share`` (``n/d`` of the whole khewat, in lowest
terms), ``right_type``, ``valid_from`` (a date; empty when held since settlement).

A target ending in ``.csv`` gets the ``ownership`` table alone, as UTF-8 CSV with a
byte-order mark (for spreadsheets), every text cell neutralised against formula
injection (:mod:`landgov.io.safe_csv`).

Personal data
-------------
An export is a read of personal data by a signed-in :class:`~landgov.security.Actor`
(capability ``personal.read``): CNICs are masked (``35401-*******-1``,
:func:`landgov.domain.mask_cnic`) unless ``unmasked`` is asked for *and* the actor may
see them in full in this mouza (:func:`landgov.security.may_unmask`: an officer posted
over it today); asking without that right is refused with rule ``unmask``. Every export
writes one ``access_log`` row (action ``export``, subject kind ``export``, subject the
mouza's id; details: mouza, date, file, format, whether unmasked, rows).

The file is written beside the target under a temporary name, the access row is
committed, and only then is the file renamed over the target: a failure never leaves a
half-written file, an existing file is replaced whole, and no file appears whose export
was not logged.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Iterable
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Final

import geopandas as gpd
import pandas as pd
import pyarrow as pa
import pyogrio
from sqlalchemy.engine import Engine

from landgov.domain import KanalMarlaSarsai, format_kms, format_share, mask_cnic
from landgov.errors import AccessDenied
from landgov.io._common import mouza_label
from landgov.io.reports import ExportReport
from landgov.io.safe_csv import write_csv
from landgov.security import Actor, authorize, bind, log_access, may_unmask
from landgov.storage.lookup import resolve_mouza
from landgov.storage.read import mouza_parcels, owners_as_of

KHASRA_LAYER: Final = "khasra"
OWNERSHIP_LAYER: Final = "ownership"
KHASRA_FIELDS: Final = (
    "khasra_no",
    "land_class",
    "area_kms",
    "unit_system",
    "area_m2",
    "khewat_no",
    "owners",
)
OWNERSHIP_FIELDS: Final = (
    "khasra_no",
    "khewat_no",
    "name",
    "guardian_relation",
    "guardian_name",
    "cnic",
    "custodian",
    "share",
    "right_type",
    "valid_from",
)

_RELATION: Final = {"son_of": "s/o", "daughter_of": "d/o", "wife_of": "w/o"}


def export_mouza(
    engine: Engine,
    mouza: str,
    out: Path,
    *,
    as_of: date,
    actor: Actor,
    unmasked: bool = False,
) -> ExportReport:
    """Writes ``mouza``'s khasras and owners on ``as_of`` to ``out``: a GeoPackage, or the
    ownership table as CSV when ``out`` ends in ``.csv``.

    Args:
        engine: the database.
        mouza: the mouza's name or hadbast number.
        out: the file to write; replaced if it exists.
        as_of: the date of the record of rights.
        actor: who exports (``personal.read``); named by the access-log row.
        unmasked: CNICs in full, for an actor who may see them (module notes).

    Raises:
        NotFound: no such mouza, or the reference is ambiguous.
        AccessDenied: rule ``role`` (no ``personal.read``) or ``unmask``.
        AuthenticationFailed: the actor's session has ended.
    """
    started = time.perf_counter()
    out = Path(out)
    as_csv = out.suffix.lower() == ".csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    suffix = ".tmp.csv" if as_csv else ".tmp.gpkg"
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:8]}{suffix}")
    try:
        with engine.begin() as conn:
            bind(conn, actor)
            authorize(conn, actor, "personal.read")
            mouza_id = resolve_mouza(conn, mouza)
            target = mouza_label(conn, mouza_id)
            if unmasked and not may_unmask(conn, actor, mouza_id):
                raise AccessDenied(
                    "unmask",
                    f"{actor.display} may not export CNICs in full for {target}: that "
                    "needs an officer posted over the mouza today; export without "
                    "--unmasked for masked CNICs",
                )
            parcels = mouza_parcels(conn, mouza_id, as_of)
            owners = owners_as_of(conn, as_of, mouza_id=mouza_id)
            khasra = _khasra_layer(parcels, owners)
            ownership = _ownership_layer(owners, unmasked=unmasked)
            if as_csv:
                write_csv(temp, OWNERSHIP_FIELDS, _csv_rows(ownership), bom=True)
                counts = {OWNERSHIP_LAYER: len(ownership)}
            else:
                _write_gpkg(temp, khasra, ownership)
                counts = {KHASRA_LAYER: len(khasra), OWNERSHIP_LAYER: len(ownership)}
            log_access(
                conn,
                actor,
                "export",
                "export",
                str(mouza_id),
                {
                    "mouza": target,
                    "as_of": as_of.isoformat(),
                    "file": out.name,
                    "format": "csv" if as_csv else "gpkg",
                    "unmasked": unmasked,
                    "rows": len(ownership),
                    "khasras": len(khasra),
                },
            )
        os.replace(temp, out)  # only once the access row is committed
    finally:
        for leftover in (temp, *(Path(f"{temp}{s}") for s in ("-wal", "-shm", "-journal"))):
            with contextlib.suppress(FileNotFoundError):
                leftover.unlink()
    return ExportReport(
        path=out,
        counts=counts,
        seconds=time.perf_counter() - started,
        target=target,
        as_of=as_of,
    )


def _write_gpkg(path: Path, khasra: gpd.GeoDataFrame, ownership: pd.DataFrame) -> None:
    # arrow writes dates as GeoPackage DATE fields rather than text
    pyogrio.write_dataframe(
        khasra,
        path,
        layer=KHASRA_LAYER,
        driver="GPKG",
        geometry_type="MultiPolygon",
        use_arrow=True,
    )
    pyogrio.write_dataframe(ownership, path, layer=OWNERSHIP_LAYER, driver="GPKG", use_arrow=True)


def _csv_rows(ownership: pd.DataFrame) -> Iterable[list[object]]:
    """The ownership table's rows as plain values (missing: empty cells)."""
    frame = ownership.astype(object).where(ownership.notna(), None)
    for values in frame.itertuples(index=False, name=None):
        yield list(values)


def owner_label(owner: pd.Series) -> str:
    """``Muhammad Aslam s/o Ghulam Rasool (1/4)`` for one row of owners_as_of."""
    name = str(owner["name"])
    relation = owner["guardian_relation"]
    if isinstance(relation, str) and relation:
        name += f" {_RELATION.get(relation, relation)} {owner['guardian_name']}"
    share = format_share(Fraction(int(owner["numerator"]), int(owner["denominator"])))
    right = str(owner["right_type"])
    if right != "ownership":
        share += " " + right.replace("_", " ")
    return f"{name} ({share})"


def _owners_text(rows: pd.DataFrame) -> str:
    per_khewat = [
        "; ".join(owner_label(owner) for _, owner in group.iterrows())
        for _, group in rows.groupby("khewat_no", sort=True)
    ]
    if len(per_khewat) <= 1:
        return per_khewat[0] if per_khewat else ""
    numbers = sorted(rows["khewat_no"].unique())
    return " | ".join(f"khewat {n}: {text}" for n, text in zip(numbers, per_khewat, strict=True))


def _khasra_layer(parcels: gpd.GeoDataFrame, owners: pd.DataFrame) -> gpd.GeoDataFrame:
    summaries = {k: _owners_text(rows) for k, rows in owners.groupby("khasra_id", sort=False)}
    areas = [
        format_kms(KanalMarlaSarsai.from_sarsai(int(n))) for n in parcels["record_area_sarsai"]
    ]
    return gpd.GeoDataFrame(
        {
            "khasra_no": _text(parcels["khasra_no"]),
            "land_class": _text(parcels["land_class"]),
            "area_kms": _text(areas),
            "unit_system": _text(parcels["unit_system"]),
            "area_m2": pd.Series(list(parcels["geom_area_m2"]), dtype="float64"),
            "khewat_no": _text(parcels["khewat_no"]),
            "owners": _text(summaries.get(k, "") for k in parcels["khasra_id"]),
        },
        geometry=list(parcels.geometry),
        crs="EPSG:4326",
    )


def _ownership_layer(owners: pd.DataFrame, *, unmasked: bool = False) -> pd.DataFrame:
    shares = [
        format_share(Fraction(int(n), int(d)))
        for n, d in zip(owners["numerator"], owners["denominator"], strict=True)
    ]
    valid_from = [d if isinstance(d, date) else None for d in owners["valid_from"]]
    return pd.DataFrame(
        {
            "khasra_no": _text(owners["khasra_no"]),
            "khewat_no": pd.Series(list(owners["khewat_no"]), dtype="int64"),
            "name": _text(owners["name"]),
            "guardian_relation": _text(owners["guardian_relation"]),
            "guardian_name": _text(owners["guardian_name"]),
            "cnic": _text(
                c if unmasked or not isinstance(c, str) else mask_cnic(c) for c in owners["cnic"]
            ),
            "custodian": _text(owners["custodian"]),
            "share": _text(shares),
            "right_type": _text(owners["right_type"]),
            "valid_from": pd.Series(valid_from, dtype=pd.ArrowDtype(pa.date32())),
        }
    )


def _text(values: Iterable[object]) -> pd.Series:
    """A text column that stays a text field even when every value is empty."""
    cleaned = [None if v is None or (isinstance(v, float) and v != v) else str(v) for v in values]
    return pd.Series(cleaned, dtype=pd.ArrowDtype(pa.string()))
