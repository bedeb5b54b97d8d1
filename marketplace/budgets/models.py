"""Funders and their yearly pots, personal budgets, their funding streams and instalments.

Money itself lives in the ledger: each pot and each stream points at its ledger accounts,
and these tables hold only what the ledger cannot (who, which period, which rules, when).
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
from marketplace.ledger.models import LedgerAccount, Transfer
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.people.models import Person


class FunderKind(enum.StrEnum):
    COUNCIL = "council"
    NHS = "nhs"


class PaymentFrequency(enum.StrEnum):
    ANNUAL = "annual"
    MONTHLY = "monthly"
    FOUR_WEEKLY = "four_weekly"


class StreamKind(enum.StrEnum):
    """Where a funding stream's money comes from."""

    COUNCIL = "council"
    NHS = "nhs"  # a personal health budget
    CLIENT_CONTRIBUTION = "client_contribution"  # what the person is assessed to pay
    OWN_FUNDS = "own_funds"  # the person's own top-up

    @property
    def funder_kind(self) -> FunderKind | None:
        """The kind of funder whose pot pays for it; None when the person pays."""
        return {StreamKind.COUNCIL: FunderKind.COUNCIL, StreamKind.NHS: FunderKind.NHS}.get(self)

    @property
    def label(self) -> str:
        return {
            StreamKind.COUNCIL: "Council",
            StreamKind.NHS: "NHS personal health budget",
            StreamKind.CLIENT_CONTRIBUTION: "Your assessed contribution",
            StreamKind.OWN_FUNDS: "Your own money",
        }[self]


class PotPurpose(enum.StrEnum):
    """What a funder's yearly pot pays for."""

    BUDGETS = "budgets"  # personal budgets
    # Reablement episodes (issue 18): free to the person, never from their budget.
    REABLEMENT = "reablement"

    @property
    def label(self) -> str:
        return {"budgets": "Personal budgets", "reablement": "Reablement"}[self.value]


