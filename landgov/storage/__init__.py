"""Storage: the only package that talks to PostgreSQL/PostGIS.

- :mod:`~landgov.storage.cluster` runs the private cluster (``landgov db up|down|status``).
- :mod:`~landgov.storage.migrate` applies ``sql/`` migrations.
- :mod:`~landgov.storage.engine` gives SQLAlchemy engines; :mod:`~landgov.storage.tables`
  the reflected tables; :mod:`~landgov.storage.lookup` finds records by reference.
"""

from landgov.storage.engine import get_engine
from landgov.storage.lookup import NotFound, find_mouza
from landgov.storage.tables import table

__all__ = ["NotFound", "find_mouza", "get_engine", "table"]
