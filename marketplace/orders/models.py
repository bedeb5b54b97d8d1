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
    from marketplace.budgets.models import FunderPot, PersonalBudget
    from marketplace.people.models import Person
    from providers.models import Organisation, Service


class ScheduleKind(enum.StrEnum):
    ONE_OFF = "one_off"
    RECURRING = "recurring"


class OrderFunding(enum.StrEnum):
    """Whose money pays an order's cycles."""

    BUDGET = "budget"  # the person's personal budget (their own money for a self-funder)
    # A funder's reablement pot (issue 18): free to the person, never their budget.
    REABLEMENT = "reablement"


class OrderPricing(enum.StrEnum):
    """What the provider is paid for."""

    UNITS = "units"  # hours, visits or items at the unit price
    # An agreed weekly amount for named outcomes of the support plan (issue 18): the
    # provider records what was achieved, and the invoice follows the amount less what was not.
    OUTCOMES = "outcomes"


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
        CheckConstraint("cycles_ahead >= 1", name="cycles_ahead_positive"),
        # Only a recurring order can be open-ended (no end date: a package).
        CheckConstraint(
            "ends_on IS NOT NULL OR schedule_kind = 'recurring'", name="open_ended_recurs"
        ),
        # A budget-funded order names its budget; a reablement order may have none (yet).
        CheckConstraint(
            "budget_id IS NOT NULL OR funding = 'reablement'", name="budget_unless_reablement"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    # A short reference people can read out on the phone.
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    # The checkout (or API request) that placed it: the same key twice places one order.
    placement_key: Mapped[str] = mapped_column(String(255), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    # The budget it was placed against (for a package, the one its first cycle drew on; each
    # cycle names the budget that paid it). None only for a reablement order, free to the person.
    budget_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("personal_budgets.id"), index=True
    )
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
    # None for an open-ended package ("until further notice"): its cycles are made and held
    # as the budget's instalments are released (`marketplace.orders.packages`).
    ends_on: Mapped[date | None]
    weeks: Mapped[int | None]
    days: Mapped[list[str]] = mapped_column(JSON, default=list)
    # The sum of its cycles' amounts: for a package, of the cycles made so far.
    total_pence: Mapped[int] = mapped_column(BigInteger)
    # The part of the total paid by card (budget streams first, the card last, so it is the
    # last cycles' money): held only once Stripe confirms the payment. 0 for no card.
    card_pence: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    invoice_cycle: Mapped[InvoiceCycle] = mapped_column(string_enum(InvoiceCycle, "invoice_cycle"))
    notice_days: Mapped[int] = mapped_column(default=0)
    # Set when the remaining weeks of a recurring order are cancelled: nothing from this day.
    cancelled_from: Mapped[date | None]
    # Issue 18. How many invoicing cycles a package holds money for ahead of today.
    cycles_ahead: Mapped[int] = mapped_column(default=1, server_default="1")
    funding: Mapped[OrderFunding] = mapped_column(
        string_enum(OrderFunding, "order_funding"),
        default=OrderFunding.BUDGET,
        server_default=OrderFunding.BUDGET.value,
    )
    pricing: Mapped[OrderPricing] = mapped_column(
        string_enum(OrderPricing, "order_pricing"),
        default=OrderPricing.UNITS,
        server_default=OrderPricing.UNITS.value,
    )
    # An outcome-based order's outcomes, from the support plan: [{"key": "dressed-by-9",
    # "text": "Get up and dressed by 9 each day", "plan_item_id": "<uuid or null>"}, ...]; and
    # the safety parameters the council set for it: {"medication_times": ["08:00", ...],
    # "not_in_bed_after": "10:00"}. Empty for an order paid by the unit.
    outcomes: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    safety: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    person: Mapped[Person] = relationship()
    budget: Mapped[PersonalBudget | None] = relationship()
    service: Mapped[Service] = relationship()
    organisation: Mapped[Organisation] = relationship()
    placed_by: Mapped[User] = relationship()
    terms: Mapped[list[PackageTerms]] = relationship(
        back_populates="order", order_by="(PackageTerms.effective_from, PackageTerms.sequence)"
    )
    variations: Mapped[list[PackageVariation]] = relationship(
        back_populates="order", order_by="PackageVariation.created_at"
    )
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
    def open_ended(self) -> bool:
        """A package: recurring with no end date, its cycles held as budgets are released."""
        return self.ends_on is None

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
        # Paid by exactly one of: a personal budget's streams, or a funder's (reablement) pot.
        CheckConstraint("(budget_id IS NULL) <> (pot_id IS NULL)", name="one_payer"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    # Which budget paid this cycle (a package's cycles carry over into the next period's
    # budget), or which funder's pot (a reablement cycle): the statement shows it.
    budget_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("personal_budgets.id"), index=True
    )
    pot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("funder_pots.id"), index=True)
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
    budget: Mapped[PersonalBudget | None] = relationship()
    pot: Mapped[FunderPot | None] = relationship()


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


