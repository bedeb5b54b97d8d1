"""The server dying between the order and its commitment leaves both or neither.

A real child process (tests/orders/fault_child.py, forked from the test's: tests/forking.py)
checks out a basket item against the test database and stops at a chosen statement; we kill it
with SIGKILL there, as the OOM killer or a pulled plug would, and look at what the database
kept: before the commit, no order, no cycles, no transfers and the basket item still there;
after it, all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func
from sqlalchemy import select as sql_select
from sqlalchemy.orm import Session

from marketplace.budgets.figures import budget_figures
from marketplace.ledger import LedgerError, Transfer
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification
from marketplace.orders import basket, checkout, deliveries, invoicing, life
from marketplace.orders.errors import BasketRefused
from marketplace.orders.models import (
    BasketItem,
    Delivery,
    Invoice,
    Order,
    OrderCycle,
    OrderEvent,
    OrderStatus,
)
from marketplace.orders.schedule import Schedule
from providers.models import InvoiceCycle
from tests.forking import kill_when_paused
from tests.orders import fault_child
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World, assert_ledger_verifies


def _kill_when_paused(arguments: list[str], expect: str) -> None:
    kill_when_paused(fault_child.main, arguments, f"paused: {expect}")


def _count(session: Session, model: type) -> int:
    return session.scalar(sql_select(func.count()).select_from(model)) or 0


def _order_transfers(session: Session) -> int:
    return (
        session.scalar(
            sql_select(func.count()).select_from(Transfer).where(Transfer.reference.like("order:%"))
        )
        or 0
    )


def _verify(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize(
    ("mode", "said", "kept"),
    [
        ("order-written", "order", False),
        ("first-cycle", "cycle 1 written", False),
        ("committed", "committed", True),
    ],
)
def test_a_checkout_killed_part_way_keeps_the_order_and_its_money_together(
    app: Flask,
    session: Session,
    world: World,
    database_url: str,
    tmp_path: Path,
    mode: str,
    said: str,
    kept: bool,
) -> None:
    # Weekly invoicing: four weeks are four cycles, each with its own commitment.
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    item = basket.add_to_basket(
        session, world.person, world.service, world.schedule(), by=world.citizen, today=TODAY
    )
    session.commit()
    item_id = item.id
    before = budget_figures(session, world.budget).total
    notifications = _count(session, Notification)

    _kill_when_paused(
        [
            mode,
            database_url,
            str(tmp_path / "child"),
            str(world.person.id),
            str(world.citizen.id),
            str(item_id),
            TODAY.isoformat(),
        ],
        said,
    )

    session.rollback()
    session.expire_all()
    after = budget_figures(session, world.budget).total
    total = 16 * HOURLY_PENCE
    if kept:
        order = session.scalars(sql_select(Order)).one()
        assert order.total_pence == total
        assert [cycle.amount_pence for cycle in order.cycles] == [4 * HOURLY_PENCE] * 4
        assert _count(session, OrderEvent) == 1
        assert _order_transfers(session) >= 4
        assert _count(session, BasketItem) == 0
        assert _count(session, Notification) > notifications
        assert after.committed_pence == before.committed_pence + total
        assert after.available_pence == before.available_pence - total
    else:
        assert _count(session, Order) == 0
        assert _count(session, OrderCycle) == 0
        assert _count(session, OrderEvent) == 0
        assert _order_transfers(session) == 0
        assert _count(session, Notification) == notifications
        assert session.scalars(sql_select(BasketItem.id)).all() == [item_id]
        assert after == before
    assert_ledger_verifies(session)
    _verify(app)
    # The dead process's locks are gone: checking out now (again) works at once, and once.
    orders = checkout.check_out(session, world.person, [item_id], by=world.citizen, today=TODAY)
    session.commit()
    assert _count(session, Order) == 1
    assert orders[0].total_pence == total
    assert budget_figures(session, world.budget).total.committed_pence == (
        before.committed_pence + total
    )
    assert_ledger_verifies(session)


# Refusals ----------------------------------------------------------------------------------


def _snapshot(session: Session, world: World) -> tuple:
    """Every figure and row a refused move might have touched."""
    session.flush()
    figures = [f for _, f in budget_figures(session, world.budget).streams]
    rows = [
        _count(session, model)
        for model in (Order, OrderCycle, Delivery, Invoice, OrderEvent, Transfer, Notification)
    ]
    states = sorted(
        [
            (str(o.id), o.status.value, str(o.cancelled_from))
            for o in session.scalars(sql_select(Order))
        ]
        + [(str(c.id), c.state.value, "") for c in session.scalars(sql_select(OrderCycle))]
        + [
            (str(i.id), i.status.value, str(i.amount_pence))
            for i in session.scalars(sql_select(Invoice))
        ]
        + [(str(d.id), d.status.value, str(d.units)) for d in session.scalars(sql_select(Delivery))]
    )
    return figures, rows, states


def _refused(session: Session, world: World, code: str, move: Callable[[], object]) -> None:
    """The move is refused with `code`, changes nothing (even before the request's rollback),
    and the ledger still verifies."""
    before = _snapshot(session, world)
    with pytest.raises(LedgerError) as refused:
        move()
    assert refused.value.code == code, refused.value.message
    assert _snapshot(session, world) == before
    session.rollback()
    assert _snapshot(session, world) == before
    assert_ledger_verifies(session)


def _placed(session: Session, world: World, schedule: Schedule | None = None) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        schedule or world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=f"key-{_count(session, Order)}",
    )
    session.commit()
    return order


def _delivered_and_invoiced(session: Session, world: World, *, confirm: bool) -> Order:
    """A one-off order on 8 June, accepted, delivered, and its invoice raised on the 9th."""
    order = _placed(session, world, world.schedule(weeks=None))
    life.accept(session, order, by=world.staff)
    delivery = deliveries.record_delivery(
        session, order, by=world.staff, delivered_on=DAY, units=2, today=DAY
    )
    if confirm:
        deliveries.confirm_delivery(session, delivery, by=world.citizen)
    invoicing.raise_invoice(session, order, order.cycles[0], by=world.staff, today=AFTER)
    session.commit()
    return order


DAY = date(2026, 6, 8)
AFTER = date(2026, 6, 9)


def test_invoicing_a_cancelled_order_is_refused(session: Session, world: World) -> None:
    order = _placed(session, world)
    life.cancel(session, order, by=world.citizen, today=TODAY, reason="Not needed now")
    session.commit()

    _refused(
        session,
        world,
        "invalid_transition",
        lambda: invoicing.raise_invoice(
            session, order, order.cycles[0], by=world.staff, today=date(2026, 7, 3)
        ),
    )


def test_accepting_an_order_twice_is_refused(session: Session, world: World) -> None:
    order = _placed(session, world)
    life.accept(session, order, by=world.staff)
    session.commit()

    _refused(
        session, world, "invalid_transition", lambda: life.accept(session, order, by=world.staff)
    )
    assert [event.kind for event in order.events] == ["placed", "accept"]


def test_recording_a_delivery_on_another_providers_order_is_refused(
    session: Session, world: World
) -> None:
    order = _placed(session, world)
    life.accept(session, order, by=world.staff)
    session.commit()

    _refused(
        session,
        world,
        "forbidden",
        lambda: deliveries.record_delivery(
            session, order, by=world.other_staff, delivered_on=DAY, units=2, today=DAY
        ),
    )
    assert order.status is OrderStatus.ACCEPTED


def test_settling_an_invoice_twice_is_refused(session: Session, world: World) -> None:
    order = _delivered_and_invoiced(session, world, confirm=False)
    (invoice,) = order.invoices
    invoicing.settle_invoice(session, invoice, by=world.officer)
    session.commit()
    assert order.status is OrderStatus.COMPLETED

    _refused(
        session,
        world,
        "invalid_transition",
        lambda: invoicing.settle_invoice(session, invoice, by=world.officer),
    )
    # Nor does the scheduled job pay it again.
    assert invoicing.settle_due(session, now=datetime(2026, 12, 1, tzinfo=UTC)) == []


def test_cancelling_a_completed_order_is_refused(session: Session, world: World) -> None:
    order = _delivered_and_invoiced(session, world, confirm=True)
    assert order.status is OrderStatus.COMPLETED  # every line confirmed: settled at once

    for today in (AFTER, TODAY):
        _refused(
            session,
            world,
            "invalid_transition",
            lambda today=today: life.cancel(session, order, by=world.citizen, today=today),
        )


def test_cancelling_the_rest_of_a_completed_recurring_order_is_refused(
    session: Session, world: World
) -> None:
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    order = _placed(session, world, world.schedule(weeks=2))
    life.accept(session, order, by=world.staff)
    for cycle in order.cycles:
        invoicing.raise_invoice(session, order, cycle, by=world.staff, today=cycle.ends_on)
    session.commit()
    assert order.status is OrderStatus.COMPLETED  # nothing delivered: all released

    # Asked on the first day, with the week's notice falling inside the schedule.
    _refused(
        session,
        world,
        "invalid_transition",
        lambda: life.cancel(session, order, by=world.citizen, today=date(2026, 6, 8)),
    )


def test_a_checkout_refused_part_way_emails_nobody(
    app: Flask, session: Session, world: World
) -> None:
    """Two items' orders are placed (and their provider's emails queued) before the third is
    found unaffordable: the request rolls back, and no email about an order that does not
    exist may have gone out."""
    affordable = [
        basket.add_to_basket(
            session, world.person, world.service, schedule, by=world.citizen, today=TODAY
        )
        for schedule in (world.schedule(), world.schedule(weeks=None))
    ]
    too_much = basket.add_to_basket(
        session,
        world.person,
        world.service,
        world.schedule(units=16, weeks=20, days=("MO", "TU", "WE", "TH", "FR")),
        by=world.citizen,
        today=TODAY,
    )
    session.commit()
    outbox = app.config["MAIL_OUTBOX_PATH"]
    sent = len(outbox_messages(outbox))

    with pytest.raises(BasketRefused):
        checkout.check_out(
            session,
            world.person,
            [*(item.id for item in affordable), too_much.id],
            by=world.citizen,
            today=TODAY,
        )
    session.rollback()

    assert _count(session, Order) == 0
    assert len(outbox_messages(outbox)) == sent
    assert_ledger_verifies(session)
