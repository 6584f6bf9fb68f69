"""Storage: the only package that talks to PostgreSQL/PostGIS.

- :mod:`~landgov.storage.cluster` runs the private cluster (``landgov db up|down|status``).
- :mod:`~landgov.storage.migrate` applies ``sql/`` migrations.
- :mod:`~landgov.storage.engine` gives SQLAlchemy engines; :mod:`~landgov.storage.tables`
  the reflected tables; :mod:`~landgov.storage.lookup` finds records by reference.
- :mod:`~landgov.storage.bulk` writes many rows at once with COPY.
"""

from landgov.storage import audit
from landgov.storage.bulk import copy_rows, database_reason
from landgov.storage.engine import get_engine
from landgov.storage.lookup import NotFound, find_mouza
from landgov.storage.tables import table

__all__ = ["NotFound", "audit", "copy_rows", "database_reason", "find_mouza", "get_engine", "table"]
