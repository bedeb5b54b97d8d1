"""Reminding a provider to confirm a listing before it is flagged stale.

A listing is stale once its capacity has not been confirmed for STALE_AFTER_DAYS
(`Service.is_stale`): citizens then see "call to check" beside it. REMIND_DAYS_BEFORE days
before that, its organisation's staff get one reminder (in their inbox and by email) for that
confirmation; confirming again starts a new staleness, which earns its own reminder. A row in
listing_reminders per (listing, confirmation) is what makes the job safe to run twice, or on
two machines at once. Rules only: they flush and never commit.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import ForeignKey, UniqueConstraint, Uuid, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from marketplace import ledger
from marketplace.extensions import Model
from marketplace.formatting import london_time
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import notify, recipients_for_organisation
from marketplace.types import Session, UTCDateTime, utcnow
from providers.models import (
    STALE_AFTER_DAYS,
    Organisation,
    Service,
    service_is_public,
)

REMIND_DAYS_BEFORE = 14


class ListingReminder(Model):
    """A reminder sent for one listing's confirmation: at most one per confirmation."""

    __tablename__ = "listing_reminders"
    __table_args__ = (UniqueConstraint("service_id", "confirmed_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"), index=True)
    # The listing's capacity_confirmed_at the reminder was for.
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def stale_on(service: Service) -> datetime:
    """When the listing will be flagged stale unless its capacity is confirmed again."""
    return service.capacity_confirmed_at + timedelta(days=STALE_AFTER_DAYS)


def remind_before_stale(
    session: Session, *, now: datetime, days_before: int = REMIND_DAYS_BEFORE
) -> list[Service]:
    """Tell the staff of each published listing of an approved organisation that will be
    flagged stale within `days_before` days (and is not stale yet) to confirm it; returns the
    listings reminded. A listing is reminded once per confirmation, however often this runs:
    already stale ones are left to the flag they already show. Raises ValueError unless
    `days_before` is from 1 to STALE_AFTER_DAYS."""
    if not 1 <= days_before <= STALE_AFTER_DAYS:
        raise ValueError(f"days_before must be from 1 to {STALE_AFTER_DAYS}")
    reminded_already = select(ListingReminder.id).where(
        ListingReminder.service_id == Service.id,
        ListingReminder.confirmed_at == Service.capacity_confirmed_at,
    )
    due = session.scalars(
        select(Service)
        .join(Organisation, Service.organisation_id == Organisation.id)
        .where(
            service_is_public(),
            Service.capacity_confirmed_at <= now - timedelta(days=STALE_AFTER_DAYS - days_before),
            ~reminded_already.exists(),
        )
        .order_by(Service.capacity_confirmed_at, Service.id)
    ).all()
    reminded = []
    for service in due:
        if service.is_stale(now):
            continue
        if _remind(session, service, now):
            reminded.append(service)
    return reminded


def _day(moment: datetime) -> str:
    return london_time(moment, with_time=False)


def _remind(session: Session, service: Service, now: datetime) -> bool:
    try:
        # The row first, in a savepoint: a second run at the same moment finds it and backs
        # off, and its inbox rows and emails go with the savepoint.
        with ledger.savepoint(session):
            session.add(
                ListingReminder(
                    service_id=service.id, confirmed_at=service.capacity_confirmed_at, sent_at=now
                )
            )
            session.flush()
            notify(
                session,
                recipients_for_organisation(session, service.organisation_id),
                NotificationKind.LISTING_STALE_SOON,
                title=f"Confirm {service.name} is up to date by {_day(stale_on(service))}",
                body=(
                    "After that date people searching will be told it has not been checked "
                    "for a while and to call you first."
                ),
                link=f"/provider/services/{service.id}/capacity",
            )
    except IntegrityError:
        return False
    return True
