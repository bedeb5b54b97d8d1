"""A budget's statement: every movement of money on its streams, in time order, with a running
balance. The citizen's page, its CSV, the officer's page (and the API) all read these rows, so
the person and the council's auditor always see the same statement.

A line is one ledger transfer touching a stream's available account (docs/ledger.md, "How to
read a statement"). `balance` runs over the money in the streams (posted movements only);
`held` runs over what commitments hold; `available` is balance less held. Filters choose which
lines are shown; the running figures are always those of the whole statement, so a line shows
the same balance however it was found.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from marketplace.budgets.models import FundingStream, PersonalBudget
from marketplace.budgets.rules import TransferCode
from marketplace.formatting import LONDON, pounds
from marketplace.ledger import Transfer, TransferKind
from marketplace.types import Session


@dataclass(frozen=True)
class StatementFilter:
    """Which lines to show: London dates from and to (inclusive), and one stream or all."""

    date_from: date | None = None
    date_to: date | None = None
    stream_id: uuid.UUID | None = None


@dataclass(frozen=True)
class StatementLine:
    """One movement on one stream, and the running figures after it (pence)."""

    transfer_id: uuid.UUID
    at: datetime
    stream: FundingStream
    kind: TransferKind
    code: str
    what: str
    description: str
    reason: str | None
    in_pence: int
    out_pence: int
    held_change_pence: int  # + money set aside for a purchase, - a hold paid or released
    balance_pence: int
    held_pence: int
    # What the money was held for, in the orders' words (issue 18: "Order ORD-1234, cycle 5
    # (4 May to 31 May 2026)"), for a commitment's lines; None when not known.
    purchase: str | None = None

    @property
    def available_pence(self) -> int:
        return self.balance_pence - self.held_pence

    @property
    def on(self) -> date:
        """The day in London it happened."""
        return self.at.astimezone(LONDON).date()


@dataclass(frozen=True)
class Statement:
    """The lines chosen, with the figures just before the first and after the last."""

    budget: PersonalBudget
    streams: list[FundingStream]
    chosen: StatementFilter
    lines: list[StatementLine]
    opening_balance_pence: int
    opening_held_pence: int
    closing_balance_pence: int
    closing_held_pence: int

    @property
    def in_pence(self) -> int:
        return sum(line.in_pence for line in self.lines)

    @property
    def out_pence(self) -> int:
        return sum(line.out_pence for line in self.lines)

    @property
    def opening_available_pence(self) -> int:
        return self.opening_balance_pence - self.opening_held_pence

    @property
    def closing_available_pence(self) -> int:
        return self.closing_balance_pence - self.closing_held_pence


# Given the references of a statement's commitments, what each was held for (the orders know:
# `marketplace.orders.package_periods.purchase_names`, passed in by the pages and the API).
PurchaseNames = Callable[[Collection[str]], Mapping[str, str]]


def budget_statement(
    session: Session,
    budget: PersonalBudget,
    chosen: StatementFilter | None = None,
    *,
    purchase_names: PurchaseNames | None = None,
) -> Statement:
    """The statement of the budget (or of one of its streams) for the chosen dates.

    A `stream_id` that is not one of the budget's streams chooses no stream: the statement is
    empty rather than another budget's. `purchase_names` names what each commitment was for
    (each of its lines' `purchase`).
    """
    chosen = chosen or StatementFilter()
    streams = [s for s in budget.streams if chosen.stream_id in (None, s.id)]
    transfers = _transfers(session, [s.account_id for s in streams])
    references = {ref for t in transfers if (ref := commitment_reference(t)) is not None}
    all_lines = list(
        statement_lines(
            streams,
            transfers,
            carried_to=_carried_to(session, streams, transfers),
            purchases=purchase_names(references) if purchase_names and references else None,
        )
    )
    shown = [line for line in all_lines if _within(line.on, chosen)]
    before = [line for line in all_lines if chosen.date_from and line.on < chosen.date_from]
    after = [line for line in all_lines if not chosen.date_to or line.on <= chosen.date_to]
    opening = before[-1] if before else None
    closing = after[-1] if after else None
    return Statement(
        budget=budget,
        streams=streams,
        chosen=chosen,
        lines=shown,
        opening_balance_pence=opening.balance_pence if opening else 0,
        opening_held_pence=opening.held_pence if opening else 0,
        closing_balance_pence=closing.balance_pence if closing else 0,
        closing_held_pence=closing.held_pence if closing else 0,
    )


def _within(day: date, chosen: StatementFilter) -> bool:
    return (chosen.date_from is None or day >= chosen.date_from) and (
        chosen.date_to is None or day <= chosen.date_to
    )


def _transfers(session: Session, account_ids: Sequence[uuid.UUID]) -> list[Transfer]:
    if not account_ids:
        return []
    return list(
        session.scalars(
            select(Transfer)
            .where(
                or_(
                    Transfer.debit_account_id.in_(account_ids),
                    Transfer.credit_account_id.in_(account_ids),
                )
            )
            # Time order; the key breaks ties the same way every time.
            .order_by(Transfer.created_at, Transfer.idempotency_key)
            .options(selectinload(Transfer.pending), selectinload(Transfer.reverses))
        )
    )


def carried_forward_to(session: Session, budget: PersonalBudget) -> PersonalBudget | None:
    """The budget this one's unspent money was carried forward into at its close, if any."""
    streams = list(budget.streams)
    found = _carried_to(session, streams, _transfers(session, [s.account_id for s in streams]))
    return next(iter(found.values()), None)


def _carried_to(
    session: Session, streams: Sequence[FundingStream], transfers: Iterable[Transfer]
) -> dict[uuid.UUID, PersonalBudget]:
    """The budget each carry forward out of these streams went into, by the account it was
    paid into."""
    ours = {stream.account_id for stream in streams}
    into = {
        t.credit_account_id
        for t in transfers
        if t.code == TransferCode.CARRY_FORWARD and t.debit_account_id in ours
    }
    if not into:
        return {}
    found = session.scalars(
        select(FundingStream)
        .where(FundingStream.account_id.in_(into))
        .options(selectinload(FundingStream.budget))
    )
    return {stream.account_id: stream.budget for stream in found}


def statement_lines(
    streams: Sequence[FundingStream],
    transfers: Iterable[Transfer],
    *,
    carried_to: Mapping[uuid.UUID, PersonalBudget] | None = None,
    purchases: Mapping[str, str] | None = None,
) -> Iterable[StatementLine]:
    """A line for each transfer (in the order given) on each stream's available account, with
    the running balance and held amounts over all of them. `carried_to` names the budget
    money carried forward went into, by the account it was paid into; `purchases` what each
    commitment (by its reference) was held for."""
    by_account = {stream.account_id: stream for stream in streams}
    balance = held = 0
    for transfer in transfers:
        for account_id, sign in (
            (transfer.credit_account_id, 1),
            (transfer.debit_account_id, -1),
        ):
            stream = by_account.get(account_id)
            if stream is None:
                continue
            in_pence, out_pence, held_change = _movement(transfer, sign)
            balance += in_pence - out_pence
            held += held_change
            yield StatementLine(
                transfer_id=transfer.id,
                at=transfer.created_at,
                stream=stream,
                kind=transfer.kind,
                code=transfer.code,
                what=_what(transfer, sign, (carried_to or {}).get(transfer.credit_account_id)),
                description=transfer.description,
                reason=transfer.reason,
                in_pence=in_pence,
                out_pence=out_pence,
                held_change_pence=held_change,
                balance_pence=balance,
                held_pence=held,
                purchase=(purchases or {}).get(commitment_reference(transfer) or ""),
            )


def commitment_reference(transfer: Transfer) -> str | None:
    """The reference of the commitment a transfer belongs to: its own for a hold, its hold's
    for the hold's payment or release, the payment's hold's for a refund; None otherwise."""
    if transfer.code != TransferCode.COMMITMENT:
        return None
    if transfer.reverses is not None:
        transfer = transfer.reverses
    if transfer.pending is not None:
        transfer = transfer.pending
    return transfer.reference


def _movement(transfer: Transfer, sign: int) -> tuple[int, int, int]:
    """(in, out, change in held) for the stream on the `sign` side (+1 credited, -1 debited).

    Holds sit on the debit side only: a stream holds money for a purchase it pays for.
    """
    amount = transfer.amount_pence
    if transfer.kind is TransferKind.PENDING:
        return 0, 0, amount if sign < 0 else 0
    if transfer.kind is TransferKind.VOID:
        return 0, 0, -amount if sign < 0 else 0
    held_change = 0
    if transfer.kind is TransferKind.POST and transfer.pending is not None and sign < 0:
        held_change = -transfer.pending.amount_pence
    return (amount, 0, held_change) if sign > 0 else (0, amount, held_change)


_WORDS: dict[str, str] = {
    TransferCode.RELEASE: "Instalment",
    TransferCode.REVISION: "Budget revised",
    TransferCode.RETURN: "Returned at the end of the period",
    TransferCode.ALLOCATION: "Allocated",
    TransferCode.FUNDING: "Funding",
    TransferCode.CARD_PAYMENT: "Paid in by card",
    TransferCode.CARD_REFUND: "Refunded to your card",
    # ISF: the description names the provider ("Held by Care Co as an Individual Service Fund").
    TransferCode.ISF: "Individual Service Fund",
    TransferCode.ISF_RETURN: "Returned from an Individual Service Fund",
}

# A refund to the card is held on the stream until Stripe confirms it (then posted).
_CARD_REFUND_WORDS: dict[TransferKind, str] = {
    TransferKind.PENDING: "Being refunded to your card",
    TransferKind.VOID: "Refund to your card not made: back in your account",
}


def _what(transfer: Transfer, sign: int, carried_to: PersonalBudget | None = None) -> str:
    """The line in plain words, from the transfer's code and kind (and, for money carried
    forward, the budget it went into)."""
    if transfer.reverses is not None:
        return "Refund" if transfer.code == TransferCode.COMMITMENT else "Correction"
    if transfer.code == TransferCode.COMMITMENT:
        if transfer.kind is TransferKind.PENDING:
            return "Money set aside for a purchase"
        if transfer.kind is TransferKind.VOID:
            return "Money set aside, released"
        held = transfer.pending.amount_pence if transfer.pending is not None else None
        if held is not None and held > transfer.amount_pence:
            return "Paid in part; the rest released"
        return "Paid"
    if transfer.code == TransferCode.CARD_REFUND:
        return _CARD_REFUND_WORDS.get(transfer.kind, "Refunded to your card")
    if transfer.code == TransferCode.CARRY_FORWARD:
        if sign > 0:
            return "Carried forward from the last period"
        if carried_to is not None:
            return f"Carried forward to the budget from {carried_to.starts_on:%-d %B %Y}"
        return "Carried forward to the next period"
    return _WORDS.get(transfer.code, transfer.code)


CSV_HEADER = (
    "date",
    "time",
    "stream",
    "what",
    "description",
    "reason",
    "money_in",
    "money_out",
    "held_change",
    "balance",
    "held",
    "available",
    "transfer_id",
    "purchase",
)


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a reason typed by an officer could start
    with "=")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def statement_csv(statement: Statement) -> str:
    """The statement's lines as CSV (a header row, then a row a line, London dates and times,
    money in pounds with two decimals)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for line in statement.lines:
        local = line.at.astimezone(LONDON)
        writer.writerow(
            (
                local.strftime("%Y-%m-%d"),
                local.strftime("%H:%M:%S"),
                line.stream.kind.value,
                _cell(line.what),
                _cell(line.description),
                _cell(line.reason or ""),
                pounds(line.in_pence, plain=True),
                pounds(line.out_pence, plain=True),
                pounds(line.held_change_pence, plain=True),
                pounds(line.balance_pence, plain=True),
                pounds(line.held_pence, plain=True),
                pounds(line.available_pence, plain=True),
                str(line.transfer_id),
                _cell(line.purchase or ""),
            )
        )
    return out.getvalue()
