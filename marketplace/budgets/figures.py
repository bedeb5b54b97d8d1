"""The figures a person, a council officer and an auditor read: per stream, per budget and
per funder pot, always computed from the ledger's transfers.

For every stream, budget and pot:
allocated = committed + spent + available + returned + carried forward + in ISFs.
"Allocated" is what has been released into the stream so far (plus revisions and money
carried in); what is still to come in later instalments is `scheduled`, beside it, so the
stream's whole amount for the period is allocated + scheduled. What is unspent at the
close either goes back to the funder (or the person), `returned`, or into the next budget,
`carried_forward`: two figures, because the person keeps the second and not the first.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields

from sqlalchemy import or_, select

from marketplace.budgets.models import FunderPot, FundingStream, PersonalBudget
from marketplace.budgets.rules import TransferCode
from marketplace.ledger import Transfer, TransferKind
from marketplace.types import Session

_INTO_ALLOCATED = {
    TransferCode.RELEASE,
    TransferCode.REVISION,
    TransferCode.CARRY_FORWARD,
    TransferCode.ALLOCATION,
    TransferCode.CARD_PAYMENT,
}


@dataclass(frozen=True)
class Figures:
    """Pence, for one stream or summed over several."""

    allocated_pence: int = 0
    committed_pence: int = 0
    spent_pence: int = 0
    available_pence: int = 0
    returned_pence: int = 0  # back to the funder (or the person) at the close
    scheduled_pence: int = 0
    carried_forward_pence: int = 0  # into the next budget at the close
    # ISF: moved into Individual Service Funds (held or spent by their providers), less what
    # came back from them (budgets/isf.py).
    isf_pence: int = 0
    # Movements on a stream's accounts that none of the figures above explains; only a
    # bug or a hand-made transfer puts anything here, and verification reports it.
    unexplained: tuple[str, ...] = field(default=(), compare=False)

    def __add__(self, other: Figures) -> Figures:
        return Figures(
            *(getattr(self, f.name) + getattr(other, f.name) for f in fields(self)[:-1]),
            unexplained=self.unexplained + other.unexplained,
        )

    @property
    def balanced(self) -> bool:
        return self.allocated_pence == (
            self.committed_pence
            + self.spent_pence
            + self.available_pence
            + self.returned_pence
            + self.carried_forward_pence
            + self.isf_pence
        )

    @property
    def gone_at_close_pence(self) -> int:
        """What left the stream when its period closed: returned or carried forward."""
        return self.returned_pence + self.carried_forward_pence


@dataclass(frozen=True)
class BudgetFigures:
    streams: list[tuple[FundingStream, Figures]]

    @property
    def total(self) -> Figures:
        return sum((figures for _, figures in self.streams), Figures())


@dataclass(frozen=True)
class PotFigures:
    """A pot: what its funder gave, what it still holds unallocated, and the figures of every
    stream allocated out of it."""

    given_pence: int
    unallocated_pence: int
    streams: Figures


def stream_figures(session: Session, streams: Sequence[FundingStream]) -> dict[uuid.UUID, Figures]:
    """The figures of each stream, by stream id, from one read of their transfers."""
    accounts = [s.account_id for s in streams] + [s.unreleased_account_id for s in streams]
    transfers = _transfers_touching(session, accounts)
    return {stream.id: figures_of(stream, transfers) for stream in streams}


def budget_figures(session: Session, budget: PersonalBudget) -> BudgetFigures:
    """Each stream's figures, in draw order, and (as `.total`) the budget's."""
    by_stream = stream_figures(session, budget.streams)
    return BudgetFigures([(stream, by_stream[stream.id]) for stream in budget.streams])


def pot_figures(session: Session, pot: FunderPot) -> PotFigures:
    """The pot's own balance and the summed figures of the streams allocated out of it."""
    streams = session.scalars(select(FundingStream).where(FundingStream.pot_id == pot.id)).all()
    total = sum(stream_figures(session, streams).values(), Figures())
    given = unallocated = 0
    for transfer in _posted(_transfers_touching(session, [pot.account_id])):
        inflow = transfer.credit_account_id == pot.account_id
        amount = transfer.amount_pence if inflow else -transfer.amount_pence
        unallocated += amount
        if _original_code(transfer) == TransferCode.FUNDING:
            given += amount
    return PotFigures(given, unallocated, total)


def figures_of(stream: FundingStream, transfers: Iterable[Transfer]) -> Figures:
    """Classify every movement on the stream's two accounts into its figures.

    A reversal counts as the negative of what it reverses, so a refund of a purchase lowers
    `spent` and a reversed release lowers `allocated`.
    """
    counts = {
        "allocated": 0,
        "committed": 0,
        "spent": 0,
        "returned": 0,
        "carried_forward": 0,
        "isf": 0,
    }
    available = scheduled = 0
    unexplained: list[str] = []
    transfers = list(transfers)
    resolved = {t.pending_id for t in transfers if t.pending_id is not None}
    for transfer in transfers:
        touches = {transfer.debit_account_id, transfer.credit_account_id}
        if stream.unreleased_account_id in touches:
            inflow = transfer.credit_account_id == stream.unreleased_account_id
            scheduled += transfer.amount_pence if inflow else -transfer.amount_pence
        if stream.account_id not in touches:
            continue
        if transfer.kind is TransferKind.PENDING:
            if transfer.id not in resolved:
                counts["committed"] += transfer.amount_pence
                available -= transfer.amount_pence
            continue
        if transfer.kind is TransferKind.VOID:
            continue
        inflow = transfer.credit_account_id == stream.account_id
        available += transfer.amount_pence if inflow else -transfer.amount_pence
        figure, amount = _classify(transfer, stream.account_id)
        if figure is None:
            unexplained.append(f"{transfer.idempotency_key} ({transfer.code})")
        else:
            counts[figure] += amount
    return Figures(
        allocated_pence=counts["allocated"],
        committed_pence=counts["committed"],
        spent_pence=counts["spent"],
        available_pence=available,
        returned_pence=counts["returned"],
        scheduled_pence=scheduled,
        carried_forward_pence=counts["carried_forward"],
        isf_pence=counts["isf"],
        unexplained=tuple(unexplained),
    )


