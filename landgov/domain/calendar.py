"""The agricultural calendar of the girdawari: the rabi and kharif crop seasons.

A season is named by its kind and its *girdawari year*, the year of its harvest:

* rabi (winter crop: wheat, fodder) of year *y* runs from 1 November of *y* − 1 to
  30 April of *y*, written ``"rabi 2025-26"`` for *y* = 2026 (the revenue offices' way:
  sown in one calendar year, harvested in the next);
* kharif (summer crop: cotton, rice) of year *y* runs from 1 May to 31 October of *y*,
  written ``"kharif 2025"``.

The two windows tile the calendar, so every day falls in exactly one season
(:func:`season_of`). The girdawari inspections themselves start later in each season (about
1 March and 1 October, docs/glossary.md); the windows here are the growing seasons that
imagery, crop models and advisories read, and every one of them uses this one definition.

Pure: no I/O. Season kinds are plain strings (``"rabi"``, ``"kharif"``), so
:class:`landgov.domain.records.Season` members work too.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from landgov.errors import LandgovError

__all__ = [
    "SEASONS",
    "InvalidSeason",
    "parse_season",
    "season_end",
    "season_label",
    "season_of",
    "season_start",
    "season_window",
]

SEASONS: Final = ("rabi", "kharif")
"""The season kinds, in the order of a girdawari year (rabi is harvested first)."""

_LABEL: Final = re.compile(r"^(rabi|kharif)\s+(\d{4})(?:-(\d{2}))?$")


class InvalidSeason(LandgovError, ValueError):
    """A season kind or label that is not a girdawari season (the message says why).

    A ``ValueError`` too, so callers that caught the ``ValueError`` the season helpers
    raised before they lived here keep working.
    """


def _kind(season: str) -> str:
    kind = str(season)
    if kind not in SEASONS:
        raise InvalidSeason(f"unknown season {season!r}: expected 'rabi' or 'kharif'")
    return kind


def season_window(season: str, year: int) -> tuple[date, date]:
    """First and last day (both inclusive) of a girdawari season.

    >>> season_window("rabi", 2026)
    (datetime.date(2025, 11, 1), datetime.date(2026, 4, 30))
    >>> season_window("kharif", 2025)
    (datetime.date(2025, 5, 1), datetime.date(2025, 10, 31))

    Raises:
        InvalidSeason: ``season`` is neither ``"rabi"`` nor ``"kharif"``.
    """
    if _kind(season) == "rabi":
        return date(year - 1, 11, 1), date(year, 4, 30)
    return date(year, 5, 1), date(year, 10, 31)


def season_start(season: str, year: int) -> date:
    """First day of a girdawari season (:func:`season_window`)."""
    return season_window(season, year)[0]


def season_end(season: str, year: int) -> date:
    """Last day of a girdawari season (:func:`season_window`)."""
    return season_window(season, year)[1]


def season_of(day: date) -> tuple[str, int]:
    """The season ``day`` falls in, as (kind, girdawari year).

    >>> season_of(date(2025, 11, 20))
    ('rabi', 2026)
    >>> season_of(date(2025, 8, 1))
    ('kharif', 2025)
    """
    if 5 <= day.month <= 10:
        return "kharif", day.year
    return "rabi", day.year + 1 if day.month >= 11 else day.year


def parse_season(label: str) -> tuple[str, int]:
    """(kind, girdawari year) of a season label, case and spacing forgiven.

    ``"rabi 2025-26"`` → ("rabi", 2026): the girdawari year is the harvest year.
    ``"kharif 2025"`` → ("kharif", 2025). ``"rabi 2026"`` (the girdawari year alone) is
    accepted too, as the girdawari table and the model cards store it.

    Raises:
        InvalidSeason: not ``rabi YYYY-YY`` / ``rabi YYYY`` / ``kharif YYYY``; rabi years
            that are not consecutive (``rabi 2025-27``); a kharif label spanning two years.
    """
    m = _LABEL.match(str(label).strip().lower())
    if not m:
        raise InvalidSeason(f"season {label!r}: expected 'rabi 2025-26' or 'kharif 2025'")
    kind, y0, y1 = m.group(1), int(m.group(2)), m.group(3)
    if kind == "rabi" and y1 is not None:
        year = y0 + 1
        if year % 100 != int(y1):
            raise InvalidSeason(f"season {label!r}: rabi years must be consecutive")
        return kind, year
    if kind == "kharif" and y1 is not None:
        raise InvalidSeason(f"season {label!r}: kharif is within one year ('kharif 2025')")
    return kind, y0


def season_label(season: str, year: int) -> str:
    """Inverse of :func:`parse_season`: ("rabi", 2026) → ``"rabi 2025-26"``;
    ("kharif", 2025) → ``"kharif 2025"``.

    Raises:
        InvalidSeason: ``season`` is neither ``"rabi"`` nor ``"kharif"``.
    """
    if _kind(season) == "rabi":
        return f"rabi {year - 1}-{year % 100:02d}"
    return f"kharif {year}"
