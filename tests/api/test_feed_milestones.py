"""The whole feed's pages past the first start from a kept milestone (the key of every
MILESTONE_STEP-th row) and are found by key, skipping fewer than MILESTONE_STEP rows; the
milestones are worked out again when the directory changes. Every page must hold exactly what
sorting the whole list and cutting it would give."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace.api import queries
from marketplace.extensions import db
from providers import listings
from providers.models import (
    Location,
    Organisation,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    service_is_public,
)
from tests.api.conftest import STEVENAGE_VENUE
from tests.api.test_feed_paging import statements

STEP = 2
PER_PAGE = 3


@pytest.fixture(autouse=True)
def small_step(monkeypatch: pytest.MonkeyPatch) -> None:
    # Milestones every 2 rows and pages of 3, so pages start between milestones.
    monkeypatch.setattr(queries, "MILESTONE_STEP", STEP)


def _expected_services() -> list[str]:
    """Every public service's id, sorted by the database as the feed sorts them."""
    return [
        str(service_id)
        for service_id in db.session.scalars(
            select(Service.id)
            .join(Organisation)
            .where(service_is_public())
            .order_by(Service.name, Service.id)
        )
    ]


def _expected_links() -> list[str]:
    return [
        str(link_id)
        for link_id in db.session.scalars(
            select(ServiceAtLocation.id)
            .join(Service, ServiceAtLocation.service_id == Service.id)
            .join(Organisation, Service.organisation_id == Organisation.id)
            .join(Location, ServiceAtLocation.location_id == Location.id)
            .where(service_is_public())
            .order_by(Service.name, Location.name, ServiceAtLocation.id)
        )
    ]


def _every_page(client: FlaskClient, path: str, pages: int) -> tuple[list[list[str]], int]:
    found = []
    total = -1
    for page in range(1, pages + 1):
        answer = client.get(f"{path}?per_page={PER_PAGE}&page={page}")
        assert answer.status_code == 200
        body = answer.get_json()
        total = body["total_items"]
        found.append([item["id"] for item in body["contents"]])
    return found, total


def _cut(ids: list[str], pages: int) -> list[list[str]]:
    return [ids[n * PER_PAGE : (n + 1) * PER_PAGE] for n in range(pages)]


def test_pages_from_milestones_hold_what_sorting_everything_gives(
    app: Flask, client: FlaskClient, make_service: Callable[..., Service]
) -> None:
    # Names repeat, so the id decides between equals, across a milestone too.
    made = [
        make_service(name, venue={**STEVENAGE_VENUE, "name": f"Venue {n}"})
        for n, name in enumerate(
            ["Day centre", "Meals", "Day centre", "Aids", "Meals", "Day centre"]
        )
    ]
    make_service("Draft visits", status=ServiceStatus.DRAFT)
    expected = _expected_services()
    assert len(expected) == 6

    found, total = _every_page(client, "/api/v1/services", 3)
    assert (found, total) == (_cut(expected, 3), 6)  # the third page is past the end: empty

    links, links_total = _every_page(client, "/api/v1/service_at_locations", 3)
    assert (links, links_total) == (_cut(_expected_links(), 3), 6)

    # A listing added at the front shifts every page by one; one unpublished, back again.
    front = make_service("Aardvark lunches", venue={**STEVENAGE_VENUE, "name": "Venue front"})
    listings.move(made[3], ServiceStatus.DRAFT)  # "Aids", the first but one
    db.session.commit()
    expected = _expected_services()
    assert expected[0] == str(front.id)
    assert str(made[3].id) not in expected
    found, total = _every_page(client, "/api/v1/services", 3)
    assert (found, total) == (_cut(expected, 3), 6)


def test_milestones_are_worked_out_once_per_directory_state_and_only_past_the_first_page(
    app: Flask, client: FlaskClient, make_service: Callable[..., Service]
) -> None:
    for name in ["Meals", "Aids", "Day centre", "Transport", "Laundry"]:
        make_service(name)

    def walked(page: int) -> tuple[int, list[str]]:
        with statements(app) as seen:
            answer = client.get(f"/api/v1/services?per_page={PER_PAGE}&page={page}")
        assert answer.status_code == 200
        paged = [sql for sql in seen if "LIMIT" in sql and "ORDER BY services.name" in sql]
        return sum("row_number()" in sql for sql in seen), paged

    first_page_walks, _ = walked(1)
    assert first_page_walks == 0
    walks, paged = walked(2)
    assert walks == 1
    # Page 2 starts at row 4: the milestone of row 3, then one row skipped.
    assert any("(services.name, services.id) >=" in sql and "OFFSET" in sql for sql in paged)
    assert walked(2)[0] == 0  # kept
    make_service("Befriending")
    assert walked(2)[0] == 1  # the directory changed
