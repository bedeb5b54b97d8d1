"""The directory's side of help at once (issue 20, HELP): where a postcode is, the area's lead
providers, the best few public services of each wanted category, and the brokerages, each in
one statement whatever the directory's size (`help_now` puts them together). Reads only.

A person's area is the district their postcode is in and the towns in it whose postcode
districts include theirs (all its towns when none does); a service naming no areas serves
where its organisation does, as for lead providers (`providers.lead_providers`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from marketplace.types import Session
from providers.lead_providers import in_force, outward_code
from providers.models import (
    CapacityStatus,
    LeadProvider,
    Locality,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    PriceUnit,
    Service,
    TaxonomyTerm,
    organisation_localities,
    service_is_public,
    service_localities,
    service_taxonomy_terms,
)

# At most how many services of each category (free and paid apart) are read to choose from.
PER_CATEGORY = 3


@dataclass(frozen=True)
class Brokerage:
    """An approved brokerage serving the person's area, linked to its public page."""

    organisation_id: uuid.UUID
    name: str
    phone: str | None
    email: str | None


@dataclass(frozen=True)
class Place:
    """Where the person lives, as the directory knows it: their district, the localities that
    count as their area, a centre to measure distance from, and the name the page says."""

    district: Locality | None
    covering: frozenset[uuid.UUID]
    latitude: float | None
    longitude: float | None
    name: str | None


def place_of(session: Session, postcode: str | None) -> Place:
    """Where `postcode` (full, or just its first half) is: its district and area, or a Place
    with no district when the gazetteer has no district for it. One statement."""
    # The gazetteer is a few dozen rows: one statement for all, then matched here.
    localities = list(session.scalars(select(Locality)))
    outward = outward_code(postcode)
    district = next(
        (
            place
            for place in localities
            if place.kind == "district" and outward in (place.postcode_districts or [])
        ),
        None,
    )
    if district is None or not outward:
        return Place(None, frozenset(), None, None, None)
    towns = [place for place in localities if place.parent_id == district.id]
    own = [town for town in towns if outward in (town.postcode_districts or [])]
    # A postcode district no town lists: any town of the district may be theirs.
    covering = {district.id, *(town.id for town in (own or towns))}
    centre = own[0] if own and own[0].latitude is not None else district
    return Place(
        district,
        frozenset(covering),
        centre.latitude,
        centre.longitude,
        own[0].name if len(own) == 1 else district.name,
    )


def leads_in_force(session: Session, place: Place, today: date) -> list[tuple[uuid.UUID, str]]:
    """The lead providers in force in the place's district on `today`, as (organisation id,
    category code): none where the district is not known. One statement at most."""
    if place.district is None:
        return []
    return [
        (lead.organisation_id, lead.category_code)
        for lead in session.scalars(
            select(LeadProvider).where(
                LeadProvider.locality_id == place.district.id, in_force(today)
            )
        )
    ]


