"""The directory's CSV template: one row per service, with its organisation and one venue.

`COLUMNS` is the template (docs/import.md describes each column). Lists are separated by
semicolons; opening times are written like `MO,TU,WE,TH,FR 09:00-17:00; SA 10:00-12:30`;
money is in pounds with two decimal places. `row_for` writes a service as a row, and
`read_row` reads a row back into a `ServiceRecord` (raising RowUnreadable when a cell cannot
be read), so an exported file imports to the same directory.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any, TypeVar

from marketplace.formatting import pounds
from providers import validation
from providers.models import CapacityStatus, CqcRating, PriceUnit, Service
from providers.openreferral.oruk import SERVICE_STATUS, local_date
from providers.openreferral.records import (
    KEEP,
    Keep,
    OrganisationRecord,
    ServiceRecord,
    VenueRecord,
)

T = TypeVar("T")

ORGANISATION_COLUMNS = (
    "organisation_id",
    "organisation_name",
    "organisation_description",
    "organisation_email",
    "organisation_phone",
    "organisation_website",
    "organisation_address",
    "organisation_postcode",
    "companies_house_number",
    "charity_number",
    "cqc_provider_id",
    "organisation_areas",
)
SERVICE_COLUMNS = (
    "service_id",
    "service_name",
    "service_description",
    "status",
    "categories",
    "areas",
    "price",
    "price_unit",
    "minimum_order",
    "delivery_modes",
    "languages",
    "accessibility",
    "min_age",
    "max_age",
    "conditions",
    "accepts_personal_budgets",
    "opening_times",
    "service_email",
    "service_phone",
    "service_url",
    "cqc_location_id",
    "cqc_rating",
    "capacity_status",
    "capacity_free",
    "earliest_start",
    "last_checked",
)
VENUE_COLUMNS = (
    "venue_id",
    "venue_name",
    "venue_address",
    "venue_town",
    "venue_postcode",
    "venue_accessibility",
)
COLUMNS = ORGANISATION_COLUMNS + SERVICE_COLUMNS + VENUE_COLUMNS
# Without these a row cannot be a service; the other columns may be left out of a file.
REQUIRED_COLUMNS = (
    "organisation_id",
    "organisation_name",
    "organisation_description",
    "service_id",
    "service_name",
    "service_description",
    "status",
    "categories",
    "price",
    "price_unit",
)
SEPARATOR = ";"
# A spreadsheet runs a cell starting with one of these as a formula; written with a leading
# apostrophe (which spreadsheets hide) and read back without it.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PERIOD = re.compile(r"^([A-Z,]+)\s+(\d{2}:\d{2})\s*-\s*(\d{2}:\d{2})$")
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


class RowUnreadable(ValueError):
    """A cell of the row cannot be read; `problems` says which and why."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def header_problem(header: list[str]) -> str | None:
    """Why a file with this header row is not our template, or None if it is."""
    missing = [column for column in REQUIRED_COLUMNS if column not in header]
    unknown = [column for column in header if column not in COLUMNS]
    duplicated = sorted({column for column in header if header.count(column) > 1})
    if not (missing or unknown or duplicated):
        return None
    parts = []
    if missing:
        parts.append(f"it lacks the columns {', '.join(missing)}")
    if unknown:
        parts.append(f"it has columns the template does not: {', '.join(unknown)}")
    if duplicated:
        parts.append(f"it repeats the columns {', '.join(duplicated)}")
    return "This CSV file is not the directory template: " + "; ".join(parts)


def _cell(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_START) else value


def _uncell(text: str) -> str:
    return text[1:] if text.startswith("'") and text[1:].startswith(_FORMULA_START) else text


def _join(values: list[str]) -> str:
    return f"{SEPARATOR} ".join(values)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(SEPARATOR) if part.strip()]


def _opening_times(periods: list[dict[str, Any]]) -> str:
    return _join([f"{','.join(p['days'])} {p['opens']}-{p['closes']}" for p in periods])


