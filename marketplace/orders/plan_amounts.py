"""The support plan's weekly amounts: a purchase in a category the plan covers may not bring
that category's care over the amount the plan agrees a week.

A week runs Monday to Sunday. What counts in a week is every occasion of the person's open
orders covered by the same plan item (less any cut short), plus the new order's occasions.
The first week over the amount is reported; the council's rule for purchases outside the plan
(`OUT_OF_PLAN_PURCHASES`) then decides, exactly as for a category the plan does not cover.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select

from marketplace.orders.models import Order, OrderStatus
from marketplace.orders.schedule import Schedule, schedule_of
from marketplace.people.models import Person, SupportPlanItem
from marketplace.people.plans import with_parents
from marketplace.types import Session
from providers.models import TaxonomyTerm

COUNTED_STATUSES = (
    # An order awaiting its card payment already holds its budget's part: it counts, so
    # that nothing else is bought on the strength of the same money or plan.
    OrderStatus.AWAITING_PAYMENT,
    OrderStatus.AWAITING_APPROVAL,
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.IN_PROGRESS,
)


@dataclass(frozen=True)
class PlanExcess:
    """The first week an order would take a plan category over its agreed weekly amount."""

    category_name: str
    week_of: date
    weekly_pence: int
    agreed_pence: int


def week_of(day: date) -> date:
    """The Monday of the day's week."""
    return day - timedelta(days=day.weekday())


def plan_excess(
    session: Session,
    person: Person,
    item: SupportPlanItem,
    schedule: Schedule,
    unit_price_pence: int,
    *,
    alongside: Iterable[tuple[Schedule, int]] = (),
) -> PlanExcess | None:
    """The first week in which this schedule, with the person's other open orders that count
    against the same plan item and the schedules `alongside` (with their unit prices: basket
    items ordered first), would cost more than the item's weekly amount (None if none would)."""
    weekly: dict[date, int] = defaultdict(int)
    for day in schedule.occasions():
        weekly[week_of(day)] += schedule.units_per_occasion * unit_price_pence
    if not weekly:
        return None
    for other, price_pence in alongside:
        for day in other.occasions():
            if week_of(day) in weekly:
                weekly[week_of(day)] += other.units_per_occasion * price_pence
    orders = session.scalars(
        select(Order).where(Order.person_id == person.id, Order.status.in_(COUNTED_STATUSES))
    )
    for order in orders:
        if item.category_code not in with_parents(session, order.category_codes):
            continue
        for day in schedule_of(order).occasions():
            if order.cancelled_from is not None and day >= order.cancelled_from:
                continue
            if week_of(day) in weekly:
                weekly[week_of(day)] += order.units_per_occasion * order.unit_price_pence
    for week in sorted(weekly):
        if weekly[week] > item.weekly_amount_pence:
            name = session.scalar(
                select(TaxonomyTerm.name).where(TaxonomyTerm.code == item.category_code)
            )
            return PlanExcess(
                category_name=name or item.category_code,
                week_of=week,
                weekly_pence=weekly[week],
                agreed_pence=item.weekly_amount_pence,
            )
    return None
