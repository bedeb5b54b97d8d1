"""A package to vary (VARIATIONS, issue 18): the orders' world (a budget with council, NHS and
contribution streams, a home care provider), its provider invoicing weekly with 14 days'
notice, and an accepted package of 2 hours on Mondays and Thursdays from Monday 1 June 2026
(£104 a week) with its first cycles held, made with the rows placing one makes (its first
terms, each cycle held through `cycle_money.hold_cycle`)."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy.orm import Session

from marketplace.orders import cycle_money, events, life
from marketplace.orders.checkout import new_reference
from marketplace.orders.models import Order, OrderCycle, OrderStatus, ScheduleKind
from marketplace.orders.package_terms import cycle_cost, first_terms
from providers.models import InvoiceCycle
from tests.orders.fixtures import World

FIRST_DAY = date(2026, 6, 1)  # a Monday: cycle n runs from Monday to Sunday
TODAY = FIRST_DAY
NOTICE_DAYS = 14
WEEKLY_PENCE = 2 * 2 * 26_00


def make_package(
    session: Session,
    world: World,
    *,
    cycles: int = 3,
    status: OrderStatus = OrderStatus.ACCEPTED,
) -> Order:
    """A package placed (and accepted by the provider, unless `status` is PLACED) with cycles
    1..`cycles` made and held from the world's budget."""
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY
    world.provider.notice_days = NOTICE_DAYS
    order = Order(
        id=uuid.uuid4(),
        reference=new_reference("ORD"),
        placement_key=f"package:{uuid.uuid4()}",
        person_id=world.person.id,
        budget_id=world.budget.id,
        service_id=world.service.id,
        organisation_id=world.provider.id,
        placed_by_id=world.citizen.id,
        status=OrderStatus.PLACED,
        service_name=world.service.name,
        unit_price_pence=world.service.price_pence,
        price_unit=world.service.price_unit,
        category_codes=["personal-care"],
        schedule_kind=ScheduleKind.RECURRING,
        units_per_occasion=2,
        starts_on=FIRST_DAY,
        ends_on=None,
        weeks=None,
        days=["MO", "TH"],
        total_pence=0,
        invoice_cycle=InvoiceCycle.WEEKLY,
        notice_days=NOTICE_DAYS,
        cycles_ahead=cycles,
    )
    session.add(order)
    session.flush()
    session.add(first_terms(order))
    session.flush()
    session.refresh(order)
    for number in range(1, cycles + 1):
        cost = cycle_cost(order, number)
        cycle = OrderCycle(
            order_id=order.id,
            budget_id=world.budget.id,
            number=number,
            starts_on=cost.starts_on,
            ends_on=cost.ends_on,
            units=cost.units,
            amount_pence=cost.amount_pence,
            commitment_key=f"order:{order.id}:cycle:{number}",
        )
        session.add(cycle)
        session.flush()
        cycle_money.hold_cycle(session, order, cycle)
        order.total_pence += cycle.amount_pence
    events.record(session, order, "placed", by=world.citizen, to_status=OrderStatus.PLACED)
    if status is OrderStatus.ACCEPTED:
        life.accept(session, order, by=world.staff)
    session.commit()
    return order
