"""The front door's figures for the council (issue 20, item 6), from what the front door
records, for a period chosen by the officer; each with its plain definition and the rows
behind it (`figure_charts` makes the charts, tables and CSVs of /council/figures).

- Self-assessments started in the period: how many were sent, how many were abandoned (still
  in progress and untouched for FRONT_DOOR_ABANDONED_DAYS), and at which question.
- Referrals received in the period: the days to the council's first contact and to its
  decision, against Leicestershire's bar (8 days cut to 2).
- Visits booked for a day in the period: how many were moved, cancelled or wasted.
- Referrals turned into a budget in the period: the agreed weekly budget within, below or
  above the range the self-assessment indicated.
- Support plan reviews due in the period: done on or before the day, late, or not yet.

It also gives the console's front door figures (`marketplace.console.figures`) their events:
each referral received is a `FrontDoorContact` (`referral_contacts`, registered in
FRONT_DOOR_SOURCES when this module is imported; the council's figures views import it).

Days are counted between London calendar days. Each figure reads a fixed number of SQL
statements, whatever the number of rows. Rules only: a session in, no Flask, nothing written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, func, select

from marketplace.console.figures import (
    FRONT_DOOR_SOURCES,
    FrontDoorContact,
    Period,
    Share,
    Waits,
    london_day,
)
from marketplace.formatting import LONDON
from marketplace.referrals import questions
from marketplace.referrals.models import (
    AssessmentStatus,
    Referral,
    ReferralStatus,
    SelfAssessment,
)
from marketplace.referrals.service_figures import (
    IndicatedFigure,
    ReviewsFigure,
    VisitsFigure,
    indicated_figure,
    reviews_figure,
    visits_figure,
)
from marketplace.types import Session

# Leicestershire cut the days from first contact to the work reaching a locality team from
# eight to two: the bar the council's own days are shown against.
BAR_DAYS = 2
BAR_WAS_DAYS = 8
# The front door's waits, grouped so that the bar (2 days) and the old wait (8) are edges.
WAIT_BUCKETS: tuple[tuple[str, int, int], ...] = (
    ("The same day", 0, 0),
    ("1 or 2 days", 1, 2),
    ("3 to 7 days", 3, 7),
    ("8 to 28 days", 8, 28),
    ("More than 28 days", 29, 10**6),
)
NOT_YET = "Not yet"
# Where someone stopped who had answered every question but never sent it.
AT_CHECK_ANSWERS = "Check your answers"


def _start_of(day: date) -> datetime:
    """The first moment of a London day, in UTC."""
    return datetime.combine(day, time(), LONDON).astimezone(UTC)


def _days(start: datetime, end: datetime | None) -> int | None:
    """London days from `start` to `end` (None: not yet); never negative (a contact made by
    phone before the referral was sent took no days)."""
    return None if end is None else max(0, (london_day(end) - london_day(start)).days)


# Self-assessments ----------------------------------------------------------------------------


@dataclass(frozen=True)
class AssessmentsFigure:
    started: int
    sent: int
    abandoned: int
    abandoned_days: int
    # (question's short name, how many stopped there), in the questions' order.
    abandoned_at: list[tuple[str, int]]

    @property
    def in_progress(self) -> int:
        """Started, not sent, and touched within the abandoned days: still being answered."""
        return self.started - self.sent - self.abandoned


def assessments_figure(
    session: Session, period: Period, *, now: datetime, abandoned_days: int
) -> AssessmentsFigure:
    """Of the self-assessments started in the period: how many were sent (by `now`), and how
    many are abandoned: still in progress and last changed `abandoned_days` or more London
    days before `now`'s day; and, for those, the question they stopped at (the first asked and
    not answered: `questions.next_unanswered`). Two statements."""
    in_period = (
        SelfAssessment.started_at >= period.starts_at,
        SelfAssessment.started_at < period.ends_before,
    )
    by_status = dict(
        session.execute(
            select(SelfAssessment.status, func.count())
            .where(*in_period)
            .group_by(SelfAssessment.status)
        ).all()
    )
    # Untouched since before this moment: last changed on the day `abandoned_days` before
    # today, or earlier.
    cutoff = _start_of(london_day(now) - timedelta(days=abandoned_days - 1))
    stopped = session.scalars(
        select(SelfAssessment.answers).where(
            *in_period,
            SelfAssessment.status == AssessmentStatus.IN_PROGRESS,
            SelfAssessment.updated_at < cutoff,
        )
    ).all()
    at: dict[str, int] = {}
    for answers in stopped:
        question = questions.next_unanswered(answers or {})
        name = question.short if question is not None else AT_CHECK_ANSWERS
        at[name] = at.get(name, 0) + 1
    order = [q.short for q in questions.QUESTIONS] + [AT_CHECK_ANSWERS]
    return AssessmentsFigure(
        started=sum(by_status.values()),
        sent=by_status.get(AssessmentStatus.SUBMITTED, 0),
        abandoned=len(stopped),
        abandoned_days=abandoned_days,
        abandoned_at=[(name, at[name]) for name in order if name in at],
    )


# Referrals: the days to a first contact and to a decision ------------------------------------


def _received_in(period: Period) -> tuple[ColumnElement[bool], ...]:
    return (Referral.received_at >= period.starts_at, Referral.received_at < period.ends_before)


def referral_contacts(session: Session, period: Period) -> list[FrontDoorContact]:
    """Each referral received in the period as the console's `FrontDoorContact`: the sent
    self-assessment is the person's first contact (or an earlier contact an officer recorded,
    by phone, before it was sent); resolved at first contact when an officer resolved it so;
    its decision; and, for someone leaving hospital, when they left and when care began. One
    statement."""
    rows = session.execute(
        select(
            Referral.received_at,
            Referral.first_contact_at,
            Referral.status,
            Referral.resolution,
            Referral.decided_at,
            Referral.left_hospital_at,
            Referral.care_started_at,
        )
        .where(*_received_in(period))
        .order_by(Referral.received_at, Referral.id)
    ).all()
    return [
        FrontDoorContact(
            first_contact_at=min(received, contact) if contact is not None else received,
            resolved_at_first_contact=status is ReferralStatus.RESOLVED or resolution is not None,
            decided_at=decided,
            left_hospital_at=left,
            care_started_at=care,
        )
        for received, contact, status, resolution, decided, left, care in rows
    ]


FRONT_DOOR_SOURCES.append(referral_contacts)


@dataclass(frozen=True)
class ReferralWaitsFigure:
    received: int
    resolved_at_first_contact: Share
    to_contact: Waits  # days from the referral to the council's first contact
    to_decision: Waits  # days from the referral to the council's decision

    @property
    def contact_within_bar(self) -> Share:
        return Share(sum(1 for d in self.to_contact.done if d <= BAR_DAYS), self.received)

    @property
    def decision_within_bar(self) -> Share:
        return Share(sum(1 for d in self.to_decision.done if d <= BAR_DAYS), self.received)


def wait_counts(waits: Waits) -> dict[str, int]:
    """How many took how long, in WAIT_BUCKETS, then how many not yet."""
    found = {name: 0 for name, _, _ in WAIT_BUCKETS}
    found[NOT_YET] = 0
    for days in waits.days:
        name = (
            NOT_YET
            if days is None
            else next(name for name, low, high in WAIT_BUCKETS if low <= days <= high)
        )
        found[name] += 1
    return found


def referral_waits_figure(session: Session, period: Period) -> ReferralWaitsFigure:
    """Of the referrals received in the period: how many were resolved at first contact, and
    the London days from each being received to the council's first contact with the person
    and to its decision (resolved, turned into a budget, or closed); None while not yet. A
    first contact made before the referral was sent counts as the same day. One statement."""
    rows = session.execute(
        select(
            Referral.received_at,
            Referral.first_contact_at,
            Referral.decided_at,
            Referral.status,
            Referral.resolution,
        )
        .where(*_received_in(period))
        .order_by(Referral.received_at, Referral.id)
    ).all()
    resolved = sum(
        1 for *_, status, how in rows if status is ReferralStatus.RESOLVED or how is not None
    )
    return ReferralWaitsFigure(
        received=len(rows),
        resolved_at_first_contact=Share(resolved, len(rows)),
        to_contact=Waits(tuple(_days(received, contact) for received, contact, *_ in rows)),
        to_decision=Waits(tuple(_days(received, decided) for received, _, decided, *_ in rows)),
    )


# All of them ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FrontDoorJourney:
    period: Period
    assessments: AssessmentsFigure
    referrals: ReferralWaitsFigure
    visits: VisitsFigure
    indicated: IndicatedFigure
    reviews: ReviewsFigure


def front_door_journey(
    session: Session, period: Period, *, now: datetime, abandoned_days: int
) -> FrontDoorJourney:
    """Every front door figure for the period (`now` says which assessments are abandoned by
    now). A fixed number of statements, whatever the number of rows."""
    return FrontDoorJourney(
        period,
        assessments_figure(session, period, now=now, abandoned_days=abandoned_days),
        referral_waits_figure(session, period),
        visits_figure(session, period),
        indicated_figure(session, period),
        reviews_figure(session, period),
    )
