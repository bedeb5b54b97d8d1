"""An order's life: the one table of allowed moves, and the moves themselves.

An order with a card share waits for its payment first (awaiting payment: not sent to the
provider, its card share not held); paid, it goes on as any other order; not paid in time,
or cancelled, it ends with nothing held. Then: placed → accepted or declined by the
provider → in progress (at its first delivery) → completed (when every cycle is settled or
released). An order outside the support plan waits for a council officer first. The person
(or an officer) may cancel before it starts, or cancel the remaining weeks of a recurring
order under the provider's notice period. Whatever will not be delivered is released back to
the budget at once.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.budgets import spending
from marketplace.budgets.funders import payee_account
from marketplace.budgets.models import FundingStream
from marketplace.notifications.models import NotificationKind
from marketplace.orders import cycle_money, events, hooks, package_terms, packages, variations
from marketplace.orders.errors import InvalidOrder, InvalidTransition, NotYours
from marketplace.orders.locks import lock_order
from marketplace.orders.models import CycleState, Order, OrderCycle, OrderStatus, ScheduleKind
from marketplace.orders.schedule import WEEKDAYS, schedule_of
from marketplace.types import Session

REASON_MAX_LENGTH = 1000


class Move(enum.StrEnum):
    APPROVE = "approve"  # a council officer approves an order outside the plan
    REFUSE = "refuse"  # ... or refuses it
    ACCEPT = "accept"
    DECLINE = "decline"
    START = "start"  # the first delivery is recorded
    COMPLETE = "complete"  # every cycle is settled or released
    CANCEL = "cancel"  # the whole order, before it starts
    CANCEL_REST = "cancel_rest"  # the remaining weeks of a recurring order (status stays)
    PAY = "pay"  # Stripe confirmed the card share: on to the provider
    PAY_FOR_APPROVAL = "pay_for_approval"  # ... or, outside the plan, to the council first
    EXPIRE = "expire"  # not paid in time: cancelled by the system
    # Recurring care by card: the person saved a card and agreed each cycle's card share is
    # charged before the cycle starts (payments.recurring); on to the provider, unpaid yet.
    CARD_AGREED = "card_agreed"


S = OrderStatus
TRANSITIONS: dict[tuple[OrderStatus, Move], OrderStatus] = {
    (S.AWAITING_PAYMENT, Move.PAY): S.PLACED,
    (S.AWAITING_PAYMENT, Move.PAY_FOR_APPROVAL): S.AWAITING_APPROVAL,
    (S.AWAITING_PAYMENT, Move.CANCEL): S.CANCELLED,
    (S.AWAITING_PAYMENT, Move.EXPIRE): S.CANCELLED,
    (S.AWAITING_PAYMENT, Move.CARD_AGREED): S.PLACED,
    (S.AWAITING_APPROVAL, Move.APPROVE): S.PLACED,
    (S.AWAITING_APPROVAL, Move.REFUSE): S.CANCELLED,
    (S.AWAITING_APPROVAL, Move.CANCEL): S.CANCELLED,
    (S.PLACED, Move.ACCEPT): S.ACCEPTED,
    (S.PLACED, Move.DECLINE): S.DECLINED,
    (S.PLACED, Move.CANCEL): S.CANCELLED,
    (S.ACCEPTED, Move.START): S.IN_PROGRESS,
    (S.ACCEPTED, Move.CANCEL): S.CANCELLED,
    (S.ACCEPTED, Move.CANCEL_REST): S.ACCEPTED,
    (S.ACCEPTED, Move.COMPLETE): S.COMPLETED,
    (S.IN_PROGRESS, Move.CANCEL_REST): S.IN_PROGRESS,
    (S.IN_PROGRESS, Move.COMPLETE): S.COMPLETED,
}

# Who may make each move, as a policy action on the order.
MOVE_POLICY: dict[Move, str] = {
    Move.APPROVE: "approve_order",
    Move.REFUSE: "approve_order",
    Move.ACCEPT: "fulfil_order",
    Move.DECLINE: "fulfil_order",
    Move.START: "fulfil_order",
    Move.CANCEL: "cancel_order",
    Move.CANCEL_REST: "cancel_order",
}


def allowed(order: Order, move: Move) -> bool:
    return (order.status, move) in TRANSITIONS


def _move(
    session: Session, order: Order, move: Move, *, by: User | None, reason: str = "", **details
) -> OrderStatus:
    """Check the move is allowed from the order's state and by this user, and record it."""
    if by is not None and move in MOVE_POLICY and not can(by, MOVE_POLICY[move], order):
        raise NotYours("You cannot do this to this order")
    target = TRANSITIONS.get((order.status, move))
    if target is None:
        raise InvalidTransition(
            f"An order that is {order.status.label.lower()} cannot be {_past(move)}",
            status=order.status.value,
            move=move.value,
        )
    previous = order.status
    order.status = target
    events.record(
        session,
        order,
        move.value,
        by=by,
        from_status=previous,
        to_status=target if target is not previous else None,
        reason=reason,
        **details,
    )
    return target