class PackageTerms(Model):
    """What a package delivers and costs from a day on: its first terms when it is placed, then
    one row per accepted variation (more hours, other days, a new price, a pause, a
    resumption). Never edited: the terms in force on a day are the latest row (by
    `effective_from`, then `sequence`) whose `effective_from` is on or before it."""

    __tablename__ = "package_terms"
    __table_args__ = (
        UniqueConstraint("order_id", "sequence"),
        CheckConstraint("units_per_occasion >= 1", name="units_positive"),
        CheckConstraint("unit_price_pence >= 0", name="price_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    sequence: Mapped[int]  # 1 for the terms it was placed on, then each variation's
    effective_from: Mapped[date]
    units_per_occasion: Mapped[int]
    days: Mapped[list[str]] = mapped_column(JSON, default=list)
    unit_price_pence: Mapped[int] = mapped_column(BigInteger)
    # Paused (a hospital stay): no occasions, nothing held, until terms that resume it.
    paused: Mapped[bool] = mapped_column(default=False)
    variation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("package_variations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="terms")


class VariationKind(enum.StrEnum):
    SCHEDULE = "schedule"  # more or fewer hours, other days
    PRICE = "price"  # a new price, proposed by the provider with notice
    PAUSE = "pause"
    RESUME = "resume"

    @property
    def label(self) -> str:
        return {
            "schedule": "Change of hours or days",
            "price": "New price",
            "pause": "Pause",
            "resume": "Restart",
        }[self.value]


class VariationParty(enum.StrEnum):
    PERSON = "person"  # the person, or their broker or attorney for them
    PROVIDER = "provider"
    COUNCIL = "council"


class VariationState(enum.StrEnum):
    PROPOSED = "proposed"  # waiting for the other party
    AWAITING_COUNCIL = "awaiting_council"  # both parties agree; the council pays: it decides
    ACCEPTED = "accepted"  # in force from `effective_from`: its terms row written
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # by whoever proposed it, before it was accepted
    LAPSED = "lapsed"  # the package ended (or was cancelled) before it was decided

    @property
    def label(self) -> str:
        return {
            "proposed": "Proposed",
            "awaiting_council": "Waiting for the council",
            "accepted": "Agreed",
            "declined": "Declined",
            "withdrawn": "Withdrawn",
            "lapsed": "Lapsed",
        }[self.value]


class PackageVariation(Model):
    """A change to a package proposed by one party and accepted by the other, in force from a
    date; only cycles from that date are re-worked."""

    __tablename__ = "package_variations"
    __table_args__ = (
        CheckConstraint(
            "units_per_occasion IS NULL OR units_per_occasion >= 1", name="units_positive"
        ),
        CheckConstraint(
            "unit_price_pence IS NULL OR unit_price_pence >= 0", name="price_not_negative"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[VariationKind] = mapped_column(string_enum(VariationKind, "variation_kind"))
    state: Mapped[VariationState] = mapped_column(
        string_enum(VariationState, "variation_state"), default=VariationState.PROPOSED
    )
    proposed_by_party: Mapped[VariationParty] = mapped_column(
        string_enum(VariationParty, "variation_party")
    )
    proposed_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    # The consent a broker or attorney proposed or accepted it under, if one did.
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    effective_from: Mapped[date]
    # The new terms (None: unchanged). A pause has none; a resumption restores the terms
    # before the pause unless it names new ones.
    units_per_occasion: Mapped[int | None]
    days: Mapped[list[str] | None] = mapped_column(JSON)
    unit_price_pence: Mapped[int | None] = mapped_column(BigInteger)
    # VARIATIONS: a pause with a known end (a planned hospital stay): the day care restarts
    # on the terms before the pause (a second terms row); None: restarted by a later variation.
    resumes_on: Mapped[date | None]
    reason: Mapped[str] = mapped_column(Text, default="")
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    council_decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    council_decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order: Mapped[Order] = relationship(back_populates="variations")
    proposed_by: Mapped[User] = relationship(foreign_keys=[proposed_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class PackageShortfall(Model):
    """A package cycle its budget cannot cover, flagged days before it starts to the person
    (and their broker), the council and the provider; resolved when the cycle is held after
    all (the budget was raised, the package varied) or the package ends. Never skipped."""

    __tablename__ = "package_shortfalls"
    __table_args__ = (UniqueConstraint("order_id", "cycle_starts_on"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    cycle_starts_on: Mapped[date]
    needed_pence: Mapped[int] = mapped_column(BigInteger)
    # What the budget had (released, or due to be released by the cycle's start) for it.
    available_pence: Mapped[int] = mapped_column(BigInteger)
    flagged_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # "covered", "varied", "cancelled", "ended"
    resolution: Mapped[str | None] = mapped_column(String(20))

    order: Mapped[Order] = relationship()


class OutcomeStatus(enum.StrEnum):
    RECORDED = "recorded"  # the provider's word, waiting for the person's
    CONFIRMED = "confirmed"
    QUERIED = "queried"


class OutcomeRecord(Model):
    """What a provider says was achieved of one outcome in one week of an outcome-based
    order, and the person's word on it."""

    __tablename__ = "outcome_records"
    __table_args__ = (UniqueConstraint("order_id", "week_starting", "outcome_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), index=True)
    cycle_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("order_cycles.id"), index=True)
    week_starting: Mapped[date]
    outcome_key: Mapped[str] = mapped_column(String(60))
    achieved: Mapped[bool]
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[OutcomeStatus] = mapped_column(
        string_enum(OutcomeStatus, "outcome_status"), default=OutcomeStatus.RECORDED
    )
    query_reason: Mapped[str | None] = mapped_column(Text)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invoice_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("invoices.id"), index=True)

    order: Mapped[Order] = relationship()
    cycle: Mapped[OrderCycle] = relationship()


class ReablementOutcome(enum.StrEnum):
    NO_ONGOING_NEED = "no_ongoing_need"
    ONGOING_CARE = "ongoing_care"

    @property
    def label(self) -> str:
        return {
            "no_ongoing_need": "No ongoing care needed",
            "ongoing_care": "Ongoing care with the same provider",
        }[self.value]


class ReablementEpisode(Model):
    """A period of free reablement for a person with a provider, started by a council
    officer and paid from a funder's reablement pot. Its order (`order_id`) is a package
    funded by the pot; at the end the officer records the outcome: no ongoing need (the
    package ends), or ongoing care (the same package continues, paid from the person's
    budget, without a new order)."""

    __tablename__ = "reablement_episodes"
    __table_args__ = (
        CheckConstraint("max_weeks >= 1", name="weeks_positive"),
        CheckConstraint("ends_on >= starts_on", name="period_in_order"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("orders.id"), unique=True)
    pot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("funder_pots.id"), index=True)
    started_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    starts_on: Mapped[date]
    max_weeks: Mapped[int]
    ends_on: Mapped[date]  # planned: starts_on + max_weeks, unless ended sooner
    ended_on: Mapped[date | None]
    outcome: Mapped[ReablementOutcome | None] = mapped_column(
        string_enum(ReablementOutcome, "reablement_outcome")
    )
    outcome_note: Mapped[str] = mapped_column(Text, default="")
    outcome_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    outcome_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    organisation: Mapped[Organisation] = relationship()
    order: Mapped[Order] = relationship()
    pot: Mapped[FunderPot] = relationship()
