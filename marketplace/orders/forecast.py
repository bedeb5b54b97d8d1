"""The one rule for the spending a budget's forecast expects, used by the budget page and by
"what if I buy this" alike, so that asking and then ordering give the same figure.

The rule, in the words the pages use (`ASSUMPTION`): the care ordered every week carries on
at the same weekly cost until the end of the budget period, and nothing else is bought.
Money already held for orders is out of the available balance, so only the occasions after an
order's last one count as spending to come. Nothing is guessed from a pace of spending over a
few days: a one-off purchase, or a new budget with nothing ordered, adds nothing. An order cut
short (its remaining weeks cancelled), declined, refused or finished does not carry on.

An ongoing package (issue 18: no end date) is counted as it is paid: cycle by cycle, each
cycle's cost under the terms in force (`package_terms.cycle_cost`, so an agreed variation or a
pause counts), each taken from the budget whose period contains the cycle's first day on the
day the daily job holds it (`cycles_ahead` cycles before it starts). So a budget's forecast
counts the package's cycles that start in its period and are not held yet, labelled
"ongoing", and says when the package carries on after the period (`OngoingPackage`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from sqlalchemy import select

from marketplace.budgets.figures import Figures
from marketplace.budgets.forecast import Forecast, Movement, WhatIf, budget_forecast, what_if
from marketplace.budgets.models import FundingStream, PersonalBudget
from marketplace.formatting import pounds
from marketplace.orders.models import Order, OrderStatus, ScheduleKind
from marketplace.orders.package_periods import packages_of
from marketplace.orders.package_terms import cycle_cost, cycle_dates, terms_of, terms_on
from marketplace.orders.schedule import WEEKDAYS, Schedule
from marketplace.types import Session
from providers.models import Service

ASSUMPTION = (
    "This assumes that the care ordered every week carries on at the same cost until the end "
    "of the period, and that nothing else is bought."
)
# What a package's lines in the forecast are called.
ONGOING = "ongoing"
OPEN_STATUSES = (
    # An order awaiting its card payment already holds its budget's part: it counts, so
    # that nothing else is bought on the strength of the same money or plan.
    OrderStatus.AWAITING_PAYMENT,
    OrderStatus.AWAITING_APPROVAL,
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class WeeklyCare:
    """What carries on: a recurring order's days, price per occasion and last occasion."""

    days: tuple[str, ...]
    pence_per_occasion: int
    last_occasion: date

    @property
    def weekly_pence(self) -> int:
        """What a week of it costs: its price per occasion on each of its days."""
        return self.pence_per_occasion * len(self.days)


def carrying_on(orders: Iterable[Order]) -> list[WeeklyCare]:
    """The recurring care among these orders that carries on after its last occasion."""
    return [
        WeeklyCare(
            tuple(order.days), order.units_per_occasion * order.unit_price_pence, order.ends_on
        )
        for order in orders
        # A package (no end) carries on by its own cycles: the packages part forecasts it.
        if order.ends_on is not None
        if order.schedule_kind is ScheduleKind.RECURRING
        and order.status in OPEN_STATUSES
        and order.cancelled_from is None
        and order.days
    ]


def weekly_care_of(schedule: Schedule, unit_price_pence: int) -> WeeklyCare | None:
    """The care a schedule not yet ordered would carry on with (None for a one-off)."""
    if schedule.kind is not ScheduleKind.RECURRING or not schedule.days:
        return None
    return WeeklyCare(
        tuple(schedule.days), schedule.units_per_occasion * unit_price_pence, schedule.ends_on
    )


def expected_spending(care: Iterable[WeeklyCare], *, today: date, ends_on: date) -> list[Movement]:
    """Each day's spending to come, after today and up to `ends_on`, from care that carries on
    on its weekdays after its last occasion. One movement a day (however many orders fall on
    it), in whole pence."""
    by_day: dict[date, int] = defaultdict(int)
    for weekly in care:
        wanted = {WEEKDAYS.index(code) for code in weekly.days}
        day = max(weekly.last_occasion, today) + timedelta(days=1)
        while day <= ends_on:
            if day.weekday() in wanted:
                by_day[day] += weekly.pence_per_occasion
            day += timedelta(days=1)
    return [
        Movement(day, pence, "Care ordered every week, carrying on")
        for day, pence in sorted(by_day.items())
        if pence
    ]


def open_orders_of(session: Session, budget: PersonalBudget) -> list[Order]:
    return list(
        session.scalars(
            select(Order).where(Order.budget_id == budget.id, Order.status.in_(OPEN_STATUSES))
        )
    )


