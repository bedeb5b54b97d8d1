"""An attacker's probe of issue 17's pages and API: dates at the calendar's edge, hostile text
in the fields that reach an email's subject, and emails that must carry a link, never the
content of a question or a note."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.accounts.service import create_user
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.people import caseload, questions, shortlists
from marketplace.people.models import Authority, Consent, Person
from marketplace.types import utcnow
from providers import listings
from providers.models import (
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceStatus,
)
from providers.organisations import change_status
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.api.integration_helpers import error_of
from tests.api.test_consents_api import token_for
from tests.brokers.acting_helpers import start_acting
from tests.brokers.shortlist_fixtures import give_consent, services
from tests.conftest import PASSWORD, sign_in

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


# Other people's ids, and users of every kind who hold no live consent, find nothing.


@dataclass
class World:
    """A client with a live consent to a broker's brokerage, a thread with a provider, a
    shortlist item and a note; and outsiders of every kind."""

    broker: User
    client: User
    person: Person
    consent: Consent
    service: Service
    staff: User
    thread: questions.QuestionThread
    item: shortlists.ShortlistItem
    other_citizen: User
    other_broker: User
    other_staff: User
    family: User
    admin: User


@pytest.fixture
def world(
    make_user: MakeUser,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> World:
    broker = make_user(Role.BROKER)
    client_user = make_user(Role.CITIZEN)
    person = client_user.person
    assert person is not None
    given = give_consent(person, broker=broker)
    [service] = services(make_organisation, make_listing, count=1)
    staff = make_user(Role.PROVIDER_STAFF, organisation=service.organisation)
    thread = questions.ask(
        db.session, person=person, service=service, by=client_user, text="Before 8am?"
    )
    item = shortlists.add(db.session, person, service.id, by=client_user)
    caseload.write_note(db.session, person=person, by=broker, text="Prefers mornings")
    db.session.commit()
    return World(
        broker=broker,
        client=client_user,
        person=person,
        consent=given,
        service=service,
        staff=staff,
        thread=thread,
        item=item,
        other_citizen=make_user(Role.CITIZEN),
        other_broker=make_user(Role.BROKER),
        other_staff=make_user(Role.PROVIDER_STAFF),
        family=make_user(Role.CITIZEN),
        admin=make_user(Role.ADMIN),
    )


_OTHERS_REQUESTS = [
    ("GET", "/my/questions/{thread}"),
    ("POST", "/my/questions/{thread}"),
    ("POST", "/my/shortlist/{item}/remove"),
    ("GET", "/my/shortlist/{item}/note"),
    ("POST", "/my/shortlist/{item}/note"),
    ("GET", "/my/consents/{consent}/withdraw"),
    ("POST", "/my/consents/{consent}/withdraw"),
    ("POST", "/acting-for/{person}"),
    ("GET", "/broker/clients/{person}"),
    ("POST", "/broker/clients/{person}/notes"),
    ("GET", "/broker/clients/{person}/invite"),
    ("POST", "/broker/clients/{person}/invite"),
    ("GET", "/provider/questions/{thread}"),
    ("POST", "/provider/questions/{thread}"),
    ("GET", "/council/people/{person}/consents"),
    ("POST", "/council/people/{person}/consents/attorney"),
]


@pytest.mark.parametrize("who", ["other_citizen", "family", "other_broker", "other_staff", "admin"])
def test_others_find_nothing_of_the_persons_and_change_nothing(
    app: Flask, world: World, who: str
) -> None:
    ids = {name: getattr(world, name).id for name in ("thread", "item", "consent", "person")}
    client = app.test_client()
    sign_in(client, getattr(world, who))
    for method, path in _OTHERS_REQUESTS:
        url = path.format(**ids)
        response = client.open(
            url,
            method=method,
            data={"text": "Hostile", "note": "Hostile", "email": "x@example.org"},
        )
        assert response.status_code in (403, 404), (url, method, response.status_code)
    for path in ("/my/notes", "/my/questions", "/my/shortlist", "/my/consents"):
        page = client.get(path).get_data(as_text=True)
        assert "Prefers mornings" not in page, path
        assert "Before 8am?" not in page, path
    db.session.expire_all()
    thread = world.thread
    assert len(thread.messages) == 1
    assert world.consent.revoked_at is None
    assert shortlists.item_of(db.session, world.person, ids["item"]) is not None
    assert world.item.note is None


@pytest.mark.parametrize("who", ["other_citizen", "family", "other_broker"])
def test_others_tokens_find_nothing_of_the_persons_consents(
    client: FlaskClient, world: World, who: str
) -> None:
    headers = token_for(getattr(world, who))
    consent_id = world.consent.id
    person_id = world.person.id
    assert client.get(f"/api/v1/consents/{consent_id}", headers=headers).status_code == 404
    revoked = client.post(f"/api/v1/consents/{consent_id}/revoke", headers=headers)
    assert revoked.status_code == 404, revoked.get_json()
    listed = client.get(f"/api/v1/people/{person_id}/consents", headers=headers)
    assert listed.status_code in (403, 404), listed.get_json()
    given = client.post(
        f"/api/v1/people/{person_id}/consents",
        json={
            "brokerage_id": str(world.other_broker.organisation_id),
            "scopes": ["see"],
            "ends_on": "2027-01-01",
        },
        headers=headers,
    )
    assert given.status_code in (403, 404), given.get_json()
    db.session.expire_all()
    assert world.consent.revoked_at is None
    assert len(world.person.consents) == 1


# Hidden and chosen fields tampered with: refused with the error summary, nothing recorded.


@pytest.mark.parametrize(
    "tampered",
    [
        {"brokerage": "provider"},
        {"brokerage": "pending"},
        {"brokerage": "not-a-uuid"},
        {"scopes": ["see", "admin"]},
        {"scopes": []},
        {"ends_on": ["29", "2", "2027"]},
        {"ends_on": ["1", "1", "2020"]},
        {"ends_on": ["2", "1", "2147483648"]},
    ],
)
def test_a_tampered_consent_form_is_explained_and_records_nothing(
    client: FlaskClient,
    make_user: MakeUser,
    make_organisation: Callable[..., Organisation],
    brokerage_broker: User,
    tampered: dict[str, object],
) -> None:
    citizen = make_user(Role.CITIZEN)
    provider = make_organisation("Chiltern Home Care")
    pending = make_organisation("Pending Brokerage", status=OrganisationStatus.PENDING)
    pending.kind = OrganisationKind.BROKERAGE
    db.session.commit()
    named = {"provider": str(provider.id), "pending": str(pending.id)}
    data: dict[str, object] = {
        "brokerage": str(brokerage_broker.organisation_id),
        "scopes": ["see"],
        "ends_on": ["1", "6", "2027"],
        **tampered,
    }
    data["brokerage"] = named.get(str(data["brokerage"]), data["brokerage"])
    sign_in(client, citizen)
    response = client.post("/my/consents/new", data=data)
    assert response.status_code == 400
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert _consents() == 0


@pytest.mark.parametrize(
    ("grantee", "tampered"),
    [
        ("staff", {}),
        ("officer", {}),
        ("broker", {}),
        ("mother", {}),
        ("daughter", {"authority": "person"}),
        ("daughter", {"scopes": ["see", "admin"]}),
        ("daughter", {"document_reference": ""}),
        ("daughter", {"document_reference": "x" * 10_000}),
        ("daughter", {"starts_on": ["1", "6", "2027"], "ends_on": ["1", "5", "2027"]}),
        ("daughter", {"starts_on": ["29", "2", "2027"]}),
        ("daughter", {"email": "daughter@example.org\r\nBcc: x@example.org"}),
    ],
)
def test_a_tampered_attorney_form_is_explained_and_records_nothing(
    client: FlaskClient, make_user: MakeUser, grantee: str, tampered: dict[str, object]
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    mother = make_user(Role.CITIZEN)
    users = {
        "staff": make_user(Role.PROVIDER_STAFF),
        "officer": officer,
        "broker": make_user(Role.BROKER),
        "mother": mother,
        "daughter": make_user(Role.CITIZEN, email="daughter@example.org"),
    }
    sign_in(client, officer)
    response = client.post(
        f"/council/people/{mother.person_id}/consents/attorney",
        data={
            "email": users[grantee].email,
            "authority": "lpa_health_welfare",
            "document_reference": "LPA 1",
            "scopes": ["see"],
            "starts_on": ["1", "1", "2026"],
            "ends_on": ["1", "6", "2027"],
            **tampered,
        },
    )
    assert response.status_code == 400
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert _consents() == 0


# Emails carry a link, never what is written about a person, nor their name to a stranger.


def test_an_invitation_to_an_address_with_an_account_does_not_name_the_client(
    app: Flask, client: FlaskClient, make_user: MakeUser, brokerage_broker: User
) -> None:
    """The broker types the address; if it is someone else's account (a typo, a neighbour),
    its owner must not learn who the client is."""
    stranger = make_user(Role.CITIZEN)
    sign_in(client, brokerage_broker)
    added = client.post(
        "/broker/clients/new",
        data={
            "full_name": "Dorothy Pearce",
            "authority": "person",
            "given_by_name": "Dorothy Pearce",
            "scopes": ["see"],
            "ends_on": ["1", "6", "2027"],
        },
    )
    assert added.status_code == 302, added.status_code
    invited = client.post(f"{added.location}/invite", data={"email": stranger.email})
    assert invited.status_code == 302, invited.status_code
    [sent] = [m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == stranger.email]
    assert "Pearce" not in sent.subject + sent.body


def test_emails_about_questions_and_notes_carry_a_link_not_what_was_written(
    app: Flask, world: World
) -> None:
    secret = "My husband's dementia is getting worse at night"
    answer = "We have a night carer free from Monday, ask for Gita"
    client_user, broker, staff = world.client, world.broker, world.staff
    person, service = world.person, world.service
    asker = app.test_client()
    sign_in(asker, broker)
    start_acting(asker, person)
    asked = asker.post(f"/my/questions/ask/{service.id}", data={"text": secret})
    assert asked.status_code == 302
    note = asker.post(f"/broker/clients/{person.id}/notes", data={"text": secret})
    assert note.status_code == 302
    provider = app.test_client()
    sign_in(provider, staff)
    thread_id = asked.location.rsplit("/", 1)[1]
    answered = provider.post(f"/provider/questions/{thread_id}", data={"text": answer})
    assert answered.status_code == 302
    mail = outbox_messages(app.config["MAIL_OUTBOX_PATH"])
    readers = {client_user.email, broker.email, staff.email}
    assert {m.to for m in mail} >= readers
    for message in mail:
        assert secret not in message.subject + message.body
        assert answer not in message.subject + message.body
        assert "night" not in message.subject + message.body


SCRIPT = '<script>alert("x")</script>'
RTL = "\u202egnp.exe"


def test_hostile_names_and_text_are_shown_as_text_on_every_new_page(
    app: Flask, world: World
) -> None:
    """A person, a broker and a brokerage named with markup and an RTL override, and a
    question, an answer, a shortlist note and a client note of 10,000 characters of it: every
    page that shows them escapes them."""
    world.person.full_name = SCRIPT + RTL
    world.broker.full_name = SCRIPT
    brokerage = db.session.get(Organisation, world.broker.organisation_id)
    assert brokerage is not None
    brokerage.name = SCRIPT
    world.service.name = SCRIPT
    db.session.commit()
    long_text = (SCRIPT + RTL + " ") * (10_000 // len(SCRIPT + RTL + " "))
    broker = app.test_client()
    sign_in(broker, world.broker)
    start_acting(broker, world.person)
    asked = broker.post(f"/my/questions/ask/{world.service.id}", data={"text": long_text[:4000]})
    assert asked.status_code in (302, 400), asked.status_code
    too_long = broker.post(f"/my/questions/ask/{world.service.id}", data={"text": long_text})
    assert too_long.status_code == 400
    assert "govuk-error-summary" in too_long.get_data(as_text=True)
    assert broker.post(
        f"/broker/clients/{world.person.id}/notes", data={"text": long_text[:1000]}
    ).status_code in (302, 400)
    assert broker.post(
        f"/my/shortlist/{world.item.id}/note", data={"note": long_text[:500]}
    ).status_code in (302, 400)
    staff = app.test_client()
    sign_in(staff, world.staff)
    owner = app.test_client()
    sign_in(owner, world.client)
    pages = [
        (broker, "/broker/"),
        (broker, f"/broker/clients/{world.person.id}"),
        (broker, "/my/"),
        (broker, "/my/questions"),
        (broker, f"/my/questions/{world.thread.id}"),
        (broker, "/my/shortlist"),
        (staff, "/provider/questions"),
        (staff, f"/provider/questions/{world.thread.id}"),
        (owner, "/my/consents"),
        (owner, "/my/notes"),
        (owner, "/my/shortlist"),
        (owner, "/my/questions"),
        (owner, "/notifications"),
    ]
    for user_client, path in pages:
        response = user_client.get(path)
        page = response.get_data(as_text=True)
        assert response.status_code == 200, (path, response.status_code)
        assert "<script>alert" not in page, path


def test_a_family_member_on_the_persons_word_and_a_broker_cannot_change_consents(
    app: Flask, client: FlaskClient, world: World
) -> None:
    """Consent to act (every scope) is not authority to decide: neither a family member
    without a power of attorney nor a broker gives or withdraws the person's consents, by
    page or by token."""
    give_consent(world.person, grantee=world.family)
    brokerage_id = str(world.broker.organisation_id)
    for user in (world.family, world.broker):
        browser = app.test_client()
        sign_in(browser, user)
        start_acting(browser, world.person)
        for path in (f"/my/consents/{world.consent.id}/withdraw", "/my/consents/new"):
            for method in ("GET", "POST"):
                response = browser.open(
                    path,
                    method=method,
                    data={
                        "brokerage": brokerage_id,
                        "scopes": ["pay"],
                        "ends_on": ["1", "6", "2027"],
                    },
                )
                assert response.status_code == 403, (user.role, path, method)
        headers = token_for(user)
        revoked = client.post(f"/api/v1/consents/{world.consent.id}/revoke", headers=headers)
        assert revoked.status_code in (403, 404), revoked.get_json()
        given = client.post(
            f"/api/v1/people/{world.person.id}/consents",
            json={"brokerage_id": brokerage_id, "scopes": ["pay"], "ends_on": "2027-06-01"},
            headers=headers,
        )
        assert given.status_code in (403, 404), given.get_json()
    db.session.expire_all()
    assert world.consent.revoked_at is None
    assert len(world.person.consents) == 2


def test_an_attorneys_token_passes_on_no_more_than_their_own_authority(
    client: FlaskClient, world: World
) -> None:
    lpa = give_consent(
        world.person, grantee=world.family, scopes=["see"], authority=Authority.LPA_PROPERTY_FINANCE
    )
    world.consent.revoked_at = utcnow()
    world.consent.revoked_by_name = "Test"
    db.session.commit()
    given = client.post(
        f"/api/v1/people/{world.person.id}/consents",
        json={
            "brokerage_id": str(world.broker.organisation_id),
            "scopes": ["see", "pay"],
            "ends_on": "2027-06-01",
        },
        headers=token_for(world.family),
    )
    assert given.status_code == 422, given.get_json()
    assert set(given.get_json()["details"]["fields"]) == {"scopes"}
    db.session.expire_all()
    assert [c.id for c in world.person.consents if c.revoked_at is None] == [lpa.id]


# The audit log's search and the record log.


def test_an_audit_search_to_the_calendars_last_day_is_a_search_not_a_500(
    client: FlaskClient, make_user: MakeUser
) -> None:
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    response = client.get(
        "/council/audit?until-day=31&until-month=12&until-year=9999"
        "&since-day=1&since-month=1&since-year=2026&person=%25_%5C"
    )
    assert response.status_code == 200, response.status_code


# A brokerage the council suspends stops acting for anyone at once.


def test_the_brokers_of_a_suspended_brokerage_act_for_no_one(
    app: Flask, client: FlaskClient, make_user: MakeUser, world: World
) -> None:
    """Council approval is what lets people give a brokerage consent; when the council
    suspends the brokerage, its brokers lose access on their very next request, by page and by
    token (the consents are kept, not withdrawn: approving it again restores them)."""
    acting = app.test_client()
    sign_in(acting, world.broker)
    start_acting(acting, world.person)
    headers = token_for(world.broker)
    assert client.get(f"/api/v1/people/{world.person.id}", headers=headers).status_code == 200
    brokerage = db.session.get(Organisation, world.broker.organisation_id)
    assert brokerage is not None
    change_status(
        brokerage,
        OrganisationStatus.SUSPENDED,
        by=make_user(Role.COUNCIL_OFFICER),
        reason="Under investigation",
    )
    db.session.commit()

    assert acting.get("/my/budget").status_code == 302
    assert acting.get(f"/broker/clients/{world.person.id}").status_code == 404
    assert acting.post(f"/acting-for/{world.person.id}").status_code == 404
    assert client.get(f"/api/v1/people/{world.person.id}", headers=headers).status_code in (
        403,
        404,
    )
    assert client.get("/api/v1/consents", headers=headers).get_json()["items"] == []
    db.session.expire_all()
    assert world.consent.revoked_at is None

    change_status(brokerage, OrganisationStatus.APPROVED, by=make_user(Role.COUNCIL_OFFICER))
    db.session.commit()
    assert acting.post(f"/acting-for/{world.person.id}").status_code == 302


def test_an_authority_recorded_from_the_year_1_is_shown_everywhere_it_appears(
    app: Flask, client: FlaskClient, make_user: MakeUser
) -> None:
    """An officer may record a power of attorney registered long ago; one typed as from the
    year 1 is kept, and every page and export that shows it still works."""
    officer = make_user(Role.COUNCIL_OFFICER)
    mother = make_user(Role.CITIZEN)
    daughter = make_user(Role.CITIZEN)
    sign_in(client, officer)
    recorded = client.post(
        f"/council/people/{mother.person_id}/consents/attorney",
        data={
            "email": daughter.email,
            "authority": "lpa_health_welfare",
            "document_reference": '=HYPERLINK("http://evil.example")',
            "scopes": ["see"],
            "starts_on": ["1", "1", "1"],
            "ends_on": ["1", "6", "2027"],
        },
    )
    assert recorded.status_code == 302, recorded.status_code
    for path in (
        f"/council/people/{mother.person_id}/consents",
        f"/council/people/{mother.person_id}/subject-access.json",
        f"/council/people/{mother.person_id}/subject-access.csv",
        f"/council/people/{mother.person_id}",
    ):
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    csv_text = client.get(f"/council/people/{mother.person_id}/subject-access.csv").get_data(
        as_text=True
    )
    assert ",=HYPERLINK" not in csv_text
    assert "\n=HYPERLINK" not in csv_text
    for user in (mother, daughter):
        reader = app.test_client()
        sign_in(reader, user)
        if user is daughter:
            start_acting(reader, mother.person)  # type: ignore[arg-type]
        for path in ("/my/", "/my/consents", "/my/record-log"):
            response = reader.get(path)
            assert response.status_code == 200, (path, response.status_code)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (
            {"brokerage_id": "provider", "scopes": ["see"], "ends_on": "2027-06-01"},
            {"brokerage_id"},
        ),
        ({"brokerage_id": "pending", "scopes": ["see"], "ends_on": "2027-06-01"}, {"brokerage_id"}),
        ({"brokerage_id": "approved", "scopes": ["see"], "ends_on": "2027-02-29"}, {"ends_on"}),
        ({"brokerage_id": "approved", "scopes": ["see"], "ends_on": "2020-01-01"}, {"ends_on"}),
        ({"brokerage_id": "approved", "scopes": ["see"], "ends_on": "+2027-06-1"}, {"ends_on"}),
        (
            {
                "brokerage_id": "approved",
                "scopes": ["see"] * 10_000 + ["admin"],
                "ends_on": "2027-06-01",
            },
            {"scopes"},
        ),
        ({"brokerage_id": "approved", "scopes": "see", "ends_on": "2027-06-01"}, {"scopes"}),
        ({"brokerage_id": "approved", "scopes": [["see"]], "ends_on": "2027-06-01"}, {"scopes"}),
        ({"brokerage_id": "approved", "scopes": ["see"], "ends_on": 20270601}, {"ends_on"}),
        (
            {"brokerage_id": "approved\u202e", "scopes": ["see"], "ends_on": "2027-06-01"},
            {"brokerage_id"},
        ),
        (
            {
                "brokerage_id": "approved",
                "scopes": ["see"],
                "ends_on": "2027-06-01",
                "authority": "deputy",
            },
            {"authority"},
        ),
    ],
)
def test_a_tampered_consent_body_is_the_apis_validation_error_and_records_nothing(
    client: FlaskClient,
    make_user: MakeUser,
    make_organisation: Callable[..., Organisation],
    brokerage_broker: User,
    body: dict[str, object],
    fields: set[str],
) -> None:
    citizen = make_user(Role.CITIZEN)
    pending = make_organisation("Pending Brokerage", status=OrganisationStatus.PENDING)
    pending.kind = OrganisationKind.BROKERAGE
    provider = make_organisation("Chiltern Home Care")
    db.session.commit()
    ids = {
        "approved": str(brokerage_broker.organisation_id),
        "pending": str(pending.id),
        "provider": str(provider.id),
    }
    sent = {**body, "brokerage_id": ids.get(str(body["brokerage_id"]), body["brokerage_id"])}
    response = client.post(
        f"/api/v1/people/{citizen.person_id}/consents", json=sent, headers=token_for(citizen)
    )
    assert response.status_code == 422, response.get_json()
    assert error_of(response) == "validation_error"
    assert set(response.get_json()["details"]["fields"]) == fields
    assert _consents() == 0


def test_what_is_written_about_a_person_and_who_read_it_is_not_a_brokers_to_read(
    app: Flask, world: World
) -> None:
    """A broker acting under a consent to everything still may not read the notes every
    brokerage wrote about the person, nor their record log: those are the person's (and their
    attorney's), and the broker is told so (403), not shown them."""
    broker = app.test_client()
    sign_in(broker, world.broker)
    start_acting(broker, world.person)
    for path in ("/my/notes", "/my/record-log"):
        response = broker.get(path)
        assert response.status_code == 403, (path, response.status_code)
        assert "Prefers mornings" not in response.get_data(as_text=True)


