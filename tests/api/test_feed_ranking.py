"""The feed ranks: with `search` words, the best matches first, in the search page's order
and stable across pages; given a postcode without words, the nearest venues first."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from marketplace.extensions import db
from providers import search_index
from providers.models import Service, ServiceStatus
from tests.api.conftest import STEVENAGE_VENUE

MakeService = Callable[..., Service]
HITCHIN_VENUE = {
    "name": "Hitchin Town Hall",
    "address": "Brand Street",
    "town": "Hitchin",
    "postcode": "SG5 1HX",
    "latitude": 51.9490,
    "longitude": -0.2790,
}
ST_ALBANS_VENUE = {
    "name": "St Albans Museum",
    "address": "Market Place",
    "town": "St Albans",
    "postcode": "AL3 5DJ",
    "latitude": 51.7520,
    "longitude": -0.3380,
}


@pytest.fixture(params=["whoosh", "tantivy"])
def engine_client(
    request: pytest.FixtureRequest, make_app: Callable[..., Flask], tmp_path_factory: object
) -> Iterator[FlaskClient]:
    app = make_app(SEARCH_ENGINE=request.param)
    with app.app_context():
        yield app.test_client()


@pytest.fixture
def directory(engine_client: FlaskClient, make_service: MakeService) -> list[Service]:
    """Listings that match "stairlift" well, less well and not at all; named so that name
    order and rank order differ."""
    made = [
        make_service(
            "Accessible short breaks",
            description="Holidays with a stairlift at the cottage, and carers on hand.",
            categories=("holidays",),
            venue=ST_ALBANS_VENUE,
        ),
        make_service(
            "Stairlift fitting and repairs",
            description="We fit, service and repair stairlifts and through-floor lifts.",
            categories=("stairlifts",),
            venue=HITCHIN_VENUE,
        ),
        make_service(
            "Bathing aids",
            description="Bath lifts and shower seats.",
            categories=("bathing-aids",),
            venue=STEVENAGE_VENUE,
        ),
        make_service(
            "Curved stairlifts",
            description="Stairlifts made for your stairs, fitted in a day.",
            categories=("stairlifts",),
        ),
    ]
    search_index.sync()
    db.session.commit()
    return made


def _feed(client: FlaskClient, url: str) -> dict:
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _page_order(client: FlaskClient, words: str) -> list[str]:
    page = client.get("/search", query_string={"q": words, "per_page": "50"})
    assert page.status_code == 200
    return re.findall(
        r'<h3 class="govuk-heading-s[^"]*"><a[^>]*href="/services/([0-9a-f-]+)"',
        page.get_data(as_text=True),
    )


def test_search_words_give_the_best_matches_first_in_the_search_pages_order(
    engine_client: FlaskClient, directory: list[Service]
) -> None:
    feed = _feed(engine_client, "/api/v1/services?search=stairlift&per_page=50")
    order = [item["id"] for item in feed["contents"]]

    assert order == _page_order(engine_client, "stairlift")
    names = [item["name"] for item in feed["contents"]]
    # Not name order: the listings about stairlifts come before the break that has one.
    assert set(names[:2]) == {"Curved stairlifts", "Stairlift fitting and repairs"}
    assert names.index("Accessible short breaks") > 1
    assert names != sorted(names)


def test_ranked_pages_are_stable_and_add_up_to_the_whole(
    engine_client: FlaskClient, directory: list[Service]
) -> None:
    whole = _feed(engine_client, "/api/v1/services?search=stairlift&per_page=50")
    pages = [
        _feed(engine_client, f"/api/v1/services?search=stairlift&per_page=1&page={n}")
        for n in range(1, whole["total_items"] + 1)
    ]

    assert [p["contents"][0]["id"] for p in pages] == [i["id"] for i in whole["contents"]]
    assert {p["total_items"] for p in pages} == {whole["total_items"]}


def test_without_words_the_feed_keeps_name_order(
    engine_client: FlaskClient, directory: list[Service]
) -> None:
    names = [i["name"] for i in _feed(engine_client, "/api/v1/services")["contents"]]
    assert names == sorted(names)


def test_venues_rank_by_their_services_match_and_by_distance_without_words(
    engine_client: FlaskClient, directory: list[Service]
) -> None:
    services = _feed(engine_client, "/api/v1/services?search=stairlift&per_page=50")
    with_venues = [i["id"] for i in services["contents"] if i["name"] != "Curved stairlifts"]
    ranked = _feed(engine_client, "/api/v1/service_at_locations?search=stairlift")
    assert [i["service"]["id"] for i in ranked["contents"]] == with_venues
    assert ranked["contents"][0]["service"]["name"] == "Stairlift fitting and repairs"

    near_stevenage = _feed(engine_client, "/api/v1/service_at_locations?postcode=SG1%201AA")
    venues = [i["location"]["name"] for i in near_stevenage["contents"]]
    assert venues == ["Bowes Lyon House", "Hitchin Town Hall", "St Albans Museum"]


def test_a_search_asks_the_database_for_the_page_only(
    engine_client: FlaskClient, make_service: MakeService
) -> None:
    """The engine's ranking is the list; the database reads the page's rows, not every match
    (a check of every match grew with them: up to 5,000 ids each way)."""
    for number in range(30):
        make_service(f"Stairlift service {number}", description="Stairlifts fitted.")
    # The client's app keeps an index of its own: it catches up in this first request.
    _feed(engine_client, "/api/v1/services?search=stairlift&per_page=5")
    largest: list[int] = []

    def count(
        _conn: object, _cursor: object, _statement: str, parameters: object, *_: object
    ) -> None:
        largest.append(len(parameters) if isinstance(parameters, (dict, list, tuple)) else 0)

    with engine_client.application.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        feed = _feed(engine_client, "/api/v1/services?search=stairlift&per_page=5")
    finally:
        event.remove(engine, "before_cursor_execute", count)

    assert (feed["total_items"], len(feed["contents"])) == (30, 5)
    assert largest
    assert max(largest) < 30


def test_a_listing_made_private_since_the_index_caught_up_is_left_off_the_page(
    engine_client: FlaskClient, directory: list[Service]
) -> None:
    app = engine_client.application
    app.config["SEARCH_SYNC_SECONDS"] = 3600  # the index does not catch up in this test
    _feed(engine_client, "/api/v1/services?search=stairlift&per_page=50")
    curved = next(service for service in directory if service.name == "Curved stairlifts")
    curved.status = ServiceStatus.DRAFT
    db.session.commit()

    feed = _feed(engine_client, "/api/v1/services?search=stairlift&per_page=50")

    names = [item["name"] for item in feed["contents"]]
    assert "Curved stairlifts" not in names
    assert "Stairlift fitting and repairs" in names
