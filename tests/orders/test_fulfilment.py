"""Deliveries, invoices and settlement: the provider is paid exactly what it delivered, never
more than was committed, and the rest goes back to the budget."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.models import (
    CycleState,
    Delivery,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderStatus,
)
from tests.orders.fixtures import (
    HOURLY_PENCE,
    OCCASIONS,
    TODAY,
    World,
    assert_ledger_verifies,
)


@pytest.fixture
def order(session: Session, world: World) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="order",
    )
    life.accept(session, order, by=world.staff)
    session.commit()
    return order


def _record(session: Session, world: World, order: Order, on: date, units: int = 2, **kw):
    delivery = deliveries.record_delivery(
        session,
        order,
        by=kw.pop("by", world.staff),
        delivered_on=on,
        units=units,
        note=kw.pop("note", ""),
        today=kw.pop("today", date(2026, 7, 6)),
    )
    session.commit()
    return delivery


def _totals(session: Session, world: World):
    return budget_figures(session, world.budget).total


def test_the_first_delivery_starts_the_order_and_asks_the_person_to_confirm(
    session: Session, world: World, order: Order
) -> None:
    delivery = _record(session, world, order, OCCASIONS[0])

    assert order.status is OrderStatus.IN_PROGRESS
    assert delivery.status is DeliveryStatus.RECORDED
    assert [e.kind for e in order.events][-2:] == ["start", "delivery_recorded"]


def test_settling_posts_what_was_delivered_and_releases_the_rest(
    session: Session, world: World, order: Order
) -> None:
    before = _totals(session, world)
    for day in OCCASIONS[:-1]:
        _record(session, world, order, day)
    _record(session, world, order, OCCASIONS[-1], units=0, note="Missed: she was in hospital")

    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 6)
    )
    session.commit()
    assert invoice.amount_pence == 14 * HOURLY_PENCE
    assert invoice.status is InvoiceStatus.RAISED  # nothing confirmed yet: it waits

    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()

    after = _totals(session, world)
    assert after.spent_pence == before.spent_pence + 14 * HOURLY_PENCE
    assert after.committed_pence == before.committed_pence - order.total_pence
    assert after.available_pence == before.available_pence + 2 * HOURLY_PENCE
    assert order.cycles[0].state is CycleState.SETTLED
    assert order.status is OrderStatus.COMPLETED
    assert [e.kind for e in order.events][-2:] == ["invoice_settled", "complete"]
    assert_ledger_verifies(session)


def test_an_invoice_whose_lines_are_all_confirmed_settles_at_once(
    session: Session, world: World, order: Order
) -> None:
    for day in OCCASIONS[:2]:
        delivery = _record(session, world, order, day)
        deliveries.confirm_delivery(session, delivery, by=world.citizen)
    session.commit()

    # Every delivery recorded is not the whole cycle: it cannot be invoiced before it ends.
    with pytest.raises(InvalidTransition):
        invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=TODAY)
    session.rollback()

    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 5)
    )
    session.commit()
    assert invoice.status is InvoiceStatus.SETTLED
    assert invoice.settled_by_id is None
    assert _totals(session, world).spent_pence == 4 * HOURLY_PENCE
    assert_ledger_verifies(session)


def test_a_queried_delivery_holds_the_invoice_until_it_is_resolved(
    session: Session, world: World, order: Order
) -> None:
    days = [_record(session, world, order, day) for day in OCCASIONS]
    deliveries.query_delivery(
        session, days[3], by=world.citizen, reason="The carer only stayed one hour"
    )
    session.commit()
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 2)
    )
    session.commit()

    with pytest.raises(InvalidTransition):
        invoicing.settle_invoice(session, invoice, by=world.officer)
    session.rollback()
    assert invoicing.settle_due(session, now=datetime(2026, 9, 1, tzinfo=UTC)) == []
    session.rollback()
    assert _totals(session, world).spent_pence == 0

    deliveries.correct_delivery(session, days[3], by=world.staff, units=1, note="Left early")
    session.commit()
    assert invoice.amount_pence == 15 * HOURLY_PENCE
    deliveries.confirm_delivery(session, days[3], by=world.citizen)
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()

    assert _totals(session, world).spent_pence == 15 * HOURLY_PENCE
    assert_ledger_verifies(session)


def test_unqueried_invoices_are_settled_by_the_scheduled_job_after_the_query_window(
    session: Session, world: World, order: Order
) -> None:
    _record(session, world, order, OCCASIONS[0])
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 6)
    )
    session.commit()
    raised = invoice.raised_at

    assert invoicing.settle_due(session, now=raised + timedelta(days=13)) == []
    assert invoicing.settle_due(session, now=raised + timedelta(days=14)) == [invoice]
    session.commit()
    assert invoice.status is InvoiceStatus.SETTLED
    assert _totals(session, world).spent_pence == 2 * HOURLY_PENCE
    # Safe to run twice.
    assert invoicing.settle_due(session, now=raised + timedelta(days=30)) == []


def test_a_provider_can_never_record_more_than_was_ordered(
    session: Session, world: World, order: Order
) -> None:
    for day in OCCASIONS[:7]:
        _record(session, world, order, day)

    with pytest.raises(InvalidOrder) as refused:
        _record(session, world, order, OCCASIONS[7], units=3)
    session.rollback()
    assert "units" in refused.value.details["fields"]
    assert session.scalar(select(func.count()).select_from(Delivery)) == 7


@pytest.mark.parametrize(
    ("on", "units", "field"),
    [
        (date(2026, 6, 7), 2, "delivered_on"),  # before the order
        (date(2026, 7, 10), 2, "delivered_on"),  # after it
        (date(2026, 7, 7), 2, "delivered_on"),  # the future (today is the 6th)
        (OCCASIONS[0], -1, "units"),
        (OCCASIONS[0], 99, "units"),
    ],
)
def test_bad_deliveries_are_refused(
    session: Session, world: World, order: Order, on: date, units: int, field: str
) -> None:
    with pytest.raises(InvalidOrder) as refused:
        _record(session, world, order, on, units=units)
    session.rollback()
    assert field in refused.value.details["fields"]
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0


def test_recording_on_another_providers_order_is_refused(
    session: Session, world: World, order: Order
) -> None:
    with pytest.raises(NotYours):
        _record(session, world, order, OCCASIONS[0], by=world.other_staff)
    with pytest.raises(NotYours):
        invoicing.raise_invoice(
            session, order, order.cycles[0], by=world.other_staff, today=date(2026, 7, 6)
        )
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Delivery)) == 0
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_cancelled_order_cannot_be_invoiced_or_delivered(
    session: Session, world: World, order: Order
) -> None:
    life.cancel(session, order, by=world.citizen, today=TODAY)
    session.commit()

    with pytest.raises(InvalidTransition):
        invoicing.raise_invoice(
            session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 6)
        )
    with pytest.raises(InvalidTransition):
        _record(session, world, order, OCCASIONS[0])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0
    assert_ledger_verifies(session)


def test_a_cycle_is_invoiced_once(session: Session, world: World, order: Order) -> None:
    _record(session, world, order, OCCASIONS[0])
    invoice = invoicing.raise_invoice(
        session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 6)
    )
    session.commit()

    with pytest.raises(InvalidTransition):
        invoicing.raise_invoice(
            session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 6)
        )
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    with pytest.raises(InvalidTransition):
        invoicing.settle_invoice(session, invoice, by=world.officer)
    with pytest.raises(NotYours):
        invoicing.settle_invoice(session, invoice, by=world.staff)
    session.rollback()
    assert _totals(session, world).spent_pence == 2 * HOURLY_PENCE


def test_only_the_person_or_an_officer_confirms_or_queries(
    session: Session, world: World, order: Order
) -> None:
    delivery = _record(session, world, order, OCCASIONS[0])
    for user in (world.staff, world.other_staff):
        with pytest.raises(NotYours):
            deliveries.confirm_delivery(session, delivery, by=user)
        with pytest.raises(NotYours):
            deliveries.query_delivery(session, delivery, by=user, reason="x")
    session.rollback()
    deliveries.confirm_delivery(session, delivery, by=world.officer)
    session.commit()
    assert delivery.status is DeliveryStatus.CONFIRMED
