"""The front door's figures after the referral (issue 20, item 6): the visits booked, the
budgets agreed against the ranges indicated, and the support plan reviews done on time; each
with its plain definition. `referrals.figures` gathers them with the self-assessments' and
the referrals' figures for /council/figures.

Days are London calendar days. Each figure reads a fixed number of SQL statements, whatever
the number of rows. Rules only: a session in, no Flask, nothing written.
"""

from __future__ import annotations

import statistics
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func, select

from marketplace.budgets.models import FundingStream, PersonalBudget, StreamKind
from marketplace.console import review_dates
from marketplace.console.figures import Period, Share, london_day
from marketplace.console.models import QueueDecision
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.referrals.models import (
    DiarySlot,
    Indication,
    Referral,
    Visit,
    VisitKind,
    VisitStatus,
)
from marketplace.types import Session

# A review visit done this long before the review date counts as that review (a review booked
# further ahead than the queue allows is the next review, not this one).
REVIEW_EARLY_DAYS = review_dates.BOOKING_HORIZON_DAYS


# Visits --------------------------------------------------------------------------------------

# A visit's outcome as the figure names it, in the order shown.
VISIT_OUTCOMES: tuple[tuple[VisitStatus, str], ...] = (
    (VisitStatus.DONE, "Done"),
    (VisitStatus.BOOKED, "Still to come"),
    (VisitStatus.MOVED, "Moved"),
    (VisitStatus.CANCELLED, "Cancelled"),
    (VisitStatus.WASTED, "Wasted"),
)


@dataclass(frozen=True)
class VisitsFigure:
    # (outcome's name, assessment visits, review visits), in VISIT_OUTCOMES' order.
    by_outcome: list[tuple[str, int, int]]

    @property
    def booked(self) -> int:
        return sum(assessment + review for _, assessment, review in self.by_outcome)

    def share(self, outcome: str) -> Share:
        """Of every visit booked, the share with this outcome ("Moved", "Wasted"...)."""
        found = next((a + r for name, a, r in self.by_outcome if name == outcome), 0)
        return Share(found, self.booked)


def visits_figure(session: Session, period: Period) -> VisitsFigure:
    """The visits booked for a day in the period (assessment and review visits; an offer of a
    freed slot counts once accepted), by what became of each: done, still to come, moved (a
    new visit replaced it, and is counted for its own day), cancelled, or wasted (nobody in,
    turned away). One statement."""
    counted = [status for status, _ in VISIT_OUTCOMES]
    found = {
        (status, kind): count
        for status, kind, count in session.execute(
            select(Visit.status, Visit.kind, func.count())
            .join(DiarySlot, DiarySlot.id == Visit.slot_id)
            .where(
                DiarySlot.starts_at >= period.starts_at,
                DiarySlot.starts_at < period.ends_before,
                Visit.status.in_(counted),
            )
            .group_by(Visit.status, Visit.kind)
        )
    }
    return VisitsFigure(
        [
            (
                name,
                found.get((status, VisitKind.ASSESSMENT), 0),
                found.get((status, VisitKind.REVIEW), 0),
            )
            for status, name in VISIT_OUTCOMES
        ]
    )


# Indicated against agreed budgets ------------------------------------------------------------

WITHIN, BELOW, ABOVE = "Within the range", "Below the range", "Above the range"


