"""Period end in bulk and the council's figures (issue 19, CLOSE+FIGURES) in a real browser,
axe on every page, at 1280 and 320 px: an officer goes from the council overview to close
budget periods, sends the choice without a date (the error summary), previews three ended
periods (one carried into the next budget, one returned, one left open with money still
committed), closes the two that can close, reads the closing report, then reads the figures.

The budgets are made through the rules (ended periods: their dates are relative to today, so
the journey runs on any day)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.models import FunderKind, PaymentFrequency, PersonalBudget, StreamKind
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.spending import reserve
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.people.models import Person
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "periods@council.example.org"


def _ended_periods(live_server: LiveServer) -> None:
    """Three people whose budget period ended 20 days ago: Ann (with a next budget), Bob (none)
    and Cal (£40 still committed)."""
    today = london_today()
    ends = today - timedelta(days=20)
    starts = ends - timedelta(days=182)
    following = (ends + timedelta(days=1), ends + timedelta(days=183))
    with live_server.app.app_context():
        session = db.session
        accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Priya Shah",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        council = funders.create_funder(
            session, name="Hertfordshire County Council", kind=FunderKind.COUNCIL
        )
        pots = {}
        for year in {financial_year_of(starts), financial_year_of(following[0])}:
            pots[year] = funders.open_pot(session, council, year)
            funders.fund_pot(session, pots[year], amount_pence=100_000_00, key=f"fund:{year}")
        payee = funders.payee_account(session, code="home-help", name="Home Help Ltd")

        def budget(person: Person, period: tuple[date, date], pence: int) -> PersonalBudget:
            return create_budget(
                session,
                person=person,
                starts_on=period[0],
                ends_on=period[1],
                frequency=PaymentFrequency.ANNUAL,
                streams=[
                    StreamSpec(StreamKind.COUNCIL, pence, pot=pots[financial_year_of(period[0])])
                ],
                today=period[0],
            )

        ann, bob, cal = (Person(full_name=name) for name in ("Ann Ashby", "Bob Bell", "Cal Cole"))
        session.add_all([ann, bob, cal])
        session.flush()
        budget(ann, (starts, ends), 1_200_00)
        budget(ann, following, 1_200_00)
        budget(bob, (starts, ends), 800_00)
        cals = budget(cal, (starts, ends), 500_00)
        reserve(session, cals, amount_pence=40_00, category_codes={"meals"}, payee=payee, key="c")
        session.commit()


def test_an_officer_closes_several_periods_and_reads_the_figures(
    page: Page,
    live_server: LiveServer,
    viewport: str,
    screenshot: Callable[[Page, str], None],
) -> None:
    _ended_periods(live_server)
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Close budget periods").click()
    expect(heading(page)).to_have_text("Close budget periods")
    assert_accessible_at_both_widths(page)

    # Without a date: the error summary, its link reaching the day box.
    for box in ("Day", "Month", "Year"):
        page.get_by_role("group", name="Periods that ended on or before").get_by_label(box).fill("")
    page.get_by_role("button", name="Preview").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the date the periods ended by")
    assert_accessible_at_both_widths(page)
    summary.get_by_role("link").first.click()
    expect(page.locator("#ended_by-day")).to_be_focused()

    yesterday = london_today() - timedelta(days=1)
    group = page.get_by_role("group", name="Periods that ended on or before")
    group.get_by_label("Day").fill(str(yesterday.day))
    group.get_by_label("Month").fill(str(yesterday.month))
    group.get_by_label("Year").fill(str(yesterday.year))
    page.get_by_label("Carry it forward into the person's next budget").check()
    page.get_by_role("button", name="Preview").click()
    expect(heading(page)).to_have_text("Check before closing the periods")
    by_budget = page.get_by_role("table", name="Budget by budget")
    expect(by_budget).to_contain_text("Ann Ashby")
    expect(by_budget).to_contain_text("£1,200")
    expect(by_budget).to_contain_text("Carried into the budget for")
    expect(by_budget).to_contain_text("Returned to Hertfordshire County Council")
    expect(page.get_by_role("table", name="Left open")).to_contain_text("£40 is still committed")
    assert_accessible_at_both_widths(page)
    screenshot(page, f"period-end-preview-{viewport}")

    page.get_by_label("Note for the record (optional)").fill("Half-year close")
    page.get_by_role("button", name="Close 2 periods").click()
    expect(heading(page)).to_have_text("2 periods closed")
    expect(page.get_by_role("heading", name="Closing report")).to_be_visible()
    expect(page.get_by_role("table", name="Whose money went where")).to_contain_text("£800")
    expect(page.get_by_role("table", name="Left open")).to_contain_text("Cal Cole")
    expect(page.get_by_role("link", name="Download this report (CSV)")).to_be_visible()
    assert_accessible_at_both_widths(page)
    screenshot(page, f"period-end-report-{viewport}")

    page.get_by_role("link", name="Close budget periods").click()
    expect(page.get_by_role("table", name="Newest first")).to_contain_text("Priya Shah")
    assert_accessible_at_both_widths(page)

    page.goto("/council")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="The council\u2019s figures").click()
    expect(heading(page)).to_have_text("The council\u2019s figures")
    expect(page.get_by_role("heading", name="The front door", exact=True)).to_be_visible()
    expect(page.locator("svg[role=img]").first).to_be_visible()
    assert_accessible_at_both_widths(page)
    screenshot(page, f"council-figures-{viewport}")
