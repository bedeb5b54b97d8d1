"""Issue 13's "Done when" journey, in a real browser at desktop and phone widths with the page
checks on every page: a citizen puts two weekly orders in one basket and checks out; the
first uses up what is available of their assessed contribution, so the second is paid by the
council. Every money figure on the checkout, budget (its table and its forecast) and statement
pages is then checked against the ledger, read through the ledger and budget modules, not
written into the test; and again after the provider accepts the first order and the citizen
cancels it under the provider's notice.

What the pages show must be what happens: the split checkout shows for each item is the split
the ledger holds for its order, and the money the cancel page says comes back at once is what
the ledger releases."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import date, datetime, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.budgets import forecast as forecasting
from marketplace.budgets import spending
from marketplace.budgets.figures import budget_figures
from marketplace.budgets.models import PersonalBudget, StreamKind
from marketplace.budgets.queries import current_budget
from marketplace.budgets.statement import budget_statement
from marketplace.extensions import db
from marketplace.formatting import LONDON, pounds
from marketplace.ledger import Transfer
from marketplace.ledger.accounts import balance
from marketplace.orders import forecast as outlook
from marketplace.orders import life, queries
from marketplace.orders.models import Order
from marketplace.people.plans import PlanItemSpec, approve_plan, draft_plan
from providers import listings
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in
from tests.citizens.helpers import TODAY, YEAR_END, funded_pots, give_budget
from tests.conftest import PASSWORD

CITIZEN = "dorothy@example.org"
STAFF = "rota@chiltern.example.org"
WEEKS = 8  # two four-weekly invoicing periods, so a cancellation under notice leaves one whole
CARE = "Home care visits"
SITTING = "Evening sitting"
BUDGET_TABLE = "Your budget by where the money comes from"
# The budget table's columns, and the figures they show.
TABLE_COLUMNS = {
    "Allocated so far": "allocated_pence",
    "Committed": "committed_pence",
    "Spent": "spent_pence",
    "Available": "available_pence",
    "Still to come": "scheduled_pence",
}

pytestmark = [
    # Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
    # browser page (assert_accessible_at_both_widths), to keep make test in its budget
    # (docs/testing.md): the pages are checked at both widths, the clicks made at one.
    pytest.mark.parametrize("viewport", ["desktop"]),
    pytest.mark.skipif(
        TODAY + timedelta(weeks=WEEKS) > YEAR_END,
        reason="the orders' eight weeks must fit in this financial year's budget",
    ),
]


@pytest.fixture
def shop(live_server: LiveServer) -> dict[str, str]:
    """Dorothy, with a budget (council and assessed contribution) and a plan for help at home;
    Chiltern Home Care (seven days' notice, four-weekly invoices) with two listings. Returns
    the listings' ids by name."""
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
        ids = {}
        for name, price in ((CARE, 26_00), (SITTING, 20_00)):
            listing = listings.create_listing(
                chiltern,
                listings.ListingDetails(
                    name=name,
                    description="Carers who help at home.",
                    category_codes=["personal-care"],
                    price_pence=price,
                    price_unit=PriceUnit.PER_HOUR,
                    area_codes=["stevenage"],
                    delivery_modes=["at_home"],
                ),
            )
            listing.status = ServiceStatus.PUBLISHED
            ids[name] = str(listing.id)
        db.session.commit()
        # A thirteenth of the year's money comes every four weeks: the contribution never has
        # more than £650 (less than the first order's £832), so the first order uses it all up
        # whatever the date; the council has at least £1,000, enough for the rest of both.
        give_budget(dorothy.person, funded_pots(), council=13_000_00, client_contribution=650_00)
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
    return ids


# Reading the pages ----------------------------------------------------------------------------


def pence(text: str) -> int:
    """123450 from '£1,234.50', 1200 from '£12', 0 from an empty cell."""
    found = re.search(r"(-?)£([\d,]+)(?:\.(\d\d))?", text)
    if found is None:
        assert not text.strip(), f"no money in {text!r}"
        return 0
    sign = -1 if found.group(1) else 1
    return sign * (int(found.group(2).replace(",", "")) * 100 + int(found.group(3) or 0))


def cells(table: Locator) -> list[list[str]]:
    """Every row of the table, head and foot included, as the text of its cells."""
    return table.evaluate(
        "table => [...table.rows].map(row => [...row.cells].map(cell => cell.innerText.trim()))"
    )


def checkout_splits(page: Page) -> dict[str, tuple[int, dict[str, int]]]:
    """What checkout says each item will cost and which streams will pay what, by service."""
    shown = page.locator("#checkout-items").evaluate(
        """items => [...items.querySelectorAll("table")].map(table => {
            let heading = table.previousElementSibling;
            while (heading && heading.tagName !== "H2") heading = heading.previousElementSibling;
            return [heading.innerText.trim(), table.caption.innerText.trim(),
                    [...table.tBodies[0].rows].map(r => [...r.cells].map(c => c.innerText.trim()))];
        })"""
    )
    return {
        name: (pence(caption), {row[0]: pence(row[1]) for row in rows})
        for name, caption, rows in shown
    }


def place_weekly_order(
    page: Page, listing_id: str, *, days: list[str], hours: int, starts_on: date
) -> None:
    page.goto(f"/services/{listing_id}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Buy with my budget").click()
    expect(heading(page)).to_contain_text("Order ")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Every week, on the days I choose").check()
    page.get_by_label("Day", exact=True).fill(str(starts_on.day))
    page.get_by_label("Month", exact=True).fill(str(starts_on.month))
    page.get_by_label("Year", exact=True).fill(str(starts_on.year))
    page.get_by_label("How many hours each time").fill(str(hours))
    for day in days:
        page.get_by_label(day, exact=True).check()
    page.get_by_label("For how many weeks?").fill(str(WEEKS))
    page.get_by_role("button", name="Check the cost").click()
    expect(page.get_by_role("main")).to_contain_text("What if I add this")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Add to basket").click()
    expect(heading(page)).to_have_text("Your basket")
    assert_accessible_at_both_widths(page)


# The ledger, read through its modules ---------------------------------------------------------


def london_today() -> date:
    """Today as the pages see it."""
    return datetime.now(LONDON).date()


def dorothys_budget() -> PersonalBudget:
    person = accounts.user_by_email(CITIZEN).person
    budget = current_budget(db.session, person, london_today())
    assert budget is not None
    return budget


def dorothys_orders() -> dict[str, Order]:
    person_id = accounts.user_by_email(CITIZEN).person_id
    return {order.service_name: order for order in queries.orders_of_person(db.session, person_id)}


def held_for(order: Order) -> dict[str, int]:
    """What the ledger still holds for the order on each stream, by the stream's name: its
    cycles' pending transfers that no later transfer has posted or voided."""
    held: dict[str, int] = defaultdict(int)
    for cycle in order.cycles:
        commitment = spending.find_commitment(db.session, order.budget, cycle.commitment_key)
        for part in commitment.parts if commitment else []:
            resolved = db.session.scalar(
                select(Transfer.id).where(Transfer.pending_id == part.transfer.id)
            )
            if resolved is None:
                held[part.stream.kind.label] += part.amount_pence
    return {name: amount for name, amount in held.items() if amount}


def committed_in_ledger(budget: PersonalBudget) -> int:
    """Money held on the budget's streams: their accounts' pending debits."""
    return sum(balance(db.session, stream.account_id).debits_pending for stream in budget.streams)


def check_budget_and_statement(page: Page, live_server: LiveServer) -> None:
    """The budget page's figures, its table, its forecast and alerts, and the statement's
    every line, each as the ledger has them now."""
    with live_server.app.app_context():
        budget = dorothys_budget()
        today = london_today()
        figures = budget_figures(db.session, budget)
        for stream, row in figures.streams:
            # The figures are the ledger's own balances, not a sum the page keeps.
            on_account = balance(db.session, stream.account_id)
            assert row.available_pence == on_account.available
            assert row.committed_pence == on_account.debits_pending
            assert row.scheduled_pence == balance(db.session, stream.unreleased_account_id).posted
        expected_rows = {
            stream.kind.label: [getattr(row, field) for field in TABLE_COLUMNS.values()]
            for stream, row in figures.streams
        }
        expected_rows["Total"] = [getattr(figures.total, field) for field in TABLE_COLUMNS.values()]
        available, to_come = figures.total.available_pence, figures.total.scheduled_pence
        projected = outlook.budget_outlook(db.session, budget, today)
        statement = budget_statement(db.session, budget)
        # The forecast and the statement start from the ledger's balances too.
        on_accounts = [balance(db.session, stream.account_id) for stream in budget.streams]
        assert projected.available_pence == sum(each.available for each in on_accounts)
        assert projected.income_pence == figures.total.scheduled_pence
        assert statement.closing_balance_pence == sum(each.posted for each in on_accounts)
        assert statement.closing_available_pence == projected.available_pence
        alerts = [
            alert.message
            for alert in forecasting.budget_alerts(budget, figures.total, projected, today)
        ]
        expected_statement = [
            [
                "",
                "Opening balance",
                0,
                0,
                statement.opening_balance_pence,
                statement.opening_available_pence,
            ],
            *(
                [
                    line.on.strftime("%-d %b %Y"),
                    f"{line.what}: {line.stream.kind.label}",
                    line.in_pence,
                    line.out_pence,
                    line.balance_pence,
                    line.available_pence,
                ]
                for line in statement.lines
            ),
            [
                "",
                "Closing balance",
                statement.in_pence,
                statement.out_pence,
                statement.closing_balance_pence,
                statement.closing_available_pence,
            ],
        ]
        budget_id = budget.id
        db.session.remove()

    page.goto("/my/budget")
    expect(heading(page)).to_have_text("Your personal budget")
    main = page.get_by_role("main")
    stats = main.locator(".app-stat")
    expect(stats.nth(0)).to_have_text(_pounds_pattern(available))
    expect(stats.nth(1)).to_have_text(_pounds_pattern(to_come))
    table = cells(page.get_by_role("table", name=BUDGET_TABLE))
    header = table[0]
    columns = [header.index(name) for name in TABLE_COLUMNS]
    shown_rows = {row[0]: [pence(row[i]) for i in columns] for row in table[1:]}
    assert shown_rows == expected_rows

    # The forecast ("Looking ahead"): every amount in it is the forecast's.
    summary = main.locator(".govuk-summary-list")
    shown = dict(
        zip(
            summary.locator(".govuk-summary-list__key").all_inner_texts(),
            summary.locator(".govuk-summary-list__value").all_inner_texts(),
            strict=True,
        )
    )
    assert pence(shown["Available now"]) == projected.available_pence
    assert pence(shown["Still to come"]) == projected.income_pence
    assert f"in {projected.income_days} instalment" in shown["Still to come"]
    assert pence(shown["Expected spending"]) == projected.spending_pence
    (left_key,) = [key for key in shown if key.startswith("Expected left on")]
    assert pence(shown[left_key]) == projected.end_balance_pence
    for message in alerts:
        expect(main).to_contain_text(message)
    assert_accessible_at_both_widths(page)

    page.goto(f"/my/budgets/{budget_id}/statement")
    expect(heading(page)).to_have_text("Statement")
    rows = cells(page.get_by_role("table").filter(has_text="Opening balance"))[1:]
    assert len(rows) == len(expected_statement)
    for row, (on, details, money_in, money_out, balance_pence, available_pence) in zip(
        rows, expected_statement, strict=True
    ):
        assert row[0] == on
        assert row[1].startswith(details), (row[1], details)
        assert [pence(cell) for cell in row[2:]] == [
            money_in,
            money_out,
            balance_pence,
            available_pence,
        ]
    assert_accessible_at_both_widths(page)


def _pounds_pattern(amount: int) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(pounds(amount))}\s*$")


