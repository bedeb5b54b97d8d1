"""Where a cycle's money is held: the one place that finds a cycle's commitment.

A cycle is paid by exactly one payer (a database check): the personal budget it names (a
package's cycles may each name a different budget, as the package carries over from one period
into the next) or a funder's reablement pot. Everything that spends or releases a cycle's
money finds its commitment here, never from the order's budget.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from marketplace import ledger
from marketplace.budgets import spending
from marketplace.budgets.allocations import current_status
from marketplace.budgets.errors import BudgetClosed
from marketplace.budgets.funders import payee_account
from marketplace.budgets.models import BudgetStatus, FunderPot, PersonalBudget
from marketplace.budgets.rules import TransferCode
from marketplace.ledger import LedgerAccount, Transfer, TransferKind
from marketplace.orders.models import CycleState, Order, OrderCycle
from marketplace.types import Session

# The void key of a part superseded when its cycle was held again (`rework_cycle`): how the
# ledger check tells a re-worked cycle's old money from a released one.
REWORKED = ":reworked:"


def paying_budget(order: Order, cycle: OrderCycle) -> PersonalBudget | None:
    """The budget that pays the cycle (None for a cycle paid from a reablement pot)."""
    if cycle.pot_id is not None:
        return None
    return cycle.budget if cycle.budget is not None else order.budget


def commitment_of(session: Session, order: Order, cycle: OrderCycle) -> spending.Commitment | None:
    """The cycle's commitment (pending or resolved), whoever pays it, without the parts
    superseded when it was held again; None when nothing is held for it."""
    if cycle.pot_id is not None:
        return pot_commitment(session, cycle.pot, cycle.commitment_key)
    budget = paying_budget(order, cycle)
    if budget is None:
        return None
    found = spending.find_commitment(session, budget, cycle.commitment_key)
    if found is None:
        return None
    gone = superseded(session, [part.transfer for part in found.parts])
    live = [part for part in found.parts if part.transfer.id not in gone]
    return spending.Commitment(found.key, live) if live else None


def superseded(session: Session, parts: Sequence[Transfer]) -> set[uuid.UUID]:
    """The ids of the commitment parts voided because their cycle was held again.

    Asked of the database, not of each part's `resolution`: that relationship, once loaded,
    is not refreshed when the part is posted or voided later in the same session, and a stale
    "unresolved" would hide the money a settlement released (card refunds read it)."""
    if not parts:
        return set()
    return set(
        session.scalars(
            select(Transfer.pending_id).where(
                Transfer.pending_id.in_([part.id for part in parts]),
                Transfer.kind == TransferKind.VOID,
                Transfer.idempotency_key.contains(REWORKED),
            )
        )
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
    gone = superseded(session, transfers)
    live = [transfer for transfer in transfers if transfer.id not in gone]
    if not live:
        return None
    return spending.Commitment(key, [spending.CommitmentPart(None, transfer) for transfer in live])


def provider_payee(session: Session, order: Order) -> LedgerAccount:
    """The provider's account that the order's money is paid to (as checkout names it)."""
    return payee_account(
        session, code=f"organisation:{order.organisation_id}", name=order.organisation.name
    )


def hold_cycle(session: Session, order: Order, cycle: OrderCycle) -> None:
    """Hold `cycle.amount_pence` for the cycle from its payer: its reablement pot (one pending
    transfer from the pot's account, which is guarded), or its budget's streams in draw order
    from what they have RELEASED, skipping those whose rules exclude the order's categories,
    under the budget's account locks. Sets `cycle.split`.

    All or nothing: raises ledger.InsufficientFunds (with `shortfall_pence`) or BudgetClosed
    and records nothing. Holding a cycle that already holds money is refused
    (ledger.InvalidTransfer): re-hold with `rework_cycle`."""
    if commitment_of(session, order, cycle) is not None:
        raise ledger.InvalidTransfer("this cycle already holds its money", cycle=cycle.number)
    _hold(session, order, cycle)


def _hold(session: Session, order: Order, cycle: OrderCycle) -> None:
    payee = provider_payee(session, order)
    key = cycle.commitment_key
    generation = _parts_made(session, key)
    description = f"Order {order.reference}: {order.service_name}, cycle {cycle.number}"
    if cycle.amount_pence == 0:
        cycle.split = {}
        return
    if cycle.pot_id is not None:
        pot = cycle.pot if cycle.pot is not None else session.get(FunderPot, cycle.pot_id)
        assert pot is not None
        ledger.lock_accounts(session, [pot.account_id, payee.id])
        with ledger.savepoint(session):
            ledger.transfer(
                session,
                key=_part_key(key, generation, 0),
                debit=pot.account_id,
                credit=payee,
                amount_pence=cycle.amount_pence,
                code=TransferCode.COMMITMENT,
                description=description,
                reference=key,
                pending=True,
            )
        cycle.split = {}
        return
    budget = paying_budget(order, cycle)
    if budget is None:
        raise ledger.InvalidTransfer("this cycle names no payer", cycle=cycle.number)
    streams = list(budget.streams)
    ledger.lock_accounts(session, [stream.account_id for stream in streams] + [payee.id])
    if current_status(session, budget.id) is BudgetStatus.CLOSED:
        raise BudgetClosed("this budget's period is closed")
    available = spending.available_by_stream(session, budget)
    shares = spending.draw(streams, available, cycle.amount_pence, order.category_codes or ())
    with ledger.savepoint(session):
        ledger.transfer_all(
            session,
            [
                ledger.Move(
                    key=_part_key(key, generation, index),
                    debit=stream.account_id,
                    credit=payee,
                    amount_pence=take,
                    code=TransferCode.COMMITMENT,
                    description=description,
                    reference=key,
                    pending=True,
                )
                for index, (stream, take) in enumerate(shares)
            ],
        )
    cycle.split = {str(stream.id): take for stream, take in shares}


def rework_cycle(
    session: Session,
    order: Order,
    cycle: OrderCycle,
    *,
    units: int,
    amount_pence: int,
    budget: PersonalBudget | None = None,
    pot: FunderPot | None = None,
) -> None:
    """Hold a HELD cycle's money again, at a new amount or from a new payer (a variation; a
    package carried into the next budget; reablement turning chargeable): void its live parts
    (under a `REWORKED` key), set its units, amount and payer, adjust the order's total by
    the difference, and hold anew. `budget` or `pot` names a new payer (at most one).

    All or nothing: raises ledger.InsufficientFunds or BudgetClosed and leaves the cycle, its
    money and the order as they were; ledger.InvalidTransfer for a cycle not HELD."""
    if cycle.state is not CycleState.HELD:
        raise ledger.InvalidTransfer(
            "only a cycle still holding its money can be re-worked", cycle=cycle.number
        )
    if budget is not None and pot is not None:
        raise ledger.InvalidTransfer("a cycle has one payer")
    before = (cycle.units, cycle.amount_pence, cycle.budget_id, cycle.pot_id, dict(cycle.split))
    total_before = order.total_pence
    try:
        with ledger.savepoint(session):
            live = commitment_of(session, order, cycle)
            if live is not None:
                generation = _parts_made(session, cycle.commitment_key)
                for index, part in enumerate(live.parts):
                    ledger.void_pending(
                        session,
                        part.transfer,
                        key=f"{cycle.commitment_key}{REWORKED}{generation}:{index}",
                    )
            order.total_pence += amount_pence - cycle.amount_pence
            cycle.units, cycle.amount_pence = units, amount_pence
            if budget is not None:
                cycle.budget, cycle.budget_id, cycle.pot, cycle.pot_id = (
                    budget,
                    budget.id,
                    None,
                    None,
                )
            elif pot is not None:
                cycle.pot, cycle.pot_id, cycle.budget, cycle.budget_id = pot, pot.id, None, None
            session.flush()
            _hold(session, order, cycle)
            session.flush()
    except Exception:
        cycle.units, cycle.amount_pence, cycle.budget_id, cycle.pot_id, cycle.split = before
        order.total_pence = total_before
        session.expire(cycle, ["budget", "pot"])
        raise


def _parts_made(session: Session, key: str) -> int:
    """How many commitment parts were ever recorded under `key` (live or not)."""
    return (
        session.scalar(
            select(func.count())
            .select_from(Transfer)
            .where(Transfer.reference == key, Transfer.kind == TransferKind.PENDING)
        )
        or 0
    )


def _part_key(key: str, generation: int, index: int) -> str:
    """The first hold's parts are `{key}:{index}`, as checkout names them; a later hold's
    `{key}:r{generation}:{index}`, so no key is used twice."""
    return f"{key}:{index}" if generation == 0 else f"{key}:r{generation}:{index}"