def row_for(service: Service) -> dict[str, str]:
    """The service, its organisation and its first venue (by name) as a template row."""
    organisation = service.organisation
    eligibility = service.eligibility or {}
    links = sorted(service.locations, key=lambda link: link.location.name)
    venue = links[0].location if links else None
    row = {
        "organisation_id": str(organisation.id),
        "organisation_name": organisation.name,
        "organisation_description": organisation.description,
        "organisation_email": organisation.email or "",
        "organisation_phone": organisation.phone or "",
        "organisation_website": organisation.website or "",
        "organisation_address": organisation.address or "",
        "organisation_postcode": organisation.postcode or "",
        "companies_house_number": organisation.companies_house_number or "",
        "charity_number": organisation.charity_number or "",
        "cqc_provider_id": organisation.cqc_provider_id or "",
        "organisation_areas": _join([place.code for place in organisation.areas]),
        "service_id": str(service.id),
        "service_name": service.name,
        "service_description": service.description,
        "status": SERVICE_STATUS[service.status],
        "categories": _join([term.code for term in service.taxonomy_terms]),
        "areas": _join([place.code for place in service.localities]),
        "price": pounds(service.price_pence, plain=True),
        "price_unit": service.price_unit.value,
        "minimum_order": str(service.minimum_order),
        "delivery_modes": _join(list(service.delivery_modes)),
        "languages": _join(list(service.languages)),
        "accessibility": _join(list(service.accessibility)),
        "min_age": str(eligibility.get("min_age", "")),
        "max_age": str(eligibility.get("max_age", "")),
        "conditions": _join(list(eligibility.get("conditions", []))),
        "accepts_personal_budgets": "yes" if service.accepts_personal_budgets else "no",
        "opening_times": _opening_times(service.opening_times),
        "service_email": service.email or "",
        "service_phone": service.phone or "",
        "service_url": service.url or "",
        "cqc_location_id": service.cqc_location_id or "",
        "cqc_rating": service.cqc_rating.value if service.cqc_rating else "",
        "capacity_status": service.capacity_status.value,
        "capacity_free": "" if service.capacity_free is None else str(service.capacity_free),
        "earliest_start": service.earliest_start.isoformat() if service.earliest_start else "",
        "last_checked": local_date(service.capacity_confirmed_at),
    }
    row.update(dict.fromkeys(VENUE_COLUMNS, ""))
    if venue is not None:
        row.update(
            venue_id=str(venue.id),
            venue_name=venue.name,
            venue_address=venue.address,
            venue_town=venue.town,
            venue_postcode=venue.postcode,
            venue_accessibility=_join(list(venue.accessibility)),
        )
    return {column: _cell(value) for column, value in row.items()}


class _Cells:
    """A row's cells, read with every problem collected rather than the first raised."""

    def __init__(self, row: dict[str, str | None]) -> None:
        self.row = row
        self.problems: list[str] = []

    def has(self, column: str) -> bool:
        return column in self.row

    def text(self, column: str) -> str:
        return _uncell((self.row.get(column) or "").strip())

    def optional(self, column: str) -> str | Keep | None:
        """The cell's text, None when empty, KEEP when the file has no such column."""
        if not self.has(column):
            return KEEP
        return self.text(column) or None

    def items(self, column: str) -> list[str] | Keep:
        return _split(self.text(column)) if self.has(column) else KEEP

    def parsed(self, column: str, read: Callable[[str], T], hint: str) -> T | Keep | None:
        """The cell read by `read`; None when empty, KEEP when there is no such column."""
        if not self.has(column):
            return KEEP
        text = self.text(column)
        if not text:
            return None
        try:
            return read(text)
        except ValueError:
            self.problems.append(f"{column} must be {hint}, not {text!r}")
            return None


def _choice(choices: type[Any]) -> Callable[[str], Any]:
    def read(text: str) -> Any:
        key = text.strip().lower().replace(" ", "_")
        by_label = {getattr(m, "label", m.value).lower().replace(" ", "_"): m for m in choices}
        if key in by_label:
            return by_label[key]
        return choices(key)

    return read


def _yes_no(text: str) -> bool:
    answer = text.strip().lower()
    if answer not in {"yes", "no"}:
        raise ValueError(text)
    return answer == "yes"


def _periods(text: str) -> list[dict[str, Any]]:
    periods = []
    for part in _split(text):
        found = _PERIOD.match(part.upper())
        if found is None or not set(found[1].split(",")) <= set(_DAYS):
            raise ValueError(part)
        periods.append({"days": found[1].split(","), "opens": found[2], "closes": found[3]})
    return periods


