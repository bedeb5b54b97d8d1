"""Market insight (issue 19, items 6 and 10) in a real browser, axe on every page, at 1280 and
320 px: an officer goes from the navigation's "Reports" to each market report, reads its charts
(SVG images named by their title) and tables, asks for a period the reports do not offer (the
error summary, its link reaching the radios), and downloads a CSV.

The data are the demo's searches that found nothing (the demo step itself) and two listings made
through the rules, one not checked for 200 days."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.demo.console_insight import seed_insight
from marketplace.extensions import db
from marketplace.types import utcnow
from providers import listings
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, navigation, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "insight@council.example.org"


def _market(live_server: LiveServer) -> None:
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Amara Osei",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        for name, pence, days_unchecked in (
            ("Bluebell Homecare", 2650, 0),
            ("Oak Care", 2900, 200),
        ):
            organisation = Organisation(name=name, status=OrganisationStatus.APPROVED)
            db.session.add(organisation)
            db.session.flush()
            service = listings.create_listing(
                organisation,
                listings.ListingDetails(
                    name=f"{name} visits",
                    description="Help with washing and dressing.",
                    category_codes=["personal-care"],
                    price_pence=pence,
                    price_unit=PriceUnit.PER_HOUR,
                    area_codes=["stevenage"],
                    delivery_modes=["at_home"],
                ),
            )
            service.status = ServiceStatus.PUBLISHED
            service.capacity_confirmed_at = utcnow() - timedelta(days=days_unchecked)
        seed_insight()
        db.session.commit()


def _charts_and_tables(page: Page, charts: int) -> None:
    images = page.locator("svg[role=img]")
    expect(images).to_have_count(charts)
    for index in range(charts):
        image = images.nth(index)
        expect(image).to_be_visible()
        title_id, desc_id = image.get_attribute("aria-labelledby").split()  # type: ignore[union-attr]
        expect(page.locator(f"[id='{title_id}']")).not_to_be_empty()
        expect(page.locator(f"[id='{desc_id}']")).not_to_be_empty()
    expect(page.get_by_role("link", name="Download this table as CSV").first).to_be_visible()


def test_an_officer_reads_the_market_reports(page: Page, live_server: LiveServer) -> None:
    _market(live_server)
    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)

    navigation(page).get_by_role("link", name="Reports").click()
    expect(heading(page)).to_have_text("Reports")
    assert_accessible_at_both_widths(page)

    page.get_by_role("link", name="Searches that found nothing").click()
    expect(heading(page)).to_have_text("Searches that found nothing")
    assert_accessible_at_both_widths(page)
    page.get_by_label("Last 90 days").check()
    page.get_by_role("button", name="Show this period").click()
    expect(page).to_have_title(re.compile(r"^Searches that found nothing, in the last 90 days"))
    _charts_and_tables(page, 3)
    words = page.get_by_role("table", name="Words of searches that found nothing")
    expect(words).to_contain_text("welsh speaking carer")
    expect(words).to_contain_text("podiatry home visit")
    expect(
        page.get_by_role("table", name="Searches by category, in the last 90 days")
    ).to_contain_text("Transport")
    assert_accessible_at_both_widths(page)

    with page.expect_download() as download_info:
        page.get_by_role("link", name="Download this table as CSV").last.click()
    download = download_info.value
    assert download.suggested_filename == "searches-words-last-90-days.csv"
    with open(download.path(), encoding="utf-8") as csv_file:
        rows = list(csv.reader(io.StringIO(csv_file.read())))
    assert rows[0][:2] == ["Words searched", "Searches"]
    assert ["welsh speaking carer", "2", "2", "0"] in [row[:4] for row in rows]

    # A period the reports do not offer: the error summary, its link reaching the radios.
    page.goto("/council/reports/market/searches?period=7")
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Choose the last 30 days")
    assert_accessible_at_both_widths(page)
    summary.get_by_role("link").first.click()
    expect(page.get_by_label("Last 30 days")).to_be_focused()

    for path, title, charts in (
        ("demand", "Demand and supply", 3),
        ("prices", "Prices", 3),
        ("lapsed", "Listings not checked lately", 1),
        ("position", "Market position statement figures", 2),
    ):
        page.goto(f"/council/reports/market/{path}")
        expect(heading(page)).to_have_text(title)
        _charts_and_tables(page, charts)
        if title == "Listings not checked lately":
            expect(page.get_by_role("table", name="Listings not checked lately")).to_contain_text(
                "Oak Care visits"
            )
        assert_accessible_at_both_widths(page)

    # The last page read is the statement: its gaps name the care people could not find.
    expect(page.get_by_role("heading", name="Gaps in the last 30 days")).to_be_visible()
    expect(page.locator(".govuk-summary-list")).to_contain_text("Transport")
