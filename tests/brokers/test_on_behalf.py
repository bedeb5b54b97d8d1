"""Buying and paying for someone else, the rules (issue 17): a broker orders only what the
client approved on a shortlist, under a consent covering orders read afresh when the order is
written; an attorney orders as the person would; the order names the consent, its timeline
who placed it, and the person is told; card payments on someone's behalf need a consent
covering payment and name who started them. The faults: a consent withdrawn half-way through
checkout, one that ended overnight, one without payment.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.allocations import revise_stream
from marketplace.budgets.models import StreamKind
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import basket, checkout
from marketplace.orders.errors import BasketRefused, NotYours
from marketplace.orders.models import BasketItem, Order, OrderEvent, OrderStatus
from marketplace.orders.on_behalf import NotApproved
from marketplace.payments import service
from marketplace.payments.models import CardPayment
from marketplace.people import consents, questions, shortlists
from marketplace.people.models import Authority, Consent, Person
from marketplace.types import utcnow
from tests.brokers.shortlist_fixtures import ALL_SCOPES, give_consent
from tests.orders.fixtures import TODAY, World, assert_ledger_verifies


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    broker = make_user(Role.BROKER)
    broker.full_name = "Sam Patel"
    broker.organisation.name = "Herts Independent Brokerage"  # type: ignore[attr-defined]
    db.session.commit()
    return broker


def approve(world: World, broker: User) -> None:
    """The broker shortlists the world's service for the client, who approves it."""
    shortlists.add(db.session, world.person, world.service.id, by=broker, note="Near you")
    shortlist = shortlists.shortlist_of(db.session, world.person)
    assert shortlist is not None
    shortlists.share(db.session, shortlist, broker)
    shortlists.approve(
        db.session, shortlist, [world.service.id], seen_version=shortlist.version, by=world.citizen
    )
    db.session.commit()


def in_basket(world: World, by: User) -> BasketItem:
    item = basket.add_to_basket(
        db.session, world.person, world.service, world.schedule(), by=by, today=TODAY
    )
    db.session.commit()
    return item


def count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_broker_places_an_approved_order_under_the_consent_and_the_person_is_told(
    world: World, broker: User
) -> None:
    consent = give_consent(world.person, broker=broker)
    approve(world, broker)
    item = in_basket(world, broker)

    [order] = checkout.check_out(db.session, world.person, [item.id], by=broker, today=TODAY)
    db.session.commit()

    assert order.placed_by_id == broker.id
    assert order.consent_id == consent.id
    placed = db.session.scalars(select(OrderEvent).filter_by(order_id=order.id)).one()
    assert placed.actor_id == broker.id
    assert placed.details["on_behalf"] is True
    assert placed.details["placed_by_name"] == "Sam Patel"
    assert placed.details["placed_by_brokerage"] == "Herts Independent Brokerage"
    assert placed.details["consent_id"] == str(consent.id)
    told = db.session.scalars(
        select(Notification).filter_by(
            user_id=world.citizen.id, kind=NotificationKind.ORDER_PLACED_FOR_YOU
        )
    ).one()
    assert told.order_id == order.id
    assert told.title == (
        f"Sam Patel (Herts Independent Brokerage) placed order {order.reference} for you"
    )
    assert_ledger_verifies(db.session)


def test_the_brokers_question_to_the_provider_is_kept_with_the_order_that_follows(
    world: World, broker: User
) -> None:
    give_consent(world.person, broker=broker)
    thread = questions.ask(
        db.session,
        person=world.person,
        service=world.service,
        by=broker,
        text="Can the carer come before 9 in the morning?",
    )
    approve(world, broker)
    item = in_basket(world, broker)

    [order] = checkout.check_out(db.session, world.person, [item.id], by=broker, today=TODAY)
    db.session.commit()

    assert thread.order_id == order.id


def test_the_person_ordering_for_themselves_names_no_consent_and_is_not_told_of_it(
    world: World, broker: User
) -> None:
    give_consent(world.person, broker=broker)
    item = in_basket(world, world.citizen)
    [order] = checkout.check_out(db.session, world.person, [item.id], by=world.citizen, today=TODAY)
    db.session.commit()
    assert order.consent_id is None
    assert "on_behalf" not in order.events[0].details
    assert (
        count(Notification) == 0
        or not db.session.scalars(
            select(Notification).filter_by(kind=NotificationKind.ORDER_PLACED_FOR_YOU)
        ).all()
    )


