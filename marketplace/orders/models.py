"""Baskets, orders and their life: cycles (the money held for each invoicing period),
deliveries, invoices and the order's timeline.

The money itself lives in the ledger. Each cycle of an order holds one budget commitment,
whose idempotency key (`commitment_key`) is how the cycle finds its transfers again; these
tables hold what the ledger cannot (what was ordered, when, by whom, and what happened).
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow
from providers.models import InvoiceCycle, PriceUnit

if TYPE_CHECKING:
    from marketplace.accounts.api_tokens import ApiToken
    from marketplace.accounts.models import User
    from marketplace.budgets.models import PersonalBudget
    from marketplace.people.models import Person
    from providers.models import Organisation, Service


class ScheduleKind(enum.StrEnum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"


class OrderStatus(enum.StrEnum):
    # Its card share is not paid yet: nothing reaches the provider until Stripe says it is.
    AWAITING_PAYMENT = "awaiting_payment"
    AWAITING_APPROVAL = "awaiting_approval"  # outside the support plan: a council officer decides
    PLACED = "placed"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {
            "awaiting_payment": "Awaiting payment",
            "awaiting_approval": "Waiting for council approval",
            "placed": "Waiting for the provider",
            "accepted": "Accepted",
            "declined": "Declined",
            "in_progress": "In progress",
            "completed": "Completed",
            "cancelled": "Cancelled",
        }[self.value]

    @property
    def is_open(self) -> bool:
        return self not in (OrderStatus.DECLINED, OrderStatus.COMPLETED, OrderStatus.CANCELLED)


class CycleState(enum.StrEnum):
    HELD = "held"  # money committed, deliveries may be recorded
    INVOICED = "invoiced"
    SETTLED = "settled"  # the delivered amount spent, the rest released
    RELEASED = "released"  # nothing will be delivered: the commitment voided


class DeliveryStatus(enum.StrEnum):
    RECORDED = "recorded"
    CONFIRMED = "confirmed"
    QUERIED = "queried"

    @property
    def label(self) -> str:
        return {
            "recorded": "To confirm",
            "confirmed": "Confirmed",
            "queried": "Queried",
        }[self.value]


class InvoiceStatus(enum.StrEnum):
    RAISED = "raised"
    SETTLED = "settled"

    @property
    def label(self) -> str:
        return {"raised": "Raised, not yet paid", "settled": "Paid"}[self.value]


class BasketItem(Model):
    """A service a person means to buy, with its schedule, not yet ordered."""

    __tablename__ = "basket_items"
    __table_args__ = (
        CheckConstraint("units_per_occasion >= 1", name="units_positive"),
        CheckConstraint("weeks IS NULL OR weeks >= 1", name="weeks_positive"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"))
    schedule_kind: Mapped[ScheduleKind] = mapped_column(string_enum(ScheduleKind, "schedule_kind"))
    units_per_occasion: Mapped[int]
    starts_on: Mapped[date]
    weeks: Mapped[int | None]
    # iCal BYDAY codes ("MO", "TU", ...) for a recurring schedule.
    days: Mapped[list[str]] = mapped_column(JSON, default=list)
    added_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    service: Mapped[Service] = relationship()
    person: Mapped[Person] = relationship()


class Order(Model):
    """A purchase of one service for a person, at the price of the moment it was placed."""

    __tablename__ = "orders"
    __table_args__ = (
        CheckConstraint("units_per_occasion >= 1", name="units_positive"),
        CheckConstraint("unit_price_pence >= 0", name="price_not_negative"),
        CheckConstraint("total_pence >= 0", name="total_not_negative"),
        CheckConstraint("ends_on >= starts_on", name="schedule_in_order"),
        CheckConstraint("card_pence >= 0 AND card_pence <= total_pence", name="card_in_total"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # A short reference people can read out on the phone.
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    # The checkout (or API request) that placed it: the same key twice places one order.
    placement_key: Mapped[str] = mapped_column(String(255), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    budget_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("personal_budgets.id"), index=True)
    service_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("services.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    placed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # The consent a broker or attorney placed it under (None when the person or an officer did).
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    status: Mapped[OrderStatus] = mapped_column(
        string_enum(OrderStatus, "order_status"), default=OrderStatus.PLACED, index=True
    )
    # What was bought, as it was described and priced when the order was placed.
    service_name: Mapped[str] = mapped_column(String(200))
    unit_price_pence: Mapped[int] = mapped_column(BigInteger)
    price_unit: Mapped[PriceUnit] = mapped_column(string_enum(PriceUnit, "price_unit"))
    category_codes: Mapped[list[str]] = mapped_column(JSON, default=list)
    schedule_kind: Mapped[ScheduleKind] = mapped_column(string_enum(ScheduleKind, "schedule_kind"))
    units_per_occasion: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    weeks: Mapped[int | None]
    days: Mapped[list[str]] = mapped_column(JSON, default=list)
    total_pence: Mapped[int] = mapped_column(BigInteger)
    # The part of the total paid by card (budget streams first, the card last, so it is the
    # last cycles' money): held only once Stripe confirms the payment. 0 for no card.
    card_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    invoice_cycle: Mapped[InvoiceCycle] = mapped_column(string_enum(InvoiceCycle, "invoice_cycle"))
    notice_days: Mapped[int] = mapped_column(default=0)
    # Set when the remaining weeks of a recurring order are cancelled: nothing from this day.
    cancelled_from: Mapped[date | None]
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    budget: Mapped[PersonalBudget] = relationship()
    service: Mapped[Service] = relationship()
    organisation: Mapped[Organisation] = relationship()
    placed_by: Mapped[User] = relationship()
    cycles: Mapped[list[OrderCycle]] = relationship(
        back_populates="order", order_by="OrderCycle.number"
    )
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="order", order_by="Delivery.delivered_on"
    )
    events: Mapped[list[OrderEvent]] = relationship(
        back_populates="order", order_by="OrderEvent.happened_at"
    )
    invoices: Mapped[list[Invoice]] = relationship(
        back_populates="order", order_by="Invoice.raised_at"
    )

    @property
    def reached_provider(self) -> bool:
        """Whether the provider was ever sent it: not while it waits for payment or for the
        council, nor if the council refused it or it was cancelled before it was paid."""
        return self.status not in (
            OrderStatus.AWAITING_APPROVAL,
            OrderStatus.AWAITING_PAYMENT,
        ) and not any(
            event.kind == "refuse"
            or (
                event.from_status is OrderStatus.AWAITING_PAYMENT
                and event.to_status is OrderStatus.CANCELLED
            )
            for event in self.events
        )

    @property
    def refusal(self) -> OrderEvent | None:
        """The council's refusal of this order (with its reason), if it refused it."""
        if self.status is not OrderStatus.CANCELLED:
            # Only a cancelled order can have been refused: no events are loaded for others.
            return None
        return next((event for event in self.events if event.kind == "refuse"), None)

    @property
    def status_label(self) -> str:
        """The status in the words the pages show. An order the council refused is cancelled
        in the state table (nothing held, nothing to come), but people read "Refused by the
        council", not "Cancelled", which would say that someone chose to cancel it."""
        return REFUSED_LABEL if self.refusal is not None else self.status.label

    @property
    def total_units(self) -> int:
        return sum(cycle.units for cycle in self.cycles)

    def card_share_of(self, cycle: OrderCycle) -> int:
        """The card's part of a cycle's money: the card pays last, so its share is the last
        cycles' (cycle by cycle, each from the streams in draw order, the card after them)."""
        after = sum(c.amount_pence for c in self.cycles if c.number > cycle.number)
        return max(0, min(cycle.amount_pence, self.card_pence - after))

    @property
    def weekly_pence(self) -> int | None:
        """What one week of the schedule costs at the order's price; None for a one-off,
        whose cost is its total."""
        if self.schedule_kind is not ScheduleKind.RECURRING:
            return None
        return self.units_per_occasion * len(self.days) * self.unit_price_pence


