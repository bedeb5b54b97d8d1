"""Acting for someone in a real browser (issue 17): a family member holding a lasting power of
attorney starts acting for their mother from their home, sees the banner naming her on her
pages and on the search, is refused in words what the consent does not cover, and stops. At
desktop and phone widths, axe on every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people.models import Authority, Consent
from marketplace.types import utcnow
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, navigation, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

FAMILY_EMAIL = "karen@example.org"


@pytest.fixture
def power_of_attorney(live_server: LiveServer) -> None:
    """Dorothy's account, and Karen's with a lasting power of attorney to see and order for
    her (not to draft her plan)."""
    with live_server.app.app_context():
        mother = accounts.create_user(
            email="dorothy@example.org",
            full_name="Dorothy Pearce",
            password=PASSWORD,
            role=Role.CITIZEN,
        )
        daughter = accounts.create_user(
            email=FAMILY_EMAIL, full_name="Karen Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        assert mother.person_id is not None
        now = utcnow()
        db.session.add(
            Consent(
                person_id=mother.person_id,
                grantee_user_id=daughter.id,
                scopes=["see", "order"],
                authority=Authority.LPA_HEALTH_WELFARE,
                given_by_name="Dorothy Pearce",
                document_reference="LPA 7000-1234-5678",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=365),
            )
        )
        db.session.commit()
        db.session.remove()


def acting_banner(page: Page) -> Locator:
    return page.locator(".app-acting-banner")


def test_a_family_member_acts_for_their_mother_and_stops(
    page: Page, power_of_attorney: None
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, FAMILY_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    expect(page.get_by_role("heading", name="People you can act for")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Act for Dorothy Pearce").click()
    expect(acting_banner(page)).to_contain_text("You are acting for Dorothy Pearce")
    expect(acting_banner(page)).to_contain_text(
        "Their consent lets you: see their budget and orders, place and cancel orders for them."
    )
    # Her home, named as hers: the reader is not the one cared for.
    expect(heading(page)).to_have_text("Dorothy Pearce\u2019s care and support")
    expect(navigation(page).get_by_role("link", name="Their care and support")).to_be_visible()
    expect(navigation(page).get_by_role("link", name="Your care and support")).to_have_count(0)
    assert_accessible_at_both_widths(page)

    page.goto("/search?q=home+care")
    expect(acting_banner(page)).to_contain_text("You are acting for Dorothy Pearce")
    assert_accessible_at_both_widths(page)

    page.goto("/my/plan/draft")
    expect(heading(page)).to_have_text("Your consent from Dorothy Pearce does not cover this")
    assert_accessible_at_both_widths(page)

    acting_banner(page).get_by_role("button", name="Stop acting for them").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "You have stopped acting for Dorothy Pearce"
    )
    expect(acting_banner(page)).to_have_count(0)
    expect(navigation(page).get_by_role("link", name="Your care and support")).to_be_visible()
    assert_accessible_at_both_widths(page)
