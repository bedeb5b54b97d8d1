"""Paying providers (issue 19, PAYRUNS) in a real browser, axe on every page, at 1280 and
320 px: an officer goes from the council overview to Paying providers, starts a run with a
future date (the error summary), previews the settled invoice's run, makes it, downloads the
payment file and the remittance advice, marks the file sent; then the provider's staff read
their remittance advice in the portal and download their copy.

The invoice is made and settled through the rules."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from marketplace.formatting import london_today
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
from tests.browser.test_account_journeys import heading, navigation, sign_in, sign_out
from tests.citizens.helpers import TODAY, YEAR_START, funded_pots, give_budget
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "payments@council.example.org"
STAFF_EMAIL = "accounts@chiltern.example.org"
# A Monday two to three weeks ago: a weekly cycle, invoiced and settled.
START = TODAY - timedelta(days=14 + TODAY.weekday())


def _settled_invoice(live_server: LiveServer) -> None:
    """Chiltern Home Care's first week for Dorothy (4 hours at £26), invoiced and settled."""
    if START - timedelta(days=3) < YEAR_START:
        pytest.skip("too early in the financial year for an order a few weeks old")
    with live_server.app.app_context():
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
            email=STAFF_EMAIL,
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
            placement_key="payment-run",
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


def _download(page: Page, link: str, folder: Path) -> list[dict[str, str]]:
    with page.expect_download() as info:
        page.get_by_role("link", name=link).click()
    saved = folder / info.value.suggested_filename
    info.value.save_as(saved)
    return list(csv.DictReader(io.StringIO(saved.read_text())))


def _fill_date(page: Page, day: object) -> None:
    group = page.get_by_role("group", name="Pay invoices settled on or before")
    group.get_by_label("Day").fill(str(day.day))  # type: ignore[attr-defined]
    group.get_by_label("Month").fill(str(day.month))  # type: ignore[attr-defined]
    group.get_by_label("Year").fill(str(day.year))  # type: ignore[attr-defined]


def test_an_officer_pays_a_provider_which_reads_its_remittance(
    page: Page,
    live_server: LiveServer,
    viewport: str,
    screenshot: Callable[[Page, str], None],
    tmp_path: Path,
) -> None:
    _settled_invoice(live_server)
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Paying providers: payment runs").click()
    expect(heading(page)).to_have_text("Paying providers")
    expect(page.get_by_text("No payment run has been made yet")).to_be_visible()
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Start a payment run").click()
    expect(heading(page)).to_have_text("Start a payment run")
    assert_accessible_at_both_widths(page)
    # A day still to come: the error summary, its link reaching the day box.
    _fill_date(page, london_today() + timedelta(days=3))
    page.get_by_role("button", name="Preview the payment run").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The date must be today or earlier")
    assert_accessible_at_both_widths(page)
    summary.get_by_role("link").first.click()
    expect(page.locator("#settled_by-day")).to_be_focused()

    _fill_date(page, london_today())
    page.get_by_role("button", name="Preview the payment run").click()
    expect(heading(page)).to_have_text("Check the payment run")
    providers = page.get_by_role("table", name="What each provider will be paid")
    expect(providers).to_contain_text("Chiltern Home Care")
    expect(providers).to_contain_text("£104")
    assert_accessible_at_both_widths(page)
    screenshot(page, f"payment-run-preview-{viewport}")

    page.get_by_role("button", name="Make the payment run of £104").click()
    expect(page.get_by_role("heading", name="Payment run made")).to_be_visible()
    expect(heading(page)).to_have_text("Payment run PR-00001")
    expect(
        page.get_by_role("table", name="Remittances: one payment to each provider")
    ).to_contain_text("PR-00001-001")
    assert_accessible_at_both_widths(page)
    screenshot(page, f"payment-run-made-{viewport}")

    paid = _download(page, "Payment file: one payment to each provider (CSV)", tmp_path)
    assert [(r["supplier_name"], r["amount"], r["bank_sort_code"]) for r in paid] == [
        ("Chiltern Home Care", "104.00", "")
    ]
    advice = _download(page, "Remittance advice: a line for each invoice and payer", tmp_path)
    assert [(r["person_reference"], r["funder"], r["amount"]) for r in advice] == [
        ("HCC-204411", "Hertfordshire County Council", "104.00")
    ]

    page.get_by_role("link", name="PR-00001-001").click()
    expect(heading(page)).to_have_text("Remittance PR-00001-001")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Payment run PR-00001").click()
    expect(heading(page)).to_have_text("Payment run PR-00001")
    assert_accessible_at_both_widths(page)

    page.get_by_role("button", name="Mark the payment file as sent").click()
    expect(page.get_by_text("marked as sent")).to_be_visible()
    expect(page.get_by_role("button", name="Cancel the payment run")).to_have_count(0)
    assert_accessible_at_both_widths(page)
    sign_out(page)

    sign_in(page, STAFF_EMAIL, PASSWORD)
    assert_accessible_at_both_widths(page)
    navigation(page).get_by_role("link", name="Remittances").click()
    expect(heading(page)).to_have_text("Remittances")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="PR-00001-001", exact=True).click()
    expect(heading(page)).to_have_text("Remittance PR-00001-001")
    lines = page.get_by_role("table", name="A line for each invoice and payer")
    expect(lines).to_contain_text("Hertfordshire County Council")
    expect(lines).to_contain_text("£104")
    assert_accessible_at_both_widths(page)
    screenshot(page, f"provider-remittance-{viewport}")
    copy = _download(page, "Download this remittance advice (CSV)", tmp_path)
    assert [r["amount"] for r in copy] == ["104.00"]
    assert "person_reference" not in copy[0]
