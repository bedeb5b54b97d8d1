"""The audit log's pages: the person's own entries at /my/record-log (their attorney's too),
recorded by real requests made while acting for them."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.people.audit import AuditAction, AuditEntry
from marketplace.people.models import Authority
from tests.brokers.acting_helpers import People, consent, make_people, start_acting
from tests.conftest import sign_in


@pytest.fixture
def people(make_user: Callable[..., User], reference_data: None) -> People:
    return make_people(make_user)


def test_the_person_sees_what_a_broker_did_while_acting_for_them(
    session: Session, client: FlaskClient, people: People
) -> None:
    consent(people.person, broker=people.broker)
    sign_in(client, people.broker)
    start_acting(client, people.person)
    assert client.get("/my/", environ_overrides={"REMOTE_ADDR": "203.0.113.9"}).status_code == 200
    client.post("/sign-out")

    sign_in(client, people.client)
    page = client.get("/my/record-log").get_data(as_text=True)

    assert people.broker.full_name in page
    assert people.broker.organisation.name in page
    assert "Looked at" in page
    assert "203.0.113.9" in page
    # The person reading their own log is not an entry of it.
    assert (
        session.scalars(
            select(AuditEntry.actor_id).where(AuditEntry.path == "/my/record-log")
        ).all()
        == []
    )


def test_with_no_entries_the_page_says_so(client: FlaskClient, people: People) -> None:
    sign_in(client, people.client)

    page = client.get("/my/record-log").get_data(as_text=True)

    assert 'id="no-entries"' in page


def test_an_attorney_reads_the_person_s_log_and_is_in_it(
    session: Session, client: FlaskClient, people: People
) -> None:
    consent(people.person, grantee=people.family, authority=Authority.LPA_HEALTH_WELFARE)
    sign_in(client, people.family)
    start_acting(client, people.person)

    response = client.get("/my/record-log")

    assert response.status_code == 200
    assert f"Who has looked at {people.person.full_name}\u2019s record" in response.get_data(
        as_text=True
    )
    [entry] = session.scalars(select(AuditEntry)).all()
    assert (entry.actor_id, entry.person_id) == (people.family.id, people.person.id)
    assert entry.action is AuditAction.VIEWED


def test_a_broker_acting_cannot_read_the_person_s_log(
    session: Session, client: FlaskClient, people: People
) -> None:
    consent(people.person, broker=people.broker)
    sign_in(client, people.broker)
    start_acting(client, people.person)

    response = client.get("/my/record-log")

    assert response.status_code == 403
    # The refused attempt is itself on the record.
    tried = session.scalars(select(AuditEntry).where(AuditEntry.path == "/my/record-log")).one()
    assert (tried.status_code, tried.succeeded) == (403, False)


def test_a_broker_reading_a_client_page_is_recorded(
    session: Session, client: FlaskClient, people: People
) -> None:
    given = consent(people.person, broker=people.broker)
    sign_in(client, people.broker)

    assert client.get(f"/broker/clients/{people.person.id}").status_code == 200

    [entry] = session.scalars(select(AuditEntry)).all()
    assert (entry.actor_id, entry.person_id) == (people.broker.id, people.person.id)
    assert (entry.action, entry.consent_id) == (AuditAction.VIEWED, given.id)
    assert entry.path == f"/broker/clients/{people.person.id}"


def test_the_home_page_links_to_the_record_log(client: FlaskClient, people: People) -> None:
    sign_in(client, people.client)

    page = client.get("/my/").get_data(as_text=True)

    assert 'id="record-log-link"' in page
