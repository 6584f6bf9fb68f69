"""How a record is spelt once for good: the canonical snapshot and its hash.

A record of rights (:mod:`landgov.records.rights`), a jamabandi
(:mod:`landgov.records.jamabandi`) and a fard (:mod:`landgov.records.fard`) are each
certified by a snapshot, a JSON-able dict stored beside its SHA-256, and checked later by
recomputing it. The helpers all three use live here, below them, so that none of them
imports another just for the spelling and no import circle can form. This module reads
nothing and writes nothing.

Snapshots
    :meth:`~landgov.records.rights.KhewatHolding.snapshot`,
    :meth:`~landgov.records.rights.PersonHolding.snapshot` and a jamabandi's snapshot are
    JSON-able dicts of text and integers only: shares and other exact fractions are
    written ``"n/d"`` in lowest terms (:func:`fraction_text`), dates ISO
    (``2024-03-01``), lists in a fixed order (khasras by number; rights by right type,
    name, CNIC, date). Parties are identified by CNIC (a person) or custodian (a state
    body), khasras by number and mouzas by name and hadbast number
    (:func:`mouza_identity`), never by database id. :func:`canonical_json` writes one
    spelling of a snapshot (sorted keys, no spaces, UTF-8) and :func:`snapshot_hash` is
    the SHA-256 of it, so the same records on the same date always give the same hash.
    Names are part of a snapshot: a jamabandi and a fard certify them, so correcting a
    name also counts as a change of the record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

from landgov.domain import KanalMarlaSarsai, format_share
from landgov.storage.read import MouzaHeader

__all__ = [
    "canonical_json",
    "decimal_text",
    "fraction_text",
    "mouza_identity",
    "nearest_kms",
    "snapshot_hash",
]


def canonical_json(snapshot: Mapping[str, Any]) -> str:
    """One spelling of a snapshot: keys sorted, no spaces, non-ASCII kept as is."""
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def snapshot_hash(snapshot: Mapping[str, Any]) -> str:
    """SHA-256 (lowercase hex) of the UTF-8 bytes of :func:`canonical_json`."""
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


def fraction_text(value: Fraction | int) -> str:
    """An exact value as ``n/d`` in lowest terms (the whole is ``1/1``)."""
    return format_share(Fraction(value))


def decimal_text(value: Fraction, places: int = 2) -> str:
    """A fraction rounded half to even to ``places`` decimals, exactly, e.g. ``505.86``."""
    scaled = round(Fraction(value) * 10**places)
    sign = "-" if scaled < 0 else ""
    whole, rest = divmod(abs(scaled), 10**places)
    return f"{sign}{whole}.{rest:0{places}d}" if places else f"{sign}{whole}"


def nearest_kms(sarsai: Fraction | int) -> KanalMarlaSarsai:
    """An exact area in sarsai, to the nearest whole sarsai (half to even), as K-M-S."""
    return KanalMarlaSarsai.from_sarsai(round(Fraction(sarsai)))


def mouza_identity(mouza: MouzaHeader) -> dict[str, Any]:
    """How a snapshot names a mouza: its name and hadbast number, not its database id."""
    return {"name": mouza.name, "hadbast": mouza.hadbast_number}
