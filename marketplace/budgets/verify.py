"""The budgets' invariants, checked against the ledger for `flask ledger verify`.

- every stream, budget and pot: allocated = committed + spent + available + returned, with
  every movement on a stream's accounts explained by one of those figures;
- a stream's whole amount = allocated + scheduled, and scheduled = the instalments to come;
- a closed budget holds nothing: no money available, committed or still to come;
- a pot only funds, and is only given back to by, streams allocated out of it, so the
  individual allocations add up to what its funder gave less what the pot still holds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.budgets.figures import Figures, figures_of
from marketplace.budgets.models import BudgetStatus, FunderPot, FundingStream
from marketplace.budgets.rules import TransferCode
from marketplace.ledger import Transfer, TransferKind
from marketplace.types import Session

_POT_CODES = {
    TransferCode.FUNDING,
    TransferCode.ALLOCATION,
    TransferCode.REVISION,
    TransferCode.RETURN,
}


def check_budgets(session: Session) -> tuple[list[str], int]:
    """Every problem found (empty when all is well) and how many budgets were checked."""
    streams = session.scalars(
        select(FundingStream).options(
            selectinload(FundingStream.instalments),
            selectinload(FundingStream.budget),
        )
    ).all()
    touching: dict[uuid.UUID, list[Transfer]] = defaultdict(list)
    for transfer in session.scalars(select(Transfer)):
        touching[transfer.debit_account_id].append(transfer)
        touching[transfer.credit_account_id].append(transfer)
    problems: list[str] = []
    by_budget: dict[uuid.UUID, Figures] = defaultdict(Figures)
    by_pot: dict[uuid.UUID, Figures] = defaultdict(Figures)
    for stream in streams:
        transfers = {t.id: t for t in touching[stream.account_id]}
        transfers.update({t.id: t for t in touching[stream.unreleased_account_id]})
        figures = figures_of(stream, transfers.values())
        problems.extend(_stream_problems(stream, figures))
        by_budget[stream.budget_id] += figures
        if stream.pot_id is not None:
            by_pot[stream.pot_id] += figures
    for budget_id, figures in by_budget.items():
        if not figures.balanced:
            problems.append(f"budget {budget_id}: allocated does not add up: {figures}")
    pots = session.scalars(select(FunderPot)).all()
    stream_pots = {
        account: stream.pot_id
        for stream in streams
        for account in (stream.account_id, stream.unreleased_account_id)
    }
    for pot in pots:
        problems.extend(_pot_problems(pot, touching[pot.account_id], stream_pots))
        if not by_pot[pot.id].balanced:
            problems.append(f"pot {pot.label}: allocated does not add up: {by_pot[pot.id]}")
    return problems, len(by_budget)


def _stream_problems(stream: FundingStream, figures: Figures) -> list[str]:
    name = f"stream {stream.id} ({stream.kind}) of budget {stream.budget_id}"
    problems = [f"{name}: unexplained movement {what}" for what in figures.unexplained]
    if not figures.balanced:
        problems.append(
            f"{name}: allocated {figures.allocated_pence}p is not committed "
            f"{figures.committed_pence}p + spent {figures.spent_pence}p + available "
            f"{figures.available_pence}p + returned {figures.returned_pence}p + carried "
            f"forward {figures.carried_forward_pence}p"
        )
    if stream.amount_pence != figures.allocated_pence + figures.scheduled_pence:
        problems.append(
            f"{name}: amount {stream.amount_pence}p is not allocated "
            f"{figures.allocated_pence}p + scheduled {figures.scheduled_pence}p"
        )
    to_come = sum(i.amount_pence for i in stream.instalments if not i.released)
    if to_come != figures.scheduled_pence:
        problems.append(
            f"{name}: instalments to come add up to {to_come}p, "
            f"the unreleased account holds {figures.scheduled_pence}p"
        )
    for instalment in stream.instalments:
        moved = instalment.released_transfer
        if (moved.amount_pence if moved else 0) != (
            instalment.amount_pence if instalment.released else 0
        ):
            problems.append(f"{name}: instalment {instalment.number} released a wrong amount")
    if stream.budget.status is BudgetStatus.CLOSED and (
        figures.available_pence or figures.committed_pence or figures.scheduled_pence
    ):
        problems.append(f"{name}: the budget is closed but the stream still holds money")
    return problems


def _pot_problems(
    pot: FunderPot, transfers: list[Transfer], stream_pots: dict[uuid.UUID, uuid.UUID | None]
) -> list[str]:
    problems = []
    for transfer in transfers:
        if transfer.kind is not TransferKind.POSTED:
            problems.append(
                f"pot {pot.label}: holds are not made on pots ({transfer.idempotency_key})"
            )
            continue
        code = transfer.reverses.code if transfer.reverses is not None else transfer.code
        other = (
            transfer.debit_account_id
            if transfer.credit_account_id == pot.account_id
            else transfer.credit_account_id
        )
        if code not in _POT_CODES:
            problems.append(f"pot {pot.label}: unexplained movement {transfer.idempotency_key}")
        elif code == TransferCode.FUNDING:
            if other != pot.funder.account_id:
                problems.append(
                    f"pot {pot.label}: funding from another account ({transfer.idempotency_key})"
                )
        elif stream_pots.get(other) != pot.id:
            problems.append(
                f"pot {pot.label}: {transfer.code} with a stream allocated out of another pot "
                f"({transfer.idempotency_key})"
            )
    return problems
