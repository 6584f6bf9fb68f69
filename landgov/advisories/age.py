"""How old a piece of advice is when a farmer reads it, and whether to say so.

An advisory speaks of a crop on the day of its run (``as_of``). Read later it may no
longer hold, and the Farmer page must say so rather than show March's advice in December
as if it were today's. Two rules, the stronger first:

- **past season** (:attr:`AdviceAge.PAST_SEASON`): the advisory's girdawari season has
  ended (:func:`landgov.domain.calendar.season_end`) on the day it is read. Its crop has
  been harvested: the advice says nothing about what is in the field now.
- **older than** :data:`STALE_AFTER_DAYS` **days** (:attr:`AdviceAge.OLD`), in the same
  season: the rules judge a crop on the clear looks of the last 20 days
  (:data:`landgov.advisories.rules.RECENT_DAYS`) and water stress on the last 30
  (:data:`~landgov.advisories.rules.STRESS_LOOKBACK_DAYS`); 30 days later none of the
  looks behind the advice is recent any more, and a crop's state (a watering, a green-up,
  a pest) changes within weeks. A run every few days keeps advice fresh; this marks the
  advice a stopped run left behind.

Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Final

from landgov.advisories.rules import RECENT_DAYS, STRESS_LOOKBACK_DAYS
from landgov.domain.calendar import season_end

STALE_AFTER_DAYS: Final = max(RECENT_DAYS, STRESS_LOOKBACK_DAYS)
"""30: beyond the longest look-back of the rules, no observation behind the advice is
recent."""


class AdviceAge(StrEnum):
    CURRENT = "current"
    OLD = "old"
    PAST_SEASON = "past_season"


@dataclass(frozen=True)
class Age:
    """How old an advisory is on the day it is read: the rule that applies, the days
    since its run, and the last day of its season."""

    status: AdviceAge
    days: int
    season_ended: date

    @property
    def stale(self) -> bool:
        return self.status is not AdviceAge.CURRENT


def advice_age(as_of: date, season: str, year: int, on: date) -> Age:
    """The age of advice of run date ``as_of`` for the girdawari season (``season``,
    ``year``), read on ``on``.

    Raises:
        InvalidSeason: ``season`` is not ``rabi`` or ``kharif``.
    """
    ended = season_end(season, year)
    days = (on - as_of).days
    if on > ended:
        status = AdviceAge.PAST_SEASON
    elif days > STALE_AFTER_DAYS:
        status = AdviceAge.OLD
    else:
        status = AdviceAge.CURRENT
    return Age(status, days, ended)
