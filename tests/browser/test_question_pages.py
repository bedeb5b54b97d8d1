"""Asking a provider a question in a real browser (issue 17): from the service's page, an
empty question in the error summary first, the thread; the provider answers from the portal's
Questions; the citizen reads the answer from the link in their inbox. At desktop and phone
widths, axe on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from providers import listings
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, navigation, sign_in, sign_out
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

CITIZEN_EMAIL = "dorothy@example.org"
STAFF_EMAIL = "priya@chiltern.example.org"
QUESTION = "Can a carer come before 8am on weekdays?"
ANSWER = "Yes: our first visits start at 7:30am."


@pytest.fixture
def service_id(live_server: LiveServer) -> str:
    """A published home care service, its provider's staff member and a citizen."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        accounts.create_user(
            email=CITIZEN_EMAIL, full_name="Dorothy Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        provider = Organisation(name="Chiltern Home Care", status=OrganisationStatus.APPROVED)
        db.session.add(provider)
        db.session.flush()
        accounts.create_user(
            email=STAFF_EMAIL,
            full_name="Priya Shah",
            password=PASSWORD,
            role=Role.PROVIDER_STAFF,
            organisation_id=provider.id,
        )
        service = listings.create_listing(
            provider,
            listings.ListingDetails(
                name="Home care visits",
                description="Help with washing and dressing.",
                category_codes=["personal-care"],
                price_pence=26_00,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        service.status = ServiceStatus.PUBLISHED
        db.session.commit()
        found = str(service.id)
        db.session.remove()
    return found


def test_a_citizen_asks_and_the_provider_answers(page: Page, service_id: str) -> None:
    page.goto(f"/services/{service_id}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Ask the provider a question").click()
    expect(heading(page)).to_have_text("Sign in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Ask Chiltern Home Care a question")
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Send your question").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your question")
    assert_accessible_at_both_widths(page)
    page.get_by_label("What would you like to ask?").fill(QUESTION)
    page.get_by_role("button", name="Send your question").click()
    expect(heading(page)).to_have_text("Question about Home care visits")
    expect(page.get_by_text(QUESTION)).to_be_visible()
    expect(page.get_by_text("Waiting for an answer")).to_be_visible()
    assert_accessible_at_both_widths(page)
    navigation(page).get_by_role("link", name="Questions").click()
    expect(heading(page)).to_have_text("Your questions to providers")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, STAFF_EMAIL, PASSWORD)
    expect(heading(page)).to_contain_text("Chiltern Home Care")
    assert_accessible_at_both_widths(page)
    navigation(page).get_by_role("link", name="Questions").click()
    expect(heading(page)).to_have_text("Questions about your services")
    expect(page.get_by_role("heading", name="Waiting for your answer (1)")).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Home care visits").click()
    expect(page.get_by_text("Asked for Dorothy Pearce")).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Send your answer").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter your answer")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Your answer").fill(ANSWER)
    page.get_by_role("button", name="Send your answer").click()
    expect(page.get_by_text("Your answer has been sent")).to_be_visible()
    assert_accessible_at_both_widths(page)
    sign_out(page)

    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    expect(heading(page)).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.goto("/notifications")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Chiltern Home Care answered about Home care visits").click()
    expect(heading(page)).to_have_text("Question about Home care visits")
    expect(page.get_by_text(ANSWER)).to_be_visible()
    expect(page.get_by_text("Priya Shah, Chiltern Home Care")).to_be_visible()
    assert_accessible_at_both_widths(page)
