"""Providers' performance (issue 19, PERF): the figures, made from orders taken through the
orders' rules (accepted, declined, cancelled by the person and by the council, a missed visit,
a queried visit, reviews published and not), equal counts made by hand; per provider and per
area (the person's district from their postcode); the page, its sorting and CSV; statements
that do not grow with the orders."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from marketplace.console import performance
from marketplace.console.performance import Period
from marketplace.orders import deliveries, life
from marketplace.orders.models import Order, OrderEvent
from marketplace.people.models import Person
from providers import reviews
from providers.models import Organisation
from tests.conftest import sign_in
from tests.console.review_helpers import ON, completed_order, placed_order
from tests.orders.fixtures import TODAY, World

WHOLE_TIME = Period(
    "test", "The test's period", date(2026, 4, 1), datetime.now(UTC).date() + timedelta(days=1)
)


def _took(session: Session, order: Order, hours: float) -> None:
    """Say the order reached the provider `hours` before it was accepted (the steps' times)."""
    events = {
        e.kind: e
        for e in session.scalars(select(OrderEvent).where(OrderEvent.order_id == order.id))
    }
    accepted = datetime(2026, 6, 2, 12, tzinfo=UTC)
    events["accept"].happened_at = accepted
    events["placed"].happened_at = accepted - timedelta(hours=hours)
    session.commit()


def _history(session: Session, world: World, person_b: Person) -> None:
    """Provider A (world.provider): three orders completed (accepted in 2, 4 and 9 hours), one
    declined, one cancelled by the person (accepted in 3 hours), one by a council officer (in
    5), a missed visit on one order (in 6) and a queried visit on another (in 7), two published
    reviews (5 and 2) and a rejected one (1). The person lives in Stevenage (SG1); person B
    (no postcode) has one order with A, accepted in 1 hour."""
    world.person.postcode = "SG1 2AB"
    session.commit()
    first = completed_order(session, world, "first")
    second = completed_order(session, world, "second")
    third = completed_order(session, world, "third")
    for order, hours in ((first, 2), (second, 4), (third, 9)):
        _took(session, order, hours)
    declined = placed_order(session, world, "declined", accept=False)
    life.decline(session, declined, by=world.staff, reason="No carers that week")
    by_person = placed_order(session, world, "by-person")
    _took(session, by_person, 3)
    life.cancel(session, by_person, by=world.citizen, today=TODAY)
    by_council = placed_order(session, world, "by-council")
    _took(session, by_council, 5)
    life.cancel(session, by_council, by=world.officer, today=TODAY)
    session.commit()
    visits = placed_order(session, world, "visits")
    _took(session, visits, 6)
    deliveries.record_delivery(
        session, visits, by=world.staff, delivered_on=ON, units=0, note="Missed: no carer", today=ON
    )
    asked = placed_order(session, world, "asked")
    _took(session, asked, 7)
    queried = deliveries.record_delivery(
        session, asked, by=world.staff, delivered_on=ON, units=2, today=ON
    )
    deliveries.query_delivery(session, queried, by=world.citizen, reason="Nobody came")
    session.commit()
    for order, rating in ((first, 5), (second, 2)):
        review = reviews.write_review(session, order, by=world.citizen, rating=rating, text="")
        reviews.publish_review(session, review, by=world.officer)
    rejected = reviews.write_review(session, third, by=world.citizen, rating=1, text="")
    reviews.reject_review(session, rejected, by=world.officer, reason="Names a carer")
    session.commit()
    # Person B's one order (placed through the world's budget, then made hers: the report
    # reads whose order it is), accepted an hour after it reached the provider.
    other = placed_order(session, world, "person-b")
    other.person_id = person_b.id
    session.commit()
    _took(session, other, 1)


def _person_b(session: Session) -> Person:
    person_b = Person(full_name="Aisha Bello")  # no postcode: her area is not known
    session.add(person_b)
    session.commit()
    return person_b


def test_the_figures_equal_counts_made_by_hand(session: Session, world: World) -> None:
    _history(session, world, _person_b(session))
    report = performance.provider_performance(session, WHOLE_TIME)
    [provider] = report.by_provider
    assert provider.name == world.provider.name
    # Accepted: first, second, third, by-person, by-council, visits, asked, person-b.
    assert (provider.accepted, provider.declined) == (8, 1)
    assert (
        provider.cancelled_by_person,
        provider.cancelled_by_council,
        provider.cancelled_by_system,
        provider.cancelled,
    ) == (1, 1, 0, 2)
    assert (provider.missed_visits, provider.visits_queried, provider.queries) == (1, 1, 1)
    assert (provider.rating_average, provider.rating_count) == (3.5, 2)  # (5 + 2) / 2
    # Hours to accept: the median of [1, 2, 3, 4, 5, 6, 7, 9] is (4 + 5) / 2.
    assert provider.median_hours_to_accept == 4.5

    areas = {area.name: area for area in report.by_area}
    assert list(areas) == ["Stevenage", performance.AREA_NOT_KNOWN]
    stevenage, unknown = areas["Stevenage"], areas[performance.AREA_NOT_KNOWN]
    assert (stevenage.accepted, stevenage.declined, stevenage.cancelled) == (7, 1, 2)
    assert (stevenage.missed_visits, stevenage.rating_count) == (1, 2)
    assert stevenage.median_hours_to_accept == 5.0  # [2, 3, 4, 5, 6, 7, 9]
    assert (unknown.accepted, unknown.median_hours_to_accept, unknown.cancelled) == (1, 1.0, 0)


def test_a_period_counts_only_what_happened_in_it(session: Session, world: World) -> None:
    _history(session, world, _person_b(session))
    before = Period("before", "Before", date(2025, 4, 1), date(2026, 3, 31))
    report = performance.provider_performance(session, before)
    assert (report.by_provider, report.by_area) == ([], [])


def test_the_periods_offered() -> None:
    offered = {p.key: p for p in performance.periods(date(2026, 12, 4))}
    assert (offered["this-year"].starts_on, offered["this-year"].ends_on) == (
        date(2026, 4, 1),
        date(2026, 12, 4),
    )
    assert (offered["last-year"].starts_on, offered["last-year"].ends_on) == (
        date(2025, 4, 1),
        date(2026, 3, 31),
    )
    assert offered["4-weeks"].starts_on == date(2026, 11, 7)
    assert performance.period_named("nonsense", date(2026, 12, 4)).key == "4-weeks"


def test_sorting_puts_rows_without_a_value_last() -> None:
    rows = [
        performance.Performance("a", "Alpha", accepted=3),
        performance.Performance("b", "Beta", accepted=5, rating_total=4, rating_count=1),
        performance.Performance("c", "Gamma", accepted=1, rating_total=10, rating_count=2),
    ]
    by = performance.sorted_rows
    assert [r.name for r in by(rows, "accepted", True)] == ["Beta", "Alpha", "Gamma"]
    assert [r.name for r in by(rows, "rating_average", False)] == ["Beta", "Gamma", "Alpha"]
    assert [r.name for r in by(rows, "rating_average", True)] == ["Gamma", "Beta", "Alpha"]
    assert [r.name for r in by(rows, "nonsense", False)] == ["Alpha", "Beta", "Gamma"]


def test_the_page_its_sorting_and_its_csv(app: Flask, session: Session, world: World) -> None:
    _history(session, world, _person_b(session))
    client = app.test_client()
    sign_in(client, world.officer)
    page = client.get("/council/reports/performance?period=this-year")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert world.provider.name in text
    assert "Stevenage" in text
    assert "3.5 out of 5" in text
    assert 'aria-sort="ascending"' in text
    assert "<svg" in text
    sorted_page = client.get("/council/reports/performance?period=this-year&sort=accepted")
    assert "sort=accepted&amp;order=descending" in sorted_page.get_data(as_text=True)
    download = client.get("/council/reports/performance/area.csv?period=this-year")
    assert download.status_code == 200
    rows = list(csv.reader(io.StringIO(download.get_data(as_text=True))))
    assert rows[0][:4] == ["Area", "Accepted", "Declined", "Cancelled"]
    assert [row[:4] for row in rows[1:]] == [
        ["Stevenage", "7", "1", "2"],
        [performance.AREA_NOT_KNOWN, "1", "0", "0"],
    ]
    assert client.get("/council/reports/performance/nobody.csv").status_code == 404
    assert "/council/reports/performance" in client.get("/council/reports").get_data(as_text=True)


def test_the_page_issues_as_many_statements_for_more_orders(
    app: Flask, session: Session, world: World, make_organisation: Callable[..., Organisation]
) -> None:
    """Every figure is read grouped: more orders, providers' events, deliveries and reviews
    add no statement (a figure read per provider or per order would)."""
    from tests.test_statements_per_page import counting

    client = app.test_client()
    sign_in(client, world.officer)
    path = "/council/reports/performance?period=this-year"
    completed_order(session, world, "alone")
    client.get(path)
    with counting(app) as few:
        client.get(path)
    _history(session, world, _person_b(session))
    # A second provider with an order (made the world's provider's, then moved to it).
    moved = placed_order(session, world, "second-provider")
    moved.organisation_id = make_organisation("Dacorum Care").id
    session.commit()
    with counting(app) as many:
        assert client.get(path).status_code == 200
    assert len(many) == len(few)
