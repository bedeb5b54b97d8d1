"""What an order delivers and costs on each day: its occasions, each with its units and unit
price, under the terms in force that day. Plain arithmetic on loaded rows.

An order placed for a fixed number of weeks has one set of terms, its own columns. A package
(an open-ended order, `Order.open_ended`) has `PackageTerms` rows: the terms it was placed on,
then one per accepted variation, each in force from its `effective_from` until the next; a
paused row has no occasions. Cycles are cut from the order's first day in the provider's
invoicing period (`Order.invoice_cycle.days`), so cycle N of a package always covers the same
dates whatever changes: a variation re-works a cycle's units and amount, never its dates.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.orders.models import Delivery, Order, PackageTerms, ScheduleKind
from marketplace.orders.schedule import WEEKDAYS, schedule_of


@dataclass(frozen=True)
class Terms:
    effective_from: date
    units_per_occasion: int
    days: tuple[str, ...]
    unit_price_pence: int
    paused: bool = False

    @classmethod
    def of_row(cls, row: PackageTerms) -> Terms:
        return cls(
            row.effective_from,
            row.units_per_occasion,
            tuple(row.days or ()),
            row.unit_price_pence,
            row.paused,
        )

    @property
    def weekly_pence(self) -> int:
        return (
            0 if self.paused else self.units_per_occasion * len(self.days) * self.unit_price_pence
        )


@dataclass(frozen=True)
class Occasion:
    day: date
    units: int
    unit_price_pence: int

    @property
    def pence(self) -> int:
        return self.units * self.unit_price_pence


def terms_of(order: Order) -> list[Terms]:
    """The order's terms in the order they take effect: a package's rows, or (for an order
    with none) the one set it was placed on."""
    if order.terms:
        rows = sorted(order.terms, key=lambda row: (row.effective_from, row.sequence))
        return [Terms.of_row(row) for row in rows]
    return [
        Terms(
            order.starts_on,
            order.units_per_occasion,
            tuple(order.days or ()),
            order.unit_price_pence,
        )
    ]


def terms_on(terms: list[Terms], day: date) -> Terms | None:
    """The terms in force on `day` (the latest to take effect on or before it)."""
    found = None
    for candidate in terms:
        if candidate.effective_from <= day:
            found = candidate
    return found


def occasions(order: Order, starts_on: date, ends_on: date) -> list[Occasion]:
    """Every occasion of the order from `starts_on` to `ends_on` inclusive, in date order,
    with the units and price of the terms in force that day; none on or after the day the
    order was cut short (`cancelled_from`), none after a fixed order's end."""
    last = ends_on if order.ends_on is None else min(ends_on, order.ends_on)
    if order.cancelled_from is not None:
        last = min(last, order.cancelled_from - timedelta(days=1))
    first = max(starts_on, order.starts_on)
    if not order.open_ended:
        return [
            Occasion(day, order.units_per_occasion, order.unit_price_pence)
            for day in schedule_of(order).occasions()
            if first <= day <= last
        ]
    terms = terms_of(order)
    found = []
    day = first
    while day <= last:
        current = terms_on(terms, day)
        if current is not None and not current.paused and WEEKDAYS[day.weekday()] in current.days:
            found.append(Occasion(day, current.units_per_occasion, current.unit_price_pence))
        day += timedelta(days=1)
    return found


def cycle_dates(order: Order, number: int) -> tuple[date, date]:
    """The first and last day of the order's cycle `number` (1 is the first), cut from its
    first day in the provider's invoicing period."""
    length = order.invoice_cycle.days
    starts_on = order.starts_on + timedelta(days=(number - 1) * length)
    return starts_on, starts_on + timedelta(days=length - 1)


def cycle_number_on(order: Order, day: date) -> int:
    """The number of the cycle that `day` falls in (1 for any day before the order starts)."""
    return max(0, (day - order.starts_on).days) // order.invoice_cycle.days + 1


@dataclass(frozen=True)
class CycleCost:
    number: int
    starts_on: date
    ends_on: date
    units: int
    amount_pence: int
    occasions: tuple[Occasion, ...]


def cycle_cost(order: Order, number: int) -> CycleCost:
    """What a package's cycle `number` delivers and costs under its terms (0 when paused for
    all of it, or cut short before it)."""
    starts_on, ends_on = cycle_dates(order, number)
    found = tuple(occasions(order, starts_on, ends_on))
    return CycleCost(
        number,
        starts_on,
        ends_on,
        sum(occasion.units for occasion in found),
        sum(occasion.pence for occasion in found),
        found,
    )


def first_terms(order: Order) -> PackageTerms:
    """The terms row a package is placed on (sequence 1), from the order's own columns."""
    return PackageTerms(
        order_id=order.id,
        sequence=1,
        effective_from=order.starts_on,
        units_per_occasion=order.units_per_occasion,
        days=list(order.days or ()),
        unit_price_pence=order.unit_price_pence,
        paused=False,
    )


def unit_price_on(order: Order, day: date) -> int:
    """VARIATIONS: the unit price in force on `day`: a package's terms then (a new price agreed
    in a variation applies from its day), else the order's own."""
    if order.terms:
        current = terms_on(terms_of(order), day)
        if current is not None:
            return current.unit_price_pence
    return order.unit_price_pence


def billed_pence(order: Order, deliveries: Iterable[Delivery]) -> int:
    """VARIATIONS: what delivery records bill: each one's units at the price of its day."""
    return sum(d.units * unit_price_on(order, d.delivered_on) for d in deliveries)


def is_package(order: Order) -> bool:
    return order.schedule_kind is ScheduleKind.RECURRING and order.open_ended
