"""Filters as bitsets and facet counts from the per-generation catalogue.

Counts are "disjunctive": the counts shown for one facet ignore that facet's own selection, so
choosing Hitchin still shows how many results Stevenage would give, while every other filter
applies. Values within a facet are alternatives; facets combine.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from search.catalogue import FACETS, Catalogue
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
}


@dataclass(frozen=True)
class Selection:
    """The filters of one search as bitsets: per facet, and those that are not facets."""

    by_facet: Mapping[str, int]
    chosen: Mapping[str, frozenset[str]]
    always: int
    # The filters that are not facets, as asked (an engine may apply them itself).
    max_price_pence: int | None = None
    start_by: date | None = None

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
    catalogue: Catalogue, filters: Filters, localities: Iterable[str], as_of: date
) -> Selection:
    """The bitsets for `filters`; `localities` are already expanded by the gazetteer."""
    chosen: dict[str, frozenset[str]] = {
        "category": frozenset(filters.categories),
        "locality": frozenset(localities),
        "mode": frozenset(filters.delivery_modes),
        "availability": frozenset(filters.availability),
        "language": frozenset(filters.languages),
        "access": frozenset(filters.accessibility),
        "cqc": frozenset(filters.cqc_ratings),
        "budgets": frozenset({"yes"}) if filters.accepts_personal_budgets else frozenset(),
    }
    by_facet = {
        facet: catalogue.value_bits(facet, values) for facet, values in chosen.items() if values
    }
    always = catalogue.live
    if filters.max_price_pence is not None:
        always &= catalogue.price_at_most(filters.max_price_pence)
    start_by = None
    if filters.start_within_days is not None:
        start_by = as_of + timedelta(days=filters.start_within_days)
        always &= catalogue.can_start_by(start_by)
    return Selection(
        by_facet=by_facet,
        chosen=chosen,
        always=always,
        max_price_pence=filters.max_price_pence,
        start_by=start_by,
    )


def count_facets(
    catalogue: Catalogue, matches: int, selection: Selection, label_of: LabelOf
) -> dict[str, tuple[FacetCount, ...]]:
    """For each facet, how many of `matches` each value would give, most first.

    Values with no results are left out unless they are selected (so a chosen filter can
    always be seen and removed).
    """
    counted: dict[str, tuple[FacetCount, ...]] = {}
    among = {facet: matches & selection.without(facet) for facet in FACETS}
    every_count = catalogue.facet_counts(among)
    for facet in FACETS:
        chosen = selection.chosen[facet]
        counts: list[FacetCount] = []
        for value, count in every_count[facet].items():
            if count or value in chosen:
                label = label_of(facet, value, catalogue.labels[facet].get(value, value))
                counts.append(FacetCount(value, label, count, value in chosen))
        for value in chosen - catalogue.facets[facet].keys():
            counts.append(FacetCount(value, label_of(facet, value, value), 0, True))
        # The value breaks ties of label (a town and its district may share a name), so the
        # order never depends on the order values were first seen in.
        counts.sort(key=lambda c: (-c.count, c.label, c.value))
        counted[facet] = tuple(counts)
    return counted


def fixed_label(facet: str, value: str, stored: str) -> str:
    """The label of a value of a facet whose values the library fixes, else the stored one."""
    return FIXED_LABELS.get(facet, {}).get(value, stored)
