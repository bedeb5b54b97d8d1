"""Invoices and settlement.

A provider invoices one cycle of an order from its delivery records, once the day of its last
visit has come (of the visits before the order was cut short, if it was). Settling the invoice
posts exactly the delivered amount from the cycle's commitment and releases the rest, in one
step. An invoice whose every line the person confirmed is settled at once; one with a queried
line is held until the query is resolved; the rest are settled by a council officer, or by the
scheduled job (`flask orders settle-due`) once the person has had `SETTLE_AFTER_DAYS` to query them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from marketplace import ledger
from marketplace.accounts.models import User
from marketplace.accounts.policy import can
from marketplace.budgets import spending
from marketplace.notifications.models import NotificationKind
from marketplace.orders import cycle_money, events, hooks, life, outcomes, package_terms
from marketplace.orders.checkout import new_reference
from marketplace.orders.deliveries import visits_in
from marketplace.orders.errors import InvalidTransition, NotYours
from marketplace.orders.locks import lock_order
from marketplace.orders.models import (
    CycleState,
    Delivery,
    DeliveryStatus,
    Invoice,
    InvoiceStatus,
    Order,
    OrderCycle,
    OrderStatus,
)
from marketplace.types import Session, utcnow

SETTLE_AFTER_DAYS = 14


def last_visit(order: Order, cycle: OrderCycle) -> date | None:
    """The day of the cycle's last visit still due (None when the order was cut short before
    any of them)."""
    visits = visits_in(order, cycle)
    return visits[-1] if visits else None


def can_invoice(order: Order, cycle: OrderCycle, today: date) -> bool:
    """Whether the cycle is ready to bill: held, and its last visit (counting only those
    before the order was cut short) has come; for an outcome order, its last week is over."""
    last = (
        outcomes.last_week_ended(order, cycle)
        if outcomes.is_outcome_order(order)
        else last_visit(order, cycle)
    )
    return (
        order.status in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
        and cycle.state is CycleState.HELD
        and (last is None or last <= today)
    )


def raise_invoice(
    session: Session, order: Order, cycle: OrderCycle, *, by: User, today: date
) -> Invoice:
    """Bill a cycle for what its delivery records say. Raises NotYours, InvalidTransition."""
    lock_order(session, order)
    if not can(by, "fulfil_order", order):
        raise NotYours("Only the provider of this order can invoice it")
    if cycle.order_id != order.id:
        raise InvalidTransition("That period belongs to another order")
    if order.status not in (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS):
        raise InvalidTransition(
            f"An order that is {order.status.label.lower()} cannot be invoiced",
            status=order.status.value,
        )
    if cycle.state is not CycleState.HELD:
        raise InvalidTransition(
            "That period has already been invoiced or released", cycle_state=cycle.state.value
        )
    if not can_invoice(order, cycle, today):
        raise _not_yet(order, cycle)
    lines, amount, all_confirmed = _bill(session, order, cycle)
    if amount > cycle.amount_pence:  # the delivery caps make this impossible; never bill more
        raise InvalidTransition("An invoice cannot be for more than was committed")
    invoice = Invoice(
        reference=new_reference("INV"),
        order_id=order.id,
        organisation_id=order.organisation_id,
        cycle_id=cycle.id,
        amount_pence=amount,
        raised_by_id=by.id,
    )
    session.add(invoice)
    session.flush()
    for line in lines:
        line.invoice_id = invoice.id
    if outcomes.is_outcome_order(order):
        outcomes.attach_to_invoice(session, order, cycle, invoice)
    cycle.state = CycleState.INVOICED
    events.record(
        session,
        order,
        "invoice_raised",
        by=by,
        invoice=invoice.reference,
        amount_pence=amount,
        cycle=cycle.number,
    )
    events.tell_person(
        session,
        order,
        NotificationKind.INVOICE_RAISED,
        f"Order {order.reference}: invoice {invoice.reference} raised",
    )
    session.refresh(invoice, ["deliveries"])
    if all_confirmed:
        settle_invoice(session, invoice, by=None)
    return invoice


def _not_yet(order: Order, cycle: OrderCycle) -> InvalidTransition:
    """Why the cycle cannot be billed yet: its last visit (or, paid for outcomes, its last
    week) is still to come."""
    if outcomes.is_outcome_order(order):
        last = outcomes.last_week_ended(order, cycle) or cycle.ends_on
        return InvalidTransition(
            f"That period's last week ends on {last:%-d %B %Y}: invoice it after that day",
            last_visit=last.isoformat(),
        )
    last = last_visit(order, cycle) or cycle.ends_on
    return InvalidTransition(
        f"That period's last visit is on {last:%-d %B %Y}: invoice it on or after that day",
        last_visit=last.isoformat(),
    )


def _bill(session: Session, order: Order, cycle: OrderCycle) -> tuple[list[Delivery], int, bool]:
    """The cycle's delivery lines, what they bill, and whether the person confirmed them all.
    OUTCOMES: an outcome order has no lines; it bills the weekly amount less each outcome not
    achieved (`outcomes.bill_cycle`)."""
    if outcomes.is_outcome_order(order):
        amount, all_confirmed = outcomes.bill_cycle(session, order, cycle)
        return [], amount, all_confirmed
    lines = [d for d in order.deliveries if d.cycle_id == cycle.id]
    # VARIATIONS: each visit at the price of its day (a package's price may change).
    amount = package_terms.billed_pence(order, lines)
    return lines, amount, all(d.status is DeliveryStatus.CONFIRMED for d in lines)


def held_by_query(invoice: Invoice) -> bool:
    return any(
        d.status is DeliveryStatus.QUERIED for d in invoice.deliveries
    ) or outcomes.held_by_outcome_query(invoice)


def settle_invoice(session: Session, invoice: Invoice, *, by: User | None) -> None:
    """Pay an invoice from the cycle's commitment: post what it bills, release the rest.

    `by` None is the system (everything confirmed, or the query window passed). Raises
    NotYours, InvalidTransition (already settled, or held by a query).
    """
    lock_order(session, invoice.order)
    if by is not None and not can(by, "settle_invoice", invoice):
        raise NotYours("You cannot settle invoices")
    if invoice.status is not InvoiceStatus.RAISED:
        raise InvalidTransition("This invoice is already paid")
    if held_by_query(invoice):
        raise InvalidTransition(
            "This invoice is held: a delivery on it is queried", invoice=invoice.reference
        )
    order = invoice.order
    cycle = invoice.cycle
    commitment = cycle_money.commitment_of(session, order, cycle)
    if commitment is None and cycle.amount_pence:
        raise ledger.InvalidTransfer("the cycle's commitment is missing", cycle=cycle.number)
    if commitment is not None:
        if invoice.amount_pence:
            spending.spend(
                session,
                commitment,
                key=f"invoice:{invoice.id}",
                amount_pence=invoice.amount_pence,
            )
        else:
            spending.release(session, commitment, key=f"invoice:{invoice.id}")
        if invoice.amount_pence < cycle.amount_pence:
            hooks.money_released(session, order, why="settled")
    invoice.status = InvoiceStatus.SETTLED
    invoice.settled_at = utcnow()
    invoice.settled_by_id = by.id if by else None
    cycle.state = CycleState.SETTLED
    events.record(
        session,
        order,
        "invoice_settled",
        by=by,
        invoice=invoice.reference,
        amount_pence=invoice.amount_pence,
        released_pence=cycle.amount_pence - invoice.amount_pence,
    )
    events.tell_provider(
        session,
        order,
        NotificationKind.INVOICE_SETTLED,
        f"Invoice {invoice.reference} has been paid",
    )
    life.complete_if_done(session, order, by=by)


def settle_due(
    session: Session, *, now: datetime | None = None, after_days: int = SETTLE_AFTER_DAYS
) -> list[Invoice]:
    """Settle every raised invoice the person has had `after_days` to query and has not."""
    cutoff = (now or utcnow()) - timedelta(days=after_days)
    due = session.scalars(
        select(Invoice)
        .where(Invoice.status == InvoiceStatus.RAISED, Invoice.raised_at <= cutoff)
        .order_by(Invoice.raised_at)
    ).all()
    settled = []
    for invoice in due:
        # Locked outside the savepoint: rolling one back would give its lock up on PostgreSQL.
        lock_order(session, invoice.order)
        if invoice.status is not InvoiceStatus.RAISED or held_by_query(invoice):
            continue  # settled by an officer meanwhile, or queried
        with ledger.savepoint(session):
            settle_invoice(session, invoice, by=None)
        settled.append(invoice)
    return settled
