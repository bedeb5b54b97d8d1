"""Providers' performance (issue 19, item 8): for a period, per provider and per area, how many
orders each accepted, declined and had cancelled (and by whom), its missed visits, the queries
people raised about what it recorded, how long it took to accept an order (the median), and
its rating from published reviews.

Every figure is counted from what happened in the period, as the orders' timeline recorded it:
- accepted, declined: the order's "accept" and "decline" steps;
- cancelled: the "cancel" (a whole order), "cancel_rest" (its remaining weeks) and "expire"
  (a card share not paid in time) steps, by whom: the person or someone acting for them, a
  council officer, or the system. A council officer's refusal of an order outside the plan is
  the council's decision, not a cancellation, and is not counted;
- missed visits: deliveries recorded with nothing delivered (0 units: the provider marks a
  visit missed so, with a note), by the day of the visit;
- queries: visits the person queried ("delivery_queried") and outcome weeks they queried
  ("outcome_queried"); an invoice is queried only through its lines, which these count;
- time to accept: from when the order reached the provider (the step that made it "placed":
  placed, paid for, or approved by the council) to its acceptance, for orders accepted in the
  period;
- ratings: published reviews written in the period.

The area is the person's district, from the first half of their postcode (as lead providers'
areas are); a person with no postcode, or one outside the county, is in "Area not known".

Bounded: five statements, whatever the number of orders (the events, missed visits and ratings
grouped by provider and postcode district in SQL; the acceptance times one row per accepted
order in the period; the providers' and districts' names). Rules only: no Flask.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import median
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import aliased

from marketplace.accounts.models import User
from marketplace.accounts.roles import Role
from marketplace.orders.models import Delivery, Order, OrderEvent, OrderStatus
from marketplace.people.models import Person
from marketplace.types import Session
from providers.models import Locality, Organisation, ReviewStatus, ServiceReview

AREA_NOT_KNOWN = "Area not known"
CANCELLING = ("cancel", "cancel_rest", "expire")
QUERYING = ("delivery_queried", "outcome_queried")
COUNTED = ("accept", "decline", *CANCELLING, *QUERYING)


# Periods -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From `starts_on` to `ends_on`, both included (London days, held as UTC bounds)."""

    key: str
    label: str
    starts_on: date
    ends_on: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.starts_on, time(), tzinfo=UTC)

    @property
    def before(self) -> datetime:
        return datetime.combine(self.ends_on + timedelta(days=1), time(), tzinfo=UTC)


def _financial_year_start(on: date) -> date:
    return date(on.year if on.month >= 4 else on.year - 1, 4, 1)


def periods(today: date) -> list[Period]:
    """The periods the report offers, the first the default: the last 4 weeks, 3 months and
    12 months to today, this financial year so far, and the last financial year."""
    this_year = _financial_year_start(today)
    last_year = date(this_year.year - 1, 4, 1)
    return [
        Period(
            "4-weeks", "The last 4 weeks", today - timedelta(weeks=4) + timedelta(days=1), today
        ),
        Period("3-months", "The last 3 months", today - timedelta(days=91), today),
        Period("12-months", "The last 12 months", today - timedelta(days=364), today),
        Period(
            "this-year",
            f"This financial year (from 1 April {this_year.year})",
            this_year,
            today,
        ),
        Period(
            "last-year",
            f"The last financial year (April {last_year.year} to March {this_year.year})",
            last_year,
            this_year - timedelta(days=1),
        ),
    ]


def period_named(key: str | None, today: date) -> Period:
    """The offered period called `key`; the default (the first) for anything else."""
    offered = periods(today)
    return next((period for period in offered if period.key == key), offered[0])


# Figures -----------------------------------------------------------------------------------


@dataclass
class Performance:
    """One provider's (or one area's) figures for the period."""

    key: str
    name: str
    accepted: int = 0
    declined: int = 0
    cancelled_by_person: int = 0
    cancelled_by_council: int = 0
    cancelled_by_system: int = 0
    missed_visits: int = 0
    visits_queried: int = 0
    outcomes_queried: int = 0
    hours_to_accept: list[float] = field(default_factory=list)
    rating_total: int = 0
    rating_count: int = 0

    @property
    def cancelled(self) -> int:
        return self.cancelled_by_person + self.cancelled_by_council + self.cancelled_by_system

    @property
    def queries(self) -> int:
        return self.visits_queried + self.outcomes_queried

    @property
    def median_hours_to_accept(self) -> float | None:
        return round(median(self.hours_to_accept), 1) if self.hours_to_accept else None

    @property
    def rating_average(self) -> float | None:
        return round(self.rating_total / self.rating_count, 1) if self.rating_count else None


