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

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app, has_app_context
from sqlalchemy import exists, select

from marketplace.accounts.models import User
from marketplace.console.queue_log import record_decision
from marketplace.console.review_dates import QUEUE, REVIEWED
from marketplace.mail import queue_email
from marketplace.notifications.service import recipients_for_person
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.people.plans import review_due_after
from marketplace.referrals.models import (
    LIVE_VISIT_STATUSES,
    Referral,
    Urgency,
    Visit,
    VisitKind,
)
from marketplace.referrals.visit_base import VisitChanged, lock
from marketplace.types import Session


@dataclass(frozen=True)
class ReviewRules:
    """The council's review rules (marketplace/config.py; docs/configuration.md)."""

    review_months: int = 12
    first_plan_weeks: int = 8
    hospital_weeks: int = 6
    end_of_life_weeks: int = 4
    book_days_ahead: int = 28

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> ReviewRules:
        defaults = cls()
        return cls(
            review_months=config.get("PLAN_REVIEW_MONTHS", defaults.review_months),
            first_plan_weeks=config.get("FIRST_PLAN_REVIEW_WEEKS", defaults.first_plan_weeks),
            hospital_weeks=config.get("HOSPITAL_REVIEW_WEEKS", defaults.hospital_weeks),
            end_of_life_weeks=config.get("END_OF_LIFE_REVIEW_WEEKS", defaults.end_of_life_weeks),
            book_days_ahead=config.get("REVIEW_BOOKING_DAYS_AHEAD", defaults.book_days_ahead),
        )


def rules_in_force(review_months: int | None = None) -> ReviewRules:
    """The app's rules (its defaults outside an app), with `review_months` if given (the
    caller's PLAN_REVIEW_MONTHS, as `plans.approve_plan` is passed it)."""
    rules = ReviewRules.from_config(current_app.config) if has_app_context() else ReviewRules()
    if review_months is None:
        return rules
    return ReviewRules(
        review_months=review_months,
        first_plan_weeks=rules.first_plan_weeks,
        hospital_weeks=rules.hospital_weeks,
        end_of_life_weeks=rules.end_of_life_weeks,
        book_days_ahead=rules.book_days_ahead,
    )


def _referrals_of(session: Session, plan: SupportPlan) -> list[Referral]:
    return list(
        session.scalars(
            select(Referral).where(
                (Referral.person_id == plan.person_id) | (Referral.support_plan_id == plan.id)
            )
        )
    )


def at_end_of_life(session: Session, plan: SupportPlan) -> bool:
    """Whether the person said in a self-assessment that they have a terminal illness."""
    return any(
        "end_of_life" in (referral.assessment.answers.get("conditions") or [])
        for referral in _referrals_of(session, plan)
    )


def _approved_before(session: Session, plan: SupportPlan, since: datetime | None = None) -> bool:
    earlier = select(SupportPlan.id).where(
        SupportPlan.person_id == plan.person_id,
        SupportPlan.id != plan.id,
        SupportPlan.approved_at.is_not(None),
    )
    if since is not None:
        earlier = earlier.where(SupportPlan.approved_at >= since)
    return session.scalar(select(exists(earlier))) or False


def review_rules_applying(
    session: Session, plan: SupportPlan, *, approved_on: date, rules: ReviewRules
) -> list[tuple[date, str]]:
    """Each rule that applies to `plan` approved on `approved_on`: (its review date, why),
    the default first."""
    applying = [(review_due_after(approved_on, rules.review_months), "the yearly review")]
    if not _approved_before(session, plan):
        applying.append(
            (approved_on + timedelta(weeks=rules.first_plan_weeks), "a first plan's early review")
        )
    for referral in _referrals_of(session, plan):
        if referral.urgency is Urgency.LEAVING_HOSPITAL and not _approved_before(
            session, plan, since=referral.received_at
        ):
            applying.append(
                (
                    approved_on + timedelta(weeks=rules.hospital_weeks),
                    "an early review after leaving hospital",
                )
            )
            break
    if at_end_of_life(session, plan):
        applying.append(
            (approved_on + timedelta(weeks=rules.end_of_life_weeks), "a review at the end of life")
        )
    return applying


def review_due_on(
    session: Session, plan: SupportPlan, *, approved_on: date, rules: ReviewRules
) -> date:
    """The day `plan`, approved on `approved_on`, is due its review: the soonest of the rules
    that apply (see the module's docstring)."""
    return min(review_rules_applying(session, plan, approved_on=approved_on, rules=rules))[0]


def why_due(session: Session, plan: SupportPlan, rules: ReviewRules) -> str:
    """Which rule set the plan's review date (for the council's pages)."""
    if plan.approved_at is None:
        return ""
    applying = review_rules_applying(
        session, plan, approved_on=plan.approved_at.date(), rules=rules
    )
    return min(applying)[1]


def next_review_after(
    session: Session, plan: SupportPlan, *, reviewed_on: date, rules: ReviewRules
) -> date:
    """The next review after one done on `reviewed_on`: the yearly one, or sooner at the end
    of life (a first plan's and a hospital discharge's early reviews are done by then)."""
    yearly = review_due_after(reviewed_on, rules.review_months)
    if at_end_of_life(session, plan):
        return min(yearly, reviewed_on + timedelta(weeks=rules.end_of_life_weeks))
    return yearly


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
