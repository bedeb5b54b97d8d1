"""Where Stripe and our records disagree about card money: each disagreement kept once.

`payments.reconcile` finds them; council finance sees them by kind and marks each resolved
with a reason (who, when, why are kept). A disagreement the reconciliation could put right
itself (a payment Stripe took that never reached the ledger, with clear evidence) is kept too,
already resolved, as the record of that repair.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, Boolean, ForeignKey, String, Text, Uuid, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace import ledger
from marketplace.extensions import Model
from marketplace.payments.models import CURRENCY, CardPayment
from marketplace.types import Session, UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.models import User

# Who resolved a mismatch that no officer did: the reconciliation itself.
BY_RECONCILIATION = "Reconciliation"


class MismatchKind(enum.StrEnum):
    PAID_NOT_IN_LEDGER = "paid_not_in_ledger"  # Stripe took money the ledger never received
    IN_LEDGER_NOT_AT_STRIPE = "not_at_stripe"  # the ledger has card money Stripe lacks
    AMOUNTS_DIFFER = "amounts_differ"  # both have it, for different amounts
    REFUNDED_NOT_HERE = "refunded_not_here"  # Stripe refunded more than we recorded

    @property
    def label(self) -> str:
        return {
            "paid_not_in_ledger": "Paid at Stripe but not in the ledger",
            "not_at_stripe": "In the ledger but not at Stripe",
            "amounts_differ": "Amounts differ",
            "refunded_not_here": "Refunded at Stripe but not here",
        }[self.value]


class MismatchError(ValueError):
    """A mismatch cannot be resolved as asked. `fields` names the form field at fault."""

    def __init__(self, message: str, *, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class PaymentMismatch(Model):
    """One disagreement between Stripe and our records, found by reconciliation."""

    __tablename__ = "payment_mismatches"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # What was found, on what, for which amounts: the same disagreement found again is this
    # row, so a second run stores nothing new; different amounts are a new disagreement.
    key: Mapped[str] = mapped_column(String(400), unique=True)
    kind: Mapped[MismatchKind] = mapped_column(string_enum(MismatchKind, "mismatch_kind"))
    card_payment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("card_payments.id"), index=True
    )
    # The Stripe object it is about (a PaymentIntent, a charge), and the ledger transfer.
    stripe_object_id: Mapped[str | None] = mapped_column(String(255))
    transfer_key: Mapped[str | None] = mapped_column(String(200))
    stripe_amount_pence: Mapped[int | None] = mapped_column(BigInteger)
    our_amount_pence: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default=CURRENCY)
    detail: Mapped[str] = mapped_column(Text, default="")
    found_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    resolution: Mapped[str] = mapped_column(Text, default="")
    # Set when the reconciliation put it right itself (resolved_by is then empty).
    repaired: Mapped[bool] = mapped_column(Boolean, default=False)
    resolved_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    card_payment: Mapped[CardPayment | None] = relationship()
    resolved_by: Mapped[User | None] = relationship()

    @property
    def resolved(self) -> bool:
        return self.resolved_at is not None

    @property
    def resolver_name(self) -> str:
        """Who resolved it, for people: the officer, or the reconciliation itself."""
        if self.resolved_at is None:
            return ""
        return self.resolved_by.full_name if self.resolved_by is not None else BY_RECONCILIATION


def mismatches(session: Session, *, unresolved_only: bool = False) -> list[PaymentMismatch]:
    """Mismatches by kind, then the newest first."""
    query = select(PaymentMismatch)
    if unresolved_only:
        query = query.where(PaymentMismatch.resolved_at.is_(None))
    found = session.scalars(
        query.order_by(PaymentMismatch.found_at.desc(), PaymentMismatch.id)
    ).all()
    order = list(MismatchKind)
    return sorted(found, key=lambda mismatch: order.index(mismatch.kind))


def unresolved_count(session: Session) -> int:
    return len(mismatches(session, unresolved_only=True))


def resolve_mismatch(
    session: Session, mismatch: PaymentMismatch, *, by: User, reason: str, now: datetime
) -> None:
    """Mark the mismatch resolved by `by`, saying why. Raises MismatchError for an empty
    reason, or for one resolved already (resolved once: its who, when and why stay)."""
    reason = reason.strip()
    if not reason:
        raise MismatchError(
            "Say how this was resolved", fields={"reason": "Say how this was resolved"}
        )
    ledger.begin_immediate(session)
    session.refresh(mismatch, with_for_update=True)
    if mismatch.resolved_at is not None:
        raise MismatchError("This mismatch was resolved already")
    mismatch.resolved_at = now
    mismatch.resolution = reason[:2000]
    mismatch.resolved_by_id = by.id
    session.flush()
