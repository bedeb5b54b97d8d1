"""Per-generation data for filters, facets and sorting, held as bitsets over document ordinals.

An engine numbers its documents (its "ordinals"); this module keeps, for each facet value, a
Python int whose bit n is set when document n has that value. Filtering is then `&` and `|`,
and a facet count is `(matches & value).bit_count()`: a few microseconds per value even at
100,000 listings, where Whoosh's own grouping walks every matching document in Python. The
data is built once per index generation (the engine keys it and drops it when the index
changes) and can be built in parts (one per Whoosh segment) and joined.
"""

from __future__ import annotations

import bisect
import heapq
import math
import re
from array import array
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from itertools import compress, repeat
from operator import add, mul
from typing import Any

from search.analysis import slug
from search.documents import ListingDocument

FACETS = ("category", "locality", "mode", "availability", "language", "access", "cqc", "budgets")
_BYTE_BITS = [tuple(bit for bit in range(8) if byte >> bit & 1) for byte in range(256)]
_FLAG_BYTES = bytes.maketrans(b"01", b"\x00\x01")
_DIGIT_BYTES = bytes.maketrans(b"\x00\x01", b"01")
_NONZERO = re.compile(rb"[^\x00]")
# Origins whose distance order a generation keeps (each is one int per listing).
NEAREST_ORIGINS = 32
# Below one set bit in this many, walking the bytes beats flagging every bit.
_SPARSE = 16


def bits_of(ordinals: Iterable[int], size: int) -> int:
    """A bitset with the given ordinals set (each below `size`)."""
    if size <= 0:
        return 0
    # One flag byte per ordinal, set by a loop that runs in C, then read as a binary number.
    flags = bytearray(size)
    deque(map(flags.__setitem__, ordinals, repeat(1)), maxlen=0)
    return int(flags[::-1].translate(_DIGIT_BYTES), 2)


def ordinals_of(bits: int) -> list[int]:
    """The ordinals set in a bitset, in increasing order."""
    if bits.bit_count() * _SPARSE < bits.bit_length():
        return _sparse_ordinals(bits)
    # Dense: one flag byte per bit, picked by itertools.compress, all at C speed.
    flags = format(bits, "b").encode("ascii")[::-1].translate(_FLAG_BYTES)
    return list(compress(range(len(flags)), flags))


