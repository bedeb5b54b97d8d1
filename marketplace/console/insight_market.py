"""Market insight (issue 19, item 6), part two: prices by category and area, listings whose
"last checked" has lapsed, and the figures of a Care Act market position statement with their
trend month by month. The words (category, area, found nothing) are `marketplace.console.
insight`'s. Grouped statements only; money in integer pence. Rules only: they read, never write.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from fractions import Fraction
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import aliased

from marketplace.console.insight import (
    NO_AREA_NAMED,
    Reference,
    UnmetSearches,
)
from marketplace.console.insight_demand import DemandAndSupply
from marketplace.formatting import LONDON
from marketplace.orders.models import Order
from marketplace.types import Session
from providers.models import (
    STALE_AFTER_DAYS,
    Locality,
    Organisation,
    PriceUnit,
    Service,
    TaxonomyTerm,
    service_is_public,
    service_localities,
    service_taxonomy_terms,
)
from providers.reminders import ListingReminder
from providers.search_log import SearchLogEntry

# The unit most care is bought in: the chart and the statement compare prices in it.
CHARTED_UNIT = PriceUnit.PER_HOUR
TREND_MONTHS = 12

# Prices ----------------------------------------------------------------------------------


def percentile(counts: list[tuple[int, int]], share: Fraction) -> int:
    """The `share` percentile (0 to 1) of the prices `counts` gives as (price, how many)
    sorted by price, interpolated between neighbours as a spreadsheet's QUARTILE.INC does,
    rounded half up to whole pence (never through a float). Raises ValueError when empty."""
    total = sum(count for _, count in counts)
    if total == 0:
        raise ValueError("no prices")
    position = share * (total - 1)
    below = int(position)

    def nth(index: int) -> int:
        seen = 0
        for price, count in counts:
            seen += count
            if index < seen:
                return price
        return counts[-1][0]

    exact = nth(below) + (nth(min(below + 1, total - 1)) - nth(below)) * (position - below)
    return int((2 * exact.numerator + exact.denominator) // (2 * exact.denominator))


@dataclass(frozen=True)
class PriceRange:
    """One category's or area's prices in one unit: how many listings, the lowest, the lower
    quartile, the median, the upper quartile and the highest, in pence."""

    label: str
    unit: PriceUnit
    listings: int
    lowest: int
    lower_quartile: int
    median: int
    upper_quartile: int
    highest: int


def _ranges(grouped: dict[tuple[str, PriceUnit], list[tuple[int, int]]]) -> list[PriceRange]:
    ranges = []
    for (label, unit), counts in grouped.items():
        counts.sort()
        ranges.append(
            PriceRange(
                label=label,
                unit=unit,
                listings=sum(count for _, count in counts),
                lowest=counts[0][0],
                lower_quartile=percentile(counts, Fraction(1, 4)),
                median=percentile(counts, Fraction(1, 2)),
                upper_quartile=percentile(counts, Fraction(3, 4)),
                highest=counts[-1][0],
            )
        )
    return ranges


def _public_prices(key: Any, joins: Any) -> Any:
    keys = key if isinstance(key, tuple) else (key,)
    return joins(
        select(*keys, Service.price_unit, Service.price_pence, func.count(Service.id.distinct()))
        .select_from(Service)
        .join(Organisation, Organisation.id == Service.organisation_id)
    ).where(service_is_public(), Service.price_unit != PriceUnit.FREE)


@dataclass(frozen=True)
class Prices:
    by_category: list[PriceRange]
    by_area: list[PriceRange]
    # Each category in each area (only when asked for), labelled "<category> in <area>".
    by_area_and_category: list[PriceRange] = field(default_factory=list)


def prices(session: Session, places: Reference, *, crossed: bool = False) -> Prices:
    """The prices of public listings now (free ones left out), by top category and unit, and
    by district and unit: two statements, each grouped by price. Categories in the taxonomy's
    order, areas by name, each with its units in PriceUnit's order. `crossed`: also by
    district, top category and unit (one statement more)."""
    term = aliased(TaxonomyTerm)
    top = func.coalesce(term.parent_id, term.id)
    by_top: dict[tuple[str, PriceUnit], list[tuple[int, int]]] = defaultdict(list)
    for top_id, unit, price, count in session.execute(
        _public_prices(
            top,
            lambda s: s.join(
                service_taxonomy_terms, service_taxonomy_terms.c.service_id == Service.id
            ).join(term, term.id == service_taxonomy_terms.c.taxonomy_term_id),
        ).group_by(top, Service.price_unit, Service.price_pence)
    ):
        name = places.category_names.get(top_id)
        if name is not None:
            by_top[(name, PriceUnit(unit))].append((price, count))
    place = aliased(Locality)
    district = func.coalesce(place.parent_id, place.id)
    by_district: dict[tuple[str, PriceUnit], list[tuple[int, int]]] = defaultdict(list)
    for district_id, unit, price, count in session.execute(
        _public_prices(
            district,
            lambda s: s.outerjoin(
                service_localities, service_localities.c.service_id == Service.id
            ).outerjoin(place, place.id == service_localities.c.locality_id),
        ).group_by(district, Service.price_unit, Service.price_pence)
    ):
        name = places.district_names.get(district_id) if district_id else None
        by_district[(name or NO_AREA_NAMED, PriceUnit(unit))].append((price, count))
    units = list(PriceUnit)
    by_both: dict[tuple[str, PriceUnit], list[tuple[int, int]]] = defaultdict(list)
    order: dict[str, tuple[Any, ...]] = {}
    if crossed:
        for top_id, district_id, unit, price, count in session.execute(
            _public_prices(
                (top, district),
                lambda s: (
                    s.join(
                        service_taxonomy_terms, service_taxonomy_terms.c.service_id == Service.id
                    )
                    .join(term, term.id == service_taxonomy_terms.c.taxonomy_term_id)
                    .outerjoin(service_localities, service_localities.c.service_id == Service.id)
                    .outerjoin(place, place.id == service_localities.c.locality_id)
                ),
            ).group_by(top, district, Service.price_unit, Service.price_pence)
        ):
            category = places.category_names.get(top_id)
            if category is None:
                continue
            area = (places.district_names.get(district_id) if district_id else None) or (
                NO_AREA_NAMED
            )
            label = f"{category} in {area}"
            order[label] = (area == NO_AREA_NAMED, area, places.category_sort_key(category))
            by_both[(label, PriceUnit(unit))].append((price, count))
    return Prices(
        by_area_and_category=sorted(
            _ranges(by_both), key=lambda r: (order[r.label], units.index(r.unit))
        ),
        by_category=sorted(
            _ranges(by_top),
            key=lambda r: (places.category_sort_key(r.label), units.index(r.unit)),
        ),
        by_area=sorted(
            _ranges(by_district),
            key=lambda r: (r.label == NO_AREA_NAMED, r.label, units.index(r.unit)),
        ),
    )


# Listings whose "last checked" has lapsed --------------------------------------------------


@dataclass(frozen=True)
class LapsedListing:
    """A public listing whose capacity its provider has not confirmed for STALE_AFTER_DAYS:
    when it was last checked, and when its provider was reminded (None: not reminded for this
    confirmation)."""

    service_id: Any
    name: str
    organisation_id: Any
    organisation: str
    last_checked_at: datetime
    reminded_at: datetime | None


def lapsed_since(now: datetime) -> datetime:
    """A listing last checked before this has lapsed (`Service.is_stale`)."""
    return now - timedelta(days=STALE_AFTER_DAYS)


def lapsed_listings(
    session: Session, now: datetime, *, page: int, per_page: int
) -> tuple[list[LapsedListing], int]:
    """One page of the lapsed public listings, the longest unchecked first (then by id, so
    pages never overlap), with the reminder sent for their last confirmation; and how many
    there are. Two statements."""
    lapsed = (service_is_public(), Service.capacity_confirmed_at < lapsed_since(now))
    total = (
        session.scalar(
            select(func.count(Service.id))
            .join(Organisation, Organisation.id == Service.organisation_id)
            .where(*lapsed)
        )
        or 0
    )
    rows = session.execute(
        select(
            Service.id,
            Service.name,
            Organisation.id,
            Organisation.name,
            Service.capacity_confirmed_at,
            func.max(ListingReminder.sent_at),
        )
        .join(Organisation, Organisation.id == Service.organisation_id)
        .outerjoin(
            ListingReminder,
            and_(
                ListingReminder.service_id == Service.id,
                ListingReminder.confirmed_at == Service.capacity_confirmed_at,
            ),
        )
        .where(*lapsed)
        .group_by(
            Service.id,
            Service.name,
            Organisation.id,
            Organisation.name,
            Service.capacity_confirmed_at,
        )
        .order_by(Service.capacity_confirmed_at, Service.id)
        .limit(per_page)
        .offset((page - 1) * per_page)
    ).all()
    return [LapsedListing(*row) for row in rows], total


@dataclass
class CheckedCount:
    """One category's public listings: checked within STALE_AFTER_DAYS, and lapsed."""

    label: str
    current: int = 0
    lapsed: int = 0


