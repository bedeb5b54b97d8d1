"""Apply one imported record: find or create its organisation, its service and its venues.

Rows are found by the file's id (`source_id`), or by our own id when the file is one of our
exports; a new row takes the file's id as its own when that is a UUID we do not use yet, so an
export imported into an empty database exports again to the same file. An organisation the ids
do not find is looked for by registration number, then by normalised name
(`organisations.OrganisationIndex`), so one already in the directory (say, one that registered
itself) is not made again as a pending copy; the report says which it matched. Only what
differs is written, so re-importing a file leaves rows (and their `updated_at`) alone.

Categories are matched by taxonomy code, feed id or name; areas by locality code, name or alias
(where a district and a town share a name, the district: the wider area). Anything unknown
rejects the record. The caller runs this inside a savepoint and rolls it back on Rejected.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select

from marketplace.extensions import db
from providers.models import (
    Locality,
    Location,
    Organisation,
    OrganisationStatus,
    OrganisationStatusChange,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from providers.openreferral.identifiers import parse_uuid, term_id
from providers.openreferral.oruk import local_date
from providers.openreferral.records import (
    KEEP,
    Keep,
    OrganisationRecord,
    ServiceRecord,
    VenueRecord,
    given,
)
from providers.organisations import REGISTRATION_NUMBERS, AmbiguousMatch, OrganisationIndex
from providers.organisations import other_registration as other_registration_of
from providers.reference_data import ensure_localities, ensure_taxonomy, gazetteer_entries

Row = TypeVar("Row", Organisation, Service, Location, ServiceAtLocation)
LONDON = ZoneInfo("Europe/London")
STATUS_FOR = {
    "active": ServiceStatus.PUBLISHED,
    "inactive": ServiceStatus.DRAFT,
    # Not taking anyone for now: off the public pages until the provider publishes it again.
    "temporarily closed": ServiceStatus.DRAFT,
    "defunct": ServiceStatus.ARCHIVED,
}


class Rejected(ValueError):
    """The record cannot be imported; `problems` says why, for the person importing."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Lookups:
    """The taxonomy and gazetteer by every name a file may use, and the organisations already
    in the directory, loaded once per import."""

    terms: dict[str, TaxonomyTerm]
    places: dict[str, Locality]
    centres: dict[str, tuple[float, float]]
    organisations: OrganisationIndex

    @classmethod
    def load(cls) -> Lookups:
        """Bring the reference data in (an empty database gets it) and index it."""
        ensure_taxonomy()
        ensure_localities()
        terms: dict[str, TaxonomyTerm] = {}
        for term in db.session.scalars(select(TaxonomyTerm)):
            terms[term.code] = term
            terms[str(term_id(term.code))] = term
            terms.setdefault("name:" + term.name.casefold(), term)
        rows = {place.code: place for place in db.session.scalars(select(Locality))}
        places: dict[str, Locality] = dict(rows)
        centres: dict[str, tuple[float, float]] = {}
        # Districts first, so that a name a district shares with its town means the district.
        for entry in sorted(gazetteer_entries(), key=lambda entry: entry.kind != "district"):
            for name in (entry.name, *entry.aliases):
                places.setdefault("name:" + name.casefold(), rows[entry.code])
            if entry.kind == "town":
                for district in entry.postcode_districts:
                    centres.setdefault(district, (entry.latitude, entry.longitude))
        return cls(terms, places, centres, OrganisationIndex())

    def categories(self, refs: list[str]) -> tuple[list[TaxonomyTerm], list[str]]:
        """The terms `refs` name, and a problem for each one that names none."""
        found, unknown = _resolve(refs, self.terms)
        return found, [
            f"Unknown category {ref!r}: use a care taxonomy code or name, like personal-care"
            for ref in unknown
        ]

    def areas(self, refs: list[str]) -> tuple[list[Locality], list[str]]:
        """The localities `refs` name, and a problem for each one that names none."""
        found, unknown = _resolve(refs, self.places)
        return found, [
            f"Unknown area {ref!r}: use a locality code or name from the gazetteer, like stevenage"
            for ref in unknown
        ]

    def centre(self, postcode: str) -> tuple[float | None, float | None]:
        """Roughly where a postcode is: its district's first town, if the gazetteer has it."""
        compact = postcode.replace(" ", "").upper()
        return self.centres.get(compact[:-3], (None, None))


