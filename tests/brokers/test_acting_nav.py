"""The navigation while acting for someone (issue 17): the person's items say "Their ...", and
the reader's own brokerage's portal is hidden until they stop acting."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from tests.brokers.acting_helpers import People, consent, make_people, start_acting, stop_acting
from tests.conftest import sign_in

THEIRS = [
    "Their care and support",
    "Their basket",
    "Their shortlist",
    "Their orders",
    "Their questions",
]
PLAIN = ["Your care and support", "Basket", "Shortlist", "My orders", "Questions"]


@pytest.fixture
def people(make_user: Callable[..., User], reference_data: None) -> People:
    return make_people(make_user)


def nav_items(client: FlaskClient, path: str) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    html = response.get_data(as_text=True)
    nav = html[html.index('class="govuk-service-navigation__list"') :]
    nav = nav[: nav.index("</ul>")]
    link = r'class="govuk-service-navigation__link"[^>]*>\s*(?:<strong[^>]*>)?([^<]+)'
    links = re.findall(link, nav)
    return [" ".join(text.split()) for text in links]


def test_a_broker_acting_reads_their_items_and_not_their_brokerage(
    app: Flask, people: People
) -> None:
    client = app.test_client()
    sign_in(client, people.broker)
    before = nav_items(client, "/broker/")
    assert "Your brokerage" in before
    assert "Questions" in before
    assert "Orders" in before
    assert "Your clients" in before

    consent(people.person, broker=people.broker)
    start_acting(client, people.person)
    acting = nav_items(client, "/my/")
    for text in THEIRS:
        assert text in acting, (text, acting)
    for text in ["Your brokerage", "Orders", "Questions", "Invoices", "My orders", "Basket"]:
        assert text not in acting, (text, acting)
    assert "Your clients" in acting

    stop_acting(client)
    after = nav_items(client, "/broker/")
    assert after == before
    assert not set(THEIRS) & set(after)


def test_a_family_member_acting_reads_their_items_and_their_own_when_they_stop(
    app: Flask, people: People
) -> None:
    client = app.test_client()
    sign_in(client, people.family)
    assert [t for t in nav_items(client, "/my/") if t in PLAIN] == PLAIN

    consent(people.person, grantee=people.family)
    start_acting(client, people.person)
    acting = nav_items(client, "/my/")
    assert [t for t in acting if t in THEIRS] == THEIRS
    assert not set(PLAIN) & set(acting)

    stop_acting(client)
    assert [t for t in nav_items(client, "/my/") if t in PLAIN] == PLAIN


def test_the_person_reads_the_plain_items(app: Flask, people: People) -> None:
    client = app.test_client()
    sign_in(client, people.client)
    items = nav_items(client, "/my/")
    assert [t for t in items if t in PLAIN] == PLAIN
    assert not set(THEIRS) & set(items)