@dataclass(frozen=True)
class PerformanceReport:
    period: Period
    by_provider: list[Performance]
    by_area: list[Performance]


def outward_code(postcode: Any) -> ColumnElement[str]:
    """A postcode's first half ("SG1" of "SG1 2AB" or "SG12AB") in SQL, on SQLite and
    PostgreSQL alike: the second half is always three characters."""
    trimmed = func.trim(postcode)
    return func.upper(func.trim(func.substr(trimmed, 1, func.length(trimmed) - 3)))


def _cancelled_by(kind: str, role: str | None) -> str:
    if kind == "expire" or role is None:
        return "cancelled_by_system"
    if role == Role.COUNCIL_OFFICER.value:
        return "cancelled_by_council"
    return "cancelled_by_person"


def _hours(later: datetime, earlier: datetime) -> float:
    return max((later - earlier).total_seconds(), 0) / 3600


def provider_performance(session: Session, period: Period) -> PerformanceReport:
    """Every provider's and every area's figures for `period` (only those with something in
    it), each list ordered by name (the area not known last)."""
    outward = outward_code(Person.postcode).label("outward")
    in_period = (OrderEvent.happened_at >= period.since, OrderEvent.happened_at < period.before)
    events = session.execute(
        select(Order.organisation_id, outward, OrderEvent.kind, User.role, func.count())
        .select_from(OrderEvent)
        .join(Order, Order.id == OrderEvent.order_id)
        .join(Person, Person.id == Order.person_id)
        .outerjoin(User, User.id == OrderEvent.actor_id)
        .where(OrderEvent.kind.in_(COUNTED), *in_period)
        .group_by(Order.organisation_id, outward, OrderEvent.kind, User.role)
    ).all()
    missed = session.execute(
        select(Order.organisation_id, outward, func.count(Delivery.id))
        .select_from(Delivery)
        .join(Order, Order.id == Delivery.order_id)
        .join(Person, Person.id == Order.person_id)
        .where(
            Delivery.units == 0,
            Delivery.delivered_on >= period.starts_on,
            Delivery.delivered_on <= period.ends_on,
        )
        .group_by(Order.organisation_id, outward)
    ).all()
    reached = (
        select(OrderEvent.order_id, func.max(OrderEvent.happened_at).label("reached_at"))
        .where(OrderEvent.to_status == OrderStatus.PLACED)
        .group_by(OrderEvent.order_id)
        .subquery()
    )
    accepting = aliased(OrderEvent)
    acceptances = session.execute(
        select(Order.organisation_id, outward, reached.c.reached_at, accepting.happened_at)
        .select_from(accepting)
        .join(Order, Order.id == accepting.order_id)
        .join(Person, Person.id == Order.person_id)
        .join(reached, reached.c.order_id == accepting.order_id)
        .where(
            accepting.kind == "accept",
            accepting.happened_at >= period.since,
            accepting.happened_at < period.before,
        )
    ).all()
    ratings = session.execute(
        select(
            Order.organisation_id,
            outward,
            func.sum(ServiceReview.rating),
            func.count(ServiceReview.id),
        )
        .select_from(ServiceReview)
        .join(Order, Order.id == ServiceReview.order_id)
        .join(Person, Person.id == ServiceReview.person_id)
        .where(
            ServiceReview.status == ReviewStatus.PUBLISHED,
            ServiceReview.written_at >= period.since,
            ServiceReview.written_at < period.before,
        )
        .group_by(Order.organisation_id, outward)
    ).all()

    organisation_ids = {row[0] for rows in (events, missed, acceptances, ratings) for row in rows}
    names = _organisation_names(session, organisation_ids)
    districts = _districts_by_outward_code(session)
    providers: dict[uuid.UUID, Performance] = {}
    areas: dict[str, Performance] = {}

    def both(organisation_id: uuid.UUID, code: str | None) -> tuple[Performance, Performance]:
        provider = providers.get(organisation_id) or providers.setdefault(
            organisation_id,
            Performance(str(organisation_id), names.get(organisation_id, "Unknown provider")),
        )
        area_name = districts.get(code or "", AREA_NOT_KNOWN)
        area = areas.get(area_name) or areas.setdefault(
            area_name, Performance(area_name, area_name)
        )
        return provider, area

    for organisation_id, code, kind, role, count in events:
        attribute = {
            "accept": "accepted",
            "decline": "declined",
            "delivery_queried": "visits_queried",
            "outcome_queried": "outcomes_queried",
        }.get(kind) or _cancelled_by(kind, role)
        for figures in both(organisation_id, code):
            setattr(figures, attribute, getattr(figures, attribute) + count)
    for organisation_id, code, count in missed:
        for figures in both(organisation_id, code):
            figures.missed_visits += count
    for organisation_id, code, reached_at, accepted_at in acceptances:
        for figures in both(organisation_id, code):
            figures.hours_to_accept.append(_hours(accepted_at, reached_at))
    for organisation_id, code, total, count in ratings:
        for figures in both(organisation_id, code):
            figures.rating_total += int(total)
            figures.rating_count += count
    return PerformanceReport(
        period=period,
        by_provider=sorted(providers.values(), key=lambda p: p.name.lower()),
        by_area=sorted(areas.values(), key=lambda a: (a.name == AREA_NOT_KNOWN, a.name)),
    )


