"""Reading the CQC's "care directory with ratings" file and storing its locations.

The CQC publishes every registered location in England with its latest overall rating. The
file is read by its column names, never by position (the CQC adds columns from time to time),
and any lines above the header row are skipped (the CQC's weekly directory has a few lines of
title above it). `docs/cqc/care-directory-sample.csv` is a small file in the same layout.

Importing is idempotent: the same file again changes no row. A newer file updates what
changed and marks every location missing from it as deregistered; a location that reappears
is registered again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from marketplace.cqc.models import CqcLocation
from marketplace.types import Session
from providers import validation
from providers.models import CqcRating

# Our field, then the CQC's column names for it (the first is the care directory's own).
COLUMNS: dict[str, tuple[str, ...]] = {
    "location_id": ("Location ID",),
    "name": ("Location Name",),
    "care_home": ("Care home?",),
    "street_address": ("Location Street Address",),
    "postcode": ("Location Postal Code",),
    "phone": ("Location Phone Number", "Location Telephone Number"),
    "registered_manager": ("Registered manager",),
    "web_address": ("Location Web Address",),
    "region": ("Location Region",),
    "local_authority": ("Location Local Authority",),
    "provider_id": ("Provider ID",),
    "provider_name": ("Provider Name",),
    "service_types": ("Service types",),
    "specialisms": ("Specialisms/services",),
    "rating": ("Location Latest Overall Rating", "Latest Overall Rating"),
    "rating_published_on": ("Publication Date", "Location Latest Overall Rating Date"),
}
REQUIRED = ("location_id", "name", "provider_id", "provider_name", "rating", "rating_published_on")

# The CQC's words for its four-point scale; the words it uses for "no overall rating".
RATINGS = {
    "outstanding": CqcRating.OUTSTANDING,
    "good": CqcRating.GOOD,
    "requires improvement": CqcRating.REQUIRES_IMPROVEMENT,
    "inadequate": CqcRating.INADEQUATE,
}
NO_RATING = {"", "not rated", "not yet rated", "insufficient evidence to rate"}


class CareDirectoryError(ValueError):
    """The file is not a CQC care directory we can import; nothing was stored."""


@dataclass(frozen=True)
class DirectoryEntry:
    """One location as the file gives it."""

    location_id: str
    name: str
    provider_id: str
    provider_name: str
    rating: CqcRating | None
    rating_published_on: date | None
    care_home: bool = False
    street_address: str | None = None
    postcode: str | None = None
    phone: str | None = None
    registered_manager: str | None = None
    web_address: str | None = None
    region: str | None = None
    local_authority: str | None = None
    service_types: str | None = None
    specialisms: str | None = None


@dataclass
class ImportSummary:
    """What an import did, in location IDs."""

    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    deregistered: list[str] = field(default_factory=list)
    unchanged: int = 0

    def lines(self) -> list[str]:
        return [
            f"{len(self.added)} locations added",
            f"{len(self.updated)} updated (a rating, a date, an address or a re-registration)",
            f"{len(self.deregistered)} missing from the file, now marked deregistered",
            f"{self.unchanged} unchanged",
        ]


def _header_positions(header: Sequence[str]) -> dict[str, int]:
    by_name = {name.strip().lower(): index for index, name in enumerate(header)}
    positions: dict[str, int] = {}
    for our_name, theirs in COLUMNS.items():
        for name in theirs:
            if name.lower() in by_name:
                positions[our_name] = by_name[name.lower()]
                break
    return positions


def _rating(text: str, line: int) -> CqcRating | None:
    words = " ".join(text.split()).lower()
    if words in NO_RATING:
        return None
    if words not in RATINGS:
        raise CareDirectoryError(f"Line {line}: {text!r} is not a CQC overall rating")
    return RATINGS[words]


def _date(text: str, line: int) -> date | None:
    text = text.strip()
    if not text:
        return None
    # The CSV gives UK dates; a spreadsheet saved as CSV may give ISO dates, with a time.
    for form in ("%d/%m/%Y", "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%d/%m/%Y %H:%M:%S"):
        try:
            # A calendar date: the zone does not matter, so the naive parse is only a step.
            return datetime.strptime(text, form).date()  # noqa: DTZ007
        except ValueError:
            continue
    raise CareDirectoryError(f"Line {line}: {text!r} is not a date like 31/01/2026")


def _entry(cells: Sequence[str], positions: dict[str, int], line: int) -> DirectoryEntry:
    def cell(name: str) -> str:
        index = positions.get(name)
        return cells[index].strip() if index is not None and index < len(cells) else ""

    location_id = cell("location_id")
    if validation.cqc_id_problem(location_id):
        raise CareDirectoryError(f"Line {line}: {location_id!r} is not a CQC location ID")
    texts = {
        name: (cell(name) or None)
        for name in (
            "street_address",
            "postcode",
            "phone",
            "registered_manager",
            "web_address",
            "region",
            "local_authority",
            "service_types",
            "specialisms",
        )
    }
    return DirectoryEntry(
        location_id=location_id,
        name=cell("name"),
        provider_id=cell("provider_id"),
        provider_name=cell("provider_name"),
        rating=_rating(cell("rating"), line),
        rating_published_on=_date(cell("rating_published_on"), line),
        care_home=cell("care_home").upper() == "Y",
        **texts,
    )


def read_care_directory(text: str) -> list[DirectoryEntry]:
    """Every location in a care directory file's text, in file order.

    Raises `CareDirectoryError` (naming the line) when there is no header row with the
    columns we need, a location ID or rating or date cannot be read, an ID appears twice, or
    the file lists no location at all (importing it would deregister every location).
    """
    rows = csv.reader(io.StringIO(text.removeprefix("\ufeff")))
    positions: dict[str, int] | None = None
    entries: list[DirectoryEntry] = []
    seen: set[str] = set()
    for line, cells in enumerate(rows, start=1):
        if positions is None:
            found = _header_positions(cells)
            if "location_id" in found:
                missing = [COLUMNS[name][0] for name in REQUIRED if name not in found]
                if missing:
                    raise CareDirectoryError(f"Line {line}: no column {', '.join(missing)}")
                positions = found
            continue
        if not any(cell.strip() for cell in cells):
            continue
        entry = _entry(cells, positions, line)
        if entry.location_id in seen:
            raise CareDirectoryError(f"Line {line}: location {entry.location_id} appears twice")
        seen.add(entry.location_id)
        entries.append(entry)
    if positions is None:
        raise CareDirectoryError("No header row with a 'Location ID' column was found")
    if not entries:
        raise CareDirectoryError("The file lists no locations")
    return entries


def read_care_directory_file(path: Path) -> list[DirectoryEntry]:
    """`read_care_directory` of a file: UTF-8 (with or without a byte order mark), or
    Windows-1252 when it is not UTF-8 (a file saved from a spreadsheet)."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    return read_care_directory(text)


