"""The council's providers and orders lists come in pages (issue 22, item 2): each page reads
only its own rows, so its statements and its rows stay the same as the directory grows (the
providers list once listed every organisation, and the orders page offered every organisation
in its provider filter: 1.34 MB at 3,507 organisations). The status tab and the filters are
kept across pages; a page that is not a number is the first; a page past the end says so with
no rows, as the search page does.

The clock is set as in tests/council/test_orders_pages.py (orders placed from 8 June).
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.council import views as council_views
from marketplace.orders import checkout, queries
from marketplace.orders.models import Order
from providers.models import Organisation, OrganisationStatus
from tests.conftest import sign_in
from tests.orders.fixtures import TODAY, World
from tests.test_statements_per_page import counting

ROWS = re.compile(
    r'<th scope="row" class="govuk-table__header"><a class="govuk-link" href="([^"]+)"'
)
FIRST = date(2026, 6, 8)  # a Monday after TODAY


def _rows(text: str) -> list[str]:
    """The links of the list's rows, in order."""
    return ROWS.findall(text)


def _grow_directory(session: Session, count: int, *, prefix: str) -> None:
    """`count` more organisations (a third pending), none with an order."""
    session.add_all(
        Organisation(
            name=f"{prefix} Care {n:04d}",
            status=OrganisationStatus.PENDING if n % 3 == 0 else OrganisationStatus.APPROVED,
        )
        for n in range(count)
    )
    session.commit()


def _measure(app: Flask, client: FlaskClient, path: str) -> tuple[int, list[str]]:
    """The statements `path` issues and its rows."""
    client.get(path)  # once to warm what is kept between requests
    with counting(app) as statements:
        response = client.get(path)
    assert response.status_code == 200, path
    return len(statements), _rows(response.get_data(as_text=True))


# Providers ------------------------------------------------------------------------------------


@pytest.fixture
def small_pages(monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(council_views, "PROVIDERS_PER_PAGE", 5)
    return 5


def test_providers_come_in_pages_by_name_keeping_the_status_tab(
    session: Session, officer_client: FlaskClient, small_pages: int
) -> None:
    _grow_directory(session, 12, prefix="Herts")  # 4 pending (0, 3, 6, 9), 8 approved
    first = officer_client.get("/council/providers").get_data(as_text=True)
    second = officer_client.get("/council/providers?page=2").get_data(as_text=True)
    assert len(_rows(first)) == small_pages
    assert set(_rows(first)).isdisjoint(_rows(second))
    assert "All providers: 12, page 1 of 3" in first
    assert "<title>Providers, page 2 of 3" in second
    assert 'aria-label="Pages of providers"' in first

    pending = officer_client.get("/council/providers?status=pending").get_data(as_text=True)
    assert len(_rows(pending)) == 4
    assert "govuk-pagination" not in pending  # one page: no links
    small = officer_client.get("/council/providers?status=approved").get_data(as_text=True)
    # The tab is kept in the links to the other pages.
    assert "/council/providers?page=2&amp;status=approved" in small or (
        "/council/providers?status=approved&amp;page=2" in small
    )
    names = re.findall(r">Herts Care (\d{4})</a>", small)
    later = officer_client.get("/council/providers?status=approved&page=2").get_data(as_text=True)
    names += re.findall(r">Herts Care (\d{4})</a>", later)
    assert names == sorted(names)
    assert len(names) == 8


def test_a_page_past_the_end_says_so_and_one_not_a_number_is_the_first(
    session: Session, officer_client: FlaskClient, small_pages: int
) -> None:
    _grow_directory(session, 7, prefix="Herts")
    past = officer_client.get("/council/providers?page=9")
    assert past.status_code == 200
    text = past.get_data(as_text=True)
    assert "Page 9 is past the end: there are 2 pages." in text
    assert 'href="/council/providers?page=2">Go to the last page' in text
    assert _rows(text) == []
    first = officer_client.get("/council/providers").get_data(as_text=True)
    for odd in ("two", "-1", "0", "1.5", "99999999999999999999"):
        response = officer_client.get(f"/council/providers?page={odd}")
        assert response.status_code == 200, odd
        assert _rows(response.get_data(as_text=True)) == _rows(first), odd


def test_a_providers_page_reads_the_same_statements_and_rows_as_the_directory_grows(
    app: Flask, session: Session, officer_client: FlaskClient, small_pages: int
) -> None:
    _grow_directory(session, 3 * small_pages, prefix="Aaa")  # three pages
    before = {
        path: _measure(app, officer_client, path)
        for path in ("/council/providers", "/council/providers?page=2")
    }
    _grow_directory(session, 300, prefix="Bbb")  # page 2 is now a middle page of 63
    after = {
        path: _measure(app, officer_client, path)
        for path in ("/council/providers", "/council/providers?page=2")
    }
    for path, (statements, rows) in after.items():
        assert len(rows) == small_pages, path
        assert statements == before[path][0], path
        # The Aaa organisations sort first: the same rows as before.
        assert rows == before[path][1], path


# Orders ---------------------------------------------------------------------------------------


@pytest.fixture
def council(app: Flask, world: World) -> FlaskClient:
    client = app.test_client()
    sign_in(client, world.officer)
    return client


def _place(session: Session, world: World, n: int) -> Order:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        world.schedule(units=1, weeks=None, starts_on=FIRST + timedelta(weeks=n)),
        by=world.citizen,
        today=TODAY,
        placement_key=f"paging-{n}",
    )
    session.commit()
    return order


@pytest.mark.usefixtures("after_the_schedule")
def test_an_orders_page_reads_the_same_statements_and_rows_as_orders_and_directory_grow(
    app: Flask,
    session: Session,
    world: World,
    council: FlaskClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for n in range(5):  # three pages
        _place(session, world, n)
    middle = "/council/orders?page=2"
    before = {path: _measure(app, council, path) for path in ("/council/orders", middle)}
    for n in range(5, 11):  # six pages; page 2 is still a middle one
        _place(session, world, n)
    _grow_directory(session, 300, prefix="Herts")
    after = {path: _measure(app, council, path) for path in ("/council/orders", middle)}
    for path, (statements, rows) in after.items():
        assert len(rows) == 2, path
        assert statements == before[path][0], path
    text = council.get(middle).get_data(as_text=True)
    assert "All orders: 11, page 2 of 6" in text
    # The provider filter offers the organisations with orders, not the whole directory.
    assert "Herts Care" not in text
    assert world.service.organisation.name in text
    # First, previous, current, next, an ellipsis, the last.
    assert re.findall(r'aria-label="Page (\d+)"', text) == ["1", "2", "3", "6"]
    assert "govuk-pagination__item--ellipsis" in text


@pytest.mark.usefixtures("after_the_schedule")
def test_an_orders_page_past_the_end_keeps_the_filters_and_says_so(
    session: Session, world: World, council: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    for n in range(3):
        _place(session, world, n)
    response = council.get("/council/orders?status=placed&page=5")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Page 5 is past the end: there are 2 pages." in text
    assert "status=placed" in text.split("Go to the last page")[0].rsplit("href=", 1)[1]
    assert "No orders match" not in text
    assert _rows(text) == []
