"""Places: districts, towns and postcode districts with coordinates, given to the library as data.

A county ships its gazetteer as JSON (providers/data/hertfordshire.json: districts with their
towns nested); any other county can load the CSV shape below, or build one from the ONS Postcode
Directory. The library never reads the app's files itself: the app hands the data in.

Places CSV (`load_places_csv`), one place a row, with a header::

    code,name,kind,parent_code,postcode_districts,latitude,longitude,aliases
    north-herts,North Herts,district,,SG4 SG5 SG6,51.95,-0.25,North Hertfordshire
    hitchin,Hitchin,town,north-herts,SG4 SG5,51.949,-0.281,

`kind` is ``district`` or ``town``; `parent_code` is empty for a district; postcode districts
are separated by spaces or semicolons, aliases by semicolons; coordinates are WGS84 degrees.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.analysis import slug, tokenize

PLACE_KINDS = ("district", "town")
EARTH_RADIUS_MILES = 3958.8
_OUTWARD = re.compile(r"^[a-z]{1,2}[0-9][a-z0-9]?$")
_INWARD = re.compile(r"^[0-9][a-z]{2}$")


@dataclass(frozen=True)
class Place:
    """A district or a town: what a listing serves and what a search can be limited to."""

    code: str
    name: str
    kind: str
    latitude: float
    longitude: float
    parent_code: str | None = None
    postcode_districts: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in PLACE_KINDS:
            raise ValueError(f"place {self.code!r}: kind must be one of {PLACE_KINDS}")
        if not (-90 <= self.latitude <= 90 and -180 <= self.longitude <= 180):
            raise ValueError(f"place {self.code!r}: coordinates out of range")

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> Place:
        """A place from a dict with the dataclass's field names (as JSON or CSV gives them)."""
        return cls(
            code=str(data["code"]),
            name=str(data["name"]),
            kind=str(data["kind"]),
            latitude=float(data["latitude"]),
            longitude=float(data["longitude"]),
            parent_code=data.get("parent_code") or None,
            postcode_districts=tuple(p.upper() for p in data.get("postcode_districts", ())),
            aliases=tuple(data.get("aliases", ())),
        )


@dataclass(frozen=True)
class PlaceMatch:
    """A place named in a query: which localities it means and where its centre is."""

    label: str
    codes: frozenset[str]
    latitude: float
    longitude: float


