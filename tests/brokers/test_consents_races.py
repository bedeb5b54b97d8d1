"""Consents given or withdrawn at the same moment, each in its own thread, app context,
session and connection, committing at its end as a request does (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people import consents
from marketplace.people.consents import ConsentRefused
from marketplace.people.models import Authority, Consent, ConsentScope, Person
from marketplace.types import utcnow
from providers.models import Organisation
from tests.ledger.threads import engine_options

THREADS = 4


def _together(app: Flask, count: int, request: Callable[[int], object]) -> list[str]:
    """Run `count` requests at once; each answers "ok" or "refused" (ConsentRefused)."""
    barrier = threading.Barrier(count)

    def run(number: int) -> str:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                request(number)
                db.session.commit()
            except ConsentRefused:
                db.session.rollback()
                return "refused"
            except BaseException:
                db.session.rollback()
                raise
            return "ok"

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def test_consents_given_at_once_to_the_same_brokerage_are_recorded_once(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    citizen = make_user(Role.CITIZEN)
    broker = make_user(Role.BROKER)
    person_id, user_id = citizen.person_id, citizen.id
    brokerage_id = broker.organisation_id
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(THREADS))

    def give(number: int) -> None:
        person = db.session.get_one(Person, person_id)
        now = utcnow()
        consents.give(
            db.session,
            person=person,
            scopes=[ConsentScope.SEE],
            authority=Authority.PERSON,
            given_by_name=person.full_name,
            starts_at=now,
            ends_at=now + timedelta(days=30 + number),
            recorded_by=db.session.get_one(User, user_id),
            brokerage=db.session.get_one(Organisation, brokerage_id),
        )

    outcomes = _together(app, THREADS, give)

    assert sorted(outcomes) == ["ok"] + ["refused"] * (THREADS - 1)
    with app.app_context():
        given = db.session.scalars(select(Consent).where(Consent.person_id == person_id)).all()
        assert len(given) == 1


def test_the_person_and_their_attorney_withdrawing_at_once_record_one_withdrawal(
    make_app: Callable[..., Flask], make_user: Callable[..., User]
) -> None:
    citizen = make_user(Role.CITIZEN)
    daughter = make_user(Role.CITIZEN)
    broker = make_user(Role.BROKER)
    person = citizen.person
    assert person is not None
    now = utcnow()
    common = {"starts_at": now - timedelta(minutes=1), "ends_at": now + timedelta(days=90)}
    consents.give(
        db.session,
        person=person,
        scopes=list(ConsentScope),
        authority=Authority.LPA_PROPERTY_FINANCE,
        given_by_name=daughter.full_name,
        document_reference="7000-0000-0001",
        recorded_by=None,
        grantee=daughter,
        **common,  # type: ignore[arg-type]
    )
    to_brokerage = consents.give(
        db.session,
        person=person,
        scopes=[ConsentScope.SEE],
        authority=Authority.PERSON,
        given_by_name=person.full_name,
        recorded_by=citizen,
        brokerage=db.session.get_one(Organisation, broker.organisation_id),
        **common,  # type: ignore[arg-type]
    )
    db.session.commit()
    consent_id: uuid.UUID = to_brokerage.id
    withdrawers = [citizen.id, daughter.id] * (THREADS // 2)
    app = make_app(SQLALCHEMY_ENGINE_OPTIONS=engine_options(THREADS))
    withdrew: dict[int, bool] = {}

    def withdraw(number: int) -> None:
        consent = db.session.get_one(Consent, consent_id)
        withdrew[number] = consents.revoke(
            db.session, consent, by=db.session.get_one(User, withdrawers[number])
        )

    assert _together(app, THREADS, withdraw) == ["ok"] * THREADS

    assert sorted(withdrew.values()) == [False] * (THREADS - 1) + [True]
    with app.app_context():
        told = db.session.scalars(
            select(Notification).where(
                Notification.user_id == broker.id,
                Notification.kind == NotificationKind.CONSENT_REVOKED,
            )
        ).all()
        assert len(told) == 1
        stored = db.session.get_one(Consent, consent_id)
        winner = next(number for number, won in withdrew.items() if won)
        assert stored.revoked_by_id == withdrawers[winner]
