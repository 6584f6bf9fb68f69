"""The girdawari calendar (landgov.domain.calendar): season windows, labels, the season of
a day, and clear refusals of what is not a season."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from landgov.domain.calendar import (
    InvalidSeason,
    parse_season,
    season_end,
    season_label,
    season_of,
    season_start,
    season_window,
)
from landgov.domain.records import Season
from landgov.errors import LandgovError


def test_windows_are_the_girdawari_seasons() -> None:
    assert season_window("rabi", 2026) == (date(2025, 11, 1), date(2026, 4, 30))
    assert season_window("kharif", 2025) == (date(2025, 5, 1), date(2025, 10, 31))
    assert season_start("rabi", 2026) == date(2025, 11, 1)
    assert season_end("kharif", 2025) == date(2025, 10, 31)
    assert season_window(Season.RABI, 2024) == (date(2023, 11, 1), date(2024, 4, 30))


@pytest.mark.parametrize("year", [2023, 2024, 2025, 2026])  # 2024 is a leap year
def test_seasons_tile_the_calendar(year: int) -> None:
    """Every day of a year lies in exactly one season, the one season_of names."""
    day = date(year, 1, 1)
    while day.year == year:
        kind, y = season_of(day)
        start, end = season_window(kind, y)
        assert start <= day <= end, day
        other = "kharif" if kind == "rabi" else "rabi"
        for oy in (y - 1, y, y + 1):
            lo, hi = season_window(other, oy)
            assert not lo <= day <= hi, (day, other, oy)
        day += timedelta(days=1)


def test_season_of_at_the_edges() -> None:
    assert season_of(date(2025, 10, 31)) == ("kharif", 2025)
    assert season_of(date(2025, 11, 1)) == ("rabi", 2026)
    assert season_of(date(2026, 4, 30)) == ("rabi", 2026)
    assert season_of(date(2026, 5, 1)) == ("kharif", 2026)


@pytest.mark.parametrize(
    ("label", "season"),
    [
        ("rabi 2025-26", ("rabi", 2026)),
        ("Rabi  2025-26 ", ("rabi", 2026)),
        ("rabi 2026", ("rabi", 2026)),
        ("rabi 1999-00", ("rabi", 2000)),
        ("kharif 2025", ("kharif", 2025)),
        ("KHARIF 2025", ("kharif", 2025)),
    ],
)
def test_parse_season(label: str, season: tuple[str, int]) -> None:
    assert parse_season(label) == season


@pytest.mark.parametrize(("kind", "year"), [("rabi", 2026), ("rabi", 2000), ("kharif", 2025)])
def test_label_round_trips(kind: str, year: int) -> None:
    assert parse_season(season_label(kind, year)) == (kind, year)


def test_labels() -> None:
    assert season_label("rabi", 2026) == "rabi 2025-26"
    assert season_label("rabi", 2000) == "rabi 1999-00"
    assert season_label("kharif", 2025) == "kharif 2025"


@pytest.mark.parametrize(
    ("label", "reason"),
    [
        ("spring 2025", "expected 'rabi 2025-26' or 'kharif 2025'"),
        ("rabi 25-26", "expected 'rabi 2025-26' or 'kharif 2025'"),
        ("rabi 2025-27", "rabi years must be consecutive"),
        ("kharif 2025-26", "kharif is within one year"),
    ],
)
def test_bad_labels_are_refused_with_the_reason(label: str, reason: str) -> None:
    with pytest.raises(InvalidSeason, match=reason) as err:
        parse_season(label)
    assert repr(label) in str(err.value)
    assert isinstance(err.value, LandgovError) and isinstance(err.value, ValueError)


@pytest.mark.parametrize("call", [season_window, season_label, season_start, season_end])
def test_unknown_season_kinds_are_refused(call: object) -> None:
    with pytest.raises(InvalidSeason, match="unknown season 'zaid'"):
        call("zaid", 2025)  # type: ignore[operator]