def _classify(transfer: Transfer, account_id: uuid.UUID) -> tuple[str | None, int]:
    """Which figure a posted movement on a stream's available account changes, and by how
    much (signed)."""
    if transfer.reverses is not None:
        figure, amount = _classify(transfer.reverses, account_id)
        return figure, -amount
    code = transfer.code
    amount = transfer.amount_pence
    if transfer.credit_account_id == account_id:
        if code == TransferCode.ISF_RETURN:  # ISF: unspent money back from a fund
            return "isf", -amount
        return ("allocated", amount) if code in _INTO_ALLOCATED else (None, amount)
    if code == TransferCode.REVISION:
        return "allocated", -amount
    if code == TransferCode.COMMITMENT:
        return "spent", amount
    if code in (TransferCode.RETURN, TransferCode.CARD_REFUND):
        return "returned", amount
    if code == TransferCode.CARRY_FORWARD:
        return "carried_forward", amount
    if code == TransferCode.ISF:  # ISF: held by a provider as an Individual Service Fund
        return "isf", amount
    return None, amount


def _original_code(transfer: Transfer) -> str:
    return transfer.reverses.code if transfer.reverses is not None else transfer.code


def _posted(transfers: Iterable[Transfer]) -> list[Transfer]:
    """The movements that moved money (posted transfers and the postings of holds)."""
    return [t for t in transfers if t.kind in (TransferKind.POSTED, TransferKind.POST)]


def _transfers_touching(session: Session, account_ids: Sequence[uuid.UUID]) -> list[Transfer]:
    if not account_ids:
        return []
    return list(
        session.scalars(
            select(Transfer).where(
                or_(
                    Transfer.debit_account_id.in_(account_ids),
                    Transfer.credit_account_id.in_(account_ids),
                )
            )
        )
    )


@dataclass(frozen=True)
class Movement:
    """One transfer's part in one of a stream's figures (issue 19, the reconciliation's drill
    down): `figure` is the name of the `Figures` field it counts in (None: unexplained),
    `amount_pence` what it adds to that figure (signed), `available_pence` what it adds to the
    stream's available money (signed). A release is two movements: out of `scheduled` and into
    `allocated`."""

    transfer: Transfer
    figure: str | None
    amount_pence: int
    available_pence: int


def movements_of(stream: FundingStream, transfers: Iterable[Transfer]) -> list[Movement]:
    """Every transfer on the stream's two accounts as the movements `figures_of` counts, by
    the same classification: summed by `figure`, they give each of its figures (`available`
    is the sum of `available_pence`). Holds that were posted or voided, and the voids, count
    in nothing (the posting of a hold counts as spent)."""
    transfers = list(transfers)
    resolved = {t.pending_id for t in transfers if t.pending_id is not None}
    found: list[Movement] = []
    for transfer in transfers:
        touches = {transfer.debit_account_id, transfer.credit_account_id}
        if stream.unreleased_account_id in touches:
            inflow = transfer.credit_account_id == stream.unreleased_account_id
            amount = transfer.amount_pence if inflow else -transfer.amount_pence
            found.append(Movement(transfer, "scheduled_pence", amount, 0))
        if stream.account_id not in touches:
            continue
        if transfer.kind is TransferKind.PENDING:
            if transfer.id not in resolved:
                amount = transfer.amount_pence
                found.append(Movement(transfer, "committed_pence", amount, -amount))
            continue
        if transfer.kind is TransferKind.VOID:
            continue
        inflow = transfer.credit_account_id == stream.account_id
        available = transfer.amount_pence if inflow else -transfer.amount_pence
        figure, amount = _classify(transfer, stream.account_id)
        found.append(
            Movement(transfer, None if figure is None else f"{figure}_pence", amount, available)
        )
    return found


def pot_movements(pot: FunderPot, transfers: Iterable[Transfer]) -> list[Movement]:
    """Every transfer on the pot's account as the movements its figures count, as
    `pot_figures` counts them: `given_pence` (the funder's funding, less its reversals) and
    `unallocated_pence` (every posted movement, signed); for a reablement pot (issue 18), whose
    cycles are held straight from it, also `committed_pence` (holds not yet posted or voided)
    and `spent_pence` (the postings of its holds). `available_pence` is what the pot could
    still give: unallocated less what is held."""
    transfers = list(transfers)
    resolved = {t.pending_id for t in transfers if t.pending_id is not None}
    found: list[Movement] = []
    for transfer in transfers:
        if transfer.kind is TransferKind.PENDING:
            if transfer.id not in resolved and transfer.debit_account_id == pot.account_id:
                amount = transfer.amount_pence
                found.append(Movement(transfer, "committed_pence", amount, -amount))
            continue
        if transfer.kind is TransferKind.VOID:
            continue
        inflow = transfer.credit_account_id == pot.account_id
        amount = transfer.amount_pence if inflow else -transfer.amount_pence
        found.append(Movement(transfer, "unallocated_pence", amount, amount))
        if _original_code(transfer) == TransferCode.FUNDING:
            found.append(Movement(transfer, "given_pence", amount, 0))
        elif transfer.kind is TransferKind.POST:
            found.append(Movement(transfer, "spent_pence", -amount, 0))
    return found