def read_row(row: dict[str, str | None]) -> ServiceRecord:
    """A template row as a record. Raises RowUnreadable if a cell cannot be read at all."""
    cells = _Cells(row)
    price_text = cells.text("price")
    price_problem = validation.pounds_problem(price_text or "0")
    if price_problem:
        cells.problems.append(price_problem)
    unit = cells.parsed("price_unit", _choice(PriceUnit), "one of " + _names(PriceUnit))
    record = ServiceRecord(
        source_id=cells.text("service_id"),
        organisation=OrganisationRecord(
            source_id=cells.text("organisation_id"),
            name=cells.text("organisation_name"),
            description=cells.text("organisation_description"),
            email=cells.optional("organisation_email"),
            phone=cells.optional("organisation_phone"),
            website=cells.optional("organisation_website"),
            address=cells.optional("organisation_address"),
            postcode=_upper(cells.optional("organisation_postcode")),
            companies_house_number=_upper(cells.optional("companies_house_number")),
            charity_number=cells.optional("charity_number"),
            cqc_provider_id=cells.optional("cqc_provider_id"),
            area_refs=cells.items("organisation_areas"),
        ),
        name=cells.text("service_name"),
        description=cells.text("service_description"),
        status=cells.text("status").lower(),
        category_refs=_split(cells.text("categories")),
        area_refs=cells.items("areas"),
        price_pence=0 if price_problem else validation.pence_from_pounds(price_text or "0"),
        price_unit=unit if isinstance(unit, PriceUnit) else KEEP,
        minimum_order=_or(cells.parsed("minimum_order", int, "a whole number"), 1),
        delivery_modes=cells.items("delivery_modes"),
        languages=cells.items("languages"),
        accessibility=cells.items("accessibility"),
        min_age=cells.parsed("min_age", int, "a whole number"),
        max_age=cells.parsed("max_age", int, "a whole number"),
        conditions=cells.items("conditions"),
        accepts_personal_budgets=_or(
            cells.parsed("accepts_personal_budgets", _yes_no, "yes or no"), KEEP
        ),
        opening_times=_or(
            cells.parsed("opening_times", _periods, "days and times like MO,TU 09:00-17:00"), []
        ),
        email=cells.optional("service_email"),
        phone=cells.optional("service_phone"),
        url=cells.optional("service_url"),
        cqc_location_id=cells.optional("cqc_location_id"),
        cqc_rating=cells.parsed("cqc_rating", _choice(CqcRating), "one of " + _names(CqcRating)),
        capacity_status=_or(
            cells.parsed(
                "capacity_status", _choice(CapacityStatus), "one of " + _names(CapacityStatus)
            ),
            KEEP,
        ),
        capacity_free=cells.parsed("capacity_free", int, "a whole number"),
        earliest_start=cells.parsed("earliest_start", date.fromisoformat, "a date like 2026-04-01"),
        last_checked=_or(
            cells.parsed("last_checked", date.fromisoformat, "a date like 2026-04-01"), KEEP
        ),
        venues=_venue(cells),
    )
    if unit is None:
        cells.problems.append("Give the price_unit: " + _names(PriceUnit))
    if cells.problems:
        raise RowUnreadable(cells.problems)
    return record


def _names(choices: type[Any]) -> str:
    return ", ".join(member.value for member in choices)


def _or(value: T | Keep | None, instead: Any) -> Any:
    """An empty cell's value as `instead`; a missing column stays KEEP."""
    return instead if value is None else value


def _upper(value: str | Keep | None) -> str | Keep | None:
    return value.upper() if isinstance(value, str) else value


def _venue(cells: _Cells) -> list[VenueRecord] | Keep:
    if not cells.has("venue_name"):
        return KEEP
    if not any(cells.text(column) for column in VENUE_COLUMNS):
        return []
    return [
        VenueRecord(
            source_id=cells.text("venue_id") or None,
            name=cells.text("venue_name"),
            address=cells.text("venue_address"),
            town=cells.text("venue_town"),
            postcode=cells.text("venue_postcode").upper(),
            accessibility=_split(cells.text("venue_accessibility")),
        )
    ]
