"""Where a cycle's money is held: the one place that finds a cycle's commitment.

A cycle is paid by exactly one payer (a database check): the personal budget it names (a
package's cycles may each name a different budget, as the package carries over from one period
into the next) or a funder's reablement pot. Everything that spends or releases a cycle's
money finds its commitment here, never from the order's budget.
"""

from __future__ import annotations

from sqlalchemy import select

from marketplace import ledger
from marketplace.budgets import spending
from marketplace.budgets.models import FunderPot, PersonalBudget
from marketplace.ledger import Transfer
from marketplace.orders.models import Order, OrderCycle
from marketplace.types import Session


def paying_budget(order: Order, cycle: OrderCycle) -> PersonalBudget | None:
    """The budget that pays the cycle (None for a cycle paid from a reablement pot)."""
    if cycle.pot_id is not None:
        return None
    return cycle.budget if cycle.budget is not None else order.budget


def commitment_of(session: Session, order: Order, cycle: OrderCycle) -> spending.Commitment | None:
    """The cycle's commitment (pending or resolved), whoever pays it; None when nothing was
    ever held for it."""
    if cycle.pot_id is not None:
        return pot_commitment(session, cycle.pot, cycle.commitment_key)
    budget = paying_budget(order, cycle)
    return (
        None if budget is None else spending.find_commitment(session, budget, cycle.commitment_key)
    )


def pot_commitment(session: Session, pot: FunderPot | None, key: str) -> spending.Commitment | None:
    """A commitment held straight from a funder's pot (a reablement cycle): its parts have no
    funding stream."""
    if pot is None:
        return None
    transfers = session.scalars(
        select(Transfer).where(
            Transfer.reference == key,
            Transfer.kind == ledger.TransferKind.PENDING,
            Transfer.debit_account_id == pot.account_id,
        )
    ).all()
    if not transfers:
        return None
    return spending.Commitment(
        key, [spending.CommitmentPart(None, transfer) for transfer in transfers]
    )
