"""What a change to a package would be (issue 18, VARIATIONS), before anyone decides on it:
the change in words, the terms it puts in force, what a week costs before and after, the first
day it may start, and the checks of what was asked against the terms then. Plain rules on
loaded rows, no session: the steps (propose, accept, ...) are `variations.py`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.formatting import pounds
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.models import (
    CycleState,
    Order,
    PackageVariation,
    VariationKind,
    VariationParty,
)
from marketplace.orders.package_terms import Terms, terms_of, terms_on
from marketplace.orders.schedule import MAX_UNITS_PER_OCCASION, WEEKDAY_NAMES, WEEKDAYS

# A price "£28 an hour": each of the order's price units.
PER_UNIT = {
    "per_hour": "an hour",
    "per_visit": "a visit",
    "per_session": "a session",
    "per_day": "a day",
    "per_night": "a night",
    "per_week": "a week",
    "per_item": "an item",
}


# "2 hours", "1 visit": a number of the order's units.
UNIT_NAMES = {
    "per_hour": ("hour", "hours"),
    "per_visit": ("visit", "visits"),
    "per_session": ("session", "sessions"),
    "per_day": ("day", "days"),
    "per_night": ("night", "nights"),
    "per_week": ("week", "weeks"),
    "per_item": ("item", "items"),
}


def units_text(units: int, order: Order) -> str:
    """'2 hours', '1 visit': `units` of the order's price unit."""
    one, many = UNIT_NAMES.get(order.price_unit.value, ("unit", "units"))
    return f"{units} {one if units == 1 else many}"


def day_text(day: date) -> str:
    return f"{day:%-d %B %Y}"


