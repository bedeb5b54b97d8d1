"""The provider's and the council's order pages in a real browser, at desktop and phone widths,
with axe on each: the provider's inbox, a new order (declining it without a reason is
refused), an order in progress with a queried delivery to correct, the invoices page; the
council's overview of what waits for a decision (a draft support plan, followed to the plans to
approve), its orders with a filter, an order, and the invoices to settle (one held, one settled);
and the council's providers list in pages with a large directory beside it.

The orders are made directly, dated a few weeks back from today (London), so their weekly
periods are over and invoiced."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.orders import checkout, deliveries, invoicing, life
from marketplace.orders.models import ScheduleKind
from marketplace.orders.schedule import Schedule
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers import listings
from providers.models import (
    InvoiceCycle,
    Organisation,
    OrganisationStatus,
    PriceUnit,
    ServiceStatus,
)
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, navigation, sign_in, sign_out
from tests.citizens.helpers import TODAY, YEAR_START, funded_pots, give_budget
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

CITIZEN_EMAIL = "dorothy@example.org"
STAFF_EMAIL = "staff@chiltern.example.org"
OFFICER_EMAIL = "officer@council.example.org"
# A Monday three to four weeks ago: two weeks of visits, each week invoiced since.
START = TODAY - timedelta(days=21 + TODAY.weekday())


@pytest.fixture
def orders(live_server: LiveServer) -> dict[str, str]:
    """A new order, and one in progress with both weeks invoiced (the second held by a
    queried delivery). Returns their references."""
    if START - timedelta(days=3) < YEAR_START:
        pytest.skip("too early in the financial year for orders a few weeks old")
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        citizen = accounts.create_user(
            email=CITIZEN_EMAIL, full_name="Dorothy Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        citizen.person.postcode = "SG1 1AA"
        officer = accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        provider = Organisation(
            name="Chiltern Home Care",
            status=OrganisationStatus.APPROVED,
            invoice_cycle=InvoiceCycle.WEEKLY,
        )
        db.session.add(provider)
        db.session.flush()
        staff = accounts.create_user(
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
        schedule = Schedule(ScheduleKind.RECURRING, START, 2, 2, ("MO", "TH"))
        placed = {
            key: checkout.place_order(
                db.session,
                citizen.person,
                service,
                schedule,
                by=citizen,
                today=START - timedelta(days=3),
                placement_key=key,
            )
            for key in ("new", "in_progress")
        }
        order = placed["in_progress"]
        life.accept(db.session, order, by=staff)
        recorded = [
            deliveries.record_delivery(
                db.session,
                order,
                by=staff,
                delivered_on=day,
                units=units,
                note=note,
                today=TODAY,
            )
            for day, units, note in (
                (START, 2, "Washed and dressed"),
                (START + timedelta(days=3), 2, ""),
                (START + timedelta(days=7), 2, ""),
                (START + timedelta(days=10), 0, "Missed: in hospital"),
            )
        ]
        deliveries.query_delivery(
            db.session, recorded[2], by=citizen, reason="The carer stayed one hour"
        )
        for cycle in order.cycles:
            invoicing.raise_invoice(db.session, order, cycle, by=staff, today=TODAY)
        # A change to her plan, waiting for the council.
        draft_plan(
            db.session,
            citizen.person,
            by=citizen,
            outcomes="To stay at home, and go to a lunch club.",
            items=[PlanItemSpec("help-at-home", 300_00), PlanItemSpec("lunch-clubs", 20_00)],
        )
        db.session.commit()
        references = {key: each.reference for key, each in placed.items()}
        db.session.remove()
    return references


def test_the_provider_and_the_council_work_through_orders(
    page: Page, orders: dict[str, str]
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, STAFF_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Chiltern Home Care")
    assert_accessible_at_both_widths(page)
    navigation(page).get_by_role("link", name="Orders").click()
    expect(heading(page)).to_have_text("Orders")
    expect(page.get_by_role("link", name="New (1)")).to_have_attribute("aria-current", "page")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name=orders["new"]).click()
    expect(heading(page)).to_have_text(f"Order {orders['new']}")
    expect(page.get_by_role("main")).to_contain_text("SG1 1AA")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Decline this order").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter why you are declining this order")
    assert_accessible_at_both_widths(page)

    page.goto("/provider/orders?tab=in_progress")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=orders["in_progress"]).click()
    expect(heading(page)).to_have_text(f"Order {orders['in_progress']}")
    expect(page.get_by_role("main")).to_contain_text("What is wrong: The carer stayed one hour")
    assert_accessible_at_both_widths(page)

    page.goto("/provider/invoices")
    expect(page.get_by_role("main")).to_contain_text("Held: a delivery is queried")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    # What waits for a decision: the draft plan, and the invoice not held.
    expect(page.get_by_role("link", name="1 invoice ready to pay")).to_be_visible()
    expect(page.get_by_role("link", name="0 orders waiting for approval")).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="1 support plan waiting for approval").click()
    expect(heading(page)).to_have_text("Support plans to approve")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Dorothy Pearce").click()
    expect(heading(page)).to_have_text("Support plan")
    expect(page.get_by_role("main")).to_contain_text("go to a lunch club")
    assert_accessible_at_both_widths(page)
    page.goto("/council/orders")
    expect(page.get_by_role("table")).to_contain_text("All orders: 2")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Status").select_option(label="In progress")
    page.get_by_role("button", name="Show orders").click()
    expect(page.get_by_role("table")).to_contain_text("Orders matching the filters: 1")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=orders["in_progress"]).click()
    expect(heading(page)).to_have_text(f"Order {orders['in_progress']}")
    assert_accessible_at_both_widths(page)

    page.goto("/council/invoices")
    expect(page.get_by_role("main")).to_contain_text("A delivery on it is queried")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Settle").click()
    expect(banner(page)).to_contain_text("£104 to Chiltern Home Care")
    expect(page.get_by_role("button", name="Settle")).to_have_count(0)
    assert_accessible_at_both_widths(page)

    # A provider made without the council's decisions (as an import makes them).
    page.goto("/council/providers")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Chiltern Home Care").click()
    expect(heading(page)).to_have_text("Chiltern Home Care")
    expect(page.get_by_role("main")).to_contain_text("No decisions yet.")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    # The citizen's side of the order in progress: deliveries to confirm, invoices raised.
    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.goto("/my/orders")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=orders["in_progress"]).click()
    expect(page.get_by_role("main")).to_contain_text("Raised, not yet paid")
    assert_accessible_at_both_widths(page)


def test_the_council_pages_through_a_large_directory(
    page: Page, orders: dict[str, str], live_server: LiveServer
) -> None:
    """The providers list in pages of 50 with GOV.UK pagination (issue 22): the status tab kept
    across pages, and a page past the end of the orders saying so; axe on each."""
    with live_server.app.app_context():
        db.session.add_all(
            Organisation(
                name=f"Herts Care {n:03d}",
                status=OrganisationStatus.PENDING if n % 2 else OrganisationStatus.APPROVED,
            )
            for n in range(120)
        )
        db.session.commit()
        db.session.remove()
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.goto("/council/providers")
    expect(page.get_by_role("table")).to_contain_text("All providers: 121, page 1 of 3")
    pages = page.get_by_role("navigation", name="Pages of providers")
    expect(pages.get_by_role("link", name="Page 3")).to_be_visible()
    assert_accessible_at_both_widths(page)
    pages.get_by_role("link", name="Next").click()
    expect(page).to_have_title(re.compile(r"^Providers, page 2 of 3"))
    expect(page.get_by_role("link", name="Page 2")).to_have_attribute("aria-current", "page")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Pending (60)").click()
    expect(page.get_by_role("table")).to_contain_text("Pending providers: 60, page 1 of 2")
    assert_accessible_at_both_widths(page)
    page.get_by_role("navigation", name="Pages of providers").get_by_role(
        "link", name="Next"
    ).click()
    expect(page.get_by_role("table")).to_contain_text("Pending providers: 60, page 2 of 2")
    expect(page.get_by_role("row")).to_have_count(11)  # the header and ten
    assert_accessible_at_both_widths(page)

    page.goto("/council/orders?page=7")
    expect(page.get_by_role("main")).to_contain_text("Page 7 is past the end: there is 1 page.")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Go to the last page").click()
    expect(page.get_by_role("table")).to_contain_text("All orders: 2")
    assert_accessible_at_both_widths(page)
