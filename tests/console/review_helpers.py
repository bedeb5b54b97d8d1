"""Orders that have completed (placed, accepted, delivered, invoiced and settled through the
orders' rules) for the reviews' tests, on the orders' fixtures' world."""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import Order, OrderStatus
from tests.orders.fixtures import TODAY, World

ON = date(2026, 6, 8)


def placed_order(session: Session, world: World, key: str, *, accept: bool = True) -> Order:
    """A one-off order of two hours on 8 June 2026 (accepted unless told not to); committed."""
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(weeks=None, starts_on=ON),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
    )
    if accept:
        life.accept(session, order, by=world.staff)
    session.commit()
    return order


def completed_order(session: Session, world: World, key: str) -> Order:
    """A one-off order delivered, invoiced and settled: completed. Committed."""
    order = placed_order(session, world, key)
    deliveries.record_delivery(
        session, order, by=world.staff, delivered_on=ON, units=2, note="", today=ON
    )
    invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=ON)
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    assert order.status is OrderStatus.COMPLETED
    return order