def _organisation_names(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = set(ids)
    if not wanted:
        return {}
    return dict(
        session.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted))
        ).all()
    )


def _districts_by_outward_code(session: Session) -> dict[str, str]:
    """Each postcode district's ("SG1") district name, from the county's districts."""
    named: dict[str, str] = {}
    for name, codes in session.execute(
        select(Locality.name, Locality.postcode_districts).where(Locality.kind == "district")
    ):
        for code in codes or []:
            named.setdefault(str(code).upper(), name)
    return named


# Sorting and the table's words -------------------------------------------------------------

# The report's columns: key, heading, and how a row is ordered by it (None last).
COLUMNS: dict[str, str] = {
    "name": "Name",
    "accepted": "Accepted",
    "declined": "Declined",
    "cancelled": "Cancelled",
    "missed_visits": "Missed visits",
    "queries": "Queries",
    "median_hours_to_accept": "Median hours to accept",
    "rating_average": "Average rating",
}


def sorted_rows(rows: list[Performance], column: str, descending: bool) -> list[Performance]:
    """The rows ordered by `column` (one of COLUMNS; else by name, the area not known last),
    rows without a value (no acceptances, no ratings) last either way, ties by name."""
    if column not in COLUMNS or column == "name":
        known = sorted(
            (row for row in rows if row.name != AREA_NOT_KNOWN), key=lambda row: row.name.lower()
        )
        return [
            *(reversed(known) if descending else known),
            *(row for row in rows if row.name == AREA_NOT_KNOWN),
        ]
    with_value = [row for row in rows if getattr(row, column) is not None]
    without = [row for row in rows if getattr(row, column) is None]
    by_name = sorted(with_value, key=lambda row: row.name.lower())
    ordered = sorted(by_name, key=lambda row: getattr(row, column), reverse=descending)
    return ordered + sorted(without, key=lambda row: row.name.lower())


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def table_rows(rows: Iterable[Performance]) -> list[list[str]]:
    """Each row as the page's table and its CSV show it (every cell text)."""
    return [
        [
            row.name,
            str(row.accepted),
            str(row.declined),
            str(row.cancelled),
            str(row.cancelled_by_person),
            str(row.cancelled_by_council),
            str(row.cancelled_by_system),
            str(row.missed_visits),
            str(row.visits_queried),
            str(row.outcomes_queried),
            _number(row.median_hours_to_accept),
            _number(row.rating_average),
            str(row.rating_count),
        ]
        for row in rows
    ]


TABLE_HEAD = (
    "Name",
    "Accepted",
    "Declined",
    "Cancelled",
    "Cancelled by the person or for them",
    "Cancelled by the council",
    "Cancelled by the system (not paid in time)",
    "Missed visits",
    "Visits queried",
    "Outcome weeks queried",
    "Median hours to accept",
    "Average rating (out of 5)",
    "Ratings",
)
