"""Export to the finance system (issue 19, FINEXPORT) in a real browser, axe on every page, at
1280 and 320 px: an officer goes from the council overview to the exports, previews the first
export (a person's home care held, one week of it spent), makes it, downloads its file (the
same bytes as kept), and finds it in the list; a second preview has nothing new. And sets
a funder's default cost centre (too long first: the error summary).

The order is made through the rules with the clock ten minutes back, so its ledger rows are
older than the minute an export leaves for transactions still committing."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.finance.models import FinanceExport
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
from tests.browser.test_account_journeys import heading, sign_in
from tests.citizens.helpers import COUNCIL, TODAY, YEAR_START, funded_pots, give_budget
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "finance@council.example.org"
# A Monday two to three weeks ago: two weekly cycles, the first invoiced and settled.
START = TODAY - timedelta(days=14 + TODAY.weekday())


def _care_held_and_partly_spent(live_server: LiveServer) -> None:
    if START - timedelta(days=3) < YEAR_START:
        pytest.skip("too early in the financial year for an order a few weeks old")
    with (
        time_machine.travel(datetime.now(UTC) - timedelta(minutes=10)),
        live_server.app.app_context(),
    ):
        session = db.session
        ensure_taxonomy()
        ensure_localities()
        citizen = accounts.create_user(
            email="dorothy@example.org",
            full_name="Dorothy Pearce",
            password=PASSWORD,
            role=Role.CITIZEN,
        )
        person = citizen.person
        assert person is not None
        person.case_reference = "HCC-204411"
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
        session.add(provider)
        session.flush()
        staff = accounts.create_user(
            email="staff@chiltern.example.org",
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
        session.commit()
        give_budget(person, funded_pots(), council=2_000_00)
        plan = draft_plan(
            session,
            person,
            by=citizen,
            outcomes="To stay at home.",
            items=[PlanItemSpec("help-at-home", 300_00)],
        )
        approve_plan(session, plan, by=officer)
        order = checkout.place_order(
            session,
            person,
            service,
            Schedule(ScheduleKind.RECURRING, START, 2, 2, ("MO", "TH")),
            by=citizen,
            today=START - timedelta(days=3),
            placement_key="finance-export",
        )
        life.accept(session, order, by=staff)
        for day in (START, START + timedelta(days=3)):
            deliveries.record_delivery(
                session, order, by=staff, delivered_on=day, units=2, note="", today=TODAY
            )
        invoice = invoicing.raise_invoice(session, order, order.cycles[0], by=staff, today=TODAY)
        invoicing.settle_invoice(session, invoice, by=officer)
        session.commit()
        session.remove()


def test_an_officer_makes_and_downloads_an_export_to_the_finance_system(
    page: Page,
    live_server: LiveServer,
    viewport: str,
    screenshot: Callable[[Page, str], None],
    tmp_path: Path,
) -> None:
    _care_held_and_partly_spent(live_server)
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Export to the finance system").click()
    expect(heading(page)).to_have_text("Export to the finance system")
    expect(page.get_by_text("No export has been made yet")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Make an export").click()
    expect(heading(page)).to_have_text("Make an export to the finance system")
    lines = page.get_by_role("table", name="What the export will hold")
    # Two weeks held (£104 each); the first week's hold ended by its settlement, and spent.
    expect(lines.get_by_role("row", name="Commitment")).to_contain_text("£104")
    expect(lines.get_by_role("row", name="Actual")).to_contain_text("£104")
    expect(page.get_by_text("The start of the ledger: this is the first export")).to_be_visible()
    assert_accessible_at_both_widths(page)
    screenshot(page, f"finance-export-preview-{viewport}")

    page.get_by_role("button", name="Make the export").click()
    expect(heading(page)).to_have_text("Export made")
    expect(page.get_by_role("heading", name="Finance export FX-00001")).to_be_visible()
    assert_accessible_at_both_widths(page)
    screenshot(page, f"finance-export-made-{viewport}")

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download FX-00001 (CSV)").click()
    saved = tmp_path / "export.csv"
    download_info.value.save_as(saved)
    with live_server.app.app_context():
        export = db.session.scalars(select(FinanceExport)).one()
        assert saved.read_bytes() == export.content.encode("utf-8")
        assert hashlib.sha256(saved.read_bytes()).hexdigest() == export.sha256
        assert "HCC-204411" in export.content
        assert "Dorothy" not in export.content
        db.session.remove()

    page.get_by_role("link", name="Export to the finance system").click()
    expect(page.get_by_role("table", name="Newest first")).to_contain_text("Helen Brooks")
    assert_accessible_at_both_widths(page)
    screenshot(page, f"finance-exports-list-{viewport}")

    page.get_by_role("button", name="Make an export").click()
    expect(
        page.get_by_text("Nothing new has been recorded since the previous export")
    ).to_be_visible()
    assert_accessible_at_both_widths(page)


def test_an_officer_sets_a_funders_default_cost_centre(
    page: Page, live_server: LiveServer, viewport: str
) -> None:
    _care_held_and_partly_spent(live_server)
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.goto("/council/funders")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=f"Change default cost centre of {COUNCIL}").click()
    expect(heading(page)).to_have_text("Default cost centre")
    assert_accessible_at_both_widths(page)

    page.get_by_label("Default cost centre").fill("X" * 41)
    page.get_by_role("button", name="Save the cost centre").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The cost centre must be 40 characters or fewer")
    assert_accessible_at_both_widths(page)
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Default cost centre")).to_be_focused()

    page.get_by_label("Default cost centre").fill("ASC-PB01")
    page.get_by_role("button", name="Save the cost centre").click()
    expect(heading(page)).to_contain_text("Funders\u2019 pots")
    expect(page.get_by_text("ASC-PB01")).to_be_visible()
    assert_accessible_at_both_widths(page)
