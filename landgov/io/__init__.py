"""Files in and out of the record: parcel and mutation-register imports, mouza exports.

Every import is all or nothing: a file with any bad row raises
:class:`~landgov.errors.ImportRejected` listing every problem (row, field, reason) and
writes nothing; a good file is written in one transaction with one audit_log row.

- :func:`import_parcels`: khasras from a GeoPackage, Shapefile or GeoJSON
  (:mod:`landgov.io.parcels` documents the fields and the geometry rules);
- :func:`import_mutations`: a mutation register from CSV (:mod:`landgov.io.mutations`);
- :func:`export_mouza`: a mouza's parcels and owners on a date to a GeoPackage
  (:mod:`landgov.io.export`).
"""

from landgov.io.export import export_mouza
from landgov.io.mutations import import_mutations
from landgov.io.parcels import import_parcels
from landgov.io.reports import ExportReport, ImportReport

__all__ = [
    "ExportReport",
    "ImportReport",
    "export_mouza",
    "import_mutations",
    "import_parcels",
]
