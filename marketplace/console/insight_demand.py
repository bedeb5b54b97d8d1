"""Market insight (issue 19, item 6): demand against supply, by category, by area and by
each category in each area. Demand in a period: orders placed (and declined), the hours a week
of recurring hourly orders; now: the people waiting for an answer, the open budget shortfalls.
Supply now: approved providers' public listings by capacity, and the soonest start. The words
(category, area) and the reference tables are `marketplace.console.insight`'s. Grouped
statements only. Rules only: they read, never write.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Text, and_, case, cast, distinct, func, select
from sqlalchemy.orm import aliased

from marketplace.console.insight import (
    NO_AREA_KNOWN,
    NO_AREA_NAMED,
    Period,
    Reference,
    rows_in_order,
)
from marketplace.orders.models import (
    Order,
    OrderStatus,
    PackageShortfall,
    ScheduleKind,
)
from marketplace.people.models import Person
from marketplace.types import Session
from providers.models import (
    CapacityStatus,
    Locality,
    Organisation,
    PriceUnit,
    Service,
    TaxonomyTerm,
    service_is_public,
    service_localities,
    service_taxonomy_terms,
)

# Orders the provider or the council has yet to answer: the people they are for are waiting.
WAITING = (OrderStatus.PLACED, OrderStatus.AWAITING_APPROVAL)


@dataclass
class DemandSupply:
    """One category or area. Demand: orders placed in the period (and how many of them the
    provider declined), the hours a week the recurring hourly ones ask for, the people waiting
    now for a provider's or the council's answer, the packages whose budget cannot cover a
    coming cycle now. Supply now: approved providers and their public services, by capacity,
    and the soonest a service that is not full says it can start."""

    label: str
    orders: int = 0
    declined: int = 0
    hours_per_week: int = 0
    people_waiting: int = 0
    shortfalls: int = 0
    providers: int = 0
    services: int = 0
    accepting: int = 0
    waiting_list: int = 0
    full: int = 0
    soonest_start: date | None = None
    _waiting: set[uuid.UUID] = field(default_factory=set, repr=False)


@dataclass(frozen=True)
class DemandAndSupply:
    by_category: list[DemandSupply]
    by_area: list[DemandSupply]
    # Each category in each area with any demand or supply (only when asked for).
    by_area_and_category: list[DemandSupply] = field(default_factory=list)


def _hours_a_week() -> Any:
    """An order's hours a week: its hours a visit times its days a week, for a recurring order
    priced by the hour (other orders ask for no hours a week)."""
    return case(
        (
            and_(
                Order.schedule_kind == ScheduleKind.RECURRING,
                Order.price_unit == PriceUnit.PER_HOUR,
            ),
            Order.units_per_occasion * func.json_array_length(Order.days),
        ),
        else_=0,
    )


def _demand(session: Session, period: Period) -> list[tuple[Any, ...]]:
    """(postcode, categories JSON, orders, declined, hours a week) groups of the period's
    orders; one statement."""
    codes = cast(Order.category_codes, Text)
    return list(
        session.execute(
            select(
                Person.postcode,
                codes,
                func.count(),
                func.sum(case((Order.status == OrderStatus.DECLINED, 1), else_=0)),
                func.sum(_hours_a_week()),
            )
            .join(Person, Person.id == Order.person_id)
            .where(Order.placed_at >= period.since, Order.placed_at < period.until)
            .group_by(Person.postcode, codes)
        ).all()
    )


def _waiting_now(session: Session) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(person, postcode, categories JSON) of the orders waiting for an answer now, and
    (postcode, categories JSON, count) of the open shortfalls; two statements."""
    codes = cast(Order.category_codes, Text)
    waiting = session.execute(
        select(Order.person_id, Person.postcode, codes)
        .join(Person, Person.id == Order.person_id)
        .where(Order.status.in_(WAITING))
        .group_by(Order.person_id, Person.postcode, codes)
    ).all()
    shortfalls = session.execute(
        select(Person.postcode, codes, func.count())
        .select_from(PackageShortfall)
        .join(Order, Order.id == PackageShortfall.order_id)
        .join(Person, Person.id == Order.person_id)
        .where(PackageShortfall.resolved_at.is_(None))
        .group_by(Person.postcode, codes)
    ).all()
    return list(waiting), list(shortfalls)


def _supply(session: Session, key: Any, today: date) -> dict[Any, dict[str, Any]]:
    """Public services now grouped by the expressions `key` gives (a top category's id, a
    district's id, or both; None where a listing has none), by the tuple of their values:
    providers, services by capacity and the soonest start of those not full; two statements."""
    term = aliased(TaxonomyTerm)
    place = aliased(Locality)

    def joined(statement: Any) -> Any:
        return (
            statement.select_from(Service)
            .join(Organisation, Organisation.id == Service.organisation_id)
            .outerjoin(service_taxonomy_terms, service_taxonomy_terms.c.service_id == Service.id)
            .outerjoin(term, term.id == service_taxonomy_terms.c.taxonomy_term_id)
            .outerjoin(service_localities, service_localities.c.service_id == Service.id)
            .outerjoin(place, place.id == service_localities.c.locality_id)
            .where(service_is_public())
        )

    grouping = key(term, place)
    width = len(grouping)
    figures: dict[Any, dict[str, Any]] = defaultdict(dict)
    for row in session.execute(
        joined(
            select(
                *grouping,
                func.count(distinct(Service.organisation_id)),
                func.count(distinct(Service.id)),
            )
        ).group_by(*grouping)
    ):
        providers, services = row[width:]
        figures[tuple(row[:width])].update(providers=providers, services=services)
    for row in session.execute(
        joined(
            select(
                *grouping,
                Service.capacity_status,
                func.count(distinct(Service.id)),
                func.min(func.coalesce(Service.earliest_start, today)),
            )
        ).group_by(*grouping, Service.capacity_status)
    ):
        group = tuple(row[:width])
        status, services, soonest = row[width:]
        figures[group][CapacityStatus(status).value] = services
        if status != CapacityStatus.FULL and soonest is not None:
            start = max(date.fromisoformat(str(soonest)[:10]), today)
            known = figures[group].get("soonest")
            figures[group]["soonest"] = start if known is None else min(known, start)
    return figures


