"""Shortlist pages: "Add to shortlist" on a service's page, a visitor's shortlist in the
session moving into the account at sign-in, the citizen's /my/shortlist with notes, taking a
service off, and approving chosen services against the version the page showed."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people import shortlists
from providers.models import Organisation, Service
from tests.brokers.shortlist_fixtures import give_consent, services
from tests.conftest import sign_in


@pytest.fixture
def three(
    make_organisation: Callable[..., Organisation], make_listing: Callable[..., Service]
) -> list[Service]:
    return services(make_organisation, make_listing)


def _add(client: FlaskClient, service: Service) -> str:
    response = client.post("/shortlist/add", data={"service_id": str(service.id)})
    assert response.status_code == 302
    assert response.location == f"/services/{service.id}"
    return client.get(response.location).get_data(as_text=True)


def _version_on(page: str) -> str:
    match = re.search(r'name="version" type="hidden" value="(\d+)"', page) or re.search(
        r'type="hidden" name="version" value="(\d+)"', page
    )
    assert match, "the approval form carries the version it shows"
    return match.group(1)


def test_a_visitor_shortlists_services_and_keeps_them_when_they_sign_in(
    app: Flask, client: FlaskClient, citizen: User, three: list[Service]
) -> None:
    page = client.get(f"/services/{three[0].id}").get_data(as_text=True)
    assert "Add to shortlist" in page
    page = _add(client, three[0])
    assert f"{three[0].name} is on your shortlist" in page
    assert "This service is on your shortlist" in page
    _add(client, three[1])
    _add(client, three[1])  # twice is once
    page = client.get("/shortlist").get_data(as_text=True)
    assert page.count("Take off the shortlist") == 2
    assert "kept in this browser only" in page

    response = client.post("/shortlist/remove", data={"service_id": str(three[1].id)})
    assert response.status_code == 302
    page = client.get("/shortlist").get_data(as_text=True)
    assert three[0].name in page
    assert three[1].name not in page

    sign_in(client, citizen)
    shortlist = shortlists.shortlist_of(db.session, citizen.person)
    assert shortlist is not None
    assert [item.service_id for item in shortlist.items] == [three[0].id]
    assert client.get("/shortlist").location == "/my/shortlist"
    page = client.get("/my/shortlist").get_data(as_text=True)
    assert "Your shortlist" in page
    assert three[0].name in page


def test_a_visitors_shortlist_signed_in_as_staff_stays_out_of_any_account(
    client: FlaskClient, make_user: Callable[..., User], three: list[Service]
) -> None:
    _add(client, three[0])
    officer = make_user(Role.COUNCIL_OFFICER)
    sign_in(client, officer)
    page = client.get(f"/services/{three[0].id}").get_data(as_text=True)
    assert "Add to shortlist" not in page
    assert client.post("/shortlist/add", data={"service_id": str(three[1].id)}).status_code == 403


def test_adding_a_service_nobody_can_see_or_a_made_up_one_is_refused(
    client: FlaskClient, three: list[Service]
) -> None:
    assert client.post("/shortlist/add", data={"service_id": "not-an-id"}).status_code == 400
    three[0].organisation.status = "pending"
    db.session.commit()
    assert client.post("/shortlist/add", data={"service_id": str(three[0].id)}).status_code == 404
    assert "Nothing is on your shortlist yet" in client.get("/shortlist").get_data(as_text=True)


def test_a_citizen_keeps_notes_and_takes_services_off_their_shortlist(
    citizen_client: FlaskClient, citizen: User, three: list[Service]
) -> None:
    page = _add(citizen_client, three[0])
    assert f"{three[0].name} is on your shortlist" in page
    item = shortlists.shortlist_of(db.session, citizen.person).items[0]  # type: ignore[union-attr]
    note_page = f"/my/shortlist/{item.id}/note"
    assert citizen_client.get(note_page).status_code == 200
    response = citizen_client.post(note_page, data={"note": "x" * 1001})
    assert response.status_code == 400
    assert "The note must be 1000 characters or fewer" in response.get_data(as_text=True)
    response = citizen_client.post(note_page, data={"note": "Mum liked the carer"})
    assert response.status_code == 302
    page = citizen_client.get("/my/shortlist").get_data(as_text=True)
    assert "Mum liked the carer" in page
    assert "Note from Test Citizen" in page

    response = citizen_client.post(f"/my/shortlist/{item.id}/remove")
    assert response.status_code == 302
    page = citizen_client.get("/my/shortlist").get_data(as_text=True)
    assert "Nothing is on the shortlist yet" in page


def test_another_citizens_shortlist_item_is_not_found(
    citizen_client: FlaskClient, make_user: Callable[..., User], three: list[Service]
) -> None:
    other = make_user(Role.CITIZEN)
    item = shortlists.add(db.session, other.person, three[0].id, by=other)
    db.session.commit()
    assert citizen_client.get(f"/my/shortlist/{item.id}/note").status_code == 404
    assert citizen_client.post(f"/my/shortlist/{item.id}/remove").status_code == 404
    assert shortlists.item_of(db.session, other.person, item.id) is not None


def test_the_client_approves_the_services_they_choose_from_a_brokers_shortlist(
    citizen_client: FlaskClient, citizen: User, make_user: Callable[..., User], three: list[Service]
) -> None:
    person = citizen.person
    broker = make_user(Role.BROKER)
    give_consent(person, broker=broker)
    shortlists.add(db.session, person, three[0].id, by=broker, note="Visits before 9am")
    shortlists.add(db.session, person, three[1].id, by=broker)
    shortlists.share(db.session, shortlists.shortlist_of(db.session, person), broker)  # type: ignore[arg-type]
    db.session.commit()

    page = citizen_client.get("/my/shortlist").get_data(as_text=True)
    assert "Test Broker sent you this shortlist" in page
    assert "Note from Test Broker" in page
    assert "Visits before 9am" in page
    version = _version_on(page)

    response = citizen_client.post("/my/shortlist/approve", data={"version": version})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "govuk-error-summary" in body
    assert "Choose at least one service to approve" in body

    response = citizen_client.post(
        "/my/shortlist/approve", data={"version": version, "services": [str(three[0].id)]}
    )
    assert response.status_code == 302
    page = citizen_client.get("/my/shortlist").get_data(as_text=True)
    assert f"Approved: {three[0].name}" in page
    assert "Yes, by Test Citizen" in page
    approval = shortlists.approved_choice(db.session, person, three[0].id)
    assert approval is not None
    assert approval.shortlist_version == int(version)
    assert shortlists.approved_choice(db.session, person, three[1].id) is None
    assert shortlists.awaiting_approval(db.session, person) is None
    assert "Approvals on the record" in page
    assert "Can be ordered" in page

    # Taken off the list, the approval stays on the record as withdrawn.
    item = next(
        i for i in shortlists.shortlist_of(db.session, person).items if i.service_id == three[0].id
    )  # type: ignore[union-attr]
    assert citizen_client.post(f"/my/shortlist/{item.id}/remove").status_code == 302
    page = citizen_client.get("/my/shortlist").get_data(as_text=True)
    assert "Taken off the shortlist" in page
    assert "Can be ordered" not in page


def test_approving_a_shortlist_changed_since_it_was_opened_is_refused(
    citizen_client: FlaskClient, citizen: User, make_user: Callable[..., User], three: list[Service]
) -> None:
    person = citizen.person
    broker = make_user(Role.BROKER)
    give_consent(person, broker=broker)
    shortlists.add(db.session, person, three[0].id, by=broker)
    db.session.commit()
    opened = _version_on(citizen_client.get("/my/shortlist").get_data(as_text=True))

    # The broker changes the note while the client reads the page.
    item = shortlists.shortlist_of(db.session, person).items[0]  # type: ignore[union-attr]
    shortlists.write_note(db.session, item, "Actually, they have no morning visits", by=broker)
    db.session.commit()

    response = citizen_client.post(
        "/my/shortlist/approve", data={"version": opened, "services": [str(three[0].id)]}
    )
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "This shortlist changed since you opened it: look again" in body
    assert "Actually, they have no morning visits" in body  # the page as it is now
    assert _version_on(body) != opened
    assert shortlists.approved_choice(db.session, person, three[0].id) is None

    response = citizen_client.post(
        "/my/shortlist/approve", data={"version": "99x", "services": [str(three[0].id)]}
    )
    assert response.status_code == 400
    assert shortlists.approved_choice(db.session, person, three[0].id) is None
