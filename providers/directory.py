"""Read the directory: what the public may see, and what the council and providers manage."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, func, select
from sqlalchemy.orm import aliased, contains_eager

from marketplace.extensions import db
from providers.models import (
    Locality,
    Organisation,
    OrganisationStatus,
    Service,
    ServiceStatus,
    TaxonomyTerm,
    service_is_public,
    service_localities,
    service_taxonomy_terms,
)


@dataclass(frozen=True)
class CategoryCount:
    term: TaxonomyTerm
    services: int


def _public_services() -> Select[tuple[uuid.UUID]]:
    """The ids of services anyone may see: published, of an approved organisation."""
    return select(Service.id).join(Organisation).where(service_is_public())


def public_service_count() -> int:
    """Published services of approved organisations: what anyone may see."""
    return db.session.scalar(select(func.count()).select_from(_public_services().subquery())) or 0


def top_category_counts() -> list[CategoryCount]:
    """Each top-level category with how many public services sit in it or its kinds."""
    public = _public_services().subquery()
    child = aliased(TaxonomyTerm)
    in_category = (
        select(
            func.coalesce(child.parent_id, child.id).label("top_id"),
            service_taxonomy_terms.c.service_id,
        )
        .join(child, child.id == service_taxonomy_terms.c.taxonomy_term_id)
        .where(service_taxonomy_terms.c.service_id.in_(select(public.c.id)))
        .distinct()
        .subquery()
    )
    counts = dict(
        db.session.execute(
            select(in_category.c.top_id, func.count()).group_by(in_category.c.top_id)
        ).all()
    )
    tops = db.session.scalars(
        select(TaxonomyTerm).where(TaxonomyTerm.parent_id.is_(None)).order_by(TaxonomyTerm.position)
    )
    return [CategoryCount(term, counts.get(term.id, 0)) for term in tops]


def districts() -> list[Locality]:
    """The county's areas, by name."""
    return list(
        db.session.scalars(
            select(Locality).where(Locality.kind == "district").order_by(Locality.name)
        )
    )


def organisation_counts_by_status() -> dict[OrganisationStatus, int]:
    rows = db.session.execute(
        select(Organisation.status, func.count()).group_by(Organisation.status)
    ).all()
    counts = dict.fromkeys(OrganisationStatus, 0)
    counts.update({status: count for status, count in rows})
    return counts


def organisations_with_status(status: OrganisationStatus) -> list[Organisation]:
    return list(
        db.session.scalars(
            select(Organisation)
            .where(Organisation.status == status)
            .order_by(Organisation.created_at)
        )
    )


def organisation(organisation_id: uuid.UUID) -> Organisation | None:
    return db.session.get(Organisation, organisation_id)


def public_service(service_id: uuid.UUID) -> Service | None:
    """A service anyone may see (published, its organisation approved), or None; its
    organisation read in the same statement (every page showing a service names it)."""
    return db.session.scalar(
        select(Service)
        .join(Service.organisation)
        .options(contains_eager(Service.organisation))
        .where(Service.id == service_id, service_is_public())
    )


def public_organisation(organisation_id: uuid.UUID) -> Organisation | None:
    """An approved organisation, or None."""
    return db.session.scalar(
        select(Organisation).where(
            Organisation.id == organisation_id,
            Organisation.status == OrganisationStatus.APPROVED,
        )
    )


def public_services_of(organisation: Organisation) -> list[Service]:
    """The organisation's published services, by name."""
    return [s for s in organisation.services if s.status is ServiceStatus.PUBLISHED]


def areas_served(organisation: Organisation, services: list[Service]) -> list[Locality]:
    """Where a provider works: the areas it gave for itself, else every area its public
    listings name, by name."""
    if organisation.areas:
        return list(organisation.areas)
    if not services:
        return []
    # Every listing's areas in one statement, not one a listing.
    return list(
        db.session.scalars(
            select(Locality)
            .where(
                Locality.id.in_(
                    select(service_localities.c.locality_id).where(
                        service_localities.c.service_id.in_([service.id for service in services])
                    )
                )
            )
            .order_by(Locality.name)
        )
    )


def locality_names() -> dict[str, str]:
    """Every locality's name by its code."""
    return {code: name for code, name in db.session.execute(select(Locality.code, Locality.name))}
