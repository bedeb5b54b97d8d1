"""Overdue support plan reviews (issue 19): an approved plan is due its review
PLAN_REVIEW_MONTHS after approval (`plans.approve_plan` sets `review_due_on`); once that day
has passed it waits in the council's work queue until an officer records either that the
review is booked (for a day within the next three months: it leaves the queue until then)
or that the plan was reviewed (the next review falls due PLAN_REVIEW_MONTHS from today).
Scheduling reviews in full (who, where, reminders) is the front door's (issue 20).

Rules only: they take a session, flush, and never commit.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.console.queue_log import record_decision
from marketplace.mail import queue_email
from marketplace.notifications.service import recipients_for_person
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.people.plans import review_due_after
from marketplace.types import Session

QUEUE = "reviews_due"
BOOKED = "review_booked"
REVIEWED = "reviewed"
DECISIONS = (BOOKED, REVIEWED)
# A booked review further ahead than this is not "booked", it is the next review.
BOOKING_HORIZON_DAYS = 92
NOTE_MAX_LENGTH = 1200


class ReviewRefused(ValueError):
    """A review decision the rules refuse; `fields` names the form fields at fault."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class ReviewAlreadyRecorded(ReviewRefused):
    """Another officer recorded this plan's review first: nothing changes."""


def is_overdue(plan: SupportPlan, today: date) -> bool:
    return (
        plan.status is PlanStatus.APPROVED
        and plan.review_due_on is not None
        and plan.review_due_on < today
    )


def record_review(
    session: Session,
    plan: SupportPlan,
    *,
    by: User,
    decision: str,
    note: str,
    today: date,
    review_months: int,
    booked_for: date | None = None,
    seen_due_on: date | None = None,
) -> date:
    """Record that the overdue review of `plan` is booked (for `booked_for`) or done, move its
    review date, tell the person (by email, if they have an account) and log the decision.
    Returns the plan's new review date.

    `seen_due_on` is the review date the officer was shown: if it has changed meanwhile
    (another officer recorded it first) nothing changes and ReviewAlreadyRecorded is raised.
    Raises ReviewRefused (by field) for a decision not offered, a booking with no date or one
    not within the next three months, or a note too long."""
    note = (note or "").strip()
    problems: dict[str, str] = {}
    if decision not in DECISIONS:
        problems["decision"] = "Select whether the review is booked or done"
    if decision == BOOKED:
        if booked_for is None:
            problems["booked_for"] = "Enter the date the review is booked for"
        elif not today <= booked_for <= today + timedelta(days=BOOKING_HORIZON_DAYS):
            problems["booked_for"] = (
                "The review must be booked for today or a day in the next three months"
            )
    if len(note) > NOTE_MAX_LENGTH:
        problems["note"] = f"Note must be {NOTE_MAX_LENGTH} characters or fewer"
    if problems:
        raise ReviewRefused("There is a problem with the review", fields=problems)
    ledger.begin_immediate(session)
    session.refresh(plan, with_for_update=True)
    due = plan.review_due_on
    if not is_overdue(plan, today) or (seen_due_on is not None and due != seen_due_on):
        raise ReviewAlreadyRecorded(
            "This plan's review was already recorded by another officer: nothing was changed"
        )
    assert due is not None  # is_overdue
    new_due = (
        booked_for if decision == BOOKED and booked_for else review_due_after(today, review_months)
    )
    plan.review_due_on = new_due
    told = 0
    for user in recipients_for_person(session, plan.person_id):
        if user.active:
            queue_email(user.email, *_email(plan, decision, new_due))
            told += 1
    record_decision(
        session,
        queue=QUEUE,
        subject_id=plan.id,
        subject_label=plan.person.full_name,
        decision=decision,
        reason=note
        or (f"Review booked for {new_due:%d %B %Y}" if decision == BOOKED else "Reviewed"),
        waiting_since=datetime.combine(due, time(0), tzinfo=UTC),
        decided_by_id=by.id,
        told=f"person (email, {told})" if told else "",
    )
    session.flush()
    return new_due


def _email(plan: SupportPlan, decision: str, new_due: date) -> tuple[str, str]:
    if decision == BOOKED:
        return (
            "Your support plan review is booked",
            f"The council has booked the review of your support plan for {new_due:%d %B %Y}. "
            "Someone will contact you about it beforehand.",
        )
    return (
        "Your support plan has been reviewed",
        "The council has recorded the review of your support plan. Your next review is due "
        f"by {new_due:%d %B %Y}.",
    )


def plan_by_id(session: Session, plan_id: object) -> SupportPlan | None:
    return session.get(SupportPlan, plan_id)


def parse_day(text: str | None) -> date | None:
    """A day written as ISO (the form's hidden field), or None for anything else."""
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None
