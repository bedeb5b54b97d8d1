"""When instalments fall due and how a stream's amount is split between them (pure functions)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from marketplace.budgets.models import PaymentFrequency


def instalment_dates(starts_on: date, ends_on: date, frequency: PaymentFrequency) -> list[date]:
    """The release dates in the period: its start, then every month or every 28 days.

    An instalment is paid at the start of each whole month or four weeks that fits in the
    period (always at least one); days left over at the end are covered by the last one, so
    1 April to 31 March has 12 monthly or 13 four-weekly instalments. A monthly date that a
    short month lacks falls on its last day (31 January, 28 February, 31 March).
    """
    if frequency is PaymentFrequency.ANNUAL:
        return [starts_on]
    dates = [starts_on]
    while True:
        following = _step(starts_on, len(dates) + 1, frequency)
        # The next instalment is due only if the whole period it pays for fits.
        if following - timedelta(days=1) > ends_on:
            return dates
        dates.append(_step(starts_on, len(dates), frequency))


def _step(starts_on: date, steps: int, frequency: PaymentFrequency) -> date:
    if frequency is PaymentFrequency.FOUR_WEEKLY:
        return starts_on + timedelta(weeks=4 * steps)
    year, month = divmod(starts_on.month - 1 + steps, 12)
    year, month = starts_on.year + year, month + 1
    return date(year, month, min(starts_on.day, calendar.monthrange(year, month)[1]))


def split_evenly(amount_pence: int, parts: int) -> list[int]:
    """`amount_pence` in `parts` whole-penny shares that add up to it; earlier ones get the
    odd pennies."""
    share, odd = divmod(amount_pence, parts)
    return [share + (1 if index < odd else 0) for index in range(parts)]
