"""Refunds to the card: unspent card money owed back, asked of Stripe, recorded on its word.

When an order's money is released (declined, cancelled, refused, or a cycle settled for less
than it held), the card's part of what comes back is owed back to the card: `owe_for_release`
records a `CardRefund` (which payment, how much, why, a key naming the release) and holds
the amount on the person's own-funds stream (a pending `card_refund` transfer to the Stripe
clearing account), in the release's own transaction, so nobody spends it meanwhile. A card
payment Stripe took for an order that was no longer waiting never entered a budget
(`CardPaymentStatus.REFUND_DUE`): `owe_uncredited` records its refund, with no hold.

Which money is card money (docs/payments.md, "Refunds"): the card pays last, so it is also
the last money spent. Of what a release gives back, the own-funds stream's share is card
money up to what the order's confirmed card payments brought in and is not already owed or
refunded; anything else in the stream (money the council allocated there, a top-up the
person paid in for no order in particular) stays in it.

Issuing (`issue_owed_refunds`, run by `flask payments refunds`): each owed refund is claimed
by one worker (a conditional UPDATE, committed), then Stripe is asked for a partial refund of
the PaymentIntent with an idempotency key derived from the refund's id, so a retry never
refunds twice. Stripe's answer or its webhook events (`refund.created`, `refund.updated`,
`charge.refunded`) confirm it: only then is the hold posted (the ledger records the refund),
the payment's figures changed and the person told; each confirmation is taken once. Stripe
unreachable: the refund goes back to owed and is asked again next time; the ledger is not
touched.

Plain rules: no Flask; each takes the session first, flushes and never commits, except
`issue_owed_refunds`, which commits through the `commit` it is given (between asking Stripe
and recording its answer, nothing may be held open).
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    Uuid,
    and_,
    or_,
    select,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import ledger
from marketplace.budgets.own_funds import own_funds_stream
from marketplace.budgets.rules import TransferCode
from marketplace.extensions import Model
from marketplace.formatting import pounds
from marketplace.ledger import Transfer, TransferKind
from marketplace.ledger.transactions import dialect_name
from marketplace.notifications.models import NotificationKind
from marketplace.orders import events as order_events
from marketplace.orders.locks import lock_order
from marketplace.orders.models import Order
from marketplace.payments.errors import PaymentGatewayError
from marketplace.payments.gateway import RefundResult, StripeGateway
from marketplace.payments.models import CardPayment, CardPaymentStatus
from marketplace.payments.service import clearing_account
from marketplace.types import Session, UTCDateTime, string_enum, utcnow

# A worker that claimed a refund and was not heard of again for this long died mid-way: the
# refund is asked again, with the same idempotency key (Stripe answers with the same refund).
STALE_CLAIM = timedelta(minutes=10)


class RefundStatus(enum.StrEnum):
    OWED = "owed"  # recorded; Stripe not asked yet, or not reachable when asked
    ISSUING = "issuing"  # a worker is asking Stripe now
    PENDING = "pending"  # Stripe took the request; its final word is to come
    SUCCEEDED = "succeeded"  # Stripe confirmed it: the ledger has it
    FAILED = "failed"  # Stripe says it failed: the money stays in the stream

    @property
    def label(self) -> str:
        return {
            "owed": "To be refunded",
            "issuing": "Being refunded",
            "pending": "Being refunded",
            "succeeded": "Refunded",
            "failed": "Refund failed",
        }[self.value]

    @property
    def open(self) -> bool:
        """Still owed: Stripe has not given its final word."""
        return self in (RefundStatus.OWED, RefundStatus.ISSUING, RefundStatus.PENDING)


class RefundReason(enum.StrEnum):
    DECLINED = "declined"
    CANCELLED = "cancelled"
    REFUSED = "refused"
    SETTLED_LESS = "settled_less"  # a cycle delivered (and invoiced) less than it held
    ORDER_GONE = "order_gone"  # paid for an order no longer waiting: never credited

    @property
    def label(self) -> str:
        return {
            "declined": "The provider declined the order",
            "cancelled": "The order was cancelled",
            "refused": "The council did not approve the order",
            "settled_less": "Less was delivered than was paid for",
            "order_gone": "The order was cancelled before the payment arrived",
        }[self.value]


# What each release (orders.hooks' `why`) is, as a refund's reason.
_REASONS = {
    "declined": RefundReason.DECLINED,
    "cancelled": RefundReason.CANCELLED,
    "refused": RefundReason.REFUSED,
    "expired": RefundReason.CANCELLED,
    "settled": RefundReason.SETTLED_LESS,
}


class CardRefund(Model):
    """Card money owed back to one card payment, and what Stripe said about it."""

    __tablename__ = "card_refunds"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    card_payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card_payments.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[RefundReason] = mapped_column(string_enum(RefundReason, "card_refund_reason"))
    status: Mapped[RefundStatus] = mapped_column(
        string_enum(RefundStatus, "card_refund_status"), default=RefundStatus.OWED, index=True
    )
    # What made it owed (the release), so the same release cannot owe it twice.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    # Derived from our id: a retried request to Stripe cannot refund twice.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    stripe_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The pending transfer holding the money on the own-funds stream (None: never credited),
    # and its posting once Stripe confirmed.
    hold_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    transfer_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    payment: Mapped[CardPayment] = relationship()
    order: Mapped[Order | None] = relationship()


def refund_idempotency_key(refund_id: uuid.UUID) -> str:
    return f"card-refund-{refund_id}"


class RefundOutcomeKind(enum.StrEnum):
    CONFIRMED = "refund_confirmed"  # Stripe confirmed it: recorded in the ledger now
    PENDING = "refund_pending"  # Stripe took it; not final yet
    FAILED = "refund_failed"  # Stripe says it failed: the hold released
    ALREADY = "refund_already"  # Stripe's word on it was taken before: nothing changed
    DIFFERS = "refund_differs"  # an amount other than ours: not recorded, for finance
    NOT_OURS = "refund_not_ours"  # no refund of ours (one made by hand at Stripe, say)


@dataclass(frozen=True)
class RefundOutcome:
    result: RefundOutcomeKind
    refunds: tuple[CardRefund, ...] = ()


# -- Owing -------------------------------------------------------------------------------------


def owe_for_release(session: Session, order: Order, why: str) -> list[CardRefund]:
    """After some of the order's held money was released (`why`: declined, cancelled,
    refused, expired, settled), owe back to the card what of it is card money: the own-funds
    stream's share of everything the order released so far, up to what the order's confirmed
    card payments brought in, less what was owed before. Held on the stream at once (a
    pending transfer to the clearing account), recorded in the ledger only when Stripe
    confirms. Safe to call again: nothing more is owed for money already owed.

    The caller holds the order's lock (every order step does). Returns the refunds it made.
    """
    payments = [
        p
        for p in session.scalars(
            # The order's card share paid at once, or cycle by cycle (a recurring order's
            # charges to a saved card): a top-up names no order.
            select(CardPayment)
            .where(CardPayment.order_id == order.id)
            .order_by(CardPayment.created_at.desc(), CardPayment.id)
        )
        if p.status.in_ledger and p.transfer_key is not None
    ]
    if not payments:
        return []
    stream = None if order.budget is None else own_funds_stream(order.budget)
    if stream is None:
        return []
    lock_order(session, order)
    for payment in payments:
        _lock(session, CardPayment, payment)
    released = _released_from(session, order, stream.account_id)
    brought_in = sum(p.amount_pence for p in payments)
    owed_before = sum(
        session.scalars(select(CardRefund.amount_pence).where(CardRefund.order_id == order.id))
    )
    due = min(released, brought_in) - owed_before
    if due <= 0:
        return []
    clearing = clearing_account(session)
    ledger.lock_accounts(session, [stream.account_id, clearing.id])
    # Never more than the stream has free: what was released is there, unless spent since.
    due = min(due, ledger.balance(session, stream.account_id).available)
    made = []
    reason = _REASONS.get(why, RefundReason.CANCELLED)
    for payment in payments:
        room = payment.amount_pence - payment.refunded_pence - payment.refund_due_pence
        amount = min(room, due)
        if amount <= 0:
            continue
        due -= amount
        owed_before += amount
        refund_id = uuid.uuid4()
        refund = CardRefund(
            id=refund_id,
            card_payment_id=payment.id,
            order_id=order.id,
            person_id=order.person_id,
            amount_pence=amount,
            reason=reason,
            status=RefundStatus.OWED,
            key=f"order:{order.id}:card-refunds-to:{owed_before}",
            idempotency_key=refund_idempotency_key(refund_id),
            hold_key=f"card-refund:{refund_id}:hold",
        )
        session.add(refund)
        ledger.transfer(
            session,
            key=refund.hold_key or "",
            debit=stream.account_id,
            credit=clearing,
            amount_pence=amount,
            code=TransferCode.CARD_REFUND,
            description=f"Order {order.reference}: back to your card",
            reference=f"card-refund:{refund_id}",
            pending=True,
        )
        payment.refund_due_pence += amount
        order_events.record(
            session,
            order,
            "card_refund_owed",
            by=None,
            amount_pence=amount,
            refund=str(refund_id),
            reason=reason.value,
        )
        made.append(refund)
    session.flush()
    return made


def _released_from(session: Session, order: Order, account_id: uuid.UUID) -> int:
    """What the order's commitments held on the account and gave back (voided, or left over
    when a cycle was paid in part)."""
    keys = [cycle.commitment_key for cycle in order.cycles]
    if not keys:
        return 0
    held = session.scalars(
        select(Transfer).where(
            Transfer.reference.in_(keys),
            Transfer.kind == TransferKind.PENDING,
            Transfer.debit_account_id == account_id,
        )
    ).all()
    released = 0
    for part in held:
        resolution = part.resolution
        if resolution is None:
            continue
        if resolution.kind is TransferKind.VOID:
            released += part.amount_pence
        elif resolution.kind is TransferKind.POST:
            released += part.amount_pence - resolution.amount_pence
    return released


def owe_uncredited(session: Session) -> list[CardRefund]:
    """A refund for each payment Stripe took for an order no longer waiting (REFUND_DUE: its
    money never entered a budget, so nothing is held) that has none yet."""
    due = session.scalars(
        select(CardPayment)
        .where(CardPayment.status == CardPaymentStatus.REFUND_DUE)
        .where(~select(CardRefund.id).where(CardRefund.card_payment_id == CardPayment.id).exists())
        .order_by(CardPayment.created_at, CardPayment.id)
    ).all()
    made = []
    for payment in due:
        if payment.order is not None:
            lock_order(session, payment.order)
        _lock(session, CardPayment, payment)
        key = f"payment:{payment.id}:not-credited"
        if payment.status is not CardPaymentStatus.REFUND_DUE or session.scalar(
            select(CardRefund.id).where(CardRefund.key == key)
        ):
            continue
        refund_id = uuid.uuid4()
        refund = CardRefund(
            id=refund_id,
            card_payment_id=payment.id,
            order_id=payment.order_id,
            person_id=payment.person_id,
            amount_pence=payment.refund_due_pence or payment.amount_pence,
            reason=RefundReason.ORDER_GONE,
            status=RefundStatus.OWED,
            key=key,
            idempotency_key=refund_idempotency_key(refund_id),
            hold_key=None,
        )
        session.add(refund)
        if payment.order is not None:
            order_events.record(
                session,
                payment.order,
                "card_refund_owed",
                by=None,
                amount_pence=refund.amount_pence,
                refund=str(refund_id),
                reason=RefundReason.ORDER_GONE.value,
            )
        made.append(refund)
    session.flush()
    return made


# -- Stripe's word -----------------------------------------------------------------------------


def refund_succeeded(
    session: Session,
    *,
    stripe_refund_id: str,
    amount_pence: int,
    metadata: Mapping[str, str],
    now: datetime | None = None,
) -> RefundOutcome:
    """Take Stripe's word that a refund succeeded, once: the hold is posted (own-funds stream
    back to the clearing account), the payment's refunded figure grows, the order's timeline
    says so and the person is told. A second (or tenth) confirmation changes nothing; so
    does one that comes after a pending or a failed word was taken the other way round
    (Stripe's success is final). An amount other than ours is not recorded (DIFFERS)."""
    now = now or utcnow()
    refund = _find(session, stripe_refund_id, metadata)
    if refund is None:
        return RefundOutcome(RefundOutcomeKind.NOT_OURS)
    _lock_refund(session, refund)
    if refund.status is RefundStatus.SUCCEEDED:
        return RefundOutcome(RefundOutcomeKind.ALREADY, (refund,))
    if amount_pence != refund.amount_pence:
        refund.last_error = f"Stripe says it refunded {pounds(amount_pence)}"[:1000]
        session.flush()
        return RefundOutcome(RefundOutcomeKind.DIFFERS, (refund,))
    payment = refund.payment
    if refund.status is RefundStatus.FAILED:
        # A failure was taken first (events out of order): the hold was released; take it
        # again if the stream still has the money, so the ledger agrees with Stripe.
        _hold_again(session, refund)
    else:
        payment.refund_due_pence = max(0, payment.refund_due_pence - refund.amount_pence)
    refund.stripe_refund_id = refund.stripe_refund_id or stripe_refund_id
    refund.status = RefundStatus.SUCCEEDED
    refund.confirmed_at = now
    refund.last_error = ""
    if refund.hold_key is not None:
        hold = ledger.find_transfer(session, refund.hold_key)
        assert hold is not None  # made with the refund
        refund.transfer_key = f"card-refund:{refund.id}:confirmed"
        ledger.post_pending(session, hold, key=refund.transfer_key)
    payment.refunded_pence += refund.amount_pence
    if payment.status.in_ledger:
        payment.status = (
            CardPaymentStatus.REFUNDED
            if payment.refunded_pence >= payment.amount_pence
            else CardPaymentStatus.PARTLY_REFUNDED
        )
    elif payment.status is CardPaymentStatus.REFUND_DUE:
        payment.refund_due_pence = max(0, payment.amount_pence - payment.refunded_pence)
    order = refund.order
    if order is not None:
        order_events.record(
            session,
            order,
            "card_refunded",
            by=None,
            amount_pence=refund.amount_pence,
            refund=str(refund.id),
        )
        order_events.tell_person(
            session,
            order,
            NotificationKind.CARD_REFUNDED,
            f"Order {order.reference}: {pounds(refund.amount_pence)} refunded to your card",
        )
    session.flush()
    return RefundOutcome(RefundOutcomeKind.CONFIRMED, (refund,))


def refund_pending(
    session: Session, *, stripe_refund_id: str, metadata: Mapping[str, str]
) -> RefundOutcome:
    """Stripe took the refund but has not finished it: note its id. Changes nothing once
    Stripe's final word was taken."""
    refund = _find(session, stripe_refund_id, metadata)
    if refund is None:
        return RefundOutcome(RefundOutcomeKind.NOT_OURS)
    _lock_refund(session, refund)
    if refund.status not in (RefundStatus.OWED, RefundStatus.ISSUING):
        return RefundOutcome(RefundOutcomeKind.ALREADY, (refund,))
    refund.stripe_refund_id = refund.stripe_refund_id or stripe_refund_id
    refund.status = RefundStatus.PENDING
    session.flush()
    return RefundOutcome(RefundOutcomeKind.PENDING, (refund,))


def refund_failed(
    session: Session, *, stripe_refund_id: str, reason: str, metadata: Mapping[str, str]
) -> RefundOutcome:
    """Stripe says the refund failed: the hold is released (the money stays in the person's
    stream) and the refund is FAILED, for finance to look at. After a success it changes
    nothing."""
    refund = _find(session, stripe_refund_id, metadata)
    if refund is None:
        return RefundOutcome(RefundOutcomeKind.NOT_OURS)
    _lock_refund(session, refund)
    if not refund.status.open:
        return RefundOutcome(RefundOutcomeKind.ALREADY, (refund,))
    refund.stripe_refund_id = refund.stripe_refund_id or stripe_refund_id
    refund.status = RefundStatus.FAILED
    refund.last_error = reason[:1000]
    payment = refund.payment
    if refund.hold_key is not None:
        hold = ledger.find_transfer(session, refund.hold_key)
        assert hold is not None
        ledger.void_pending(session, hold, key=f"card-refund:{refund.id}:failed")
        payment.refund_due_pence = max(0, payment.refund_due_pence - refund.amount_pence)
    session.flush()
    return RefundOutcome(RefundOutcomeKind.FAILED, (refund,))


def charge_refunded(
    session: Session, *, intent_id: str | None, amount_refunded_pence: int, now: datetime
) -> RefundOutcome:
    """Stripe's `charge.refunded` without the refunds listed: the charge has had
    `amount_refunded_pence` refunded in all. Our refunds of its payment that Stripe took
    (their refund ids known) are confirmed, the first asked first, as far as that total
    covers them beyond what we recorded before."""
    if intent_id is None:
        return RefundOutcome(RefundOutcomeKind.NOT_OURS)
    payment = session.scalars(
        select(CardPayment).where(CardPayment.stripe_payment_intent_id == intent_id)
    ).first()
    if payment is None:
        return RefundOutcome(RefundOutcomeKind.NOT_OURS)
    if payment.order is not None:
        lock_order(session, payment.order)
    _lock(session, CardPayment, payment)
    waiting = session.scalars(
        select(CardRefund)
        .where(
            CardRefund.card_payment_id == payment.id,
            CardRefund.status.in_([RefundStatus.ISSUING, RefundStatus.PENDING]),
            CardRefund.stripe_refund_id.is_not(None),
        )
        .order_by(CardRefund.claimed_at, CardRefund.created_at)
    ).all()
    confirmed: list[CardRefund] = []
    for refund in waiting:
        if payment.refunded_pence + refund.amount_pence > amount_refunded_pence:
            break
        outcome = refund_succeeded(
            session,
            stripe_refund_id=refund.stripe_refund_id or "",
            amount_pence=refund.amount_pence,
            metadata={},
            now=now,
        )
        confirmed += outcome.refunds
    if not confirmed:
        return RefundOutcome(RefundOutcomeKind.ALREADY)
    return RefundOutcome(RefundOutcomeKind.CONFIRMED, tuple(confirmed))


def take_refund_object(
    session: Session, refund: Mapping[str, Any], *, now: datetime
) -> RefundOutcome:
    """A Stripe refund object (from an event or an answer), by its status."""
    metadata = {str(k): str(v) for k, v in (refund.get("metadata") or {}).items()}
    status = str(refund.get("status") or "")
    refund_id = str(refund["id"])
    if status == "succeeded":
        return refund_succeeded(
            session,
            stripe_refund_id=refund_id,
            amount_pence=int(refund["amount"]),
            metadata=metadata,
            now=now,
        )
    if status in ("failed", "canceled"):
        return refund_failed(
            session,
            stripe_refund_id=refund_id,
            reason=str(refund.get("failure_reason") or f"Stripe: {status}"),
            metadata=metadata,
        )
    return refund_pending(session, stripe_refund_id=refund_id, metadata=metadata)


def _hold_again(session: Session, refund: CardRefund) -> None:
    """A refund taken as failed, then confirmed: its hold was voided, so hold the money
    again under a new key and name that hold (a guarded stream refuses if it is gone)."""
    if refund.hold_key is None:
        return
    old = ledger.find_transfer(session, refund.hold_key)
    assert old is not None
    clearing = clearing_account(session)
    ledger.lock_accounts(session, [old.debit_account_id, clearing.id])
    refund.hold_key = f"card-refund:{refund.id}:hold-again"
    ledger.transfer(
        session,
        key=refund.hold_key,
        debit=old.debit_account_id,
        credit=clearing,
        amount_pence=refund.amount_pence,
        code=TransferCode.CARD_REFUND,
        description=old.description,
        reference=f"card-refund:{refund.id}",
        pending=True,
    )


def _find(
    session: Session, stripe_refund_id: str, metadata: Mapping[str, str]
) -> CardRefund | None:
    """Ours by Stripe's refund id, else by the id its metadata names (when that refund of
    ours is tied to no other Stripe refund)."""
    ledger.begin_immediate(session)
    found = session.scalars(
        select(CardRefund).where(CardRefund.stripe_refund_id == stripe_refund_id)
    ).first()
    if found is not None:
        return found
    try:
        refund_id = uuid.UUID(str(metadata.get("card_refund_id", "")))
    except ValueError:
        return None
    refund = session.get(CardRefund, refund_id)
    if refund is None or refund.stripe_refund_id not in (None, stripe_refund_id):
        return None
    return refund


def _lock_refund(session: Session, refund: CardRefund) -> None:
    """The order's lock (when there is an order), then the payment's, then the refund's: the
    order every payment step takes them in."""
    if refund.order is not None:
        lock_order(session, refund.order)
    _lock(session, CardPayment, refund.payment)
    _lock(session, CardRefund, refund)


def _lock(session: Session, model: type[CardPayment] | type[CardRefund], row: Any) -> None:
    """Hold the row's lock until the transaction ends and read it again."""
    ledger.begin_immediate(session)
    if dialect_name(session) != "sqlite":
        session.execute(select(model.id).where(model.id == row.id).with_for_update()).one()
    session.refresh(row)


# -- Issuing -----------------------------------------------------------------------------------


def claim_owed(
    session: Session, *, now: datetime, stale_after: timedelta = STALE_CLAIM
) -> list[uuid.UUID]:
    """Claim every owed refund (and any claimed longer than `stale_after` ago by a worker
    that never finished) for this worker: one conditional UPDATE each, so of two workers at
    once only one claims a refund. The caller commits before asking Stripe."""
    ledger.begin_immediate(session)
    cutoff = now - stale_after
    claimable = or_(
        CardRefund.status == RefundStatus.OWED,
        and_(CardRefund.status == RefundStatus.ISSUING, CardRefund.claimed_at < cutoff),
    )
    candidates = session.scalars(
        select(CardRefund.id).where(claimable).order_by(CardRefund.created_at, CardRefund.id)
    ).all()
    claimed = []
    for refund_id in candidates:
        result = session.execute(
            update(CardRefund)
            .where(CardRefund.id == refund_id, claimable)
            .values(
                status=RefundStatus.ISSUING,
                claimed_at=now,
                attempts=CardRefund.attempts + 1,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:  # type: ignore[attr-defined]
            claimed.append(refund_id)
    session.expire_all()
    return claimed


@dataclass(frozen=True)
class RefundRequest:
    """What Stripe is asked: refund `amount_pence` of the intent, under our key."""

    refund_id: uuid.UUID
    intent_id: str
    amount_pence: int
    idempotency_key: str
    metadata: dict[str, str]


def request_for(session: Session, refund_id: uuid.UUID) -> RefundRequest | None:
    """The request for a claimed refund (None when its payment has no PaymentIntent)."""
    refund = session.get_one(CardRefund, refund_id)
    intent_id = refund.payment.stripe_payment_intent_id
    if intent_id is None:
        return None
    return RefundRequest(
        refund_id=refund.id,
        intent_id=intent_id,
        amount_pence=refund.amount_pence,
        idempotency_key=refund.idempotency_key,
        metadata={
            "card_refund_id": str(refund.id),
            "order_reference": refund.order.reference if refund.order else "top-up",
            "person_id": str(refund.person_id),
        },
    )


def record_answer(
    session: Session, request: RefundRequest, answer: RefundResult, *, now: datetime
) -> RefundOutcome:
    """Stripe's own answer to our request: a refund `succeeded` is confirmed now (as its
    webhook would confirm it), `pending` waits for the webhook, `failed` releases the hold."""
    return take_refund_object(
        session,
        {
            "id": answer.id,
            "status": answer.status,
            "amount": answer.amount_pence,
            "metadata": request.metadata,
        },
        now=now,
    )


def record_unavailable(
    session: Session, refund_id: uuid.UUID, *, error: str, now: datetime
) -> None:
    """Stripe could not be asked: the refund is owed again (asked next time, with the same
    idempotency key); nothing is recorded in the ledger."""
    refund = session.get_one(CardRefund, refund_id)
    _lock_refund(session, refund)
    if refund.status is RefundStatus.ISSUING:
        refund.status = RefundStatus.OWED
        refund.claimed_at = None
    refund.last_error = error[:1000]
    refund.updated_at = now
    session.flush()


@dataclass
class IssueReport:
    owed: list[uuid.UUID] = field(default_factory=list)  # newly owed (uncredited payments)
    confirmed: list[uuid.UUID] = field(default_factory=list)
    pending: list[uuid.UUID] = field(default_factory=list)
    failed: list[uuid.UUID] = field(default_factory=list)
    unavailable: list[tuple[uuid.UUID, str]] = field(default_factory=list)


def issue_owed_refunds(
    session: Session,
    gateway: StripeGateway,
    *,
    now: datetime,
    commit: Callable[[], None],
    stale_after: timedelta = STALE_CLAIM,
) -> IssueReport:
    """Ask Stripe for every owed refund, each once: record the refunds owed for payments that
    never reached the ledger, claim the owed ones (committed), then for each ask Stripe and
    record its answer (committed one by one). Stripe unreachable: that refund is owed again.
    `commit` commits the session (the command's, or a test's)."""
    report = IssueReport()
    report.owed = [refund.id for refund in owe_uncredited(session)]
    claimed = claim_owed(session, now=now, stale_after=stale_after)
    commit()
    for refund_id in claimed:
        request = request_for(session, refund_id)
        if request is None:
            record_unavailable(
                session, refund_id, error="The payment has no PaymentIntent", now=now
            )
            commit()
            report.unavailable.append((refund_id, "The payment has no PaymentIntent"))
            continue
        try:
            answer = gateway.refund(
                intent_id=request.intent_id,
                amount_pence=request.amount_pence,
                idempotency_key=request.idempotency_key,
                metadata=request.metadata,
            )
        except PaymentGatewayError as unavailable:
            error = unavailable.detail or unavailable.message
            record_unavailable(session, refund_id, error=error, now=now)
            commit()
            report.unavailable.append((refund_id, error))
            continue
        outcome = record_answer(session, request, answer, now=now)
        commit()
        {
            RefundOutcomeKind.CONFIRMED: report.confirmed,
            RefundOutcomeKind.ALREADY: report.confirmed,
            RefundOutcomeKind.FAILED: report.failed,
        }.get(outcome.result, report.pending).append(refund_id)
    return report


# -- Reading -----------------------------------------------------------------------------------


def refunds_of_order(session: Session, order: Order) -> list[CardRefund]:
    """The order's refunds to the card, the first first."""
    return list(
        session.scalars(
            select(CardRefund)
            .where(CardRefund.order_id == order.id)
            .order_by(CardRefund.created_at, CardRefund.id)
        )
    )


def check_card_refunds(session: Session) -> list[str]:
    """Refunds against the ledger and their payments, for `flask ledger verify`: an owed or
    pending refund's hold is still pending, a confirmed one's hold was posted for its amount
    (and nothing else), a failed one's was voided; each payment's refunded figure is its
    confirmed refunds, and what it has owed is its open ones."""
    problems = []
    refunds = session.scalars(select(CardRefund).order_by(CardRefund.created_at)).all()
    by_payment: dict[uuid.UUID, list[CardRefund]] = {}
    for refund in refunds:
        by_payment.setdefault(refund.card_payment_id, []).append(refund)
        problems += _hold_problems(session, refund)
    for payment_id, theirs in by_payment.items():
        payment = session.get_one(CardPayment, payment_id)
        confirmed = sum(r.amount_pence for r in theirs if r.status is RefundStatus.SUCCEEDED)
        if payment.refunded_pence != confirmed:
            problems.append(
                f"card payment {payment.id}: refunded {pounds(payment.refunded_pence)}, but "
                f"its confirmed refunds come to {pounds(confirmed)}"
            )
        open_ = sum(r.amount_pence for r in theirs if r.status.open)
        if payment.status.in_ledger and payment.refund_due_pence != open_:
            problems.append(
                f"card payment {payment.id}: owes {pounds(payment.refund_due_pence)} back, "
                f"but its open refunds come to {pounds(open_)}"
            )
    return problems


def _hold_problems(session: Session, refund: CardRefund) -> list[str]:
    where = f"card refund {refund.id} ({refund.status.value})"
    if refund.hold_key is None:
        return []
    hold = ledger.find_transfer(session, refund.hold_key)
    if hold is None or hold.amount_pence != refund.amount_pence:
        return [f"{where}: no hold of {pounds(refund.amount_pence)}"]
    resolution = hold.resolution
    if refund.status.open and resolution is not None:
        return [f"{where}: still owed but its hold is resolved"]
    if refund.status is RefundStatus.SUCCEEDED and (
        resolution is None
        or resolution.kind is not TransferKind.POST
        or resolution.amount_pence != refund.amount_pence
        or resolution.idempotency_key != refund.transfer_key
    ):
        return [f"{where}: confirmed but not posted in full by {refund.transfer_key}"]
    if refund.status is RefundStatus.FAILED and (
        resolution is None or resolution.kind is not TransferKind.VOID
    ):
        return [f"{where}: failed but its hold is not released"]
    return []