def _resolve(refs: list[str], index: dict[str, Any]) -> tuple[list[Any], list[str]]:
    found: list[Any] = []
    unknown: list[str] = []
    for ref in refs:
        key = ref.strip()
        match = index.get(key) or index.get(key.lower()) or index.get("name:" + key.casefold())
        if match is None:
            unknown.append(ref)
        elif match not in found:
            found.append(match)
    return found, unknown


def _find(model: type[Row], source_id: str | None) -> Row | None:
    if not source_id:
        return None
    row = db.session.scalar(select(model).where(model.source_id == source_id))
    own_id = parse_uuid(source_id)
    if row is None and own_id is not None:
        row = db.session.get(model, own_id)
    return row


def _fresh_id(model: type[Row], source_id: str | None) -> uuid.UUID:
    own_id = parse_uuid(source_id or "")
    if own_id is not None and db.session.get(model, own_id) is None:
        return own_id
    return uuid.uuid4()


def _set(row: Any, values: dict[str, Any]) -> list[str]:
    """Write the values that differ (KEEP ones are skipped); the names of those written."""
    changed = []
    for name, value in values.items():
        if value is not KEEP and getattr(row, name) != value:
            setattr(row, name, value)
            changed.append(name)
    return changed


def _words(fields: list[str]) -> str:
    """Column names as the report says them: price_pence -> price."""
    return ", ".join(name.removesuffix("_pence").replace("_", " ") for name in fields)


def _same(rows: list[Any], others: list[Any]) -> bool:
    return [row.id for row in rows] == [other.id for other in others]


def apply_record(
    record: ServiceRecord, lookups: Lookups, *, approve: bool, source: str
) -> tuple[Literal["created", "updated", "unchanged"], list[str]]:
    """Create or update the record's organisation, service and venues; flushes.

    Returns whether the service was created, updated or unchanged, with messages about the
    organisation and what changed. Raises Rejected (changing nothing) for an unknown category
    or area, a new service without a price, or an id that belongs to another organisation.
    """
    terms, found = lookups.categories(record.category_refs)
    areas, more = lookups.areas(given(record.area_refs) or [])
    found += more
    organisation_areas: list[Locality] | Keep = KEEP
    if record.organisation.area_refs is not KEEP:
        organisation_areas, more = lookups.areas(record.organisation.area_refs)
        found += more
    if found:
        raise Rejected(found)
    with db.session.no_autoflush:
        organisation, messages = _organisation(record, lookups, approve=approve, source=source)
        _organisation_areas(organisation, organisation_areas, areas)
        service, changed = _service(record, organisation, terms, areas, lookups)
    db.session.flush()
    if service is None:
        return "created", messages
    if changed:
        return "updated", [*messages, f"Changed: {_words(changed)}"]
    return "unchanged", messages


def _numbers(details: OrganisationRecord) -> dict[str, str | None]:
    return {field: given(getattr(details, field)) for field, _label in REGISTRATION_NUMBERS}


