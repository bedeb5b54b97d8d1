"""Where a budget's period stands on a day, in the words every page uses for it.

A budget stays open after its period ends until an officer closes it: closing decides, stream
by stream, whether what is unspent goes back or is carried forward (and first needs orders
still holding money to be settled), so it is the officer's decision, on the record with
their name. Nothing closes a budget by itself; instead a budget whose period has ended is
shown as "Period ended, awaiting close" wherever its status is, and listed for the council
(`marketplace.budgets.queries.ended_awaiting_close`).
"""

from __future__ import annotations

import enum
from datetime import date

from marketplace.budgets.models import BudgetStatus, PersonalBudget


class PeriodStatus(enum.StrEnum):
    NOT_STARTED = "not_started"
    OPEN = "open"
    ENDED = "ended"  # the period is over, the budget not yet closed
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return {
            "not_started": "Not started yet",
            "open": "Open",
            "ended": "Period ended, awaiting close",
            "closed": "Closed",
        }[self.value]

    @property
    def tag_class(self) -> str:
        """The GOV.UK tag colour for the status."""
        return {
            "not_started": "govuk-tag--blue",
            "open": "govuk-tag--green",
            "ended": "govuk-tag--orange",
            "closed": "govuk-tag--grey",
        }[self.value]


def period_status(budget: PersonalBudget, today: date) -> PeriodStatus:
    """The budget's status on `today` (London): closed, ended but not closed, open, or not
    started yet."""
    if budget.status is BudgetStatus.CLOSED:
        return PeriodStatus.CLOSED
    if budget.ends_on < today:
        return PeriodStatus.ENDED
    if budget.starts_on > today:
        return PeriodStatus.NOT_STARTED
    return PeriodStatus.OPEN
