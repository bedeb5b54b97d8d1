"""Filters as bitsets and facet counts from the per-generation catalogue.

Counts are "disjunctive": the counts shown for one facet ignore that facet's own selection, so
choosing Hitchin still shows how many results Stevenage would give, while every other filter
applies. Values within a facet are alternatives; facets combine.

Areas are counted as their filter works: an area's count is every listing a filter on it
accepts (the area, its district, its towns: `Areas.expand`), so it is what clicking it gives;
a district and its town of the same name are one area to people and are listed once (as the
town). A place named in the words is not a choice of the area facet but a condition on every
count, so the areas listed are those among the results.

Prices are compared within one unit (`compare_prices`): £3.20 a session is not cheaper than
£4.55 a visit, nor is £9.05 a week under "at most £20" an hour.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Protocol

from search.catalogue import FACETS, Catalogue
from search.documents import PRICE_UNITS
from search.query import Filters
from search.results import FacetCount

LabelOf = Callable[[str, str, str], str]

FIXED_LABELS: dict[str, dict[str, str]] = {
    "mode": {"at_home": "At home", "at_venue": "At a venue", "online": "Online"},
    "availability": {
        "accepting": "Accepting new clients",
        "waiting_list": "Waiting list",
        "full": "Full",
    },
    "cqc": {
        "outstanding": "Outstanding",
        "good": "Good",
        "requires_improvement": "Requires improvement",
        "inadequate": "Inadequate",
        "not_yet_rated": "Not yet rated",
    },
    "budgets": {"yes": "Accepts personal budgets", "no": "Does not accept personal budgets"},
    "unit": {
        "per_hour": "Per hour",
        "per_visit": "Per visit",
        "per_session": "Per session",
        "per_day": "Per day",
        "per_night": "Per night",
        "per_week": "Per week",
        "per_item": "Per item",
        "free": "Free",
    },
}


class Areas(Protocol):
    """What counting the area facet needs of the places (a Gazetteer gives it)."""

    def expand(self, code: str) -> frozenset[str]:
        """The locality codes a filter on `code` accepts."""
        ...

    def area_of(self, code: str) -> str:
        """The code `code` is listed under (a district under its town of the same name)."""
        ...


@dataclass(frozen=True)
class Selection:
    """The filters of one search as bitsets: per facet, and those that are not facets."""

    by_facet: Mapping[str, int]
    chosen: Mapping[str, frozenset[str]]
    always: int
    # The filters that are not facets, as asked (an engine may apply them itself).
    max_price_pence: int | None = None
    start_by: date | None = None
    # The localities of the places named in the words (expanded): in `always`, and a
    # condition an engine applying filters itself must apply too.
    place_codes: frozenset[str] = frozenset()
    # The areas chosen or named, unexpanded, as the area facet lists them: shown as chosen.
    areas: frozenset[str] = frozenset()
    # The unit prices are compared in (chosen, or the most common: see compare_prices).
    price_unit: str | None = None
    # `always` before the price ceiling: what chooses the unit prices are compared in.
    unpriced: int = 0

    def combined(self) -> int:
        """Documents that pass every filter."""
        bits = self.always
        for facet_bits in self.by_facet.values():
            bits &= facet_bits
        return bits

    def without(self, facet: str) -> int:
        """Documents that pass every filter except `facet`'s own."""
        bits = self.always
        for name, facet_bits in self.by_facet.items():
            if name != facet:
                bits &= facet_bits
        return bits


def select(
    catalogue: Catalogue,
    filters: Filters,
    localities: Iterable[str],
    as_of: date,
    *,
    places: Iterable[str] = (),
    areas: Iterable[str] = (),
) -> Selection:
    """The bitsets for `filters`; `localities` (the areas chosen) and `places` (those named
    in the words) are already expanded by the gazetteer; `areas` are the chosen and named
    ones as the area facet lists them."""
    chosen: dict[str, frozenset[str]] = {
        "category": frozenset(filters.categories),
        "locality": frozenset(localities),
        "mode": frozenset(filters.delivery_modes),
        "availability": frozenset(filters.availability),
        "language": frozenset(filters.languages),
        "access": frozenset(filters.accessibility),
        "cqc": frozenset(filters.cqc_ratings),
        "budgets": frozenset({"yes"}) if filters.accepts_personal_budgets else frozenset(),
        "unit": frozenset({filters.price_unit}) if filters.price_unit else frozenset(),
    }
    by_facet = {
        facet: catalogue.value_bits(facet, values) for facet, values in chosen.items() if values
    }
    always = catalogue.live
    place_codes = frozenset(places)
    if place_codes:
        always &= catalogue.value_bits("locality", place_codes)
    start_by = None
    if filters.start_within_days is not None:
        start_by = as_of + timedelta(days=filters.start_within_days)
        always &= catalogue.can_start_by(start_by)
    unpriced = always
    if filters.max_price_pence is not None:
        always &= catalogue.price_at_most(filters.max_price_pence)
    return Selection(
        by_facet=by_facet,
        chosen=chosen,
        always=always,
        max_price_pence=filters.max_price_pence,
        start_by=start_by,
        place_codes=place_codes,
        areas=frozenset(areas),
        price_unit=filters.price_unit,
        unpriced=unpriced,
    )


