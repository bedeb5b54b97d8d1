"""Recurring care paid by card: the person's Stripe customer, the card they saved, what they
agreed to, and which card payment paid which invoicing cycle.

A `CardMandate` is the person's recorded agreement (a mandate, in the card schemes' words):
which order, how much each cycle, when it is charged, and when and how they agreed. Stripe
keeps the card (a SetupIntent saves it to the person's Customer); we keep only its ids.
A `CycleCharge` ties one attempt to charge a cycle's card share to its `CardPayment` (purpose
`cycle`); its key, derived from the cycle and the attempt's number, is also the
PaymentIntent's idempotency key, so a retried job never charges a cycle twice.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.orders.models import Order, OrderCycle
    from marketplace.payments.models import CardPayment


class StripeCustomer(Model):
    """The person's Customer at Stripe, made once, the first time they save a card."""

    __tablename__ = "stripe_customers"

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), primary_key=True)
    stripe_customer_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MandateStatus(enum.StrEnum):
    SETTING_UP = "setting_up"  # the SetupIntent made, the card not yet saved
    ACTIVE = "active"  # the card saved and the agreement given: cycles are charged to it
    REPLACED = "replaced"  # the person saved another card for the order
    STOPPED = "stopped"  # the person stopped paying by card (the order ends under its notice)
    ABANDONED = "abandoned"  # never completed (a declined card, a newer attempt)


class CardMandate(Model):
    """The person's agreement that each invoicing cycle's card share of `order` is charged to
    the saved card, `charge_days_before` days before the cycle starts."""

    __tablename__ = "card_mandates"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    status: Mapped[MandateStatus] = mapped_column(
        string_enum(MandateStatus, "mandate_status"), default=MandateStatus.SETTING_UP, index=True
    )
    stripe_customer_id: Mapped[str] = mapped_column(String(255))
    stripe_setup_intent_id: Mapped[str] = mapped_column(String(255), unique=True)
    stripe_payment_method_id: Mapped[str | None] = mapped_column(String(255))
    # What was agreed, in the words shown when agreeing (kept as shown, not recomputed).
    amount_per_cycle_pence: Mapped[int] = mapped_column(BigInteger)
    charge_days_before: Mapped[int]
    terms: Mapped[str] = mapped_column(Text)
    agreed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    agreed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # How: "card element" (online, the person present, confirmCardSetup) and the address.
    agreed_how: Mapped[str] = mapped_column(String(200), default="")
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship()


class CycleCharge(Model):
    """One attempt to charge a cycle's card share off-session, and its card payment."""

    __tablename__ = "cycle_charges"
    __table_args__ = (UniqueConstraint("cycle_id", "attempt"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_cycles.id"), index=True)
    attempt: Mapped[int]
    # f"cycle-charge:{cycle_id}:{attempt}": the PaymentIntent's idempotency key too.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    card_payment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("card_payments.id"), unique=True)
    mandate_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("card_mandates.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    cycle: Mapped[OrderCycle] = relationship()
    card_payment: Mapped[CardPayment] = relationship()


def cycle_charge_key(cycle_id: uuid.UUID, attempt: int) -> str:
    return f"cycle-charge:{cycle_id}:{attempt}"
