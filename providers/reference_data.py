"""Reference data the product runs on: the care taxonomy and the county gazetteer.

Both live as JSON in `providers/data/` so that the demo seed, the real import and the search
engine read one copy. The `*_entries()` functions read and check the files (no database);
`ensure_taxonomy()` and `ensure_localities()` bring the database in line with them, creating
what is missing and correcting what has drifted, so they are safe to run any number of times.
Like every rules function they flush and never commit.
"""

from __future__ import annotations

import functools
import json
import re
import uuid
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import select

from marketplace.extensions import db
from marketplace.postcodes import OUTWARD_CODE
from providers.models import Locality, TaxonomyTerm

TAXONOMY_FILE = "taxonomy.json"
GAZETTEER_FILE = "hertfordshire.json"

_CODE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")

LocalityKind = Literal["district", "town"]
Row = TypeVar("Row", TaxonomyTerm, Locality)


class ReferenceDataError(ValueError):
    """A reference data file breaks a rule (duplicate code, unknown parent, bad postcode...)."""


@dataclass(frozen=True)
class TaxonomyEntry:
    """One term of the care taxonomy as the file gives it; `parent_code` is None for a top."""

    code: str
    name: str
    description: str
    position: int
    parent_code: str | None = None


@dataclass(frozen=True)
class GazetteerEntry:
    """One place in the gazetteer: a district, or a town whose `parent_code` is its district.

    `aliases` are other names people use ("Hemel", "Letchworth"); they are for search and
    import matching and are not stored in the database.
    """

    code: str
    name: str
    kind: LocalityKind
    postcode_districts: tuple[str, ...]
    latitude: float
    longitude: float
    parent_code: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass
class Upserted(Generic[Row]):
    """What bringing a table in line with its file did, row by row."""

    created: list[Row] = field(default_factory=list)
    updated: list[Row] = field(default_factory=list)
    unchanged: list[Row] = field(default_factory=list)

    @property
    def existing(self) -> int:
        """Rows that were already there, whether or not they needed correcting."""
        return len(self.updated) + len(self.unchanged)


def _load(filename: str) -> dict[str, Any]:
    text = resources.files("providers").joinpath("data", filename).read_text(encoding="utf-8")
    return json.loads(text)


def _check_code(code: str, seen: set[str], filename: str) -> None:
    if not _CODE.match(code) or len(code) > 60:
        raise ReferenceDataError(f"{filename}: {code!r} is not a lower-case slug of 60 or fewer")
    if code in seen:
        raise ReferenceDataError(f"{filename}: the code {code!r} is used twice")
    seen.add(code)


@functools.cache
def taxonomy_entries() -> tuple[TaxonomyEntry, ...]:
    """Every taxonomy term, each top category followed by its kinds, in position order.

    Raises ReferenceDataError if the file breaks a rule (so a bad edit fails at once).
    """
    seen: set[str] = set()
    entries: list[TaxonomyEntry] = []
    for top in sorted(_load(TAXONOMY_FILE)["terms"], key=lambda term: term["position"]):
        _check_code(top["code"], seen, TAXONOMY_FILE)
        entries.append(_taxonomy_entry(top, None))
        for kind in sorted(top.get("kinds", []), key=lambda term: term["position"]):
            _check_code(kind["code"], seen, TAXONOMY_FILE)
            if kind.get("kinds"):
                raise ReferenceDataError(f"{TAXONOMY_FILE}: the taxonomy has two levels only")
            entries.append(_taxonomy_entry(kind, top["code"]))
    return tuple(entries)


def _taxonomy_entry(term: dict[str, Any], parent_code: str | None) -> TaxonomyEntry:
    if not term.get("name") or not term.get("description"):
        raise ReferenceDataError(f"{TAXONOMY_FILE}: {term['code']!r} needs a name and description")
    return TaxonomyEntry(
        code=term["code"],
        name=term["name"],
        description=term["description"],
        position=int(term["position"]),
        parent_code=parent_code,
    )


