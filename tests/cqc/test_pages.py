"""What the public and the council see of a listing's CQC registration and rating."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask.testing import FlaskClient

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.extensions import db
from providers.models import CqcRating, Service
from tests.conftest import sign_in
from tests.cqc.conftest import GONE, GOOD, REQUIRES_IMPROVEMENT, UNRATED


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _rating_row(page: str) -> str:
    return page.split("CQC rating")[1].split("</dd>")[0]


def test_a_listing_shows_the_cqcs_rating_with_its_date_and_source_not_the_claim(
    directory: None, client: FlaskClient, claiming: Callable[..., Service]
) -> None:
    inflated = claiming(REQUIRES_IMPROVEMENT, CqcRating.OUTSTANDING, name="Inflated")

    row = _rating_row(_page(client, f"/services/{inflated.id}"))

    assert "Requires improvement" in row
    assert "Source: CQC, published 2 September 2026" in row
    assert f"https://www.cqc.org.uk/location/{REQUIRES_IMPROVEMENT}" in row
    assert "Outstanding" not in row


def test_a_location_the_cqc_has_not_rated_says_so(
    directory: None, client: FlaskClient, claiming: Callable[..., Service]
) -> None:
    unrated = claiming(UNRATED, CqcRating.GOOD, name="Unrated")

    row = _rating_row(_page(client, f"/services/{unrated.id}"))

    assert "Not yet rated" in row
    assert "no overall rating published yet" in row
    assert "Good" not in row


@pytest.mark.parametrize("location_id", ["1-299999999", GONE])
def test_an_id_unknown_to_the_cqc_or_deregistered_shows_no_rating(
    directory: None, client: FlaskClient, claiming: Callable[..., Service], location_id: str
) -> None:
    service = claiming(location_id, CqcRating.GOOD, name="Claims Good")

    assert "CQC rating" not in _page(client, f"/services/{service.id}")
    assert "CQC rating" not in _page(client, f"/providers/{service.organisation_id}")


def test_another_providers_location_shows_no_rating(
    directory: None, client: FlaskClient, claiming: Callable[..., Service]
) -> None:
    borrowed = claiming(GOOD, CqcRating.GOOD, name="Borrowed")
    borrowed.organisation.cqc_provider_id = "1-100000002"  # the location is 1-100000001's
    db.session.commit()

    assert "CQC rating" not in _page(client, f"/services/{borrowed.id}")
    assert "CQC rating" not in _page(client, f"/providers/{borrowed.organisation_id}")


def test_no_rating_is_shown_before_a_directory_is_imported(
    client: FlaskClient, claiming: Callable[..., Service]
) -> None:
    service = claiming(GOOD, CqcRating.GOOD)

    assert "CQC rating" not in _page(client, f"/services/{service.id}")


def test_the_provider_page_shows_each_listings_cqc_rating_and_date(
    directory: None, client: FlaskClient, claiming: Callable[..., Service]
) -> None:
    service = claiming(GOOD, CqcRating.OUTSTANDING, name="Agreed")

    page = _page(client, f"/providers/{service.organisation_id}")

    assert "CQC rating: Good (source: CQC, published 14 May 2026)" in page
    assert "Outstanding" not in page


def test_the_council_sees_every_listing_whose_claim_is_not_borne_out(
    directory: None,
    client: FlaskClient,
    claiming: Callable[..., Service],
    make_user: Callable[..., User],
) -> None:
    claiming(GOOD, CqcRating.GOOD, name="Agreed")
    claiming("1-299999999", CqcRating.GOOD, name="Made up")
    claiming(GONE, CqcRating.OUTSTANDING, name="Gone")
    claiming(REQUIRES_IMPROVEMENT, CqcRating.OUTSTANDING, name="Inflated")
    borrowed = claiming(GOOD, CqcRating.GOOD, name="Borrowed")
    borrowed.organisation.cqc_provider_id = "1-100000002"
    db.session.commit()
    sign_in(client, make_user(Role.COUNCIL_OFFICER))

    page = _page(client, "/council/cqc")

    assert "Listings to check (4)" in page
    rows = {
        row.split("</td>")[0].rsplit(": ", 1)[-1]: row
        for row in page.split('<tr class="govuk-table__row">')[2:]
    }
    assert set(rows) == {"Made up", "Gone", "Inflated", "Borrowed"}
    assert "The CQC registers this location to another provider" in rows["Borrowed"]
    assert (
        "Acme Care, registered to Acme Care Ltd (1-100000001), not to 1-100000002"
        in (rows["Borrowed"])
    )
    assert "Location ID not in the CQC&#39;s directory" in rows["Made up"]
    assert "Not in the directory" in rows["Made up"]
    assert "No longer registered with the CQC" in rows["Gone"]
    assert "Deregistered; missing from the directory since 1 December 2026" in rows["Gone"]
    assert "Rated differently from what the provider claims" in rows["Inflated"]
    assert "Outstanding" in rows["Inflated"]
    assert "Requires improvement (CQC, published 2 September 2026)" in rows["Inflated"]


def test_the_council_page_says_when_no_directory_has_been_imported(
    client: FlaskClient, make_user: Callable[..., User], claiming: Callable[..., Service]
) -> None:
    claiming("1-299999999", CqcRating.GOOD)
    sign_in(client, make_user(Role.COUNCIL_OFFICER))

    page = _page(client, "/council/cqc")

    assert "No CQC care directory has been imported yet" in page
    assert "Listings to check" not in page


@pytest.mark.parametrize("role", [Role.CITIZEN, Role.PROVIDER_STAFF, Role.BROKER, Role.ADMIN])
def test_only_council_officers_see_the_cqc_flags(
    directory: None, client: FlaskClient, make_user: Callable[..., User], role: Role
) -> None:
    assert client.get("/council/cqc").status_code == 302
    sign_in(client, make_user(role))

    assert client.get("/council/cqc").status_code == 403


def test_the_council_overview_counts_the_listings_to_check_with_the_other_decisions(
    directory: None,
    client: FlaskClient,
    claiming: Callable[..., Service],
    make_user: Callable[..., User],
) -> None:
    claiming(GOOD, CqcRating.GOOD, name="Agreed")
    claiming("1-299999999", CqcRating.GOOD, name="Made up")
    claiming(REQUIRES_IMPROVEMENT, CqcRating.OUTSTANDING, name="Inflated")
    sign_in(client, make_user(Role.COUNCIL_OFFICER))

    waiting = _page(client, "/council/").split('id="waiting"')[1].split("</ul>")[0]

    assert 'href="/council/cqc"' in waiting
    assert "2</span> listings whose CQC claim the CQC does not bear out" in waiting


@pytest.mark.parametrize(
    ("location_id", "claimed", "says"),
    [
        (
            REQUIRES_IMPROVEMENT,
            CqcRating.OUTSTANDING,
            "does not bear out this listing&#39;s CQC details (Rated differently from what the "
            "provider claims). People see the CQC&#39;s rating, Requires improvement (CQC, "
            "published 2 September 2026), not the one given here.",
        ),
        (
            "1-299999999",
            CqcRating.GOOD,
            "(Location ID not in the CQC&#39;s directory). People see no CQC rating for it.",
        ),
        (
            GOOD,
            CqcRating.GOOD,
            "The CQC&#39;s care directory lists Acme Care (1-200000001), rated Good (CQC, "
            "published 14 May 2026). People see this rating on your listing.",
        ),
    ],
)
def test_the_provider_sees_what_the_cqcs_directory_says_of_its_listing(
    directory: None,
    client: FlaskClient,
    provider_owner: User,
    make_listing: Callable[..., Service],
    location_id: str,
    claimed: CqcRating,
    says: str,
) -> None:
    service = make_listing(provider_owner.organisation)
    service.cqc_location_id, service.cqc_rating = location_id, claimed
    db.session.commit()
    sign_in(client, provider_owner)

    page = _page(client, f"/provider/services/{service.id}")

    assert says in " ".join(page.split())
