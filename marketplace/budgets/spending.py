"""Holding money against a budget (`reserve`), then spending or releasing it.

A commitment holds money for a purchase: one pending ledger transfer from each funding stream
it draws on, in draw order, skipping streams whose rules do not allow the category, to the
payee's account. Spending posts them (in part or in full, the rest released); releasing
voids them. The parts share the commitment's idempotency key as their `reference`.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from marketplace import ledger
from marketplace.budgets.allocations import current_status
from marketplace.budgets.errors import BudgetClosed
from marketplace.budgets.models import BudgetStatus, FundingStream, PersonalBudget
from marketplace.budgets.rules import TransferCode
from marketplace.ledger import InsufficientFunds, LedgerAccount, Transfer
from marketplace.types import Session


@dataclass(frozen=True)
class CommitmentPart:
    # None for a part held straight from a funder's pot (a reablement cycle).
    stream: FundingStream | None
    transfer: Transfer

    @property
    def amount_pence(self) -> int:
        return self.transfer.amount_pence


@dataclass(frozen=True)
class Commitment:
    """Money held against a budget for one purchase: its parts, in draw order."""

    key: str
    parts: list[CommitmentPart]

    @property
    def amount_pence(self) -> int:
        return sum(part.amount_pence for part in self.parts)

    @property
    def split(self) -> dict[uuid.UUID, int]:
        """Pence held on each stream, by stream id."""
        return {part.stream.id: part.amount_pence for part in self.parts if part.stream is not None}


def reserve(
    session: Session,
    budget: PersonalBudget,
    *,
    amount_pence: int,
    category_codes: Collection[str],
    payee: LedgerAccount,
    key: str,
    description: str = "",
    split: Mapping[uuid.UUID, int] | None = None,
) -> Commitment:
    """Hold `amount_pence` against the budget for a purchase in `category_codes` (the
    service's taxonomy term and its parent), paid as `paying_shares` decides: the streams in
    draw order, or as `split` says (pence by stream id).

    "Reserve", not "commit": the money is held (a commitment in the ledger's words), and
    nothing here commits the database transaction, which is the caller's.

    Returns the commitment; replaying `key` with the same amount and payee returns the first
    one and records nothing. Raises InsufficientFunds with `shortfall_pence` when the streams
    that allow the category cannot cover it together (nothing is recorded), BudgetClosed,
    InvalidTransfer, IdempotencyConflict.
    """
    ledger.check_amount_pence(amount_pence)
    streams = list(budget.streams)
    # Lock every account the split may touch before reading what is available, so that the
    # split is computed on balances nobody else can change until we commit.
    ledger.lock_accounts(session, [s.account_id for s in streams] + [payee.id])
    earlier = find_commitment(session, budget, key)
    if earlier is not None:
        if earlier.amount_pence != amount_pence or any(
            part.transfer.credit_account_id != payee.id for part in earlier.parts
        ):
            raise ledger.IdempotencyConflict(
                "this idempotency key was used for a different commitment", idempotency_key=key
            )
        return earlier
    if current_status(session, budget.id) is BudgetStatus.CLOSED:
        raise BudgetClosed("this budget's period is closed")
    shares = paying_shares(
        streams, _available(session, streams), amount_pence, category_codes, split
    )
    with ledger.savepoint(session):
        return hold(session, shares, payee=payee, key=key, description=description)


def hold(
    session: Session,
    shares: Sequence[tuple[FundingStream, int]],
    *,
    payee: LedgerAccount,
    key: str,
    description: str = "",
) -> Commitment:
    """Record the commitment's parts for shares already decided (by `paying_shares`, on
    balances read under the budget's account locks, which the caller holds, for an open
    budget): one pending transfer from each stream to the payee. Call it inside a savepoint
    (`ledger.savepoint`), so that a part refused undoes the parts before it."""
    transfers = ledger.transfer_all(
        session,
        [
            ledger.Move(
                key=f"{key}:{index}",
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
    parts = [
        CommitmentPart(stream, made) for (stream, _), made in zip(shares, transfers, strict=True)
    ]
    return Commitment(key, parts)


def hold_part(
    session: Session,
    stream: FundingStream,
    amount_pence: int,
    *,
    payee: LedgerAccount,
    key: str,
    part: str,
    description: str = "",
) -> Transfer:
    """Add a part to the commitment made under `key`, later than the rest: one pending
    transfer from `stream` to the payee, keyed `{key}:{part}` and carrying `key` as its
    reference, so that `find_commitment`, `spend` and `release` treat it as one of the
    commitment's parts (an order's card share, held once the card payment is confirmed).

    Replaying it records nothing more. The caller holds the stream's lock. Raises
    InsufficientFunds (the stream has less available), IdempotencyConflict."""
    return ledger.transfer(
        session,
        key=f"{key}:{part}",
        debit=stream.account_id,
        credit=payee,
        amount_pence=amount_pence,
        code=TransferCode.COMMITMENT,
        description=description,
        reference=key,
        pending=True,
    )


def paying_shares(
    streams: Sequence[FundingStream],
    available: Mapping[uuid.UUID, int],
    amount_pence: int,
    category_codes: Collection[str],
    split: Mapping[uuid.UUID, int] | None = None,
) -> list[tuple[FundingStream, int]]:
    """Which funds pay for a purchase: the one place this is decided, for a quote and for the
    commitment. By default `draw` (each stream that allows the category, in draw order, as
    much as it has); with a chosen `split` (pence by stream id), that split once
    `check_split` allows it. The shares come in draw order, none of them 0.
    Raises InsufficientFunds or InvalidTransfer as those do."""
    if split is None:
        return draw(streams, available, amount_pence, category_codes)
    check_split(streams, available, amount_pence, category_codes, split)
    by_id = {stream.id: stream for stream in streams}
    return [
        (by_id[stream_id], pence)
        for stream_id, pence in sorted(split.items(), key=lambda i: by_id[i[0]].draw_order)
        if pence
    ]


def _available(session: Session, streams: Sequence[FundingStream]) -> dict[uuid.UUID, int]:
    """Pence each stream can commit now, by stream id."""
    balances = ledger.balances(session, [s.account_id for s in streams])
    return {stream.id: balances[stream.account_id].available for stream in streams}


def available_by_stream(session: Session, budget: PersonalBudget) -> dict[uuid.UUID, int]:
    """Pence each of the budget's streams can commit now, by stream id."""
    return _available(session, list(budget.streams))


