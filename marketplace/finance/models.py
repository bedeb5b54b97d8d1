"""Payment runs, remittances and finance-system exports (issue 19).

A payment run pays providers what settled invoices owe them. Each remittance line names one
invoice's share from one payer (a funder's pot, the person's own money, a card), and the run
is recorded in the ledger: each line is a transfer out of the provider's payee account under
a key made from the invoice and the payer, so the same money cannot be paid out twice even
if two runs are started at once. An export keeps the file it produced, so a download later is
the same file the finance system loaded.
"""

from __future__ import annotations

import enum
import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.extensions import Model
from marketplace.types import UTCDateTime, string_enum, utcnow

if TYPE_CHECKING:
    from marketplace.accounts.models import User
    from marketplace.orders.models import Invoice
    from providers.models import Organisation


class PaymentRunStatus(enum.StrEnum):
    """A run is previewed (nothing recorded), then made (ledger transfers written)."""

    MADE = "made"
    CANCELLED = "cancelled"  # reversed in the ledger before the file was sent; kept as history


class PaymentRun(Model):
    """One run of payments to providers, covering invoices settled up to `settled_until`."""

    __tablename__ = "payment_runs"
    __table_args__ = (CheckConstraint("total_pence >= 0", name="total_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[PaymentRunStatus] = mapped_column(
        string_enum(PaymentRunStatus, "payment_run_status"), default=PaymentRunStatus.MADE
    )
    settled_until: Mapped[datetime] = mapped_column(UTCDateTime)
    total_pence: Mapped[int] = mapped_column(BigInteger, default=0)
    made_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancelled_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancel_reason: Mapped[str] = mapped_column(Text, default="")
    # PAYRUNS: the sha256 of the preview the officer confirmed (marketplace.finance.
    # payment_runs): the same confirmation sent twice finds this run instead of paying again.
    preview_sha256: Mapped[str | None] = mapped_column(String(64), unique=True)
    # PAYRUNS: when an officer said the payment file went to the bank (then it can no longer
    # be cancelled, and each provider is told of its remittance).
    sent_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    made_by: Mapped[User] = relationship(foreign_keys=[made_by_id])
    cancelled_by: Mapped[User | None] = relationship(foreign_keys=[cancelled_by_id])
    sent_by: Mapped[User | None] = relationship(foreign_keys=[sent_by_id])
    remittances: Mapped[list[Remittance]] = relationship(
        back_populates="run", order_by="Remittance.reference"
    )


class Remittance(Model):
    """What one run pays one provider: the advice the provider reads in its portal."""

    __tablename__ = "remittances"
    __table_args__ = (
        UniqueConstraint("run_id", "organisation_id"),
        CheckConstraint("total_pence >= 0", name="total_not_negative"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    run_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("payment_runs.id"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisations.id"), index=True)
    reference: Mapped[str] = mapped_column(String(24), unique=True)
    total_pence: Mapped[int] = mapped_column(BigInteger, default=0)

    run: Mapped[PaymentRun] = relationship(back_populates="remittances")
    organisation: Mapped[Organisation] = relationship()
    lines: Mapped[list[RemittanceLine]] = relationship(
        back_populates="remittance", order_by="RemittanceLine.position"
    )


class RemittanceLine(Model):
    """One invoice's share from one payer, paid in one remittance."""

    __tablename__ = "remittance_lines"
    __table_args__ = (
        CheckConstraint("amount_pence > 0", name="amount_positive"),
        # The rule the ledger keys also keep: a payer's share of an invoice is paid once,
        # unless the run that paid it was cancelled (then the line is kept, marked so).
        UniqueConstraint("remittance_id", "invoice_id", "payer_code"),
        # PAYRUNS: each line has a ledger transfer of its own.
        UniqueConstraint("transfer_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    remittance_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("remittances.id"), index=True)
    position: Mapped[int]
    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoices.id"), index=True)
    # Who paid this share: "pot:<pot id>", "own:<person id>" (contributions and own funds),
    # "card" (money taken by card), "reablement:<pot id>". PAYRUNS: a stream that names a line
    # of its funder's pot pays as "pot:<pot id>:<line id>" (two lines of one pot may share an
    # invoice, each with its own cost centre).
    payer_code: Mapped[str] = mapped_column(String(80))
    funder_name: Mapped[str] = mapped_column(String(200))
    cost_centre: Mapped[str] = mapped_column(String(40))
    amount_pence: Mapped[int] = mapped_column(BigInteger)
    period_start: Mapped[date]
    period_end: Mapped[date]
    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("ledger_transfers.id"))
    # PAYRUNS: the transfer that reversed this line when its run was cancelled (the line is
    # kept, so the history shows what was paid and undone).
    reversal_transfer_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("ledger_transfers.id")
    )

    remittance: Mapped[Remittance] = relationship(back_populates="lines")
    invoice: Mapped[Invoice] = relationship()


class FinanceExport(Model):
    """One export to the council's finance system: the lines since the previous export."""

    __tablename__ = "finance_exports"
    __table_args__ = (CheckConstraint("row_count >= 0", name="row_count_not_negative"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    # The layout's name and version (docs/finance-export.md), so old files can be read again.
    layout: Mapped[str] = mapped_column(String(40))
    # What it covers: ledger rows recorded after `since` (None: everything) up to `until`.
    since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    row_count: Mapped[int]
    content: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # None: made by the schedule (`flask finance export`), not by an officer.
    made_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    made_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    made_by: Mapped[User | None] = relationship()
