"""The search page with odd input, the empty state, and the council's search log."""

from __future__ import annotations

import html
import re
from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.extensions import db
from providers import listings, search_index
from providers.models import Organisation, OrganisationStatus, PriceUnit, Service, ServiceStatus
from providers.search_log import SearchLogEntry


@pytest.fixture
def indexed(
    app: Flask,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    organisation = make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)
    make_listing(organisation, name="Morning calls")
    search_index.sync(app)


@pytest.mark.parametrize(
    "words",
    [
        'name:"unbalanced',
        "care AND (OR NOT",
        "*",
        "ca?e~2",
        "[1 TO 5]",
        "x" * 10_000,
        "\u202e\ufffd 🧓🏽 ÄÖÜ",
        "field:value^3",
        "",
    ],
)
def test_engine_syntax_and_odd_text_never_break_the_page(
    client: FlaskClient, indexed: None, words: str
) -> None:
    response = client.get("/search", query_string={"q": words})
    assert response.status_code == 200


def test_unknown_filters_and_a_page_past_the_end_answer_clearly(
    client: FlaskClient, indexed: None
) -> None:
    page = client.get(
        "/search",
        query_string={"q": "calls", "mode": "teleport", "sort": "sideways", "page": "999"},
    )
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "mode" in text
    assert "No services match" in text or "0 services" in text


def test_the_empty_state_offers_ways_forward(client: FlaskClient, indexed: None) -> None:
    text = client.get("/search", query_string={"q": "calls", "category": "transport"}).get_data(
        as_text=True
    )
    assert "No services match" in text
    assert "remove the kind of help filter" in text
    assert "0300 123 4042" in text


def test_each_first_page_is_logged_without_personal_data(
    client: FlaskClient, indexed: None
) -> None:
    client.get("/search", query_string={"q": "home care SG1", "mode": "at_home"})
    client.get("/search", query_string={"q": "home care SG1", "page": "2"})
    client.get("/api/v1/services", query_string={"search": "dressing"})
    entries = list(db.session.scalars(select(SearchLogEntry).order_by(SearchLogEntry.source)))
    assert [(e.source, e.words) for e in entries] == [
        ("api", "dressing"),
        ("page", "home care SG1"),
    ]
    page_entry = entries[1]
    assert page_entry.filters == {"delivery_modes": ["at_home"]}
    assert "stevenage" in " ".join(page_entry.places)
    assert page_entry.searched_at.second == 0
    # How many of the results could start now (issue 19's "found nothing available"): a count,
    # never who searched.
    assert page_entry.available is not None
    assert 0 <= page_entry.available <= page_entry.results
    columns = set(SearchLogEntry.__table__.columns.keys())
    assert columns == {
        "id", "searched_at", "source", "words", "filters", "places", "results", "available",
    }  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.text(max_size=300))
def test_any_text_at_all_gets_a_page(client: FlaskClient, indexed: None, words: str) -> None:
    response = client.get("/search", query_string={"q": words})
    # A NUL is refused for every request before any view (PostgreSQL cannot store it): a
    # page that says so, never a 500.
    assert response.status_code == (400 if "\x00" in words else 200)


# Comparing prices and the area facet (issue 13, item 10 and a smaller thing) ---------------


def _listing(
    organisation: Organisation, name: str, pence: int, unit: PriceUnit, areas: list[str]
) -> Service:
    service = listings.create_listing(
        organisation,
        listings.ListingDetails(
            name=name,
            description="Help for older people.",
            category_codes=["personal-care"],
            price_pence=pence,
            price_unit=unit,
            area_codes=areas,
            delivery_modes=["at_home"],
        ),
    )
    service.status = ServiceStatus.PUBLISHED
    return service


@pytest.fixture
def priced(
    app: Flask, make_organisation: Callable[..., Organisation], reference_data: None
) -> None:
    organisation = make_organisation("Chiltern Home Care", OrganisationStatus.APPROVED)
    _listing(organisation, "Morning calls", 455, PriceUnit.PER_VISIT, ["stevenage"])
    _listing(organisation, "Lunch club", 320, PriceUnit.PER_SESSION, ["stevenage-town"])
    _listing(organisation, "Home help", 2000, PriceUnit.PER_HOUR, ["stevenage"])
    _listing(organisation, "Sitting service", 1800, PriceUnit.PER_HOUR, ["hitchin"])
    _listing(organisation, "Telecare", 905, PriceUnit.PER_WEEK, ["stevenage"])
    db.session.commit()
    search_index.sync(app)


def _names(page: str) -> list[str]:
    return re.findall(
        r'<h3 class="govuk-heading-s[^"]*"><a class="govuk-link" href="[^"]*">([^<]*)</a>', page
    )


def test_lowest_price_first_compares_one_unit_and_says_which(
    client: FlaskClient, priced: None
) -> None:
    page = client.get("/search", query_string={"sort": "price"}).get_data(as_text=True)
    # Before, £3.20 a session came first, then £4.55 a visit, then £9.05 a week.
    assert _names(page) == ["Sitting service", "Home help"]
    assert "Prices compared per hour: only services priced per hour are shown" in page
    assert "prices compared per hour" in page.split("</title>")[0]
    other = re.findall(r'<a class="govuk-link" href="([^"]*)">(per [a-z]+) \((\d)\)</a>', page)
    assert {(label, count) for _, label, count in other} == {
        ("per visit", "1"),
        ("per session", "1"),
        ("per week", "1"),
    }
    for url, label, count in other:
        chosen = client.get("/search" + html.unescape(url)).get_data(as_text=True)
        assert len(_names(chosen)) == int(count)
        assert f"Prices compared {label}" in chosen


def test_the_most_you_want_to_pay_is_read_in_one_unit(client: FlaskClient, priced: None) -> None:
    page = client.get("/search", query_string={"max_price": "20"}).get_data(as_text=True)
    # Before, £9.05 a week and £4.55 a visit passed "at most £20" beside £20 an hour.
    assert sorted(_names(page)) == ["Home help", "Sitting service"]
    assert "at most £20 per hour" in page
    assert "2 services found, up to £20 per hour" in page.split("</title>")[0]
    weekly = client.get("/search", query_string={"max_price": "20", "unit": "per_week"})
    assert _names(weekly.get_data(as_text=True)) == ["Telecare"]
    assert "Prices compared per week" in weekly.get_data(as_text=True)


def test_the_area_facet_lists_stevenage_once_with_what_choosing_it_gives(
    client: FlaskClient, priced: None
) -> None:
    page = client.get("/search").get_data(as_text=True)
    areas = re.findall(
        r'name="locality" type="checkbox" value="([^"]*)"[^>]*>\s*<label[^>]*>([^<]*)</label>', page
    )
    labels = [label for _, label in areas]
    # Before: "Stevenage (3)" (the district) and "Stevenage (1)" (its town).
    assert [label for label in labels if label.startswith("Stevenage")] == ["Stevenage (4)"]
    for value, label in areas:
        chosen = client.get("/search", query_string={"locality": value}).get_data(as_text=True)
        assert f"({len(_names(chosen))})" in label, value
    # Only areas among the results: Hitchin's listing is not in "in Stevenage".
    narrowed = client.get("/search", query_string={"q": "help in Stevenage"}).get_data(as_text=True)
    assert 'value="hitchin"' not in narrowed