def lapsed_by_category(session: Session, places: Reference, now: datetime) -> list[CheckedCount]:
    """Every category's public listings, current and lapsed: one statement."""
    term = aliased(TaxonomyTerm)
    top = func.coalesce(term.parent_id, term.id)
    is_lapsed = case((Service.capacity_confirmed_at < lapsed_since(now), 1), else_=0)
    rows = {name: CheckedCount(name) for name in places.category_names.values()}
    for top_id, lapsed, count in session.execute(
        select(top, is_lapsed, func.count(Service.id.distinct()))
        .select_from(Service)
        .join(Organisation, Organisation.id == Service.organisation_id)
        .join(service_taxonomy_terms, service_taxonomy_terms.c.service_id == Service.id)
        .join(term, term.id == service_taxonomy_terms.c.taxonomy_term_id)
        .where(service_is_public())
        .group_by(top, is_lapsed)
    ):
        name = places.category_names.get(top_id)
        if name is None:
            continue
        if lapsed:
            rows[name].lapsed += count
        else:
            rows[name].current += count
    return [rows[name] for name in sorted(rows, key=places.category_sort_key)]


# The market position statement -------------------------------------------------------------


@dataclass(frozen=True)
class PositionRow:
    """One category in the statement: supply now, demand in the period, unmet searches, the
    middle hourly price, and the gaps these show (plain words; empty when there are none)."""

    category: str
    providers: int
    services: int
    accepting: int
    orders: int
    hours_per_week: int
    people_waiting: int
    unmet_searches: int
    median_hourly: int | None
    hourly_listings: int
    gaps: tuple[str, ...]


