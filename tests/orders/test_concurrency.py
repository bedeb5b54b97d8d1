"""Orders placed at the same moment, each request in its own thread, app context, session and
connection, committing at its end as a request does: the same basket checked out in two
browser tabs orders it once, and many orders against one small budget never overspend it.
On SQLite and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget
from marketplace.extensions import db
from marketplace.ledger import Transfer
from marketplace.orders import basket, checkout
from marketplace.orders.models import BasketItem, Order, OrderCycle, OrderEvent
from marketplace.orders.schedule import Schedule
from marketplace.people.models import Person
from providers.models import InvoiceCycle, Service
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World, assert_ledger_verifies

TABS = 6
BUYERS = 12


def _verify(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_one_basket_checked_out_in_several_tabs_at_once_orders_it_once(
    make_app: Callable[..., Flask], world: World
) -> None:
    world.provider.invoice_cycle = InvoiceCycle.WEEKLY  # several commitments per order
    items = [
        basket.add_to_basket(
            db.session, world.person, world.service, schedule, by=world.citizen, today=TODAY
        )
        for schedule in (world.schedule(), world.schedule(weeks=None, units=3))
    ]
    db.session.commit()
    person_id, citizen_id = world.person.id, world.citizen.id
    item_ids = [item.id for item in items]
    before = budget_figures(db.session, world.budget).total
    tabs = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(TABS))
    placed: dict[int, list[uuid.UUID]] = {}

    def check_out(tab: int) -> None:
        orders = checkout.check_out(
            db.session,
            db.session.get_one(Person, person_id),
            item_ids,
            by=db.session.get_one(User, citizen_id),
            today=TODAY,
        )
        placed[tab] = [order.id for order in orders]

    assert run_together(tabs, TABS, check_out) == ["ok"] * TABS

    # Every tab was shown the same two orders, and only two exist.
    assert len({tuple(ids) for ids in placed.values()}) == 1
    db.session.expire_all()
    orders = db.session.scalars(select(Order)).all()
    assert sorted(o.id for o in orders) == sorted(placed[0])
    assert _count(BasketItem) == 0
    assert _count(OrderEvent) == 2  # one "placed" each
    total = sum(order.total_pence for order in orders)
    assert total == (16 + 3) * HOURLY_PENCE
    after = budget_figures(db.session, world.budget).total
    assert after.committed_pence == before.committed_pence + total
    assert after.available_pence == before.available_pence - total
    # Each cycle's money was committed once: its transfers add up to it exactly.
    for cycle in db.session.scalars(select(OrderCycle)):
        held = db.session.scalar(
            select(func.sum(Transfer.amount_pence)).where(
                Transfer.reference == cycle.commitment_key
            )
        )
        assert held == cycle.amount_pence
    assert_ledger_verifies(db.session)
    _verify(tabs)


def test_many_orders_against_one_small_budget_at_once_never_overspend_it(
    make_app: Callable[..., Flask], world: World
) -> None:
    available = budget_figures(db.session, world.budget).total.available_pence
    ids = (world.person.id, world.citizen.id, world.service.id)
    # 16 hours on one day: £416, so £3,300 pays for seven of the twelve.
    price = 16 * HOURLY_PENCE
    affordable = available // price
    assert 0 < affordable < BUYERS
    buyers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(BUYERS))

    def order(number: int) -> None:
        person_id, citizen_id, service_id = ids
        checkout.place_order(
            db.session,
            db.session.get_one(Person, person_id),
            db.session.get_one(Service, service_id),
            Schedule(world.schedule(weeks=None).kind, TODAY, 16),
            by=db.session.get_one(User, citizen_id),
            today=TODAY,
            placement_key=f"buyer-{number}",
        )

    outcomes = run_together(buyers, BUYERS, order)

    assert outcomes.count("ok") == affordable
    assert outcomes.count("insufficient_funds") == BUYERS - affordable
    db.session.expire_all()
    assert _count(Order) == affordable
    figures = budget_figures(db.session, db.session.get_one(PersonalBudget, world.budget.id))
    assert figures.total.committed_pence == affordable * price
    assert figures.total.available_pence == available - affordable * price
    assert all(stream.balanced and stream.available_pence >= 0 for _, stream in figures.streams)
    assert_ledger_verifies(db.session)
    _verify(buyers)
