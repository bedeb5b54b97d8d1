"""The CQC's rating on a listing and the council's list of listings to check, in a real
browser at desktop and phone widths, with axe on each: a listing shows the CQC's rating with
its date and source; an officer follows the overview's count to the list of listings whose
CQC claim the CQC's directory does not bear out."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.cqc import care_directory
from marketplace.extensions import db
from marketplace.types import utcnow
from providers import listings
from providers.models import CqcRating, Organisation, OrganisationStatus, PriceUnit, ServiceStatus
from providers.reference_data import ensure_localities, ensure_taxonomy
from tests.browser.accessibility import assert_accessible_at_both_widths
from tests.browser.conftest import LiveServer
from tests.browser.test_account_journeys import heading, sign_in
from tests.conftest import PASSWORD

# Walked once at desktop width, every page checked at 1280 and again at 320 px in the same
# browser page (assert_accessible_at_both_widths): half the cost of a second walk.
pytestmark = pytest.mark.parametrize("viewport", ["desktop"])

OFFICER_EMAIL = "officer@council.example.org"
DIRECTORY = (
    "Location ID,Location Name,Provider ID,Provider Name,Location Latest Overall Rating,"
    "Publication Date\n"
    "1-200000001,Acme Care,1-100000001,Acme Care Ltd,Requires improvement,02/09/2026\n"
)


@pytest.fixture
def listed(live_server: LiveServer) -> dict[str, str]:
    """Two listings: one claiming Outstanding for a location the CQC rates Requires
    improvement, one naming an ID the CQC has not issued. Returns their ids."""
    with live_server.app.app_context():
        ensure_taxonomy()
        ensure_localities()
        accounts.create_user(
            email=OFFICER_EMAIL,
            full_name="Helen Brooks",
            password=PASSWORD,
            role=Role.COUNCIL_OFFICER,
        )
        care_directory.import_care_directory(
            db.session, care_directory.read_care_directory(DIRECTORY), now=utcnow()
        )
        ids = {}
        for name, location_id in (("Acme Care", "1-200000001"), ("Made Up Care", "1-299999999")):
            provider = Organisation(name=name, status=OrganisationStatus.APPROVED)
            db.session.add(provider)
            service = listings.create_listing(
                provider,
                listings.ListingDetails(
                    name="Personal care at home",
                    description="Help with washing and dressing.",
                    category_codes=["personal-care"],
                    price_pence=2600,
                    price_unit=PriceUnit.PER_HOUR,
                    area_codes=["stevenage"],
                    delivery_modes=["at_home"],
                    cqc_location_id=location_id,
                    cqc_rating=CqcRating.OUTSTANDING,
                ),
            )
            service.status = ServiceStatus.PUBLISHED
            db.session.flush()
            ids[name] = str(service.id)
        db.session.commit()
        db.session.remove()
    return ids


def test_the_cqcs_rating_and_the_councils_list(
    page: Page,
    listed: dict[str, str],
    viewport: str,
    screenshot: Callable[[Page, str], None],
) -> None:
    page.goto(f"/services/{listed['Acme Care']}")
    rating = page.get_by_role("main").locator(".govuk-summary-list__row", has_text="CQC rating")
    expect(rating).to_contain_text("Requires improvement")
    expect(rating).to_contain_text("Source: CQC, published 2 September 2026")
    expect(rating).not_to_contain_text("Outstanding")
    assert_accessible_at_both_widths(page)
    screenshot(page, f"cqc-service-{viewport}")

    page.goto(f"/services/{listed['Made Up Care']}")
    expect(page.get_by_role("main")).not_to_contain_text("CQC rating")
    assert_accessible_at_both_widths(page)

    page.goto("/sign-in")
    assert_accessible_at_both_widths(page)
    sign_in(page, OFFICER_EMAIL, PASSWORD)
    expect(heading(page)).to_have_text("Council overview")
    assert_accessible_at_both_widths(page)
    page.get_by_role("link", name="2 listings whose CQC claim the CQC does not bear out").click()
    expect(heading(page)).to_have_text("CQC registrations and ratings")
    table = page.get_by_role("table")
    expect(table).to_contain_text("Rated differently from what the provider claims")
    expect(table).to_contain_text("Location ID not in the CQC's directory")
    assert_accessible_at_both_widths(page)
    screenshot(page, f"cqc-council-{viewport}")
