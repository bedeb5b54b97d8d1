"""Instalment dates and even splits: pure functions, no database."""

from __future__ import annotations

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from marketplace.budgets.models import PaymentFrequency
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.schedule import instalment_dates, split_evenly


@pytest.mark.parametrize(
    ("frequency", "count", "last"),
    [
        (PaymentFrequency.ANNUAL, 1, date(2026, 4, 1)),
        (PaymentFrequency.MONTHLY, 12, date(2027, 3, 1)),
        (PaymentFrequency.FOUR_WEEKLY, 13, date(2027, 3, 3)),
    ],
)
def test_a_financial_year_has_the_usual_number_of_instalments(
    frequency: PaymentFrequency, count: int, last: date
) -> None:
    dates = instalment_dates(date(2026, 4, 1), date(2027, 3, 31), frequency)

    assert len(dates) == count
    assert dates[0] == date(2026, 4, 1)
    assert dates[-1] == last


def test_four_weekly_instalments_are_28_days_apart() -> None:
    dates = instalment_dates(date(2026, 4, 1), date(2027, 3, 31), PaymentFrequency.FOUR_WEEKLY)

    assert {(b - a).days for a, b in pairwise(dates)} == {28}


def test_a_monthly_date_missing_from_a_short_month_falls_on_its_last_day() -> None:
    dates = instalment_dates(date(2027, 1, 31), date(2027, 5, 29), PaymentFrequency.MONTHLY)

    assert dates == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]


def test_a_period_shorter_than_one_instalment_still_has_one() -> None:
    assert instalment_dates(date(2026, 4, 1), date(2026, 4, 10), PaymentFrequency.MONTHLY) == [
        date(2026, 4, 1)
    ]


@given(st.integers(min_value=0, max_value=10**10), st.integers(min_value=1, max_value=60))
def test_an_even_split_adds_up_and_differs_by_a_penny_at_most(amount: int, parts: int) -> None:
    shares = split_evenly(amount, parts)

    assert sum(shares) == amount
    assert len(shares) == parts
    assert max(shares) - min(shares) <= 1
    assert shares == sorted(shares, reverse=True)


@pytest.mark.parametrize(
    ("day", "year"),
    [(date(2026, 4, 1), 2026), (date(2027, 3, 31), 2026), (date(2026, 3, 31), 2025)],
)
def test_the_financial_year_starts_on_1_april(day: date, year: int) -> None:
    assert financial_year_of(day) == year
