"""Buying for someone else through the pages (issue 17): a broker acting for a client orders
what the client approved, and the client's timeline and inbox say who placed it; what the
client has not approved is refused on the order form, the basket and at checkout; a consent
withdrawn after the checkout page was shown, or ended overnight, places nothing; a consent
without payment places the order (its budget part held) and refuses the card step in words.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders.models import OrderStatus
from marketplace.people import consents, shortlists
from marketplace.people.models import ConsentScope
from marketplace.types import utcnow
from tests.brokers.shortlist_fixtures import ALL_SCOPES, give_consent
from tests.citizens.test_orders_pages import (
    Shop,
    _delivered,
    add_to_basket,
    basket_items,
    check_out,
    orders_of,
)
from tests.citizens.test_orders_pages import shop as shop  # the fixture
from tests.conftest import sign_in

NOT_APPROVED = "has not approved Home care visits on their shortlist"


def _text(response: TestResponse) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    broker = make_user(Role.BROKER)
    broker.full_name = "Sam Patel"
    broker.organisation.name = "Herts Independent Brokerage"  # type: ignore[attr-defined]
    db.session.commit()
    return broker


def approve(shop: Shop, broker: User) -> None:
    person = shop.citizen.person
    shortlists.add(db.session, person, shop.service.id, by=broker, note="Visits near you")
    shortlist = shortlists.shortlist_of(db.session, person)
    assert shortlist is not None
    shortlists.approve(
        db.session, shortlist, [shop.service.id], seen_version=shortlist.version, by=shop.citizen
    )
    db.session.commit()


def acting(app: Flask, broker: User, shop: Shop) -> FlaskClient:
    """A browser signed in as the broker, acting for the shop's citizen."""
    client = app.test_client()
    sign_in(client, broker)
    assert client.post(f"/acting-for/{shop.citizen.person.id}").status_code == 302
    return client


def test_a_broker_orders_what_the_client_approved_and_the_client_sees_who_did(
    app: Flask,
    shop: Shop,
    broker: User,
    client: FlaskClient,
    make_user: Callable[..., User],
) -> None:
    consent = give_consent(shop.citizen.person, broker=broker)
    approve(shop, broker)
    browser = acting(app, broker, shop)

    assert add_to_basket(browser, shop).status_code == 302
    assert "You are acting for" in _text(browser.get("/my/checkout"))
    response = check_out(browser, shop)

    assert response.status_code == 302
    assert response.location == "/my/orders"
    (order,) = orders_of(shop)
    assert order.placed_by_id == broker.id
    assert order.consent_id == consent.id
    flashed = _text(browser.get("/my/orders"))
    assert f"The order for {shop.citizen.person.full_name} is placed: {order.reference}" in flashed
    # The broker reads the timeline as the one who placed it.
    mine = _text(browser.get(f"/my/orders/{order.id}"))
    assert f"Placed by you on behalf of {shop.citizen.person.full_name}" in mine
    # The client reads who placed it, and is told with a link to it.
    sign_in(client, shop.citizen)
    page = _text(client.get(f"/my/orders/{order.id}"))
    assert "Placed by Sam Patel (Herts Independent Brokerage) on your behalf" in page
    told = db.session.query(Notification).filter_by(
        user_id=shop.citizen.id, kind=NotificationKind.ORDER_PLACED_FOR_YOU
    )
    assert [n.title for n in told] == [
        f"Sam Patel (Herts Independent Brokerage) placed order {order.reference} for you"
    ]
    inbox = _text(client.get("/notifications"))
    assert f'href="/my/orders/{order.id}"' in inbox
    # The council reads names; the provider reads the brokerage only, as it reads steps by role.
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    council = _text(client.get(f"/council/orders/{order.id}"))
    assert (
        "Placed by Sam Patel (Herts Independent Brokerage) on behalf of "
        f"{shop.citizen.person.full_name}" in council
    )
    sign_in(client, shop.staff)
    provider = _text(client.get(f"/provider/orders/{order.id}"))
    assert "Placed on the person's behalf by Herts Independent Brokerage" in provider
    assert "Sam Patel" not in provider


