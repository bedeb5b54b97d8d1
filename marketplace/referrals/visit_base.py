"""What every visit rule shares (issue 20 item 5, VISITS): the refusals, the timings, what a
visit needs of an assessor, and how a visit row is locked and inserted. `visits` and
`visit_offers` are the rules; read them first.

Two bookings of one slot: the database decides (`uq_visits_one_live_per_slot`); the loser gets
SlotTaken and nothing changes. A visit or referral changed by someone else since the page was
drawn: the row is locked and read again, and VisitChanged says what happened.

Rules only: they take a session, flush, and never commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.people.models import SupportPlan
from marketplace.referrals import diary, queue
from marketplace.referrals.models import (
    LIVE_VISIT_STATUSES,
    DiarySlot,
    Referral,
    ReferralEvent,
    ReferralStatus,
    Visit,
)
from marketplace.types import Session

# The system never books (or offers) a visit starting sooner than this: someone must be able
# to get there, and the person to be told.
MIN_NOTICE = timedelta(hours=2)
OFFER_HOURS = 24  # VISIT_OFFER_HOURS
REMINDER_HOURS = 48  # VISIT_REMINDER_HOURS
REASON_MAX_LENGTH = 500
# The referral queue's table (queue.ALLOWED_MOVES) books a visit only for a referral an officer
# has said needs one.
BOOKABLE = (ReferralStatus.AWAITING_VISIT,)


class VisitRefused(ValueError):
    """A visit change the rules refuse; `fields` names the form fields at fault."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class SlotTaken(VisitRefused):
    """Someone else booked (or was offered) that time first: nothing changed."""


class VisitChanged(VisitRefused):
    """The visit is not what the page showed any more (moved, cancelled, the offer lapsed)."""


# Reading -------------------------------------------------------------------------------------


def needs_of(visit_or_target: Visit | Referral | SupportPlan) -> tuple[list[str], str | None]:
    """The skills and postcode district an assessor must have for this visit or subject."""
    target: Referral | SupportPlan | None
    if isinstance(visit_or_target, Visit):
        target = visit_or_target.referral or visit_or_target.support_plan
    else:
        target = visit_or_target
    if isinstance(target, Referral):
        return list(target.needs_skills or []), target.district
    assert target is not None
    from marketplace.postcodes import district_of

    person = target.person
    return [], district_of(person.postcode) if person.postcode else None


def live_visit(session: Session, target: Referral | SupportPlan) -> Visit | None:
    """The offered or booked visit for a referral or a plan, if there is one."""
    column = Visit.referral_id if isinstance(target, Referral) else Visit.support_plan_id
    return session.scalar(
        select(Visit).where(column == target.id, Visit.status.in_(LIVE_VISIT_STATUSES))
    )


def fitting_slots(
    session: Session, target: Referral | SupportPlan | Visit, *, now: datetime, limit: int = 20
) -> list[DiarySlot]:
    """The free slots that fit, earliest first, from MIN_NOTICE ahead."""
    skills, district = needs_of(target)
    return diary.free_slots(
        session, needs_skills=skills, district=district, after=now + MIN_NOTICE, limit=limit
    )


# Writing: helpers ----------------------------------------------------------------------------


def lock(session: Session, row: Visit | Referral | SupportPlan) -> None:
    """Hold `row`'s write lock and read it again (SQLite: the whole database's)."""
    ledger.begin_immediate(session)
    session.refresh(row, with_for_update=True)


def insert(session: Session, visit: Visit, before: Sequence[Visit] = ()) -> Visit:
    """Add `visit` (after flushing the changes to `before`) in a savepoint: if the slot's live
    visit index refuses it, everything in the savepoint is undone and SlotTaken raised."""
    try:
        with ledger.savepoint(session):
            for earlier in before:
                session.add(earlier)
            session.add(visit)
            session.flush()
    except IntegrityError as clash:
        raise SlotTaken(
            "That time has just been booked for someone else: choose another time",
            fields={"slot": "That time has just been booked for someone else: choose another"},
        ) from clash
    return visit


def set_status(
    session: Session,
    referral: Referral,
    to: ReferralStatus,
    *,
    by: User | None,
    kind: str,
    note: str,
    now: datetime,
) -> None:
    """Move the referral to `to` with its event, through the referral queue's table of allowed
    moves (`queue.move`, which refuses a move the table does not allow)."""
    queue.move(session, referral, to, by=by, kind=kind, note=note, now=now)


def event(
    session: Session,
    referral: Referral | None,
    kind: str,
    note: str,
    by: User | None,
    now: datetime,
) -> None:
    if referral is None:
        return
    referral.updated_at = now
    session.add(
        ReferralEvent(referral=referral, kind=kind, note=note, by_id=by.id if by else None, at=now)
    )


def check_slot(
    session: Session, slot: DiarySlot, target: Referral | SupportPlan | Visit, now: datetime
) -> None:
    skills, district = needs_of(target)
    if slot.starts_at <= now:
        raise VisitRefused(
            "That time has passed: choose another", fields={"slot": "That time has passed"}
        )
    if not diary.fits(slot.assessor, skills, district):
        raise VisitRefused(
            "That assessor cannot assess this person (skills or area): choose another time",
            fields={"slot": "That assessor cannot assess this person: choose another time"},
        )
    if diary.assessor_absent(session, slot):
        raise VisitRefused(
            "That assessor is away that day: choose another time",
            fields={"slot": "That assessor is away that day: choose another time"},
        )


def checked_reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise VisitRefused(
            "Enter why the visit is cancelled",
            fields={"reason": "Enter why the visit is cancelled"},
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise VisitRefused(
            f"Reason must be {REASON_MAX_LENGTH} characters or fewer",
            fields={"reason": f"Reason must be {REASON_MAX_LENGTH} characters or fewer"},
        )
    return reason
