"""The clock a test starts on, near midnight (tests/midnight.py)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import time_machine

from marketplace.formatting import LONDON
from tests.midnight import before_midnight

DAY = date(2026, 12, 4)


def _london(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=LONDON)


def test_a_test_started_during_the_day_keeps_the_real_clock() -> None:
    start = _london(DAY, time(22, 59, 0))
    with time_machine.travel(start, tick=False), before_midnight(DAY):
        assert datetime.now(LONDON) == start


def test_a_test_started_in_the_last_hour_runs_from_23_00_with_an_hour_to_spare() -> None:
    with time_machine.travel(_london(DAY, time(23, 59, 58)), tick=True), before_midnight(DAY):
        now = datetime.now(LONDON)
        assert now.date() == DAY
        assert now < _london(DAY, time(23, 1))


def test_a_test_started_after_midnight_still_runs_on_its_day() -> None:
    after = _london(DAY + timedelta(days=1), time(0, 5))
    with time_machine.travel(after, tick=False), before_midnight(DAY):
        assert datetime.now(LONDON) == _london(DAY, time(23))
    with time_machine.travel(after, tick=False):
        assert datetime.now(LONDON) == after