def position_statement(
    demand: DemandAndSupply, searches: UnmetSearches, price_ranges: Prices
) -> list[PositionRow]:
    """The statement's table, one row a category, from the other reports' figures (no further
    statement). A category has a gap when searches for it found nothing or nothing available,
    when people wait and no service in it is accepting new clients, when it has no public
    service, or when its providers declined orders."""
    unmet = {gap.label: gap.unmet for gap in searches.by_category}
    hourly = {r.label: r for r in price_ranges.by_category if r.unit is CHARTED_UNIT}
    rows = []
    for row in demand.by_category:
        gaps = []
        if unmet.get(row.label):
            gaps.append(f"{unmet[row.label]} searches found nothing or nothing available")
        if row.services == 0:
            gaps.append("No public service")
        elif row.accepting == 0:
            gaps.append("No service accepting new clients")
        if row.people_waiting and row.accepting == 0:
            gaps.append(f"{row.people_waiting} people waiting")
        if row.declined:
            gaps.append(f"{row.declined} orders declined")
        price = hourly.get(row.label)
        rows.append(
            PositionRow(
                category=row.label,
                providers=row.providers,
                services=row.services,
                accepting=row.accepting,
                orders=row.orders,
                hours_per_week=row.hours_per_week,
                people_waiting=row.people_waiting,
                unmet_searches=unmet.get(row.label, 0),
                median_hourly=price.median if price else None,
                hourly_listings=price.listings if price else 0,
                gaps=tuple(gaps),
            )
        )
    return rows


@dataclass(frozen=True)
class Month:
    """One calendar month (London): its searches, those that found nothing or nothing
    available, its orders placed and listings added."""

    starts_on: date
    searches: int
    unmet_searches: int
    orders: int
    new_listings: int

    @property
    def label(self) -> str:
        return f"{self.starts_on:%B %Y}"


def month_starts(today: date, months: int = TREND_MONTHS) -> list[date]:
    """The first days of the last `months` calendar months, this one last."""
    starts = []
    year, month = today.year, today.month
    for _ in range(months):
        starts.append(date(year, month, 1))
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return starts[::-1]


def _month_of(column: Any, starts: list[date]) -> Any:
    """Which of `starts` a moment falls in, as an SQL expression both databases read alike:
    the London midnights the months begin at, compared in UTC (NULL before the first)."""
    moments = [datetime.combine(day, time.min, tzinfo=LONDON) for day in starts]
    return case(
        *[(column >= moment, index) for index, moment in reversed(list(enumerate(moments)))],
        else_=None,
    )


def trend(session: Session, today: date, months: int = TREND_MONTHS) -> list[Month]:
    """The last `months` calendar months, oldest first: three grouped statements."""
    starts = month_starts(today, months)
    first = datetime.combine(starts[0], time.min, tzinfo=LONDON)
    searched = _month_of(SearchLogEntry.searched_at, starts)
    unmet = case(
        (
            or_(
                SearchLogEntry.results == 0,
                and_(SearchLogEntry.results > 0, SearchLogEntry.available == 0),
            ),
            1,
        ),
        else_=0,
    )
    searches = {
        index: (count, unmet_count or 0)
        for index, count, unmet_count in session.execute(
            select(searched, func.count(), func.sum(unmet))
            .where(SearchLogEntry.searched_at >= first)
            .group_by(searched)
        )
    }
    placed = _month_of(Order.placed_at, starts)
    orders: dict[int, int] = dict(
        session.execute(
            select(placed, func.count()).where(Order.placed_at >= first).group_by(placed)
        ).all()
    )
    created = _month_of(Service.created_at, starts)
    listings: dict[int, int] = dict(
        session.execute(
            select(created, func.count()).where(Service.created_at >= first).group_by(created)
        ).all()
    )
    return [
        Month(
            starts_on=start,
            searches=searches.get(index, (0, 0))[0],
            unmet_searches=searches.get(index, (0, 0))[1],
            orders=orders.get(index, 0),
            new_listings=listings.get(index, 0),
        )
        for index, start in enumerate(starts)
    ]
