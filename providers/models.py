"""Provider organisations, their services (listings), categories and the places they serve.

Names follow Open Referral UK so that the API maps one to one: organisation, service,
taxonomy term, locality.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Column,
    ColumnElement,
    Float,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    and_,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model, db
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.models import User


class OrganisationStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUSPENDED = "suspended"


class OrganisationKind(enum.StrEnum):
    """A care provider, or a brokerage (an independent support broker, a charity, or the
    council's own service-finding team) whose brokers act for clients with their consent. A
    brokerage is registered and approved like a provider, and may list its own service."""

    PROVIDER = "provider"
    BROKERAGE = "brokerage"

    @property
    def label(self) -> str:
        return {"provider": "Care provider", "brokerage": "Brokerage"}[self.value]


class ServiceStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class PriceUnit(enum.StrEnum):
    PER_HOUR = "per_hour"
    PER_VISIT = "per_visit"
    PER_SESSION = "per_session"
    PER_DAY = "per_day"
    PER_NIGHT = "per_night"
    PER_WEEK = "per_week"
    PER_ITEM = "per_item"
    FREE = "free"

    @property
    def label(self) -> str:
        return "free" if self is PriceUnit.FREE else self.value.replace("_", " ")


class DeliveryMode(enum.StrEnum):
    AT_HOME = "at_home"
    AT_VENUE = "at_venue"
    ONLINE = "online"

    @property
    def label(self) -> str:
        return {"at_home": "At home", "at_venue": "At a venue", "online": "Online"}[self.value]


class CapacityStatus(enum.StrEnum):
    ACCEPTING = "accepting"
    WAITING_LIST = "waiting_list"
    FULL = "full"

    @property
    def label(self) -> str:
        return {
            "accepting": "Accepting new clients",
            "waiting_list": "Waiting list",
            "full": "Full",
        }[self.value]


class InvoiceCycle(enum.StrEnum):
    """How often a provider invoices: each cycle of an order holds its own commitment."""

    WEEKLY = "weekly"
    FOUR_WEEKLY = "four_weekly"

    @property
    def days(self) -> int:
        return 7 if self is InvoiceCycle.WEEKLY else 28

    @property
    def label(self) -> str:
        return {"weekly": "Weekly", "four_weekly": "Every 4 weeks"}[self.value]


class CqcRating(enum.StrEnum):
    OUTSTANDING = "outstanding"
    GOOD = "good"
    REQUIRES_IMPROVEMENT = "requires_improvement"
    INADEQUATE = "inadequate"
    NOT_YET_RATED = "not_yet_rated"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


# A listing whose capacity has not been confirmed for this long is flagged to its provider and
# shown to citizens with the date it was last checked.
STALE_AFTER_DAYS = 90


service_taxonomy_terms = Table(
    "service_taxonomy_terms",
    db.metadata,
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column("taxonomy_term_id", ForeignKey("taxonomy_terms.id"), primary_key=True),
)

organisation_localities = Table(
    "organisation_localities",
    db.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("locality_id", ForeignKey("localities.id"), primary_key=True),
)

service_localities = Table(
    "service_localities",
    db.metadata,
    Column("service_id", ForeignKey("services.id", ondelete="CASCADE"), primary_key=True),
    Column("locality_id", ForeignKey("localities.id"), primary_key=True),
)


class Locality(Model):
    """A place a service can cover: a district (one of the county's areas) or a town in one."""

    __tablename__ = "localities"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20))
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("localities.id"), index=True)
    postcode_districts: Mapped[list[str]] = mapped_column(JSON, default=list)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)

    parent: Mapped[Locality | None] = relationship(remote_side=[id])

    __table_args__ = (CheckConstraint("kind IN ('district', 'town')", name="kind"),)


class TaxonomyTerm(Model):
    """A category of the care taxonomy (two levels: a top category and its kinds)."""

    __tablename__ = "taxonomy_terms"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("taxonomy_terms.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)

    parent: Mapped[TaxonomyTerm | None] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list[TaxonomyTerm]] = relationship(
        back_populates="parent", order_by="TaxonomyTerm.position"
    )