def _existing(
    details: OrganisationRecord, index: OrganisationIndex
) -> tuple[Organisation | None, list[str]]:
    """The organisation the file's id names or, failing that, the one already in the directory
    under another id (or none) with the same registration number or name; with what the report
    says about it. Raises Rejected when several answer to the name or number."""
    organisation = _find(Organisation, details.source_id)
    if organisation is not None:
        return organisation, []
    numbers = _numbers(details)
    try:
        match = index.match(details.name, numbers)
    except AmbiguousMatch as ambiguous:
        raise Rejected(
            [
                f"Organisation {details.name!r} {ambiguous}: give the record the id of the one "
                "it is, or a registration number"
            ]
        ) from None
    if match is None:
        notes = [
            f"Organisation {details.name!r} is named like existing organisation "
            f"{namesake.name!r}, which has another {other_registration_of(namesake, numbers)}: "
            "a different organisation"
            for namesake in index.namesakes(details.name)
        ]
        return None, notes
    organisation = match.organisation
    if organisation.source_id is None:
        # So the next import of this file finds it by the file's id.
        organisation.source_id = details.source_id
    return organisation, [
        f"Organisation {details.name!r} matches existing organisation {organisation.name!r} "
        f"by {match.by}: the record is imported into it, not as a new organisation"
    ]


def _organisation(
    record: ServiceRecord, lookups: Lookups, *, approve: bool, source: str
) -> tuple[Organisation, list[str]]:
    details = record.organisation
    organisation, notes = _existing(details, lookups.organisations)
    matched = bool(organisation and notes)
    messages: list[str] = []
    becomes_public = approve and record.status == "active"
    if organisation is None:
        organisation = Organisation(
            id=_fresh_id(Organisation, details.source_id),
            source_id=details.source_id,
            name=details.name,
            description=details.description,
            status=OrganisationStatus.PENDING,
        )
        db.session.add(organisation)
        _record_status(organisation, None, source, approved=becomes_public)
        messages.append(
            f"Organisation {details.name!r} created: "
            + ("approved" if becomes_public else "pending until the council approves it")
        )
    elif organisation.status is OrganisationStatus.PENDING and becomes_public:
        _record_status(organisation, OrganisationStatus.PENDING, source, approved=True)
        messages.append(f"Organisation {details.name!r} approved")
    changed = _set(
        organisation,
        {
            "name": details.name,
            "description": details.description,
            "email": details.email,
            "phone": details.phone,
            "website": details.website,
            "address": details.address,
            "postcode": details.postcode,
            "companies_house_number": details.companies_house_number,
            "charity_number": details.charity_number,
            "cqc_provider_id": details.cqc_provider_id,
        },
    )
    if changed and (matched or not messages):
        messages.append(f"Organisation {details.name!r} changed: {_words(changed)}")
    lookups.organisations.add(organisation)
    return organisation, [*notes, *messages] if matched else [*messages, *notes]


def _record_status(
    organisation: Organisation, was: OrganisationStatus | None, source: str, *, approved: bool
) -> None:
    to_status = OrganisationStatus.APPROVED if approved else OrganisationStatus.PENDING
    organisation.status = to_status
    reason = f"Imported from {source}" + (" with --approve" if approved else "")
    db.session.add(
        OrganisationStatusChange(
            organisation=organisation, from_status=was, to_status=to_status, reason=reason
        )
    )


def _organisation_areas(
    organisation: Organisation, given_areas: list[Locality] | Keep, service_areas: list[Locality]
) -> None:
    if given_areas is not KEEP:
        if not _same(organisation.areas, given_areas):
            organisation.areas = list(given_areas)
        return
    # The file does not say where the organisation works: at least where its services do.
    missing = [place for place in service_areas if place not in organisation.areas]
    if missing:
        organisation.areas = [*organisation.areas, *missing]


def _eligibility(record: ServiceRecord, current: dict[str, Any]) -> dict[str, Any]:
    eligibility = dict(current)
    for key, value in (
        ("min_age", record.min_age),
        ("max_age", record.max_age),
        ("conditions", record.conditions),
    ):
        if value is KEEP:
            continue
        if value is None or value == []:
            eligibility.pop(key, None)
        else:
            eligibility[key] = value
    return eligibility


