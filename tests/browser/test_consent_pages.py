"""The consent pages in a real browser (issue 17): a person gives consent to a brokerage from a
broker's emailed link (the brokerage already chosen), after an error summary for a missing end
date; sees it among their consents; withdraws it after the confirm page. An officer records a
lasting power of attorney for a family member's account. At desktop and phone widths, axe on
every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import london_today
from providers.models import Organisation, OrganisationKind, OrganisationStatus
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

PERSON_EMAIL = "arthur@example.org"
OFFICER_EMAIL = "officer@example.org"
FAMILY_EMAIL = "karen@example.org"


@pytest.fixture
def brokerage_id(live_server: LiveServer) -> str:
    """An approved brokerage, a person with an account, their daughter's account, an officer."""
    with live_server.app.app_context():
        brokerage = Organisation(
            name="Herts Independent Brokerage",
            status=OrganisationStatus.APPROVED,
            kind=OrganisationKind.BROKERAGE,
        )
        db.session.add(brokerage)
        db.session.flush()
        for email, name, role in (
            (PERSON_EMAIL, "Arthur Dent", Role.CITIZEN),
            (FAMILY_EMAIL, "Karen Dent", Role.CITIZEN),
            (OFFICER_EMAIL, "Olive Officer", Role.COUNCIL_OFFICER),
        ):
            accounts.create_user(email=email, full_name=name, password=PASSWORD, role=role)
        db.session.commit()
        found = str(brokerage.id)
        db.session.remove()
    return found


def test_a_person_gives_consent_from_a_brokers_link_and_withdraws_it(
    page: Page, brokerage_id: str
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, PERSON_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)

    page.goto(f"/my/consents/new?brokerage={brokerage_id}")
    expect(heading(page)).to_have_text("Give consent to a brokerage")
    expect(page.get_by_label("Herts Independent Brokerage")).to_be_checked()
    assert_accessible_at_both_widths(page)
    page.get_by_label("See their budget and orders").check()
    page.get_by_label("Shortlist services for them").check()
    page.get_by_role("button", name="Give consent").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter the date the consent should end"
    )
    assert_accessible_at_both_widths(page)

    last_day = london_today().replace(year=london_today().year + 1, day=1)
    page.get_by_label("Day").fill(str(last_day.day))
    page.get_by_label("Month").fill(str(last_day.month))
    page.get_by_label("Year").fill(str(last_day.year))
    page.get_by_role("button", name="Give consent").click()
    expect(heading(page)).to_have_text("Who can act for you")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Consent given: Herts Independent Brokerage can now act for you"
    )
    expect(page.locator(".govuk-summary-card")).to_contain_text("In use")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Withdraw consent").click()
    expect(heading(page)).to_have_text(
        "Are you sure you want to withdraw consent for Herts Independent Brokerage?"
    )
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Withdraw consent").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Consent withdrawn: Herts Independent Brokerage can no longer act for you"
    )
    expect(page.locator(".govuk-summary-card")).to_contain_text("Withdrawn")
    expect(page.get_by_role("link", name="Withdraw consent")).to_have_count(0)
    assert_accessible_at_both_widths(page)


def test_an_officer_records_a_lasting_power_of_attorney(page: Page, brokerage_id: str) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.goto("/council/people")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Arthur Dent").first.click()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="See their consents, or record a power of attorney").click()
    expect(heading(page)).to_have_text("Who can act for them")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Record a lasting power of attorney or deputyship").click()
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Record the authority").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter the document reference")
    assert_accessible_at_both_widths(page)

    page.get_by_label("The family member's email address").fill(FAMILY_EMAIL)
    page.get_by_label("Lasting power of attorney (property and financial affairs)").check()
    page.get_by_label("Document reference").fill("7000-4821-6690")
    page.get_by_label("See their budget and orders").check()
    page.get_by_label("Place and cancel orders for them").check()
    today = london_today()
    later = today.replace(year=today.year + 2, day=1)
    for group, day in (("Start date", today), ("End date", later)):
        fieldset = page.get_by_role("group", name=group)
        fieldset.get_by_label("Day").fill(str(day.day))
        fieldset.get_by_label("Month").fill(str(day.month))
        fieldset.get_by_label("Year").fill(str(day.year))
    page.get_by_role("button", name="Record the authority").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Karen Dent can now act for Arthur Dent"
    )
    expect(page.locator(".govuk-summary-card")).to_contain_text("7000-4821-6690")
    assert_accessible_at_both_widths(page)