def budget_outlook(session: Session, budget: PersonalBudget, today: date) -> Forecast:
    """The budget's forecast from today, expecting what its orders' weekly care will cost and
    the cycles of ongoing packages that it will pay."""
    return budget_outlook_and_packages(session, budget, today)[0]


def budget_outlook_and_packages(
    session: Session,
    budget: PersonalBudget,
    today: date,
    person_packages: Sequence[Order] | None = None,
    figures: Figures | None = None,
) -> tuple[Forecast, list[OngoingPackage]]:
    """`budget_outlook`, and the ongoing packages it counts (for the page's lines saying what
    each costs and whether it carries on after the period). `person_packages` is
    `packages_of` the budget's person when the caller has it already (a page showing each of
    the person's budgets reads them once, not once a budget); `figures` the budget's total
    figures, likewise (a budget page shows them too)."""
    packages = ongoing_packages(session, budget, today, person_packages)
    spending = expected_spending(
        carrying_on(open_orders_of(session, budget)), today=today, ends_on=budget.ends_on
    )
    forecast = budget_forecast(
        session, budget, today, spending=[*spending, *package_spending(packages)], figures=figures
    )
    return forecast, packages


@dataclass(frozen=True)
class OngoingPackage:
    """An ongoing package as a budget's forecast counts it: its cycles still to be held from
    the budget (one movement each, on the day the daily job will hold it), what a week costs
    under the terms in force, and whether it goes on after the budget's period."""

    order: Order
    movements: tuple[Movement, ...]
    weekly_pence: int
    carries_on_after: bool

    @property
    def to_come_pence(self) -> int:
        return sum(movement.amount_pence for movement in self.movements)


def package_outlook(
    order: Order, budget: PersonalBudget, today: date, *, made: int | None = None
) -> OngoingPackage:
    """What the budget will pay for the package: each cycle after the `made` ones (by default
    those it has) that starts within the budget's period, at its cost under the terms."""
    made = max((cycle.number for cycle in order.cycles), default=0) if made is None else made
    length = order.invoice_cycle.days
    ahead = timedelta(days=order.cycles_ahead * length)
    tomorrow = today + timedelta(days=1)
    movements = []
    number = made + 1
    while True:
        starts_on, _ = cycle_dates(order, number)
        if starts_on > budget.ends_on:
            break
        if order.cancelled_from is not None and starts_on >= order.cancelled_from:
            break
        if starts_on >= budget.starts_on:
            pence = cycle_cost(order, number).amount_pence
            if pence:
                movements.append(
                    Movement(
                        max(starts_on - ahead, tomorrow),
                        pence,
                        f"{order.service_name} ({order.reference}), {ONGOING}: "
                        f"cycle {number} from {starts_on:%-d %B %Y}",
                    )
                )
        number += 1
    next_start, _ = cycle_dates(order, number)
    carries_on = order.cancelled_from is None or order.cancelled_from > next_start
    current = terms_on(terms_of(order), max(today, order.starts_on))
    return OngoingPackage(
        order,
        tuple(movements),
        current.weekly_pence if current is not None else 0,
        carries_on,
    )


def ongoing_packages(
    session: Session,
    budget: PersonalBudget,
    today: date,
    person_packages: Sequence[Order] | None = None,
) -> list[OngoingPackage]:
    """The person's ongoing packages that this budget pays for some of (a cycle starting in
    its period, held or still to be held), each as its forecast counts it; from
    `person_packages` (`packages_of` the budget's person) when given."""
    found = []
    if person_packages is None:
        person_packages = packages_of(session, budget.person_id)
    for order in person_packages:
        if order.starts_on > budget.ends_on:
            continue
        if order.cancelled_from is not None and order.cancelled_from <= budget.starts_on:
            continue
        package = package_outlook(order, budget, today)
        if package.movements or any(c.budget_id == budget.id for c in order.cycles):
            found.append(package)
    return found


def package_spending(packages: Iterable[OngoingPackage]) -> list[Movement]:
    return [movement for package in packages for movement in package.movements]


class QuoteLike(Protocol):
    """What the forecast reads of checkout's quote (`checkout.Quote`)."""

    @property
    def schedule(self) -> Schedule: ...
    @property
    def unit_price_pence(self) -> int: ...
    @property
    def service(self) -> Service: ...
    @property
    def cycles_ahead(self) -> int: ...
    @property
    def total_pence(self) -> int: ...
    @property
    def cycles(self) -> Sequence[object]: ...


@dataclass(frozen=True)
class NewPackage:
    """A package not yet ordered, as the what-if counts it: an unsaved order on the quoted
    terms and how many of its cycles placing it holds at once."""

    order: Order
    held: int


