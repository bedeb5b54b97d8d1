"""Assessment and review visits (issue 20 item 5, VISITS): booked by an officer or by the
system into an assessor's diary, accepted, moved or cancelled by the person online, a freed
slot offered to the next referral that fits (`visit_offers`), reminders before, the outcome
recorded, and the visits in an assessor's absence re-booked.

Two bookings of one slot: the database decides (`uq_visits_one_live_per_slot`); the loser gets
SlotTaken and nothing changes. A visit or referral changed by someone else since the page was
drawn: the row is locked and read again, and VisitChanged says what happened.

Rules only: they take a session, flush, and never commit.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.people.models import PlanStatus, SupportPlan
from marketplace.referrals import diary, queue, visit_notices
from marketplace.referrals.models import (
    AssessorAbsence,
    DiarySlot,
    Referral,
    ReferralStatus,
    Visit,
    VisitKind,
    VisitStatus,
)
from marketplace.referrals.visit_base import (  # noqa: F401 (the errors are visits' too)
    BOOKABLE,
    MIN_NOTICE,
    OFFER_HOURS,
    REASON_MAX_LENGTH,
    REMINDER_HOURS,
    SlotTaken,
    VisitChanged,
    VisitRefused,
    check_slot,
    checked_reason,
    event,
    fitting_slots,
    insert,
    live_visit,
    lock,
    needs_of,
    set_status,
)
from marketplace.referrals.visit_offers import (  # noqa: F401 (part of visits' interface)
    accept_offer,
    decline_offer,
    excluding_own,
    lapse_offers,
    offer_slot,
)
from marketplace.types import Session

# Booking -------------------------------------------------------------------------------------


def book(
    session: Session,
    referral_or_plan: Referral | SupportPlan,
    slot: DiarySlot,
    *,
    by: User | None,
    now: datetime,
) -> Visit:
    """Book an assessment visit (a referral waiting for one) or a review visit (an approved
    plan) into `slot`; the referral becomes VISIT_BOOKED with an event, and the person is told.
    `by` None: the system.

    Raises SlotTaken (the slot was booked meanwhile), VisitChanged (the referral is not waiting
    for a visit, the plan is not approved, or it already has a live visit: move that one),
    VisitRefused (the time has passed, or the assessor does not fit or is away)."""
    target = referral_or_plan
    check_slot(session, slot, target, now)
    lock(session, target)
    if isinstance(target, Referral) and target.status not in BOOKABLE:
        raise VisitChanged(
            f"This referral is {target.status.label.lower()}: a visit is booked only for a "
            "referral waiting for one"
        )
    if isinstance(target, SupportPlan) and target.status is not PlanStatus.APPROVED:
        raise VisitChanged("Only an approved support plan is reviewed")
    if live_visit(session, target) is not None:
        raise VisitChanged("A visit is already booked or offered: move or cancel that one instead")
    is_referral = isinstance(target, Referral)
    visit = insert(
        session,
        Visit(
            slot=slot,
            kind=VisitKind.ASSESSMENT if is_referral else VisitKind.REVIEW,
            status=VisitStatus.BOOKED,
            referral=target if is_referral else None,
            support_plan=None if is_referral else target,
            booked_by_id=by.id if by else None,
            booked_at=now,
        ),
    )
    if isinstance(target, Referral):
        set_status(
            session,
            target,
            ReferralStatus.VISIT_BOOKED,
            by=by,
            kind="visit_booked",
            note=f"Assessment visit booked for {visit_notices.describe(visit)}",
            now=now,
        )
    visit_notices.booked(session, visit)
    session.flush()
    return visit


def book_automatically(
    session: Session, referral_or_plan: Referral | SupportPlan, *, now: datetime
) -> Visit | None:
    """The system books the earliest free slot that fits (skills, area, availability), trying
    the next if one is taken meanwhile; None when no slot fits. Raises VisitChanged as `book`."""
    for slot in fitting_slots(session, referral_or_plan, now=now, limit=10):
        try:
            return book(session, referral_or_plan, slot, by=None, now=now)
        except SlotTaken:
            continue
    return None


def move(
    session: Session,
    visit: Visit,
    new_slot: DiarySlot,
    *,
    by: User | None,
    ended_by: Literal["person", "council", "system"],
    now: datetime,
    reason: str = "",
    offer_freed: bool = True,
    offer_hours: int = OFFER_HOURS,
) -> Visit:
    """Move a booked visit to `new_slot`: a new visit, the old one MOVED naming it; the person
    is told, and the freed slot offered to the next referral that fits (`offer_freed`).

    Raises VisitChanged (the visit is not booked any more), SlotTaken, VisitRefused (the new
    time has passed, does not fit, or is the same slot)."""
    lock(session, visit)
    if visit.status is not VisitStatus.BOOKED:
        raise VisitChanged("This visit was changed meanwhile: it is no longer booked")
    if new_slot.id == visit.slot_id:
        raise VisitRefused("Choose a different time", fields={"slot": "Choose a different time"})
    check_slot(session, new_slot, visit, now)
    old_slot = visit.slot
    visit.status, visit.ended_by, visit.ended_at = VisitStatus.MOVED, ended_by, now
    visit.reason = (reason or "").strip()[:REASON_MAX_LENGTH]
    new = insert(
        session,
        Visit(
            slot=new_slot,
            kind=visit.kind,
            status=VisitStatus.BOOKED,
            referral=visit.referral,
            support_plan=visit.support_plan,
            booked_by_id=by.id if by else None,
            booked_at=now,
        ),
        before=[visit],
    )
    visit.moved_to = new
    event(
        session,
        visit.referral,
        "visit_moved",
        f"Visit moved to {visit_notices.describe(new)}",
        by,
        now,
    )
    why = {"person": "As you asked.", "council": "The council has moved it.", "system": ""}
    visit_notices.moved(session, visit, new, (reason or why[ended_by]).strip())
    session.flush()
    if offer_freed:
        offer_slot(
            session, old_slot, now=now, offer_hours=offer_hours, excluding=excluding_own(visit)
        )
    return new


def cancel(
    session: Session,
    visit: Visit,
    *,
    by: User | None,
    ended_by: Literal["person", "council", "system"],
    reason: str,
    now: datetime,
    offer_freed: bool = True,
    offer_hours: int = OFFER_HOURS,
) -> Visit | None:
    """Cancel a booked visit (the person or the council, with a reason): the referral waits for
    a visit again, the person is told, and the freed slot is offered to the next referral that
    fits. Returns that offer, if one was made.

    Raises VisitRefused (no reason, or one too long), VisitChanged (not booked any more)."""
    reason = checked_reason(reason)
    lock(session, visit)
    if visit.status is not VisitStatus.BOOKED:
        raise VisitChanged("This visit was changed meanwhile: it is no longer booked")
    visit.status, visit.ended_by, visit.ended_at = VisitStatus.CANCELLED, ended_by, now
    visit.reason = reason
    if visit.referral is not None:
        who = {"person": "by the person", "council": "by the council", "system": "by the system"}
        set_status(
            session,
            visit.referral,
            ReferralStatus.AWAITING_VISIT,
            by=by,
            kind="visit_cancelled",
            note=f"Visit cancelled {who[ended_by]}: {reason}",
            now=now,
        )
    visit_notices.cancelled(
        session,
        visit,
        "You can book another time by contacting the council."
        if ended_by == "person"
        else "The council will be in touch to arrange another time.",
    )
    session.flush()
    if not offer_freed:
        return None
    return offer_slot(
        session, visit.slot, now=now, offer_hours=offer_hours, excluding=excluding_own(visit)
    )


# After the visit -----------------------------------------------------------------------------


def record_outcome(
    session: Session,
    visit: Visit,
    *,
    outcome: Literal["done", "wasted"],
    by: User,
    note: str = "",
    now: datetime,
    review_months: int = 12,
) -> Visit:
    """Record what happened at a booked visit once its time has come. Done: an assessment's
    referral is ASSESSED (the referral queue's step); a review's plan is recorded as reviewed
    and its next review date set (`plan_reviews.record_review_visit`). Wasted (nobody in,
    turned away): the referral waits for a visit again.

    Raises VisitRefused (an outcome not offered, a visit not yet started, a note too long),
    VisitChanged (not booked any more)."""
    if outcome not in ("done", "wasted"):
        raise VisitRefused("Select what happened", fields={"outcome": "Select what happened"})
    note = (note or "").strip()
    if len(note) > REASON_MAX_LENGTH:
        raise VisitRefused(
            f"Note must be {REASON_MAX_LENGTH} characters or fewer",
            fields={"note": f"Note must be {REASON_MAX_LENGTH} characters or fewer"},
        )
    lock(session, visit)
    if visit.status is not VisitStatus.BOOKED:
        raise VisitChanged("This visit was changed meanwhile: it is no longer booked")
    if visit.slot.starts_at > now:
        raise VisitRefused(
            "The visit has not started yet: record what happened after it",
            fields={"outcome": "The visit has not started yet"},
        )
    visit.ended_at, visit.reason = now, note
    if outcome == "wasted":
        visit.status, visit.ended_by = VisitStatus.WASTED, "council"
        if visit.referral is not None:
            set_status(
                session,
                visit.referral,
                ReferralStatus.AWAITING_VISIT,
                by=by,
                kind="visit_wasted",
                note="Nobody was in at the visit" + (f": {note}" if note else ""),
                now=now,
            )
        session.flush()
        return visit
    visit.status = VisitStatus.DONE
    session.flush()
    if visit.referral is not None:
        _mark_assessed(session, visit.referral, by=by, note=note, now=now)
    elif visit.support_plan is not None:
        from marketplace.referrals import plan_reviews

        plan_reviews.record_review_visit(
            session, visit, by=by, note=note, now=now, review_months=review_months
        )
    session.flush()
    return visit


def _mark_assessed(
    session: Session, referral: Referral, *, by: User, note: str, now: datetime
) -> None:
    queue.mark_assessed(session, referral, by=by, note=note or "Assessment visit done", now=now)


def send_reminders(session: Session, *, now: datetime, hours: int = REMINDER_HOURS) -> int:
    """Remind each person whose booked visit starts within `hours`, once. Two machines running
    this at once send one reminder each visit between them: `reminded_at` is set by a
    conditional update (which takes the row's lock) and only the one that set it sends.
    Returns how many were sent here."""
    due = list(
        session.scalars(
            select(Visit)
            .join(DiarySlot, DiarySlot.id == Visit.slot_id)
            .where(
                Visit.status == VisitStatus.BOOKED,
                Visit.reminded_at.is_(None),
                DiarySlot.starts_at > now,
                DiarySlot.starts_at <= now + timedelta(hours=hours),
            )
            .order_by(DiarySlot.starts_at)
        )
    )
    sent = 0
    for visit in due:
        ledger.begin_immediate(session)
        claimed = cast(
            "CursorResult[Any]",
            session.execute(
                update(Visit)
                .where(
                    Visit.id == visit.id,
                    Visit.reminded_at.is_(None),
                    Visit.status == VisitStatus.BOOKED,
                )
                .values(reminded_at=now)
                .execution_options(synchronize_session=False)
            ),
        )
        if claimed.rowcount != 1:
            continue
        session.refresh(visit)
        visit_notices.reminder(session, visit)
        sent += 1
    session.flush()
    return sent


# An assessor away ----------------------------------------------------------------------------


def rebook_for_absence(
    session: Session, absence: AssessorAbsence, *, now: datetime
) -> list[tuple[Visit, Visit | None]]:
    """Each live visit of the absent assessor on the absence's days, re-booked: with another
    assessor who fits at the same time if one is free (the person told of the new assessor),
    else at the next free time that fits (a move, the person told), else cancelled back to
    waiting for a visit (the person and the officer told). An offer in the absence is
    withdrawn. Returns (old visit, new visit or None) for each."""
    outcomes: list[tuple[Visit, Visit | None]] = []
    for visit in diary.live_visits_in(
        session, absence.assessor, absence.starts_on, absence.ends_on
    ):
        if visit.status is VisitStatus.OFFERED:
            lock(session, visit)
            visit.status, visit.ended_by, visit.ended_at = VisitStatus.CANCELLED, "system", now
            visit.reason = "The assessor is away: offer withdrawn"
            event(session, visit.referral, "visit_offer_withdrawn", visit.reason, None, now)
            outcomes.append((visit, None))
            continue
        skills, district = needs_of(visit)
        same_time = diary.free_slots(
            session,
            needs_skills=skills,
            district=district,
            after=visit.slot.starts_at - timedelta(seconds=1),
            starts_at=visit.slot.starts_at,
        )
        new: Visit | None = None
        why = "The assessor who was coming is away."
        for slot in [*same_time, *fitting_slots(session, visit, now=now, limit=10)]:
            try:
                new = move(
                    session,
                    visit,
                    slot,
                    by=None,
                    ended_by="system",
                    now=now,
                    reason=why,
                    offer_freed=False,
                )
                break
            except SlotTaken:
                continue
        if new is None:
            cancel(
                session,
                visit,
                by=None,
                ended_by="system",
                reason=why + " No other time was free.",
                now=now,
                offer_freed=False,
            )
            visit_notices.tell_officers(
                session,
                visit.referral,
                "A visit could not be re-booked",
                f"The visit on {visit_notices.describe(visit)} was cancelled because the assessor "
                "is away and no other assessor or time fits. Book another time.",
            )
        outcomes.append((visit, new))
    session.flush()
    return outcomes
