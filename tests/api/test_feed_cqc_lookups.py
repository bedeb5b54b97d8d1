"""A list's CQC ratings are looked up once for the whole list, not once a listing, and say
what looking each listing up alone says (issue 22: a feed page of 50 CQC-registered listings
issued 50 more statements)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest
from flask import Flask
from flask.testing import FlaskClient

from marketplace.cqc import checks
from marketplace.cqc.models import CqcLocation
from marketplace.extensions import db
from providers import search_index
from providers.models import CqcRating, Service
from providers.openreferral.exporter import export_directory
from tests.api.conftest import STEVENAGE_VENUE
from tests.api.test_feed_paging import statements

RATINGS = [CqcRating.GOOD, CqcRating.OUTSTANDING, None, CqcRating.REQUIRES_IMPROVEMENT]
LISTS = (
    "/api/v1/services",
    "/api/v1/services?full=true",
    "/api/v1/service_at_locations",
    "/api/v1/service_at_locations?full=true",
    "/api/v1/organizations?full_service=true",
)


def _registered(
    make_service: Callable[..., Service], number: int, rating: CqcRating | None
) -> Service:
    location_id = f"1-30000{number:04d}"
    db.session.add(
        CqcLocation(
            location_id=location_id,
            name=f"Care at home {number}",
            provider_id=f"1-40000{number:04d}",
            provider_name=f"Care at home {number} Ltd",
            rating=rating,
            rating_published_on=date(2026, 5, 14) if rating else None,
            # Every third one has left the register: no rating is shown for it.
            deregistered_at=datetime(2026, 11, 1, tzinfo=UTC) if number % 3 == 2 else None,
        )
    )
    return make_service(
        f"Care at home {number}",
        venue={**STEVENAGE_VENUE, "name": f"Office {number}"},
        cqc_location_id=location_id,
    )


def _counted(app: Flask, client: FlaskClient) -> dict[str, int]:
    counts = {}
    for path in LISTS:
        client.get(path)  # kept figures (totals) worked out first
        with statements(app) as seen:
            answer = client.get(path)
        assert answer.status_code == 200
        counts[path] = len(seen)
    with statements(app) as seen:
        list(search_index.public_documents())
    counts["search index rebuild"] = len(seen)
    with statements(app) as seen:
        export_directory("json")
    counts["export"] = len(seen)
    return counts


def test_a_lists_ratings_cost_one_statement_however_many_listings_name_a_location(
    app: Flask, client: FlaskClient, make_service: Callable[..., Service]
) -> None:
    for number in range(2):
        _registered(make_service, number, RATINGS[number % len(RATINGS)])
    few = _counted(app, client)
    for number in range(2, 8):
        _registered(make_service, number, RATINGS[number % len(RATINGS)])
    make_service("Unknown to the CQC", cqc_location_id="1-999999999")

    assert _counted(app, client) == few


def test_a_lists_ratings_are_what_each_listing_alone_shows(
    app: Flask, client: FlaskClient, make_service: Callable[..., Service]
) -> None:
    made = [_registered(make_service, n, RATINGS[n % len(RATINGS)]) for n in range(6)]
    made.append(make_service("Unknown to the CQC", cqc_location_id="1-999999999"))

    listed = {
        item["id"]: item.get("accreditations")
        for item in client.get("/api/v1/services?per_page=50").get_json()["contents"]
    }
    alone = {
        str(service.id): client.get(f"/api/v1/services/{service.id}")
        .get_json()
        .get("accreditations")
        for service in made
    }
    assert listed == alone
    # Rated, not yet rated, deregistered and unknown are all among them.
    assert any(text and "Outstanding" in text for text in alone.values())
    assert len(set(alone.values())) >= 4

    documents = {document.id: document for document in search_index.public_documents()}
    assert {document.cqc_rating for document in documents.values()} >= {"good", None}
    for service in made:
        assert (
            documents[str(service.id)].cqc_rating == search_index.document_for(service).cqc_rating
        )


def test_many_locations_are_looked_up_a_batch_at_a_time(
    app: Flask, make_service: Callable[..., Service], monkeypatch: pytest.MonkeyPatch
) -> None:
    made = [_registered(make_service, n, CqcRating.GOOD) for n in range(5)]
    alone = {service.id: checks.verified_location(service) for service in made}
    monkeypatch.setattr(checks, "LOOKUP_BATCH", 2)

    with statements(app) as seen:
        together = checks.verified_locations(made)

    assert len(seen) == 3  # 5 location ids, 2 a statement
    assert together == {key: found for key, found in alone.items() if found is not None}
    assert len(together) == 4  # the one deregistered (number 2) is left out