def draw(
    streams: Sequence[FundingStream],
    available: Mapping[uuid.UUID, int],
    amount_pence: int,
    category_codes: Collection[str],
) -> list[tuple[FundingStream, int]]:
    """How a purchase is paid by default: from each stream that allows its category, in draw
    order, as much as it has. Raises InsufficientFunds when they cannot cover it together."""
    plan: list[tuple[FundingStream, int]] = []
    remaining = amount_pence
    for stream in sorted(streams, key=lambda s: s.draw_order):
        if remaining == 0:
            break
        take = min(remaining, available[stream.id])
        if take > 0 and stream.allows(category_codes):
            plan.append((stream, take))
            remaining -= take
    if remaining:
        raise InsufficientFunds(
            f"the budget is {remaining}p short of {amount_pence}p for this purchase",
            shortfall_pence=remaining,
            requested_pence=amount_pence,
            available_pence=amount_pence - remaining,
        )
    return plan


def check_split(
    streams: Sequence[FundingStream],
    available: Mapping[uuid.UUID, int],
    amount_pence: int,
    category_codes: Collection[str],
    split: Mapping[uuid.UUID, int],
) -> None:
    """Refuse a chosen split that the budget's rules or balances do not allow: a stream not in
    the budget, one whose rules exclude the category, a share that is not whole pence or is
    more than the stream has, or shares that do not add up to the amount."""
    by_id = {stream.id: stream for stream in streams}
    for stream_id, pence in split.items():
        stream = by_id.get(stream_id)
        if stream is None:
            raise ledger.InvalidTransfer("the split names a stream not in this budget")
        if isinstance(pence, bool) or not isinstance(pence, int) or pence < 0:
            raise ledger.InvalidTransfer("each share of the split must be whole pence, 0 or more")
        if pence and not stream.allows(category_codes):
            raise ledger.InvalidTransfer(
                f"the {stream.kind.label} stream cannot pay for this kind of service",
                stream_id=str(stream_id),
            )
        if pence > available[stream_id]:
            raise InsufficientFunds(
                f"the {stream.kind.label} stream has {available[stream_id]}p, not {pence}p",
                shortfall_pence=pence - available[stream_id],
                stream_id=str(stream_id),
            )
    if sum(split.values()) != amount_pence:
        raise ledger.InvalidTransfer(
            f"the split adds up to {sum(split.values())}p, not {amount_pence}p",
            requested_pence=amount_pence,
        )


def find_commitment(session: Session, budget: PersonalBudget, key: str) -> Commitment | None:
    """The commitment made against this budget under `key`, if there is one."""
    streams = {stream.account_id: stream for stream in budget.streams}
    transfers = session.scalars(
        select(Transfer).where(
            Transfer.reference == key,
            Transfer.kind == ledger.TransferKind.PENDING,
            Transfer.debit_account_id.in_(streams),
        )
    ).all()
    if not transfers:
        return None
    parts = [CommitmentPart(streams[t.debit_account_id], t) for t in transfers]
    return Commitment(key, sorted(parts, key=lambda part: _draw_order(part.stream)))


def _draw_order(stream: FundingStream | None) -> int:
    return -1 if stream is None else stream.draw_order


def spend(
    session: Session, commitment: Commitment, *, key: str, amount_pence: int | None = None
) -> list[Transfer]:
    """Turn `amount_pence` (all of it if None) of the commitment into spend, taking it from
    the parts in draw order; what is left of each part is released.

    Returns the resolving transfers. Replaying `key` records nothing more. Raises
    InvalidTransfer (more than is held), AlreadyResolved (spent or released before),
    IdempotencyConflict.
    """
    remaining = commitment.amount_pence if amount_pence is None else amount_pence
    ledger.check_amount_pence(remaining)
    if remaining > commitment.amount_pence:
        raise ledger.InvalidTransfer(
            f"cannot spend {remaining}p of a {commitment.amount_pence}p commitment",
            held_pence=commitment.amount_pence,
        )
    resolutions = []
    with ledger.savepoint(session):
        for index, part in enumerate(commitment.parts):
            spent = min(remaining, part.amount_pence)
            remaining -= spent
            if spent:
                resolutions.append(
                    ledger.post_pending(
                        session, part.transfer, key=f"{key}:{index}", amount_pence=spent
                    )
                )
            else:
                resolutions.append(
                    ledger.void_pending(session, part.transfer, key=f"{key}:{index}")
                )
    return resolutions


def release(session: Session, commitment: Commitment, *, key: str) -> list[Transfer]:
    """Release the whole commitment back to its streams. Returns the voiding transfers.

    Raises AlreadyResolved (spent or released before) and IdempotencyConflict.
    """
    with ledger.savepoint(session):
        return [
            ledger.void_pending(session, part.transfer, key=f"{key}:{index}")
            for index, part in enumerate(commitment.parts)
        ]
