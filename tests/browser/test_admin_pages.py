"""The administrator's pages in a real browser, at desktop and phone widths, with axe and the
page checks on each: users, API tokens, the form for a new token sent without a name, and the
token created."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, navigation, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

ADMIN_EMAIL = "admin@council.example.org"


@pytest.fixture
def administrator(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        accounts.create_user(
            email=ADMIN_EMAIL, full_name="Ada Admin", password=PASSWORD, role=Role.ADMIN
        )
        db.session.commit()
        db.session.remove()


def test_an_administrator_asks_for_an_api_token(page: Page, administrator: None) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, ADMIN_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Users")
    assert_accessible_at_both_widths(page)
    navigation(page).get_by_role("link", name="API tokens").click()
    expect(heading(page)).to_have_text("API tokens")
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Create a token").click()
    expect(heading(page)).to_have_text("Create an API token")
    # The role question is asked out loud: its radios are a group named by it.
    expect(page.get_by_role("group", name="What may it do?")).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Enter a name for the token")
    assert_accessible_at_both_widths(page)

    # The token, once: laid out as a page (it was served as text/plain, raw HTML on screen).
    page.get_by_label("Name").fill("Case management")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator(".govuk-panel__title")).to_have_text("API token created")
    expect(page.locator("#api-token")).to_have_text(re.compile(r"^mkt_"))
    assert_accessible_at_both_widths(page)
