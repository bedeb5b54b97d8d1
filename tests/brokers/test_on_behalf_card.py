"""A broker pays by card for a self-funder, against localstripe (issue 17's journey): acting
for the client under a consent covering orders and payment, the broker orders what the client
approved, the payment page makes the card payment naming the broker and the consent, the
return page credits it on Stripe's word, and the order goes to the provider; the ledger and
the card payments verify."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
import requests
from flask import Flask
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.ledger import verify_ledger
from marketplace.orders import queries
from marketplace.orders.models import OrderStatus
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.verify import check_card_payments
from marketplace.people import shortlists
from providers.models import Organisation, Service
from tests.brokers.shortlist_fixtures import give_consent
from tests.citizens.test_orders_pages import schedule_form
from tests.conftest import sign_in
from tests.ledger.threads import engine_options
from tests.payments.conftest import PUBLISHABLE_KEY, SECRET_KEY, LocalStripe
from tests.payments.conftest import localstripe as localstripe  # the fixture


@pytest.fixture
def stripe_app(make_app: Callable[..., Flask], localstripe: LocalStripe) -> Flask:
    localstripe.empty()
    return make_app(
        STRIPE_API_BASE=localstripe.url,
        STRIPE_SECRET_KEY=SECRET_KEY,
        STRIPE_PUBLISHABLE_KEY=PUBLISHABLE_KEY,
        STRIPE_JS_URL="",
        SQLALCHEMY_ENGINE_OPTIONS=engine_options(3),
    )


def _stripe(localstripe: LocalStripe, path: str, **data: str) -> None:
    """What the card element and the bank do at Stripe when the card holder pays."""
    answer = requests.post(f"{localstripe.url}{path}", data=data, auth=(SECRET_KEY, ""), timeout=10)
    answer.raise_for_status()


def test_a_broker_pays_by_card_for_a_self_funder_and_the_payment_names_them(
    stripe_app: Flask,
    localstripe: LocalStripe,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    self_funder = make_user(Role.CITIZEN)  # a person record and no budget
    person = self_funder.person
    assert person is not None
    broker = make_user(Role.BROKER)
    consent = give_consent(person, broker=broker)
    service = make_listing(make_organisation("Chiltern Home Care"), price_pence=26_00)
    shortlists.add(db.session, person, service.id, by=broker)
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    shortlists.approve(
        db.session, shortlist, [service.id], seen_version=shortlist.version, by=self_funder
    )
    db.session.commit()
    browser = stripe_app.test_client()
    sign_in(browser, broker)
    assert browser.post(f"/acting-for/{person.id}").status_code == 302

    added = browser.post(f"/my/services/{service.id}/order", data=schedule_form(kind="one_off"))
    assert added.status_code == 302
    items = re.findall(r'name="item" value="([0-9a-f-]+)"', browser.get("/my/checkout").text)
    placed = browser.post("/my/checkout", data={"item": items})
    db.session.rollback()
    (order,) = queries.orders_of_person(db.session, person.id)
    assert placed.location == f"/my/orders/{order.id}/pay"
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.consent_id == consent.id

    assert browser.get(f"/my/orders/{order.id}/pay").status_code == 200
    db.session.rollback()
    payment = db.session.scalars(select(CardPayment).filter_by(order_id=order.id)).one()
    assert payment.started_by_id == broker.id
    assert payment.consent_id == consent.id
    intent = payment.stripe_payment_intent_id
    _stripe(localstripe, f"/v1/payment_intents/{intent}", payment_method="pm_card_visa")
    _stripe(localstripe, f"/v1/payment_intents/{intent}/confirm")
    assert browser.get(f"/my/orders/{order.id}/payments/{payment.id}").status_code == 200

    db.session.rollback()
    assert db.session.get_one(CardPayment, payment.id).status is CardPaymentStatus.SUCCEEDED
    assert queries.order_by_id(db.session, order.id).status is OrderStatus.PLACED  # type: ignore[union-attr]
    assert verify_ledger(db.session).ok
    assert check_card_payments(db.session)[0] == []