def test_what_the_client_has_not_approved_is_refused_at_every_step(
    app: Flask, shop: Shop, broker: User, citizen_client: FlaskClient
) -> None:
    give_consent(shop.citizen.person, broker=broker)
    browser = acting(app, broker, shop)

    form = _text(browser.get(f"/my/services/{shop.service.id}/order"))
    assert NOT_APPROVED in form
    refused = add_to_basket(browser, shop)
    assert refused.status_code == 400
    assert NOT_APPROVED in _text(refused)
    assert basket_items(shop) == []
    # The client puts it in their basket themselves; the broker still cannot order it.
    assert add_to_basket(citizen_client, shop).status_code == 302
    assert NOT_APPROVED in _text(browser.get("/my/basket"))
    assert NOT_APPROVED in _text(browser.get("/my/checkout"))
    response = check_out(browser, shop)
    assert response.status_code == 400
    assert NOT_APPROVED in _text(response)
    assert orders_of(shop) == []
    assert len(basket_items(shop)) == 1


def test_a_consent_withdrawn_after_the_checkout_page_places_nothing(
    app: Flask, shop: Shop, broker: User
) -> None:
    consent = give_consent(shop.citizen.person, broker=broker)
    approve(shop, broker)
    browser = acting(app, broker, shop)
    assert add_to_basket(browser, shop).status_code == 302
    assert browser.get("/my/checkout").status_code == 200
    consents.revoke(db.session, consent, by=shop.citizen)
    db.session.commit()

    response = check_out(browser, shop)

    assert response.status_code == 302
    assert response.location == "/broker/"
    assert orders_of(shop) == []
    assert len(basket_items(shop)) == 1
    assert "You can no longer act for" in _text(browser.get("/broker/"))


def test_a_consent_that_ended_overnight_places_nothing_the_next_morning(
    app: Flask, shop: Shop, broker: User
) -> None:
    consent = give_consent(shop.citizen.person, broker=broker)
    consent.ends_at = utcnow() + timedelta(hours=6)
    db.session.commit()
    approve(shop, broker)
    browser = acting(app, broker, shop)
    assert add_to_basket(browser, shop).status_code == 302

    with time_machine.travel(utcnow() + timedelta(hours=12)):
        response = check_out(browser, shop)

    assert response.status_code == 302
    assert orders_of(shop) == []
    assert len(basket_items(shop)) == 1


def test_without_payment_the_order_is_placed_and_the_card_step_refused_in_words(
    app: Flask, shop: Shop, broker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "CARD_TOP_UPS_ALLOWED", True)
    person = shop.citizen.person
    give_consent(person, broker=broker, scopes=[s for s in ALL_SCOPES if s != ConsentScope.PAY])
    approve(shop, broker)
    browser = acting(app, broker, shop)
    # 96 hours at £26: £2,496, more than the budget has released.
    assert add_to_basket(browser, shop, units="12").status_code == 302
    page = _text(browser.get("/my/checkout"))
    assert "Their consent does not let you pay by card for them. If you place the order" in page
    response = check_out(browser, shop, pay_by_card="y")

    (order,) = orders_of(shop)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert 0 < order.card_pence < order.total_pence  # the budget's part is held
    card = pounds(order.card_pence)
    assert response.location == f"/my/orders/{order.id}"
    flashed = _text(browser.get(response.location))
    assert f"{person.full_name} needs to pay {card} by card before it goes to the provider" in (
        flashed
    )
    refused = browser.get(f"/my/orders/{order.id}/pay")
    assert refused.status_code == 403
    words = _text(refused)
    assert f"You cannot pay by card for {person.full_name}" in words
    assert re.search(r"consent does not let you pay by card for them", words)
    assert f"can pay the {card} by card themselves" in words
    top_up = browser.get("/my/top-up")
    assert top_up.status_code == 403
    assert "consent does not let you pay by card for them" in _text(top_up)


