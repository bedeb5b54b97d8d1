"""An attacker's probe of issue 17's pages and API: dates at the calendar's edge, hostile text
in the fields that reach an email's subject, and emails that must carry a link, never the
content of a question or a note."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.people.models import Consent
from providers.models import Organisation, OrganisationStatus, Service
from tests.api.integration_helpers import error_of
from tests.api.test_consents_api import token_for
from tests.brokers.acting_helpers import start_acting
from tests.brokers.shortlist_fixtures import give_consent, services
from tests.conftest import sign_in

MakeUser = Callable[..., User]
LAST_DAY_OF_THE_CALENDAR = {"ends_on": ["31", "12", "9999"]}


@pytest.fixture
def brokerage_broker(make_user: MakeUser) -> User:
    broker = make_user(Role.BROKER)
    organisation = db.session.get(Organisation, broker.organisation_id)
    assert organisation is not None
    organisation.status = OrganisationStatus.APPROVED
    db.session.commit()
    return broker


def _consents() -> int:
    return db.session.query(Consent).count()


def test_a_consent_ending_on_the_calendars_last_day_is_explained_to_the_person(
    client: FlaskClient, make_user: MakeUser, brokerage_broker: User
) -> None:
    citizen = make_user(Role.CITIZEN)
    sign_in(client, citizen)
    response = client.post(
        "/my/consents/new",
        data={
            "brokerage": str(brokerage_broker.organisation_id),
            "scopes": ["see"],
            **LAST_DAY_OF_THE_CALENDAR,
        },
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    assert "at most 3 years" in page
    assert _consents() == 0


def test_a_consent_ending_on_the_calendars_last_day_is_explained_to_the_api(
    app: Flask, client: FlaskClient, make_user: MakeUser, brokerage_broker: User
) -> None:
    citizen = make_user(Role.CITIZEN)
    response = client.post(
        f"/api/v1/people/{citizen.person_id}/consents",
        json={
            "brokerage_id": str(brokerage_broker.organisation_id),
            "scopes": ["see"],
            "ends_on": "9999-12-31",
        },
        headers=token_for(citizen),
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert error_of(response) == "validation_error"
    assert set(response.get_json()["details"]["fields"]) == {"ends_on"}
    assert _consents() == 0


def test_a_client_added_with_consent_to_the_calendars_last_day_is_explained(
    client: FlaskClient, brokerage_broker: User
) -> None:
    sign_in(client, brokerage_broker)
    response = client.post(
        "/broker/clients/new",
        data={
            "full_name": "Dorothy Pearce",
            "authority": "person",
            "given_by_name": "Dorothy Pearce",
            "scopes": ["see"],
            **LAST_DAY_OF_THE_CALENDAR,
        },
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert _consents() == 0


def test_an_attorney_recorded_to_the_calendars_last_day_is_explained(
    client: FlaskClient, make_user: MakeUser
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    mother = make_user(Role.CITIZEN)
    daughter = make_user(Role.CITIZEN)
    sign_in(client, officer)
    response = client.post(
        f"/council/people/{mother.person_id}/consents/attorney",
        data={
            "email": daughter.email,
            "authority": "lpa_health_welfare",
            "document_reference": "LPA 1",
            "scopes": ["see"],
            "starts_on": ["1", "1", "1"],
            **LAST_DAY_OF_THE_CALENDAR,
        },
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert _consents() == 0


HEADER_INJECTION = "Sam Patel\r\nBcc: everyone@example.org"


def test_a_name_with_a_line_break_reaches_an_emails_subject_as_one_line(
    app: Flask,
    client: FlaskClient,
    make_user: MakeUser,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    """A broker whose name holds CR LF (the sign-up and join forms keep what a tampered POST
    sends) sends a client a shortlist: the email's subject names them on one line, and no
    header is added."""
    broker = make_user(Role.BROKER)
    broker.full_name = HEADER_INJECTION
    client_user = make_user(Role.CITIZEN)
    assert client_user.person is not None
    give_consent(client_user.person, broker=broker)
    [service] = services(make_organisation, make_listing, count=1)
    sign_in(client, broker)
    start_acting(client, client_user.person)
    assert client.post("/shortlist/add", data={"service_id": str(service.id)}).status_code == 302
    response = client.post("/my/shortlist/share")
    assert response.status_code == 302
    [sent] = [
        m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == client_user.email
    ]
    assert (
        sent.subject
        == "Sam Patel Bcc: everyone@example.org has sent you a shortlist of services to choose from"
    )
