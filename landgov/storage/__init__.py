"""Storage: the database machinery and the reads several services share.

Each service keeps the SQL of the data it owns; the shells (``app/``, ``landgov/cli/``)
run none (docs/architecture.md, the data-access rule).

- :mod:`~landgov.storage.cluster` runs the private cluster (``landgov db up|down|status``).
- :mod:`~landgov.storage.migrate` applies ``sql/`` migrations.
- :mod:`~landgov.storage.engine` gives SQLAlchemy engines; :mod:`~landgov.storage.tables`
  the reflected tables; :mod:`~landgov.storage.lookup` finds records by reference.
- :mod:`~landgov.storage.bulk` writes many rows at once with COPY.
"""

from landgov.storage import audit
from landgov.storage.bulk import copy_rows, database_reason
from landgov.storage.engine import get_engine
from landgov.storage.lookup import NotFound, resolve_mouza
from landgov.storage.tables import table

__all__ = [
    "NotFound",
    "audit",
    "copy_rows",
    "database_reason",
    "get_engine",
    "resolve_mouza",
    "table",
]
