"""The roll in force on a date (:func:`landgov.valuation.roll.roll_on`): what the
Valuation page shows for its "as of" date."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from security_support import service_actor
from sqlalchemy.engine import Engine

from landgov.valuation.rates import load_dc_rates
from landgov.valuation.roll import current_roll, roll_on, run_roll


def test_a_date_sees_the_roll_valued_last_on_or_before_it(
    demo_copy: Engine, demo_dir: Path
) -> None:
    load_dc_rates(demo_copy, demo_dir / "dc_rates.csv", actor=service_actor(demo_copy, "demo"))
    valuer = service_actor(demo_copy, "valuation")
    later = run_roll(demo_copy, date(2026, 11, 15), actor=valuer)
    earlier = run_roll(demo_copy, date(2025, 6, 30), actor=valuer)  # published after it
    with demo_copy.connect() as conn:
        current = current_roll(conn)
        assert current is not None and current.id == earlier.id  # the one published last
        on_late = roll_on(conn, date(2026, 12, 1))
        assert on_late is not None and on_late.id == later.id  # not a roll of an older date
        assert on_late.as_of == date(2026, 11, 15) and not on_late.reused
        on_between = roll_on(conn, date(2026, 1, 1))
        assert on_between is not None and on_between.id == earlier.id
        on_the_day = roll_on(conn, date(2025, 6, 30))
        assert on_the_day is not None and on_the_day.id == earlier.id
        assert roll_on(conn, date(2025, 6, 29)) is None  # no roll valued by then
