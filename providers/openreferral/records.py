"""One imported service, as a file describes it, whatever the file's format.

The ORUK JSON and CSV readers both produce `ServiceRecord`s; the importer checks them with
`problems()` and applies them. A field set to `KEEP` is one the file's format cannot say
(ORUK has no delivery modes, for instance): a new listing gets the default and an existing
one keeps what it has. None means the file says there is no value, and clears it.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from providers import validation
from providers.models import CapacityStatus, CqcRating, DeliveryMode, PriceUnit

T = TypeVar("T")

# The ORUK statuses a service can have in a file, and what each makes the listing.
STATUSES = ("active", "inactive", "defunct", "temporarily closed")


class Keep(enum.Enum):
    """The file does not say: leave the field as it is (or at its default for a new row)."""

    KEEP = "keep"


KEEP = Keep.KEEP


@dataclass
class OrganisationRecord:
    """The provider a record's service belongs to."""

    source_id: str
    name: str
    description: str
    email: str | Keep | None = KEEP
    phone: str | Keep | None = KEEP
    website: str | Keep | None = KEEP
    address: str | Keep | None = KEEP
    postcode: str | Keep | None = KEEP
    companies_house_number: str | Keep | None = KEEP
    charity_number: str | Keep | None = KEEP
    cqc_provider_id: str | Keep | None = KEEP
    area_refs: list[str] | Keep = KEEP


@dataclass
class VenueRecord:
    """A place the service is offered at; `link_id` is the file's service_at_location id."""

    source_id: str | None
    name: str
    address: str
    town: str
    postcode: str
    link_id: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    accessibility: list[str] = field(default_factory=list)


@dataclass
class ServiceRecord:
    """One service (listing) and its organisation, as the file has them."""

    source_id: str
    organisation: OrganisationRecord
    name: str
    description: str
    status: str
    category_refs: list[str]
    area_refs: list[str] | Keep = KEEP
    price_pence: int | Keep = KEEP
    price_unit: PriceUnit | Keep = KEEP
    minimum_order: int | Keep = KEEP
    delivery_modes: list[str] | Keep = KEEP
    languages: list[str] | Keep = KEEP
    accessibility: list[str] | Keep = KEEP
    min_age: int | Keep | None = KEEP
    max_age: int | Keep | None = KEEP
    conditions: list[str] | Keep = KEEP
    accepts_personal_budgets: bool | Keep = KEEP
    opening_times: list[dict[str, Any]] | Keep = KEEP
    email: str | Keep | None = KEEP
    phone: str | Keep | None = KEEP
    url: str | Keep | None = KEEP
    cqc_location_id: str | Keep | None = KEEP
    cqc_rating: CqcRating | Keep | None = KEEP
    capacity_status: CapacityStatus | Keep = KEEP
    capacity_free: int | Keep | None = KEEP
    earliest_start: date | Keep | None = KEEP
    last_checked: date | Keep = KEEP
    venues: list[VenueRecord] | Keep = KEEP
    # Things the reader noticed but could use anyway (say, a second cost option it ignored).
    notes: list[str] = field(default_factory=list)

    @property
    def label(self) -> str:
        """How the report names the record: the service and its organisation."""
        return f"{self.name or '(no name)'} ({self.organisation.name or 'no organisation'})"


def given(value: T | Keep) -> T | None:
    """The value, or None when the file does not say."""
    return None if value is KEEP else value  # type: ignore[return-value]


def _text(label: str, value: Any, limit: int, *, required: bool = False) -> list[str]:
    if value is KEEP or (value is None and not required):
        return []
    problem = validation.text_problem(label, value, limit, required=required)
    return [problem] if problem else []


def _format(label: str, value: Any, check: Any) -> list[str]:
    if value is KEEP or value in (None, ""):
        return []
    problem = check(value)
    return [f"{label}: {problem}"] if problem else []


def _organisation_problems(organisation: OrganisationRecord) -> list[str]:
    found = _text(
        "Organisation id", organisation.source_id, validation.SOURCE_ID_MAX, required=True
    )
    found += _text("Organisation name", organisation.name, validation.NAME_MAX, required=True)
    found += _text(
        "Organisation description",
        organisation.description,
        validation.DESCRIPTION_MAX,
        required=True,
    )
    found += _text("Organisation email", organisation.email, validation.EMAIL_MAX)
    found += _format("Organisation email", organisation.email, validation.email_problem)
    found += _text("Organisation phone", organisation.phone, validation.PHONE_MAX)
    found += _format("Organisation phone", organisation.phone, validation.phone_problem)
    found += _text("Organisation website", organisation.website, validation.URL_MAX)
    found += _format("Organisation website", organisation.website, validation.website_problem)
    found += _text("Organisation address", organisation.address, validation.ADDRESS_MAX)
    found += _format("Organisation postcode", organisation.postcode, validation.postcode_problem)
    found += _format(
        "Companies House number",
        organisation.companies_house_number,
        validation.companies_house_number_problem,
    )
    found += _format(
        "Charity number", organisation.charity_number, validation.charity_number_problem
    )
    found += _format("CQC provider ID", organisation.cqc_provider_id, validation.cqc_id_problem)
    return found


