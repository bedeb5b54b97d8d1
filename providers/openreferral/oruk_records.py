"""Read Open Referral UK 3.0 JSON (fully nested services) into `ServiceRecord`s.

Accepted: a list of full services (the `contents` of `/services?full=true`), a paged response
holding such a list in `contents`, or a single full service. Each service must nest its
`organization` (with name and description), since that is how the importer creates or finds
the provider. What our own export writes is read back exactly; a feed from elsewhere is read
as far as ORUK lets it say things, and the rest is left as it is (see `records.KEEP`).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

from providers import validation
from providers.models import CapacityStatus, PriceUnit
from providers.openreferral import oruk, phrases
from providers.openreferral.records import KEEP, OrganisationRecord, ServiceRecord, VenueRecord

_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_CLOCK = re.compile(r"^(\d{2}:\d{2})(?::00(?:\.0+)?)?(Z|[+-]\d{2}:?\d{2})?$")
# Words that say what a price is for; the one the text mentions first wins.
_UNIT_WORDS = (
    (PriceUnit.FREE, r"free|no charge"),
    (PriceUnit.PER_HOUR, r"hours?|hourly"),
    (PriceUnit.PER_VISIT, r"visits?|calls?"),
    (PriceUnit.PER_SESSION, r"sessions?|class(?:es)?|meetings?"),
    (PriceUnit.PER_NIGHT, r"nights?|nightly|overnight"),
    (PriceUnit.PER_WEEK, r"weeks?|weekly"),
    (PriceUnit.PER_DAY, r"days?|daily"),
    (PriceUnit.PER_ITEM, r"items?|meals?|each|units?"),
)


class NotOrukServices(ValueError):
    """The JSON is not a list of ORUK services in any shape we accept; the message says why."""


class RecordUnreadable(ValueError):
    """One service in the file cannot be read; `problems` lists what is wrong with it."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def services_in(document: Any) -> list[Any]:
    """The service objects in an ORUK JSON document. Raises NotOrukServices for other JSON."""
    if isinstance(document, dict) and isinstance(document.get("contents"), list):
        return list(document["contents"])
    if isinstance(document, dict) and "id" in document and "status" in document:
        return [document]
    if isinstance(document, list):
        return document
    raise NotOrukServices(
        "This JSON is not a list of Open Referral UK services: give a list of full services "
        "(as /services?full=true returns), or a paged response with them in 'contents'"
    )


