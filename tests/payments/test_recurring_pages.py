"""The citizen's pages for recurring care paid by card, over HTTP against localstripe: the
order's page offers to save a card; the card page (the payment page's CSP and scripts, no
inline script) holds one SetupIntent however often it is loaded; the page Stripe.js returns to
saves the card only on Stripe's word; a failed charge shows the period waiting, paid now or
with another card; stopping paying by card ends the order. Everything verifies after."""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments import recurring
from marketplace.payments.gateway import StripeGateway
from marketplace.payments.mandates import CardMandate, MandateStatus
from marketplace.payments_setup import EXTENSION
from marketplace.security import payment_page_scripts
from tests.conftest import sign_in
from tests.payments.conftest import LocalStripe
from tests.payments.test_card_money import assert_all_verifies
from tests.payments.test_payment_pages import (  # noqa: F401 (fixtures)
    START,
    _buy,
    _client_secret,
    _csp,
    _orders,
    _Scripts,
    _stripe,
    _text,
    self_funder,
    service,
    stripe_app,
)


def _recurring_order(stripe_app: Flask, self_funder, service) -> tuple[FlaskClient, Order]:  # noqa: F811
    client = stripe_app.test_client()
    sign_in(client, self_funder)
    assert _buy(client, service, "recurring").status_code == 302
    (order,) = _orders(self_funder)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    return client, order


def _save(client: FlaskClient, localstripe: LocalStripe, order: Order, card: str) -> str:
    """The card page, then what Stripe.js's confirmCardSetup does, then the return page."""
    page = _text(client.get(f"/my/orders/{order.id}/card"))
    secret = _client_secret(page)
    setup_id = secret.split("_secret_")[0]
    _stripe(localstripe, "POST", f"/v1/setup_intents/{setup_id}/confirm", payment_method=card)
    found = re.search(r'data-return-url="([^"]+)"', page)
    assert found
    back = client.get(found.group(1))
    assert back.status_code == 302
    return _text(client.get(f"/my/orders/{order.id}"))


def _charge(gateway: StripeGateway) -> recurring.ChargeReport:
    db.session.rollback()
    return recurring.charge_due_cycles(
        db.session, gateway, today=START - timedelta(days=3), commit=db.session.commit
    )


def test_the_card_page_saves_a_card_on_stripes_word_and_the_order_goes_on(
    stripe_app: Flask,  # noqa: F811
    self_funder,  # noqa: F811
    service,  # noqa: F811
    localstripe: LocalStripe,
) -> None:
    client, order = _recurring_order(stripe_app, self_funder, service)
    assert f"/my/orders/{order.id}/card" in _text(client.get(f"/my/orders/{order.id}"))

    page = client.get(f"/my/orders/{order.id}/card")
    again = client.get(f"/my/orders/{order.id}/card")

    assert page.status_code == 200
    assert _client_secret(_text(page)) == _client_secret(_text(again))  # one SetupIntent
    assert "I agree that" in _text(page)
    assert 'data-mode="setup"' in _text(page)
    scripts = _Scripts()
    scripts.feed(_text(page))
    with stripe_app.test_request_context():
        inventory = payment_page_scripts()
    assert scripts.inline == []
    assert sorted(source or "" for source in scripts.sources) == sorted(inventory)
    assert _csp(page)["script-src"] == ["'self'", localstripe.url]
    # The browser coming back before the card is confirmed saves nothing.
    found = re.search(r'data-return-url="([^"]+)"', _text(page))
    assert found
    client.get(found.group(1))
    db.session.rollback()
    assert db.session.get_one(Order, order.id).status is OrderStatus.AWAITING_PAYMENT

    shown = _save(client, localstripe, order, "pm_card_visa")

    assert "Your card is saved" in shown
    assert "Paying each period by card" in shown
    db.session.rollback()
    assert db.session.get_one(Order, order.id).status is OrderStatus.PLACED
    [mandate] = db.session.scalars(select(CardMandate)).all()
    assert mandate.status is MandateStatus.ACTIVE
    assert mandate.agreed_by_id == self_funder.id
    assert_all_verifies(db.session)


def test_a_failed_charge_waits_on_the_page_until_another_card_pays_it_and_stopping_ends_it(
    stripe_app: Flask,  # noqa: F811
    self_funder,  # noqa: F811
    service,  # noqa: F811
    localstripe: LocalStripe,
) -> None:
    client, order = _recurring_order(stripe_app, self_funder, service)
    _save(client, localstripe, order, "pm_card_chargeCustomerFail")
    gateway = stripe_app.extensions[EXTENSION]
    with stripe_app.app_context():
        report = _charge(gateway)
    assert len(report.failed) == 1

    shown = _text(client.get(f"/my/orders/{order.id}"))
    assert "Waiting for payment" in shown
    [pay_now] = re.findall(r'action="(/my/orders/[^"]+/cycles/[^"]+/pay)"', shown)
    declined = client.post(pay_now, data={})
    assert "Your card was not charged" in _text(client.get(declined.headers["Location"]))

    shown = _save(client, localstripe, order, "pm_card_visa")
    paid = client.post(pay_now, data={})
    shown = _text(client.get(paid.headers["Location"]))

    assert "Paid £" in shown
    assert "Period 1 paid by card" in shown  # the timeline
    assert "Period 1 not paid: the card was not charged" in shown
    assert "Waiting for payment" not in shown
    db.session.rollback()
    assert_all_verifies(db.session)

    stopped = client.post(f"/my/orders/{order.id}/card/stop", data={})
    assert "You stopped paying by card" in _text(client.get(stopped.headers["Location"]))
    db.session.rollback()
    assert db.session.get_one(Order, order.id).status is OrderStatus.CANCELLED
    assert_all_verifies(db.session)
