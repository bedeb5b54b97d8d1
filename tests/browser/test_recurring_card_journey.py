"""Issue 16's recurring care by card in a real browser, at desktop and phone widths, against
localstripe: the self-funder (like the demo's Rajesh Mehta) buys four weeks of visits, chooses
on the order's page to pay each period by card, agrees and saves a card on the card page
(Stripe.js's confirmCardSetup, localstripe's stand-in), and comes back to the order sent to
the provider; the first period is then charged off-session by the job and shown as paid.
Axe and the page checks on every page.

It uses the card journey's own app and localstripe (test_card_payment_journey's fixtures).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.extensions import db
from marketplace.orders.models import OrderStatus
from marketplace.payments import recurring
from marketplace.payments_setup import stripe_gateway
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.browser.test_card_payment_journey import (  # noqa: F401 (fixtures)
    HOURS,
    PRICE,
    SELF_FUNDER,
    VISA,
    card_credits,
    listing_id,
    live_server,
    localstripe,
    rajs_order,
    show_localstripes_card_fields,
)
from tests.citizens.helpers import TODAY
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

WEEKS = 4


def test_a_self_funder_pays_each_period_of_recurring_care_by_card(
    page: Page,
    live_server: LiveServer,  # noqa: F811
    listing_id: str,  # noqa: F811
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, SELF_FUNDER, PASSWORD)
    expect(heading(page)).not_to_have_text("Sign in")
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/services/{listing_id}/order")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Every week, on the days I choose").check()
    starts = TODAY + timedelta(days=10)
    page.get_by_label("Day", exact=True).fill(str(starts.day))
    page.get_by_label("Month", exact=True).fill(str(starts.month))
    page.get_by_label("Year", exact=True).fill(str(starts.year))
    page.get_by_label("How many hours each time").fill(str(HOURS))
    for day in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"):
        page.get_by_label(day, exact=True).check()
    page.get_by_label("For how many weeks?").fill(str(WEEKS))
    page.get_by_role("button", name="Check the cost").click()
    expect(page.get_by_role("main")).to_contain_text("You pay for this yourself, by card")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Add to basket").click()
    expect(heading(page)).to_have_text("Your basket")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Check out").click()
    expect(heading(page)).to_have_text("Check out")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Place order").click()
    expect(heading(page)).to_have_text("Pay by card")
    show_localstripes_card_fields(page)
    assert_accessible_at_both_widths(page)
    order = rajs_order(live_server)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert order.card_pence == order.total_pence == 7 * WEEKS * PRICE

    page.goto(f"/my/orders/{order.id}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="pay each period by card as it comes").click()
    expect(heading(page)).to_have_text("Pay each period by card")
    expect(page.locator("#card-terms")).to_contain_text("I agree that")
    show_localstripes_card_fields(page)
    assert_accessible_at_both_widths(page)
    fields = page.locator("#card-element")
    fields.locator('input[placeholder="number"]').fill(VISA)
    fields.locator('input[placeholder="exp_month"]').fill("12")
    fields.locator('input[placeholder="exp_year"]').fill(str(TODAY.year + 2)[-2:])
    fields.locator('input[placeholder="cvc"]').fill("123")
    page.get_by_role("button", name="Agree and save card").click()

    expect(page.get_by_role("main")).to_contain_text("Your card is saved")
    expect(page.get_by_role("heading", name="Paying each period by card")).to_be_visible()
    assert_accessible_at_both_widths(page)
    assert rajs_order(live_server).status is OrderStatus.PLACED
    assert card_credits(live_server) == 0

    # The job, a few days before the first period starts.
    with live_server.app.app_context():
        report = recurring.charge_due_cycles(
            db.session,
            stripe_gateway(),
            today=starts - timedelta(days=3),
            commit=db.session.commit,
        )
        db.session.remove()
    assert len(report.paid) == 1
    assert card_credits(live_server) == 1

    page.reload()
    expect(page.get_by_role("main")).to_contain_text("paid by card")
    assert_accessible_at_both_widths(page)
