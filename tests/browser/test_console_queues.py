"""The council's work queues (issue 19, QUEUES) in a real browser, axe on every page, at 1280
and 320 px: someone not signed in reports a listing (the form sent empty first: the error
summary, its link reaching the radios); a council officer starts from the dashboard's queues,
goes to "Work queues" in the navigation, and clears each queue the demo has: the reported
listing (sent without a reason first), the provider and the brokerage waiting for approval,
and the overdue plan review; the Decided tab lists each decision with its wait.

The data are the demo's queue items (`marketplace/demo/console_queues.py`), made through the
rules, over one approved provider with a published listing."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.demo.console_queues import (
    OVERDUE_PERSON,
    PENDING_BROKERAGE,
    PENDING_PROVIDER,
    seed_queues,
)
from marketplace.extensions import db
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

OFFICER_EMAIL = "queues@council.example.org"
SERVICE = "Bluebell Homecare visits"


def _queues(live_server: LiveServer) -> str:
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Amara Osei",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        organisation = Organisation(name="Bluebell Homecare", status=OrganisationStatus.APPROVED)
        db.session.add(organisation)
        db.session.flush()
        accounts.create_user(
            email="staff@bluebell.example.org",
            full_name="Bea Bloom",
            password=PASSWORD,
            role=Role.PROVIDER_STAFF,
            organisation_id=organisation.id,
        )
        service = listings.create_listing(
            organisation,
            listings.ListingDetails(
                name=SERVICE,
                description="Help with washing and dressing.",
                category_codes=["personal-care"],
                price_pence=2650,
                price_unit=PriceUnit.PER_HOUR,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        service.status = ServiceStatus.PUBLISHED
        seed_queues(db.session)
        db.session.commit()
        return str(service.id)


def _open_queue(page: Page, title: str) -> None:
    navigation(page).get_by_role("link", name="Work queues").click()
    expect(heading(page)).to_have_text("Work queues")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=title, exact=True).click()
    expect(heading(page)).to_have_text(title)
    assert_accessible_at_both_widths(page)


def test_an_officer_clears_each_work_queue(page: Page, live_server: LiveServer) -> None:
    service_id = _queues(live_server)

    # Someone not signed in reports the listing.
    page.goto(f"/services/{service_id}")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name=re.compile("^Report a problem with this listing")).click()
    expect(heading(page)).to_have_text("Report a problem with this listing")
    assert_accessible_at_both_widths(page)
    page.get_by_role("button", name="Send the report").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Select what is wrong with this listing")
    expect(summary).to_contain_text("Enter what is wrong")
    assert_accessible_at_both_widths(page)
    summary.get_by_role("link", name="Select what is wrong with this listing").click()
    expect(page.get_by_label("The service has closed or no longer runs")).to_be_focused()
    page.get_by_label("Something about it is unsafe or worrying").check()
    page.get_by_label("Tell us what is wrong").fill("The carer left the door unlocked twice.")
    page.get_by_label("Email address (optional)").fill("walker@example.org")
    page.get_by_role("button", name="Send the report").click()
    expect(page.locator(".govuk-panel")).to_contain_text("Report sent")
    assert_accessible_at_both_widths(page)

    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    queues_table = page.get_by_role("table", name=re.compile("^Waiting for a decision"))
    expect(queues_table).to_contain_text("Listings reported by the public")
    assert_accessible_at_both_widths(page)

    # Two reports: the demo's and the one just sent; the demo's waited longer, so it is first.
    _open_queue(page, "Listings reported by the public")
    items = page.get_by_role("table", name=re.compile("^Waiting: 2"))
    expect(items.get_by_role("row")).to_have_count(3)
    for _ in range(2):
        page.get_by_role("table", name=re.compile("^Waiting")).get_by_role("link").first.click()
        expect(page.get_by_role("heading", name="Decide the report")).to_be_visible()
        assert_accessible_at_both_widths(page)
        page.get_by_label("Uphold it: ask the provider to correct the listing").check()
        page.get_by_role("button", name="Record the decision").click()
        summary = page.locator(".govuk-error-summary")
        expect(summary).to_contain_text("Enter the reason for the decision")
        assert_accessible_at_both_widths(page)
        page.get_by_label("Reason").fill("Correct the listing and tell us when it is right")
        page.get_by_role("button", name="Record the decision").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("upheld")
        assert_accessible_at_both_widths(page)
    expect(page.get_by_text("Nothing is waiting in this queue.")).to_be_visible()
    page.get_by_role("link", name="Decided", exact=True).click()
    decided = page.get_by_role("table", name=re.compile("^Decided: 2"))
    expect(decided).to_contain_text("Correct the listing")
    expect(decided).to_contain_text("Amara Osei")
    assert_accessible_at_both_widths(page)

    # The provider and the brokerage waiting for approval.
    for queue, name, choice, reason in (
        (
            "Providers awaiting approval",
            PENDING_PROVIDER,
            "Approve: show its published services to the public",
            "",
        ),
        ("Brokerages awaiting approval", PENDING_BROKERAGE, "Reject", "No insurance certificate"),
    ):
        _open_queue(page, queue)
        page.get_by_role("link", name=re.compile(f"^{re.escape(name)}")).click()
        expect(heading(page)).to_contain_text(name)
        assert_accessible_at_both_widths(page)
        page.get_by_label(choice, exact=True).check()
        if reason:
            page.get_by_label("Reason").fill(reason)
        page.get_by_role("button", name="Save decision").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(name)
        assert_accessible_at_both_widths(page)

    # The overdue plan review.
    _open_queue(page, "Support plan reviews overdue")
    page.get_by_role("link", name=re.compile(f"^{OVERDUE_PERSON}")).click()
    expect(heading(page)).to_have_text(OVERDUE_PERSON)
    assert_accessible_at_both_widths(page)
    page.get_by_label("The plan has been reviewed").check()
    page.get_by_role("button", name="Record").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("the next is due")
    assert_accessible_at_both_widths(page)

    navigation(page).get_by_role("link", name="Work queues").click()
    overview = page.get_by_role("table", name=re.compile("^Waiting for a decision"))
    for queue in (
        "Listings reported by the public",
        "Providers awaiting approval",
        "Brokerages awaiting approval",
        "Support plan reviews overdue",
    ):
        expect(overview.get_by_role("row", name=re.compile(f"^{queue}"))).to_contain_text(
            "Nothing waiting"
        )
    assert_accessible_at_both_widths(page)