def _apply_supply(row: DemandSupply, figures: dict[str, Any]) -> None:
    row.providers = figures.get("providers", 0)
    row.services = figures.get("services", 0)
    row.accepting = figures.get(CapacityStatus.ACCEPTING.value, 0)
    row.waiting_list = figures.get(CapacityStatus.WAITING_LIST.value, 0)
    row.full = figures.get(CapacityStatus.FULL.value, 0)
    row.soonest_start = figures.get("soonest")


def _top(term: Any) -> Any:
    return func.coalesce(term.parent_id, term.id)


def _district(place: Any) -> Any:
    return func.coalesce(place.parent_id, place.id)


def _add_supply(
    session: Session,
    places: Reference,
    today: date,
    rows: dict[str, dict[Any, DemandSupply]],
) -> None:
    """Supply now into the rows: by top category (two statements), by district (two), and,
    when there are `rows["both"]`, by the two together (two)."""
    for (top_id,), figures in _supply(session, lambda term, _: (_top(term),), today).items():
        name = places.category_names.get(top_id)
        if name is not None:
            _apply_supply(rows["category"][name], figures)
    for (district_id,), figures in _supply(
        session, lambda _, place: (_district(place),), today
    ).items():
        name = _district_name(places, district_id)
        _apply_supply(rows["area"].setdefault(name, DemandSupply(name)), figures)
    if "both" not in rows:
        return
    for (top_id, district_id), figures in _supply(
        session, lambda term, place: (_top(term), _district(place)), today
    ).items():
        category = places.category_names.get(top_id)
        if category is not None:
            area = _district_name(places, district_id)
            key = (area, category)
            _apply_supply(
                rows["both"].setdefault(key, DemandSupply(f"{category} in {area}")), figures
            )


def _district_name(places: Reference, district_id: Any) -> str:
    return (places.district_names.get(district_id) if district_id else None) or NO_AREA_NAMED


def _add_demand(
    session: Session,
    period: Period,
    rows_for: Callable[[str | None, str | None], list[DemandSupply]],
) -> None:
    """The period's orders, the people waiting and the open shortfalls into the rows each
    (postcode, categories) group counts under (three statements)."""
    for postcode, codes_text, orders, declined, hours in _demand(session, period):
        for row in rows_for(postcode, codes_text):
            row.orders += orders
            row.declined += declined or 0
            row.hours_per_week += hours or 0
    waiting, shortfalls = _waiting_now(session)
    for person_id, postcode, codes_text in waiting:
        for row in rows_for(postcode, codes_text):
            row._waiting.add(person_id)
    for postcode, codes_text, count in shortfalls:
        for row in rows_for(postcode, codes_text):
            row.shortfalls += count


def demand_and_supply(
    session: Session, period: Period, places: Reference, today: date, *, crossed: bool = False
) -> DemandAndSupply:
    """Demand in the period (and waiting now) against supply now, by category and by area:
    every category of the taxonomy and every district is listed, with what has none last.
    `crossed`: also each category in each area that has any demand or supply, by area then
    category (two statements more)."""
    rows: dict[str, dict[Any, DemandSupply]] = {
        "category": {name: DemandSupply(name) for name in places.category_names.values()},
        "area": {name: DemandSupply(name) for name in places.district_names.values()},
    }
    if crossed:
        rows["both"] = {}

    def rows_for(postcode: str | None, codes_text: str | None) -> list[DemandSupply]:
        categories = places.categories_of_codes(json.loads(codes_text or "[]") or [])
        area = places.district_of_postcode(postcode)
        found = [rows["category"].setdefault(name, DemandSupply(name)) for name in categories]
        found.append(rows["area"].setdefault(area, DemandSupply(area)))
        if crossed:
            found += [
                rows["both"].setdefault((area, name), DemandSupply(f"{name} in {area}"))
                for name in categories
            ]
        return found

    _add_demand(session, period, rows_for)
    for group in rows.values():
        for row in group.values():
            row.people_waiting = len(row._waiting)
    _add_supply(session, places, today, rows)
    last = (NO_AREA_KNOWN, NO_AREA_NAMED)
    both = rows.get("both", {})
    return DemandAndSupply(
        by_category=rows_in_order(rows["category"], places.category_sort_key),
        by_area=rows_in_order(rows["area"], lambda name: (name in last, name)),
        by_area_and_category=[
            both[key]
            for key in sorted(
                both, key=lambda k: (k[0] in last, k[0], places.category_sort_key(k[1]))
            )
        ],
    )
