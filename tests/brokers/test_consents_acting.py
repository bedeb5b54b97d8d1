"""The consent pages while acting for someone: a family member holding a lasting power of
attorney sees, withdraws and gives the person's consents (on the authority of their own); a
broker acting for a client is told in words that only the client or their attorney may."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.policy import live_consent
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.people.models import Authority, Consent
from tests.brokers.acting_helpers import CLIENT_NAME, People, consent, make_people, start_acting
from tests.conftest import sign_in


@pytest.fixture
def people(make_user: Callable[..., User], reference_data: None) -> People:
    return make_people(make_user)


def _acting(app: Flask, user: User, people: People) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    start_acting(client, people.person)
    return client


def _text(response: object) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))  # type: ignore[attr-defined]


def test_an_attorney_acting_withdraws_a_consent_the_person_gave(app: Flask, people: People) -> None:
    consent(people.person, grantee=people.family, authority=Authority.LPA_PROPERTY_FINANCE)
    to_broker = consent(people.person, broker=people.broker)
    client = _acting(app, people.family, people)

    listed = _text(client.get("/my/consents"))
    assert f"Who can act for {CLIENT_NAME}" in listed
    assert f"/my/consents/{to_broker.id}/withdraw" in listed
    confirm = client.get(f"/my/consents/{to_broker.id}/withdraw")
    assert confirm.status_code == 200

    done = client.post(f"/my/consents/{to_broker.id}/withdraw", follow_redirects=True)

    assert f"can no longer act for {CLIENT_NAME}" in _text(done)
    db.session.expire_all()
    withdrawn = db.session.get(Consent, to_broker.id)
    assert withdrawn is not None
    assert withdrawn.revoked_by_id == people.family.id
    assert withdrawn.revoked_by_name == "Karen Pearce"
    assert live_consent(people.broker, people.person) is None


def test_an_attorney_gives_consent_on_their_own_authority_and_no_wider(
    app: Flask, people: People
) -> None:
    consent(
        people.person,
        grantee=people.family,
        authority=Authority.LPA_HEALTH_WELFARE,
        scopes=["see", "plan", "shortlist"],
    )
    client = _acting(app, people.family, people)
    brokerage_id = str(people.broker.organisation_id)
    ends_on = london_today() + timedelta(days=90)
    form = {
        "brokerage": brokerage_id,
        "ends_on": [str(ends_on.day), str(ends_on.month), str(ends_on.year)],
    }

    page = client.get(f"/my/consents/new?brokerage={brokerage_id}").get_data(as_text=True)
    assert 'value="pay"' not in page  # their own authority does not cover paying
    refused = client.post("/my/consents/new", data={**form, "scopes": ["see", "pay"]})
    assert refused.status_code == 400
    assert db.session.scalars(select(Consent).where(Consent.brokerage_id.is_not(None))).all() == []

    done = client.post(
        "/my/consents/new", data={**form, "scopes": ["see", "shortlist"]}, follow_redirects=True
    )

    assert done.status_code == 200
    given = db.session.scalars(select(Consent).where(Consent.brokerage_id.is_not(None))).one()
    assert given.person_id == people.person.id
    assert given.authority is Authority.LPA_HEALTH_WELFARE
    assert given.given_by_name == "Karen Pearce"
    assert given.document_reference == "LPA 7000-1234-5678"
    assert given.recorded_by_id == people.family.id
    assert given.scopes == ["see", "shortlist"]


@pytest.mark.parametrize(
    "path", ["/my/consents", "/my/consents/new", f"/my/consents/{uuid.UUID(int=1)}/withdraw"]
)
def test_a_broker_acting_for_a_client_is_told_only_the_client_or_attorney_may(
    app: Flask, people: People, path: str
) -> None:
    consent(people.person, broker=people.broker)
    client = _acting(app, people.broker, people)

    response = client.get(path)

    assert response.status_code == 403
    assert f"Only {CLIENT_NAME} or their attorney can do this" in _text(response)


def test_a_broker_acting_is_not_offered_the_clients_consents(app: Flask, people: People) -> None:
    consent(people.person, broker=people.broker)
    home = _acting(app, people.broker, people).get("/my/").get_data(as_text=True)
    assert CLIENT_NAME in home
    assert 'href="/my/consents"' not in home


def test_a_family_member_acting_without_a_legal_authority_is_told_in_words(
    app: Flask, people: People
) -> None:
    consent(people.person, grantee=people.family, scopes=["see"])  # the person's own word
    response = _acting(app, people.family, people).get("/my/consents")

    assert response.status_code == 403
    page = _text(response)
    assert f"Only {CLIENT_NAME} or their attorney can do this" in page
    assert "does not let you see or change their consents" in page
    assert "broker" not in page.split("<main", 1)[1].split("</main>", 1)[0].lower()
