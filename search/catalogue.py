"""Per-generation data for filters, facets and sorting, held as bitsets over document ordinals.

An engine numbers its documents (its "ordinals"); this module keeps, for each facet value, a
Python int whose bit n is set when document n has that value. Filtering is then `&` and `|`,
and a facet count is `(matches & value).bit_count()`: a few microseconds per value even at
100,000 listings, where Whoosh's own grouping walks every matching document in Python. The
data is built once per index generation (the engine keys it and drops it when the index
changes) and can be built in parts (one per Whoosh segment) and joined.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt

from search.analysis import slug
from search.documents import ListingDocument

FACETS = (
    "category",
    "locality",
    "mode",
    "availability",
    "language",
    "access",
    "cqc",
    "budgets",
    "unit",
)
# A listing without an earliest start date, in the catalogue's column of start days.
NO_START = -1

Ordinals = npt.NDArray[np.intp]
Flags = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


def bits_of(ordinals: Iterable[int], size: int) -> int:
    """A bitset with the given ordinals set (each below `size`)."""
    if size <= 0:
        return 0
    if isinstance(ordinals, np.ndarray):
        index = ordinals
    elif isinstance(ordinals, list | tuple | range):
        index = np.asarray(ordinals, dtype=np.intp)
    else:
        index = np.fromiter(ordinals, dtype=np.intp)
    flags = np.zeros(size, dtype=np.bool_)
    flags[index] = True
    return _bits(flags)


def ordinals_of(bits: int) -> list[int]:
    """The ordinals set in a bitset, in increasing order."""
    return _ordinals(bits).tolist()


def ordinal_array(bits: int) -> Ordinals:
    """`ordinals_of` as a numpy array, for numpy's use (no Python int made for each)."""
    return _ordinals(bits)


def _bits(flags: Flags) -> int:
    # One flag per ordinal, packed eight to a byte in C, read as a little-endian number.
    return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")


