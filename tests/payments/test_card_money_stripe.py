"""Expiry tells Stripe too: the expired payment's PaymentIntent is cancelled at localstripe, so
nothing more can be charged on it (real HTTP through the SDK)."""

from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import Session

from marketplace.orders import checkout
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import service
from marketplace.payments.gateway import StripeGateway
from marketplace.payments_setup import EXTENSION
from tests.orders.fixtures import TODAY, World
from tests.payments.conftest import LocalStripe
from tests.payments.test_card_money import _shrink_budget


def test_expiry_cancels_the_payment_intent_at_stripe(
    app: Flask, session: Session, world: World, localstripe: LocalStripe, gateway: StripeGateway
) -> None:
    _shrink_budget(session, world)
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="expire-at-stripe",
        pay_by_card=True,
        card_top_ups_allowed=True,
    )
    payment = service.start_order_payment(session, order, by=world.citizen)
    intent = gateway.create_payment_intent(
        amount_pence=payment.amount_pence,
        idempotency_key=payment.idempotency_key,
        metadata=payment.metadata_for_stripe,
    )
    service.record_intent(session, payment, intent_id=intent.id, status=intent.status)
    session.commit()
    app.extensions[EXTENSION] = gateway

    result = app.test_cli_runner().invoke(
        args=["payments", "expire", "--now", "2099-01-01T00:00:00"]
    )

    assert result.exit_code == 0, result.output
    assert "not cancelled" not in result.output
    session.expire_all()
    assert session.get_one(Order, order.id).status is OrderStatus.CANCELLED
    assert gateway.retrieve_payment_intent(intent.id).status == "canceled"
