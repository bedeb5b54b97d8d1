"""Issue 17's "Done when" for a family member, in a real browser at desktop and 320 px, axe on
every page, the key steps (approving, placing the order) by keyboard:

Karen holds a lasting power of attorney (property and financial affairs) for her mother
Dorothy, a budget holder, recorded by the council against Karen's own account. Karen acts for
Dorothy from her home ("People you can act for"): the banner names Dorothy on every page, the
search too; she puts a service on Dorothy's shortlist and approves it as her attorney, orders
it from Dorothy's budget and reads "Placed by you on behalf of Dorothy Pearce" on its
timeline; Dorothy's consents page shows Karen's consent and its authority; Karen stops acting.
Dorothy then reads "Placed by Karen Pearce on your behalf" on the order, is notified, finds
Karen's consent on her own consents page, and reads what Karen did in her record log.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.orders.models import Order, OrderStatus
from marketplace.people import consents
from marketplace.people.models import Authority, ConsentScope
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers import listings, search_index
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in, sign_out
from tests.browser.test_broker_journey import (
    acting_banner,
    check_acting_for,
    only_order_of,
    press,
    success,
)
from tests.citizens.helpers import TODAY, funded_pots, give_budget
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

PERSON = "Dorothy Pearce"
PERSON_EMAIL = "dorothy@example.org"
FAMILY = "Karen Pearce"
FAMILY_EMAIL = "karen@example.org"
DOCUMENT = "LPA 7000-1234-5678"
AUTHORITY = Authority.LPA_PROPERTY_FINANCE
SERVICE = "Home help visits"
PROVIDER = "Stevenage Home Care"
# How the consents pages say who gave it, on what authority.
GIVEN_BY = f"{FAMILY}: lasting power of attorney (property and financial affairs)"
HOURS = 2
HOURLY_PENCE = 24_00


@pytest.fixture
def service_id(live_server: LiveServer) -> str:
    """Dorothy (a council budget and an approved plan for help at home), Karen with a lasting
    power of attorney for her as the council records it, and a listed, indexed service."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        dorothy = accounts.create_user(
            email=PERSON_EMAIL, full_name=PERSON, password=PASSWORD, role=Role.CITIZEN
        )
        karen = accounts.create_user(
            email=FAMILY_EMAIL, full_name=FAMILY, password=PASSWORD, role=Role.CITIZEN
        )
        officer = accounts.create_user(
            email="officer@council.example.org",
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        assert dorothy.person is not None
        give_budget(dorothy.person, funded_pots(), council=13_000_00)
        plan = draft_plan(
            db.session,
            dorothy.person,
            by=dorothy,
            outcomes="To stay well and safe at home.",
            items=[PlanItemSpec("help-at-home", 3_000_00)],
        )
        approve_plan(db.session, plan, by=officer)
        consents.give(
            db.session,
            person=dorothy.person,
            scopes=list(ConsentScope),
            authority=AUTHORITY,
            given_by_name=FAMILY,
            document_reference=DOCUMENT,
            starts_at=consents.start_of_day(TODAY),
            ends_at=consents.end_of_day(TODAY + timedelta(days=700)),
            recorded_by=officer,
            grantee=karen,
        )
        provider = Organisation(name=PROVIDER, status=OrganisationStatus.APPROVED)
        db.session.add(provider)
        db.session.flush()
        listing = listings.create_listing(
            provider,
            listings.ListingDetails(
                name=SERVICE,
                description="Help around the home: cleaning, shopping and company.",
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
        search_index.sync(live_server.app)
        db.session.remove()
    return found


def check_acting(page: Page) -> None:
    check_acting_for(page, PERSON)


def dorothys_order(server: LiveServer) -> Order:
    return only_order_of(server, PERSON_EMAIL)


def shortlist_and_approve(page: Page) -> None:
    """Karen, acting, finds the service, shortlists it, and approves it as attorney (by
    keyboard)."""
    page.goto("/search?q=home+help")
    expect(page.locator(".app-results")).to_contain_text(SERVICE)
    check_acting(page)
    page.locator(".app-results").get_by_role("link", name=SERVICE).click()
    expect(heading(page)).to_have_text(SERVICE)
    check_acting(page)
    page.get_by_role("button", name="Add to shortlist").click()
    expect(success(page)).to_contain_text(f"{SERVICE} is on {PERSON}'s shortlist")
    check_acting(page)
    page.get_by_role("link", name="See the shortlist").click()
    expect(heading(page)).to_have_text(f"{PERSON}'s shortlist")
    check_acting(page)
    choice = page.get_by_label(f"{SERVICE}, from {PROVIDER}")
    press(choice, "Space")
    expect(choice).to_be_checked()
    press(page.get_by_role("button", name="Approve the services I chose"), "Enter")
    expect(success(page)).to_contain_text(f"Approved: {SERVICE}")
    expect(page.get_by_role("main")).to_contain_text(f"Yes, by {FAMILY}")
    check_acting(page)


def order_from_the_budget(page: Page, service_id: str) -> None:
    """Karen, acting, orders the service from Dorothy's budget (placing it by keyboard)."""
    page.goto(f"/services/{service_id}")
    check_acting(page)
    page.get_by_role("button", name=f"Buy for {PERSON}").click()
    expect(heading(page)).to_contain_text("Order ")
    check_acting(page)
    page.get_by_label("Once, on one date").check()
    when = TODAY + timedelta(days=10)
    page.get_by_label("Day", exact=True).fill(str(when.day))
    page.get_by_label("Month", exact=True).fill(str(when.month))
    page.get_by_label("Year", exact=True).fill(str(when.year))
    page.get_by_label("How many hours each time").fill(str(HOURS))
    page.get_by_role("button", name="Check the cost").click()
    expect(page.get_by_role("main")).to_contain_text("£48")
    check_acting(page)
    page.get_by_role("button", name="Add to basket").click()
    expect(heading(page)).to_contain_text("basket")
    check_acting(page)
    page.get_by_role("button", name="Check out").click()
    expect(heading(page)).to_have_text("Check out")
    check_acting(page)
    press(page.get_by_role("button", name="Place order"), "Enter")
    expect(success(page)).to_contain_text(f"The order for {PERSON} is placed")
    check_acting(page)


def test_a_family_member_with_power_of_attorney_buys_care_for_their_mother(
    page: Page, live_server: LiveServer, service_id: str
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, FAMILY_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    expect(page.get_by_role("heading", name="People you can act for")).to_be_visible()
    assert_accessible_at_both_widths(page)
    press(page.get_by_role("button", name=f"Act for {PERSON}"), "Enter")
    expect(acting_banner(page)).to_be_visible()
    check_acting(page)

    shortlist_and_approve(page)
    order_from_the_budget(page, service_id)
    order = dorothys_order(live_server)
    assert order.status is OrderStatus.PLACED
    assert order.card_pence == 0
    with live_server.app.app_context():
        karen = accounts.user_by_email(FAMILY_EMAIL)
        assert order.placed_by_id == karen.id
        assert order.consent_id is not None
        db.session.remove()

    page.goto(f"/my/orders/{order.id}")
    expect(page.get_by_role("main")).to_contain_text(f"Placed by you on behalf of {PERSON}")
    check_acting(page)

    # Dorothy's consents, as her attorney sees them.
    page.goto("/my/consents")
    expect(heading(page)).to_have_text(f"Who can act for {PERSON}")
    main = page.get_by_role("main")
    expect(main).to_contain_text(FAMILY)
    expect(main).to_contain_text(GIVEN_BY)
    expect(main).to_contain_text(DOCUMENT)
    check_acting(page)

    acting_banner(page).get_by_role("button", name="Stop acting for them").click()
    expect(success(page)).to_contain_text(f"You have stopped acting for {PERSON}")
    expect(acting_banner(page)).to_have_count(0)
    assert_accessible_at_both_widths(page)
    sign_out(page)

    # Dorothy reads who placed it, is told, and sees Karen's consent.
    sign_in(page, PERSON_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/orders/{order.id}")
    expect(page.get_by_role("main")).to_contain_text(f"Placed by {FAMILY} on your behalf")
    assert_accessible_at_both_widths(page)
    page.goto("/notifications")
    expect(page.get_by_role("main")).to_contain_text(f"placed order {order.reference} for you")
    assert_accessible_at_both_widths(page)
    page.goto("/my/consents")
    expect(heading(page)).to_have_text("Who can act for you")
    main = page.get_by_role("main")
    expect(main).to_contain_text(FAMILY)
    expect(main).to_contain_text(GIVEN_BY)
    assert_accessible_at_both_widths(page)
    page.goto("/my/record-log")
    expect(heading(page)).to_have_text("Who has looked at your record")
    main = page.get_by_role("main")
    expect(main).to_contain_text(FAMILY)
    expect(main).to_contain_text(SERVICE)
    assert_accessible_at_both_widths(page)