def compare_prices(catalogue: Catalogue, matches: int, selection: Selection) -> Selection:
    """`selection` limited to one price unit, so that prices can be compared.

    For a price sort or a price ceiling. A unit already chosen is kept. Otherwise it is the
    paid unit most of the results are priced in, every other filter applied but the ceiling
    (the ceiling is read in the unit, so it cannot choose it), ties going to the earlier of
    PRICE_UNITS; free listings are compared only when asked for, or when there is nothing
    else. With no results, nothing changes.
    """
    if selection.chosen["unit"]:
        return selection
    among = matches & selection.unpriced
    for facet, bits in selection.by_facet.items():
        if facet != "unit":
            among &= bits
    counts = catalogue.facet_counts({"unit": among})["unit"]
    paid = [unit for unit in PRICE_UNITS if unit != "free" and counts.get(unit, 0)]
    if paid:
        best = max(paid, key=lambda unit: (counts[unit], -PRICE_UNITS.index(unit)))
    elif not counts.get("free", 0):
        return selection
    else:
        best = "free"
    return replace(
        selection,
        by_facet={**selection.by_facet, "unit": catalogue.value_bits("unit", (best,))},
        chosen={**selection.chosen, "unit": frozenset({best})},
        price_unit=best,
    )


def count_facets(
    catalogue: Catalogue,
    matches: int,
    selection: Selection,
    label_of: LabelOf,
    areas: Areas | None = None,
) -> dict[str, tuple[FacetCount, ...]]:
    """For each facet, how many of `matches` each value would give, most first.

    Values with no results are left out unless they are selected (so a chosen filter can
    always be seen and removed). With `areas`, each area is counted as its filter works and
    listed once (see the module's docstring); without, by the localities listings name.
    """
    counted: dict[str, tuple[FacetCount, ...]] = {}
    among = {facet: matches & selection.without(facet) for facet in FACETS}
    every_count = catalogue.facet_counts(among)
    if areas is not None:
        every_count["locality"] = _area_counts(
            catalogue, among["locality"], every_count["locality"], areas
        )
    for facet in FACETS:
        chosen = selection.chosen[facet]
        if facet == "locality" and areas is not None:
            chosen = selection.areas
        counts: list[FacetCount] = []
        for value, count in every_count[facet].items():
            if count or value in chosen:
                label = label_of(facet, value, catalogue.labels[facet].get(value, value))
                counts.append(FacetCount(value, label, count, value in chosen))
        for value in chosen - every_count[facet].keys():
            counts.append(FacetCount(value, label_of(facet, value, value), 0, True))
        # The value breaks ties of label (a town and its district may share a name), so the
        # order never depends on the order values were first seen in.
        counts.sort(key=lambda c: (-c.count, c.label, c.value))
        counted[facet] = tuple(counts)
    return counted


def _area_counts(
    catalogue: Catalogue, among: int, named: Mapping[str, int], areas: Areas
) -> dict[str, int]:
    """Per area that listings in `among` name (`named`: how many name each code), listed
    once (a district under its same-named town), how many of `among` a filter on it accepts."""

    def groups() -> dict[str, frozenset[str]]:
        every = sorted({areas.area_of(code) for code in catalogue.facets["locality"]})
        return {area: areas.expand(area) for area in every}

    counts = catalogue.union_counts("locality", among, groups, areas)
    present = {areas.area_of(code) for code, count in named.items() if count}
    return {area: count for area, count in counts.items() if area in present}


def fixed_label(facet: str, value: str, stored: str) -> str:
    """The label of a value of a facet whose values the library fixes, else the stored one."""
    return FIXED_LABELS.get(facet, {}).get(value, stored)
