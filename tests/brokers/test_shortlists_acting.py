"""Shortlists built while acting for someone: a broker adds services to the client's list with
a note and sends it, the client approves, an attorney approves for the person; a consent
that does not cover shortlists (or was withdrawn) changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from html import unescape

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people import shortlists
from marketplace.people.models import Authority, ConsentScope
from providers.models import Organisation, Service
from tests.brokers.acting_helpers import (
    CLIENT_NAME,
    People,
    consent,
    make_people,
    revoke,
    start_acting,
)
from tests.brokers.shortlist_fixtures import services
from tests.brokers.test_shortlists_pages import _version_on
from tests.conftest import sign_in


@pytest.fixture
def people(make_user: Callable[..., User], reference_data: None) -> People:
    return make_people(make_user)


@pytest.fixture
def three(
    make_organisation: Callable[..., Organisation], make_listing: Callable[..., Service]
) -> list[Service]:
    return services(make_organisation, make_listing)


def _signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


def test_a_broker_builds_and_sends_a_shortlist_and_the_client_approves(
    app: Flask, people: People, three: list[Service]
) -> None:
    consent(people.person, broker=people.broker)
    broker = _signed_in(app, people.broker)
    start_acting(broker, people.person)

    page = unescape(broker.get(f"/services/{three[0].id}").get_data(as_text=True))
    assert f"and send them to {CLIENT_NAME} to choose from" in page
    response = broker.post("/shortlist/add", data={"service_id": str(three[0].id)})
    assert response.status_code == 302
    page = unescape(broker.get(response.location).get_data(as_text=True))
    assert f"{three[0].name} is on {CLIENT_NAME}'s shortlist" in page
    assert broker.get("/shortlist").location == "/my/shortlist"

    shortlist = shortlists.shortlist_of(db.session, people.person)
    assert shortlist is not None
    [item] = shortlist.items
    assert item.added_by_id == people.broker.id
    response = broker.post(f"/my/shortlist/{item.id}/note", data={"note": "Morning visits"})
    assert response.status_code == 302

    page = unescape(broker.get("/my/shortlist").get_data(as_text=True))
    assert f"{CLIENT_NAME}'s shortlist" in page
    assert "Morning visits" in page
    assert "Choose what you want" not in page  # a broker never approves
    assert f"Send the shortlist to {CLIENT_NAME}" in page
    assert broker.post("/my/shortlist/approve", data={}).status_code == 403
    assert broker.post("/my/shortlist/share").status_code == 302
    db.session.expire_all()  # the requests' changes, not what this session read before
    assert shortlists.awaiting_approval(db.session, people.person) is not None
    told = db.session.scalars(
        db.select(Notification).filter_by(
            user_id=people.client.id, kind=NotificationKind.SHORTLIST_SHARED
        )
    ).all()
    assert len(told) == 1

    client = _signed_in(app, people.client)
    page = unescape(client.get("/my/shortlist").get_data(as_text=True))
    assert "Test Broker sent you this shortlist" in page
    assert "Note from Test Broker" in page
    response = client.post(
        "/my/shortlist/approve",
        data={"version": _version_on(page), "services": [str(three[0].id)]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    approval = shortlists.approved_choice(db.session, people.person, three[0].id)
    assert approval is not None
    assert approval.approved_by_id == people.client.id
    assert shortlists.awaiting_approval(db.session, people.person) is None
    assert "Yes, by Test Citizen" in unescape(broker.get("/my/shortlist").get_data(as_text=True))


def test_a_consent_without_shortlists_opens_no_shortlist(
    app: Flask, people: People, three: list[Service]
) -> None:
    consent(people.person, broker=people.broker, scopes=[ConsentScope.SEE.value])
    broker = _signed_in(app, people.broker)
    start_acting(broker, people.person)
    page = unescape(broker.get(f"/services/{three[0].id}").get_data(as_text=True))
    assert "Add to shortlist" not in page
    assert broker.post("/shortlist/add", data={"service_id": str(three[0].id)}).status_code == 403
    response = broker.get("/my/shortlist")
    assert response.status_code == 403
    assert "you need their consent to: shortlist services for them" in unescape(
        response.get_data(as_text=True)
    )
    assert shortlists.shortlist_of(db.session, people.person) is None


def test_a_consent_withdrawn_after_the_page_opened_adds_nothing(
    app: Flask, people: People, three: list[Service]
) -> None:
    given = consent(people.person, broker=people.broker)
    broker = _signed_in(app, people.broker)
    start_acting(broker, people.person)
    assert "Add to shortlist" in unescape(
        broker.get(f"/services/{three[0].id}").get_data(as_text=True)
    )
    revoke(given, by_name=CLIENT_NAME)
    db.session.commit()
    response = broker.post("/shortlist/add", data={"service_id": str(three[0].id)})
    assert response.status_code == 403
    assert shortlists.shortlist_of(db.session, people.person) is None


def test_an_attorney_approves_for_the_person_under_their_power_of_attorney(
    app: Flask, people: People, three: list[Service]
) -> None:
    consent(people.person, broker=people.broker)
    lpa = consent(people.person, grantee=people.family, authority=Authority.LPA_HEALTH_WELFARE)
    shortlists.add(db.session, people.person, three[0].id, by=people.broker, note="Near Karen")
    db.session.commit()

    family = _signed_in(app, people.family)
    start_acting(family, people.person)
    page = unescape(family.get("/my/shortlist").get_data(as_text=True))
    assert f"{CLIENT_NAME}'s shortlist" in page
    assert "Near Karen" in page
    response = family.post(
        "/my/shortlist/approve",
        data={"version": _version_on(page), "services": [str(three[0].id)]},
    )
    assert response.status_code == 302
    approval = shortlists.approved_choice(db.session, people.person, three[0].id)
    assert approval is not None
    assert approval.approved_by_id == people.family.id
    assert approval.consent_id == lpa.id
