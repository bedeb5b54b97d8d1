"""Orders against the ledger: each cycle's commitment is where its state says it is.

Part of `flask ledger verify`, so the auditor's one check proves the orders and the budgets'
ledger agree: a held cycle's money is still pending, a settled cycle posted exactly its
invoice and released the rest, a released cycle's money all went back.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from marketplace.ledger import Transfer, TransferKind, TransferState
from marketplace.orders.models import CycleState, Invoice, InvoiceStatus, Order, OrderCycle


def check_orders(session: Session) -> tuple[list[str], int]:
    """Problems found, and how many orders were checked."""
    problems: list[str] = []
    orders = session.scalars(
        select(Order).options(selectinload(Order.cycles), selectinload(Order.invoices))
    ).all()
    for order in orders:
        if sum(cycle.amount_pence for cycle in order.cycles) != order.total_pence:
            problems.append(f"order {order.reference}: its cycles do not add up to its total")
        invoices = {invoice.cycle_id: invoice for invoice in order.invoices}
        for cycle in order.cycles:
            problems += _check_cycle(session, order, cycle, invoices.get(cycle.id))
    return problems, len(orders)


def _check_cycle(
    session: Session, order: Order, cycle: OrderCycle, invoice: Invoice | None
) -> list[str]:
    where = f"order {order.reference} cycle {cycle.number}"
    held = session.scalars(
        select(Transfer).where(
            Transfer.reference == cycle.commitment_key, Transfer.kind == TransferKind.PENDING
        )
    ).all()
    if cycle.amount_pence == 0:
        return [f"{where}: holds money for nothing"] if held else []
    if sum(t.amount_pence for t in held) != cycle.amount_pence:
        held_pence = sum(t.amount_pence for t in held)
        return [f"{where}: commitment of {held_pence}p, not {cycle.amount_pence}p"]
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
