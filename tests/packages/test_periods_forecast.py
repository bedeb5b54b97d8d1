"""The forecast and "what if I add this" show ongoing packages as ongoing (issue 18, PERIODS):
each budget counts the package's cycles that start in its period and are not held yet, at
their cost under the terms in force, labelled "ongoing", and says when the package carries on
after the period; what the what-if says before ordering is what the budget page says after."""

from __future__ import annotations

import html
from datetime import date, timedelta

import time_machine
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.orders import checkout
from marketplace.orders import forecast as outlook
from marketplace.orders.basket import add_to_basket
from marketplace.orders.basket_costs import basket_costs
from marketplace.orders.models import PackageTerms, ScheduleKind
from marketplace.orders.schedule import Schedule
from tests.conftest import sign_in
from tests.packages.period_fixtures import (
    PACKAGE_STARTS,
    WEEKLY_PENCE,
    PeriodWorld,
    assert_ledger_verifies,
    hold_next_cycle,
    period_world,
)

__all__ = ["period_world"]

TODAY = PACKAGE_STARTS  # Monday 14 September 2026, the package's first day
# The Mondays from 5 October 2026 to 29 March 2027: the second budget's cycles.
SECOND_PERIOD_CYCLES = 26


def test_each_budget_counts_the_cycles_that_start_in_its_period(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first, second = world.first_budget(), world.second_budget()
    world.package(session, today=TODAY)

    (in_first,) = outlook.ongoing_packages(session, first, TODAY)
    (in_second,) = outlook.ongoing_packages(session, second, TODAY)

    # Cycles 2 and 3 (from 21 and 28 September) are the first budget's, held a week ahead.
    assert [(m.on, m.amount_pence) for m in in_first.movements] == [
        (date(2026, 9, 15), WEEKLY_PENCE),
        (date(2026, 9, 21), WEEKLY_PENCE),
    ]
    assert all(", ongoing: cycle " in m.description for m in in_first.movements)
    assert in_first.carries_on_after
    assert in_first.weekly_pence == WEEKLY_PENCE
    assert len(in_second.movements) == SECOND_PERIOD_CYCLES
    assert in_second.movements[0].description.endswith("cycle 4 from 5 October 2026")
    assert in_second.to_come_pence == SECOND_PERIOD_CYCLES * WEEKLY_PENCE

    forecast = outlook.budget_outlook(session, first, TODAY)
    assert forecast.spending_pence == 2 * WEEKLY_PENCE
    assert forecast.end_balance_pence == forecast.available_pence - 2 * WEEKLY_PENCE


def test_holding_a_cycle_leaves_the_forecast_end_balance_as_it_was(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    world.second_budget()
    order = world.package(session, today=TODAY)
    before = outlook.budget_outlook(session, first, TODAY)

    hold_next_cycle(session, order, first)
    after = outlook.budget_outlook(session, first, TODAY)

    assert after.available_pence == before.available_pence - WEEKLY_PENCE
    assert after.spending_pence == before.spending_pence - WEEKLY_PENCE
    assert after.end_balance_pence == before.end_balance_pence
    assert_ledger_verifies(session)


def test_the_forecast_follows_the_terms_in_force(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    world.first_budget()
    second = world.second_budget()
    order = world.package(session, today=TODAY)
    # Agreed: three hours a visit from 5 October (as a variation writes it).
    session.add(
        PackageTerms(
            order_id=order.id,
            sequence=2,
            effective_from=date(2026, 10, 5),
            units_per_occasion=3,
            days=["MO", "TH"],
            unit_price_pence=order.unit_price_pence,
        )
    )
    session.commit()
    session.refresh(order)

    (package,) = outlook.ongoing_packages(session, second, TODAY)

    assert package.to_come_pence == SECOND_PERIOD_CYCLES * WEEKLY_PENCE * 3 // 2


def test_a_package_cancelled_within_the_period_does_not_carry_on(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first, second = world.first_budget(), world.second_budget()
    order = world.package(session, today=TODAY)
    order.cancelled_from = date(2026, 9, 28)
    session.commit()

    (package,) = outlook.ongoing_packages(session, first, TODAY)

    assert [m.on for m in package.movements] == [date(2026, 9, 15)]  # cycle 2 only
    assert not package.carries_on_after
    assert outlook.ongoing_packages(session, second, TODAY) == []


def test_what_if_says_what_the_budget_page_says_once_ordered(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    world.second_budget()
    schedule = Schedule(ScheduleKind.RECURRING, TODAY, 2, None, ("MO", "TH"))
    quoted = checkout.quote(session, world.person, world.service, schedule, today=TODAY)

    asked = outlook.what_if_ordered(
        session,
        first,
        total_pence=quoted.total_pence,
        adding=outlook.care_of_quote(quoted),
        today=TODAY,
    )
    world.package(session, today=TODAY)
    after = outlook.budget_outlook(session, first, TODAY)

    assert quoted.total_pence == WEEKLY_PENCE  # only the first cycle is held at once
    assert asked.available_after_pence == after.available_pence
    assert asked.end_after_pence == after.end_balance_pence
    assert asked.end_after_pence == asked.end_before_pence - 3 * WEEKLY_PENCE


def test_the_budget_page_shows_the_package_as_ongoing(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    world.second_budget()
    order = world.package(session, today=TODAY)
    with time_machine.travel(TODAY + timedelta(hours=10)):
        sign_in(client, world.citizen)
        page = client.get(f"/my/budgets/{first.id}")

    text = " ".join(html.unescape(page.get_data(as_text=True)).split())
    assert page.status_code == 200
    assert f"{order.service_name} ({order.reference})" in text
    assert "Ongoing: £104 a week" in text
    assert "£208 still to be set aside from this budget" in text
    assert "It carries on after 30 September 2026, paid from the next budget" in text


def test_the_basket_forecasts_a_package_as_the_budget_page_will(
    session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    first = world.first_budget()
    world.second_budget()
    schedule = Schedule(ScheduleKind.RECURRING, TODAY, 2, None, ("MO", "TH"))
    item = add_to_basket(
        session, world.person, world.service, schedule, by=world.citizen, today=TODAY
    )
    session.commit()

    costs = basket_costs(session, world.person, [item], today=TODAY)
    world.package(session, today=TODAY)
    after = outlook.budget_outlook(session, first, TODAY)

    assert costs.what_if is not None
    assert costs.what_if.end_after_pence == after.end_balance_pence
    assert costs.what_if.available_after_pence == after.available_pence


def test_the_council_person_page_shows_the_package_as_ongoing(
    client: FlaskClient, session: Session, period_world: PeriodWorld
) -> None:
    world = period_world
    world.first_budget()
    world.second_budget()
    order = world.package(session, today=TODAY)

    with time_machine.travel(TODAY + timedelta(hours=10)):
        sign_in(client, world.officer)
        page = client.get(f"/council/people/{world.person.id}")

    text = " ".join(html.unescape(page.get_data(as_text=True)).split())
    assert page.status_code == 200
    assert "Ongoing care in this forecast" in text
    assert f"{order.service_name} ({order.reference})" in text
    assert "It carries on after 30 September 2026, paid from the next budget" in text
