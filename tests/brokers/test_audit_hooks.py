"""The audit log's Flask hook: every request made while acting for someone, and every council
person page, is recorded (who, for whom, what, when, from where), in the request's own
transaction when it succeeds, and in one of its own after the rollback when it fails.

Until the acting-for loader (ACTING) is in, a test app of our own calls `user.act_for(person)`
in a `before_request`, as that loader will.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask, abort, g, redirect, request
from flask.testing import FlaskClient
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.pages.audit_hooks import describe_page
from marketplace.people.audit import AuditAction, AuditEntry
from marketplace.people.models import Authority, Consent, Person
from marketplace.types import utcnow
from tests.conftest import sign_in

PAGE = (
    "<!DOCTYPE html><html><head><title>Your budget &amp; statement \u2013 Care Services \u2013 "
    "Hertfordshire County Council</title></head><body></body></html>"
)


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    return make_user(Role.BROKER)


@pytest.fixture
def consent(session: Session, broker: User, person: Person) -> Consent:
    given = Consent(
        person_id=person.id,
        brokerage_id=broker.organisation_id,
        scopes=["see", "order"],
        authority=Authority.PERSON,
        given_by_name=person.full_name,
        starts_at=utcnow() - timedelta(days=1),
        ends_at=utcnow() + timedelta(days=30),
    )
    session.add(given)
    session.commit()
    return given


@pytest.fixture
def acting_app(make_app: Callable[..., Flask], person: Person) -> Flask:
    """An app whose requests act for `person` when asked to (the `act` query argument), and a
    few pages that read, change, refuse and fail."""
    built = make_app()
    person_id = person.id

    @built.before_request
    def act() -> None:
        if request.args.get("act") and current_user.is_authenticated:
            current_user.act_for(db.session.get(Person, person_id))

    @built.route("/test/page")
    def page() -> str:
        return PAGE

    @built.route("/test/download")
    def download() -> str:
        describe_page("Their statement as a spreadsheet")
        return "a,b"

    @built.route("/test/change", methods=["POST"])
    def change() -> Response:
        db.session.get(Person, person_id).phone = "01234 567890"
        return redirect("/test/page")

    @built.route("/test/refuse", methods=["POST"])
    def refuse() -> Response:
        db.session.get(Person, person_id).phone = "01234 567890"
        db.session.flush()
        abort(403)

    @built.route("/test/fail", methods=["POST"])
    def fail() -> Response:
        db.session.get(Person, person_id).phone = "01234 567890"
        db.session.flush()
        g.crash = True
        raise RuntimeError("the view failed half way")

    return built


@pytest.fixture
def broker_client(acting_app: Flask, broker: User, consent: Consent) -> FlaskClient:
    client = acting_app.test_client()
    sign_in(client, broker)
    return client


def entries(session: Session) -> list[AuditEntry]:
    """The log's entries, read in a transaction that is ended at once (detached, loaded): an
    open read of the table would hold its lock into the second app's teardown."""
    session.expire_all()
    found = list(session.scalars(select(AuditEntry).order_by(AuditEntry.at)))
    for entry in found:
        session.expunge(entry)
    session.rollback()
    return found


def phone_of(session: Session, person_id: object) -> str | None:
    phone = session.scalar(select(Person.phone).where(Person.id == person_id))
    session.rollback()
    return phone


def test_a_page_read_while_acting_is_recorded_with_its_title_and_consent(
    session: Session, broker_client: FlaskClient, broker: User, person: Person, consent: Consent
) -> None:
    expected = (broker.id, person.id, consent.id)
    session.rollback()
    response = broker_client.get(
        "/test/page?act=1", environ_overrides={"REMOTE_ADDR": "198.51.100.7"}
    )

    assert response.status_code == 200
    [entry] = entries(session)
    assert (entry.actor_id, entry.person_id, entry.consent_id) == expected
    assert entry.action is AuditAction.VIEWED
    assert entry.what == "Your budget & statement"
    assert (entry.path, entry.ip, entry.status_code) == ("/test/page?act=1", "198.51.100.7", 200)


def test_nothing_is_recorded_when_not_acting(session: Session, broker_client: FlaskClient) -> None:
    assert broker_client.get("/test/page").status_code == 200

    assert entries(session) == []


def test_a_view_names_what_its_page_does(session: Session, broker_client: FlaskClient) -> None:
    broker_client.get("/test/download?act=1")

    assert [entry.what for entry in entries(session)] == ["Their statement as a spreadsheet"]


def test_a_change_and_its_entry_are_committed_together(
    session: Session, broker_client: FlaskClient, person: Person
) -> None:
    person_id = person.id
    assert broker_client.post("/test/change?act=1").status_code == 302

    [entry] = entries(session)
    assert (entry.action, entry.what, entry.status_code) == (AuditAction.CHANGED, "Change", 302)
    assert phone_of(session, person_id) == "01234 567890"


def test_a_refused_request_is_recorded_as_tried_and_changes_nothing(
    session: Session, broker_client: FlaskClient, person: Person
) -> None:
    person_id = person.id
    assert broker_client.post("/test/refuse?act=1").status_code == 403

    [entry] = entries(session)
    assert (entry.action, entry.status_code, entry.succeeded) == (AuditAction.CHANGED, 403, False)
    assert phone_of(session, person_id) is None


def test_a_request_that_fails_is_recorded_after_its_rollback(
    session: Session, acting_app: Flask, broker_client: FlaskClient, person: Person
) -> None:
    acting_app.config["PROPAGATE_EXCEPTIONS"] = False
    person_id = person.id

    assert broker_client.post("/test/fail?act=1").status_code == 500

    [entry] = entries(session)
    assert (entry.action, entry.status_code) == (AuditAction.CHANGED, 500)
    assert phone_of(session, person_id) is None


def test_an_officer_reading_a_person_page_is_recorded(
    session: Session,
    client: FlaskClient,
    make_user: Callable[..., User],
    person: Person,
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    sign_in(client, officer)

    assert client.get(f"/council/people/{person.id}").status_code == 200
    assert client.get("/council/").status_code == 200  # not about a person: not recorded

    [entry] = entries(session)
    assert (entry.actor_id, entry.person_id, entry.consent_id) == (officer.id, person.id, None)
    assert entry.action is AuditAction.VIEWED
    assert entry.what == person.full_name


def test_a_citizen_on_their_own_pages_is_not_recorded(
    session: Session, client: FlaskClient, citizen: User
) -> None:
    sign_in(client, citizen)

    assert client.get("/my/").status_code == 200

    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 0
