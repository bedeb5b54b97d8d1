"""The ORUK feed's behaviour: who is visible, what the parameters do, errors, CORS, money."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from flask.testing import FlaskClient

from marketplace.api import params
from marketplace.extensions import db
from providers.models import OrganisationStatus, PriceUnit, Service, ServiceStatus
from providers.openreferral.identifiers import CARE_TAXONOMY_ID, term_id
from tests.api.conftest import STEVENAGE_VENUE
from tests.api.schemas import null_paths, schema_errors

MakeService = Callable[..., Service]


def names(client: FlaskClient, url: str) -> list[str]:
    response = client.get(url)
    assert response.status_code == 200, response.get_json()
    return [item["name"] for item in response.get_json()["contents"]]


def test_only_approved_organisations_published_services_are_listed(
    client: FlaskClient, make_service: MakeService
) -> None:
    make_service("Published")
    make_service("Draft", status=ServiceStatus.DRAFT)
    make_service("Archived", status=ServiceStatus.ARCHIVED)
    for status in (
        OrganisationStatus.PENDING,
        OrganisationStatus.REJECTED,
        OrganisationStatus.SUSPENDED,
    ):
        make_service(f"Of a {status.value} provider", organisation_status=status)
    assert names(client, "/api/v1/services") == ["Published"]
    # An approved provider is public (it has a public page) even with nothing published yet.
    assert names(client, "/api/v1/organizations") == ["Archived Ltd", "Draft Ltd", "Published Ltd"]


def test_a_suspended_organisations_services_vanish_at_once(
    client: FlaskClient, make_service: MakeService
) -> None:
    service = make_service("Day centre", venue=STEVENAGE_VENUE)
    link_id = service.locations[0].id
    urls = [
        f"/api/v1/services/{service.id}",
        f"/api/v1/organizations/{service.organisation_id}",
        f"/api/v1/service_at_locations/{link_id}",
    ]
    assert [client.get(url).status_code for url in urls] == [200, 200, 200]
    service.organisation.status = OrganisationStatus.SUSPENDED
    db.session.commit()
    assert [client.get(url).status_code for url in urls] == [404, 404, 404]
    assert names(client, "/api/v1/services") == []
    assert client.get("/api/v1/service_at_locations").get_json()["total_items"] == 0


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=1.5", "page"),
        ("per_page=abc", "per_page"),
        ("per_page=0", "per_page"),
        ("per_page=5001", "per_page"),
        ("format=ndjson&page=0", "page"),
        ("modified_after=garbage", "modified_after"),
        ("modified_after=2026-13-45", "modified_after"),
        ("taxonomy_term_id=personal-care", "taxonomy_term_id"),
        ("taxonomy_id=12345", "taxonomy_id"),
        ("organization_id=not-a-uuid", "organization_id"),
        ("full=maybe", "full"),
        ("minimal=2", "minimal"),
        ("format=xml", "format"),
        ("search=" + "x" * 201, "search"),
    ],
)
def test_bad_parameters_get_a_400_that_says_which_and_why(
    client: FlaskClient, reference_data: None, query: str, parameter: str
) -> None:
    response = client.get(f"/api/v1/services?{query}")
    assert response.status_code == 400
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    body = response.get_json()
    assert body["error"] == "invalid_parameter"
    assert body["details"] == {"parameter": parameter}
    assert parameter in body["message"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("postcode=NOTAPOSTCODE", "postcode"),
        ("postcode=SG1 1XY&proximity=-5", "proximity"),
        ("postcode=SG1 1XY&proximity=far", "proximity"),
        ("postcode=SG1 1XY&proximity=2000000", "proximity"),
        ("proximity=far", "proximity"),
    ],
)
def test_bad_places_get_a_400(
    client: FlaskClient, reference_data: None, query: str, parameter: str
) -> None:
    response = client.get(f"/api/v1/service_at_locations?{query}")
    assert response.status_code == 400
    assert response.get_json()["details"] == {"parameter": parameter}


# A fixed id nobody has: test ids must be the same in every xdist worker.
NOBODY = uuid.UUID("0b5e4c1a-3f7d-4e2a-9c6b-8d1f2a3b4c5d")


@pytest.mark.parametrize(
    "path",
    [
        f"/api/v1/services/{NOBODY}",
        "/api/v1/services/not-a-uuid",
        f"/api/v1/organizations/{NOBODY}",
        f"/api/v1/service_at_locations/{NOBODY}",
        f"/api/v1/taxonomies/{NOBODY}",
        f"/api/v1/taxonomy_terms/{NOBODY}",
        "/api/v1/no-such-endpoint",
    ],
)
def test_unknown_ids_and_paths_get_a_json_404_with_cors(
    client: FlaskClient, reference_data: None, path: str
) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert response.get_json()["error"] == "not_found"


def test_other_methods_are_refused_as_json_with_cors(client: FlaskClient) -> None:
    """With the methods the path allows in `Allow`, as RFC 9110 requires (issue 12, item 10:
    TRACE answered 405 without it)."""
    for method in ("POST", "TRACE", "DELETE"):
        response = client.open("/api/v1/services", method=method)
        assert response.status_code == 405
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        assert response.get_json()["error"] == "method_not_allowed"
        assert set(response.headers["Allow"].split(", ")) == {"GET", "HEAD", "OPTIONS"}


def test_pages_count_from_one_and_say_where_they_are(
    client: FlaskClient, make_service: MakeService
) -> None:
    for letter in "ABCDE":
        make_service(f"Service {letter}")
    first = client.get("/api/v1/services?per_page=2").get_json()
    assert {key: value for key, value in first.items() if key != "contents"} == {
        "total_items": 5,
        "total_pages": 3,
        "page_number": 1,
        "size": 2,
        "first_page": True,
        "last_page": False,
        "empty": False,
    }
    last = client.get("/api/v1/services?per_page=2&page=3").get_json()
    assert (last["size"], last["first_page"], last["last_page"]) == (1, False, True)
    assert [item["name"] for item in last["contents"]] == ["Service E"]
    beyond = client.get("/api/v1/services?per_page=2&page=9").get_json()
    assert (beyond["empty"], beyond["contents"], beyond["last_page"]) == (True, [], True)


def test_an_empty_feed_still_has_one_valid_page(client: FlaskClient, reference_data: None) -> None:
    body = client.get("/api/v1/services").get_json()
    assert (body["total_items"], body["total_pages"], body["empty"]) == (0, 1, True)
    assert schema_errors(body, "service_list") == []


def test_search_matches_name_description_and_provider_in_any_case(
    client: FlaskClient, make_service: MakeService
) -> None:
    make_service("Night sitting")
    make_service("Lunch club", description="A hot MEAL and company.")
    make_service("Walks", organisation=make_service("Tea").organisation)
    assert names(client, "/api/v1/services?search=night") == ["Night sitting"]
    assert names(client, "/api/v1/services?search=meal") == ["Lunch club"]
    assert names(client, "/api/v1/services?search=tea%20ltd") == ["Tea", "Walks"]
    # Wildcards in the text are matched literally.
    assert names(client, "/api/v1/services?search=%25") == []
    assert names(client, "/api/v1/services?search=_") == []


def test_a_word_too_common_to_search_by_finds_everything_as_on_the_search_page(
    client: FlaskClient, make_service: MakeService
) -> None:
    make_service("Night sitting")
    make_service("Lunch club", description="A hot meal and company.")
    make_service("Draft", status=ServiceStatus.DRAFT)

    # "care" is in nearly every listing, so the engine leaves it out and lists everything.
    found = client.get("/api/v1/services?search=care").get_json()
    assert sorted(item["name"] for item in found["contents"]) == ["Lunch club", "Night sitting"]
    assert found["total_items"] == 2
    page = client.get("/search?q=care")
    assert page.status_code == 200
    assert "Night sitting" in page.text
    assert "Lunch club" in page.text
    # Punctuation alone is no word at all: nothing, on the feed.
    assert names(client, "/api/v1/services?search=%21%3F") == []


def test_taxonomy_filters_include_a_top_categorys_kinds(
    client: FlaskClient, make_service: MakeService
) -> None:
    make_service("Carers", categories=("personal-care",))
    make_service("Meals", categories=("hot-meal-delivery",))
    top = term_id("help-at-home")
    assert names(client, f"/api/v1/services?taxonomy_term_id={top}") == ["Carers"]
    kind = term_id("hot-meal-delivery")
    assert names(client, f"/api/v1/services?taxonomy_term_id={kind}") == ["Meals"]
    assert names(client, f"/api/v1/services?taxonomy_term_id={uuid.uuid4()}") == []
    assert names(client, f"/api/v1/services?taxonomy_id={CARE_TAXONOMY_ID}") == ["Carers", "Meals"]
    assert names(client, f"/api/v1/services?taxonomy_id={uuid.uuid4()}") == []


def test_organization_id_and_modified_after_filter_services(
    client: FlaskClient, make_service: MakeService
) -> None:
    old = make_service("Old", updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    old.organisation.updated_at = datetime(2020, 1, 1, tzinfo=UTC)
    db.session.commit()
    make_service("New")
    assert names(client, f"/api/v1/services?organization_id={old.organisation_id}") == ["Old"]
    assert names(client, "/api/v1/services?modified_after=2021-01-01") == ["New"]
    assert names(client, "/api/v1/services?modified_after=2019-12-31T23:00:00Z") == ["New", "Old"]
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    assert names(client, f"/api/v1/services?modified_after={soon.replace('+', '%2B')}") == []


def test_a_change_to_the_provider_counts_as_a_change_to_its_services(
    client: FlaskClient, make_service: MakeService
) -> None:
    service = make_service("Old", updated_at=datetime(2020, 1, 1, tzinfo=UTC))
    service.organisation.name = "Renamed Ltd"
    db.session.commit()
    assert names(client, "/api/v1/services?modified_after=2021-01-01") == ["Old"]


def test_minimal_and_full_lists(client: FlaskClient, make_service: MakeService) -> None:
    make_service("Home care", venue=STEVENAGE_VENUE)
    minimal = client.get("/api/v1/services?minimal=true").get_json()
    assert set(minimal["contents"][0]) == {"id", "name", "status", "last_modified"}
    assert schema_errors(minimal, "service_list") == []
    full = client.get("/api/v1/services?full=true").get_json()["contents"][0]
    assert full["service_at_locations"][0]["location"]["addresses"][0]["postal_code"] == "SG1 1XY"
    assert schema_errors(full, "service") == []
    # Both: full, which holds everything minimal does (the document cannot forbid the pair).
    both = client.get("/api/v1/services?full=true&minimal=true").get_json()["contents"][0]
    assert both == full


def test_a_per_page_beyond_what_a_page_holds_gives_a_full_page() -> None:
    """per_page is 1 to 5000 for every list (so whether it is valid does not hang on
    `minimal`, and the OpenAPI document can say so); a page holds up to 200, or 5000 with
    minimal."""
    assert params.paging({"per_page": "201"}).per_page == 200
    assert params.paging({"per_page": "5000"}, minimal=True).per_page == 5000
    with pytest.raises(params.BadParameter):
        params.paging({"per_page": "5001"})


def test_money_is_an_exact_decimal_number_of_pounds(
    client: FlaskClient, make_service: MakeService
) -> None:
    service = make_service("Care", price_pence=2655, minimum_order=2)
    free = make_service("Chat", price_pence=0, price_unit=PriceUnit.FREE)
    text = client.get(f"/api/v1/services/{service.id}").get_data(as_text=True)
    assert '"amount":26.55,' in text
    option = client.get(f"/api/v1/services/{service.id}").get_json()["cost_options"][0]
    assert (option["amount_description"], option["option"]) == ("per hour", "Minimum order: 2")
    text = client.get(f"/api/v1/services/{free.id}").get_data(as_text=True)
    assert '"amount":0.00,' in text
    assert '"amount_description":"free"' in text


def test_optional_fields_without_a_value_are_left_out(
    client: FlaskClient, make_service: MakeService
) -> None:
    service = make_service("Care", url=None, email=None, phone=None)
    body = client.get(f"/api/v1/services/{service.id}").get_json()
    assert not {"url", "email", "accreditations", "minimum_age"} & body.keys()
    assert body["contacts"] == []
    assert null_paths(body) == []


def test_text_is_given_exactly_as_stored(client: FlaskClient, make_service: MakeService) -> None:
    """Markup is text: the feed does not escape or strip it (consumers escape when showing)."""
    description = 'Fun <script>alert("hi")</script> & games'
    service = make_service("Club", description=description)
    assert client.get(f"/api/v1/services/{service.id}").get_json()["description"] == description


def test_postcode_keeps_services_covering_it_and_those_that_name_no_area(
    client: FlaskClient, make_service: MakeService
) -> None:
    venue = dict(STEVENAGE_VENUE)
    make_service("Stevenage only", areas=("stevenage",), venue=venue)
    make_service("Watford only", areas=("watford-and-three-rivers",), venue=venue)
    make_service("Anywhere", areas=(), venue=venue)
    url = "/api/v1/service_at_locations?postcode="
    assert [i["service"]["name"] for i in client.get(url + "SG2 7AB").get_json()["contents"]] == [
        "Anywhere",
        "Stevenage only",
    ]
    assert [i["service"]["name"] for i in client.get(url + "wd17").get_json()["contents"]] == [
        "Anywhere",
        "Watford only",
    ]


def test_proximity_keeps_nearby_venues_nearest_first(
    client: FlaskClient, make_service: MakeService
) -> None:
    make_service("In Stevenage", areas=(), venue=STEVENAGE_VENUE)
    hitchin = {**STEVENAGE_VENUE, "name": "Hitchin hall", "postcode": "SG5 1AA"}
    hitchin.update(latitude=None, longitude=None)  # placed by its postcode district
    make_service("In Hitchin", areas=(), venue=hitchin)
    royston = {**STEVENAGE_VENUE, "name": "Royston hall", "latitude": 52.0483, "longitude": -0.0241}
    make_service("In Royston", areas=(), venue=royston)
    url = "/api/v1/service_at_locations?postcode=SG1%201XY&proximity="
    near = client.get(url + "10000").get_json()
    assert [item["service"]["name"] for item in near["contents"]] == ["In Stevenage", "In Hitchin"]
    assert near["total_items"] == 2
    everywhere = client.get(url + "50000&per_page=1&page=3").get_json()
    assert [item["service"]["name"] for item in everywhere["contents"]] == ["In Royston"]
    # Without a postcode there is nothing to measure from: the radius is checked, then ignored.
    assert (
        client.get(url.split("?")[0] + "?proximity=1000").get_json()["total_items"]
        == (client.get(url.split("?")[0]).get_json()["total_items"])
    )
    unknown = client.get("/api/v1/service_at_locations?postcode=M1%201AE&proximity=5000")
    assert unknown.get_json()["total_items"] == 0


def test_taxonomies_and_terms(client: FlaskClient, reference_data: None) -> None:
    taxonomies = client.get("/api/v1/taxonomies").get_json()
    assert [t["id"] for t in taxonomies["contents"]] == [str(CARE_TAXONOMY_ID)]
    assert client.get("/api/v1/taxonomies?search=plumbing").get_json()["contents"] == []
    ours = client.get(f"/api/v1/taxonomies/{CARE_TAXONOMY_ID}").get_json()
    assert len(ours["taxonomy_terms"]) == 35
    tops = client.get("/api/v1/taxonomy_terms?top_only=true&per_page=100").get_json()
    assert tops["total_items"] == 12
    assert all("parent_id" not in term for term in tops["contents"])
    kinds = client.get(f"/api/v1/taxonomy_terms?parent_id={term_id('meals')}").get_json()
    assert [term["code"] for term in kinds["contents"]] == [
        "hot-meal-delivery",
        "frozen-meals",
        "lunch-clubs",
    ]
    term = client.get(f"/api/v1/taxonomy_terms/{term_id('lunch-clubs')}").get_json()
    assert term["parent_id"] == str(term_id("meals"))
    assert client.get(f"/api/v1/taxonomy_terms?taxonomy_id={uuid.uuid4()}").get_json()["empty"]


def test_ndjson_gives_every_result_one_per_line(
    client: FlaskClient, make_service: MakeService
) -> None:
    for letter in "ABC":
        make_service(f"Service {letter}")
    response = client.get("/api/v1/services?format=ndjson&per_page=1")
    assert response.mimetype == "application/x-ndjson"
    lines = response.get_data(as_text=True).splitlines()
    assert len(lines) == 3
    assert response.headers["Access-Control-Allow-Origin"] == "*"


def test_organizations_nest_their_public_services_on_request(
    client: FlaskClient, make_service: MakeService
) -> None:
    service = make_service("Shown")
    make_service("Hidden", organisation=service.organisation, status=ServiceStatus.DRAFT)
    plain = client.get("/api/v1/organizations").get_json()["contents"][0]
    assert "services" not in plain
    full = client.get("/api/v1/organizations?full=true").get_json()["contents"][0]
    assert [s["name"] for s in full["services"]] == ["Shown"]
    assert "attributes" not in full["services"][0]
    deep = client.get(f"/api/v1/organizations/{service.organisation_id}?full_service=true")
    assert "attributes" in deep.get_json()["services"][0]