def _join(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def describe(variation: PackageVariation) -> str:
    """The change in a sentence people read: "2 hours each time on Monday and Thursday, from
    6 July 2026", "New price £28 an hour from ...", "Pause from ... until ...", "Restart ..."."""
    start = day_text(variation.effective_from)
    if variation.kind is VariationKind.PRICE:
        price = pounds(variation.unit_price_pence or 0)
        each = PER_UNIT.get(variation.order.price_unit.value, "a unit")
        return f"New price {price} {each}, from {start}"
    if variation.kind is VariationKind.PAUSE:
        until = f" until {day_text(variation.resumes_on)}" if variation.resumes_on else ""
        return f"Pause from {start}{until}"
    parts = []
    if variation.units_per_occasion is not None:
        parts.append(f"{units_text(variation.units_per_occasion, variation.order)} each time")
    if variation.days:
        names = [WEEKDAY_NAMES[code] for code in WEEKDAYS if code in variation.days]
        parts.append("on " + _join(names))
    what = " ".join(parts)
    if variation.kind is VariationKind.RESUME:
        return f"Restart from {start}" + (f": {what}" if what else ", as before the pause")
    return f"{what[0].upper()}{what[1:]}, from {start}" if what else f"Change from {start}"


def earliest_price_change(order: Order, today: date) -> date:
    """The first day a new price proposed today may start: after the provider's notice."""
    return today + timedelta(days=order.notice_days)


def earliest_start(order: Order, today: date) -> date:
    """The first day any change proposed today may start: today, after every invoiced cycle
    and no sooner than the latest change already agreed."""
    first = today
    for cycle in order.cycles:
        if cycle.state in (CycleState.INVOICED, CycleState.SETTLED):
            first = max(first, cycle.ends_on + timedelta(days=1))
    for row in order.terms:
        first = max(first, row.effective_from)
    return first


@dataclass(frozen=True)
class Change:
    units_per_occasion: int | None = None
    days: list[str] | None = None
    unit_price_pence: int | None = None
    resumes_on: date | None = None


def change_asked(
    order: Order,
    party: VariationParty,
    kind: VariationKind,
    effective_from: date,
    today: date,
    units: int | None,
    days: list[str] | None,
    price: int | None,
    resumes_on: date | None,
) -> Change:
    """The fields of the change that its kind uses, checked against the terms then."""
    current = terms_on(terms_of(order), effective_from)
    assert current is not None  # the date is on or after the package's first day
    if kind is VariationKind.PRICE:
        if party is not VariationParty.PROVIDER:
            raise NotYours("Only the provider can propose a new price")
        _check_price(order, current, price, effective_from, today)
        return Change(unit_price_pence=price)
    if kind is VariationKind.SCHEDULE:
        if current.paused:
            raise InvalidTransition("The package is paused then: ask to restart it instead")
        _check_schedule(current, units, days, required=True)
        return Change(units_per_occasion=units, days=days)
    if kind is VariationKind.PAUSE:
        if current.paused:
            raise InvalidTransition("The package is already paused then")
        if resumes_on is not None and resumes_on <= effective_from:
            message = "The restart date must be after the pause starts"
            raise InvalidOrder(message, fields={"resumes_on": message})
        return Change(resumes_on=resumes_on)
    if not current.paused:
        raise InvalidTransition("The package is not paused then, so it cannot be restarted")
    _check_schedule(current, units, days, required=False)
    return Change(units_per_occasion=units, days=days)


def new_terms(order: Order, variation: PackageVariation) -> list[Terms]:
    """The terms the change puts in force, from its day (two for a pause with an end)."""
    terms = terms_of(order)
    current = terms_on(terms, variation.effective_from)
    assert current is not None
    start = variation.effective_from
    if variation.kind is VariationKind.PRICE:
        return [
            Terms(start, current.units_per_occasion, current.days, variation.unit_price_pence or 0)
        ]
    if variation.kind is VariationKind.PAUSE:
        paused = [
            Terms(start, current.units_per_occasion, current.days, current.unit_price_pence, True)
        ]
        if variation.resumes_on is not None:
            paused.append(
                Terms(
                    variation.resumes_on,
                    current.units_per_occasion,
                    current.days,
                    current.unit_price_pence,
                )
            )
        return paused
    base = current if variation.kind is VariationKind.SCHEDULE else before_pause(terms, start)
    return [
        Terms(
            start,
            variation.units_per_occasion or base.units_per_occasion,
            tuple(variation.days) if variation.days else base.days,
            base.unit_price_pence,
        )
    ]


def before_pause(terms: list[Terms], day: date) -> Terms:
    """The last terms in force before `day` that were not a pause."""
    found = [t for t in terms if t.effective_from <= day and not t.paused]
    return found[-1] if found else terms[0]


def weekly_change(order: Order, variation: PackageVariation) -> tuple[int, int]:
    """What a week of the package costs before the change (for a restart: before the pause)
    and after it, in pence."""
    terms = terms_of(order)
    current = terms_on(terms, variation.effective_from)
    assert current is not None
    before = before_pause(terms, variation.effective_from) if current.paused else current
    return before.weekly_pence, new_terms(order, variation)[0].weekly_pence


def date_problems(order: Order, effective_from: date, today: date) -> dict[str, str]:
    if effective_from < today:
        return {"effective_from": "The change must start today or in the future"}
    first = earliest_start(order, today)
    if effective_from < first:
        why = (
            "the care starts then"
            if first == order.starts_on
            else "care before then is already invoiced, or another change starts then"
        )
        return {
            "effective_from": f"The change can start on {day_text(first)} at the earliest: {why}"
        }
    return {}


def _check_price(
    order: Order, current: Terms, price: int | None, effective_from: date, today: date
) -> None:
    if price is None or isinstance(price, bool) or price < 0:
        raise InvalidOrder(
            "Enter the new price", fields={"unit_price_pence": "Enter the new price"}
        )
    if price == current.unit_price_pence:
        raise InvalidOrder(
            "The new price is the same as the price now",
            fields={"unit_price_pence": "Enter a price different from the price now"},
        )
    earliest = earliest_price_change(order, today)
    if effective_from < earliest:
        message = (
            f"A new price needs {order.notice_days} days' notice: it can start on "
            f"{day_text(earliest)} at the earliest"
        )
        raise InvalidOrder(message, fields={"effective_from": message})


def _check_schedule(
    current: Terms, units: int | None, days: list[str] | None, *, required: bool
) -> None:
    problems: dict[str, str] = {}
    if units is not None and (isinstance(units, bool) or not 1 <= units <= MAX_UNITS_PER_OCCASION):
        problems["units_per_occasion"] = (
            f"Enter a number between 1 and {MAX_UNITS_PER_OCCASION} for each time"
        )
    if days is not None and (
        any(code not in WEEKDAYS for code in days) or len(set(days)) != len(days)
    ):
        problems["days"] = "Select days of the week from the list"
    if not problems and required:
        same_units = units is None or units == current.units_per_occasion
        same_days = days is None or set(days) == set(current.days)
        if same_units and same_days:
            problems["units_per_occasion"] = "Change the hours or the days: these are as now"
    if problems:
        raise InvalidOrder(next(iter(problems.values())), fields=problems)
