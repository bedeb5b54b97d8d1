"""Market insight (issue 19, item 6): where the market fails people, from the search log, the
orders and the listings. Here: the period a report covers, the categories and areas figures
are grouped by, and the searches that found nothing (or nothing available). Demand against
supply is in `marketplace.console.insight_demand`; prices, lapsed listings and the market
position statement in `marketplace.console.insight_market`.

Every figure is read by grouped statements whose number does not grow with the rows: the
search log is grouped by its filters and places as written, the orders by the person's postcode
and the order's categories, the listings by top-level category or district in SQL; what those
groups mean (a town's district, a kind's top category) is looked up in the reference tables,
read once.

The words:
- a **category** is a top-level category of the care taxonomy (a kind counts under its top);
  a search counts under the categories it chose (none chosen: "No category chosen"), an order
  under its service's, a listing under its own;
- an **area** is a district: a search's chosen areas and the places its words named (none:
  "No place given"), an order's person's postcode district (none known: "No area known"), a
  listing's areas served (a town is its district's; none named: "No area named");
- a search **found nothing** when it had no results, and **nothing available** when it had
  results but none accepting new clients (`SearchLogEntry.available`, counted since issue 19;
  older entries are not counted as either);
- a search, order or listing in several categories or areas counts once in each, so a table's
  rows can add up to more than its total.
Rules only: they read and never write.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, and_, case, cast, func, or_, select

from marketplace.types import Session
from providers.lead_providers import outward_code
from providers.models import (
    Locality,
    TaxonomyTerm,
)
from providers.search_log import SearchLogEntry

PERIOD_DAYS = (30, 90, 365)
DEFAULT_PERIOD_DAYS = 30
NO_CATEGORY = "No category chosen"
NO_PLACE = "No place given"
NO_AREA_KNOWN = "No area known"
NO_AREA_NAMED = "No area named"
UNKNOWN_PLACE = "A place we do not know"


class PeriodError(ValueError):
    """The period asked for is not one of PERIOD_DAYS."""


@dataclass(frozen=True)
class Period:
    """The `days` days up to `until` (a moment, UTC)."""

    days: int
    until: datetime

    @property
    def since(self) -> datetime:
        return self.until - timedelta(days=self.days)


def period_of(text: str | None, now: datetime) -> Period:
    """The period `?period=` asks for (whole days, one of PERIOD_DAYS; missing or empty: the
    default) ending `now`. Raises PeriodError for anything else."""
    wanted = (text or "").strip()
    if not wanted:
        return Period(DEFAULT_PERIOD_DAYS, now)
    if not (wanted.isascii() and wanted.isdigit() and int(wanted) in PERIOD_DAYS):
        raise PeriodError("Choose the last 30 days, the last 90 days or the last 365 days")
    return Period(int(wanted), now)


@dataclass(frozen=True)
class Reference:
    """The categories and areas figures are grouped by: each category code's top category and
    each place's district (by code, and by lower-case name, as a search's chosen area may be
    either), with their names and the order they are listed in."""

    top_of_code: dict[str, uuid.UUID]
    top_of_term: dict[uuid.UUID, uuid.UUID]
    category_names: dict[uuid.UUID, str]
    category_order: dict[uuid.UUID, int]
    district_of_place: dict[str, uuid.UUID]
    district_of_outward: dict[str, uuid.UUID]
    district_names: dict[uuid.UUID, str]

    def categories_of_codes(self, codes: Iterable[str]) -> set[str]:
        """The top categories' names of `codes` (unknown codes left out)."""
        return {
            self.category_names[self.top_of_code[code]]
            for code in codes
            if code in self.top_of_code
        }

    def category_sort_key(self, name: str) -> tuple[int, str]:
        order = {self.category_names[key]: rank for key, rank in self.category_order.items()}
        return (order.get(name, 10**9), name)

    def districts_of_places(self, places: Iterable[str]) -> set[str]:
        """The districts' names of `places` (codes or names); a place not known is named as such."""
        found = set()
        for place in places:
            district = self.district_of_place.get(place.strip().lower())
            found.add(self.district_names[district] if district else UNKNOWN_PLACE)
        return found

    def district_of_postcode(self, postcode: str | None) -> str:
        district = self.district_of_outward.get(outward_code(postcode))
        return self.district_names[district] if district else NO_AREA_KNOWN


def reference(session: Session) -> Reference:
    """The reference tables, read in two statements."""
    terms = session.execute(
        select(TaxonomyTerm.id, TaxonomyTerm.code, TaxonomyTerm.name, TaxonomyTerm.parent_id,
               TaxonomyTerm.position)
    ).all()  # fmt: skip
    parent = {term.id: term.parent_id for term in terms}

    def top(term_id: uuid.UUID) -> uuid.UUID:
        while parent.get(term_id) is not None:
            term_id = parent[term_id]  # type: ignore[assignment]
        return term_id

    places = session.execute(
        select(Locality.id, Locality.code, Locality.name, Locality.kind, Locality.parent_id,
               Locality.postcode_districts)
    ).all()  # fmt: skip
    place_parent = {place.id: place.parent_id for place in places}

    def district(place_id: uuid.UUID) -> uuid.UUID:
        return place_parent.get(place_id) or place_id

    district_of_place: dict[str, uuid.UUID] = {}
    district_of_outward: dict[str, uuid.UUID] = {}
    for place in places:
        district_of_place[place.code.lower()] = district(place.id)
        district_of_place.setdefault(place.name.lower(), district(place.id))
        if place.kind == "district":
            for outward in place.postcode_districts or []:
                district_of_outward[outward.upper()] = place.id
    return Reference(
        top_of_code={term.code: top(term.id) for term in terms},
        top_of_term={term.id: top(term.id) for term in terms},
        category_names={term.id: term.name for term in terms if term.parent_id is None},
        category_order={term.id: term.position for term in terms if term.parent_id is None},
        district_of_place=district_of_place,
        district_of_outward=district_of_outward,
        district_names={place.id: place.name for place in places if place.kind == "district"},
    )


