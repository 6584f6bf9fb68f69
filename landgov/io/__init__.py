"""Files in and out of the record: parcel and mutation-register imports, mouza exports.

Every import is all or nothing: a file with any bad row raises
:class:`~landgov.errors.ImportRejected` listing every problem (row, field, reason) and
writes nothing; a good file is written in one transaction with one audit_log row. Files
are held to input limits and text to rules that protect the next reader
(:mod:`landgov.io._common`). Imports and exports act as a signed-in
:class:`~landgov.security.Actor`: imports within the actor's jurisdiction today, exports
with CNICs masked unless the actor may and asks to see them, each export in the access
log. CSV written for people goes through :mod:`landgov.io.safe_csv`.

- :func:`import_parcels`: khasras from a GeoPackage, Shapefile or GeoJSON
  (:mod:`landgov.io.parcels` documents the fields and the geometry rules);
- :func:`import_mutations`: a mutation register from CSV (:mod:`landgov.io.mutations`);
- :func:`export_mouza`: a mouza's parcels and owners on a date to a GeoPackage, or its
  owners to CSV (:mod:`landgov.io.export`).
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from landgov.io.export import export_mouza
    from landgov.io.mutations import import_mutations
    from landgov.io.parcels import import_parcels
    from landgov.io.reports import ExportReport, ImportReport

# Lazy (PEP 562): ``landgov.io.safe_csv`` is used by commands that need no database, and
# the importers pull in SQLAlchemy and the security layer (an argon2 hash at import).
_WHERE = {
    "export_mouza": "landgov.io.export",
    "import_mutations": "landgov.io.mutations",
    "import_parcels": "landgov.io.parcels",
    "ExportReport": "landgov.io.reports",
    "ImportReport": "landgov.io.reports",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(import_module(_WHERE[name]), name)
    raise AttributeError(f"module 'landgov.io' has no attribute {name!r}")


__all__ = [
    "ExportReport",
    "ImportReport",
    "export_mouza",
    "import_mutations",
    "import_parcels",
]
