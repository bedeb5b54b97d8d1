"""The provider portal and the council's approval: the supply side, end to end over HTTP."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from marketplace.accounts import service as accounts_service
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.mail import outbox_messages
from marketplace.types import utcnow
from providers.models import (
    CapacityStatus,
    Location,
    Organisation,
    OrganisationStatus,
    OrganisationStatusChange,
    Service,
    ServiceStatus,
    StaffInvitation,
)
from providers.registration import ProviderRegistration
from tests.conftest import PASSWORD, links_in_outbox, sign_in

REGISTRATION = {
    "name": "Lea Valley Home Care",
    "description": "Visiting carers across Broxbourne.",
    "email": "office@leavalley.example.org",
    "phone": "01632 960123",
    "website": "https://leavalley.example.org",
    "address": "1 High Street, Cheshunt",
    "postcode": "EN8 9AA",
    "companies_house_number": "01234567",
    "charity_number": "",
    "cqc_provider_id": "1-101634857",
    "areas": ["broxbourne"],
    "owner_name": "Priya Sharma",
    "owner_email": "priya@leavalley.example.org",
    "password": "copper kettle meadow",
}

LISTING = {
    "name": "Morning calls",
    "description": "A carer visits to help you get up, washed and dressed.\n\nWe speak Polish.",
    "categories": ["personal-care"],
    "price_unit": "per_hour",
    "price": "26.50",
    "minimum_order": "1",
    "delivery_modes": ["at_home"],
    "areas": ["broxbourne"],
    "accepts_personal_budgets": "yes",
    "cqc_rating": "good",
}


def _count(model: type) -> int:
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def register(app: Flask, client: FlaskClient) -> None:
    """Register, then follow the emailed link as the owner (signed in at the end)."""
    response = client.post("/provider/register", data=REGISTRATION)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert response.location == "/provider/register/check-your-email"
    assert _count(Organisation) == 0, "nothing until the link is followed"
    (link,) = links_in_outbox(app, REGISTRATION["owner_email"])
    path = link.split("marketplace.test", 1)[1]
    assert client.get(path).status_code == 200
    assert _count(Organisation) == 0, "opening the link (as a mail scanner would) makes nothing"
    confirmed = client.post(path)
    assert confirmed.status_code == 302, confirmed.get_data(as_text=True)
    assert confirmed.location == "/provider/"
    assert client.post(path).status_code == 400, "a link works once"


def test_a_provider_registers_is_approved_and_publishes(
    app: Flask, client: FlaskClient, reference_data: None, make_user: Callable[..., User]
) -> None:
    register(app, client)
    organisation = db.session.scalar(select(Organisation))
    assert organisation.status is OrganisationStatus.PENDING
    (registered,) = organisation.status_changes
    assert registered.changed_by.email == REGISTRATION["owner_email"]
    assert [area.code for area in organisation.areas] == ["broxbourne"]
    assert "The council is checking" in client.get("/provider/").get_data(as_text=True)

    response = client.post("/provider/services/new", data=LISTING)
    assert response.status_code == 302, response.get_data(as_text=True)
    service = db.session.scalar(select(Service))
    assert (service.price_pence, service.status) == (2650, ServiceStatus.DRAFT)
    client.post(f"/provider/services/{service.id}/status", data={"move": "publish"})
    db.session.refresh(service)
    assert service.status is ServiceStatus.PUBLISHED
    anyone = app.test_client()
    assert anyone.get(f"/services/{service.id}").status_code == 404, "pending: not public yet"

    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))
    response = council.post(f"/council/providers/{organisation.id}", data={"decision": "approved"})
    assert response.status_code == 302
    page = anyone.get(f"/services/{service.id}").get_data(as_text=True)
    assert "Morning calls" in page
    assert "£26.50 per hour" in page
    assert "Lea Valley Home Care" in anyone.get(f"/providers/{organisation.id}").get_data(
        as_text=True
    )
    change = db.session.scalar(
        select(OrganisationStatusChange).where(
            OrganisationStatusChange.to_status == OrganisationStatus.APPROVED
        )
    )
    assert change.changed_by.role is Role.COUNCIL_OFFICER
    subjects = [m.subject for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"])]
    assert "Your organisation has been approved" in subjects


def test_rejection_and_suspension_need_a_reason_the_provider_sees(
    app: Flask,
    client: FlaskClient,
    provider_owner: User,
    make_listing: Callable[..., Service],
    make_user: Callable[..., User],
) -> None:
    organisation = provider_owner.organisation
    service = make_listing(organisation)
    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))
    path = f"/council/providers/{organisation.id}"
    response = council.post(path, data={"decision": "suspended", "reason": ""})
    assert response.status_code == 400
    assert "Enter the reason" in response.get_data(as_text=True)
    assert client.get(f"/services/{service.id}").status_code == 200

    council.post(path, data={"decision": "suspended", "reason": "Insurance lapsed"})
    assert client.get(f"/services/{service.id}").status_code == 404, "hidden at once"
    assert client.get(f"/providers/{organisation.id}").status_code == 404
    sign_in(client, provider_owner)
    assert "Insurance lapsed" in client.get("/provider/").get_data(as_text=True)
    history = council.get(path).get_data(as_text=True)
    assert "approved to suspended" in history
    assert "Insurance lapsed" in history


def test_a_move_the_table_forbids_is_refused(
    app: Flask, provider_owner: User, make_user: Callable[..., User]
) -> None:
    council = app.test_client()
    sign_in(council, make_user(Role.COUNCIL_OFFICER))
    response = council.post(
        f"/council/providers/{provider_owner.organisation_id}",
        data={"decision": "rejected", "reason": "x"},
    )
    assert response.status_code == 400
    db.session.refresh(provider_owner.organisation)
    assert provider_owner.organisation.status is OrganisationStatus.APPROVED


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"price": "-5"}, "cannot be negative"),
        ({"price": "250000"}, "must be £10,000 or less"),
        ({"price": "12.345"}, "pounds and pence"),
        ({"price": "twelve"}, "amount in pounds"),
        ({"price": ""}, "Enter the price"),
        ({"price_unit": "free", "price": "5"}, "A free service has no price"),
        ({"categories": ["not-a-category"]}, "choose only from the options given"),
        ({"categories": []}, "Select at least one category"),
        ({"areas": ["atlantis"]}, "choose only from the options given"),
        ({"name": ""}, "Enter the service&#39;s name"),
        ({"name": "x" * 201}, "200 characters or fewer"),
        ({"description": "x" * 3001}, "3000 characters or fewer"),
        ({"cqc_location_id": "CQC-123"}, "CQC ID in the correct format"),
        ({"minimum_order": "0"}, "between 1 and 1000"),
        ({"open_days": ["MO"], "opens_at": "9am", "closes_at": "17:00"}, "time like 09:00"),
        ({"open_days": ["MO"], "opens_at": "17:00", "closes_at": "09:00"}, "later than"),
    ],
)
def test_bad_listing_input_is_explained_and_changes_nothing(
    client: FlaskClient,
    provider_owner: User,
    reference_data: None,
    changes: dict[str, object],
    message: str,
) -> None:
    sign_in(client, provider_owner)
    response = client.post("/provider/services/new", data={**LISTING, **changes})
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "There is a problem" in page
    assert message in page
    assert _count(Service) == 0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"postcode": "ZZ9 9ZZ"}, "Enter a real postcode"),
        ({"cqc_provider_id": "12345"}, "CQC ID in the correct format"),
        ({"companies_house_number": "12"}, "Companies House number in the correct format"),
        ({"website": "javascript:alert(1)"}, "website address in the correct format"),
        ({"email": "not-an-email"}, "correct format"),
        ({"name": ""}, "Enter your organisation"),
        ({"areas": []}, "Select the areas you serve"),
        ({"password": "password1"}, "Password"),
    ],
)
def test_bad_registration_is_explained_and_creates_nothing(
    client: FlaskClient, reference_data: None, changes: dict[str, object], message: str
) -> None:
    response = client.post("/provider/register", data={**REGISTRATION, **changes})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(Organisation) == 0
    assert _count(User) == 0


def test_html_in_text_is_shown_as_text(
    app: Flask, client: FlaskClient, provider_owner: User, reference_data: None
) -> None:
    sign_in(client, provider_owner)
    script = "<script>alert('x')</script>"
    client.post(
        "/provider/services/new",
        data={**LISTING, "name": f"Calls {script}", "description": f"Hello {script}"},
    )
    service = db.session.scalar(select(Service))
    client.post(f"/provider/services/{service.id}/status", data={"move": "publish"})
    page = app.test_client().get(f"/services/{service.id}").get_data(as_text=True)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in page


def test_preview_shows_the_description_and_saves_nothing(
    client: FlaskClient, provider_owner: User, reference_data: None
) -> None:
    sign_in(client, provider_owner)
    response = client.post("/provider/services/new", data={**LISTING, "preview": "Preview"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "This is how citizens will see your description" in page
    assert "We speak Polish." in page
    assert _count(Service) == 0


def test_capacity_in_one_click_and_stale_listings(
    app: Flask, client: FlaskClient, provider_owner: User, make_listing: Callable[..., Service]
) -> None:
    service = make_listing(provider_owner.organisation)
    sign_in(client, provider_owner)
    response = client.post(
        f"/provider/services/{service.id}/capacity",
        data={
            "capacity_status": "waiting_list",
            "capacity_free": "0",
            "earliest_start": ["3", "3", "2027"],
        },
    )
    assert response.status_code == 302
    db.session.refresh(service)
    assert service.capacity_status is CapacityStatus.WAITING_LIST
    assert service.earliest_start.isoformat() == "2027-03-03"

    later = utcnow() + timedelta(days=91)
    with time_machine.travel(later, tick=False):
        sign_in(client, provider_owner)  # a session lasts 31 days at most
        dashboard = client.get("/provider/").get_data(as_text=True)
        assert "not had capacity confirmed for 90 days" in dashboard
        public = app.test_client().get(f"/services/{service.id}").get_data(as_text=True)
        assert "Last checked on" in public
        assert client.post(f"/provider/services/{service.id}/confirm").status_code == 302
        assert "not had capacity confirmed" not in client.get("/provider/").get_data(as_text=True)


def test_a_date_with_missing_parts_is_an_error_not_a_crash(
    client: FlaskClient, provider_owner: User, make_listing: Callable[..., Service]
) -> None:
    service = make_listing(provider_owner.organisation)
    sign_in(client, provider_owner)
    for parts in (["3", "", "2027"], ["3"], ["31", "2", "2027"]):
        response = client.post(
            f"/provider/services/{service.id}/capacity",
            data={"capacity_status": "accepting", "earliest_start": parts},
        )
        assert response.status_code == 400
        assert "Earliest start date must" in response.get_data(as_text=True)


def test_staff_see_only_their_own_organisation(
    app: Flask,
    provider_owner: User,
    make_listing: Callable[..., Service],
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
) -> None:
    theirs = make_organisation("Other Care Ltd")
    their_service = make_listing(theirs, name="Their service")
    their_member = make_user(Role.PROVIDER_STAFF, organisation=theirs)
    ours = app.test_client()
    sign_in(ours, provider_owner)
    sid = their_service.id
    for method, path, data in [
        ("GET", f"/provider/services/{sid}", None),
        ("POST", f"/provider/services/{sid}", {**LISTING}),
        ("POST", f"/provider/services/{sid}/status", {"move": "archive"}),
        ("GET", f"/provider/services/{sid}/capacity", None),
        ("POST", f"/provider/services/{sid}/capacity", {"capacity_status": "full"}),
        ("POST", f"/provider/services/{sid}/confirm", None),
        ("POST", f"/provider/staff/{their_member.id}/remove", None),
    ]:
        response = ours.open(path, method=method, data=data)
        assert response.status_code == 404, (method, path)
    db.session.refresh(their_service)
    assert their_service.status is ServiceStatus.PUBLISHED
    assert their_service.name == "Their service"
    assert "Their service" not in ours.get("/provider/").get_data(as_text=True)


def test_owners_invite_colleagues_who_join_once(
    app: Flask, client: FlaskClient, provider_owner: User
) -> None:
    sign_in(client, provider_owner)
    response = client.post("/provider/staff", data={"email": "tom@example.org"})
    assert response.status_code == 302
    (message,) = [
        m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == "tom@example.org"
    ]
    path = message.body.split("marketplace.test", 1)[1].split()[0]
    newcomer = app.test_client()
    response = newcomer.post(
        path, data={"full_name": "Tom Adeyemi", "password": "violin pebble thistle"}
    )
    assert response.status_code == 302
    tom = db.session.scalar(select(User).where(User.email == "tom@example.org"))
    assert tom.organisation_id == provider_owner.organisation_id
    assert not tom.is_organisation_owner
    assert app.test_client().get(path).status_code == 400, "single use"

    assert newcomer.post("/provider/staff", data={"email": "x@example.org"}).status_code == 403
    assert newcomer.post(f"/provider/staff/{provider_owner.id}/remove").status_code == 403

    assert client.post(f"/provider/staff/{tom.id}/remove").status_code == 302
    db.session.refresh(tom)
    assert tom.active is False
    assert newcomer.get("/provider/").status_code == 302, "signed out: account closed"


def test_the_last_owner_cannot_be_removed_nor_remove_themselves(
    client: FlaskClient, provider_owner: User
) -> None:
    sign_in(client, provider_owner)
    client.post(f"/provider/staff/{provider_owner.id}/remove")
    db.session.refresh(provider_owner)
    assert provider_owner.active is True


def test_a_registration_with_a_taken_email_answers_as_any_other_and_tells_the_owner(
    app: Flask,
    client: FlaskClient,
    reference_data: None,
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 12, item 10: registration said "An account already uses this email address".
    Now it answers as for a new address (the same page, after hashing the password), stores
    nothing, and emails the address's owner, as sign-up does."""
    hashed: list[str] = []
    # A registration is a sign-up: accounts' service hashes its password (begin_sign_up).
    real_hash = accounts_service.hash_password

    def counting_hash(password: str) -> str:
        hashed.append(password)
        return real_hash(password)

    make_user(Role.CITIZEN, email="priya@leavalley.example.org")
    monkeypatch.setattr(accounts_service, "hash_password", counting_hash)
    taken = client.post("/provider/register", data=REGISTRATION)
    new = app.test_client().post(
        "/provider/register", data={**REGISTRATION, "owner_email": "omar@leavalley.example.org"}
    )
    assert taken.status_code == new.status_code == 302
    assert taken.location == new.location == "/provider/register/check-your-email"
    assert "already" not in client.get(taken.location).get_data(as_text=True)
    assert len(hashed) == 2
    assert _count(Organisation) == 0
    assert _count(ProviderRegistration) == 1
    (message,) = [
        m
        for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"])
        if m.to == "priya@leavalley.example.org"
    ]
    assert message.subject == "You already have an account"
    assert REGISTRATION["password"] != PASSWORD