def test_an_attorneys_subject_access_export_holds_nothing_about_the_person_they_act_for(
    app: Flask, client: FlaskClient, make_user: MakeUser, world: World
) -> None:
    """The daughter's export is hers: the consent her mother granted her account, the record
    log of what she did for her mother and her mother's orders are her mother's (in her
    mother's export), not sent out with the daughter's. It was: the export followed every
    foreign key to the daughter's account."""
    give_consent(world.person, grantee=world.family, authority=Authority.LPA_HEALTH_WELFARE)
    daughter = app.test_client()
    sign_in(daughter, world.family)
    start_acting(daughter, world.person)
    assert daughter.get("/my/").status_code == 200
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    own = client.get(f"/council/people/{world.family.person_id}/subject-access.json")
    assert own.status_code == 200
    assert str(world.person.id) not in own.get_data(as_text=True)
    assert own.get_json()["held"]["users"][0]["id"] == str(world.family.id)
    mothers = client.get(f"/council/people/{world.person.id}/subject-access.json").get_json()
    assert {row["grantee_user_id"] for row in mothers["held"]["consents"]} >= {str(world.family.id)}
    assert any(row["actor_id"] == str(world.family.id) for row in mothers["held"]["audit_entries"])


def test_an_officer_sees_consents_but_acts_for_no_one_and_withdraws_nothing(
    app: Flask, make_user: MakeUser, world: World
) -> None:
    officer = app.test_client()
    sign_in(officer, make_user(Role.COUNCIL_OFFICER))
    assert officer.get(f"/council/people/{world.person.id}/consents").status_code == 200
    assert officer.post(f"/acting-for/{world.person.id}").status_code == 404
    for method, path in (
        ("POST", f"/my/consents/{world.consent.id}/withdraw"),
        ("POST", "/my/shortlist/approve"),
        ("GET", "/my/notes"),
        ("GET", "/broker/"),
    ):
        response = officer.open(path, method=method)
        assert response.status_code in (403, 404), (path, response.status_code)
    db.session.expire_all()
    assert world.consent.revoked_at is None