class _Reader:
    """Reads one service object, collecting every problem before giving up on it."""

    def __init__(self, service: dict[str, Any]) -> None:
        self.problems: list[str] = []
        self.notes: list[str] = []
        self.service = service

    def text(self, holder: Any, key: str, where: str, *, required: bool = False) -> str | None:
        value = holder.get(key) if isinstance(holder, dict) else None
        if value is None or value == "":
            if required:
                self.problems.append(f"{where} has no {key}")
            return None
        if not isinstance(value, str):
            self.problems.append(f"{where}'s {key} must be text, not {type(value).__name__}")
            return None
        return value.strip()

    def whole(self, holder: dict[str, Any], key: str, where: str) -> int | None:
        value = holder.get(key)
        if value is None:
            return None
        if (
            isinstance(value, bool)
            or not isinstance(value, int | Decimal)
            or not _small_whole_number(value)
        ):
            self.problems.append(f"{where}'s {key} must be a whole number, not {value!r}")
            return None
        return int(value)

    def objects(self, holder: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
        value = holder.get(key) or []
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.problems.append(f"{where}'s {key} must be a list of objects")
            return []
        return value


def read_service(service: Any) -> ServiceRecord:
    """One ORUK service object as a record. Raises RecordUnreadable listing its problems."""
    if not isinstance(service, dict):
        raise RecordUnreadable(["Each service must be a JSON object"])
    reader = _Reader(service)
    data = reader.service
    where = "The service"
    organisation = _organisation(reader, data.get("organization"))
    record = ServiceRecord(
        source_id=reader.text(data, "id", where, required=True) or "",
        organisation=organisation,
        name=reader.text(data, "name", where, required=True) or "",
        description=reader.text(data, "description", where, required=True) or "",
        status=reader.text(data, "status", where, required=True) or "",
        category_refs=_categories(reader, data),
        area_refs=_areas(reader, data),
        languages=[
            name
            for item in reader.objects(data, "languages", where)
            if (name := reader.text(item, "name", "A language") or reader.text(item, "code", ""))
        ],
        opening_times=_schedules(reader, data),
        email=reader.text(data, "email", where),
        url=reader.text(data, "url", where),
        phone=_first_phone(reader, reader.objects(data, "contacts", where)),
        min_age=reader.whole(data, "minimum_age", where),
        max_age=reader.whole(data, "maximum_age", where),
        venues=_venues(reader, data),
    )
    _price(reader, data, record)
    _capacity(reader, data, record)
    _accreditation(reader, data, record)
    if reader.problems:
        raise RecordUnreadable(reader.problems)
    record.notes = reader.notes
    return record


def _organisation(reader: _Reader, data: Any) -> OrganisationRecord:
    where = "The service's organization"
    if not isinstance(data, dict):
        reader.problems.append(
            "The service has no organization object: give full services, with the "
            "organization nested (as /services?full=true does)"
        )
        data = {}
    identifiers: dict[str, str | None] = {column: None for column, _, _ in oruk.IDENTIFIERS}
    for item in reader.objects(data, "organization_identifiers", where):
        scheme = reader.text(item, "identifier_scheme", "An identifier")
        kind = (reader.text(item, "identifier_type", "An identifier") or "").casefold()
        for column, known_scheme, known_kind in oruk.IDENTIFIERS:
            if (scheme and scheme == known_scheme) or kind == known_kind.casefold():
                identifiers[column] = reader.text(item, "identifier", "An identifier")
    return OrganisationRecord(
        source_id=reader.text(data, "id", where, required=True) or "",
        name=reader.text(data, "name", where, required=True) or "",
        description=reader.text(data, "description", where, required=True) or "",
        email=reader.text(data, "email", where),
        website=reader.text(data, "website", where),
        phone=_first_phone(reader, [data]),
        **identifiers,
    )


def _first_phone(reader: _Reader, holders: list[dict[str, Any]]) -> str | None:
    for holder in holders:
        for phone in reader.objects(holder, "phones", "A contact"):
            number = reader.text(phone, "number", "A phone")
            if number:
                return number
    return None


def _categories(reader: _Reader, data: dict[str, Any]) -> list[str]:
    refs = []
    for attribute in reader.objects(data, "attributes", "The service"):
        term = attribute.get("taxonomy_term")
        if isinstance(term, dict):
            ref = reader.text(term, "code", "A taxonomy term") or reader.text(
                term, "name", "A taxonomy term", required=True
            )
        else:
            ref = reader.text(attribute, "taxonomy_term_id", "An attribute", required=True)
        if ref:
            refs.append(ref)
    return refs


def _areas(reader: _Reader, data: dict[str, Any]) -> list[str]:
    refs = []
    for area in reader.objects(data, "service_areas", "The service"):
        uri = reader.text(area, "uri", "A service area") or ""
        ref = (
            uri.removeprefix(oruk.LOCALITY_URI)
            if uri.startswith(oruk.LOCALITY_URI)
            else reader.text(area, "name", "A service area")
            or reader.text(area, "service_area", "A service area", required=True)
        )
        if ref:
            refs.append(ref)
    return refs


def _clock(reader: _Reader, text: str | None, where: str) -> str:
    found = _CLOCK.match(text or "")
    if found is None:
        reader.problems.append(f"{where} must be a time like 09:00, not {text!r}")
        return ""
    if found[2]:
        reader.notes.append(f"{where} {text} was read as UK local time (its offset was ignored)")
    return found[1]


def _schedules(reader: _Reader, data: dict[str, Any]) -> list[dict[str, Any]]:
    periods = []
    for schedule in reader.objects(data, "schedules", "The service"):
        freq = reader.text(schedule, "freq", "A schedule") or "WEEKLY"
        days = [
            day.strip() for day in (reader.text(schedule, "byday", "A schedule") or "").split(",")
        ]
        if freq != "WEEKLY" or not all(day in _DAYS for day in days) or days == [""]:
            reader.notes.append(
                f"A {freq.lower()} schedule on {','.join(days) or 'no days'} was left out: "
                "only weekly opening times on named days are kept"
            )
            continue
        opens = _clock(reader, reader.text(schedule, "opens_at", "A schedule"), "Opens at")
        closes = _clock(reader, reader.text(schedule, "closes_at", "A schedule"), "Closes at")
        periods.append({"days": days, "opens": opens, "closes": closes})
    return periods


def _venues(reader: _Reader, data: dict[str, Any]) -> list[VenueRecord]:
    venues = []
    for link in reader.objects(data, "service_at_locations", "The service"):
        location = link.get("location")
        if not isinstance(location, dict):
            reader.problems.append("A service_at_location has no location object")
            continue
        where = f"Location {location.get('name') or location.get('id') or ''}".strip()
        addresses = reader.objects(location, "addresses", where)
        address = addresses[0] if addresses else {}
        if not addresses:
            reader.problems.append(f"{where} has no address")
        venues.append(
            VenueRecord(
                source_id=reader.text(location, "id", where),
                link_id=reader.text(link, "id", "A service_at_location"),
                name=reader.text(location, "name", where, required=True) or "",
                address=reader.text(address, "address_1", where) or "",
                town=reader.text(address, "city", where) or "",
                postcode=(reader.text(address, "postal_code", where) or "").upper(),
                latitude=_coordinate(reader, location, "latitude", where),
                longitude=_coordinate(reader, location, "longitude", where),
                accessibility=[
                    text
                    for item in reader.objects(location, "accessibility", where)
                    if (text := reader.text(item, "description", "An accessibility feature"))
                ],
            )
        )
    return venues


def _small_whole_number(value: int | Decimal) -> bool:
    """A whole number of at most 9 digits. Measured before any arithmetic: `%` or int() on a
    Decimal like 1e999999999 raises or takes seconds."""
    if isinstance(value, int):
        return abs(value) < 10**9
    return value.is_finite() and (not value or value.adjusted() < 9) and value % 1 == 0


def _coordinate(reader: _Reader, holder: dict[str, Any], key: str, where: str) -> float | None:
    value = holder.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        reader.problems.append(f"{where}'s {key} must be a number")
        return None
    return float(value)  # a place, not money: a float is what the column holds


def unit_for(description: str) -> PriceUnit | None:
    """The price unit a cost option's `amount_description` names ("per hour", "a session").

    Free text can name two ("per 1 hour session"); the one it names first is taken.
    """
    found = [
        (match.start(), unit)
        for unit, words in _UNIT_WORDS
        if (match := re.search(rf"\b(?:{words})\b", description, re.IGNORECASE))
    ]
    return min(found, key=lambda hit: hit[0])[1] if found else None


def _price(reader: _Reader, data: dict[str, Any], record: ServiceRecord) -> None:
    options = reader.objects(data, "cost_options", "The service")
    if not options:
        return
    if len(options) > 1:
        reader.notes.append(f"Only the first of {len(options)} cost options was used")
    option = options[0]
    amount = option.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int | Decimal):
        reader.problems.append(f"The cost option's amount must be a number, not {amount!r}")
        return
    problem = validation.pounds_problem(Decimal(amount))
    if problem:
        reader.problems.append(problem)
        return
    description = reader.text(option, "amount_description", "The cost option") or ""
    unit = PriceUnit.FREE if amount == 0 else unit_for(description)
    if unit is None:
        units = ", ".join(phrases.UNIT_DESCRIPTIONS.values())
        reader.problems.append(
            f"The cost option's amount_description must say what the price is for ({units}), "
            f"not {description!r}"
        )
        return
    record.price_pence = validation.pence_from_pounds(Decimal(amount))
    record.price_unit = unit
    record.minimum_order = phrases.read_minimum_order(option.get("option") or "") or 1


def _capacity(reader: _Reader, data: dict[str, Any], record: ServiceRecord) -> None:
    alert = reader.text(data, "alert", "The service")
    assured = reader.text(data, "assured_date", "The service")
    if assured:
        try:
            record.last_checked = date.fromisoformat(assured[:10])
        except ValueError:
            reader.problems.append(f"assured_date must be a date like 2026-04-01, not {assured!r}")
    if alert is None:
        record.capacity_status, record.earliest_start = CapacityStatus.ACCEPTING, None
        return
    capacity = phrases.read_capacity_alert(alert)
    if capacity is None:
        reader.notes.append("The alert was not a capacity we know, so capacity was left as it is")
        return
    record.capacity_status, record.earliest_start = capacity


def _accreditation(reader: _Reader, data: dict[str, Any], record: ServiceRecord) -> None:
    text = reader.text(data, "accreditations", "The service")
    if text is None:
        record.cqc_location_id, record.cqc_rating = None, None
        return
    cqc = phrases.read_accreditation(text)
    if cqc is None:
        reader.notes.append("The accreditations were not a CQC registration, so were left out")
        record.cqc_location_id = record.cqc_rating = KEEP
        return
    record.cqc_location_id, record.cqc_rating = cqc