def _sparse_ordinals(bits: int) -> list[int]:
    found: list[int] = []
    # The regular expression skips the zero bytes at C speed; only set bytes reach Python.
    for byte in _NONZERO.finditer(bits.to_bytes((bits.bit_length() + 7) // 8, "little")):
        base = byte.start() << 3
        found.extend(base + bit for bit in _BYTE_BITS[byte[0][0]])
    return found


class Membership:
    """Fast `ordinal in bits` for one bitset (testing an int's bit directly costs O(size))."""

    def __init__(self, bits: int) -> None:
        self._bytes = bits.to_bytes((bits.bit_length() + 7) // 8, "little")

    def __contains__(self, ordinal: int) -> bool:
        index = ordinal >> 3
        return index < len(self._bytes) and bool(self._bytes[index] >> (ordinal & 7) & 1)


def catalogue_row(document: ListingDocument, parents: Mapping[str, str | None]) -> dict[str, Any]:
    """What the catalogue needs of a listing, worked out once when it is indexed.

    Stored beside the listing as JSON, so building a generation's catalogue reads small rows
    instead of whole documents. Categories include their ancestors; free-text values (language,
    accessibility) are keyed by their slug and keep their first spelling as the label.
    """
    names = dict(zip(document.category_codes, document.category_names, strict=False))
    categories: dict[str, str] = {}
    for code in document.category_codes:
        while code and code not in categories:
            categories[code] = names.get(code, code)
            code = parents.get(code) or ""
    status = document.availability.value
    facets: dict[str, list[tuple[str, str]]] = {
        "category": list(categories.items()),
        "locality": [(code, code) for code in document.locality_codes],
        "mode": [(mode, mode) for mode in document.delivery_modes],
        "availability": [(status, status)],
        "language": [(slug(v), v) for v in document.languages if slug(v)],
        "access": [(slug(v), v) for v in document.accessibility if slug(v)],
        "cqc": [(document.cqc_rating, document.cqc_rating)] if document.cqc_rating else [],
        "budgets": [("yes", "yes") if document.accepts_personal_budgets else ("no", "no")],
    }
    return {
        "id": document.id,
        "price": document.price_pence,
        "confirmed": document.last_confirmed.toordinal() if document.last_confirmed else 0,
        "start": document.earliest_start.toordinal() if document.earliest_start else None,
        "full": status == "full",
        "lat": document.latitude,
        "lon": document.longitude,
        "facets": facets,
    }


@dataclass
class CataloguePart:
    """Facet values and sort keys of one run of consecutive ordinals (a segment, or all)."""

    size: int = 0
    ids: list[str | None] = field(default_factory=list)
    prices: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    starts: list[int | None] = field(default_factory=list)
    full: list[bool] = field(default_factory=list)
    latitudes: list[float | None] = field(default_factory=list)
    longitudes: list[float | None] = field(default_factory=list)
    values: dict[str, dict[str, list[int]]] = field(
        default_factory=lambda: {facet: {} for facet in FACETS}
    )
    labels: dict[str, dict[str, str]] = field(
        default_factory=lambda: {facet: {} for facet in FACETS}
    )

    def add(self, ordinal: int, row: Mapping[str, Any]) -> None:
        """Record one document's `catalogue_row` at a part-local ordinal (gaps are deleted)."""
        while len(self.ids) <= ordinal:
            self.ids.append(None)
            self.prices.append(0)
            self.confirmed.append(0)
            self.starts.append(None)
            self.full.append(True)
            self.latitudes.append(None)
            self.longitudes.append(None)
        self.size = len(self.ids)
        self.ids[ordinal] = row["id"]
        self.prices[ordinal] = row["price"]
        self.confirmed[ordinal] = row["confirmed"]
        self.starts[ordinal] = row["start"]
        self.full[ordinal] = row["full"]
        self.latitudes[ordinal] = row["lat"]
        self.longitudes[ordinal] = row["lon"]
        for facet, pairs in row["facets"].items():
            values, labels = self.values[facet], self.labels[facet]
            for value, label in pairs:
                values.setdefault(value, []).append(ordinal)
                labels.setdefault(value, label)


@dataclass
class Catalogue:
    """Bitsets and sort keys for every document of one index generation."""

    size: int
    live: int
    ids: list[str | None]
    prices: list[int]
    confirmed: list[int]
    starts: list[int | None]
    full: list[bool]
    latitudes: list[float | None]
    longitudes: list[float | None]
    facets: dict[str, dict[str, int]]
    labels: dict[str, dict[str, str]]
    _cheapest: list[int] | None = field(default=None, repr=False)
    _sorted_prices: list[int] | None = field(default=None, repr=False)
    _by_confirmed: list[int] | None = field(default=None, repr=False)
    _by_start: list[int] | None = field(default=None, repr=False)
    _sorted_starts: list[int] = field(default_factory=list, repr=False)
    _undated_accepting: int = field(default=0, repr=False)
    _unlocated: list[int] | None = field(default=None, repr=False)
    _memo: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)
    _units: tuple[list[int], list[float], list[float], list[float]] | None = field(
        default=None, repr=False
    )
    _nearest: dict[tuple[float, float], array[int]] = field(default_factory=dict, repr=False)
    _points: tuple[int, list[float], list[float], list[float]] | None = field(
        default=None, repr=False
    )

    @classmethod
    def join(cls, parts: Sequence[tuple[int, CataloguePart]], size: int, live: int) -> Catalogue:
        """One catalogue from parts placed at their base ordinals; `live` masks deletions."""
        catalogue = cls(
            size=size,
            live=live,
            ids=[None] * size,
            prices=[0] * size,
            confirmed=[0] * size,
            starts=[None] * size,
            full=[True] * size,
            latitudes=[None] * size,
            longitudes=[None] * size,
            facets={facet: {} for facet in FACETS},
            labels={facet: {} for facet in FACETS},
        )
        for base, part in parts:
            end = base + part.size
            catalogue.ids[base:end] = part.ids
            catalogue.prices[base:end] = part.prices
            catalogue.confirmed[base:end] = part.confirmed
            catalogue.starts[base:end] = part.starts
            catalogue.full[base:end] = part.full
            catalogue.latitudes[base:end] = part.latitudes
            catalogue.longitudes[base:end] = part.longitudes
            for facet in FACETS:
                target = catalogue.facets[facet]
                for value, ordinals in part.values[facet].items():
                    target[value] = target.get(value, 0) | bits_of(ordinals, part.size) << base
                for value, label in part.labels[facet].items():
                    catalogue.labels[facet].setdefault(value, label)
        return catalogue

    def value_bits(self, facet: str, values: Iterable[str]) -> int:
        """Documents with any of the values of a facet (live or not: callers mask with live)."""
        found = 0
        for value in values:
            found |= self.facets[facet].get(value, 0)
        return found

    def price_at_most(self, pence: int) -> int:
        """Documents whose price is at most `pence` (free ones included)."""
        key = ("price", pence)
        if key not in self._memo:
            cheapest = self.cheapest()
            if self._sorted_prices is None:
                self._sorted_prices = [self.prices[o] for o in cheapest]
            end = bisect.bisect_right(self._sorted_prices, pence)
            self._memo[key] = bits_of(cheapest[:end], self.size)
        return self._memo[key]

    def can_start_by(self, day: date) -> int:
        """Documents that can take someone new by `day`.

        A service can when it is not full and either gives an earliest start on or before
        `day`, or gives none and is accepting new clients now.
        """
        key = ("start", day.toordinal())
        if key not in self._memo:
            if self._by_start is None:
                dated = [
                    o
                    for o, start in enumerate(self.starts)
                    if start is not None and not self.full[o]
                ]
                dated.sort(key=self.starts.__getitem__)
                self._by_start = dated
                self._sorted_starts = [self.starts[o] or 0 for o in dated]
                undated = (o for o, start in enumerate(self.starts) if start is None)
                accepting = self.facets["availability"].get("accepting", 0)
                self._undated_accepting = bits_of(undated, self.size) & accepting
            end = bisect.bisect_right(self._sorted_starts, day.toordinal())
            dated_bits = bits_of(self._by_start[:end], self.size)
            self._memo[key] = dated_bits | self._undated_accepting
        return self._memo[key]

    def most_recently_confirmed(self) -> list[int]:
        """Every ordinal, the most recently confirmed first (ties in ordinal order)."""
        if self._by_confirmed is None:
            # A stable sort, reversed: equal dates keep their ordinal order.
            self._by_confirmed = sorted(
                range(self.size), key=self.confirmed.__getitem__, reverse=True
            )
        return self._by_confirmed

    def nearest_first(self, latitude: float, longitude: float) -> Sequence[int]:
        """Every ordinal: those with coordinates nearest the point first (ties in ordinal
        order), then those without, the most recently confirmed first.

        Kept for the generation, for the last few points asked about.
        """
        key = (latitude, longitude)
        order = self._nearest.get(key)
        if order is None:
            placed, xs, ys, zs = self._unit_vectors()
            ox, oy, oz = unit_vector(latitude, longitude)
            # On a sphere the great circle is shorter as the dot product of the two points'
            # unit vectors is larger: the same order as the haversine distance, far cheaper.
            closeness = list(
                map(
                    add,
                    map(add, map(mul, xs, repeat(ox)), map(mul, ys, repeat(oy))),
                    map(mul, zs, repeat(oz)),
                )
            )
            nearest = sorted(range(len(placed)), key=closeness.__getitem__, reverse=True)
            if self._unlocated is None:
                located = set(placed)
                self._unlocated = [o for o in self.most_recently_confirmed() if o not in located]
            order = array("i", [placed[i] for i in nearest] + self._unlocated)
            if len(self._nearest) >= NEAREST_ORIGINS:
                self._nearest.clear()
            self._nearest[key] = order
        return order

    def nearest_among(
        self, latitude: float, longitude: float, candidates: int, wanted: int
    ) -> list[int]:
        """The first `wanted` of `candidates` in `nearest_first`'s order, without working out
        (or keeping) the order of every listing: for a few candidates, far cheaper."""
        if self._points is None:
            xs, ys, zs = [0.0] * self.size, [0.0] * self.size, [0.0] * self.size
            placed, pxs, pys, pzs = self._unit_vectors()
            for ordinal, x, y, z in zip(placed, pxs, pys, pzs, strict=True):
                xs[ordinal], ys[ordinal], zs[ordinal] = x, y, z
            self._points = (bits_of(placed, self.size), xs, ys, zs)
        located_bits, xs, ys, zs = self._points
        located = ordinals_of(candidates & located_bits)
        ox, oy, oz = unit_vector(latitude, longitude)
        # The same arithmetic as nearest_first, so the same floats and the same order;
        # nlargest is stable, so ties stay in ordinal order.
        closeness = list(
            map(
                add,
                map(
                    add,
                    map(mul, map(xs.__getitem__, located), repeat(ox)),
                    map(mul, map(ys.__getitem__, located), repeat(oy)),
                ),
                map(mul, map(zs.__getitem__, located), repeat(oz)),
            )
        )
        nearest = heapq.nlargest(wanted, range(len(located)), key=closeness.__getitem__)
        order = [located[i] for i in nearest]
        unlocated = candidates & ~located_bits
        if len(order) < wanted and unlocated:
            members = Membership(unlocated)
            for ordinal in self.most_recently_confirmed():
                if ordinal in members:
                    order.append(ordinal)
                    if len(order) == wanted:
                        break
        return order

    def nearest_known(self, latitude: float, longitude: float) -> bool:
        """Whether the generation keeps the whole distance order from this point."""
        return (latitude, longitude) in self._nearest

    def _unit_vectors(self) -> tuple[list[int], list[float], list[float], list[float]]:
        if self._units is None:
            self._units = _unit_vectors(self.latitudes, self.longitudes)
        return self._units

    def cheapest(self) -> list[int]:
        """Every ordinal, the cheapest first (ties in ordinal order)."""
        if self._cheapest is None:
            self._cheapest = sorted(range(self.size), key=self.prices.__getitem__)
        return self._cheapest


def unit_vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    """The point on the unit sphere at a latitude and longitude (degrees)."""
    phi, lam = math.radians(latitude), math.radians(longitude)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))


def _unit_vectors(
    latitudes: Sequence[float | None], longitudes: Sequence[float | None]
) -> tuple[list[int], list[float], list[float], list[float]]:
    """The ordinals with coordinates, and their points on the unit sphere (x, y, z lists)."""
    placed = [
        o
        for o, (lat, lon) in enumerate(zip(latitudes, longitudes, strict=True))
        if lat is not None and lon is not None
    ]
    phis = list(map(math.radians, (latitudes[o] for o in placed)))
    lams = list(map(math.radians, (longitudes[o] for o in placed)))
    cos_phis = list(map(math.cos, phis))
    xs = list(map(mul, cos_phis, map(math.cos, lams)))
    ys = list(map(mul, cos_phis, map(math.sin, lams)))
    zs = list(map(math.sin, phis))
    return placed, xs, ys, zs
