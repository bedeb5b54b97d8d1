"""The front door's figures (issue 20, item 6): computed from rows made by hand for June 2026
(British Summer Time: 23:30 UTC on 31 May is 1 June in London, 23:30 UTC on 30 June is
1 July), they equal the values counted by hand, at the edges of the period and of the
abandoned days; an empty period gives none; and the statements read do not grow with rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.budgets.models import PersonalBudget
from marketplace.console import figures as console
from marketplace.console.figures import Period, Share
from marketplace.console.models import QueueDecision
from marketplace.people.models import Person, PlanStatus, SupportPlan
from marketplace.referrals import figure_charts, service_figures
from marketplace.referrals import figures as front_door
from marketplace.referrals.models import (
    AssessmentStatus,
    Assessor,
    DiarySlot,
    RasVersion,
    Referral,
    ReferralStatus,
    Visit,
    VisitKind,
    VisitStatus,
)
from tests.referrals.factories import (
    COMPLETE_ANSWERS,
    make_assessment,
    make_assessor,
    make_ras_version,
    make_referral,
)
from tests.test_statements_per_page import counting

JUNE = Period(date(2026, 6, 1), date(2026, 6, 30))
EMPTY = Period(date(2025, 1, 1), date(2025, 1, 31))
NOW = datetime(2026, 7, 15, 12, tzinfo=UTC)
# The first questions answered, then stopped before the first of the needs.
FIRST_FOUR = {k: COMPLETE_ANSWERS[k] for k in ("who", "full_name", "postcode", "contact")}


def at(day: str, hour: int = 10, minute: int = 0) -> datetime:
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


@pytest.fixture
def officer(make_user: Callable[..., User]) -> User:
    return make_user(Role.COUNCIL_OFFICER)


@pytest.fixture
def version(session: Session) -> RasVersion:
    return make_ras_version(session)


@pytest.fixture
def assessor(session: Session, officer: User) -> Assessor:
    return make_assessor(session, officer)


# Rows ----------------------------------------------------------------------------------------


def started(
    session: Session,
    version: RasVersion,
    when: datetime,
    answers: dict[str, Any],
    *,
    touched: datetime | None = None,
    sent: bool = False,
) -> None:
    assessment = make_assessment(session, version, answers, started_at=when)
    assessment.updated_at = touched or when
    if sent:
        assessment.status = AssessmentStatus.SUBMITTED
        assessment.submitted_at = touched or when
    session.flush()


def referral(
    session: Session,
    version: RasVersion,
    received: datetime,
    *,
    contact: datetime | None = None,
    decided: datetime | None = None,
    resolved: bool = False,
    **columns: Any,
) -> Referral:
    made = make_referral(session, version, sent_at=received, **columns)
    made.first_contact_at = contact
    made.decided_at = decided
    if resolved:
        made.status = ReferralStatus.RESOLVED
        made.resolution = "advice"
    session.flush()
    return made


def visit(
    session: Session,
    assessor: Assessor,
    when: datetime,
    status: VisitStatus,
    *,
    referral_id: Any = None,
    plan: SupportPlan | None = None,
) -> Visit:
    slot = DiarySlot(assessor=assessor, starts_at=when, ends_at=when + timedelta(hours=1))
    made = Visit(
        slot=slot,
        kind=VisitKind.REVIEW if plan is not None else VisitKind.ASSESSMENT,
        status=status,
        referral_id=referral_id,
        support_plan_id=plan.id if plan is not None else None,
        booked_at=when - timedelta(days=7),
    )
    session.add_all([slot, made])
    session.flush()
    return made


def plan_due(session: Session, officer: User, due: date) -> SupportPlan:
    person = Person(full_name=f"Reviewed {due}")
    session.add(person)
    session.flush()
    plan = SupportPlan(
        person_id=person.id,
        status=PlanStatus.APPROVED,
        outcomes="To stay at home.",
        drafted_by_id=officer.id,
        approved_by_id=officer.id,
        approved_at=at("2025-06-01"),
        review_due_on=due,
    )
    session.add(plan)
    session.flush()
    return plan


def queue_decision(
    session: Session, officer: User, plan: SupportPlan, due: date, decision: str, on: datetime
) -> None:
    session.add(
        QueueDecision(
            queue="reviews_due",
            subject_id=plan.id,
            subject_label="A plan",
            decision=decision,
            waiting_since=datetime.combine(due, datetime.min.time(), tzinfo=UTC),
            decided_by_id=officer.id,
            decided_at=on,
        )
    )
    session.flush()


def converted(
    session: Session,
    version: RasVersion,
    budget: PersonalBudget,
    decided: datetime,
    low: int = 200_00,
    high: int = 260_00,
) -> None:
    # Received in April: counted only by the budgets' figure.
    made = referral(
        session, version, at("2026-04-20"), decided=decided,
        low_weekly_pence=low, high_weekly_pence=high,
    )  # fmt: skip
    made.status = ReferralStatus.CONVERTED
    made.budget_id = budget.id
    session.flush()


# The world both test files count -------------------------------------------------------------


@dataclass
class World:
    version: RasVersion
    officer: User


@pytest.fixture
def front_door_world(
    session: Session,
    version: RasVersion,
    officer: User,
    assessor: Assessor,
    make_budget: Callable[..., PersonalBudget],
) -> World:
    """June 2026's front door, counted by hand in the tests below."""
    # Self-assessments. With 28 days on 15 July, untouched since before 18 June is abandoned.
    started(session, version, at("2026-06-02"), COMPLETE_ANSWERS, sent=True)
    started(session, version, at("2026-05-31", 23, 30), {}, touched=at("2026-06-01"))
    started(session, version, at("2026-06-10"), FIRST_FOUR, touched=at("2026-06-17", 22, 59))
    started(session, version, at("2026-06-10"), FIRST_FOUR, touched=at("2026-06-17", 23, 0))
    started(session, version, at("2026-06-12"), COMPLETE_ANSWERS)
    started(session, version, at("2026-06-05"), FIRST_FOUR)
    started(session, version, at("2026-06-30", 23, 30), {})  # 1 July in London

    # Referrals: (received, first contact, decision).
    referral(session, version, at("2026-05-31", 23, 30), contact=at("2026-06-09"),
             decided=at("2026-06-09", 15))  # fmt: skip
    resolved = referral(session, version, at("2026-06-01", 9), contact=at("2026-06-01", 15),
                        decided=at("2026-06-03"), resolved=True)  # fmt: skip
    referral(session, version, at("2026-06-05"), contact=at("2026-06-04", 16),
             decided=at("2026-06-20"))  # fmt: skip
    from_hospital = referral(session, version, at("2026-06-10", 22, 30),
                             contact=at("2026-06-10", 23, 30))  # fmt: skip
    from_hospital.left_hospital_at = at("2026-06-11", 8)
    from_hospital.care_started_at = at("2026-06-12", 7)
    referral(session, version, at("2026-06-20"))
    referral(session, version, at("2026-06-30", 23, 30), contact=at("2026-07-01"))

    # Visits booked for June (by the slot's London day), of both kinds.
    plan = plan_due(session, officer, date(2027, 1, 1))
    for when, status, for_plan in [
        (at("2026-05-31", 23), VisitStatus.WASTED, False),  # 00:00 on 1 June in London
        (at("2026-06-02"), VisitStatus.DONE, False),
        (at("2026-06-03"), VisitStatus.MOVED, False),
        (at("2026-06-05"), VisitStatus.BOOKED, False),
        (at("2026-06-06"), VisitStatus.CANCELLED, False),
        (at("2026-06-07"), VisitStatus.WASTED, False),
        (at("2026-06-08"), VisitStatus.DONE, True),
        (at("2026-06-09"), VisitStatus.MOVED, True),
        (at("2026-06-10"), VisitStatus.LAPSED, False),  # an offer never taken
        (at("2026-06-11"), VisitStatus.OFFERED, False),  # an offer not yet taken
        (at("2026-06-30", 23), VisitStatus.BOOKED, False),  # 1 July in London
    ]:
        visit(session, assessor, when, status, referral_id=None if for_plan else resolved.id,
              plan=plan if for_plan else None)  # fmt: skip

    # Budgets agreed (weekly, against 200.00 to 260.00 indicated): 230.00 for 13 weeks;
    # 300.00 for 52 weeks with a 50.00 top-up (not counted); 150.00 + 30.00 contribution for
    # the year of 365 days (made as the conversion makes it: weekly times days over 7, down);
    # 270.00 and 275.00 for 13 weeks.
    def weeks(weekly: int, days: int) -> int:
        return weekly * days // 7

    budgets = [
        (make_budget(council=230_00 * 13, starts_on=date(2026, 4, 6), ends_on=date(2026, 7, 5)),
         at("2026-05-31", 23, 30)),
        (make_budget(council=300_00 * 52, own_funds=50_00 * 52, starts_on=date(2026, 4, 6),
                     ends_on=date(2027, 4, 4)), at("2026-06-10")),
        (make_budget(council=weeks(150_00, 365), client_contribution=weeks(30_00, 365)),
         at("2026-06-15")),
        (make_budget(council=270_00 * 13, starts_on=date(2026, 4, 6), ends_on=date(2026, 7, 5)),
         at("2026-06-20")),
        (make_budget(council=275_00 * 13, starts_on=date(2026, 4, 6), ends_on=date(2026, 7, 5)),
         at("2026-06-21")),
        # Decided on 1 July in London: not June's.
        (make_budget(council=900_00 * 13, starts_on=date(2026, 4, 6), ends_on=date(2026, 7, 5)),
         at("2026-06-30", 23, 30)),
    ]  # fmt: skip
    for budget, decided in budgets:
        converted(session, version, budget, decided)

    # Support plan reviews due in June.
    on_time = plan_due(session, officer, date(2026, 6, 10))
    visit(session, assessor, at("2026-06-10", 9), VisitStatus.DONE, plan=on_time)
    late = plan_due(session, officer, date(2026, 6, 15))
    visit(session, assessor, at("2026-06-16", 9), VisitStatus.DONE, plan=late)
    plan_due(session, officer, date(2026, 6, 20))  # not yet
    old_review = plan_due(session, officer, date(2026, 6, 30))  # not yet: its review is old
    visit(session, assessor, at("2026-03-01", 9), VisitStatus.DONE, plan=old_review)
    visit(session, assessor, at("2026-06-29", 9), VisitStatus.MOVED, plan=old_review)
    from_queue = plan_due(session, officer, date(2027, 6, 12))  # late, reviewed from the queue
    queue_decision(session, officer, from_queue, date(2026, 6, 5), "reviewed", at("2026-06-09"))
    booked = plan_due(session, officer, date(2026, 6, 25))  # due 1 June, booked for 25 June
    queue_decision(session, officer, booked, date(2026, 6, 1), "review_booked", at("2026-06-02"))
    visit(session, assessor, at("2026-06-25", 9), VisitStatus.DONE, plan=booked)
    early = plan_due(session, officer, date(2026, 6, 12))  # on time: done 72 days before
    visit(session, assessor, at("2026-04-01", 9), VisitStatus.DONE, plan=early)
    plan_due(session, officer, date(2026, 7, 1))  # not June's
    plan_due(session, officer, date(2026, 5, 31))  # not June's
    session.commit()
    return World(version, officer)


