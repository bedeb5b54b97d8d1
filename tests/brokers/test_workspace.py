"""The broker's workspace over HTTP (marketplace/brokers/): the caseload, adding a client with
paper consent, asking for consent by email, a client's page and notes, inviting a client to
claim their record; and the client's /my/notes."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.accounts.service import create_user
from marketplace.budgets.models import FunderPot, StreamKind
from marketplace.extensions import db
from marketplace.formatting import london_today, pounds
from marketplace.mail import outbox_messages
from marketplace.orders.positions import money_position
from marketplace.people.models import Authority, Client, ClientNote, Consent, Person, RecordClaim
from marketplace.types import utcnow
from providers.models import Organisation, OrganisationKind, OrganisationStatus
from tests.brokers.acting_helpers import consent
from tests.citizens.helpers import give_budget
from tests.conftest import PASSWORD, links_in_outbox, sign_in


@pytest.fixture
def broker(make_user: Callable[..., User]) -> User:
    user = make_user(Role.BROKER)
    user.organisation.status = OrganisationStatus.APPROVED
    user.organisation.name = "Herts Independent Brokerage"
    db.session.commit()
    return user


@pytest.fixture
def broker_client(app: Flask, broker: User) -> FlaskClient:
    browser = app.test_client()
    sign_in(browser, broker)
    return browser


@pytest.fixture
def dorothy(make_user: Callable[..., User], reference_data: None) -> User:
    """A citizen with an account of her own."""
    user = make_user(Role.CITIZEN, email="dorothy@example.org")
    user.person.full_name = "Dorothy Pearce"
    db.session.commit()
    return user


def _page(response: object) -> str:
    return response.get_data(as_text=True)  # type: ignore[attr-defined]


def _as_seen(page: str, email: str) -> str:
    """The page as its reader sees it, with the address typed taken out: the forms' CSRF
    tokens (signed with the time, so two pages a second apart differ) are left out too."""
    page = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', page)
    return page.replace(email, "ADDRESS")


def _add_client_form(**changes: str | list[str]) -> dict[str, str | list[str]]:
    ends = (utcnow() + timedelta(days=200)).date()
    form: dict[str, str | list[str]] = {
        "full_name": "Edna Clarke",
        "date_of_birth": ["27", "3", "1941"],
        "postcode": "SG1 1AA",
        "email": "",
        "authority": "person",
        "given_by_name": "Edna Clarke",
        "document_reference": "",
        "scopes": ["see", "shortlist", "order"],
        "ends_on": [str(ends.day), str(ends.month), str(ends.year)],
    }
    form.update(changes)
    return form


def test_an_empty_caseload_says_so_and_offers_both_ways_to_add(
    broker_client: FlaskClient,
) -> None:
    page = _page(broker_client.get("/broker/"))
    assert 'id="no-clients"' in page
    assert "/broker/clients/new" in page
    assert "/broker/clients/ask-for-consent" in page


def test_the_caseload_shows_a_clients_money_and_a_button_to_act_for_them(
    broker_client: FlaskClient,
    broker: User,
    dorothy: User,
    pots: dict[StreamKind, FunderPot],
) -> None:
    give_budget(dorothy.person, pots, council=13_000_00)
    consent(dorothy.person, broker=broker)
    response = broker_client.get("/broker/")
    page = _page(response)
    assert response.status_code == 200
    assert "Dorothy Pearce" in page
    assert "Consent given" in page
    assert f'action="/acting-for/{dorothy.person_id}"' in page
    assert "Act for Dorothy Pearce" in page
    # The figure the client's own home page shows today.
    figure = money_position(db.session, dorothy.person, today=london_today())
    assert f"{pounds(figure.available_pence)} left to spend now" in page
    assert f"/broker/clients/{dorothy.person_id}" in page


def test_a_consent_without_see_shows_no_money_and_a_withdrawn_one_no_button(
    broker_client: FlaskClient,
    broker: User,
    dorothy: User,
    make_user: Callable[..., User],
    pots: dict[StreamKind, FunderPot],
) -> None:
    give_budget(dorothy.person, pots, council=13_000_00)
    consent(dorothy.person, broker=broker, scopes=["shortlist"])
    other = make_user(Role.CITIZEN)
    other.person.full_name = "Walter Withdrawn"
    db.session.commit()
    consent(other.person, broker=broker, revoked=True)
    db.session.add(
        Client(
            brokerage_id=broker.organisation_id, person_id=other.person_id, added_by_id=broker.id
        )
    )
    db.session.commit()
    page = _page(broker_client.get("/broker/"))
    assert "Not covered by their consent" in page
    assert "left to spend now" not in page
    assert "Walter Withdrawn" in page
    assert "Consent withdrawn" in page
    assert f'action="/acting-for/{other.person_id}"' not in page
    assert f"/broker/clients/{other.person_id}" not in page
    # Nor can the broker open the withdrawn client's page.
    assert broker_client.get(f"/broker/clients/{other.person_id}").status_code == 404


def test_a_consent_ending_within_two_weeks_is_flagged(
    broker_client: FlaskClient, broker: User, dorothy: User
) -> None:
    consent(dorothy.person, broker=broker, ends_at=utcnow() + timedelta(days=5))
    page = _page(broker_client.get("/broker/"))
    assert 'id="ending-soon"' in page
    assert "Consent ending soon" in page


def test_adding_a_client_with_paper_consent(broker_client: FlaskClient, broker: User) -> None:
    assert broker_client.get("/broker/clients/new").status_code == 200
    response = broker_client.post("/broker/clients/new", data=_add_client_form())
    assert response.status_code == 302, _page(response)
    person = db.session.query(Person).filter_by(full_name="Edna Clarke").one()
    assert response.location.endswith(f"/broker/clients/{person.id}")
    [given] = db.session.query(Consent).filter_by(person_id=person.id).all()
    assert given.recorded_by_id == broker.id
    assert given.brokerage_id == broker.organisation_id
    assert given.scopes == ["see", "shortlist", "order"]
    page = _page(broker_client.get(response.location))
    assert "Edna Clarke" in page
    assert "Shortlist services for them" in page
    assert "Invite them to see their record" in page
    assert "Edna Clarke" in _page(broker_client.get("/broker/"))


def test_adding_a_client_with_bad_input_shows_the_errors_and_keeps_nothing(
    broker_client: FlaskClient,
) -> None:
    response = broker_client.post(
        "/broker/clients/new",
        data=_add_client_form(full_name="", scopes=[], ends_on=["", "", ""]),
    )
    page = _page(response)
    assert response.status_code == 400
    assert "govuk-error-summary" in page
    assert "Enter the client&#39;s full name" in page or "Enter the client's full name" in page
    assert "Select what they agreed you can do" in page
    assert "Enter the date the consent ends" in page
    assert db.session.query(Person).count() == 0


def test_an_attorneys_paper_consent_needs_the_documents_reference(
    broker_client: FlaskClient,
) -> None:
    form = _add_client_form(authority=Authority.LPA_HEALTH_WELFARE.value, given_by_name="Karen")
    response = broker_client.post("/broker/clients/new", data=form)
    assert response.status_code == 400
    assert "govuk-error-summary" in _page(response)
    assert db.session.query(Person).count() == 0
    form["document_reference"] = "7000-1234-5678"
    assert broker_client.post("/broker/clients/new", data=form).status_code == 302
    [given] = db.session.query(Consent).all()
    assert given.authority is Authority.LPA_HEALTH_WELFARE
    assert given.document_reference == "7000-1234-5678"


def test_a_consent_too_long_is_refused_beside_its_date(broker_client: FlaskClient) -> None:
    far = (utcnow() + timedelta(days=4 * 366)).date()
    response = broker_client.post(
        "/broker/clients/new",
        data=_add_client_form(ends_on=[str(far.day), str(far.month), str(far.year)]),
    )
    assert response.status_code == 400
    assert 'href="#ends_on-day"' in _page(response) or "#ends_on" in _page(response)
    assert db.session.query(Person).count() == 0


def test_asking_for_consent_reads_the_same_whether_the_address_has_an_account(
    app: Flask, broker_client: FlaskClient, broker: User, dorothy: User
) -> None:
    flashes = []
    for email in (dorothy.email, "nobody@example.org"):
        response = broker_client.post(
            "/broker/clients/ask-for-consent", data={"email": email}, follow_redirects=True
        )
        assert response.status_code == 200
        flashes.append(_as_seen(_page(response), email))
    assert flashes[0] == flashes[1]
    for email in (dorothy.email, "nobody@example.org"):
        [link] = links_in_outbox(app, email)
        assert link.endswith(f"/my/consents/new?brokerage={broker.organisation_id}")


def test_asking_for_consent_with_a_bad_address_shows_the_error(
    app: Flask, broker_client: FlaskClient
) -> None:
    response = broker_client.post("/broker/clients/ask-for-consent", data={"email": "not-an-email"})
    assert response.status_code == 400
    assert "govuk-error-summary" in _page(response)
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []


def test_a_broker_of_another_brokerage_cannot_open_the_client(
    app: Flask, broker: User, dorothy: User, make_user: Callable[..., User]
) -> None:
    consent(dorothy.person, broker=broker)
    stranger = make_user(Role.BROKER)
    browser = app.test_client()
    sign_in(browser, stranger)
    for path in ("", "/invite"):
        assert browser.get(f"/broker/clients/{dorothy.person_id}{path}").status_code == 404
    response = browser.post(f"/broker/clients/{dorothy.person_id}/notes", data={"text": "Hi"})
    assert response.status_code == 404
    assert db.session.query(ClientNote).count() == 0
    assert "Dorothy Pearce" not in _page(browser.get("/broker/"))


def test_notes_are_written_by_the_broker_and_read_by_the_client(
    app: Flask, broker_client: FlaskClient, broker: User, dorothy: User
) -> None:
    consent(dorothy.person, broker=broker)
    empty = broker_client.post(f"/broker/clients/{dorothy.person_id}/notes", data={"text": "  "})
    assert empty.status_code == 400
    assert "govuk-error-summary" in _page(empty)
    response = broker_client.post(
        f"/broker/clients/{dorothy.person_id}/notes",
        data={"text": "Prefers morning visits.\nDaughter Karen helps with forms."},
    )
    assert response.status_code == 302
    page = _page(broker_client.get(f"/broker/clients/{dorothy.person_id}"))
    assert "Prefers morning visits." in page
    assert "Daughter Karen helps with forms." in page
    # A client who consented online is on the caseload once a note is written.
    assert "Dorothy Pearce" in _page(broker_client.get("/broker/"))

    browser = app.test_client()
    sign_in(browser, dorothy)
    mine = _page(browser.get("/my/notes"))
    assert "Prefers morning visits." in mine
    assert "Herts Independent Brokerage" in mine
    assert "Test Broker" in mine


def test_the_client_sees_notes_even_after_withdrawing_consent(
    app: Flask, broker: User, dorothy: User
) -> None:
    given = consent(dorothy.person, broker=broker)
    db.session.add(
        ClientNote(
            person_id=dorothy.person_id,
            brokerage_id=broker.organisation_id,
            written_by_id=broker.id,
            text="Met at Lister Hospital.",
        )
    )
    given.revoked_at = utcnow()
    given.revoked_by_name = "Dorothy Pearce"
    db.session.commit()
    browser = app.test_client()
    sign_in(browser, dorothy)
    assert "Met at Lister Hospital." in _page(browser.get("/my/notes"))


def test_a_citizen_with_no_notes_is_told_so(app: Flask, dorothy: User) -> None:
    browser = app.test_client()
    sign_in(browser, dorothy)
    assert 'id="no-notes"' in _page(browser.get("/my/notes"))


def test_an_attorney_acting_for_the_person_reads_their_notes(
    app: Flask, broker: User, dorothy: User, make_user: Callable[..., User]
) -> None:
    karen = make_user(Role.CITIZEN, email="karen@example.org")
    consent(dorothy.person, grantee=karen, authority=Authority.LPA_HEALTH_WELFARE)
    db.session.add(
        ClientNote(
            person_id=dorothy.person_id,
            brokerage_id=broker.organisation_id,
            written_by_id=broker.id,
            text="Needs a ground-floor room.",
        )
    )
    db.session.commit()
    browser = app.test_client()
    sign_in(browser, karen)
    assert "Needs a ground-floor room." not in _page(browser.get("/my/notes"))
    assert browser.post(f"/acting-for/{dorothy.person_id}").status_code == 302
    page = _page(browser.get("/my/notes"))
    assert "Needs a ground-floor room." in page
    assert "Notes about Dorothy Pearce" in page


def test_a_broker_acting_for_a_client_is_refused_the_clients_notes_page(
    app: Flask, broker_client: FlaskClient, broker: User, dorothy: User
) -> None:
    consent(dorothy.person, broker=broker)
    assert broker_client.post(f"/acting-for/{dorothy.person_id}").status_code == 302
    # The broker reads their brokerage's notes on the client's page, not the client's own.
    assert broker_client.get("/my/notes").status_code == 403


def _invite(broker_client: FlaskClient, person_id: object, email: str) -> str:
    response = broker_client.post(
        f"/broker/clients/{person_id}/invite", data={"email": email}, follow_redirects=True
    )
    assert response.status_code == 200
    return _as_seen(_page(response), email)


def test_a_client_with_no_account_is_invited_to_claim_their_record(
    app: Flask, broker_client: FlaskClient, broker: User
) -> None:
    added = broker_client.post(
        "/broker/clients/new", data=_add_client_form(email="edna@example.org")
    )
    person = db.session.query(Person).filter_by(full_name="Edna Clarke").one()
    broker_client.post(f"/broker/clients/{person.id}/notes", data={"text": "Likes gardening."})
    assert added.status_code == 302
    form = _page(broker_client.get(f"/broker/clients/{person.id}/invite"))
    assert 'value="edna@example.org"' in form
    _invite(broker_client, person.id, "edna@example.org")
    [link] = links_in_outbox(app, "edna@example.org")
    path = re.sub(r"^https?://[^/]+", "", link)
    assert path.startswith("/claim-your-record/")

    visitor = app.test_client()
    assert "edna@example.org" in _page(visitor.get(path))
    weak = visitor.post(path, data={"password": "edna"})
    assert weak.status_code == 400
    assert "govuk-error-summary" in _page(weak)
    made = visitor.post(path, data={"password": PASSWORD})
    assert made.status_code == 302
    user = db.session.query(User).filter_by(email="edna@example.org").one()
    assert user.role is Role.CITIZEN
    assert user.person_id == person.id
    assert "Likes gardening." in _page(visitor.get("/my/notes"))
    # The link is spent; and the broker is told the client has an account now.
    assert "This link cannot be used" in _page(app.test_client().get(path))
    page = _page(broker_client.get(f"/broker/clients/{person.id}"))
    assert "has an account" in page
    assert broker_client.get(f"/broker/clients/{person.id}/invite").status_code == 302


def test_an_invitation_to_an_address_with_an_account_says_the_same_and_makes_no_link(
    app: Flask, broker_client: FlaskClient, dorothy: User
) -> None:
    broker_client.post("/broker/clients/new", data=_add_client_form(), follow_redirects=True)
    person = db.session.query(Person).filter_by(full_name="Edna Clarke").one()
    with_account = _invite(broker_client, person.id, dorothy.email)
    without = _invite(broker_client, person.id, "fresh@example.org")
    assert with_account == without
    assert db.session.query(RecordClaim).filter_by(email=dorothy.email).count() == 0
    assert not any("/claim-your-record/" in link for link in links_in_outbox(app, dorothy.email))
    [message] = [
        m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == dorothy.email
    ]
    assert message.subject == "You already have an account"


def test_an_unknown_claim_link_cannot_be_used(client: FlaskClient) -> None:
    response = client.get("/claim-your-record/not-a-token")
    assert response.status_code == 400
    assert "This link cannot be used" in _page(response)


def test_the_citizens_home_links_to_their_notes(app: Flask, dorothy: User) -> None:
    browser = app.test_client()
    sign_in(browser, dorothy)
    page = _page(browser.get("/my/"))
    assert 'id="notes-link"' in page
    assert 'href="/my/notes"' in page


def test_asking_for_consent_is_held_to_the_sign_ups_rate(make_app: Callable[..., Flask]) -> None:
    """Each request emails an address the broker types: a broker (or a stolen session) cannot
    use it to send mail without limit."""
    app = make_app(RATELIMIT_ENABLED=True, SIGN_UP_RATE_LIMIT="2 per minute")
    with app.app_context():
        brokerage = Organisation(
            name="Limited Brokerage",
            status=OrganisationStatus.APPROVED,
            kind=OrganisationKind.BROKERAGE,
        )
        db.session.add(brokerage)
        db.session.flush()
        user = create_user(
            email="limited.broker@example.org",
            full_name="Lim Broker",
            password=PASSWORD,
            role=Role.BROKER,
            organisation_id=brokerage.id,
        )
        db.session.commit()
        browser = app.test_client()
        sign_in(browser, user)
        statuses = [
            browser.post(
                "/broker/clients/ask-for-consent", data={"email": f"person{n}@example.org"}
            ).status_code
            for n in range(3)
        ]
        assert statuses == [302, 302, 429]
        sent = outbox_messages(app.config["MAIL_OUTBOX_PATH"])
        assert sorted(m.to for m in sent) == ["person0@example.org", "person1@example.org"]


def test_a_record_the_brokerage_did_not_make_cannot_be_invited_to_be_claimed(
    app: Flask, broker_client: FlaskClient, broker: User
) -> None:
    """An invitation makes an account that sees everything about the person: a brokerage may
    send one only for a record it made itself, not for the council's person it holds a consent
    of (their budget and orders are not the brokerage's to hand to an address it types)."""
    person = Person(full_name="Council Person", case_reference="HCC-001")
    db.session.add(person)
    db.session.commit()
    consent(person, broker=broker)
    page = _page(broker_client.get(f"/broker/clients/{person.id}"))
    assert 'id="invite"' not in page
    assert "you cannot invite them to it" in page
    assert broker_client.get(f"/broker/clients/{person.id}/invite").status_code == 404
    response = broker_client.post(
        f"/broker/clients/{person.id}/invite", data={"email": "someone@example.org"}
    )
    assert response.status_code == 404
    assert db.session.query(RecordClaim).count() == 0
    assert outbox_messages(app.config["MAIL_OUTBOX_PATH"]) == []


def test_a_suspended_brokerage_is_told_it_cannot_act_and_offered_no_button(
    broker_client: FlaskClient, broker: User, dorothy: User
) -> None:
    consent(dorothy.person, broker=broker)
    assert broker.organisation is not None
    broker.organisation.status = OrganisationStatus.SUSPENDED
    db.session.commit()

    page = _page(broker_client.get("/broker/"))

    assert "has not approved your brokerage, or has suspended it" in page
    assert "Act for Dorothy Pearce" not in page
    assert f'action="/acting-for/{dorothy.person_id}"' not in page
    assert broker_client.post(f"/acting-for/{dorothy.person_id}").status_code == 404
