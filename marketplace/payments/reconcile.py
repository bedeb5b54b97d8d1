"""Reconciliation: Stripe's record of card money against our payments and the ledger.

Stripe's PaymentIntents (each with its latest charge), its charges, refunds and balance
transactions are matched with our `CardPayment` records and the ledger's card-payment
transfers out of the Stripe clearing account. Each disagreement is stored once, by kind
(`payments.mismatches`):

- paid at Stripe but not in the ledger: an intent that succeeded with no credited payment of
  ours, or a charge made outside any PaymentIntent. When the evidence is clear (the intent's
  metadata names our payment, and its amount and currency are ours) the payment is repaired
  through `payments.service.payment_succeeded`, exactly as the webhook would have, and the
  repair is stored, resolved; a payment our record says was credited whose ledger transfer is
  missing is never "repaired": a person has to look;
- in the ledger but not at Stripe: a credited payment whose intent Stripe does not have or has
  not succeeded, a card-payment transfer naming no credited payment, or a refund we recorded
  that Stripe has not made;
- amounts differ: the intent, its charge, its balance transaction, our payment or its
  transfer disagree about how much;
- refunded at Stripe but not here: Stripe refunded more of a payment than we recorded.

Plain rules (no Flask): the session first, flushed, never committed; Stripe only through the
gateway. Running it again stores nothing new; a full run (no `since`) marks resolved the
stored mismatches it no longer finds.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, text

from marketplace import ledger
from marketplace.budgets.rules import TransferCode
from marketplace.formatting import LONDON, pounds
from marketplace.ledger import LedgerAccount, Transfer, TransferKind
from marketplace.ledger.transactions import dialect_name
from marketplace.payments import service
from marketplace.payments.gateway import (
    BalanceTransaction,
    Charge,
    ListedIntent,
    Refund,
    StripeGateway,
)
from marketplace.payments.mismatches import MismatchKind, PaymentMismatch
from marketplace.payments.models import CLEARING_ACCOUNT_CODE, CardPayment
from marketplace.types import Session

NO_LONGER_FOUND = "No longer found by reconciliation: Stripe and our records now agree"


@dataclass(frozen=True)
class Finding:
    """One disagreement as this run found it (stored as a `PaymentMismatch`)."""

    kind: MismatchKind
    detail: str
    payment: CardPayment | None = None
    stripe_object_id: str | None = None
    transfer_key: str | None = None
    stripe_amount_pence: int | None = None
    our_amount_pence: int | None = None
    currency: str = "gbp"

    @property
    def key(self) -> str:
        """What was found, on what (our payment, the Stripe object, the transfer), for which
        amounts: the same disagreement has the same key on every run."""
        return ":".join(
            (
                self.kind.value,
                str(self.payment.id) if self.payment is not None else "-",
                self.stripe_object_id or "-",
                self.transfer_key or "-",
                str(self.stripe_amount_pence),
                str(self.our_amount_pence),
            )
        )


@dataclass
class ReconcileReport:
    """What one run looked at and found. `found`: the mismatches it found (new or stored
    before); `new`: those stored by this run; `repaired`: put right by this run; `closed`:
    stored ones this full run no longer found, now resolved; `unresolved`: every mismatch
    still unresolved after the run (of this run or before)."""

    since: datetime | None
    ran_at: datetime
    checked: Counter[str] = field(default_factory=Counter)
    found: list[PaymentMismatch] = field(default_factory=list)
    new: list[PaymentMismatch] = field(default_factory=list)
    repaired: list[PaymentMismatch] = field(default_factory=list)
    closed: list[PaymentMismatch] = field(default_factory=list)
    unresolved: list[PaymentMismatch] = field(default_factory=list)

    def unresolved_by_kind(self) -> dict[MismatchKind, int]:
        counts = Counter(mismatch.kind for mismatch in self.unresolved)
        return {kind: counts[kind] for kind in MismatchKind}

    @property
    def clean(self) -> bool:
        return not self.unresolved


def reconcile(
    session: Session, gateway: StripeGateway, *, since: datetime | None, now: datetime
) -> ReconcileReport:
    """Match what Stripe holds (created at or after `since`, or everything) with our card
    payments and ledger transfers (made at or after `since`), repair what can be repaired,
    store each mismatch once, and report. Raises StripeUnavailable (before anything is
    changed) when Stripe cannot be read."""
    intents = gateway.list_payment_intents(created_from=since)
    charges = gateway.list_charges(created_from=since)
    refunds = gateway.list_refunds(created_from=since)
    balance = gateway.list_balance_transactions(created_from=since)
    report = ReconcileReport(since=since, ran_at=now)
    report.checked.update(
        intents=len(intents),
        charges=len(charges),
        refunds=len(refunds),
        balance_transactions=len(balance),
    )
    payments = _payments(session, since, {intent.id for intent in intents})
    report.checked["payments"] = len(payments)
    # A payment made before `since` whose intent Stripe made after, or the other way about:
    # our credited payments' intents missing from the list are asked for one by one.
    listed = {intent.id for intent in intents}
    for payment in payments:
        intent_id = payment.stripe_payment_intent_id
        if payment.status.in_ledger and intent_id is not None and intent_id not in listed:
            found = gateway.find_payment_intent(intent_id)
            if found is not None:
                intents.append(found)
                listed.add(found.id)
    matcher = _Matcher(session, now, payments, refunds, balance)
    for intent in intents:
        matcher.intent(intent)
    for payment in payments:
        matcher.unmatched_payment(payment)
    for charge in charges:
        matcher.loose_charge(charge)
    matcher.unnamed_transfers(since)
    _store(session, report, matcher.findings, matcher.repairs, full_run=since is None, now=now)
    return report


def _payments(session: Session, since: datetime | None, intent_ids: set[str]) -> list[CardPayment]:
    """Our card payments in the run: made since `since`, or paying one of Stripe's intents."""
    query = select(CardPayment)
    if since is not None:
        query = query.where(
            (CardPayment.created_at >= since)
            | CardPayment.stripe_payment_intent_id.in_(sorted(intent_ids))
        )
    return list(session.scalars(query.order_by(CardPayment.created_at, CardPayment.id)))