def ranked_services(
    session: Session,
    codes: Iterable[str],
    place: Place,
    leads: list[tuple[uuid.UUID, str]],
) -> list[Any]:
    """One statement: for each wanted category (and free or not), its best PER_CATEGORY public
    services with what the page shows, in the area first, then lead, accepting, nearest."""
    wanted = list(codes)
    term = aliased(TaxonomyTerm)
    parent = aliased(TaxonomyTerm)
    key = case((term.code.in_(wanted), term.code), else_=parent.code)
    # The areas each service serves: its own, or its organisation's when it names none.
    areas = union_all(
        select(
            service_localities.c.service_id.label("service_id"),
            service_localities.c.locality_id.label("locality_id"),
        ),
        select(Service.id, organisation_localities.c.locality_id)
        .join(
            organisation_localities,
            organisation_localities.c.organisation_id == Service.organisation_id,
        )
        .where(~exists().where(service_localities.c.service_id == Service.id)),
    ).subquery()
    local: ColumnElement[Any] = (
        case((Locality.id.in_(place.covering), 1), else_=0) if place.covering else literal(0)
    )
    if place.latitude is not None and place.longitude is not None:
        # Squared distance in degrees, longitude shrunk for the county's latitude: enough to
        # tell nearer from further, and plain arithmetic both databases do.
        distance: ColumnElement[Any] = func.coalesce(
            (Locality.latitude - place.latitude) * (Locality.latitude - place.latitude)
            + (Locality.longitude - place.longitude)
            * (Locality.longitude - place.longitude)
            * 0.38,
            1000.0,
        )
    else:
        distance = literal(0.0)
    lead: ColumnElement[Any] = (
        case(
            *[
                (
                    and_(
                        Service.organisation_id == organisation_id,
                        Locality.id.in_(place.covering),
                        or_(term.code == code, parent.code == code),
                    ),
                    1,
                )
                for organisation_id, code in leads
            ],
            else_=0,
        )
        if leads
        else literal(0)
    )
    free = Service.price_unit == PriceUnit.FREE
    # Each row: a service, a wanted category it is in and one area it serves; then one row
    # per service and category, with the best of its areas.
    rows = (
        select(
            Service.id.label("service_id"),
            key.label("code"),
            free.label("free"),
            Service.name.label("name"),
            Organisation.name.label("provider_name"),
            Service.price_pence.label("price_pence"),
            Service.price_unit.label("price_unit"),
            case((Service.capacity_status == CapacityStatus.FULL, 1), else_=0).label("full"),
            local.label("local"),
            lead.label("lead"),
            distance.label("distance"),
        )
        .join(Organisation, Service.organisation_id == Organisation.id)
        .join(service_taxonomy_terms, service_taxonomy_terms.c.service_id == Service.id)
        .join(term, term.id == service_taxonomy_terms.c.taxonomy_term_id)
        .outerjoin(parent, parent.id == term.parent_id)
        .join(areas, areas.c.service_id == Service.id)
        .join(Locality, Locality.id == areas.c.locality_id)
        .where(
            service_is_public(),
            Organisation.kind == OrganisationKind.PROVIDER,
            or_(term.code.in_(wanted), parent.code.in_(wanted)),
        )
        .subquery()
    )
    shown = (
        rows.c.service_id,
        rows.c.code,
        rows.c.free,
        rows.c.name,
        rows.c.provider_name,
        rows.c.price_pence,
        rows.c.price_unit,
        rows.c.full,
    )
    per_service = (
        select(
            *shown,
            func.max(rows.c.local).label("local"),
            func.max(rows.c.lead).label("lead"),
            func.min(rows.c.distance).label("distance"),
        )
        .group_by(*shown)
        .subquery()
    )
    rank = (
        func.row_number()
        .over(
            partition_by=(per_service.c.code, per_service.c.free),
            order_by=(
                per_service.c.local.desc(),
                per_service.c.lead.desc(),
                per_service.c.full,
                per_service.c.distance,
                per_service.c.name,
                per_service.c.service_id,
            ),
        )
        .label("rank")
    )
    ranked = select(per_service, rank).subquery()
    return list(
        session.execute(
            select(ranked).where(ranked.c.rank <= PER_CATEGORY).order_by(ranked.c.rank)
        ).all()
    )


def approved_brokerages(session: Session, *, at_most: int = 20) -> tuple[Brokerage, ...]:
    """The council's approved brokerages, by name (at most `at_most`), for the page on paying
    for one's own care. One statement."""
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.phone, Organisation.email)
        .where(
            Organisation.kind == OrganisationKind.BROKERAGE,
            Organisation.status == OrganisationStatus.APPROVED,
        )
        .order_by(Organisation.name)
        .limit(at_most)
    ).all()
    return tuple(Brokerage(row.id, row.name, row.phone, row.email) for row in rows)


def brokerages_serving(session: Session, place: Place, *, at_most: int) -> tuple[Brokerage, ...]:
    """The approved brokerages serving `place` (naming no area: they work county-wide), by
    name, at most `at_most`. One statement."""
    serves_area = or_(
        ~exists().where(organisation_localities.c.organisation_id == Organisation.id),
        exists().where(
            organisation_localities.c.organisation_id == Organisation.id,
            organisation_localities.c.locality_id.in_(place.covering)
            if place.covering
            else false(),
        ),
    )
    rows = session.execute(
        select(Organisation.id, Organisation.name, Organisation.phone, Organisation.email)
        .where(
            Organisation.kind == OrganisationKind.BROKERAGE,
            Organisation.status == OrganisationStatus.APPROVED,
            serves_area,
        )
        .order_by(Organisation.name)
        .limit(at_most)
    ).all()
    return tuple(Brokerage(row.id, row.name, row.phone, row.email) for row in rows)
