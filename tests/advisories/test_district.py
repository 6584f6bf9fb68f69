"""Published district yields: the latest figure before the season, and bad files named."""

from __future__ import annotations

from pathlib import Path

import pytest

from landgov.advisories.run import district_averages, season_of
from landgov.errors import ImportRejected


def test_latest_published_year_before_the_season(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "crop,season,year,mean_yield_t_ha\n"
        "wheat,rabi,2024,3.3\nwheat,rabi,2025,3.5\nwheat,rabi,2026,9.9\n"
        "cotton,kharif,2025,2.4\nrice,rabi,2023,4.0\n",
        encoding="utf-8",
    )
    from datetime import date

    assert season_of(date(2026, 3, 5)) == ("rabi", 2026)
    assert season_of(date(2025, 11, 20)) == ("rabi", 2026)
    assert season_of(date(2025, 8, 1)) == ("kharif", 2025)
    # 2026 is the season itself: not yet published
    assert district_averages(path, "rabi", 2026) == {"wheat": 3.5, "rice": 4.0}


def test_bad_rows_named(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    path.write_text(
        "crop,season,year,mean_yield_t_ha\nwheat,rabi,twenty,3\nwheat,rabi,2024,-1\n",
        encoding="utf-8",
    )
    with pytest.raises(ImportRejected) as err:
        district_averages(path, "rabi", 2026)
    assert "row 1" in str(err.value) and "row 2, field 'mean_yield_t_ha'" in str(err.value)
    nocol = tmp_path / "n.csv"
    nocol.write_text("crop,year\nwheat,2024\n", encoding="utf-8")
    with pytest.raises(ImportRejected, match="column missing"):
        district_averages(nocol, "rabi", 2026)