def test_a_broker_cannot_order_what_the_client_has_not_approved(world: World, broker: User) -> None:
    give_consent(world.person, broker=broker)
    item = in_basket(world, broker)

    with pytest.raises(BasketRefused) as refused:
        checkout.check_out(db.session, world.person, [item.id], by=broker, today=TODAY)
    db.session.rollback()

    [(refused_item, why)] = refused.value.problems
    assert refused_item.id == item.id
    assert isinstance(why, NotApproved)
    assert "has not approved Home care visits on their shortlist" in why.message
    assert count(Order) == 0
    assert count(BasketItem) == 1
    with pytest.raises(NotApproved):
        checkout.place_order(
            db.session,
            world.person,
            world.service,
            world.schedule(),
            by=broker,
            today=TODAY,
            placement_key="unapproved",
        )


def test_a_withdrawn_approval_no_longer_lets_the_broker_order(world: World, broker: User) -> None:
    give_consent(world.person, broker=broker)
    approve(world, broker)
    shortlist = shortlists.shortlist_of(db.session, world.person)
    assert shortlist is not None
    shortlists.remove(db.session, shortlist.items[0], by=world.citizen)
    db.session.commit()
    item = in_basket(world, broker)
    with pytest.raises(BasketRefused):
        checkout.check_out(db.session, world.person, [item.id], by=broker, today=TODAY)


def test_an_attorney_orders_without_a_shortlist_and_the_order_names_their_consent(
    world: World, make_user: Callable[..., User]
) -> None:
    daughter = make_user(Role.CITIZEN)
    daughter.full_name = "Karen Pearce"
    consent = give_consent(world.person, grantee=daughter, authority=Authority.LPA_PROPERTY_FINANCE)
    item = in_basket(world, daughter)

    [order] = checkout.check_out(db.session, world.person, [item.id], by=daughter, today=TODAY)
    db.session.commit()

    assert order.placed_by_id == daughter.id
    assert order.consent_id == consent.id
    assert order.events[0].details["placed_by_name"] == "Karen Pearce"
    assert order.events[0].details["placed_by_brokerage"] is None
    titles = db.session.scalars(
        select(Notification.title).filter_by(kind=NotificationKind.ORDER_PLACED_FOR_YOU)
    ).all()
    assert titles == [f"Karen Pearce placed order {order.reference} for you"]


def test_a_family_member_without_legal_authority_needs_the_persons_approval(
    world: World, make_user: Callable[..., User]
) -> None:
    son = make_user(Role.CITIZEN)
    give_consent(world.person, grantee=son)  # the person's own word, not a power of attorney
    item = in_basket(world, son)
    with pytest.raises(BasketRefused) as refused:
        checkout.check_out(db.session, world.person, [item.id], by=son, today=TODAY)
    assert isinstance(refused.value.problems[0][1], NotApproved)


def test_a_consent_withdrawn_half_way_through_checkout_places_nothing_and_keeps_the_basket(
    app: Flask, world: World, broker: User
) -> None:
    consent = give_consent(world.person, broker=broker)
    approve(world, broker)
    item = in_basket(world, broker)
    # The checkout page was shown: the person and their live consent are loaded.
    assert checkout.quote_basket(db.session, world.person, [item], today=TODAY)[0].quote
    assert [c.revoked_at for c in world.person.consents] == [None]
    # Meanwhile the client withdraws it, in another request (its own connection).
    with Session(db.engine) as other:
        consents.revoke(
            other, other.get_one(Consent, consent.id), by=other.get_one(User, world.citizen.id)
        )
        other.commit()

    with pytest.raises(NotYours) as refused:
        checkout.check_out(db.session, world.person, [item.id], by=broker, today=TODAY)
    db.session.rollback()

    assert "can no longer act for" in refused.value.message
    assert count(Order) == 0
    assert count(BasketItem) == 1
    with pytest.raises(NotYours):
        checkout.place_order(
            db.session,
            db.session.get_one(Person, world.person.id),
            world.service,
            world.schedule(),
            by=broker,
            today=TODAY,
            placement_key="after-revocation",
        )
    assert_ledger_verifies(db.session)