class Organisation(Model):
    """A provider organisation (or a brokerage: `kind`). Invisible to the public until the
    council approves it."""

    __tablename__ = "organisations"
    __table_args__ = (
        # The council's providers list pages by (name, id), in a status tab or across all: an
        # index walk with no sort at a national directory's size (issue 22).
        Index("ix_organisations_status_name_id", "status", "name", "id"),
        Index("ix_organisations_name_id", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OrganisationKind] = mapped_column(
        string_enum(OrganisationKind, "organisation_kind"), default=OrganisationKind.PROVIDER
    )
    description: Mapped[str] = mapped_column(Text, default="")
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    website: Mapped[str | None] = mapped_column(String(300))
    address: Mapped[str | None] = mapped_column(String(300))
    postcode: Mapped[str | None] = mapped_column(String(10))
    companies_house_number: Mapped[str | None] = mapped_column(String(8))
    charity_number: Mapped[str | None] = mapped_column(String(12))
    cqc_provider_id: Mapped[str | None] = mapped_column(String(20))
    status: Mapped[OrganisationStatus] = mapped_column(
        string_enum(OrganisationStatus, "organisation_status"), default=OrganisationStatus.PENDING
    )
    # The reason given with the latest rejection or suspension, shown to the provider.
    status_reason: Mapped[str | None] = mapped_column(Text)
    # How often it bills orders, and how many days' notice a citizen must give to cancel the
    # rest of an order once it has been accepted.
    invoice_cycle: Mapped[InvoiceCycle] = mapped_column(
        string_enum(InvoiceCycle, "invoice_cycle"), default=InvoiceCycle.FOUR_WEEKLY
    )
    notice_days: Mapped[int] = mapped_column(default=7)
    # The id the organisation has in an imported directory, so a re-import updates it.
    source_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    services: Mapped[list[Service]] = relationship(
        back_populates="organisation", order_by="Service.name"
    )
    locations: Mapped[list[Location]] = relationship(
        back_populates="organisation", order_by="Location.name"
    )
    staff: Mapped[list[User]] = relationship(back_populates="organisation")
    areas: Mapped[list[Locality]] = relationship(
        secondary=organisation_localities, order_by="Locality.name"
    )
    status_changes: Mapped[list[OrganisationStatusChange]] = relationship(
        back_populates="organisation", order_by="OrganisationStatusChange.changed_at.desc()"
    )

    @property
    def is_public(self) -> bool:
        return self.status is OrganisationStatus.APPROVED

    @property
    def is_brokerage(self) -> bool:
        return self.kind is OrganisationKind.BROKERAGE


class Service(Model):
    """A listing: something an organisation offers, at a price in pence per unit."""

    __tablename__ = "services"
    __table_args__ = (
        CheckConstraint("price_pence >= 0", name="price_not_negative"),
        CheckConstraint("(price_unit = 'free') = (price_pence = 0)", name="free_means_zero_price"),
        CheckConstraint("minimum_order >= 1", name="minimum_order_positive"),
        CheckConstraint(
            "capacity_free IS NULL OR capacity_free >= 0", name="capacity_free_not_negative"
        ),
        # The feed pages services by (name, id) (marketplace/api/queries.py).
        Index("ix_services_name_id", "name", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    price_pence: Mapped[int] = mapped_column(default=0)
    price_unit: Mapped[PriceUnit] = mapped_column(string_enum(PriceUnit, "price_unit"))
    status: Mapped[ServiceStatus] = mapped_column(
        string_enum(ServiceStatus, "service_status"), default=ServiceStatus.DRAFT
    )
    delivery_modes: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    accepts_personal_budgets: Mapped[bool] = mapped_column(default=True)
    minimum_order: Mapped[int] = mapped_column(default=1)
    # Each period: {"days": ["MO", "TU", ...] (iCal BYDAY codes), "opens": "09:00",
    # "closes": "17:00"} in local (Europe/London) time; empty when it is by arrangement.
    opening_times: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(30))
    url: Mapped[str | None] = mapped_column(String(300))
    cqc_location_id: Mapped[str | None] = mapped_column(String(20))
    cqc_rating: Mapped[CqcRating | None] = mapped_column(string_enum(CqcRating, "cqc_rating"))
    capacity_status: Mapped[CapacityStatus] = mapped_column(
        string_enum(CapacityStatus, "capacity_status"), default=CapacityStatus.ACCEPTING
    )
    # Hours (for hourly services) or places free, when the provider says.
    capacity_free: Mapped[int | None]
    earliest_start: Mapped[date | None]
    capacity_confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="services")
    locations: Mapped[list[ServiceAtLocation]] = relationship(
        back_populates="service", cascade="all, delete-orphan"
    )
    taxonomy_terms: Mapped[list[TaxonomyTerm]] = relationship(
        secondary=service_taxonomy_terms, order_by="TaxonomyTerm.position"
    )
    localities: Mapped[list[Locality]] = relationship(
        secondary=service_localities, order_by="Locality.name"
    )

    @property
    def is_public(self) -> bool:
        """Anyone may see it: published, by an approved organisation (`service_is_public` in
        SQL)."""
        return self.status is ServiceStatus.PUBLISHED and self.organisation.is_public

    def is_stale(self, now: datetime) -> bool:
        """Not confirmed for STALE_AFTER_DAYS: flagged to the provider, dated for citizens."""
        return now - self.capacity_confirmed_at > timedelta(days=STALE_AFTER_DAYS)


def service_is_public() -> ColumnElement[bool]:
    """`Service.is_public` in SQL, the one condition every query for what anyone may see uses:
    published, by an approved organisation. The query must join Organisation."""
    return and_(
        Service.status == ServiceStatus.PUBLISHED,
        Organisation.status == OrganisationStatus.APPROVED,
    )


class Location(Model):
    """A venue: where a service is delivered, with an address and a postcode."""

    __tablename__ = "locations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(String(300))
    town: Mapped[str] = mapped_column(String(100))
    postcode: Mapped[str] = mapped_column(String(10))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    accessibility: Mapped[list[str]] = mapped_column(JSON, default=list)
    source_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="locations")


