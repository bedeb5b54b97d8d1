"""Orders against the ledger: each cycle's commitment is where its state says it is, and each
order's status agrees with its money and its timeline.

Part of `flask ledger verify`, so the auditor's one check proves the orders and the budgets'
ledger agree: a held cycle's money is still pending (all but the card's part while the order
awaits its card payment, or if it ended unpaid), a settled cycle posted exactly its
invoice and released the rest, a released cycle's money all went back. And per order: an open
order still holds money, a declined, cancelled or completed one holds none; its timeline
leaves each status at most once and ends at the order's status; no invoice is settled twice;
no visit is recorded twice and no cycle has more delivered than it holds. Every problem names
the order's reference.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.budgets.models import PersonalBudget
from marketplace.ledger import Transfer, TransferKind, TransferState
from marketplace.orders import cycle_money, outcomes, package_terms
from marketplace.orders.deliveries import deliverable_units
from marketplace.orders.life import card_share_held, cycle_card_held
from marketplace.orders.models import (
    CycleState,
    Invoice,
    InvoiceStatus,
    Order,
    OrderCycle,
    OrderStatus,
    PackageShortfall,
)
from marketplace.types import Session

# Cycle states whose commitment is still pending: money held for the order.
_HOLDING = (CycleState.HELD, CycleState.INVOICED)
_OPEN = (OrderStatus.ACCEPTED, OrderStatus.IN_PROGRESS)
_NOT_STARTED = (OrderStatus.AWAITING_PAYMENT, OrderStatus.AWAITING_APPROVAL, OrderStatus.PLACED)
_ENDED = (OrderStatus.DECLINED, OrderStatus.CANCELLED, OrderStatus.COMPLETED)


def check_orders(
    session: Session, orders: Collection[uuid.UUID] | None = None
) -> tuple[list[str], int]:
    """Problems found, and how many orders were checked: every order, or only those whose
    ids are given (a test's own orders after each step), each as fully."""
    problems: list[str] = []
    budget_streams = selectinload(PersonalBudget.streams)
    query = select(Order).options(
        selectinload(Order.cycles).options(
            selectinload(OrderCycle.budget).options(budget_streams),
            selectinload(OrderCycle.pot),
        ),
        selectinload(Order.budget).options(budget_streams),
        selectinload(Order.invoices),
        selectinload(Order.deliveries),
        selectinload(Order.events),
    )
    shortfalls = (
        select(Order)
        .join(PackageShortfall, PackageShortfall.order_id == Order.id)
        .where(PackageShortfall.resolved_at.is_(None), Order.ends_on.is_(None))
    )
    if orders is not None:
        query = query.where(Order.id.in_(orders))
        shortfalls = shortfalls.where(Order.id.in_(orders))
    checked = session.scalars(query).all()
    parts = _commitment_parts(session, None if orders is None else orders)
    flagged = frozenset(session.scalars(shortfalls))
    for order in checked:
        if sum(cycle.amount_pence for cycle in order.cycles) != order.total_pence:
            problems.append(f"order {order.reference}: its cycles do not add up to its total")
        invoices = {invoice.cycle_id: invoice for invoice in order.invoices}
        for cycle in order.cycles:
            problems += _check_cycle(
                order, cycle, invoices.get(cycle.id), parts.get(cycle.commitment_key, [])
            )
        problems += _check_status(order, flagged)
        problems += _check_card_share(order)
        problems += _check_timeline(order)
        # OUTCOMES: an outcome order is billed from its weeks' outcome records, not deliveries.
        if outcomes.is_outcome_order(order):
            problems += _check_outcomes(session, order)
        else:
            problems += _check_deliveries(order)
    return problems, len(checked)


def _check_status(order: Order, flagged: frozenset[Order] = frozenset()) -> list[str]:
    """The order's status against its cycles' money (which `_check_cycle` holds against the
    ledger)."""
    where = f"order {order.reference}"
    status = order.status.label.lower()
    holding = [cycle.number for cycle in order.cycles if cycle.state in _HOLDING]
    if order.status in _NOT_STARTED:
        not_held = [c.number for c in order.cycles if c.state is not CycleState.HELD]
        if not_held:
            return [f"{where}: {status} but the money of cycle {_numbers(not_held)} is not held"]
    elif order.status in _OPEN and order.cycles and not holding and order not in flagged:
        # A package whose next cycle is flagged as short holds nothing, rightly: its cycles
        # so far are paid, the next one waits for money.
        return [f"{where}: {status} but its commitment is released: none of its money is held"]
    elif order.status in _ENDED and holding:
        return [f"{where}: {status} but cycle {_numbers(holding)} still holds its money"]
    if order.status in (OrderStatus.DECLINED, OrderStatus.CANCELLED):
        paid = [c.number for c in order.cycles if c.state is CycleState.SETTLED]
        if paid:
            return [f"{where}: {status} but cycle {_numbers(paid)} was paid"]
    return []


def _check_card_share(order: Order) -> list[str]:
    """An order awaiting payment has a card share not yet held; an order with a card share
    was placed awaiting payment."""
    where = f"order {order.reference}"
    if order.status is OrderStatus.AWAITING_PAYMENT and (
        not order.card_pence or card_share_held(order)
    ):
        return [f"{where}: awaiting payment but has no card share left to pay"]
    placed_unpaid = any(
        event.kind == "placed" and event.to_status is OrderStatus.AWAITING_PAYMENT
        for event in order.events
    )
    if order.card_pence and not placed_unpaid:
        return [f"{where}: has a card share but was never awaiting payment"]
    return []


def _check_timeline(order: Order) -> list[str]:
    """Each status is left at most once (an order's statuses never repeat), the timeline ends
    at the order's status, and each invoice is settled once."""
    where = f"order {order.reference}"
    problems = []
    reached = {event.to_status for event in order.events if event.to_status is not None}
    moves = [
        event
        for event in order.events
        if event.from_status is not None
        and event.to_status is not None
        and event.from_status is not event.to_status
    ]
    left = Counter(event.from_status for event in moves)
    for status, times in left.items():
        if times > 1:
            kinds = ", ".join(event.kind for event in moves if event.from_status is status)
            problems.append(f"{where}: left {status.value} {times} times ({kinds})")
    ends = reached - set(left)
    if ends != {order.status}:
        named = ", ".join(sorted(status.value for status in ends)) or "nowhere"
        problems.append(f"{where}: {order.status.value} but its timeline ends at {named}")
    settled = Counter(
        str(event.details.get("invoice"))
        for event in order.events
        if event.kind == "invoice_settled"
    )
    for reference, times in sorted(settled.items()):
        if times > 1:
            problems.append(f"{where}: invoice {reference} settled {times} times")
    for invoice in order.invoices:
        if invoice.status is InvoiceStatus.SETTLED and settled[invoice.reference] == 0:
            problems.append(f"{where}: invoice {invoice.reference} paid without a settlement")
    return problems


def _check_deliveries(order: Order) -> list[str]:
    """No visit recorded twice, no cycle with more delivered than it holds, and every invoice
    for exactly what its deliveries say."""
    where = f"order {order.reference}"
    problems = []
    days = Counter(delivery.delivered_on for delivery in order.deliveries)
    for day, times in sorted(days.items()):
        if times > 1:
            problems.append(f"{where}: the visit on {day.isoformat()} is recorded {times} times")
    for cycle in order.cycles:
        delivered = sum(d.units for d in order.deliveries if d.cycle_id == cycle.id)
        allowed = deliverable_units(order, cycle)
        if delivered > allowed:
            problems.append(
                f"{where} cycle {cycle.number}: {delivered} units delivered, more than the "
                f"{allowed} ordered"
            )
    for invoice in order.invoices:
        # VARIATIONS: each visit at the price of its day (a package's price may change).
        billed = package_terms.billed_pence(
            order, [d for d in order.deliveries if d.invoice_id == invoice.id]
        )
        if invoice.amount_pence != billed:
            problems.append(
                f"{where}: invoice {invoice.reference} is for {invoice.amount_pence}p but its "
                f"deliveries come to {billed}p"
            )
    return problems


def _check_outcomes(session: Session, order: Order) -> list[str]:
    """OUTCOMES: no delivery records, and every invoice for exactly what its outcome records
    earn (each week's amount less the share of each outcome not achieved)."""
    where = f"order {order.reference}"
    problems = []
    if order.deliveries:
        problems.append(f"{where}: paid for outcomes, yet it has delivery records")
    records = outcomes.records_of(session, order)
    for invoice in order.invoices:
        on_it = [r for r in records if r.invoice_id == invoice.id]
        due = outcomes.amount_due(order, invoice.cycle, on_it)
        if invoice.amount_pence != due:
            problems.append(
                f"{where}: invoice {invoice.reference} is for {invoice.amount_pence}p but its "
                f"outcome records come to {due}p"
            )
    return problems


def _numbers(numbers: list[int]) -> str:
    return ", ".join(str(number) for number in numbers)


def _payer_accounts(order: Order, cycle: OrderCycle) -> set[object]:
    """The accounts a cycle's money may be held from: its pot's, or its budget's streams'."""
    if cycle.pot is not None:
        return {cycle.pot.account_id}
    budget = cycle_money.paying_budget(order, cycle)
    return set() if budget is None else {stream.account_id for stream in budget.streams}


def _commitment_parts(
    session: Session, orders: Collection[uuid.UUID] | None = None
) -> dict[str | None, list[Transfer]]:
    """Every order cycle's commitment parts still counted (or those of the given orders'
    cycles), by the cycle's commitment key, each with its resolution: read in three
    statements for all the orders, not three a cycle. A cycle held again (a variation, a
    package carried into the next budget, reablement turned chargeable) voided its earlier
    parts under a re-worked key: those are left out."""
    held = select(Transfer).where(
        Transfer.kind == TransferKind.PENDING, Transfer.reference.like("order:%")
    )
    voids = select(Transfer.pending_id).where(
        Transfer.kind == TransferKind.VOID,
        Transfer.idempotency_key.contains(cycle_money.REWORKED),
    )
    if orders is not None:
        keys = select(OrderCycle.commitment_key).where(OrderCycle.order_id.in_(orders))
        held = held.where(Transfer.reference.in_(keys))
        voids = voids.where(
            Transfer.pending_id.in_(select(Transfer.id).where(Transfer.reference.in_(keys)))
        )
    superseded = set(session.scalars(voids))
    parts: dict[str | None, list[Transfer]] = {}
    for part in session.scalars(
        held.options(selectinload(Transfer.resolution))
        # Read afresh: a part loaded earlier in the session keeps the resolution it had then.
        .execution_options(populate_existing=True)
    ):
        if part.id not in superseded:
            parts.setdefault(part.reference, []).append(part)
    return parts


def _check_cycle(
    order: Order, cycle: OrderCycle, invoice: Invoice | None, held: list[Transfer]
) -> list[str]:
    where = f"order {order.reference} cycle {cycle.number}"
    payers = _payer_accounts(order, cycle)
    strangers = [part for part in held if part.debit_account_id not in payers]
    if strangers:
        return [f"{where}: money held from an account that is not its payer's"]
    # The card's part is held only once the card payment is confirmed (the whole order's, or
    # this cycle's charge to a saved card).
    expected = cycle.amount_pence - (
        0 if cycle_card_held(order, cycle) else order.card_share_of(cycle)
    )
    if expected == 0:
        return [f"{where}: holds money for nothing"] if held else []
    if sum(t.amount_pence for t in held) != expected:
        held_pence = sum(t.amount_pence for t in held)
        return [f"{where}: commitment of {held_pence}p, not {expected}p"]
    states = {t.state for t in held}
    posted = sum(
        t.resolution.amount_pence
        for t in held
        if t.resolution is not None and t.resolution.kind is TransferKind.POST
    )
    problems = []
    if cycle.state in (CycleState.HELD, CycleState.INVOICED) and states != {TransferState.PENDING}:
        problems.append(f"{where}: {cycle.state.value} but its commitment is resolved")
    if cycle.state is CycleState.RELEASED and states != {TransferState.VOIDED}:
        problems.append(f"{where}: released but its commitment is not voided")
    if cycle.state is CycleState.SETTLED:
        if invoice is None or invoice.status is not InvoiceStatus.SETTLED:
            problems.append(f"{where}: settled without a settled invoice")
        elif posted != invoice.amount_pence or TransferState.PENDING in states:
            problems.append(f"{where}: posted {posted}p for an invoice of {invoice.amount_pence}p")
    return problems