def _venue_problems(venue: VenueRecord) -> list[str]:
    where = f"Venue {venue.name or venue.source_id or ''}".strip()
    found = _text(f"{where} id", venue.source_id, validation.SOURCE_ID_MAX)
    found += _text(f"{where} name", venue.name, validation.NAME_MAX, required=True)
    found += _text(f"{where} address", venue.address, validation.ADDRESS_MAX, required=True)
    found += _text(f"{where} town", venue.town, validation.TOWN_MAX, required=True)
    found += _text(f"{where} postcode", venue.postcode, validation.POSTCODE_MAX, required=True)
    found += _format(f"{where} postcode", venue.postcode, validation.postcode_problem)
    for feature in venue.accessibility:
        found += _text(f"{where} accessibility", feature, validation.SHORT_TEXT_MAX, required=True)
    return found


def _list_problems(label: str, values: list[str] | Keep) -> list[str]:
    if values is KEEP:
        return []
    return [p for value in values for p in _text(label, value, validation.SHORT_TEXT_MAX)]


def problems(record: ServiceRecord) -> list[str]:
    """Every rule the record breaks, as messages for the person importing (empty if none).

    Categories and areas are checked against the database by the importer, not here.
    """
    found = _organisation_problems(record.organisation)
    found += _text("Service id", record.source_id, validation.SOURCE_ID_MAX, required=True)
    found += _text("Service name", record.name, validation.NAME_MAX, required=True)
    found += _text(
        "Service description", record.description, validation.DESCRIPTION_MAX, required=True
    )
    if record.status not in STATUSES:
        found.append(f"Status must be one of {', '.join(STATUSES)}, not {record.status!r}")
    if not record.category_refs:
        found.append("Give at least one category")
    found += _price_problems(record)
    found += _text("Service email", record.email, validation.EMAIL_MAX)
    found += _format("Service email", record.email, validation.email_problem)
    found += _text("Service phone", record.phone, validation.PHONE_MAX)
    found += _format("Service phone", record.phone, validation.phone_problem)
    found += _text("Service website", record.url, validation.URL_MAX)
    found += _format("Service website", record.url, validation.website_problem)
    found += _format("CQC location ID", record.cqc_location_id, validation.cqc_id_problem)
    for label, age in (("Youngest age", record.min_age), ("Oldest age", record.max_age)):
        problem = None if age is KEEP or age is None else validation.age_problem(label, age)
        found += [problem] if problem else []
    problem = validation.age_range_problem(given(record.min_age), given(record.max_age))
    found += [problem] if problem else []
    modes = {mode.value for mode in DeliveryMode}
    if record.delivery_modes is not KEEP and set(record.delivery_modes) - modes:
        unknown = ", ".join(sorted(set(record.delivery_modes) - modes))
        found.append(f"Delivery modes must be among {', '.join(sorted(modes))}, not {unknown}")
    for label, values in (
        ("Language", record.languages),
        ("Accessibility feature", record.accessibility),
        ("Condition", record.conditions),
    ):
        found += _list_problems(label, values)
    if record.opening_times is not KEEP:
        for period in record.opening_times:
            problem = validation.opening_time_problem(period["opens"], period["closes"])
            found += [problem] if problem else []
    free = given(record.capacity_free)
    if free is not None and not 0 <= free <= 100_000:
        found.append("Hours or places free must be from 0 to 100,000")
    for venue in given(record.venues) or []:
        found += _venue_problems(venue)
    return found


def _price_problems(record: ServiceRecord) -> list[str]:
    found = []
    if record.price_pence is not KEEP and record.price_unit is not KEEP:
        problem = validation.price_problem(
            record.price_pence, free=record.price_unit is PriceUnit.FREE
        )
        found += [problem] if problem else []
    if record.minimum_order is not KEEP:
        problem = validation.minimum_order_problem(record.minimum_order)
        found += [problem] if problem else []
    return found
