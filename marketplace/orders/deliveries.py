"""What the provider delivered, and the person's word on it.

A provider records each day's delivery (hours, visits or items, with a note), never more in
a cycle than the cycle's occasions allow, so it can never bill more than was committed. The
person (or an officer for them) confirms a delivery or queries it; a queried delivery holds
its invoice until the provider corrects it or the person confirms it after all.
"""

from __future__ import annotations

from datetime import date

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.notifications.models import NotificationKind
from marketplace.orders import events, life, package_terms
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.locks import lock_order
from marketplace.orders.models import (
    CycleState,
    Delivery,
    DeliveryStatus,
    InvoiceStatus,
    Order,
    OrderCycle,
    OrderPricing,
    OrderStatus,
)
from marketplace.orders.schedule import MAX_UNITS_PER_OCCASION
from marketplace.types import Session

NOTE_MAX_LENGTH = 2000


def visits_in(order: Order, cycle: OrderCycle) -> list[date]:
    """The days of the cycle's visits (occasions) that are still due: none from the day the
    order was cut short; a package's under the terms in force each day."""
    return [
        occasion.day for occasion in package_terms.occasions(order, cycle.starts_on, cycle.ends_on)
    ]


def deliverable_units(order: Order, cycle: OrderCycle) -> int:
    """The most that may be delivered (and billed) in a cycle: its occasions, less any after
    the order was cut short."""
    if order.open_ended:
        return sum(o.units for o in package_terms.occasions(order, cycle.starts_on, cycle.ends_on))
    if order.cancelled_from is None or cycle.ends_on < order.cancelled_from:
        return cycle.units
    return len(visits_in(order, cycle)) * order.units_per_occasion


def recorded_units(order: Order, cycle: OrderCycle, *, leaving_out: Delivery | None = None) -> int:
    return sum(
        delivery.units
        for delivery in order.deliveries
        if delivery.cycle_id == cycle.id and delivery is not leaving_out
    )


def cycle_on(order: Order, day: date) -> OrderCycle | None:
    for cycle in order.cycles:
        if cycle.starts_on <= day <= cycle.ends_on:
            return cycle
    return None


def _check_units(units: object) -> int:
    if isinstance(units, bool) or not isinstance(units, int):
        raise InvalidOrder("Enter a whole number", fields={"units": "Enter a whole number"})
    if units < 0 or units > MAX_UNITS_PER_OCCASION:
        raise InvalidOrder(
            "Enter a number from 0 to 16",
            fields={"units": f"Enter a number from 0 to {MAX_UNITS_PER_OCCASION}"},
        )
    return units


def _check_note(note: str) -> str:
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise InvalidOrder(
            "The note is too long",
            fields={"note": f"Note must be {NOTE_MAX_LENGTH} characters or fewer"},
        )
    return note


def record_delivery(
    session: Session,
    order: Order,
    *,
    by: User,
    delivered_on: date,
    units: int,
    note: str = "",
    today: date,
) -> Delivery:
    """Record what was delivered on a visit (0 for a missed visit, with a note saying why).

    Only on a day the schedule has a visit, and once per visit; never more in a cycle than its
    visits hold. Raises NotYours, InvalidTransition, InvalidOrder."""
    lock_order(session, order)
    if not can(by, "fulfil_order", order):
        raise NotYours("Only the provider of this order can record its deliveries")
    if order.pricing is OrderPricing.OUTCOMES:
        # OUTCOMES: paid for outcomes, recorded week by week (orders/outcomes.py), not visits.
        raise InvalidTransition(
            "This order is paid for outcomes: record what was achieved each week instead"
        )
    if order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        raise InvalidTransition(
            f"Deliveries cannot be recorded on an order that is {order.status.label.lower()}",
            status=order.status.value,
        )
    units = _check_units(units)
    note = _check_note(note)
    if delivered_on > today:
        raise InvalidOrder(
            "A delivery cannot be in the future",
            fields={"delivered_on": "The date must be today or in the past"},
        )
    if order.cancelled_from and delivered_on >= order.cancelled_from:
        raise InvalidOrder(
            "The order was cancelled from that day",
            fields={"delivered_on": f"The order was cancelled from {order.cancelled_from:%-d %B}"},
        )
    cycle = cycle_on(order, delivered_on)
    if cycle is None:
        raise InvalidOrder(
            "That day is not part of the order",
            fields={
                "delivered_on": (
                    f"The date must be between {order.starts_on:%-d %B %Y} "
                    f"and {order.ends_on:%-d %B %Y}"
                )
            },
        )
    if delivered_on not in visits_in(order, cycle):
        raise InvalidOrder(
            "There is no visit on that day",
            fields={"delivered_on": "The date must be a day the order has a visit on"},
        )
    if cycle.state is not CycleState.HELD:
        raise InvalidTransition(
            "That period has already been invoiced", status=cycle.state.value, cycle=cycle.number
        )
    if order.card_share_of(cycle) and not life.cycle_card_held(order, cycle):
        # Recurring care paid period by period with a saved card: a period whose card share
        # is not paid (its charge failed, or is still to come) is not delivered against.
        raise InvalidTransition(
            "That period is waiting for its card payment: it cannot be delivered yet",
            status=cycle.state.value,
            cycle=cycle.number,
        )
    if any(delivery.delivered_on == delivered_on for delivery in order.deliveries):
        # One record per visit: a second would bill the visit twice. A slip is corrected.
        raise InvalidTransition(
            f"The visit on {delivered_on:%-d %B %Y} is already recorded: correct that record "
            "instead",
            delivered_on=delivered_on.isoformat(),
        )
    room = deliverable_units(order, cycle) - recorded_units(order, cycle)
    if units > room:
        raise InvalidOrder(
            "That is more than was ordered for the period",
            fields={"units": f"Only {room} more can be recorded for this period"},
        )
    delivery = Delivery(
        order_id=order.id,
        cycle_id=cycle.id,
        delivered_on=delivered_on,
        units=units,
        note=note,
        recorded_by_id=by.id,
    )
    session.add(delivery)
    order.deliveries.append(delivery)
    session.flush()
    if order.status is OrderStatus.ACCEPTED:
        life.start(session, order, by=by)
    events.record(
        session,
        order,
        "delivery_recorded",
        by=by,
        delivered_on=delivered_on.isoformat(),
        units=units,
    )
    events.tell_person(
        session,
        order,
        NotificationKind.DELIVERY_TO_CONFIRM,
        f"Order {order.reference}: a delivery to confirm",
    )
    return delivery


