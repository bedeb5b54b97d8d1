"""The feed, tested the way the official ORUK validator tests a feed, against the demo county.

As oruk-validator does: fetch `/`, every list at its first, middle and last page, and every
by-id endpoint for ids taken from those lists; validate each response against its ORUK 3.0
schema. Failures on `/`, `/services` and `/services/{id}` are errors and on the optional
endpoints warnings; we want zero of both. On top: no nulls anywhere and
`Access-Control-Allow-Origin: *` on every response. The demo county is seeded once for the
module, since seeding takes a few seconds.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from marketplace import create_app
from marketplace.extensions import db
from providers.models import CqcRating, Service
from tests.api.schemas import SPEC, null_paths, schema_errors
from tests.conftest import DemoCounty, RequestClient, empty_database, test_settings

REQUIRED = {"/", "/services", "/services/{id}"}
# Each list, the schema of its pages, the by-id endpoint its ids feed and that one's schema.
LISTS = (
    ("/services", "service_list", "/services/{id}", "service"),
    ("/organizations", "organization_list", "/organizations/{id}", "organization"),
    (
        "/service_at_locations",
        "service_at_location_list",
        "/service_at_locations/{id}",
        "service_at_location",
    ),
    ("/taxonomies", "taxonomy_list", "/taxonomies/{id}", "taxonomy"),
    ("/taxonomy_terms", "taxonomy_term_list", "/taxonomy_terms/{id}", "taxonomy_term"),
)


@dataclass
class Findings:
    """What a validator run found: errors (required endpoints) and warnings (optional ones)."""

    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    requests: int = 0

    def add(self, endpoint: str, problems: list[str]) -> None:
        target = self.errors if endpoint in REQUIRED else self.warnings
        target.extend(f"{endpoint}: {problem}" for problem in problems)


@pytest.fixture(scope="module")
def demo_client(
    database_url: str, tmp_path_factory: pytest.TempPathFactory, demo_county: DemoCounty
) -> Iterator[Any]:
    app = create_app(test_settings(database_url, tmp_path_factory.mktemp("conformance")))
    app.test_client_class = RequestClient
    with app.app_context():
        demo_county.restore()
        _fill_what_the_demo_leaves_empty()
        db.session.commit()
    yield app.test_client()
    with app.app_context():
        db.session.rollback()
        empty_database()
        db.engine.dispose()


def _fill_what_the_demo_leaves_empty() -> None:
    """Give a few demo services the optional details the demo county does not set (yet), so
    that schedules, contacts and accreditations are validated too."""
    services = db.session.scalars(select(Service).order_by(Service.name)).all()
    for number, service in enumerate(services[::25]):
        service.opening_times = service.opening_times or [
            {"days": ["MO", "TU", "WE", "TH", "FR"], "opens": "09:00", "closes": "17:00"},
            {"days": ["SA"], "opens": "10:00", "closes": "12:30"},
        ]
        service.phone = service.phone or f"01632 960{900 + number}"
        service.url = service.url or f"https://example.org/services/{number}"
        service.cqc_location_id = service.cqc_location_id or f"1-{123456780 + number}"
        service.cqc_rating = service.cqc_rating or CqcRating.GOOD
        service.eligibility = {**service.eligibility, "min_age": 18, "max_age": 99}


def fetch(client: FlaskClient, findings: Findings, endpoint: str, url: str, schema: str) -> Any:
    """GET `url` as the validator would and record every problem with the answer."""
    findings.requests += 1
    response = client.get(f"/api/v1{url}")
    problems = []
    if response.headers.get("Access-Control-Allow-Origin") != "*":
        problems.append(f"{url} lacks Access-Control-Allow-Origin: *")
    if response.status_code != 200:
        findings.add(endpoint, [*problems, f"{url} answered {response.status_code}"])
        return None
    body = response.get_json()
    problems += [f"{url} {error}" for error in schema_errors(body, schema)]
    problems += [f"{url} has null at {path}" for path in null_paths(body)]
    findings.add(endpoint, problems)
    return body


def pages_to_fetch(total_pages: int) -> list[int]:
    """First, middle (with more than two pages) and last, as the validator chooses them."""
    middle = [total_pages // 2] if total_pages > 2 else []
    return sorted({1, *middle, total_pages})


def test_the_demo_county_passes_with_no_errors_and_no_warnings(demo_client: FlaskClient) -> None:
    findings = Findings()
    fetch(demo_client, findings, "/", "/", "api_details")
    for list_path, list_schema, item_path, item_schema in LISTS:
        first = fetch(demo_client, findings, list_path, list_path, list_schema)
        assert first is not None, findings
        assert first["total_items"] > 0, f"the demo county has no {list_path}"
        ids = [item["id"] for item in first["contents"]]
        for page in pages_to_fetch(first["total_pages"])[1:]:
            body = fetch(demo_client, findings, list_path, f"{list_path}?page={page}", list_schema)
            ids += [item["id"] for item in body["contents"]] if body else []
        for item_id in ids:
            url = item_path.replace("{id}", item_id)
            fetch(demo_client, findings, item_path, url, item_schema)
    assert findings.errors == []
    assert findings.warnings == []
    assert findings.requests > 200, "the run should cover hundreds of responses"


@pytest.mark.parametrize(
    ("url", "schema", "nested"),
    [
        ("/services?full=true&per_page=100", "service", None),
        ("/organizations?full_service=true&per_page=20", "organization", "services"),
        ("/service_at_locations?full=true&per_page=100", "service_at_location", None),
    ],
)
def test_fully_nested_lists_hold_schema_valid_objects(
    demo_client: FlaskClient, url: str, schema: str, nested: str | None
) -> None:
    body = demo_client.get(f"/api/v1{url}").get_json()
    problems = [
        f"{item['id']}: {e}" for item in body["contents"] for e in schema_errors(item, schema)
    ]
    if nested:
        problems += [
            f"{service['id']}: {e}"
            for item in body["contents"]
            for service in item[nested]
            for e in schema_errors(service, "service")
        ]
    assert body["contents"]
    assert problems == []
    assert null_paths(body) == []


def test_fields_ours_beyond_the_uk_profile_follow_hsds(demo_client: FlaskClient) -> None:
    """Phones on contacts and organisations are HSDS 3.0's; they must match ORUK's phone."""
    body = demo_client.get("/api/v1/services?full=true&per_page=200").get_json()
    phones = [
        phone
        for service in body["contents"]
        for holder in [*service["contacts"], service["organization"]]
        for phone in holder.get("phones", [])
    ]
    assert phones
    assert [e for phone in phones for e in schema_errors(phone, "phone")] == []


def test_the_feed_covers_what_the_demo_county_has(demo_client: FlaskClient) -> None:
    """The conformance run means little if the demo leaves the nested objects empty."""
    body = demo_client.get("/api/v1/services?full=true&per_page=200").get_json()
    filled = {
        key
        for service in body["contents"]
        for key in ("schedules", "service_areas", "service_at_locations", "languages", "contacts")
        if service[key]
    }
    assert filled == {"schedules", "service_areas", "service_at_locations", "languages", "contacts"}


@pytest.mark.parametrize(
    "example", sorted((SPEC / "examples").glob("*.json")), ids=lambda p: p.stem
)
def test_the_validator_itself_accepts_the_specifications_examples(example: Path) -> None:
    import json

    schema = {
        "organization_full": "organization",
        "service_at_location_full": "service_at_location",
        "service_full": "service",
    }.get(example.stem, example.stem)
    assert schema_errors(json.loads(example.read_text(encoding="utf-8")), schema) == []
