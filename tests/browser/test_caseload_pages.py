"""The broker's workspace in a real browser (issue 17): an empty caseload, adding a client who
signed a consent form (the error summary first), their page with a note, the caseload's card
with "Act for", asking for consent by email; and the client's notes page. At desktop and phone
widths, axe on every page."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people import caseload
from marketplace.people.models import Authority, ClientNote
from marketplace.types import utcnow
from providers.models import Organisation, OrganisationKind, OrganisationStatus
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in, sign_out
from tests.conftest import PASSWORD, links_in_outbox

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

BROKER_EMAIL = "sam.broker@example.org"
CLIENT_EMAIL = "dorothy@example.org"


@pytest.fixture
def brokerage(live_server: LiveServer) -> None:
    """An approved brokerage with one broker, and a citizen with a note from it."""
    with live_server.app.app_context():
        organisation = Organisation(
            name="Herts Independent Brokerage",
            status=OrganisationStatus.APPROVED,
            kind=OrganisationKind.BROKERAGE,
        )
        db.session.add(organisation)
        db.session.flush()
        broker = accounts.create_user(
            email=BROKER_EMAIL,
            full_name="Sam Broker",
            password=PASSWORD,
            role=Role.BROKER,
            organisation_id=organisation.id,
        )
        citizen = accounts.create_user(
            email=CLIENT_EMAIL, full_name="Dorothy Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        db.session.add(
            ClientNote(
                person_id=citizen.person_id,
                brokerage_id=organisation.id,
                written_by_id=broker.id,
                text="Prefers visits in the morning.",
            )
        )
        db.session.commit()
        db.session.remove()


def test_a_broker_adds_a_client_writes_a_note_and_acts_for_them(
    page: Page, brokerage: None
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, BROKER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your clients")
    expect(page.locator("#no-clients")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Add a client who signed a consent form").click()
    expect(heading(page)).to_have_text("Add a client")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Add client").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the client's full name")
    assert_accessible_at_both_widths(page)

    page.get_by_label("Full name", exact=True).fill("Edna Clarke")
    page.locator("#postcode").fill("SG1 1AA")
    page.get_by_label("Given by the person").check()
    page.get_by_label("Name of the person who signed it").fill("Edna Clarke")
    page.get_by_label("See their budget and orders").check()
    page.get_by_label("Shortlist services for them").check()
    ends = (utcnow() + timedelta(days=200)).date()
    page.locator("#ends_on-day").fill(str(ends.day))
    page.locator("#ends_on-month").fill(str(ends.month))
    page.locator("#ends_on-year").fill(str(ends.year))
    page.get_by_role("button", name="Add client").click()
    expect(heading(page)).to_have_text("Edna Clarke")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Edna Clarke is now your client"
    )
    assert_accessible_at_both_widths(page)

    page.get_by_label("Add a note").fill("Met at the Lister. Wants help at home.")
    page.get_by_role("button", name="Add note").click()
    expect(page.locator("#notes ~ .govuk-inset-text").first).to_contain_text("Met at the Lister.")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Your clients").first.click()
    expect(heading(page)).to_have_text("Your clients")
    expect(page.get_by_role("heading", name="Edna Clarke")).to_be_visible()
    expect(page.get_by_text("Consent given")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Ask someone to give consent online").click()
    expect(heading(page)).to_have_text("Ask someone to give consent")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Their email address").fill("someone@example.org")
    page.get_by_role("button", name="Send the request").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "We have emailed someone@example.org"
    )
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Act for Edna Clarke").click()
    expect(page.locator(".app-acting-banner")).to_contain_text("You are acting for Edna Clarke")
    assert_accessible_at_both_widths(page)


def test_a_client_reads_the_notes_about_them(page: Page, brokerage: None) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CLIENT_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Notes brokers have written about you").click()
    expect(heading(page)).to_have_text("Notes about you")
    expect(page.get_by_text("Prefers visits in the morning.")).to_be_visible()
    assert_accessible_at_both_widths(page)


@pytest.fixture
def client_without_account(live_server: LiveServer, brokerage: None) -> None:
    """Edna, on the brokerage's caseload with a live consent, with no account of her own."""
    with live_server.app.app_context():
        organisation = db.session.query(Organisation).one()
        broker = accounts.user_by_email(BROKER_EMAIL)
        assert broker is not None
        now = utcnow()
        caseload.add_client(
            db.session,
            brokerage=organisation,
            by=broker,
            full_name="Edna Clarke",
            date_of_birth=None,
            postcode=None,
            email="edna@example.org",
            scopes=["see"],
            authority=Authority.PERSON,
            given_by_name="Edna Clarke",
            starts_at=now,
            ends_at=now + timedelta(days=200),
        )
        db.session.commit()
        db.session.remove()


def test_a_client_is_invited_and_claims_their_record(
    page: Page, live_server: LiveServer, client_without_account: None
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, BROKER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your clients")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Details and notes for Edna Clarke").click()
    expect(heading(page)).to_have_text("Edna Clarke")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Invite them to see their record").click()
    expect(heading(page)).to_have_text("Invite Edna Clarke to see their record")
    expect(page.get_by_label("Their email address")).to_have_value("edna@example.org")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Send the invitation").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "We have emailed edna@example.org an invitation"
    )
    assert_accessible_at_both_widths(page)
    sign_out(page)
    assert_accessible_at_both_widths(page)

    [link] = links_in_outbox(live_server.app, "edna@example.org")
    page.goto(urlsplit(link).path)
    expect(heading(page)).to_have_text("See your record")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Create my account").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    expect(heading(page)).to_have_text("Your care and support")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "This is your record"
    )
    assert_accessible_at_both_widths(page)
