"""The search box's suggestions endpoint (issue 21, item 8): its JSON, its refusals as JSON
with stable codes, its limits, and suggestions that follow the listings as they change."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.extensions import db
from providers import listings, search_index
from providers.models import (
    Organisation,
    OrganisationStatus,
    PriceUnit,
    Service,
    ServiceStatus,
)


@pytest.fixture
def indexed(
    app: Flask,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> Service:
    organisation = make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)
    listing = make_listing(organisation, name="Morning calls")
    search_index.sync(app)
    return listing


def test_suggestions_answer_json_completions(client: FlaskClient, indexed: Service) -> None:
    response = client.get("/search/suggestions", query_string={"q": "personal c"})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["query"] == "personal c"
    # The kind of help and the care word of the same name are one suggestion.
    assert body["suggestions"] == [
        {"text": "Personal care", "term": "Personal care", "kind": "category"}
    ]


def test_places_are_suggested_after_the_words(client: FlaskClient, indexed: Service) -> None:
    body = client.get("/search/suggestions", query_string={"q": "washing in steven"}).get_json()
    assert body["suggestions"][0] == {
        "text": "washing in Stevenage",
        "term": "Stevenage",
        "kind": "place",
    }


def test_a_care_word_no_listing_carries_is_not_suggested(
    client: FlaskClient, indexed: Service
) -> None:
    # The only listing is personal care: "Day centres" would lead to an empty page.
    body = client.get("/search/suggestions", query_string={"q": "day cen"}).get_json()
    assert body["suggestions"] == []


def test_suggestions_follow_a_new_generation(
    app: Flask, client: FlaskClient, indexed: Service
) -> None:
    assert client.get("/search/suggestions?q=day+cen").get_json()["suggestions"] == []
    with app.app_context():
        organisation = db.session.get(Organisation, indexed.organisation_id)
        assert organisation is not None
        listing = listings.create_listing(
            organisation,
            listings.ListingDetails(
                name="Friday club",
                description="A club with lunch.",
                category_codes=["day-centres"],
                price_pence=1500,
                price_unit=PriceUnit.PER_SESSION,
                area_codes=["hitchin"],
                delivery_modes=["at_venue"],
            ),
        )
        listing.status = ServiceStatus.PUBLISHED
        db.session.commit()
        search_index.sync(app)
    found = client.get("/search/suggestions?q=day+cen").get_json()["suggestions"]
    assert {"text": "Day centres", "term": "Day centres", "kind": "category"} in found


@pytest.mark.parametrize("q", ["", "   ", "x", "zzqxv", "!!!", "\u202e\ufffd 🧓🏽"])
def test_junk_gets_an_empty_list(client: FlaskClient, indexed: Service, q: str) -> None:
    response = client.get("/search/suggestions", query_string={"q": q})
    assert response.status_code == 200
    assert response.get_json() == {"query": q, "suggestions": []}


def test_no_q_is_no_suggestions(client: FlaskClient, indexed: Service) -> None:
    assert client.get("/search/suggestions").get_json() == {"query": "", "suggestions": []}


@pytest.mark.parametrize("limit", ["1", "2", "10"])
def test_limit_bounds_the_list(client: FlaskClient, indexed: Service, limit: str) -> None:
    body = client.get("/search/suggestions", query_string={"q": "pers", "limit": limit})
    assert 1 <= len(body.get_json()["suggestions"]) <= int(limit)


@pytest.mark.parametrize("limit", ["0", "11", "-1", "two", "", "1.5", "99999999999999999999"])
def test_a_limit_out_of_bounds_is_refused_with_a_stable_code(
    client: FlaskClient, indexed: Service, limit: str
) -> None:
    response = client.get("/search/suggestions", query_string={"q": "pers", "limit": limit})
    assert response.status_code == 422
    assert response.get_json() == {
        "error": "validation_error",
        "message": "The request has mistakes",
        "details": {"fields": {"limit": "Must be a whole number from 1 to 10"}},
    }


def test_too_long_a_text_is_refused(client: FlaskClient, indexed: Service) -> None:
    response = client.get("/search/suggestions", query_string={"q": "care " * 41})
    assert response.status_code == 422
    assert response.get_json()["details"]["fields"] == {"q": "Must be at most 200 characters"}


def test_other_methods_are_refused_as_json(client: FlaskClient) -> None:
    response = client.post("/search/suggestions", data={"q": "day"})
    assert response.status_code == 405
    assert response.get_json()["error"] == "method_not_allowed"


def test_too_many_requests_from_one_address_are_refused_as_json(
    make_app: Callable[..., Flask],
) -> None:
    app = make_app(RATELIMIT_ENABLED=True, SUGGESTION_RATE_LIMIT="3 per minute")
    client = app.test_client()
    for _ in range(3):
        assert client.get("/search/suggestions?q=day").status_code == 200
    response = client.get("/search/suggestions?q=day")
    assert response.status_code == 429
    assert response.get_json()["error"] == "rate_limited"
    assert int(response.headers["Retry-After"]) > 0
    # The search page itself is not held back by the suggestions' limit.
    assert client.get("/search?q=day").status_code == 200


def test_a_nul_is_refused_as_json(client: FlaskClient) -> None:
    response = client.get("/search/suggestions", query_string={"q": "day\x00"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_request"