class _Matcher:
    """Works through Stripe's objects against our records, collecting findings."""

    def __init__(
        self,
        session: Session,
        now: datetime,
        payments: list[CardPayment],
        refunds: list[Refund],
        balance: list[BalanceTransaction],
    ) -> None:
        self.session = session
        self.now = now
        self.payments = payments
        self.by_intent = {
            p.stripe_payment_intent_id: p for p in payments if p.stripe_payment_intent_id
        }
        self.by_id = {p.id: p for p in payments}
        # A refund counts once Stripe says it succeeded, as our records count it; a pending
        # one is in the charge's amount_refunded already, so it is taken off that too.
        self.refunded_by_charge: dict[str, int] = defaultdict(int)
        self.pending_by_charge: dict[str, int] = defaultdict(int)
        for refund in refunds:
            if refund.charge_id is None:
                continue
            if refund.status == "succeeded":
                self.refunded_by_charge[refund.charge_id] += refund.amount_pence
            elif refund.status == "pending":
                self.pending_by_charge[refund.charge_id] += refund.amount_pence
        self.balance_by_source = {b.source_id: b for b in balance if b.source_id}
        self.clearing = session.scalars(
            select(LedgerAccount).where(LedgerAccount.code == CLEARING_ACCOUNT_CODE)
        ).first()
        self.findings: list[Finding] = []
        self.repairs: list[tuple[Finding, str]] = []
        self.matched: set[uuid.UUID] = set()

    def intent(self, intent: ListedIntent) -> None:
        payment = self._payment_of(intent)
        if payment is not None:
            self.matched.add(payment.id)
        if intent.status != "succeeded":
            if payment is not None and payment.status.in_ledger:
                self._find(
                    MismatchKind.IN_LEDGER_NOT_AT_STRIPE,
                    f"Credited here, but Stripe's PaymentIntent {intent.id} is "
                    f"{intent.status.replace('_', ' ')}",
                    payment=payment,
                    stripe_object_id=intent.id,
                    our_amount_pence=payment.amount_pence,
                )
            return
        if payment is None:
            named = self._named_elsewhere(intent)
            self._find(
                MismatchKind.PAID_NOT_IN_LEDGER,
                f"Stripe took {pounds(intent.amount_pence)} (PaymentIntent {intent.id}) for "
                + (
                    "no card payment of ours"
                    if named is None
                    else f"card payment {named.id}, which PaymentIntent "
                    f"{named.stripe_payment_intent_id} paid: charged twice?"
                ),
                payment=named,
                stripe_object_id=intent.id,
                stripe_amount_pence=intent.amount_pence,
                currency=intent.currency,
            )
            return
        if intent.amount_pence != payment.amount_pence or intent.currency != payment.currency:
            self._find(
                MismatchKind.AMOUNTS_DIFFER,
                f"Stripe took {intent.currency.upper()} {pounds(intent.amount_pence)}; our "
                f"payment is for {payment.currency.upper()} {pounds(payment.amount_pence)}",
                payment=payment,
                stripe_object_id=intent.id,
                stripe_amount_pence=intent.amount_pence,
                our_amount_pence=payment.amount_pence,
                currency=intent.currency,
            )
            return
        if not payment.status.settled:
            self._repair(intent, payment)
            return
        if payment.status.in_ledger:
            self._credited(intent, payment)
        self._refunds(intent, payment)

    def _payment_of(self, intent: ListedIntent) -> CardPayment | None:
        """Ours by the intent's id, else the payment its metadata names (if that payment is
        tied to no other intent)."""
        found = self.by_intent.get(intent.id)
        if found is not None:
            return found
        try:
            named = uuid.UUID(intent.metadata.get("card_payment_id", ""))
        except ValueError:
            return None
        payment = self.by_id.get(named) or self.session.get(CardPayment, named)
        if payment is None or payment.stripe_payment_intent_id not in (None, intent.id):
            return None
        return payment

    def _named_elsewhere(self, intent: ListedIntent) -> CardPayment | None:
        """The payment of ours the intent's metadata names, when another intent paid it."""
        try:
            named = uuid.UUID(intent.metadata.get("card_payment_id", ""))
        except ValueError:
            return None
        return self.by_id.get(named) or self.session.get(CardPayment, named)

    def _repair(self, intent: ListedIntent, payment: CardPayment) -> None:
        """Stripe says it succeeded; we never took its word. With clear evidence (the intent
        names this payment, amount and currency ours) take it now, as the webhook would."""
        finding = Finding(
            MismatchKind.PAID_NOT_IN_LEDGER,
            f"Stripe took {pounds(intent.amount_pence)} (PaymentIntent {intent.id}); our "
            f"payment was still {payment.status.label.lower()}",
            payment=payment,
            stripe_object_id=intent.id,
            stripe_amount_pence=intent.amount_pence,
            our_amount_pence=payment.amount_pence,
            currency=intent.currency,
        )
        if intent.metadata.get("card_payment_id") != str(payment.id):
            self.findings.append(finding)
            return
        outcome = service.payment_succeeded(
            self.session,
            intent_id=intent.id,
            amount_pence=intent.amount_pence,
            currency=intent.currency,
            metadata=intent.metadata,
            now=self.now,
        )
        if outcome.result is service.Result.CREDITED:
            self.repairs.append(
                (finding, "Repaired by reconciliation: credited from Stripe's record")
            )
        elif outcome.result is service.Result.REFUND_DUE:
            self.repairs.append(
                (
                    finding,
                    "Repaired by reconciliation: recorded as paid; the order was no longer "
                    "waiting, so the money is owed back to the card",
                )
            )
        elif outcome.result is not service.Result.ALREADY:
            self.findings.append(finding)
        # ALREADY: the webhook took it meanwhile, so there is nothing to find.

    def _credited(self, intent: ListedIntent, payment: CardPayment) -> None:
        """A payment we credited: its transfer is there, and every amount agrees."""
        transfer = self._transfer(payment.transfer_key)
        if transfer is None:
            self._find(
                MismatchKind.PAID_NOT_IN_LEDGER,
                f"Stripe took {pounds(intent.amount_pence)} and our payment says it was "
                f"credited, but the ledger has no transfer {payment.transfer_key}",
                payment=payment,
                stripe_object_id=intent.id,
                transfer_key=payment.transfer_key,
                stripe_amount_pence=intent.amount_pence,
                currency=intent.currency,
            )
            return
        differ = []
        if transfer.amount_pence != intent.amount_pence:
            differ.append(f"the ledger credited {pounds(transfer.amount_pence)}")
        charge = intent.charge
        if charge is not None and charge.amount_pence != intent.amount_pence:
            differ.append(f"its charge {charge.id} is for {pounds(charge.amount_pence)}")
        moved = self.balance_by_source.get(charge.id) if charge is not None else None
        if moved is not None and moved.amount_pence != intent.amount_pence:
            differ.append(f"Stripe's balance moved {pounds(moved.amount_pence)}")
        if differ:
            self._find(
                MismatchKind.AMOUNTS_DIFFER,
                f"Stripe's PaymentIntent {intent.id} took {pounds(intent.amount_pence)}, but "
                + "; ".join(differ),
                payment=payment,
                stripe_object_id=intent.id,
                transfer_key=transfer.idempotency_key,
                stripe_amount_pence=intent.amount_pence,
                our_amount_pence=transfer.amount_pence,
                currency=intent.currency,
            )

    def _refunds(self, intent: ListedIntent, payment: CardPayment) -> None:
        charge = intent.charge
        if charge is None:
            return
        # The listed refunds, or (for refunds made before `since`, not listed) the charge's
        # own total less what is still pending.
        at_stripe = max(
            self.refunded_by_charge.get(charge.id, 0),
            charge.refunded_pence - self.pending_by_charge.get(charge.id, 0),
        )
        if at_stripe > payment.refunded_pence:
            self._find(
                MismatchKind.REFUNDED_NOT_HERE,
                f"Stripe refunded {pounds(at_stripe)} of charge {charge.id}; we recorded "
                f"{pounds(payment.refunded_pence)}",
                payment=payment,
                stripe_object_id=charge.id,
                stripe_amount_pence=at_stripe,
                our_amount_pence=payment.refunded_pence,
                currency=charge.currency,
            )
        elif at_stripe < payment.refunded_pence:
            self._find(
                MismatchKind.IN_LEDGER_NOT_AT_STRIPE,
                f"We recorded {pounds(payment.refunded_pence)} refunded, but Stripe refunded "
                f"{pounds(at_stripe)} of charge {charge.id}",
                payment=payment,
                stripe_object_id=charge.id,
                stripe_amount_pence=at_stripe,
                our_amount_pence=payment.refunded_pence,
                currency=charge.currency,
            )

    def unmatched_payment(self, payment: CardPayment) -> None:
        """A payment we credited that no intent at Stripe answers for."""
        if payment.id in self.matched or not payment.status.in_ledger:
            return
        where = (
            f"Stripe has no PaymentIntent {payment.stripe_payment_intent_id}"
            if payment.stripe_payment_intent_id
            else "it names no PaymentIntent"
        )
        self._find(
            MismatchKind.IN_LEDGER_NOT_AT_STRIPE,
            f"Credited here for {pounds(payment.amount_pence)}, but {where}",
            payment=payment,
            stripe_object_id=payment.stripe_payment_intent_id,
            transfer_key=payment.transfer_key,
            our_amount_pence=payment.amount_pence,
        )

    def loose_charge(self, charge: Charge) -> None:
        """A charge Stripe made outside any PaymentIntent: money no payment of ours asked for.
        (A charge of an intent is judged with its intent.)"""
        if charge.intent_id is not None or charge.status != "succeeded":
            return
        self._find(
            MismatchKind.PAID_NOT_IN_LEDGER,
            f"Stripe charged {pounds(charge.amount_pence)} (charge {charge.id}) outside any "
            "PaymentIntent: no payment of ours",
            stripe_object_id=charge.id,
            stripe_amount_pence=charge.amount_pence,
            currency=charge.currency,
        )

    def unnamed_transfers(self, since: datetime | None) -> None:
        """Card money in the ledger that no credited payment of ours names."""
        if self.clearing is None:
            return
        query = select(Transfer).where(
            Transfer.debit_account_id == self.clearing.id,
            Transfer.code == TransferCode.CARD_PAYMENT.value,
            Transfer.kind == TransferKind.POSTED,
        )
        if since is not None:
            query = query.where(Transfer.created_at >= since)
        named = set(
            self.session.scalars(
                select(CardPayment.transfer_key).where(CardPayment.transfer_key.is_not(None))
            )
        )
        for transfer in self.session.scalars(query.order_by(Transfer.created_at, Transfer.id)):
            if transfer.idempotency_key not in named:
                self._find(
                    MismatchKind.IN_LEDGER_NOT_AT_STRIPE,
                    f"The ledger credited {pounds(transfer.amount_pence)} of card money "
                    f"({transfer.idempotency_key}) that no card payment of ours names",
                    transfer_key=transfer.idempotency_key,
                    our_amount_pence=transfer.amount_pence,
                )

    def _transfer(self, key: str | None) -> Transfer | None:
        if key is None:
            return None
        return self.session.scalars(select(Transfer).where(Transfer.idempotency_key == key)).first()

    def _find(self, kind: MismatchKind, detail: str, **facts: object) -> None:
        self.findings.append(Finding(kind, detail, **facts))  # type: ignore[arg-type]


