"""End to end: a card payment at localstripe, and localstripe's own signed webhook delivered
over HTTP to a live server of the app, which keeps the event and credits the payment."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.orders.models import OrderStatus
from marketplace.payments.events import StripeEvent
from marketplace.payments.gateway import StripeGateway
from marketplace.payments.models import CardPaymentStatus
from tests.live_server import serving
from tests.orders.fixtures import World
from tests.payments.conftest import WEBHOOK_SECRET, LocalStripe
from tests.payments.test_card_money import _awaiting, _shrink_budget

DELIVERY_SECONDS = 30  # localstripe sends about a second after the payment


@pytest.fixture
def live_app(make_app: Callable[..., Flask], localstripe: LocalStripe) -> Iterator[str]:
    """The app served on a free loopback port, talking to localstripe; its address."""
    app = make_app(STRIPE_API_BASE=localstripe.url, SERVER_NAME=None)
    with serving(app) as url:
        yield url


def event_of(session: Session, event_type: str) -> StripeEvent | None:
    session.rollback()  # see what the live server committed
    return session.scalar(select(StripeEvent).where(StripeEvent.type == event_type))


def test_localstripes_webhook_reaches_the_app_and_credits_the_payment(
    session: Session,
    world: World,
    localstripe: LocalStripe,
    gateway: StripeGateway,
    live_app: str,
) -> None:
    _shrink_budget(session, world)
    order, payment = _awaiting(session, world)
    localstripe.register_webhook("marketplace", f"{live_app}/webhooks/stripe", WEBHOOK_SECRET)

    intent = gateway.create_payment_intent(
        amount_pence=payment.amount_pence,
        idempotency_key=payment.idempotency_key,
        metadata={
            "card_payment_id": str(payment.id),
            "order_reference": order.reference,
            "person_id": str(order.person_id),
        },
        payment_method="pm_card_visa",
        confirm=True,
    )
    assert intent.status == "succeeded"

    deadline = time.monotonic() + DELIVERY_SECONDS
    while (event := event_of(session, "payment_intent.succeeded")) is None:
        assert time.monotonic() < deadline, "localstripe's webhook never arrived"
        time.sleep(0.1)
    assert (event.outcome, event.result) == ("handled", "credited")
    session.refresh(payment)
    session.refresh(order)
    assert payment.status is CardPaymentStatus.SUCCEEDED
    assert payment.stripe_payment_intent_id == intent.id
    assert order.status is not OrderStatus.AWAITING_PAYMENT