# The figures ---------------------------------------------------------------------------------


def test_self_assessments_started_sent_and_abandoned_at_which_question(
    session: Session, front_door_world: World
) -> None:
    found = front_door.assessments_figure(session, JUNE, now=NOW, abandoned_days=28)

    # Six started by hand, one of them sent; and the five referrals' assessments started in
    # June (each 20 minutes before it was sent), all sent.
    assert (found.started, found.sent, found.abandoned, found.in_progress) == (11, 6, 4, 1)
    assert found.abandoned_at == [
        ("Who is filling this in", 1),
        ("Managing and maintaining nutrition", 2),
        ("Check your answers", 1),
    ]


def test_an_assessment_is_abandoned_from_the_day_the_days_are_up(
    session: Session, front_door_world: World
) -> None:
    # Last changed at 23:59 on 17 June (London): 28 days before 15 July, 27 before 14 July.
    on_the_day = front_door.assessments_figure(session, JUNE, now=NOW, abandoned_days=28)
    day_before = front_door.assessments_figure(
        session, JUNE, now=NOW - timedelta(days=1), abandoned_days=28
    )
    # The other one was changed at 00:00 on 18 June: abandoned with 27 days.
    fewer_days = front_door.assessments_figure(session, JUNE, now=NOW, abandoned_days=27)

    assert on_the_day.abandoned == 4
    assert day_before.abandoned == 3
    assert dict(day_before.abandoned_at)["Managing and maintaining nutrition"] == 1
    assert fewer_days.abandoned == 5
    assert fewer_days.in_progress == 0


