"""The citizens' pages name the person to whoever acts for them (issue 17): a broker reads
"Dorothy Pearce's basket" where Dorothy reads "Your basket", and the money sentences say
whose money it is. The person still reads "you"."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.people.models import Authority
from tests.brokers.acting_helpers import CLIENT_NAME, People, consent, make_people, start_acting
from tests.brokers.shortlist_fixtures import give_consent
from tests.brokers.test_on_behalf_pages import acting, approve
from tests.citizens.test_orders_pages import Shop, add_to_basket, check_out, orders_of
from tests.citizens.test_orders_pages import shop as shop  # the fixture
from tests.conftest import sign_in


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    return make_user(Role.BROKER)


def text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return html.unescape(response.get_data(as_text=True))


def heading(page: str) -> str:
    found = re.search(r'<h1 class="govuk-heading-l">([^<]*)</h1>', page)
    assert found is not None
    return found.group(1).strip()


def test_a_broker_reads_the_persons_name_where_the_person_reads_you(
    app: Flask, shop: Shop, broker: User, client: FlaskClient
) -> None:
    give_consent(shop.citizen.person, broker=broker)
    approve(shop, broker)
    name = shop.citizen.person.full_name
    whose = f"{name}\u2019s"
    browser = acting(app, broker, shop)
    sign_in(client, shop.citizen)

    # page: (the broker reads, the person reads)
    pages = {
        "/my/": [
            (f"{whose} care and support", "Your care and support"),
            (f"{whose} orders in progress", "Your orders in progress"),
            ("All their orders", "All your orders"),
        ],
        "/my/budget": [
            (f"{whose} personal budget", "Your personal budget"),
            (f"Where {whose} budget stands", "Where your budget stands"),
        ],
        "/my/plan": [(f"{whose} support plan", "Your support plan")],
        "/my/orders": [(f"{whose} orders", "Your orders")],
        "/my/basket": [(f"{whose} basket", "Your basket")],
        "/my/questions": [(f"{whose} questions to providers", "Your questions to providers")],
    }
    for path, pairs in pages.items():
        theirs, own = text(browser, path), text(client, path)
        for broker_reads, person_reads in pairs:
            assert broker_reads in theirs, (path, broker_reads)
            assert person_reads not in theirs, (path, person_reads)
            assert person_reads in own, (path, person_reads)
            assert broker_reads not in own, (path, broker_reads)

    # With something in the basket: the checkout says whose budget holds the money.
    assert add_to_basket(browser, shop).status_code == 302
    checkout = text(browser, "/my/checkout")
    assert f"Back to {whose} basket" in checkout
    assert f"its cost is held in {whose} personal budget" in checkout
    assert "your personal budget" not in checkout
    own_checkout = text(client, "/my/checkout")
    assert "Back to your basket" in own_checkout
    assert "its cost is held in your personal budget" in own_checkout

    # The order page: what was held, and from whose budget.
    assert check_out(browser, shop).status_code == 302
    (order,) = orders_of(shop)
    order_page = text(browser, f"/my/orders/{order.id}")
    assert f"held from {whose} budget when it was ordered" in order_page
    assert "held from your budget when you ordered" in text(client, f"/my/orders/{order.id}")


def test_an_attorney_reads_the_persons_name_on_the_pages_only_they_and_the_person_see(
    app: Flask, make_user: Callable[..., User], reference_data: None
) -> None:
    people: People = make_people(make_user)
    consent(people.person, grantee=people.family, authority=Authority.LPA_HEALTH_WELFARE)
    family = app.test_client()
    sign_in(family, people.family)
    start_acting(family, people.person)
    own = app.test_client()
    sign_in(own, people.client)

    pages = {
        "/my/consents": (f"Who can act for {CLIENT_NAME}", "Who can act for you"),
        "/my/notes": (f"Notes about {CLIENT_NAME}", "Notes about you"),
        "/my/record-log": (
            f"Who has looked at {CLIENT_NAME}\u2019s record",
            "Who has looked at your record",
        ),
        "/my/": (f"{CLIENT_NAME}\u2019s care and support", "Your care and support"),
    }
    for path, (attorney_reads, person_reads) in pages.items():
        # The headings: the person's log lists the attorney's visits by their pages' names.
        assert heading(text(family, path)) == attorney_reads, path
        assert heading(text(own, path)) == person_reads, path
