"""When care happens and how it falls into invoicing cycles: plain arithmetic, tested without
an app or a database, over every kind of schedule Hypothesis can think of."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from marketplace.orders.models import ScheduleKind
from marketplace.orders.schedule import (
    MAX_UNITS_PER_OCCASION,
    MAX_WEEKS,
    WEEKDAYS,
    Schedule,
    cycles,
    validation_problems,
)

TODAY = date(2026, 6, 1)

days_of_week = st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True).map(tuple)
recurring = st.builds(
    Schedule,
    kind=st.just(ScheduleKind.RECURRING),
    starts_on=st.dates(TODAY, TODAY + timedelta(days=400)),
    units_per_occasion=st.integers(1, MAX_UNITS_PER_OCCASION),
    weeks=st.integers(1, MAX_WEEKS),
    days=days_of_week,
)
one_off = st.builds(
    Schedule,
    kind=st.just(ScheduleKind.ONE_OFF),
    starts_on=st.dates(TODAY, TODAY + timedelta(days=400)),
    units_per_occasion=st.integers(1, MAX_UNITS_PER_OCCASION),
)
schedules = recurring | one_off
cycle_lengths = st.sampled_from([7, 14, 28]) | st.integers(1, 60)


@given(recurring)
def test_each_chosen_weekday_comes_once_a_week_for_the_weeks_given(schedule: Schedule) -> None:
    occasions = schedule.occasions()
    assert schedule.weeks is not None
    assert len(occasions) == schedule.weeks * len(schedule.days)
    assert occasions == sorted(set(occasions))
    assert all(WEEKDAYS[day.weekday()] in schedule.days for day in occasions)
    assert occasions[0] >= schedule.starts_on
    assert occasions[-1] < schedule.starts_on + timedelta(weeks=schedule.weeks)
    assert schedule.ends_on == occasions[-1]
    assert schedule.total_units == len(occasions) * schedule.units_per_occasion
    assert schedule.units_per_week * schedule.weeks == schedule.total_units


@given(one_off)
def test_a_one_off_is_one_occasion_on_its_day(schedule: Schedule) -> None:
    assert schedule.occasions() == [schedule.starts_on]
    assert schedule.ends_on == schedule.starts_on
    assert schedule.total_units == schedule.units_per_occasion == schedule.units_per_week


@given(schedules, cycle_lengths)
def test_cycles_hold_every_occasion_once_in_order_and_within_their_dates(
    schedule: Schedule, cycle_days: int
) -> None:
    plans = cycles(schedule, cycle_days)
    assert [plan.number for plan in plans] == list(range(1, len(plans) + 1))
    assert [day for plan in plans for day in plan.occasions] == schedule.occasions()
    assert sum(plan.units for plan in plans) == schedule.total_units
    for plan in plans:
        assert plan.occasions, "a cycle with no occasion is left out"
        assert plan.starts_on <= plan.occasions[0]
        assert plan.occasions[-1] <= plan.ends_on
        assert (plan.ends_on - plan.starts_on).days < cycle_days
        assert plan.units == len(plan.occasions) * schedule.units_per_occasion
        # A cycle starts a whole number of cycles after the schedule does.
        assert (plan.starts_on - schedule.starts_on).days % cycle_days == 0
    for earlier, later in itertools.pairwise(plans):
        assert earlier.ends_on < later.starts_on


@given(schedules)
def test_a_schedule_of_the_generated_kinds_has_no_problems(schedule: Schedule) -> None:
    assert validation_problems(schedule, today=TODAY) == {}


@given(recurring, st.integers(-3, 0) | st.integers(MAX_UNITS_PER_OCCASION + 1, 100))
def test_units_outside_one_to_the_maximum_are_refused_on_their_field(
    schedule: Schedule, units: int
) -> None:
    bad = Schedule(schedule.kind, schedule.starts_on, units, schedule.weeks, schedule.days)
    assert set(validation_problems(bad, today=TODAY)) == {"units_per_occasion"}


def test_a_start_before_today_weeks_out_of_range_and_unknown_days_are_each_named() -> None:
    problems = validation_problems(
        Schedule(ScheduleKind.RECURRING, TODAY - timedelta(days=1), 2, MAX_WEEKS + 1, ("XX",)),
        today=TODAY,
    )
    assert set(problems) == {"starts_on", "weeks", "days"}
    assert validation_problems(
        Schedule(ScheduleKind.RECURRING, TODAY, 2, 2, ("MO", "MO")), today=TODAY
    ) == {"days": "Select days of the week from the list"}
