"""Acting for someone (issue 17): starting and stopping, the banner on every page, the
person's own pages showing the person acted for, a consent's scope refused in words, and a
consent withdrawn or ended taking effect on the very next request."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.people.models import Authority
from marketplace.types import utcnow
from tests.brokers.acting_helpers import (
    CLIENT_NAME,
    People,
    consent,
    make_people,
    revoke,
    start_acting,
    stop_acting,
)
from tests.conftest import sign_in

BANNER = f"You are acting for {CLIENT_NAME}"
NO_LONGER = f"You can no longer act for {CLIENT_NAME}: their consent has ended or was withdrawn"


@pytest.fixture
def people(make_user: Callable[..., User], reference_data: None) -> People:
    return make_people(make_user)


@pytest.fixture
def broker_client(app: Flask, people: People) -> FlaskClient:
    client = app.test_client()
    sign_in(client, people.broker)
    return client


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def test_a_broker_acts_for_a_client_and_sees_their_home(
    broker_client: FlaskClient, people: People
) -> None:
    consent(people.person, broker=people.broker)
    assert start_acting(broker_client, people.person) == "/my/"
    home = page(broker_client, "/my/")
    assert CLIENT_NAME in home
    assert BANNER in home
    assert "Stop acting for them" in home


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/search?q=home+care",
        "/account",
        "/notifications",
        "/broker/",
        "/my/budget",
        "/my/plan",
        "/accessibility",
    ],
)
def test_the_banner_names_the_client_on_every_page(
    broker_client: FlaskClient, people: People, path: str
) -> None:
    consent(people.person, broker=people.broker, scopes=["see", "order"])
    start_acting(broker_client, people.person)
    text = page(broker_client, path)
    assert BANNER in text
    assert (
        "Their consent lets you: see their budget and orders, place and cancel orders for them."
        in text
    )


def test_the_banner_is_on_a_page_not_found_too(broker_client: FlaskClient, people: People) -> None:
    consent(people.person, broker=people.broker)
    start_acting(broker_client, people.person)
    assert BANNER in page(broker_client, "/no-such-page", 404)


def test_no_banner_without_acting(broker_client: FlaskClient, people: People) -> None:
    consent(people.person, broker=people.broker)
    assert "You are acting for" not in page(broker_client, "/search?q=home+care")


def test_stopping_forgets_the_client_and_goes_back_to_the_workspace(
    broker_client: FlaskClient, people: People
) -> None:
    consent(people.person, broker=people.broker)
    start_acting(broker_client, people.person)
    assert stop_acting(broker_client) == "/broker/"
    workspace = page(broker_client, "/broker/")
    assert "You are acting for" not in workspace
    assert f"You have stopped acting for {CLIENT_NAME}" in workspace
    # A broker's own person pages are the client's only while acting.
    page(broker_client, "/my/", 403)


def test_stopping_when_acting_for_no_one_changes_nothing(broker_client: FlaskClient) -> None:
    assert stop_acting(broker_client) == "/broker/"
    assert "You have stopped acting" not in page(broker_client, "/broker/")


def test_withdrawal_takes_effect_on_the_very_next_request(
    broker_client: FlaskClient, people: People
) -> None:
    given = consent(people.person, broker=people.broker)
    start_acting(broker_client, people.person)
    assert BANNER in page(broker_client, "/my/budget")

    revoke(given, by_name=CLIENT_NAME)
    db.session.commit()

    response = broker_client.get("/my/budget")
    assert response.status_code == 302
    assert response.location == "/broker/"
    workspace = page(broker_client, "/broker/")
    assert NO_LONGER in workspace
    assert "You are acting for" not in workspace
    # Forgotten: the person's pages stay closed, without saying it again.
    assert NO_LONGER not in page(broker_client, "/my/", 403)


def test_an_order_half_way_through_checkout_is_refused_once_withdrawn(
    broker_client: FlaskClient, people: People
) -> None:
    given = consent(people.person, broker=people.broker)
    start_acting(broker_client, people.person)
    assert page(broker_client, "/my/basket")
    revoke(given, by_name=CLIENT_NAME)
    db.session.commit()
    response = broker_client.post("/my/checkout", data={})
    assert response.status_code == 302
    assert response.location == "/broker/"


def test_a_consent_that_ended_overnight_stops_on_the_next_request(
    broker_client: FlaskClient, people: People
) -> None:
    given = consent(people.person, broker=people.broker)
    start_acting(broker_client, people.person)
    assert BANNER in page(broker_client, "/my/")
    given.ends_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    # On a page that is not the person's, the banner goes and the message says why.
    text = page(broker_client, "/search?q=home+care")
    assert "You are acting for" not in text
    assert NO_LONGER in text


def test_starting_needs_a_live_consent(app: Flask, people: People) -> None:
    now = utcnow()
    consent(people.person, broker=people.broker, revoked=True)
    consent(
        people.person,
        broker=people.broker,
        ends_at=now - timedelta(days=1),
        starts_at=now - timedelta(days=30),
    )
    consent(people.person, broker=people.broker, starts_at=now + timedelta(days=1))
    consent(people.person, broker=people.other_broker)
    for user in (people.broker, people.family, people.client):
        client = app.test_client()
        sign_in(client, user)
        assert client.post(f"/acting-for/{people.person.id}").status_code == 404
        # Nothing was started: the person's pages are not this user's to see.
        assert "You are acting for" not in client.get("/").get_data(as_text=True)


def test_a_broker_of_another_brokerage_cannot_act(app: Flask, people: People) -> None:
    consent(people.person, broker=people.broker)
    client = app.test_client()
    sign_in(client, people.other_broker)
    assert client.post(f"/acting-for/{people.person.id}").status_code == 404
    assert client.get("/my/budget").status_code == 403


def test_an_unknown_person_is_not_found(broker_client: FlaskClient) -> None:
    assert broker_client.post(f"/acting-for/{uuid.uuid4()}").status_code == 404


def test_starting_and_stopping_need_signing_in(client: FlaskClient, people: People) -> None:
    response = client.post(f"/acting-for/{people.person.id}")
    assert response.location.startswith("/sign-in")
    assert client.post("/acting-for/stop").location.startswith("/sign-in")


def test_signing_out_forgets_the_client(broker_client: FlaskClient, people: People) -> None:
    consent(people.person, broker=people.broker)
    start_acting(broker_client, people.person)
    broker_client.post("/sign-out")
    sign_in(broker_client, people.broker)
    assert "You are acting for" not in page(broker_client, "/broker/")


def test_what_the_consent_does_not_cover_is_refused_in_words(
    broker_client: FlaskClient, people: People
) -> None:
    consent(people.person, broker=people.broker, scopes=["see"])
    start_acting(broker_client, people.person)
    assert CLIENT_NAME in page(broker_client, "/my/plan")
    refusal = page(broker_client, "/my/plan/draft", 403)
    assert f"Your consent from {CLIENT_NAME} does not cover this" in refusal
    assert "you need their consent to: draft their support plan" in refusal
    assert "See their budget and orders" in refusal
    assert BANNER in refusal
    # Only the person or their attorney changes their details: no consent covers it.
    details = page(broker_client, "/my/details/change", 403)
    assert f"Only {CLIENT_NAME}, or someone with their lasting power of attorney" in details


def test_a_consent_without_see_refuses_the_home_page_in_words(
    broker_client: FlaskClient, people: People
) -> None:
    consent(people.person, broker=people.broker, scopes=["shortlist"])
    start_acting(broker_client, people.person)
    refusal = page(broker_client, "/my/", 403)
    assert "you need their consent to: see their budget and orders" in refusal
    assert "Go to" not in refusal


def test_a_family_member_with_a_power_of_attorney_acts_for_their_mother(
    app: Flask, people: People
) -> None:
    consent(
        people.person,
        grantee=people.family,
        authority=Authority.LPA_HEALTH_WELFARE,
        scopes=["see", "order"],
    )
    client = app.test_client()
    sign_in(client, people.family)
    start_acting(client, people.person)
    home = page(client, "/my/")
    assert BANNER in home
    # An attorney changes the person's details, as the person would.
    assert page(client, "/my/details/change")
    assert stop_acting(client) == "/my/"
    own = page(client, "/my/")
    assert "You are acting for" not in own
    assert f"You have stopped acting for {CLIENT_NAME}" in own


def test_the_client_sees_their_own_pages_without_a_banner(app: Flask, people: People) -> None:
    consent(people.person, broker=people.broker)
    client = app.test_client()
    sign_in(client, people.client)
    assert "You are acting for" not in page(client, "/my/")


def test_a_family_member_finds_the_people_they_can_act_for(app: Flask, people: People) -> None:
    consent(
        people.person,
        grantee=people.family,
        authority=Authority.LPA_PROPERTY_FINANCE,
        ends_at=datetime(2030, 3, 5, 0, 0, tzinfo=UTC),
    )
    client = app.test_client()
    sign_in(client, people.family)
    for path in ("/my/", "/account"):
        text = page(client, path)
        assert "People you can act for" in text
        assert CLIENT_NAME in text
        assert (
            "Lasting power of attorney (property and financial affairs), until 4 March 2030" in text
        )
        assert f'action="/acting-for/{people.person.id}"' in text
        assert f"Act for {CLIENT_NAME}" in text

    start_acting(client, people.person)
    # Their mother's home is hers, not the list; the account page says whom they act for.
    assert "People you can act for" not in page(client, "/my/")
    account = page(client, "/account")
    assert "You are acting for them now" in account
    assert f"Act for {CLIENT_NAME}" not in account


def test_no_one_to_act_for_without_a_live_consent(app: Flask, people: People) -> None:
    consent(people.person, grantee=people.family, revoked=True)
    consent(people.person, broker=people.broker)
    for user in (people.family, people.client, people.broker):
        client = app.test_client()
        sign_in(client, user)
        assert "People you can act for" not in page(client, "/account")
    client = app.test_client()
    sign_in(client, people.family)
    assert "People you can act for" not in page(client, "/my/")


@pytest.mark.parametrize(
    ("scopes", "landing"),
    [
        (["see", "pay"], "/my/"),
        (["shortlist", "order"], "/my/shortlist"),
        (["plan"], "/my/plan/draft"),
        (["order"], "/my/basket"),
        (["pay"], "/search"),
    ],
)
def test_acting_starts_on_a_page_the_consent_opens(
    broker_client: FlaskClient, people: People, scopes: list[str], landing: str
) -> None:
    consent(people.person, broker=people.broker, scopes=scopes)
    assert start_acting(broker_client, people.person) == landing
    assert BANNER in page(broker_client, landing)


def test_a_consent_to_talk_to_providers_only_starts_on_their_questions(
    app: Flask, broker_client: FlaskClient, people: People
) -> None:
    consent(people.person, broker=people.broker, scopes=["message"])
    # The questions pages (QUESTIONS' part of #17) may not be in this build yet: then search.
    expected = "/my/questions" if "citizens.questions_list" in app.view_functions else "/search"
    assert start_acting(broker_client, people.person) == expected


@pytest.fixture
def service_page(make_organisation: Callable[..., Any], make_listing: Callable[..., Any]) -> str:
    listing = make_listing(make_organisation("Chiltern Home Care"))
    return f"/services/{listing.id}"


def test_the_service_page_offers_to_buy_for_the_person_acted_for(
    broker_client: FlaskClient, people: People, service_page: str
) -> None:
    consent(people.person, broker=people.broker, scopes=["see", "order"])
    assert "Buy for" not in page(broker_client, service_page)
    start_acting(broker_client, people.person)
    text = page(broker_client, service_page)
    assert f"Buy for {CLIENT_NAME}" in text
    assert f'href="{service_page.replace("/services/", "/my/services/")}/order"' in text
    assert "Buy with my budget" not in text


def test_no_buy_button_when_the_consent_does_not_cover_ordering(
    broker_client: FlaskClient, people: People, service_page: str
) -> None:
    consent(people.person, broker=people.broker, scopes=["see", "shortlist"])
    start_acting(broker_client, people.person)
    text = page(broker_client, service_page)
    assert BANNER in text
    assert "Buy for" not in text
    assert "Buy with my budget" not in text