def test_names_in_links_are_escaped_not_broken(
    app: Flask,
    client: FlaskClient,
    make_user: Callable[..., User],
    make_organisation: Callable[..., Organisation],
) -> None:
    make_organisation("<b>Bold</b> & Co", OrganisationStatus.PENDING)
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    page = client.get("/council/").get_data(as_text=True)
    assert '<a class="govuk-link" href="/council/providers/' in page
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co</a>" in page


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "", "address": "1 High St", "town": "Hitchin", "postcode": "SG5 1AA"},
            "Enter the venue&#39;s name",
        ),
        (
            {"name": "Hall", "address": "1 High St", "town": "Hitchin", "postcode": "ZZ9 9ZZ"},
            "Enter a real postcode",
        ),
        (
            {"name": "Hall", "address": "x" * 301, "town": "Hitchin", "postcode": "SG5 1AA"},
            "300 characters or fewer",
        ),
        (
            {
                "name": "Hall",
                "address": "1 High St",
                "town": "Hitchin",
                "postcode": "SG5 1AA",
                "accessibility": ["Teleporter"],
            },
            "choose only from the options given",
        ),
    ],
)
def test_bad_venues_are_explained_and_change_nothing(
    client: FlaskClient, provider_owner: User, data: dict[str, object], message: str
) -> None:
    sign_in(client, provider_owner)
    response = client.post("/provider/venues", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(Location) == 0


@pytest.mark.parametrize(
    ("email", "message"),
    [
        ("", "Enter their email address"),
        ("not-an-email", "correct format"),
        ("taken@example.org", "already has an account"),
    ],
)
def test_bad_invitations_are_explained_and_send_nothing(
    app: Flask,
    client: FlaskClient,
    provider_owner: User,
    make_user: Callable[..., User],
    email: str,
    message: str,
) -> None:
    make_user(Role.CITIZEN, email="taken@example.org")
    sign_in(client, provider_owner)
    response = client.post("/provider/staff", data={"email": email})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert _count(StaffInvitation) == 0
    assert [m for m in outbox_messages(app.config["MAIL_OUTBOX_PATH"]) if m.to == email] == []