# The journey --------------------------------------------------------------------------------


def test_two_items_in_one_basket_then_a_cancellation_under_notice_match_the_ledger(
    page: Page, shop: dict[str, str], live_server: LiveServer
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, CITIZEN, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)

    # Two hours on Mondays and Thursdays (£104 a week), then an hour on Wednesdays (£20).
    place_weekly_order(page, shop[CARE], days=["Monday", "Thursday"], hours=2, starts_on=TODAY)
    place_weekly_order(page, shop[SITTING], days=["Wednesday"], hours=1, starts_on=TODAY)
    page.get_by_role("button", name="Check out").click()
    expect(heading(page)).to_have_text("Check out")
    assert_accessible_at_both_widths(page)
    splits = checkout_splits(page)
    assert set(splits) == {CARE, SITTING}
    page.get_by_role("button", name="Place order").click()
    expect(heading(page)).to_have_text("Your orders")
    expect(banner(page)).to_contain_text("Your order is placed")
    assert_accessible_at_both_widths(page)

    with live_server.app.app_context():
        orders = dorothys_orders()
        for name, (total, shares) in splits.items():
            # Each item's split, as checkout showed it, is what the ledger holds for its order.
            assert total == orders[name].total_pence
            assert shares == held_for(orders[name]), name
            assert sum(shares.values()) == total
        # The first order took all the contribution had: checkout did not offer it again.
        assert StreamKind.CLIENT_CONTRIBUTION.label in splits[CARE][1]
        assert StreamKind.CLIENT_CONTRIBUTION.label not in splits[SITTING][1]
        db.session.remove()
    check_budget_and_statement(page, live_server)

    # The provider accepts the first order: from now on it can only be cut short, with notice.
    with live_server.app.app_context():
        life.accept(db.session, dorothys_orders()[CARE], by=accounts.user_by_email(STAFF))
        db.session.commit()
        db.session.remove()

    page.goto("/my/orders")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=CARE).click()
    expect(page.get_by_role("main")).to_contain_text("Accepted by the provider")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Cancel this order").click()
    expect(heading(page)).to_have_text(f"Cancel {CARE}")
    assert_accessible_at_both_widths(page)
    details = page.locator("#cancel-details").inner_text()
    money = re.search(
        r"comes back to your budget: (£[\d,.]+) at once(?:, and (£[\d,.]+))?", details
    )
    assert money is not None, details
    back_now = pence(money.group(1))
    back_later = pence(money.group(2) or "")
    with live_server.app.app_context():
        held_before = committed_in_ledger(dorothys_budget())
        db.session.remove()
    page.get_by_role("button", name="Cancel the order").click()
    expect(banner(page)).to_contain_text("is cancelled from")
    expect(page.get_by_role("main")).not_to_contain_text("Cancel this order")
    assert_accessible_at_both_widths(page)

    with live_server.app.app_context():
        order = dorothys_orders()[CARE]
        # What the page said comes back at once is what the ledger released...
        assert held_before - committed_in_ledger(dorothys_budget()) == back_now
        assert back_now > 0
        # ...and what it said comes back later is still held, in the period under way.
        under_way = [cycle for cycle in order.cycles if cycle.starts_on < order.cancelled_from]
        assert back_later > 0
        assert sum(held_for(order).values()) == sum(c.amount_pence for c in under_way)
        db.session.remove()
    check_budget_and_statement(page, live_server)