def rows_in_order(rows: dict[str, Any], key: Any) -> list[Any]:
    """The values of `rows` in the order `key` gives their names."""
    return [rows[name] for name in sorted(rows, key=key)]


# Searches that found nothing ------------------------------------------------------------


@dataclass
class SearchGap:
    """One category or area's searches in the period: all, those that found nothing, and
    those whose results could none of them take someone new."""

    label: str
    searches: int = 0
    found_nothing: int = 0
    nothing_available: int = 0

    @property
    def unmet(self) -> int:
        return self.found_nothing + self.nothing_available


@dataclass(frozen=True)
class UnmetSearches:
    """The period's searches by category and by area, and the totals."""

    by_category: list[SearchGap]
    by_area: list[SearchGap]
    total: SearchGap
    # Each category in each area searched (labelled "<category> in <area>").
    by_area_and_category: list[SearchGap] = field(default_factory=list)


def _in_period(period: Period) -> tuple[Any, ...]:
    return (SearchLogEntry.searched_at >= period.since, SearchLogEntry.searched_at < period.until)


def _found_nothing() -> Any:
    return func.sum(case((SearchLogEntry.results == 0, 1), else_=0))


def _nothing_available() -> Any:
    return func.sum(
        case((and_(SearchLogEntry.results > 0, SearchLogEntry.available == 0), 1), else_=0)
    )


def unmet_searches(session: Session, period: Period, places: Reference) -> UnmetSearches:
    """The period's searches grouped by their filters and places as logged (one statement),
    then by category and by area. Rows with no unmet search are kept (a category searched for
    and always found is worth seeing too); categories, then areas, in the taxonomy's order and
    by name."""
    rows = session.execute(
        select(
            cast(SearchLogEntry.filters, Text),
            cast(SearchLogEntry.places, Text),
            func.count(),
            _found_nothing(),
            _nothing_available(),
        )
        .where(
            SearchLogEntry.searched_at >= period.since, SearchLogEntry.searched_at < period.until
        )
        .group_by(cast(SearchLogEntry.filters, Text), cast(SearchLogEntry.places, Text))
    ).all()
    by_category: dict[str, SearchGap] = {}
    by_area: dict[str, SearchGap] = {}
    by_both: dict[tuple[str, str], SearchGap] = {}
    total = SearchGap("All searches")
    for filters_text, places_text, count, nothing, unavailable in rows:
        filters = json.loads(filters_text or "{}") or {}
        named = json.loads(places_text or "[]") or []
        categories = places.categories_of_codes(filters.get("categories", [])) or {NO_CATEGORY}
        areas = places.districts_of_places([*filters.get("localities", []), *named]) or {NO_PLACE}
        gaps = [by_category.setdefault(c, SearchGap(c)) for c in categories]
        gaps += [by_area.setdefault(a, SearchGap(a)) for a in areas]
        gaps += [
            by_both.setdefault((a, c), SearchGap(f"{c} in {a}")) for a in areas for c in categories
        ]
        for gap in [*gaps, total]:
            gap.searches += count
            gap.found_nothing += nothing or 0
            gap.nothing_available += unavailable or 0
    last = (NO_PLACE, UNKNOWN_PLACE)
    return UnmetSearches(
        by_category=rows_in_order(by_category, places.category_sort_key),
        by_area=rows_in_order(by_area, lambda name: (name in last, name)),
        total=total,
        by_area_and_category=[
            by_both[key]
            for key in sorted(
                by_both, key=lambda k: (k[0] in last, k[0], places.category_sort_key(k[1]))
            )
        ],
    )


@dataclass(frozen=True)
class UnmetWords:
    """Words people searched with that found nothing or nothing available: how often, how
    often each way, and when last."""

    words: str
    searches: int
    found_nothing: int
    nothing_available: int
    last_searched_at: datetime


def unmet_words(
    session: Session, period: Period, *, page: int, per_page: int
) -> tuple[list[UnmetWords], int]:
    """One page of the words (as typed, in lower case, spaces trimmed) of the period's searches
    that found nothing or nothing available, most searched first, then alphabetically; and how
    many different words there were. Searches with no words (filters alone) are not listed
    here: they count under their category and area. Two statements."""
    words = func.lower(func.trim(SearchLogEntry.words))
    unmet = or_(
        SearchLogEntry.results == 0,
        and_(SearchLogEntry.results > 0, SearchLogEntry.available == 0),
    )
    where = (
        *_in_period(period),
        unmet,
        words != "",
    )
    grouped = (
        select(
            words.label("words"),
            func.count().label("searches"),
            _found_nothing().label("found_nothing"),
            _nothing_available().label("nothing_available"),
            func.max(SearchLogEntry.searched_at).label("last"),
        )
        .where(*where)
        .group_by(words)
    )
    total = session.scalar(select(func.count()).select_from(grouped.subquery())) or 0
    rows = session.execute(
        grouped.order_by(func.count().desc(), words).limit(per_page).offset((page - 1) * per_page)
    ).all()
    return [
        UnmetWords(row.words, row.searches, row.found_nothing, row.nothing_available, row.last)
        for row in rows
    ], total
