"""The figures the seeds measure (issue 19, item 9): computed from a constructed set of events,
they equal the values counted by hand; the page shows each with its definition, table and CSV,
and the front door's as not recorded yet until a source of contacts is registered."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import PaymentFrequency, PersonalBudget
from marketplace.console import figures
from marketplace.console.figures import FrontDoorContact, Period, Share
from marketplace.orders import reablement
from marketplace.orders.models import ReablementOutcome
from marketplace.people.models import Person, PlanStatus, SupportPlan
from providers.models import InvoiceCycle, Organisation, Service
from tests.conftest import sign_in
from tests.packages.test_reablement import (
    FIRST_DAY,
    HOURLY_PENCE,
    ReablementWorld,
    reablement_world,
)
from tests.test_statements_per_page import counting

__all__ = ["reablement_world"]

JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))


def _at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER)


def _someone(
    session: Session,
    officer: User,
    name: str,
    made: datetime,
    approved: datetime | None = None,
    budget: datetime | None = None,
) -> Person:
    person = Person(full_name=name, created_at=made)
    session.add(person)
    session.flush()
    if approved is not None:
        session.add(
            SupportPlan(
                person_id=person.id,
                status=PlanStatus.APPROVED,
                outcomes="To stay at home.",
                drafted_by_id=officer.id,
                drafted_at=made,
                approved_by_id=officer.id,
                approved_at=approved,
            )
        )
    if budget is not None:
        session.add(
            PersonalBudget(
                person_id=person.id,
                starts_on=date(2026, 4, 1),
                ends_on=date(2027, 3, 31),
                frequency=PaymentFrequency.ANNUAL,
                created_at=budget,
            )
        )
    session.commit()
    return person


@pytest.fixture
def people(session: Session, officer: User) -> None:
    """Six people, counted by hand in the tests below (June 2026 is British Summer Time)."""
    _someone(session, officer, "P1", _at("2026-06-02"), _at("2026-06-05"), _at("2026-06-12"))
    _someone(session, officer, "P2", _at("2026-06-10"), _at("2026-06-10", 15))
    # Made before June; plan approved in June, after the budget.
    _someone(session, officer, "P3", _at("2026-05-20"), _at("2026-06-20"), _at("2026-06-01"))
    # 23:30 UTC on 30 June is 00:30 on 1 July in London: not June's.
    _someone(session, officer, "P4", _at("2026-06-30", 23, 30), _at("2026-07-02"))
    _someone(session, officer, "P5", _at("2026-06-15"))
    # 23:30 UTC on 31 May is 00:30 on 1 June in London: June's.
    _someone(session, officer, "P6", _at("2026-05-31", 23, 30), _at("2026-09-15"))


def test_budgets_for_eligible_people_are_counted_from_the_first_approval(
    session: Session, people: None
) -> None:
    found = figures.budgets_figure(session, JUNE)

    # Approved in June: P1 (budget 7 days later), P2 (no budget), P3 (budget first).
    assert found.share == Share(2, 3)
    assert found.share.shown == "2 of 3 (67%)"
    assert found.waits.median == 7
    counts = found.waits.counts(figures.BEFORE)
    assert {k: v for k, v in counts.items() if v} == {
        "1 to 7 days": 1,
        figures.BEFORE: 1,
        figures.NOT_YET: 1,
    }


def test_days_from_a_record_to_a_plan_and_a_budget_count_london_days(
    session: Session, people: None
) -> None:
    found = figures.record_figure(session, JUNE)

    # Made in June (London): P1, P2, P5, P6.
    assert found.people == 4
    assert found.to_plan.days == (106, 3, 0, None)
    assert found.to_plan.median == 3
    assert {k: v for k, v in found.to_plan.counts().items() if v} == {
        "The same day": 1,
        "1 to 7 days": 1,
        "More than 91 days": 1,
        figures.NOT_YET: 1,
    }
    assert found.to_budget.days == (None, 10, None, None)
    assert found.to_budget.median == 10


def test_the_front_door_figures_are_not_recorded_yet_and_computed_from_contacts_given(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 20 registers the referrals as a source; without any source, not recorded yet.
    with monkeypatch.context() as patched:
        patched.setattr(figures, "FRONT_DOOR_SOURCES", [])
        assert [f.value for f in figures.front_door_figures(session, JUNE)] == [None] * 3

    start = _at("2026-06-03", 9)
    contacts = [
        FrontDoorContact(start, resolved_at_first_contact=True),
        FrontDoorContact(start, False, decided_at=start + timedelta(days=5)),
        FrontDoorContact(
            start,
            False,
            decided_at=start + timedelta(days=2),
            left_hospital_at=start,
            care_started_at=start + timedelta(hours=20),
        ),
        FrontDoorContact(
            start, False, left_hospital_at=start, care_started_at=start + timedelta(hours=30)
        ),
    ]
    first, decision, hospital = figures.front_door_figures(session, JUNE, contacts)

    assert first.value == "1 of 4 (25%)"
    assert decision.value == "2 days (the middle value)"
    assert hospital.value == "1 of 2 (50%)"
    assert hospital.rows == [("Within 24 hours", 1), ("Later, or not yet", 1)]


def test_the_reablement_share_follows_the_reablement_reports_rule(
    session: Session,
    reablement_world: ReablementWorld,
    make_organisation: Callable[..., Organisation],
    make_listing: Callable[..., Service],
    make_budget: Callable[..., PersonalBudget],
) -> None:
    world = reablement_world
    make_budget(council=2_000_00)
    other = make_organisation("Herts Reablement Ltd")
    other.invoice_cycle = InvoiceCycle.WEEKLY
    other_service = make_listing(other, price_pence=HOURLY_PENCE)
    others = [Person(full_name=f"Person {n}") for n in range(3)]
    session.add_all(others)
    session.commit()
    endings = [
        (world.person, world.service, ReablementOutcome.ONGOING_CARE, date(2026, 6, 20)),
        (others[0], world.service, ReablementOutcome.NO_ONGOING_NEED, date(2026, 6, 24)),
        (others[1], other_service, ReablementOutcome.NO_ONGOING_NEED, date(2026, 7, 2)),
        (others[2], other_service, None, None),  # still running
    ]
    for person, service, outcome, ended in endings:
        episode = reablement.start_episode(
            session,
            person=person,
            service=service,
            pot=world.pot,
            starts_on=FIRST_DAY,
            weeks=6,
            units_per_occasion=1,
            days=["MO"],
            by=world.officer,
            today=FIRST_DAY,
        )
        if outcome is not None:
            assert ended is not None
            reablement.end_episode(
                session, episode, outcome=outcome, by=world.officer, note="", today=ended
            )
        session.commit()

    june = figures.reablement_figure(session, JUNE)
    summer = figures.reablement_figure(session, Period(date(2026, 6, 1), date(2026, 7, 31)))

    # Still waiting for an outcome today: the one ended in July has its outcome.
    assert (june.share.shown, june.still_running) == ("1 of 2 (50%)", 1)
    assert summer.share.shown == "2 of 3 (67%)"
    assert summer.by_month == [(date(2026, 6, 1), 2, 1), (date(2026, 7, 1), 1, 1)]
    assert summer.target_percent == 50


@time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False)
def test_the_page_shows_each_figure_with_its_definition_table_and_csv(
    client: FlaskClient, officer: User, people: None
) -> None:
    sign_in(client, officer)

    page = client.get("/council/figures?since=2026-06-01&until=2026-06-30")
    text = html.unescape(page.get_data(as_text=True))

    assert page.status_code == 200, text
    assert "2 of 3 (67%)" in text
    # The front door's figures are counted since issue 20 (no referral in June).
    assert "Not recorded yet" not in text
    assert "<strong>None in this period</strong>" in text
    assert (
        "<strong>4</strong> records made: the middle wait for a plan was 3 days, and for a "
        "budget 10 days" in text
    )
    assert "<svg" in text
    budgets_csv = client.get("/council/figures.csv?table=budgets&since=2026-06-01&until=2026-06-30")
    assert budgets_csv.status_code == 200
    assert budgets_csv.get_data(as_text=True).splitlines()[1:3] == [
        "The same day,0",
        "1 to 7 days,1",
    ]
    record_csv = client.get("/council/figures.csv?table=record&since=2026-06-01&until=2026-06-30")
    assert record_csv.get_data(as_text=True).splitlines()[1] == "The same day,1,0"


@time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False)
@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("since=31&since=6&since=2026&until=2026-07-01", "Start date must be a real date"),
        (
            "since=2026-07-01&until=2026-06-01",
            "The end date must be the same as or after the start",
        ),
        ("since=2026-06-01&until=2027-01-01", "The end date must be today or earlier"),
    ],
)
def test_bad_dates_are_the_error_summary(
    client: FlaskClient, officer: User, query: str, message: str
) -> None:
    sign_in(client, officer)
    response = client.get(f"/council/figures?{query}")
    text = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 400
    assert "govuk-error-summary" in text
    assert message in text


@time_machine.travel(datetime(2026, 11, 16, 12, tzinfo=UTC), tick=False)
def test_the_page_issues_as_many_statements_for_more_people(
    app: Flask, client: FlaskClient, session: Session, officer: User, people: None
) -> None:
    """One statement per kind of thing, never one per person, plan or budget."""
    sign_in(client, officer)
    url = "/council/figures?since=2026-06-01&until=2026-06-30"
    client.get(url)  # the first request's own loading is not the page's
    with counting(app) as before:
        assert client.get(url).status_code == 200
    for number in range(4):
        _someone(
            session,
            officer,
            f"More {number}",
            _at("2026-06-03"),
            _at("2026-06-04"),
            _at("2026-06-08"),
        )
    with counting(app) as after:
        assert client.get(url).status_code == 200
    assert len(after) == len(before), after