@dataclass
class Gazetteer:
    """Places by code, name and postcode district; expands a locality for filtering."""

    places: dict[str, Place]
    _by_name: dict[tuple[str, ...], Place] = field(init=False, repr=False)
    _by_postcode: dict[str, tuple[Place, ...]] = field(init=False, repr=False)
    _children: dict[str, list[str]] = field(init=False, repr=False)
    _longest_name: int = field(init=False, repr=False)
    _areas: dict[str, str] = field(init=False, repr=False, default_factory=dict)
    _area_names: dict[str, str | None] = field(init=False, repr=False, default_factory=dict)

    def __post_init__(self) -> None:
        self._children = {}
        by_postcode: dict[str, list[Place]] = {}
        self._by_name = {}
        # Districts first, so a town of the same name ("Stevenage") replaces its district: the
        # town is what people mean, and its expansion still reaches district-wide services.
        for place in sorted(self.places.values(), key=lambda p: PLACE_KINDS.index(p.kind)):
            if place.parent_code is not None:
                if place.parent_code not in self.places:
                    raise ValueError(f"place {place.code!r}: unknown parent {place.parent_code!r}")
                self._children.setdefault(place.parent_code, []).append(place.code)
            for name in (place.name, *place.aliases):
                words = tuple(token.word for token in tokenize(name))
                if words:
                    self._by_name[words] = place
            for district in place.postcode_districts:
                by_postcode.setdefault(district.lower(), []).append(place)
        self._by_postcode = {
            district: tuple(sorted(found, key=lambda p: -PLACE_KINDS.index(p.kind)))
            for district, found in by_postcode.items()
        }
        self._longest_name = max((len(words) for words in self._by_name), default=0)

    @classmethod
    def from_places(cls, places: Iterable[Place | Mapping[str, Any]]) -> Gazetteer:
        """A gazetteer of the given places (dataclasses or dicts). Raises ValueError if invalid."""
        found: dict[str, Place] = {}
        for entry in places:
            place = entry if isinstance(entry, Place) else Place.from_mapping(entry)
            if place.code in found:
                raise ValueError(f"place {place.code!r} appears twice")
            found[place.code] = place
        return cls(found)

    @classmethod
    def from_county(cls, county: Mapping[str, Any]) -> Gazetteer:
        """From the county JSON shape: ``{"districts": [{..., "towns": [{...}]}]}``."""
        return cls.from_places(_county_places(county))

    def get(self, code: str) -> Place | None:
        """The place with this code, if any."""
        return self.places.get(code)

    def expand(self, code: str) -> frozenset[str]:
        """The locality codes a filter on `code` accepts.

        A service serves a town when it lists the town, the town's district (it covers the
        whole district) or, for a district, any town in it (it serves part of the district).
        """
        place = self.places.get(code)
        if place is None:
            return frozenset({code})
        found = {code, *self._children.get(code, ())}
        if place.parent_code:
            found.add(place.parent_code)
        return frozenset(found)

    def area_of(self, code: str) -> str:
        """The code an area is listed under where areas are offered to choose from.

        A district with a town of its own name (Stevenage) is listed as that town: people
        know them as one place, and a filter on either accepts the same listings when the
        town is the district's only one. Any other code is its own.
        """
        found = self._areas.get(code)
        if found is None:
            found = self._areas[code] = self._area_of(code)
        return found

    def _area_of(self, code: str) -> str:
        place = self.places.get(code)
        if place is None or place.kind != "district":
            return code
        towns = self._children.get(code, ())
        for town in towns:
            if self.places[town].name == place.name and len(towns) == 1:
                return town
        return code

    def area_name(self, code: str) -> str | None:
        """How an area is named where areas are offered: a district sharing its name with
        one of several towns says it is the district ("St Albans (district)")."""
        if code not in self._area_names:
            self._area_names[code] = self._area_name(code)
        return self._area_names[code]

    def _area_name(self, code: str) -> str | None:
        place = self.places.get(code)
        if place is None:
            return None
        towns = self._children.get(code, ())
        shared = any(self.places[town].name == place.name for town in towns)
        if place.kind == "district" and shared and self.area_of(code) == code:
            return f"{place.name} (district)"
        return place.name

    def resolve(self, text: str) -> PlaceMatch | None:
        """The place meant by a code, a name, an alias, a postcode district or a full postcode."""
        text = text.strip()
        if text in self.places:
            return _match_of(self.places[text].name, (self.places[text],))
        words = [token.word for token in tokenize(text)]
        found = self.find(words)
        if len(found) == 1 and found[0][0] == 0 and found[0][1] == len(words):
            return found[0][2]
        return None

    def find(self, words: Sequence[str]) -> list[tuple[int, int, PlaceMatch]]:
        """Places named in a list of folded words: (start, end, match), longest names first."""
        found: list[tuple[int, int, PlaceMatch]] = []
        position = 0
        while position < len(words):
            hit = self._place_at(words, position)
            if hit is None:
                position += 1
                continue
            end, match = hit
            found.append((position, end, match))
            position = end
        return found

    def _place_at(self, words: Sequence[str], position: int) -> tuple[int, PlaceMatch] | None:
        for length in range(min(self._longest_name, len(words) - position), 0, -1):
            place = self._by_name.get(tuple(words[position : position + length]))
            if place is not None:
                return position + length, _match_of(place.name, (place,))
        word = words[position]
        if _OUTWARD.match(word) and word in self._by_postcode:
            end = position + 1
            if end < len(words) and _INWARD.match(words[end]):
                end += 1
            return end, _match_of(word.upper(), self._by_postcode[word])
        return None

    def words(self) -> set[str]:
        """Every word of every place name: spellings for "did you mean"."""
        return {word for words in self._by_name for word in words}