def _past(move: Move) -> str:
    return {
        Move.APPROVE: "approved",
        Move.REFUSE: "refused",
        Move.ACCEPT: "accepted",
        Move.DECLINE: "declined",
        Move.START: "started",
        Move.COMPLETE: "completed",
        Move.CANCEL: "cancelled",
        Move.CANCEL_REST: "cut short",
        Move.PAY: "paid",
        Move.PAY_FOR_APPROVAL: "paid",
        Move.EXPIRE: "expired",
    }[move]


def _reason(reason: str, *, required: bool) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise InvalidOrder("Give a reason", fields={"reason": "Enter a reason"})
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidOrder(
            "The reason is too long",
            fields={"reason": f"Reason must be {REASON_MAX_LENGTH} characters or fewer"},
        )
    return reason


def release_cycle(session: Session, order: Order, cycle: OrderCycle, *, why: str) -> None:
    """Give a cycle's held money back to the budget: nothing in it will be billed."""
    if cycle.state is not CycleState.HELD:
        return
    if cycle.amount_pence:
        commitment = cycle_money.commitment_of(session, order, cycle)
        if commitment is not None:
            spending.release(session, commitment, key=f"{cycle.commitment_key}:{why}")
    cycle.state = CycleState.RELEASED


def _release_all(session: Session, order: Order, *, why: str) -> int:
    released = 0
    for cycle in order.cycles:
        if cycle.state is CycleState.HELD:
            released += cycle.amount_pence
            release_cycle(session, order, cycle, why=why)
    if released:
        hooks.money_released(session, order, why=why)
    return released


def approve(session: Session, order: Order, *, by: User, reason: str = "") -> None:
    lock_order(session, order)
    _move(session, order, Move.APPROVE, by=by, reason=_reason(reason, required=False))
    events.tell_person(
        session, order, NotificationKind.ORDER_APPROVED, f"Order {order.reference} was approved"
    )
    events.tell_provider(
        session, order, NotificationKind.ORDER_PLACED, f"New order {order.reference}"
    )


def refuse(session: Session, order: Order, *, by: User, reason: str) -> None:
    lock_order(session, order)
    reason = _reason(reason, required=True)
    _move(session, order, Move.REFUSE, by=by, reason=reason)
    _release_all(session, order, why="refused")
    events.tell_person(
        session,
        order,
        NotificationKind.ORDER_CANCELLED,
        f"Order {order.reference} was not approved",
    )


def accept(session: Session, order: Order, *, by: User) -> None:
    lock_order(session, order)
    _move(session, order, Move.ACCEPT, by=by)
    events.tell_person(
        session, order, NotificationKind.ORDER_ACCEPTED, f"Order {order.reference} was accepted"
    )