def weekly_equivalent_pence(total_pence: int, starts_on: date, ends_on: date) -> int:
    """A budget's weekly figure: its whole amount for the period, times 7, over the period's
    days (both ends counted), rounded up to the penny. Integer arithmetic. Rounding up undoes
    the rounding down of a weekly amount made into a budget (`conversion.weeks_amount`): a
    budget agreed at so much a week, for a week or more, gives back that amount exactly."""
    days = (ends_on - starts_on).days + 1
    return -(-total_pence * 7 // days)


@dataclass(frozen=True)
class IndicatedFigure:
    # (indicated low, indicated high, agreed weekly), pence, one a referral.
    budgets: list[tuple[int, int, int]]

    @staticmethod
    def place(low: int, high: int, agreed: int) -> str:
        return BELOW if agreed < low else ABOVE if agreed > high else WITHIN

    @staticmethod
    def difference(low: int, high: int, agreed: int) -> int:
        """Pence outside the range: above its top (positive), below its bottom (negative), 0
        within."""
        return agreed - high if agreed > high else agreed - low if agreed < low else 0

    @property
    def counts(self) -> dict[str, int]:
        found = {WITHIN: 0, BELOW: 0, ABOVE: 0}
        for low, high, agreed in self.budgets:
            found[self.place(low, high, agreed)] += 1
        return found

    @property
    def median_difference_pence(self) -> int | None:
        """The middle of the differences (the lower middle one for an even count)."""
        differences = [self.difference(*row) for row in self.budgets]
        return statistics.median_low(differences) if differences else None


def indicated_figure(session: Session, period: Period) -> IndicatedFigure:
    """For the referrals turned into a person's budget in the period (their decision day),
    the range their self-assessment indicated against the budget agreed: its weekly
    equivalent (`weekly_equivalent_pence`) of the council's, the NHS's and the person's
    assessed contribution's streams (the person's own top-up is not part of what was agreed).
    One statement."""
    agreed = (
        select(
            PersonalBudget.id.label("budget_id"),
            PersonalBudget.starts_on,
            PersonalBudget.ends_on,
            func.coalesce(func.sum(FundingStream.amount_pence), 0).label("total"),
        )
        .outerjoin(
            FundingStream,
            (FundingStream.budget_id == PersonalBudget.id)
            & (FundingStream.kind != StreamKind.OWN_FUNDS),
        )
        .group_by(PersonalBudget.id, PersonalBudget.starts_on, PersonalBudget.ends_on)
        .subquery()
    )
    rows = session.execute(
        select(
            Indication.low_weekly_pence,
            Indication.high_weekly_pence,
            agreed.c.total,
            agreed.c.starts_on,
            agreed.c.ends_on,
        )
        .select_from(Referral)
        .join(Indication, Indication.assessment_id == Referral.assessment_id)
        .join(agreed, agreed.c.budget_id == Referral.budget_id)
        .where(
            Referral.budget_id.is_not(None),
            Referral.decided_at >= period.starts_at,
            Referral.decided_at < period.ends_before,
        )
        .order_by(Referral.decided_at, Referral.id)
    ).all()
    return IndicatedFigure(
        [
            (low, high, weekly_equivalent_pence(int(total), starts_on, ends_on))
            for low, high, total, starts_on, ends_on in rows
        ]
    )


# Reviews done on time ------------------------------------------------------------------------

ON_TIME, LATE = "On time", "Late"


@dataclass(frozen=True)
class ReviewsFigure:
    on_time: int
    late: int
    not_yet: int

    @property
    def due(self) -> int:
        return self.on_time + self.late + self.not_yet

    @property
    def share_on_time(self) -> Share:
        return Share(self.on_time, self.due)


def _reviews_due(
    session: Session, period: Period
) -> tuple[dict[uuid.UUID, date], dict[uuid.UUID, list[date]]]:
    """Each plan's first review date in the period (from the plan, from the queue of reviews
    due, or from a review visit done for it), and the London days the queue recorded a review
    done. Three statements."""
    due: dict[uuid.UUID, date] = {}
    for plan_id, review_day in session.execute(
        select(SupportPlan.id, SupportPlan.review_due_on).where(
            SupportPlan.status == PlanStatus.APPROVED,
            SupportPlan.review_due_on >= period.since,
            SupportPlan.review_due_on <= period.until,
        )
    ):
        if review_day is not None:  # the query asks for a day
            due[plan_id] = review_day
    reviewed: dict[uuid.UUID, list[date]] = {}
    for plan_id, waited_from, decision, decided_at in session.execute(
        select(
            QueueDecision.subject_id,
            QueueDecision.waiting_since,
            QueueDecision.decision,
            QueueDecision.decided_at,
        ).where(
            QueueDecision.queue == review_dates.QUEUE,
            # The queue records a review date as its midnight in UTC.
            QueueDecision.waiting_since >= datetime.combine(period.since, time(), UTC),
            QueueDecision.waiting_since
            < datetime.combine(period.until + timedelta(days=1), time(), UTC),
        )
    ):
        day = waited_from.astimezone(UTC).date()
        due[plan_id] = min(day, due.get(plan_id, day))
        if decision == review_dates.REVIEWED:
            reviewed.setdefault(plan_id, []).append(london_day(decided_at))
    # A review visit done keeps the date it served: the plan's own date has moved on since.
    for visited_plan_id, served in session.execute(
        select(Visit.support_plan_id, Visit.review_due_on).where(
            Visit.kind == VisitKind.REVIEW,
            Visit.status == VisitStatus.DONE,
            Visit.review_due_on >= period.since,
            Visit.review_due_on <= period.until,
        )
    ):
        if visited_plan_id is not None and served is not None:  # the query asks for both
            due[visited_plan_id] = min(served, due.get(visited_plan_id, served))
    return due, reviewed


def _review_visits_done(session: Session, plan_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[date]]:
    """The London days each plan's review visits were done. One statement (none for none)."""
    visited: dict[uuid.UUID, list[date]] = {}
    if not plan_ids:
        return visited
    for plan_id, starts_at in session.execute(
        select(Visit.support_plan_id, DiarySlot.starts_at)
        .join(DiarySlot, DiarySlot.id == Visit.slot_id)
        .where(
            Visit.kind == VisitKind.REVIEW,
            Visit.status == VisitStatus.DONE,
            Visit.support_plan_id.in_(plan_ids),
        )
    ):
        if plan_id is not None:  # a review visit is for a plan
            visited.setdefault(plan_id, []).append(london_day(starts_at))
    return visited


def reviews_figure(session: Session, period: Period) -> ReviewsFigure:
    """The support plans whose review fell due on a day in the period, each plan once, at its
    earliest such day: an approved plan's review date, or the review date an overdue plan
    waited from in the council's queue of reviews due, or the review date a review visit done
    served (the plan's own date has moved on). Each is on time when a review visit
    was done on that day or in the REVIEW_EARLY_DAYS before it; late when it was done after
    (a review visit done, or the review recorded done from the queue); not yet otherwise.
    Four statements."""
    due, reviewed_from_queue = _reviews_due(session, period)
    visited = _review_visits_done(session, list(due))
    on_time = late = 0
    for plan_id, day in due.items():
        done = [v for v in visited.get(plan_id, []) if v > day - timedelta(REVIEW_EARLY_DAYS)]
        if any(v <= day for v in done):
            on_time += 1
        elif done or any(v > day for v in reviewed_from_queue.get(plan_id, [])):
            late += 1
    return ReviewsFigure(on_time, late, len(due) - on_time - late)
