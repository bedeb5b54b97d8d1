"""A citizen keeps their own details in a real browser (issue 13, item 7): the home page's
link, the "check your answers" summary, a Change link to one question, a mistake answered by
the error summary, and the saved summary with the record of changes. At desktop and phone
widths, axe on every page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

CITIZEN_EMAIL = "dorothy@example.org"


@pytest.fixture
def citizen_account(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        accounts.create_user(
            email=CITIZEN_EMAIL, full_name="Dorothy Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        db.session.commit()
        db.session.remove()


def test_a_citizen_checks_and_changes_their_details(page: Page, citizen_account: None) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    # Signing in lands on the citizen's home; going there again at once raced the redirect.
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Check or change your details").click()
    expect(heading(page)).to_have_text("Your details")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Change address").click()
    expect(heading(page)).to_have_text("Change your details")
    assert_accessible_at_both_widths(page)

    dob = page.get_by_role("group", name="Date of birth")
    dob.get_by_label("Day").fill("14")
    dob.get_by_label("Month").fill("3")
    dob.get_by_label("Year").fill("1941")
    page.get_by_label("Address line 1").fill("14 Orchard Way")
    page.get_by_label("Town or city").fill("Stevenage")
    page.get_by_label("Postcode").fill("SG1")
    page.get_by_label("Phone number").fill("01632 960901")
    page.get_by_label("Phone call").check()
    page.get_by_label("Communication needs (optional)").fill("Hard of hearing")
    page.get_by_label("Key safe code (optional)").fill("2468")
    page.get_by_role("button", name="Save these details").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter a full UK postcode")
    expect(summary).to_be_focused()
    assert_accessible_at_both_widths(page)

    summary.get_by_role("link", name="Enter a full UK postcode, like SG1 4QT").click()
    expect(page.get_by_label("Postcode")).to_be_focused()
    page.get_by_label("Postcode").fill("sg1 4qt")
    page.get_by_label("Key safe code (optional)").fill("2468")
    page.get_by_role("button", name="Save these details").click()
    expect(banner(page)).to_contain_text("Your details are saved")
    expect(heading(page)).to_have_text("Your details")
    main = page.get_by_role("main")
    expect(main).to_contain_text("SG1 4QT")
    expect(main).to_contain_text("14 March 1941")
    expect(main).to_contain_text("Given (never shown here)")
    expect(main).not_to_contain_text("2468")
    expect(page.get_by_role("table")).to_contain_text("Key safe code")
    assert_accessible_at_both_widths(page)