def _service(
    record: ServiceRecord,
    organisation: Organisation,
    terms: list[TaxonomyTerm],
    areas: list[Locality],
    lookups: Lookups,
) -> tuple[Service | None, list[str]]:
    """The service, or None when it was created; with the names of what changed."""
    service = _find(Service, record.source_id)
    if service is not None and service.organisation_id != organisation.id:
        raise Rejected(
            [f"Service {record.source_id!r} belongs to another organisation in the directory"]
        )
    created = service is None
    if service is None:
        if record.price_pence is KEEP or record.price_unit is KEEP:
            raise Rejected(
                [
                    "A new service needs a price: a cost option with its amount (0 for "
                    "free) and what it is per"
                ]
            )
        service = Service(
            id=_fresh_id(Service, record.source_id),
            source_id=record.source_id,
            organisation=organisation,
            name=record.name,
            description=record.description,
            price_pence=record.price_pence,
            price_unit=record.price_unit,
        )
        db.session.add(service)
    changed = _set(
        service,
        {
            "name": record.name,
            "description": record.description,
            "status": STATUS_FOR[record.status],
            "price_pence": record.price_pence,
            "price_unit": record.price_unit,
            "minimum_order": record.minimum_order,
            "delivery_modes": record.delivery_modes,
            "languages": record.languages,
            "accessibility": record.accessibility,
            "eligibility": _eligibility(record, service.eligibility or {}),
            "accepts_personal_budgets": record.accepts_personal_budgets,
            "opening_times": record.opening_times,
            "email": record.email,
            "phone": record.phone,
            "url": record.url,
            "cqc_location_id": record.cqc_location_id,
            "cqc_rating": record.cqc_rating,
            "capacity_status": record.capacity_status,
            "capacity_free": record.capacity_free,
            "earliest_start": record.earliest_start,
        },
    )
    changed += _checked_on(service, record.last_checked, created)
    if not _same(service.taxonomy_terms, terms):
        service.taxonomy_terms = terms
        changed.append("categories")
    if record.area_refs is not KEEP and not _same(service.localities, areas):
        service.localities = areas
        changed.append("areas")
    if record.venues is not KEEP and _venues(service, organisation, record.venues, lookups):
        changed.append("venues")
    return (None if created else service), changed


def _checked_on(service: Service, checked: date | Keep, created: bool) -> list[str]:
    if checked is KEEP:
        return []
    if not created and local_date(service.capacity_confirmed_at) == checked.isoformat():
        return []
    service.capacity_confirmed_at = datetime.combine(checked, time(0), tzinfo=LONDON)
    return ["last checked"]


def _venues(
    service: Service, organisation: Organisation, venues: list[VenueRecord], lookups: Lookups
) -> bool:
    changed = False
    wanted: list[tuple[Location, str | None]] = []
    for venue in venues:
        location = _find(Location, venue.source_id) or next(
            (
                known
                for known in organisation.locations
                if not venue.source_id
                and (known.name, known.postcode) == (venue.name, venue.postcode)
            ),
            None,
        )
        if location is not None and location.organisation_id != organisation.id:
            raise Rejected([f"Venue {venue.source_id!r} belongs to another organisation"])
        if location is None:
            location = Location(
                id=_fresh_id(Location, venue.source_id),
                source_id=venue.source_id,
                organisation=organisation,
            )
            db.session.add(location)
        latitude, longitude = venue.latitude, venue.longitude
        if latitude is None or longitude is None:
            latitude, longitude = lookups.centre(venue.postcode)
        changed |= bool(
            _set(
                location,
                {
                    "name": venue.name,
                    "address": venue.address,
                    "town": venue.town,
                    "postcode": venue.postcode,
                    "latitude": latitude,
                    "longitude": longitude,
                    "accessibility": venue.accessibility,
                },
            )
        )
        wanted.append((location, venue.link_id))
    existing = {link.location_id: link for link in service.locations}
    links = [
        existing.get(location.id)
        or ServiceAtLocation(id=_fresh_id(ServiceAtLocation, link_id), location=location)
        for location, link_id in wanted
    ]
    if {link.location.id for link in links} != set(existing):
        service.locations = links
        changed = True
    return changed
