"""Offering a freed slot (issue 20 item 5, VISITS): when a visit is cancelled, moved, declined
or an offer lapses, the time is offered to the next referral waiting for a visit that fits
(most urgent, then oldest), until a deadline; the person accepts or declines it online.

Rules only: they take a session, flush, and never commit.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.referrals import diary, visit_notices
from marketplace.referrals.models import (
    DiarySlot,
    Referral,
    ReferralStatus,
    Visit,
    VisitKind,
    VisitStatus,
)
from marketplace.referrals.visit_base import (
    MIN_NOTICE,
    OFFER_HOURS,
    SlotTaken,
    VisitChanged,
    event,
    insert,
    live_visit,
    lock,
)
from marketplace.types import Session


def excluding_own(visit: Visit) -> set[object]:
    """The referral a freed slot came from: never offered its own slot back."""
    return {visit.referral_id} if visit.referral_id else set()


def offer_slot(
    session: Session,
    slot: DiarySlot,
    *,
    now: datetime,
    offer_hours: int = OFFER_HOURS,
    excluding: Collection[object] = (),
) -> Visit | None:
    """Offer a freed slot to the next referral waiting for a visit that fits (most urgent,
    then oldest), never one already offered or booked into this slot before; until
    `offer_hours` from now (or shortly before the slot, if sooner). The person is told with a
    link. Returns the offer, or None (the slot is too soon, taken, or nobody fits)."""
    if slot.starts_at <= now + MIN_NOTICE or not diary.slot_is_free(session, slot):
        return None
    if not slot.assessor.active or diary.assessor_absent(session, slot):
        return None
    been_here = set(
        session.scalars(
            select(Visit.referral_id).where(
                Visit.slot_id == slot.id, Visit.referral_id.is_not(None)
            )
        )
    )
    waiting = session.scalars(
        select(Referral)
        .where(Referral.status == ReferralStatus.AWAITING_VISIT)
        .order_by(Referral.urgency_rank, Referral.received_at, Referral.id)
    )
    for referral in waiting:
        if referral.id in excluding or referral.id in been_here:
            continue
        if not diary.fits(slot.assessor, referral.needs_skills or [], referral.district):
            continue
        lock(session, referral)
        if referral.status is not ReferralStatus.AWAITING_VISIT or live_visit(session, referral):
            continue
        expires = min(now + timedelta(hours=offer_hours), slot.starts_at - MIN_NOTICE)
        try:
            offer = insert(
                session,
                Visit(
                    slot=slot,
                    kind=VisitKind.ASSESSMENT,
                    status=VisitStatus.OFFERED,
                    referral=referral,
                    booked_at=now,
                    offer_expires_at=expires,
                ),
            )
        except SlotTaken:
            return None
        event(
            session,
            referral,
            "visit_offered",
            f"Offered a visit on {visit_notices.describe(offer)}",
            None,
            now,
        )
        visit_notices.offered(session, offer)
        session.flush()
        return offer
    return None


def accept_offer(session: Session, visit: Visit, *, by: User | None, now: datetime) -> Visit:
    """The person accepts an offered visit: it is booked, the referral VISIT_BOOKED. Raises
    VisitChanged when the offer is no longer open (accepted, declined, lapsed, withdrawn)."""
    lock(session, visit)
    if visit.status is not VisitStatus.OFFERED or (
        visit.offer_expires_at is not None and visit.offer_expires_at <= now
    ):
        raise VisitChanged("This offer is no longer open: the time may have gone to someone else")
    visit.status, visit.booked_at = VisitStatus.BOOKED, now
    visit.booked_by_id = by.id if by else None
    if visit.referral is not None:
        visit.referral.status = ReferralStatus.VISIT_BOOKED
        event(
            session,
            visit.referral,
            "visit_booked",
            f"Offered visit accepted: {visit_notices.describe(visit)}",
            by,
            now,
        )
    visit_notices.booked(session, visit)
    session.flush()
    return visit


def decline_offer(
    session: Session,
    visit: Visit,
    *,
    by: User | None,
    now: datetime,
    offer_hours: int = OFFER_HOURS,
) -> Visit | None:
    """The person declines an offered visit; the slot is offered to the next who fits (returned,
    if any). Raises VisitChanged when the offer is no longer open."""
    lock(session, visit)
    if visit.status is not VisitStatus.OFFERED:
        raise VisitChanged("This offer is no longer open")
    visit.status, visit.ended_by, visit.ended_at, visit.reason = (
        VisitStatus.CANCELLED,
        "person",
        now,
        "Offer declined",
    )
    event(session, visit.referral, "visit_declined", "Offered visit declined", by, now)
    session.flush()
    return offer_slot(
        session, visit.slot, now=now, offer_hours=offer_hours, excluding=excluding_own(visit)
    )


def lapse_offers(session: Session, *, now: datetime, offer_hours: int = OFFER_HOURS) -> int:
    """Offers not taken up by their time lapse, each slot offered on to the next who fits.
    Each offer lapses once however many machines run this at once (a conditional update: the
    second finds it lapsed already). Returns how many lapsed here."""
    expired = list(
        session.scalars(
            select(Visit).where(Visit.status == VisitStatus.OFFERED, Visit.offer_expires_at <= now)
        )
    )
    lapsed = 0
    for visit in expired:
        ledger.begin_immediate(session)
        changed = cast(
            "CursorResult[Any]",
            session.execute(
                update(Visit)
                .where(Visit.id == visit.id, Visit.status == VisitStatus.OFFERED)
                .values(
                    status=VisitStatus.LAPSED,
                    ended_by="system",
                    ended_at=now,
                    reason="Offer not taken up in time",
                )
                .execution_options(synchronize_session=False)
            ),
        )
        if changed.rowcount != 1:
            continue
        session.refresh(visit)
        lapsed += 1
        event(
            session,
            visit.referral,
            "visit_offer_lapsed",
            "Offered visit not taken up in time",
            None,
            now,
        )
        session.flush()
        offer_slot(
            session, visit.slot, now=now, offer_hours=offer_hours, excluding=excluding_own(visit)
        )
    return lapsed
