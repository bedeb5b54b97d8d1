"""The one rule for the spending a budget's forecast expects, used by the budget page and by
"what if I buy this" alike, so that asking and then ordering give the same figure.

The rule, in the words the pages use (`ASSUMPTION`): the care ordered every week carries on
at the same weekly cost until the end of the budget period, and nothing else is bought.
Money already held for orders is out of the available balance, so only the occasions after an
order's last one count as spending to come. Nothing is guessed from a pace of spending over a
few days: a one-off purchase, or a new budget with nothing ordered, adds nothing. An order cut
short (its remaining weeks cancelled), declined, refused or finished does not carry on.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.budgets.forecast import Forecast, Movement, WhatIf, budget_forecast, what_if
from marketplace.budgets.models import PersonalBudget
from marketplace.orders.models import Order, OrderStatus, ScheduleKind
from marketplace.orders.schedule import WEEKDAYS, Schedule
from marketplace.types import Session

ASSUMPTION = (
    "This assumes that the care ordered every week carries on at the same cost until the end "
    "of the period, and that nothing else is bought."
)
OPEN_STATUSES = (
    # An order awaiting its card payment already holds its budget's part: it counts, so
    # that nothing else is bought on the strength of the same money or plan.
    OrderStatus.AWAITING_PAYMENT,
    OrderStatus.AWAITING_APPROVAL,
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class WeeklyCare:
    """What carries on: a recurring order's days, price per occasion and last occasion."""

    days: tuple[str, ...]
    pence_per_occasion: int
    last_occasion: date

    @property
    def weekly_pence(self) -> int:
        """What a week of it costs: its price per occasion on each of its days."""
        return self.pence_per_occasion * len(self.days)


def carrying_on(orders: Iterable[Order]) -> list[WeeklyCare]:
    """The recurring care among these orders that carries on after its last occasion."""
    return [
        WeeklyCare(
            tuple(order.days), order.units_per_occasion * order.unit_price_pence, order.ends_on
        )
        for order in orders
        # A package (no end) carries on by its own cycles: the packages part forecasts it.
        if order.ends_on is not None
        if order.schedule_kind is ScheduleKind.RECURRING
        and order.status in OPEN_STATUSES
        and order.cancelled_from is None
        and order.days
    ]


def weekly_care_of(schedule: Schedule, unit_price_pence: int) -> WeeklyCare | None:
    """The care a schedule not yet ordered would carry on with (None for a one-off)."""
    if schedule.kind is not ScheduleKind.RECURRING or not schedule.days:
        return None
    return WeeklyCare(
        tuple(schedule.days), schedule.units_per_occasion * unit_price_pence, schedule.ends_on
    )


def expected_spending(care: Iterable[WeeklyCare], *, today: date, ends_on: date) -> list[Movement]:
    """Each day's spending to come, after today and up to `ends_on`, from care that carries on
    on its weekdays after its last occasion. One movement a day (however many orders fall on
    it), in whole pence."""
    by_day: dict[date, int] = defaultdict(int)
    for weekly in care:
        wanted = {WEEKDAYS.index(code) for code in weekly.days}
        day = max(weekly.last_occasion, today) + timedelta(days=1)
        while day <= ends_on:
            if day.weekday() in wanted:
                by_day[day] += weekly.pence_per_occasion
            day += timedelta(days=1)
    return [
        Movement(day, pence, "Care ordered every week, carrying on")
        for day, pence in sorted(by_day.items())
        if pence
    ]


def open_orders_of(session: Session, budget: PersonalBudget) -> list[Order]:
    return list(
        session.scalars(
            select(Order).where(Order.budget_id == budget.id, Order.status.in_(OPEN_STATUSES))
        )
    )


def budget_outlook(session: Session, budget: PersonalBudget, today: date) -> Forecast:
    """The budget's forecast from today, expecting what its orders' weekly care will cost."""
    spending = expected_spending(
        carrying_on(open_orders_of(session, budget)), today=today, ends_on=budget.ends_on
    )
    return budget_forecast(session, budget, today, spending=spending)


def what_if_ordered(
    session: Session,
    budget: PersonalBudget,
    *,
    total_pence: int,
    adding: WeeklyCare | None,
    today: date,
) -> WhatIf:
    """The budget's forecast as it is, and as it would be with an order of `total_pence`
    placed today (held now) whose weekly care, if any (`adding`), then carries on like the
    rest: the same figures the budget page will show once it is ordered."""
    return what_if_all_ordered(session, budget, orders=[(total_pence, adding)], today=today)


def what_if_all_ordered(
    session: Session,
    budget: PersonalBudget,
    *,
    orders: Iterable[tuple[int, WeeklyCare | None]],
    today: date,
) -> WhatIf:
    """As `what_if_ordered`, for several orders placed today together (a basket checked
    out): each `(total_pence, weekly care or None)` is held now, and its weekly care carries
    on like the rest."""
    orders = list(orders)
    care = carrying_on(open_orders_of(session, budget))
    before = budget_forecast(
        session,
        budget,
        today,
        spending=expected_spending(care, today=today, ends_on=budget.ends_on),
    )
    after_care = [*care, *(adding for _, adding in orders if adding is not None)]
    return what_if(
        before,
        held_pence=sum(total_pence for total_pence, _ in orders),
        spending=expected_spending(after_care, today=today, ends_on=budget.ends_on),
    )
