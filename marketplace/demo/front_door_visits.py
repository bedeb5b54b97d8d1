"""The `flask seed-demo` step for assessment and review visits (VISITS, issue 20). Runs after
REFERRALS' step (which sends referrals in every state).

- Three assessors: Hannah Mills (dementia, sight and hearing; Stevenage and nearby), Joe Patel
  (anyone, anywhere) and Grace Okafor (mental health, learning disability; SG1, SG2).
- Weekday slots at 9:30, 11:30 and 14:00 (90 minutes) over the next three weeks from today.
- A visit for each referral waiting for one, the earliest that fits (Priya Shah, memory
  problems, with Hannah; Leonard Fisk, sight loss, with Hannah); Priya's then moved to a day
  later (as if she asked), so the figures have a move.
- History: Edith Crane's visit done 18 days ago (her referral is assessed), and a visit to
  Leonard Fisk a week ago where nobody was in (wasted).
- A review visit for each approved plan due its review within REVIEW_BOOKING_DAYS_AHEAD days,
  booked once: a county with review visits gets no more from the seed (plans approved by later
  steps, such as the console's overdue review, wait for `flask referrals book-reviews`).

Idempotent: assessors are found by email, slots already in a diary are left, a referral with a
visit gets no second one, and the history is made once; a second run counts all of it as
already there. Flushes, never commits.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from marketplace.accounts import service as accounts
from marketplace.accounts.roles import Role
from marketplace.formatting import LONDON
from marketplace.referrals import diary, plan_reviews, visits
from marketplace.referrals.models import (
    Assessor,
    DiarySlot,
    Referral,
    ReferralStatus,
    SelfAssessment,
    Visit,
    VisitKind,
    VisitStatus,
)
from marketplace.types import Session, utcnow

if TYPE_CHECKING:
    from marketplace.demo.seed import SeedReport, Tally

ASSESSORS: tuple[tuple[str, str, list[str], list[str]], ...] = (
    (
        "Hannah Mills",
        "hannah.mills@assessors.example.org",
        ["dementia", "sensory"],
        ["SG1", "SG2", "SG3", "SG4", "SG5", "SG6"],
    ),
    ("Joe Patel", "joe.patel@assessors.example.org", [], []),
    (
        "Grace Okafor",
        "grace.okafor@assessors.example.org",
        ["learning_disability", "mental_health"],
        ["SG1", "SG2"],
    ),
)
TIMES = (time(9, 30), time(11, 30), time(14, 0))


def _assessor(
    session: Session,
    users: Tally,
    name: str,
    email: str,
    skills: list[str],
    districts: list[str],
) -> tuple[Assessor, bool]:
    user = accounts.user_by_email(email)
    if user is not None:
        users.existing += 1
    else:
        # Assessors visit; they do not sign in to the demo, so their password is never shown.
        user = accounts.create_user(
            email=email,
            full_name=name,
            password=secrets.token_urlsafe(24),
            role=Role.COUNCIL_OFFICER,
        )
        users.created.append(user)
    found = session.scalar(select(Assessor).where(Assessor.user_id == user.id))
    if found is not None:
        return found, False
    return diary.add_assessor(session, user, skills=skills, districts=districts), True


def _referral_of(session: Session, name: str) -> Referral | None:
    for assessment in session.scalars(select(SelfAssessment).where(SelfAssessment.referral.has())):
        if (assessment.answers or {}).get("full_name") == name:
            return assessment.referral
    return None


def _past_visit(
    session: Session,
    assessor: Assessor,
    referral: Referral,
    *,
    days_ago: int,
    status: VisitStatus,
    now: datetime,
    slots: Tally,
    booked: Tally,
) -> None:
    """A visit in the past (the demo's history), made as rows: the rules book only ahead."""
    if session.scalar(
        select(Visit.id).where(Visit.referral_id == referral.id, Visit.status == status)
    ):
        booked.existing += 1
        slots.existing += 1  # its slot, made with it
        return
    day = (now - timedelta(days=days_ago)).astimezone(LONDON).date()
    starts = diary.london_moment(day, time(11, 30))
    slot = session.scalar(
        select(DiarySlot).where(DiarySlot.assessor_id == assessor.id, DiarySlot.starts_at == starts)
    )
    if slot is None:
        slot = DiarySlot(
            assessor=assessor, starts_at=starts, ends_at=starts + timedelta(minutes=90)
        )
        session.add(slot)
        slots.created.append(slot)
    visit = Visit(
        slot=slot,
        kind=VisitKind.ASSESSMENT,
        status=status,
        referral=referral,
        booked_at=starts - timedelta(days=7),
        ended_at=starts + timedelta(minutes=90),
        ended_by="council" if status is VisitStatus.WASTED else None,
        reason="Nobody was in" if status is VisitStatus.WASTED else "",
    )
    session.add(visit)
    booked.created.append(visit)
    session.flush()


def seed_visits(session: Session, now: datetime | None = None) -> SeedReport:
    """The assessors, their slots, visits and review visits above, whichever are missing."""
    from marketplace.demo.seed import SeedReport, Tally

    now = now or utcnow()
    today = now.astimezone(LONDON).date()
    users, made_assessors, slots = Tally("users"), Tally("assessors"), Tally("diary slots")
    booked, reviews = Tally("visits"), Tally("review visits")
    staff: list[Assessor] = []
    for name, email, skills, districts in ASSESSORS:
        assessor, created = _assessor(session, users, name, email, skills, districts)
        staff.append(assessor)
        if created:
            made_assessors.created.append(assessor)
        else:
            made_assessors.existing += 1
    for assessor in staff:
        for offset in range(1, 22):
            day: date = today + timedelta(days=offset)
            if day.weekday() < 5:
                added = diary.add_day_slots(session, assessor, day, TIMES, minutes=90, today=today)
                slots.created += added
                slots.existing += len(TIMES) - len(added)  # times already there are left
    history = (("Edith Crane", 18, VisitStatus.DONE), ("Leonard Fisk", 7, VisitStatus.WASTED))
    for name, days_ago, status in history:
        referral = _referral_of(session, name)
        if referral is not None:
            _past_visit(
                session,
                staff[0],
                referral,
                days_ago=days_ago,
                status=status,
                now=now,
                slots=slots,
                booked=booked,
            )
    _book_waiting(session, booked, now)
    _move_priyas(session, booked, now)
    _book_reviews(session, reviews, now)
    session.flush()
    return SeedReport(tallies=[users, made_assessors, slots, booked, reviews])


def _book_reviews(session: Session, reviews: Tally, now: datetime) -> None:
    """Review visits for the plans due soon, once: booked again on every run, they would
    book one for each plan a later step approved on the run before (the console's overdue
    review), so a second run would not be a no-op."""
    already = session.scalar(
        select(func.count()).select_from(Visit).where(Visit.kind == VisitKind.REVIEW)
    )
    if already:
        reviews.existing += already
        return
    reviews.created += plan_reviews.book_reviews(session, now=now)[0]


def _book_waiting(session: Session, booked: Tally, now: datetime) -> None:
    # Those booked on a run before wait no longer (their visit is booked): counted as there.
    referrals = session.scalars(
        select(Referral)
        .where(Referral.status.in_([ReferralStatus.AWAITING_VISIT, ReferralStatus.VISIT_BOOKED]))
        .order_by(Referral.received_at)
    ).all()
    waiting = [r for r in referrals if r.status is ReferralStatus.AWAITING_VISIT]
    for referral in referrals:
        if visits.live_visit(session, referral) is not None:
            booked.existing += 1
            continue
        # The newest is left waiting, as just sent: its person may still choose a time (the
        # demo keeps a referral in every state).
        if referral not in waiting[:-1]:
            continue
        visit = visits.book_automatically(session, referral, now=now)
        if visit is not None:
            booked.created.append(visit)


def _move_priyas(session: Session, booked: Tally, now: datetime) -> None:
    """Priya Shah's visit moved a day or more later, once (the figures count moves)."""
    priya = _referral_of(session, "Priya Shah")
    live = visits.live_visit(session, priya) if priya is not None else None
    if priya is None or live is None or live.status is not VisitStatus.BOOKED:
        return
    if session.scalar(
        select(Visit.id).where(Visit.referral_id == priya.id, Visit.status == VisitStatus.MOVED)
    ):
        booked.existing += 1  # the visit moved from (the one moved to is her live visit)
        return
    later = [
        slot
        for slot in visits.fitting_slots(session, live, now=now)
        if slot.starts_at >= live.slot.starts_at + timedelta(days=1)
    ]
    if not later:
        return
    freed = live.slot
    booked.created.append(
        visits.move(
            session,
            live,
            later[0],
            by=None,
            ended_by="person",
            now=now,
            reason="Her daughter can be there that day.",
        )
    )
    # The slot she left is offered to the next referral that fits (a visit row of its own;
    # a second run counts it with that referral's live visit).
    offered = session.scalar(
        select(Visit).where(Visit.slot_id == freed.id, Visit.status == VisitStatus.OFFERED)
    )
    if offered is not None:
        booked.created.append(offered)
