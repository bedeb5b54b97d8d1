"""Market insight (issue 19, item 6): figures from a constructed search log, orders and
listings equal the counts made by hand; the report pages show each table with its chart and
CSV; a bad period is answered with the error summary."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.console import insight, insight_demand, insight_market
from marketplace.console.insight import Period, period_of
from marketplace.extensions import db
from marketplace.formatting import london_today
from marketplace.orders import checkout, life
from marketplace.types import Session as AnySession
from marketplace.types import utcnow
from providers.models import (
    CapacityStatus,
    Organisation,
    OrganisationStatus,
    PriceUnit,
    Service,
)
from providers.reminders import ListingReminder
from providers.search_log import SearchLogEntry
from tests.conftest import sign_in
from tests.orders.fixtures import TODAY, World


def _search(
    session: AnySession,
    words: str,
    *,
    results: int,
    available: int | None,
    filters: dict[str, Any] | None = None,
    places: list[str] | None = None,
    days_ago: int = 1,
) -> None:
    session.add(
        SearchLogEntry(
            searched_at=utcnow() - timedelta(days=days_ago),
            source="page",
            words=words,
            filters=filters or {},
            places=places or [],
            results=results,
            available=available,
        )
    )


@pytest.fixture
def search_log(app: Flask, reference_data: None) -> None:
    session = db.session
    _search(session, "night sitter", results=0, available=0, filters={"categories": ["night-care"]})
    _search(session, "Night sitter ", results=3, available=0, places=["stevenage"])
    _search(
        session,
        "day centre",
        results=5,
        available=2,
        filters={"categories": ["day-opportunities"], "localities": ["hitchin"]},
    )
    _search(session, "podiatry", results=0, available=0, days_ago=40)  # before the period
    _search(session, "cleaner", results=4, available=None)  # logged before it was counted
    _search(session, "", results=0, available=0, filters={"categories": ["meals"]})
    session.commit()


def _gaps(rows: list[insight.SearchGap]) -> dict[str, tuple[int, int, int]]:
    return {row.label: (row.searches, row.found_nothing, row.nothing_available) for row in rows}


def test_searches_that_found_nothing_by_category_area_and_words(search_log: None) -> None:
    period = period_of("30", utcnow())
    found = insight.unmet_searches(db.session, period, insight.reference(db.session))
    assert (found.total.searches, found.total.found_nothing, found.total.nothing_available) == (
        5,
        2,
        1,
    )
    # Night care is a kind of help at home; a search with no category chosen says so.
    assert _gaps(found.by_category) == {
        "Help at home": (1, 1, 0),
        "Day opportunities": (1, 0, 0),
        "Meals": (1, 1, 0),
        insight.NO_CATEGORY: (2, 0, 1),
    }
    assert [row.label for row in found.by_category][-1] == insight.NO_CATEGORY
    # Hitchin is a town of North Herts; a place named in the words counts as chosen.
    assert _gaps(found.by_area) == {
        "North Herts": (1, 0, 0),
        "Stevenage": (1, 0, 1),
        insight.NO_PLACE: (3, 2, 0),
    }
    assert _gaps(found.by_area_and_category) == {
        "Help at home in No place given": (1, 1, 0),
        "Meals in No place given": (1, 1, 0),
        "No category chosen in No place given": (1, 0, 0),
        "No category chosen in Stevenage": (1, 0, 1),
        "Day opportunities in North Herts": (1, 0, 0),
    }
    words, total = insight.unmet_words(db.session, period, page=1, per_page=10)
    assert total == 1
    assert [(w.words, w.searches, w.found_nothing, w.nothing_available) for w in words] == [
        ("night sitter", 2, 1, 1)
    ]
    # Over a year the older search is counted too.
    year = insight.unmet_searches(
        db.session, period_of("365", utcnow()), insight.reference(db.session)
    )
    assert (year.total.searches, year.total.found_nothing) == (6, 3)


def test_words_are_paged_most_searched_first(app: Flask, reference_data: None) -> None:
    for words, times in (("stairlift", 3), ("bath seat", 1), ("ramp", 2), ("aardvark", 1)):
        for _ in range(times):
            _search(db.session, words, results=0, available=0)
    db.session.commit()
    period = period_of(None, utcnow())
    first, total = insight.unmet_words(db.session, period, page=1, per_page=2)
    second, _ = insight.unmet_words(db.session, period, page=2, per_page=2)
    assert total == 4
    assert [w.words for w in first + second] == ["stairlift", "ramp", "aardvark", "bath seat"]


@pytest.mark.parametrize("text", ["7", "abc", "30.0", "-30", "\uff13\uff10", "9" * 30])
def test_a_period_not_offered_is_refused(text: str) -> None:
    with pytest.raises(insight.PeriodError):
        period_of(text, utcnow())


def test_the_period_is_30_days_unless_chosen() -> None:
    now = utcnow()
    assert period_of("", now) == Period(30, now)
    assert period_of(" 90 ", now).since == now - timedelta(days=90)


def test_search_log_records_how_many_could_start_now(
    app: Flask, make_listing, make_organisation
) -> None:
    from providers.search_index import matching_ids, reindex

    make_listing(make_organisation("Open Door Care"), name="Home care visits")
    full = make_listing(make_organisation("Busy Bees Care"), name="Home care visits at night")
    full.capacity_status = CapacityStatus.FULL
    db.session.commit()
    reindex(app)
    matching_ids("home care", app, log_source="api")
    db.session.commit()
    entry = db.session.query(SearchLogEntry).one()
    assert (entry.results, entry.available) == (2, 1)


# Demand against supply -----------------------------------------------------------------------


def _place(session: Session, world: World, key: str) -> Any:
    order = checkout.place_order(
        session,
        world.person,
        world.service,
        # An hour on Mondays and Thursdays for a week: 2 hours a week (three fit the plan).
        world.schedule(units=1, weeks=1),
        by=world.citizen,
        today=TODAY,
        placement_key=key,
    )
    session.commit()
    return order


def test_demand_against_supply_by_category_and_area(
    session: Session,
    world: World,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    world.person.postcode = "SG1 2AB"  # Stevenage
    session.commit()
    _place(session, world, "waiting")
    accepted = _place(session, world, "accepted")
    life.accept(session, accepted, by=world.staff)
    declined = _place(session, world, "declined")
    life.decline(session, declined, by=world.staff, reason="No carers free on Thursdays")
    session.commit()
    busy = make_listing(make_organisation("Busy Bees Care"), name="Evening visits")
    busy.capacity_status = CapacityStatus.FULL
    world.service.earliest_start = london_today() + timedelta(days=9)
    session.commit()

    found = insight_demand.demand_and_supply(
        session, period_of("30", utcnow()), insight.reference(session), london_today(), crossed=True
    )
    home = next(row for row in found.by_category if row.label == "Help at home")
    assert (home.orders, home.declined, home.hours_per_week, home.people_waiting) == (3, 1, 6, 1)
    assert (home.providers, home.services, home.accepting, home.full) == (2, 2, 1, 1)
    assert home.soonest_start == london_today() + timedelta(days=9)
    stevenage = next(row for row in found.by_area if row.label == "Stevenage")
    assert (stevenage.orders, stevenage.people_waiting, stevenage.services) == (3, 1, 2)
    # Every category and district is listed, with nothing where there is nothing.
    meals = next(row for row in found.by_category if row.label == "Meals")
    assert (meals.orders, meals.services, meals.soonest_start) == (0, 0, None)
    assert len(found.by_category) == 12
    # Crossed: only the pairs with demand or supply (both listings serve Stevenage only).
    assert [
        (row.label, row.orders, row.people_waiting, row.services, row.accepting)
        for row in found.by_area_and_category
    ] == [("Help at home in Stevenage", 3, 1, 2, 1)]


def test_figures_take_a_bounded_number_of_statements(
    session: Session, world: World, make_organisation, make_listing
) -> None:
    """The statements do not grow with orders, searches or listings."""

    def count_for(extra: int) -> int:
        for index in range(extra):
            make_listing(make_organisation(f"Provider {extra}-{index}"), name=f"Visits {index}")
            _place(session, world, f"order-{extra}-{index}")
            _search(session, f"words {extra} {index}", results=0, available=0)
        session.commit()
        statements: list[str] = []
        engine = db.engine

        def seen(*_args: object) -> None:
            statements.append("x")

        event.listen(engine, "before_cursor_execute", seen)
        try:
            period = period_of("90", utcnow())
            places = insight.reference(session)
            insight.unmet_searches(session, period, places)
            insight.unmet_words(session, period, page=1, per_page=25)
            insight_demand.demand_and_supply(session, period, places, london_today(), crossed=True)
            insight_market.prices(session, places, crossed=True)
            insight_market.lapsed_by_category(session, places, utcnow())
            insight_market.lapsed_listings(session, utcnow(), page=1, per_page=25)
            insight_market.trend(session, london_today())
        finally:
            event.remove(engine, "before_cursor_execute", seen)
        return len(statements)

    assert count_for(1) == count_for(4)


# Prices ------------------------------------------------------------------------------------


def test_percentiles_are_whole_pence_interpolated_like_a_spreadsheet() -> None:
    # 1000, 1200, 1200, 2000: QUARTILE.INC gives 1150, 1200, 1400.
    counts = [(1000, 1), (1200, 2), (2000, 1)]
    assert insight_market.percentile(counts, Fraction(1, 4)) == 1150
    assert insight_market.percentile(counts, Fraction(1, 2)) == 1200
    assert insight_market.percentile(counts, Fraction(3, 4)) == 1400
    # Halves round up: the median of 1001 and 1002 is 1001.5p -> 1002p.
    assert insight_market.percentile([(1001, 1), (1002, 1)], Fraction(1, 2)) == 1002
    assert insight_market.percentile([(2500, 1)], Fraction(1, 4)) == 2500
    with pytest.raises(ValueError, match="no prices"):
        insight_market.percentile([], Fraction(1, 2))


def test_prices_by_category_area_and_unit(
    app: Flask,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    for index, pence in enumerate((2000, 2400, 2400, 3000)):
        make_listing(
            make_organisation(f"Carers {index}"), name=f"Visits {index}", price_pence=pence
        )
    per_visit = make_listing(
        make_organisation("Visiting Ltd"), name="Quick visits", price_pence=1500
    )
    per_visit.price_unit = PriceUnit.PER_VISIT
    free = make_listing(make_organisation("Volunteers"), name="Free visits", price_pence=100)
    free.price_unit, free.price_pence = PriceUnit.FREE, 0
    hidden = make_listing(
        make_organisation("Pending Ltd", OrganisationStatus.PENDING), price_pence=9900
    )
    db.session.commit()
    found = insight_market.prices(db.session, insight.reference(db.session), crossed=True)
    rows = {(r.label, r.unit): r for r in found.by_category}
    hourly = rows[("Help at home", PriceUnit.PER_HOUR)]
    assert (hourly.listings, hourly.lowest, hourly.highest) == (4, 2000, 3000)
    assert (hourly.lower_quartile, hourly.median, hourly.upper_quartile) == (2300, 2400, 2550)
    assert rows[("Help at home", PriceUnit.PER_VISIT)].listings == 1
    assert set(rows) == {
        ("Help at home", PriceUnit.PER_HOUR),
        ("Help at home", PriceUnit.PER_VISIT),
    }
    areas = {(r.label, r.unit): r.listings for r in found.by_area}
    assert areas == {("Stevenage", PriceUnit.PER_HOUR): 4, ("Stevenage", PriceUnit.PER_VISIT): 1}
    both = {(r.label, r.unit): (r.listings, r.median) for r in found.by_area_and_category}
    assert both == {
        ("Help at home in Stevenage", PriceUnit.PER_HOUR): (4, 2400),
        ("Help at home in Stevenage", PriceUnit.PER_VISIT): (1, 1500),
    }
    assert hidden.organisation.status is OrganisationStatus.PENDING


# Lapsed listings ---------------------------------------------------------------------------


def test_lapsed_listings_with_their_reminders(
    app: Flask,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    now = utcnow()
    current = make_listing(make_organisation("Fresh Care"), name="Checked visits")
    oldest = make_listing(make_organisation("Old Care"), name="Oldest visits")
    reminded = make_listing(make_organisation("Reminded Care"), name="Reminded visits")
    oldest.capacity_confirmed_at = now - timedelta(days=200)
    reminded.capacity_confirmed_at = now - timedelta(days=95)
    db.session.add(
        ListingReminder(
            service_id=reminded.id,
            confirmed_at=reminded.capacity_confirmed_at,
            sent_at=now - timedelta(days=20),
        )
    )
    db.session.commit()
    listings, total = insight_market.lapsed_listings(db.session, now, page=1, per_page=10)
    assert total == 2
    assert [(row.name, row.reminded_at is not None) for row in listings] == [
        ("Oldest visits", False),
        ("Reminded visits", True),
    ]
    second, _ = insight_market.lapsed_listings(db.session, now, page=2, per_page=1)
    assert [row.name for row in second] == ["Reminded visits"]
    counts = insight_market.lapsed_by_category(db.session, insight.reference(db.session), now)
    home = next(row for row in counts if row.label == "Help at home")
    assert (home.current, home.lapsed) == (1, 2)
    assert current.is_stale(now) is False


# The statement and its trend ---------------------------------------------------------------


def test_month_starts_cross_the_year() -> None:
    assert insight_market.month_starts(date(2026, 2, 14), 4) == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
    ]


def test_trend_counts_each_month_in_london(app: Flask, reference_data: None) -> None:
    today = london_today()
    this_month = datetime(today.year, today.month, 1, 12, tzinfo=UTC)
    _search(db.session, "a", results=0, available=0, days_ago=0)
    db.session.add(
        SearchLogEntry(
            searched_at=this_month - timedelta(days=20),
            source="page",
            words="b",
            filters={},
            places=[],
            results=2,
            available=1,
        )
    )
    db.session.commit()
    months = insight_market.trend(db.session, today, 3)
    assert [m.starts_on for m in months][-1] == date(today.year, today.month, 1)
    assert [(m.searches, m.unmet_searches) for m in months][-2:] == [(1, 0), (1, 1)]


def test_position_statement_names_the_gaps(search_log: None) -> None:
    places = insight.reference(db.session)
    period = period_of("30", utcnow())
    rows = insight_market.position_statement(
        insight_demand.demand_and_supply(db.session, period, places, london_today()),
        insight.unmet_searches(db.session, period, places),
        insight_market.prices(db.session, places),
    )
    meals = next(row for row in rows if row.category == "Meals")
    assert meals.unmet_searches == 1
    assert meals.gaps == ("1 searches found nothing or nothing available", "No public service")
    day = next(row for row in rows if row.category == "Day opportunities")
    assert day.gaps == ("No public service",)
    assert len(rows) == 12


# Pages --------------------------------------------------------------------------------------


@pytest.fixture
def officer_client(app: Flask, make_user: Callable[..., User]) -> FlaskClient:
    client = app.test_client()
    sign_in(client, make_user(Role.COUNCIL_OFFICER))
    return client


REPORTS = ["searches", "demand", "prices", "lapsed", "position"]


@pytest.mark.parametrize("report", REPORTS)
def test_each_report_shows_charts_tables_and_csv_links(
    officer_client: FlaskClient, search_log: None, report: str
) -> None:
    response = officer_client.get(f"/council/reports/market/{report}?period=30")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert text.count('role="img"') >= 1
    assert text.count("<svg ") == text.count('<div class="app-chart">')
    assert 'class="govuk-table"' in text
    assert f"/council/reports/market/{report}-" in text
    assert ".csv?period=30" in text


def test_the_searches_page_shows_what_found_nothing(
    officer_client: FlaskClient, search_log: None
) -> None:
    text = officer_client.get("/council/reports/market/searches").get_data(as_text=True)
    assert "night sitter" in text
    assert "<strong>2</strong> found nothing" in text
    assert '<th scope="row" class="govuk-table__header">Meals</th>' in text


def test_a_bad_period_shows_the_error_summary_and_no_figures(
    officer_client: FlaskClient, search_log: None
) -> None:
    response = officer_client.get("/council/reports/market/searches?period=12")
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "govuk-error-summary" in text
    assert 'href="#period"' in text
    assert 'id="period"' in text
    assert "<title>Error: " in text
    assert "night sitter" not in text
    assert (
        officer_client.get("/council/reports/market/searches-words.csv?period=x").status_code == 400
    )
    assert officer_client.get("/council/reports/market/nothing.csv").status_code == 404


def test_csv_holds_the_same_rows_as_the_table(
    officer_client: FlaskClient, search_log: None
) -> None:
    response = officer_client.get("/council/reports/market/searches-categories.csv?period=30")
    assert response.mimetype == "text/csv"
    assert "searches-categories-last-30-days.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["Category", "Searches", "Found nothing", "Found nothing available"]
    assert ["Meals", "1", "1", "0"] in rows
    assert len(rows) == 5
    words = officer_client.get("/council/reports/market/searches-words.csv?period=30")
    assert list(csv.reader(io.StringIO(words.get_data(as_text=True))))[1][:4] == [
        "night sitter", "2", "1", "1",
    ]  # fmt: skip


def test_prices_csv_gives_pounds_from_pence(
    officer_client: FlaskClient,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
) -> None:
    make_listing(make_organisation("Carers"), price_pence=2650)
    rows = list(
        csv.reader(
            io.StringIO(
                officer_client.get("/council/reports/market/prices-categories.csv").get_data(
                    as_text=True
                )
            )
        )
    )
    assert rows[1] == ["Help at home", "per hour", "1", "26.50", "26.50", "26.50", "26.50", "26.50"]
    page = officer_client.get("/council/reports/market/prices").get_data(as_text=True)
    assert "£26.50" in page


def test_the_reports_index_links_every_market_report(officer_client: FlaskClient) -> None:
    text = officer_client.get("/council/reports").get_data(as_text=True)
    for report in REPORTS:
        assert f'href="/council/reports/market/{report}"' in text
    assert 'href="/council/reports"' in text  # in the navigation


def test_the_words_page_says_which_page_it_is(
    officer_client: FlaskClient, reference_data: None
) -> None:
    for index in range(30):
        _search(db.session, f"words {index:02d}", results=0, available=0)
    db.session.commit()
    first = officer_client.get("/council/reports/market/searches").get_data(as_text=True)
    second = officer_client.get("/council/reports/market/searches?page=2").get_data(as_text=True)
    assert "words page 1 of 2" in first
    assert "words page 2 of 2" in second
    assert "words 29" in second
    assert "words 29" not in first
