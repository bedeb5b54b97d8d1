"""Deliveries are of the schedule's visits, once each, and a period is billed after its last
visit (issue 12, item 2): a day with no visit and a visit already recorded are refused, and a
period whose every hour was recorded early still waits for its last visit's day."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.errors import InvalidOrder, InvalidTransition
from marketplace.orders.models import CycleState, Delivery, Order
from tests.orders.fixtures import OCCASIONS, TODAY, World, assert_ledger_verifies

LATER = date(2026, 7, 6)  # after the default schedule's last visit (Thursday 2 July)


@pytest.fixture
def order(session: Session, world: World) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="visits",
    )
    life.accept(session, order, by=world.staff)
    session.commit()
    return order


def _record(session: Session, world: World, order: Order, day: date, units: int = 2) -> Delivery:
    return deliveries.record_delivery(
        session, order, by=world.staff, delivered_on=day, units=units, today=LATER
    )


def _deliveries(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Delivery)) or 0


def test_a_delivery_on_a_day_without_a_visit_is_refused(
    session: Session, world: World, order: Order
) -> None:
    tuesday = date(2026, 6, 9)  # visits are on Mondays and Thursdays
    assert tuesday not in OCCASIONS

    with pytest.raises(InvalidOrder) as refused:
        _record(session, world, order, tuesday)

    assert "delivered_on" in refused.value.details["fields"]
    session.rollback()
    assert _deliveries(session) == 0


def test_a_second_delivery_for_the_same_visit_is_refused(
    session: Session, world: World, order: Order
) -> None:
    _record(session, world, order, OCCASIONS[0], units=1)
    session.commit()

    with pytest.raises(InvalidTransition, match="already recorded"):
        _record(session, world, order, OCCASIONS[0], units=1)

    session.rollback()
    assert _deliveries(session) == 1
    assert_ledger_verifies(session)


def test_a_period_recorded_in_full_early_waits_for_its_last_visit(
    session: Session, world: World, order: Order
) -> None:
    # All sixteen hours of the four weeks recorded on the first two visits.
    _record(session, world, order, OCCASIONS[0], units=8)
    _record(session, world, order, OCCASIONS[1], units=8)
    session.commit()
    cycle = order.cycles[0]

    on_the_eve = date(2026, 7, 1)
    assert not invoicing.can_invoice(order, cycle, on_the_eve)
    with pytest.raises(InvalidTransition, match="last visit is on 2 July 2026"):
        invoicing.raise_invoice(session, order, cycle, by=world.staff, today=on_the_eve)
    session.rollback()
    assert cycle.state is CycleState.HELD

    invoice = invoicing.raise_invoice(session, order, cycle, by=world.staff, today=OCCASIONS[-1])
    session.commit()
    assert invoice.amount_pence == 16 * order.unit_price_pence
    assert_ledger_verifies(session)


def test_a_period_cut_short_is_billed_after_its_last_visit_before_the_cancellation(
    session: Session, world: World, order: Order
) -> None:
    # On Friday 12 June, with a week's notice: nothing from Friday 19 June, so the last visit
    # left in the period is Thursday 18 June.
    friday = date(2026, 6, 12)
    life.cancel(session, order, by=world.citizen, today=friday)
    session.commit()
    cycle = order.cycles[0]

    assert not invoicing.can_invoice(order, cycle, date(2026, 6, 17))
    assert invoicing.can_invoice(order, cycle, date(2026, 6, 18))
    invoicing.raise_invoice(session, order, cycle, by=world.staff, today=date(2026, 6, 18))
    session.commit()
    assert_ledger_verifies(session)