def test_days_from_a_referral_to_first_contact_and_decision_against_the_bar(
    session: Session, front_door_world: World
) -> None:
    found = front_door.referral_waits_figure(session, JUNE)

    # In received order: 1 June (00:30 London), 1 June, 5 June, 10 June, 20 June.
    assert found.received == 5
    assert found.resolved_at_first_contact == Share(1, 5)
    assert found.to_contact.days == (8, 0, 0, 1, None)
    assert found.to_decision.days == (8, 2, 15, None, None)
    assert (found.to_contact.median, found.to_decision.median) == (0, 8)
    assert found.contact_within_bar.shown == "3 of 5 (60%)"
    assert found.decision_within_bar.shown == "1 of 5 (20%)"
    assert front_door.wait_counts(found.to_decision) == {
        "The same day": 0,
        "1 or 2 days": 1,
        "3 to 7 days": 0,
        "8 to 28 days": 2,
        "More than 28 days": 0,
        "Not yet": 2,
    }


def test_referrals_are_the_console_figures_first_contacts(
    session: Session, front_door_world: World
) -> None:
    contacts = front_door.referral_contacts(session, JUNE)
    first, decision, hospital = console.front_door_figures(session, JUNE)

    assert front_door.referral_contacts in console.FRONT_DOOR_SOURCES
    # Contacted by phone the day before the referral was sent: first contact then.
    assert contacts[2].first_contact_at == at("2026-06-04", 16)
    assert first.value == "1 of 5 (20%)"
    # Not resolved: 8 days (1 to 9 June) and 16 (4 to 20 June), two not decided.
    assert decision.value == "8 days (the middle value)"
    assert hospital.value == "1 of 1 (100%)"


