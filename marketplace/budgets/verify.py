"""The budgets' invariants, checked against the ledger for `flask ledger verify`.

- every stream, budget and pot: allocated = committed + spent + available + returned, with
  every movement on a stream's accounts explained by one of those figures;
- a stream's whole amount = allocated + scheduled, and scheduled = the instalments to come;
- a closed budget holds nothing: no money available, committed or still to come;
- every Individual Service Fund's account holds exactly agreed - spent - returned
  (`check_isfs`);
- a pot only funds, and is only given back to by, streams allocated out of it, so the
  individual allocations add up to what its funder gave less what the pot still holds.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from marketplace.budgets.figures import Figures, figures_of
from marketplace.budgets.models import (
    BudgetStatus,
    FunderPot,
    FundingStream,
    IndividualServiceFund,
    IsfSpend,
    IsfState,
    PotPurpose,
)
from marketplace.budgets.rules import TransferCode
from marketplace.ledger import LedgerAccount, Transfer, TransferKind
from marketplace.ledger import balance as ledger_balance
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
    problems.extend(check_isfs(session, touching))  # ISF
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
        if pot.purpose is PotPurpose.REABLEMENT and _reablement_hold(pot, transfer):
            # A reablement pot pays its episodes' cycles straight from the pot: held, then
            # posted or voided (orders.verify holds each against its cycle).
            continue
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


def _reablement_hold(pot: FunderPot, transfer: Transfer) -> bool:
    """Whether a reablement pot's transfer is one of its cycles' commitments: held from the
    pot (pending), or the posting or voiding of such a hold."""
    held = transfer.pending if transfer.kind in (TransferKind.POST, TransferKind.VOID) else transfer
    return (
        held is not None
        and held.kind is TransferKind.PENDING
        and held.code == TransferCode.COMMITMENT
        and held.debit_account_id == pot.account_id
    )


# ISF (issue 18): the codes a fund's account may see, and from or to where.
_ISF_CODES = {TransferCode.ISF, TransferCode.ISF_SPEND, TransferCode.ISF_RETURN}


def check_isfs(
    session: Session, touching: dict[uuid.UUID, list[Transfer]] | None = None
) -> list[str]:
    """Every Individual Service Fund against its ledger account: money in only once, from its
    own stream, for its agreed amount (and only once agreed); spending only to its
    provider, each spend a row of `isf_spends` with the same amount; what went back only to
    its stream; the account holding exactly agreed - spent - returned, nothing once the fund
    has ended, and no fund of a closed budget still open."""
    if touching is None:
        touching = defaultdict(list)
        for transfer in session.scalars(select(Transfer)):
            touching[transfer.debit_account_id].append(transfer)
            touching[transfer.credit_account_id].append(transfer)
    problems: list[str] = []
    funds = session.scalars(
        select(IndividualServiceFund).options(
            selectinload(IndividualServiceFund.spends),
            selectinload(IndividualServiceFund.stream),
            selectinload(IndividualServiceFund.budget),
        )
    ).all()
    for fund in funds:
        problems.extend(_isf_problems(session, fund, touching[fund.account_id]))
    return problems


def _isf_problems(
    session: Session, fund: IndividualServiceFund, transfers: list[Transfer]
) -> list[str]:
    name = f"ISF {fund.reference}"
    problems: list[str] = []
    payee = session.scalar(
        select(LedgerAccount.id).where(
            LedgerAccount.code == f"payee:organisation:{fund.organisation_id}"
        )
    )
    spends = {spend.transfer_id: spend for spend in fund.spends}
    (agreed, spent, returned), moved = _isf_movements(fund, transfers, spends, payee)
    problems.extend(moved)
    for spend in spends.values():
        problems.append(f"{name}: spending recorded on {spend.spent_on} moved no money")
    held = ledger_balance(session, fund.account_id)
    if held.posted != agreed - spent - returned or held.debits_pending:
        problems.append(
            f"{name}: holds {held.posted}p, not agreed {agreed}p - spent {spent}p - "
            f"returned {returned}p"
        )
    never_agreed = fund.state in (IsfState.REQUESTED, IsfState.DECLINED) or (
        fund.decided_at is None
    )
    if agreed not in ((0,) if never_agreed else (fund.amount_pence,)):
        problems.append(f"{name}: {agreed}p moved in for a fund of {fund.amount_pence}p")
    if fund.state in (IsfState.CLOSED, IsfState.SUSPENDED, IsfState.DECLINED) and held.posted:
        problems.append(f"{name}: it has ended but still holds {held.posted}p")
    if fund.budget.status is BudgetStatus.CLOSED and fund.state in (
        IsfState.REQUESTED,
        IsfState.AGREED,
    ):
        problems.append(f"{name}: the budget is closed but the fund is still open")
    return problems


def _isf_movements(
    fund: IndividualServiceFund,
    transfers: list[Transfer],
    spends: dict[uuid.UUID, IsfSpend],
    payee: uuid.UUID | None,
) -> tuple[tuple[int, int, int], list[str]]:
    """(agreed, spent, returned) on the fund's account, and what is wrong with its movements;
    takes each spend's row out of `spends` as its transfer is found."""
    name = f"ISF {fund.reference}"
    problems = []
    totals = dict.fromkeys(_ISF_CODES, 0)
    expected = {
        TransferCode.ISF: (fund.stream.account_id, fund.account_id),
        TransferCode.ISF_SPEND: (fund.account_id, payee),
        TransferCode.ISF_RETURN: (fund.account_id, fund.stream.account_id),
    }
    for transfer in transfers:
        key = transfer.idempotency_key
        if transfer.kind is not TransferKind.POSTED or transfer.code not in _ISF_CODES:
            problems.append(f"{name}: unexplained movement {key} ({transfer.code})")
            continue
        code = TransferCode(transfer.code)
        totals[code] += transfer.amount_pence
        if (transfer.debit_account_id, transfer.credit_account_id) != expected[code]:
            problems.append(f"{name}: {transfer.code} between the wrong accounts ({key})")
        if code is TransferCode.ISF_SPEND:
            spend = spends.pop(transfer.id, None)
            if spend is None or spend.amount_pence != transfer.amount_pence:
                problems.append(f"{name}: spending {key} is not as its record says")
    return (
        totals[TransferCode.ISF],
        totals[TransferCode.ISF_SPEND],
        totals[TransferCode.ISF_RETURN],
    ), problems
