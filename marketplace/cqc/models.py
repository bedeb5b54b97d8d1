"""A location registered with the CQC, as the CQC's care directory file last described it."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow
from providers.models import CqcRating


class CqcLocation(Model):
    """One CQC location. Rows are never deleted: a location missing from a newer directory
    file is marked deregistered, so a listing that names it can still be flagged."""

    __tablename__ = "cqc_locations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    location_id: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    provider_id: Mapped[str] = mapped_column(String(20), index=True)
    provider_name: Mapped[str] = mapped_column(String(300))
    care_home: Mapped[bool] = mapped_column(default=False)
    street_address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(30))
    registered_manager: Mapped[str | None] = mapped_column(String(200))
    web_address: Mapped[str | None] = mapped_column(String(300))
    region: Mapped[str | None] = mapped_column(String(100))
    local_authority: Mapped[str | None] = mapped_column(String(100))
    service_types: Mapped[str | None] = mapped_column(Text)
    specialisms: Mapped[str | None] = mapped_column(Text)
    # None when the CQC publishes no overall rating for the location (not yet rated).
    rating: Mapped[CqcRating | None] = mapped_column(string_enum(CqcRating, "cqc_location_rating"))
    rating_published_on: Mapped[date | None]
    first_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When an import last changed anything on the row (not when it was last read).
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deregistered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def registered(self) -> bool:
        """Listed in the newest directory file imported."""
        return self.deregistered_at is None

    @property
    def cqc_url(self) -> str:
        """The location's own page on the CQC's website."""
        return f"https://www.cqc.org.uk/location/{self.location_id}"