def decline(session: Session, order: Order, *, by: User, reason: str) -> None:
    lock_order(session, order)
    reason = _reason(reason, required=True)
    _move(session, order, Move.DECLINE, by=by, reason=reason)
    _release_all(session, order, why="declined")
    events.tell_person(
        session, order, NotificationKind.ORDER_DECLINED, f"Order {order.reference} was declined"
    )


def start(session: Session, order: Order, *, by: User | None) -> None:
    lock_order(session, order)
    _move(session, order, Move.START, by=by)


def complete_if_done(session: Session, order: Order, *, by: User | None) -> bool:
    """Complete an accepted or started order once every cycle is settled or released."""
    lock_order(session, order)
    if order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        return False
    if any(cycle.state in (CycleState.HELD, CycleState.INVOICED) for cycle in order.cycles):
        return False
    if package_terms.is_package(order) and not _package_all_made(order):
        return False
    _move(session, order, Move.COMPLETE, by=by)
    return True


def _package_all_made(order: Order) -> bool:
    """PACKAGES: whether a package has every cycle it will ever have: it was cut short
    (`cancelled_from`), and the cycle of its last day is made (the daily job makes it)."""
    if order.cancelled_from is None:
        return False  # until further notice: more cycles to come
    if order.cancelled_from <= order.starts_on:
        return True
    last = package_terms.cycle_number_on(order, order.cancelled_from - timedelta(days=1))
    return any(cycle.number >= last for cycle in order.cycles)


def earliest_cancellation(order: Order, today: date) -> date:
    """The first day a cancellation asked for today can take effect: at once until the
    provider accepts, then after the provider's notice."""
    if order.status in (
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.AWAITING_APPROVAL,
        OrderStatus.PLACED,
    ):
        return today
    return today + timedelta(days=order.notice_days)


@dataclass(frozen=True)
class CancellationMoney:
    """What cancelling from a day gives back: `now_pence` at once (the invoicing periods
    that start on or after it), and `later_pence` (the cancelled visits in the period already
    under way) when that period's invoice is settled, after `later_after`: the invoice is for
    what was delivered, and settling it releases the rest."""

    now_pence: int
    later_pence: int
    later_after: date | None


def cancellation_money(order: Order, cancelled_from: date) -> CancellationMoney:
    """The money cancelling the order's visits from `cancelled_from` gives back, and when."""
    now = later = 0
    later_after = None
    occasions = schedule_of(order).occasions()
    for cycle in order.cycles:
        if cycle.state is not CycleState.HELD:
            continue
        if cycle.starts_on >= cancelled_from:
            now += cycle.amount_pence
        elif cycle.ends_on >= cancelled_from:
            if package_terms.is_package(order):
                # PACKAGES: a package's days and prices are its terms' (variations, pauses).
                later = _package_pence(order, cancelled_from, cycle.ends_on)
            else:
                visits = sum(1 for day in occasions if cancelled_from <= day <= cycle.ends_on)
                later = visits * order.units_per_occasion * order.unit_price_pence
            later_after = cycle.ends_on if later else None
    return CancellationMoney(now, later, later_after)


def _package_pence(order: Order, first: date, last: date) -> int:
    """What a package's occasions from `first` to `last` cost under the terms in force on
    each day (whether or not it was since cut short)."""
    terms = package_terms.terms_of(order)
    pence, day = 0, first
    while day <= last:
        current = package_terms.terms_on(terms, day)
        if current is not None and not current.paused and WEEKDAYS[day.weekday()] in current.days:
            pence += current.units_per_occasion * current.unit_price_pence
        day += timedelta(days=1)
    return pence


