"""The webhook's fault matrix: every event delivered three times, in random orders, through
the endpoint. Each payment is taken once, whatever the order, and everything verifies."""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.ledger import LedgerAccount, Transfer
from marketplace.orders import checkout
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import service
from marketplace.payments.events import StripeEvent
from marketplace.payments.models import CLEARING_ACCOUNT_CODE, CardPayment, CardPaymentStatus
from tests.orders.fixtures import TODAY, World
from tests.payments.test_card_money import _shrink_budget, assert_all_verifies

DELIVERIES = 3
SEEDS = range(5)


def _awaiting(session: Session, world: World, key: str) -> tuple[Order, CardPayment]:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    payment = service.start_order_payment(session, order, by=world.citizen)
    session.commit()
    return order, payment


def intent_event(event_id: str, event_type: str, payment: CardPayment, intent_id: str) -> str:
    failed = event_type == "payment_intent.payment_failed"
    intent = {
        "id": intent_id,
        "object": "payment_intent",
        "amount": payment.amount_pence,
        "amount_received": 0 if failed else payment.amount_pence,
        "currency": "gbp",
        "status": "requires_payment_method" if failed else "succeeded",
        "metadata": {"card_payment_id": str(payment.id), "person_id": str(payment.person_id)},
        "last_payment_error": {"code": "card_declined", "message": "Your card was declined."}
        if failed
        else None,
    }
    return json.dumps(
        {"id": event_id, "object": "event", "type": event_type, "data": {"object": intent}}
    )


@pytest.mark.parametrize("seed", SEEDS)
def test_every_event_three_times_in_a_random_order_takes_each_payment_once(
    session: Session,
    world: World,
    client: FlaskClient,
    sign_webhook: Callable[..., str],
    seed: int,
) -> None:
    _shrink_budget(session, world)
    paid_order, paid = _awaiting(session, world, "card-order-paid")
    unpaid_order, unpaid = _awaiting(session, world, "card-order-unpaid")
    events = [
        # The first card was declined, the second paid: Stripe sends both, in either order.
        intent_event("evt_a_failed", "payment_intent.payment_failed", paid, "pi_a"),
        intent_event("evt_a_succeeded", "payment_intent.succeeded", paid, "pi_a"),
        intent_event("evt_b_failed", "payment_intent.payment_failed", unpaid, "pi_b"),
        json.dumps({"id": "evt_other", "type": "customer.created", "data": {"object": {}}}),
    ]
    deliveries = events * DELIVERIES
    random.Random(seed).shuffle(deliveries)

    answers: Counter[str] = Counter()
    for body in deliveries:
        response = client.post(
            "/webhooks/stripe",
            data=body,
            headers={"Stripe-Signature": sign_webhook(body, "whsec_test_marketplace")},
            content_type="application/json",
        )
        assert response.status_code == 200, response.get_json()
        answers["replay" if response.get_json()["replay"] else "kept"] += 1

    session.rollback()
    assert answers == {"kept": len(events), "replay": len(events) * (DELIVERIES - 1)}
    kept = session.scalars(select(StripeEvent)).all()
    assert len(kept) == len(events)
    assert all(event.handled_at is not None for event in kept)  # none lost
    assert Counter(event.outcome for event in kept) == {"handled": 3, "ignored": 1}
    session.refresh(paid)
    session.refresh(unpaid)
    session.refresh(paid_order)
    session.refresh(unpaid_order)
    assert paid.status is CardPaymentStatus.SUCCEEDED
    assert unpaid.status is CardPaymentStatus.FAILED
    assert paid_order.status is not OrderStatus.AWAITING_PAYMENT
    assert unpaid_order.status is OrderStatus.AWAITING_PAYMENT  # payable later
    clearing = select(LedgerAccount.id).where(LedgerAccount.code == CLEARING_ACCOUNT_CODE)
    from_clearing = select(func.count()).where(Transfer.debit_account_id.in_(clearing))
    assert session.scalar(from_clearing) == 1  # the paid payment, credited once
    assert_all_verifies(session)
