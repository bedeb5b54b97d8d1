"""What the council's console records of its own (issue 19): every decision taken from a work
queue, and every period-end run over many budgets."""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.models import User


class QueueDecision(Model):
    """One decision an officer took on an item of a work queue: who, when, why, and how long
    the item had waited. Never edited or deleted (the item's own record changes too; this row
    is what the queue reports read, the same for every kind of item)."""

    __tablename__ = "queue_decisions"
    __table_args__ = (Index("ix_queue_decisions_queue_decided_at", "queue", "decided_at"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # Which queue: "providers", "brokerages", "listing_reports", "support_plans", "orders",
    # "invoices", "payment_mismatches", "variations", "reviews", "referrals", "reviews_due"...
    queue: Mapped[str] = mapped_column(String(40))
    subject_id: Mapped[uuid.UUID] = mapped_column(Uuid, index=True)
    # What the officer saw the item called ("Bluebell Home Care Ltd", "ORD-1234").
    subject_label: Mapped[str] = mapped_column(String(200))
    decision: Mapped[str] = mapped_column(String(40))  # "approved", "rejected", "upheld"...
    reason: Mapped[str] = mapped_column(Text, default="")
    waiting_since: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Who was told, as the notification kind and recipient count, for the record.
    told: Mapped[str] = mapped_column(String(200), default="")

    decided_by: Mapped[User] = relationship()


class UnspentRule(enum.StrEnum):
    """What a period end does with a stream's unspent money."""

    RETURN = "return"  # back to the funder's pot (or the person's own money)
    CARRY_FORWARD = "carry_forward"  # into the person's next budget, by the council's rule


class PeriodCloseRun(Model):
    """One period end over one or many budgets: what the officer confirmed and what it did."""

    __tablename__ = "period_close_runs"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    rule: Mapped[UnspentRule] = mapped_column(string_enum(UnspentRule, "unspent_rule"))
    # The periods chosen: budgets whose period ended on or before this day.
    ended_by: Mapped[date]
    budget_count: Mapped[int]
    returned_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    carried_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    # The closing report as shown: per budget, per stream, what was returned or carried, and
    # any budget left open with why.
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    made_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    note: Mapped[str] = mapped_column(Text, default="")

    made_by: Mapped[User] = relationship()
