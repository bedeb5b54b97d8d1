"""Card payments: what we asked Stripe to take, and what Stripe said happened.

A `CardPayment` is our own record of one PaymentIntent, made before Stripe is asked, so that
its id names the intent's idempotency key and metadata. Money moves in the ledger only when
Stripe confirms (`payments.service.payment_succeeded`); this table says which ledger transfer
that was (`transfer_key`), and what is owed back when a payment cannot be used.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.orders.models import Order
    from marketplace.people.models import Person

CURRENCY = "gbp"
# The Stripe clearing account: card money received at Stripe, on its way into budgets. It is
# unguarded and goes negative by what card payments brought in (less what was refunded).
CLEARING_ACCOUNT_CODE = "stripe:clearing"


class CardPurpose(enum.StrEnum):
    ORDER = "order"  # the card share of an order
    TOP_UP = "top_up"  # money into the person's own-funds stream, for no order in particular
    CYCLE = "cycle"  # one invoicing cycle's card share of a recurring order, charged off-session


class CardPaymentStatus(enum.StrEnum):
    CREATED = "created"  # our row exists; the PaymentIntent may not yet
    PROCESSING = "processing"
    REQUIRES_ACTION = "requires_action"  # 3-D Secure, say
    SUCCEEDED = "succeeded"  # Stripe confirmed it and the ledger has it
    FAILED = "failed"  # declined or abandoned: the order can be paid again
    CANCELLED = "cancelled"  # we stopped asking (the order was cancelled or expired unpaid)
    # Stripe took money we cannot use as it stands: not credited, nothing in the ledger.
    MISMATCHED = "mismatched"  # an amount or currency other than ours: for finance to look at
    REFUND_DUE = "refund_due"  # paid for an order cancelled meanwhile: to go back to the card
    PARTLY_REFUNDED = "partly_refunded"
    REFUNDED = "refunded"

    @property
    def label(self) -> str:
        return {
            "created": "Awaiting payment",
            "processing": "Processing",
            "requires_action": "Waiting for your bank",
            "succeeded": "Paid",
            "failed": "Not paid",
            "cancelled": "Cancelled",
            "mismatched": "Being checked",
            "refund_due": "To be refunded",
            "partly_refunded": "Partly refunded",
            "refunded": "Refunded",
        }[self.value]

    @property
    def in_ledger(self) -> bool:
        """Whether the payment's money was credited to the ledger."""
        return self in (
            CardPaymentStatus.SUCCEEDED,
            CardPaymentStatus.PARTLY_REFUNDED,
            CardPaymentStatus.REFUNDED,
        )

    @property
    def settled(self) -> bool:
        """Whether Stripe has given its final word on the money (nothing more to wait for)."""
        return self.in_ledger or self in (
            CardPaymentStatus.MISMATCHED,
            CardPaymentStatus.REFUND_DUE,
        )


# A payment still waiting for Stripe: the one an order's payment page goes on with.
WAITING = (
    CardPaymentStatus.CREATED,
    CardPaymentStatus.PROCESSING,
    CardPaymentStatus.REQUIRES_ACTION,
)


class CardPayment(Model):
    """One card payment: an order's card share, or a top-up of the person's own funds."""

    __tablename__ = "card_payments"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        CheckConstraint("refunded_pence >= 0", name="refunded_not_negative"),
        CheckConstraint("refund_due_pence >= 0", name="refund_due_not_negative"),
        CheckConstraint(
            "(purpose IN ('order', 'cycle')) = (order_id IS NOT NULL)", name="order_payment_order"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("orders.id"), index=True)
    # Who started it: the person, or a broker or attorney paying on their behalf.
    started_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    purpose: Mapped[CardPurpose] = mapped_column(string_enum(CardPurpose, "card_purpose"))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    status: Mapped[CardPaymentStatus] = mapped_column(
        string_enum(CardPaymentStatus, "card_payment_status"),
        default=CardPaymentStatus.CREATED,
        index=True,
    )
    # Unknown until Stripe has made the intent; the webhook may know it before we store it.
    stripe_payment_intent_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # Derived from our id, so a retried create cannot make a second intent at Stripe.
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    # The ledger transfer that credited the money (clearing -> own-funds stream), once it has.
    transfer_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    # What Stripe said it took, when it differs from what we asked (status MISMATCHED).
    received_amount_pence: Mapped[int | None] = mapped_column(BigInteger)
    received_currency: Mapped[str | None] = mapped_column(String(3))
    failure_reason: Mapped[str] = mapped_column(Text, default="")
    # Owed back to the card and not yet refunded; and refunded so far (Stripe confirmed).
    refund_due_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    order: Mapped[Order | None] = relationship()

    @property
    def metadata_for_stripe(self) -> dict[str, str]:
        """What every PaymentIntent carries, so a webhook can find this row by itself."""
        return {
            "card_payment_id": str(self.id),
            "order_reference": self.order.reference if self.order is not None else "top-up",
            "person_id": str(self.person_id),
        }


def idempotency_key_for(payment_id: uuid.UUID) -> str:
    return f"card-payment-{payment_id}"
