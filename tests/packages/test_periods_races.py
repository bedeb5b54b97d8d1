"""Closing a period while the daily job rolls a package late into it (issue 18, PERIODS),
on separate connections (SQLite, and PostgreSQL with TEST_DATABASE_URL): either the job holds
the late cycle from the old budget first and the close is refused (money still held), or the
close goes first and the job flags the cycle (the budget is closed), never a closed budget
holding a cycle. `flask ledger verify` is clean either way."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.budgets.closing import CloseRefused, close_period
from marketplace.budgets.models import BudgetStatus, PersonalBudget
from marketplace.extensions import db
from marketplace.ledger import verify_ledger
from marketplace.orders.models import OrderCycle, PackageShortfall
from marketplace.orders.package_periods import carrying_on
from marketplace.orders.packages import roll_packages
from marketplace.orders.verify import check_orders
from tests.ledger.threads import engine_options, run_together
from tests.packages.period_fixtures import (
    PeriodWorld,
    assert_ledger_verifies,
    hold_next_cycle,
    period_world,
    settle_cycle,
)

__all__ = ["period_world"]

# The first period is over; cycle 3 (28 September, the first budget's) was never made.
LATE = date(2026, 10, 1)


def test_a_close_racing_the_job_on_a_late_cycle_never_leaves_money_on_a_closed_budget(
    make_app: Callable[..., Flask], session: Session, period_world: PeriodWorld
) -> None:
    first, order_id = _late_package(session, period_world)
    first_id = first.id
    outcomes: dict[int, str] = {}
    runs = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def act(number: int) -> None:
        if number == 1:
            roll_packages(db.session, LATE)
            outcomes[number] = "rolled"
            return
        budget = db.session.get_one(PersonalBudget, first_id)
        try:
            close_period(db.session, budget, carrying_on=carrying_on(db.session, budget))
        except CloseRefused:
            outcomes[number] = "refused"
        else:
            outcomes[number] = "closed"

    assert run_together(runs, 2, act) == ["ok", "ok"]

    with runs.app_context():
        budget = db.session.get_one(PersonalBudget, first_id)
        third = db.session.scalar(
            select(OrderCycle).where(OrderCycle.order_id == order_id, OrderCycle.number == 3)
        )
        flags = db.session.scalars(
            select(PackageShortfall.cycle_starts_on).where(PackageShortfall.order_id == order_id)
        ).all()
        if outcomes[0] == "closed":
            assert budget.status is BudgetStatus.CLOSED
            assert third is None
            assert flags == [date(2026, 9, 28)]
            assert_verifies_but_for_the_flagged_package(db.session)
        else:
            assert outcomes[0] == "refused"
            assert budget.status is BudgetStatus.OPEN
            assert third is not None
            assert third.budget_id == first_id
            assert flags == []
            assert_ledger_verifies(db.session)


def assert_verifies_but_for_the_flagged_package(session: Session) -> None:
    """The ledger verifies, and so do the orders: a package holding nothing while its next
    cycle is flagged is right (orders/verify.py knows it)."""
    assert verify_ledger(session).ok
    problems, _ = check_orders(session)
    assert problems == []


def _late_package(session: Session, world: PeriodWorld) -> tuple[PersonalBudget, uuid.UUID]:
    first = world.first_budget()
    world.second_budget()
    order = world.package(session)
    hold_next_cycle(session, order, first)
    for cycle in list(order.cycles):
        settle_cycle(session, world, order, cycle)
    return first, order.id


def test_the_close_first_then_the_job_flags_the_late_cycle(
    session: Session, period_world: PeriodWorld
) -> None:
    first, _ = _late_package(session, period_world)

    close_period(session, first, carrying_on=carrying_on(session, first))
    report = roll_packages(session, LATE)
    session.commit()

    assert [flag.cycle_starts_on for flag in report.flagged] == [date(2026, 9, 28)]
    assert report.held == []  # nothing after the unpaid cycle is made: never skipped
    assert first.status is BudgetStatus.CLOSED
    assert_verifies_but_for_the_flagged_package(session)


def test_the_job_first_then_the_close_is_refused_naming_the_late_cycle(
    session: Session, period_world: PeriodWorld
) -> None:
    first, _ = _late_package(session, period_world)

    report = roll_packages(session, LATE)
    session.commit()
    plan_problems = None
    try:
        close_period(session, first, carrying_on=carrying_on(session, first))
    except CloseRefused as refused:
        plan_problems = refused.details["problems"]

    assert [cycle.number for cycle in report.held] == [3, 4]
    assert plan_problems is not None
    assert any("cycle 3" in problem for problem in plan_problems)
    assert first.status is BudgetStatus.OPEN
    assert_ledger_verifies(session)
