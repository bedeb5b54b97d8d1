"""Support plan reviews, scheduled (issue 20 item 5, VISITS).

Every approved plan gets a review date: PLAN_REVIEW_MONTHS after approval by default, sooner
when the council's rules say so (the soonest rule that applies wins):
- a person's first plan: FIRST_PLAN_REVIEW_WEEKS (the Care Act statutory guidance's
  light-touch review six to eight weeks after a plan is signed off);
- the first plan after a referral from someone leaving hospital: HOSPITAL_REVIEW_WEEKS;
- someone at the end of life (a terminal illness in their self-assessment): every plan, and
  every review after, END_OF_LIFE_REVIEW_WEEKS.

Review visits are booked the same way as assessment visits (`visits.book`, kind REVIEW) ahead
of the due date (`book_reviews`, REVIEW_BOOKING_DAYS_AHEAD, run daily by `flask referrals
book-reviews`); a review visit done records the review (`record_review_visit`), so the plan
leaves the council's "Support plan reviews overdue" queue, as `review_dates.record_review`
does for an officer's decision.

Rules only: they take a session, flush, and never commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import exists, select

from marketplace.accounts.models import User
from marketplace.console.queue_log import record_decision
from marketplace.console.review_dates import QUEUE, REVIEWED
from marketplace.mail import queue_email
from marketplace.notifications.service import recipients_for_person
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.referrals.models import LIVE_VISIT_STATUSES, Visit, VisitKind
from marketplace.referrals.review_rules import (  # noqa: F401 (plan_reviews' interface)
    ReviewRules,
    at_end_of_life,
    next_review_after,
    review_due_on,
    review_rules_applying,
    rules_in_force,
    why_due,
)
from marketplace.referrals.visit_base import VisitChanged, lock
from marketplace.types import Session


def record_review_visit(
    session: Session,
    visit: Visit,
    *,
    by: User,
    note: str,
    now: datetime,
    review_months: int | None = None,
) -> date:
    """A review visit was done: the plan's next review date is set (`next_review_after`), so
    it leaves the overdue queue; if it was overdue the queue's log records it as reviewed, as
    an officer's decision there would; the person is emailed. Returns the new review date."""
    plan = visit.support_plan
    assert plan is not None, "a review visit is for a plan"
    lock(session, plan)
    today = now.date()
    rules = rules_in_force(review_months)
    was_due = plan.review_due_on
    new_due = next_review_after(session, plan, reviewed_on=today, rules=rules)
    plan.review_due_on = new_due
    # The date this review was due is about to be nowhere else: the figures read it here.
    visit.review_due_on = was_due
    told = 0
    for user in recipients_for_person(session, plan.person_id):
        if user.active:
            queue_email(
                user.email,
                "Your support plan has been reviewed",
                "The council has reviewed your support plan with you. Your next review is due "
                f"by {new_due:%d %B %Y}.",
            )
            told += 1
    if was_due is not None and was_due < today:
        record_decision(
            session,
            queue=QUEUE,
            subject_id=plan.id,
            subject_label=plan.person.full_name,
            decision=REVIEWED,
            reason=note or "Reviewed at a review visit",
            waiting_since=datetime.combine(was_due, time(0), tzinfo=UTC),
            decided_by_id=by.id,
            told=f"person (email, {told})" if told else "",
        )
    session.flush()
    return new_due


def plans_to_book(session: Session, *, today: date, rules: ReviewRules) -> list[SupportPlan]:
    """Approved plans due a review within `rules.book_days_ahead` days (or overdue) with no
    review visit offered or booked, soonest due first."""
    return list(
        session.scalars(
            select(SupportPlan)
            .where(
                SupportPlan.status == PlanStatus.APPROVED,
                SupportPlan.review_due_on.is_not(None),
                SupportPlan.review_due_on <= today + timedelta(days=rules.book_days_ahead),
                ~exists().where(
                    Visit.support_plan_id == SupportPlan.id,
                    Visit.kind == VisitKind.REVIEW,
                    Visit.status.in_(LIVE_VISIT_STATUSES),
                ),
            )
            .order_by(SupportPlan.review_due_on, SupportPlan.id)
        )
    )


def book_reviews(
    session: Session, *, now: datetime, rules: ReviewRules | None = None
) -> tuple[list[Visit], list[SupportPlan]]:
    """Book a review visit for each plan due soon (`plans_to_book`) at the earliest free slot
    that fits the person's area. Safe to run twice or on two machines at once: each plan is
    locked and checked again, so it gets one review visit. Returns (visits booked, plans for
    which no slot fitted)."""
    from marketplace.referrals import visits

    rules = rules or rules_in_force()
    booked: list[Visit] = []
    unbooked: list[SupportPlan] = []
    for plan in plans_to_book(session, today=now.date(), rules=rules):
        try:
            visit = visits.book_automatically(session, plan, now=now)
        except VisitChanged:
            continue  # another run booked it, or the plan was superseded meanwhile
        if visit is None:
            unbooked.append(plan)
        else:
            booked.append(visit)
    return booked, unbooked
