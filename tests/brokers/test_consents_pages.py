"""The consent pages: the person's /my/consents (every consent in words; withdrawing with a
confirm page, at once), /my/consents/new (giving consent to an approved brokerage, opened from a
broker's emailed link with ?brokerage=<id>), and the council's person pages (a person's
consents; recording a lasting power of attorney or deputyship for a family member's account)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session as OrmSession

from marketplace.accounts.models import User
from marketplace.accounts.policy import is_attorney, live_consent
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.notifications.models import Notification, NotificationKind
from marketplace.people import consents
from marketplace.people.models import Authority, Consent, ConsentScope, Person
from marketplace.types import utcnow
from providers.models import Organisation, OrganisationKind, OrganisationStatus
from tests.conftest import sign_in

MakeUser = Callable[..., User]


@pytest.fixture
def citizen(make_user: MakeUser) -> User:
    user = make_user(Role.CITIZEN)
    user.person.full_name = "Arthur Dent"
    db.session.commit()
    return user


@pytest.fixture
def broker(make_user: MakeUser) -> User:
    return make_user(Role.BROKER)


@pytest.fixture
def brokerage(broker: User) -> Organisation:
    organisation = db.session.get(Organisation, broker.organisation_id)
    assert organisation is not None
    organisation.name = "Herts Independent Brokerage"
    db.session.commit()
    return organisation


@pytest.fixture
def officer(make_user: MakeUser) -> User:
    return make_user(Role.COUNCIL_OFFICER)


def _signed_in(app: Flask, user: User) -> FlaskClient:
    client = app.test_client()
    sign_in(client, user)
    return client


def _give(person: Person, brokerage: Organisation, **overrides: object) -> Consent:
    now = utcnow()
    arguments: dict[str, object] = {
        "person": person,
        "scopes": [ConsentScope.SEE, ConsentScope.SHORTLIST],
        "authority": Authority.PERSON,
        "given_by_name": person.full_name,
        "starts_at": now - timedelta(days=1),
        "ends_at": now + timedelta(days=60),
        "recorded_by": person.user,
        "brokerage": brokerage,
    }
    arguments.update(overrides)
    consent = consents.give(db.session, **arguments)  # type: ignore[arg-type]
    db.session.commit()
    return consent


def _date(day: object) -> list[str]:
    return [str(day.day), str(day.month), str(day.year)]  # type: ignore[attr-defined]


def _text(response: object) -> str:
    return re.sub(r"\s+", " ", response.get_data(as_text=True))  # type: ignore[attr-defined]


def test_the_person_sees_every_consent_in_words(
    app: Flask, citizen: User, brokerage: Organisation, make_organisation: Callable
) -> None:
    person = citizen.person
    other = make_organisation("Council Service Finders")
    other.kind = OrganisationKind.BROKERAGE
    live = _give(person, brokerage, scopes=list(ConsentScope))
    withdrawn = _give(person, other)
    consents.revoke(db.session, withdrawn, by=citizen)
    db.session.commit()

    page = _text(_signed_in(app, citizen).get("/my/consents"))

    assert "Who can act for you" in page
    assert "Herts Independent Brokerage" in page
    assert "Any broker at Herts Independent Brokerage" in page
    for scope in ConsentScope:
        assert scope.label in page
    assert "Arthur Dent: given by the person" in page
    assert "In use" in page
    assert "Withdrawn" in page
    assert f"by {citizen.full_name}" in page
    # Only the live one can be withdrawn; a screen reader hears whose consent it is.
    assert page.count("Withdraw consent") == 1
    assert (
        'Withdraw consent<span class="govuk-visually-hidden"> (Herts Independent Brokerage)' in page
    )
    assert f"/my/consents/{live.id}/withdraw" in page
    assert f"/my/consents/{withdrawn.id}/withdraw" not in page


def test_the_person_withdraws_a_consent_after_confirming_and_it_ends_at_once(
    app: Flask, citizen: User, broker: User, brokerage: Organisation
) -> None:
    consent = _give(citizen.person, brokerage)
    client = _signed_in(app, citizen)

    confirm = client.get(f"/my/consents/{consent.id}/withdraw")
    assert confirm.status_code == 200
    assert "Are you sure you want to withdraw consent for Herts Independent Brokerage?" in _text(
        confirm
    )
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).revoked_at is None  # type: ignore[union-attr]

    done = client.post(f"/my/consents/{consent.id}/withdraw", follow_redirects=True)

    assert done.status_code == 200
    assert "Consent withdrawn: Herts Independent Brokerage can no longer act for you" in _text(done)
    # The broker's next request (a fresh session) finds no live consent.
    with OrmSession(db.engine) as fresh:
        again = fresh.get(Person, citizen.person_id)
        broker_again = fresh.get(User, broker.id)
        assert again is not None
        assert broker_again is not None
        assert live_consent(broker_again, again) is None
        stored = fresh.get(Consent, consent.id)
        assert stored is not None
        assert stored.revoked_by_id == citizen.id
    told = db.session.scalars(
        select(Notification).where(
            Notification.user_id == broker.id,
            Notification.kind == NotificationKind.CONSENT_REVOKED,
        )
    ).all()
    assert len(told) == 1
    # Withdrawing again says it has already ended.
    again_page = client.post(f"/my/consents/{consent.id}/withdraw", follow_redirects=True)
    assert "already ended or been withdrawn" in _text(again_page)


def test_another_persons_consent_cannot_be_withdrawn(
    app: Flask, citizen: User, brokerage: Organisation, make_user: MakeUser
) -> None:
    consent = _give(citizen.person, brokerage)
    stranger = _signed_in(app, make_user(Role.CITIZEN))

    assert stranger.get(f"/my/consents/{consent.id}/withdraw").status_code == 404
    assert stranger.post(f"/my/consents/{consent.id}/withdraw").status_code == 404
    db.session.expire_all()
    assert db.session.get(Consent, consent.id).revoked_at is None  # type: ignore[union-attr]


def test_the_brokers_link_opens_the_form_with_their_brokerage_chosen(
    app: Flask, citizen: User, brokerage: Organisation, make_organisation: Callable
) -> None:
    other = make_organisation("Council Service Finders")
    other.kind = OrganisationKind.BROKERAGE
    pending = make_organisation("Not Yet Approved Brokerage", OrganisationStatus.PENDING)
    pending.kind = OrganisationKind.BROKERAGE
    provider = make_organisation("A Care Provider")
    db.session.commit()
    client = _signed_in(app, citizen)

    page = client.get(f"/my/consents/new?brokerage={brokerage.id}").get_data(as_text=True)

    assert re.search(rf'value="{brokerage.id}"\s+checked', page)
    assert "Council Service Finders" in page
    assert "Not Yet Approved Brokerage" not in page
    assert "A Care Provider" not in page
    # A link naming something that is not an approved brokerage chooses nothing.
    for odd in (pending.id, provider.id, "not-an-id"):
        assert "checked" not in client.get(f"/my/consents/new?brokerage={odd}").get_data(
            as_text=True
        )


def test_the_person_gives_consent_to_a_brokerage(
    app: Flask, citizen: User, broker: User, brokerage: Organisation
) -> None:
    client = _signed_in(app, citizen)
    last_day = london_today() + timedelta(days=180)

    done = client.post(
        "/my/consents/new",
        data={
            "brokerage": str(brokerage.id),
            "scopes": ["see", "shortlist", "order"],
            "ends_on": _date(last_day),
        },
        follow_redirects=True,
    )

    assert done.status_code == 200
    assert "Consent given: Herts Independent Brokerage can now act for you" in _text(done)
    consent = db.session.scalars(select(Consent)).one()
    assert consent.person_id == citizen.person_id
    assert consent.brokerage_id == brokerage.id
    assert consent.scopes == ["see", "shortlist", "order"]
    assert consent.authority is Authority.PERSON
    assert consent.given_by_name == "Arthur Dent"
    assert consent.recorded_by_id == citizen.id
    assert consent.ends_at == consents.end_of_day(last_day)
    assert live_consent(broker, citizen.person, "order") == consent
    assert live_consent(broker, citizen.person, "pay") is None


def test_giving_consent_with_nothing_chosen_shows_every_error(
    app: Flask, citizen: User, brokerage: Organisation
) -> None:
    response = _signed_in(app, citizen).post("/my/consents/new", data={})

    assert response.status_code == 400
    page = _text(response)
    assert "There is a problem" in page
    for message in (
        "Select the brokerage",
        "Select what their brokers can do",
        "Enter the date the consent should end",
    ):
        assert message in page
    assert db.session.scalars(select(Consent)).all() == []


@pytest.mark.parametrize(
    ("ends_on", "message"),
    [
        (lambda: london_today() + timedelta(days=3 * 366 + 2), "Consent can last at most 3 years"),
        (lambda: london_today() - timedelta(days=1), "The end date must be in the future"),
        (lambda: ["31", "2", "2027"], "must be a real date"),
    ],
)
def test_a_bad_end_date_is_shown_beside_the_date(
    app: Flask,
    citizen: User,
    brokerage: Organisation,
    ends_on: Callable[[], object],
    message: str,
) -> None:
    day = ends_on()
    response = _signed_in(app, citizen).post(
        "/my/consents/new",
        data={
            "brokerage": str(brokerage.id),
            "scopes": ["see"],
            "ends_on": day if isinstance(day, list) else _date(day),
        },
    )

    assert response.status_code == 400
    page = _text(response)
    assert message in page
    assert 'href="#ends_on-day"' in page  # the summary links to the date's first box
    assert db.session.scalars(select(Consent)).all() == []


def test_a_second_consent_to_the_same_brokerage_is_refused_in_words(
    app: Flask, citizen: User, brokerage: Organisation
) -> None:
    _give(citizen.person, brokerage)
    response = _signed_in(app, citizen).post(
        "/my/consents/new",
        data={
            "brokerage": str(brokerage.id),
            "scopes": ["see"],
            "ends_on": _date(london_today() + timedelta(days=30)),
        },
    )

    assert response.status_code == 400
    assert "withdraw that consent first" in _text(response)
    assert len(db.session.scalars(select(Consent)).all()) == 1


def test_a_provider_is_not_a_brokerage_to_give_consent_to(
    app: Flask, citizen: User, brokerage: Organisation, make_organisation: Callable
) -> None:
    provider = make_organisation("A Care Provider")
    db.session.commit()
    response = _signed_in(app, citizen).post(
        "/my/consents/new",
        data={
            "brokerage": str(provider.id),
            "scopes": ["see"],
            "ends_on": _date(london_today() + timedelta(days=30)),
        },
    )

    assert response.status_code == 400
    assert db.session.scalars(select(Consent)).all() == []


def test_the_council_sees_a_persons_consents(
    app: Flask, citizen: User, brokerage: Organisation, officer: User
) -> None:
    _give(citizen.person, brokerage)
    page = _text(_signed_in(app, officer).get(f"/council/people/{citizen.person_id}/consents"))

    assert "Who can act for them" in page
    assert "Any broker at Herts Independent Brokerage" in page
    assert "Withdraw consent" not in page
    assert "Record a lasting power of attorney or deputyship" in page


def test_an_officer_records_a_power_of_attorney_for_a_family_member(
    app: Flask, citizen: User, officer: User, make_user: MakeUser
) -> None:
    daughter = make_user(Role.CITIZEN, email="Karen.Pearce@example.org")
    client = _signed_in(app, officer)
    path = f"/council/people/{citizen.person_id}/consents/attorney"
    assert client.get(path).status_code == 200

    done = client.post(
        path,
        data={
            "email": "karen.pearce@EXAMPLE.org",
            "authority": "lpa_property_finance",
            "document_reference": "7000-4821-6690",
            "scopes": [scope.value for scope in ConsentScope],
            "starts_on": _date(london_today() - timedelta(days=10)),
            "ends_on": _date(london_today() + timedelta(days=365)),
        },
        follow_redirects=True,
    )

    assert done.status_code == 200
    assert "can now act for Arthur Dent" in _text(done)
    consent = db.session.scalars(select(Consent)).one()
    assert consent.grantee_user_id == daughter.id
    assert consent.authority is Authority.LPA_PROPERTY_FINANCE
    assert consent.document_reference == "7000-4821-6690"
    assert consent.given_by_name == daughter.full_name
    assert consent.recorded_by_id == officer.id
    assert consent.starts_at == consents.start_of_day(london_today() - timedelta(days=10))
    assert is_attorney(daughter, citizen.person)
    # Both the family member and the person are told.
    for user in (daughter, citizen):
        assert db.session.scalars(
            select(Notification).where(
                Notification.user_id == user.id,
                Notification.kind == NotificationKind.CONSENT_GIVEN,
            )
        ).all()


def test_recording_for_an_email_with_no_account_asks_them_to_sign_up_first(
    app: Flask, citizen: User, officer: User, broker: User
) -> None:
    client = _signed_in(app, officer)
    path = f"/council/people/{citizen.person_id}/consents/attorney"
    form = {
        "authority": "deputy",
        "document_reference": "COP 1234567",
        "scopes": ["see"],
        "starts_on": _date(london_today()),
        "ends_on": _date(london_today() + timedelta(days=30)),
    }

    for email in ("nobody@example.org", broker.email):  # no account; not a citizen's
        response = client.post(path, data={**form, "email": email})
        assert response.status_code == 400
        assert "Ask the family member to create an account on this service first" in _text(response)
    assert db.session.scalars(select(Consent)).all() == []


def test_recording_with_missing_answers_shows_every_error(
    app: Flask, citizen: User, officer: User
) -> None:
    response = _signed_in(app, officer).post(
        f"/council/people/{citizen.person_id}/consents/attorney", data={}
    )

    assert response.status_code == 400
    page = _text(response)
    for message in (
        "Enter the family member",
        "Select the kind of authority",
        "Enter the document reference",
        "Select what they can do for the person",
        "Enter the start date",
        "Enter the end date",
    ):
        assert message in page


def test_the_persons_home_and_the_councils_person_page_link_to_the_consents(
    app: Flask, citizen: User, officer: User
) -> None:
    home = _signed_in(app, citizen).get("/my/").get_data(as_text=True)
    assert 'href="/my/consents"' in home

    person_page = _signed_in(app, officer).get(f"/council/people/{citizen.person_id}")
    assert f'href="/council/people/{citizen.person_id}/consents"' in person_page.get_data(
        as_text=True
    )
