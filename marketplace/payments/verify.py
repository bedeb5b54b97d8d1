"""Card payments against the ledger, for `flask ledger verify`.

- the Stripe clearing account has sent into budgets exactly the confirmed card payments less
  what was refunded to cards (it is unguarded and goes negative by that much);
- each confirmed payment was credited once, by the transfer it names, for its own amount,
  from the clearing account;
- every card-payment transfer out of the clearing account belongs to a confirmed payment;
- a payment that was not credited (waiting, failed, mismatched, owed back) moved nothing;
- each refund to a card is held, posted or released as its status says, and each payment's
  refunded and owed-back figures are its refunds' (`payments.refunds.check_card_refunds`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from marketplace.budgets.rules import TransferCode
from marketplace.formatting import pounds
from marketplace.ledger import LedgerAccount, Transfer, TransferKind
from marketplace.payments.models import CLEARING_ACCOUNT_CODE, CardPayment
from marketplace.payments.refunds import check_card_refunds
from marketplace.types import Session


def check_card_payments(session: Session) -> tuple[list[str], int]:
    """Problems found (empty when all is well), and how many card payments were checked."""
    payments = session.scalars(select(CardPayment).order_by(CardPayment.created_at)).all()
    clearing = session.scalars(
        select(LedgerAccount).where(LedgerAccount.code == CLEARING_ACCOUNT_CODE)
    ).first()
    transfers = _touching(session, clearing)
    by_key = {transfer.idempotency_key: transfer for transfer in transfers}
    problems: list[str] = []
    named = set()
    for payment in payments:
        found = _payment_problems(payment, by_key, clearing)
        problems += found.problems
        if found.transfer is not None:
            named.add(found.transfer.id)
    problems += [
        f"transfer {transfer.idempotency_key}: card money credited "
        f"({pounds(transfer.amount_pence)}) for no confirmed card payment"
        for transfer in transfers
        if transfer.code == TransferCode.CARD_PAYMENT and transfer.id not in named
    ]
    confirmed = sum(p.amount_pence for p in payments if p.status.in_ledger)
    refunded = sum(p.refunded_pence for p in payments if p.status.in_ledger)
    sent = sum(
        -t.amount_pence
        if clearing is not None and t.credit_account_id == clearing.id
        else t.amount_pence
        for t in transfers
        if t.kind in (TransferKind.POSTED, TransferKind.POST)
    )
    if sent != confirmed - refunded:
        problems.append(
            f"Stripe clearing account: {pounds(sent)} paid into budgets, but confirmed card "
            f"payments less refunds come to {pounds(confirmed - refunded)} "
            f"({pounds(confirmed)} confirmed, {pounds(refunded)} refunded)"
        )
    problems += check_card_refunds(session)
    return problems, len(payments)


def _touching(session: Session, account: LedgerAccount | None) -> list[Transfer]:
    if account is None:
        return []
    return list(
        session.scalars(
            select(Transfer).where(
                (Transfer.debit_account_id == account.id)
                | (Transfer.credit_account_id == account.id)
            )
        )
    )


@dataclass(frozen=True)
class _Found:
    problems: list[str]
    transfer: Transfer | None


def _payment_problems(
    payment: CardPayment, by_key: dict[str, Transfer], clearing: LedgerAccount | None
) -> _Found:
    """One payment against the transfer it names: a credited one was credited once, for its
    own amount, out of the clearing account; one not credited names no transfer."""
    where = f"card payment {payment.id} ({payment.status.value})"
    if not payment.status.in_ledger:
        if payment.transfer_key is not None:
            return _Found([f"{where}: not credited but names {payment.transfer_key}"], None)
        return _Found([], None)
    made = by_key.get(payment.transfer_key or "")
    if made is None:
        return _Found(
            [
                f"{where}: confirmed for {pounds(payment.amount_pence)} but no transfer from "
                "the Stripe clearing account credited it"
            ],
            None,
        )
    problems = []
    if (
        clearing is None
        or made.debit_account_id != clearing.id
        or made.code != TransferCode.CARD_PAYMENT
        or made.kind is not TransferKind.POSTED
    ):
        problems.append(
            f"{where}: transfer {made.idempotency_key} is not a card payment out of the "
            "Stripe clearing account"
        )
    if made.amount_pence != payment.amount_pence:
        problems.append(
            f"{where}: credited {pounds(made.amount_pence)}, not {pounds(payment.amount_pence)}"
        )
    return _Found(problems, made)
