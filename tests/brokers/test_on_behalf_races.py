"""Two brokers, or a broker and the person, buying for the same client at the same moment:
each request in its own thread, app context, session and connection, committing at its end as
a request does. The client's basket is checked out once, a small budget is never overspent,
each order names the consent it was placed under, and the ledger stays balanced. On SQLite
and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget
from marketplace.extensions import db
from marketplace.orders import basket, checkout
from marketplace.orders.models import BasketItem, Order, OrderEvent
from marketplace.orders.schedule import Schedule
from marketplace.people import shortlists
from marketplace.people.models import Person
from providers.models import Service
from tests.brokers.shortlist_fixtures import give_consent
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import HOURLY_PENCE, TODAY, World, assert_ledger_verifies


def _verify(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def _approved(world: World, broker: User) -> None:
    shortlists.add(db.session, world.person, world.service.id, by=broker)
    shortlist = shortlists.shortlist_of(db.session, world.person)
    assert shortlist is not None
    shortlists.approve(
        db.session, shortlist, [world.service.id], seen_version=shortlist.version, by=world.citizen
    )
    db.session.commit()


def test_two_brokers_and_the_person_checking_out_the_clients_basket_at_once_order_it_once(
    make_app: Callable[..., Flask], world: World, make_user: Callable[..., User]
) -> None:
    first = make_user(Role.BROKER)
    second = make_user(Role.BROKER, organisation=first.organisation)  # the same brokerage
    consent = give_consent(world.person, broker=first)
    _approved(world, first)
    items = [
        basket.add_to_basket(
            db.session, world.person, world.service, schedule, by=first, today=TODAY
        )
        for schedule in (world.schedule(), world.schedule(weeks=None, units=3))
    ]
    db.session.commit()
    item_ids = [item.id for item in items]
    buyers = [first.id, second.id, world.citizen.id] * 2
    person_id = world.person.id
    before = budget_figures(db.session, world.budget).total
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(len(buyers)))
    placed: dict[int, list[uuid.UUID]] = {}

    def check_out(number: int) -> None:
        orders = checkout.check_out(
            db.session,
            db.session.get_one(Person, person_id),
            item_ids,
            by=db.session.get_one(User, buyers[number]),
            today=TODAY,
        )
        placed[number] = [order.id for order in orders]

    assert run_together(app, len(buyers), check_out) == ["ok"] * len(buyers)

    assert len({tuple(ids) for ids in placed.values()}) == 1
    db.session.expire_all()
    orders = db.session.scalars(select(Order)).all()
    assert sorted(order.id for order in orders) == sorted(placed[0])
    assert _count(BasketItem) == 0
    assert _count(OrderEvent) == 2
    # Whoever got there first placed both, under the consent if it was a broker.
    [placer] = {order.placed_by_id for order in orders}
    expected = None if placer == world.citizen.id else consent.id
    assert {order.consent_id for order in orders} == {expected}
    total = sum(order.total_pence for order in orders)
    assert total == (16 + 3) * HOURLY_PENCE
    after = budget_figures(db.session, world.budget).total
    assert after.committed_pence == before.committed_pence + total
    assert_ledger_verifies(db.session)
    _verify(app)


def test_brokers_of_two_brokerages_and_the_person_never_overspend_the_clients_budget(
    make_app: Callable[..., Flask], world: World, make_user: Callable[..., User]
) -> None:
    one, other = make_user(Role.BROKER), make_user(Role.BROKER)
    consents = {
        one.id: give_consent(world.person, broker=one).id,
        other.id: give_consent(world.person, broker=other).id,
        world.citizen.id: None,
    }
    _approved(world, one)
    available = budget_figures(db.session, world.budget).total.available_pence
    price = 16 * HOURLY_PENCE  # 16 hours on one day: £416
    affordable = available // price
    count = 12
    assert 0 < affordable < count
    buyers = [one.id, other.id, world.citizen.id] * (count // 3)
    ids = (world.person.id, world.service.id)
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(count))

    def order(number: int) -> None:
        person_id, service_id = ids
        checkout.place_order(
            db.session,
            db.session.get_one(Person, person_id),
            db.session.get_one(Service, service_id),
            Schedule(world.schedule(weeks=None).kind, TODAY, 16),
            by=db.session.get_one(User, buyers[number]),
            today=TODAY,
            placement_key=f"buyer-{number}",
        )

    outcomes = run_together(app, count, order)

    assert outcomes.count("ok") == affordable
    assert outcomes.count("insufficient_funds") == count - affordable
    db.session.expire_all()
    orders = db.session.scalars(select(Order)).all()
    assert len(orders) == affordable
    for each in orders:  # each names the consent its placer acted under
        assert each.consent_id == consents[each.placed_by_id]
    figures = budget_figures(db.session, db.session.get_one(PersonalBudget, world.budget.id))
    assert figures.total.committed_pence == affordable * price
    assert figures.total.available_pence == available - affordable * price
    assert all(stream.balanced and stream.available_pence >= 0 for _, stream in figures.streams)
    assert_ledger_verifies(db.session)
    _verify(app)