def cancel(
    session: Session, order: Order, *, by: User, today: date, reason: str = ""
) -> date | None:
    """Cancel as much of the order as the notice period allows.

    Before the first occasion (counting the notice), the whole order is cancelled and all its
    money released: returns None. Otherwise, for a recurring order, every occasion from the
    first day the notice allows is cancelled: whole cycles after it are released now, and the
    cycle it falls in is billed only for what is delivered before it. Returns that day.
    Raises InvalidTransition when nothing can be cancelled any more.
    """
    lock_order(session, order)
    reason = _reason(reason, required=False)
    if order.cancelled_from is not None:
        raise InvalidTransition(
            f"This order is already cancelled from {order.cancelled_from:%-d %B %Y}",
            status=order.status.value,
            move=Move.CANCEL_REST.value,
            cancelled_from=order.cancelled_from.isoformat(),
        )
    effective = earliest_cancellation(order, today)
    first = order.starts_on
    if effective <= first or order.status in (
        OrderStatus.AWAITING_PAYMENT,
        OrderStatus.AWAITING_APPROVAL,
        OrderStatus.PLACED,
    ):
        if order.status is OrderStatus.IN_PROGRESS:
            raise InvalidTransition(
                "This order has started: only its remaining weeks can be cancelled",
                status=order.status.value,
                move=Move.CANCEL.value,
            )
        unpaid = order.status is OrderStatus.AWAITING_PAYMENT
        _move(session, order, Move.CANCEL, by=by, reason=reason)
        # VARIATIONS: a change still waiting lapses with the package.
        variations.lapse_pending(session, order, by=by, why="the package was cancelled")
        released = _release_all(session, order, why="cancelled")
        packages.resolve_shortfalls(session, order, packages.Resolution.CANCELLED)
        _tell_cancelled(session, order, by, released_pence=released, sent=not unpaid)
        return None
    last_day = order.cancelled_from - timedelta(days=1) if order.cancelled_from else order.ends_on
    if order.schedule_kind is ScheduleKind.ONE_OFF or (
        last_day is not None and effective > last_day
    ):
        raise InvalidTransition(
            f"It is too late to cancel: {order.organisation.name} needs "
            f"{order.notice_days} days' notice",
            status=order.status.value,
            move=Move.CANCEL_REST.value,
        )
    _move(
        session,
        order,
        Move.CANCEL_REST,
        by=by,
        reason=reason,
        cancelled_from=effective.isoformat(),
    )
    order.cancelled_from = effective
    # VARIATIONS: a change still waiting lapses: the package is ending.
    variations.lapse_pending(session, order, by=by, why="the package is cancelled")
    released = 0
    for cycle in order.cycles:
        if cycle.starts_on >= effective and cycle.state is CycleState.HELD:
            released += cycle.amount_pence
            release_cycle(session, order, cycle, why="cancelled")
    if released:
        hooks.money_released(session, order, why="cancelled")
    # PACKAGES: no cycle is made from `cancelled_from` on; the flags of those are resolved.
    packages.resolve_shortfalls(
        session, order, packages.Resolution.CANCELLED, starting_from=effective
    )
    _tell_cancelled(session, order, by, released_pence=released)
    # Cut short after its last bill, nothing is left to deliver or invoice: it is done.
    complete_if_done(session, order, by=by)
    return effective


def _tell_cancelled(
    session: Session, order: Order, by: User, *, released_pence: int, sent: bool = True
) -> None:
    """Tell the provider (unless the order was never `sent` to it: cancelled unpaid) and, when
    someone else cancelled it, the person."""
    title = f"Order {order.reference} was cancelled"
    if order.cancelled_from:
        title = f"Order {order.reference}: visits from {order.cancelled_from:%-d %B} cancelled"
    if sent:
        events.tell_provider(session, order, NotificationKind.ORDER_CANCELLED, title)
    if by.person_id != order.person_id:
        events.tell_person(session, order, NotificationKind.ORDER_CANCELLED, title)


def card_share_held(order: Order) -> bool:
    """Whether the order's card share is held: once Stripe confirmed it (the order was paid).
    Until then each cycle holds only its budget streams' part."""
    return any(event.kind in _PAID for event in order.events)


_PAID = (Move.PAY.value, Move.PAY_FOR_APPROVAL.value)