_STORED = tuple(entry_field.name for entry_field in fields(DirectoryEntry))


def import_care_directory(
    session: Session, entries: Iterable[DirectoryEntry], *, now: datetime
) -> ImportSummary:
    """Store the file's locations: add new ones, update changed ones, and mark every stored
    location the file does not list as deregistered at `now`. Only rows whose values change
    are touched, so importing the same file twice changes nothing. Flushes, never commits."""
    stored = {row.location_id: row for row in session.scalars(select(CqcLocation))}
    summary = ImportSummary()
    listed: set[str] = set()
    for entry in entries:
        listed.add(entry.location_id)
        row = stored.get(entry.location_id)
        if row is None:
            row = CqcLocation(first_seen_at=now, changed_at=now)
            for name in _STORED:
                setattr(row, name, getattr(entry, name))
            session.add(row)
            summary.added.append(entry.location_id)
            continue
        changed = [name for name in _STORED if getattr(row, name) != getattr(entry, name)]
        if not changed and row.registered:
            summary.unchanged += 1
            continue
        for name in changed:
            setattr(row, name, getattr(entry, name))
        row.deregistered_at = None
        row.changed_at = now
        summary.updated.append(entry.location_id)
    for location_id, row in stored.items():
        if location_id not in listed and row.registered:
            row.deregistered_at = now
            row.changed_at = now
            summary.deregistered.append(location_id)
    session.flush()
    return summary
