"""Adding money to one's own account by card in a real browser (issue 16, item 3), at desktop
and 320 px against localstripe, axe on every page: the self-funder Raj follows the budget
page's link, is told in the error summary what is wrong with an empty amount, pays £25 with
the card element on the payment page the orders use, and the return page and statement show
the money in; a declined card is shown in the payment page's error summary and adds nothing.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.formatting import pounds
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.browser.test_card_payment_journey import (  # noqa: F401 (fixtures)
    DECLINED,
    SELF_FUNDER,
    VISA,
    card_credits,
    listing_id,
    live_server,
    localstripe,
    show_localstripes_card_fields,
)
from tests.citizens.helpers import TODAY
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

TOP_UP = 25_00


def open_the_top_up_page(page: Page) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, SELF_FUNDER, PASSWORD)
    expect(heading(page)).not_to_have_text("Sign in")
    assert_accessible_at_both_widths(page)
    page.goto("/my/budget")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Add money to your account by card").click()
    expect(heading(page)).to_have_text("Add money to your account by card")
    assert_accessible_at_both_widths(page)


def pay_in(page: Page, number: str) -> None:
    page.get_by_label("The amount to add").fill("25.00")
    page.get_by_role("button", name="Continue to pay by card").click()
    expect(heading(page)).to_have_text("Pay by card")
    show_localstripes_card_fields(page)
    assert_accessible_at_both_widths(page)
    fields = page.locator("#card-element")
    fields.locator('input[placeholder="number"]').fill(number)
    fields.locator('input[placeholder="exp_month"]').fill("12")
    fields.locator('input[placeholder="exp_year"]').fill(str(TODAY.year + 2)[-2:])
    fields.locator('input[placeholder="cvc"]').fill("123")
    page.get_by_role("button", name=f"Pay {pounds(TOP_UP)}").click()


def test_a_self_funder_adds_money_to_their_account_by_card(
    page: Page,
    live_server: LiveServer,  # noqa: F811
    listing_id: str,  # noqa: F811
) -> None:
    open_the_top_up_page(page)
    page.get_by_role("button", name="Continue to pay by card").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the amount to add")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible_at_both_widths(page)

    pay_in(page, VISA)

    expect(page.get_by_role("heading", name="Money added")).to_be_visible()
    assert_accessible_at_both_widths(page)
    assert card_credits(live_server) == 1
    page.get_by_role("link", name="See your budget").click()
    expect(heading(page)).to_have_text("Your personal budget")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=re.compile("See your statement")).click()
    expect(page.get_by_role("main")).to_contain_text("Top-up by card")
    assert_accessible_at_both_widths(page)


def test_a_declined_top_up_says_so_and_adds_nothing(
    page: Page,
    live_server: LiveServer,  # noqa: F811
    listing_id: str,  # noqa: F811
) -> None:
    open_the_top_up_page(page)

    pay_in(page, DECLINED)

    summary = page.locator("#payment-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible_at_both_widths(page)
    assert card_credits(live_server) == 0