def care_of_quote(quoted: QuoteLike) -> WeeklyCare | NewPackage | None:
    """What a quoted order adds to the forecast after what it holds now: a fixed order's
    weekly care carrying on after its end, a package's cycles after those held at placing
    (as the budget page will count them once it is ordered), or nothing for a one-off."""
    schedule = quoted.schedule
    if not schedule.open_ended:
        return weekly_care_of(schedule, quoted.unit_price_pence)
    order = Order(
        reference="new",
        service_name=quoted.service.name,
        schedule_kind=ScheduleKind.RECURRING,
        starts_on=schedule.starts_on,
        ends_on=None,
        units_per_occasion=schedule.units_per_occasion,
        days=list(schedule.days),
        unit_price_pence=quoted.unit_price_pence,
        invoice_cycle=quoted.service.organisation.invoice_cycle,
        cycles_ahead=quoted.cycles_ahead,
        cancelled_from=None,
    )
    # The cycles placing it holds: its first `cycles_ahead`, fewer if some start after the
    # budget's period (the next budget's, held by the daily job).
    return NewPackage(order, len(quoted.cycles))


def what_if_ordered(
    session: Session,
    budget: PersonalBudget,
    *,
    total_pence: int,
    adding: WeeklyCare | NewPackage | None,
    today: date,
) -> WhatIf:
    """The budget's forecast as it is, and as it would be with an order of `total_pence`
    placed today (held now) whose weekly care, if any (`adding`), then carries on like the
    rest (a package: its later cycles, `care_of_quote`): the same figures the budget page will
    show once it is ordered."""
    return what_if_all_ordered(session, budget, orders=[(total_pence, adding)], today=today)


def what_if_all_ordered(
    session: Session,
    budget: PersonalBudget,
    *,
    orders: Iterable[tuple[int, WeeklyCare | NewPackage | None]],
    today: date,
) -> WhatIf:
    """As `what_if_ordered`, for several orders placed today together (a basket checked
    out): each `(total_pence, weekly care, new package or None)` is held now, and its weekly
    care (or its package's later cycles) carries on like the rest."""
    orders = list(orders)
    care = carrying_on(open_orders_of(session, budget))
    packages = package_spending(ongoing_packages(session, budget, today))
    before = budget_forecast(
        session,
        budget,
        today,
        spending=[*expected_spending(care, today=today, ends_on=budget.ends_on), *packages],
    )
    adding = [added for _, added in orders if added is not None]
    after_care = [*care, *(added for added in adding if isinstance(added, WeeklyCare))]
    new_packages = [
        package_outlook(added.order, budget, today, made=added.held).movements
        for added in adding
        if isinstance(added, NewPackage)
    ]
    return what_if(
        before,
        held_pence=sum(total_pence for total_pence, _ in orders),
        spending=[
            *expected_spending(after_care, today=today, ends_on=budget.ends_on),
            *packages,
            *(movement for movements in new_packages for movement in movements),
        ],
    )


@dataclass(frozen=True)
class RevisionShortfall:
    """What a budget reduced to a new amount would leave its ongoing packages short of by the
    end of its period (`short_pence`), and the packages that still need money from it."""

    short_pence: int
    packages: list[OngoingPackage]
    ends_on: date

    @property
    def names(self) -> str:
        return ", ".join(
            f"{package.order.service_name} ({package.order.reference}), "
            f"{pounds(package.to_come_pence)} still to be set aside"
            for package in self.packages
        )


def shortfall_after_revision(
    session: Session, stream: FundingStream, amount_pence: int, today: date
) -> RevisionShortfall | None:
    """Whether revising the stream down to `amount_pence` would leave the budget's ongoing
    packages short by the end of its period: the budget's forecast end balance (its orders'
    care and its packages' cycles still to be held counted) less the decrease, below zero.
    None when it would not (or the change is not a decrease, or no package needs more).

    The revision is still allowed (the council decides: `allocations.revise_stream` takes
    what is not committed or spent); this is what its page warns of first. The daily job then
    flags each cycle the budget cannot cover (`packages.roll_packages`)."""
    decrease = stream.amount_pence - amount_pence
    if decrease <= 0:
        return None
    budget = stream.budget
    projected, packages = budget_outlook_and_packages(session, budget, today)
    needing = [package for package in packages if package.to_come_pence]
    end = projected.end_balance_pence - decrease
    if not needing or end >= 0:
        return None
    needed = sum(package.to_come_pence for package in needing)
    return RevisionShortfall(min(-end, needed), needing, budget.ends_on)
