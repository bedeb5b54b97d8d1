"""The whole purchase in a real browser, at desktop and phone widths, with axe on every page:
a citizen finds help in their own words and orders it from their budget by keyboard alone,
and sees the money set aside; the provider accepts and records the visit; the citizen confirms
it; the provider invoices, the invoice settles at once, and the citizen's budget and statement
show the money spent."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers import listings, search_index
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in, sign_out
from tests.citizens.helpers import TODAY, funded_pots, give_budget
from tests.conftest import PASSWORD

CITIZEN = "dorothy.pearce@example.org"
STAFF = "rota@chiltern.example.org"


@pytest.fixture
def county(live_server: LiveServer) -> None:
    """Dorothy with a budget and a plan for help at home; Chiltern Home Care's listing, in the
    search index."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        dorothy = accounts.create_user(
            email=CITIZEN, full_name="Dorothy Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        officer = accounts.create_user(
            email="officer@council.example.org",
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        chiltern = Organisation(name="Chiltern Home Care", status=OrganisationStatus.APPROVED)
        db.session.add(chiltern)
        db.session.flush()
        accounts.create_user(
            email=STAFF,
            full_name="Sam Okoro",
            password=PASSWORD,
            role=Role.PROVIDER_STAFF,
            organisation_id=chiltern.id,
        )
        listing = listings.create_listing(
            chiltern,
            listings.ListingDetails(
                name="Home care visits",
                description="Carers who help you wash, dress and get ready for the day.",
                category_codes=["personal-care"],
                price_pence=26_00,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        listing.status = ServiceStatus.PUBLISHED
        db.session.commit()
        give_budget(dorothy.person, funded_pots(), council=2_000_00, client_contribution=300_00)
        plan = draft_plan(
            db.session,
            dorothy.person,
            by=dorothy,
            outcomes="To get washed and dressed each morning and stay in my own home.",
            items=[PlanItemSpec("help-at-home", 300_00)],
        )
        approve_plan(db.session, plan, by=officer)
        db.session.commit()
        db.session.remove()
        search_index.sync(live_server.app)


def press(page: Page, target: Locator) -> None:
    """Activate a link or button from the keyboard: it must take focus, and Enter must work."""
    target.focus()
    expect(target).to_be_focused()
    page.keyboard.press("Enter")


def type_into(page: Page, field: Locator, text: str) -> None:
    field.focus()
    expect(field).to_be_focused()
    page.keyboard.type(text)


def total_figures(page: Page) -> dict[str, Locator]:
    """The cells of the budget table's total row, by column."""
    row = page.get_by_role("row").filter(has_text=re.compile(r"^\s*Total"))
    cells = row.get_by_role("cell")
    return {"committed": cells.nth(1), "spent": cells.nth(2)}


def test_a_citizen_buys_care_and_the_provider_is_paid(page: Page, county: None) -> None:
    # Dorothy, by keyboard: search in her own words, order, check out.
    page.goto("/sign-in")
    assert_accessible(page)
    type_into(page, page.get_by_label("Email address", exact=True), CITIZEN)
    type_into(page, page.get_by_label("Password", exact=True), PASSWORD)
    page.keyboard.press("Enter")
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible(page)

    page.goto("/search")
    assert_accessible(page)
    type_into(page, page.get_by_label("What help are you looking for?"), "help to get dressed")
    page.keyboard.press("Enter")
    result = page.get_by_role("link", name="Home care visits")
    expect(result).to_be_visible()
    assert_accessible(page)
    press(page, result)
    expect(heading(page)).to_have_text("Home care visits")
    assert_accessible(page)

    press(page, page.get_by_role("button", name="Buy with my budget"))
    expect(heading(page)).to_have_text("Order Home care visits")
    assert_accessible(page)
    once = page.get_by_label("Once, on one date")
    once.focus()
    page.keyboard.press("Space")
    expect(once).to_be_checked()
    type_into(page, page.get_by_label("Day", exact=True), str(TODAY.day))
    type_into(page, page.get_by_label("Month", exact=True), str(TODAY.month))
    type_into(page, page.get_by_label("Year", exact=True), str(TODAY.year))
    type_into(page, page.get_by_label("How many hours each time"), "2")
    press(page, page.get_by_role("button", name="Check the cost"))
    expect(page.get_by_role("main")).to_contain_text("What if I add this")
    expect(page.get_by_role("main")).to_contain_text("£52")
    assert_accessible(page)
    press(page, page.get_by_role("button", name="Add to basket"))
    expect(heading(page)).to_have_text("Your basket")
    assert_accessible(page)
    press(page, page.get_by_role("button", name="Check out"))
    expect(heading(page)).to_have_text("Check out")
    expect(page.get_by_role("main")).to_contain_text("How £52 will be paid")
    assert_accessible(page)
    press(page, page.get_by_role("button", name="Place order"))
    expect(heading(page)).to_have_text("Your orders")
    expect(banner(page)).to_contain_text("Your order is placed")
    assert_accessible(page)

    page.goto("/my/budget")
    expect(heading(page)).to_have_text("Your personal budget")
    figures = total_figures(page)
    expect(figures["committed"]).to_have_text("£52")
    expect(figures["spent"]).to_have_text("£0")
    assert_accessible(page)
    sign_out(page)

    # The provider accepts the order and records the visit.
    sign_in(page, STAFF, PASSWORD)
    assert_accessible(page)
    page.goto("/provider/orders")
    expect(heading(page)).to_have_text("Orders")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^ORD-")).click()
    expect(heading(page)).to_contain_text("Order ORD-")
    assert_accessible(page)
    page.get_by_role("button", name="Accept this order").click()
    expect(page.get_by_role("main")).to_contain_text("Record a delivery")
    assert_accessible(page)
    delivered = page.get_by_role("group", name="Date delivered")
    delivered.get_by_label("Day", exact=True).fill(str(TODAY.day))
    delivered.get_by_label("Month", exact=True).fill(str(TODAY.month))
    delivered.get_by_label("Year", exact=True).fill(str(TODAY.year))
    page.get_by_label("Hours delivered").fill("2")
    page.get_by_role("button", name="Record this delivery").click()
    expect(page.get_by_role("main")).to_contain_text("To confirm")
    assert_accessible(page)
    sign_out(page)

    # Dorothy confirms the visit.
    sign_in(page, CITIZEN, PASSWORD)
    assert_accessible(page)
    page.goto("/my/orders")
    assert_accessible(page)
    press(page, page.get_by_role("link", name="Home care visits"))
    expect(page.get_by_role("main")).to_contain_text("Accepted by the provider")
    assert_accessible(page)
    press(page, page.get_by_role("button", name=re.compile("^Confirm")))
    expect(banner(page)).to_contain_text("You confirmed the delivery")
    assert_accessible(page)
    sign_out(page)

    # The provider invoices; every line is confirmed, so it is paid at once.
    sign_in(page, STAFF, PASSWORD)
    assert_accessible(page)
    page.goto("/provider/orders?tab=in_progress")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile(r"^ORD-")).click()
    expect(page.get_by_role("main")).to_contain_text("Confirmed")
    assert_accessible(page)
    page.get_by_role("button", name=re.compile("^Raise invoice")).click()
    expect(page.get_by_role("main")).to_contain_text("paid")
    assert_accessible(page)
    page.goto("/provider/invoices")
    expect(page.get_by_role("main")).to_contain_text("£52")
    assert_accessible(page)
    sign_out(page)

    # Dorothy's budget shows the money spent, and her statement the payment.
    sign_in(page, CITIZEN, PASSWORD)
    assert_accessible(page)
    page.goto("/my/budget")
    figures = total_figures(page)
    expect(figures["committed"]).to_have_text("£0")
    expect(figures["spent"]).to_have_text("£52")
    assert_accessible(page)
    page.get_by_role("link", name=re.compile("statement", re.IGNORECASE)).first.click()
    expect(page.get_by_role("main")).to_contain_text("Home care visits")
    assert_accessible(page)
