"""A broker changing the shortlist while the client approves it, each in its own thread, app
context, session and connection: the approval is checked against the version committed when
it is recorded, not the one its request read, so a change made meanwhile refuses it. Two
approvals of the same service at once keep one. On SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from flask import Flask
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people import shortlists
from marketplace.people.models import Authority, Person
from marketplace.people.shortlists import ShortlistApproval, ShortlistChanged
from providers.models import Organisation, Service
from tests.brokers.shortlist_fixtures import give_consent, services
from tests.ledger.threads import engine_options, run_together


@pytest.fixture
def three(
    make_organisation: Callable[..., Organisation], make_listing: Callable[..., Service]
) -> list[Service]:
    return services(make_organisation, make_listing)


def test_a_change_made_while_the_client_approves_refuses_the_approval(
    make_app: Callable[..., Flask],
    citizen: User,
    make_user: Callable[..., User],
    three: list[Service],
) -> None:
    broker = make_user(Role.BROKER)
    give_consent(citizen.person, broker=broker)
    shortlists.add(db.session, citizen.person, three[0].id, by=broker)
    db.session.commit()
    opened = shortlists.shortlist_of(db.session, citizen.person).version  # type: ignore[union-attr]
    person_id, broker_id, citizen_id = citizen.person.id, broker.id, citizen.id
    # Read here: the threads must not load anything through this test's own session.
    first, second = three[0].id, three[1].id
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(2))
    changed, approving = threading.Event(), threading.Event()
    outcome: dict[str, object] = {}

    def broker_adds() -> None:
        with app.app_context():
            person = db.session.get_one(Person, person_id)
            shortlists.add(db.session, person, second, by=db.session.get_one(User, broker_id))
            changed.set()  # changed, not committed: the client's request starts now
            approving.wait(timeout=30)
            db.session.commit()

    def client_approves() -> None:
        with app.app_context():
            changed.wait(timeout=30)
            person = db.session.get_one(Person, person_id)
            shortlist = shortlists.shortlist_of(db.session, person)
            assert shortlist is not None
            approving.set()
            try:
                shortlists.approve(
                    db.session,
                    shortlist,
                    [first],
                    seen_version=opened,
                    by=db.session.get_one(User, citizen_id),
                )
                db.session.commit()
                outcome["client"] = "approved"
            except ShortlistChanged:
                db.session.rollback()
                outcome["client"] = "changed"

    threads = [threading.Thread(target=broker_adds), threading.Thread(target=client_approves)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert outcome == {"client": "changed"}
    with app.app_context():
        person = db.session.get_one(Person, person_id)
        assert shortlists.approved_choice(db.session, person, first) is None
        shortlist = shortlists.shortlist_of(db.session, person)
        assert shortlist is not None
        assert shortlist.version == opened + 1
        assert shortlist.answered_version is None


def test_the_person_and_their_attorney_approving_at_once_keep_one_approval(
    make_app: Callable[..., Flask],
    citizen: User,
    make_user: Callable[..., User],
    three: list[Service],
) -> None:
    attorney = make_user(Role.CITIZEN)
    give_consent(citizen.person, grantee=attorney, authority=Authority.LPA_PROPERTY_FINANCE)
    shortlists.add(db.session, citizen.person, three[0].id, by=citizen)
    db.session.commit()
    version = shortlists.shortlist_of(db.session, citizen.person).version  # type: ignore[union-attr]
    person_id, service_id = citizen.person.id, three[0].id
    approvers = [citizen.id, attorney.id] * 2
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(len(approvers)))

    def approve(number: int) -> None:
        person = db.session.get_one(Person, person_id)
        shortlist = shortlists.shortlist_of(db.session, person)
        assert shortlist is not None
        shortlists.approve(
            db.session,
            shortlist,
            [service_id],
            seen_version=version,
            by=db.session.get_one(User, approvers[number]),
        )

    assert run_together(app, len(approvers), approve) == ["ok"] * len(approvers)
    with app.app_context():
        live = db.session.scalar(
            select(func.count())
            .select_from(ShortlistApproval)
            .where(
                ShortlistApproval.person_id == person_id,
                ShortlistApproval.withdrawn_at.is_(None),
            )
        )
        assert live == 1
        person = db.session.get_one(Person, person_id)
        assert shortlists.approved_choice(db.session, person, service_id) is not None