def test_visits_moved_cancelled_and_wasted(session: Session, front_door_world: World) -> None:
    found = service_figures.visits_figure(session, JUNE)

    # The reviews' visits in June count too: three done (10, 16 and 25 June), one moved.
    assert found.by_outcome == [
        ("Done", 1, 4),
        ("Still to come", 1, 0),
        ("Moved", 1, 2),
        ("Cancelled", 1, 0),
        ("Wasted", 2, 0),
    ]
    assert found.booked == 12
    assert found.share("Moved").shown == "3 of 12 (25%)"
    assert found.share("Cancelled").shown == "1 of 12 (8%)"
    assert found.share("Wasted").shown == "2 of 12 (17%)"


def test_indicated_against_agreed_weekly_budgets(session: Session, front_door_world: World) -> None:
    found = service_figures.indicated_figure(session, JUNE)

    # In decision order: 230.00, 300.00, 180.00, 270.00, 275.00 a week.
    assert [agreed for _, _, agreed in found.budgets] == [230_00, 300_00, 180_00, 270_00, 275_00]
    assert found.counts == {"Within the range": 1, "Below the range": 1, "Above the range": 3}
    # Differences: 0, +40.00, -20.00, +10.00, +15.00: the middle one +10.00.
    assert found.median_difference_pence == 10_00
    journey = front_door.front_door_journey(session, JUNE, now=NOW, abandoned_days=28)
    assert figure_charts.median_difference_text(journey) == (
        "the middle budget was £10 a week above the top of the range"
    )


