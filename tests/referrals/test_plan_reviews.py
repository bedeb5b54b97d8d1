"""Support plan reviews, scheduled (VISITS, issue 20 item 5): the review date rules (a year by
default; a first plan, a plan after leaving hospital and a plan at the end of life sooner),
applied when a plan is approved; review visits booked ahead of the due date, once however
often the job runs; and a review visit done takes the plan out of the overdue queue."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from marketplace.console.models import QueueDecision
from marketplace.console.review_dates import is_overdue
from marketplace.extensions import db
from marketplace.people import plans
from marketplace.people.models import Person, SupportPlan
from marketplace.referrals import plan_reviews, visits
from marketplace.referrals.models import ReferralStatus, Visit, VisitKind, VisitStatus
from tests.referrals.factories import NOW, make_slots
from tests.referrals.visit_world import TOMORROW, World, make_world
from tests.referrals.visit_world import waiting_referral as waiting

TODAY = NOW.date()
RULES = plan_reviews.ReviewRules(
    review_months=12, first_plan_weeks=8, hospital_weeks=6, end_of_life_weeks=4, book_days_ahead=28
)


@pytest.fixture
def world(app: Flask) -> World:
    return make_world()


def _person(name: str = "Pat Planned") -> Person:
    person = Person(full_name=name, postcode="SG1 2BB")
    db.session.add(person)
    db.session.flush()
    return person


def _approved(world: World, person: Person, *, on: date = TODAY) -> SupportPlan:
    from datetime import UTC, datetime, time

    draft = SupportPlan(
        person_id=person.id, outcomes="Stay at home", drafted_by_id=world.officer.id
    )
    db.session.add(draft)
    db.session.flush()
    return plans.approve_plan(
        db.session,
        draft,
        by=world.officer,
        now=datetime.combine(on, time(10), tzinfo=UTC),
        review_months=12,
    )


def _referral_for(world: World, person: Person, **changes: object) -> None:
    referral = waiting(world, **changes)
    referral.person_id = person.id
    referral.status = ReferralStatus.CONVERTED
    db.session.flush()


# The rules -----------------------------------------------------------------------------------


def test_a_first_plan_is_reviewed_after_eight_weeks_and_the_next_after_a_year(
    world: World,
) -> None:
    person = _person()
    first = _approved(world, person, on=TODAY)
    assert first.review_due_on == TODAY + timedelta(weeks=8)
    second = _approved(world, person, on=TODAY + timedelta(days=30))
    assert second.review_due_on == date(2027, 12, 31)
    assert plan_reviews.why_due(db.session, second, RULES) == "the yearly review"


def test_someone_leaving_hospital_is_reviewed_after_six_weeks(world: World) -> None:
    person = _person()
    _approved(world, person, on=TODAY - timedelta(days=400))
    _referral_for(world, person, urgency="leaving_hospital")
    plan = _approved(world, person, on=TODAY)
    assert plan.review_due_on == TODAY + timedelta(weeks=6)
    assert plan_reviews.why_due(db.session, plan, RULES) == "an early review after leaving hospital"
    # The plan after that one is not the first since the hospital referral: a year.
    after = _approved(world, person, on=TODAY + timedelta(days=50))
    assert after.review_due_on == date(2028, 1, 20)


def test_someone_at_the_end_of_life_is_reviewed_every_four_weeks(world: World) -> None:
    person = _person()
    _referral_for(world, person, conditions=["end_of_life"])
    plan = _approved(world, person, on=TODAY)
    assert plan.review_due_on == TODAY + timedelta(weeks=4)
    assert plan_reviews.next_review_after(
        db.session, plan, reviewed_on=TODAY + timedelta(weeks=4), rules=RULES
    ) == TODAY + timedelta(weeks=8)


def test_the_councils_settings_decide_the_rules(app: Flask, world: World) -> None:
    app.config["FIRST_PLAN_REVIEW_WEEKS"] = 6
    assert _approved(world, _person()).review_due_on == TODAY + timedelta(weeks=6)
    app.config["FIRST_PLAN_REVIEW_WEEKS"] = 100  # later than a year: the yearly review wins
    assert _approved(world, _person("Second Person")).review_due_on == date(2027, 12, 1)


# Booking review visits -----------------------------------------------------------------------


def test_review_visits_are_booked_ahead_once_however_often_the_job_runs(world: World) -> None:
    due_soon = _approved(world, _person(), on=TODAY - timedelta(weeks=6))  # due in 2 weeks
    _approved(world, _person("Due Later"), on=TODAY)  # due in 8 weeks: not yet
    far_away = _approved(world, _person("Far Away"), on=TODAY - timedelta(weeks=7))
    far_away.person.postcode = "AL10 9AB"  # only Sam's diary has slots, and Sam covers SG1
    slots = make_slots(db.session, world.dementia, TOMORROW, count=3)
    db.session.commit()

    booked, unbooked = plan_reviews.book_reviews(db.session, now=NOW, rules=RULES)
    db.session.commit()
    assert [(v.support_plan_id, v.kind, v.slot_id) for v in booked] == [
        (due_soon.id, VisitKind.REVIEW, slots[0].id)
    ]
    assert unbooked == [far_away]
    again, _ = plan_reviews.book_reviews(db.session, now=NOW, rules=RULES)
    assert again == []


def test_a_review_visit_done_takes_the_plan_out_of_the_overdue_queue(world: World) -> None:
    plan = _approved(world, _person(), on=TODAY - timedelta(weeks=9))
    assert is_overdue(plan, TODAY)
    slot = make_slots(db.session, world.anywhere, TOMORROW, count=1)[0]
    visit = visits.book(db.session, plan, slot, by=world.officer, now=NOW)
    after = TOMORROW + timedelta(hours=3)
    visits.record_outcome(
        db.session, visit, outcome="done", by=world.officer, note="All well", now=after
    )
    db.session.commit()
    assert visit.status is VisitStatus.DONE
    assert plan.review_due_on == date(2027, 12, 2)
    assert not is_overdue(plan, after.date())
    (logged,) = db.session.scalars(select(QueueDecision)).all()
    assert (logged.queue, logged.decision, logged.subject_id) == (
        "reviews_due",
        "reviewed",
        plan.id,
    )


def test_the_demo_seed_books_visits_moves_one_and_runs_twice_safely(app: Flask) -> None:
    from marketplace.demo.front_door_ras import seed_ras
    from marketplace.demo.front_door_referrals import seed_referrals
    from marketplace.demo.front_door_visits import seed_visits
    from tests.referrals.visit_world import officer

    officer()
    seed_ras(db.session)
    seed_referrals(db.session)
    first = seed_visits(db.session)
    db.session.commit()
    made = {tally.kind: tally for tally in first.tallies}
    assert len(made["assessors"].created) == 3
    assert made["diary slots"].created
    statuses = {v.status for v in db.session.scalars(select(Visit))}
    assert {VisitStatus.BOOKED, VisitStatus.MOVED, VisitStatus.DONE, VisitStatus.WASTED} <= statuses
    count = len(db.session.scalars(select(Visit)).all())
    again = {tally.kind: tally for tally in seed_visits(db.session).tallies}
    db.session.commit()
    assert again["assessors"].existing == 3
    assert again["diary slots"].created == []
    assert len(db.session.scalars(select(Visit)).all()) == count