def _store(
    session: Session,
    report: ReconcileReport,
    findings: list[Finding],
    repairs: list[tuple[Finding, str]],
    *,
    full_run: bool,
    now: datetime,
) -> None:
    """Each finding stored once (by its key); repairs stored resolved; on a full run, stored
    mismatches no longer found are resolved."""
    _lock_mismatches(session)
    stored = {m.key: m for m in session.scalars(select(PaymentMismatch))}
    seen: set[str] = set()
    for finding, resolution in [(f, None) for f in findings] + list(repairs):
        if finding.key in seen:
            continue
        seen.add(finding.key)
        mismatch = stored.get(finding.key)
        if mismatch is None:
            mismatch = PaymentMismatch(
                key=finding.key,
                kind=finding.kind,
                card_payment_id=finding.payment.id if finding.payment is not None else None,
                stripe_object_id=finding.stripe_object_id,
                transfer_key=finding.transfer_key,
                stripe_amount_pence=finding.stripe_amount_pence,
                our_amount_pence=finding.our_amount_pence,
                currency=finding.currency,
                detail=finding.detail,
                found_at=now,
            )
            if resolution is not None:
                mismatch.resolved_at = now
                mismatch.resolution = resolution
                mismatch.repaired = True
            session.add(mismatch)
            stored[finding.key] = mismatch
            report.new.append(mismatch)
        if resolution is not None:
            report.repaired.append(mismatch)
        else:
            report.found.append(mismatch)
    if full_run:
        for key, mismatch in stored.items():
            if key not in seen and mismatch.resolved_at is None:
                mismatch.resolved_at = now
                mismatch.resolution = NO_LONGER_FOUND
                report.closed.append(mismatch)
    session.flush()
    report.unresolved = [m for m in stored.values() if m.resolved_at is None]
    order = list(MismatchKind)
    report.unresolved.sort(key=lambda m: (order.index(m.kind), m.found_at, m.key))