def test_a_broker_who_may_only_see_the_order_is_told_they_cannot_cancel_it(
    app: Flask, shop: Shop, broker: User, citizen_client: FlaskClient
) -> None:
    person = shop.citizen.person
    assert add_to_basket(citizen_client, shop).status_code == 302
    assert check_out(citizen_client, shop).status_code == 302
    (order,) = orders_of(shop)
    give_consent(person, broker=broker, scopes=[ConsentScope.SEE.value])
    browser = acting(app, broker, shop)

    assert browser.get(f"/my/orders/{order.id}").status_code == 200
    refused = browser.get(f"/my/orders/{order.id}/cancel")

    assert refused.status_code == 403
    assert f"Your consent from {person.full_name} does not cover this" in _text(refused)
    assert "place and cancel orders for them" in _text(refused)
    assert orders_of(shop)[0].status is OrderStatus.PLACED


def test_a_broker_who_may_only_see_cannot_stop_a_card_plan_and_is_told_why(
    app: Flask, shop: Shop, broker: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(app.config, "CARD_TOP_UPS_ALLOWED", True)
    person = shop.citizen.person
    own = app.test_client()
    sign_in(own, shop.citizen)
    # Recurring care partly paid by card: the kind paid period by period with a saved card.
    assert add_to_basket(own, shop, units="12").status_code == 302
    assert check_out(own, shop, pay_by_card="y").status_code == 302
    (order,) = orders_of(shop)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    give_consent(person, broker=broker, scopes=[ConsentScope.SEE.value])
    browser = acting(app, broker, shop)

    refused = browser.post(f"/my/orders/{order.id}/card/stop")

    assert refused.status_code == 403  # it was a 500: the rule's refusal was not caught
    assert f"Your consent from {person.full_name} does not cover this" in _text(refused)
    assert orders_of(shop)[0].status is OrderStatus.AWAITING_PAYMENT


def test_a_broker_who_may_only_see_is_told_they_cannot_confirm_or_query_a_visit(
    app: Flask, shop: Shop, broker: User, citizen_client: FlaskClient
) -> None:
    person = shop.citizen.person
    assert add_to_basket(citizen_client, shop).status_code == 302
    assert check_out(citizen_client, shop).status_code == 302
    (order,) = orders_of(shop)
    delivery_id = _delivered(shop, order)
    give_consent(person, broker=broker, scopes=[ConsentScope.SEE.value])
    browser = acting(app, broker, shop)

    for response in (
        browser.post(f"/my/orders/{order.id}/deliveries/{delivery_id}/confirm"),
        browser.get(f"/my/orders/{order.id}/deliveries/{delivery_id}/query"),
    ):
        assert response.status_code == 403  # it was a 400 naming no reason, and a form
        assert f"Your consent from {person.full_name} does not cover this" in _text(response)


def test_acting_for_one_client_never_opens_another_clients_order(
    app: Flask,
    shop: Shop,
    broker: User,
    citizen_client: FlaskClient,
    make_user: Callable[..., User],
) -> None:
    """The brokerage may see both clients' orders, but the pages are about the one it acts
    for: the other's order is not found under this client's banner (it once was)."""
    person = shop.citizen.person
    assert add_to_basket(citizen_client, shop).status_code == 302
    assert check_out(citizen_client, shop).status_code == 302
    (order,) = orders_of(shop)
    other = make_user(Role.CITIZEN)
    give_consent(person, broker=broker, scopes=[ConsentScope.SEE.value])
    give_consent(other.person, broker=broker, scopes=[ConsentScope.SEE.value])
    browser = app.test_client()
    sign_in(browser, broker)
    assert browser.post(f"/acting-for/{other.person.id}").status_code == 302

    for path in (f"/my/orders/{order.id}", f"/my/orders/{order.id}/cancel"):
        assert browser.get(path).status_code == 404, path

    assert browser.post(f"/acting-for/{person.id}").status_code == 302
    assert browser.get(f"/my/orders/{order.id}").status_code == 200