@pytest.mark.parametrize(
    ("total", "starts_on", "ends_on", "weekly"),
    [
        (230_00 * 13, date(2026, 4, 6), date(2026, 7, 5), 230_00),
        (18_000 * 365 // 7, date(2026, 4, 1), date(2027, 3, 31), 18_000),
        (1, date(2026, 4, 1), date(2026, 4, 1), 7),
        (10, date(2026, 4, 1), date(2026, 4, 3), 24),  # 23.33 rounded up
    ],
)
def test_a_budgets_weekly_equivalent_is_whole_pence(
    total: int, starts_on: date, ends_on: date, weekly: int
) -> None:
    assert service_figures.weekly_equivalent_pence(total, starts_on, ends_on) == weekly


def test_reviews_done_on_time_late_or_not_yet(session: Session, front_door_world: World) -> None:
    found = service_figures.reviews_figure(session, JUNE)

    assert (found.on_time, found.late, found.not_yet) == (2, 3, 2)
    assert found.share_on_time.shown == "2 of 7 (29%)"


def test_an_empty_period_has_none(session: Session, front_door_world: World) -> None:
    found = front_door.front_door_journey(session, EMPTY, now=NOW, abandoned_days=28)

    assert (found.assessments.started, found.assessments.abandoned_at) == (0, [])
    assert found.referrals.received == 0
    assert found.referrals.contact_within_bar.shown == "None in this period"
    assert found.visits.booked == 0
    assert found.indicated.budgets == []
    assert found.indicated.median_difference_pence is None
    assert found.reviews.due == 0
    assert all(not chart.bars for chart in figure_charts.charts_of(found).values())
    assert [f.value for f in console.front_door_figures(session, EMPTY)] == [
        "None in this period"
    ] * 3


def test_the_figures_read_as_many_statements_for_more_rows(
    app: Flask, session: Session, front_door_world: World, assessor: Assessor
) -> None:
    """A fixed number of statements whatever the number of referrals, visits and plans."""

    def count() -> int:
        with counting(app) as statements:
            front_door.front_door_journey(session, JUNE, now=NOW, abandoned_days=28)
            front_door.referral_contacts(session, JUNE)
        return len(statements)

    before = count()
    version = front_door_world.version
    for number in range(3):
        started(session, version, at("2026-06-03"), FIRST_FOUR)
        made = referral(session, version, at("2026-06-04"), contact=at("2026-06-05"))
        visit(session, assessor, at("2026-06-12", 9 + number), VisitStatus.DONE,
              referral_id=made.id)  # fmt: skip
        plan = plan_due(session, front_door_world.officer, date(2026, 6, 3 + number))
        visit(session, assessor, at("2026-06-03", 13 + number), VisitStatus.DONE, plan=plan)
    session.commit()

    assert count() == before
    assert service_figures.reviews_figure(session, JUNE).on_time == 5


def test_a_review_done_early_at_a_visit_counts_on_time_for_the_date_it_served(
    session: Session, officer: User, assessor: Assessor
) -> None:
    """The visit moves the plan's review date a year on, out of the period: the figure still
    counts the review against the day it was due, from the visit."""
    from marketplace.referrals import plan_reviews

    plan = plan_due(session, officer, date(2026, 6, 20))
    done = visit(session, assessor, at("2026-06-15"), VisitStatus.BOOKED, plan=plan)
    done.status = VisitStatus.DONE
    plan_reviews.record_review_visit(
        session, done, by=officer, note="", now=at("2026-06-15", 12), review_months=12
    )
    assert plan.review_due_on is not None
    assert plan.review_due_on > JUNE.until
    assert done.review_due_on == date(2026, 6, 20)

    found = service_figures.reviews_figure(session, JUNE)

    assert (found.on_time, found.late, found.not_yet) == (1, 0, 0)