def _flags(bits: int, size: int) -> Flags:
    """One flag per ordinal below `size` (bits at or above it are ignored)."""
    raw = bits.to_bytes(max((size + 7) // 8, (bits.bit_length() + 7) // 8), "little")
    flags = np.unpackbits(np.frombuffer(raw, dtype=np.uint8), bitorder="little")
    return flags[:size].view(np.bool_)


def _ordinals(bits: int) -> Ordinals:
    if bits <= 0:
        return np.zeros(0, dtype=np.intp)
    return np.flatnonzero(_flags(bits, bits.bit_length())).astype(np.intp, copy=False)


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
        "unit": [(document.price_unit, document.price_unit)],
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

    def seal(self) -> SealedPart:
        """The part as a generation keeps it: numpy columns and one bitset per facet value.

        Engines keep a part per segment across generations; lists of a hundred thousand
        numbers would be walked by the garbage collector on every full collection.
        """
        return SealedPart(
            size=self.size,
            ids=self.ids,
            prices=np.array(self.prices, dtype=np.int64),
            confirmed=np.array(self.confirmed, dtype=np.int64),
            starts=np.array([NO_START if s is None else s for s in self.starts], dtype=np.int64),
            full=np.array(self.full, dtype=np.bool_),
            # None becomes NaN in a float column.
            latitudes=np.array(self.latitudes, dtype=np.float64),
            longitudes=np.array(self.longitudes, dtype=np.float64),
            values={
                facet: {value: bits_of(ordinals, self.size) for value, ordinals in values.items()}
                for facet, values in self.values.items()
            },
            labels=self.labels,
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


@dataclass(frozen=True)
class SealedPart:
    """A finished `CataloguePart`: what `Catalogue.join` places at a base ordinal."""

    size: int
    ids: list[str | None]
    prices: npt.NDArray[np.int64]
    confirmed: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    full: Flags
    latitudes: Floats
    longitudes: Floats
    values: dict[str, dict[str, int]]
    labels: dict[str, dict[str, str]]


@dataclass
class Catalogue:
    """Bitsets and sort keys for every document of one index generation.

    The sort keys are numpy columns (gaps, the deleted ordinals, hold 0, NO_START, True or
    NaN), so orders and ranges are worked out in C, and the garbage collector, which walks
    every element of a list on each full collection, has nothing to walk in them.
    """

    size: int
    live: int
    ids: list[str | None]
    prices: npt.NDArray[np.int64]
    confirmed: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    full: Flags
    latitudes: Floats
    longitudes: Floats
    facets: dict[str, dict[str, int]]
    labels: dict[str, dict[str, str]]
    _by_price: Ordinals | None = field(default=None, repr=False)
    _sorted_prices: npt.NDArray[np.int64] | None = field(default=None, repr=False)
    _by_confirmed: Ordinals | None = field(default=None, repr=False)
    _by_start: Ordinals | None = field(default=None, repr=False)
    _sorted_starts: npt.NDArray[np.int64] | None = field(default=None, repr=False)
    _undated_accepting: int = field(default=0, repr=False)
    _memo: dict[tuple[str, int], int] = field(default_factory=dict, repr=False)
    _matrix: tuple[list[str], npt.NDArray[np.uint64], dict[str, tuple[int, int]]] | None = field(
        default=None, repr=False
    )
    _points: tuple[Flags, Floats, Floats, Floats] | None = field(default=None, repr=False)
    _unions: tuple[object, list[str], npt.NDArray[np.uint64]] | None = field(
        default=None, repr=False
    )

    @classmethod
    def join(
        cls, parts: Sequence[tuple[int, CataloguePart | SealedPart]], size: int, live: int
    ) -> Catalogue:
        """One catalogue from parts placed at their base ordinals; `live` masks deletions."""
        catalogue = cls(
            size=size,
            live=live,
            ids=[None] * size,
            prices=np.zeros(size, dtype=np.int64),
            confirmed=np.zeros(size, dtype=np.int64),
            starts=np.full(size, NO_START, dtype=np.int64),
            full=np.ones(size, dtype=np.bool_),
            latitudes=np.full(size, np.nan),
            longitudes=np.full(size, np.nan),
            facets={facet: {} for facet in FACETS},
            labels={facet: {} for facet in FACETS},
        )
        for base, unsealed in parts:
            part = unsealed.seal() if isinstance(unsealed, CataloguePart) else unsealed
            end = base + part.size
            catalogue.ids[base:end] = part.ids
            if not part.size:
                continue
            catalogue.prices[base:end] = part.prices
            catalogue.confirmed[base:end] = part.confirmed
            catalogue.starts[base:end] = part.starts
            catalogue.full[base:end] = part.full
            catalogue.latitudes[base:end] = part.latitudes
            catalogue.longitudes[base:end] = part.longitudes
            for facet in FACETS:
                target = catalogue.facets[facet]
                for value, bits in part.values[facet].items():
                    target[value] = target.get(value, 0) | bits << base
                for value, label in part.labels[facet].items():
                    catalogue.labels[facet].setdefault(value, label)
        return catalogue

    def prepare_orders(self) -> None:
        """Work out the orders that price, start-date, recency and distance use on first need."""
        self._price_order()
        self._start_order()
        self._confirmed_order()
        self._located_points()
        self._value_matrix()

    def value_bits(self, facet: str, values: Iterable[str]) -> int:
        """Documents with any of the values of a facet (live or not: callers mask with live)."""
        found = 0
        for value in values:
            found |= self.facets[facet].get(value, 0)
        return found

    def facet_counts(self, among: Mapping[str, int]) -> dict[str, dict[str, int]]:
        """For each facet named, how many of its documents in `among` have each value.

        Facets are usually counted within one set (those whose own filter is not chosen), so
        every row of the matrix is counted against it at once; facets with other sets are
        counted row range by row range.
        """
        values, matrix, spans = self._value_matrix()
        by_set: dict[int, list[str]] = {}
        for facet, bits in among.items():
            by_set.setdefault(bits, []).append(facet)
        counted: dict[str, dict[str, int]] = {}
        for bits, facets in by_set.items():
            words = np.frombuffer(bits.to_bytes(matrix.shape[1] * 8, "little"), dtype="<u8")
            every_row = _popcounts(matrix, words) if len(facets) > 1 else None
            for facet in facets:
                start, end = spans[facet]
                if every_row is not None:
                    counts = every_row[start:end]
                else:
                    counts = _popcounts(matrix[start:end], words)
                counted[facet] = dict(zip(values[start:end], counts, strict=True))
        return counted

    def union_counts(
        self, facet: str, among: int, groups: Callable[[], Mapping[str, Iterable[str]]], key: object
    ) -> dict[str, int]:
        """Per group of a facet's values, how many documents in `among` have any of them.

        Each group is one row, the OR of its values' rows, made once per generation for the
        same `key` (`groups` is called only then): then counted as `facet_counts` counts, in C.
        """
        made = self._unions
        if made is None or made[0] is not key:
            chosen = groups()
            values, matrix, spans = self._value_matrix()
            start, end = spans[facet]
            row_of = {value: start + i for i, value in enumerate(values[start:end])}
            rows = np.zeros((len(chosen), matrix.shape[1]), dtype="<u8")
            for i, codes in enumerate(chosen.values()):
                for code in codes:
                    if code in row_of:
                        rows[i] |= matrix[row_of[code]]
            made = self._unions = (key, list(chosen), rows)
        _, names, rows = made
        words = np.frombuffer(among.to_bytes(rows.shape[1] * 8, "little"), dtype="<u8")
        return dict(zip(names, _popcounts(rows, words), strict=True))

    def _value_matrix(self) -> tuple[list[str], npt.NDArray[np.uint64], dict[str, tuple[int, int]]]:
        # One row of 64-bit words per value of every facet: counts are then one AND and one
        # popcount over the matrix, in C, instead of one big-int AND per value.
        if self._matrix is None:
            words = max(1, (self.size + 63) // 64)
            values: list[str] = []
            spans: dict[str, tuple[int, int]] = {}
            for facet in FACETS:
                spans[facet] = (len(values), len(values) + len(self.facets[facet]))
                values += self.facets[facet]
            matrix = np.zeros((len(values), words), dtype="<u8")
            row = 0
            for facet in FACETS:
                for bits in self.facets[facet].values():
                    matrix[row] = np.frombuffer(bits.to_bytes(words * 8, "little"), dtype="<u8")
                    row += 1
            self._matrix = (values, matrix, spans)
        return self._matrix

    def price_at_most(self, pence: int) -> int:
        """Documents whose price is at most `pence` (free ones included)."""
        key = ("price", pence)
        if key not in self._memo:
            by_price = self._price_order()
            assert self._sorted_prices is not None
            end = int(np.searchsorted(self._sorted_prices, pence, side="right"))
            self._memo[key] = bits_of(by_price[:end], self.size)
        return self._memo[key]

    def can_start_by(self, day: date) -> int:
        """Documents that can take someone new by `day`.

        A service can when it is not full and either gives an earliest start on or before
        `day`, or gives none and is accepting new clients now.
        """
        key = ("start", day.toordinal())
        if key not in self._memo:
            by_start = self._start_order()
            assert self._sorted_starts is not None
            end = int(np.searchsorted(self._sorted_starts, day.toordinal(), side="right"))
            self._memo[key] = bits_of(by_start[:end], self.size) | self._undated_accepting
        return self._memo[key]

    def cheapest(self) -> list[int]:
        """Every ordinal, the cheapest first (ties in ordinal order)."""
        return self._price_order().tolist()

    def most_recently_confirmed(self) -> list[int]:
        """Every ordinal, the most recently confirmed first (ties in ordinal order)."""
        return self._confirmed_order().tolist()

    def cheapest_among(self, candidates: int, wanted: int) -> list[int]:
        """The first `wanted` of `candidates` in `cheapest`'s order."""
        return self._first_among(self._price_order(), candidates, wanted)

    def freshest_among(self, candidates: int, wanted: int) -> list[int]:
        """The first `wanted` of `candidates` in `most_recently_confirmed`'s order."""
        return self._first_among(self._confirmed_order(), candidates, wanted)

    def nearest_first(self, latitude: float, longitude: float) -> list[int]:
        """Every ordinal: those with coordinates nearest the point first (ties in ordinal
        order), then those without, the most recently confirmed first."""
        return self.nearest_among(latitude, longitude, (1 << self.size) - 1, self.size)

    def nearest_among(
        self, latitude: float, longitude: float, candidates: int, wanted: int
    ) -> list[int]:
        """The first `wanted` of `candidates` in `nearest_first`'s order.

        Only the candidates' closeness is worked out, and only the nearest `wanted` of them
        sorted, so no order is kept per point.
        """
        located, xs, ys, zs = self._located_points()
        chosen = _ordinals(candidates)
        chosen = chosen[chosen < self.size]
        placed = chosen[located[chosen]]
        ox, oy, oz = unit_vector(latitude, longitude)
        # On a sphere the great circle is shorter as the dot product of the two points' unit
        # vectors is larger: the haversine's order, far cheaper. Each product and sum is one
        # IEEE operation in this order, so equal places give equal floats.
        closeness = xs[placed] * ox + ys[placed] * oy + zs[placed] * oz
        if wanted < len(placed):
            # Keep everything at least as close as the wanted-th: ties at the edge stay in.
            edge = np.partition(closeness, len(placed) - wanted)[len(placed) - wanted]
            near = closeness >= edge
            placed, closeness = placed[near], closeness[near]
        # A stable sort on the negated closeness: nearest first, ties in ordinal order.
        order = placed[np.argsort(-closeness, kind="stable")][:wanted].tolist()
        if len(order) < wanted:
            unplaced = chosen[~located[chosen]]
            if len(unplaced):
                rest = _bits_at(unplaced, self.size)
                order += self._first_among(self._confirmed_order(), rest, wanted - len(order))
        return order

    def _first_among(self, order: Ordinals, candidates: int, wanted: int) -> list[int]:
        picked = order[_flags(candidates, self.size)[order]]
        return picked[:wanted].tolist()

    def _price_order(self) -> Ordinals:
        if self._by_price is None:
            self._by_price = np.argsort(self.prices, kind="stable")
            self._sorted_prices = self.prices[self._by_price]
        return self._by_price

    def _confirmed_order(self) -> Ordinals:
        if self._by_confirmed is None:
            self._by_confirmed = np.argsort(-self.confirmed, kind="stable")
        return self._by_confirmed

    def _start_order(self) -> Ordinals:
        if self._by_start is None:
            dated = np.flatnonzero((self.starts != NO_START) & ~self.full)
            dated = dated[np.argsort(self.starts[dated], kind="stable")]
            self._sorted_starts = self.starts[dated]
            accepting = self.facets["availability"].get("accepting", 0)
            self._undated_accepting = _bits(self.starts == NO_START) & accepting
            self._by_start = dated
        return self._by_start

    def _located_points(self) -> tuple[Flags, Floats, Floats, Floats]:
        if self._points is None:
            located = ~(np.isnan(self.latitudes) | np.isnan(self.longitudes))
            placed = np.flatnonzero(located)
            # Python's math rather than numpy's vectorised cos and sin, which may differ in
            # the last place: the same floats as unit_vector gives for the origin.
            points = list(
                map(unit_vector, self.latitudes[placed].tolist(), self.longitudes[placed].tolist())
            )
            unit = np.zeros((self.size, 3))
            if points:
                unit[placed] = points
            self._points = (located, unit[:, 0].copy(), unit[:, 1].copy(), unit[:, 2].copy())
        return self._points


def _popcounts(matrix: npt.NDArray[np.uint64], words: npt.NDArray[np.uint64]) -> list[int]:
    """Per row of the matrix, how many of its bits are also set in `words`."""
    return np.bitwise_count(matrix & words).sum(axis=1, dtype=np.int64).tolist()


def _bits_at(ordinals: Ordinals, size: int) -> int:
    flags = np.zeros(size, dtype=np.bool_)
    flags[ordinals] = True
    return _bits(flags)


def unit_vector(latitude: float, longitude: float) -> tuple[float, float, float]:
    """The point on the unit sphere at a latitude and longitude (degrees)."""
    phi, lam = math.radians(latitude), math.radians(longitude)
    return (math.cos(phi) * math.cos(lam), math.cos(phi) * math.sin(lam), math.sin(phi))
