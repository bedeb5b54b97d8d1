"""Ratings and reviews (issue 19, REVIEWS) in a real browser, axe on every page, at 1280 and
320 px: a citizen rates the service of her completed order (first sending nothing: the error
summary), an officer publishes the review from the council's moderation queue, anyone then
finds the service in search with "4 out of 5, from 1 review" and reads the review (without
her name) on the service page, and the provider replies from its portal, the reply shown under
the review.

The completed order is made through the orders' rules (placed, accepted, delivered, invoiced
and settled), the people and listing as the citizen's order pages' journey makes them."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import OrderStatus, ScheduleKind
from marketplace.orders.schedule import Schedule
from providers import search_index
from providers.models import Service
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in
from tests.browser.test_citizen_order_pages import CITIZEN_EMAIL, STAFF_EMAIL, shop
from tests.citizens.helpers import TODAY
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

__all__ = ["shop"]
OFFICER_EMAIL = "officer@council.example.org"
VISIT = TODAY - timedelta(days=7)


def _completed_order(live_server: LiveServer, service_id: str) -> str:
    """The citizen's one-off visit a week ago, delivered, invoiced and settled: its id."""
    with live_server.app.app_context():
        session = db.session
        users = {
            user.email: user
            for user in session.scalars(
                select(User).where(User.email.in_([CITIZEN_EMAIL, STAFF_EMAIL, OFFICER_EMAIL]))
            )
        }
        citizen, staff, officer = users[CITIZEN_EMAIL], users[STAFF_EMAIL], users[OFFICER_EMAIL]
        service = session.get_one(Service, uuid.UUID(service_id))
        assert citizen.person is not None
        order = checkout.place_order(
            session,
            citizen.person,
            service,
            Schedule(ScheduleKind.ONE_OFF, VISIT, 2),
            by=citizen,
            today=VISIT - timedelta(days=3),
            placement_key="reviewed",
        )
        life.accept(session, order, by=staff)
        deliveries.record_delivery(
            session, order, by=staff, delivered_on=VISIT, units=2, note="", today=TODAY
        )
        invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=staff, today=TODAY)
        invoicing.settle_invoice(session, invoice, by=officer)
        session.commit()
        assert order.status is OrderStatus.COMPLETED
        order_id = str(order.id)
        session.remove()
        search_index.sync(live_server.app)
    return order_id


def test_a_review_is_written_moderated_found_in_search_and_replied_to(
    page: Page, shop: str, live_server: LiveServer
) -> None:
    order_id = _completed_order(live_server, shop)

    # The citizen rates the service from her order's page.
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    expect(heading(page)).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/orders/{order_id}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Rate this service").click()
    expect(heading(page)).to_have_text("Rate Home care visits")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Send the review").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select a rating from 1 to 5")
    assert_accessible_at_both_widths(page)
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("5 out of 5: excellent")).to_be_focused()
    page.get_by_label("4 out of 5: good").check()
    page.get_by_label("Your review (optional)").fill("Kind carers who always came on time.")
    page.get_by_role("button", name="Send the review").click()
    expect(banner(page)).to_contain_text("The council checks every review")
    expect(page.get_by_text("waiting for the council to check it")).to_be_visible()
    assert_accessible_at_both_widths(page)

    # An officer publishes it from the moderation queue.
    page.context.clear_cookies()
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.goto("/council/reviews")
    expect(heading(page)).to_have_text("Reviews to moderate")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="moderate this review").click()
    expect(page.get_by_text("Kind carers who always came on time.")).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_label("No, reject it").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter why the review is not published"
    )
    assert_accessible_at_both_widths(page)
    page.get_by_label("Yes, publish it").check()
    page.get_by_role("button", name="Record the decision").click()
    expect(banner(page)).to_contain_text("is published")
    expect(page.get_by_text("No reviews are waiting.")).to_be_visible()
    assert_accessible_at_both_widths(page)

    # Anyone finds it in search with its rating, and reads it on the service's page.
    page.context.clear_cookies()
    page.goto("/search?q=home+care")
    result = page.locator(".app-result", has_text="Home care visits")
    expect(result).to_contain_text("4 out of 5, from 1 review")
    assert_accessible_at_both_widths(page)
    result.get_by_role("link", name="Home care visits").click()
    expect(page.get_by_role("heading", name="Reviews")).to_be_visible()
    expect(page.get_by_text("Kind carers who always came on time.")).to_be_visible()
    expect(page.get_by_text("A person using this service").first).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("Dorothy")
    assert_accessible_at_both_widths(page)

    # The provider replies from its portal; the reply shows under the review.
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, STAFF_EMAIL, PASSWORD)
    expect(heading(page)).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Reviews of your services").click()
    expect(heading(page)).to_have_text("Reviews of your services")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Reply").click()
    assert_accessible_at_both_widths(page)
    page.get_by_label("Your reply").fill("Thank you: we will tell the team.")
    page.get_by_role("button", name="Publish the reply").click()
    expect(banner(page)).to_contain_text("Your reply is published")
    assert_accessible_at_both_widths(page)
    page.goto(f"/services/{shop}")
    expect(page.get_by_text("Thank you: we will tell the team.")).to_be_visible()
    assert_accessible_at_both_widths(page)

    # The officer reads the providers' performance, with the rating, and sorts it.
    page.context.clear_cookies()
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Providers\u2019 performance").click()
    expect(heading(page)).to_have_text("Providers\u2019 performance")
    by_provider = page.get_by_role("table", name="Performance by provider")
    expect(by_provider).to_contain_text("Chiltern Home Care")
    expect(by_provider).to_contain_text("4.0 out of 5")
    expect(page.locator("svg[role=img]")).to_be_visible()
    assert_accessible_at_both_widths(page)
    by_provider.get_by_role("link", name="Accepted").click()
    expect(page.get_by_role("table", name="Performance by provider")).to_be_visible()
    expect(page.get_by_role("columnheader", name="Accepted").first).to_have_attribute(
        "aria-sort", "ascending"
    )
    assert_accessible_at_both_widths(page)