def _lock_mismatches(session: Session) -> None:
    """Hold the mismatches table against other runs until this transaction ends, so that two
    runs at once store a mismatch once: the second reads what the first committed. SQLite:
    the write lock; PostgreSQL: a table lock that conflicts with itself (and with an officer
    resolving one meanwhile, who waits) but not with reading."""
    ledger.begin_immediate(session)
    if dialect_name(session) == "postgresql":
        session.execute(text("LOCK TABLE payment_mismatches IN SHARE ROW EXCLUSIVE MODE"))


CSV_HEADER = (
    "kind",
    "found_at",
    "card_payment_id",
    "order_reference",
    "stripe_object_id",
    "transfer_key",
    "stripe_amount",
    "our_amount",
    "currency",
    "detail",
    "resolved_at",
    "resolved_by",
    "resolution",
)


def _cell(text: str) -> str:
    """Text a spreadsheet will not run as a formula (a reason typed by an officer could start
    with "=")."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _when(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone(LONDON).strftime("%Y-%m-%d %H:%M:%S")


def mismatches_csv(mismatches: Iterable[PaymentMismatch]) -> str:
    """The mismatches as CSV: a header row, then one a row (London times, pounds with two
    decimals, empty where a side has no amount)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for m in mismatches:
        payment = m.card_payment
        order = payment.order if payment is not None else None
        writer.writerow(
            (
                m.kind.value,
                _when(m.found_at),
                str(m.card_payment_id or ""),
                order.reference if order is not None else "",
                m.stripe_object_id or "",
                m.transfer_key or "",
                "" if m.stripe_amount_pence is None else pounds(m.stripe_amount_pence, plain=True),
                "" if m.our_amount_pence is None else pounds(m.our_amount_pence, plain=True),
                m.currency,
                _cell(m.detail),
                _when(m.resolved_at),
                _cell(m.resolver_name),
                _cell(m.resolution),
            )
        )
    return out.getvalue()
