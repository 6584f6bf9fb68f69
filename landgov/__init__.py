"""landgov: land records, imagery and models for Pakistan's revenue departments.

Subpackages, from the pure core outwards:

- :mod:`landgov.domain` -- records, units, shares, CNICs, khasra numbers; no I/O.
- :mod:`landgov.storage` -- the PostGIS cluster, migrations and tables; the only place
  that talks to the database.
- :mod:`landgov.io` -- importers and exporters of files (parcels, mutation registers).
- :mod:`landgov.demo` -- the deterministic demo district with planted anomalies.
- :mod:`landgov.cli` -- the ``landgov`` command, a thin shell over the above.
"""

__version__ = "0.1.0"
