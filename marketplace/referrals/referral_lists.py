"""Reading the referrals (issue 20): by reference or id, the council's list (most urgent,
then longest waiting, paged), the count in each status, the referrals an account may follow,
a referral's timeline and its live visit. Reads only; `queue` holds the steps that change
them."""

from __future__ import annotations

import uuid
from collections.abc import Collection

from sqlalchemy import func, or_, select

from marketplace.accounts.models import User
from marketplace.referrals.models import (
    LIVE_VISIT_STATUSES,
    Referral,
    ReferralEvent,
    ReferralStatus,
    SelfAssessment,
    Visit,
)
from marketplace.types import Session


def referral_by_reference(session: Session, reference: str) -> Referral | None:
    """The referral with this reference (any case, spaces ignored), if there is one."""
    tidy = "".join(reference.split()).upper()
    return session.scalar(select(Referral).where(Referral.reference == tidy))


def referral_by_id(session: Session, referral_id: uuid.UUID) -> Referral | None:
    return session.get(Referral, referral_id)


def referrals_for_council(
    session: Session,
    *,
    statuses: Collection[ReferralStatus] | None = None,
    page: int = 1,
    per_page: int = 25,
) -> tuple[list[Referral], int]:
    """One page of referrals (of these statuses, or all), the most urgent first and, within
    an urgency, the longest waiting first (ties by id, so pages never overlap); and how many
    there are in all."""
    where = [Referral.status.in_(list(statuses))] if statuses else []
    total = session.scalar(select(func.count()).select_from(Referral).where(*where)) or 0
    rows = session.scalars(
        select(Referral)
        .where(*where)
        .order_by(Referral.urgency_rank, Referral.received_at, Referral.id)
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page)
    )
    return list(rows), total


def counts_by_status(session: Session) -> dict[ReferralStatus, int]:
    """How many referrals are in each status (every status named, 0 where none)."""
    found = dict(
        session.execute(select(Referral.status, func.count()).group_by(Referral.status)).all()
    )
    return {status: int(found.get(status, 0)) for status in ReferralStatus}


def referrals_of_account(session: Session, user: User) -> list[Referral]:
    """The referrals an account may follow (it sent them, or they are about its person's
    record), the newest first."""
    mine = [SelfAssessment.user_id == user.id]
    if user.person_id is not None:
        mine.append(SelfAssessment.person_id == user.person_id)
    return list(
        session.scalars(
            select(Referral)
            .join(SelfAssessment, SelfAssessment.id == Referral.assessment_id)
            .where(or_(*mine))
            .order_by(Referral.received_at.desc())
        )
    )


def timeline(referral: Referral, *, for_person: bool) -> list[ReferralEvent]:
    """The referral's events, oldest first; for the person, only those shown to them."""
    return [event for event in referral.events if event.shown_to_person or not for_person]


def live_visit(session: Session, referral: Referral) -> Visit | None:
    """The referral's visit offered or booked, if there is one."""
    return session.scalar(
        select(Visit).where(Visit.referral_id == referral.id, Visit.status.in_(LIVE_VISIT_STATUSES))
    )
