"""What the feed may show, read from the database: only approved organisations' published
services, their venues and the care taxonomy.

Visibility is decided in the query, every time, so a suspended organisation's services leave the
feed the moment the suspension commits. Lists come back with their total, ordered so that
paging is stable (by name, then id). A page is found by its ids: one statement sorts and skips
narrow (name, id) rows in a subquery and reads only the page's rows whole, never sorting every
row whole. The whole directory's totals (no filters) and its milestones (every 50th row's key,
from which a deep page is read by key) are kept per directory state, as the home page's figures
are (providers/directory_summary.py); a filtered list is counted on each request.
Nothing here commits or knows about requests.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Select, false, func, or_, select, tuple_
from sqlalchemy.orm import selectinload

from marketplace.api.params import Paging, Place, ServiceFilters, TermFilters
from marketplace.extensions import db
from providers.directory_summary import kept
from providers.models import (
    Locality,
    Location,
    Organisation,
    OrganisationStatus,
    Service,
    ServiceAtLocation,
    TaxonomyTerm,
    service_is_public,
    service_localities,
    service_taxonomy_terms,
)
from providers.openreferral.identifiers import (
    CARE_TAXONOMY_DESCRIPTION,
    CARE_TAXONOMY_ID,
    CARE_TAXONOMY_NAME,
    term_id,
)
from providers.search_index import matching_ids

Row = TypeVar("Row")
EARTH_RADIUS_METRES = 6_371_000

_SERVICE_PARTS: tuple[Any, ...] = (
    selectinload(Service.organisation),
    selectinload(Service.taxonomy_terms).selectinload(TaxonomyTerm.parent),
    selectinload(Service.localities),
    selectinload(Service.locations).selectinload(ServiceAtLocation.location),
)
_LINK_PARTS: tuple[Any, ...] = (
    selectinload(ServiceAtLocation.location),
    *(selectinload(ServiceAtLocation.service).options(part) for part in _SERVICE_PARTS),
)


@dataclass(frozen=True)
class Found(Generic[Row]):
    """One page of results (or all of them) and how many there are in all."""

    items: list[Row]
    total: int


def _public() -> list[ColumnElement[bool]]:
    return [service_is_public()]


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def ranked_matches(filters: ServiceFilters) -> Sequence[uuid.UUID] | None:
    """The ids of the services matching the `search` text, best first (None without one).

    The search engine decides (stemming, care synonyms, forgiving spelling, place names) and
    ranks, as on the search page, so the feed answers the same words with the same order.
    """
    if not filters.search:
        return None
    return matching_ids(filters.search, log_source="api")


def _in_rank_order(ids: Iterable[uuid.UUID], ranked: Sequence[uuid.UUID]) -> list[uuid.UUID]:
    """`ids` in the order of `ranked` (the engine's ranking: the search page's order)."""
    wanted = set(ids)
    return [found for found in ranked if found in wanted]


def _paged(ids: Sequence[uuid.UUID], paging: Paging | None) -> list[uuid.UUID]:
    return list(ids[paging.offset : paging.offset + paging.per_page] if paging else ids)


def _page(query: Select[Any], count: Select[Any], paging: Paging | None) -> Found[Any]:
    total = db.session.scalar(count) or 0
    if paging is not None:
        query = query.limit(paging.per_page).offset(paging.offset)
    return Found(list(db.session.scalars(query)), total)


def _total(count: Select[Any], *, kept_as: str | None) -> int:
    """The count's answer. With `kept_as` (a list of the whole directory, unfiltered), kept
    until the directory changes, as the home page's figures are
    (`providers.directory_summary.kept`)."""
    if kept_as is None:
        return db.session.scalar(count) or 0
    return kept(f"feed total: {kept_as}", lambda: db.session.scalar(count) or 0)


MILESTONE_STEP = 50


def _by_page(
    entity: type[Any], narrow: Select[*tuple[Any, ...]], paging: Paging, *, kept_as: str | None
) -> Select[Any]:
    """One page of `entity` in one statement. `narrow` selects the columns the list is ordered
    by, in order, its id last, under the list's conditions: it is sorted, skipped and cut to the
    page in a subquery, and only the page's rows are joined back and read whole, in the same
    order.

    With `kept_as` (a list of the whole directory, unfiltered), a page past the first starts
    from a milestone: the key of every MILESTONE_STEP-th row, kept until the directory changes
    (`providers.directory_summary.kept`). The page is then found by key, walking the list's
    index from the milestone before it and skipping fewer than MILESTONE_STEP rows, so a page
    deep in a national directory costs about what the first page costs, and ORUK's page numbers
    still work (issue 22: a middle page of 100,000 services took 7 times the demo's)."""
    order = list(narrow.selected_columns)
    skip = paging.offset
    if kept_as is not None and skip >= MILESTONE_STEP:
        milestones = kept(f"feed milestones: {kept_as}", lambda: _milestones(narrow))
        passed = skip // MILESTONE_STEP
        if passed >= len(milestones):
            narrow = narrow.where(false())
        else:
            narrow = narrow.where(tuple_(*order) >= tuple_(*milestones[passed]))
            skip -= passed * MILESTONE_STEP
    page = narrow.order_by(*order).limit(paging.per_page).offset(skip).subquery("page")
    return (
        select(entity)
        .join(page, entity.id == page.c.id)
        .order_by(*(page.c[column.name] for column in order))
    )


def _milestones(narrow: Select[*tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The ordering key of the 1st, (MILESTONE_STEP + 1)th, (2 * MILESTONE_STEP + 1)th... row
    of `narrow` in its order: one walk of the list (at 100,000 rows, 2,000 keys)."""
    order = list(narrow.selected_columns)
    numbered = narrow.add_columns(
        func.row_number().over(order_by=order).label("milestone_position")
    ).subquery("numbered")
    keys = [numbered.c[column.name] for column in order]
    return [
        tuple(row)
        for row in db.session.execute(
            select(*keys)
            .where((numbered.c.milestone_position - 1) % MILESTONE_STEP == 0)
            .order_by(numbered.c.milestone_position)
        )
    ]


# Services --------------------------------------------------------------------------------------


def _service_conditions(
    filters: ServiceFilters, ranked: Sequence[uuid.UUID] | None
) -> list[ColumnElement[bool]]:
    conditions = _public()
    if ranked is not None:
        conditions.append(Service.id.in_(list(ranked)))
    if filters.taxonomy_term_id is not None:
        term = term_by_public_id(filters.taxonomy_term_id)
        # A top category also finds the services filed under its kinds.
        ids = [term.id, *(child.id for child in term.children)] if term else []
        conditions.append(
            Service.id.in_(
                select(service_taxonomy_terms.c.service_id).where(
                    service_taxonomy_terms.c.taxonomy_term_id.in_(ids)
                )
            )
            if ids
            else false()
        )
    if filters.taxonomy_id is not None:
        conditions.append(
            Service.taxonomy_terms.any() if filters.taxonomy_id == CARE_TAXONOMY_ID else false()
        )
    if filters.organization_id is not None:
        conditions.append(Service.organisation_id == filters.organization_id)
    if filters.modified_after is not None:
        since = filters.modified_after
        # The same moments `oruk.last_modified` takes the latest of.
        conditions.append(
            or_(
                Service.updated_at >= since,
                Organisation.updated_at >= since,
                Service.locations.any(ServiceAtLocation.location.has(Location.updated_at >= since)),
            )
        )
    return conditions


def services(filters: ServiceFilters, paging: Paging | None) -> Found[Service]:
    """Public services matching `filters`: best match first when there is `search` text, else
    by name; one page of them, or all if no paging."""
    ranked = ranked_matches(filters)
    if ranked is not None:
        ordered: Sequence[uuid.UUID]
        if filters == ServiceFilters(search=filters.search):
            # Search words alone: the index holds only public listings and has just caught up
            # with the outbox (`matching_ids`), so its ranking is the list, and the database
            # is asked only for the page. Checking every match there cost more than the search
            # (an IN list of up to 5,000 ids, and as many read back) and grew with the matches.
            ordered = ranked
        else:
            conditions = _service_conditions(filters, ranked)
            ordered = _in_rank_order(
                db.session.scalars(select(Service.id).join(Organisation).where(*conditions)),
                ranked,
            )
        chosen = _paged(ordered, paging)
        # The page's rows are read with every condition all the same: a listing made private
        # since the index last caught up (a moment ago) is left out of the page.
        loaded = {
            service.id: service
            for service in db.session.scalars(
                select(Service)
                .join(Organisation)
                .where(Service.id.in_(chosen), *_public())
                .options(*_SERVICE_PARTS)
            )
        }
        return Found(
            [loaded[service_id] for service_id in chosen if service_id in loaded], len(ordered)
        )
    conditions = _service_conditions(filters, None)
    count = select(func.count(Service.id)).join(Organisation).where(*conditions)
    if paging is None:
        # All of them: one query (an IN list of every id would outgrow SQLite's parameters).
        every = select(Service).join(Organisation).where(*conditions)
        return _page(every.order_by(Service.name, Service.id).options(*_SERVICE_PARTS), count, None)
    # The page's ids first, then their rows: sorting narrow (name, id) rows and skipping the
    # pages before is far cheaper than sorting every service's whole row (issue 22).
    narrow = select(Service.name, Service.id).join(Organisation).where(*conditions)
    whole = filters == ServiceFilters()
    query = _by_page(Service, narrow, paging, kept_as="services" if whole else None)
    total = _total(count, kept_as="services" if whole else None)
    return Found(list(db.session.scalars(query.options(*_SERVICE_PARTS))), total)


def service(service_id: uuid.UUID) -> Service | None:
    """The public service with this id, or None (also when it exists but is not public)."""
    return db.session.scalar(
        select(Service)
        .join(Organisation)
        .where(Service.id == service_id, *_public())
        .options(*_SERVICE_PARTS)
    )


# Organisations ---------------------------------------------------------------------------------


def organisations(search: str | None, paging: Paging | None) -> Found[Organisation]:
    """Approved organisations, by name, matching `search` on their name or description."""
    conditions: list[ColumnElement[bool]] = [Organisation.status == OrganisationStatus.APPROVED]
    if search:
        pattern = _like(search)
        conditions.append(
            or_(
                Organisation.name.ilike(pattern, escape="\\"),
                Organisation.description.ilike(pattern, escape="\\"),
            )
        )
    query = select(Organisation).where(*conditions).order_by(Organisation.name, Organisation.id)
    count = select(func.count(Organisation.id)).where(*conditions)
    return _page(query, count, paging)


def organisation(organisation_id: uuid.UUID) -> Organisation | None:
    """The approved organisation with this id, or None."""
    return db.session.scalar(
        select(Organisation).where(
            Organisation.id == organisation_id,
            Organisation.status == OrganisationStatus.APPROVED,
        )
    )


def services_of(organisation_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[Service]]:
    """The published services of each organisation, by name (for nesting in organizations)."""
    found: dict[uuid.UUID, list[Service]] = {org_id: [] for org_id in organisation_ids}
    rows = db.session.scalars(
        select(Service)
        .join(Organisation)
        .where(Service.organisation_id.in_(list(organisation_ids)), *_public())
        .order_by(Service.name, Service.id)
        .options(*_SERVICE_PARTS)
    )
    for row in rows:
        found[row.organisation_id].append(row)
    return found


# Services at locations -------------------------------------------------------------------------


def _outward_code(postcode: str) -> str:
    compact = postcode.replace(" ", "").upper()
    return compact[:-3] if len(compact) > 4 else compact


def _covering(outward_code: str, places: list[Locality]) -> list[uuid.UUID]:
    return [place.id for place in places if outward_code in (place.postcode_districts or [])]


def centroid(outward_code: str, places: list[Locality]) -> tuple[float, float] | None:
    """Where a postcode district is, roughly: the middle of the towns (else districts) in it.

    The gazetteer knows places, not postcodes, so this is the best point it can give.
    """
    for kind in ("town", "district"):
        points = [
            (place.latitude, place.longitude)
            for place in places
            if place.kind == kind
            and outward_code in (place.postcode_districts or [])
            and place.latitude is not None
            and place.longitude is not None
        ]
        if points:
            return (
                sum(point[0] for point in points) / len(points),
                sum(point[1] for point in points) / len(points),
            )
    return None


def distance_metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The great-circle distance between two (latitude, longitude) points, in metres."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(h))


def _link_conditions(
    filters: ServiceFilters,
    ranked: Sequence[uuid.UUID] | None,
    place: Place | None,
    places: list[Locality],
) -> list[ColumnElement[bool]]:
    conditions = _service_conditions(filters, ranked)
    if place is not None:
        # A service with areas must cover the postcode; one without says nothing, so stays.
        covering = _covering(place.outward_code, places)
        conditions.append(
            or_(
                Service.id.in_(
                    select(service_localities.c.service_id).where(
                        service_localities.c.locality_id.in_(covering)
                    )
                ),
                ~Service.localities.any(),
            )
        )
    return conditions


def _links_query(conditions: list[ColumnElement[bool]]) -> Select[Any]:
    return (
        select(ServiceAtLocation)
        .join(Service, ServiceAtLocation.service_id == Service.id)
        .join(Organisation, Service.organisation_id == Organisation.id)
        .join(Location, ServiceAtLocation.location_id == Location.id)
        .where(*conditions)
    )


def service_at_locations(
    filters: ServiceFilters, place: Place | None, paging: Paging | None
) -> Found[ServiceAtLocation]:
    """Public services at their venues. With `search` text, the best-matching services first
    (each one's venues by name); else, given a postcode, the nearest first (keeping only those
    within `proximity`, if given); else by service then venue name.
    """
    places = list(db.session.scalars(select(Locality))) if place is not None else []
    ranked = ranked_matches(filters)
    conditions = _link_conditions(filters, ranked, place, places)
    if ranked is not None:
        return _ranked_links(conditions, ranked, place, places, paging)
    if place is None:
        return _links_by_name(
            conditions, whole_directory=filters == ServiceFilters(), paging=paging
        )
    return _nearest(conditions, place, places, paging)


def _links_by_name(
    conditions: list[ColumnElement[bool]], *, whole_directory: bool, paging: Paging | None
) -> Found[ServiceAtLocation]:
    """Services at venues by service name, then venue name: a page found by its ids first."""
    count = (
        select(func.count(ServiceAtLocation.id))
        .join(Service, ServiceAtLocation.service_id == Service.id)
        .join(Organisation, Service.organisation_id == Organisation.id)
        .where(*conditions)
    )
    if paging is None:
        every = _links_query(conditions).order_by(Service.name, Location.name, ServiceAtLocation.id)
        return _page(every.options(*_LINK_PARTS), count, None)
    narrow = _links_query(conditions).with_only_columns(
        Service.name.label("service_name"), Location.name.label("venue_name"), ServiceAtLocation.id
    )
    kept_as = "service_at_locations" if whole_directory else None
    query = _by_page(ServiceAtLocation, narrow, paging, kept_as=kept_as)
    total = _total(count, kept_as=kept_as)
    return Found(list(db.session.scalars(query.options(*_LINK_PARTS))), total)


def _ranked_links(
    conditions: list[ColumnElement[bool]],
    ranked: Sequence[uuid.UUID],
    place: Place | None,
    places: list[Locality],
    paging: Paging | None,
) -> Found[ServiceAtLocation]:
    """The matching services' venues in the services' rank order, each service's venues by
    name, and only those within `proximity` of the place when one is given."""
    rank = {service_id: n for n, service_id in enumerate(ranked)}
    rows = db.session.execute(
        _links_query(conditions).with_only_columns(
            ServiceAtLocation.id,
            ServiceAtLocation.service_id,
            Location.name,
            Location.latitude,
            Location.longitude,
            Location.postcode,
        )
    ).all()
    centre = centroid(place.outward_code, places) if place is not None else None
    radius = (
        float(place.proximity_metres)
        if place is not None and place.proximity_metres is not None
        else None
    )
    kept = []
    for link_id, service_id, venue_name, latitude, longitude, postcode in rows:
        if radius is not None:
            point = _venue_point(latitude, longitude, postcode, places)
            if centre is None or point is None or distance_metres(centre, point) > radius:
                continue
        kept.append((rank[service_id], venue_name, str(link_id), link_id))
    kept.sort()
    chosen = _paged([link_id for *_, link_id in kept], paging)
    return Found(_links_by_id(chosen), len(kept))


def _venue_point(
    latitude: float | None, longitude: float | None, postcode: str, places: list[Locality]
) -> tuple[float, float] | None:
    """Where a venue is: its own coordinates, or its postcode district's centre."""
    if latitude is not None and longitude is not None:
        return (latitude, longitude)
    return centroid(_outward_code(postcode), places)


def _links_by_id(ids: list[uuid.UUID]) -> list[ServiceAtLocation]:
    loaded = {
        link.id: link
        for link in db.session.scalars(
            select(ServiceAtLocation).where(ServiceAtLocation.id.in_(ids)).options(*_LINK_PARTS)
        )
    }
    return [loaded[link_id] for link_id in ids]


def _nearest(
    conditions: list[ColumnElement[bool]],
    place: Place,
    places: list[Locality],
    paging: Paging | None,
) -> Found[ServiceAtLocation]:
    """The venues nearest the place first (those with no known place last, by name), within
    `proximity` when one is given."""
    centre = centroid(place.outward_code, places)
    if centre is None:
        return Found([], 0)
    radius = float(place.proximity_metres) if place.proximity_metres is not None else None
    candidates = db.session.execute(
        _links_query(conditions).with_only_columns(
            ServiceAtLocation.id,
            Location.latitude,
            Location.longitude,
            Location.postcode,
            Service.name,
        )
    )
    near: list[tuple[float, str, str, uuid.UUID]] = []
    for link_id, latitude, longitude, postcode, service_name in candidates:
        point = _venue_point(latitude, longitude, postcode, places)
        metres = distance_metres(centre, point) if point is not None else math.inf
        if radius is None or metres <= radius:
            near.append((metres, service_name, str(link_id), link_id))
    near.sort()
    chosen = _paged([link_id for *_, link_id in near], paging)
    return Found(_links_by_id(chosen), len(near))


def service_at_location(link_id: uuid.UUID) -> ServiceAtLocation | None:
    """The service at a venue with this id, if the service is public; else None."""
    return db.session.scalar(
        _links_query([ServiceAtLocation.id == link_id, *_public()]).options(*_LINK_PARTS)
    )


# Taxonomy --------------------------------------------------------------------------------------


def all_terms() -> list[TaxonomyTerm]:
    """Every care taxonomy term, each top category followed by its kinds."""
    return list(
        db.session.scalars(
            select(TaxonomyTerm)
            .order_by(TaxonomyTerm.position, TaxonomyTerm.code)
            .options(selectinload(TaxonomyTerm.parent))
        )
    )


def term_by_public_id(public_id: uuid.UUID) -> TaxonomyTerm | None:
    """The term the feed calls `public_id` (ids derive from codes; the taxonomy is small)."""
    return next((term for term in all_terms() if term_id(term.code) == public_id), None)


def taxonomy_matches(search: str | None) -> bool:
    """Whether the care taxonomy's name or description contains `search` (any case)."""
    if not search:
        return True
    needle = search.casefold()
    return needle in CARE_TAXONOMY_NAME.casefold() or needle in CARE_TAXONOMY_DESCRIPTION.casefold()


def taxonomy_terms(filters: TermFilters, paging: Paging | None) -> Found[TaxonomyTerm]:
    """Care taxonomy terms matching `filters`, top categories each followed by their kinds."""
    conditions: list[ColumnElement[bool]] = []
    if filters.taxonomy_id is not None and filters.taxonomy_id != CARE_TAXONOMY_ID:
        conditions.append(false())
    if filters.top_only:
        conditions.append(TaxonomyTerm.parent_id.is_(None))
    if filters.parent_id is not None:
        parent = term_by_public_id(filters.parent_id)
        conditions.append(TaxonomyTerm.parent_id == parent.id if parent else false())
    if filters.search:
        pattern = _like(filters.search)
        conditions.append(
            or_(
                TaxonomyTerm.name.ilike(pattern, escape="\\"),
                TaxonomyTerm.description.ilike(pattern, escape="\\"),
            )
        )
    query = (
        select(TaxonomyTerm)
        .where(*conditions)
        .order_by(TaxonomyTerm.position, TaxonomyTerm.code)
        .options(selectinload(TaxonomyTerm.parent))
    )
    count = select(func.count(TaxonomyTerm.id)).where(*conditions)
    return _page(query, count, paging)