def paid(session: Session, order: Order, *, stream: FundingStream) -> bool:
    """Stripe confirmed the order's card share, and the money is in the person's own-funds
    `stream`: hold each cycle's card part from it (as placing held the budget's parts), and
    send the order on, to the provider or, when it is outside the support plan, to the
    council first; told as placing tells them.

    The caller holds the order's lock (`lock_order`) and then the stream's. Returns False,
    changing nothing, unless the order is awaiting payment (paid before, or cancelled).
    """
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return False
    payee = payee_account(
        session, code=f"organisation:{order.organisation_id}", name=order.organisation.name
    )
    for cycle in order.cycles:
        card = order.card_share_of(cycle)
        if card and cycle.state is CycleState.HELD:
            spending.hold_part(
                session,
                stream,
                card,
                payee=payee,
                key=cycle.commitment_key,
                part="card",
                description=f"Order {order.reference}: {order.service_name} (card)",
            )
    needs_approval = any(
        event.kind == "placed" and event.details.get("needs_approval") for event in order.events
    )
    move = Move.PAY_FOR_APPROVAL if needs_approval else Move.PAY
    _move(session, order, move, by=None)
    if needs_approval:
        events.tell_council(
            session,
            order,
            NotificationKind.ORDER_NEEDS_APPROVAL,
            f"Order {order.reference} is outside a support plan and needs approval",
        )
    else:
        events.tell_provider(
            session, order, NotificationKind.ORDER_PLACED, f"New order {order.reference}"
        )
    return True


def card_agreed(session: Session, order: Order) -> bool:
    """The person saved a card and agreed that each cycle's card share is charged to it
    before the cycle starts: the order goes to the provider (told as placing tells it) with
    no card share held yet; each cycle's is held when its charge is confirmed
    (`cycle_paid`). The caller holds the order's lock. Returns False, changing nothing,
    unless the order is awaiting payment."""
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return False
    _move(session, order, Move.CARD_AGREED, by=None)
    events.tell_provider(
        session, order, NotificationKind.ORDER_PLACED, f"New order {order.reference}"
    )
    return True


def cycle_paid(session: Session, order: Order, cycle: OrderCycle, *, stream: FundingStream) -> bool:
    """Stripe confirmed a cycle's card share, charged to the saved card, and the money is in
    the person's own-funds `stream`: hold it for the cycle (as `paid` does for a whole
    order). The caller holds the order's lock, then the stream's. Returns False, changing
    nothing, when the cycle's card share is held already or the cycle no longer holds money
    (released: cancelled meanwhile)."""
    card = order.card_share_of(cycle)
    if not card or cycle.state is not CycleState.HELD or cycle_card_held(order, cycle):
        return False
    payee = payee_account(
        session, code=f"organisation:{order.organisation_id}", name=order.organisation.name
    )
    spending.hold_part(
        session,
        stream,
        card,
        payee=payee,
        key=cycle.commitment_key,
        part="card",
        description=f"Order {order.reference}: {order.service_name} (card, cycle {cycle.number})",
    )
    events.record(session, order, CYCLE_PAID, by=None, cycle=cycle.number, card_pence=card)
    return True


CYCLE_PAID = "cycle_paid"


def cycle_card_held(order: Order, cycle: OrderCycle) -> bool:
    """Whether the cycle's card share is held: the whole order was paid at once, or this
    cycle's charge to the saved card was confirmed."""
    return card_share_held(order) or any(
        event.kind == CYCLE_PAID and event.details.get("cycle") == cycle.number
        for event in order.events
    )


def expire(session: Session, order: Order) -> bool:
    """Cancel an order whose card share was not paid in time: release what its budget
    streams hold and tell the person (the provider never saw it). The caller holds the
    order's lock. Returns False, changing nothing, unless it is still awaiting payment."""
    if order.status is not OrderStatus.AWAITING_PAYMENT:
        return False
    _move(session, order, Move.EXPIRE, by=None, reason="Not paid in time")
    _release_all(session, order, why="expired")
    events.tell_person(
        session,
        order,
        NotificationKind.ORDER_CANCELLED,
        f"Order {order.reference} was cancelled: it was not paid in time",
    )
    return True
