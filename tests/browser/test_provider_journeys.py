"""The supply side in a real browser: a provider registers and lists a service, the council
approves it, and the public can read it. At desktop and phone widths, axe on every page.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from providers.models import Service
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in, sign_out
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

COUNCIL_EMAIL = "officer@council.example.org"


@pytest.fixture
def directory_ready(live_server: LiveServer) -> None:
    """The taxonomy and places, and a council officer to approve providers."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        accounts.create_user(
            email=COUNCIL_EMAIL,
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        db.session.commit()
        db.session.remove()


def test_a_provider_registers_lists_a_service_and_the_council_approves_it(
    page: Page, live_server: LiveServer, directory_ready: None, email_address: str
) -> None:
    page.goto("/provider/register")
    expect(heading(page)).to_have_text("Register your organisation")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Organisation name").fill("Stevenage Sitting Service")
    page.get_by_label("About your organisation").fill(
        "Trained sitters so that carers can have a few hours off."
    )
    page.get_by_label("Contact email address").fill("office@sitting.example.org")
    page.get_by_label("Postcode").fill("SG1 1AA")
    page.get_by_label("Stevenage", exact=True).check()
    page.get_by_label("Your full name").fill("Grace Hopper")
    page.get_by_label("Your email address").fill(email_address)
    page.get_by_label("Create a password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    expect(heading(page)).to_have_text("Check your email")
    assert_accessible_at_both_widths(page)
    page.goto(live_server.link_in_email(email_address, "Confirm your email address"))
    expect(heading(page)).to_have_text("Finish registering your organisation")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Register my organisation").click()

    expect(heading(page)).to_have_text("Stevenage Sitting Service")
    expect(banner(page)).to_contain_text("The council will check it")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Add a service").first.click()
    expect(heading(page)).to_have_text("Add a service")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Service name").fill("Afternoon sitting")
    page.get_by_label("Description").fill("A sitter stays with your relative for the afternoon.")
    page.get_by_label("Respite and short breaks: Sitting services").check()
    page.get_by_label("Per hour", exact=True).check()
    page.get_by_label("Price in pounds").fill("18.50")
    page.get_by_label("At home", exact=True).check()
    page.get_by_role("button", name="Preview").click()
    expect(heading(page)).to_have_text("Preview")
    expect(page.get_by_role("main")).to_contain_text("£18.50 per hour")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Save").click()

    expect(banner(page)).to_contain_text("has been saved as a draft")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Publish Afternoon sitting").click()
    expect(banner(page)).to_contain_text("Afternoon sitting is now published")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    sign_in(page, COUNCIL_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Stevenage Sitting Service").click()
    expect(heading(page)).to_have_text("Stevenage Sitting Service")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Save decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Select a decision")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Approve").check()
    page.get_by_role("button", name="Save decision").click()
    expect(banner(page)).to_contain_text("is now approved")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    with live_server.app.app_context():
        service_id = db.session.scalar(select(Service.id))
        db.session.remove()
    page.goto(f"/services/{service_id}")
    expect(heading(page)).to_have_text("Afternoon sitting")
    expect(page.get_by_role("main")).to_contain_text("£18.50 per hour")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Stevenage Sitting Service").click()
    expect(heading(page)).to_have_text("Stevenage Sitting Service")
    assert_accessible_at_both_widths(page)
