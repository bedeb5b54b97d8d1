"""Brokerages (issue 17, item 1): registered through the provider registration journey,
approved by the council the same way, their staff invited as brokers, named as brokerages in
the portal and the directory; and the council's own service finders, added by an officer and
approved at once."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.notifications.models import Notification
from marketplace.people import consents
from providers import organisations, registration
from providers.models import (
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    OrganisationStatusChange,
    StaffInvitation,
)
from providers.organisations import OrganisationDetails
from providers.registration import ProviderRegistration
from tests.conftest import PASSWORD, links_in_outbox, sign_in

BROKERAGE = {
    "kind": "brokerage",
    "name": "Stort Valley Brokerage",
    "description": "Independent support brokers: we help you find and arrange care.",
    "email": "hello@stortvalley.example.org",
    "phone": "01632 960555",
    "website": "",
    "address": "",
    "postcode": "",
    "companies_house_number": "",
    "charity_number": "1180001",
    "cqc_provider_id": "",
    "areas": ["east-herts"],
    "owner_name": "Hannah Okafor",
    "owner_email": "hannah@stortvalley.example.org",
    "password": "lantern orchard pebble",
}

COUNCIL_TEAM = {
    "name": "Hertfordshire Service Finders",
    "description": "The council's own brokers, who help people leaving hospital arrange care.",
    "email": "finders@herts.example.org",
    "phone": "",
    "areas": ["east-herts"],
    "broker_email": "sam.finder@herts.example.org",
}


def _text(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return response.get_data(as_text=True)


def _register_brokerage(app: Flask, client: FlaskClient) -> Organisation:
    response = client.post("/provider/register", data=BROKERAGE)
    assert response.status_code == 302, response.get_data(as_text=True)
    (link,) = links_in_outbox(app, BROKERAGE["owner_email"])
    path = link.split("marketplace.test", 1)[1]
    confirmed = client.post(path)
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    organisation = db.session.scalar(
        select(Organisation).where(Organisation.name == BROKERAGE["name"])
    )
    assert organisation is not None
    return organisation


def _join(app: Flask, email: str, full_name: str) -> tuple[FlaskClient, str]:
    (message,) = [m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == email]
    path = message.body.split("marketplace.test", 1)[1].split()[0]
    newcomer = app.test_client()
    joining = newcomer.get(path).get_data(as_text=True)
    response = newcomer.post(path, data={"full_name": full_name, "password": "harbour velvet ox"})
    assert response.status_code == 302, response.get_data(as_text=True)
    return newcomer, joining + message.body


def test_the_registration_page_asks_what_kind_and_a_brokerage_link_chooses_it(
    client: FlaskClient, reference_data: None
) -> None:
    page = _text(client, "/provider/register")
    assert "What kind of organisation is it?" in page
    assert re.search(r'value="provider"\s+checked', page), "most who register provide care"
    chosen = _text(client, "/provider/register?kind=brokerage")
    assert re.search(r'value="brokerage"\s+checked', chosen)
    assert not re.search(r'value="provider"\s+checked', chosen)


def test_a_brokerage_registers_its_owner_is_a_broker_and_the_council_is_told(
    app: Flask, client: FlaskClient, reference_data: None, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    brokerage = _register_brokerage(app, client)
    assert (brokerage.kind, brokerage.status) == (
        OrganisationKind.BROKERAGE,
        OrganisationStatus.PENDING,
    )
    (owner,) = brokerage.staff
    assert (owner.role, owner.is_organisation_owner) == (Role.BROKER, True)
    (registered,) = brokerage.status_changes
    assert registered.reason == "Registered by the brokerage"
    (told,) = db.session.scalars(select(Notification).where(Notification.user_id == officer.id))
    assert told.title == "A new brokerage has registered and is waiting for approval"
    assert told.link == f"/council/providers/{brokerage.id}"
    assert consents.approved_brokerage(db.session, brokerage.id) is None, "not approved yet"

    # The owner, signed in by the link, is in the portal of a brokerage.
    dashboard = _text(client, "/provider/")
    assert "Your brokerage" in dashboard
    assert "The council is checking your brokerage" in dashboard
    assert 'href="/broker/" id="broker-workspace-link"' in dashboard
    menu = dashboard.split('id="navigation"', 1)[1].split("</nav>", 1)[0]
    assert "Your brokerage" in menu
    assert "Your organisation" not in menu


def test_a_registration_kept_before_brokerages_existed_makes_a_provider(
    app: Flask, reference_data: None
) -> None:
    """A registration waiting when this was deployed has no kind among its details."""
    captured: list[str] = []
    registration.request_registration(
        OrganisationDetails(
            name="Old Style Care",
            description="Home care.",
            email="office@oldstyle.example.org",
            phone=None,
            website=None,
            address=None,
            postcode=None,
            companies_house_number=None,
            charity_number=None,
            cqc_provider_id=None,
            area_codes=[],
        ),
        owner_name="Olive Style",
        owner_email="olive@oldstyle.example.org",
        owner_password="copper kettle meadow",
        confirm_link=lambda token: captured.append(token) or token,
        sign_in_link="https://marketplace.test/sign-in",
        reset_link="https://marketplace.test/forgotten-password",
    )
    kept = db.session.scalar(select(ProviderRegistration))
    assert kept.details["kind"] == "provider"
    kept.details = {key: value for key, value in kept.details.items() if key != "kind"}
    db.session.flush()
    owner = registration.confirm_registration(captured[0])
    assert owner.role is Role.PROVIDER_STAFF
    assert owner.organisation.kind is OrganisationKind.PROVIDER


def test_the_council_sees_the_kind_and_approves_a_brokerage_as_a_provider(
    app: Flask, client: FlaskClient, reference_data: None, make_user: Callable[..., User]
) -> None:
    brokerage = _register_brokerage(app, client)
    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))
    listed = _text(council, "/council/providers?status=pending")
    row = listed.split(BROKERAGE["name"], 1)[1].split("</tr>", 1)[0]
    assert ">Brokerage</td>" in row
    assert ">Brokerage<" in _text(council, "/council/").split(BROKERAGE["name"], 1)[1][:200]
    page = _text(council, f"/council/providers/{brokerage.id}")
    assert '<span class="govuk-caption-l">Brokerage</span>' in page
    assert "its staff are brokers" in page

    response = council.post(f"/council/providers/{brokerage.id}", data={"decision": "approved"})
    assert response.status_code == 302
    db.session.refresh(brokerage)
    assert brokerage.status is OrganisationStatus.APPROVED
    assert consents.approved_brokerage(db.session, brokerage.id) is brokerage
    (approval,) = [
        m
        for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"])
        if m.to == BROKERAGE["owner_email"] and "approved" in m.subject
    ]
    assert approval.subject == "Your brokerage has been approved"
    assert "give your brokers their consent" in approval.body


def test_a_brokerages_staff_are_invited_as_brokers(
    app: Flask, client: FlaskClient, reference_data: None
) -> None:
    brokerage = _register_brokerage(app, client)
    staff_page = _text(client, "/provider/staff")
    assert '<h1 class="govuk-heading-l">Brokers</h1>' in staff_page
    assert "Invite a broker" in staff_page
    assert client.post("/provider/staff", data={"email": "lee@example.org"}).status_code == 302
    newcomer, seen = _join(app, "lee@example.org", "Lee Mensah")
    assert "as a broker" in seen, "the email and the join page say what they join as"
    lee = db.session.scalar(select(User).where(User.email == "lee@example.org"))
    assert (lee.role, lee.organisation_id) == (Role.BROKER, brokerage.id)
    assert not lee.is_organisation_owner, "the brokerage has an owner already"
    assert "Your brokerage" in _text(newcomer, "/provider/")
    assert "Your brokerage's details</h1>" in _text(newcomer, "/provider/organisation")


def test_a_providers_staff_are_still_invited_as_provider_staff(
    app: Flask, client: FlaskClient, provider_owner: User
) -> None:
    sign_in(client, provider_owner)
    staff_page = _text(client, "/provider/staff")
    assert "Invite a colleague" in staff_page
    assert client.post("/provider/staff", data={"email": "ann@example.org"}).status_code == 302
    newcomer, seen = _join(app, "ann@example.org", "Ann Bello")
    assert "listings and orders" in seen
    assert "broker" not in seen
    ann = db.session.scalar(select(User).where(User.email == "ann@example.org"))
    assert (ann.role, ann.is_organisation_owner) == (Role.PROVIDER_STAFF, False)
    dashboard = _text(newcomer, "/provider/")
    assert "Your organisation" in dashboard
    assert "/broker/" not in dashboard


def test_the_public_page_of_a_brokerage_says_what_a_brokerage_is(
    app: Flask,
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_user: Callable[..., User],
) -> None:
    brokerage = make_organisation("Lea Brokers")
    brokerage.kind = OrganisationKind.BROKERAGE
    provider = make_organisation("Lea Home Care")
    db.session.commit()
    anonymous = _text(client, f"/providers/{brokerage.id}")
    assert '<span class="govuk-caption-l">Brokerage</span>' in anonymous
    assert "Lea Brokers is a brokerage" in anonymous
    assert "/my/consents/new" not in anonymous, "no account: nothing to give consent from"
    assert "This brokerage has no services" in anonymous

    citizen = app.test_client()
    sign_in(citizen, make_user(Role.CITIZEN))
    signed_in = _text(citizen, f"/providers/{brokerage.id}")
    assert f'href="/my/consents/new?brokerage={brokerage.id}"' in signed_in

    providing = _text(client, f"/providers/{provider.id}")
    assert '<span class="govuk-caption-l">Provider</span>' in providing
    assert "is a brokerage" not in providing


def test_an_officer_adds_the_councils_own_brokerage_approved_at_once(
    app: Flask, reference_data: None, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    council = app.test_client()
    sign_in(council, officer)
    assert '<h1 class="govuk-heading-l">Add the council\'s brokerage</h1>' in _text(
        council, "/council/brokerages/new"
    )
    response = council.post("/council/brokerages/new", data=COUNCIL_TEAM)
    assert response.status_code == 302, response.get_data(as_text=True)
    team = db.session.scalar(select(Organisation).where(Organisation.name == COUNCIL_TEAM["name"]))
    assert response.location == f"/council/providers/{team.id}"
    assert (team.kind, team.status) == (OrganisationKind.BROKERAGE, OrganisationStatus.APPROVED)
    assert [area.code for area in team.areas] == ["east-herts"]
    (added,) = team.status_changes
    assert (added.from_status, added.changed_by_id) == (None, officer.id)
    assert consents.approved_brokerage(db.session, team.id) is team, "approved at once"
    assert "Brokerage" in _text(council, f"/council/providers/{team.id}")

    # Its first broker joins by the invitation and becomes its owner, who invites the rest.
    first, seen = _join(app, COUNCIL_TEAM["broker_email"], "Sam Finder")
    assert "as a broker" in seen
    sam = db.session.scalar(select(User).where(User.email == COUNCIL_TEAM["broker_email"]))
    assert (sam.role, sam.organisation_id, sam.is_organisation_owner) == (
        Role.BROKER,
        team.id,
        True,
    )
    assert first.post("/provider/staff", data={"email": "jo@herts.example.org"}).status_code == 302
    _join(app, "jo@herts.example.org", "Jo Finder")
    jo = db.session.scalar(select(User).where(User.email == "jo@herts.example.org"))
    assert (jo.role, jo.is_organisation_owner) == (Role.BROKER, False)


def test_adding_the_councils_brokerage_with_bad_input_shows_every_problem_and_makes_nothing(
    app: Flask, reference_data: None, make_user: Callable[..., User]
) -> None:
    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))
    response = council.post(
        "/council/brokerages/new", data={"name": "", "email": "not an email", "broker_email": ""}
    )
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "govuk-error-summary" in page
    for message in (
        "Enter the name of the brokerage",
        "Enter what the brokerage does",
        "Enter an email address in the correct format",
        "Enter the email address of its first broker",
    ):
        assert message in page, message
    assert db.session.scalar(select(func.count()).select_from(Organisation)) == 0


def test_the_councils_brokerage_is_not_added_twice_nor_for_a_broker_with_an_account(
    app: Flask,
    reference_data: None,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
) -> None:
    make_organisation("Hertfordshire Service Finders Ltd")
    db.session.commit()
    taken = make_user(Role.CITIZEN, email="taken@herts.example.org")
    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))

    response = council.post("/council/brokerages/new", data=COUNCIL_TEAM)
    assert response.status_code == 400
    assert (
        "An organisation called Hertfordshire Service Finders Ltd is already registered"
        in response.get_data(as_text=True)
    )

    other = {**COUNCIL_TEAM, "name": "County Finders", "broker_email": taken.email}
    response = council.post("/council/brokerages/new", data=other)
    assert response.status_code == 400
    assert "That email address already has an account" in response.get_data(as_text=True)
    # The brokerage made before the invitation was refused went with the request.
    db.session.rollback()
    names = set(db.session.scalars(select(Organisation.name)))
    assert names == {"Hertfordshire Service Finders Ltd"}
    assert db.session.scalar(select(func.count()).select_from(StaffInvitation)) == 0
    assert db.session.scalar(select(func.count()).select_from(OrganisationStatusChange)) == 0


def test_add_council_brokerage_refuses_an_unknown_area(
    app: Flask, reference_data: None, make_user: Callable[..., User]
) -> None:
    officer = make_user(Role.COUNCIL_OFFICER)
    details = OrganisationDetails(
        name="Finders",
        description="Brokers.",
        email="f@example.org",
        phone=None,
        website=None,
        address=None,
        postcode=None,
        companies_house_number=None,
        charity_number=None,
        cqc_provider_id=None,
        area_codes=["atlantis"],
    )
    with pytest.raises(ValueError, match="atlantis"):
        organisations.add_council_brokerage(details, by=officer)


def test_only_council_officers_add_the_councils_brokerage(
    app: Flask, make_user: Callable[..., User]
) -> None:
    for role in (Role.BROKER, Role.PROVIDER_STAFF, Role.CITIZEN):
        someone = app.test_client()
        sign_in(someone, make_user(role), PASSWORD)
        assert someone.post("/council/brokerages/new", data=COUNCIL_TEAM).status_code == 403
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(Organisation)
            .where(Organisation.name == COUNCIL_TEAM["name"])
        )
        == 0
    )


def test_an_officer_invites_the_first_broker_of_a_brokerage_with_no_owner(
    app: Flask,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
    provider_owner: User,
) -> None:
    """The demo's council brokerage is made with no staff: an officer invites its first broker.
    A brokerage with an owner, or a provider, is its own staff's to invite to (404 here)."""
    team = make_organisation("County Finders")
    team.kind = OrganisationKind.BROKERAGE
    owned = make_user(Role.BROKER).organisation
    db.session.commit()
    officer = make_user(Role.COUNCIL_OFFICER)
    council = app.test_client()
    sign_in(council, officer)
    path = f"/council/providers/{team.id}/invite-broker"
    assert f'href="{path}"' in _text(council, f"/council/providers/{team.id}")

    response = council.post(path, data={"email": ""})
    assert response.status_code == 400
    assert "Enter their email address" in response.get_data(as_text=True)
    response = council.post(path, data={"email": "ria@finders.example.org"})
    assert response.status_code == 302
    assert response.location == f"/council/providers/{team.id}"
    assert "ria@finders.example.org" in _text(council, path), "the invitation waiting is named"
    _join(app, "ria@finders.example.org", "Ria Patel")
    ria = db.session.scalar(select(User).where(User.email == "ria@finders.example.org"))
    assert (ria.role, ria.organisation_id, ria.is_organisation_owner) == (
        Role.BROKER,
        team.id,
        True,
    )
    assert council.get(path).status_code == 404, "it has an owner now"
    assert 'id="no-broker-owner"' not in _text(council, f"/council/providers/{team.id}")

    owned_owner = owned.staff[0]
    owned_owner.is_organisation_owner = True
    db.session.commit()
    assert council.get(f"/council/providers/{owned.id}/invite-broker").status_code == 404
    provider = provider_owner.organisation_id
    assert council.get(f"/council/providers/{provider}/invite-broker").status_code == 404