def test_a_consent_that_ended_overnight_refuses_the_next_mornings_checkout(
    world: World, broker: User
) -> None:
    consent = give_consent(world.person, broker=broker)
    consent.ends_at = utcnow() + timedelta(hours=6)
    db.session.commit()
    approve(world, broker)
    item = in_basket(world, broker)

    next_morning = time_machine.travel(utcnow() + timedelta(hours=12))
    with next_morning, pytest.raises(NotYours) as refused:
        checkout.check_out(db.session, world.person, [item.id], by=broker, today=TODAY)
    db.session.rollback()
    assert "their consent has ended or was withdrawn" in refused.value.message
    assert count(Order) == 0
    assert count(BasketItem) == 1


def test_a_consent_not_covering_orders_refuses_with_words(world: World, broker: User) -> None:
    give_consent(world.person, broker=broker, scopes=["see", "shortlist"])
    approve(world, broker)
    item = in_basket(world, world.citizen)
    with pytest.raises(NotYours):
        checkout.check_out(db.session, world.person, [item.id], by=broker, today=TODAY)
    assert count(Order) == 0


def _shrink_budget(world: World) -> None:
    """Leave the budget £200 (of the £416 the default schedule costs)."""
    for stream in world.budget.streams:
        revise_stream(
            db.session,
            stream,
            amount_pence=0 if stream.kind is StreamKind.NHS else 100_00,
            reason="For the test: a budget that falls short",
            key=f"shrink:{stream.id}",
        )
    db.session.commit()


def _card_order(world: World, broker: User) -> Order:
    _shrink_budget(world)
    approve(world, broker)
    order = checkout.place_order(
        db.session,
        world.person,
        world.service,
        world.schedule(),
        by=broker,
        today=TODAY,
        placement_key="card-order",
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    db.session.commit()
    return order


def test_a_consent_without_payment_places_the_order_but_refuses_the_card(
    world: World, broker: User
) -> None:
    scopes = [scope for scope in ALL_SCOPES if scope != "pay"]
    give_consent(world.person, broker=broker, scopes=scopes)
    order = _card_order(world, broker)
    # The budget's part is held; the card's waits.
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.card_pence == 216_00
    told = db.session.scalars(
        select(Notification.title).filter_by(kind=NotificationKind.ORDER_PLACED_FOR_YOU)
    ).one()
    assert told.endswith("for you: it waits for payment by card")

    with pytest.raises(NotYours) as refused:
        service.start_order_payment(db.session, order, by=broker)
    db.session.rollback()
    assert refused.value.message == (
        f"{world.person.full_name}'s consent does not let you pay by card for them. "
        f"Ask {world.person.full_name} to change their consent, or to do this themselves."
    )
    with pytest.raises(NotYours):
        service.start_top_up(
            db.session,
            world.person,
            amount_pence=10_00,
            by=broker,
            today=TODAY,
            top_ups_allowed=True,
        )
    db.session.rollback()
    assert count(CardPayment) == 0
    # The person pays it themselves.
    payment = service.start_order_payment(db.session, order, by=world.citizen)
    assert payment.started_by_id == world.citizen.id
    assert payment.consent_id is None
    assert_ledger_verifies(db.session)


def test_a_broker_paying_by_card_under_consent_is_recorded_on_the_payment(
    world: World, broker: User
) -> None:
    consent = give_consent(world.person, broker=broker)
    order = _card_order(world, broker)
    payment = service.start_order_payment(db.session, order, by=broker)
    db.session.commit()
    assert (payment.started_by_id, payment.consent_id) == (broker.id, consent.id)
    top_up = service.start_top_up(
        db.session, world.person, amount_pence=10_00, by=broker, today=TODAY, top_ups_allowed=True
    )
    assert (top_up.started_by_id, top_up.consent_id) == (broker.id, consent.id)


def test_a_broker_of_another_brokerage_can_neither_order_nor_pay(
    world: World, broker: User, make_user: Callable[..., User]
) -> None:
    give_consent(world.person, broker=broker)
    order = _card_order(world, broker)
    stranger = make_user(Role.BROKER)
    item = in_basket(world, world.citizen)
    with pytest.raises(NotYours):
        checkout.check_out(db.session, world.person, [item.id], by=stranger, today=TODAY)
    with pytest.raises(NotYours):
        service.start_order_payment(db.session, order, by=stranger)
