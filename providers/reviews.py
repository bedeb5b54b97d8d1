"""Ratings and reviews of services (issue 19, item 7).

A person (or someone acting for them under a consent that covers their orders) may rate a
service 1 to 5, with a short review, once its order has completed. The council moderates
every review before anyone else sees it; the provider may reply once. Ratings shown anywhere
are read from published reviews only, with how many there are.

Rules only: these functions take a session, flush, and never commit.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.console.queue_log import record_decision
from marketplace.ledger.transactions import dialect_name
from marketplace.notifications.models import NotificationKind
from marketplace.notifications.service import (
    council_officers,
    notify,
    recipients_for_organisation,
)
from marketplace.orders.locks import lock_order
from marketplace.orders.models import Order, OrderStatus
from marketplace.types import Session, utcnow
from providers.models import Organisation, ReviewStatus, Service, ServiceReview


@dataclass(frozen=True)
class ReviewToModerate:
    """One pending review, as the council's work queue lists it."""

    review_id: uuid.UUID
    service_id: uuid.UUID
    service_name: str
    organisation_name: str
    rating: int
    text: str
    written_at: datetime


def reviews_to_moderate(
    session: Session, *, limit: int = 200, offset: int = 0
) -> list[ReviewToModerate]:
    """The reviews waiting for the council's moderation, oldest first (so the longest wait
    is at the top), each with when it was written. One statement; at most `limit` rows, after
    the first `offset`."""
    rows = session.execute(
        select(
            ServiceReview.id,
            ServiceReview.service_id,
            Service.name,
            Organisation.name,
            ServiceReview.rating,
            ServiceReview.text,
            ServiceReview.written_at,
        )
        .join(Service, Service.id == ServiceReview.service_id)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .where(ServiceReview.status == ReviewStatus.PENDING)
        .order_by(ServiceReview.written_at, ServiceReview.id)
        .offset(offset)
        .limit(limit)
    ).all()
    return [ReviewToModerate(*row) for row in rows]