REFUSED_LABEL = "Refused by the council"


class OrderCycle(Model):
    """One invoicing period of an order: the occasions in it, and the money held for them."""

    __tablename__ = "order_cycles"
    __table_args__ = (
        UniqueConstraint("order_id", "number"),
        CheckConstraint("units >= 0", name="units_not_negative"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        CheckConstraint("ends_on >= starts_on", name="period_in_order"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    number: Mapped[int]
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    units: Mapped[int]
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    # The budget commitment's idempotency key; its ledger transfers carry it as `reference`.
    commitment_key: Mapped[str] = mapped_column(String(200), unique=True)
    state: Mapped[CycleState] = mapped_column(
        string_enum(CycleState, "cycle_state"), default=CycleState.HELD
    )
    # Pence held on each funding stream, by stream id, as placed (for the order page).
    split: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)

    order: Mapped[Order] = relationship(back_populates="cycles")


class Delivery(Model):
    """What a provider says it delivered on a day: hours, visits or items, with a note."""

    __tablename__ = "deliveries"
    __table_args__ = (CheckConstraint("units >= 0", name="units_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_cycles.id"), index=True)
    delivered_on: Mapped[date]
    units: Mapped[int]
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[DeliveryStatus] = mapped_column(
        string_enum(DeliveryStatus, "delivery_status"), default=DeliveryStatus.RECORDED
    )
    query_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"), index=True)

    order: Mapped[Order] = relationship(back_populates="deliveries")
    cycle: Mapped[OrderCycle] = relationship()
    invoice: Mapped[Invoice | None] = relationship(back_populates="deliveries")


class Invoice(Model):
    """A provider's bill for one cycle of an order, made from its delivery records."""

    __tablename__ = "invoices"
    __table_args__ = (CheckConstraint("amount_pence >= 0", name="amount_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    # One invoice per cycle: a provider cannot bill the same period twice.
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_cycles.id"), unique=True)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[InvoiceStatus] = mapped_column(
        string_enum(InvoiceStatus, "invoice_status"), default=InvoiceStatus.RAISED, index=True
    )
    raised_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    settled_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))

    order: Mapped[Order] = relationship(back_populates="invoices")
    cycle: Mapped[OrderCycle] = relationship()
    deliveries: Mapped[list[Delivery]] = relationship(
        back_populates="invoice", order_by="Delivery.delivered_on"
    )


class OrderEvent(Model):
    """One step in an order's life, with who, when and why: the timeline both parties see."""

    __tablename__ = "order_events"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    from_status: Mapped[OrderStatus | None] = mapped_column(string_enum(OrderStatus, "from_status"))
    to_status: Mapped[OrderStatus | None] = mapped_column(string_enum(OrderStatus, "to_status"))
    # None when the system did it (a scheduled job); otherwise the user who did.
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    # The API token the actor acted through, if any: who made it is on the token.
    token_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("api_tokens.id"))
    reason: Mapped[str] = mapped_column(Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    happened_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship()
    token: Mapped[ApiToken | None] = relationship()
