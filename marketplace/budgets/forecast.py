"""Where a budget is heading: a forecast of its balance at the end of the period, and the
alerts a person should see (nearly spent, much underspent, going to run out).

The forecast is plain arithmetic over dated movements (`forecast`): the money available now,
plus the instalments still to come, less the spending expected. What spending to expect is
one rule, the orders' (`marketplace.orders.forecast`): this module only does the sums, so the
budget page and the "what if I buy this" answer cannot disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from marketplace.budgets.figures import Figures, budget_figures
from marketplace.budgets.models import BudgetStatus, PersonalBudget
from marketplace.types import Session

# Alerts: under a tenth of the period's money left; or more than a quarter of the period
# behind in spending once a quarter of it has passed.
NEARLY_SPENT_BELOW = Fraction(1, 10)
UNDERSPENT_BEHIND_BY = Fraction(1, 4)
UNDERSPENT_AFTER = Fraction(1, 4)


@dataclass(frozen=True)
class Movement:
    """Money expected to come into (an instalment) or leave (spending) the budget on a day."""

    on: date
    amount_pence: int
    description: str


@dataclass(frozen=True)
class Forecast:
    """The projected balance at the end of the period, and the first day it would be below
    zero (None if it never would)."""

    today: date
    ends_on: date
    available_pence: int
    income: tuple[Movement, ...]
    spending: tuple[Movement, ...]
    end_balance_pence: int
    lowest_balance_pence: int
    runs_out_on: date | None

    @property
    def income_pence(self) -> int:
        return sum(m.amount_pence for m in self.income)

    @property
    def income_days(self) -> int:
        """On how many days money is still to come (each stream's instalments share a date)."""
        return len({m.on for m in self.income})

    @property
    def spending_pence(self) -> int:
        return sum(m.amount_pence for m in self.spending)


def forecast(
    *,
    today: date,
    ends_on: date,
    available_pence: int,
    income: Iterable[Movement],
    spending: Iterable[Movement],
) -> Forecast:
    """Walk the movements after today up to the end of the period, day by day: money coming in
    on a day counts before money going out. Movements outside (today, ends_on] are ignored."""
    income = tuple(sorted((m for m in income if today < m.on <= ends_on), key=_day))
    spending = tuple(sorted((m for m in spending if today < m.on <= ends_on), key=_day))
    balance = lowest = available_pence
    runs_out_on = today if available_pence < 0 else None
    for day in sorted({m.on for m in income + spending}):
        balance += sum(m.amount_pence for m in income if m.on == day)
        balance -= sum(m.amount_pence for m in spending if m.on == day)
        lowest = min(lowest, balance)
        if balance < 0 and runs_out_on is None:
            runs_out_on = day
    return Forecast(
        today=today,
        ends_on=ends_on,
        available_pence=available_pence,
        income=income,
        spending=spending,
        end_balance_pence=balance,
        lowest_balance_pence=lowest,
        runs_out_on=runs_out_on,
    )


def _day(movement: Movement) -> date:
    return movement.on


def instalments_to_come(budget: PersonalBudget, today: date) -> list[Movement]:
    """Each stream's instalments not yet released, as money coming in on their dates (one not
    released though due, because the scheduled job has not run yet, counts as tomorrow's)."""
    tomorrow = today + timedelta(days=1)
    return [
        Movement(
            max(instalment.due_on, tomorrow),
            instalment.amount_pence,
            f"{stream.kind.label}: instalment {instalment.number}",
        )
        for stream in budget.streams
        for instalment in stream.instalments
        if not instalment.released and instalment.amount_pence > 0
    ]


def budget_forecast(
    session: Session,
    budget: PersonalBudget,
    today: date,
    *,
    spending: Sequence[Movement],
    figures: Figures | None = None,
) -> Forecast:
    """The budget's forecast from today: what is available, the instalments to come, and the
    `spending` expected. A closed budget stays as it is. `figures` are the budget's total
    figures (`budget_figures(...).total`) when the caller has read them already."""
    if figures is None:
        figures = budget_figures(session, budget).total
    if budget.status is BudgetStatus.CLOSED:
        return forecast(
            today=today,
            ends_on=budget.ends_on,
            available_pence=figures.available_pence,
            income=(),
            spending=(),
        )
    return forecast(
        today=today,
        ends_on=budget.ends_on,
        available_pence=figures.available_pence,
        income=instalments_to_come(budget, today),
        spending=spending,
    )


@dataclass(frozen=True)
class WhatIf:
    """The budget before and after a purchase: available now, and the forecast end balance."""

    available_before_pence: int
    available_after_pence: int
    end_before_pence: int
    end_after_pence: int
    runs_out_after: date | None


def what_if(before: Forecast, *, held_pence: int, spending: Sequence[Movement]) -> WhatIf:
    """The forecast `before` a purchase, and after it: `held_pence` more held now, and
    `spending` (all of it, the purchase's included) expected instead of before's."""
    after = forecast(
        today=before.today,
        ends_on=before.ends_on,
        available_pence=before.available_pence - held_pence,
        income=before.income,
        spending=spending,
    )
    return WhatIf(
        available_before_pence=before.available_pence,
        available_after_pence=after.available_pence,
        end_before_pence=before.end_balance_pence,
        end_after_pence=after.end_balance_pence,
        runs_out_after=after.runs_out_on,
    )


class AlertKind(enum.StrEnum):
    RUNS_OUT = "runs_out"
    NEARLY_SPENT = "nearly_spent"
    UNDERSPENT = "underspent"


@dataclass(frozen=True)
class Alert:
    kind: AlertKind
    message: str


def budget_alerts(
    budget: PersonalBudget, figures: Figures, projected: Forecast, today: date
) -> list[Alert]:
    """What the person should be told about where their budget stands today, most urgent
    first: it would run out before the period ends; under a tenth of the period's money is
    left; or, a quarter or more into the period, spending is far behind the time gone by."""
    if budget.status is BudgetStatus.CLOSED or not budget.starts_on <= today <= budget.ends_on:
        return []
    alerts = []
    whole = figures.allocated_pence + figures.scheduled_pence - figures.gone_at_close_pence
    if projected.runs_out_on is not None:
        alerts.append(
            Alert(
                AlertKind.RUNS_OUT,
                f"If the care ordered every week carries on, the budget would run out around "
                f"{projected.runs_out_on:%-d %B %Y}, before the period ends on "
                f"{budget.ends_on:%-d %B %Y}.",
            )
        )
    if whole <= 0:
        return alerts
    left = figures.available_pence + figures.scheduled_pence
    if Fraction(left, whole) < NEARLY_SPENT_BELOW:
        alerts.append(
            Alert(
                AlertKind.NEARLY_SPENT, "Less than a tenth of the budget for this period is left."
            )
        )
    period_days = (budget.ends_on - budget.starts_on).days + 1
    gone = Fraction((today - budget.starts_on).days + 1, period_days)
    used = Fraction(figures.spent_pence + figures.committed_pence, whole)
    if gone >= UNDERSPENT_AFTER and used < gone - UNDERSPENT_BEHIND_BY:
        alerts.append(
            Alert(
                AlertKind.UNDERSPENT,
                f"{_percent(used)} of the budget has been used, and {_percent(gone)} of the "
                "period has gone by. If the care and support you need has changed, talk to "
                "your social worker.",
            )
        )
    return alerts


def _percent(fraction: Fraction) -> str:
    return f"{round(fraction * 100)}%"
