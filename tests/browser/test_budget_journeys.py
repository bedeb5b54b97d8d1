"""Personal budgets in a real browser: an officer gives a citizen a budget out of two funders'
pots, then the citizen reads it, its picture's table and their statement. At desktop and
phone widths, axe on every page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.people import plans
from marketplace.people.plans import PlanItemSpec
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import banner, heading, sign_in, sign_out
from tests.citizens.helpers import TODAY, funded_pots, give_budget
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "officer@council.example.org"
CITIZEN_EMAIL = "margaret@example.org"


@pytest.fixture
def council_ready(live_server: LiveServer) -> None:
    """The taxonomy, two funders' funded pots for this year, an officer and a citizen."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        for email, name, role in (
            (OFFICER_EMAIL, "Helen Brooks", Role.COUNCIL_OFFICER),
            (CITIZEN_EMAIL, "Margaret Okafor", Role.CITIZEN),
        ):
            accounts.create_user(email=email, full_name=name, password=PASSWORD, role=role)
        db.session.commit()
        funded_pots()
        db.session.remove()


def test_an_officer_gives_a_budget_and_the_citizen_reads_it(
    page: Page, council_ready: None
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="People: budgets and support plans").click()
    expect(heading(page)).to_have_text("People")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Search by name").fill("okafor")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("table")).to_contain_text("People whose name has")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Margaret Okafor").click()
    expect(heading(page)).to_have_text("Margaret Okafor")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Give a new budget").click()
    expect(heading(page)).to_have_text("Give a personal budget")
    assert_accessible_at_both_widths(page)
    council = page.get_by_role("group", name="Council", exact=True)
    council.get_by_label("Amount for the period in pounds").fill("-13000")
    page.get_by_role("button", name="Give this budget").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("cannot be negative")
    expect(summary).to_be_focused()
    assert_accessible_at_both_widths(page)

    council.get_by_label("Amount for the period in pounds").fill("13,000")
    nhs = page.get_by_role("group", name="NHS personal health budget")
    nhs.get_by_label("Amount for the period in pounds").fill("2600")
    contribution = page.get_by_role("group", name="Assessed client contribution")
    contribution.get_by_label("Amount for the period in pounds").fill("1300.00")
    page.get_by_role("button", name="Give this budget").click()
    expect(banner(page)).to_contain_text("Margaret Okafor has a new personal budget")
    expect(page.get_by_role("main")).to_contain_text("(£13,000 for the period)")
    assert_accessible_at_both_widths(page)
    sign_out(page)

    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Your personal budget").click()
    expect(heading(page)).to_have_text("Your personal budget")
    assert_accessible_at_both_widths(page)
    # The picture is hidden from assistive technology; its table says the same in words.
    expect(page.locator("svg.app-budget-bar").first).to_have_attribute("aria-hidden", "true")
    table = page.get_by_role("table", name="Your budget by where the money comes from")
    expect(table.get_by_role("rowheader", name="Council")).to_be_visible()
    expect(table.get_by_role("rowheader", name="NHS personal health budget")).to_be_visible()
    expect(table.get_by_role("rowheader", name="Total")).to_be_visible()
    expect(table.get_by_role("columnheader", name="Available")).to_be_visible()

    page.get_by_role("link", name="See your statement").click()
    expect(heading(page)).to_have_text("Statement")
    expect(page.get_by_role("main")).to_contain_text("Instalment 1 of 13")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Funding").select_option(label="Council")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.get_by_role("table")).to_contain_text(": Council only")
    assert "stream=" in page.url
    assert_accessible_at_both_widths(page)

    page.goto("/my/plan")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Write your plan").click()
    expect(heading(page)).to_have_text("Your draft support plan")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Save the draft plan").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say what you want")
    assert_accessible_at_both_widths(page)
    page.get_by_label("What do you want your care and support to help with?").fill(
        "To stay in my flat and see my grandchildren."
    )
    first = page.get_by_role("group", name="Support 1")
    first.get_by_label("Kind of support").select_option(label="Help at home: Personal care")
    first.get_by_label("Weekly amount in pounds").fill("180")
    page.get_by_role("button", name="Save the draft plan").click()
    expect(banner(page)).to_contain_text("Your draft plan is saved")
    expect(page.get_by_role("main")).to_contain_text("£180")
    assert_accessible_at_both_widths(page)


@pytest.fixture
def budget_and_draft(live_server: LiveServer, council_ready: None) -> None:
    """Margaret has a budget, and a draft support plan she wrote."""
    with live_server.app.app_context():
        citizen = accounts.user_by_email(CITIZEN_EMAIL)
        assert citizen is not None
        give_budget(citizen.person, funded_pots(), council=13_000_00, client_contribution=1_300_00)
        plans.draft_plan(
            db.session,
            citizen.person,
            by=citizen,
            outcomes="To keep living at home.",
            items=[PlanItemSpec("personal-care", 200_00)],
        )
        db.session.commit()
        db.session.remove()


def test_an_officer_revises_a_stream_previews_a_close_and_approves_a_plan(
    page: Page, budget_and_draft: None
) -> None:
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Funders").click()
    expect(heading(page)).to_contain_text("pots 20")
    expect(page.get_by_role("main")).to_contain_text("Hertfordshire County Council")
    assert_accessible_at_both_widths(page)

    page.goto("/council/people?name=okafor")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Margaret Okafor").click()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Revise the amount: Council").click()
    expect(heading(page)).to_have_text("Revise Council")
    assert_accessible_at_both_widths(page)
    page.get_by_label("New amount for the whole period, in pounds").fill("14000")
    page.get_by_role("button", name="Revise the amount").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Say why the amount is changing")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Why is it changing?").fill("Another visit each week")
    page.get_by_role("button", name="Revise the amount").click()
    expect(banner(page)).to_contain_text("Council is now £14,000 for the period")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Close this period").click()
    expect(heading(page)).to_contain_text("Close the period")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Preview").click()
    expect(heading(page)).to_have_text("Check before closing the period")
    expect(page.get_by_role("button", name="Close the period")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.goto("/council/people?name=okafor")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Margaret Okafor").click()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="See the support plan").click()
    expect(page.get_by_role("main")).to_contain_text("To keep living at home.")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Approve this plan").click()
    expect(banner(page)).to_contain_text("Margaret Okafor's support plan is approved")
    assert_accessible_at_both_widths(page)


def test_a_budget_whose_period_has_ended_is_flagged_to_the_officer_and_the_citizen(
    page: Page, live_server: LiveServer, council_ready: None
) -> None:
    with live_server.app.app_context():
        citizen = accounts.user_by_email(CITIZEN_EMAIL)
        assert citizen is not None
        give_budget(
            citizen.person,
            {},
            starts_on=TODAY - timedelta(days=60),
            ends_on=TODAY - timedelta(days=1),
            client_contribution=600_00,
        )
        db.session.remove()

    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="People: budgets and support plans").click()
    expect(page.get_by_role("heading", name="Budgets to close: 1")).to_be_visible()
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Margaret Okafor").first.click()
    expect(heading(page)).to_have_text("Margaret Okafor")
    expect(page.get_by_role("main")).to_contain_text("Period ended, awaiting close")
    expect(page.get_by_role("link", name="Close this period")).to_be_visible()
    assert_accessible_at_both_widths(page)
    sign_out(page)

    sign_in(page, CITIZEN_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Your care and support")
    expect(page.get_by_role("main")).to_contain_text("Period ended, awaiting close")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Your personal budget").first.click()
    expect(page.get_by_role("main")).to_contain_text("The council will close it")
    assert_accessible_at_both_widths(page)
