"""The citizen's ordering pages in a real browser, at desktop and phone widths, with axe on
each: the order form and its cost, the basket, checkout, my orders, an order's page with a
delivery to confirm, and the notifications inbox. (The whole journey, from search to a
settled invoice, is tested elsewhere.)"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.orders import deliveries, life, queries
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers import listings
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in
from tests.citizens.helpers import TODAY, funded_pots, give_budget
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

CITIZEN_EMAIL = "dorothy@example.org"
STAFF_EMAIL = "staff@chiltern.example.org"
# A Monday, one of the order's visit days, so the first visit falls on the start (a start two
# weeks on that fell on another day made the test depend on the day it ran).
START = TODAY + timedelta(days=14 + (7 - (TODAY + timedelta(days=14)).weekday()) % 7)


@pytest.fixture
def shop(live_server: LiveServer) -> str:
    """A citizen with a budget and a plan for help at home, and a provider's listing; returns
    the listing's id."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        citizen = accounts.create_user(
            email=CITIZEN_EMAIL, full_name="Dorothy Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        officer = accounts.create_user(
            email="officer@council.example.org",
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        provider = Organisation(name="Chiltern Home Care", status=OrganisationStatus.APPROVED)
        db.session.add(provider)
        db.session.flush()
        accounts.create_user(
            email=STAFF_EMAIL,
            full_name="Sam Carer",
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
        give_budget(citizen.person, funded_pots(), council=2_000_00, client_contribution=300_00)
        plan = draft_plan(
            db.session,
            citizen.person,
            by=citizen,
            outcomes="To stay at home.",
            items=[PlanItemSpec("help-at-home", 300_00)],
        )
        approve_plan(db.session, plan, by=officer)
        db.session.commit()
        service_id = str(service.id)
        db.session.remove()
    return service_id


def test_a_citizen_orders_and_follows_the_order(
    page: Page, shop: str, live_server: LiveServer
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    page.goto(f"/services/{shop}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Buy with my budget").click()
    expect(heading(page)).to_have_text("Order Home care visits")
    assert_accessible_at_both_widths(page)
    # Every error link, the date's included, must take the focus to its field (the page
    # check follows each one).
    page.get_by_role("button", name="Check the cost").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary.get_by_role("link", name="Enter the date")).to_have_attribute(
        "href", "#starts_on-day"
    )
    assert_accessible_at_both_widths(page)

    page.get_by_label("Every week, on the days I choose").check()
    page.get_by_label("Day", exact=True).fill(str(START.day))
    page.get_by_label("Month", exact=True).fill(str(START.month))
    page.get_by_label("Year", exact=True).fill(str(START.year))
    page.get_by_label("How many hours each time").fill("2")
    page.get_by_role("button", name="Check the cost").click()
    expect(summary).to_contain_text("Select at least one day of the week")
    assert_accessible_at_both_widths(page)

    page.get_by_label("Monday", exact=True).check()
    page.get_by_label("Thursday", exact=True).check()
    page.get_by_label("For how many weeks?").fill("4")
    page.get_by_role("button", name="Check the cost").click()
    expect(page.get_by_role("main")).to_contain_text("What if I add this")
    # The answer takes the focus, not the top of the page.
    expect(page.get_by_role("heading", name="What it costs")).to_be_focused()
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Add to basket").click()

    expect(heading(page)).to_have_text("Your basket")
    expect(banner(page)).to_contain_text("Home care visits is in your basket")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Check out").click()
    expect(heading(page)).to_have_text("Check out")
    expect(page.get_by_role("main")).to_contain_text("How £416 will be paid")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Place order").click()

    expect(heading(page)).to_have_text("Your orders")
    expect(banner(page)).to_contain_text("Your order is placed")
    assert_accessible_at_both_widths(page)
    # The home page sums up the budget and lists the order in progress.
    page.goto("/my/")
    expect(heading(page)).to_have_text("Your care and support")
    in_progress = page.get_by_role("region", name="Your orders in progress")
    expect(in_progress).to_contain_text("Home care visits")
    expect(in_progress).to_contain_text("Waiting for the provider")
    expect(page.get_by_role("main")).to_contain_text("Committed to orders")
    assert_accessible_at_both_widths(page)
    page.goto("/my/orders")
    assert_accessible_at_both_widths(page)

    with live_server.app.app_context():
        (order,) = queries.orders_of_person(
            db.session, accounts.user_by_email(CITIZEN_EMAIL).person_id
        )
        staff = accounts.user_by_email(STAFF_EMAIL)
        life.accept(db.session, order, by=staff)
        deliveries.record_delivery(
            db.session,
            order,
            by=staff,
            delivered_on=order.starts_on,
            units=2,
            note="Morning visit",
            today=order.starts_on,
        )
        db.session.commit()
        db.session.remove()

    page.get_by_role("link", name="Home care visits").click()
    expect(page.get_by_role("main")).to_contain_text("Accepted by the provider")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Confirm the delivery").click()
    expect(banner(page)).to_contain_text("You confirmed the delivery")
    assert_accessible_at_both_widths(page)

    page.goto("/notifications")
    expect(heading(page)).to_have_text("Notifications")
    expect(page.get_by_role("main")).to_contain_text("was accepted")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Mark all as read").click()
    expect(banner(page)).to_contain_text("marked as read")
    assert_accessible_at_both_widths(page)
