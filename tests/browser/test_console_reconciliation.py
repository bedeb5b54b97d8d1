"""Reconciliation (issue 19, RECON) in a real browser, axe on every page, at 1280 and 320 px: an
officer goes from the council overview to the reconciliation, asks for a period the wrong way
round (the error summary), then drills from the funders to the NHS funder's pot lines, to the
people of its continuing healthcare line, to one person's streams, to the ledger transfers
behind what she spent: the penny, with its key and accounts.

The ledger is made through the rules (this financial year's pots, a budget naming a line, a
purchase spent)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.budgets import funders
from marketplace.budgets.allocations import StreamSpec, create_budget
from marketplace.budgets.models import FunderKind, PaymentFrequency, StreamKind
from marketplace.budgets.pot_lines import add_pot_line
from marketplace.budgets.rules import financial_year_of
from marketplace.budgets.spending import reserve, spend
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

OFFICER_EMAIL = "recon@council.example.org"
ICB = "Hertfordshire and West Essex ICB"


def _ledger(live_server: LiveServer) -> None:
    year = financial_year_of(london_today())
    with live_server.app.app_context():
        session = db.session
        accounts.create_user(
            email=OFFICER_EMAIL, full_name="Priya Shah", password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )  # fmt: skip
        council = funders.create_funder(
            session, name="Hertfordshire County Council", kind=FunderKind.COUNCIL
        )
        icb = funders.create_funder(session, name=ICB, kind=FunderKind.NHS)
        council_pot, nhs_pot = (
            funders.open_pot(session, council, year),
            funders.open_pot(session, icb, year),
        )
        funders.fund_pot(session, council_pot, amount_pence=100_000_00, key="fund:council")
        funders.fund_pot(session, nhs_pot, amount_pence=50_000_00, key="fund:icb")
        chc = add_pot_line(
            session, nhs_pot, name="Continuing healthcare", cost_centre="CHC01",
            planned_pence=20_000_00,
        )  # fmt: skip
        add_pot_line(
            session, nhs_pot, name="Section 117 aftercare", cost_centre="S117",
            planned_pence=10_000_00,
        )  # fmt: skip
        person = Person(full_name="Grace Whitfield", postcode="SG1 2AB")
        session.add(person)
        session.flush()
        budget = create_budget(
            session,
            person=person,
            starts_on=date(year, 4, 1),
            ends_on=date(year + 1, 3, 31),
            frequency=PaymentFrequency.ANNUAL,
            streams=[
                StreamSpec(StreamKind.NHS, 9_100_00, pot=nhs_pot, pot_line=chc),
                StreamSpec(StreamKind.COUNCIL, 1_000_00, pot=council_pot),
            ],
            today=date(year, 4, 1),
        )
        payee = funders.payee_account(session, code="nursing", name="Herts Community Nursing")
        commitment = reserve(
            session, budget, amount_pence=123_45, category_codes={"personal-care"},
            payee=payee, key="grace-care",
        )  # fmt: skip
        spend(session, commitment, key="grace-care:invoice")
        session.commit()


def test_an_officer_drills_from_a_funder_to_the_penny(
    page: Page,
    live_server: LiveServer,
    viewport: str,
    screenshot: Callable[[Page, str], None],
) -> None:
    _ledger(live_server)
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Reconciliation: each funder").click()
    expect(heading(page)).to_have_text("Reconciliation: from each funder to the penny")
    funders_table = page.get_by_role("table", name="Each funder's money")
    expect(funders_table).to_contain_text(ICB)
    assert_accessible_at_both_widths(page)
    screenshot(page, "reconciliation")

    # Dates the wrong way round: the error summary, its link reaching the end date's day.
    since = page.get_by_role("group", name="Or from")
    until = page.get_by_role("group", name="To", exact=True)
    for group, day in ((since, "1 5 2026"), (until, "1 4 2026")):
        for box, value in zip(("Day", "Month", "Year"), day.split(), strict=True):
            group.get_by_label(box).fill(value)
    page.get_by_role("button", name="Show the reconciliation").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The end date must be the same as or after the start date")
    assert_accessible_at_both_widths(page)
    summary.get_by_role("link").first.click()
    expect(page.locator("#until-day")).to_be_focused()

    page.goto("/council/reconciliation")
    assert_accessible_at_both_widths(page)
    page.get_by_role("table", name="Each funder's money").get_by_role(
        "link", name=ICB, exact=True
    ).click()
    expect(heading(page)).to_have_text(ICB)
    lines = page.get_by_role("table", name="its lines, planned against allocated")
    expect(lines).to_contain_text("CHC01")
    expect(lines).to_contain_text("£9,100")
    assert_accessible_at_both_widths(page)

    lines.get_by_role("link", name="Continuing healthcare", exact=True).click()
    expect(heading(page)).to_have_text("People")
    assert_accessible_at_both_widths(page)
    page.get_by_role("table", name="People and their budgets").get_by_role(
        "link", name="Grace Whitfield", exact=True
    ).click()
    expect(heading(page)).to_have_text("Grace Whitfield")
    streams = page.get_by_role("table", name="Their funding streams")
    expect(streams).to_contain_text("Continuing healthcare")
    assert_accessible_at_both_widths(page)

    streams.get_by_role("link", name="spent, all").click()
    expect(heading(page)).to_have_text("Spent: £123.45")
    transfers = page.get_by_role("table", name="The ledger transfers behind spent")
    expect(transfers).to_contain_text("grace-care:invoice")
    expect(transfers).to_contain_text("payee:nursing")
    assert_accessible_at_both_widths(page)
    screenshot(page, "reconciliation-transfers")
