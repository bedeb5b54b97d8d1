"""A person's home page in brief: their budget this period and their orders in progress.

Every figure is read the way the budget page reads it (the same budget, `current_budget`;
the same ledger figures, `budget_figures`; the same instalments, `instalments_to_come`), so
the home page and the budget page cannot disagree. Reads only. It reads budgets and orders,
so it sits in orders (the layer that sees both), not in people.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from marketplace.budgets.figures import Figures, budget_figures
from marketplace.budgets.forecast import instalments_to_come
from marketplace.budgets.models import BudgetStatus, PersonalBudget
from marketplace.budgets.periods import PeriodStatus, period_status
from marketplace.budgets.queries import current_budget
from marketplace.orders.models import Order
from marketplace.orders.queries import orders_of_person
from marketplace.people.models import Person
from marketplace.types import Session


@dataclass(frozen=True)
class NextPayment:
    """The next money due into the budget: every stream's instalment on that day, summed."""

    on: date
    amount_pence: int


@dataclass(frozen=True)
class HomeSummary:
    budget: PersonalBudget | None
    period: PeriodStatus | None
    figures: Figures | None  # the budget's totals over its streams
    next_payment: NextPayment | None
    orders_in_progress: list[Order]


def home_summary(session: Session, person: Person, today: date) -> HomeSummary:
    """The person's budget (the one the budget page shows first), its figures and next
    payment, and their open orders, newest first."""
    budget = current_budget(session, person, today)
    orders = orders_of_person(session, person.id, open_only=True)
    if budget is None:
        return HomeSummary(None, None, None, None, orders)
    return HomeSummary(
        budget=budget,
        period=period_status(budget, today),
        figures=budget_figures(session, budget).total,
        next_payment=next_payment(budget, today),
        orders_in_progress=orders,
    )


def next_payment(budget: PersonalBudget, today: date) -> NextPayment | None:
    """The first day after today that instalments are due into the budget, and how much
    (None when none is to come, or the budget is closed)."""
    if budget.status is BudgetStatus.CLOSED:
        return None
    to_come = instalments_to_come(budget, today)
    if not to_come:
        return None
    first = min(movement.on for movement in to_come)
    return NextPayment(first, sum(m.amount_pence for m in to_come if m.on == first))
