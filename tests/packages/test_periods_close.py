"""Closing a budget period with packages still running (issue 18, PERIODS): the old budget's
cycles must be paid or released as for any order, but a running package does not hold the
period open: its later cycles are the next budget's, and the preview says so. A package with
no next budget to carry on into is refused, with a message saying what to do."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.budgets.closing import CloseRefused, close_period, preview_close
from marketplace.budgets.models import BudgetStatus
from marketplace.orders import cycle_money, life
from marketplace.orders.models import CycleState
from marketplace.orders.package_periods import carrying_on
from marketplace.orders.packages import roll_packages
from tests.conftest import sign_in
from tests.packages.period_fixtures import (
    PACKAGE_STARTS,
    WEEKLY_PENCE,
    PeriodWorld,
    assert_ledger_verifies,
    hold_next_cycle,
    period_world,
    settle_cycle,
)

__all__ = ["period_world"]


def test_a_running_package_does_not_hold_the_period_open(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first, second = world.first_budget(), world.second_budget()
    order = world.package(session)
    hold_next_cycle(session, order, first)
    hold_next_cycle(session, order, first)  # 28 September to 4 October: starts in the first
    fourth = hold_next_cycle(session, order, second)
    for cycle in order.cycles[:3]:
        settle_cycle(session, world, order, cycle)

    packages = carrying_on(session, first)
    plan = preview_close(session, first, carrying_on=packages)

    assert plan.problems == []
    assert [(p.reference, p.next_budget, p.cycles_held_there) for p in packages] == [
        (order.reference, second, 1)
    ]
    close_period(session, first, carrying_on=packages, expected_unspent_pence=plan.unspent_pence)
    session.commit()
    assert first.status is BudgetStatus.CLOSED
    # The next budget's cycle is untouched: still held, from the second budget.
    commitment = cycle_money.commitment_of(session, order, fourth)
    assert commitment is not None
    assert commitment.amount_pence == WEEKLY_PENCE
    assert {part.stream.budget_id for part in commitment.parts if part.stream} == {second.id}
    assert order.status.is_open
    assert_ledger_verifies(session)


def test_a_cycle_the_old_budget_still_holds_is_named_and_blocks_the_close(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    world.second_budget()
    order = world.package(session)
    third = hold_next_cycle(session, order, first)
    settle_cycle(session, world, order, order.cycles[0])

    packages = carrying_on(session, first)
    plan = preview_close(session, first, carrying_on=packages)

    assert plan.problems == [
        f"Council: £104 is still committed (Order {order.reference}: "
        f"{order.service_name}, cycle {third.number})"
    ]
    with pytest.raises(CloseRefused):
        close_period(session, first, carrying_on=packages)
    assert first.status is BudgetStatus.OPEN
    assert_ledger_verifies(session)


def test_a_package_with_no_next_budget_is_refused_with_what_to_do(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    order = world.package(session)
    # Its first cycle still held (the close is tried before it is invoiced): both are said.
    packages = carrying_on(session, first)
    plan = preview_close(session, first, carrying_on=packages)

    assert plan.problems == [
        f"Council: £104 is still committed (Order {order.reference}: {order.service_name}, "
        "cycle 1)",
        f"Order {order.reference} ({order.service_name}) carries on after 30 September 2026, "
        "and there is no open budget for the person from 1 October 2026 to pay for it. Set up "
        "the next budget first, or end the package",
    ]
    with pytest.raises(CloseRefused) as refused:
        close_period(session, first, carrying_on=packages)
    assert refused.value.details["problems"] == plan.problems
    assert first.status is BudgetStatus.OPEN
    assert_ledger_verifies(session)


def test_a_package_ended_within_the_period_does_not_carry_on(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    order = world.package(session)
    settle_cycle(session, world, order, order.cycles[0])
    # Ended from 21 September: nothing after the period to pay for.
    life.cancel(
        session, order, by=world.citizen, reason="Moving away", today=order.cycles[0].starts_on
    )
    session.commit()
    assert order.cancelled_from is not None

    assert carrying_on(session, first) == []
    close_period(session, first, carrying_on=carrying_on(session, first))
    session.commit()
    assert first.status is BudgetStatus.CLOSED
    assert_ledger_verifies(session)


def test_the_close_preview_page_says_where_each_package_goes(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first, second = world.first_budget(), world.second_budget()
    order = world.package(session)
    hold_next_cycle(session, order, first)
    hold_next_cycle(session, order, first)
    hold_next_cycle(session, order, second)
    for cycle in order.cycles[:3]:
        settle_cycle(session, world, order, cycle)
    sign_in(client, world.officer)

    page = client.get(f"/council/people/{world.person.id}/budgets/{first.id}/close/preview")

    text = " ".join(html.unescape(page.get_data(as_text=True)).split())
    assert page.status_code == 200, text[text.find("Ongoing") :][:900]
    assert "Ongoing care that carries on" in text, text[text.find("cannot") :][:900]
    assert (
        f"Order {order.reference} ({order.service_name}): carries on into the budget for "
        "1 October 2026 to 31 March 2027, which already holds 1 of its cycles." in text
    ), text[text.find("<li>Order") :][:400]
    assert "The period cannot be closed" not in text


def test_the_close_preview_page_refuses_a_package_with_nowhere_to_go(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    order = world.package(session)
    sign_in(client, world.officer)

    page = client.get(f"/council/people/{world.person.id}/budgets/{first.id}/close/preview")

    text = " ".join(html.unescape(page.get_data(as_text=True)).split())
    assert "The period cannot be closed" in text
    assert f"Order {order.reference} ({order.service_name}) carries on after" in text
    assert "there is no budget to carry on into" in text
    assert "Closing cannot be undone" not in text  # no button to confirm


def test_the_daily_job_carries_a_package_across_the_close(
    session: Session, period_world: PeriodWorld
) -> None:
    """The whole path with the roll job: the first budget pays the cycles that start in its
    period, the job carries the package into the second budget, the first period closes with
    the package running, and the job goes on holding from the second budget."""
    world = period_world
    first, second = world.first_budget(), world.second_budget()
    order = world.package(session)
    day = PACKAGE_STARTS
    while day <= date(2026, 10, 5):
        roll_packages(session, day)
        session.commit()
        for cycle in order.cycles:
            if cycle.ends_on < day and cycle.state is CycleState.HELD:
                settle_cycle(session, world, order, cycle)
        day += timedelta(days=1)
    assert [(c.number, c.budget_id) for c in order.cycles] == [
        (1, first.id),
        (2, first.id),
        (3, first.id),
        (4, second.id),
        (5, second.id),
    ]
    packages = carrying_on(session, first)
    close_period(session, first, carrying_on=packages)
    session.commit()
    assert first.status is BudgetStatus.CLOSED

    roll_packages(session, date(2026, 10, 12))
    session.commit()
    assert order.cycles[-1].number == 6
    assert order.cycles[-1].budget_id == second.id
    assert_ledger_verifies(session)
