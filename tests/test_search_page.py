"""The search page with odd input, the empty state, and the council's search log."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from marketplace.extensions import db
from providers import search_index
from providers.models import Organisation, OrganisationStatus, Service
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
    columns = set(SearchLogEntry.__table__.columns.keys())
    assert columns == {"id", "searched_at", "source", "words", "filters", "places", "results"}


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(words=st.text(max_size=300))
def test_any_text_at_all_gets_a_page(client: FlaskClient, indexed: None, words: str) -> None:
    response = client.get("/search", query_string={"q": words})
    # A NUL is refused for every request before any view (PostgreSQL cannot store it): a
    # page that says so, never a 500.
    assert response.status_code == (400 if "\x00" in words else 200)
