"""`flask ledger verify` sees an order whose status disagrees with its money or its timeline
(issue 12, item 3): each inconsistency is seeded behind the rules' back, as a race or a bad
hand-edit would leave it, and the check fails naming the order's reference."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from marketplace.orders import checkout, deliveries, events, invoicing, life
from marketplace.orders.models import Delivery, Order, OrderStatus
from tests.orders.fixtures import TODAY, World, assert_ledger_verifies

AFTER = date(2026, 7, 6)
FIRST_VISIT = date(2026, 6, 8)


def _placed(session: Session, world: World) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="verify",
    )
    session.commit()
    return order


def _accepted(session: Session, world: World) -> Order:
    order = _placed(session, world)
    life.accept(session, order, by=world.staff)
    session.commit()
    return order


def _started(session: Session, world: World) -> Order:
    order = _accepted(session, world)
    deliveries.record_delivery(
        session, order, by=world.staff, delivered_on=FIRST_VISIT, units=2, today=AFTER
    )
    session.commit()
    return order


def accepted_with_its_money_released(session: Session, world: World) -> Order:
    # Accept and decline at once: the decline released the money, the accept's status stayed.
    order = _accepted(session, world)
    for cycle in order.cycles:
        life.release_cycle(session, order, cycle, why="declined")
    return order


def in_progress_with_its_money_released(session: Session, world: World) -> Order:
    order = _started(session, world)
    for cycle in order.cycles:
        life.release_cycle(session, order, cycle, why="cancelled")
    return order


def declined_with_money_held(session: Session, world: World) -> Order:
    order = _placed(session, world)
    order.status = OrderStatus.DECLINED
    return order


def cancelled_with_money_held(session: Session, world: World) -> Order:
    order = _accepted(session, world)
    order.status = OrderStatus.CANCELLED
    return order


def completed_with_money_held(session: Session, world: World) -> Order:
    order = _started(session, world)
    order.status = OrderStatus.COMPLETED
    return order


def accepted_and_declined(session: Session, world: World) -> Order:
    # Both steps of a race on the timeline, and the status of the one that wrote last.
    order = _accepted(session, world)
    events.record(
        session,
        order,
        "decline",
        by=world.staff,
        from_status=OrderStatus.PLACED,
        to_status=OrderStatus.DECLINED,
    )
    return order


def an_invoice_settled_twice(session: Session, world: World) -> Order:
    order = _started(session, world)
    invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=AFTER)
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    events.record(
        session,
        order,
        "invoice_settled",
        by=world.officer,
        invoice=invoice.reference,
        amount_pence=invoice.amount_pence,
    )
    return order


def delivered_more_than_ordered(session: Session, world: World) -> Order:
    # Two visits' worth of records landed at once on a period with room for one more.
    order = _started(session, world)
    cycle = order.cycles[0]
    for day in (date(2026, 6, 11), date(2026, 6, 15)):
        session.add(
            Delivery(
                order_id=order.id,
                cycle_id=cycle.id,
                delivered_on=day,
                units=8,
                recorded_by_id=world.staff.id,
            )
        )
    return order


def a_visit_recorded_twice(session: Session, world: World) -> Order:
    order = _started(session, world)
    session.add(
        Delivery(
            order_id=order.id,
            cycle_id=order.cycles[0].id,
            delivered_on=FIRST_VISIT,
            units=2,
            recorded_by_id=world.staff.id,
        )
    )
    return order


Seed = Callable[[Session, World], Order]
SEEDED: list[tuple[Seed, str]] = [
    (accepted_with_its_money_released, "accepted but its commitment is released"),
    (in_progress_with_its_money_released, "in progress but its commitment is released"),
    (declined_with_money_held, "declined but cycle 1 still holds its money"),
    (cancelled_with_money_held, "cancelled but cycle 1 still holds its money"),
    (completed_with_money_held, "completed but cycle 1 still holds its money"),
    (accepted_and_declined, "left placed 2 times (accept, decline)"),
    (an_invoice_settled_twice, "settled 2 times"),
    (delivered_more_than_ordered, "cycle 1: 18 units delivered, more than the 16 ordered"),
    (a_visit_recorded_twice, "the visit on 2026-06-08 is recorded 2 times"),
]


@pytest.mark.parametrize(("seed", "problem"), SEEDED, ids=[seed.__name__ for seed, _ in SEEDED])
def test_ledger_verify_names_the_order_that_disagrees(
    app: Flask, session: Session, world: World, seed: Seed, problem: str
) -> None:
    order = seed(session, world)
    session.commit()

    result = app.test_cli_runner().invoke(args=["ledger", "verify"])

    assert result.exit_code == 1, result.output
    lines = result.output.splitlines()
    assert any(line.startswith(f"order {order.reference}") and problem in line for line in lines), (
        result.output
    )
    assert lines[-1].startswith("ledger verify: ")


def test_orders_through_every_step_verify(app: Flask, session: Session, world: World) -> None:
    # The checks find nothing wrong in orders the rules made: declined, cancelled, refused
    # and completed, one cut short and one still running.
    declined = _placed(session, world)
    life.decline(session, declined, by=world.staff, reason="No carers free")
    cancelled = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(weeks=None),
        by=world.citizen,
        today=TODAY,
        placement_key="cancelled",
    )
    life.accept(session, cancelled, by=world.staff)
    life.cancel(session, cancelled, by=world.citizen, today=TODAY)
    done = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(weeks=None, starts_on=FIRST_VISIT),
        by=world.citizen,
        today=TODAY,
        placement_key="done",
    )
    life.accept(session, done, by=world.staff)
    delivery = deliveries.record_delivery(
        session, done, by=world.staff, delivered_on=FIRST_VISIT, units=2, today=AFTER
    )
    deliveries.confirm_delivery(session, delivery, by=world.citizen)
    invoicing.raise_invoice(session, done, done.cycles[0], by=world.staff, today=AFTER)
    session.commit()
    assert [declined.status, cancelled.status, done.status] == [
        OrderStatus.DECLINED,
        OrderStatus.CANCELLED,
        OrderStatus.COMPLETED,
    ]

    assert_ledger_verifies(session)
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