def count_to_moderate(session: Session) -> int:
    """How many reviews wait for moderation (one statement)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(ServiceReview)
            .where(ServiceReview.status == ReviewStatus.PENDING)
        )
        or 0
    )


# Writing, moderating, replying ---------------------------------------------------------

# A short review: long enough for what went well or badly, short enough to read in a list.
TEXT_MAX_LENGTH = 500
REASON_MAX_LENGTH = 500
REPLY_MAX_LENGTH = 500
# Privacy first: a published review never names who wrote it. In a county's small services a
# first name and initial can identify someone (and say what care they receive).
AUTHOR_SHOWN = "A person using this service"
# The council's work queue this part records its decisions under (console.queue_log).
QUEUE = "reviews"
COUNCIL_REVIEWS_PATH = "/council/reviews"
PROVIDER_REVIEWS_PATH = "/provider/reviews"


class ReviewRefused(Exception):
    """A refusal: `message` for people, `details["fields"]` naming the form field it concerns
    (as the orders' refusals do, so `marketplace.forms.show_refusal` puts it by the field)."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


def may_review(user: User, order: Order) -> bool:
    """Whether `user` may rate this order's service now: the order has completed (for a
    package, once it has ended: its remaining weeks cancelled and its last cycle settled),
    and the user is the person or acts for them under a live consent covering orders."""
    return order.status is OrderStatus.COMPLETED and can(user, "review_order", order)


def review_of_order(session: Session, order_id: uuid.UUID) -> ServiceReview | None:
    """The order's review, whatever its state (None if none was written)."""
    return session.scalar(select(ServiceReview).where(ServiceReview.order_id == order_id))


def _lock_review(session: Session, review: ServiceReview) -> None:
    """Hold the review's row until the transaction ends and read it afresh, so two officers
    (or two replies) at once queue on it and the second sees what the first decided."""
    ledger.begin_immediate(session)
    if dialect_name(session) != "sqlite":
        session.execute(
            select(ServiceReview.id).where(ServiceReview.id == review.id).with_for_update()
        ).one()
    session.refresh(review)


def _clean_text(text: str | None, *, field: str, limit: int, what: str) -> str:
    cleaned = (text or "").strip()
    if len(cleaned) > limit:
        raise ReviewRefused(
            f"The {what} is too long",
            fields={field: f"The {what} must be {limit} characters or fewer"},
        )
    return cleaned


def write_review(
    session: Session, order: Order, *, by: User, rating: int | None, text: str | None
) -> ServiceReview:
    """Record the rating (1 to 5) and review of the order's service, pending the council's
    moderation, and tell the council's officers there is one to moderate. One per order: the
    order's lock makes two at once queue, and the second is refused (as is any later one).
    Raises ReviewRefused (not allowed, not completed, no or bad rating, text too long,
    already reviewed)."""
    if not can(by, "review_order", order):
        raise ReviewRefused("You cannot review this order")
    if order.status is not OrderStatus.COMPLETED:
        raise ReviewRefused("You can review a service once its order has completed")
    if rating is None or not 1 <= rating <= 5:
        raise ReviewRefused(
            "Select a rating", fields={"rating": "Select a rating from 1 to 5 stars"}
        )
    cleaned = _clean_text(text, field="text", limit=TEXT_MAX_LENGTH, what="review")
    lock_order(session, order)
    if review_of_order(session, order.id) is not None:
        raise ReviewRefused(
            f"Order {order.reference} has already been reviewed: one review an order"
        )
    review = ServiceReview(
        service_id=order.service_id,
        order_id=order.id,
        person_id=order.person_id,
        written_by_id=by.id,
        rating=rating,
        text=cleaned,
        status=ReviewStatus.PENDING,
    )
    session.add(review)
    session.flush()
    notify(
        session,
        council_officers(session),
        NotificationKind.REVIEW_TO_MODERATE,
        title=f"A review of {order.service_name} to moderate",
        link=COUNCIL_REVIEWS_PATH,
    )
    return review


def _decide(
    session: Session, review: ServiceReview, *, by: User, publish: bool, reason: str
) -> ServiceReview:
    if not can(by, "moderate_reviews"):
        raise ReviewRefused("Only a council officer moderates reviews")
    _lock_review(session, review)
    if review.status is not ReviewStatus.PENDING:
        raise ReviewRefused(f"This review has already been {review.status.value}")
    now = utcnow()
    review.status = ReviewStatus.PUBLISHED if publish else ReviewStatus.REJECTED
    review.moderated_by_id = by.id
    review.moderated_at = now
    review.moderation_reason = reason
    service_name = review.service.name
    record_decision(
        session,
        queue=QUEUE,
        subject_id=review.id,
        subject_label=f"Review of {service_name}",
        decision=review.status.value,
        reason=reason,
        waiting_since=review.written_at,
        decided_by_id=by.id,
        told="The review's writer" + (" and the provider" if publish else ""),
        at=now,
    )
    notify(
        session,
        [review.written_by],
        NotificationKind.REVIEW_DECIDED,
        title=(
            f"Your review of {service_name} is published"
            if publish
            else f"Your review of {service_name} was not published"
        ),
        order_id=review.order_id,
    )
    if publish:
        notify(
            session,
            recipients_for_organisation(session, review.service.organisation_id),
            NotificationKind.REVIEW_DECIDED,
            title=f"A review of {service_name} is published: you may reply",
            link=PROVIDER_REVIEWS_PATH,
        )
    session.flush()
    return review


def publish_review(session: Session, review: ServiceReview, *, by: User) -> ServiceReview:
    """The council publishes a pending review: it is shown with the service and counts in its
    rating from now. The decision is recorded in the work queues' log; the writer and the
    provider are told. Raises ReviewRefused (not an officer; already decided)."""
    return _decide(session, review, by=by, publish=True, reason="")


def reject_review(
    session: Session, review: ServiceReview, *, by: User, reason: str | None
) -> ServiceReview:
    """The council rejects a pending review with a reason (the writer is told it): it is
    never shown nor counted. Raises ReviewRefused (no reason or too long; not an officer;
    already decided)."""
    cleaned = _clean_text(reason, field="reason", limit=REASON_MAX_LENGTH, what="reason")
    if not cleaned:
        raise ReviewRefused(
            "Enter why the review is not published",
            fields={"reason": "Enter why the review is not published"},
        )
    return _decide(session, review, by=by, publish=False, reason=cleaned)


def reply_to_review(
    session: Session, review: ServiceReview, *, by: User, text: str | None
) -> ServiceReview:
    """The provider's one public reply to a published review of its own service, shown under
    it at once (not moderated: the provider is an approved organisation answerable to the
    council, and the page asks it not to identify the person). The writer is told. Raises
    ReviewRefused (not the service's provider; not published; already replied; no text or
    too long)."""
    if not can(by, "reply_to_review", review.service):
        raise ReviewRefused("You can reply only to reviews of your own services")
    cleaned = _clean_text(text, field="reply", limit=REPLY_MAX_LENGTH, what="reply")
    if not cleaned:
        raise ReviewRefused("Enter your reply", fields={"reply": "Enter your reply"})
    _lock_review(session, review)
    if review.status is not ReviewStatus.PUBLISHED:
        raise ReviewRefused("You can reply only to a published review")
    if review.replied_at is not None:
        raise ReviewRefused("You have already replied to this review: one reply a review")
    review.reply = cleaned
    review.replied_by_id = by.id
    review.replied_at = utcnow()
    notify(
        session,
        [review.written_by],
        NotificationKind.REVIEW_REPLIED,
        title=f"{review.service.organisation.name} replied to your review",
        order_id=review.order_id,
    )
    session.flush()
    return review


# What is shown ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Rating:
    """A service's rating from its published reviews."""

    average: float
    count: int

    @property
    def words(self) -> str:
        """ "4.5 out of 5, from 12 reviews": the text shown (never stars alone)."""
        reviews = "review" if self.count == 1 else "reviews"
        return f"{self.average:.1f}".removesuffix(".0") + f" out of 5, from {self.count} {reviews}"


def ratings_for(
    session: Session, service_ids: Iterable[uuid.UUID | str]
) -> dict[uuid.UUID, Rating]:
    """Each service's rating from its published reviews, for the services given (those with
    none are left out): one grouped statement, whatever the number of services."""
    ids = {uuid.UUID(str(service_id)) for service_id in service_ids}
    if not ids:
        return {}
    rows = session.execute(
        select(
            ServiceReview.service_id,
            func.avg(ServiceReview.rating),
            func.count(ServiceReview.id),
        )
        .where(ServiceReview.service_id.in_(ids), ServiceReview.status == ReviewStatus.PUBLISHED)
        .group_by(ServiceReview.service_id)
    ).all()
    return {service_id: Rating(float(average), count) for service_id, average, count in rows}


@dataclass(frozen=True)
class ShownReview:
    """A published review as the public sees it: no name, the provider's reply beneath."""

    rating: int
    text: str
    written_at: datetime
    reply: str
    replied_at: datetime | None
    author: str = AUTHOR_SHOWN


def published_reviews(
    session: Session, service_id: uuid.UUID, *, page: int = 1, per_page: int = 10
) -> tuple[list[ShownReview], bool]:
    """A page of the service's published reviews, newest first, and whether there are more.
    One statement, at most `per_page` + 1 rows."""
    rows = session.execute(
        select(
            ServiceReview.rating,
            ServiceReview.text,
            ServiceReview.written_at,
            ServiceReview.reply,
            ServiceReview.replied_at,
        )
        .where(
            ServiceReview.service_id == service_id,
            ServiceReview.status == ReviewStatus.PUBLISHED,
        )
        .order_by(ServiceReview.written_at.desc(), ServiceReview.id)
        .offset((max(page, 1) - 1) * per_page)
        .limit(per_page + 1)
    ).all()
    shown = [ShownReview(*row) for row in rows[:per_page]]
    return shown, len(rows) > per_page


def reviews_of_organisation(
    session: Session, organisation_id: uuid.UUID, *, limit: int = 100, offset: int = 0
) -> tuple[list[ServiceReview], int]:
    """A page of the published reviews of the organisation's services, those not yet replied
    to first, then newest first, each with its service (what the provider's portal lists),
    and how many there are in all. Two statements (three with the services)."""
    published = (
        select(ServiceReview)
        .join(Service, Service.id == ServiceReview.service_id)
        .where(
            Service.organisation_id == organisation_id,
            ServiceReview.status == ReviewStatus.PUBLISHED,
        )
    )
    total = session.scalar(select(func.count()).select_from(published.subquery())) or 0
    return list(
        session.scalars(
            published.options(selectinload(ServiceReview.service))
            .order_by(
                ServiceReview.replied_at.is_not(None),
                ServiceReview.written_at.desc(),
                ServiceReview.id,
            )
            .offset(offset)
            .limit(limit)
        )
    ), total


def review_by_id(session: Session, review_id: uuid.UUID) -> ServiceReview | None:
    return session.get(ServiceReview, review_id)
