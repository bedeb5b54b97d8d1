"""Questions' rules: a person (or a broker under a consent covering "message") asks a provider
about a service, the provider answers, both sides are told (emails carry a link, never the
words), the caseload's unanswered count, and the thread kept with the order that follows."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.orders import checkout
from marketplace.orders.models import Order
from marketplace.people import questions
from marketplace.people.models import Authority, ConsentScope
from marketplace.people.questions import (
    QuestionForbidden,
    QuestionMessage,
    QuestionRefused,
    Side,
)
from marketplace.types import utcnow
from providers.models import Organisation, Service, ServiceStatus
from tests.brokers.shortlist_fixtures import give_consent
from tests.orders.fixtures import TODAY, World

SECRET = "Can your carer help with my catheter on Tuesdays?"


@pytest.fixture
def provider(make_organisation: Callable[..., Organisation]) -> Organisation:
    return make_organisation("Chiltern Home Care")


@pytest.fixture
def service(provider: Organisation, make_listing: Callable[..., Service]) -> Service:
    return make_listing(provider, name="Home care visits")


@pytest.fixture
def staff(make_user: Callable[..., User], provider: Organisation) -> User:
    return make_user(Role.PROVIDER_STAFF, organisation=provider)


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    return make_user(Role.BROKER)


def _notifications(user: User, kind: NotificationKind) -> list[Notification]:
    return list(db.session.scalars(db.select(Notification).filter_by(user_id=user.id, kind=kind)))


def _mail_to(app: Flask, user: User) -> list[str]:
    return [m.body for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == user.email]


def test_a_citizen_asks_the_provider_is_told_and_answers_and_the_citizen_is_told(
    app: Flask, citizen: User, service: Service, staff: User
) -> None:
    person = citizen.person
    thread = questions.ask(
        db.session, person=person, service=service, by=citizen, text=f" {SECRET} "
    )
    db.session.commit()
    assert thread.organisation_id == service.organisation_id
    assert thread.unanswered
    [first] = thread.messages
    assert (first.side, first.author_id, first.consent_id, first.text) == (
        Side.PERSON,
        citizen.id,
        None,
        SECRET,
    )
    [told] = _notifications(staff, NotificationKind.QUESTION_ASKED)
    assert told.title == "A question about Home care visits"
    assert told.link == f"/provider/questions/{thread.id}"
    # The citizen asked for themself: nobody tells them they asked.
    assert _notifications(citizen, NotificationKind.QUESTION_ASKED) == []

    questions.answer(db.session, thread, by=staff, text="Yes, our carers are trained for it.")
    db.session.commit()
    assert not thread.unanswered
    assert [m.side for m in thread.messages] == [Side.PERSON, Side.PROVIDER]
    [answered] = _notifications(citizen, NotificationKind.QUESTION_ANSWERED)
    assert answered.title == "Chiltern Home Care answered about Home care visits"
    assert answered.link == f"/my/questions/{thread.id}"

    questions.follow_up(db.session, thread, by=citizen, text="Can you start next week?")
    db.session.commit()
    assert thread.unanswered
    assert len(_notifications(staff, NotificationKind.QUESTION_ASKED)) == 2


def test_emails_carry_a_link_and_never_the_words(
    app: Flask, citizen: User, service: Service, staff: User
) -> None:
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=SECRET
    )
    db.session.commit()
    questions.answer(db.session, thread, by=staff, text="We can: the carer is trained for it.")
    db.session.commit()
    [to_staff] = _mail_to(app, staff)
    [to_citizen] = _mail_to(app, citizen)
    assert f"/provider/questions/{thread.id}" in to_staff
    assert f"/my/questions/{thread.id}" in to_citizen
    for body in (to_staff, to_citizen):
        assert "catheter" not in body
        assert "trained" not in body
        assert citizen.person.full_name not in body


def test_a_broker_asks_under_a_consent_covering_message_and_the_message_says_so(
    app: Flask, citizen: User, broker: User, service: Service, staff: User
) -> None:
    person = citizen.person
    consent = give_consent(person, broker=broker, scopes=[ConsentScope.MESSAGE.value])
    thread = questions.ask(db.session, person=person, service=service, by=broker, text=SECRET)
    db.session.commit()
    [first] = thread.messages
    assert first.author_id == broker.id
    assert first.consent_id == consent.id
    assert first.written_for_person
    # The person hears that someone asked for them.
    [told] = _notifications(citizen, NotificationKind.QUESTION_ASKED)
    assert told.link == f"/my/questions/{thread.id}"

    questions.answer(db.session, thread, by=staff, text="Yes.")
    db.session.commit()
    # Both the person and the broker who asked hear of the answer; the broker is sent to
    # where they choose whom to act for.
    assert [n.link for n in _notifications(citizen, NotificationKind.QUESTION_ANSWERED)] == [
        f"/my/questions/{thread.id}"
    ]
    assert [n.link for n in _notifications(broker, NotificationKind.QUESTION_ANSWERED)] == [
        "/broker/"
    ]


def test_an_attorney_asks_for_the_person_under_their_own_consent(
    make_user: Callable[..., User], citizen: User, service: Service
) -> None:
    attorney = make_user(Role.CITIZEN)
    consent = give_consent(
        citizen.person,
        grantee=attorney,
        scopes=[ConsentScope.MESSAGE.value],
        authority=Authority.LPA_HEALTH_WELFARE,
    )
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=attorney, text=SECRET
    )
    assert thread.messages[0].consent_id == consent.id


@pytest.mark.parametrize(
    "scopes", [[s.value for s in ConsentScope if s is not ConsentScope.MESSAGE]]
)
def test_a_consent_without_message_is_refused_and_nothing_is_kept(
    citizen: User, broker: User, service: Service, scopes: list[str]
) -> None:
    give_consent(citizen.person, broker=broker, scopes=scopes)
    with pytest.raises(QuestionForbidden):
        questions.ask(db.session, person=citizen.person, service=service, by=broker, text=SECRET)
    db.session.rollback()
    assert questions.threads_of(db.session, citizen.person) == []


def test_a_broker_of_another_brokerage_or_with_a_revoked_consent_is_refused(
    make_user: Callable[..., User], citizen: User, broker: User, service: Service
) -> None:
    person = citizen.person
    consent = give_consent(person, broker=broker)
    other = make_user(Role.BROKER)
    with pytest.raises(QuestionForbidden):
        questions.ask(db.session, person=person, service=service, by=other, text=SECRET)
    thread = questions.ask(db.session, person=person, service=service, by=broker, text=SECRET)
    db.session.commit()
    name = person.full_name
    consent.revoked_by_name = name
    consent.revoked_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    db.session.expire(person, ["consents"])
    with pytest.raises(QuestionForbidden):
        questions.follow_up(db.session, thread, by=broker, text="And on Sundays?")


def test_only_the_providers_own_staff_answer(
    make_user: Callable[..., User], citizen: User, service: Service
) -> None:
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=SECRET
    )
    db.session.commit()
    stranger = make_user(Role.PROVIDER_STAFF)
    for someone in (stranger, citizen):
        with pytest.raises(QuestionForbidden):
            questions.answer(db.session, thread, by=someone, text="Yes")


@pytest.mark.parametrize(
    ("text", "problem"),
    [("", "Enter your message"), ("   \n ", "Enter your message"), ("x" * 2001, "2000")],
)
def test_an_empty_or_too_long_message_is_refused(
    citizen: User, service: Service, text: str, problem: str
) -> None:
    with pytest.raises(QuestionRefused, match=problem):
        questions.ask(db.session, person=citizen.person, service=service, by=citizen, text=text)


def test_a_service_not_listed_cannot_be_asked_about(citizen: User, service: Service) -> None:
    service.status = ServiceStatus.DRAFT
    db.session.commit()
    with pytest.raises(QuestionRefused, match="listed"):
        questions.ask(db.session, person=citizen.person, service=service, by=citizen, text=SECRET)


def test_unanswered_for_counts_the_threads_waiting_for_the_provider(
    citizen: User, service: Service, staff: User, make_listing: Callable[..., Service]
) -> None:
    person = citizen.person
    other_service = make_listing(service.organisation, name="Sitting service")
    first = questions.ask(db.session, person=person, service=service, by=citizen, text=SECRET)
    second = questions.ask(db.session, person=person, service=other_service, by=citizen, text="Hi")
    db.session.commit()
    assert {t.id for t in questions.unanswered_for(db.session, person)} == {first.id, second.id}
    questions.answer(db.session, first, by=staff, text="Yes")
    db.session.commit()
    assert [t.id for t in questions.unanswered_for(db.session, person)] == [second.id]
    assert questions.waiting_count(db.session, service.organisation) == 1
    # The provider's list: what waits for it first.
    listed = questions.threads_for_organisation(db.session, service.organisation)
    assert [t.id for t in listed] == [second.id, first.id]


def test_threads_are_found_only_by_their_own_person_and_provider(
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    citizen: User,
    service: Service,
) -> None:
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=SECRET
    )
    db.session.commit()
    someone_else = make_user(Role.CITIZEN)
    assert questions.thread_of(db.session, citizen.person, thread.id) is thread
    assert questions.thread_of(db.session, someone_else.person, thread.id) is None
    assert questions.organisation_thread(db.session, service.organisation, thread.id) is thread
    other = make_organisation("Other Care")
    assert questions.organisation_thread(db.session, other, thread.id) is None


def test_the_database_refuses_a_provider_message_naming_a_consent(
    citizen: User, broker: User, service: Service, staff: User
) -> None:
    consent = give_consent(citizen.person, broker=broker)
    thread = questions.ask(
        db.session, person=citizen.person, service=service, by=citizen, text=SECRET
    )
    db.session.commit()
    db.session.add(
        QuestionMessage(
            thread_id=thread.id,
            side=Side.PROVIDER,
            author_id=staff.id,
            consent_id=consent.id,
            text="Yes",
        )
    )
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def _place(session: Session, world: World, key: str = "questions-order") -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
    )
    session.commit()
    return order


def test_a_thread_is_kept_with_the_order_that_follows(session: Session, world: World) -> None:
    asked = questions.ask(
        session, person=world.person, service=world.service, by=world.citizen, text=SECRET
    )
    session.commit()
    order = _place(session, world)
    # Checkout kept it with the order (ONBEHALF: checkout calls link_to_order).
    session.refresh(asked)
    assert asked.order_id == order.id
    # Linked once: a second call takes nothing more.
    assert questions.link_to_order(session, order) == []
    assert [t.id for t in questions.threads_about_order(session, order)] == [asked.id]
    # A second order of the same service takes nothing from the first.
    again = _place(session, world, key="questions-order-2")
    assert questions.link_to_order(session, again) == []
    assert questions.threads_about_order(session, again) == []
    assert asked.order_id == order.id


def test_an_order_page_finds_a_thread_not_kept_with_any_order(
    session: Session, world: World
) -> None:
    order = _place(session, world)
    asked = questions.ask(
        session, person=world.person, service=world.service, by=world.citizen, text=SECRET
    )
    session.commit()
    assert [t.id for t in questions.threads_about_order(session, order)] == [asked.id]


def test_an_order_finds_no_thread_of_another_person_or_service(
    session: Session,
    world: World,
    make_user: Callable[..., User],
    make_listing: Callable[..., Service],
) -> None:
    stranger = make_user(Role.CITIZEN)
    questions.ask(session, person=stranger.person, service=world.service, by=stranger, text="Hi")
    elsewhere = make_listing(world.provider, name="Sitting service")
    questions.ask(session, person=world.person, service=elsewhere, by=world.citizen, text="Hi")
    session.commit()
    order = _place(session, world)
    assert questions.threads_about_order(session, order) == []
    assert questions.link_to_order(session, order) == []


def test_a_broker_asking_about_their_own_brokerages_service_is_not_told_of_it(
    make_user: Callable[..., User],
    make_listing: Callable[..., Service],
    citizen: User,
    broker: User,
) -> None:
    brokerage = broker.organisation
    assert brokerage is not None
    colleague = make_user(Role.BROKER, organisation=brokerage)
    own_service = make_listing(brokerage, name="Support brokerage")
    give_consent(citizen.person, broker=broker, scopes=[ConsentScope.MESSAGE.value])
    questions.ask(db.session, person=citizen.person, service=own_service, by=broker, text="Hi")
    db.session.commit()
    assert _notifications(broker, NotificationKind.QUESTION_ASKED) == []
    assert len(_notifications(colleague, NotificationKind.QUESTION_ASKED)) == 1
