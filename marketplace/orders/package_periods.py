"""Ongoing packages and budget periods (issue 18, PERIODS): which packages carry on past a
budget's period and into which budget, which period paid each cycle, and which packages a
budget reduced below their needs would leave short.

A package's cycle is paid by the budget whose period contains the cycle's first day
(`marketplace.orders.packages`), so a package crosses from one period into the next without
being ordered again. The budgets' rules know no orders: these functions read the orders for
the budget pages, the period close and the statement, which pass them down.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.budgets import statement as statements
from marketplace.budgets.closing import CarryingOn
from marketplace.budgets.models import BudgetStatus, PersonalBudget
from marketplace.orders.models import (
    Order,
    OrderCycle,
    OrderFunding,
    OrderStatus,
    ScheduleKind,
)
from marketplace.types import Session

# A package that is going on: sent to (or waiting for) the provider and not ended.
GOING_ON = (
    OrderStatus.AWAITING_APPROVAL,
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_PROGRESS,
)


def dates_of(starts_on: date, ends_on: date) -> str:
    """'4 May to 31 May 2026', or with both years when they differ."""
    if starts_on.year == ends_on.year:
        return f"{starts_on:%-d %B} to {ends_on:%-d %B %Y}"
    return f"{starts_on:%-d %B %Y} to {ends_on:%-d %B %Y}"


def cycle_name(order: Order, cycle: OrderCycle) -> str:
    """'Order ORD-1234: Home care visits, cycle 5 (4 May to 31 May 2026)': how a statement
    names a cycle (the service, which is what a person recognises, and which period)."""
    return _named(order.reference, order.service_name, cycle.number, cycle.starts_on, cycle.ends_on)


def _named(reference: str, service: str, number: int, starts_on: date, ends_on: date) -> str:
    return f"Order {reference}: {service}, cycle {number} ({dates_of(starts_on, ends_on)})"


def period_name(budget: PersonalBudget) -> str:
    """'Budget for 1 April 2026 to 31 March 2027'."""
    return f"Budget for {budget.starts_on:%-d %B %Y} to {budget.ends_on:%-d %B %Y}"


def packages_of(session: Session, person_id: object) -> list[Order]:
    """The person's packages paid from their budgets that are going on, oldest first, with
    their cycles and terms (what the forecast and the close read of each): one statement each
    for all the packages, not one per package."""
    return list(
        session.scalars(
            select(Order)
            .options(selectinload(Order.cycles), selectinload(Order.terms))
            .where(
                Order.person_id == person_id,
                Order.ends_on.is_(None),
                Order.schedule_kind == ScheduleKind.RECURRING,
                Order.funding == OrderFunding.BUDGET,
                Order.status.in_(GOING_ON),
            )
            .order_by(Order.placed_at, Order.reference)
        )
    )


def goes_on_after(order: Order, day: date) -> bool:
    """Whether the package has care after `day` (it was not cut short on or before it)."""
    return order.cancelled_from is None or order.cancelled_from > day + timedelta(days=1)


def budget_on(session: Session, person_id: object, day: date) -> PersonalBudget | None:
    """The person's open budget whose period contains `day` (the newest, if two do)."""
    return session.scalar(
        select(PersonalBudget)
        .where(
            PersonalBudget.person_id == person_id,
            PersonalBudget.status == BudgetStatus.OPEN,
            PersonalBudget.starts_on <= day,
            PersonalBudget.ends_on >= day,
        )
        .order_by(PersonalBudget.starts_on.desc(), PersonalBudget.created_at.desc())
        .limit(1)
    )


def carrying_on(session: Session, budget: PersonalBudget) -> list[CarryingOn]:
    """The person's packages that have care after the end of the budget's period, each with
    the open budget that pays its cycles from the day after (None if the person has none yet)
    and how many cycles that budget holds already: what the close passes to
    `closing.preview_close` and `closing.close_period`."""
    after = budget.ends_on + timedelta(days=1)
    following = budget_on(session, budget.person_id, after)
    found = []
    for order in packages_of(session, budget.person_id):
        # Every package with care after the period: one starting only after it too (placed
        # ahead, none of its cycles this budget's) needs the next budget as much.
        if not goes_on_after(order, budget.ends_on):
            continue
        held_there = (
            sum(1 for cycle in order.cycles if cycle.budget_id == following.id)
            if following is not None
            else 0
        )
        found.append(CarryingOn(order.reference, order.service_name, following, held_there))
    return found


def purchase_names(session: Session, references: Collection[str]) -> dict[str, str]:
    """What each commitment (by its reference, a cycle's commitment key) was held for, as a
    statement names it (`cycle_name`). References that are not a cycle's are left out."""
    if not references:
        return {}
    rows = session.execute(
        select(
            OrderCycle.commitment_key,
            Order.reference,
            Order.service_name,
            OrderCycle.number,
            OrderCycle.starts_on,
            OrderCycle.ends_on,
        )
        .join(Order, OrderCycle.order_id == Order.id)
        .where(OrderCycle.commitment_key.in_(list(references)))
    ).all()
    return {
        key: _named(reference, service, number, starts_on, ends_on)
        for key, reference, service, number, starts_on, ends_on in rows
    }


def budget_statement(
    session: Session, budget: PersonalBudget, chosen: statements.StatementFilter | None = None
) -> statements.Statement:
    """The budget's statement with each commitment's lines naming the order and cycle they
    were held for: what the pages, the CSV and the API show."""
    return statements.budget_statement(
        session,
        budget,
        chosen,
        purchase_names=lambda references: purchase_names(session, references),
    )
