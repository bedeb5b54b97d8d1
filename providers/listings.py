"""Listings (services): what a provider offers, its life (draft, published, archived) and its
capacity, which the provider confirms in one click.

Functions flush and never commit. Ownership is checked by the caller through the policy;
`listing_of` only ever finds a listing inside the organisation it is given.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select

from marketplace.extensions import db
from providers.models import (
    CapacityStatus,
    CqcRating,
    Locality,
    Location,
    Organisation,
    PriceUnit,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)

# The moves a listing may make: (from, to) -> the word for it.
TRANSITIONS: dict[tuple[ServiceStatus, ServiceStatus], str] = {
    (ServiceStatus.DRAFT, ServiceStatus.PUBLISHED): "publish",
    (ServiceStatus.PUBLISHED, ServiceStatus.DRAFT): "unpublish",
    (ServiceStatus.DRAFT, ServiceStatus.ARCHIVED): "archive",
    (ServiceStatus.PUBLISHED, ServiceStatus.ARCHIVED): "archive",
    (ServiceStatus.ARCHIVED, ServiceStatus.DRAFT): "restore",
}


class ListingRefused(ValueError):
    """A change the rules do not allow; the message says why, for the provider."""


@dataclass(frozen=True)
class ListingDetails:
    """Everything a provider says about a listing."""

    name: str
    description: str
    category_codes: list[str]
    price_pence: int
    price_unit: PriceUnit
    minimum_order: int = 1
    area_codes: list[str] = field(default_factory=list)
    delivery_modes: list[str] = field(default_factory=list)
    venue_ids: list[uuid.UUID] = field(default_factory=list)
    opening_times: list[dict[str, Any]] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    accessibility: list[str] = field(default_factory=list)
    eligibility: dict[str, Any] = field(default_factory=dict)
    accepts_personal_budgets: bool = True
    cqc_location_id: str | None = None
    cqc_rating: CqcRating | None = None
    email: str | None = None
    phone: str | None = None
    url: str | None = None


def _by_codes(model: type[TaxonomyTerm] | type[Locality], codes: list[str]) -> list[Any]:
    if not codes:
        return []
    found = list(db.session.scalars(select(model).where(model.code.in_(codes))))
    missing = set(codes) - {row.code for row in found}
    if missing:
        raise ListingRefused(f"Unknown codes: {', '.join(sorted(missing))}")
    return found


def _apply(service: Service, organisation: Organisation, details: ListingDetails) -> None:
    if details.price_unit is PriceUnit.FREE and details.price_pence != 0:
        raise ListingRefused("A free service has a price of £0")
    if details.price_unit is not PriceUnit.FREE and details.price_pence <= 0:
        raise ListingRefused("Enter a price more than £0, or choose free")
    if not details.category_codes:
        raise ListingRefused("Select at least one category")
    own_venues = {venue.id: venue for venue in organisation.locations}
    if set(details.venue_ids) - own_venues.keys():
        raise ListingRefused("Select venues of your own organisation")
    service.name = details.name.strip()
    service.description = details.description.strip()
    service.taxonomy_terms = _by_codes(TaxonomyTerm, details.category_codes)
    service.localities = _by_codes(Locality, details.area_codes)
    service.price_pence = details.price_pence
    service.price_unit = details.price_unit
    service.minimum_order = details.minimum_order
    service.delivery_modes = list(details.delivery_modes)
    service.opening_times = list(details.opening_times)
    service.languages = list(details.languages)
    service.accessibility = list(details.accessibility)
    service.eligibility = dict(details.eligibility)
    service.accepts_personal_budgets = details.accepts_personal_budgets
    service.cqc_location_id = details.cqc_location_id or None
    service.cqc_rating = details.cqc_rating
    service.email = details.email or None
    service.phone = details.phone or None
    service.url = details.url or None
    wanted = set(details.venue_ids)
    service.locations = [link for link in service.locations if link.location_id in wanted]
    linked = {link.location_id for link in service.locations}
    service.locations += [
        ServiceAtLocation(location=own_venues[venue_id])
        for venue_id in details.venue_ids
        if venue_id not in linked
    ]


def create_listing(organisation: Organisation, details: ListingDetails) -> Service:
    """A new draft listing. Raises ListingRefused for details the rules refuse."""
    service = Service(status=ServiceStatus.DRAFT)
    with db.session.no_autoflush:
        _apply(service, organisation, details)
    service.organisation = organisation
    db.session.add(service)
    db.session.flush()
    return service


def update_listing(service: Service, details: ListingDetails) -> None:
    """Change a listing's details; its status and capacity are changed on their own."""
    _apply(service, service.organisation, details)
    db.session.flush()


def move(service: Service, to_status: ServiceStatus) -> None:
    """Publish, unpublish, archive or restore. Raises ListingRefused for any other move."""
    if (service.status, to_status) not in TRANSITIONS:
        raise ListingRefused(f"A {service.status.value} listing cannot be made {to_status.value}")
    service.status = to_status
    db.session.flush()


def update_capacity(
    service: Service,
    *,
    status: CapacityStatus,
    free: int | None,
    earliest_start: date | None,
    now: datetime,
) -> None:
    """Record the listing's capacity as the provider confirms it now."""
    if free is not None and free < 0:
        raise ListingRefused("Hours or places free cannot be negative")
    service.capacity_status = status
    service.capacity_free = free
    service.earliest_start = earliest_start
    service.capacity_confirmed_at = now
    db.session.flush()


def confirm_capacity(service: Service, *, now: datetime) -> None:
    """The one click: the capacity shown is still right."""
    service.capacity_confirmed_at = now
    db.session.flush()


def listing_of(organisation: Organisation, service_id: uuid.UUID) -> Service | None:
    """The organisation's own listing with this id, or None (another's is never found)."""
    return db.session.scalar(
        select(Service).where(Service.id == service_id, Service.organisation_id == organisation.id)
    )


def add_venue(
    organisation: Organisation,
    *,
    name: str,
    address: str,
    town: str,
    postcode: str,
    accessibility: list[str] | None = None,
) -> Location:
    """A new venue of the organisation's, placed by its postcode district where we know it."""
    venue = Location(
        organisation=organisation,
        name=name.strip(),
        address=address.strip(),
        town=town.strip(),
        postcode=postcode.strip().upper(),
        accessibility=list(accessibility or []),
    )
    venue.latitude, venue.longitude = _coordinates_for(venue.postcode)
    db.session.add(venue)
    db.session.flush()
    return venue


def _coordinates_for(postcode: str) -> tuple[float | None, float | None]:
    district = postcode.split(" ")[0] if " " in postcode else postcode[:-3]
    for locality in db.session.scalars(select(Locality).where(Locality.kind == "town")):
        if district in locality.postcode_districts:
            return locality.latitude, locality.longitude
    return None, None


def venue_of(organisation: Organisation, venue_id: uuid.UUID) -> Location | None:
    return db.session.scalar(
        select(Location).where(Location.id == venue_id, Location.organisation_id == organisation.id)
    )


def category_choices() -> list[tuple[str, str]]:
    """(code, label) of every category kind, grouped under its top category's name."""
    terms = list(db.session.scalars(select(TaxonomyTerm).order_by(TaxonomyTerm.position)))
    names = {term.id: term.name for term in terms}
    return [
        (term.code, f"{names[term.parent_id]}: {term.name}" if term.parent_id else term.name)
        for term in terms
    ]
