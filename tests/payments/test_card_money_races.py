"""Stripe's word delivered twice at the same moment, each delivery in its own thread, app
context, session and connection, committing at its end as a webhook request does: the money
is credited once and the provider told once. Also the expiry job racing a success. On SQLite
and on PostgreSQL (TEST_DATABASE_URL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.queries import budgets_of
from marketplace.extensions import db
from marketplace.ledger import Transfer
from marketplace.notifications.models import Notification
from marketplace.orders import checkout
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import service
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.service import Result
from marketplace.people.models import Person
from providers.models import Service
from tests.ledger.threads import engine_options, run_together
from tests.orders.fixtures import TODAY, World
from tests.payments.test_card_money import CARD_PART, _shrink_budget, assert_all_verifies

DELIVERIES = 4


def _awaiting(world: World) -> tuple[Order, CardPayment]:
    _shrink_budget(db.session, world)
    order = checkout.place_order(
        db.session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="race",
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    payment = service.start_order_payment(db.session, order, by=world.citizen)
    db.session.commit()
    return order, payment


def _count(query: object) -> int:
    return db.session.scalar(query) or 0  # type: ignore[call-overload]


def test_the_same_success_delivered_at_once_credits_once(
    make_app: Callable[..., Flask], world: World
) -> None:
    order, payment = _awaiting(world)
    order_id, payment_id = order.id, payment.id
    transfers_before = _count(select(func.count()).select_from(Transfer))
    workers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(DELIVERIES))
    results: dict[int, Result] = {}

    def deliver(number: int) -> None:
        results[number] = service.payment_succeeded(
            db.session,
            intent_id="pi_race",
            amount_pence=CARD_PART,
            currency="gbp",
            metadata={"card_payment_id": str(payment_id)},
        ).result

    assert run_together(workers, DELIVERIES, deliver) == ["ok"] * DELIVERIES

    assert sorted(results.values()) == sorted([Result.CREDITED] + [Result.ALREADY] * 3)
    db.session.expire_all()
    assert db.session.get_one(Order, order_id).status is OrderStatus.PLACED
    assert db.session.get_one(CardPayment, payment_id).status is CardPaymentStatus.SUCCEEDED
    # One credit, and the card share held once per cycle: nothing else.
    paid = db.session.get_one(Order, order_id)
    card_cycles = sum(1 for cycle in paid.cycles if paid.card_share_of(cycle))
    assert card_cycles >= 1
    after = _count(select(func.count()).select_from(Transfer))
    assert after - transfers_before == 1 + card_cycles
    told = _count(
        select(func.count()).select_from(Notification).where(Notification.user_id == world.staff.id)
    )
    assert told == 1
    assert_all_verifies(db.session)


def test_expiry_racing_a_success_either_pays_or_owes_back(
    make_app: Callable[..., Flask], world: World
) -> None:
    order, payment = _awaiting(world)
    order_id, payment_id = order.id, payment.id
    later = order.placed_at + timedelta(hours=2)
    workers = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))

    def step(number: int) -> None:
        if number == 0:
            service.expire_unpaid_orders(db.session, now=later)
        else:
            service.payment_succeeded(
                db.session,
                intent_id="pi_race",
                amount_pence=CARD_PART,
                currency="gbp",
                metadata={"card_payment_id": str(payment_id)},
            )

    assert run_together(workers, 2, step) == ["ok", "ok"]

    db.session.expire_all()
    status = db.session.get_one(Order, order_id).status
    paid = db.session.get_one(CardPayment, payment_id).status
    assert (status, paid) in {
        (OrderStatus.PLACED, CardPaymentStatus.SUCCEEDED),
        (OrderStatus.CANCELLED, CardPaymentStatus.REFUND_DUE),
    }
    assert_all_verifies(db.session)


def test_a_self_funders_first_purchases_at_once_make_one_account(
    make_app: Callable[..., Flask], world: World, make_user: Callable[..., User]
) -> None:
    person = Person(full_name="Arthur Penrose")
    db.session.add(person)
    db.session.flush()
    buyer = make_user(Role.CITIZEN)
    buyer.person_id = person.id
    db.session.commit()
    person_id, buyer_id, service_id = person.id, buyer.id, world.service.id
    schedule = world.schedule()
    tabs = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(DELIVERIES))

    def buy(number: int) -> None:
        checkout.place_order(
            db.session,
            db.session.get_one(Person, person_id),
            db.session.get_one(Service, service_id),
            schedule,
            by=db.session.get_one(User, buyer_id),
            today=TODAY,
            placement_key=f"first-{number}",
            pay_by_card=True,
        )

    assert run_together(tabs, DELIVERIES, buy) == ["ok"] * DELIVERIES

    db.session.expire_all()
    [account] = budgets_of(db.session, db.session.get_one(Person, person_id))
    orders = db.session.scalars(select(Order).where(Order.person_id == person_id)).all()
    assert len(orders) == DELIVERIES
    assert {order.budget_id for order in orders} == {account.id}
    assert_all_verifies(db.session)
