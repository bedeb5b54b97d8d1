"""Issue 17's "Done when" for a broker, in a real browser at desktop and 320 px, axe on every
page, the key steps (giving consent, approving, placing the order, withdrawing) by keyboard:

a self-funder (Raj: no budget, pays by card) gives an approved brokerage consent to do
everything; the broker (Sam) finds him on the caseload, acts for him (the banner names him on
every page, the search too), searches, puts a service on his shortlist with a note and sends
it; Raj approves it; Sam, acting, orders it and pays by card for him (localstripe); Raj reads
"Placed by Sam Patel (Herts Independent Brokerage) on your behalf" on the order's timeline, is
notified, and reads Sam's actions in his record log; Raj withdraws the consent, and Sam's very
next request for Raj's pages is refused (back to the caseload, told why) and Raj can no longer
be acted for.

Raj and Sam each have a browser of their own (Sam's stays signed in and acting while Raj
withdraws). The app is the card journey's (talking to a localstripe of its own).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from playwright.sync_api import Error as PlaywrightError

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.orders import queries
from marketplace.orders.models import Order, OrderStatus
from marketplace.payments.models import CardPayment
from marketplace.people.models import Consent, ConsentScope
from providers import search_index
from providers.models import Organisation, OrganisationKind, OrganisationStatus
from tests.browser.accessibility import add_axe, assert_accessible_at_both_widths, tab_to, watch
from tests.browser.conftest import _FAILED, TIMEOUT_MS, VIEWPORTS, LiveServer
from tests.browser.test_account_journeys import heading, sign_in, sign_out
from tests.browser.test_card_payment_journey import (  # noqa: F401 (fixtures)
    HOURS,
    PRICE,
    SELF_FUNDER,
    SERVICE,
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

CLIENT = "Rajesh Mehta"
BROKER_EMAIL = "sam@hertsbrokerage.example.org"
BROKER = "Sam Patel"
BROKERAGE = "Herts Independent Brokerage"
NOTE = "Two hours a fortnight keeps the path to your door clear."
GONE = f"You can no longer act for {CLIENT}: their consent has ended or was withdrawn"


@pytest.fixture
def brokerage(live_server: LiveServer, listing_id: str) -> str:  # noqa: F811
    """An approved brokerage with one broker, Sam, and the listing in the search index; returns
    the listing's id. Raj (the self-funder) is the card journey's."""
    with live_server.app.app_context():
        organisation = Organisation(
            name=BROKERAGE, status=OrganisationStatus.APPROVED, kind=OrganisationKind.BROKERAGE
        )
        db.session.add(organisation)
        db.session.flush()
        accounts.create_user(
            email=BROKER_EMAIL,
            full_name=BROKER,
            password=PASSWORD,
            role=Role.BROKER,
            organisation_id=organisation.id,
        )
        db.session.commit()
        search_index.sync(live_server.app)
        db.session.remove()
    return listing_id


@pytest.fixture
def broker_page(
    browser: Browser,
    live_server: LiveServer,  # noqa: F811
    viewport: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> Iterator[Page]:
    """The broker's own browser (a second context, the same width), watched as `page` is."""
    context = browser.new_context(
        base_url=live_server.url,
        viewport=VIEWPORTS[viewport],
        locale="en-GB",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(TIMEOUT_MS)
    add_axe(context)
    page = context.new_page()
    page_watch = watch(page)
    yield page
    try:
        if request.node.stash.get(_FAILED, False):
            shot = tmp_path / "broker-failure.png"
            with contextlib.suppress(PlaywrightError):
                page.screenshot(path=shot, full_page=True)
                print(f"The broker's page when the test failed ({page.url}): {shot}")
            return
        problems = page_watch.problems()
        assert not problems, "The broker's browser reported problems:\n  " + "\n  ".join(problems)
        unchecked = page_watch.unchecked()
        assert not unchecked, f"Broker's pages never checked with assert_accessible: {unchecked}"
    finally:
        with contextlib.suppress(PlaywrightError):
            context.close()


def acting_banner(page: Page) -> Locator:
    return page.locator(".app-acting-banner")


def success(page: Page) -> Locator:
    return page.locator(".govuk-notification-banner--success")


def check_acting_for(page: Page, name: str) -> None:
    """The page names `name` in the acting banner, and passes the checks."""
    expect(acting_banner(page)).to_contain_text(f"You are acting for {name}")
    assert_accessible_at_both_widths(page)


def check_acting(page: Page) -> None:
    check_acting_for(page, CLIENT)


def press(control: Locator, key: str) -> None:
    """Give `control` the focus and press `key` on it (Space ticks, Enter submits)."""
    control.focus()
    control.page.keyboard.press(key)


def only_order_of(server: LiveServer, email: str) -> Order:
    """The one order of the person whose account is `email`, detached from the session."""
    with server.app.app_context():
        person_id = accounts.user_by_email(email).person_id
        (order,) = queries.orders_of_person(db.session, person_id)
        db.session.expunge(order)
        db.session.remove()
    return order


def rajs_order(server: LiveServer) -> Order:
    return only_order_of(server, SELF_FUNDER)


def read_the_record_log(page: Page) -> None:
    """Raj reads in his record log what Sam did for him: acting, shortlisting, ordering."""
    page.goto("/my/record-log")
    expect(heading(page)).to_have_text("Who has looked at your record")
    main = page.get_by_role("main")
    expect(main).to_contain_text(BROKER)
    expect(main).to_contain_text(BROKERAGE)
    expect(main).to_contain_text(SERVICE)
    assert_accessible_at_both_widths(page)


def give_consent_by_keyboard(page: Page) -> None:
    """Raj, signed in, gives the brokerage consent to everything, by keyboard."""
    page.get_by_role("link", name="See, give or withdraw consent").click()
    expect(heading(page)).to_have_text("Who can act for you")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Give consent to a brokerage").click()
    expect(heading(page)).to_have_text("Give consent to a brokerage")
    assert_accessible_at_both_widths(page)
    press(page.get_by_label(BROKERAGE), "Space")
    expect(page.get_by_label(BROKERAGE)).to_be_checked()
    for scope in ConsentScope:
        press(page.get_by_label(scope.label), "Space")
        expect(page.get_by_label(scope.label)).to_be_checked()
    ends = TODAY + timedelta(days=180)
    page.get_by_label("Day", exact=True).focus()
    page.keyboard.type(str(ends.day))
    page.keyboard.press("Tab")
    page.keyboard.type(str(ends.month))
    page.keyboard.press("Tab")
    page.keyboard.type(str(ends.year))
    tab_to(page, "Give consent", limit=5)
    page.keyboard.press("Enter")
    expect(success(page)).to_contain_text(f"Consent given: {BROKERAGE} can now act for you")
    expect(heading(page)).to_have_text("Who can act for you")
    assert_accessible_at_both_widths(page)


def start_acting(page: Page) -> None:
    """Sam, on the caseload, acts for Raj (by keyboard)."""
    expect(heading(page)).to_have_text("Your clients")
    expect(page.get_by_role("main")).to_contain_text(CLIENT)
    assert_accessible_at_both_widths(page)
    press(page.get_by_role("button", name=f"Act for {CLIENT}"), "Enter")
    expect(acting_banner(page)).to_be_visible()
    check_acting(page)


def shortlist_for_the_client(page: Page) -> None:
    """Sam, acting, searches, puts the service on Raj's shortlist, writes a note, sends it;
    approving it and Raj's consents are not his."""
    page.goto("/search?q=gardening")
    expect(page.locator(".app-results")).to_contain_text(SERVICE)
    check_acting(page)
    page.locator(".app-results").get_by_role("link", name=SERVICE).click()
    expect(heading(page)).to_have_text(SERVICE)
    check_acting(page)
    page.get_by_role("button", name="Add to shortlist").click()
    expect(success(page)).to_contain_text(f"{SERVICE} is on {CLIENT}'s shortlist")
    check_acting(page)
    page.get_by_role("link", name="See the shortlist").click()
    expect(heading(page)).to_have_text(f"{CLIENT}'s shortlist")
    check_acting(page)
    page.get_by_role("link", name=f"Add a note on {SERVICE}").click()
    expect(heading(page)).to_have_text(f"Note on {SERVICE}")
    check_acting(page)
    page.get_by_label("Note", exact=True).fill(NOTE)
    page.get_by_role("button", name="Save the note").click()
    expect(success(page)).to_contain_text(f"The note on {SERVICE} was saved")
    expect(page.get_by_role("main")).to_contain_text(NOTE)
    check_acting(page)
    page.get_by_role("button", name=f"Send the shortlist to {CLIENT}").click()
    expect(success(page)).to_contain_text(f"The shortlist was sent to {CLIENT} to choose from")
    check_acting(page)
    # Choosing is the client's: the broker is offered no approval.
    expect(page.get_by_role("button", name="Approve the services I chose")).to_have_count(0)
    # Who may act for Raj is his to decide: the broker is told so in words.
    page.goto("/my/consents")
    expect(heading(page)).to_have_text(f"Only {CLIENT} or their attorney can do this")
    check_acting(page)


def approve_by_keyboard(page: Page) -> None:
    """Raj, signed in, approves the service on his shortlist by keyboard."""
    page.goto("/my/shortlist")
    expect(heading(page)).to_have_text("Your shortlist")
    main = page.get_by_role("main")
    expect(main).to_contain_text(f"{BROKER} sent you this shortlist")
    expect(main).to_contain_text(NOTE)
    assert_accessible_at_both_widths(page)
    choice = page.get_by_label(f"{SERVICE}, from ")
    press(choice, "Space")
    expect(choice).to_be_checked()
    tab_to(page, "Approve the services I chose", limit=5)
    page.keyboard.press("Enter")
    expect(success(page)).to_contain_text(f"Approved: {SERVICE}")
    expect(main).to_contain_text(f"Yes, by {CLIENT}")
    assert_accessible_at_both_widths(page)


def order_and_pay_for_the_client(page: Page, service_id: str) -> None:
    """Sam, acting, orders the approved service for Raj (placing it by keyboard) and pays
    for it with Raj's card."""
    page.goto(f"/services/{service_id}")
    check_acting(page)
    page.get_by_role("button", name=f"Buy for {CLIENT}").click()
    expect(heading(page)).to_contain_text("Order ")
    check_acting(page)
    page.get_by_label("Once, on one date").check()
    when = TODAY + timedelta(days=10)
    page.get_by_label("Day", exact=True).fill(str(when.day))
    page.get_by_label("Month", exact=True).fill(str(when.month))
    page.get_by_label("Year", exact=True).fill(str(when.year))
    page.get_by_label("How many hours each time").fill(str(HOURS))
    page.get_by_role("button", name="Check the cost").click()
    expect(page.get_by_role("main")).to_contain_text(pounds(PRICE))
    check_acting(page)
    page.get_by_role("button", name="Add to basket").click()
    expect(heading(page)).to_contain_text("basket")
    check_acting(page)
    page.get_by_role("button", name="Check out").click()
    expect(heading(page)).to_have_text("Check out")
    check_acting(page)
    press(page.get_by_role("button", name="Place order"), "Enter")
    expect(heading(page)).to_have_text("Pay by card")
    expect(success(page)).to_contain_text(f"The order for {CLIENT} is placed")
    show_localstripes_card_fields(page)
    check_acting(page)
    fields = page.locator("#card-element")
    fields.locator('input[placeholder="number"]').fill(VISA)
    fields.locator('input[placeholder="exp_month"]').fill("12")
    fields.locator('input[placeholder="exp_year"]').fill(str(TODAY.year + 2)[-2:])
    fields.locator('input[placeholder="cvc"]').fill("123")
    page.get_by_role("button", name=f"Pay {pounds(PRICE)}").click()
    expect(page.get_by_role("heading", name="Payment received")).to_be_visible()
    check_acting(page)


def test_a_broker_buys_care_for_a_self_funder_with_consent_and_loses_access_when_withdrawn(
    page: Page,
    broker_page: Page,
    live_server: LiveServer,  # noqa: F811
    brokerage: str,
) -> None:
    service_id = brokerage

    # Raj gives the brokerage consent.
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, SELF_FUNDER, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    give_consent_by_keyboard(page)
    sign_out(page)

    # Sam finds him on the caseload, acts for him and shortlists for him.
    broker = broker_page
    broker.goto("/sign-in")
    assert_accessible_at_both_widths(broker)
    sign_in(broker, BROKER_EMAIL, PASSWORD)
    start_acting(broker)
    shortlist_for_the_client(broker)

    # Raj approves it.
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, SELF_FUNDER, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    approve_by_keyboard(page)

    # Sam orders it for him and pays by card.
    order_and_pay_for_the_client(broker, service_id)
    order = rajs_order(live_server)
    assert order.status is OrderStatus.PLACED
    with live_server.app.app_context():
        sam = accounts.user_by_email(BROKER_EMAIL)
        (consent,) = db.session.query(Consent).filter_by(person_id=order.person_id).all()
        assert (order.placed_by_id, order.consent_id) == (sam.id, consent.id)
        (payment,) = db.session.query(CardPayment).filter_by(order_id=order.id).all()
        assert (payment.started_by_id, payment.consent_id) == (sam.id, consent.id)
        db.session.remove()
    assert card_credits(live_server) == 1

    # Raj sees who placed it, is told, and reads what Sam did in his record log.
    page.goto(f"/my/orders/{order.id}")
    expect(page.get_by_role("main")).to_contain_text(
        f"Placed by {BROKER} ({BROKERAGE}) on your behalf"
    )
    assert_accessible_at_both_widths(page)
    page.goto("/notifications")
    expect(page.get_by_role("main")).to_contain_text(
        f"{BROKER} ({BROKERAGE}) placed order {order.reference} for you"
    )
    assert_accessible_at_both_widths(page)
    read_the_record_log(page)

    # Raj withdraws the consent, by keyboard.
    page.goto("/my/consents")
    assert_accessible_at_both_widths(page)
    press(page.get_by_role("link", name=f"Withdraw consent ({BROKERAGE})"), "Enter")
    expect(heading(page)).to_have_text(
        f"Are you sure you want to withdraw consent for {BROKERAGE}?"
    )
    assert_accessible_at_both_widths(page)
    press(page.get_by_role("button", name="Withdraw consent"), "Enter")
    expect(success(page)).to_contain_text(
        f"Consent withdrawn: {BROKERAGE} can no longer act for you"
    )
    assert_accessible_at_both_widths(page)

    # Sam's very next request for Raj's pages is refused, and Raj is no longer actable.
    broker.goto("/my/shortlist")
    expect(heading(broker)).to_have_text("Your clients")
    assert broker.url.endswith("/broker/")
    expect(broker.locator(".govuk-notification-banner")).to_contain_text(GONE)
    expect(acting_banner(broker)).to_have_count(0)
    expect(broker.get_by_role("button", name=f"Act for {CLIENT}")).to_have_count(0)
    assert_accessible_at_both_widths(broker)
