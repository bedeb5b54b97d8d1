"""Ratings and reviews of services (issue 19, item 7).

A person (or someone acting for them under a consent that covers their orders) may rate a
service 1 to 5, with a short review, once its order has completed. The council moderates
every review before anyone else sees it; the provider may reply once. Ratings shown anywhere
are read from published reviews only, with how many there are.

Rules only: these functions take a session, flush, and never commit.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from marketplace.types import Session
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


def reviews_to_moderate(session: Session, *, limit: int = 200) -> list[ReviewToModerate]:
    """The reviews waiting for the council's moderation, oldest first (so the longest wait
    is at the top), each with when it was written. One statement; at most `limit` rows."""
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
        .limit(limit)
    ).all()
    return [ReviewToModerate(*row) for row in rows]
