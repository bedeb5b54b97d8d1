"""Issue 18's "Done when" (ongoing care), in a real browser at desktop and 320 px, axe on every
page, the key steps (starting reablement, recording its outcome, asking for more hours,
accepting and agreeing it) by keyboard:

1. A council officer starts a reablement episode for Dorothy from her page, with a provider's
   home care, paid from the council's reablement pot; the provider's order page says it is
   reablement, free to her until the end of its first week; the officer records "ongoing
   care": the same order (still her only one) goes on paid from her budget, and she reads so.
2. Her home care package, placed months ago (set up through the rules, `today=` in the past,
   and rolled day by day by `packages.roll_packages`), began in her first budget period and
   carried on into the next: her order page names the budget that paid each period, each
   budget's statement the cycles it paid, and every figure on her budget pages (the table and
   the forecast) is the ledger's; `flask ledger verify`'s checks pass.
3. She asks for more hours on that package; the provider accepts in its portal; the council,
   which pays, agrees on its queue; her order page shows the new terms and the held week's
   money follows, to the penny.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets import funders
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import (
    Funder,
    PaymentFrequency,
    PersonalBudget,
    PotPurpose,
    StreamKind,
)
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.verify import check_budgets
from marketplace.extensions import db
from marketplace.formatting import pounds
from marketplace.ledger import verify_ledger
from marketplace.orders import cycle_money, life, packages
from marketplace.orders.forecast import budget_outlook_and_packages
from marketplace.orders.models import Order, OrderFunding, ScheduleKind
from marketplace.orders.package_periods import dates_of
from marketplace.orders.schedule import WEEKDAY_NAMES, WEEKDAYS, Schedule
from marketplace.orders.verify import check_orders
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers import listings, search_index
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
from tests.browser.test_account_journeys import heading, sign_in, sign_out
from tests.browser.test_broker_journey import press, success
from tests.citizens.helpers import COUNCIL, TODAY, YEAR, funded_pots, give_budget
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

PERSON = "Dorothy Pearce"
PERSON_EMAIL = "dorothy@example.org"
OFFICER_EMAIL = "officer@council.example.org"
STAFF_EMAIL = "staff@chiltern.example.org"
PROVIDER = "Chiltern Home Care"
SERVICE = "Home care visits"
HOURLY_PENCE = 26_00
HOURS = 2
# Dorothy's second budget period began two weeks ago; her package began two weeks before that,
# on today's weekday, once a week: cycles 1 and 2 in the first period, 3 to 6 in the second.
SECOND_PERIOD_STARTS = TODAY - timedelta(days=14)
FIRST_PERIOD = (SECOND_PERIOD_STARTS - timedelta(days=84), SECOND_PERIOD_STARTS - timedelta(1))
SECOND_PERIOD = (SECOND_PERIOD_STARTS, SECOND_PERIOD_STARTS + timedelta(days=182))
PACKAGE_STARTS = SECOND_PERIOD_STARTS - timedelta(days=14)
DAY_CODE = WEEKDAYS[TODAY.weekday()]
DAY_NAME = WEEKDAY_NAMES[DAY_CODE]


def user(email: str) -> User:
    """The account with this address (made in the set-up)."""
    found = accounts.user_by_email(email)
    assert found is not None, email
    return found


def long_date(day: date) -> str:
    return f"{day:%-d %B %Y}"


@pytest.fixture
def dorothy(live_server: LiveServer) -> uuid.UUID:
    """Dorothy with two budget periods (the first ended yesterday fortnight, the council
    pays both), an approved plan for help at home, an officer, a weekly-invoicing home care
    provider's listed service and its staff, and the council's funded reablement pot. Returns
    Dorothy's person id."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        citizen = accounts.create_user(
            email=PERSON_EMAIL, full_name=PERSON, password=PASSWORD, role=Role.CITIZEN
        )
        officer = accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        assert citizen.person is not None
        funded_pots()
        council = db.session.query(Funder).filter_by(name=COUNCIL).one()
        for starts_on, ends_on in (FIRST_PERIOD, SECOND_PERIOD):
            # A budget is allocated from the pot of the financial year it starts in: early in
            # a financial year the first period began in the one before.
            year = financial_year_of(starts_on)
            pot = funders.open_pot(db.session, council, year)
            funders.fund_pot(db.session, pot, amount_pence=20_000_00, key=f"journey:{year}")
            give_budget(
                citizen.person,
                {StreamKind.COUNCIL: pot},
                frequency=PaymentFrequency.ANNUAL,
                starts_on=starts_on,
                ends_on=ends_on,
                council=6_000_00,
            )
        plan = draft_plan(
            db.session,
            citizen.person,
            by=citizen,
            outcomes="To stay well and safe at home.",
            items=[PlanItemSpec("help-at-home", 300_00)],
        )
        approve_plan(db.session, plan, by=officer)
        provider = Organisation(
            name=PROVIDER,
            status=OrganisationStatus.APPROVED,
            invoice_cycle=InvoiceCycle.WEEKLY,
            notice_days=7,
        )
        db.session.add(provider)
        db.session.flush()
        accounts.create_user(
            email=STAFF_EMAIL,
            full_name="Sam Okoro",
            password=PASSWORD,
            role=Role.PROVIDER_STAFF,
            organisation_id=provider.id,
        )
        listing = listings.create_listing(
            provider,
            listings.ListingDetails(
                name=SERVICE,
                description="Help at home: getting up, washing and dressing, meals.",
                category_codes=["personal-care"],
                price_pence=HOURLY_PENCE,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        listing.status = ServiceStatus.PUBLISHED
        pot = funders.open_pot(db.session, council, YEAR, PotPurpose.REABLEMENT)
        funders.fund_pot(db.session, pot, amount_pence=10_000_00, key="fund:reablement")
        db.session.commit()
        search_index.sync(live_server.app)
        person_id = citizen.person_id
        assert person_id is not None
        db.session.remove()
    return person_id


def orders_of(server: LiveServer, person_id: uuid.UUID) -> list[Order]:
    with server.app.app_context():
        found = db.session.query(Order).filter_by(person_id=person_id).all()
        for order in found:
            _ = order.cycles
        db.session.expunge_all()
        db.session.remove()
    return found


def assert_ledger_verifies(server: LiveServer) -> None:
    """What `flask ledger verify` checks: the ledger, the budgets and the orders."""
    with server.app.app_context():
        report = verify_ledger(db.session)
        assert report.ok, report.problems
        budget_problems, _ = check_budgets(db.session)
        assert budget_problems == [], budget_problems
        order_problems, _ = check_orders(db.session)
        assert order_problems == [], order_problems
        db.session.remove()


def main(page: Page) -> Locator:
    return page.get_by_role("main")


# 1. Reablement first, then ongoing care with the same provider.


def start_reablement(page: Page, person_id: uuid.UUID) -> None:
    """The officer starts two weeks of reablement from Dorothy's page (by keyboard)."""
    page.goto(f"/council/people/{person_id}")
    expect(heading(page)).to_have_text(PERSON)
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Start reablement").click()
    expect(heading(page)).to_have_text("Start reablement")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Which provider's service?").select_option(label=f"{PROVIDER}: {SERVICE}")
    page.get_by_label("Which reablement pot pays for it?").select_option(
        label=f"{COUNCIL} reablement {YEAR}/{(YEAR + 1) % 100:02d} (£10,000 left)"
    )
    page.get_by_label("Day", exact=True).fill(str(TODAY.day))
    page.get_by_label("Month", exact=True).fill(str(TODAY.month))
    page.get_by_label("Year", exact=True).fill(str(TODAY.year))
    page.get_by_label("For how many weeks?").fill("2")
    page.get_by_label("How many hours (or visits) each time?").fill(str(HOURS))
    day = page.get_by_label(DAY_NAME, exact=True)
    press(day, "Space")
    expect(day).to_be_checked()
    press(page.get_by_role("button", name="Start reablement"), "Enter")
    expect(heading(page)).to_contain_text("Reablement")
    expect(main(page)).to_contain_text(long_date(TODAY + timedelta(days=13)))
    # The summary's links are links, not their markup shown as text.
    expect(main(page).get_by_role("link", name=PERSON, exact=True)).to_be_visible()
    expect(main(page).get_by_role("link", name=re.compile(r"^ORD-"))).to_be_visible()
    expect(main(page)).not_to_contain_text("<a class")
    assert_accessible_at_both_widths(page)


def test_ongoing_care_reablement_periods_and_a_change_of_hours(
    page: Page, live_server: LiveServer, dorothy: uuid.UUID
) -> None:
    person_id = dorothy
    weekly = HOURS * HOURLY_PENCE
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    start_reablement(page, person_id)
    episode_url = page.url
    (order,) = orders_of(live_server, person_id)
    assert order.funding is OrderFunding.REABLEMENT
    assert [(c.number, c.pot_id is not None, c.budget_id) for c in order.cycles] == [
        (1, True, None),
        (2, True, None),
    ]
    sign_out(page)

    # The provider sees it as reablement, free to Dorothy until the end of the episode.
    sign_in(page, STAFF_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.goto(f"/provider/orders/{order.id}")
    reablement_note = page.locator("#reablement")
    expect(reablement_note).to_contain_text("commissioned by the council")
    expect(reablement_note).to_contain_text(f"until {long_date(TODAY + timedelta(days=13))}")
    expect(reablement_note).to_contain_text(f"It is free to {PERSON}")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    # The officer records ongoing care today: her first week stays free, the second is hers.
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.goto(episode_url)
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Record the outcome").click()
    expect(heading(page)).to_contain_text("outcome")
    assert_accessible_at_both_widths(page)
    press(page.get_by_role("button", name="Record the outcome"), "Enter")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select the outcome")
    expect(summary).to_be_focused()
    assert_accessible_at_both_widths(page)
    ongoing = page.get_by_role("radio", name=re.compile(r"^Ongoing care"))
    press(ongoing, "Space")
    expect(ongoing).to_be_checked()
    page.get_by_label("Note (optional)").fill("Needs help getting up each week.")
    press(page.get_by_role("button", name="Record the outcome"), "Enter")
    expect(main(page)).to_contain_text("Ongoing care with the same provider")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    (same,) = orders_of(live_server, person_id)  # no new order
    assert same.id == order.id
    assert same.organisation_id == order.organisation_id
    assert same.funding is OrderFunding.BUDGET
    second_budget = _budget_for(live_server, person_id, SECOND_PERIOD[0])
    assert same.budget_id == second_budget
    paid = {c.number: (c.pot_id is not None, c.budget_id) for c in same.cycles}
    assert paid[1] == (True, None)
    assert paid[2] == (False, second_budget)
    assert_ledger_verifies(live_server)

    sign_in(page, PERSON_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/orders/{order.id}")
    note = page.locator("#reablement")
    expect(note).to_contain_text(f"free to you until {long_date(TODAY + timedelta(days=6))}")
    expect(note).to_contain_text(
        f"From {long_date(TODAY + timedelta(days=7))} it carries on with the same provider, "
        "paid from your personal budget"
    )
    periods = page.get_by_role("table", name="Periods so far")
    expect(periods.get_by_role("row").nth(1)).to_contain_text("Reablement, paid by")
    expect(periods.get_by_role("row").nth(2)).to_contain_text(
        f"Budget for {long_date(SECOND_PERIOD[0])} to {long_date(SECOND_PERIOD[1])}"
    )
    expect(periods.get_by_role("row").nth(2)).to_contain_text(pounds(weekly))
    assert_accessible_at_both_widths(page)

    # 2. Her home care package, ordered before the first period ended, carried on into the
    # second by the daily job.
    package_id = _package_across_the_boundary(live_server, person_id)
    _check_the_package_and_budgets(page, live_server, package_id)
    sign_out(page)

    # 3. More hours: asked for by Dorothy, accepted by the provider, agreed by the council.
    _more_hours(page, live_server, package_id)
    assert_ledger_verifies(live_server)


def _budget_for(server: LiveServer, person_id: uuid.UUID, day: date) -> uuid.UUID:
    with server.app.app_context():
        budget = (
            db.session.query(PersonalBudget).filter_by(person_id=person_id, starts_on=day).one()
        )
        found = budget.id
        db.session.remove()
    return found


# 2. Across a budget period boundary.


def _package_across_the_boundary(server: LiveServer, person_id: uuid.UUID) -> uuid.UUID:
    """Dorothy's package as she ordered it in her first period: placed, accepted, and rolled
    each day by the daily job since, so its cycles from the second period's first day are
    held from the second budget."""
    with server.app.app_context():
        citizen = user(PERSON_EMAIL)
        staff = user(STAFF_EMAIL)
        order = db.session.get(Order, _only_order_id(person_id))
        assert order is not None
        service = order.service
        assert citizen.person is not None
        package = packages.place_package(
            db.session,
            citizen.person,
            service,
            Schedule(ScheduleKind.RECURRING, PACKAGE_STARTS, HOURS, None, (DAY_CODE,)),
            by=citizen,
            today=PACKAGE_STARTS - timedelta(days=3),
            placement_key="dorothy-home-care",
        )
        life.accept(db.session, package, by=staff)
        db.session.commit()
        day = PACKAGE_STARTS - timedelta(days=3)
        while day <= TODAY:
            report = packages.roll_packages(db.session, day)
            assert not report.failed, report.failed
            db.session.commit()
            day += timedelta(days=1)
        found = package.id
        db.session.remove()
    return found


def _only_order_id(person_id: uuid.UUID) -> uuid.UUID:
    (order,) = db.session.query(Order).filter_by(person_id=person_id).all()
    return order.id


def _figures_row(page: Page, caption: str) -> list[str]:
    """The Total row's cells (or the only stream's) of the budget table."""
    table = page.get_by_role("table", name=caption)
    row = table.locator("tfoot tr, tbody tr").last
    return [cell.strip() for cell in row.locator("td").all_inner_texts()]


def _check_the_package_and_budgets(page: Page, server: LiveServer, package_id: uuid.UUID) -> None:
    with server.app.app_context():
        package = db.session.get(Order, package_id)
        assert package is not None
        cycles = sorted(package.cycles, key=lambda c: c.number)
        budgets = {
            b.starts_on: b
            for b in db.session.query(PersonalBudget).filter_by(person_id=package.person_id)
        }
        first, second = budgets[FIRST_PERIOD[0]], budgets[SECOND_PERIOD[0]]
        paid_by = {c.number: c.budget_id for c in cycles}
        assert [c.number for c in cycles] == [1, 2, 3, 4, 5, 6]
        assert paid_by == {
            1: first.id,
            2: first.id,
            3: second.id,
            4: second.id,
            5: second.id,
            6: second.id,
        }
        assert package.ends_on is None
        names = {c.number: f"cycle {c.number} ({dates_of(c.starts_on, c.ends_on)})" for c in cycles}
        expected = {}
        for budget in (first, second):
            total = budget_figures(db.session, budget).total
            forecast, ongoing = budget_outlook_and_packages(db.session, budget, TODAY)
            expected[budget.id] = (total, forecast, ongoing)
        ids = (first.id, second.id)
        db.session.remove()

    page.goto(f"/my/orders/{package_id}")
    expect(heading(page)).to_contain_text(SERVICE)
    expect(main(page)).to_contain_text("until further notice")
    periods = page.get_by_role("table", name="Periods so far")
    for number, budget_period in (
        (1, FIRST_PERIOD),
        (2, FIRST_PERIOD),
        (3, SECOND_PERIOD),
        (6, SECOND_PERIOD),
    ):
        expect(periods.get_by_role("row").nth(number)).to_contain_text(
            f"Budget for {long_date(budget_period[0])} to {long_date(budget_period[1])}"
        )
    assert_accessible_at_both_widths(page)

    for budget_id, mine in zip(ids, ([1, 2], [3, 4, 5, 6]), strict=True):
        page.goto(f"/my/budgets/{budget_id}")
        assert_accessible_at_both_widths(page)
        total, forecast, ongoing = expected[budget_id]
        cells = _figures_row(page, "Your budget by where the money comes from")
        assert cells[:5] == [
            pounds(total.allocated_pence),
            pounds(total.committed_pence),
            pounds(total.spent_pence),
            pounds(total.available_pence),
            pounds(total.scheduled_pence),
        ]
        if budget_id == ids[1]:  # the forecast is the current period's
            forecast_list = page.locator(".govuk-summary-list").filter(has_text="Expected spending")
            expect(forecast_list).to_contain_text(pounds(forecast.available_pence))
            expect(forecast_list).to_contain_text(pounds(forecast.spending_pence))
            expect(forecast_list).to_contain_text(pounds(forecast.end_balance_pence))
            assert ongoing, "the forecast counts the package as ongoing"
            for package_line in ongoing:
                expect(page.locator("#ongoing-care")).to_be_visible()
                expect(main(page)).to_contain_text(
                    f"Ongoing: {pounds(package_line.weekly_pence)} a week"
                )
        page.get_by_role("link", name=re.compile("statement", re.I)).first.click()
        expect(heading(page)).to_have_text("Statement")
        for number in mine:
            expect(main(page)).to_contain_text(names[number])
        for number in {1, 2, 3, 4, 5, 6} - set(mine):
            expect(main(page)).not_to_contain_text(names[number])
        # The statement's closing figures are the ledger's: the balance is what is set aside
        # plus what is available; available is available.
        closing = page.get_by_role("row").filter(
            has=page.get_by_role("rowheader", name="Closing balance")
        )
        cells = [cell.strip() for cell in closing.locator("td").all_inner_texts()]
        assert cells[-2:] == [
            pounds(total.committed_pence + total.available_pence),
            pounds(total.available_pence),
        ], cells
        assert_accessible_at_both_widths(page)
    assert_ledger_verifies(server)


# 3. A change to more hours.


def _more_hours(page: Page, server: LiveServer, package_id: uuid.UUID) -> None:
    from_day = TODAY + timedelta(days=7)  # the first day of cycle 6, held now
    sign_in(page, PERSON_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/orders/{package_id}")
    expect(main(page)).to_contain_text(f"Now: {HOURS} hours each time on {DAY_NAME}, £26 an hour.")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Ask for more or fewer hours, or other days").click()
    expect(heading(page)).to_have_text("Change the hours or days")
    assert_accessible_at_both_widths(page)
    page.get_by_label("How many hours each time?").select_option("3")
    page.get_by_label("Day", exact=True).fill(str(from_day.day))
    page.get_by_label("Month", exact=True).fill(str(from_day.month))
    page.get_by_label("Year", exact=True).fill(str(from_day.year))
    day = page.get_by_label(DAY_NAME, exact=True)
    if not day.is_checked():
        press(day, "Space")
    page.get_by_label("Why is this change needed? (optional)").fill("Mornings take longer now.")
    press(page.get_by_role("button", name="Send the request"), "Enter")
    expect(success(page)).to_be_visible()
    assert_accessible_at_both_widths(page)
    # The change waiting is shown as words and a link, not as markup.
    page.goto(f"/my/orders/{package_id}")
    expect(main(page)).not_to_contain_text("<p class")
    expect(page.get_by_role("link", name="See this change")).to_be_visible()
    assert_accessible_at_both_widths(page)
    sign_out(page)

    sign_in(page, STAFF_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.goto(f"/provider/orders/{package_id}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=re.compile("See and answer this change")).click()
    assert_accessible_at_both_widths(page)
    press(page.get_by_role("button", name=re.compile("^Accept")), "Enter")
    expect(success(page)).to_contain_text("council")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    sign_in(page, OFFICER_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.goto("/council/variations")
    assert_accessible_at_both_widths(page)
    page.locator("main a").filter(has_text=re.compile(r"ORD-|See|Decide")).first.click()
    assert_accessible_at_both_widths(page)
    agree = page.get_by_label("Yes, agree it")
    press(agree, "Space")
    expect(agree).to_be_checked()
    press(page.get_by_role("button", name="Record the decision"), "Enter")
    expect(success(page)).to_be_visible()
    assert_accessible_at_both_widths(page)
    sign_out(page)

    with server.app.app_context():
        package = db.session.get(Order, package_id)
        assert package is not None
        cycle_6 = next(c for c in package.cycles if c.number == 6)
        assert cycle_6.units == 3
        assert cycle_6.amount_pence == 3 * HOURLY_PENCE
        live = cycle_money.commitment_of(db.session, package, cycle_6)
        assert live is not None
        assert live.amount_pence == 3 * HOURLY_PENCE
        second = db.session.get(PersonalBudget, cycle_6.budget_id)
        assert second is not None
        total = budget_figures(db.session, second).total
        db.session.remove()

    sign_in(page, PERSON_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/orders/{package_id}")
    # Today's terms are unchanged; the new ones are agreed from next week, whose money follows.
    expect(main(page)).to_contain_text(f"Now: {HOURS} hours each time on {DAY_NAME}")
    expect(main(page)).to_contain_text(f"3 hours each time, from {long_date(from_day)}: agreed")
    expect(main(page)).to_contain_text(
        f"Change agreed by the council: 3 hours each time, from {long_date(from_day)}"
    )
    periods = page.get_by_role("table", name="Periods so far")
    expect(periods.get_by_role("row").nth(6)).to_contain_text(pounds(3 * HOURLY_PENCE))
    assert_accessible_at_both_widths(page)
    page.goto(f"/my/budgets/{cycle_6.budget_id}")
    cells = _figures_row(page, "Your budget by where the money comes from")
    assert cells[1] == pounds(total.committed_pence)
    assert cells[3] == pounds(total.available_pence)
    assert_accessible_at_both_widths(page)
