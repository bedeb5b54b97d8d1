"""Listings against the CQC's directory: the rating people are shown, and what the council is
told to look at.

A listing's CQC rating on any page comes from the imported directory, found by the CQC
location ID the provider gave, never from the rating the provider typed: that is only their
claim, which `flag_for` compares with the CQC's word.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select
from sqlalchemy.orm import selectinload

from marketplace.cqc.models import CqcLocation
from marketplace.extensions import db
from providers.models import CqcRating, Organisation, Service, ServiceStatus


class FlagKind(enum.StrEnum):
    UNKNOWN = "unknown"
    DEREGISTERED = "deregistered"
    OTHER_PROVIDER = "other_provider"
    RATING_DIFFERS = "rating_differs"

    @property
    def label(self) -> str:
        return {
            "unknown": "Location ID not in the CQC's directory",
            "deregistered": "No longer registered with the CQC",
            "other_provider": "The CQC registers this location to another provider",
            "rating_differs": "Rated differently from what the provider claims",
        }[self.value]


@dataclass(frozen=True)
class ListingFlag:
    """A listing whose CQC claim the council should look at."""

    service: Service
    kind: FlagKind
    location: CqcLocation | None

    @property
    def claimed_rating(self) -> CqcRating | None:
        return self.service.cqc_rating


def _same_id(ours: str | None, theirs: str) -> bool:
    return (ours or "").strip().upper() == theirs.strip().upper()


def flag_for(
    claimed_rating: CqcRating | None,
    location: CqcLocation | None,
    provider_id: str | None = None,
) -> FlagKind | None:
    """Why a listing naming a CQC location ID needs the council's eye, or None when the CQC's
    directory bears its claim out. `location` is what the directory holds for the ID (None
    when it holds nothing); `provider_id` is the CQC provider ID the listing's organisation
    gives, if any: the location must be that provider's. A listing that claims no rating is
    only checked for registration; "not yet rated" matches a location the CQC has published
    no overall rating for."""
    if location is None:
        return FlagKind.UNKNOWN
    if not location.registered:
        return FlagKind.DEREGISTERED
    if provider_id and not _same_id(provider_id, location.provider_id):
        return FlagKind.OTHER_PROVIDER
    if claimed_rating is None:
        return None
    cqc_says = location.rating or CqcRating.NOT_YET_RATED
    return None if claimed_rating is cqc_says else FlagKind.RATING_DIFFERS


def _shown(service: Service, location: CqcLocation | None) -> CqcLocation | None:
    # A rating is shown for a registered location, and not for one the CQC registers to a
    # provider other than the one the organisation says it is.
    if location is None or not location.registered:
        return None
    provider_id = service.organisation.cqc_provider_id
    if provider_id and not _same_id(provider_id, location.provider_id):
        return None
    return location


def directory_imported() -> bool:
    """Whether any CQC directory file has been imported (until one is, nothing is checked)."""
    return bool(db.session.scalar(select(exists().where(CqcLocation.id.is_not(None)))))


def location_for(location_id: str | None) -> CqcLocation | None:
    """What the imported directory holds for a CQC location ID, registered or not."""
    if not location_id:
        return None
    return db.session.scalar(
        select(CqcLocation).where(CqcLocation.location_id == location_id.strip())
    )


Verified = Mapping[uuid.UUID, CqcLocation]
# Location ids looked up a statement: an IN list within PostgreSQL's 65,535 parameters.
LOOKUP_BATCH = 1000


def verified_location(service: Service, looked_up: Verified | None = None) -> CqcLocation | None:
    """The CQC location a listing names, when the newest directory lists it as registered
    (to the organisation's CQC provider ID, when it gives one): the only source of the rating
    shown for the listing. None for an unknown or deregistered ID, another provider's
    location, or a listing that names none. A list passes `looked_up`, its listings' locations
    found at once (`verified_locations`), so that no listing costs a statement of its own."""
    if not service.cqc_location_id:
        return None
    if looked_up is not None:
        return looked_up.get(service.id)
    return _shown(service, location_for(service.cqc_location_id))


def verified_locations(services: Iterable[Service]) -> dict[uuid.UUID, CqcLocation]:
    """`verified_location` for many listings at once, by listing id (listings without one
    are left out): one statement for a list (a statement per LOOKUP_BATCH locations), where
    `verified_location` is one a listing."""
    services = list(services)
    ids = sorted(
        {service.cqc_location_id.strip() for service in services if service.cqc_location_id}
    )
    found = {
        location.location_id: location
        for start in range(0, len(ids), LOOKUP_BATCH)
        for location in db.session.scalars(
            select(CqcLocation).where(
                CqcLocation.location_id.in_(ids[start : start + LOOKUP_BATCH])
            )
        )
    }
    verified = {}
    for service in services:
        location = _shown(service, found.get((service.cqc_location_id or "").strip()))
        if location is not None:
            verified[service.id] = location
    return verified


def listing_flags() -> list[ListingFlag]:
    """Every listing not archived whose CQC location ID is unknown to the imported directory,
    deregistered, or rated differently from the provider's claim; by organisation then
    listing name. Empty until a directory has been imported."""
    if not directory_imported():
        return []
    services = list(
        db.session.scalars(
            select(Service)
            .join(Organisation)
            .where(Service.cqc_location_id.is_not(None), Service.status != ServiceStatus.ARCHIVED)
            .options(selectinload(Service.organisation))
            .order_by(Organisation.name, Service.name)
        )
    )
    ids = {(service.cqc_location_id or "").strip() for service in services}
    locations = {
        location.location_id: location
        for location in db.session.scalars(
            select(CqcLocation).where(CqcLocation.location_id.in_(ids))
        )
    }
    flags = []
    for service in services:
        location = locations.get((service.cqc_location_id or "").strip())
        kind = flag_for(service.cqc_rating, location, service.organisation.cqc_provider_id)
        if kind is not None:
            flags.append(ListingFlag(service=service, kind=kind, location=location))
    return flags


@dataclass(frozen=True)
class DirectoryState:
    """How much of the CQC's directory is held, and when an import last changed it."""

    registered: int
    deregistered: int
    last_changed_at: datetime | None


def directory_state() -> DirectoryState:
    """Counts of registered and deregistered locations and the newest change."""
    registered, deregistered, last_changed_at = db.session.execute(
        select(
            func.count().filter(CqcLocation.deregistered_at.is_(None)),
            func.count().filter(CqcLocation.deregistered_at.is_not(None)),
            func.max(CqcLocation.changed_at),
        )
    ).one()
    return DirectoryState(registered, deregistered, last_changed_at)


@dataclass(frozen=True)
class ListingStanding:
    """What the CQC's directory says of one listing's CQC details, for its provider."""

    location: CqcLocation | None  # what the directory holds for the ID, registered or not
    flag: FlagKind | None  # why the council is told, or None when the claim is borne out


def listing_standing(service: Service) -> ListingStanding | None:
    """The directory's word on a listing's CQC location ID and claimed rating, the same as
    the council's list and the public pages use; None when the listing names no ID or no
    directory has been imported."""
    if not service.cqc_location_id or not directory_imported():
        return None
    location = location_for(service.cqc_location_id)
    flag = flag_for(service.cqc_rating, location, service.organisation.cqc_provider_id)
    return ListingStanding(location=location, flag=flag)
