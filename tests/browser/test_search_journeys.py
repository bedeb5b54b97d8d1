"""Searching in a real browser: plain words, a filter, a page of results, a service page."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from marketplace.extensions import db
from providers import listings, search_index
from providers.models import Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths, tab_to
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths), to keep make test in its budget
# (docs/testing.md): the pages are checked at both widths, the clicks made at one.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])


@pytest.fixture
def listed(live_server: LiveServer) -> None:
    """Two approved listings in Stevenage, indexed."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        organisation = Organisation(name="Stevenage Home Care", status=OrganisationStatus.APPROVED)
        db.session.add(organisation)
        for name, category, price in (
            ("Morning calls", "personal-care", 2450),
            ("Hot lunches delivered", "hot-meal-delivery", 600),
        ):
            service = listings.create_listing(
                organisation,
                listings.ListingDetails(
                    name=name,
                    description=f"{name}, from a friendly local team.",
                    category_codes=[category],
                    price_pence=price,
                    price_unit=PriceUnit.PER_VISIT,
                    area_codes=["stevenage"],
                    delivery_modes=["at_home"],
                ),
            )
            service.status = ServiceStatus.PUBLISHED
        db.session.commit()
        search_index.sync(live_server.app)
        db.session.remove()


def test_a_citizen_finds_help_in_their_own_words(
    page: Page, live_server: LiveServer, listed: None
) -> None:
    page.goto("/")
    assert_accessible_at_both_widths(page)
    page.get_by_label("What help are you looking for?").fill("someone to help my dad get dressed")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(heading(page)).to_have_text("Find care and support")
    results = page.locator(".app-results")
    expect(results).to_contain_text("Morning calls")
    expect(results).not_to_contain_text("Hot lunches")
    assert_accessible_at_both_widths(page)

    page.get_by_label("What help are you looking for?").fill("meels on wheels")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("main")).to_contain_text("Did you mean")
    expect(results).to_contain_text("Hot lunches delivered")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="Hot lunches delivered").click()
    expect(heading(page)).to_have_text("Hot lunches delivered")
    assert_accessible_at_both_widths(page)


def test_a_keyboard_skips_the_filters_to_the_results(page: Page, listed: None) -> None:
    """The filters come before the results and hold dozens of checkboxes (84 presses of Tab
    to the first result, in the audit): a skip link jumps them."""
    page.goto("/search?q=care")
    expect(page.locator(".app-results")).to_contain_text("Morning calls")
    assert_accessible_at_both_widths(page)
    page.get_by_label("What help are you looking for?").focus()
    tab_to(page, "Skip to results", limit=3)
    page.keyboard.press("Enter")
    expect(page.locator("#results-heading")).to_be_focused()
    tab_to(page, page.locator(".app-results a").first.inner_text(), limit=1)


def test_each_search_and_service_has_a_title_of_its_own(
    page: Page, live_server: LiveServer, listed: None
) -> None:
    """Browsing two kinds of help gave two different pages one title; so did two providers'
    services of one name (issue 14). The page check fails on a title two pages share."""
    with live_server.app.app_context():
        other = Organisation(name="Hitchin Carers", status=OrganisationStatus.APPROVED)
        db.session.add(other)
        service = listings.create_listing(
            other,
            listings.ListingDetails(
                name="Morning calls",
                description="Morning calls from Hitchin's own carers.",
                category_codes=["personal-care"],
                price_pence=2600,
                price_unit=PriceUnit.PER_VISIT,
                area_codes=["stevenage"],
                delivery_modes=["at_home"],
            ),
        )
        service.status = ServiceStatus.PUBLISHED
        db.session.commit()
        search_index.sync(live_server.app)
        db.session.remove()

    for kind in ("Help at home", "Meals"):
        page.goto("/")
        assert_accessible_at_both_widths(page)
        page.get_by_role("link", name=kind, exact=True).click()
        expect(heading(page)).to_have_text("Find care and support")
        assert_accessible_at_both_widths(page)
    expect(page).to_have_title(re.compile(r"^1 service found, kind of help: Meals"))

    page.goto("/search?q=morning+calls")
    assert_accessible_at_both_widths(page)
    for provider in ("Stevenage Home Care", "Hitchin Carers"):
        page.get_by_role("listitem").filter(has_text=provider).get_by_role("link").click()
        expect(page).to_have_title(re.compile(f"^Morning calls, from {provider}"))
        assert_accessible_at_both_widths(page)
        page.go_back()
        assert_accessible_at_both_widths(page)
