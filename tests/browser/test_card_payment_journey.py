"""Issue 16's card journey in a real browser, at desktop and phone widths, against localstripe:
a self-funder (a person with no budget, like the demo's Rajesh Mehta) buys a one-off visit,
sees at checkout that the card pays it all, pays on the payment page with the card element,
and reaches the return page, which credits the payment on Stripe's word. Also a card that asks
for 3-D Secure, a declined card that leaves the order payable, and a budget holder who pays
by card what their budget cannot cover (the council allowing it). The checkout, payment and
return pages are checked (axe and the page checks) each time.

This module serves its own copy of the app, talking to a localstripe of its own (the suite's
`live_server` has no Stripe), in place of the suite's `live_server` for its tests.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from marketplace import create_app
from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.ledger import Transfer
from marketplace.orders import queries
from marketplace.orders.models import Order, OrderStatus
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers import listings
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.citizens.helpers import TODAY, funded_pots, give_budget
from tests.conftest import PASSWORD, test_settings
from tests.live_server import serving
from tests.payments.conftest import LocalStripe, start_localstripe

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

SELF_FUNDER = "raj@example.org"
BUDGET_HOLDER = "dorothy@example.org"
SERVICE = "Gardening help"
HOURLY_PENCE = 22_50
HOURS = 2
PRICE = HOURS * HOURLY_PENCE  # £45
VISA = "4242424242424242"
THREE_D_SECURE = "4000002760003184"
DECLINED = "4000000000000341"


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStripe]:
    server = start_localstripe(tmp_path_factory.mktemp("browser-localstripe"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def live_server(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, localstripe: LocalStripe
) -> Iterator[LiveServer]:
    """The app as the suite's live server has it (CSRF on), paying at localstripe."""
    app = create_app(
        test_settings(
            database_url,
            tmp_path_factory.mktemp("card-browser-instance"),
            WTF_CSRF_ENABLED=True,
            RATELIMIT_ENABLED=False,
            MAIL_SERVER="",
            SERVER_NAME=None,
            STRIPE_API_BASE=localstripe.url,
            STRIPE_JS_URL="",
            # Budget holders may pay a shortfall by card (self-funders always pay by card).
            CARD_TOP_UPS_ALLOWED=True,
        )
    )
    try:
        with serving(app, name="card-live-server") as url:
            yield LiveServer(app=app, url=url)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def listing_id(live_server: LiveServer, localstripe: LocalStripe) -> str:
    """Raj (a citizen with no budget) and an approved provider's one published listing."""
    localstripe.empty()
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        accounts.create_user(
            email=SELF_FUNDER, full_name="Rajesh Mehta", password=PASSWORD, role=Role.CITIZEN
        )
        provider = Organisation(name="Verulam Garden Care", status=OrganisationStatus.APPROVED)
        db.session.add(provider)
        db.session.flush()
        listing = listings.create_listing(
            provider,
            listings.ListingDetails(
                name=SERVICE,
                description="Help keeping a garden tidy and safe to walk in.",
                category_codes=["personal-care"],
                price_pence=HOURLY_PENCE,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        listing.status = ServiceStatus.PUBLISHED
        db.session.commit()
        found = str(listing.id)
        db.session.remove()
    return found


@pytest.fixture
def budget_holder(live_server: LiveServer, listing_id: str) -> str:
    """Dorothy: £100 a year from the council (less than the order costs) and a plan for help
    at home; returns her email address."""
    with live_server.app.app_context():
        dorothy = accounts.create_user(
            email=BUDGET_HOLDER, full_name="Dorothy Pearce", password=PASSWORD, role=Role.CITIZEN
        )
        officer = accounts.create_user(
            email="officer@council.example.org",
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        give_budget(dorothy.person, funded_pots(), council=100_00)
        plan = draft_plan(
            db.session,
            dorothy.person,
            by=dorothy,
            outcomes="To keep my garden safe to walk in.",
            items=[PlanItemSpec("help-at-home", 300_00)],
        )
        approve_plan(db.session, plan, by=officer)
        db.session.commit()
        db.session.remove()
    return BUDGET_HOLDER


def rajs_order(live_server: LiveServer, email: str = SELF_FUNDER) -> Order:
    with live_server.app.app_context():
        person_id = accounts.user_by_email(email).person_id
        (order,) = queries.orders_of_person(db.session, person_id)
        db.session.expunge(order)
        db.session.remove()
    return order


def card_credits(live_server: LiveServer) -> int:
    with live_server.app.app_context():
        count = db.session.scalar(
            select(func.count()).select_from(Transfer).where(Transfer.code == "card_payment")
        )
        db.session.remove()
    return count or 0


def buy_and_check_out(page: Page, listing_id: str) -> None:
    """Sign in as Raj, put two hours of the service in the basket, and place the order."""
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, SELF_FUNDER, PASSWORD)
    expect(heading(page)).not_to_have_text("Sign in")
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/services/{listing_id}/order")
    expect(heading(page)).to_contain_text("Order ")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Once, on one date").check()
    when = TODAY + timedelta(days=10)
    page.get_by_label("Day", exact=True).fill(str(when.day))
    page.get_by_label("Month", exact=True).fill(str(when.month))
    page.get_by_label("Year", exact=True).fill(str(when.year))
    page.get_by_label("How many hours each time").fill(str(HOURS))
    page.get_by_role("button", name="Check the cost").click()
    expect(page.get_by_role("main")).to_contain_text("You pay for this yourself, by card")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Add to basket").click()
    expect(heading(page)).to_have_text("Your basket")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Check out").click()
    expect(heading(page)).to_have_text("Check out")
    main = page.get_by_role("main")
    expect(main).to_contain_text("You pay for this yourself, by card")
    # The split before committing: no budget stream, the card pays it all.
    row = page.get_by_role("row", name="Card, paid by you after you place the order")
    expect(row).to_contain_text(pounds(PRICE))
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Place order").click()
    expect(heading(page)).to_have_text("Pay by card")


def show_localstripes_card_fields(page: Page) -> None:
    """localstripe's fake card element is bare inputs named only by their placeholders, where
    Stripe's own element labels its fields inside its frame: name and style them as a real
    element would, so that axe judges our page rather than the stand-in."""
    page.locator("#card-element input").first.wait_for()
    page.evaluate(
        """() => document.querySelectorAll("#card-element input").forEach((input) => {
            input.setAttribute("aria-label", input.placeholder);
            input.classList.add("govuk-input");
        })"""
    )


def pay_with(page: Page, number: str) -> None:
    show_localstripes_card_fields(page)
    assert_accessible_at_both_widths(page)
    fields = page.locator("#card-element")
    fields.locator('input[placeholder="number"]').fill(number)
    fields.locator('input[placeholder="exp_month"]').fill("12")
    fields.locator('input[placeholder="exp_year"]').fill(str(TODAY.year + 2)[-2:])
    fields.locator('input[placeholder="cvc"]').fill("123")
    page.get_by_role("button", name=f"Pay {pounds(PRICE)}").click()


def test_a_self_funder_pays_for_a_visit_by_card(
    page: Page, live_server: LiveServer, listing_id: str
) -> None:
    buy_and_check_out(page, listing_id)
    expect(page.get_by_role("main")).to_contain_text(pounds(PRICE))
    assert rajs_order(live_server).status is OrderStatus.AWAITING_PAYMENT

    pay_with(page, VISA)

    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    assert_accessible_at_both_widths(page)
    order = rajs_order(live_server)
    assert order.status is OrderStatus.PLACED
    assert (order.total_pence, order.card_pence) == (PRICE, PRICE)
    assert card_credits(live_server) == 1


def test_a_card_that_asks_for_3d_secure(
    page: Page, live_server: LiveServer, listing_id: str
) -> None:
    buy_and_check_out(page, listing_id)

    pay_with(page, THREE_D_SECURE)
    # Stripe.js's 3-D Secure window (localstripe's stand-in for the bank's page).
    page.get_by_role("button", name="Complete authentication").click()

    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    assert_accessible_at_both_widths(page)
    assert rajs_order(live_server).status is OrderStatus.PLACED
    assert card_credits(live_server) == 1


def test_a_declined_card_says_so_and_leaves_the_order_payable(
    page: Page, live_server: LiveServer, listing_id: str
) -> None:
    buy_and_check_out(page, listing_id)

    pay_with(page, DECLINED)

    summary = page.locator("#payment-errors")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("There is a problem")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert_accessible_at_both_widths(page)
    assert rajs_order(live_server).status is OrderStatus.AWAITING_PAYMENT
    assert card_credits(live_server) == 0

    # Later, from the order's page, another card pays it.
    order = rajs_order(live_server)
    page.goto(f"/my/orders/{order.id}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Pay now").click()
    expect(heading(page)).to_have_text("Pay by card")
    pay_with(page, VISA)
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    assert_accessible_at_both_widths(page)
    assert rajs_order(live_server).status is OrderStatus.PLACED
    assert card_credits(live_server) == 1


def test_a_budget_holder_pays_the_rest_by_card(
    page: Page, live_server: LiveServer, listing_id: str, budget_holder: str
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, budget_holder, PASSWORD)
    expect(heading(page)).not_to_have_text("Sign in")
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/services/{listing_id}/order")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Every week, on the days I choose").check()
    when = TODAY + timedelta(days=10)
    page.get_by_label("Day", exact=True).fill(str(when.day))
    page.get_by_label("Month", exact=True).fill(str(when.month))
    page.get_by_label("Year", exact=True).fill(str(when.year))
    page.get_by_label("How many hours each time").fill(str(HOURS))
    page.get_by_label("Monday", exact=True).check()
    page.get_by_label("For how many weeks?").fill("4")
    page.get_by_role("button", name="Check the cost").click()
    expect(page.get_by_role("main")).to_contain_text("card (")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Add to basket").click()
    expect(heading(page)).to_have_text("Your basket")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Check out").click()
    expect(heading(page)).to_have_text("Check out")
    # The budget pays first, the card last, and says how much.
    rows = page.locator("#checkout-items table tbody tr th")
    expect(rows).to_have_text(["Council", "Card, paid by you after you place the order"])
    assert_accessible_at_both_widths(page)
    page.get_by_label("Pay the rest by card").check()
    page.get_by_role("button", name="Place order").click()
    expect(heading(page)).to_have_text("Pay by card")
    order = rajs_order(live_server, budget_holder)
    assert order.status is OrderStatus.AWAITING_PAYMENT
    assert 0 < order.card_pence < order.total_pence == 4 * PRICE

    show_localstripes_card_fields(page)
    assert_accessible_at_both_widths(page)
    fields = page.locator("#card-element")
    fields.locator('input[placeholder="number"]').fill(VISA)
    fields.locator('input[placeholder="exp_month"]').fill("12")
    fields.locator('input[placeholder="exp_year"]').fill(str(TODAY.year + 2)[-2:])
    fields.locator('input[placeholder="cvc"]').fill("123")
    page.get_by_role("button", name=f"Pay {pounds(order.card_pence)}").click()

    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    assert_accessible_at_both_widths(page)
    assert rajs_order(live_server, budget_holder).status is OrderStatus.PLACED
    assert card_credits(live_server) == 1