class ServiceAtLocation(Model):
    """A service offered at a venue (Open Referral's service_at_location, with its own id)."""

    __tablename__ = "service_at_locations"
    __table_args__ = (UniqueConstraint("service_id", "location_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("services.id", ondelete="CASCADE"), index=True
    )
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("locations.id"), index=True)

    service: Mapped[Service] = relationship(back_populates="locations")
    location: Mapped[Location] = relationship()


class LeadProvider(Model):
    """The provider the council names as lead for a service category in a district (issue
    18, Hertfordshire's home care model): search shows it first to people living there, saying
    why. A new naming ends the one before (`ends_on`); rows are kept as the history."""

    __tablename__ = "lead_providers"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    locality_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("localities.id"), index=True)
    category_code: Mapped[str] = mapped_column(String(60))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    named_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    locality: Mapped[Locality] = relationship()
    organisation: Mapped[Organisation] = relationship()


class OrganisationStatusChange(Model):
    """Who changed an organisation's status, when, and why. Never edited or deleted."""

    __tablename__ = "organisation_status_changes"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    from_status: Mapped[OrganisationStatus | None] = mapped_column(
        string_enum(OrganisationStatus, "from_status")
    )
    to_status: Mapped[OrganisationStatus] = mapped_column(
        string_enum(OrganisationStatus, "to_status")
    )
    reason: Mapped[str] = mapped_column(Text, default="")
    changed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    organisation: Mapped[Organisation] = relationship(back_populates="status_changes")
    changed_by: Mapped[User | None] = relationship()


class StaffInvitation(Model):
    """An emailed, single-use invitation to join an organisation's staff."""

    __tablename__ = "staff_invitations"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    organisation: Mapped[Organisation] = relationship()


class ListingReportStatus(enum.StrEnum):
    OPEN = "open"
    # The listing was wrong: the provider was asked to correct it, or it was hidden.
    UPHELD = "upheld"
    DISMISSED = "dismissed"


class ListingReport(Model):
    """A citizen's (or anyone's) report that a listing is wrong: closed, wrong details, unsafe.
    The council decides it from its work queue (issue 19); the reporter is told."""

    __tablename__ = "listing_reports"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"), index=True)
    # None for someone not signed in: they may leave an email address to be told.
    reported_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    reporter_email: Mapped[str] = mapped_column(String(320), default="")
    reason: Mapped[str] = mapped_column(String(40))  # closed, wrong_details, unsafe, other
    details: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ListingReportStatus] = mapped_column(
        string_enum(ListingReportStatus, "listing_report_status"),
        default=ListingReportStatus.OPEN,
        index=True,
    )
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")

    service: Mapped[Service] = relationship()
    reported_by: Mapped[User | None] = relationship(foreign_keys=[reported_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class ReviewStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for the council's moderation: shown to no one else
    PUBLISHED = "published"
    REJECTED = "rejected"


class ServiceReview(Model):
    """A rating (1 to 5) and short review of a service, written after an order completed by
    the person or someone acting for them; shown only once the council publishes it. The
    provider may reply once (issue 19)."""

    __tablename__ = "service_reviews"
    __table_args__ = (
        CheckConstraint("rating BETWEEN 1 AND 5", name="rating_one_to_five"),
        # One review per order: a person rates what they bought, once.
        UniqueConstraint("order_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"))
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    # Who wrote it: the person's own account, or a broker or attorney acting for them.
    written_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    rating: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ReviewStatus] = mapped_column(
        string_enum(ReviewStatus, "review_status"), default=ReviewStatus.PENDING, index=True
    )
    written_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    moderated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderation_reason: Mapped[str] = mapped_column(Text, default="")
    reply: Mapped[str] = mapped_column(Text, default="")
    replied_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    service: Mapped[Service] = relationship()
    written_by: Mapped[User] = relationship(foreign_keys=[written_by_id])