def _match_of(label: str, places: Sequence[Place]) -> PlaceMatch:
    # A postcode district two towns share (EN8: Cheshunt and Waltham Cross) means both; its
    # centre is theirs on average.
    towns = [p for p in places if p.kind == "town"] or list(places)
    return PlaceMatch(
        label=label,
        codes=frozenset(p.code for p in towns),
        latitude=sum(p.latitude for p in towns) / len(towns),
        longitude=sum(p.longitude for p in towns) / len(towns),
    )


def _county_places(county: Mapping[str, Any]) -> Iterator[Place]:
    for district in county["districts"]:
        yield Place.from_mapping({**district, "kind": "district", "parent_code": None})
        for town in district.get("towns", []):
            yield Place.from_mapping({**town, "kind": "town", "parent_code": district["code"]})


def load_places_csv(path: Path) -> Gazetteer:
    """A gazetteer from the places CSV described at the top of this module.

    Raises ValueError (naming the line) for a missing column, a bad number or an unknown kind.
    """
    places: list[Place] = []
    with path.open(newline="", encoding="utf-8-sig") as handle:
        for line, row in enumerate(csv.DictReader(handle), start=2):
            try:
                places.append(_place_of_row(row))
            except (KeyError, TypeError, ValueError) as error:
                raise ValueError(f"{path.name} line {line}: {error}") from error
    return Gazetteer.from_places(places)


def _place_of_row(row: Mapping[str, str | None]) -> Place:
    postcodes = (row.get("postcode_districts") or "").strip()
    aliases = (row.get("aliases") or "").split(";")
    return Place.from_mapping(
        {
            **row,
            "postcode_districts": re.split(r"[\s;]+", postcodes) if postcodes else (),
            "aliases": tuple(alias.strip() for alias in aliases if alias.strip()),
        }
    )


def load_onspd_csv(
    path: Path,
    district_names: Mapping[str, str],
    *,
    local_authorities: Collection[str] | None = None,
) -> Gazetteer:
    """Districts from the ONS Postcode Directory: one place per local authority.

    Reads the columns ``pcds`` (the postcode), ``oslaua`` (the local authority code), ``lat``,
    ``long`` and ``doterm`` (set when a postcode is no longer used). Each local authority in
    `local_authorities` (all when None) becomes a district named from `district_names`, whose
    postcode districts are the outward codes of its live postcodes and whose centre is their
    mean. Towns are not in the directory: add them with a places CSV if wanted.
    Raises ValueError if the file lacks a column.
    """
    sums: dict[str, list[float]] = {}
    outward: dict[str, set[str]] = {}
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = {"pcds", "oslaua", "lat", "long"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path.name} lacks columns: {', '.join(sorted(missing))}")
        for row in reader:
            authority = row["oslaua"]
            if row.get("doterm") or (local_authorities and authority not in local_authorities):
                continue
            latitude, longitude = float(row["lat"]), float(row["long"])
            # The directory marks postcodes without a grid reference with latitude 99.999999.
            if latitude > 90:
                continue
            total = sums.setdefault(authority, [0.0, 0.0, 0.0])
            total[0] += latitude
            total[1] += longitude
            total[2] += 1
            outward.setdefault(authority, set()).add(row["pcds"].split()[0].upper())
    return Gazetteer.from_places(
        Place(
            code=slug(district_names.get(code, code)) or code,
            name=district_names.get(code, code),
            kind="district",
            latitude=lat / count,
            longitude=lon / count,
            postcode_districts=tuple(sorted(outward[code])),
        )
        for code, (lat, lon, count) in sorted(sums.items())
    )


def miles_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in miles (haversine): plenty for "2.3 miles away"."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    half_dphi = math.radians(lat2 - lat1) / 2
    half_dlambda = math.radians(lon2 - lon1) / 2
    a = math.sin(half_dphi) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(half_dlambda) ** 2
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(a)))
