"""Questions' pages: asking from a service's page, the person's threads at /my/questions, a
broker asking while acting for a client (and refused in words without a consent covering
'message'), and the provider answering from its portal; other people's threads are 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.orders import checkout
from marketplace.people import questions
from marketplace.people.models import ConsentScope
from marketplace.people.questions import Side
from providers.models import Organisation, OrganisationStatus, Service, ServiceStatus
from tests.brokers.acting_helpers import consent, start_acting
from tests.conftest import sign_in
from tests.orders.fixtures import TODAY, World

QUESTION = "Can a carer come before 8am on weekdays?"


@pytest.fixture
def provider(make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation("Chiltern Home Care")


@pytest.fixture
def service(provider: Organisation, make_listing: Callable[..., Service]) -> Service:
    return make_listing(provider, name="Home care visits")


@pytest.fixture
def staff(make_user: Callable[..., User], provider: Organisation) -> User:
    staff = make_user(Role.PROVIDER_STAFF, organisation=provider)
    staff.full_name = "Priya Shah"
    db.session.commit()
    return staff


def _page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, response.status_code
    return response.get_data(as_text=True)


def test_a_citizen_asks_from_the_service_page_and_reads_the_answer(
    app: Flask, client: FlaskClient, citizen: User, service: Service, staff: User
) -> None:
    page = _page(client, f"/services/{service.id}")
    ask_path = f"/my/questions/ask/{service.id}"
    assert "Ask the provider a question" in page
    assert ask_path in page
    assert "You will need to sign in" in page
    # Anonymous: the link asks them to sign in first.
    assert client.get(ask_path).status_code == 302

    sign_in(client, citizen)
    assert ask_path in _page(client, f"/services/{service.id}")
    assert "Ask Chiltern Home Care a question" in _page(client, ask_path)
    response = client.post(ask_path, data={"text": QUESTION})
    assert response.status_code == 302
    [thread] = questions.threads_of(db.session, citizen.person)
    assert response.location == f"/my/questions/{thread.id}"
    page = _page(client, response.location)
    assert "Your question has been sent to Chiltern Home Care" in page
    assert QUESTION in page
    assert "Waiting for an answer" in page
    listing = _page(client, "/my/questions")
    assert "Your questions to providers" in listing
    assert f"/my/questions/{thread.id}" in listing

    # The provider sees it waiting, and answers from the portal.
    provider_client = app.test_client()
    sign_in(provider_client, staff)
    portal = _page(provider_client, "/provider/questions")
    assert "Waiting for your answer (1)" in portal
    assert f"/provider/questions/{thread.id}" in portal
    assert QUESTION in _page(provider_client, f"/provider/questions/{thread.id}")
    response = provider_client.post(
        f"/provider/questions/{thread.id}", data={"text": "Yes, from 7:30am."}
    )
    assert response.status_code == 302
    assert "Answered (1)" in _page(provider_client, "/provider/questions")

    page = _page(client, f"/my/questions/{thread.id}")
    assert "Yes, from 7:30am." in page
    assert "Priya Shah, Chiltern Home Care" in page
    assert "Answered" in page
    # The citizen writes again: it waits for the provider once more.
    response = client.post(f"/my/questions/{thread.id}", data={"text": "Thank you. And Sundays?"})
    assert response.status_code == 302
    db.session.expire_all()
    assert questions.unanswered_for(db.session, citizen.person) == [thread]


@pytest.mark.parametrize(
    ("path", "text", "error"),
    [
        ("ask", "", "Enter your question"),
        ("ask", "x" * 2001, "Your message must be 2000 characters or fewer"),
        ("thread", "  ", "Enter your message"),
    ],
)
def test_an_empty_or_too_long_message_is_in_the_error_summary_and_nothing_is_sent(
    citizen_client: FlaskClient,
    citizen: User,
    service: Service,
    path: str,
    text: str,
    error: str,
) -> None:
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=QUESTION
    )
    db.session.commit()
    url = f"/my/questions/ask/{service.id}" if path == "ask" else f"/my/questions/{thread.id}"
    response = citizen_client.post(url, data={"text": text})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "govuk-error-summary" in body
    assert error in body
    db.session.expire_all()
    assert len(questions.threads_of(db.session, citizen.person)) == 1
    assert len(thread.messages) == 1


def test_a_provider_answer_that_is_empty_is_refused_on_the_page(
    app: Flask, citizen: User, service: Service, staff: User
) -> None:
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=QUESTION
    )
    db.session.commit()
    client = app.test_client()
    sign_in(client, staff)
    response = client.post(f"/provider/questions/{thread.id}", data={"text": ""})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "govuk-error-summary" in body
    assert "Enter your answer" in body
    db.session.expire_all()
    assert thread.unanswered


def test_other_peoples_threads_are_not_found(
    app: Flask,
    citizen: User,
    service: Service,
    make_user: Callable[..., User],
) -> None:
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=QUESTION
    )
    db.session.commit()
    other_citizen = make_user(Role.CITIZEN)
    other_provider = make_user(Role.PROVIDER_STAFF)
    for user, path in (
        (other_citizen, f"/my/questions/{thread.id}"),
        (other_provider, f"/provider/questions/{thread.id}"),
    ):
        client = app.test_client()
        sign_in(client, user)
        assert client.get(path).status_code == 404
        assert client.post(path, data={"text": "Hello"}).status_code == 404
    db.session.expire_all()
    assert len(thread.messages) == 1


def test_a_service_nobody_can_see_cannot_be_asked_about(
    citizen_client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    pending = make_organisation("Pending Care", OrganisationStatus.PENDING)
    hidden = make_listing(pending, name="Not yet approved")
    assert citizen_client.get(f"/my/questions/ask/{hidden.id}").status_code == 404


def test_a_broker_acting_for_a_client_asks_for_them_and_the_page_names_both(
    app: Flask,
    client: FlaskClient,
    citizen: User,
    make_user: Callable[..., User],
    service: Service,
    staff: User,
) -> None:
    person = citizen.person
    broker = make_user(Role.BROKER)
    broker.full_name = "Sam Patel"
    broker.organisation.name = "Herts Independent Brokerage"  # type: ignore[attr-defined]
    db.session.commit()
    given = consent(person, broker=broker, scopes=[ConsentScope.SEE.value, "message"])
    sign_in(client, broker)
    # Not acting: the service page offers nothing to ask, and the pages are not theirs.
    assert "Ask the provider a question" not in _page(client, f"/services/{service.id}")
    assert client.get("/my/questions").status_code == 403

    start_acting(client, person)
    assert "Ask the provider a question" in _page(client, f"/services/{service.id}")
    ask = _page(client, f"/my/questions/ask/{service.id}")
    assert f"Home care visits, for {person.full_name}" in ask
    response = client.post(f"/my/questions/ask/{service.id}", data={"text": QUESTION})
    assert response.status_code == 302
    [thread] = questions.threads_of(db.session, person)
    [message] = thread.messages
    assert (message.side, message.author_id, message.consent_id) == (
        Side.PERSON,
        broker.id,
        given.id,
    )
    page = _page(client, f"/my/questions/{thread.id}")
    assert f"Sam Patel (Herts Independent Brokerage), for {person.full_name}" in page
    assert f"{person.full_name}\u2019s questions to providers" in _page(client, "/my/questions")

    # The provider sees who asked and for whom; the client sees it among their own.
    provider_client = app.test_client()
    sign_in(provider_client, staff)
    portal = _page(provider_client, f"/provider/questions/{thread.id}")
    assert f"Asked for {person.full_name}" in portal
    assert "Sam Patel (Herts Independent Brokerage)" in portal
    own = app.test_client()
    sign_in(own, citizen)
    assert QUESTION in _page(own, f"/my/questions/{thread.id}")


def test_a_broker_whose_consent_does_not_cover_messages_is_told_in_words(
    client: FlaskClient, citizen: User, make_user: Callable[..., User], service: Service
) -> None:
    person = citizen.person
    broker = make_user(Role.BROKER)
    consent(person, broker=broker, scopes=[ConsentScope.SEE.value, ConsentScope.ORDER.value])
    thread = questions.ask(db.session, person=person, service=service, by=citizen, text=QUESTION)
    db.session.commit()
    sign_in(client, broker)
    start_acting(client, person)
    assert "Ask the provider a question" not in _page(client, f"/services/{service.id}")
    for path in ("/my/questions", f"/my/questions/{thread.id}", f"/my/questions/ask/{service.id}"):
        page = _page(client, path, status=403)
        assert "you need their consent to: talk to providers for them" in page
    response = client.post(f"/my/questions/ask/{service.id}", data={"text": QUESTION})
    assert response.status_code == 403
    db.session.expire_all()
    assert len(questions.threads_of(db.session, person)) == 1


def test_staff_of_other_kinds_see_no_question_link_on_the_service_page(
    app: Flask, make_user: Callable[..., User], service: Service
) -> None:
    for role in (Role.PROVIDER_STAFF, Role.COUNCIL_OFFICER, Role.ADMIN):
        client = app.test_client()
        sign_in(client, make_user(role))
        assert "Ask the provider a question" not in _page(client, f"/services/{service.id}")


def test_the_order_pages_link_the_questions_asked_before_it(
    app: Flask, session: Session, world: World, client: FlaskClient
) -> None:
    thread = questions.ask(
        session, person=world.person, service=world.service, by=world.citizen, text=QUESTION
    )
    session.commit()
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key="questions-page-order",
    )
    session.commit()
    sign_in(client, world.citizen)
    page = _page(client, f"/my/orders/{order.id}")
    assert f"Questions to {world.provider.name}" in page
    assert f"/my/questions/{thread.id}" in page
    # The thread says which order it is kept with.
    assert f"/my/orders/{order.id}" in _page(client, f"/my/questions/{thread.id}")
    # The provider's page for the order (it has reached them) links it too.
    assert order.reached_provider
    provider_client = app.test_client()
    sign_in(provider_client, world.staff)
    portal = _page(provider_client, f"/provider/orders/{order.id}")
    assert "Questions about this service" in portal
    assert f"/provider/questions/{thread.id}" in portal


def test_a_thread_about_a_service_no_longer_listed_stays_open(
    citizen_client: FlaskClient, citizen: User, service: Service
) -> None:
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=QUESTION
    )
    service.status = ServiceStatus.ARCHIVED
    db.session.commit()
    page = _page(citizen_client, f"/my/questions/{thread.id}")
    assert "This service is no longer listed" in page
    assert f'href="/services/{service.id}"' not in page
    response = citizen_client.post(f"/my/questions/{thread.id}", data={"text": "Still there?"})
    assert response.status_code == 302