def test_questions_to_a_provider_are_held_to_a_rate(make_app: Callable[..., Flask]) -> None:
    """Each question and each message in a thread emails every one of the provider's staff:
    anyone who signs up (or a stolen session) cannot use the form to send them mail without
    limit."""
    app = make_app(RATELIMIT_ENABLED=True, QUESTION_RATE_LIMIT="2 per minute")
    with app.app_context():
        ensure_taxonomy()
        ensure_localities()
        provider = Organisation(name="Chiltern Home Care", status=OrganisationStatus.APPROVED)
        db.session.add(provider)
        db.session.flush()
        service = listings.create_listing(
            provider,
            listings.ListingDetails(
                name="Home care visits",
                description="Help with washing and dressing.",
                category_codes=["personal-care"],
                price_pence=2600,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        service.status = ServiceStatus.PUBLISHED
        staff = create_user(
            email="staff@chiltern.example.org",
            full_name="Priya Shah",
            password=PASSWORD,
            role=Role.PROVIDER_STAFF,
            organisation_id=provider.id,
        )
        asker = create_user(
            email="asker@example.org", full_name="Ann Asker", password=PASSWORD, role=Role.CITIZEN
        )
        db.session.commit()
        browser = app.test_client()
        sign_in(browser, asker)
        first = browser.post(f"/my/questions/ask/{service.id}", data={"text": "Mornings?"})
        statuses = [
            first.status_code,
            browser.post(first.location, data={"text": "Or evenings?"}).status_code,
            browser.post(f"/my/questions/ask/{service.id}", data={"text": "Weekends?"}).status_code,
        ]
        assert statuses == [302, 302, 429]
        mail = [m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == staff.email]
        assert len(mail) == 2


@pytest.mark.parametrize(
    "tampered",
    [
        {"version": "99999999999999999999"},
        {"version": "1e9"},
        {"version": "-1"},
        {"version": "\u0661"},
        {"services": "other"},
        {"services": "not-a-uuid"},
    ],
)
def test_a_tampered_approval_is_explained_and_approves_nothing(
    app: Flask,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    world: World,
    tampered: dict[str, str],
) -> None:
    [other] = services(make_organisation, make_listing, count=1)
    shortlist = shortlists.shortlist_of(db.session, world.person)
    assert shortlist is not None
    version = str(shortlist.version)
    sent = {"services": str(world.service.id), "version": version, **tampered}
    if sent["services"] == "other":
        sent["services"] = str(other.id)
    owner = app.test_client()
    sign_in(owner, world.client)
    response = owner.post("/my/shortlist/approve", data=sent)
    assert response.status_code == 400, response.status_code
    assert "govuk-error-summary" in response.get_data(as_text=True)
    assert not shortlists.approvals_of(db.session, world.person)
    # The form as the page drew it still approves.
    approved = owner.post(
        "/my/shortlist/approve", data={"services": str(world.service.id), "version": version}
    )
    assert approved.status_code == 302
    assert shortlists.approvals_of(db.session, world.person)
