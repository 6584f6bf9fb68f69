"""Table objects for the schema that ``sql/`` defines.

The SQL migrations are the single source of the schema; Python reflects it rather than
declaring it a second time, so the two cannot drift. Importing geoalchemy2 teaches the
reflection PostGIS's geometry type.
"""

from __future__ import annotations

from functools import lru_cache

import geoalchemy2  # noqa: F401  (registers geometry types for reflection)
from sqlalchemy import MetaData, Table
from sqlalchemy.engine import Engine


@lru_cache(maxsize=16)
def _metadata(url: str, engine: Engine) -> MetaData:
    meta = MetaData()
    meta.reflect(bind=engine)
    return meta


def table(engine: Engine, name: str) -> Table:
    """The reflected table ``name`` of the database behind ``engine``."""
    return _metadata(str(engine.url), engine).tables[name]