class BudgetStatus(enum.StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Funder(Model):
    """Who pays into the system: the council, or an NHS funder such as an ICB."""

    __tablename__ = "funders"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[FunderKind] = mapped_column(string_enum(FunderKind, "funder_kind"))
    # The council's default cost centre for this funder's money in finance files (issue 19);
    # a pot line's own cost centre comes first (marketplace.finance.cost_centres).
    cost_centre: Mapped[str] = mapped_column(String(40), default="", server_default="")
    # The funder's own money outside the system; it goes negative by what the funder gave.
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    account: Mapped[LedgerAccount] = relationship()
    pots: Mapped[list[FunderPot]] = relationship(
        back_populates="funder", order_by="FunderPot.financial_year"
    )


class FunderPot(Model):
    """A funder's money for one financial year (1 April to 31 March), out of which budgets
    are allocated. Its ledger account is guarded: allocations never exceed what it holds."""

    __tablename__ = "funder_pots"
    __table_args__ = (UniqueConstraint("funder_id", "financial_year", "purpose"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    funder_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("funders.id"))
    # The calendar year in which the financial year starts: 2026 is 2026/27.
    financial_year: Mapped[int]
    purpose: Mapped[PotPurpose] = mapped_column(
        string_enum(PotPurpose, "pot_purpose"),
        default=PotPurpose.BUDGETS,
        server_default=PotPurpose.BUDGETS.value,
    )
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    funder: Mapped[Funder] = relationship(back_populates="pots")
    account: Mapped[LedgerAccount] = relationship()
    lines: Mapped[list[FunderPotLine]] = relationship(
        back_populates="pot", order_by="FunderPotLine.name"
    )

    @property
    def label(self) -> str:
        year = f"{self.financial_year}/{(self.financial_year + 1) % 100:02d}"
        if self.purpose is PotPurpose.REABLEMENT:
            return f"{self.funder.name} reablement {year}"
        return f"{self.funder.name} {year}"


class FunderPotLine(Model):
    """A named line of a funder's pot (issue 19): an NHS funder funds named items (continuing
    healthcare, section 117 aftercare...), each with its planned amount. A funding stream drawn
    from the pot may name its line, so the reconciliation can go from the funder's lines to
    each person."""

    __tablename__ = "funder_pot_lines"
    __table_args__ = (
        UniqueConstraint("pot_id", "name"),
        CheckConstraint("planned_pence >= 0", name="planned_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    pot_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("funder_pots.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # The funder's cost centre or budget code for this line, carried into payment files.
    cost_centre: Mapped[str] = mapped_column(String(40), default="")
    planned_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    pot: Mapped[FunderPot] = relationship(back_populates="lines")


class PersonalBudget(Model):
    """Money allocated to a person for a period, made of one or more funding streams."""

    __tablename__ = "personal_budgets"
    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="period_in_order"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    frequency: Mapped[PaymentFrequency] = mapped_column(string_enum(PaymentFrequency, "frequency"))
    status: Mapped[BudgetStatus] = mapped_column(
        string_enum(BudgetStatus, "budget_status"), default=BudgetStatus.OPEN
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    person: Mapped[Person] = relationship()
    streams: Mapped[list[FundingStream]] = relationship(
        back_populates="budget", order_by="FundingStream.draw_order"
    )


class FundingStream(Model):
    """One source of money inside a budget, drawn in `draw_order` and only for the purchases
    its rules allow.

    Two guarded ledger accounts: `unreleased_account` holds what is allocated but whose
    instalment has not yet come; `account` holds what is released (available, with pending
    commitments held on it). `amount_pence` is the stream's whole allocation for the period,
    released and to come; revisions change it, each with a ledger transfer and a reason.
    """

    __tablename__ = "funding_streams"
    __table_args__ = (
        UniqueConstraint("budget_id", "draw_order"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
        CheckConstraint(
            "(kind IN ('council', 'nhs')) = (pot_id IS NOT NULL)", name="funders_streams_have_pot"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    budget_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("personal_budgets.id"), index=True)
    kind: Mapped[StreamKind] = mapped_column(string_enum(StreamKind, "stream_kind"))
    pot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("funder_pots.id"), index=True)
    # Which line of the pot this stream is drawn for (issue 19); None: the pot as a whole.
    pot_line_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("funder_pot_lines.id"), index=True
    )
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    draw_order: Mapped[int]
    # Taxonomy codes this stream may pay for; None means any category. Stored as data so the
    # council can change a rule without a release.
    allowed_category_codes: Mapped[list[str] | None] = mapped_column(JSON)
    # Where allocations come from and returns go back to: the pot's account, or the person's
    # own contributions account for client contributions and own funds.
    source_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    unreleased_account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))

    budget: Mapped[PersonalBudget] = relationship(back_populates="streams")
    pot: Mapped[FunderPot | None] = relationship()
    pot_line: Mapped[FunderPotLine | None] = relationship()
    source_account: Mapped[LedgerAccount] = relationship(foreign_keys=[source_account_id])
    unreleased_account: Mapped[LedgerAccount] = relationship(foreign_keys=[unreleased_account_id])
    account: Mapped[LedgerAccount] = relationship(foreign_keys=[account_id])
    instalments: Mapped[list[Instalment]] = relationship(
        back_populates="stream", order_by="Instalment.number"
    )

    def allows(self, category_codes: Any) -> bool:
        """Whether this stream may pay for a purchase in any of these taxonomy codes."""
        if self.allowed_category_codes is None:
            return True
        return not set(self.allowed_category_codes).isdisjoint(category_codes)


class Instalment(Model):
    """A part of a stream's allocation released into its available balance on `due_on`."""

    __tablename__ = "budget_instalments"
    __table_args__ = (
        UniqueConstraint("stream_id", "number"),
        CheckConstraint("amount_pence >= 0", name="amount_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    stream_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("funding_streams.id"))
    number: Mapped[int]
    due_on: Mapped[date] = mapped_column(index=True)
    # Changes only while unreleased, when a revision spreads a change over what is to come.
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    released_transfer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transfers.id")
    )
    released: Mapped[bool] = mapped_column(default=False)

    stream: Mapped[FundingStream] = relationship(back_populates="instalments")
    released_transfer: Mapped[Transfer | None] = relationship()


class StreamRevision(Model):
    """A stream's amount changed by an officer, with the reason; its ledger transfers carry
    the same idempotency key as their reference."""

    __tablename__ = "funding_stream_revisions"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    stream_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("funding_streams.id"), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    previous_amount_pence: Mapped[int] = mapped_column(BigInteger)
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    stream: Mapped[FundingStream] = relationship()


class IsfState(enum.StrEnum):
    REQUESTED = "requested"  # the person asked; the provider has not agreed yet
    AGREED = "agreed"  # the money is with the provider, spent as agreed
    DECLINED = "declined"
    # The provider was suspended (or the person asked): no more spending; what is left waits
    # to go back to the person's budget.
    SUSPENDED = "suspended"
    CLOSED = "closed"  # the unspent balance returned (at period end, or on suspension)

    @property
    def label(self) -> str:
        return {
            "requested": "Waiting for the provider",
            "agreed": "Agreed",
            "declined": "Declined",
            "suspended": "Suspended",
            "closed": "Closed",
        }[self.value]


class IndividualServiceFund(Model):
    """Part of a person's budget held by a provider for them, spent as they agreed together
    (issue 18). Its ledger account holds the money: moved there from the funding stream
    when agreed, spent from it as the provider records spending, and what is unspent goes
    back to the stream (and so, at period end, wherever the stream's money goes)."""

    __tablename__ = "individual_service_funds"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(12), unique=True)
    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("people.id"), index=True)
    budget_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("personal_budgets.id"), index=True)
    stream_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("funding_streams.id"))
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    # Guarded: the provider can never record more spending than the fund holds.
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    # How the person and the provider agreed it is spent, in their words.
    agreement: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[IsfState] = mapped_column(
        string_enum(IsfState, "isf_state"), default=IsfState.REQUESTED
    )
    requested_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    consent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("consents.id"))
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    person: Mapped[Person] = relationship()
    budget: Mapped[PersonalBudget] = relationship()
    stream: Mapped[FundingStream] = relationship()
    account: Mapped[LedgerAccount] = relationship()
    spends: Mapped[list[IsfSpend]] = relationship(
        back_populates="fund", order_by="IsfSpend.spent_on"
    )


class IsfSpend(Model):
    """One thing an ISF's money was spent on, recorded by the provider; its ledger transfer
    moves the amount from the fund to the provider."""

    __tablename__ = "isf_spends"
    __table_args__ = (CheckConstraint("amount_pence > 0", name="amount_positive"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    fund_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("individual_service_funds.id"), index=True
    )
    spent_on: Mapped[date]
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    description: Mapped[str] = mapped_column(String(500))
    # The idempotency key of its ledger transfer (a retried form records it once).
    key: Mapped[str] = mapped_column(String(200), unique=True)
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_transfers.id"))
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    fund: Mapped[IndividualServiceFund] = relationship(back_populates="spends")
    transfer: Mapped[Transfer] = relationship()