def _settled(delivery: Delivery) -> bool:
    return delivery.invoice is not None and delivery.invoice.status is InvoiceStatus.SETTLED


def confirm_delivery(session: Session, delivery: Delivery, *, by: User) -> None:
    lock_order(session, delivery.order)
    if not can(by, "confirm_delivery", delivery.order):
        raise NotYours("You cannot confirm deliveries of this order")
    if delivery.status is DeliveryStatus.CONFIRMED or _settled(delivery):
        raise InvalidTransition("This delivery is already confirmed or paid")
    delivery.status = DeliveryStatus.CONFIRMED
    delivery.query_reason = None
    events.record(
        session,
        delivery.order,
        "delivery_confirmed",
        by=by,
        delivered_on=delivery.delivered_on.isoformat(),
    )


def query_delivery(session: Session, delivery: Delivery, *, by: User, reason: str) -> None:
    lock_order(session, delivery.order)
    if not can(by, "confirm_delivery", delivery.order):
        raise NotYours("You cannot query deliveries of this order")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidOrder(
            "Say what is wrong", fields={"reason": "Enter what is wrong with this delivery"}
        )
    if len(reason) > NOTE_MAX_LENGTH:
        raise InvalidOrder(
            "The reason is too long",
            fields={"reason": f"Reason must be {NOTE_MAX_LENGTH} characters or fewer"},
        )
    if delivery.status is not DeliveryStatus.RECORDED or _settled(delivery):
        raise InvalidTransition("Only a delivery waiting to be confirmed can be queried")
    delivery.status = DeliveryStatus.QUERIED
    delivery.query_reason = reason
    events.record(
        session,
        delivery.order,
        "delivery_queried",
        by=by,
        reason=reason,
        delivered_on=delivery.delivered_on.isoformat(),
    )
    events.tell_provider(
        session,
        delivery.order,
        NotificationKind.DELIVERY_QUERIED,
        f"Order {delivery.order.reference}: a delivery was queried",
    )


def correct_delivery(
    session: Session, delivery: Delivery, *, by: User, units: int, note: str = ""
) -> None:
    """The provider answers a query (or fixes a slip) by correcting what was delivered; the
    person confirms it again. An invoice it is on is recalculated."""
    order = delivery.order
    lock_order(session, order)
    if not can(by, "fulfil_order", order):
        raise NotYours("Only the provider of this order can correct its deliveries")
    if _settled(delivery) or delivery.status is DeliveryStatus.CONFIRMED:
        raise InvalidTransition("A confirmed or paid delivery cannot be changed")
    units = _check_units(units)
    note = _check_note(note)
    room = deliverable_units(order, delivery.cycle) - recorded_units(
        order, delivery.cycle, leaving_out=delivery
    )
    if units > room:
        raise InvalidOrder(
            "That is more than was ordered for the period",
            fields={"units": f"No more than {room} can be recorded for this period"},
        )
    previous = delivery.units
    delivery.units = units
    if note:
        delivery.note = note
    delivery.status = DeliveryStatus.RECORDED
    if delivery.invoice is not None:
        # VARIATIONS: each visit at the price of its day.
        delivery.invoice.amount_pence = package_terms.billed_pence(
            order, delivery.invoice.deliveries
        )
    events.record(
        session,
        order,
        "delivery_corrected",
        by=by,
        delivered_on=delivery.delivered_on.isoformat(),
        units_before=previous,
        units=units,
    )
    events.tell_person(
        session,
        order,
        NotificationKind.DELIVERY_TO_CONFIRM,
        f"Order {order.reference}: a corrected delivery to confirm",
    )