@functools.cache
def gazetteer_entries() -> tuple[GazetteerEntry, ...]:
    """Every district, each followed by its towns, districts in alphabetical order.

    Raises ReferenceDataError if the file breaks a rule, for instance a town with a postcode
    district its own district does not list.
    """
    seen: set[str] = set()
    entries: list[GazetteerEntry] = []
    for district in sorted(_load(GAZETTEER_FILE)["districts"], key=lambda d: d["name"]):
        _check_code(district["code"], seen, GAZETTEER_FILE)
        parent = _gazetteer_entry(district, "district", None)
        entries.append(parent)
        if not district.get("towns"):
            raise ReferenceDataError(f"{GAZETTEER_FILE}: {parent.code!r} has no towns")
        for town in district["towns"]:
            _check_code(town["code"], seen, GAZETTEER_FILE)
            entry = _gazetteer_entry(town, "town", parent.code)
            stray = set(entry.postcode_districts) - set(parent.postcode_districts)
            if stray:
                raise ReferenceDataError(
                    f"{GAZETTEER_FILE}: {entry.code!r} has {sorted(stray)} "
                    f"that {parent.code!r} does not list"
                )
            entries.append(entry)
    return tuple(entries)


def _gazetteer_entry(
    place: dict[str, Any], kind: LocalityKind, parent_code: str | None
) -> GazetteerEntry:
    postcode_districts = tuple(place["postcode_districts"])
    bad = [pd for pd in postcode_districts if not OUTWARD_CODE.match(pd)]
    if bad or not postcode_districts:
        raise ReferenceDataError(f"{GAZETTEER_FILE}: {place['code']!r} has bad postcodes {bad}")
    latitude, longitude = float(place["latitude"]), float(place["longitude"])
    # Hertfordshire and its neighbours; a swapped pair or a typo lands well outside.
    if not (51.4 <= latitude <= 52.2 and -0.8 <= longitude <= 0.4):
        raise ReferenceDataError(f"{GAZETTEER_FILE}: {place['code']!r} is not in the county")
    return GazetteerEntry(
        code=place["code"],
        name=place["name"],
        kind=kind,
        postcode_districts=postcode_districts,
        latitude=latitude,
        longitude=longitude,
        parent_code=parent_code,
        aliases=tuple(place.get("aliases", [])),
    )


def county_name() -> str:
    """The county the gazetteer describes."""
    return str(_load(GAZETTEER_FILE)["county"])


def _apply(row: Row, values: dict[str, Any]) -> bool:
    """Set `values` on `row`; True if anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def _upsert(model: type[Row], values_by_code: list[tuple[str, dict[str, Any]]]) -> Upserted[Row]:
    """Create or correct one row per code, in order (parents must come before children)."""
    existing = {row.code: row for row in db.session.scalars(select(model))}
    result: Upserted[Row] = Upserted()
    for code, values in values_by_code:
        parent_code = values.pop("parent_code")
        values["parent_id"] = existing[parent_code].id if parent_code else None
        row = existing.get(code)
        if row is None:
            # The id is chosen here, not at flush, so children added next can point at it.
            row = model(id=uuid.uuid4(), code=code, **values)
            db.session.add(row)
            existing[code] = row
            result.created.append(row)
        elif _apply(row, values):
            result.updated.append(row)
        else:
            result.unchanged.append(row)
    db.session.flush()
    return result


def ensure_taxonomy() -> Upserted[TaxonomyTerm]:
    """Make the taxonomy table match the file: add missing terms, correct changed ones.

    Terms that are no longer in the file are left alone (services may still use them).
    """
    return _upsert(
        TaxonomyTerm,
        [
            (
                entry.code,
                {
                    "name": entry.name,
                    "description": entry.description,
                    "position": entry.position,
                    "parent_code": entry.parent_code,
                },
            )
            for entry in taxonomy_entries()
        ],
    )


def ensure_localities() -> Upserted[Locality]:
    """Make the localities table match the gazetteer: add missing places, correct changed ones.

    Places that are no longer in the file are left alone (services may still cover them).
    """
    return _upsert(
        Locality,
        [
            (
                entry.code,
                {
                    "name": entry.name,
                    "kind": entry.kind,
                    "postcode_districts": list(entry.postcode_districts),
                    "latitude": entry.latitude,
                    "longitude": entry.longitude,
                    "parent_code": entry.parent_code,
                },
            )
            for entry in gazetteer_entries()
        ],
    )


def taxonomy_data() -> dict[str, Any]:
    """The taxonomy file as it is, for libraries that read its shape themselves (search)."""
    return _load(TAXONOMY_FILE)


def gazetteer_data() -> dict[str, Any]:
    """The county gazetteer file as it is, for libraries that read its shape themselves."""
    return _load(GAZETTEER_FILE)
