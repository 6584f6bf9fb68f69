"""Farmer advisories (issue 8): per-parcel crop health, yield outlook, water stress and
phenology notices, with evidence and confidence, in Urdu and English.

- :mod:`~landgov.advisories.rules`: the pure rules over one parcel-season's imagery.
- :mod:`~landgov.advisories.texts`: the Urdu and English templates, SMS-sized.
- :mod:`~landgov.advisories.run`: the batch that stores advice and queues SMS once.
- :mod:`~landgov.advisories.contacts`: farmers' phones and consent from CSV.
- :mod:`~landgov.advisories.farmer`: one farmer's own view, behind a one-time code.
"""

from landgov.advisories.rules import Advisory, Kind, Level, Series
from landgov.advisories.texts import Text, render

__all__ = ["Advisory", "Kind", "Level", "Series", "Text", "render"]
