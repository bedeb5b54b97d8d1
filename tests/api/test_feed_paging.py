"""The feed's pages without search words: the page's ids are found first (sorting and skipping
narrow rows), then only that page's services are read whole; the whole directory's total is
kept until the directory changes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from marketplace.extensions import db
from providers.models import Organisation, Service
from tests.api.conftest import STEVENAGE_VENUE


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    seen: list[str] = []

    def note(*args: Any) -> None:
        seen.append(" ".join(str(args[2]).split()))

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", note)


def test_a_page_sorts_ids_and_reads_only_its_own_services_whole(
    app: Flask,
    client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    organisation = make_organisation()
    names = [f"Listing {letter}" for letter in "EDCBA"]
    for name in names:
        make_listing(organisation, name=name)

    pages = []
    for page in (1, 2, 3):
        with statements(app) as seen:
            answer = client.get(f"/api/v1/services?per_page=2&page={page}")
        assert answer.status_code == 200
        pages.append([item["name"] for item in answer.get_json()["contents"]])
        assert answer.get_json()["total_items"] == 5
        sorted_ = [_page_query(sql) for sql in seen if "ORDER BY services.name" in sql]
        assert sorted_, "the page was not sorted by name"
        # What is sorted and skipped is narrow rows alone, never every service's whole row.
        assert all("LIMIT" in sql and "services.description" not in sql for sql in sorted_)
    assert pages == [["Listing A", "Listing B"], ["Listing C", "Listing D"], ["Listing E"]]


def _page_query(sql: str) -> str:
    """The subquery that picks a page's ids: sorted, skipped and cut to the page."""
    start = sql.index("(SELECT")
    return sql[start : sql.index(") AS page", start)]


def test_services_at_locations_are_paged_by_their_ids_first(
    app: Flask, client: FlaskClient, make_service: Callable[..., Service]
) -> None:
    for letter in "EDCBA":
        make_service(f"Listing {letter}", venue={**STEVENAGE_VENUE, "name": f"Venue {letter}"})

    pages = []
    for page in (1, 2, 3):
        with statements(app) as seen:
            answer = client.get(f"/api/v1/service_at_locations?per_page=2&page={page}")
        assert answer.status_code == 200
        assert answer.get_json()["total_items"] == 5
        pages.append([item["service"]["name"] for item in answer.get_json()["contents"]])
        sorted_ = [_page_query(sql) for sql in seen if "ORDER BY service_name" in sql]
        assert sorted_, "the page was not found by its ids first"
        assert all("LIMIT" in sql and "locations.address" not in sql for sql in sorted_)
    assert pages == [["Listing A", "Listing B"], ["Listing C", "Listing D"], ["Listing E"]]


def test_the_whole_feeds_total_is_kept_until_the_directory_changes(
    app: Flask, client: FlaskClient, make_service: Callable[..., Service]
) -> None:
    first = make_service("Listing A", venue=STEVENAGE_VENUE)
    make_service("Listing B", venue={**STEVENAGE_VENUE, "name": "Another venue"})
    lists = ("/api/v1/services?per_page=1", "/api/v1/service_at_locations?per_page=1")

    def counted(path: str) -> tuple[int, int]:
        with statements(app) as seen:
            answer = client.get(path)
        assert answer.status_code == 200
        return answer.get_json()["total_items"], sum("count(" in sql for sql in seen)

    assert [counted(path) for path in lists] == [(2, 1), (2, 1)]
    assert [counted(path) for path in lists] == [(2, 0), (2, 0)]  # kept: not counted again
    make_service("Listing C", venue={**STEVENAGE_VENUE, "name": "A third venue"})
    assert [counted(path) for path in lists] == [(3, 1), (3, 1)]
    # A filtered list is counted on every request.
    one = f"/api/v1/services?per_page=1&organization_id={first.organisation_id}"
    assert [counted(one), counted(one)] == [(1, 1), (1, 1)]
