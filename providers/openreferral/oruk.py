"""Directory rows as Open Referral UK 3.0 objects: plain dicts, ready for `encoding.dumps`.

The shapes follow the ORUK 3.0 schemas: a list item carries the one-to-one fields (and, for a
service, its organization); a full object nests everything the schema lets it. Optional fields
without a value are left out, never null. Where ORUK's UK profile has no field for something
we hold, we use the field HSDS 3.0 (which ORUK profiles) has for it and the schemas allow:
`name` on a language, `code` on a taxonomy term, `phones` on a contact and an organization.

Money leaves integer pence only here, as a Decimal number of pounds (1250 -> 12.50) made
from `formatting.pounds`'s plain figure.
The words used for capacity (`alert`), CQC registration (`accreditations`) and price units are
in `phrases`, which also reads them back.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from marketplace.cqc.checks import Verified, verified_location
from marketplace.formatting import pounds
from providers.models import (
    CqcRating,
    Locality,
    Location,
    Organisation,
    Service,
    ServiceAtLocation,
    ServiceStatus,
    TaxonomyTerm,
)
from providers.openreferral.identifiers import (
    CARE_TAXONOMY_DESCRIPTION,
    CARE_TAXONOMY_ID,
    CARE_TAXONOMY_NAME,
    part_id,
    term_id,
)
from providers.openreferral.phrases import (
    UNIT_DESCRIPTIONS,
    accreditation_text,
    capacity_alert,
    minimum_order_option,
)
from providers.reference_data import county_name

Json = dict[str, Any]
LONDON = ZoneInfo("Europe/London")
HSDS_VERSION = "HSDS-UK-3.0"
PROFILE_URL = "https://openreferraluk.org/specifications/3.0/"
COUNTRY = "GB"
LOCALITY_URI = "urn:care-marketplace:locality:"

# Organisation identifier schemes from org-id.guide; the CQC has none there, so it has a type only.
IDENTIFIERS = (
    ("companies_house_number", "GB-COH", "Company number"),
    ("charity_number", "GB-CHC", "Charity number"),
    ("cqc_provider_id", None, "CQC provider ID"),
)
SERVICE_STATUS = {
    ServiceStatus.PUBLISHED: "active",
    ServiceStatus.DRAFT: "inactive",
    ServiceStatus.ARCHIVED: "defunct",
}


_county = functools.cache(county_name)


def _present(fields: Json) -> Json:
    """The fields that have a value: ORUK omits optional fields rather than sending null."""
    return {key: value for key, value in fields.items() if value is not None and value != ""}


def timestamp(moment: datetime) -> str:
    """An RFC 3339 UTC timestamp, to the second: 2026-11-24T15:00:00Z."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def local_date(moment: datetime) -> str:
    """The day `moment` falls on in England, as YYYY-MM-DD."""
    return moment.astimezone(LONDON).date().isoformat()


def api_details(openapi_url: str) -> Json:
    """The `/` response: which standard this API follows and where its OpenAPI document is."""
    return {"version": HSDS_VERSION, "profile": PROFILE_URL, "openapi_url": openapi_url}


