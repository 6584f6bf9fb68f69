"""Where landgov keeps its data and which database it uses.

Two environment variables configure everything:

- ``LANDGOV_HOME``: the data directory (default ``./.landgov``): the private PostGIS
  cluster, the demo district's files and test artefacts live under it.
- ``LANDGOV_DATABASE_URL``: an existing PostGIS server, e.g.
  ``postgresql://user:pass@host:5432/landgov``. When set, landgov never starts a cluster
  of its own.

``LANDGOV_PGPORT`` moves the private cluster off its default port (54329).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PORT = 54329
DEFAULT_DATABASE = "landgov"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str | None  # external server; None means the private cluster
    port: int

    @property
    def uses_private_cluster(self) -> bool:
        return self.database_url is None

    @property
    def pgdata(self) -> Path:
        return self.home / "pgdata"

    @property
    def demo_dir(self) -> Path:
        return self.home / "demo"

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL (psycopg 3 driver) of ``database`` on the configured server."""
        if self.database_url is not None:
            base = self.database_url
            for prefix in ("postgresql://", "postgres://"):
                if base.startswith(prefix):
                    base = "postgresql+psycopg://" + base[len(prefix) :]
            if database is None:
                return base
            head, _, tail = base.rpartition("/")
            query = tail.partition("?")[2]
            return f"{head}/{database}" + (f"?{query}" if query else "")
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database or DEFAULT_DATABASE}"


def load_settings() -> Settings:
    home = Path(os.environ.get("LANDGOV_HOME", ".landgov")).resolve()
    url = os.environ.get("LANDGOV_DATABASE_URL") or None
    port = int(os.environ.get("LANDGOV_PGPORT", DEFAULT_PORT))
    return Settings(home=home, database_url=url, port=port)
