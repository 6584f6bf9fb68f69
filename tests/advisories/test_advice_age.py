"""How old advice is when a farmer reads it (:mod:`landgov.advisories.age`), and what
:func:`landgov.advisories.farmer.farmer_view` gives the Farmer page to write it in the
farmer's own language."""

from __future__ import annotations

from datetime import date

import pytest
from security_support import owner_engine
from sqlalchemy import text
from sqlalchemy.engine import Engine

from landgov.advisories.age import STALE_AFTER_DAYS, AdviceAge, advice_age
from landgov.advisories.farmer import farmer_view
from landgov.advisories.rules import RECENT_DAYS, STRESS_LOOKBACK_DAYS
from landgov.domain.calendar import InvalidSeason


@pytest.mark.parametrize(
    ("as_of", "season", "year", "on", "status", "days"),
    [
        # mid-rabi advice read the same week: current
        (date(2026, 3, 5), "rabi", 2026, date(2026, 3, 9), AdviceAge.CURRENT, 4),
        # 30 days is still current, 31 is old (same season)
        (date(2026, 3, 5), "rabi", 2026, date(2026, 4, 4), AdviceAge.CURRENT, 30),
        (date(2026, 3, 5), "rabi", 2026, date(2026, 4, 5), AdviceAge.OLD, 31),
        # the last day of rabi is still its season; the day after it has ended
        (date(2026, 4, 20), "rabi", 2026, date(2026, 4, 30), AdviceAge.CURRENT, 10),
        (date(2026, 4, 20), "rabi", 2026, date(2026, 5, 1), AdviceAge.PAST_SEASON, 11),
        # March advice read in December (the case): a past season, not just old
        (date(2026, 3, 5), "rabi", 2026, date(2026, 12, 6), AdviceAge.PAST_SEASON, 276),
        # kharif, harvested by November
        (date(2025, 9, 1), "kharif", 2025, date(2025, 11, 2), AdviceAge.PAST_SEASON, 62),
    ],
)
def test_advice_is_current_old_or_from_a_past_season(
    as_of: date, season: str, year: int, on: date, status: AdviceAge, days: int
) -> None:
    age = advice_age(as_of, season, year, on)
    assert (age.status, age.days) == (status, days)
    assert age.stale is (status is not AdviceAge.CURRENT)


def test_the_age_limit_is_the_rules_longest_look_back() -> None:
    assert STALE_AFTER_DAYS == max(RECENT_DAYS, STRESS_LOOKBACK_DAYS) == 30
    assert advice_age(date(2026, 3, 5), "rabi", 2026, date(2026, 3, 5)).season_ended == date(
        2026, 4, 30
    )


def test_an_unknown_season_is_refused() -> None:
    with pytest.raises(InvalidSeason):
        advice_age(date(2026, 3, 5), "zaid", 2026, date(2026, 3, 9))


def test_farmer_view_gives_the_registered_language_and_the_mouza_in_urdu(
    engine: Engine,
) -> None:
    from tests.app.dashboard_support import insert_tiny_mouza

    tiny = insert_tiny_mouza(owner_engine(engine))
    with owner_engine(engine).begin() as conn:
        conn.execute(text("UPDATE mouza SET name_ur = 'کوٹ ٹیسٹ' WHERE id = 1"))
        conn.execute(
            text("INSERT INTO farmer_contact (party_id, phone, language) VALUES (1, :p, 'ur')"),
            {"p": "+923001112233"},
        )
    with engine.connect() as conn:
        mine = farmer_view(conn, tiny.cnics[0], date(2024, 1, 1))
        theirs = farmer_view(conn, tiny.cnics[1], date(2024, 1, 1))
    assert mine["language"] == "ur" and theirs["language"] is None  # no phone: no language
    assert {p["mouza_ur"] for p in mine["parcels"]} == {"کوٹ ٹیسٹ"}
    assert {p["mouza"] for p in mine["parcels"]} == {"Kot Test"}