def paged(contents: list[Json], *, total: int, page: int, per_page: int) -> Json:
    """An ORUK page: `size` is the number of items on this page, pages count from 1.

    An empty result still has one (empty) page, so `total_pages` is never 0 and page 1 exists.
    """
    total_pages = max(1, -(-total // per_page))
    return {
        "total_items": total,
        "total_pages": total_pages,
        "page_number": page,
        "size": len(contents),
        "first_page": page == 1,
        "last_page": page >= total_pages,
        "empty": not contents,
        "contents": contents,
    }


# Taxonomy --------------------------------------------------------------------------------------


def taxonomy(terms: list[TaxonomyTerm] | None = None) -> Json:
    """The care taxonomy; with `terms`, nested as its `taxonomy_terms`."""
    fields: Json = {
        "id": str(CARE_TAXONOMY_ID),
        "name": CARE_TAXONOMY_NAME,
        "description": CARE_TAXONOMY_DESCRIPTION,
    }
    if terms is not None:
        fields["taxonomy_terms"] = [taxonomy_term(term) for term in terms]
    return fields


def taxonomy_term(term: TaxonomyTerm) -> Json:
    """A care category as a taxonomy term (`code` is HSDS 3.0's field for our code)."""
    return _present(
        {
            "id": str(term_id(term.code)),
            "code": term.code,
            "name": term.name,
            "description": term.description,
            "parent_id": str(term_id(term.parent.code)) if term.parent else None,
            "taxonomy": CARE_TAXONOMY_NAME,
            "taxonomy_id": str(CARE_TAXONOMY_ID),
        }
    )


def _attribute(service: Service, term: TaxonomyTerm) -> Json:
    return {
        "id": str(part_id(service.id, "attribute", term.code)),
        "link_id": str(service.id),
        "taxonomy_term_id": str(term_id(term.code)),
        "taxonomy_term": taxonomy_term(term),
    }


# Organisations ---------------------------------------------------------------------------------


def organization_summary(organisation: Organisation) -> Json:
    """The organisation's one-to-one fields, as in a list."""
    return _present(
        {
            "id": str(organisation.id),
            "name": organisation.name,
            "description": organisation.description or "",
            "email": organisation.email,
            "website": organisation.website,
        }
    )


def organization_full(
    organisation: Organisation,
    services: list[Service] | None = None,
    *,
    full: bool = False,
    verified: Verified | None = None,
) -> Json:
    """The organisation with its identifiers, phone and (given `services`) its services.
    `verified`: the services' CQC locations looked up at once (`verified_locations`)."""
    fields = organization_summary(organisation)
    fields["organization_identifiers"] = [
        _present(
            {
                "id": str(part_id(organisation.id, "identifier", column)),
                "organization_id": str(organisation.id),
                "identifier_scheme": scheme,
                "identifier_type": kind,
                "identifier": getattr(organisation, column),
            }
        )
        for column, scheme, kind in IDENTIFIERS
        if getattr(organisation, column)
    ]
    if organisation.phone:
        fields["phones"] = [_phone(organisation.id, organisation.phone)]
    if services is not None:
        fields["services"] = [
            service_full(service, verified=verified)
            if full
            else service_summary(service, verified=verified)
            for service in services
        ]
    return fields


def _phone(owner: Any, number: str, contact_id: str | None = None) -> Json:
    return _present(
        {"id": str(part_id(owner, "phone", number)), "contact_id": contact_id, "number": number}
    )


# Services --------------------------------------------------------------------------------------


def last_modified(service: Service) -> datetime:
    """When anything the service's feed entry shows last changed: it, its provider or a venue."""
    moments = [service.updated_at, service.organisation.updated_at]
    moments += [link.location.updated_at for link in service.locations]
    return max(moments)


def service_minimal(service: Service) -> Json:
    """`minimal=true`: the id and last change (with the name and status the list schema needs)."""
    return {
        "id": str(service.id),
        "name": service.name,
        "status": SERVICE_STATUS[service.status],
        "last_modified": timestamp(last_modified(service)),
    }


def _cqc_rating(service: Service, verified: Verified | None) -> CqcRating | None:
    # The CQC's rating from its imported directory, never the one the provider typed.
    location = verified_location(service, verified)
    if location is None:
        return None
    return location.rating or CqcRating.NOT_YET_RATED


def service_summary(service: Service, *, verified: Verified | None = None) -> Json:
    """The service's one-to-one fields and its organization, as in a list. A list passes
    `verified`, its services' CQC locations looked up at once (`verified_locations`); without
    it the service's own is looked up."""
    eligibility = service.eligibility or {}
    fields = _present(
        {
            "id": str(service.id),
            "organization_id": str(service.organisation_id),
            "name": service.name,
            "description": service.description,
            "url": service.url,
            "email": service.email,
            "status": SERVICE_STATUS[service.status],
            "accreditations": accreditation_text(
                service.cqc_location_id, _cqc_rating(service, verified)
            ),
            "minimum_age": eligibility.get("min_age"),
            "maximum_age": eligibility.get("max_age"),
            "assured_date": local_date(service.capacity_confirmed_at),
            "alert": capacity_alert(service.capacity_status, service.earliest_start),
            "last_modified": timestamp(last_modified(service)),
        }
    )
    fields["organization"] = organization_summary(service.organisation)
    return fields


def service_full(
    service: Service, *, with_locations: bool = True, verified: Verified | None = None
) -> Json:
    """The fully nested service, as `/services/{id}` and `full=true` give it."""
    fields = service_summary(service, verified=verified)
    fields["organization"] = organization_full(service.organisation)
    fields["schedules"] = [
        _schedule(service, number, period) for number, period in enumerate(service.opening_times)
    ]
    fields["service_areas"] = [_service_area(service, place) for place in service.localities]
    if with_locations:
        fields["service_at_locations"] = [
            _service_at_location(link, location_full(link.location))
            for link in sorted(service.locations, key=lambda link: link.location.name)
        ]
    fields["languages"] = [
        {
            "id": str(part_id(service.id, "language", language)),
            "service_id": str(service.id),
            "name": language,
        }
        for language in dict.fromkeys(service.languages)  # an id each, so each once
    ]
    fields["cost_options"] = [_cost_option(service)]
    fields["contacts"] = _contacts(service)
    fields["attributes"] = [_attribute(service, term) for term in service.taxonomy_terms]
    return fields


def _schedule(service: Service, number: int, period: dict[str, Any]) -> Json:
    # Opening times are wall-clock times in England: an offset would be wrong for half the year.
    return _present(
        {
            "id": str(part_id(service.id, "schedule", str(number))),
            "service_id": str(service.id),
            "freq": "WEEKLY",
            "interval": 1,
            "byday": ",".join(period.get("days", [])),
            "opens_at": period.get("opens"),
            "closes_at": period.get("closes"),
            "description": "Times are UK local time (Europe/London).",
        }
    )


def _service_area(service: Service, place: Locality) -> Json:
    return {
        "id": str(part_id(service.id, "area", place.code)),
        "service_id": str(service.id),
        "name": place.name,
        "uri": LOCALITY_URI + place.code,
    }


def _cost_option(service: Service) -> Json:
    return _present(
        {
            "id": str(part_id(service.id, "cost_option")),
            "service_id": str(service.id),
            "option": minimum_order_option(service.minimum_order),
            "amount": Decimal(pounds(service.price_pence, plain=True)),
            "amount_description": UNIT_DESCRIPTIONS[service.price_unit],
        }
    )


def _contacts(service: Service) -> list[Json]:
    if not service.phone:
        return []
    contact_id = str(part_id(service.id, "contact"))
    return [
        {
            "id": contact_id,
            "service_id": str(service.id),
            "phones": [_phone(service.id, service.phone, contact_id)],
        }
    ]


# Locations -------------------------------------------------------------------------------------


def location_summary(location: Location) -> Json:
    """The venue's one-to-one fields, as in a list."""
    return _present(
        {
            "id": str(location.id),
            "location_type": "physical",
            "name": location.name,
            "latitude": location.latitude,
            "longitude": location.longitude,
        }
    )


def location_full(location: Location) -> Json:
    """The venue with its address and accessibility features."""
    fields = location_summary(location)
    fields["addresses"] = [
        _present(
            {
                "id": str(part_id(location.id, "address")),
                "location_id": str(location.id),
                "address_1": location.address,
                "city": location.town,
                # Required by the schema; the venues listed are in the county we serve.
                "state_province": _county(),
                "postal_code": location.postcode,
                "country": COUNTRY,
                "address_type": "physical",
            }
        )
    ]
    fields["accessibility"] = [
        {
            "id": str(part_id(location.id, "accessibility", feature)),
            "location_id": str(location.id),
            "description": feature,
        }
        for feature in dict.fromkeys(location.accessibility)
    ]
    return fields


def _service_at_location(link: ServiceAtLocation, location: Json) -> Json:
    return {
        "id": str(link.id),
        "service_id": str(link.service_id),
        "location_id": str(link.location_id),
        "location": location,
    }


def service_at_location_summary(
    link: ServiceAtLocation, *, verified: Verified | None = None
) -> Json:
    """A service at a venue, as in a list: the venue's and the service's one-to-one fields."""
    fields = _service_at_location(link, location_summary(link.location))
    fields["service"] = service_summary(link.service, verified=verified)
    return fields


def service_at_location_full(link: ServiceAtLocation, *, verified: Verified | None = None) -> Json:
    """A service at a venue, fully nested: the venue in full and the service in full."""
    fields = _service_at_location(link, location_full(link.location))
    fields["service"] = service_full(link.service, with_locations=False, verified=verified)
    return fields
